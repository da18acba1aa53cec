//! The `KeyCeremony` entries after the election keys record (docs/protocol.md §4.7):
//! `lp(tag) ‖ lp(u32be(trustee)) ‖ lp(payload) ‖ lp(signature)`.

use urna_crypto::DecodeError;
use urna_crypto::encoding::Decoder;

/// The largest field of a ceremony entry (an entry body is at most 64 KiB).
const MAX_FIELD: usize = u16::MAX as usize;

/// What a ceremony entry records, in the order the entries appear on the board.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CeremonyTag {
    /// `urna/v1/dkg/trustee`: a registered trustee's keys.
    Trustee,
    /// `urna/v1/dkg/dealing`: a dealer's signed dealing and sealed shares.
    Dealing,
    /// `urna/v1/dkg/complaint`: an accuser's signed complaint.
    Complaint,
    /// `urna/v1/dkg/reveal`: a dealer's signed answer to a complaint.
    Reveal,
    /// `urna/v1/dkg/threshold-key`: the ceremony's threshold public key.
    ThresholdKey,
}

impl CeremonyTag {
    /// The tag as written on the board.
    pub const fn as_str(self) -> &'static str {
        match self {
            CeremonyTag::Trustee => "urna/v1/dkg/trustee",
            CeremonyTag::Dealing => "urna/v1/dkg/dealing",
            CeremonyTag::Complaint => "urna/v1/dkg/complaint",
            CeremonyTag::Reveal => "urna/v1/dkg/reveal",
            CeremonyTag::ThresholdKey => "urna/v1/dkg/threshold-key",
        }
    }

    /// What the trustee signed the payload as (`urna/v1/trustee/<what>`), for the
    /// signed kinds.
    pub const fn signed_as(self) -> Option<&'static str> {
        match self {
            CeremonyTag::Dealing => Some("dealing"),
            CeremonyTag::Complaint => Some("complaint"),
            CeremonyTag::Reveal => Some("reveal"),
            CeremonyTag::Trustee | CeremonyTag::ThresholdKey => None,
        }
    }

    fn parse(tag: &str) -> Option<Self> {
        [
            CeremonyTag::Trustee,
            CeremonyTag::Dealing,
            CeremonyTag::Complaint,
            CeremonyTag::Reveal,
            CeremonyTag::ThresholdKey,
        ]
        .into_iter()
        .find(|t| t.as_str() == tag)
    }
}

/// One ceremony entry's body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CeremonyRecord<'a> {
    /// What it records.
    pub tag: CeremonyTag,
    /// The trustee (0 for the threshold key).
    pub trustee: u32,
    /// The record itself.
    pub payload: &'a [u8],
    /// The trustee's Ed25519 signature (empty for trustees and the threshold key).
    pub signature: &'a [u8],
}

