//! The per-process registry of open boards: opening a board starts its sequencer,
//! writes the genesis entries of an empty log (the manifest, the election keys and
//! the key ceremony's records), and starts its poster — on the replica that holds the
//! board's writer lease; the others follow it (see `replica`).

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;
use urna_board::{Entry, EntryKind, Log, NoteVerifier, SequencerConfig, SignedCheckpoint};
use urna_store::{CastRecord, ElectionState, Phase, QueuedEntry, SpoiledBallot, Store};

use crate::board::{BallotSource, Board, BoxFuture, BoxedStore, Parts};
use crate::error::Error;
use crate::replica::{self, Takeover};
use crate::{ceremony, keys};

/// The registry of boards; one per process, cheap to clone.
pub struct Boards<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for Boards<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S> std::fmt::Debug for Boards<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Boards")
            .field("public_name", &self.inner.public_name)
            .finish_non_exhaustive()
    }
}

struct Inner<S> {
    store: S,
    public_name: String,
    config: SequencerConfig,
    open: Mutex<HashMap<(String, bool), Running>>,
}

/// An open board and its task (poster or follower).
struct Running {
    board: Arc<Board>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Running {
    async fn shutdown(self) {
        self.stop.send_replace(true);
        // The task ends at its next wait (stopping the sequencer before it releases
        // the lease); a panicked task has nothing to drain.
        let _ = self.task.await;
        self.board.stop_sequencer().await;
    }
}

impl<S: Store> Boards<S> {
    /// A registry over `store`; board origins are `<public_name>/<election id>`.
    pub fn new(store: S, public_name: &str, config: SequencerConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                public_name: public_name.to_owned(),
                config,
                open: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The board of the election's current phase (Test: the Test board; Open and
    /// Closed: the election's board), opened on first use.
    ///
    /// # Errors
    /// [`Error::UnknownElection`]; [`Error::WrongState`] in Draft; [`Error::NoKeys`]
    /// if the election's keys are missing; store and board failures.
    pub async fn get(&self, election: &str) -> Result<Arc<Board>, Error> {
        let record = self
            .inner
            .store
            .election(election)
            .await?
            .ok_or(Error::UnknownElection)?;
        let phase = match record.state {
            ElectionState::Draft => return Err(Error::WrongState(record.state)),
            ElectionState::Test => Phase::Test,
            ElectionState::Open | ElectionState::Closed => Phase::Open,
        };
        self.board(election, phase).await
    }

    /// The board of one phase of an election, opened on first use (e.g. the Test
    /// board after the election opened, to read it).
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn board(&self, election: &str, phase: Phase) -> Result<Arc<Board>, Error> {
        let mut open = self.inner.open.lock().await;
        let key = (election.to_owned(), phase == Phase::Test);
        if let Some(running) = open.get(&key) {
            if !running.board.is_stopped() {
                return Ok(Arc::clone(&running.board));
            }
            if let Some(stopped) = open.remove(&key) {
                tracing::warn!(
                    election,
                    "board sequencer stopped; reopening from the store"
                );
                stopped.shutdown().await;
            }
        }
        if phase == Phase::Open
            && let Some(test) = open.remove(&(election.to_owned(), true))
        {
            // The election has opened: the Test board is frozen.
            test.shutdown().await;
        }
        let running = self.open_board(election, phase).await?;
        let board = Arc::clone(&running.board);
        open.insert(key, running);
        Ok(board)
    }

    async fn open_board(&self, election: &str, phase: Phase) -> Result<Running, Error> {
        let store = &self.inner.store;
        let record = store
            .election(election)
            .await?
            .ok_or(Error::UnknownElection)?;
        let (secrets, joint) = keys::load(store, election).await?;
        let origin = keys::origin(&self.inner.public_name, election, phase);
        let signer = keys::board_signer(&secrets, &origin)?;
        let verifier = signer.verifier();
        let ceremony = ceremony::ceremony_bodies(store, election).await?;
        let genesis = [
            Entry::new(
                EntryKind::ElectionManifest,
                record.fingerprint,
                record.manifest.clone(),
            ),
            Entry::new(
                EntryKind::KeyCeremony,
                record.fingerprint,
                keys::election_keys(&secrets, &joint, &verifier)?.encode(),
            ),
        ]
        .into_iter()
        .chain(
            ceremony
                .into_iter()
                .map(|body| Entry::new(EntryKind::KeyCeremony, record.fingerprint, body)),
        )
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Error::Corrupt("genesis entry too large"))?;

        let to = Takeover {
            store: store.clone(),
            election: election.to_owned(),
            phase,
            origin: origin.clone(),
            config: self.inner.config,
            genesis,
        };
        let lease = store.acquire_writer(election, phase).await?;
        let sequencer = if lease.is_some() {
            Some(replica::start_sequencer(&to).await?)
        } else {
            None
        };
        let reader: BoxedStore = Box::new(store.open_board(election, phase).await?);
        let (reader, stored) = {
            let origin = origin.clone();
            tokio::task::spawn_blocking(move || {
                let log = Log::open(reader, &origin)?;
                let latest = log.latest_checkpoint()?;
                Ok::<_, urna_board::Error>((log, latest))
            })
            .await??
        };
        let latest = match &sequencer {
            Some(sequencer) => sequencer.initial_checkpoint().clone(),
            None => followed(stored, &verifier)?,
        };
        let board = Arc::new(Board::new(Parts {
            election: election.to_owned(),
            phase,
            fingerprint: record.fingerprint,
            verifier,
            sequencer,
            latest,
            reader,
            ballots: Box::new(Ballots {
                store: store.clone(),
                election: election.to_owned(),
            }),
        }));
        replica::genesis_check(&board, &to.genesis).await?;
        let leading = lease.is_some();
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(replica::run(
            to,
            Arc::downgrade(&board),
            board.waker(),
            stopped,
            lease,
        ));
        tracing::info!(election, origin, leading, "board open");
        Ok(Running { board, stop, task })
    }

