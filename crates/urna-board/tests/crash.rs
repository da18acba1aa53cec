//! Crash recovery with the SQLite backend: the sequencer is stopped between storing a
//! batch and signing its checkpoint (or fails at either step), the database is
//! reopened and the log continues. No acknowledged entry is lost, every signed
//! checkpoint stays consistent with the tree, and no size ever gets two roots.

use std::path::Path;
use std::time::Duration;

use urna_board::store::{Batch, Store, StoredCheckpoint};
use urna_board::{
    Appended, Entry, EntryKind, Error, Log, NoteSigner, Sequencer, SequencerConfig,
    SignedCheckpoint, SqliteStore, StoreError, TreeHash, verify_consistency, verify_inclusion,
};

const ORIGIN: &str = "urna.example/crash-test";

fn signer() -> NoteSigner {
    NoteSigner::from_seed(ORIGIN, &[42; 32]).unwrap()
}

fn config() -> SequencerConfig {
    SequencerConfig {
        interval: Duration::from_millis(5),
        max_batch: 16,
        queue: 1024,
    }
}

fn ballot(i: u32) -> Entry {
    Entry::new(
        EntryKind::Ballot,
        [9; 32],
        format!("ballot {i}").into_bytes(),
    )
    .unwrap()
}

/// Appends `range` concurrently (so batches form) and returns the acknowledgements.
fn append_all(seq: &Sequencer, range: std::ops::Range<u32>) -> Vec<(u32, Appended)> {
    let pending: Vec<_> = range
        .map(|i| (i, seq.submit(&ballot(i)).unwrap()))
        .collect();
    pending
        .into_iter()
        .map(|(i, p)| (i, p.wait().unwrap()))
        .collect()
}

/// Checks every acknowledgement against the final tree, and every stored checkpoint
/// for consistency with it.
fn audit(path: &Path, acked: &[(u32, Appended)]) -> u64 {
    let log = Log::open(SqliteStore::open(path).unwrap(), ORIGIN).unwrap();
    let v = [signer().verifier()];
    let latest = log.latest_checkpoint().unwrap().unwrap();
    assert_eq!(latest.size, log.size(), "the stored tree is fully signed");
    for (i, ack) in acked {
        let entry = log.entries(ack.index, ack.index + 1).unwrap();
        assert_eq!(
            entry,
            vec![ballot(*i).encode()],
            "acknowledged entry {i} kept"
        );
        let cp = SignedCheckpoint::open(ack.checkpoint.note().as_bytes(), ORIGIN, &v).unwrap();
        let (size, root) = (cp.checkpoint().size(), *cp.checkpoint().root());
        // The receipt's proof verifies against the receipt's checkpoint...
        let proof = log.inclusion_proof(ack.index, size).unwrap();
        verify_inclusion(&ballot(*i).leaf_hash(), ack.index, size, &proof, &root).unwrap();
        // ...and that checkpoint is a prefix of today's tree.
        let cons = log.consistency_proof(size, log.size()).unwrap();
        verify_consistency(size, log.size(), &cons, &root, &log.root()).unwrap();
        assert_eq!(log.store().checkpoint(size).unwrap().unwrap().root, root);
    }
    for size in 0..=log.size() {
        if let Some(cp) = log.store().checkpoint(size).unwrap() {
            assert_eq!(
                cp.root,
                log.root_at(size).unwrap(),
                "checkpoint {size} agrees with the tree"
            );
        }
    }
    log.size()
}

#[test]
fn stopping_between_store_and_checkpoint_then_continuing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("board.db");

    let seq = Sequencer::start(SqliteStore::open(&path).unwrap(), signer(), config()).unwrap();
    assert_eq!(seq.initial_checkpoint().checkpoint().size(), 0);
    let mut acked = append_all(&seq, 0..40);
    seq.shutdown();
    assert_eq!(audit(&path, &acked), 40);

    // The crash: a batch is durably integrated, and the process dies before signing.
    let mut log = Log::open(SqliteStore::open(&path).unwrap(), ORIGIN).unwrap();
    let unsigned: Vec<Vec<u8>> = (40..47).map(|i| ballot(i).encode()).collect();
    log.integrate(&unsigned).unwrap();
    let root_47 = log.root();
    drop(log);
    let before = SqliteStore::open(&path)
        .unwrap()
        .latest_checkpoint()
        .unwrap()
        .unwrap();
    assert_eq!(before.size, 40, "nothing signed for the crashed batch");

    // Restart: the stored but unsigned entries are signed first, with the root they
    // already had, then the log goes on.
    let seq = Sequencer::start(SqliteStore::open(&path).unwrap(), signer(), config()).unwrap();
    let recovered = seq.initial_checkpoint().checkpoint().clone();
    assert_eq!((recovered.size(), *recovered.root()), (47, root_47));
    acked.extend(append_all(&seq, 47..80));
    seq.shutdown();
    assert_eq!(audit(&path, &acked), 80);
}

