//! Threshold decryption: every k-subset combines to the plaintext, wrong or mutated
//! partial decryptions are refused, contexts bind, and the wire format is frozen.
//!
//! To regenerate the vectors after an intended format change, run with
//! `URNA_WRITE_VECTORS=1` and review the diff of testdata/threshold-v1.txt.

#[path = "support/vectors.rs"]
mod support;

use support::check_vectors;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::scalar::Scalar;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use urna_crypto::threshold::combine;
use urna_crypto::{
    Ceremony, Ciphertext, Context, Dealer, DecodeError, DkgParameters, Element, EncryptionKey,
    Error, KeyShare, PartialDecryption, SecretShare, ThresholdPublicKey, VerifiedPartialDecryption,
    VerifyError,
};

const ELECTION: [u8; 32] = [0x33; 32];

/// A finished honest ceremony: the public key and every trustee's key share.
fn setup(k: u32, n: u32, seed: u64) -> (ThresholdPublicKey, Vec<KeyShare>) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let params = DkgParameters::new(ELECTION, k, n).unwrap();
    let dealers: Vec<Dealer> = (1..=n)
        .map(|i| Dealer::new(&params, i, &mut rng).unwrap())
        .collect();
    let mut ceremony = Ceremony::new(params);
    for dealer in &dealers {
        ceremony.add_dealing(dealer.dealing().clone()).unwrap();
    }
    ceremony.close_dealings().unwrap();
    ceremony.close_complaints().unwrap();
    let key = ceremony.finish().unwrap().clone();
    let shares = (1..=n)
        .map(|j| {
            let inbox: Vec<SecretShare> = dealers.iter().map(|d| d.share_for(j).unwrap()).collect();
            ceremony.key_share(j, &inbox).unwrap()
        })
        .collect();
    (key, shares)
}

fn tally_context() -> Context {
    Context::new("tally").with(&ELECTION).with(b"mayor")
}

fn encrypt_all(key: &ThresholdPublicKey, messages: &[u64], seed: u64) -> Vec<Ciphertext> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let encryption = EncryptionKey::new(key.public_key());
    messages
        .iter()
        .map(|&m| encryption.encrypt(m, &mut rng).0)
        .collect()
}

fn plaintext_point(m: u64) -> Element {
    Element::from_point(&Scalar::from(m) * RISTRETTO_BASEPOINT_TABLE)
}

fn verified_partials(
    key: &ThresholdPublicKey,
    shares: &[KeyShare],
    ciphertexts: &[Ciphertext],
    seed: u64,
) -> Vec<VerifiedPartialDecryption> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    shares
        .iter()
        .map(|share| {
            PartialDecryption::create(share, ciphertexts, &tally_context(), &mut rng)
                .unwrap()
                .verify(key, ciphertexts, &tally_context())
                .unwrap()
        })
        .collect()
}

/// All subsets of `0..n` with exactly `k` members.
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    (0u32..(1 << n))
        .filter(|mask| mask.count_ones() as usize == k)
        .map(|mask| (0..n).filter(|i| mask & (1 << i) != 0).collect())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn every_k_subset_recovers_the_plaintexts(
        messages in proptest::collection::vec(0u64..1_000_000, 1..4),
        seed in any::<u64>(),
    ) {
        for (k, n) in [(2u32, 3u32), (3, 5)] {
            let (key, shares) = setup(k, n, seed);
            let ciphertexts = encrypt_all(&key, &messages, seed ^ 1);
            let partials = verified_partials(&key, &shares, &ciphertexts, seed ^ 2);
            let expected: Vec<Element> = messages.iter().map(|&m| plaintext_point(m)).collect();
            let mut combinations = 0;
            for size in k as usize..=n as usize {
                for subset in subsets(n as usize, size) {
                    let chosen: Vec<VerifiedPartialDecryption> =
                        subset.iter().map(|&i| partials[i].clone()).collect();
                    let combined = combine(&key, &ciphertexts, &tally_context(), &chosen).unwrap();
                    prop_assert_eq!(&combined, &expected);
                    combinations += 1;
                }
            }
            prop_assert_eq!(combinations, if n == 3 { 4 } else { 16 });
        }
    }
}

