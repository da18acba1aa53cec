//! One conformance suite, run against every store backend: the log built on it gives
//! the RFC 9162 roots and proofs, batches are atomic and append-only, and a second
//! root for a checkpointed size is refused.

use urna_board::store::{Batch, Store, StoredCheckpoint};
use urna_board::{
    Log, MemoryStore, NoteSigner, SqliteStore, StoreError, TreeHash, verify_consistency,
    verify_inclusion,
};

const ORIGIN: &str = "urna.example/conformance";

fn entries(from: u64, n: u64) -> Vec<Vec<u8>> {
    (from..from + n)
        .map(|i| format!("entry {i}").into_bytes())
        .collect()
}

/// RFC 9162 MTH from the definition, for comparison.
fn reference_root(leaves: &[TreeHash]) -> TreeHash {
    match leaves.len() {
        0 => TreeHash::EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            TreeHash::node(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
        }
    }
}

fn leaf_hashes(n: u64) -> Vec<TreeHash> {
    entries(0, n).iter().map(|e| TreeHash::leaf(e)).collect()
}

fn growth_in_uneven_batches<S: Store>(store: S) {
    let mut log = Log::open(store, ORIGIN).unwrap();
    let all = leaf_hashes(1100);
    let mut size = 0;
    for batch in [1u64, 1, 2, 5, 250, 1, 255, 256, 300, 29] {
        let first = log.integrate(&entries(size, batch)).unwrap();
        assert_eq!(first, size);
        size += batch;
        assert_eq!(log.size(), size);
        assert_eq!(
            log.root(),
            reference_root(&all[..size as usize]),
            "size {size}"
        );
    }
    assert_eq!(size, 1100);
    for m in [0u64, 1, 2, 255, 256, 257, 511, 512, 1000, 1099] {
        assert_eq!(log.root_at(m).unwrap(), reference_root(&all[..m as usize]));
        let p = log.inclusion_proof(m, size).unwrap();
        verify_inclusion(&all[m as usize], m, size, &p, &log.root()).unwrap();
        let c = log.consistency_proof(m, size).unwrap();
        verify_consistency(m, size, &c, &log.root_at(m).unwrap(), &log.root()).unwrap();
    }
    assert_eq!(log.entries(3, 5).unwrap(), entries(3, 2));
    assert_eq!(log.entries(1099, 2000).unwrap(), entries(1099, 1));
    assert!(log.inclusion_proof(0, size + 1).is_err());
    // Every level of hash tiles is stored: level 0 tile 4 holds leaves 1024..1100.
    let t = log.store().read_tile(0, 4).unwrap().unwrap();
    assert_eq!(t.len(), 76 * 32);
    assert_eq!(&t[..32], all[1024].as_bytes());
    assert_eq!(log.store().read_node(0, 1024).unwrap(), Some(all[1024]));
    assert_eq!(log.store().read_node(0, 1100).unwrap(), None);
}

fn batches_are_append_only<S: Store>(mut store: S) {
    let e = entries(0, 3);
    let root = TreeHash::leaf(b"whatever");
    store
        .write_batch(&Batch {
            start: 0,
            entries: &e,
            tiles: &[],
            root,
        })
        .unwrap();
    assert_eq!(store.head().unwrap(), (3, root));
    for start in [0, 2, 4] {
        let err = store
            .write_batch(&Batch {
                start,
                entries: &e,
                tiles: &[],
                root,
            })
            .unwrap_err();
        assert_eq!(
            err,
            StoreError::NotAtEnd {
                expected: 3,
                got: start
            }
            .into()
        );
    }
    assert_eq!(store.read_entries(0, 10).unwrap(), e);
    let bad_tile = [(0u8, 0u64, vec![0u8; 31])];
    assert!(
        store
            .write_batch(&Batch {
                start: 3,
                entries: &e,
                tiles: &bad_tile,
                root
            })
            .is_err()
    );
    assert_eq!(
        store.head().unwrap(),
        (3, root),
        "a refused batch changes nothing"
    );
}

fn a_second_root_for_a_size_is_refused<S: Store>(store: S) {
    let signer = NoteSigner::from_seed(ORIGIN, &[4; 32]).unwrap();
    let mut log = Log::open(store, ORIGIN).unwrap();
    log.integrate(&entries(0, 10)).unwrap();
    let signed = log.sign_checkpoint(&signer).unwrap();
    assert_eq!(signed.checkpoint().size(), 10);
    // Signing again at the same size is idempotent.
    log.sign_checkpoint(&signer).unwrap();
    let stored = log.latest_checkpoint().unwrap().unwrap();
    assert_eq!((stored.size, stored.root), (10, log.root()));
    assert_eq!(stored.note, signed.note());
    // A key not named after the origin may not sign.
    let other = NoteSigner::from_seed("urna.example/other", &[4; 32]).unwrap();
    assert!(log.sign_checkpoint(&other).is_err());

    let root = log.root();
    let mut store = log.into_store();
    let forged = StoredCheckpoint {
        size: 10,
        root: TreeHash::leaf(b"fork"),
        note: String::new(),
    };
    assert_eq!(
        store.write_checkpoint(&forged),
        Err(StoreError::Fork(10).into())
    );
    let beyond = StoredCheckpoint {
        size: 11,
        root,
        note: String::new(),
    };
    assert!(store.write_checkpoint(&beyond).is_err());
    assert_eq!(store.checkpoint(10).unwrap().unwrap().root, root);
    assert_eq!(store.checkpoint(9).unwrap(), None);
}

