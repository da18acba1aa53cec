//! Properties and tamper resistance of encryption, range proofs and contests.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::scalar::Scalar;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use urna_crypto::encoding::{Decoder, Encoder};
use urna_crypto::{
    BatchVerifier, Ciphertext, ContestShape, Context, DlogTable, EncryptedContest, EncryptionKey,
    Nonce, RangeKind, RangeProof, RangeStatement, SecretKey, VerifyError,
};

struct Setup {
    secret: SecretKey,
    key: EncryptionKey,
    rng: ChaCha20Rng,
}

fn setup(seed: u64) -> Setup {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let secret = SecretKey::random(&mut rng);
    let key = EncryptionKey::new(secret.public_key());
    Setup { secret, key, rng }
}

fn context(credential: u8) -> Context {
    Context::ballot(&[7; 32], "council", &[credential; 32])
}

/// The reference ballot's contest: 5 options, select exactly 1.
fn reference_shape() -> ContestShape {
    ContestShape::new(5, 1, 1, 1).unwrap()
}

fn encode(contest: &EncryptedContest) -> Vec<u8> {
    let mut enc = Encoder::new();
    contest.encode(&mut enc);
    enc.finish()
}

fn decode(bytes: &[u8], shape: &ContestShape) -> Option<EncryptedContest> {
    let mut dec = Decoder::new(bytes);
    let contest = EncryptedContest::decode(&mut dec, shape).ok()?;
    dec.finish().ok()?;
    Some(contest)
}

