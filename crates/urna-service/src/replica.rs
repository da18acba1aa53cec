//! One sequencer among replicas: the task each open board runs.
//!
//! Every replica of a service opens the boards it serves, but only the one holding
//! the board's writer lease ([`BoardStore::acquire_writer`], a PostgreSQL advisory
//! lock; always granted by the embedded store) sequences it and runs the poster.
//! The others follow: they serve reads from the store and bring their latest
//! checkpoint up to the stored one, and a casting replica answers once its ballot's
//! board index and a checkpoint covering it are stored ([`Board::posted`]). Other
//! entries reach the board the same way from every replica: through the store's
//! entry outbox, drained by the leader's poster ([`Board::append`]).
//!
//! The leader checks its lease every [`LEASE_CHECK`]; when it is lost it stops its
//! sequencer (integrating what is queued) and follows. A follower tries to take the
//! lease every [`LEASE_CHECK`]; when it gets it, it starts a sequencer from the
//! stored head (which signs any stored but unsigned entries with the root they
//! already have), appends whatever genesis entries are missing, and reconciles the
//! outbox against the board's end exactly as after a crash. The store's log refuses
//! a batch that does not start at the stored size and a second root for a size, so
//! even two replicas that briefly both believe they lead cannot fork the board.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use urna_board::{Entry, Sequencer, SequencerConfig};
use urna_store::{BoardLease as _, Phase, Store};

use crate::board::{Board, FOLLOW_POLL};
use crate::error::Error;
use crate::{keys, poster};

/// How often the leader's task looks at the outbox when nobody wakes it (a follower
/// looks at the stored checkpoint every [`FOLLOW_POLL`]).
const POLL: Duration = Duration::from_millis(200);

/// How often the leader checks its lease, and a follower tries to take it.
pub(crate) const LEASE_CHECK: Duration = Duration::from_millis(500);

/// What a replica needs to take over a board.
pub(crate) struct Takeover<S> {
    pub store: S,
    pub election: String,
    pub phase: Phase,
    pub origin: String,
    pub config: SequencerConfig,
    /// The genesis entries (manifest, keys, ceremony records), appended if missing.
    pub genesis: Vec<Entry>,
}

impl<S: Store> Takeover<S> {
    /// Starts a sequencer from the stored head and installs it on `board`.
    async fn start(&self, board: &Board) -> Result<(), Error> {
        let sequencer = start_sequencer(self).await?;
        board.install_sequencer(sequencer);
        genesis_check(board, &self.genesis).await
    }
}

/// Opens a new log handle and starts a sequencer on it, off the executor.
pub(crate) async fn start_sequencer<S: Store>(to: &Takeover<S>) -> Result<Sequencer, Error> {
    let (secrets, _) = keys::load(&to.store, &to.election).await?;
    let signer = keys::board_signer(&secrets, &to.origin)?;
    let log = to.store.open_board(&to.election, to.phase).await?;
    let config = to.config;
    Ok(tokio::task::spawn_blocking(move || Sequencer::start(log, signer, config)).await??)
}

/// Runs until `stop` is set or the board is gone: the poster while this replica
/// holds `lease`, following (and trying to take over) otherwise. Before it returns
/// while leading, the sequencer is stopped, and only then the lease released.
pub(crate) async fn run<S: Store>(
    to: Takeover<S>,
    board: Weak<Board>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
    mut lease: Option<S::Lease>,
) {
    let mut reconciled = false;
    let mut checked = Instant::now();
    loop {
        let Some(current) = board.upgrade() else {
            return;
        };
        if *stop.borrow() || stop.has_changed().is_err() {
            if lease.is_some() {
                current.release_sequencer().await;
            }
            return;
        }
        let due = checked.elapsed() >= LEASE_CHECK;
        if due {
            checked = Instant::now();
        }
        match &lease {
            Some(held) => {
                let failed = current.is_stopped();
                if (due || failed) && !held.held().await {
                    tracing::warn!(
                        election = to.election,
                        "lost the board's writer lease; following the replica that sequences it"
                    );
                    current.release_sequencer().await;
                    lease = None;
                } else if failed {
                    // A storage failure (or a batch refused because the stored log
                    // moved on): start again from the stored head.
                    tracing::warn!(
                        election = to.election,
                        "the board's sequencer stopped; restarting it"
                    );
                    current.release_sequencer().await;
                    if let Err(error) = to.start(&current).await {
                        tracing::warn!(election = to.election, %error, "restarting the sequencer failed");
                    }
                    reconciled = false;
                } else {
                    poster::step(&to.store, &current, &mut reconciled).await;
                }
            }
            None => {
                if let Err(error) = current.refresh().await {
                    tracing::warn!(election = to.election, %error, "reading the board failed");
                }
                if due {
                    lease = take_over(&to, &current).await;
                    reconciled = false;
                }
            }
        }
        drop(current);
        let poll = if lease.is_some() { POLL } else { FOLLOW_POLL };
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(poll) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Tries to take the lease and, with it, to start sequencing the board.
async fn take_over<S: Store>(to: &Takeover<S>, board: &Board) -> Option<S::Lease> {
    let lease = match to.store.acquire_writer(&to.election, to.phase).await {
        Ok(lease) => lease?,
        Err(error) => {
            tracing::warn!(election = to.election, %error, "could not ask for the writer lease");
            return None;
        }
    };
    match to.start(board).await {
        Ok(()) => {
            tracing::info!(
                election = to.election,
                size = board.latest().checkpoint().size(),
                "took over sequencing the board"
            );
            Some(lease)
        }
        Err(error) => {
            tracing::warn!(election = to.election, %error, "taking over the board failed");
            board.release_sequencer().await;
            None
        }
    }
}

/// Appends the genesis entries the log lacks (entry 0: the manifest, entry 1: the
/// election's public keys, entries 2..: the key ceremony's records), all in one
/// sequencing step, and checks those it has. On a board this replica does not
/// sequence, only checks.
pub(crate) async fn genesis_check(board: &Board, genesis: &[Entry]) -> Result<(), Error> {
    let have = board.entries(0, genesis.len() as u64).await?;
    for (stored, expected) in have.iter().zip(genesis) {
        if *stored != expected.encode() {
            return Err(Error::Corrupt("the board's genesis entries differ"));
        }
    }
    let missing = genesis.get(have.len()..).unwrap_or_default();
    if missing.is_empty() || !board.is_sequencing() {
        return Ok(());
    }
    for result in board.append_all(missing).await {
        result?;
    }
    Ok(())
}
