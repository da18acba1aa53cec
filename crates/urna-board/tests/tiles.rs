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
