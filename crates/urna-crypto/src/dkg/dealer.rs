//! One trustee's part as a dealer: its secret polynomial, its public dealing and the
//! private shares it sends.

use core::fmt;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{DkgParameters, MAX_TRUSTEES, evaluate_commitments};
use crate::dkg::{Complaint, RevealedShare};
use crate::encoding::{Decoder, Encoder, decode_scalar};
use crate::error::{DecodeError, Error, VerifyError};
use crate::group::Element;
use crate::proofs::schnorr::SchnorrProof;

/// A trustee's secret polynomial `f(x) = a₀ + a₁x + … + aₖ₋₁xᵏ⁻¹` and the dealing
/// that commits to it. Wiped when dropped.
pub struct Dealer {
    params: DkgParameters,
    index: u32,
    coefficients: Vec<Scalar>,
    dealing: Dealing,
}

impl Dealer {
    /// Trustee `index` (`1..=n`) draws its polynomial and proves knowledge of `a₀`.
    pub fn new<R: CryptoRng + ?Sized>(
        params: &DkgParameters,
        index: u32,
        rng: &mut R,
    ) -> Result<Self, Error> {
        if !params.contains(index) {
            return Err(Error::Parameters("dealer index outside 1..=n"));
        }
        let coefficients: Vec<Scalar> = (0..params.threshold())
            .map(|_| nonzero_scalar(rng))
            .collect();
        let commitments: Vec<Element> = coefficients
            .iter()
            .map(|a| Element::from_point(a * RISTRETTO_BASEPOINT_TABLE))
            .collect();
        let proof = SchnorrProof::prove(
            &coefficients[0],
            &commitments[0],
            &params.proof_context(index, &commitments),
            rng,
        );
        Ok(Self {
            params: *params,
            index,
            coefficients,
            dealing: Dealing {
                dealer: index,
                commitments,
                proof,
            },
        })
    }

    /// This dealer's trustee index.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The public dealing, to publish on the board.
    pub fn dealing(&self) -> &Dealing {
        &self.dealing
    }

    /// The private share `f(recipient)` for trustee `recipient` (including itself).
    pub fn share_for(&self, recipient: u32) -> Result<SecretShare, Error> {
        if !self.params.contains(recipient) {
            return Err(Error::Parameters("recipient index outside 1..=n"));
        }
        Ok(SecretShare {
            dealer: self.index,
            recipient,
            value: self.evaluate(recipient),
        })
    }

    /// Answers a complaint against this dealer by revealing the complainant's share.
    pub fn reveal(&self, complaint: &Complaint) -> Result<RevealedShare, Error> {
        if complaint.dealer() != self.index || !self.params.contains(complaint.accuser()) {
            return Err(Error::Parameters("complaint is not against this dealer"));
        }
        Ok(RevealedShare::new(
            self.index,
            complaint.accuser(),
            self.evaluate(complaint.accuser()),
        ))
    }

    /// Horner's rule in constant time: `f(x)`.
    fn evaluate(&self, x: u32) -> Scalar {
        let x = Scalar::from(x);
        self.coefficients
            .iter()
            .rev()
            .fold(Scalar::ZERO, |acc, a| acc * x + a)
    }
}

/// A uniformly random non-zero scalar (zero has probability 2⁻²⁵², but a zero
/// coefficient would make the dealing undecodable).
fn nonzero_scalar<R: CryptoRng + ?Sized>(rng: &mut R) -> Scalar {
    loop {
        let scalar = Scalar::random(rng);
        if scalar != Scalar::ZERO {
            return scalar;
        }
    }
}

impl Drop for Dealer {
    fn drop(&mut self) {
        self.coefficients.zeroize();
    }
}

impl ZeroizeOnDrop for Dealer {}

impl fmt::Debug for Dealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dealer")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// A dealer's public record: the Feldman commitments `Cₘ = aₘ·G` (`m = 0..k`) and a
/// Schnorr proof of knowledge of `a₀` under
/// [`DkgParameters::proof_context`]`(dealer, commitments)`, so the proof covers every
/// commitment.
///
/// Encoded as `u32 dealer ‖ u32 k ‖ C₀ ‖ … ‖ Cₖ₋₁ ‖ proof (c ‖ s)`; no commitment may be
/// the identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dealing {
    dealer: u32,
    commitments: Vec<Element>,
    proof: SchnorrProof,
}

impl Dealing {
    /// The dealer's trustee index.
    pub fn dealer(&self) -> u32 {
        self.dealer
    }

    /// The commitments `C₀ … Cₖ₋₁`.
    pub fn commitments(&self) -> &[Element] {
        &self.commitments
    }

    /// The proof of knowledge of `a₀`.
    pub fn proof(&self) -> &SchnorrProof {
        &self.proof
    }

    /// Checks the dealing's shape against the parameters and its proof of knowledge.
    pub fn verify(&self, params: &DkgParameters) -> Result<(), VerifyError> {
        if !params.contains(self.dealer) || self.commitments.len() != params.threshold() as usize {
            return Err(VerifyError::Shape);
        }
        self.proof.verify(
            &self.commitments[0],
            &params.proof_context(self.dealer, &self.commitments),
        )
    }

    /// Checks a share from this dealer: `s·G = Σₘ jᵐ·Cₘ` for recipient `j`.
    pub fn verify_share(&self, recipient: u32, value: &Scalar) -> Result<(), VerifyError> {
        let expected = evaluate_commitments(self.commitments.iter().map(|c| *c.point()), recipient);
        if value * RISTRETTO_BASEPOINT_TABLE == expected {
            Ok(())
        } else {
            Err(VerifyError::Share)
        }
    }

