//! The board log on PostgreSQL: urna-board's store conformance suite, what only a
//! shared database can show (concurrent writers, one log per election and phase),
//! and the writer lease that elects one sequencer among replicas. Each test has a
//! database of its own (`urna_store::testing`); without a server they are skipped
//! loudly, or fail under `CI=true`.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use urna_board::conformance;
use urna_board::store::{Batch, Store as _, StoredCheckpoint};
use urna_board::{StoreError, TreeHash};
use urna_election::Revoting;
use urna_store::postgres::PgBoard;
use urna_store::testing::PgTestDb;
use urna_store::{BoardLease as _, BoardStore as _, ElectionStore as _, Error, Missing};
use urna_store::{PgStore, Phase};

const ELECTION: &str = "board-pg";

/// A fresh database with elections `ids`; `None` when the test is skipped.
async fn with_elections(ids: &[&str]) -> Option<(PgTestDb, PgStore)> {
    let (db, store) = PgTestDb::store().await.unwrap()?;
    for id in ids {
        let (manifest, yaml) =
            urna_store::conformance::manifest(id, Revoting::Once, "Board", false).unwrap();
        store.apply_manifest(&manifest, &yaml).await.unwrap();
    }
    Some((db, store))
}

/// Opens a new handle on the election's Open board, from a blocking thread.
fn opener(store: PgStore) -> impl FnMut() -> urna_board::Result<PgBoard> {
    let runtime = Handle::current();
    move || {
        runtime
            .block_on(store.open_board(ELECTION, Phase::Open))
            .map_err(|e| StoreError::Backend(e.to_string()).into())
    }
}

/// A conformance check on one fresh log.
macro_rules! on_one_log {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let Some((_db, store)) = with_elections(&[ELECTION]).await else {
                return;
            };
            let log = store.open_board(ELECTION, Phase::Open).await.unwrap();
            tokio::task::spawn_blocking(move || conformance::$check(log))
                .await
                .unwrap()
                .unwrap();
        }
    )*};
}

/// A conformance check that opens several handles on one fresh log.
macro_rules! on_handles {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let Some((_db, store)) = with_elections(&[ELECTION]).await else {
                return;
            };
            let open = opener(store);
            tokio::task::spawn_blocking(move || conformance::$check(open))
                .await
                .unwrap()
                .unwrap();
        }
    )*};
}

on_one_log!(
    growth_in_uneven_batches,
    batches_are_append_only,
    a_second_root_for_a_size_is_refused,
);