/// A store that delegates to SQLite but fails at a chosen step, as a crash would.
struct Faulty {
    inner: SqliteStore,
    fail_checkpoint_after: usize,
    commit_then_fail_batch: bool,
    checkpoints: usize,
}

impl Store for Faulty {
    fn head(&self) -> urna_board::Result<(u64, TreeHash)> {
        self.inner.head()
    }
    fn read_tile(&self, level: u8, index: u64) -> urna_board::Result<Option<Vec<u8>>> {
        self.inner.read_tile(level, index)
    }
    fn read_entries(&self, start: u64, end: u64) -> urna_board::Result<Vec<Vec<u8>>> {
        self.inner.read_entries(start, end)
    }
    fn write_batch(&mut self, batch: &Batch<'_>) -> urna_board::Result<()> {
        self.inner.write_batch(batch)?;
        if self.commit_then_fail_batch {
            return Err(StoreError::Backend("crash after commit".into()).into());
        }
        Ok(())
    }
    fn latest_checkpoint(&self) -> urna_board::Result<Option<StoredCheckpoint>> {
        self.inner.latest_checkpoint()
    }
    fn checkpoint(&self, size: u64) -> urna_board::Result<Option<StoredCheckpoint>> {
        self.inner.checkpoint(size)
    }
    fn write_checkpoint(&mut self, cp: &StoredCheckpoint) -> urna_board::Result<()> {
        self.checkpoints += 1;
        if self.checkpoints > self.fail_checkpoint_after {
            return Err(StoreError::Backend("crash before checkpoint".into()).into());
        }
        self.inner.write_checkpoint(cp)
    }
}

#[test]
fn failures_at_each_step_never_acknowledge_and_never_fork() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("board.db");
    let mut acked = Vec::new();

    // 1. Checkpoint storage fails after the start-up checkpoint and one batch.
    let store = Faulty {
        inner: SqliteStore::open(&path).unwrap(),
        fail_checkpoint_after: 2,
        commit_then_fail_batch: false,
        checkpoints: 0,
    };
    let seq = Sequencer::start(store, signer(), config()).unwrap();
    acked.push((0, seq.append(&ballot(0)).unwrap()));
    let failed = seq.append(&ballot(1)).unwrap_err();
    assert_eq!(
        failed,
        Error::Store(StoreError::Backend("crash before checkpoint".into()))
    );
    assert_eq!(seq.append(&ballot(2)).unwrap_err(), Error::SequencerStopped);
    seq.shutdown();

    // 2. The batch commits but the process dies before the call returns.
    let store = Faulty {
        inner: SqliteStore::open(&path).unwrap(),
        fail_checkpoint_after: usize::MAX,
        commit_then_fail_batch: true,
        checkpoints: 0,
    };
    let seq = Sequencer::start(store, signer(), config()).unwrap();
    assert_eq!(
        seq.initial_checkpoint().checkpoint().size(),
        2,
        "ballot 1 was stored: now signed"
    );
    assert!(seq.append(&ballot(3)).is_err());
    seq.shutdown();

    // 3. A healthy restart signs what was stored and continues.
    let seq = Sequencer::start(SqliteStore::open(&path).unwrap(), signer(), config()).unwrap();
    assert_eq!(seq.initial_checkpoint().checkpoint().size(), 3);
    acked.extend(append_all(&seq, 4..20));
    seq.shutdown();
    assert_eq!(audit(&path, &acked), 19);

    // Unacknowledged entries may or may not be on the board; acknowledged ones are,
    // at the indices they were given.
    let log = Log::open(SqliteStore::open(&path).unwrap(), ORIGIN).unwrap();
    assert_eq!(
        log.entries(1, 3).unwrap(),
        vec![ballot(1).encode(), ballot(3).encode()]
    );
}

#[test]
fn batches_respect_the_maximum_and_share_one_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("board.db");
    let config = SequencerConfig {
        interval: Duration::from_secs(5),
        max_batch: 8,
        queue: 64,
    };
    let seq = Sequencer::start(SqliteStore::open(&path).unwrap(), signer(), config).unwrap();
    // Sixteen queued entries with a long interval: two full batches of eight, each
    // acknowledged with the checkpoint of its own batch.
    let acked = append_all(&seq, 0..16);
    seq.shutdown();
    let sizes: Vec<u64> = acked
        .iter()
        .map(|(_, a)| a.checkpoint.checkpoint().size())
        .collect();
    assert_eq!(sizes, [[8u64; 8], [16; 8]].concat());
    assert_eq!(audit(&path, &acked), 16);
}