impl<'a> CeremonyRecord<'a> {
    /// Decodes a body; an unknown tag, a trustee field that is not 4 bytes and
    /// trailing bytes are refused.
    ///
    /// # Errors
    /// [`DecodeError`] for anything but a ceremony record.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut dec = Decoder::new(body);
        let tag = CeremonyTag::parse(dec.str(MAX_FIELD)?).ok_or(DecodeError::Tag)?;
        let trustee: [u8; 4] = dec.bytes(4)?.try_into().map_err(|_| DecodeError::Length)?;
        let payload = dec.bytes(MAX_FIELD)?;
        let signature = dec.bytes(MAX_FIELD)?;
        dec.finish()?;
        Ok(Self {
            tag,
            trustee: u32::from_be_bytes(trustee),
            payload,
            signature,
        })
    }

    /// The canonical body.
    pub fn encode(&self) -> Vec<u8> {
        let mut enc = urna_crypto::encoding::Encoder::new();
        enc.str(self.tag.as_str())
            .bytes(&self.trustee.to_be_bytes())
            .bytes(self.payload)
            .bytes(self.signature);
        enc.finish()
    }

    /// A trustee record's payload: `lp(name) ‖ lp(Ed25519 key) ‖ lp(X25519 key)`;
    /// returns the name and the Ed25519 key.
    ///
    /// # Errors
    /// [`DecodeError`] if the payload has another shape.
    pub fn trustee_keys(&self) -> Result<(&'a str, [u8; 32]), DecodeError> {
        let mut dec = Decoder::new(self.payload);
        let name = dec.str(MAX_FIELD)?;
        let signing = dec.bytes(32)?.try_into().map_err(|_| DecodeError::Length)?;
        let encryption: Result<[u8; 32], _> = dec.bytes(32)?.try_into();
        encryption.map_err(|_| DecodeError::Length)?;
        dec.finish()?;
        Ok((name, signing))
    }

    /// A dealing record's payload: `lp(dealing)` then `lp(u32be(j)) ‖ lp(sealed share)`
    /// for j = 1..n; returns the dealing and the number of sealed shares, which must
    /// name the recipients 1, 2, … in order.
    ///
    /// # Errors
    /// [`DecodeError`] if the payload has another shape.
    pub fn dealing(&self) -> Result<(&'a [u8], u32), DecodeError> {
        let mut dec = Decoder::new(self.payload);
        let dealing = dec.bytes(MAX_FIELD)?;
        let mut shares = 0u32;
        while !dec.is_empty() {
            let recipient = dec.bytes(4)?;
            shares += 1;
            if recipient != shares.to_be_bytes() {
                return Err(DecodeError::Tag);
            }
            dec.bytes(MAX_FIELD)?;
        }
        Ok((dealing, shares))
    }
}

/// The bytes a trustee signs (tally.proto's header): `lp("urna/v1/trustee/" ‖ what)
/// ‖ lp(election fingerprint) ‖ lp(u32be(index)) ‖ lp(payload)`.
pub fn signed_message(election: &[u8; 32], index: u32, what: &str, payload: &[u8]) -> Vec<u8> {
    let mut enc = urna_crypto::encoding::Encoder::new();
    enc.str(&format!("urna/v1/trustee/{what}"))
        .bytes(election)
        .bytes(&index.to_be_bytes())
        .bytes(payload);
    enc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_refuse_unknown_tags_and_trailing_bytes() {
        let record = CeremonyRecord {
            tag: CeremonyTag::Complaint,
            trustee: 3,
            payload: &[0, 0, 0, 3, 0, 0, 0, 1],
            signature: &[9; 64],
        };
        let bytes = record.encode();
        assert_eq!(CeremonyRecord::decode(&bytes).unwrap(), record);
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(CeremonyRecord::decode(&trailing).is_err());
        let mut other = bytes.clone();
        other[4..8].copy_from_slice(b"URNA");
        assert_eq!(CeremonyRecord::decode(&other), Err(DecodeError::Tag));
    }

    #[test]
    fn the_signed_message_is_length_prefixed_fields() {
        let message = signed_message(&[1; 32], 2, "reveal", b"xy");
        let mut expected = vec![0, 0, 0, 22];
        expected.extend_from_slice(b"urna/v1/trustee/reveal");
        expected.extend_from_slice(&[0, 0, 0, 32]);
        expected.extend_from_slice(&[1; 32]);
        expected.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 2]);
        expected.extend_from_slice(b"xy");
        assert_eq!(message, expected);
    }

    #[test]
    fn dealing_payloads_name_recipients_in_order() {
        let payload = |recipients: &[u32]| {
            let mut enc = urna_crypto::encoding::Encoder::new();
            enc.bytes(b"dealing");
            for j in recipients {
                enc.bytes(&j.to_be_bytes()).bytes(&[7; 88]);
            }
            enc.finish()
        };
        let good = payload(&[1, 2, 3]);
        let record = |payload| CeremonyRecord {
            tag: CeremonyTag::Dealing,
            trustee: 1,
            payload,
            signature: &[],
        };
        assert_eq!(record(&good).dealing().unwrap(), (&b"dealing"[..], 3));
        assert!(record(&payload(&[2, 1, 3])).dealing().is_err());
    }
}
