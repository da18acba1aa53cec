//! Shuffles and their Terelius–Wikström proofs: honest shuffles verify, and every way of
//! cheating (a swapped, dropped, duplicated or altered row, a forged commitment, any
//! changed byte of the proof, another context or key) is refused.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::scalar::Scalar;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use urna_crypto::encoding::{Decoder, Encoder};
use urna_crypto::{
    Ciphertext, Context, EncryptionKey, MixBallots, SecretKey, ShuffleProof, VerifyError, shuffle,
};

struct Mix {
    secret: SecretKey,
    key: EncryptionKey,
    input: MixBallots,
    output: MixBallots,
    proof: ShuffleProof,
    context: Context,
}

/// `rows` ballots of `width` ciphertexts; ballot `i` position `k` encrypts `10·i + k`.
fn mix(rows: usize, width: usize, seed: u64) -> Mix {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let secret = SecretKey::random(&mut rng);
    let key = EncryptionKey::new(secret.public_key());
    let ciphertexts = (0..rows * width)
        .map(|n| key.encrypt(plaintext(n / width, n % width), &mut rng).0)
        .collect();
    let input = MixBallots::new(width, ciphertexts).unwrap();
    let (output, witness) = shuffle(&key, &input, &mut rng);
    let context = Context::shuffle(&[7; 32], "ranked", 0);
    let proof = ShuffleProof::prove(&key, &input, &output, &witness, &context, &mut rng).unwrap();
    Mix {
        secret,
        key,
        input,
        output,
        proof,
        context,
    }
}

fn plaintext(row: usize, column: usize) -> u64 {
    (10 * row + column) as u64
}

impl Mix {
    fn verify_output(&self, output: &MixBallots) -> Result<(), VerifyError> {
        self.proof
            .verify(self.key.public_key(), &self.input, output, &self.context)
    }

    fn verify_proof(&self, proof: &ShuffleProof) -> Result<(), VerifyError> {
        proof.verify(
            self.key.public_key(),
            &self.input,
            &self.output,
            &self.context,
        )
    }

    fn rows(&self) -> Vec<Vec<Ciphertext>> {
        self.output.rows().map(<[Ciphertext]>::to_vec).collect()
    }

    fn proof_bytes(&self) -> Vec<u8> {
        let mut enc = Encoder::new();
        self.proof.encode(&mut enc);
        enc.finish()
    }

    /// The plaintext rows of the output, sorted.
    fn decrypted_rows(&self) -> Vec<Vec<u64>> {
        let mut rows: Vec<Vec<u64>> = self
            .output
            .rows()
            .map(|row| {
                row.iter()
                    .map(|c| {
                        let m = self.secret.decrypt(c);
                        (0..1000u64)
                            .find(|&v| &Scalar::from(v) * RISTRETTO_BASEPOINT_TABLE == m)
                            .unwrap()
                    })
                    .collect()
            })
            .collect();
        rows.sort();
        rows
    }
}

fn with_rows(width: usize, rows: &[Vec<Ciphertext>]) -> MixBallots {
    MixBallots::from_rows(width, rows).unwrap()
}

#[test]
fn an_honest_shuffle_verifies_and_keeps_every_ballot() {
    for (rows, width) in [(1, 1), (2, 1), (5, 3), (17, 5)] {
        let m = mix(rows, width, rows as u64);
        m.verify_output(&m.output).unwrap();
        let expected: Vec<Vec<u64>> = (0..rows)
            .map(|i| (0..width).map(|k| plaintext(i, k)).collect())
            .collect();
        assert_eq!(m.decrypted_rows(), expected, "{rows}x{width}");
    }
}