fn recover(s: &Setup, ciphertext: &Ciphertext, table: &DlogTable) -> u64 {
    table.recover(&s.secret.decrypt(ciphertext)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn addition_is_homomorphic_and_reencryption_preserves_the_message(
        a in 0u64..100_000, b in 0u64..100_000, seed in any::<u64>()
    ) {
        let mut s = setup(seed);
        let table = DlogTable::with_size(1 << 10, 1 << 18);
        let (ca, _) = s.key.encrypt(a, &mut s.rng);
        let (cb, _) = s.key.encrypt(b, &mut s.rng);
        prop_assert_eq!(recover(&s, &ca.add(&cb), &table), a + b);
        let (again, _) = s.key.reencrypt(&ca, &mut s.rng);
        prop_assert_ne!(again, ca);
        prop_assert_eq!(recover(&s, &again, &table), a);
    }

    #[test]
    fn any_valid_selection_in_any_shape_proves_and_verifies(
        options in 1u32..6, max_value in 1u64..4, seed in any::<u64>(), picks in prop::collection::vec(0u64..4, 6)
    ) {
        let mut s = setup(seed);
        let values: Vec<u64> = picks.iter().take(options as usize).map(|v| v % (max_value + 1)).collect();
        let total: u64 = values.iter().sum();
        let shape = ContestShape::new(options, max_value, total.saturating_sub(1), total).unwrap();
        let (contest, opening) = EncryptedContest::encrypt(&s.key, &shape, &values, &context(1), &mut s.rng).unwrap();
        prop_assert!(contest.verify(s.key.public_key(), &shape, &context(1)).is_ok());
        prop_assert!(opening.check(&s.key, &contest).is_ok());
        let decoded = decode(&encode(&contest), &shape).unwrap();
        prop_assert_eq!(&decoded, &contest);
        let table = DlogTable::with_size(64, 1 << 12);
        let sums: Vec<u64> = contest.ciphertexts().iter().map(|c| recover(&s, c, &table)).collect();
        prop_assert_eq!(sums, values);
    }
}

#[test]
fn values_outside_the_range_or_limits_cannot_be_proven() {
    let mut s = setup(1);
    let shape = reference_shape();
    for values in [[0, 0, 0, 0, 0], [1, 1, 0, 0, 0], [2, 0, 0, 0, 0]] {
        assert!(
            EncryptedContest::encrypt(&s.key, &shape, &values, &context(1), &mut s.rng).is_err()
        );
    }
    let (ciphertext, nonce) = s.key.encrypt(2, &mut s.rng);
    let ctx = context(1);
    let statement = RangeStatement {
        kind: RangeKind::Option,
        ciphertext: &ciphertext,
        lo: 0,
        hi: 1,
        index: 0,
        context: &ctx,
    };
    assert!(RangeProof::prove(&s.key, &statement, 2, &nonce, &mut s.rng).is_err());
}

#[test]
fn a_proof_for_one_ciphertext_does_not_verify_another() {
    let mut s = setup(2);
    let ctx = context(1);
    let (one, nonce) = s.key.encrypt(1, &mut s.rng);
    let statement = RangeStatement {
        kind: RangeKind::Option,
        ciphertext: &one,
        lo: 0,
        hi: 1,
        index: 0,
        context: &ctx,
    };
    let proof = RangeProof::prove(&s.key, &statement, 1, &nonce, &mut s.rng).unwrap();
    proof.verify(s.key.public_key(), &statement).unwrap();
    // The same proof against an encryption of 2 (with the same nonce), or of 1 with
    // another nonce, or as a selection proof, or at another position: all refused.
    let two = s.key.encrypt_with_nonce(2, &nonce);
    let other = s.key.encrypt_with_nonce(1, &Nonce::random(&mut s.rng));
    for ciphertext in [&two, &other] {
        let forged = RangeStatement {
            ciphertext,
            ..statement
        };
        assert_eq!(
            proof.verify(s.key.public_key(), &forged),
            Err(VerifyError::Range)
        );
    }
    let as_selection = RangeStatement {
        kind: RangeKind::Selection,
        ..statement
    };
    assert_eq!(
        proof.verify(s.key.public_key(), &as_selection),
        Err(VerifyError::Selection)
    );
    let moved = RangeStatement {
        index: 1,
        ..statement
    };
    assert_eq!(
        proof.verify(s.key.public_key(), &moved),
        Err(VerifyError::Range)
    );
    let wider = RangeStatement { hi: 2, ..statement };
    assert_eq!(
        proof.verify(s.key.public_key(), &wider),
        Err(VerifyError::Shape)
    );
}

#[test]
fn a_contest_made_for_one_context_fails_under_any_other() {
    let mut s = setup(3);
    let shape = reference_shape();
    let (contest, _) =
        EncryptedContest::encrypt(&s.key, &shape, &[0, 0, 1, 0, 0], &context(1), &mut s.rng)
            .unwrap();
    contest
        .verify(s.key.public_key(), &shape, &context(1))
        .unwrap();
    let others = [
        context(2),
        Context::ballot(&[8; 32], "council", &[1; 32]),
        Context::ballot(&[7; 32], "mayor", &[1; 32]),
    ];
    for other in &others {
        assert!(contest.verify(s.key.public_key(), &shape, other).is_err());
    }
    let other_key = SecretKey::random(&mut s.rng).public_key();
    assert!(contest.verify(&other_key, &shape, &context(1)).is_err());
    let other_shape = ContestShape::new(5, 1, 0, 1).unwrap();
    assert!(
        contest
            .verify(s.key.public_key(), &other_shape, &context(1))
            .is_err()
    );
}

/// Flips one bit in every byte of the encoded reference contest, in turn: each mutant
/// must either fail to decode or fail to verify, singly and in a batch.
#[test]
fn every_mutated_byte_of_a_contest_is_rejected() {
    let mut s = setup(4);
    let shape = reference_shape();
    let ctx = context(1);
    let (contest, _) =
        EncryptedContest::encrypt(&s.key, &shape, &[0, 1, 0, 0, 0], &ctx, &mut s.rng).unwrap();
    let bytes = encode(&contest);
    assert_eq!(bytes.len(), 4 + 5 * 64 + 5 * (4 + 2 * 128) + 4 + 128);
    let mut decodable = Vec::new();
    for position in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut mutant = bytes.clone();
            mutant[position] ^= bit;
            if let Some(decoded) = decode(&mutant, &shape) {
                assert!(
                    decoded.verify(s.key.public_key(), &shape, &ctx).is_err(),
                    "mutation at byte {position} (bit {bit:#x}) verified"
                );
                decodable.push((position, decoded));
            }
        }
    }
    // Many mutants still decode (a flipped scalar bit is another scalar): the batch
    // must name each of them and no one else.
    assert!(decodable.len() > bytes.len() / 2);
    let mut batch = BatchVerifier::new(*s.key.public_key(), &mut s.rng);
    batch.add_contest(usize::MAX, &contest, &shape, &ctx);
    for (position, decoded) in &decodable {
        batch.add_contest(*position, decoded, &shape, &ctx);
    }
    let failed: Vec<usize> = batch
        .verify()
        .unwrap_err()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let mut expected: Vec<usize> = decodable.iter().map(|(p, _)| *p).collect();
    let mut got = failed.clone();
    expected.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, expected);
}