#[test]
fn a_full_queue_is_refused_not_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let config = SequencerConfig {
        interval: Duration::from_secs(30),
        max_batch: 4096,
        queue: 2,
    };
    let seq = Sequencer::start(
        SqliteStore::open(dir.path().join("b.db")).unwrap(),
        signer(),
        config,
    )
    .unwrap();
    // The worker takes the first entry and waits out its interval for more: the queue
    // holds two more, and the fourth is refused.
    let mut results: Vec<_> = (0..8).map(|i| seq.submit(&ballot(i))).collect();
    assert!(results.iter().any(|r| matches!(r, Err(Error::QueueFull))));
    // Shutdown integrates what was accepted.
    drop(seq);
    for r in results.drain(..).flatten() {
        assert!(r.wait().is_ok());
    }
}

/// Ends the process on the spot (no unwinding, no destructors, the database never
/// closed: a crash as far as SQLite can tell) when asked to store the checkpoint of a
/// batch, i.e. after the batch is durably integrated. `exit` rather than `abort`, so
/// that no core file is left behind.
struct AbortBeforeCheckpoint(SqliteStore);

impl Store for AbortBeforeCheckpoint {
    fn head(&self) -> urna_board::Result<(u64, TreeHash)> {
        self.0.head()
    }
    fn read_tile(&self, level: u8, index: u64) -> urna_board::Result<Option<Vec<u8>>> {
        self.0.read_tile(level, index)
    }
    fn read_entries(&self, start: u64, end: u64) -> urna_board::Result<Vec<Vec<u8>>> {
        self.0.read_entries(start, end)
    }
    fn write_batch(&mut self, batch: &Batch<'_>) -> urna_board::Result<()> {
        self.0.write_batch(batch)
    }
    fn latest_checkpoint(&self) -> urna_board::Result<Option<StoredCheckpoint>> {
        self.0.latest_checkpoint()
    }
    fn checkpoint(&self, size: u64) -> urna_board::Result<Option<StoredCheckpoint>> {
        self.0.checkpoint(size)
    }
    fn write_checkpoint(&mut self, cp: &StoredCheckpoint) -> urna_board::Result<()> {
        if cp.size > 5 {
            std::process::exit(CRASHED);
        }
        self.0.write_checkpoint(cp)
    }
}

const CHILD_DIR: &str = "URNA_BOARD_CRASH_CHILD_DIR";
const CRASHED: i32 = 86;

#[test]
fn a_killed_process_recovers_without_losing_or_forking() {
    if let Some(dir) = std::env::var_os(CHILD_DIR) {
        // The child: five acknowledged entries, then a batch that crashes the process
        // between storing and signing.
        let path = Path::new(&dir).join("board.db");
        let seq = Sequencer::start(
            AbortBeforeCheckpoint(SqliteStore::open(&path).unwrap()),
            signer(),
            config(),
        )
        .unwrap();
        for i in 0..5 {
            let ack = seq.append(&ballot(i)).unwrap();
            std::fs::write(
                Path::new(&dir).join(format!("ack{i}")),
                ack.checkpoint.note(),
            )
            .unwrap();
        }
        let _ = append_all(&seq, 5..12);
        unreachable!("the child must have crashed");
    }

    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_killed_process_recovers_without_losing_or_forking",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    // Not 0 (finished) nor 101 (a panic): the child died where it was meant to.
    assert_eq!(
        status.code(),
        Some(CRASHED),
        "the child crashed before signing: {status}"
    );

    let path = dir.path().join("board.db");
    let store = SqliteStore::open(&path).unwrap();
    let (stored, _) = store.head().unwrap();
    assert!(
        stored > 5,
        "the crashed batch was durably stored ({stored} entries)"
    );
    assert_eq!(
        store.latest_checkpoint().unwrap().unwrap().size,
        5,
        "but not signed"
    );
    drop(store);

    // Each acknowledgement the child received names a checkpoint the board still has.
    let v = [signer().verifier()];
    let mut acked = Vec::new();
    for i in 0..5u32 {
        let note = std::fs::read(dir.path().join(format!("ack{i}"))).unwrap();
        let cp = SignedCheckpoint::open(&note, ORIGIN, &v).unwrap();
        assert_eq!(cp.checkpoint().size(), u64::from(i) + 1);
        acked.push((
            i,
            Appended {
                index: u64::from(i),
                checkpoint: cp,
            },
        ));
    }

    // Restart: the crashed batch gets its checkpoint first, then the log continues.
    let seq = Sequencer::start(SqliteStore::open(&path).unwrap(), signer(), config()).unwrap();
    assert_eq!(seq.initial_checkpoint().checkpoint().size(), stored);
    acked.extend(append_all(&seq, 100..110));
    seq.shutdown();
    assert_eq!(audit(&path, &acked), stored + 10);
}

