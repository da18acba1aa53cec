//! The compact form `(c, s)` shared by Schnorr and Chaum–Pedersen proofs: a challenge
//! and a response, 64 bytes, the commitments recomputed by the verifier.

use curve25519_dalek::scalar::Scalar;

use crate::encoding::{Decoder, Encoder};
use crate::error::{DecodeError, VerifyError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Compact {
    pub(crate) challenge: Scalar,
    pub(crate) response: Scalar,
}

impl Compact {
    /// Accepts iff the recomputed challenge equals the proof's.
    pub(crate) fn check(&self, recomputed: Scalar, error: VerifyError) -> Result<(), VerifyError> {
        if recomputed == self.challenge {
            Ok(())
        } else {
            Err(error)
        }
    }

    /// Appends `c ‖ s`.
    pub(crate) fn encode(&self, out: &mut Encoder) {
        out.scalar(&self.challenge).scalar(&self.response);
    }

    /// Reads `c ‖ s`, refusing non-canonical scalars.
    pub(crate) fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            challenge: input.scalar()?,
            response: input.scalar()?,
        })
    }
}
