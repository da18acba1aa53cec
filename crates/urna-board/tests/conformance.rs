//! The store conformance suite (`urna_board::conformance`) against the memory and
//! SQLite backends, and what only those backends can show.

use std::path::Path;

use urna_board::conformance::{self, ORIGIN, entries, leaf_hashes, reference_root};
use urna_board::store::{Store, StoredCheckpoint};
use urna_board::{
    Log, MemoryStore, SqliteStore, StoreError, TreeHash, verify_consistency, verify_inclusion,
};

fn sqlite(path: &Path) -> impl FnMut() -> urna_board::Result<SqliteStore> + '_ {
    move || SqliteStore::open(path)
}

#[test]
fn memory_growth() {
    conformance::growth_in_uneven_batches(MemoryStore::new()).unwrap();
}

#[test]
fn sqlite_growth() {
    let dir = tempfile::tempdir().unwrap();
    conformance::growth_in_uneven_batches(SqliteStore::open(dir.path().join("log.db")).unwrap())
        .unwrap();
}

#[test]
fn memory_append_only() {
    conformance::batches_are_append_only(MemoryStore::new()).unwrap();
}

#[test]
fn sqlite_append_only() {
    let dir = tempfile::tempdir().unwrap();
    conformance::batches_are_append_only(SqliteStore::open(dir.path().join("log.db")).unwrap())
        .unwrap();
}

#[test]
fn memory_fork_refused() {
    conformance::a_second_root_for_a_size_is_refused(MemoryStore::new()).unwrap();
}

#[test]
fn sqlite_fork_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("log.db")).unwrap();
    conformance::a_second_root_for_a_size_is_refused(store).unwrap();
}

#[test]
fn memory_handles_share_the_log() {
    let store = MemoryStore::new();
    conformance::reopening_keeps_the_log(|| Ok(store.clone())).unwrap();
    let store = MemoryStore::new();
    conformance::a_stale_writer_cannot_fork(|| Ok(store.clone())).unwrap();
    let store = MemoryStore::new();
    conformance::a_new_sequencer_signs_what_was_stored(|| Ok(store.clone())).unwrap();
}

#[test]
fn sqlite_log_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    conformance::reopening_keeps_the_log(sqlite(&dir.path().join("log.db"))).unwrap();
}

#[test]
fn sqlite_stale_writer_cannot_fork() {
    let dir = tempfile::tempdir().unwrap();
    conformance::a_stale_writer_cannot_fork(sqlite(&dir.path().join("log.db"))).unwrap();
}

#[test]
fn sqlite_new_sequencer_signs_what_was_stored() {
    let dir = tempfile::tempdir().unwrap();
    conformance::a_new_sequencer_signs_what_was_stored(sqlite(&dir.path().join("log.db"))).unwrap();
}

#[test]
fn a_sqlite_reader_keeps_serving_its_snapshot_while_the_writer_grows() {
    let dir = tempfile::tempdir().unwrap();
    conformance::a_reader_keeps_its_snapshot(sqlite(&dir.path().join("log.db"))).unwrap();
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
