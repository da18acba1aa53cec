//! The log: integrates batches of entries into the stored tree, signs checkpoints and
//! serves proofs, all from the store. Only the right edge of the tree (one partial
//! tile per level, at most 64 × 8 KiB) is kept in memory.

mod cache;

use cache::{CACHED_FROM_LEVEL, TileCache};

use crate::checkpoint::{Checkpoint, SignedCheckpoint, check_origin};
use crate::entry::MAX_ENTRY_LEN;
use crate::error::{EntryError, NoteError, Result, StoreError};
use crate::hash::{HASH_LEN, TreeHash};
use crate::merkle::{self, NodeSource};
use crate::note::NoteSigner;
use crate::store::{Batch, Store, StoredCheckpoint, TILE_WIDTH};

/// An append-only Merkle log over a [`Store`].
#[derive(Debug)]
pub struct Log<S> {
    store: S,
    origin: String,
    size: u64,
    /// `edge[l]`: the hashes of the rightmost (possibly full) tile of level `l`.
    edge: Vec<Vec<TreeHash>>,
    /// Full tiles of the upper levels, read once.
    cache: TileCache,
}

/// Number of nodes of level `level` in a tree of `size` leaves.
fn nodes_at(size: u64, level: usize) -> u64 {
    if level >= 64 { 0 } else { size >> level }
}

fn decode_tile(bytes: &[u8]) -> Vec<TreeHash> {
    bytes
        .chunks_exact(HASH_LEN)
        .filter_map(TreeHash::from_slice)
        .collect()
}

fn encode_tile(hashes: &[TreeHash]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hashes.len() * HASH_LEN);
    for h in hashes {
        out.extend_from_slice(h.as_bytes());
    }
    out
}

/// The root from the right edge: the last node of each level whose bit is set in
/// `size`, folded from the smallest subtree up.
fn edge_root(edge: &[Vec<TreeHash>], size: u64) -> TreeHash {
    let mut acc: Option<TreeHash> = None;
    for (level, tile) in edge.iter().enumerate() {
        if size >> level & 1 == 1
            && let Some(node) = tile.last()
        {
            acc = Some(match acc {
                None => *node,
                Some(right) => TreeHash::node(node, &right),
            });
        }
    }
    acc.unwrap_or(TreeHash::EMPTY_ROOT)
}

impl<S: Store> Log<S> {
    /// Opens the log `origin` over `store`: loads the right edge, and checks that the
    /// stored hashes reproduce both the stored root and the latest signed checkpoint's
    /// root (a store that disagrees with what was signed is refused, never extended).
    pub fn open(store: S, origin: &str) -> Result<Self> {
        check_origin(origin)?;
        let mut log = Self {
            store,
            origin: origin.to_owned(),
            size: 0,
            edge: Vec::new(),
            cache: TileCache::default(),
        };
        log.reload()?;
        Ok(log)
    }

    /// Loads the right edge again from the store, as [`Log::open`] does, so that a
    /// reader follows what another process integrated. On any error (the store
    /// unreachable, or disagreeing with what was signed) the log keeps the tree it had
    /// and can be reloaded again later.
    pub fn reload(&mut self) -> Result<()> {
        // Read in the order the sequencer writes in reverse (checkpoint, head, tiles),
        // so a reader racing a writer sees a checkpoint no newer than the head and
        // tiles no older than it. Tiles only ever grow, so a longer edge tile than
        // the head needs is cut to the head's width.
        let latest = self.store.latest_checkpoint()?;
        let (size, stored_root) = self.store.head()?;
        let mut edge = Vec::new();
        for level in 0..64 {
            let count = nodes_at(size, level);
            if count == 0 {
                break;
            }
            let tile = (count - 1) / TILE_WIDTH;
            let want = ((count - 1) % TILE_WIDTH + 1) as usize * HASH_LEN;
            let bytes = self
                .store
                .read_tile(level as u8, tile)?
                .ok_or(StoreError::Corrupt("missing edge tile"))?;
            let bytes = bytes
                .get(..want)
                .ok_or(StoreError::Corrupt("edge tile narrower than the tree"))?;
            edge.push(decode_tile(bytes));
        }
        let before = (
            std::mem::replace(&mut self.size, size),
            std::mem::replace(&mut self.edge, edge),
        );
        let checked = if self.root() != stored_root {
            Err(StoreError::Corrupt("stored hashes do not give the stored root").into())
        } else {
            match latest {
                Some(cp) if cp.size > size => Err(StoreError::Fork(cp.size).into()),
                Some(cp) => match self.root_at(cp.size) {
                    Ok(root) if root != cp.root => Err(StoreError::Fork(cp.size).into()),
                    other => other.map(drop),
                },
                None => Ok(()),
            }
        };
        if checked.is_err() {
            (self.size, self.edge) = before;
        }
        checked
    }

