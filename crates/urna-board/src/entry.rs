//! Typed, canonically encoded board entries.
//!
//! An entry is an envelope: `version (u8) ‖ kind (u8) ‖ election fingerprint (32 bytes)
//! ‖ body (u32 length ‖ bytes)`, in urna-crypto's canonical encoding. The board defines
//! the envelope and the kinds; each body is the canonical encoding owned by the crate
//! that produces it (urna-election, urna-crypto, the services), carried here as opaque
//! bytes. The leaf hash of an entry is `SHA-256(0x00 ‖ envelope)`.

use urna_crypto::encoding::{Decoder, Encoder};

use crate::error::EntryError;
use crate::hash::TreeHash;

/// The only envelope version this implementation writes and reads.
pub const ENTRY_VERSION: u8 = 1;

/// The largest encoded entry: C2SP entry bundles prefix each entry with a `u16` length.
pub const MAX_ENTRY_LEN: usize = u16::MAX as usize;

/// Bytes of the envelope around the body: version, kind, fingerprint, body length.
pub const ENVELOPE_OVERHEAD: usize = 1 + 1 + 32 + 4;

/// What an entry records. The discriminant is the kind byte on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
#[non_exhaustive]
pub enum EntryKind {
    /// The election manifest (contests, options, rules, trustees, key parameters).
    ElectionManifest = 1,
    /// A record of the key ceremony (a trustee's commitments, shares' proofs, complaints).
    KeyCeremony = 2,
    /// A cast ballot.
    Ballot = 3,
    /// A ballot challenged by its voter (Benaloh) and opened: never counted.
    SpoiledBallot = 4,
    /// The statement that polls are closed: no ballot after it counts.
    PollsClosed = 5,
    /// The aggregated (homomorphic) tally of the counted ballots.
    TallyRecord = 6,
    /// A trustee's partial decryption with its proof.
    DecryptionShare = 7,
    /// A mix-net shuffle with its proof.
    ShuffleRecord = 8,
    /// The decrypted result.
    Result = 9,
}

impl EntryKind {
    /// Every kind, in wire order.
    pub const ALL: [EntryKind; 9] = [
        EntryKind::ElectionManifest,
        EntryKind::KeyCeremony,
        EntryKind::Ballot,
        EntryKind::SpoiledBallot,
        EntryKind::PollsClosed,
        EntryKind::TallyRecord,
        EntryKind::DecryptionShare,
        EntryKind::ShuffleRecord,
        EntryKind::Result,
    ];

    /// The kind byte.
    pub const fn to_byte(self) -> u8 {
        self as u8
    }

    /// The kind for a byte; unknown bytes are an error.
    pub fn from_byte(byte: u8) -> Result<Self, EntryError> {
        Self::ALL
            .into_iter()
            .find(|k| k.to_byte() == byte)
            .ok_or(EntryError::UnknownKind(byte))
    }
}

/// One entry of an election's board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    kind: EntryKind,
    election: [u8; 32],
    body: Vec<u8>,
}

impl Entry {
    /// An entry of `kind` for the election with fingerprint `election`, whose body is
    /// the producer's canonical encoding. Fails if the encoded entry would not fit in
    /// an entry bundle.
    pub fn new(kind: EntryKind, election: [u8; 32], body: Vec<u8>) -> Result<Self, EntryError> {
        let len = ENVELOPE_OVERHEAD + body.len();
        if len > MAX_ENTRY_LEN {
            return Err(EntryError::TooLarge(len));
        }
        Ok(Self {
            kind,
            election,
            body,
        })
    }

    /// What the entry records.
    pub fn kind(&self) -> EntryKind {
        self.kind
    }

    /// The fingerprint of the election the entry belongs to.
    pub fn election(&self) -> &[u8; 32] {
        &self.election
    }

