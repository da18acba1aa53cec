//! One election phase's bulletin board: the sequencer that appends, a reader that
//! serves entries, proofs and tiles from the same store, the latest signed checkpoint,
//! and the hand-off between casting and the poster.
//!
//! # Non-ballot entries
//! Every entry other than a ballot and the genesis entries (a spoiled ballot,
//! polls-closed, the tally's records) goes through the store's entry outbox
//! ([`EntryOutbox`](urna_store::EntryOutbox)) on every replica, the one that sequences
//! the board included: [`Board::append`] enqueues the encoded entry under its key,
//! wakes the poster and waits until the store records the entry's board index and the
//! latest checkpoint covers it. Only the poster of the replica holding the board's
//! writer lease appends them (after the ballots accepted before they were enqueued),
//! so the outbox is the one source of truth for what is to be on the board, whichever
//! replica a request reached, and the same key enqueued twice (a retry; two replicas
//! closing the polls at once) is one entry. The key is the hex leaf hash of the
//! encoded entry, except for polls-closed, whose key is [`POLLS_CLOSED_KEY`]: a board
//! has at most one, the first enqueued.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use urna_board::tiles::MAX_TILE_LEVEL;
use urna_board::{
    Appended, Entry, EntryKind, Log, NoteVerifier, Pending, Sequencer, SignedCheckpoint, TileId,
    TileKind, TreeHash,
};
use urna_crypto::encoding::Encoder;
use urna_store::{CastRecord, ElectionState, Phase, QueuedEntry, SpoiledBallot};

use crate::error::Error;

/// How long [`Board::posted`], [`Board::append`] and [`Board::flush`] wait for the
/// poster.
pub const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// The outbox key of the polls-closed entry: one per board, the first enqueued.
pub const POLLS_CLOSED_KEY: &str = "polls-closed";

/// How often a board another replica sequences looks at the store for a newer
/// checkpoint (each one wakes the waiters for their ballots' index).
pub(crate) const FOLLOW_POLL: Duration = Duration::from_millis(50);

/// The longest a waiter for a ballot's index goes without looking at the store.
const RECHECK: Duration = Duration::from_secs(1);

/// Entries per read of the board (one C2SP entry bundle).
pub(crate) const READ_CHUNK: u64 = 256;

/// A log store behind a box, so that a board does not name the backend.
pub(crate) type BoxedStore = Box<dyn urna_board::Store>;

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a board reads from the ballot store and queues in the entry outbox
/// (object-safe, so [`Board`] is not generic).
pub(crate) trait BallotSource: Send + Sync {
    /// The ballot with this tracking code.
    fn ballot(&self, code: [u8; 32]) -> BoxFuture<'_, Result<Option<CastRecord>, Error>>;
    /// The spoiled ballot with this tracking code.
    fn spoiled(&self, code: [u8; 32]) -> BoxFuture<'_, Result<Option<SpoiledBallot>, Error>>;
    /// The oldest ballot of `phase` not yet on the board.
    fn first_unposted(&self, phase: Phase) -> BoxFuture<'_, Result<Option<CastRecord>, Error>>;
    /// Enqueues an encoded entry under `key` unless the key is taken; the stored row.
    fn enqueue(
        &self,
        phase: Phase,
        key: String,
        entry: Vec<u8>,
    ) -> BoxFuture<'_, Result<QueuedEntry, Error>>;
    /// The outbox row under `key`.
    fn queued(
        &self,
        phase: Phase,
        key: String,
    ) -> BoxFuture<'_, Result<Option<QueuedEntry>, Error>>;
}

/// Non-ballot entries already on the board, by leaf hash, up to `scanned`.
#[derive(Default)]
struct Appendix {
    scanned: u64,
    leaves: HashMap<TreeHash, u64>,
}

/// The bulletin board of one election in one phase (Test or Open).
pub struct Board {
    election: String,
    phase: Phase,
    fingerprint: [u8; 32],
    verifier: NoteVerifier,
    sequencer: Mutex<Option<Sequencer>>,
    stopped: AtomicBool,
    reader: Arc<Mutex<Log<BoxedStore>>>,
    latest: watch::Sender<SignedCheckpoint>,
    posted: watch::Sender<u64>,
    /// Bumped by the poster each time it records outbox entries' indexes.
    recorded: watch::Sender<u64>,
    wake: Arc<Notify>,
    ballots: Box<dyn BallotSource>,
    appendix: tokio::sync::Mutex<Appendix>,
    appends: AppendMetrics,
}

