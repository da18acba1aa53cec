//! Disjunctive Chaum–Pedersen proof that a ciphertext `(A, B) = (r·G, m·G + r·K)` holds
//! a value `m ∈ lo..=hi`.
//!
//! One branch per candidate value `j`, each a Chaum–Pedersen proof that
//! `(A, B − j·G)` encrypts zero; all branches but the true one are simulated. Branch
//! `j` is `(aⱼ, bⱼ, cⱼ, vⱼ)` with
//!
//! ```text
//! vⱼ·G = aⱼ + cⱼ·A
//! vⱼ·K = bⱼ + cⱼ·(B − j·G)
//! Σⱼ cⱼ = H(tag, ctx, K, index, lo, hi, A, B, a_lo, b_lo, …, a_hi, b_hi)
//! ```
//!
//! The commitments are part of the proof so that many proofs can be verified with one
//! multiscalar multiplication ([`batch`](super::batch)).
//!
//! The prover knows `r`, which lets every branch be computed by the same constant-time
//! formula: pick `tⱼ` (and `cⱼ` for `j ≠ m`; `c_m` starts at zero), set `aⱼ = tⱼ·G`,
//! `bⱼ = tⱼ·K − cⱼ(m − j)·G`, derive `c_m = c − Σ_{j≠m} cⱼ`, and answer `vⱼ = tⱼ + cⱼ·r`
//! for all `j`. For `j = m` this is an honest proof; for `j ≠ m` the triple is
//! distributed exactly as a simulated one. Only fixed-base multiplications are needed,
//! and nothing branches on the secret `m`.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroize;

use crate::elgamal::{Ciphertext, EncryptionKey, Nonce, PublicKey};
use crate::encoding::{Decoder, Encoder};
use crate::error::{DecodeError, Error, VerifyError};
use crate::group::Element;
use crate::proofs::batch::{Batchable, Terms, Weights, verify_single};
use crate::transcript::{Context, Transcript};

/// The most branches (values) one range proof may have. Score contests use 0..=L with
/// small L; a selection-limit proof has `max − min + 1` branches.
pub const MAX_BRANCHES: u64 = 1024;

/// What a range proof is about; each has its own domain tag, so a proof of one kind
/// never verifies as the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeKind {
    /// One option's value (`"urna/v1/range/option"`); `index` is the option's position.
    Option,
    /// A contest's total (`"urna/v1/range/selection"`); `index` is the option count.
    Selection,
    /// A ranking's occupancy bit (`"urna/v1/range/occupied"`); `index` is the
    /// position, from 1.
    Occupied,
    /// A ranking's step between two occupancy bits (`"urna/v1/range/step"`); `index`
    /// is the first position, from 1.
    Step,
    /// A ranking's number of options ranked (`"urna/v1/range/ranked"`); `index` is the
    /// option count.
    Ranked,
}

impl RangeKind {
    fn tag(self) -> &'static str {
        match self {
            Self::Option => "urna/v1/range/option",
            Self::Selection => "urna/v1/range/selection",
            Self::Occupied => "urna/v1/range/occupied",
            Self::Step => "urna/v1/range/step",
            Self::Ranked => "urna/v1/range/ranked",
        }
    }

    fn error(self) -> VerifyError {
        match self {
            Self::Option => VerifyError::Range,
            Self::Selection => VerifyError::Selection,
            Self::Occupied | Self::Step | Self::Ranked => VerifyError::Ranking,
        }
    }
}

/// The public statement: which ciphertext, which values, bound to what.
#[derive(Debug, Clone, Copy)]
pub struct RangeStatement<'a> {
    /// Option proof or selection proof.
    pub kind: RangeKind,
    /// The ciphertext.
    pub ciphertext: &'a Ciphertext,
    /// Smallest allowed value.
    pub lo: u64,
    /// Largest allowed value.
    pub hi: u64,
    /// Option position (or option count for a selection proof).
    pub index: u64,
    /// Election, contest and credential the proof is bound to.
    pub context: &'a Context,
}

impl RangeStatement<'_> {
    fn branches(&self) -> Result<u64, Error> {
        match self.hi.checked_sub(self.lo) {
            Some(span) if span < MAX_BRANCHES => Ok(span + 1),
            _ => Err(Error::Parameters("range must satisfy lo <= hi < lo + 1024")),
        }
    }

    fn transcript(&self, key: &PublicKey) -> Transcript {
        let mut t = Transcript::new(self.kind.tag());
        t.context(self.context)
            .element(key.element())
            .u64(self.index)
            .u64(self.lo)
            .u64(self.hi)
            .element(self.ciphertext.a())
            .element(self.ciphertext.b());
        t
    }
}

/// One branch `(aⱼ, bⱼ, cⱼ, vⱼ)`: 128 bytes encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Branch {
    a: Element,
    b: Element,
    c: Scalar,
    v: Scalar,
}

/// A range proof: one branch per value in `lo..=hi`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeProof {
    branches: Vec<Branch>,
}

/// Length of one encoded branch.
pub const BRANCH_LEN: usize = 128;

