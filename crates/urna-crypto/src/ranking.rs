//! An encrypted ranking, proven well-formed at casting, so that no malformed ballot can
//! enter a mix-net.
//!
//! A ranking of `n` options is the vector of their rank positions `vᵢ` (1 for the first
//! choice, 0 for an option left unranked). It is well-formed when, for the number of
//! options ranked `r` (within the contest's limits), the positions used are exactly
//! `1 … r`, each once. The voter proves it without revealing anything else:
//!
//! 1. *occupancy bits* `B₁ … B_n`, `Bₚ = Enc(1)` if position `p` is used, else `Enc(0)`,
//!    each with a 0/1 range proof (`"urna/v1/range/occupied"`, index `p`);
//! 2. *steps* `Bₚ − Bₚ₊₁ ∈ {0, 1}` for `p < n` (`"urna/v1/range/step"`), so the bits are
//!    `1 … 1 0 … 0`: the positions used are `1 … r`;
//! 3. *count* `Σ Bₚ = r ∈ [min, max]` (`"urna/v1/range/ranked"`, index `n`);
//! 4. a *shuffle proof* ([`ShuffleProof`], width 1) that the positions `v₁ … v_n` are a
//!    re-encrypted permutation of `Zₚ = p·Bₚ`, which encrypt `1 … r` and `n − r` zeros.
//!
//! Together: the `vᵢ` are `1 … r` once each and zeros elsewhere. Every proof is bound to
//! the ballot's context (election, contest, credential). Size `O(n)`: for 5 options
//! ranked 0 to 5, 324 bytes of count and positions, 320 of bits, 3,112 of range proofs
//! and 800 of shuffle proof, 4,556 in all.
//!
//! The prover branches on the positions when it builds the permutation and indexes
//! tables with it; a co-resident cache-timing attacker on the voter's device could
//! observe that. Its multiplications by secrets run in constant time.
//!
//! [`EncryptedContest`](crate::EncryptedContest) carries it for a shape made with
//! [`ContestShape::ranked`](crate::ContestShape::ranked).

use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;

use crate::elgamal::{Ciphertext, EncryptionKey, Nonce, PublicKey};
use crate::encoding::{Decoder, Encoder};
use crate::error::{DecodeError, Error, VerifyError};
use crate::mix::{MixBallots, ShuffleProof, ShuffleWitness};
use crate::proofs::batch::{Batchable, Terms, Weights};
use crate::proofs::range::{RangeKind, RangeProof, RangeStatement};
use crate::transcript::Context;

/// The most options a ranked contest may have.
pub const MAX_RANKED_OPTIONS: u32 = 256;

/// A ranked contest as the cryptography sees it: how many options, and how many of
/// them a voter must and may rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RankingShape {
    options: u32,
    min_ranked: u32,
    max_ranked: u32,
}

impl RankingShape {
    /// A validated shape: 1 to 256 options, `min_ranked <= max_ranked <= options`.
    pub fn new(options: u32, min_ranked: u32, max_ranked: u32) -> Result<Self, Error> {
        if options == 0 || options > MAX_RANKED_OPTIONS {
            return Err(Error::Parameters("a ranked contest has 1 to 256 options"));
        }
        if min_ranked > max_ranked || max_ranked > options {
            return Err(Error::Parameters(
                "a ranked contest needs min ranked <= max ranked <= options",
            ));
        }
        Ok(Self {
            options,
            min_ranked,
            max_ranked,
        })
    }

    /// Number of options.
    pub fn options(&self) -> u32 {
        self.options
    }

    /// Fewest options a voter must rank.
    pub fn min_ranked(&self) -> u32 {
        self.min_ranked
    }

    /// Most options a voter may rank.
    pub fn max_ranked(&self) -> u32 {
        self.max_ranked
    }