/// How the poster's appends go (OpenTelemetry metrics API): entries per append and
/// how long the sequencer took to make them durable under a signed checkpoint.
struct AppendMetrics {
    entries: opentelemetry::metrics::Histogram<u64>,
    duration: opentelemetry::metrics::Histogram<f64>,
}

impl AppendMetrics {
    fn new() -> Self {
        let meter = opentelemetry::global::meter("urna");
        Self {
            entries: meter
                .u64_histogram("urna.board.append.entries")
                .with_description("Entries per append of the poster (one sequencer batch or less)")
                .with_boundaries(vec![1.0, 4.0, 16.0, 64.0, 256.0, 1024.0])
                .build(),
            duration: meter
                .f64_histogram("urna.board.append.duration")
                .with_unit("s")
                .with_description(
                    "From submitting entries to the sequencer to their signed checkpoint",
                )
                .with_boundaries(vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
                ])
                .build(),
        }
    }
}

impl std::fmt::Debug for Board {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Board")
            .field("election", &self.election)
            .field("phase", &self.phase)
            .field("origin", &self.verifier.name())
            .finish_non_exhaustive()
    }
}

/// What [`Board::new`] needs.
pub(crate) struct Parts {
    pub election: String,
    pub phase: Phase,
    pub fingerprint: [u8; 32],
    pub verifier: NoteVerifier,
    /// The sequencer if this process sequences the board, `None` on a replica that
    /// only follows it.
    pub sequencer: Option<Sequencer>,
    /// The latest signed checkpoint known (the sequencer's initial one when leading).
    pub latest: SignedCheckpoint,
    pub reader: Log<BoxedStore>,
    pub ballots: Box<dyn BallotSource>,
}

impl Board {
    pub(crate) fn new(parts: Parts) -> Self {
        let latest = parts.latest;
        Self {
            election: parts.election,
            phase: parts.phase,
            fingerprint: parts.fingerprint,
            verifier: parts.verifier,
            sequencer: Mutex::new(parts.sequencer),
            stopped: AtomicBool::new(false),
            reader: Arc::new(Mutex::new(parts.reader)),
            latest: watch::Sender::new(latest),
            posted: watch::Sender::new(0),
            recorded: watch::Sender::new(0),
            wake: Arc::new(Notify::new()),
            ballots: parts.ballots,
            appendix: tokio::sync::Mutex::new(Appendix::default()),
            appends: AppendMetrics::new(),
        }
    }

    /// The election's id.
    pub fn election(&self) -> &str {
        &self.election
    }

    /// The phase this board records (Test or Open).
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The election's fingerprint, which every entry of this board carries.
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// The latest signed checkpoint this process knows of (on a replica that follows,
    /// as of its last look at the store).
    pub fn latest(&self) -> SignedCheckpoint {
        self.latest.borrow().clone()
    }

    /// The latest signed checkpoint, looking at the store first on a replica that
    /// follows, so that a client sent here after another replica gave it a receipt
    /// never sees an older tree than that receipt's (the checkpoint is stored before
    /// any receipt names it). If the store cannot be read, the last one known.
    pub async fn current(&self) -> SignedCheckpoint {
        if let Err(error) = self.refresh().await {
            tracing::warn!(election = self.election, %error, "reading the board's checkpoint failed");
        }
        self.latest()
    }

    /// The latest checkpoint when it covers `size`, else [`Board::current`].
    async fn covering(&self, size: u64) -> SignedCheckpoint {
        let latest = self.latest();
        if size <= latest.checkpoint().size() {
            return latest;
        }
        self.current().await
    }

    /// The key that verifies this board's checkpoints (its name is the origin).
    pub fn verifier(&self) -> NoteVerifier {
        self.verifier.clone()
    }

