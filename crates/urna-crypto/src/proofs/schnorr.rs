//! Schnorr proof of knowledge of `x` such that `X = x·G`.
//!
//! Prover: `k ← random`, `R = k·G`, `c = H("urna/v1/schnorr", ctx, X, R)`, `s = k + c·x`.
//! The proof is `(c, s)`; the verifier recomputes `R = s·G − c·X` and checks `c`.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use zeroize::Zeroize;

use crate::encoding::{Decoder, Encoder};
use crate::error::{DecodeError, VerifyError};
use crate::group::Element;
use crate::proofs::compact::Compact;
use crate::transcript::{Context, Transcript};

const TAG: &str = "urna/v1/schnorr";

/// A Schnorr proof of knowledge, `(c, s)`: 64 bytes encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchnorrProof(Compact);

impl SchnorrProof {
    /// Proves knowledge of `secret` for `public = secret·G` under `context`.
    pub fn prove<R: CryptoRng + ?Sized>(
        secret: &Scalar,
        public: &Element,
        context: &Context,
        rng: &mut R,
    ) -> Self {
        let mut k = Scalar::random(rng);
        let commitment = Element::from_point(&k * RISTRETTO_BASEPOINT_TABLE);
        let challenge = challenge(public, &commitment, context);
        let response = k + challenge * secret;
        k.zeroize();
        Self(Compact {
            challenge,
            response,
        })
    }

    /// Checks the proof for `public` under `context`.
    pub fn verify(&self, public: &Element, context: &Context) -> Result<(), VerifyError> {
        let commitment = RistrettoPoint::vartime_double_scalar_mul_basepoint(
            &-self.0.challenge,
            public.point(),
            &self.0.response,
        );
        let recomputed = challenge(public, &Element::from_point(commitment), context);
        self.0.check(recomputed, VerifyError::Schnorr)
    }

    /// Appends `c ‖ s`.
    pub fn encode(&self, out: &mut Encoder) {
        self.0.encode(out);
    }

    /// Reads `c ‖ s`, refusing non-canonical scalars.
    pub fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Compact::decode(input).map(Self)
    }
}

fn challenge(public: &Element, commitment: &Element, context: &Context) -> Scalar {
    Transcript::new(TAG)
        .context(context)
        .element(public)
        .element(commitment)
        .challenge()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::ChaCha20Rng;

    #[test]
    fn proves_and_rejects_other_keys_and_contexts() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let x = Scalar::random(&mut rng);
        let public = Element::from_point(&x * RISTRETTO_BASEPOINT_TABLE);
        let context = Context::new("test").with(b"one");
        let proof = SchnorrProof::prove(&x, &public, &context, &mut rng);
        proof.verify(&public, &context).unwrap();
        assert_eq!(
            proof.verify(&public, &Context::new("test").with(b"two")),
            Err(VerifyError::Schnorr)
        );
        assert_eq!(
            proof.verify(&Element::generator(), &context),
            Err(VerifyError::Schnorr)
        );
    }
}
