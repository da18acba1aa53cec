//! The per-process registry of open boards: opening a board starts its sequencer,
//! writes the genesis entries of an empty log (the manifest, the election keys and
//! the key ceremony's records), and starts its poster.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;
use urna_board::{Entry, EntryKind, Log, Sequencer, SequencerConfig};
use urna_store::{CastRecord, ElectionState, Phase, SpoiledBallot, Store};

use crate::board::{BallotSource, Board, BoxFuture, BoxedStore, Parts};
use crate::error::Error;
use crate::{ceremony, keys, poster};

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

/// An open board and its poster.
struct Running {
    board: Arc<Board>,
    stop: watch::Sender<bool>,
    poster: JoinHandle<()>,
}

impl Running {
    async fn shutdown(self) {
        self.stop.send_replace(true);
        // The poster ends at its next wait; a panicked poster has nothing to drain.
        let _ = self.poster.await;
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

        let log = store.open_board(election, phase).await?;
        let config = self.inner.config;
        let sequencer =
            tokio::task::spawn_blocking(move || Sequencer::start(log, signer, config)).await??;
        let reader: BoxedStore = Box::new(store.open_board(election, phase).await?);
        let reader_origin = origin.clone();
        let reader =
            tokio::task::spawn_blocking(move || Log::open(reader, &reader_origin)).await??;
        let board = Arc::new(Board::new(Parts {
            election: election.to_owned(),
            phase,
            fingerprint: record.fingerprint,
            verifier,
            sequencer,
            reader,
            ballots: Box::new(Ballots {
                store: store.clone(),
                election: election.to_owned(),
            }),
        }));
        genesis_check(&board, &genesis).await?;
        let (stop, stopped) = watch::channel(false);
        let poster = tokio::spawn(poster::run(
            store.clone(),
            Arc::downgrade(&board),
            board.waker(),
            stopped,
        ));
        tracing::info!(election, origin, "board open");
        Ok(Running {
            board,
            stop,
            poster,
        })
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

/// Appends the genesis entries the log lacks (entry 0: the manifest, entry 1: the
/// election's public keys, entries 2..: the key ceremony's records), all in one
/// sequencing step, and checks those it has.
async fn genesis_check(board: &Board, genesis: &[Entry]) -> Result<(), Error> {
    let have = board.entries(0, genesis.len() as u64).await?;
    for (stored, expected) in have.iter().zip(genesis) {
        if *stored != expected.encode() {
            return Err(Error::Corrupt("the board's genesis entries differ"));
        }
    }
    let missing = genesis.get(have.len()..).unwrap_or_default();
    for result in board.append_all(missing).await {
        result?;
    }
    Ok(())
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
}