    /// Stops every poster and sequencer (each integrates what is queued first).
    pub async fn shutdown(&self) {
        let running: Vec<Running> = self
            .inner
            .open
            .lock()
            .await
            .drain()
            .map(|(_, r)| r)
            .collect();
        for r in running {
            r.shutdown().await;
        }
    }
}

/// The latest checkpoint of a board another replica sequences, as stored: none yet
/// means that replica has not written genesis, and the caller should retry.
fn followed(
    stored: Option<urna_board::StoredCheckpoint>,
    verifier: &NoteVerifier,
) -> Result<SignedCheckpoint, Error> {
    let stored = stored.ok_or(Error::Unavailable)?;
    SignedCheckpoint::open(
        stored.note.as_bytes(),
        verifier.name(),
        std::slice::from_ref(verifier),
    )
    .map_err(|_| Error::Corrupt("a stored checkpoint does not verify"))
}

/// The ballot store as a board sees it.
struct Ballots<S> {
    store: S,
    election: String,
}

impl<S: Store> BallotSource for Ballots<S> {
    fn ballot(&self, code: [u8; 32]) -> BoxFuture<'_, Result<Option<CastRecord>, Error>> {
        Box::pin(async move { Ok(self.store.ballot(&self.election, &code).await?) })
    }

    fn spoiled(&self, code: [u8; 32]) -> BoxFuture<'_, Result<Option<SpoiledBallot>, Error>> {
        Box::pin(async move {
            let all = self.store.spoiled(&self.election).await?;
            Ok(all.into_iter().find(|s| s.tracking_code == code))
        })
    }

    fn first_unposted(&self, phase: Phase) -> BoxFuture<'_, Result<Option<CastRecord>, Error>> {
        Box::pin(async move {
            let first = self.store.unposted(&self.election, 1).await?.pop();
            Ok(first.filter(|r| r.phase == phase))
        })
    }

    fn enqueue(
        &self,
        phase: Phase,
        key: String,
        entry: Vec<u8>,
    ) -> BoxFuture<'_, Result<QueuedEntry, Error>> {
        Box::pin(async move {
            Ok(self
                .store
                .enqueue_entry(&self.election, phase, &key, entry)
                .await?)
        })
    }

    fn queued(
        &self,
        phase: Phase,
        key: String,
    ) -> BoxFuture<'_, Result<Option<QueuedEntry>, Error>> {
        Box::pin(async move { Ok(self.store.queued_entry(&self.election, phase, &key).await?) })
    }
}