/// Mutates proofs at the group level, keeping the encoding valid: every branch's
/// commitments, challenge and response, in every option proof and the selection proof.
#[test]
fn every_field_of_every_branch_is_bound() {
    let mut s = setup(5);
    let shape = reference_shape();
    let ctx = context(1);
    let (contest, _) =
        EncryptedContest::encrypt(&s.key, &shape, &[0, 0, 0, 0, 1], &ctx, &mut s.rng).unwrap();
    let bytes = encode(&contest);
    let proofs_start = 4 + 5 * 64;
    let branch_starts: Vec<usize> = (0..5)
        .flat_map(|option| {
            let base = proofs_start + option * (4 + 2 * 128) + 4;
            [base, base + 128]
        })
        .chain([proofs_start + 5 * (4 + 2 * 128) + 4])
        .collect();
    assert_eq!(branch_starts.len(), 11);
    let replacement_point = (Scalar::from(3u8) * RISTRETTO_BASEPOINT_POINT)
        .compress()
        .to_bytes();
    let replacement_scalar = Scalar::from(5u8).to_bytes();
    for start in branch_starts {
        for (offset, replacement) in [
            (0, replacement_point),
            (32, replacement_point),
            (64, replacement_scalar),
            (96, replacement_scalar),
        ] {
            let mut mutant = bytes.clone();
            mutant[start + offset..start + offset + 32].copy_from_slice(&replacement);
            let decoded = decode(&mutant, &shape).expect("valid encodings decode");
            assert!(
                decoded.verify(s.key.public_key(), &shape, &ctx).is_err(),
                "field at {}",
                start + offset
            );
        }
    }
}

#[test]
fn batch_and_single_verification_agree_on_mixed_batches() {
    let mut s = setup(6);
    let shape = ContestShape::new(3, 2, 0, 4).unwrap();
    let ctx = context(9);
    let mut contests = Vec::new();
    for i in 0..24u64 {
        let values = [i % 3, (i / 3) % 3, 0];
        let (contest, _) =
            EncryptedContest::encrypt(&s.key, &shape, &values, &ctx, &mut s.rng).unwrap();
        contests.push(contest);
    }
    // Corrupt a few: swap a ciphertext between ballots (valid encodings, wrong proofs).
    let donor = contests[1].clone();
    for victim in [4usize, 11, 17] {
        let mut bytes = encode(&contests[victim]);
        bytes[4..68].copy_from_slice(&encode(&donor)[4..68]);
        contests[victim] = decode(&bytes, &shape).unwrap();
    }
    let single: Vec<usize> = (0..contests.len())
        .filter(|&i| {
            contests[i]
                .verify(s.key.public_key(), &shape, &ctx)
                .is_err()
        })
        .collect();
    let mut batch = BatchVerifier::new(*s.key.public_key(), &mut s.rng);
    for (i, contest) in contests.iter().enumerate() {
        batch.add_contest(i, contest, &shape, &ctx);
    }
    let batched: Vec<usize> = batch
        .verify()
        .unwrap_err()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(single, vec![4, 11, 17]);
    assert_eq!(batched, single);

    let mut clean = BatchVerifier::new(*s.key.public_key(), &mut s.rng);
    for (i, contest) in contests
        .iter()
        .enumerate()
        .filter(|(i, _)| !single.contains(i))
    {
        clean.add_contest(i, contest, &shape, &ctx);
    }
    assert_eq!(clean.len(), 21);
    assert!(clean.verify().is_ok());
}

#[test]
fn a_benaloh_opening_exposes_a_device_that_encrypted_something_else() {
    let mut s = setup(7);
    let shape = reference_shape();
    let (contest, opening) =
        EncryptedContest::encrypt(&s.key, &shape, &[1, 0, 0, 0, 0], &context(1), &mut s.rng)
            .unwrap();
    opening.check(&s.key, &contest).unwrap();
    let claimed =
        urna_crypto::ContestOpening::from_revealed(vec![0, 1, 0, 0, 0], &opening.reveal());
    assert_eq!(claimed.check(&s.key, &contest), Err(VerifyError::Opening));
}

#[test]
fn implied_selection_limits_carry_no_selection_proof() {
    let mut s = setup(8);
    let ctx = context(3);
    let approval = ContestShape::new(4, 1, 0, 4).unwrap();
    let limited = ContestShape::new(4, 1, 0, 3).unwrap();
    assert!(!approval.has_selection_proof());
    assert!(limited.has_selection_proof());
    let (contest, _) =
        EncryptedContest::encrypt(&s.key, &approval, &[1, 1, 1, 1], &ctx, &mut s.rng).unwrap();
    contest.verify(s.key.public_key(), &approval, &ctx).unwrap();
    let bytes = encode(&contest);
    assert_eq!(bytes.len(), 4 + 4 * 64 + 4 * (4 + 2 * 128));
    // The same encoding is not a contest of a shape that needs a selection proof.
    assert!(decode(&bytes, &limited).is_none());
    assert!(EncryptedContest::encrypt(&s.key, &limited, &[1, 1, 1, 1], &ctx, &mut s.rng).is_err());
}