    /// Has a non-ballot entry appended (see the module documentation): enqueues it in
    /// the store's entry outbox under its key (the hex leaf hash; [`POLLS_CLOSED_KEY`]
    /// for polls-closed) and waits until the replica that sequences the board, this
    /// one or another, has appended it and a signed checkpoint covers it. An entry
    /// already on the board is not appended again; when the key was enqueued before
    /// (a retry, or a second polls-closed), the first entry's index is returned.
    /// Ballots are appended by the poster, never through this.
    ///
    /// # Errors
    /// [`Error::Unavailable`] if the entry is not on the board within
    /// [`POST_TIMEOUT`] (it stays queued: a retry waits for the same entry);
    /// [`Error::WrongState`] if the election's state does not let this board take
    /// entries; store and board failures.
    pub async fn append(&self, entry: Entry) -> Result<Appended, Error> {
        let key = entry_key(&entry);
        self.append_keyed(entry, &key).await
    }

    /// The same as [`append`](Self::append), which never appends an entry twice
    /// either: a retry (of a spoiled ballot, of polls-closed) gets the index of the
    /// entry on the board.
    ///
    /// # Errors
    /// As [`append`](Self::append).
    pub async fn append_once(&self, entry: Entry) -> Result<Appended, Error> {
        self.append(entry).await
    }

    /// [`append`](Self::append) under an outbox key of the caller's (at most
    /// [`urna_store::outbox::MAX_KEY_LEN`] bytes): the first entry enqueued under a
    /// key is the one appended, and every caller with that key gets its index.
    ///
    /// # Errors
    /// As [`append`](Self::append); an empty or too long key is a store error.
    pub async fn append_keyed(&self, entry: Entry, key: &str) -> Result<Appended, Error> {
        let deadline = Instant::now() + POST_TIMEOUT;
        let mut queued = self
            .ballots
            .enqueue(self.phase, key.to_owned(), entry.encode())
            .await?;
        loop {
            // Subscribed before the store is read, so a change after the read wakes
            // this waiter.
            let mut recorded = self.recorded.subscribe();
            let mut latest = self.latest.subscribe();
            if let Some(index) = queued.board_index {
                if index >= self.latest().checkpoint().size() {
                    // Indexes are recorded after the checkpoint covering them is
                    // stored: another replica signed it.
                    self.refresh().await?;
                }
                let checkpoint = self.latest();
                if index < checkpoint.checkpoint().size() {
                    return Ok(Appended { index, checkpoint });
                }
            }
            if Instant::now() >= deadline {
                return Err(Error::Unavailable);
            }
            self.wake();
            // The leader's poster says when it recorded indexes; a follower learns of
            // them from the store, looked at as often as it looks for checkpoints.
            let bound = if self.is_sequencing() {
                RECHECK
            } else {
                FOLLOW_POLL
            };
            let until = deadline.min(Instant::now() + bound);
            let _ = tokio::time::timeout_at(until, async {
                tokio::select! {
                    _ = recorded.changed() => {}
                    _ = latest.changed() => {}
                }
            })
            .await;
            queued = self
                .ballots
                .queued(self.phase, key.to_owned())
                .await?
                // Only the Test phase's rows are ever removed, when the election
                // opens: the Test board is frozen.
                .ok_or(Error::WrongState(ElectionState::Open))?;
        }
    }

