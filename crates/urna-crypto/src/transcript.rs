//! Fiat–Shamir challenges and the contexts they bind.
//!
//! A challenge is `SHA-512(lp(tag) ‖ lp(f₁) ‖ … ‖ lp(fₙ))` reduced modulo the group
//! order, where `lp(x) = u32be(|x|) ‖ x`. Every field, fixed width or not, is
//! length-prefixed, so no two different field lists hash the same input. Nothing here
//! hashes serde or protobuf output: callers append typed values in a fixed order.

use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};

use crate::encoding::Encoder;
use crate::group::Element;

/// What a proof is bound to: the election fingerprint, the contest, the voter's
/// credential key, the trustee, the mix step… A proof verifies only under the exact
/// context it was made for, so it cannot be replayed into another ballot or election.
///
/// Encoded as `lp(kind) ‖ lp(field₁) ‖ …`.
#[derive(Clone, PartialEq, Eq)]
pub struct Context {
    encoded: Vec<u8>,
}

impl Context {
    /// A context of the given kind (e.g. `"ballot"`), with no fields yet.
    pub fn new(kind: &str) -> Self {
        let mut enc = Encoder::new();
        enc.str(kind);
        Self {
            encoded: enc.finish(),
        }
    }

    /// Appends one field.
    #[must_use]
    pub fn with(mut self, field: &[u8]) -> Self {
        let mut enc = Encoder::new();
        enc.bytes(field);
        self.encoded.extend_from_slice(enc.as_slice());
        self
    }

    /// Appends an integer field (8 bytes, big-endian).
    #[must_use]
    pub fn with_u64(self, field: u64) -> Self {
        self.with(&field.to_be_bytes())
    }

    /// The context of a ballot's contest proofs: election fingerprint, contest id and
    /// the voter's credential public key.
    pub fn ballot(election: &[u8; 32], contest: &str, credential: &[u8; 32]) -> Self {
        Self::new("ballot")
            .with(election)
            .with(contest.as_bytes())
            .with(credential)
    }

    /// The context of one mix step's shuffle proof: election fingerprint, contest id and
    /// the step's number (0 for the first trustee to shuffle).
    pub fn shuffle(election: &[u8; 32], contest: &str, step: u64) -> Self {
        Self::new("shuffle")
            .with(election)
            .with(contest.as_bytes())
            .with_u64(step)
    }

    /// The canonical encoding.
    pub fn as_bytes(&self) -> &[u8] {
        &self.encoded
    }
}

impl core::fmt::Debug for Context {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Context")
            .field("len", &self.encoded.len())
            .finish_non_exhaustive()
    }
}

/// Accumulates the fields of one Fiat–Shamir challenge.
///
/// The fields stream into SHA-512 as they are appended, so a transcript over a large
/// statement (a shuffle of many ballots) never holds the statement in memory twice.
#[derive(Clone)]
pub struct Transcript {
    hash: Sha512,
}

impl Transcript {
    /// A transcript for the proof type named by `tag` (e.g. `"urna/v1/dleq"`).
    pub fn new(tag: &str) -> Self {
        let mut transcript = Self {
            hash: Sha512::new(),
        };
        transcript.bytes(tag.as_bytes());
        transcript
    }

    /// Appends a byte-string field: its length as `u32`, then the bytes.
    pub fn bytes(&mut self, field: &[u8]) -> &mut Self {
        let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
        self.hash.update(len.to_be_bytes());
        self.hash.update(field);
        self
    }

    /// Appends the context.
    pub fn context(&mut self, context: &Context) -> &mut Self {
        self.bytes(context.as_bytes())
    }

    /// Appends a group element's encoding.
    pub fn element(&mut self, element: &Element) -> &mut Self {
        self.bytes(element.as_bytes())
    }

    /// Appends a scalar's encoding.
    pub fn scalar(&mut self, scalar: &Scalar) -> &mut Self {
        self.bytes(scalar.as_bytes())
    }

    /// Appends an integer (8 bytes, big-endian).
    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.bytes(&value.to_be_bytes())
    }

    /// The 64-byte SHA-512 digest of everything appended so far.
    pub fn digest(&self) -> [u8; 64] {
        self.hash.clone().finalize().into()
    }

    /// The challenge scalar: SHA-512 of the input, reduced modulo the group order.
    pub fn challenge(&self) -> Scalar {
        Scalar::from_bytes_mod_order_wide(&self.digest())
    }
}

impl core::fmt::Debug for Transcript {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Transcript").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_length_prefixed() {
        let mut a = Transcript::new("t");
        a.bytes(b"ab").bytes(b"c");
        let mut b = Transcript::new("t");
        b.bytes(b"a").bytes(b"bc");
        assert_ne!(a.challenge(), b.challenge());
    }

    #[test]
    fn contexts_differ_by_every_field() {
        let e = [1u8; 32];
        let c = [2u8; 32];
        let base = Context::ballot(&e, "mayor", &c);
        assert_ne!(base, Context::ballot(&[3u8; 32], "mayor", &c));
        assert_ne!(base, Context::ballot(&e, "mayo", &c));
        assert_ne!(base, Context::ballot(&e, "mayor", &[3u8; 32]));
        assert_eq!(base, Context::ballot(&e, "mayor", &c));
    }
}