on_handles!(
    reopening_keeps_the_log,
    a_reader_keeps_its_snapshot,
    a_stale_writer_cannot_fork,
    a_new_sequencer_signs_what_was_stored,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_election_and_phase_has_its_own_log() {
    let Some((_db, store)) = with_elections(&["e-one", "e-two"]).await else {
        return;
    };
    assert!(matches!(
        store.open_board("missing", Phase::Open).await,
        Err(Error::NotFound(Missing::Election))
    ));
    let mut one = store.open_board("e-one", Phase::Open).await.unwrap();
    let test = store.open_board("e-one", Phase::Test).await.unwrap();
    let two = store.open_board("e-two", Phase::Open).await.unwrap();
    tokio::task::spawn_blocking(move || {
        let entries = conformance::entries(0, 3);
        let root = TreeHash::leaf(b"root");
        one.write_batch(&Batch {
            start: 0,
            entries: &entries,
            tiles: &[(0, 0, vec![7; 64])],
            root,
        })
        .unwrap();
        assert_eq!(one.head().unwrap(), (3, root));
        for other in [&test, &two] {
            assert_eq!(other.head().unwrap(), (0, TreeHash::EMPTY_ROOT));
            assert_eq!(other.read_entries(0, 10).unwrap(), Vec::<Vec<u8>>::new());
            assert_eq!(other.read_tile(0, 0).unwrap(), None);
        }
    })
    .await
    .unwrap();
}

/// Rounds of two writers racing for the same start, each on its own handle (so its
/// own pooled connection), then racing to sign a different root for the new size:
/// each round, exactly one batch and exactly one checkpoint are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_writers_store_one_batch_and_one_root_per_round() {
    let Some((_db, store)) = with_elections(&[ELECTION]).await else {
        return;
    };
    const ROUNDS: u64 = 20;
    let barrier = Arc::new(Barrier::new(2));
    let mut writers = Vec::new();
    for writer in 0..2u8 {
        let mut log = store.open_board(ELECTION, Phase::Open).await.unwrap();
        let barrier = Arc::clone(&barrier);
        writers.push(tokio::task::spawn_blocking(move || {
            let mut outcomes = Vec::new();
            for round in 0..ROUNDS {
                barrier.wait();
                let entry = vec![format!("writer {writer} round {round}").into_bytes()];
                let root = TreeHash::leaf(&[writer, round as u8]);
                let batch = Batch {
                    start: round,
                    entries: &entry,
                    tiles: &[],
                    root,
                };
                let stored = match log.write_batch(&batch) {
                    Ok(()) => true,
                    Err(urna_board::Error::Store(StoreError::NotAtEnd { expected, got })) => {
                        assert_eq!((expected, got), (round + 1, round));
                        false
                    }
                    Err(other) => panic!("round {round}: {other}"),
                };
                barrier.wait();
                let cp = StoredCheckpoint {
                    size: round + 1,
                    root,
                    note: format!("writer {writer}"),
                };
                let signed = match log.write_checkpoint(&cp) {
                    Ok(()) => true,
                    Err(e) => {
                        assert_eq!(e, StoreError::Fork(round + 1).into());
                        false
                    }
                };
                barrier.wait();
                outcomes.push((stored, signed));
            }
            outcomes
        }));
    }
    let mut outcomes = Vec::new();
    for w in writers {
        outcomes.push(w.await.unwrap());
    }
    assert_eq!(outcomes[0].len(), ROUNDS as usize);
    for (round, (a, b)) in outcomes[0].iter().zip(&outcomes[1]).enumerate() {
        assert!(a.0 != b.0, "round {round}: one batch");
        assert!(a.1 != b.1, "round {round}: one root");
    }
    let log = store.open_board(ELECTION, Phase::Open).await.unwrap();
    tokio::task::spawn_blocking(move || {
        assert_eq!(log.head().unwrap().0, ROUNDS);
        assert_eq!(log.read_entries(0, 100).unwrap().len(), ROUNDS as usize);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_writer_lease_per_board_until_its_connection_ends() {
    let Some((db, store)) = with_elections(&[ELECTION]).await else {
        return;
    };
    // A second replica: a pool of its own on the same database.
    let other = PgStore::connect(db.url(), 2).await.unwrap();
    let lease = store
        .acquire_writer(ELECTION, Phase::Open)
        .await
        .unwrap()
        .expect("the first replica leads");
    assert!(lease.held().await);
    assert!(
        other
            .acquire_writer(ELECTION, Phase::Open)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .acquire_writer(ELECTION, Phase::Open)
            .await
            .unwrap()
            .is_none(),
        "not even twice from one replica"
    );
    let test_phase = other.acquire_writer(ELECTION, Phase::Test).await.unwrap();
    assert!(test_phase.is_some(), "each phase's board has its own lease");

    // The leader's connection ends (a dead process): the lease is lost, and the other
    // replica takes it.
    drop(lease);
    let deadline = Instant::now() + Duration::from_secs(10);
    let taken = loop {
        if let Some(lease) = other.acquire_writer(ELECTION, Phase::Open).await.unwrap() {
            break lease;
        }
        assert!(Instant::now() < deadline, "the lease was never released");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(taken.held().await);
    // Its connection killed by the server: the holder learns it lost the lease.
    let (client, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks
             WHERE locktype = 'advisory' AND pid <> pg_backend_pid()
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[],
        )
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while taken.held().await {
        assert!(Instant::now() < deadline, "a killed lease still held");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