#[test]
fn the_empty_tally_decrypts_to_zero() {
    let (key, shares) = setup(2, 3, 1);
    let ciphertexts = [Ciphertext::zero()];
    let partials = verified_partials(&key, &shares[1..], &ciphertexts, 2);
    assert_eq!(
        combine(&key, &ciphertexts, &tally_context(), &partials).unwrap(),
        vec![Element::identity()]
    );
}

#[test]
fn too_few_and_duplicate_shares_are_refused() {
    let (key, shares) = setup(3, 5, 3);
    let ciphertexts = encrypt_all(&key, &[4, 5], 4);
    let partials = verified_partials(&key, &shares, &ciphertexts, 5);
    let context = tally_context();
    assert_eq!(
        combine(&key, &ciphertexts, &context, &partials[..2]),
        Err(Error::Parameters(
            "fewer partial decryptions than the threshold"
        ))
    );
    let repeated = [
        partials[0].clone(),
        partials[1].clone(),
        partials[1].clone(),
    ];
    assert_eq!(
        combine(&key, &ciphertexts, &context, &repeated),
        Err(Error::Parameters("duplicate partial decryption"))
    );
    assert_eq!(
        combine(&key, &ciphertexts, &context, &[]),
        Err(Error::Parameters(
            "fewer partial decryptions than the threshold"
        ))
    );
}

#[test]
fn a_wrong_share_is_detected() {
    let (key, shares) = setup(2, 3, 6);
    let ciphertexts = encrypt_all(&key, &[1, 0, 7], 7);
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    // Trustee 1's secret presented as trustee 2's: the proofs are sound, but for X₁.
    let mut bytes = *shares[0].to_bytes();
    bytes[3] = 2;
    let impostor = KeyShare::from_bytes(&bytes).unwrap();
    let partial =
        PartialDecryption::create(&impostor, &ciphertexts, &tally_context(), &mut rng).unwrap();
    assert_eq!(
        partial.verify(&key, &ciphertexts, &tally_context()),
        Err(VerifyError::Dleq)
    );
    // A trustee outside 1..=n, and a partial decryption of too few ciphertexts.
    bytes[3] = 4;
    let outsider = KeyShare::from_bytes(&bytes).unwrap();
    let partial =
        PartialDecryption::create(&outsider, &ciphertexts, &tally_context(), &mut rng).unwrap();
    assert_eq!(
        partial.verify(&key, &ciphertexts, &tally_context()),
        Err(VerifyError::Shape)
    );
    let partial =
        PartialDecryption::create(&shares[2], &ciphertexts[..2], &tally_context(), &mut rng)
            .unwrap();
    assert_eq!(
        partial.verify(&key, &ciphertexts, &tally_context()),
        Err(VerifyError::Shape)
    );
}

#[test]
fn proofs_and_verified_answers_are_bound_to_their_context_and_ciphertexts() {
    let (key, shares) = setup(2, 3, 9);
    let ciphertexts = encrypt_all(&key, &[2, 3], 10);
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let partial =
        PartialDecryption::create(&shares[0], &ciphertexts, &tally_context(), &mut rng).unwrap();
    let other_context = Context::new("tally").with(&ELECTION).with(b"council");
    assert_eq!(
        partial.verify(&key, &ciphertexts, &other_context),
        Err(VerifyError::Dleq)
    );
    let swapped = [ciphertexts[1], ciphertexts[0]];
    assert_eq!(
        partial.verify(&key, &swapped, &tally_context()),
        Err(VerifyError::Dleq)
    );

    // Answers verified for one batch cannot be combined for another.
    let partials = verified_partials(&key, &shares, &ciphertexts, 12);
    let refused = Err(Error::Parameters(
        "partial decryption verified for another statement",
    ));
    assert_eq!(
        combine(&key, &swapped, &tally_context(), &partials),
        refused
    );
    assert_eq!(
        combine(&key, &ciphertexts, &other_context, &partials),
        refused
    );
    let (other_key, _) = setup(2, 3, 13);
    assert_eq!(
        combine(&other_key, &ciphertexts, &tally_context(), &partials),
        refused
    );
}

