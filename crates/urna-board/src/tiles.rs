//! C2SP tlog-tiles (<https://c2sp.org/tlog-tiles>): tile paths, and hash tiles and
//! entry bundles served from the store.
//!
//! A hash tile at tlog-tiles level `L` is the stored hash tile of Merkle level `8·L`;
//! the entry bundle `N` holds entries `256·N …`, each prefixed by its length as a
//! big-endian `u16`.

use core::fmt;

use crate::entry::MAX_ENTRY_LEN;
use crate::error::{Error, Result, StoreError};
use crate::hash::HASH_LEN;
use crate::log::Log;
use crate::store::{Store, TILE_WIDTH};

/// The highest tlog-tiles level whose tiles exist in a tree of `u64` leaves.
pub const MAX_TILE_LEVEL: u8 = 7;

/// What a tile path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// A hash tile of the given tlog-tiles level (0 to 7 here; the spec allows 63).
    Hash(u8),
    /// An entry bundle.
    Entries,
}

/// A tile or entry bundle: `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    /// Hash tile (with its level) or entry bundle.
    pub kind: TileKind,
    /// The index of the tile within its level.
    pub index: u64,
    /// `None` for a full tile (256 hashes or entries), else the partial width 1–255.
    pub width: Option<u8>,
}

/// Writes `n` as zero-padded three-digit path elements, all but the last prefixed by
/// `x`: 1234067 is `x001/x234/067`.
pub fn encode_index(n: u64) -> String {
    let mut groups = Vec::new();
    let mut rest = n;
    loop {
        groups.push(rest % 1000);
        rest /= 1000;
        if rest == 0 {
            break;
        }
    }
    let last = groups.len() - 1;
    groups
        .iter()
        .rev()
        .enumerate()
        .map(|(i, g)| {
            if i == last {
                format!("{g:03}")
            } else {
                format!("x{g:03}")
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn three_digits(s: &str) -> Option<u64> {
    (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn canonical_decimal(s: &str) -> Option<u64> {
    let ok =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    ok.then(|| s.parse().ok()).flatten()
}

impl TileId {
    /// Parses a path relative to the log prefix (`tile/…`), accepting only the
    /// canonical form: no leading zeros, no superfluous `x000` groups.
    pub fn parse(path: &str) -> Result<Self> {
        let bad = |why| Error::Tile(why);
        let rest = path
            .strip_prefix("tile/")
            .ok_or(bad("path must start with tile/"))?;
        let (head, rest) = rest.split_once('/').ok_or(bad("missing tile index"))?;
        let kind = if head == "entries" {
            TileKind::Entries
        } else {
            match canonical_decimal(head) {
                Some(l) if l <= u64::from(MAX_TILE_LEVEL) => TileKind::Hash(l as u8),
                _ => return Err(bad("tile level out of range")),
            }
        };
        let (index_part, width) = match rest.split_once(".p/") {
            None => (rest, None),
            Some((n, w)) => match canonical_decimal(w) {
                Some(w @ 1..=255) => (n, Some(w as u8)),
                _ => return Err(bad("partial width must be 1 to 255")),
            },
        };
        let groups: Vec<&str> = index_part.split('/').collect();
        let mut index: u64 = 0;
        for (i, g) in groups.iter().enumerate() {
            let last = i + 1 == groups.len();
            let digits = if last { Some(*g) } else { g.strip_prefix('x') };
            let v = digits
                .and_then(three_digits)
                .ok_or(bad("malformed tile index"))?;
            if i == 0 && v == 0 && !last {
                return Err(bad("tile index has a superfluous leading group"));
            }
            index = index
                .checked_mul(1000)
                .and_then(|x| x.checked_add(v))
                .ok_or(bad("tile index out of range"))?;
        }
        Ok(Self { kind, index, width })
    }
}

impl fmt::Display for TileId {
    /// The path relative to the log prefix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TileKind::Hash(level) => write!(f, "tile/{level}/{}", encode_index(self.index))?,
            TileKind::Entries => write!(f, "tile/entries/{}", encode_index(self.index))?,
        }
        if let Some(w) = self.width {
            write!(f, ".p/{w}")?;
        }
        Ok(())
    }
}

/// Every hash tile of a tree of `size` entries: the full tiles of each level, then
/// its partial tile if the level has one.
pub fn hash_tiles(size: u64) -> impl Iterator<Item = TileId> {
    (0..=MAX_TILE_LEVEL).flat_map(move |level| {
        let count = if level == 0 {
            size
        } else {
            size >> (8 * u32::from(level))
        };
        let full = count / TILE_WIDTH;
        let partial = (count % TILE_WIDTH) as u8;
        let kind = TileKind::Hash(level);
        (0..full)
            .map(move |index| TileId {
                kind,
                index,
                width: None,
            })
            .chain((partial > 0).then_some(TileId {
                kind,
                index: full,
                width: Some(partial),
            }))
    })
}

impl<S: Store> Log<S> {
    /// The bytes of a hash tile or entry bundle, if the integrated tree has it (a
    /// partial tile of width `W` exists once `256·N + W` hashes or entries do).
    pub fn tile(&self, id: &TileId) -> Result<Vec<u8>> {
        let width = id.width.map_or(TILE_WIDTH, u64::from);
        let level = match id.kind {
            TileKind::Hash(l) if l <= MAX_TILE_LEVEL => u32::from(l) * 8,
            TileKind::Hash(_) => return Err(Error::Tile("tile level out of range")),
            TileKind::Entries => 0,
        };
        let count = self.size() >> level;
        let end = id
            .index
            .checked_mul(TILE_WIDTH)
            .and_then(|s| s.checked_add(width))
            .filter(|end| *end <= count)
            .ok_or(Error::Tile("the tree has no such tile"))?;
        match id.kind {
            TileKind::Hash(_) => {
                let bytes = self
                    .store()
                    .read_tile(level as u8, id.index)?
                    .ok_or(StoreError::Corrupt("missing hash tile"))?;
                let want = width as usize * HASH_LEN;
                bytes
                    .get(..want)
                    .map(<[u8]>::to_vec)
                    .ok_or_else(|| StoreError::Corrupt("hash tile too short").into())
            }
            TileKind::Entries => {
                let entries = self.entries(end - width, end)?;
                if entries.len() as u64 != width {
                    return Err(StoreError::Corrupt("missing entries").into());
                }
                let mut out = Vec::new();
                for e in entries {
                    let len = u16::try_from(e.len())
                        .ok()
                        .filter(|_| e.len() <= MAX_ENTRY_LEN)
                        .ok_or(StoreError::Corrupt("entry too long for a bundle"))?;
                    out.extend_from_slice(&len.to_be_bytes());
                    out.extend_from_slice(&e);
                }
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_encoding_matches_the_spec() {
        assert_eq!(encode_index(1234067), "x001/x234/067");
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(67), "067");
        assert_eq!(encode_index(1000), "x001/000");
        assert_eq!(encode_index(u64::MAX), "x018/x446/x744/x073/x709/x551/615");
        let id = TileId {
            kind: TileKind::Hash(0),
            index: 1234067,
            width: None,
        };
        assert_eq!(id.to_string(), "tile/0/x001/x234/067");
        let id = TileId {
            kind: TileKind::Hash(1),
            index: 1234067,
            width: Some(8),
        };
        assert_eq!(id.to_string(), "tile/1/x001/x234/067.p/8");
        let id = TileId {
            kind: TileKind::Entries,
            index: 1234067,
            width: None,
        };
        assert_eq!(id.to_string(), "tile/entries/x001/x234/067");
    }

    #[test]
    fn paths_parse_back_and_non_canonical_ones_are_refused() {
        for path in [
            "tile/0/x001/x234/067",
            "tile/1/x001/x234/067.p/8",
            "tile/entries/x001/x234/067",
            "tile/entries/000.p/255",
            "tile/7/x018/x446/x744/x073/x709/x551/615",
        ] {
            assert_eq!(TileId::parse(path).unwrap().to_string(), path);
        }
        for path in [
            "tile/00/000",
            "tile/8/000",
            "tile/0/67",
            "tile/0/x000/067",
            "tile/0/001/234",
            "tile/0/x001/x234/067.p/0",
            "tile/0/x001/x234/067.p/256",
            "tile/0/x001/x234/067.p/08",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "tiles/0/000",
            "tile/0/",
        ] {
            assert!(TileId::parse(path).is_err(), "{path}");
        }
    }

    #[test]
    fn tiles_of_a_70000_entry_tree_match_the_spec() {
        // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one
        // partial level 0 tile of width 112, one full level 1 tile, one partial level
        // 1 tile of width 17, and one partial level 2 tile of width 1."
        let tiles: Vec<TileId> = hash_tiles(70_000).collect();
        let count = |level, width: Option<u8>| {
            tiles
                .iter()
                .filter(|t| t.kind == TileKind::Hash(level) && t.width.is_some() == width.is_some())
                .inspect(|t| assert_eq!(t.width, width))
                .count()
        };
        assert_eq!(count(0, None), 273);
        assert_eq!(count(0, Some(112)), 1);
        assert_eq!(count(1, None), 1);
        assert_eq!(count(1, Some(17)), 1);
        assert_eq!(count(2, Some(1)), 1);
        assert_eq!(tiles.len(), 277);
        // "a tree of size 256 will be represented by a full level 0 tile and a partial
        // level 1 tile of width 1."
        let small: Vec<String> = hash_tiles(256).map(|t| t.to_string()).collect();
        assert_eq!(small, ["tile/0/000", "tile/1/000.p/1"]);
        assert_eq!(hash_tiles(0).count(), 0);
    }
}