    /// The body: canonical bytes owned by the entry's producer.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The canonical encoding: the bytes that are logged and leaf-hashed.
    pub fn encode(&self) -> Vec<u8> {
        let mut enc = Encoder::new();
        enc.u8(ENTRY_VERSION)
            .u8(self.kind.to_byte())
            .fixed(&self.election)
            .bytes(&self.body);
        enc.finish()
    }

    /// Decodes an entry, refusing unknown versions and kinds, truncation, trailing
    /// bytes and anything longer than [`MAX_ENTRY_LEN`].
    pub fn decode(bytes: &[u8]) -> Result<Self, EntryError> {
        if bytes.len() > MAX_ENTRY_LEN {
            return Err(EntryError::TooLarge(bytes.len()));
        }
        let mut dec = Decoder::new(bytes);
        let version = dec.u8().map_err(EntryError::Malformed)?;
        if version != ENTRY_VERSION {
            return Err(EntryError::UnknownVersion(version));
        }
        let kind = EntryKind::from_byte(dec.u8().map_err(EntryError::Malformed)?)?;
        let election = dec.array::<32>().map_err(EntryError::Malformed)?;
        let body = dec
            .bytes(MAX_ENTRY_LEN - ENVELOPE_OVERHEAD)
            .map_err(EntryError::Malformed)?
            .to_vec();
        dec.finish().map_err(EntryError::Malformed)?;
        Ok(Self {
            kind,
            election,
            body,
        })
    }

    /// The RFC 6962 leaf hash of the encoding.
    pub fn leaf_hash(&self) -> TreeHash {
        TreeHash::leaf(&self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use urna_crypto::DecodeError;

    fn sample() -> Entry {
        Entry::new(EntryKind::Ballot, [7; 32], b"ballot".to_vec()).unwrap()
    }

    #[test]
    fn encoding_is_the_documented_envelope() {
        let bytes = sample().encode();
        let mut want = vec![1, 3];
        want.extend_from_slice(&[7; 32]);
        want.extend_from_slice(&[0, 0, 0, 6]);
        want.extend_from_slice(b"ballot");
        assert_eq!(bytes, want);
        assert_eq!(Entry::decode(&bytes).unwrap(), sample());
        assert_eq!(sample().leaf_hash(), TreeHash::leaf(&want));
    }

    #[test]
    fn every_kind_round_trips_and_kind_bytes_are_stable() {
        for (i, kind) in EntryKind::ALL.into_iter().enumerate() {
            assert_eq!(kind.to_byte() as usize, i + 1);
            let e = Entry::new(kind, [1; 32], vec![i as u8; i]).unwrap();
            assert_eq!(Entry::decode(&e.encode()).unwrap(), e);
        }
    }

    #[test]
    fn unknown_versions_and_kinds_are_refused() {
        let mut bytes = sample().encode();
        bytes[0] = 2;
        assert_eq!(Entry::decode(&bytes), Err(EntryError::UnknownVersion(2)));
        bytes[0] = 0;
        assert_eq!(Entry::decode(&bytes), Err(EntryError::UnknownVersion(0)));
        for kind in [0u8, 10, 255] {
            let mut bytes = sample().encode();
            bytes[1] = kind;
            assert_eq!(Entry::decode(&bytes), Err(EntryError::UnknownKind(kind)));
        }
    }

    #[test]
    fn truncated_trailing_and_oversized_entries_are_refused() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert!(Entry::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            Entry::decode(&long),
            Err(EntryError::Malformed(DecodeError::Trailing))
        );
        let max_body = MAX_ENTRY_LEN - ENVELOPE_OVERHEAD;
        let e = Entry::new(EntryKind::Result, [0; 32], vec![0; max_body]).unwrap();
        assert_eq!(e.encode().len(), MAX_ENTRY_LEN);
        assert_eq!(Entry::decode(&e.encode()).unwrap(), e);
        assert_eq!(
            Entry::new(EntryKind::Result, [0; 32], vec![0; max_body + 1]),
            Err(EntryError::TooLarge(MAX_ENTRY_LEN + 1))
        );
    }
}
