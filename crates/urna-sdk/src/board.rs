//! Checks of what the bulletin board serves: signed checkpoints, inclusion and
//! consistency proofs.

use urna_board::{Checkpoint, NoteVerifier, SignedCheckpoint, TreeHash};
use urna_proto::v1 as proto;

use crate::error::VerifyFailure;

/// Opens a signed checkpoint: it must be signed by `board`, whose key name is the log's
/// origin.
pub(crate) fn open_checkpoint(
    note: &str,
    board: &NoteVerifier,
) -> Result<SignedCheckpoint, VerifyFailure> {
    SignedCheckpoint::open(note.as_bytes(), board.name(), std::slice::from_ref(board))
        .map_err(|_| VerifyFailure::Checkpoint)
}

/// The note of a checkpoint message, if there is one.
pub(crate) fn note(checkpoint: Option<proto::SignedCheckpoint>) -> Result<String, VerifyFailure> {
    checkpoint.map(|c| c.note).ok_or(VerifyFailure::Checkpoint)
}

/// Proof hashes from the wire: each exactly 32 bytes.
pub(crate) fn hashes(raw: &[Vec<u8>]) -> Result<Vec<TreeHash>, VerifyFailure> {
    raw.iter()
        .map(|h| TreeHash::from_slice(h).ok_or(VerifyFailure::Inclusion))
        .collect()
}

/// Checks that `entry` is leaf `index` of the tree `checkpoint` commits to.
pub(crate) fn verify_inclusion(
    checkpoint: &Checkpoint,
    entry: &[u8],
    index: u64,
    proof: &[TreeHash],
) -> Result<(), VerifyFailure> {
    checkpoint
        .verify_entry(entry, index, proof)
        .map_err(|_| VerifyFailure::Inclusion)
}

/// Checks an inclusion proof message for `entry` at `index` against `checkpoint`.
pub(crate) fn verify_inclusion_message(
    checkpoint: &Checkpoint,
    entry: &[u8],
    index: u64,
    proof: Option<proto::InclusionProof>,
) -> Result<Vec<TreeHash>, VerifyFailure> {
    let proof = proof.ok_or(VerifyFailure::Inclusion)?;
    if proof.leaf_index != index || proof.tree_size != checkpoint.size() {
        return Err(VerifyFailure::Inclusion);
    }
    let hashes = hashes(&proof.hashes)?;
    verify_inclusion(checkpoint, entry, index, &hashes)?;
    Ok(hashes)
}

/// Checks that `newer` extends `older` (same log, not smaller, consistent).
pub(crate) fn verify_consistency(
    older: &Checkpoint,
    newer: &Checkpoint,
    proof: Option<proto::ConsistencyProof>,
) -> Result<(), VerifyFailure> {
    let proof = proof.ok_or(VerifyFailure::Consistency)?;
    if proof.old_size != older.size() || proof.new_size != newer.size() {
        return Err(VerifyFailure::Consistency);
    }
    let hashes = hashes(&proof.hashes).map_err(|_| VerifyFailure::Consistency)?;
    older
        .verify_extended_by(newer, &hashes)
        .map_err(|_| VerifyFailure::Consistency)
}
