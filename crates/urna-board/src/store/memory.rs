//! An in-memory store, for tests and benchmarks. Clones share the same log.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Batch, Store, StoredCheckpoint, check_tile};
use crate::error::{Result, StoreError};
use crate::hash::TreeHash;

#[derive(Debug, Default)]
struct Inner {
    entries: Vec<Vec<u8>>,
    tiles: HashMap<(u8, u64), Vec<u8>>,
    root: Option<TreeHash>,
    checkpoints: BTreeMap<u64, StoredCheckpoint>,
}

/// A log held in memory; cloning gives another handle to the same log.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

impl MemoryStore {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>> {
        self.inner
            .lock()
            .map_err(|_| StoreError::Backend("memory store lock poisoned".into()).into())
    }
}

impl Store for MemoryStore {
    fn head(&self) -> Result<(u64, TreeHash)> {
        let inner = self.lock()?;
        Ok((
            inner.entries.len() as u64,
            inner.root.unwrap_or(TreeHash::EMPTY_ROOT),
        ))
    }

    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.lock()?.tiles.get(&(level, index)).cloned())
    }

    fn read_node(&self, level: u8, index: u64) -> Result<Option<TreeHash>> {
        let inner = self.lock()?;
        let Some(tile) = inner.tiles.get(&(level, index / super::TILE_WIDTH)) else {
            return Ok(None);
        };
        let at = (index % super::TILE_WIDTH) as usize * 32;
        Ok(tile.get(at..at + 32).and_then(TreeHash::from_slice))
    }

    fn read_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        let inner = self.lock()?;
        let len = inner.entries.len();
        let s = usize::try_from(start).unwrap_or(usize::MAX).min(len);
        let e = usize::try_from(end).unwrap_or(usize::MAX).min(len).max(s);
        Ok(inner.entries[s..e].to_vec())
    }

    fn write_batch(&mut self, batch: &Batch<'_>) -> Result<()> {
        for (_, _, t) in batch.tiles {
            check_tile(t)?;
        }
        let mut inner = self.lock()?;
        let size = inner.entries.len() as u64;
        if batch.start != size {
            return Err(StoreError::NotAtEnd {
                expected: size,
                got: batch.start,
            }
            .into());
        }
        inner.entries.extend(batch.entries.iter().cloned());
        for (level, index, t) in batch.tiles {
            inner.tiles.insert((*level, *index), t.clone());
        }
        inner.root = Some(batch.root);
        Ok(())
    }

    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        Ok(self.lock()?.checkpoints.values().next_back().cloned())
    }

    fn checkpoint(&self, size: u64) -> Result<Option<StoredCheckpoint>> {
        Ok(self.lock()?.checkpoints.get(&size).cloned())
    }

    fn write_checkpoint(&mut self, cp: &StoredCheckpoint) -> Result<()> {
        let mut inner = self.lock()?;
        if cp.size > inner.entries.len() as u64 {
            return Err(StoreError::Corrupt("checkpoint beyond the integrated tree").into());
        }
        match inner.checkpoints.get(&cp.size) {
            Some(old) if old.root != cp.root => Err(StoreError::Fork(cp.size).into()),
            Some(_) => Ok(()),
            None => {
                inner.checkpoints.insert(cp.size, cp.clone());
                Ok(())
            }
        }
    }
}
