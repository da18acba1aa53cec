//! The complaint path: a trustee accuses a dealer of a bad or missing share, and the
//! dealer answers by revealing that share publicly.

use curve25519_dalek::scalar::Scalar;

use crate::dkg::Dealing;
use crate::encoding::{Decoder, Encoder};
use crate::error::{DecodeError, VerifyError};

/// Trustee `accuser` says the share it got from `dealer` was missing or did not match
/// the dealer's commitments.
///
/// Encoded as `u32 accuser ‖ u32 dealer` (8 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Complaint {
    accuser: u32,
    dealer: u32,
}

impl Complaint {
    /// Encoded length.
    pub const LEN: usize = 8;

    /// A complaint by `accuser` against `dealer`.
    pub fn new(accuser: u32, dealer: u32) -> Self {
        Self { accuser, dealer }
    }

    /// The complaining trustee.
    pub fn accuser(&self) -> u32 {
        self.accuser
    }

    /// The accused dealer.
    pub fn dealer(&self) -> u32 {
        self.dealer
    }

    /// Appends `u32 accuser ‖ u32 dealer`.
    pub fn encode(&self, out: &mut Encoder) {
        out.u32(self.accuser).u32(self.dealer);
    }

    /// The 8-byte encoding.
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[..4].copy_from_slice(&self.accuser.to_be_bytes());
        out[4..].copy_from_slice(&self.dealer.to_be_bytes());
        out
    }

    /// Reads a complaint (indices are checked by the ceremony).
    pub fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            accuser: input.u32()?,
            dealer: input.u32()?,
        })
    }

    /// Decodes exactly one complaint.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut input = Decoder::new(bytes);
        let complaint = Self::decode(&mut input)?;
        input.finish()?;
        Ok(complaint)
    }
}

/// A dealer's public answer to a complaint: the share `s = f(recipient)` in the clear.
/// Anyone checks it against the dealer's commitments; the recipient then uses it.
///
/// Encoded as `u32 dealer ‖ u32 recipient ‖ s` (40 bytes; `s` canonical).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevealedShare {
    dealer: u32,
    recipient: u32,
    value: Scalar,
}

impl RevealedShare {
    /// Encoded length.
    pub const LEN: usize = 40;

    pub(crate) fn new(dealer: u32, recipient: u32, value: Scalar) -> Self {
        Self {
            dealer,
            recipient,
            value,
        }
    }

    /// The dealer revealing the share.
    pub fn dealer(&self) -> u32 {
        self.dealer
    }

    /// The trustee the share was for.
    pub fn recipient(&self) -> u32 {
        self.recipient
    }

    /// The revealed share value.
    pub fn value(&self) -> &Scalar {
        &self.value
    }

    /// Checks the share against the dealer's commitments.
    pub fn verify(&self, dealing: &Dealing) -> Result<(), VerifyError> {
        if dealing.dealer() != self.dealer {
            return Err(VerifyError::Share);
        }
        dealing.verify_share(self.recipient, &self.value)
    }

    /// Appends `u32 dealer ‖ u32 recipient ‖ s`.
    pub fn encode(&self, out: &mut Encoder) {
        out.u32(self.dealer).u32(self.recipient).scalar(&self.value);
    }

    /// The 40-byte encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Encoder::new();
        self.encode(&mut out);
        out.finish()
    }

    /// Reads a revealed share, refusing a non-canonical scalar.
    pub fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            dealer: input.u32()?,
            recipient: input.u32()?,
            value: input.scalar()?,
        })
    }

    /// Decodes exactly one revealed share.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut input = Decoder::new(bytes);
        let revealed = Self::decode(&mut input)?;
        input.finish()?;
        Ok(revealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_exactly() {
        let complaint = Complaint::new(3, 1);
        assert_eq!(complaint.to_bytes(), [0, 0, 0, 3, 0, 0, 0, 1]);
        assert_eq!(Complaint::from_bytes(&complaint.to_bytes()), Ok(complaint));
        assert_eq!(Complaint::from_bytes(&[0; 9]), Err(DecodeError::Trailing));

        let revealed = RevealedShare::new(1, 3, Scalar::from(99u8));
        let bytes = revealed.to_bytes();
        assert_eq!(bytes.len(), RevealedShare::LEN);
        assert_eq!(RevealedShare::from_bytes(&bytes), Ok(revealed));
        let mut bad = bytes.clone();
        bad[8..].copy_from_slice(&[0xff; 32]);
        assert_eq!(RevealedShare::from_bytes(&bad), Err(DecodeError::Scalar));
        assert_eq!(
            RevealedShare::from_bytes(&bytes[..39]),
            Err(DecodeError::Truncated)
        );
    }
}
