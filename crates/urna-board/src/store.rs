//! Storage behind one trait, so the log runs on SQLite (embedded), in memory (tests)
//! and, with the scale-out issue, PostgreSQL.
//!
//! What is stored:
//! - entries by index (the encoded bytes that are leaf-hashed);
//! - the tree's hashes as *hash tiles* of every level: the tile `(level, n)` holds the
//!   roots of the perfect subtrees `n·256 … n·256+255` of height `level`, 32 bytes
//!   each, at most 256 of them (fewer in the rightmost, partial tile). Levels 0, 8,
//!   16, … are exactly the C2SP tlog-tiles hash tiles; the levels between are kept
//!   too, so any proof node is one read and no hashing is needed to serve a proof;
//! - the tree head (integrated size and root);
//! - every signed checkpoint, by tree size.
//!
//! A backend must write a [`Batch`] atomically (one transaction) and durably before
//! it returns, refuse a batch that does not start at the stored size, never overwrite
//! an entry, and refuse a second, different root for a checkpointed size.

pub mod memory;
pub mod sqlite;

use crate::error::{Result, StoreError};
use crate::hash::{HASH_LEN, TreeHash};

/// Hashes per full tile.
pub const TILE_WIDTH: u64 = 256;

/// One integrated batch: everything that changes when entries are appended.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// The tree size before the batch; the first entry gets this index.
    pub start: u64,
    /// The encoded entries, in order.
    pub entries: &'a [Vec<u8>],
    /// Every hash tile the batch created or extended, whole: `(level, index, hashes)`.
    pub tiles: &'a [(u8, u64, Vec<u8>)],
    /// The root of the tree of size `start + entries.len()`.
    pub root: TreeHash,
}

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// The tree size.
    pub size: u64,
    /// The root at that size.
    pub root: TreeHash,
    /// The signed note.
    pub note: String,
}

/// The storage of one log.
pub trait Store: Send {
    /// The integrated tree size and its root (0 and the empty root for a new log).
    fn head(&self) -> Result<(u64, TreeHash)>;

    /// The hash tile `(level, index)` as stored (a multiple of 32 bytes), if any.
    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>>;

    /// One node: hash `index` of level `level`. Backends may answer without reading
    /// the whole tile.
    fn read_node(&self, level: u8, index: u64) -> Result<Option<TreeHash>> {
        let Some(tile) = self.read_tile(level, index / TILE_WIDTH)? else {
            return Ok(None);
        };
        let at = (index % TILE_WIDTH) as usize * HASH_LEN;
        Ok(tile.get(at..at + HASH_LEN).and_then(TreeHash::from_slice))
    }

    /// The entries with indices `start..end` (fewer if the log is shorter).
    fn read_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>>;

    /// Writes a batch atomically and durably; see the module documentation.
    fn write_batch(&mut self, batch: &Batch<'_>) -> Result<()>;

    /// The signed checkpoint with the largest size, if any.
    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>>;

    /// The signed checkpoint for `size`, if one was signed.
    fn checkpoint(&self, size: u64) -> Result<Option<StoredCheckpoint>>;

    /// Stores a signed checkpoint durably. Storing the same root for a size again is a
    /// no-op; a different root for a size that has one is [`StoreError::Fork`]; a size
    /// beyond the integrated tree is refused.
    fn write_checkpoint(&mut self, checkpoint: &StoredCheckpoint) -> Result<()>;
}

impl<S: Store + ?Sized> Store for Box<S> {
    fn head(&self) -> Result<(u64, TreeHash)> {
        (**self).head()
    }
    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        (**self).read_tile(level, index)
    }
    fn read_node(&self, level: u8, index: u64) -> Result<Option<TreeHash>> {
        (**self).read_node(level, index)
    }
    fn read_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        (**self).read_entries(start, end)
    }
    fn write_batch(&mut self, batch: &Batch<'_>) -> Result<()> {
        (**self).write_batch(batch)
    }
    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        (**self).latest_checkpoint()
    }
    fn checkpoint(&self, size: u64) -> Result<Option<StoredCheckpoint>> {
        (**self).checkpoint(size)
    }
    fn write_checkpoint(&mut self, checkpoint: &StoredCheckpoint) -> Result<()> {
        (**self).write_checkpoint(checkpoint)
    }
}

/// Checks a tile's byte length: a positive multiple of 32, at most 256 hashes.
pub(crate) fn check_tile(bytes: &[u8]) -> Result<(), StoreError> {
    if bytes.is_empty()
        || !bytes.len().is_multiple_of(HASH_LEN)
        || bytes.len() > TILE_WIDTH as usize * HASH_LEN
    {
        return Err(StoreError::Corrupt("tile of invalid length"));
    }
    Ok(())
}
