//! The hash tiles a source serves, checked against the tree recomputed from the
//! entries: what a tlog-tiles client (a voter's device checking a receipt, a witness)
//! builds its proofs from must be the tree the checkpoints sign.
//!
//! Only the tile being filled at each level is held: 256 hashes per level.

use urna_board::TreeHash;

use crate::error::Error;
use crate::report::{Check, Report};
use crate::source::Source;

/// Hashes per tile.
const WIDTH: usize = 256;

/// The incomplete tile of each tlog-tiles level and how many full tiles it has had.
#[derive(Default)]
pub(super) struct Tiles {
    pending: Vec<Vec<TreeHash>>,
    full: Vec<u64>,
}

impl Tiles {
    /// Adds the leaf hash of the next entry.
    pub(super) fn push(
        &mut self,
        leaf: TreeHash,
        source: &dyn Source,
        report: &mut Report,
    ) -> Result<(), Error> {
        let mut hash = leaf;
        for level in 0.. {
            if self.pending.len() == level {
                self.pending.push(Vec::with_capacity(WIDTH));
                self.full.push(0);
            }
            self.pending[level].push(hash);
            if self.pending[level].len() < WIDTH {
                return Ok(());
            }
            let tile = std::mem::take(&mut self.pending[level]);
            self.compare(level, &tile, source, report)?;
            self.full[level] += 1;
            hash = perfect_root(&tile);
        }
        Ok(())
    }

    /// Compares every partial tile left at the end.
    pub(super) fn finish(&self, source: &dyn Source, report: &mut Report) -> Result<(), Error> {
        for (level, tile) in self.pending.iter().enumerate() {
            if !tile.is_empty() {
                self.compare(level, tile, source, report)?;
            }
        }
        Ok(())
    }

    fn compare(
        &self,
        level: usize,
        tile: &[TreeHash],
        source: &dyn Source,
        report: &mut Report,
    ) -> Result<(), Error> {
        let index = self.full[level];
        let width = (tile.len() < WIDTH).then_some(tile.len() as u8);
        let served = source.hash_tile(level as u8, index, width)?;
        let expected: Vec<u8> = tile.iter().flat_map(|h| *h.as_bytes()).collect();
        if served == expected {
            report.pass(Check::HashTiles);
        } else {
            let first = (index * WIDTH as u64) << (8 * level as u32);
            report.fail(
                Check::HashTiles,
                Some(first),
                format!("hash tile {index} of level {level} is not the tree of the entries"),
            );
        }
        Ok(())
    }
}

/// The root of a perfect tree over `hashes` (a power of two of them).
fn perfect_root(hashes: &[TreeHash]) -> TreeHash {
    let mut level = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => TreeHash::node(left, right),
                [single] => *single,
                _ => TreeHash::EMPTY_ROOT,
            })
            .collect();
    }
    level.first().copied().unwrap_or(TreeHash::EMPTY_ROOT)
}
