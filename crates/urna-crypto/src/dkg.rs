//! The threshold key ceremony: Pedersen's distributed key generation with Feldman
//! commitments, `k` of `n` trustees.
//!
//! Every trustee `i` (numbered `1..=n`) is a [`Dealer`]: it draws a random polynomial
//! `fᵢ(x) = aᵢ,₀ + aᵢ,₁x + … + aᵢ,ₖ₋₁xᵏ⁻¹`, publishes a [`Dealing`] (the commitments
//! `Cᵢ,ₘ = aᵢ,ₘ·G` and a Schnorr proof of knowledge of `aᵢ,₀`), and sends each trustee
//! `j` its [`SecretShare`] `sᵢ,ⱼ = fᵢ(j)` over a private channel (encrypting that
//! channel is the services' job). A recipient checks `sᵢ,ⱼ·G = Σₘ jᵐ·Cᵢ,ₘ`; on a bad
//! or missing share it publishes a [`Complaint`], and the dealer must answer with the
//! share in the clear ([`RevealedShare`]), which anyone can check. The [`Ceremony`]
//! is the public record of all of this; it disqualifies dealers whose proof fails,
//! whose revealed share fails or who leave a complaint unanswered, and yields the
//! [`ThresholdPublicKey`]: the election key `K = Σ_{i∈Q} Cᵢ,₀` over the qualified
//! dealers `Q`, and every trustee's verification key `Xⱼ = Σ_{i∈Q} Σₘ jᵐ·Cᵢ,ₘ`. Trustee
//! `j`'s [`KeyShare`] is `xⱼ = Σ_{i∈Q} sᵢ,ⱼ`, with `xⱼ·G = Xⱼ`.
//!
//! Everything here is a pure state machine over public records plus the trustees'
//! secrets: no I/O, so a service can run it as rounds over any transport, and a
//! verifier can replay the public records to recompute the key. Messages must be
//! authenticated by the transport: a forged dealing or reveal in a trustee's name is
//! indistinguishable here from a misbehaving trustee.

mod ceremony;
mod complaint;
mod dealer;
mod key;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;

pub use ceremony::{Ceremony, Disqualification, Phase};
pub use complaint::{Complaint, RevealedShare};
pub use dealer::{Dealer, Dealing, SecretShare};
pub use key::{KeyShare, ThresholdPublicKey};

use crate::encoding::{Decoder, Encoder};
use crate::error::{DecodeError, Error};
use crate::group::Element;
use crate::transcript::Context;

/// The largest number of trustees a ceremony supports.
pub const MAX_TRUSTEES: u32 = 1024;

/// The public parameters of one ceremony: the election it is for, the threshold `k`
/// and the number of trustees `n`.
///
/// Encoded as `election (32 bytes) ‖ u32 k ‖ u32 n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DkgParameters {
    election: [u8; 32],
    threshold: u32,
    trustees: u32,
}

impl DkgParameters {
    /// Encoded length.
    pub const LEN: usize = 40;

    /// Parameters for `threshold` of `trustees`; requires `1 ≤ k ≤ n ≤`
    /// [`MAX_TRUSTEES`].
    pub fn new(election: [u8; 32], threshold: u32, trustees: u32) -> Result<Self, Error> {
        if threshold == 0 || threshold > trustees || trustees > MAX_TRUSTEES {
            return Err(Error::Parameters(
                "threshold must satisfy 1 <= k <= n <= MAX_TRUSTEES",
            ));
        }
        Ok(Self {
            election,
            threshold,
            trustees,
        })
    }

    /// The election fingerprint.
    pub fn election(&self) -> &[u8; 32] {
        &self.election
    }

    /// `k`: how many trustees suffice to decrypt.
    pub fn threshold(&self) -> u32 {
        self.threshold
    }

    /// `n`: how many trustees take part.
    pub fn trustees(&self) -> u32 {
        self.trustees
    }

    /// Whether `index` names a trustee (`1..=n`).
    pub fn contains(&self, index: u32) -> bool {
        (1..=self.trustees).contains(&index)
    }

    /// The context of dealer `dealer`'s proof of knowledge, which binds the whole
    /// dealing: `Context::new("dkg").with(election).with_u64(k).with_u64(n)
    /// .with_u64(dealer).with(C₀ ‖ … ‖ Cₖ₋₁)`.
    pub fn proof_context(&self, dealer: u32, commitments: &[Element]) -> Context {
        let encoded: Vec<u8> = commitments
            .iter()
            .flat_map(|c| c.as_bytes().iter().copied())
            .collect();
        Context::new("dkg")
            .with(&self.election)
            .with_u64(self.threshold.into())
            .with_u64(self.trustees.into())
            .with_u64(dealer.into())
            .with(&encoded)
    }

    /// Appends `election ‖ u32 k ‖ u32 n`.
    pub fn encode(&self, out: &mut Encoder) {
        out.fixed(&self.election)
            .u32(self.threshold)
            .u32(self.trustees);
    }

    /// Reads parameters, refusing ones [`new`](Self::new) would refuse.
    pub fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let election = input.array()?;
        let threshold = input.u32()?;
        let trustees = input.u32()?;
        Self::new(election, threshold, trustees).map_err(|_| DecodeError::Length)
    }
}

/// `Σₘ xᵐ·Cₘ` for public commitments (variable time: everything here is public).
pub(crate) fn evaluate_commitments(
    commitments: impl ExactSizeIterator<Item = RistrettoPoint>,
    x: u32,
) -> RistrettoPoint {
    let x = Scalar::from(x);
    let mut power = Scalar::ONE;
    let powers: Vec<Scalar> = (0..commitments.len())
        .map(|_| {
            let current = power;
            power *= x;
            current
        })
        .collect();
    RistrettoPoint::vartime_multiscalar_mul(powers, commitments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_checked_and_round_trip() {
        assert!(DkgParameters::new([0; 32], 0, 3).is_err());
        assert!(DkgParameters::new([0; 32], 4, 3).is_err());
        assert!(DkgParameters::new([0; 32], 1, MAX_TRUSTEES + 1).is_err());
        let params = DkgParameters::new([5; 32], 2, 3).unwrap();
        assert!(params.contains(1) && params.contains(3));
        assert!(!params.contains(0) && !params.contains(4));
        let mut enc = Encoder::new();
        params.encode(&mut enc);
        let bytes = enc.finish();
        assert_eq!(bytes.len(), DkgParameters::LEN);
        let mut dec = Decoder::new(&bytes);
        assert_eq!(DkgParameters::decode(&mut dec).unwrap(), params);
        dec.finish().unwrap();
    }

    #[test]
    fn proof_contexts_differ_per_dealer_and_parameters() {
        let params = DkgParameters::new([5; 32], 2, 3).unwrap();
        let c = [Element::generator()];
        assert_ne!(params.proof_context(1, &c), params.proof_context(2, &c));
        assert_ne!(params.proof_context(1, &c), params.proof_context(1, &[]));
        let other = DkgParameters::new([5; 32], 3, 3).unwrap();
        assert_ne!(params.proof_context(1, &c), other.proof_context(1, &c));
    }
}
