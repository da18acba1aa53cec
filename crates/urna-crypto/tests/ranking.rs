//! Encrypted rankings: every ranking within the contest's limits verifies and decrypts
//! to itself; a ballot whose positions repeat, leave a gap, go beyond the options or
//! rank too few or too many is refused, whether the voter's device lied in the
//! positions, in the occupancy bits or in any byte of the proofs.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::scalar::Scalar;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use urna_crypto::encoding::{Decoder, Encoder};
use urna_crypto::{
    BatchVerifier, ContestShape, Context, EncryptedContest, EncryptionKey, Error, SecretKey,
    VerifyError,
};

struct Fixture {
    secret: SecretKey,
    key: EncryptionKey,
    context: Context,
    rng: ChaCha20Rng,
}

fn fixture(seed: u64) -> Fixture {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let secret = SecretKey::random(&mut rng);
    let key = EncryptionKey::new(secret.public_key());
    let context = Context::ballot(&[3; 32], "steering", &[4; 32]);
    Fixture {
        secret,
        key,
        context,
        rng,
    }
}

impl Fixture {
    fn encrypt(&mut self, shape: &ContestShape, positions: &[u64]) -> EncryptedContest {
        let (ranking, opening) =
            EncryptedContest::encrypt(&self.key, shape, positions, &self.context, &mut self.rng)
                .unwrap();
        opening.check(&self.key, &ranking).unwrap();
        assert_eq!(opening.values(), positions);
        ranking
    }

    fn verify(&self, shape: &ContestShape, ranking: &EncryptedContest) -> Result<(), VerifyError> {
        ranking.verify(self.key.public_key(), shape, &self.context)
    }

    fn decrypt(&self, ranking: &EncryptedContest) -> Vec<u64> {
        ranking
            .ciphertexts()
            .iter()
            .map(|c| {
                let m = self.secret.decrypt(c);
                (0..300u64)
                    .find(|&v| &Scalar::from(v) * RISTRETTO_BASEPOINT_TABLE == m)
                    .unwrap()
            })
            .collect()
    }

    /// The encoding of `ranking` with its positions replaced by fresh encryptions of
    /// `positions` (what a lying device would send), decoded again.
    fn with_positions(
        &mut self,
        shape: &ContestShape,
        ranking: &EncryptedContest,
        positions: &[u64],
    ) -> EncryptedContest {
        let mut bytes = encode(ranking);
        for (i, &v) in positions.iter().enumerate() {
            let (ciphertext, _) = self.key.encrypt(v, &mut self.rng);
            bytes[4 + 64 * i..4 + 64 * (i + 1)].copy_from_slice(&ciphertext.to_bytes());
        }
        EncryptedContest::decode(&mut Decoder::new(&bytes), shape).unwrap()
    }

    /// The same, replacing the occupancy bits.
    fn with_bits(
        &mut self,
        shape: &ContestShape,
        ranking: &EncryptedContest,
        bits: &[u64],
    ) -> EncryptedContest {
        let n = shape.options() as usize;
        let mut bytes = encode(ranking);
        for (p, &bit) in bits.iter().enumerate() {
            let (ciphertext, _) = self.key.encrypt(bit, &mut self.rng);
            let at = 4 + 64 * (n + p);
            bytes[at..at + 64].copy_from_slice(&ciphertext.to_bytes());
        }
        EncryptedContest::decode(&mut Decoder::new(&bytes), shape).unwrap()
    }
}

fn encode(ranking: &EncryptedContest) -> Vec<u8> {
    let mut enc = Encoder::new();
    ranking.encode(&mut enc);
    enc.finish()
}

#[test]
fn every_allowed_ranking_verifies_and_decrypts_to_itself() {
    let mut f = fixture(1);
    let shape = ContestShape::ranked(4, 0, 4).unwrap();
    for positions in [
        [1, 2, 3, 4],
        [4, 3, 2, 1],
        [2, 0, 1, 3],
        [0, 0, 1, 0],
        [0, 0, 0, 0],
        [3, 1, 4, 2],
    ] {
        let ranking = f.encrypt(&shape, &positions);
        f.verify(&shape, &ranking).unwrap();
        assert_eq!(f.decrypt(&ranking), positions);
        let bytes = encode(&ranking);
        let decoded = EncryptedContest::decode(&mut Decoder::new(&bytes), &shape).unwrap();
        assert_eq!(decoded, ranking);
    }
    // docs/protocol.md 1.15's size for 5 options ranked 0 to 5.
    let five = ContestShape::ranked(5, 0, 5).unwrap();
    assert_eq!(encode(&f.encrypt(&five, &[0, 1, 0, 3, 2])).len(), 4_556);
    let single = ContestShape::ranked(1, 1, 1).unwrap();
    let ranking = f.encrypt(&single, &[1]);
    f.verify(&single, &ranking).unwrap();
}

#[test]
fn the_device_cannot_encrypt_what_is_not_an_allowed_ranking() {
    let mut f = fixture(2);
    let shape = ContestShape::ranked(4, 2, 3).unwrap();
    for positions in [
        &[1, 1, 2, 0][..],
        &[1, 3, 0, 0],
        &[1, 5, 2, 0],
        &[1, 0, 0, 0],
        &[1, 2, 3, 4],
        &[1, 2, 0],
    ] {
        let result = EncryptedContest::encrypt(&f.key, &shape, positions, &f.context, &mut f.rng);
        assert!(matches!(result, Err(Error::Parameters(_))), "{positions:?}");
    }
    assert!(ContestShape::ranked(0, 0, 0).is_err());
    assert!(ContestShape::ranked(3, 2, 1).is_err());
    assert!(ContestShape::ranked(3, 0, 4).is_err());
}

