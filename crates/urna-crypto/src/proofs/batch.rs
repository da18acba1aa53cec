//! Batch verification by random linear combination.
//!
//! Each proof contributes equations of the form `Σ sᵢ·Pᵢ = 0`. Multiplying each equation
//! by an independent random 128-bit weight and adding them all gives one multiscalar
//! multiplication that is the identity if every equation holds, and otherwise is the
//! identity with probability at most about 2⁻¹²⁸. The coefficients of the two fixed
//! bases G and K are accumulated separately, so they cost one term each per batch.
//!
//! When a batch fails, every item is checked on its own (with its own weights), so the
//! caller learns exactly which items are bad.

use core::ops::Range;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use rand_core::CryptoRng;
use sha2::{Digest, Sha512};

use crate::elgamal::PublicKey;
use crate::error::VerifyError;

/// A source of 128-bit equation weights.
pub(crate) trait Weights {
    /// The next weight.
    fn next(&mut self) -> Scalar;
}

/// Weights from a CSPRNG (batch verification).
pub(crate) struct RandomWeights<'r, R: ?Sized>(pub(crate) &'r mut R);

impl<R: CryptoRng + ?Sized> Weights for RandomWeights<'_, R> {
    fn next(&mut self) -> Scalar {
        let mut bytes = [0u8; 32];
        self.0.fill_bytes(&mut bytes[..16]);
        Scalar::from_bytes_mod_order(bytes)
    }
}

/// Weights derived by hashing a seed that commits to the whole proof (single
/// verification, which then needs no random number generator). The prover cannot
/// choose the proof after seeing the weights, since the weights depend on the proof.
pub(crate) struct DerivedWeights {
    seed: [u8; 64],
    counter: u64,
}

impl DerivedWeights {
    /// Weights bound to `seed_input` (an encoding of the statement and the proof).
    pub(crate) fn new(seed_input: &[u8]) -> Self {
        let mut hasher = Sha512::new();
        hasher.update(b"urna/v1/verification-weights");
        hasher.update(seed_input);
        Self {
            seed: hasher.finalize().into(),
            counter: 0,
        }
    }
}

impl Weights for DerivedWeights {
    fn next(&mut self) -> Scalar {
        let mut hasher = Sha512::new();
        hasher.update(self.seed);
        hasher.update(self.counter.to_be_bytes());
        self.counter += 1;
        let digest = hasher.finalize();
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(&digest[..16]);
        Scalar::from_bytes_mod_order(bytes)
    }
}

/// Weighted terms of verification equations that must sum to the identity:
/// `g·G + k·K + Σ sᵢ·Pᵢ = 0`.
#[derive(Debug, Default)]
pub(crate) struct Terms {
    pub(crate) g: Scalar,
    pub(crate) k: Scalar,
    pub(crate) scalars: Vec<Scalar>,
    pub(crate) points: Vec<RistrettoPoint>,
}

impl Terms {
    pub(crate) fn push(&mut self, scalar: Scalar, point: RistrettoPoint) {
        self.scalars.push(scalar);
        self.points.push(point);
    }

    /// Whether the terms in `range`, plus `g·G + k·K`, sum to the identity.
    pub(crate) fn holds(&self, range: Range<usize>, g: Scalar, k: Scalar, key: &PublicKey) -> bool {
        let (Some(scalars), Some(points)) =
            (self.scalars.get(range.clone()), self.points.get(range))
        else {
            return false;
        };
        RistrettoPoint::vartime_multiscalar_mul(
            [g, k].iter().chain(scalars),
            [&RISTRETTO_BASEPOINT_POINT, key.element().point()]
                .into_iter()
                .chain(points),
        )
        .is_identity()
    }

    /// Whether all terms sum to the identity.
    pub(crate) fn all_hold(&self, key: &PublicKey) -> bool {
        self.holds(0..self.scalars.len(), self.g, self.k, key)
    }
}

/// Something whose proofs can be checked in a batch.
pub(crate) trait Batchable {
    /// Checks everything that needs no group arithmetic (challenge sums, shapes) and
    /// appends the weighted group equations to `terms`.
    fn equations(
        &self,
        key: &PublicKey,
        weights: &mut dyn Weights,
        terms: &mut Terms,
    ) -> Result<(), VerifyError>;

    /// The check to name when this item's equations do not hold.
    fn failure(&self) -> VerifyError {
        VerifyError::Range
    }
}

struct Item<Id> {
    id: Id,
    error: VerifyError,
    range: Range<usize>,
    g: Scalar,
    k: Scalar,
}

/// Verifies many proofs (ballots, contests, range proofs) under one election key with
/// a single multiscalar multiplication. Items are labelled with the caller's `Id` so
/// that a failure names the bad ones.
pub struct BatchVerifier<'r, Id, R: ?Sized> {
    key: PublicKey,
    rng: &'r mut R,
    terms: Terms,
    items: Vec<Item<Id>>,
    failed: Vec<(Id, VerifyError)>,
}

impl<'r, Id, R: CryptoRng + ?Sized> BatchVerifier<'r, Id, R> {
    /// An empty batch under election key `key`, drawing weights from `rng`.
    pub fn new(key: PublicKey, rng: &'r mut R) -> Self {
        Self {
            key,
            rng,
            terms: Terms::default(),
            items: Vec::new(),
            failed: Vec::new(),
        }
    }

    /// The number of items added.
    pub fn len(&self) -> usize {
        self.items.len() + self.failed.len()
    }

    /// Whether no item was added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn add(&mut self, id: Id, item: &dyn Batchable) {
        let start = self.terms.scalars.len();
        let (g, k) = (self.terms.g, self.terms.k);
        self.terms.g = Scalar::ZERO;
        self.terms.k = Scalar::ZERO;
        let result = item.equations(&self.key, &mut RandomWeights(self.rng), &mut self.terms);
        let (item_g, item_k) = (self.terms.g, self.terms.k);
        self.terms.g = g + item_g;
        self.terms.k = k + item_k;
        match result {
            Ok(()) => self.items.push(Item {
                id,
                error: item.failure(),
                range: start..self.terms.scalars.len(),
                g: item_g,
                k: item_k,
            }),
            Err(error) => {
                self.terms.scalars.truncate(start);
                self.terms.points.truncate(start);
                self.terms.g = g;
                self.terms.k = k;
                self.failed.push((id, error));
            }
        }
    }

    /// Verifies every item. `Ok` if all hold; otherwise the ids of the items that fail,
    /// each with the check it failed, in the order they were added (items refused while
    /// being added come first).
    pub fn verify(self) -> Result<(), Vec<(Id, VerifyError)>> {
        let mut failed = self.failed;
        if failed.is_empty() && self.terms.all_hold(&self.key) {
            return Ok(());
        }
        for item in self.items {
            if !self.terms.holds(item.range, item.g, item.k, &self.key) {
                failed.push((item.id, item.error));
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed)
        }
    }
}

/// Verifies one item with weights derived from `seed`.
pub(crate) fn verify_single(
    item: &dyn Batchable,
    key: &PublicKey,
    seed: &[u8],
    error: VerifyError,
) -> Result<(), VerifyError> {
    let mut terms = Terms::default();
    item.equations(key, &mut DerivedWeights::new(seed), &mut terms)?;
    if terms.all_hold(key) {
        Ok(())
    } else {
        Err(error)
    }
}
