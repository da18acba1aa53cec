//! The election as the board publishes it: the manifest (entry 0) and the election's
//! public keys (entry 1), proven against a checkpoint signed by the board key.

use sha2::{Digest, Sha256};
use urna_board::{Entry, EntryKind, NoteVerifier, SignedCheckpoint, TreeHash};
use urna_crypto::encoding::Encoder;
use urna_election::ElectionKeys;

use crate::board::{open_checkpoint, verify_inclusion};
use crate::error::VerifyFailure;

/// The domain tag of the election fingerprint (docs/protocol.md §3.3).
const MANIFEST_TAG: &str = "urna/v1/manifest";

/// Which board key the client trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustRoot {
    /// The board key (a C2SP note verifier key string), obtained out of band or saved
    /// from an earlier visit: the board must use exactly this key.
    Pinned(String),
    /// Trust the key the board's key record names on first use; the caller should save
    /// [`Election::board_key`] and pin it next time.
    FirstUse,
}

/// A board entry with its position and inclusion proof, as fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenEntry {
    /// The entry's index in the log.
    pub index: u64,
    /// The canonical entry envelope.
    pub entry: Vec<u8>,
    /// Its inclusion proof in the checkpoint's tree.
    pub proof: Vec<TreeHash>,
}

/// An election whose manifest and keys were verified on its board.
#[derive(Debug, Clone)]
pub struct Election {
    id: String,
    fingerprint: [u8; 32],
    manifest: Vec<u8>,
    keys: ElectionKeys,
    board: NoteVerifier,
    checkpoint: SignedCheckpoint,
}

impl Election {
    /// Checks the board's genesis: `note` is a checkpoint signed by the trusted board
    /// key, `manifest` (entry 0) and `keys` (entry 1) are included in it, the manifest
    /// entry carries the fingerprint of its own body, the key record is for the same
    /// election and names the board key that signed the checkpoint.
    pub fn verify(
        id: &str,
        trust: &TrustRoot,
        note: &str,
        manifest: &ProvenEntry,
        keys: &ProvenEntry,
    ) -> Result<Self, VerifyFailure> {
        if manifest.index != 0 || keys.index != 1 {
            return Err(VerifyFailure::Genesis);
        }
        let manifest_entry = Entry::decode(&manifest.entry).map_err(|_| VerifyFailure::Genesis)?;
        let keys_entry = Entry::decode(&keys.entry).map_err(|_| VerifyFailure::Genesis)?;
        let fingerprint = fingerprint(manifest_entry.body());
        if manifest_entry.kind() != EntryKind::ElectionManifest
            || keys_entry.kind() != EntryKind::KeyCeremony
            || manifest_entry.election() != &fingerprint
            || keys_entry.election() != &fingerprint
        {
            return Err(VerifyFailure::Genesis);
        }
        let election_keys =
            ElectionKeys::decode(keys_entry.body()).map_err(|_| VerifyFailure::Genesis)?;
        let board_key = match trust {
            TrustRoot::Pinned(key) if *key != election_keys.board_key => {
                return Err(VerifyFailure::BoardKey);
            }
            TrustRoot::Pinned(key) => key,
            TrustRoot::FirstUse => &election_keys.board_key,
        };
        let board = NoteVerifier::parse(board_key).map_err(|_| VerifyFailure::BoardKey)?;
        let checkpoint = open_checkpoint(note, &board)?;
        for proven in [manifest, keys] {
            verify_inclusion(
                checkpoint.checkpoint(),
                &proven.entry,
                proven.index,
                &proven.proof,
            )?;
        }
        Ok(Self {
            id: id.to_owned(),
            fingerprint,
            manifest: manifest_entry.body().to_vec(),
            keys: election_keys,
            board,
            checkpoint,
        })
    }

    /// The election's manifest id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The election fingerprint, recomputed from the manifest on the board.
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// The canonical manifest bytes (the body of board entry 0).
    pub fn manifest(&self) -> &[u8] {
        &self.manifest
    }

    /// The election's public keys (the body of board entry 1).
    pub fn keys(&self) -> &ElectionKeys {
        &self.keys
    }

    /// The board key string (C2SP vkey): save it to pin it next time.
    pub fn board_key(&self) -> &str {
        &self.keys.board_key
    }

    /// The board's note verifier.
    pub fn board(&self) -> &NoteVerifier {
        &self.board
    }

    /// The checkpoint the genesis entries were verified against.
    pub fn checkpoint(&self) -> &SignedCheckpoint {
        &self.checkpoint
    }
}

/// `SHA-256(lp("urna/v1/manifest") ‖ manifest)`.
fn fingerprint(manifest: &[u8]) -> [u8; 32] {
    let mut tag = Encoder::new();
    tag.str(MANIFEST_TAG);
    let mut hash = Sha256::new();
    hash.update(tag.as_slice());
    hash.update(manifest);
    hash.finalize().into()
}
