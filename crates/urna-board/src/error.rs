//! The crate's error type: one enum, with nested causes per concern.

use thiserror::Error;

/// Everything that can go wrong in urna-board.
///
/// Verification failures say which check failed, for a verifier's report; a network
/// service must map them to one fixed message rather than echo them to clients.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// A Merkle proof did not verify, or could not be built for the arguments given.
    #[error("proof: {0}")]
    Proof(#[from] ProofError),
    /// An entry that does not decode, or cannot be encoded.
    #[error("entry: {0}")]
    Entry(#[from] EntryError),
    /// A signed note or checkpoint that is malformed or not validly signed.
    #[error("note: {0}")]
    Note(#[from] NoteError),
    /// The storage backend failed or holds inconsistent data.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A tile or entry bundle path that is malformed, or names a tile the tree does not have.
    #[error("tile: {0}")]
    Tile(&'static str),
    /// The sequencer has stopped (after a shutdown or a storage failure).
    #[error("the sequencer has stopped")]
    SequencerStopped,
    /// The sequencer's queue is full: back-pressure, try again later.
    #[error("the sequencer queue is full")]
    QueueFull,
}

/// Why a Merkle proof was refused or could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The tree sizes are not in order (first ≤ second ≤ current).
    #[error("tree sizes out of order: {first} and {second}")]
    SizesOutOfOrder {
        /// The smaller (older) size.
        first: u64,
        /// The larger (newer) size.
        second: u64,
    },
    /// The proof has the wrong number of hashes for the index and sizes.
    #[error("proof has the wrong length")]
    WrongLength,
    /// The proof does not lead to the expected root.
    #[error("proof does not match the root")]
    RootMismatch,
}

/// Why an entry was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EntryError {
    /// An envelope version this implementation does not know.
    #[error("unknown entry version {0}")]
    UnknownVersion(u8),
    /// An entry kind this implementation does not know.
    #[error("unknown entry kind {0}")]
    UnknownKind(u8),
    /// The encoding is longer than an entry bundle can carry (65,535 bytes).
    #[error("entry of {0} bytes exceeds the 65535-byte limit")]
    TooLarge(usize),
    /// The bytes are truncated, have trailing data or a bad length.
    #[error("malformed entry encoding: {0}")]
    Malformed(urna_crypto::DecodeError),
}

/// Why a signed note, key or checkpoint was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NoteError {
    /// Not well-formed: bad UTF-8, control characters, missing blank line or bad lines.
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    /// A key name that is empty or contains a space or `+`.
    #[error("invalid key name")]
    KeyName,
    /// A verifier or signer key string that does not parse.
    #[error("malformed key: {0}")]
    Key(&'static str),
    /// A signature from a known key did not verify.
    #[error("a signature by a known key is invalid")]
    BadSignature,
    /// No signature from any of the known keys.
    #[error("no signature by a known key")]
    Unverified,
    /// More signature lines than the verifier accepts.
    #[error("too many signatures")]
    TooManySignatures,
    /// Note text that is not a well-formed checkpoint.
    #[error("malformed checkpoint: {0}")]
    Checkpoint(&'static str),
}

/// A failure of the storage backend.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend reported an error (I/O, SQL, lock).
    #[error("backend: {0}")]
    Backend(String),
    /// Stored data contradicts itself (a missing tile, a tile of the wrong width).
    #[error("corrupt store: {0}")]
    Corrupt(&'static str),
    /// A second, different root for a tree size that already has a signed checkpoint.
    #[error("refusing a second root for tree size {0}")]
    Fork(u64),
    /// A batch that does not start at the stored tree size.
    #[error("batch starts at {got}, the stored tree has {expected} entries")]
    NotAtEnd {
        /// The stored tree size.
        expected: u64,
        /// Where the batch claimed to start.
        got: u64,
    },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Store(e.into())
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;
