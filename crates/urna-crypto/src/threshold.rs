//! Threshold decryption: partial decryptions with Chaum–Pedersen proofs, and their
//! combination by Lagrange interpolation.
//!
//! Trustee `j` with key share `xⱼ` answers a batch of ciphertexts `(Aₜ, Bₜ)` with
//! `Dⱼ,ₜ = xⱼ·Aₜ` and, per ciphertext, a DLEQ proof that `log_G Xⱼ = log_{Aₜ} Dⱼ,ₜ`
//! under the caller's context extended with `j`. From the verified answers of any set
//! `S` of at least `k` trustees, `Mₜ = Bₜ − Σ_{j∈S} λⱼ·Dⱼ,ₜ` with
//! `λⱼ = Π_{m∈S, m≠j} m / (m − j)`, which is `mₜ·G` for the plaintext `mₜ`.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};

use crate::dkg::{KeyShare, ThresholdPublicKey};
use crate::elgamal::Ciphertext;
use crate::encoding::{Decoder, Encoder};
use crate::error::{DecodeError, Error, VerifyError};
use crate::group::Element;
use crate::proofs::dleq::DleqProof;
use crate::transcript::Context;

/// The largest batch one partial decryption may cover.
pub const MAX_BATCH: usize = 1 << 20;

/// How many items a decoder reserves room for before reading them.
const RESERVE_LIMIT: usize = 4096;

/// The context of trustee `trustee`'s proofs: the caller's context with the trustee
/// index appended (`context.with_u64(trustee)`).
pub fn proof_context(context: &Context, trustee: u32) -> Context {
    context.clone().with_u64(trustee.into())
}

/// One trustee's partial decryption of a batch of ciphertexts.
///
/// Encoded as `u32 trustee ‖ u32 count ‖ count × (D ‖ c ‖ s)` (96 bytes per
/// ciphertext). `D` may be the identity: it is, exactly when `A` is (the encryption of
/// an empty tally, [`Ciphertext::zero`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialDecryption {
    trustee: u32,
    shares: Vec<Element>,
    proofs: Vec<DleqProof>,
}

impl PartialDecryption {
    /// Trustee `share.index()` partially decrypts `ciphertexts`, proving each step.
    pub fn create<R: CryptoRng + ?Sized>(
        share: &KeyShare,
        ciphertexts: &[Ciphertext],
        context: &Context,
        rng: &mut R,
    ) -> Result<Self, Error> {
        if ciphertexts.len() > MAX_BATCH {
            return Err(Error::Parameters("batch larger than MAX_BATCH"));
        }
        let generator = Element::generator();
        let verification_key = Element::from_point(share.value() * RISTRETTO_BASEPOINT_TABLE);
        let context = proof_context(context, share.index());
        let mut shares = Vec::with_capacity(ciphertexts.len());
        let mut proofs = Vec::with_capacity(ciphertexts.len());
        for ciphertext in ciphertexts {
            let d = Element::from_point(share.value() * ciphertext.a().point());
            proofs.push(DleqProof::prove(
                share.value(),
                &generator,
                &verification_key,
                ciphertext.a(),
                &d,
                &context,
                rng,
            ));
            shares.push(d);
        }
        Ok(Self {
            trustee: share.index(),
            shares,
            proofs,
        })
    }

    /// The trustee `j`.
    pub fn trustee(&self) -> u32 {
        self.trustee
    }

    /// The decryption shares `Dⱼ,ₜ`, in ciphertext order.
    pub fn shares(&self) -> &[Element] {
        &self.shares
    }

    /// The proofs, in ciphertext order.
    pub fn proofs(&self) -> &[DleqProof] {
        &self.proofs
    }

    /// Checks every proof against `Xⱼ` from `key` for exactly these ciphertexts and
    /// this context; the result is what [`combine`] accepts.
    pub fn verify(
        &self,
        key: &ThresholdPublicKey,
        ciphertexts: &[Ciphertext],
        context: &Context,
    ) -> Result<VerifiedPartialDecryption, VerifyError> {
        let verification_key = key
            .verification_key(self.trustee)
            .ok_or(VerifyError::Shape)?;
        if self.shares.len() != ciphertexts.len() || self.proofs.len() != ciphertexts.len() {
            return Err(VerifyError::Shape);
        }
        let generator = Element::generator();
        let proof_context = proof_context(context, self.trustee);
        for ((ciphertext, d), proof) in ciphertexts.iter().zip(&self.shares).zip(&self.proofs) {
            proof.verify(
                &generator,
                verification_key,
                ciphertext.a(),
                d,
                &proof_context,
            )?;
        }
        Ok(VerifiedPartialDecryption {
            trustee: self.trustee,
            shares: self.shares.clone(),
            statement: statement_digest(key, ciphertexts, context),
        })
    }

    /// Appends the canonical encoding.
    pub fn encode(&self, out: &mut Encoder) {
        out.u32(self.trustee).len(self.shares.len());
        for (d, proof) in self.shares.iter().zip(&self.proofs) {
            out.element(d);
            proof.encode(out);
        }
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Encoder::new();
        self.encode(&mut out);
        out.finish()
    }

    /// Reads a partial decryption of at most `max` ciphertexts (and at most
    /// [`MAX_BATCH`]): canonical points and scalars only.
    pub fn decode(input: &mut Decoder<'_>, max: usize) -> Result<Self, DecodeError> {
        let trustee = input.u32()?;
        let count = input.len(max.min(MAX_BATCH))?;
        // The count is untrusted: reserve a bounded amount and let the vectors grow
        // only as items actually decode.
        let reserve = count.min(RESERVE_LIMIT);
        let mut shares = Vec::with_capacity(reserve);
        let mut proofs = Vec::with_capacity(reserve);
        for _ in 0..count {
            shares.push(input.element()?);
            proofs.push(DleqProof::decode(input)?);
        }
        Ok(Self {
            trustee,
            shares,
            proofs,
        })
    }

