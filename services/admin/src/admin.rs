//! The admin domain: an election's life cycle, its roll and its status, over any
//! [`Store`], independent of gRPC.

use std::sync::Arc;

use rand::rngs::{ChaCha20Rng, SysRng};
use rand::{SeedableRng, TryRng};
use urna_board::{Entry, EntryKind};
use urna_crypto::BlindSigningKey;
use urna_election::{Manifest, Revoting};
use urna_service::{Board, Boards, Clock, SystemClock};
use urna_store::{
    Applied, CeremonyPhase, CodeParams, Conflict, ElectionRecord, ElectionSecrets, ElectionState,
    Phase, Store,
};
use urna_verify::PollsClosed;
use zeroize::Zeroizing;

use crate::error::{AdminError, RollError, RollProblem};
use crate::roll::{self, NewCode};

/// How many board entries one read fetches while looking for the polls-closed entry.
const SCAN_CHUNK: u64 = 256;

/// The admin service's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdminConfig {
    /// The size of each election's RSA blind-signing key, in bits (default 2048).
    pub rsa_bits: usize,
    /// The Argon2id cost of voting-code hashes (default: OWASP's recommendation).
    pub code_params: CodeParams,
    /// How many threads hash voting codes during an import (default 2).
    pub hash_threads: usize,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            rsa_bits: 2048,
            code_params: CodeParams::default(),
            hash_threads: 2,
        }
    }
}

/// What applying a manifest did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    /// The election's manifest id.
    pub election_id: String,
    /// The fingerprint of the applied manifest.
    pub fingerprint: [u8; 32],
    /// Created, unchanged or replaced.
    pub outcome: Applied,
    /// The election's state afterwards.
    pub state: ElectionState,
}

/// What an import did.
#[derive(Debug)]
pub struct Imported {
    /// How many voters were added.
    pub imported: u64,
    /// How many voters the roll holds now.
    pub total: u64,
    /// Each new voter's voting code, in CSV order: the only time they exist in the
    /// clear.
    pub codes: Vec<NewCode>,
}

/// The state after opening.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opened {
    /// Test or Open.
    pub state: ElectionState,
    /// How many ballots cast in Test were discarded (0 when moving to Test).
    pub discarded_test_ballots: u64,
}

/// An election's state and counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The election's manifest id.
    pub election_id: String,
    /// The election fingerprint.
    pub fingerprint: [u8; 32],
    /// The election's title.
    pub title: String,
    /// The life-cycle state.
    pub state: ElectionState,
    /// The re-voting policy.
    pub revoting: Revoting,
    /// When polls are scheduled to open (Unix seconds).
    pub start: u64,
    /// When polls are scheduled to close (Unix seconds).
    pub end: u64,
    /// Voters on the roll.
    pub voters: u64,
    /// Credentials issued.
    pub credentials_issued: u64,
    /// Ballots recorded in the current phase (superseded ones included).
    pub ballots_cast: u64,
    /// Ballots spoiled by a Benaloh challenge.
    pub ballots_spoiled: u64,
    /// The size of the current board's latest checkpoint (0 in Draft).
    pub board_size: u64,
}

/// The admin domain over a store and the process's boards; cheap to clone.
pub struct Admin<S> {
    inner: Arc<Inner<S>>,
}

struct Inner<S> {
    store: S,
    boards: Boards<S>,
    config: AdminConfig,
    clock: Arc<dyn Clock>,
    /// Serialises closes, so two concurrent closes append one polls-closed entry
    /// (one admin process serves a store, as one process sequences each board).
    closing: tokio::sync::Mutex<()>,
}

impl<S> Clone for Admin<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S: Store> Admin<S> {
    /// The admin domain on `store`, appending through `boards` (the process's one
    /// registry), with the system clock.
    pub fn new(store: S, boards: Boards<S>, config: AdminConfig) -> Self {
        Self::with_clock(store, boards, config, Arc::new(SystemClock))
    }