#[test]
fn encoded_submissions_must_be_valid_entries() {
    let dir = tempfile::tempdir().unwrap();
    let seq = Sequencer::start(
        SqliteStore::open(dir.path().join("b.db")).unwrap(),
        signer(),
        config(),
    )
    .unwrap();
    let mut bad = ballot(1).encode();
    bad[1] = 42;
    assert_eq!(
        seq.submit_encoded(bad).unwrap_err(),
        Error::Entry(urna_board::EntryError::UnknownKind(42))
    );
    let ack = seq
        .submit_encoded(ballot(1).encode())
        .unwrap()
        .wait()
        .unwrap();
    assert_eq!(ack.index, 0);
}

/// A reader's store that can be cut off: while `down` is set, every read fails as a
/// database that has gone away does; `tiles_down` fails only tile reads, so a reload
/// gets past the head and fails half-way.
struct Unreachable {
    inner: SqliteStore,
    down: std::sync::Arc<std::sync::atomic::AtomicU8>,
}

const UP: u8 = 0;
const DOWN: u8 = 1;
const TILES_DOWN: u8 = 2;

impl Unreachable {
    fn check(&self, what: u8) -> urna_board::Result<()> {
        match self.down.load(std::sync::atomic::Ordering::SeqCst) {
            UP => Ok(()),
            state if state == what || state == DOWN => {
                Err(StoreError::Backend("connection refused".into()).into())
            }
            _ => Ok(()),
        }
    }
}

impl Store for Unreachable {
    fn head(&self) -> urna_board::Result<(u64, TreeHash)> {
        self.check(DOWN)?;
        self.inner.head()
    }
    fn read_tile(&self, level: u8, index: u64) -> urna_board::Result<Option<Vec<u8>>> {
        self.check(TILES_DOWN)?;
        self.inner.read_tile(level, index)
    }
    fn read_entries(&self, start: u64, end: u64) -> urna_board::Result<Vec<Vec<u8>>> {
        self.check(DOWN)?;
        self.inner.read_entries(start, end)
    }
    fn write_batch(&mut self, batch: &Batch<'_>) -> urna_board::Result<()> {
        self.check(DOWN)?;
        self.inner.write_batch(batch)
    }
    fn latest_checkpoint(&self) -> urna_board::Result<Option<StoredCheckpoint>> {
        self.check(DOWN)?;
        self.inner.latest_checkpoint()
    }
    fn checkpoint(&self, size: u64) -> urna_board::Result<Option<StoredCheckpoint>> {
        self.check(DOWN)?;
        self.inner.checkpoint(size)
    }
    fn write_checkpoint(&mut self, cp: &StoredCheckpoint) -> urna_board::Result<()> {
        self.check(DOWN)?;
        self.inner.write_checkpoint(cp)
    }
}

/// A reader following another process's sequencer reloads the tree as it grows; a
/// reload that fails (the database gone, entirely or half-way through) leaves the
/// reader with the tree it had, still serving correct proofs, and the next reload
/// catches up. (A reader that lost its tree on a failed reload would serve nothing
/// more for the rest of its life.)
#[test]
fn a_failed_reload_keeps_the_reader_and_a_later_one_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("board.db");
    let seq = Sequencer::start(SqliteStore::open(&path).unwrap(), signer(), config()).unwrap();
    append_all(&seq, 0..300);

    let down = std::sync::Arc::new(std::sync::atomic::AtomicU8::new(UP));
    let store = Unreachable {
        inner: SqliteStore::open(&path).unwrap(),
        down: std::sync::Arc::clone(&down),
    };
    let mut reader = Log::open(store, ORIGIN).unwrap();
    let (size, root) = (reader.size(), reader.root());
    assert_eq!(size, 300);

    let last = append_all(&seq, 300..700).pop().unwrap().1;
    for state in [DOWN, TILES_DOWN] {
        down.store(state, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            reader.reload().unwrap_err(),
            Error::Store(StoreError::Backend("connection refused".into()))
        );
        assert_eq!(
            (reader.size(), reader.root()),
            (size, root),
            "state {state}"
        );
    }

    down.store(UP, std::sync::atomic::Ordering::SeqCst);
    let proof = reader.inclusion_proof(299, size).unwrap();
    verify_inclusion(&ballot(299).leaf_hash(), 299, size, &proof, &root).unwrap();
    reader.reload().unwrap();
    let newer = last.checkpoint.checkpoint();
    assert_eq!(reader.size(), newer.size());
    assert_eq!(reader.root(), *newer.root());
    let cons = reader.consistency_proof(size, newer.size()).unwrap();
    verify_consistency(size, newer.size(), &cons, &root, newer.root()).unwrap();
    seq.shutdown();
}