    /// Decodes exactly one partial decryption of at most `max` ciphertexts.
    pub fn from_bytes(bytes: &[u8], max: usize) -> Result<Self, DecodeError> {
        let mut input = Decoder::new(bytes);
        let partial = Self::decode(&mut input, max)?;
        input.finish()?;
        Ok(partial)
    }
}

/// A partial decryption whose proofs were checked, tied to the key, ciphertexts and
/// context it was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPartialDecryption {
    trustee: u32,
    shares: Vec<Element>,
    statement: [u8; 32],
}

impl VerifiedPartialDecryption {
    /// The trustee `j`.
    pub fn trustee(&self) -> u32 {
        self.trustee
    }
}

/// A digest of what a partial decryption was verified against, so [`combine`] can
/// refuse a verified answer to a different question. Internal: never on the wire.
fn statement_digest(
    key: &ThresholdPublicKey,
    ciphertexts: &[Ciphertext],
    context: &Context,
) -> [u8; 32] {
    let mut enc = Encoder::new();
    enc.str("urna/v1/threshold-statement")
        .bytes(&key.to_bytes())
        .bytes(context.as_bytes())
        .len(ciphertexts.len());
    for ciphertext in ciphertexts {
        ciphertext.encode(&mut enc);
    }
    Sha256::digest(enc.as_slice()).into()
}

/// The Lagrange coefficients at 0 for the distinct, non-zero indices `set`:
/// `λⱼ = Π_{m≠j} m / (m − j)`. Refuses a zero or repeated index.
pub fn lagrange_at_zero(set: &[u32]) -> Result<Vec<Scalar>, Error> {
    let mut sorted = set.to_vec();
    sorted.sort_unstable();
    if sorted.first() == Some(&0) || sorted.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(Error::Parameters(
            "interpolation indices must be distinct and non-zero",
        ));
    }
    let mut numerators = Vec::with_capacity(set.len());
    let mut denominators = Vec::with_capacity(set.len());
    for &j in set {
        let mut numerator = Scalar::ONE;
        let mut denominator = Scalar::ONE;
        for &m in set.iter().filter(|&&m| m != j) {
            numerator *= Scalar::from(m);
            denominator *= Scalar::from(m) - Scalar::from(j);
        }
        numerators.push(numerator);
        denominators.push(denominator);
    }
    // Every denominator is a product of non-zero differences of indices below the
    // group order, so none is zero.
    Scalar::invert_batch_alloc(&mut denominators);
    Ok(numerators
        .into_iter()
        .zip(denominators)
        .map(|(n, d)| n * d)
        .collect())
}

/// Combines verified partial decryptions from at least `k` distinct trustees into
/// `Mₜ = Bₜ − Σ λⱼ·Dⱼ,ₜ = mₜ·G` for every ciphertext. Refuses duplicates, too few
/// trustees, and answers verified against other ciphertexts, keys or contexts.
pub fn combine(
    key: &ThresholdPublicKey,
    ciphertexts: &[Ciphertext],
    context: &Context,
    partials: &[VerifiedPartialDecryption],
) -> Result<Vec<Element>, Error> {
    let mut set: Vec<u32> = partials.iter().map(|p| p.trustee).collect();
    set.sort_unstable();
    if set.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(Error::Parameters("duplicate partial decryption"));
    }
    if set.len() < key.threshold() as usize {
        return Err(Error::Parameters(
            "fewer partial decryptions than the threshold",
        ));
    }
    let statement = statement_digest(key, ciphertexts, context);
    if partials
        .iter()
        .any(|p| p.statement != statement || p.shares.len() != ciphertexts.len())
    {
        return Err(Error::Parameters(
            "partial decryption verified for another statement",
        ));
    }
    let trustees: Vec<u32> = partials.iter().map(|p| p.trustee).collect();
    let lambdas = lagrange_at_zero(&trustees)?;
    let scalars: Vec<Scalar> = core::iter::once(Scalar::ONE)
        .chain(lambdas.iter().map(|lambda| -lambda))
        .collect();
    Ok(ciphertexts
        .iter()
        .enumerate()
        .map(|(t, ciphertext)| {
            let points = core::iter::once(*ciphertext.b().point())
                .chain(partials.iter().map(|p| *p.shares[t].point()));
            Element::from_point(RistrettoPoint::vartime_multiscalar_mul(&scalars, points))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lagrange_coefficients_interpolate_a_line_and_a_parabola() {
        // f(x) = 5 + 2x: f(1) = 7, f(3) = 11.
        let lambdas = lagrange_at_zero(&[1, 3]).unwrap();
        assert_eq!(
            lambdas[0] * Scalar::from(7u8) + lambdas[1] * Scalar::from(11u8),
            Scalar::from(5u8)
        );
        // f(x) = 1 + x + x²: f(2) = 7, f(4) = 21, f(5) = 31.
        let lambdas = lagrange_at_zero(&[2, 4, 5]).unwrap();
        assert!(lagrange_at_zero(&[2, 2]).is_err());
        assert!(lagrange_at_zero(&[0, 1]).is_err());
        let value: Scalar = lambdas
            .iter()
            .zip([7u8, 21, 31])
            .map(|(l, y)| l * Scalar::from(y))
            .sum();
        assert_eq!(value, Scalar::ONE);
    }
}