    fn bit<'a>(
        &self,
        kind: RangeKind,
        ciphertext: &'a Ciphertext,
        position: u64,
        context: &'a Context,
    ) -> RangeStatement<'a> {
        RangeStatement {
            kind,
            ciphertext,
            lo: 0,
            hi: 1,
            index: position,
            context,
        }
    }

    fn count<'a>(&self, sum: &'a Ciphertext, context: &'a Context) -> RangeStatement<'a> {
        RangeStatement {
            kind: RangeKind::Ranked,
            ciphertext: sum,
            lo: u64::from(self.min_ranked),
            hi: u64::from(self.max_ranked),
            index: u64::from(self.options),
            context,
        }
    }
}

/// The proof that encrypted positions form a ranking (everything but the positions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RankingProof {
    occupied: Vec<Ciphertext>,
    occupied_proofs: Vec<RangeProof>,
    step_proofs: Vec<RangeProof>,
    count_proof: RangeProof,
    permutation: ShuffleProof,
}

impl RankingProof {
    /// Proves that `ciphertexts` (encrypting `positions` with `nonces`) form a ranking
    /// of `ranked` options.
    pub(crate) fn prove<R: CryptoRng + ?Sized>(
        key: &EncryptionKey,
        shape: &RankingShape,
        (positions, ranked): (&[u64], usize),
        (ciphertexts, nonces): (&[Ciphertext], &[Nonce]),
        context: &Context,
        rng: &mut R,
    ) -> Result<Self, Error> {
        let n = shape.options as usize;

        // 1-3: occupancy bits and their proofs.
        let bits: Vec<u64> = (1..=n).map(|p| u64::from(p <= ranked)).collect();
        let (occupied, bit_nonces): (Vec<Ciphertext>, Vec<Nonce>) =
            bits.iter().map(|&bit| key.encrypt(bit, rng)).unzip();
        let occupied_proofs = (0..n)
            .map(|p| {
                let statement = shape.bit(RangeKind::Occupied, &occupied[p], p as u64 + 1, context);
                RangeProof::prove(key, &statement, bits[p], &bit_nonces[p], rng)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let step_proofs = (0..n.saturating_sub(1))
            .map(|p| {
                let step = occupied[p].sub(&occupied[p + 1]);
                let nonce = Nonce::from_scalar(bit_nonces[p].scalar() - bit_nonces[p + 1].scalar());
                let statement = shape.bit(RangeKind::Step, &step, p as u64 + 1, context);
                RangeProof::prove(key, &statement, bits[p] - bits[p + 1], &nonce, rng)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sum = Ciphertext::sum(&occupied);
        let count_proof = RangeProof::prove(
            key,
            &shape.count(&sum, context),
            ranked as u64,
            &Nonce::sum(&bit_nonces),
            rng,
        )?;

        // 4: the positions, as a shuffle of Zₚ = p·Bₚ. Option i ranked p comes from
        // row p − 1; unranked options take the unused rows r … n − 1 in turn.
        let mut spare = ranked..n;
        let permutation: Vec<usize> = positions
            .iter()
            .map(|&v| match v {
                0 => spare.next().unwrap_or_default(),
                v => v as usize - 1,
            })
            .collect();
        let reencryption: Vec<Scalar> = permutation
            .iter()
            .zip(nonces)
            .map(|(&row, nonce)| {
                nonce.scalar() - Scalar::from(row as u64 + 1) * bit_nonces[row].scalar()
            })
            .collect();
        let scaled = MixBallots::new(1, scaled_bits(&occupied))?;
        let output = MixBallots::new(1, ciphertexts.to_vec())?;
        let witness = ShuffleWitness::new(permutation, reencryption);
        let permutation = ShuffleProof::prove(
            key,
            &scaled,
            &output,
            &witness,
            &shuffle_context(context),
            rng,
        )?;
        Ok(Self {
            occupied,
            occupied_proofs,
            step_proofs,
            count_proof,
            permutation,
        })
    }

    /// Appends the occupancy bits, their proofs, the step proofs, the count proof and
    /// the shuffle proof.
    pub(crate) fn encode(&self, out: &mut Encoder) {
        for ciphertext in &self.occupied {
            ciphertext.encode(out);
        }
        for proof in self.occupied_proofs.iter().chain(&self.step_proofs) {
            proof.encode(out);
        }
        self.count_proof.encode(out);
        self.permutation.encode(out);
    }

    /// Reads the proof of a ranking of `shape`.
    pub(crate) fn decode(
        input: &mut Decoder<'_>,
        shape: &RankingShape,
    ) -> Result<Self, DecodeError> {
        let n = shape.options as usize;
        let occupied = (0..n)
            .map(|_| Ciphertext::decode(input))
            .collect::<Result<Vec<_>, _>>()?;
        let bits = |input: &mut Decoder<'_>, count: usize| {
            (0..count)
                .map(|_| RangeProof::decode(input, 2))
                .collect::<Result<Vec<_>, _>>()
        };
        let occupied_proofs = bits(input, n)?;
        let step_proofs = bits(input, n - 1)?;
        let count_branches = (shape.max_ranked - shape.min_ranked + 1) as usize;
        let count_proof = RangeProof::decode(input, count_branches)?;
        let permutation = ShuffleProof::decode(input, n, 1)?;
        Ok(Self {
            occupied,
            occupied_proofs,
            step_proofs,
            count_proof,
            permutation,
        })
    }
}

/// The number of options ranked, if `positions` (one per option) use exactly
/// `1 … r` once each and zeros elsewhere, with `r` within the shape's limits.
pub(crate) fn ranked_count(positions: &[u64], shape: &RankingShape) -> Result<usize, Error> {
    let n = shape.options as usize;
    if positions.len() != n {
        return Err(Error::Parameters("one position per option"));
    }
    let mut used = vec![false; n];
    for &v in positions.iter().filter(|&&v| v != 0) {
        let slot = usize::try_from(v - 1)
            .ok()
            .and_then(|i| used.get_mut(i))
            .ok_or(Error::Parameters("a rank position beyond the option count"))?;
        if *slot {
            return Err(Error::Parameters("two options share a rank position"));
        }
        *slot = true;
    }
    let ranked = used.iter().filter(|&&u| u).count();
    if !used[..ranked].iter().all(|&u| u) {
        return Err(Error::Parameters(
            "rank positions must be 1 to r without gaps",
        ));
    }
    if !(shape.min_ranked as usize..=shape.max_ranked as usize).contains(&ranked) {
        return Err(Error::Parameters(
            "number ranked outside the contest's limits",
        ));
    }
    Ok(ranked)
}

/// `Zₚ = p·Bₚ` for `p = 1 … n`.
fn scaled_bits(occupied: &[Ciphertext]) -> Vec<Ciphertext> {
    occupied
        .iter()
        .zip(1u64..)
        .map(|(bit, p)| bit.scale(&Scalar::from(p)))
        .collect()
}

/// The shuffle proof's context: the ballot's, under its own kind.
fn shuffle_context(context: &Context) -> Context {
    Context::new("ranking").with(context.as_bytes())
}

/// A ranking with the statement it is checked against. In a batch its range proofs
/// join the combined check; its shuffle proof, whose challenge hashes recomputed
/// commitments, is checked at once when the item is added.
pub(crate) struct CheckedRanking<'a> {
    pub(crate) positions: &'a [Ciphertext],
    pub(crate) proof: &'a RankingProof,
    pub(crate) shape: &'a RankingShape,
    pub(crate) context: &'a Context,
}

impl Batchable for CheckedRanking<'_> {
    fn equations(
        &self,
        key: &PublicKey,
        weights: &mut dyn Weights,
        terms: &mut Terms,
    ) -> Result<(), VerifyError> {
        let (proof, n) = (self.proof, self.shape.options as usize);
        if self.positions.len() != n
            || proof.occupied.len() != n
            || proof.occupied_proofs.len() != n
            || proof.step_proofs.len() != n - 1
        {
            return Err(VerifyError::Shape);
        }
        let scaled =
            MixBallots::new(1, scaled_bits(&proof.occupied)).map_err(|_| VerifyError::Shape)?;
        let output = MixBallots::new(1, self.positions.to_vec()).map_err(|_| VerifyError::Shape)?;
        proof
            .permutation
            .verify(key, &scaled, &output, &shuffle_context(self.context))
            .map_err(|_| VerifyError::Ranking)?;
        for (p, (bit, range)) in proof
            .occupied
            .iter()
            .zip(&proof.occupied_proofs)
            .enumerate()
        {
            let statement = self
                .shape
                .bit(RangeKind::Occupied, bit, p as u64 + 1, self.context);
            range.equations(key, &statement, weights, terms)?;
        }
        for (p, range) in proof.step_proofs.iter().enumerate() {
            let step = proof.occupied[p].sub(&proof.occupied[p + 1]);
            let statement = self
                .shape
                .bit(RangeKind::Step, &step, p as u64 + 1, self.context);
            range.equations(key, &statement, weights, terms)?;
        }
        let sum = Ciphertext::sum(&proof.occupied);
        proof
            .count_proof
            .equations(key, &self.shape.count(&sum, self.context), weights, terms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::SecretKey;
    use crate::encoding::Encoder;
    use crate::proofs::batch::verify_single;
    use rand::SeedableRng;
    use rand::rngs::ChaCha20Rng;

    /// A cheating device's ranking: occupancy bits of any values, positions that are an
    /// honestly re-encrypted permutation of `p·bits[p]` (output `i` is row
    /// `permutation[i]`), so the shuffle proof is genuine. Every range proof whose
    /// statement holds is genuine; one that does not is replaced by a genuine proof of
    /// the same range for a fresh encryption of a value in it, which is what a cheater
    /// can produce. Returns the positions and the proof.
    fn cheat(
        shape: &RankingShape,
        bits: &[u64],
        permutation: &[usize],
        seed: u64,
    ) -> (EncryptionKey, Vec<Ciphertext>, RankingProof, Context) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let key = EncryptionKey::new(SecretKey::random(&mut rng).public_key());
        let context = Context::ballot(&[1; 32], "ranked", &[2; 32]);
        let (occupied, nonces): (Vec<Ciphertext>, Vec<Nonce>) =
            bits.iter().map(|&b| key.encrypt(b, &mut rng)).unzip();
        let mut prove = |statement: &RangeStatement<'_>, value: i128, nonce: Scalar| {
            let (lo, hi) = (i128::from(statement.lo), i128::from(statement.hi));
            if (lo..=hi).contains(&value) {
                let value = u64::try_from(value).unwrap();
                RangeProof::prove(&key, statement, value, &Nonce::from_scalar(nonce), &mut rng)
                    .unwrap()
            } else {
                let (fake, fake_nonce) = key.encrypt(statement.lo, &mut rng);
                let forged = RangeStatement {
                    ciphertext: &fake,
                    ..*statement
                };
                RangeProof::prove(&key, &forged, statement.lo, &fake_nonce, &mut rng).unwrap()
            }
        };
        let occupied_proofs = (0..bits.len())
            .map(|p| {
                let statement =
                    shape.bit(RangeKind::Occupied, &occupied[p], p as u64 + 1, &context);
                prove(&statement, i128::from(bits[p]), *nonces[p].scalar())
            })
            .collect();
        let step_proofs = (0..bits.len() - 1)
            .map(|p| {
                let step = occupied[p].sub(&occupied[p + 1]);
                let statement = shape.bit(RangeKind::Step, &step, p as u64 + 1, &context);
                let value = i128::from(bits[p]) - i128::from(bits[p + 1]);
                prove(
                    &statement,
                    value,
                    nonces[p].scalar() - nonces[p + 1].scalar(),
                )
            })
            .collect();
        let sum = Ciphertext::sum(&occupied);
        let total: u64 = bits.iter().sum();
        let count_proof = prove(
            &shape.count(&sum, &context),
            i128::from(total),
            Nonce::sum(&nonces).reveal(),
        );
        let scaled = scaled_bits(&occupied);
        let (positions, reencryption): (Vec<Ciphertext>, Vec<Scalar>) = permutation
            .iter()
            .map(|&row| {
                let (c, nonce) = key.reencrypt(&scaled[row], &mut rng);
                (c, nonce.reveal())
            })
            .unzip();
        let witness = ShuffleWitness::new(permutation.to_vec(), reencryption);
        let input = MixBallots::new(1, scaled).unwrap();
        let output = MixBallots::new(1, positions.clone()).unwrap();
        let permutation = ShuffleProof::prove(
            &key,
            &input,
            &output,
            &witness,
            &shuffle_context(&context),
            &mut rng,
        )
        .unwrap();
        let proof = RankingProof {
            occupied,
            occupied_proofs,
            step_proofs,
            count_proof,
            permutation,
        };
        (key, positions, proof, context)
    }

    fn check(shape: &RankingShape, bits: &[u64], permutation: &[usize]) -> Result<(), VerifyError> {
        let (key, positions, proof, context) = cheat(shape, bits, permutation, 7);
        let mut seed = Encoder::new();
        proof.encode(&mut seed);
        let checked = CheckedRanking {
            positions: &positions,
            proof: &proof,
            shape,
            context: &context,
        };
        verify_single(
            &checked,
            key.public_key(),
            seed.as_slice(),
            VerifyError::Ranking,
        )
    }

    #[test]
    fn the_cheating_harness_passes_an_honest_ranking() {
        let shape = RankingShape::new(4, 1, 4).unwrap();
        // Bits 1 1 0 0; positions [2, 0, 1, 0] take rows 1, 2, 0, 3 of (1, 2, 0, 0).
        assert_eq!(check(&shape, &[1, 1, 0, 0], &[1, 2, 0, 3]), Ok(()));
    }

    #[test]
    fn a_gap_is_caught_by_the_step_proof_alone() {
        // Positions [1, 3, 0, 0]: bits 1 0 1 0 are bits, the count 2 is allowed, the
        // positions are a permutation of (1, 0, 3, 0); only B₂ − B₃ = −1 is false.
        let shape = RankingShape::new(4, 1, 4).unwrap();
        assert_eq!(
            check(&shape, &[1, 0, 1, 0], &[0, 2, 1, 3]),
            Err(VerifyError::Ranking)
        );
    }

    #[test]
    fn a_repeat_is_caught_by_the_bit_proof_alone() {
        // Bits 2 1 0: the steps 1 and 1 hold and the count 3 is allowed; positions
        // [2, 2, 0] (a repeat) are a permutation of (2, 2, 0); only B₁ ∈ {0, 1} is false.
        let shape = RankingShape::new(3, 0, 3).unwrap();
        assert_eq!(
            check(&shape, &[2, 1, 0], &[0, 1, 2]),
            Err(VerifyError::Ranking)
        );
    }

    #[test]
    fn too_many_ranked_is_caught_by_the_count_proof_alone() {
        // Ranking all three of a contest that allows at most two.
        let shape = RankingShape::new(3, 1, 2).unwrap();
        assert_eq!(
            check(&shape, &[1, 1, 1], &[2, 0, 1]),
            Err(VerifyError::Ranking)
        );
    }

    #[test]
    fn only_rankings_without_gaps_or_repeats_count() {
        let shape = |n| RankingShape::new(n, 0, n).unwrap();
        assert_eq!(ranked_count(&[2, 0, 1, 3], &shape(4)), Ok(3));
        assert_eq!(ranked_count(&[0, 0, 0], &shape(3)), Ok(0));
        assert_eq!(ranked_count(&[1], &shape(1)), Ok(1));
        assert!(ranked_count(&[1, 1, 0], &shape(3)).is_err(), "repeat");
        assert!(ranked_count(&[1, 3, 0], &shape(3)).is_err(), "gap");
        assert!(ranked_count(&[1, 4, 2], &shape(3)).is_err(), "beyond");
        assert!(ranked_count(&[1, 2], &shape(3)).is_err(), "length");
        let limited = RankingShape::new(3, 1, 2).unwrap();
        assert!(ranked_count(&[0, 0, 0], &limited).is_err(), "too few");
        assert!(ranked_count(&[1, 2, 3], &limited).is_err(), "too many");
    }
}