#[test]
fn lying_positions_are_refused() {
    let mut f = fixture(3);
    let shape = ContestShape::ranked(4, 1, 4).unwrap();
    let honest = f.encrypt(&shape, &[2, 0, 1, 3]);
    // Repeats, gaps, a position beyond the options, more or fewer options ranked than
    // the occupancy bits say; then the honest positions, freshly re-encrypted.
    for positions in [
        [2, 2, 1, 3],
        [1, 1, 1, 1],
        [2, 0, 1, 4],
        [5, 0, 1, 3],
        [2, 0, 1, 0],
        [2, 4, 1, 3],
        [0, 0, 0, 0],
    ] {
        let forged = f.with_positions(&shape, &honest, &positions);
        assert_eq!(
            f.verify(&shape, &forged),
            Err(VerifyError::Ranking),
            "{positions:?}"
        );
    }
    let reencrypted = f.with_positions(&shape, &honest, &[2, 0, 1, 3]);
    assert_eq!(f.verify(&shape, &reencrypted), Err(VerifyError::Ranking));
}

#[test]
fn lying_occupancy_bits_are_refused() {
    let mut f = fixture(4);
    let shape = ContestShape::ranked(4, 0, 4).unwrap();
    let honest = f.encrypt(&shape, &[2, 0, 1, 3]);
    for bits in [
        [1, 1, 1, 1],
        [1, 1, 0, 0],
        [1, 0, 1, 1],
        [2, 1, 1, 0],
        [1, 1, 1, 0],
    ] {
        let forged = f.with_bits(&shape, &honest, &bits);
        assert_eq!(
            f.verify(&shape, &forged),
            Err(VerifyError::Ranking),
            "{bits:?}"
        );
    }
}

#[test]
fn a_ranking_is_bound_to_its_ballot_and_shape() {
    let mut f = fixture(5);
    let shape = ContestShape::ranked(3, 1, 3).unwrap();
    let ranking = f.encrypt(&shape, &[1, 0, 2]);
    for context in [
        Context::ballot(&[3; 32], "steering", &[5; 32]),
        Context::ballot(&[3; 32], "treasurer", &[4; 32]),
        Context::ballot(&[9; 32], "steering", &[4; 32]),
    ] {
        assert_eq!(
            ranking.verify(f.key.public_key(), &shape, &context),
            Err(VerifyError::Ranking)
        );
    }
    // Other limits change the count proof's statement (same branch count: 1..=3 vs 0..=2).
    let other = ContestShape::ranked(3, 0, 2).unwrap();
    assert_eq!(f.verify(&other, &ranking), Err(VerifyError::Ranking));
    let bytes = encode(&ranking);
    assert!(
        EncryptedContest::decode(
            &mut Decoder::new(&bytes),
            &ContestShape::ranked(4, 1, 3).unwrap()
        )
        .is_err()
    );
}

#[test]
fn every_changed_byte_is_refused() {
    let mut f = fixture(6);
    let shape = ContestShape::ranked(3, 1, 3).unwrap();
    let ranking = f.encrypt(&shape, &[2, 1, 0]);
    let bytes = encode(&ranking);
    for index in 0..bytes.len() {
        let mut tampered = bytes.clone();
        tampered[index] ^= 0x01;
        let mut input = Decoder::new(&tampered);
        if let Ok(decoded) = EncryptedContest::decode(&mut input, &shape) {
            assert!(
                !input.is_empty() || f.verify(&shape, &decoded).is_err(),
                "byte {index} still verifies"
            );
        }
    }
}

#[test]
fn a_batch_names_the_lying_ranking() {
    let mut f = fixture(7);
    let shape = ContestShape::ranked(4, 1, 4).unwrap();
    assert!(shape.ranking().is_some() && !shape.has_selection_proof());
    let good = f.encrypt(&shape, &[1, 2, 0, 0]);
    let other = f.encrypt(&shape, &[0, 0, 2, 1]);
    let lying = f.with_positions(&shape, &other, &[1, 1, 0, 0]);
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let mut batch = BatchVerifier::new(*f.key.public_key(), &mut rng);
    batch.add_contest("good", &good, &shape, &f.context);
    batch.add_contest("other", &other, &shape, &f.context);
    batch.verify().unwrap();
    let mut batch = BatchVerifier::new(*f.key.public_key(), &mut rng);
    batch.add_contest("good", &good, &shape, &f.context);
    batch.add_contest("lying", &lying, &shape, &f.context);
    assert_eq!(batch.verify(), Err(vec![("lying", VerifyError::Ranking)]));
    // A ranked contest checked against an option shape, and the reverse, is refused.
    let options = ContestShape::new(4, 4, 1, 10).unwrap();
    let mut batch = BatchVerifier::new(*f.key.public_key(), &mut rng);
    batch.add_contest("good", &good, &options, &f.context);
    assert_eq!(batch.verify(), Err(vec![("good", VerifyError::Shape)]));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn random_rankings_verify(n in 1usize..8, seed in any::<u64>()) {
        let mut f = fixture(seed);
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        // A random order of the options, the first r of them ranked.
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = (rand_core::Rng::next_u64(&mut rng) % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let r = (rand_core::Rng::next_u64(&mut rng) % (n as u64 + 1)) as usize;
        let mut positions = vec![0u64; n];
        for (rank, &option) in order.iter().take(r).enumerate() {
            positions[option] = rank as u64 + 1;
        }
        let shape = ContestShape::ranked(n as u32, 0, n as u32).unwrap();
        let ranking = f.encrypt(&shape, &positions);
        prop_assert!(f.verify(&shape, &ranking).is_ok());
        prop_assert_eq!(f.decrypt(&ranking), positions);
    }
}