#[test]
fn swapped_dropped_duplicated_or_altered_rows_are_refused() {
    let m = mix(6, 3, 1);
    let rows = m.rows();

    let mut swapped = rows.clone();
    swapped.swap(1, 4);
    assert_eq!(
        m.verify_output(&with_rows(3, &swapped)),
        Err(VerifyError::Shuffle)
    );

    let dropped = &rows[..5];
    assert_eq!(
        m.verify_output(&with_rows(3, dropped)),
        Err(VerifyError::Shape)
    );

    let mut duplicated = rows.clone();
    duplicated[2] = duplicated[3].clone();
    assert_eq!(
        m.verify_output(&with_rows(3, &duplicated)),
        Err(VerifyError::Shuffle)
    );

    // One ciphertext swapped between two rows: the rows' plaintexts are no longer the
    // input's rows, though the multiset of ciphertexts is the same.
    let mut crossed = rows.clone();
    let (first, second) = (crossed[0][1], crossed[5][1]);
    crossed[0][1] = second;
    crossed[5][1] = first;
    assert_eq!(
        m.verify_output(&with_rows(3, &crossed)),
        Err(VerifyError::Shuffle)
    );

    // One ciphertext's message changed by +1 (b + G), and its randomness changed alone.
    for component in 0..2 {
        let mut altered = rows.clone();
        let c = altered[4][2];
        let g = &Scalar::ONE * RISTRETTO_BASEPOINT_TABLE;
        altered[4][2] = if component == 0 {
            Ciphertext::from_points(c.a().point() + g, *c.b().point())
        } else {
            Ciphertext::from_points(*c.a().point(), c.b().point() + g)
        };
        assert_eq!(
            m.verify_output(&with_rows(3, &altered)),
            Err(VerifyError::Shuffle)
        );
    }

    // A re-encryption of the honest output by someone else is a different statement.
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let mut reencrypted = rows.clone();
    reencrypted[0][0] = m.key.reencrypt(&rows[0][0], &mut rng).0;
    assert_eq!(
        m.verify_output(&with_rows(3, &reencrypted)),
        Err(VerifyError::Shuffle)
    );
}

#[test]
fn a_shuffle_of_other_input_is_refused() {
    let m = mix(4, 2, 2);
    let other = mix(4, 2, 3);
    assert_eq!(
        m.proof
            .verify(m.key.public_key(), &m.input, &other.output, &m.context),
        Err(VerifyError::Shuffle)
    );
    let mut rows: Vec<Vec<Ciphertext>> = m.input.rows().map(<[Ciphertext]>::to_vec).collect();
    rows[3][0] = rows[2][0];
    assert_eq!(
        m.proof.verify(
            m.key.public_key(),
            &with_rows(2, &rows),
            &m.output,
            &m.context
        ),
        Err(VerifyError::Shuffle)
    );
}

#[test]
fn a_shuffle_verified_backwards_or_with_a_wrong_witness_is_refused() {
    let m = mix(4, 2, 10);
    assert_eq!(
        m.proof
            .verify(m.key.public_key(), &m.output, &m.input, &m.context),
        Err(VerifyError::Shuffle)
    );
    // A witness that does not fit is refused by the prover.
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let (_, witness) = shuffle(&m.key, &m.input, &mut rng);
    let other = mix(5, 2, 12);
    assert!(
        ShuffleProof::prove(
            &m.key,
            &other.input,
            &other.output,
            &witness,
            &m.context,
            &mut rng
        )
        .is_err()
    );
}

#[test]
fn rows_of_trivial_ciphertexts_shuffle_and_verify() {
    // The identity ciphertext (an encryption of 0 with nonce 0), as sums of no ballots
    // give: a shuffle re-randomises it like any other.
    let mut rng = ChaCha20Rng::seed_from_u64(13);
    let key = EncryptionKey::new(SecretKey::random(&mut rng).public_key());
    let input = MixBallots::new(2, vec![Ciphertext::zero(); 6]).unwrap();
    let (output, witness) = shuffle(&key, &input, &mut rng);
    assert!(
        output
            .ciphertexts()
            .iter()
            .all(|c| *c != Ciphertext::zero())
    );
    let context = Context::shuffle(&[1; 32], "c", 0);
    let proof = ShuffleProof::prove(&key, &input, &output, &witness, &context, &mut rng).unwrap();
    proof
        .verify(key.public_key(), &input, &output, &context)
        .unwrap();
}