#[test]
fn memory_growth() {
    growth_in_uneven_batches(MemoryStore::new());
}

#[test]
fn sqlite_growth() {
    let dir = tempfile::tempdir().unwrap();
    growth_in_uneven_batches(SqliteStore::open(dir.path().join("log.db")).unwrap());
}

#[test]
fn memory_append_only() {
    batches_are_append_only(MemoryStore::new());
}

#[test]
fn sqlite_append_only() {
    let dir = tempfile::tempdir().unwrap();
    batches_are_append_only(SqliteStore::open(dir.path().join("log.db")).unwrap());
}

#[test]
fn memory_fork_refused() {
    a_second_root_for_a_size_is_refused(MemoryStore::new());
}

#[test]
fn sqlite_fork_refused() {
    let dir = tempfile::tempdir().unwrap();
    a_second_root_for_a_size_is_refused(SqliteStore::open(dir.path().join("log.db")).unwrap());
}

#[test]
fn sqlite_log_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.db");
    let signer = NoteSigner::from_seed(ORIGIN, &[4; 32]).unwrap();
    let mut log = Log::open(SqliteStore::open(&path).unwrap(), ORIGIN).unwrap();
    log.integrate(&entries(0, 300)).unwrap();
    log.sign_checkpoint(&signer).unwrap();
    let root = log.root();
    drop(log);
    let mut log = Log::open(SqliteStore::open(&path).unwrap(), ORIGIN).unwrap();
    assert_eq!((log.size(), log.root()), (300, root));
    log.integrate(&entries(300, 10)).unwrap();
    assert_eq!(log.root(), reference_root(&leaf_hashes(310)));
}

#[test]
fn a_store_that_disagrees_with_its_checkpoint_is_refused() {
    // A checkpoint whose root the stored tree does not reproduce: opening refuses to
    // extend the tree (it would fork what was signed).
    let mut store = MemoryStore::new();
    let mut log = Log::open(store.clone(), ORIGIN).unwrap();
    log.integrate(&entries(0, 4)).unwrap();
    store
        .write_checkpoint(&StoredCheckpoint {
            size: 2,
            root: TreeHash::leaf(b"other"),
            note: String::new(),
        })
        .unwrap();
    assert_eq!(
        Log::open(store, ORIGIN).unwrap_err(),
        StoreError::Fork(2).into()
    );
}

#[test]
fn a_sqlite_reader_keeps_serving_its_snapshot_while_the_writer_grows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.db");
    let signer = NoteSigner::from_seed(ORIGIN, &[4; 32]).unwrap();
    let mut writer = Log::open(SqliteStore::open(&path).unwrap(), ORIGIN).unwrap();
    writer.integrate(&entries(0, 700)).unwrap();
    writer.sign_checkpoint(&signer).unwrap();
    let reader = Log::open(SqliteStore::open(&path).unwrap(), ORIGIN).unwrap();
    // The writer extends the partial tiles the reader's snapshot ends in.
    writer.integrate(&entries(700, 90)).unwrap();
    writer.sign_checkpoint(&signer).unwrap();
    let all = leaf_hashes(790);
    assert_eq!(reader.size(), 700);
    assert_eq!(reader.root(), reference_root(&all[..700]));
    for m in [0u64, 511, 699] {
        let p = reader.inclusion_proof(m, 700).unwrap();
        verify_inclusion(&all[m as usize], m, 700, &p, &reader.root()).unwrap();
    }
    // A reader opened now sees the longer tree; edge tiles wider than needed are cut.
    let later = Log::open(SqliteStore::open(&path).unwrap(), ORIGIN).unwrap();
    assert_eq!((later.size(), later.root()), (790, writer.root()));
    let c = later.consistency_proof(700, 790).unwrap();
    verify_consistency(700, 790, &c, &reader.root(), &later.root()).unwrap();
}

#[test]
fn proofs_through_cached_upper_tiles_match_the_definition() {
    // 2^17 + 300 leaves: level 8 has a full, non-edge tile, which proofs read once
    // and then take from the cache.
    let n = (1u64 << 17) + 300;
    let mut log = Log::open(MemoryStore::new(), ORIGIN).unwrap();
    for start in (0..n).step_by(4096) {
        log.integrate(&entries(start, 4096.min(n - start))).unwrap();
    }
    let all = leaf_hashes(n);
    assert_eq!(log.root(), reference_root(&all));
    for round in 0..2 {
        for m in [0u64, 77_777, 65_535, 65_536, 131_071, n - 1] {
            let p = log.inclusion_proof(m, n).unwrap();
            verify_inclusion(&all[m as usize], m, n, &p, &log.root())
                .unwrap_or_else(|e| panic!("{m} round {round}: {e}"));
            let c = log.consistency_proof(m.max(1), n).unwrap();
            verify_consistency(
                m.max(1),
                n,
                &c,
                &reference_root(&all[..m.max(1) as usize]),
                &log.root(),
            )
            .unwrap();
        }
    }
}
