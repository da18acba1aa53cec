//! The ceremony's results: the public threshold key and each trustee's secret share.

use core::fmt;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::scalar::Scalar;
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::DkgParameters;
use crate::elgamal::PublicKey;
use crate::encoding::{Decoder, Encoder, decode_scalar};
use crate::error::{DecodeError, VerifyError};
use crate::group::Element;

/// The public outcome of a ceremony: the election key `K` and the verification key
/// `Xⱼ = xⱼ·G` of every trustee `j = 1..=n`, which partial decryptions are checked
/// against.
///
/// Encoded as `parameters (election ‖ u32 k ‖ u32 n) ‖ K ‖ X₁ ‖ … ‖ Xₙ`; no element
/// may be the identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdPublicKey {
    params: DkgParameters,
    public_key: Element,
    verification_keys: Vec<Element>,
}

impl ThresholdPublicKey {
    pub(crate) fn new(
        params: DkgParameters,
        public_key: Element,
        verification_keys: Vec<Element>,
    ) -> Self {
        Self {
            params,
            public_key,
            verification_keys,
        }
    }

    /// The ceremony's parameters (election, `k`, `n`).
    pub fn parameters(&self) -> &DkgParameters {
        &self.params
    }

    /// `k`: how many partial decryptions suffice.
    pub fn threshold(&self) -> u32 {
        self.params.threshold()
    }

    /// The joint election key `K`, for encryption.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_element(self.public_key)
    }

    /// Trustee `j`'s verification key `Xⱼ`, if `j` is in `1..=n`.
    pub fn verification_key(&self, trustee: u32) -> Option<&Element> {
        let position = usize::try_from(trustee).ok()?.checked_sub(1)?;
        self.verification_keys.get(position)
    }

    /// Checks that a key share belongs to this key: `xⱼ·G = Xⱼ`.
    pub fn check_share(&self, share: &KeyShare) -> Result<(), VerifyError> {
        let expected = self
            .verification_key(share.index())
            .ok_or(VerifyError::Share)?;
        if Element::from_point(share.value() * RISTRETTO_BASEPOINT_TABLE) == *expected {
            Ok(())
        } else {
            Err(VerifyError::Share)
        }
    }

    /// Appends the canonical encoding.
    pub fn encode(&self, out: &mut Encoder) {
        self.params.encode(out);
        out.element(&self.public_key);
        for key in &self.verification_keys {
            out.element(key);
        }
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Encoder::new();
        self.encode(&mut out);
        out.finish()
    }

    /// Reads a key: valid parameters, then `1 + n` canonical non-identity elements.
    pub fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let params = DkgParameters::decode(input)?;
        let public_key = input.nonidentity_element()?;
        let verification_keys = (0..params.trustees())
            .map(|_| input.nonidentity_element())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(params, public_key, verification_keys))
    }

    /// Decodes exactly one key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut input = Decoder::new(bytes);
        let key = Self::decode(&mut input)?;
        input.finish()?;
        Ok(key)
    }
}

/// Trustee `j`'s secret share `xⱼ = Σ_{i∈Q} sᵢ,ⱼ` of the election secret. Any `k`
/// of them can decrypt; fewer learn nothing. Wiped when dropped.
///
/// Encoded (for the trustee's sealed storage) as `u32 j ‖ xⱼ` (36 bytes).
pub struct KeyShare {
    index: u32,
    value: Scalar,
}

impl KeyShare {
    /// Encoded length.
    pub const LEN: usize = 36;

    pub(crate) fn new(index: u32, value: Scalar) -> Self {
        Self { index, value }
    }

    /// The trustee index `j`.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The encoding for sealed storage; wiped when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; Self::LEN]> {
        let mut out = Zeroizing::new([0u8; Self::LEN]);
        out[..4].copy_from_slice(&self.index.to_be_bytes());
        out[4..].copy_from_slice(self.value.as_bytes());
        out
    }

    /// Restores a share from sealed storage; check it with
    /// [`ThresholdPublicKey::check_share`].
    pub fn from_bytes(bytes: &[u8; Self::LEN]) -> Result<Self, DecodeError> {
        let mut index = [0u8; 4];
        index.copy_from_slice(&bytes[..4]);
        let mut value = [0u8; 32];
        value.copy_from_slice(&bytes[4..]);
        let share = Self::new(u32::from_be_bytes(index), decode_scalar(&value)?);
        value.zeroize();
        Ok(share)
    }

    pub(crate) fn value(&self) -> &Scalar {
        &self.value
    }
}

impl ConstantTimeEq for KeyShare {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.index.ct_eq(&other.index) & self.value.ct_eq(&other.value)
    }
}

impl Drop for KeyShare {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

impl ZeroizeOnDrop for KeyShare {}

impl fmt::Debug for KeyShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyShare")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}