    /// The log's origin (checkpoint origin line and signing key name).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The number of integrated entries.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root of the integrated tree.
    pub fn root(&self) -> TreeHash {
        edge_root(&self.edge, self.size)
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Gives the store back.
    pub fn into_store(self) -> S {
        self.store
    }

    /// Integrates `entries` (encoded) at the end of the log: computes the new hashes,
    /// writes entries, tiles and the new head in one atomic batch, and only then moves
    /// the in-memory edge. Returns the index of the first entry. Nothing is signed.
    pub fn integrate(&mut self, entries: &[Vec<u8>]) -> Result<u64> {
        let start = self.size;
        if entries.is_empty() {
            return Ok(start);
        }
        if let Some(e) = entries.iter().find(|e| e.len() > MAX_ENTRY_LEN) {
            return Err(EntryError::TooLarge(e.len()).into());
        }
        let mut edge = self.edge.clone();
        // Tiles completed during this batch, plus the edge tiles touched at the end.
        let mut done: Vec<(u8, u64, Vec<u8>)> = Vec::new();
        let mut touched = [None::<u64>; 64];
        for (i, entry) in entries.iter().enumerate() {
            let (mut level, mut index, mut hash) =
                (0usize, start + i as u64, TreeHash::leaf(entry));
            loop {
                if edge.len() == level {
                    edge.push(Vec::with_capacity(TILE_WIDTH as usize));
                }
                let tile = &mut edge[level];
                if index % TILE_WIDTH == 0 && !tile.is_empty() {
                    // The edge tile is full: it was completed by this batch (or earlier,
                    // in which case it is already stored and needs no rewrite).
                    let full = core::mem::replace(tile, Vec::with_capacity(TILE_WIDTH as usize));
                    let prev = index / TILE_WIDTH - 1;
                    if touched[level] == Some(prev) {
                        done.push((level as u8, prev, encode_tile(&full)));
                    }
                }
                tile.push(hash);
                touched[level] = Some(index / TILE_WIDTH);
                if index & 1 == 0 {
                    break;
                }
                let left = tile[tile.len() - 2];
                hash = TreeHash::node(&left, &hash);
                index >>= 1;
                level += 1;
            }
        }
        for (level, t) in touched.iter().enumerate() {
            if let Some(t) = t {
                done.push((level as u8, *t, encode_tile(&edge[level])));
            }
        }
        let size = start + entries.len() as u64;
        let root = edge_root(&edge, size);
        self.store.write_batch(&Batch {
            start,
            entries,
            tiles: &done,
            root,
        })?;
        self.edge = edge;
        self.size = size;
        Ok(start)
    }

    /// Signs a checkpoint for the integrated tree and stores it durably. The signer's
    /// key name must be the origin.
    pub fn sign_checkpoint(&mut self, signer: &NoteSigner) -> Result<SignedCheckpoint> {
        if signer.name() != self.origin {
            return Err(
                NoteError::Checkpoint("the signing key is not named after the origin").into(),
            );
        }
        let signed = Checkpoint::new(&self.origin, self.size, self.root())?.sign(signer)?;
        self.store.write_checkpoint(&StoredCheckpoint {
            size: self.size,
            root: self.root(),
            note: signed.note().to_owned(),
        })?;
        Ok(signed)
    }

    /// The latest signed checkpoint, if any.
    pub fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        self.store.latest_checkpoint()
    }

    /// The root of the tree at an earlier (or the current) size.
    pub fn root_at(&self, size: u64) -> Result<TreeHash> {
        if size > self.size {
            return Err(crate::error::ProofError::SizesOutOfOrder {
                first: size,
                second: self.size,
            }
            .into());
        }
        merkle::root(self, size)
    }

    /// The inclusion proof of entry `index` in the tree of size `size` (≤ current).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<TreeHash>> {
        self.check_size(size)?;
        merkle::inclusion_proof(self, index, size)
    }

    /// The consistency proof between tree sizes `first ≤ second` (≤ current).
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<TreeHash>> {
        self.check_size(second)?;
        merkle::consistency_proof(self, first, second)
    }

    /// The encoded entries `start..end` of the integrated tree.
    pub fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        self.store.read_entries(start, end.min(self.size))
    }

    fn check_size(&self, size: u64) -> Result<()> {
        if size > self.size {
            return Err(crate::error::ProofError::SizesOutOfOrder {
                first: size,
                second: self.size,
            }
            .into());
        }
        Ok(())
    }
}

impl<S: Store> NodeSource for Log<S> {
    fn node(&self, level: u8, index: u64) -> Result<TreeHash> {
        let l = level as usize;
        let count = nodes_at(self.size, l);
        if index >= count {
            return Err(StoreError::Corrupt("node beyond the integrated tree").into());
        }
        // The right edge is in memory; everything else is one read.
        if (count - 1) / TILE_WIDTH == index / TILE_WIDTH
            && let Some(h) = self
                .edge
                .get(l)
                .and_then(|t| t.get((index % TILE_WIDTH) as usize))
        {
            return Ok(*h);
        }
        // Non-edge tiles are full and immutable: the upper levels are cached.
        let at = (index % TILE_WIDTH) as usize;
        if level >= CACHED_FROM_LEVEL {
            let tile = index / TILE_WIDTH;
            let hashes = match self.cache.get(level, tile) {
                Some(h) => Some(h),
                None => match self.store.read_tile(level, tile)? {
                    Some(bytes) => self.cache.put(level, tile, &bytes),
                    None => None,
                },
            };
            if let Some(h) = hashes.as_ref().and_then(|h| h.get(at)) {
                return Ok(*h);
            }
        }
        self.store
            .read_node(level, index)?
            .ok_or_else(|| StoreError::Corrupt("missing node").into())
    }
}