#[test]
fn every_mutation_of_a_partial_decryption_is_refused() {
    let (key, shares) = setup(2, 3, 14);
    let ciphertexts = encrypt_all(&key, &[1, 2], 15);
    let mut rng = ChaCha20Rng::seed_from_u64(16);
    let partial =
        PartialDecryption::create(&shares[1], &ciphertexts, &tally_context(), &mut rng).unwrap();
    let bytes = partial.to_bytes();
    assert_eq!(bytes.len(), 8 + 2 * 96);
    let accepts = |candidate: &[u8]| {
        PartialDecryption::from_bytes(candidate, 16)
            .is_ok_and(|p| p.verify(&key, &ciphertexts, &tally_context()).is_ok())
    };
    assert!(accepts(&bytes));
    for position in 0..bytes.len() {
        for bit in 0..8 {
            let mut mutated = bytes.clone();
            mutated[position] ^= 1 << bit;
            assert!(!accepts(&mutated), "byte {position} bit {bit} accepted");
        }
    }
    assert_eq!(
        PartialDecryption::from_bytes(&bytes, 1),
        Err(DecodeError::Length)
    );
    let mut non_canonical = bytes.clone();
    non_canonical[8..40].fill(0xff);
    assert_eq!(
        PartialDecryption::from_bytes(&non_canonical, 16),
        Err(DecodeError::Point)
    );
}

fn wire_values() -> Vec<(String, String)> {
    let (key, shares) = setup(2, 3, 2026);
    let ciphertexts = encrypt_all(&key, &[0, 1, 41], 2027);
    let mut rng = ChaCha20Rng::seed_from_u64(2028);
    let mut out = vec![(
        "threshold-public-key".to_string(),
        hex::encode(key.to_bytes()),
    )];
    for (t, ciphertext) in ciphertexts.iter().enumerate() {
        out.push((
            format!("ciphertext-{t}"),
            hex::encode(ciphertext.to_bytes()),
        ));
    }
    let mut verified = Vec::new();
    for share in &shares[1..] {
        let partial =
            PartialDecryption::create(share, &ciphertexts, &tally_context(), &mut rng).unwrap();
        out.push((
            format!("partial-decryption-{}", share.index()),
            hex::encode(partial.to_bytes()),
        ));
        verified.push(
            partial
                .verify(&key, &ciphertexts, &tally_context())
                .unwrap(),
        );
    }
    let combined = combine(&key, &ciphertexts, &tally_context(), &verified).unwrap();
    for (t, m) in combined.iter().enumerate() {
        out.push((format!("combined-{t}"), hex::encode(m.as_bytes())));
    }
    out
}

#[test]
fn wire_format_known_answers() {
    let header = "# urna threshold decryption records, wire format v1 (tests/threshold.rs,\n\
                      # wire_values): ChaCha20Rng seeds 2026 (ceremony, 2 of 3, election 33…33),\n\
                      # 2027 (encryptions of 0, 1, 41), 2028 (proofs of trustees 2 and 3);\n\
                      # context Context::new(\"tally\").with(election).with(\"mayor\").\n";
    let expected = check_vectors("threshold-v1.txt", header, &wire_values());
    // The combined values are the plaintexts' points.
    for (t, m) in [0u64, 1, 41].into_iter().enumerate() {
        let line = format!(
            "combined-{t} {}",
            hex::encode(plaintext_point(m).as_bytes())
        );
        assert!(expected.contains(&line));
    }
}