impl RangeProof {
    /// Proves that `statement.ciphertext` encrypts `message` with `nonce` under `key`.
    ///
    /// Fails with [`Error::Parameters`] if the range is malformed or `message` is outside
    /// it (a proof of a false statement cannot be made).
    pub fn prove<R: CryptoRng + ?Sized>(
        key: &EncryptionKey,
        statement: &RangeStatement<'_>,
        message: u64,
        nonce: &Nonce,
        rng: &mut R,
    ) -> Result<Self, Error> {
        let count = statement.branches()?;
        if !(statement.lo..=statement.hi).contains(&message) {
            return Err(Error::Parameters("message outside the proven range"));
        }
        let m = Scalar::from(message);
        let mut t_values = Vec::with_capacity(count as usize);
        let mut c_values = Vec::with_capacity(count as usize);
        let mut transcript = statement.transcript(key.public_key());
        for j in statement.lo..=statement.hi {
            let is_real = j.ct_eq(&message);
            let t = Scalar::random(rng);
            let c = Scalar::conditional_select(&Scalar::random(rng), &Scalar::ZERO, is_real);
            let a = Element::from_point(&t * RISTRETTO_BASEPOINT_TABLE);
            let shift = c * (m - Scalar::from(j));
            let b = Element::from_point(key.mul(&t) - &shift * RISTRETTO_BASEPOINT_TABLE);
            transcript.element(&a).element(&b);
            t_values.push((t, a, b));
            c_values.push(c);
        }
        let challenge = transcript.challenge();
        let simulated: Scalar = c_values.iter().sum();
        let real_c = challenge - simulated;
        let r = nonce.scalar();
        let branches = (statement.lo..=statement.hi)
            .zip(t_values.iter_mut().zip(&c_values))
            .map(|(j, ((t, a, b), c))| {
                let c = Scalar::conditional_select(c, &real_c, j.ct_eq(&message));
                let v = *t + c * r;
                t.zeroize();
                Branch { a: *a, b: *b, c, v }
            })
            .collect();
        Ok(Self { branches })
    }

    /// Verifies the proof on its own (one multiscalar multiplication, with weights
    /// derived from the proof itself).
    pub fn verify(
        &self,
        key: &PublicKey,
        statement: &RangeStatement<'_>,
    ) -> Result<(), VerifyError> {
        let bound = Bound {
            proof: self,
            statement,
        };
        let mut seed = Encoder::new();
        seed.bytes(statement.context.as_bytes());
        statement.ciphertext.encode(&mut seed);
        self.encode(&mut seed);
        verify_single(&bound, key, seed.as_slice(), statement.kind.error())
    }

    /// Appends the weighted group equations of this proof to a batch (after checking
    /// the challenge sum, which needs no group arithmetic).
    pub(crate) fn equations(
        &self,
        key: &PublicKey,
        statement: &RangeStatement<'_>,
        weights: &mut dyn Weights,
        terms: &mut Terms,
    ) -> Result<(), VerifyError> {
        let error = statement.kind.error();
        let count = statement.branches().map_err(|_| VerifyError::Shape)?;
        if self.branches.len() as u64 != count {
            return Err(VerifyError::Shape);
        }
        let mut transcript = statement.transcript(key);
        for branch in &self.branches {
            transcript.element(&branch.a).element(&branch.b);
        }
        let sum: Scalar = self.branches.iter().map(|branch| branch.c).sum();
        if sum != transcript.challenge() {
            return Err(error);
        }
        // For each branch j, with weights w1, w2:
        //   w1·(v·G − a − c·A) + w2·(v·K − b − c·B + c·j·G) = 0
        let mut coefficient_a = Scalar::ZERO;
        let mut coefficient_b = Scalar::ZERO;
        for (j, branch) in (statement.lo..).zip(&self.branches) {
            let w1 = weights.next();
            let w2 = weights.next();
            terms.g += w1 * branch.v + w2 * branch.c * Scalar::from(j);
            terms.k += w2 * branch.v;
            terms.push(-w1, *branch.a.point());
            terms.push(-w2, *branch.b.point());
            coefficient_a -= w1 * branch.c;
            coefficient_b -= w2 * branch.c;
        }
        terms.push(coefficient_a, *statement.ciphertext.a().point());
        terms.push(coefficient_b, *statement.ciphertext.b().point());
        Ok(())
    }

    /// The number of branches.
    pub fn len(&self) -> usize {
        self.branches.len()
    }

    /// Whether the proof has no branches (never true of a valid proof).
    pub fn is_empty(&self) -> bool {
        self.branches.is_empty()
    }

    /// Appends the encoding: the branch count (`u32`), then `a ‖ b ‖ c ‖ v` per branch.
    pub fn encode(&self, out: &mut Encoder) {
        out.len(self.branches.len());
        for branch in &self.branches {
            out.element(&branch.a)
                .element(&branch.b)
                .scalar(&branch.c)
                .scalar(&branch.v);
        }
    }

    /// Reads an encoding with exactly `branches` branches.
    pub fn decode(input: &mut Decoder<'_>, branches: usize) -> Result<Self, DecodeError> {
        let count = input.len(MAX_BRANCHES as usize)?;
        if count != branches {
            return Err(DecodeError::Length);
        }
        let branches = (0..count)
            .map(|_| {
                Ok(Branch {
                    a: input.element()?,
                    b: input.element()?,
                    c: input.scalar()?,
                    v: input.scalar()?,
                })
            })
            .collect::<Result<_, DecodeError>>()?;
        Ok(Self { branches })
    }
}

/// A proof together with its statement, as one batchable item.
pub(crate) struct Bound<'p, 's> {
    pub(crate) proof: &'p RangeProof,
    pub(crate) statement: &'p RangeStatement<'s>,
}

impl Batchable for Bound<'_, '_> {
    fn failure(&self) -> VerifyError {
        self.statement.kind.error()
    }

    fn equations(
        &self,
        key: &PublicKey,
        weights: &mut dyn Weights,
        terms: &mut Terms,
    ) -> Result<(), VerifyError> {
        self.proof.equations(key, self.statement, weights, terms)
    }
}