    /// Appends the canonical encoding.
    pub fn encode(&self, out: &mut Encoder) {
        out.u32(self.dealer).len(self.commitments.len());
        for commitment in &self.commitments {
            out.element(commitment);
        }
        self.proof.encode(out);
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Encoder::new();
        self.encode(&mut out);
        out.finish()
    }

    /// Reads a dealing: canonical, non-identity commitments, at least one and at most
    /// [`MAX_TRUSTEES`].
    pub fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let dealer = input.u32()?;
        let count = input.len(MAX_TRUSTEES as usize)?;
        if count == 0 {
            return Err(DecodeError::Length);
        }
        let commitments = (0..count)
            .map(|_| input.nonidentity_element())
            .collect::<Result<Vec<_>, _>>()?;
        let proof = SchnorrProof::decode(input)?;
        Ok(Self {
            dealer,
            commitments,
            proof,
        })
    }

    /// Decodes exactly one dealing from `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut input = Decoder::new(bytes);
        let dealing = Self::decode(&mut input)?;
        input.finish()?;
        Ok(dealing)
    }
}

/// A private share `sᵢ,ⱼ = fᵢ(j)` from dealer `i` to recipient `j`. Secret: it travels
/// only over an encrypted channel to `j`.
///
/// Encoded (for that channel) as `u32 dealer ‖ u32 recipient ‖ s` (40 bytes).
pub struct SecretShare {
    dealer: u32,
    recipient: u32,
    value: Scalar,
}

impl SecretShare {
    /// Encoded length.
    pub const LEN: usize = 40;

    /// The dealer `i`.
    pub fn dealer(&self) -> u32 {
        self.dealer
    }

    /// The recipient `j`.
    pub fn recipient(&self) -> u32 {
        self.recipient
    }

    /// Checks the share against its dealer's commitments.
    pub fn verify(&self, dealing: &Dealing) -> Result<(), VerifyError> {
        if dealing.dealer() != self.dealer {
            return Err(VerifyError::Share);
        }
        dealing.verify_share(self.recipient, &self.value)
    }

    /// The encoding for the private channel; wiped when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; Self::LEN]> {
        let mut out = Zeroizing::new([0u8; Self::LEN]);
        out[..4].copy_from_slice(&self.dealer.to_be_bytes());
        out[4..8].copy_from_slice(&self.recipient.to_be_bytes());
        out[8..].copy_from_slice(self.value.as_bytes());
        out
    }

    /// Decodes a share received over the private channel (canonical scalar).
    pub fn from_bytes(bytes: &[u8; Self::LEN]) -> Result<Self, DecodeError> {
        let mut dealer = [0u8; 4];
        dealer.copy_from_slice(&bytes[..4]);
        let mut recipient = [0u8; 4];
        recipient.copy_from_slice(&bytes[4..8]);
        let mut value = [0u8; 32];
        value.copy_from_slice(&bytes[8..]);
        let share = Self {
            dealer: u32::from_be_bytes(dealer),
            recipient: u32::from_be_bytes(recipient),
            value: decode_scalar(&value)?,
        };
        value.zeroize();
        Ok(share)
    }

    pub(crate) fn value(&self) -> &Scalar {
        &self.value
    }
}

impl ConstantTimeEq for SecretShare {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.dealer.ct_eq(&other.dealer)
            & self.recipient.ct_eq(&other.recipient)
            & self.value.ct_eq(&other.value)
    }
}

impl Drop for SecretShare {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

impl ZeroizeOnDrop for SecretShare {}

impl fmt::Debug for SecretShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretShare")
            .field("dealer", &self.dealer)
            .field("recipient", &self.recipient)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::ChaCha20Rng;

    #[test]
    fn shares_match_commitments_and_interpolate_to_a0() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let params = DkgParameters::new([1; 32], 3, 5).unwrap();
        let dealer = Dealer::new(&params, 2, &mut rng).unwrap();
        dealer.dealing().verify(&params).unwrap();
        for j in 1..=5 {
            dealer
                .share_for(j)
                .unwrap()
                .verify(dealer.dealing())
                .unwrap();
        }
        // f(0) = a0, whose commitment is C0: interpolate f(1), f(2), f(3) at 0.
        let f = |j| *dealer.share_for(j).unwrap().value();
        let a0 = f(1) * Scalar::from(3u8) - f(2) * Scalar::from(3u8) + f(3);
        assert_eq!(
            Element::from_point(&a0 * RISTRETTO_BASEPOINT_TABLE),
            dealer.dealing().commitments()[0]
        );
        assert!(dealer.share_for(0).is_err());
        assert!(dealer.share_for(6).is_err());
    }

    #[test]
    fn secret_share_round_trips_and_is_redacted() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let params = DkgParameters::new([1; 32], 2, 3).unwrap();
        let dealer = Dealer::new(&params, 1, &mut rng).unwrap();
        let share = dealer.share_for(3).unwrap();
        let back = SecretShare::from_bytes(&share.to_bytes()).unwrap();
        assert!(bool::from(share.ct_eq(&back)));
        assert_eq!(
            format!("{share:?}"),
            "SecretShare { dealer: 1, recipient: 3, .. }"
        );
        assert_eq!(format!("{dealer:?}"), "Dealer { index: 1, .. }");
        let mut bytes = *share.to_bytes();
        bytes[8..].copy_from_slice(&[0xff; 32]);
        assert_eq!(
            SecretShare::from_bytes(&bytes).map(|_| ()),
            Err(DecodeError::Scalar)
        );
    }
}
