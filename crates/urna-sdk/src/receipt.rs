//! Receipts: what a voter keeps after casting or spoiling a ballot, and the checks that
//! the ballot is on the board unchanged, then and later.

use serde::{Deserialize, Serialize};
use urna_board::{Checkpoint, Entry, EntryKind, NoteVerifier, TreeHash};
use urna_crypto::encoding::Encoder;
use urna_crypto::short_tracking_code;
use urna_proto::v1 as proto;

use crate::board::{hashes, open_checkpoint, verify_inclusion};
use crate::error::VerifyFailure;

/// A receipt, as saved by the voter (JSON through serde; binary values in hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The election's manifest id.
    pub election_id: String,
    /// The 32-byte tracking code of the ballot.
    #[serde(with = "hex::serde")]
    pub tracking_code: [u8; 32],
    /// The tracking code in short human form.
    pub short_code: String,
    /// The board entry that records the ballot (its canonical envelope).
    #[serde(with = "hex::serde")]
    pub entry: Vec<u8>,
    /// The entry's index in the board's log.
    pub leaf_index: u64,
    /// The entry's inclusion proof in the checkpoint's tree.
    #[serde(with = "hex_list")]
    pub inclusion_proof: Vec<[u8; 32]>,
    /// The signed checkpoint (C2SP signed note) that includes the entry.
    pub checkpoint: String,
    /// Under `last-counts`: this ballot replaced an earlier one of the same credential.
    pub supersedes_previous: bool,
    /// The ballot was challenged and spoiled: published opened, never counted.
    pub spoiled: bool,
}

impl Receipt {
    /// A receipt from the wire; nothing is checked yet (see [`verify`](Self::verify)).
    pub fn from_proto(receipt: proto::Receipt) -> Result<Self, VerifyFailure> {
        let tracking_code = receipt
            .tracking_code
            .as_slice()
            .try_into()
            .map_err(|_| VerifyFailure::Receipt("malformed tracking code"))?;
        let entry = receipt.entry.ok_or(VerifyFailure::Receipt("no entry"))?;
        let proof = receipt.inclusion_proof.ok_or(VerifyFailure::Inclusion)?;
        if proof.leaf_index != entry.index {
            return Err(VerifyFailure::Inclusion);
        }
        Ok(Self {
            election_id: receipt.election_id,
            tracking_code,
            short_code: receipt.short_code,
            entry: entry.entry,
            leaf_index: entry.index,
            inclusion_proof: hashes(&proof.hashes)?
                .iter()
                .map(|h| *h.as_bytes())
                .collect(),
            checkpoint: crate::board::note(receipt.checkpoint)?,
            supersedes_previous: receipt.supersedes_previous,
            spoiled: receipt.spoiled,
        })
    }

    /// Checks the receipt on its own: the checkpoint is signed by `board`, the entry is
    /// included in it, the entry is a ballot (or spoiled ballot, as the receipt says) of
    /// the election `fingerprint`, and the codes are the ballot's. Returns the checkpoint.
    pub fn verify(
        &self,
        board: &NoteVerifier,
        fingerprint: &[u8; 32],
    ) -> Result<Checkpoint, VerifyFailure> {
        let signed = open_checkpoint(&self.checkpoint, board)?;
        verify_inclusion(
            signed.checkpoint(),
            &self.entry,
            self.leaf_index,
            &self.proof(),
        )?;
        let ballot = self.ballot_bytes(fingerprint)?;
        if tracking_code(ballot) != self.tracking_code {
            return Err(VerifyFailure::Receipt("tracking code is not the ballot's"));
        }
        if short_tracking_code(&self.tracking_code) != self.short_code {
            return Err(VerifyFailure::Receipt(
                "short code is not the tracking code's",
            ));
        }
        Ok(signed.checkpoint().clone())
    }

    /// Checks that the receipt is for exactly these ballot bytes.
    pub fn verify_ballot(
        &self,
        fingerprint: &[u8; 32],
        ballot: &[u8],
    ) -> Result<(), VerifyFailure> {
        if self.ballot_bytes(fingerprint)? == ballot {
            Ok(())
        } else {
            Err(VerifyFailure::Receipt("the entry is not this ballot"))
        }
    }

    /// The inclusion proof as tree hashes.
    pub fn proof(&self) -> Vec<TreeHash> {
        self.inclusion_proof
            .iter()
            .map(|h| TreeHash::from_bytes(*h))
            .collect()
    }

    /// The ballot's canonical bytes inside the entry: the whole body of a ballot entry,
    /// the first field of a spoiled-ballot entry (`lp(ballot) ‖ opening`).
    fn ballot_bytes<'a>(&'a self, fingerprint: &[u8; 32]) -> Result<&'a [u8], VerifyFailure> {
        let entry =
            Entry::decode(&self.entry).map_err(|_| VerifyFailure::Receipt("malformed entry"))?;
        let expected = if self.spoiled {
            EntryKind::SpoiledBallot
        } else {
            EntryKind::Ballot
        };
        if entry.kind() != expected || entry.election() != fingerprint {
            return Err(VerifyFailure::Receipt(
                "not a ballot entry of this election",
            ));
        }
        // The body is the envelope's suffix; locate it in our own bytes to borrow it.
        let body = &self.entry[self.entry.len() - entry.body().len()..];
        if !self.spoiled {
            return Ok(body);
        }
        let (len, rest) = body
            .split_first_chunk::<4>()
            .ok_or(VerifyFailure::Receipt("malformed spoiled ballot"))?;
        let len = usize::try_from(u32::from_be_bytes(*len))
            .map_err(|_| VerifyFailure::Receipt("malformed spoiled ballot"))?;
        rest.get(..len)
            .ok_or(VerifyFailure::Receipt("malformed spoiled ballot"))
    }
}

/// `SHA-256(lp("urna/v1/tracking-code") ‖ lp(ballot))`, as urna-crypto computes it.
fn tracking_code(ballot: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut enc = Encoder::new();
    enc.str("urna/v1/tracking-code").bytes(ballot);
    Sha256::digest(enc.as_slice()).into()
}

/// Serde for a list of 32-byte hashes as hex strings.
mod hex_list {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(hashes: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(hashes.iter().map(hex::encode))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|h| {
                let mut out = [0u8; 32];
                hex::decode_to_slice(h, &mut out).map_err(D::Error::custom)?;
                Ok(out)
            })
            .collect()
    }
}
