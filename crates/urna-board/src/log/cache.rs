//! A bounded cache of full hash tiles of the upper levels (8 and above).
//!
//! A full tile never changes, and the upper levels are small (1/256 of the leaves and
//! shrinking), so every proof's upper half can come from memory while the lower half
//! is read from the store. At 2^20 entries the whole cache is 16 KiB of tiles for
//! level 8 and less above; the bound keeps a 10^9-entry log at 32 MiB.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::hash::{HASH_LEN, TreeHash};

/// The lowest level whose full tiles are cached.
pub(crate) const CACHED_FROM_LEVEL: u8 = 8;

/// At most this many tiles (8 KiB each) are kept; past it the cache starts over.
const MAX_TILES: usize = 4096;

/// Tiles by (level, tile index).
type Tiles = HashMap<(u8, u64), Arc<[TreeHash]>>;

#[derive(Debug, Default)]
pub(crate) struct TileCache {
    tiles: Mutex<Tiles>,
}

impl TileCache {
    pub(crate) fn get(&self, level: u8, tile: u64) -> Option<Arc<[TreeHash]>> {
        self.tiles.lock().ok()?.get(&(level, tile)).cloned()
    }

    /// Caches a full tile (256 hashes); anything else is ignored.
    pub(crate) fn put(&self, level: u8, tile: u64, bytes: &[u8]) -> Option<Arc<[TreeHash]>> {
        if bytes.len() != 256 * HASH_LEN {
            return None;
        }
        let hashes: Arc<[TreeHash]> = bytes
            .chunks_exact(HASH_LEN)
            .filter_map(TreeHash::from_slice)
            .collect();
        let mut tiles = self.tiles.lock().ok()?;
        if tiles.len() >= MAX_TILES {
            tiles.clear();
        }
        tiles.insert((level, tile), Arc::clone(&hashes));
        Some(hashes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_full_tiles_are_cached_and_the_bound_holds() {
        let cache = TileCache::default();
        assert!(cache.put(8, 0, &[0u8; 255 * 32]).is_none());
        assert!(cache.get(8, 0).is_none());
        let mut full = vec![0u8; 256 * 32];
        full[32] = 7;
        let got = cache.put(8, 0, &full).unwrap();
        assert_eq!(got.len(), 256);
        assert_eq!(cache.get(8, 0).unwrap()[1].as_bytes()[0], 7);
        for t in 1..=MAX_TILES as u64 {
            cache.put(9, t, &full);
        }
        assert!(cache.tiles.lock().unwrap().len() <= MAX_TILES);
    }
}
