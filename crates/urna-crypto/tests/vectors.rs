//! Known-answer tests: RFC 9496 ristretto255 vectors, and urna's own wire-format vectors
//! (so that no change can silently alter an encoding, a hash input or a proof).
//!
//! To regenerate urna's vectors after an intended format change, run with
//! `URNA_WRITE_VECTORS=1` and review the diff of testdata/wire-v1.txt.

#[path = "support/vectors.rs"]
mod support;

use std::collections::BTreeMap;
use support::{check_vectors, testdata};

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use sha2::{Digest, Sha512};
use urna_crypto::encoding::Encoder;
use urna_crypto::group::hash_to_group;
use urna_crypto::{
    ContestShape, Context, DecodeError, DleqProof, Element, EncryptedContest, EncryptionKey,
    MixBallots, SchnorrProof, SecretKey, ShuffleProof, Transcript, shuffle,
};

fn hex32(text: &str) -> [u8; 32] {
    hex::decode(text.trim()).unwrap().try_into().unwrap()
}

#[test]
fn rfc9496_small_multiples_invalid_encodings_and_hash_to_group() {
    let text = std::fs::read_to_string(testdata("ristretto255.txt")).unwrap();
    let (mut multiples, mut invalid, mut hashes) = (0, 0, 0);
    let mut point = RistrettoPoint::identity();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (kind, rest) = line.split_once(' ').unwrap();
        match kind {
            "multiple" => {
                let (_, encoding) = rest.split_once(' ').unwrap();
                let bytes = hex32(encoding);
                assert_eq!(point.compress().to_bytes(), bytes, "multiple {multiples}");
                assert_eq!(*Element::from_bytes(&bytes).unwrap().point(), point);
                point += RISTRETTO_BASEPOINT_POINT;
                multiples += 1;
            }
            "invalid" => {
                assert_eq!(
                    Element::from_bytes(&hex32(rest)),
                    Err(DecodeError::Point),
                    "{rest}"
                );
                invalid += 1;
            }
            "hash" => {
                let parts: Vec<&str> = rest.split(" | ").collect();
                let digest: [u8; 64] = Sha512::digest(parts[0].as_bytes()).into();
                assert_eq!(hex::encode(digest), parts[1]);
                let mapped = RistrettoPoint::from_uniform_bytes(&digest);
                assert_eq!(hex::encode(mapped.compress().as_bytes()), parts[2]);
                hashes += 1;
            }
            other => panic!("unknown line kind {other}"),
        }
    }
    assert_eq!((multiples, invalid, hashes), (16, 29, 7));
}

/// Every urna encoding and proof, made from a seeded generator.
fn wire_values() -> Vec<(String, String)> {
    let mut rng = ChaCha20Rng::seed_from_u64(2026);
    let mut out = BTreeMap::new();
    let mut challenge = Transcript::new("urna/v1/test");
    challenge
        .bytes(b"abc")
        .u64(7)
        .element(&Element::generator());
    out.insert(
        "transcript-challenge",
        hex::encode(challenge.challenge().as_bytes()),
    );
    out.insert(
        "hash-to-group",
        hex::encode(
            hash_to_group("urna/v1/test", b"generator")
                .compress()
                .as_bytes(),
        ),
    );
    let context = Context::ballot(&[0x11; 32], "mayor", &[0x22; 32]);
    out.insert("ballot-context", hex::encode(context.as_bytes()));
    // docs/protocol.md 1.14: the shuffle proof's generators h_0, h_1, h_2 and a mix
    // step's context, for an independent implementation to check itself against.
    for (i, name) in [
        "shuffle-generator-0",
        "shuffle-generator-1",
        "shuffle-generator-2",
    ]
    .into_iter()
    .enumerate()
    {
        let h = hash_to_group("urna/v1/shuffle/generator", &(i as u64).to_be_bytes());
        out.insert(name, hex::encode(h.compress().as_bytes()));
    }
    out.insert(
        "shuffle-context",
        hex::encode(Context::shuffle(&[0x11; 32], "mayor", 1).as_bytes()),
    );

    let secret = SecretKey::random(&mut rng);
    let public = secret.public_key();
    out.insert("public-key", hex::encode(public.element().as_bytes()));
    let x = Scalar::random(&mut rng);
    let big_x = Element::from_point(x * RISTRETTO_BASEPOINT_POINT);
    let mut enc = Encoder::new();
    SchnorrProof::prove(&x, &big_x, &context, &mut rng).encode(&mut enc);
    out.insert("schnorr-proof", hex::encode(enc.finish()));

    let g2 = Element::from_point(hash_to_group("urna/v1/test", b"g2"));
    let h2 = Element::from_point(x * g2.point());
    let mut enc = Encoder::new();
    DleqProof::prove(
        &x,
        &Element::generator(),
        &big_x,
        &g2,
        &h2,
        &context,
        &mut rng,
    )
    .encode(&mut enc);
    out.insert("dleq-proof", hex::encode(enc.finish()));

    let key = EncryptionKey::new(public);
    let shape = ContestShape::new(3, 1, 1, 1).unwrap();
    let (contest, _) =
        EncryptedContest::encrypt(&key, &shape, &[0, 1, 0], &context, &mut rng).unwrap();
    let mut enc = Encoder::new();
    contest.encode(&mut enc);
    out.insert("contest-3-choose-1", hex::encode(enc.finish()));

    let rows: Vec<Vec<_>> = (0..3)
        .map(|i| vec![key.encrypt(i, &mut rng).0, key.encrypt(i + 1, &mut rng).0])
        .collect();
    let input = MixBallots::from_rows(2, &rows).unwrap();
    let (output, witness) = shuffle(&key, &input, &mut rng);
    let shuffle_context = Context::shuffle(&[0x11; 32], "mayor", 1);
    let proof =
        ShuffleProof::prove(&key, &input, &output, &witness, &shuffle_context, &mut rng).unwrap();
    proof
        .verify(key.public_key(), &input, &output, &shuffle_context)
        .unwrap();
    let mut enc = Encoder::new();
    output.encode(&mut enc);
    proof.encode(&mut enc);
    out.insert("shuffle-3x2-output-and-proof", hex::encode(enc.finish()));

    let shape = ContestShape::ranked(3, 1, 3).unwrap();
    let (ranking, _) =
        EncryptedContest::encrypt(&key, &shape, &[2, 0, 1], &context, &mut rng).unwrap();
    ranking.verify(key.public_key(), &shape, &context).unwrap();
    let mut enc = Encoder::new();
    ranking.encode(&mut enc);
    out.insert("ranking-3-ranked-2", hex::encode(enc.finish()));
    // Sorted by name, as the file is.
    out.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

#[test]
fn urna_wire_format_is_stable() {
    check_vectors("wire-v1.txt", "", &wire_values());
}
