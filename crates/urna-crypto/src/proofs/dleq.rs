//! Chaum–Pedersen proof that `log_{g1} h1 = log_{g2} h2`.
//!
//! Prover knowing `x` with `h1 = x·g1`, `h2 = x·g2`: `k ← random`, `a1 = k·g1`,
//! `a2 = k·g2`, `c = H("urna/v1/dleq", ctx, g1, h1, g2, h2, a1, a2)`, `s = k + c·x`.
//! The proof is `(c, s)`; the verifier recomputes `a1 = s·g1 − c·h1`, `a2 = s·g2 − c·h2`.

use curve25519_dalek::constants::{RISTRETTO_BASEPOINT_COMPRESSED, RISTRETTO_BASEPOINT_TABLE};
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use rand_core::CryptoRng;
use zeroize::Zeroize;

use crate::encoding::{Decoder, Encoder};
use crate::error::{DecodeError, VerifyError};
use crate::group::Element;
use crate::proofs::compact::Compact;
use crate::transcript::{Context, Transcript};

const TAG: &str = "urna/v1/dleq";

/// The statement of a DLEQ proof: two bases and their images under one secret.
struct Statement<'a> {
    g1: &'a Element,
    h1: &'a Element,
    g2: &'a Element,
    h2: &'a Element,
}

/// A Chaum–Pedersen proof, `(c, s)`: 64 bytes encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DleqProof(Compact);

impl DleqProof {
    /// Proves that `h1 = x·g1` and `h2 = x·g2` for the same `x`.
    pub fn prove<R: CryptoRng + ?Sized>(
        x: &Scalar,
        g1: &Element,
        h1: &Element,
        g2: &Element,
        h2: &Element,
        context: &Context,
        rng: &mut R,
    ) -> Self {
        let statement = Statement { g1, h1, g2, h2 };
        let mut k = Scalar::random(rng);
        // With the standard generator as first base (partial decryptions), the
        // precomputed table is several times faster than a general multiplication.
        let a1 = if g1.as_bytes() == RISTRETTO_BASEPOINT_COMPRESSED.as_bytes() {
            Element::from_point(&k * RISTRETTO_BASEPOINT_TABLE)
        } else {
            Element::from_point(k * g1.point())
        };
        let a2 = Element::from_point(k * g2.point());
        let challenge = challenge(&statement, &a1, &a2, context);
        let response = k + challenge * x;
        k.zeroize();
        Self(Compact {
            challenge,
            response,
        })
    }

    /// Checks the proof for `h1 = x·g1`, `h2 = x·g2` under `context`.
    pub fn verify(
        &self,
        g1: &Element,
        h1: &Element,
        g2: &Element,
        h2: &Element,
        context: &Context,
    ) -> Result<(), VerifyError> {
        let statement = Statement { g1, h1, g2, h2 };
        let minus_c = -self.0.challenge;
        let a1 = RistrettoPoint::vartime_multiscalar_mul(
            [self.0.response, minus_c],
            [g1.point(), h1.point()],
        );
        let a2 = RistrettoPoint::vartime_multiscalar_mul(
            [self.0.response, minus_c],
            [g2.point(), h2.point()],
        );
        let expected = challenge(
            &statement,
            &Element::from_point(a1),
            &Element::from_point(a2),
            context,
        );
        self.0.check(expected, VerifyError::Dleq)
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

fn challenge(s: &Statement<'_>, a1: &Element, a2: &Element, context: &Context) -> Scalar {
    Transcript::new(TAG)
        .context(context)
        .element(s.g1)
        .element(s.h1)
        .element(s.g2)
        .element(s.h2)
        .element(a1)
        .element(a2)
        .challenge()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::ChaCha20Rng;

    #[test]
    fn proves_equality_and_rejects_inequality() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let x = Scalar::random(&mut rng);
        let g1 = Element::generator();
        let g2 = Element::from_point(RistrettoPoint::random(&mut rng));
        let h1 = Element::from_point(x * g1.point());
        let h2 = Element::from_point(x * g2.point());
        let context = Context::new("test");
        let proof = DleqProof::prove(&x, &g1, &h1, &g2, &h2, &context, &mut rng);
        proof.verify(&g1, &h1, &g2, &h2, &context).unwrap();
        let other = Element::from_point(Scalar::from(2u8) * h2.point());
        assert_eq!(
            proof.verify(&g1, &h1, &g2, &other, &context),
            Err(VerifyError::Dleq)
        );
        assert_eq!(
            proof.verify(&g1, &h1, &g2, &h2, &Context::new("other")),
            Err(VerifyError::Dleq)
        );
    }
}
