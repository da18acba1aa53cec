//! Hash tiles and entry bundles served from the store agree with the tree: level-0
//! tiles are leaf hashes, each level-1 hash is the root of a full level-0 tile, and
//! bundles hash to their level-0 tile.

use urna_board::tiles::hash_tiles;
use urna_board::{Log, MemoryStore, TileId, TileKind, TreeHash};

fn tree_of(leaves: &[TreeHash]) -> TreeHash {
    match leaves.len() {
        1 => leaves[0],
        n => {
            let k = n / 2; // only perfect trees here
            TreeHash::node(&tree_of(&leaves[..k]), &tree_of(&leaves[k..]))
        }
    }
}

fn hashes(bytes: &[u8]) -> Vec<TreeHash> {
    bytes
        .chunks(32)
        .map(|c| TreeHash::from_slice(c).unwrap())
        .collect()
}

#[test]
fn tiles_and_bundles_of_a_70000_entry_log() {
    let entries: Vec<Vec<u8>> = (0..70_000u32)
        .map(|i| i.to_be_bytes().repeat(1 + i as usize % 3))
        .collect();
    let mut log = Log::open(MemoryStore::new(), "urna.example/tiles").unwrap();
    for chunk in entries.chunks(4096) {
        log.integrate(chunk).unwrap();
    }
    let ids: Vec<TileId> = hash_tiles(log.size()).collect();
    assert_eq!(ids.len(), 277);
    for id in &ids {
        let bytes = log.tile(id).unwrap();
        assert_eq!(bytes.len(), 32 * id.width.map_or(256, usize::from), "{id}");
    }
    // Level 0 holds leaf hashes; level 1 holds roots of full level-0 tiles.
    let t0 = hashes(&log.tile(&TileId::parse("tile/0/100").unwrap()).unwrap());
    assert_eq!(t0[7], TreeHash::leaf(&entries[100 * 256 + 7]));
    let t1 = hashes(&log.tile(&TileId::parse("tile/1/000").unwrap()).unwrap());
    assert_eq!(
        t1[3],
        tree_of(&hashes(
            &log.tile(&TileId::parse("tile/0/003").unwrap()).unwrap()
        ))
    );
    let top = hashes(&log.tile(&TileId::parse("tile/2/000.p/1").unwrap()).unwrap());
    assert_eq!(top[0], tree_of(&t1));
    // The partial level-0 tile and its bundle.
    let partial = TileId::parse("tile/0/273.p/112").unwrap();
    let leaves = hashes(&log.tile(&partial).unwrap());
    let bundle = log
        .tile(&TileId {
            kind: TileKind::Entries,
            ..partial
        })
        .unwrap();
    let mut rest = &bundle[..];
    let mut got = Vec::new();
    while !rest.is_empty() {
        let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        got.push(TreeHash::leaf(&rest[2..2 + len]));
        rest = &rest[2 + len..];
    }
    assert_eq!(got, leaves);
    // A narrower partial tile (from an older checkpoint) is still served; tiles the
    // tree does not have yet are refused.
    assert_eq!(
        log.tile(&TileId::parse("tile/0/273.p/5").unwrap())
            .unwrap()
            .len(),
        5 * 32
    );
    for missing in [
        "tile/0/273",
        "tile/0/273.p/113",
        "tile/0/274.p/1",
        "tile/1/001",
        "tile/3/000.p/1",
    ] {
        assert!(
            log.tile(&TileId::parse(missing).unwrap()).is_err(),
            "{missing}"
        );
    }
}

/// A tlog-tiles client: knows only the tree size and fetches tiles by path, hashing
/// inside tiles to reach the levels between 0, 8, 16, …
struct TileClient<'a> {
    log: &'a Log<MemoryStore>,
    size: u64,
}

impl urna_board::NodeSource for TileClient<'_> {
    fn node(&self, level: u8, index: u64) -> urna_board::Result<TreeHash> {
        let (tl, r) = (level / 8, u32::from(level % 8));
        let first = index << r; // position of the node's first hash at level 8·tl
        let count = self.size >> (8 * u32::from(tl));
        let n = first / 256;
        let width = (count - n * 256).min(256);
        let path = if width == 256 {
            format!("tile/{tl}/{}", urna_board::tiles::encode_index(n))
        } else {
            format!("tile/{tl}/{}.p/{width}", urna_board::tiles::encode_index(n))
        };
        let tile = hashes(&self.log.tile(&TileId::parse(&path).unwrap()).unwrap());
        let at = (first % 256) as usize;
        Ok(tree_of(&tile[at..at + (1 << r)]))
    }
}

#[test]
fn a_client_with_only_tiles_computes_the_same_proofs() {
    let n = 70_000u64;
    let entries: Vec<Vec<u8>> = (0..n).map(|i| i.to_le_bytes().to_vec()).collect();
    let mut log = Log::open(MemoryStore::new(), "urna.example/tiles").unwrap();
    for chunk in entries.chunks(4096) {
        log.integrate(chunk).unwrap();
    }
    let client = TileClient { log: &log, size: n };
    assert_eq!(urna_board::merkle::root(&client, n).unwrap(), log.root());
    for i in [0u64, 255, 256, 65_535, 65_536, 69_999] {
        assert_eq!(
            urna_board::merkle::inclusion_proof(&client, i, n).unwrap(),
            log.inclusion_proof(i, n).unwrap(),
            "leaf {i}"
        );
    }
    assert_eq!(
        urna_board::merkle::consistency_proof(&client, 12_345, n).unwrap(),
        log.consistency_proof(12_345, n).unwrap()
    );
}