    /// As [`Admin::new`], with the clock that dates the polls-closed entry.
    pub fn with_clock(
        store: S,
        boards: Boards<S>,
        config: AdminConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                boards,
                config,
                clock,
                closing: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Applies a manifest (GitOps): creates the election in Draft with fresh secrets,
    /// or does nothing for the same manifest, or replaces a Draft election's manifest.
    ///
    /// # Errors
    /// [`AdminError::Manifest`] for a manifest that does not validate,
    /// [`AdminError::ManifestChanged`] for a changed manifest after Draft,
    /// [`AdminError::StyleInUse`] for a change that drops a style the roll uses.
    pub async fn create(&self, yaml: &str) -> Result<Created, AdminError> {
        let manifest = Manifest::from_yaml(yaml).map_err(AdminError::Manifest)?;
        let store = &self.inner.store;
        let outcome = store
            .apply_manifest(&manifest, yaml)
            .await
            .map_err(|e| match e {
                urna_store::Error::Conflict(Conflict::ManifestChanged) => {
                    AdminError::ManifestChanged
                }
                urna_store::Error::Conflict(Conflict::StyleInUse) => AdminError::StyleInUse,
                e => e.into(),
            })?;
        // Also after Unchanged: an earlier create may have stopped before this step.
        self.ensure_secrets(manifest.id()).await?;
        let record = self.record(manifest.id()).await?;
        tracing::info!(election = %record.id, ?outcome, state = %record.state, "manifest applied");
        Ok(Created {
            election_id: record.id,
            fingerprint: record.fingerprint,
            outcome,
            state: record.state,
        })
    }

    /// Imports a roll (CSV), all or nothing, and returns each new voter's code.
    ///
    /// # Errors
    /// [`AdminError::Roll`] naming the CSV line of the first problem (including a
    /// voter already on the roll); [`AdminError::WrongState`] after Test.
    pub async fn import_roll(&self, election: &str, csv: &[u8]) -> Result<Imported, AdminError> {
        let record = self.record(election).await?;
        if !matches!(record.state, ElectionState::Draft | ElectionState::Test) {
            return Err(AdminError::WrongState {
                actual: record.state,
                needed: "draft or test",
            });
        }
        let rows = roll::parse(csv, &manifest(&record)?)?;
        let store = &self.inner.store;
        for row in &rows {
            if store.voter(election, &row.voter).await?.is_some() {
                return Err(AdminError::Roll(RollError {
                    line: row.line,
                    problem: RollProblem::AlreadyOnRoll(row.voter.clone()),
                }));
            }
        }
        let config = &self.inner.config;
        let (entries, codes) =
            roll::make_codes(rows, config.code_params, config.hash_threads).await?;
        let imported = store
            .import_roll(election, entries)
            .await
            .map_err(|e| match e {
                urna_store::Error::Conflict(Conflict::VoterExists) => AdminError::ConcurrentImport,
                e => e.into(),
            })?;
        let total = store.roll_size(election).await?;
        tracing::info!(election, imported, total, "roll imported");
        Ok(Imported {
            imported,
            total,
            codes,
        })
    }

    /// Draft → Test (`test`), or Test → Open. Moving to Test needs the joint key and
    /// a roll; moving to Open discards the Test ballots. Each phase's board gets its
    /// genesis entries. Asking for the state the election is already in changes
    /// nothing (and completes a genesis an interrupted call left undone).
    ///
    /// # Errors
    /// [`AdminError::KeyCeremonyNotDone`] (no joint key, or a ceremony still running),
    /// [`AdminError::EmptyRoll`],
    /// [`AdminError::WrongState`] for any other transition.
    pub async fn open(&self, election: &str, test: bool) -> Result<Opened, AdminError> {
        let record = self.record(election).await?;
        let store = &self.inner.store;
        let (from, to) = if test {
            (ElectionState::Draft, ElectionState::Test)
        } else {
            (ElectionState::Test, ElectionState::Open)
        };
        let mut discarded_test_ballots = 0;
        if record.state == from {
            if test {
                // A ceremony between its first dealing and its end may be about to
                // record its key: genesis must see it done, with all its records.
                let in_progress = matches!(
                    store.ceremony_phase(election).await?,
                    CeremonyPhase::Dealing | CeremonyPhase::Complaints | CeremonyPhase::Reveals
                );
                if in_progress || store.joint_key(election).await?.is_none() {
                    return Err(AdminError::KeyCeremonyNotDone);
                }
                if store.roll_size(election).await? == 0 {
                    return Err(AdminError::EmptyRoll);
                }
            } else {
                discarded_test_ballots = self.count_ballots(election, Phase::Test).await?;
            }
            if !self.transition(election, from, to).await? {
                // Another process opened it and discarded the Test ballots.
                discarded_test_ballots = 0;
            }
        } else if record.state != to {
            return Err(AdminError::WrongState {
                actual: record.state,
                needed: from.name(),
            });
        }
        let board = self.inner.boards.get(election).await?;
        tracing::info!(
            election,
            state = %to,
            discarded_test_ballots,
            board_size = board.latest().checkpoint().size(),
            "election opened"
        );
        Ok(Opened {
            state: to,
            discarded_test_ballots,
        })
    }

    /// Open → Closed: once every accepted ballot is on the board, appends the
    /// polls-closed entry and returns its index. Closing a Closed election returns
    /// the existing entry's index (or appends it, if an interrupted close did not).
    ///
    /// # Errors
    /// [`AdminError::WrongState`] unless the election is Open or Closed.
    pub async fn close(&self, election: &str) -> Result<u64, AdminError> {
        let _closing = self.inner.closing.lock().await;
        let record = self.record(election).await?;
        let closed_now = match record.state {
            ElectionState::Open => {
                self.transition(election, ElectionState::Open, ElectionState::Closed)
                    .await?
            }
            ElectionState::Closed => false,
            actual => {
                return Err(AdminError::WrongState {
                    actual,
                    needed: "open",
                });
            }
        };
        let board = self.inner.boards.get(election).await?;
        if !closed_now && let Some(index) = find_polls_closed(&board).await? {
            return Ok(index);
        }
        board.flush().await?;
        let closed = PollsClosed {
            election_id: record.id.clone(),
            closed_at: self.inner.clock.now(),
            ballots: self.count_ballots(election, Phase::Open).await?,
            credentials_issued: self.inner.store.credentials_issued(election).await?,
        };
        let entry = Entry::new(EntryKind::PollsClosed, record.fingerprint, closed.encode())
            .map_err(|_| AdminError::Corrupt("polls-closed entry too large"))?;
        let appended = board.append(entry).await?;
        tracing::info!(
            election,
            index = appended.index,
            ballots = closed.ballots,
            credentials_issued = closed.credentials_issued,
            "polls closed"
        );
        Ok(appended.index)
    }

    /// The election's state and counts.
    ///
    /// # Errors
    /// [`AdminError::UnknownElection`], or a storage or board failure.
    pub async fn status(&self, election: &str) -> Result<Status, AdminError> {
        let record = self.record(election).await?;
        let manifest = manifest(&record)?;
        let store = &self.inner.store;
        let board_size = if record.state == ElectionState::Draft {
            0
        } else {
            self.inner
                .boards
                .get(election)
                .await?
                .latest()
                .checkpoint()
                .size()
        };
        Ok(Status {
            title: manifest.title().to_owned(),
            revoting: record.revoting,
            start: manifest.start(),
            end: manifest.end(),
            voters: store.roll_size(election).await?,
            credentials_issued: store.credentials_issued(election).await?,
            ballots_cast: len(store.ballots(election).await?.len()),
            ballots_spoiled: len(store.spoiled(election).await?.len()),
            board_size,
            election_id: record.id,
            fingerprint: record.fingerprint,
            state: record.state,
        })
    }

    /// Moves the election `from → to`; whether this call moved it. Finding it
    /// already in `to` (another process made the same call) is not an error.
    async fn transition(
        &self,
        election: &str,
        from: ElectionState,
        to: ElectionState,
    ) -> Result<bool, AdminError> {
        match self.inner.store.transition(election, from, to).await {
            Ok(()) => Ok(true),
            Err(urna_store::Error::WrongState { actual, .. }) if actual == to => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn record(&self, election: &str) -> Result<ElectionRecord, AdminError> {
        self.inner
            .store
            .election(election)
            .await?
            .ok_or(AdminError::UnknownElection)
    }

    /// Generates and stores the election's secrets unless it has them. The store
    /// keeps the first secrets if two calls race.
    async fn ensure_secrets(&self, election: &str) -> Result<(), AdminError> {
        let store = &self.inner.store;
        if store.secrets(election).await?.is_some() {
            return Ok(());
        }
        let bits = self.inner.config.rsa_bits;
        let secrets = tokio::task::spawn_blocking(move || generate_secrets(bits)).await??;
        store.init_secrets(election, secrets).await?;
        tracing::info!(election, rsa_bits = bits, "election secrets generated");
        Ok(())
    }

    async fn count_ballots(&self, election: &str, phase: Phase) -> Result<u64, AdminError> {
        let ballots = self.inner.store.ballots(election).await?;
        Ok(len(ballots.iter().filter(|b| b.phase == phase).count()))
    }
}

/// The auth tier's RSA key (from a ChaCha20 generator seeded by the operating
/// system) and the style and note key seeds (from the operating system).
fn generate_secrets(bits: usize) -> Result<ElectionSecrets, AdminError> {
    let mut rng = ChaCha20Rng::try_from_rng(&mut SysRng).map_err(|_| AdminError::KeyGeneration)?;
    let key = BlindSigningKey::generate(bits, &mut rng).map_err(|_| AdminError::KeyGeneration)?;
    let mut der = key.to_der().map_err(|_| AdminError::KeyGeneration)?;
    let mut style = Zeroizing::new([0u8; 32]);
    let mut board = Zeroizing::new([0u8; 32]);
    SysRng
        .try_fill_bytes(style.as_mut())
        .and_then(|()| SysRng.try_fill_bytes(board.as_mut()))
        .map_err(|_| AdminError::KeyGeneration)?;
    Ok(ElectionSecrets::new(
        std::mem::take(&mut *der),
        *style,
        *board,
    ))
}

/// The manifest of a stored election.
fn manifest(record: &ElectionRecord) -> Result<Manifest, AdminError> {
    Manifest::from_yaml(&record.source).map_err(|_| AdminError::Corrupt("stored manifest"))
}

/// The index of the board's polls-closed entry, searching from the end (it is
/// followed only by tally entries).
async fn find_polls_closed(board: &Board) -> Result<Option<u64>, AdminError> {
    let mut end = board.latest().checkpoint().size();
    while end > 0 {
        let start = end.saturating_sub(SCAN_CHUNK);
        let entries = board.entries(start, end).await?;
        for (offset, bytes) in entries.iter().enumerate().rev() {
            let entry = Entry::decode(bytes).map_err(|_| AdminError::Corrupt("board entry"))?;
            if entry.kind() == EntryKind::PollsClosed {
                return Ok(Some(start + len(offset)));
            }
        }
        end = start;
    }
    Ok(None)
}

/// A count as the API's `u64` (a `usize` always fits).
fn len(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