    /// Tells waiters for outbox entries that the poster recorded indexes.
    pub(crate) fn mark_recorded(&self) {
        self.recorded.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Where the non-ballot entry with this leaf hash is on the board, if it is (up
    /// to the latest checkpoint).
    ///
    /// # Errors
    /// Reads of the board may fail with [`Error::Board`].
    pub(crate) async fn find_leaf(&self, leaf: &TreeHash) -> Result<Option<u64>, Error> {
        let mut appendix = self.appendix.lock().await;
        self.scan(&mut appendix, leaf).await
    }

    /// Brings the index of non-ballot entries up to the latest checkpoint and looks
    /// up `leaf` in it.
    async fn scan(&self, appendix: &mut Appendix, leaf: &TreeHash) -> Result<Option<u64>, Error> {
        let size = self.latest().checkpoint().size();
        while appendix.scanned < size {
            let end = size.min(appendix.scanned + READ_CHUNK);
            let entries = self.entries(appendix.scanned, end).await?;
            for (offset, bytes) in entries.iter().enumerate() {
                let kind = Entry::decode(bytes).map(|e| e.kind());
                if kind.is_ok_and(|k| k != EntryKind::Ballot) {
                    let index = appendix.scanned + offset as u64;
                    appendix.leaves.insert(TreeHash::leaf(bytes), index);
                }
            }
            appendix.scanned = end;
        }
        Ok(appendix.leaves.get(leaf).copied())
    }

    /// Where the ballot or spoiled ballot with this tracking code is on the board, and
    /// the latest checkpoint (which covers it). Does not wait for the poster.
    ///
    /// # Errors
    /// [`Error::UnknownBallot`] if neither is on this board.
    pub async fn located(&self, tracking_code: [u8; 32]) -> Result<(u64, SignedCheckpoint), Error> {
        let posted = self
            .ballots
            .ballot(tracking_code)
            .await?
            .filter(|r| r.phase == self.phase)
            .and_then(|r| r.board_index);
        let index = match posted {
            Some(index) => Some(index),
            None => match self.ballots.spoiled(tracking_code).await? {
                Some(spoiled) => {
                    let body = spoiled_body(&spoiled.ballot, &spoiled.opening);
                    let entry = Entry::new(EntryKind::SpoiledBallot, self.fingerprint, body)
                        .map_err(|_| Error::UnknownBallot)?;
                    let mut appendix = self.appendix.lock().await;
                    self.scan(&mut appendix, &entry.leaf_hash()).await?
                }
                None => None,
            },
        };
        let latest = self.latest();
        match index {
            Some(index) if index < latest.checkpoint().size() => Ok((index, latest)),
            _ => Err(Error::UnknownBallot),
        }
    }

    /// Submits entries in order and waits for them. The results are in order; after the
    /// first refused submission the rest are not submitted (and are refused too).
    pub(crate) async fn append_all(&self, entries: &[Entry]) -> Vec<Result<Appended, Error>> {
        let started = Instant::now();
        let mut pending: Vec<Pending> = Vec::with_capacity(entries.len());
        let mut refused = None;
        {
            let guard = self
                .sequencer
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let Some(sequencer) = guard.as_ref() else {
                // Another replica sequences this board (or this one is stopping): the
                // caller may retry, here or there.
                return entries.iter().map(|_| Err(Error::Unavailable)).collect();
            };
            for entry in entries {
                let submitted = sequencer.submit(entry);
                match submitted {
                    Ok(p) => pending.push(p),
                    Err(e) => {
                        refused = Some(e);
                        break;
                    }
                }
            }
        }
        let waited = tokio::task::spawn_blocking(move || {
            pending.into_iter().map(Pending::wait).collect::<Vec<_>>()
        })
        .await;
        let mut results: Vec<Result<Appended, Error>> = match waited {
            Ok(done) => done.into_iter().map(|r| self.acknowledged(r)).collect(),
            Err(e) => vec![Err(e.into())],
        };
        if let Some(e) = refused {
            let e = self.acknowledged(Err(e));
            results.push(e);
        }
        while results.len() < entries.len() {
            results.push(Err(Error::Unavailable));
        }
        let appended = results.iter().filter(|r| r.is_ok()).count();
        if appended > 0 {
            self.appends
                .entries
                .record(u64::try_from(appended).unwrap_or(u64::MAX), &[]);
            self.appends
                .duration
                .record(started.elapsed().as_secs_f64(), &[]);
        }
        results
    }

    /// Records what an acknowledgement means for the board: a newer checkpoint, or a
    /// stopped sequencer.
    fn acknowledged(&self, result: urna_board::Result<Appended>) -> Result<Appended, Error> {
        match result {
            Ok(appended) => {
                self.advance(appended.checkpoint.clone());
                Ok(appended)
            }
            Err(e) => {
                if e == urna_board::Error::SequencerStopped {
                    self.stopped.store(true, Ordering::Relaxed);
                }
                Err(e.into())
            }
        }
    }

    /// Whether the sequencer has stopped (a storage failure): the registry then opens
    /// the board afresh, recovering from the store.
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Wakes the poster (casting calls it after each accepted ballot).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(crate) fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Tells waiters that every ballot up to cast position `seq` is on the board.
    pub(crate) fn mark_posted(&self, seq: u64) {
        self.posted.send_if_modified(|posted| {
            let newer = seq > *posted;
            if newer {
                *posted = seq;
            }
            newer
        });
    }

    /// Waits (at most [`POST_TIMEOUT`]) until the ballot is on the board (put there by
    /// this process's poster, or by the replica that sequences the board); returns its
    /// leaf index and a signed checkpoint that covers it.
    ///
    /// # Errors
    /// [`Error::Unavailable`] on timeout; [`Error::UnknownBallot`] if no ballot of this
    /// board has the tracking code.
    pub async fn posted(&self, tracking_code: [u8; 32]) -> Result<(u64, SignedCheckpoint), Error> {
        let deadline = Instant::now() + POST_TIMEOUT;
        loop {
            let record = self
                .ballots
                .ballot(tracking_code)
                .await?
                .filter(|r| r.phase == self.phase)
                .ok_or(Error::UnknownBallot)?;
            if let Some(index) = record.board_index {
                if index >= self.latest().checkpoint().size() {
                    // Indexes are recorded after the checkpoint covering them is
                    // stored: another replica signed it.
                    self.refresh().await?;
                }
                let latest = self.latest();
                if index < latest.checkpoint().size() {
                    return Ok((index, latest));
                }
            }
            self.wait_posted(record.seq, deadline).await?;
        }
    }

    /// Waits until this process's poster has posted cast position `seq`, or for one
    /// poll of the store when another replica posts; [`Error::Unavailable`] once
    /// `deadline` has passed.
    async fn wait_posted(&self, seq: u64, deadline: Instant) -> Result<(), Error> {
        if Instant::now() >= deadline {
            return Err(Error::Unavailable);
        }
        let mut posted = self.posted.subscribe();
        let mut latest = self.latest.subscribe();
        self.wake();
        // However it ends, the caller looks at the store again; the bound covers a
        // change of leader while waiting.
        let until = deadline.min(Instant::now() + RECHECK);
        if self.is_sequencing() {
            let _ = tokio::time::timeout_at(until, posted.wait_for(|p| *p >= seq)).await;
        } else {
            // The sequencing replica records indexes once their checkpoint is stored:
            // look again when this replica learns of a newer checkpoint.
            let _ = tokio::time::timeout_at(until, latest.changed()).await;
        }
        Ok(())
    }

    /// Waits (at most [`POST_TIMEOUT`]) until every ballot recorded in the store for
    /// this board's phase is on the board.
    ///
    /// # Errors
    /// [`Error::Unavailable`] on timeout; store errors.
    pub async fn flush(&self) -> Result<(), Error> {
        let deadline = Instant::now() + POST_TIMEOUT;
        while let Some(record) = self.ballots.first_unposted(self.phase).await? {
            self.wait_posted(record.seq, deadline).await?;
        }
        self.refresh().await
    }

    /// Brings the latest checkpoint up to the one stored, when another replica
    /// sequences the board (a no-op for the sequencing replica, which signs them).
    ///
    /// # Errors
    /// Reads of the board may fail with [`Error::Board`]; a stored checkpoint that
    /// does not verify under the board's key is [`Error::Corrupt`].
    pub(crate) async fn refresh(&self) -> Result<(), Error> {
        if self.is_sequencing() {
            return Ok(());
        }
        let reader = Arc::clone(&self.reader);
        let stored = tokio::task::spawn_blocking(move || {
            let log = reader.lock().unwrap_or_else(PoisonError::into_inner);
            log.latest_checkpoint()
        })
        .await??;
        let Some(stored) = stored else {
            return Ok(());
        };
        if stored.size <= self.latest().checkpoint().size() {
            return Ok(());
        }
        let signed = SignedCheckpoint::open(
            stored.note.as_bytes(),
            self.verifier.name(),
            std::slice::from_ref(&self.verifier),
        )
        .map_err(|_| Error::Corrupt("a stored checkpoint does not verify"))?;
        self.advance(signed);
        Ok(())
    }

    /// Moves the latest checkpoint forward (never back).
    fn advance(&self, checkpoint: SignedCheckpoint) {
        let size = checkpoint.checkpoint().size();
        self.latest.send_if_modified(|latest| {
            let newer = size > latest.checkpoint().size();
            if newer {
                *latest = checkpoint;
            }
            newer
        });
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] unless `index < size ≤` the latest checkpoint's size.
    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<TreeHash>, Error> {
        if index >= size || size > self.covering(size).await.checkpoint().size() {
            return Err(Error::OutOfRange);
        }
        self.read(move |log| log.inclusion_proof(index, size)).await
    }

    /// The consistency proof between the trees of `old` and `new` entries.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] unless `1 ≤ old ≤ new ≤` the latest checkpoint's size.
    pub async fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<TreeHash>, Error> {
        if old == 0 || old > new || new > self.covering(new).await.checkpoint().size() {
            return Err(Error::OutOfRange);
        }
        self.read(move |log| log.consistency_proof(old, new)).await
    }

    /// The encoded entries `start..end`, cut at the latest checkpoint's size.
    ///
    /// # Errors
    /// Reads of the board may fail with [`Error::Board`].
    pub async fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, Error> {
        let end = end.min(self.latest().checkpoint().size());
        if start >= end {
            return Ok(Vec::new());
        }
        self.read(move |log| log.entries(start, end)).await
    }

    /// A C2SP tlog-tiles hash tile or entry bundle by its path (`tile/0/x001/234`,
    /// `tile/entries/000.p/5`), if the latest checkpoint's tree has it.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for a malformed path or a tile the tree does not have.
    pub async fn tile(&self, path: &str) -> Result<Vec<u8>, Error> {
        let id = TileId::parse(path).map_err(|_| Error::OutOfRange)?;
        let level = match id.kind {
            TileKind::Hash(l) if l <= MAX_TILE_LEVEL => u32::from(l) * 8,
            TileKind::Hash(_) => return Err(Error::OutOfRange),
            TileKind::Entries => 0,
        };
        let width = id.width.map_or(READ_CHUNK, u64::from);
        let count = self.latest().checkpoint().size() >> level;
        let fits = id
            .index
            .checked_mul(READ_CHUNK)
            .and_then(|s| s.checked_add(width))
            .is_some_and(|end| end <= count);
        if !fits {
            return Err(Error::OutOfRange);
        }
        self.read(move |log| log.tile(&id)).await
    }

    /// Runs `f` on the reader, off the executor, after bringing the reader up to the
    /// latest checkpoint.
    async fn read<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Log<BoxedStore>) -> urna_board::Result<T> + Send + 'static,
    {
        let reader = Arc::clone(&self.reader);
        let size = self.latest().checkpoint().size();
        tokio::task::spawn_blocking(move || {
            let mut log = reader.lock().unwrap_or_else(PoisonError::into_inner);
            if log.size() < size {
                // The sequencer writes before it signs, so the store has at least
                // `size` entries. A failed reload (the store unreachable) leaves the
                // reader as it was, to be reloaded by the next read.
                log.reload()?;
            }
            f(&log)
        })
        .await?
        .map_err(Error::from)
    }

    /// Whether this process sequences the board (rather than following the replica
    /// that does).
    pub fn is_sequencing(&self) -> bool {
        self.sequencer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Starts sequencing here (this process took over the board, or restarts after a
    /// failure): appends go to `sequencer` from now on.
    pub(crate) fn install_sequencer(&self, sequencer: Sequencer) {
        let initial = sequencer.initial_checkpoint().clone();
        *self
            .sequencer
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(sequencer);
        self.stopped.store(false, Ordering::Relaxed);
        self.advance(initial);
    }

    /// Stops sequencing here after integrating what is queued; the board goes on
    /// following the replica that sequences next.
    pub(crate) async fn release_sequencer(&self) {
        let sequencer = self
            .sequencer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(sequencer) = sequencer {
            // A failed join means the thread is gone already; nothing to recover.
            let _ = tokio::task::spawn_blocking(move || sequencer.shutdown()).await;
        }
    }

    /// Stops the sequencer after it integrates what is queued.
    pub(crate) async fn stop_sequencer(&self) {
        self.release_sequencer().await;
        self.stopped.store(true, Ordering::Relaxed);
    }
}

/// The outbox key of an entry: [`POLLS_CLOSED_KEY`] for polls-closed, the hex leaf
/// hash of its encoding otherwise.
pub fn entry_key(entry: &Entry) -> String {
    if entry.kind() == EntryKind::PollsClosed {
        POLLS_CLOSED_KEY.to_owned()
    } else {
        entry.leaf_hash().to_string()
    }
}

/// The body of a spoiled-ballot entry: the canonical ballot and its encoded opening,
/// each length-prefixed (`u32` length ‖ bytes).
pub fn spoiled_body(ballot: &[u8], opening: &[u8]) -> Vec<u8> {
    let mut enc = Encoder::new();
    enc.bytes(ballot).bytes(opening);
    enc.finish()
}