#[test]
fn the_proof_is_bound_to_its_context_and_key() {
    let m = mix(3, 2, 4);
    for context in [
        Context::shuffle(&[7; 32], "ranked", 1),
        Context::shuffle(&[7; 32], "star", 0),
        Context::shuffle(&[8; 32], "ranked", 0),
    ] {
        assert_eq!(
            m.proof
                .verify(m.key.public_key(), &m.input, &m.output, &context),
            Err(VerifyError::Shuffle)
        );
    }
    let other_key = SecretKey::random(&mut ChaCha20Rng::seed_from_u64(5)).public_key();
    assert_eq!(
        m.proof.verify(&other_key, &m.input, &m.output, &m.context),
        Err(VerifyError::Shuffle)
    );
}

#[test]
fn every_changed_byte_of_the_proof_is_refused() {
    let m = mix(3, 2, 6);
    let bytes = m.proof_bytes();
    assert_eq!(bytes.len(), 128 * 3 + 32 * (4 + 2));
    let decoded = ShuffleProof::decode(&mut Decoder::new(&bytes), 3, 2).unwrap();
    assert_eq!(decoded, m.proof);
    for index in 0..bytes.len() {
        for flip in [0x01u8, 0x80] {
            let mut tampered = bytes.clone();
            tampered[index] ^= flip;
            let mut input = Decoder::new(&tampered);
            // A changed byte either fails to decode (non-canonical point or scalar) or
            // decodes to a proof that does not verify.
            if let Ok(proof) = ShuffleProof::decode(&mut input, 3, 2) {
                assert!(
                    m.verify_proof(&proof).is_err(),
                    "byte {index} ^ {flip:#04x} still verifies"
                );
            }
        }
    }
}

#[test]
fn a_forged_permutation_commitment_is_refused() {
    // Replacing a commitment with another valid commitment (to the identity
    // permutation) changes every challenge uⱼ, so the responses no longer fit.
    let m = mix(4, 1, 7);
    let bytes = m.proof_bytes();
    let other = mix(4, 1, 8).proof_bytes();
    for commitment in 0..4 {
        let mut forged = bytes.clone();
        let range = commitment * 32..(commitment + 1) * 32;
        forged[range.clone()].copy_from_slice(&other[range]);
        let proof = ShuffleProof::decode(&mut Decoder::new(&forged), 4, 1).unwrap();
        assert_eq!(m.verify_proof(&proof), Err(VerifyError::Shuffle));
    }
}

#[test]
fn a_proof_of_the_wrong_shape_is_refused() {
    let m = mix(3, 2, 9);
    let bytes = m.proof_bytes();
    // Read as a proof for 3 rows of width 1: one s₄ short, so everything after shifts.
    let mut input = Decoder::new(&bytes);
    let short = ShuffleProof::decode(&mut input, 3, 1).unwrap();
    assert!(!input.is_empty());
    assert_eq!(m.verify_proof(&short), Err(VerifyError::Shape));
    assert!(ShuffleProof::decode(&mut Decoder::new(&bytes[..bytes.len() - 1]), 3, 2).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn shuffles_of_any_shape_verify_and_preserve_rows(
        rows in 1usize..9,
        width in 1usize..4,
        seed in any::<u64>(),
    ) {
        let m = mix(rows, width, seed);
        prop_assert!(m.verify_output(&m.output).is_ok());
        let expected: Vec<Vec<u64>> = (0..rows)
            .map(|i| (0..width).map(|k| plaintext(i, k)).collect())
            .collect();
        prop_assert_eq!(m.decrypted_rows(), expected);
    }

    #[test]
    fn a_second_shuffle_of_the_output_verifies_in_sequence(seed in any::<u64>()) {
        let m = mix(5, 2, seed);
        let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 1);
        let (second, witness) = shuffle(&m.key, &m.output, &mut rng);
        let step = Context::shuffle(&[7; 32], "ranked", 1);
        let proof = ShuffleProof::prove(&m.key, &m.output, &second, &witness, &step, &mut rng)
            .unwrap();
        prop_assert!(proof.verify(m.key.public_key(), &m.output, &second, &step).is_ok());
        // Skipping the first shuffle's output breaks the chain.
        prop_assert!(proof.verify(m.key.public_key(), &m.input, &second, &step).is_err());
    }
}
