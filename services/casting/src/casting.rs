//! The casting domain: cast, spoil and look up receipts.

use std::sync::Arc;

use tracing::Instrument as _;

use urna_board::{Entry, EntryKind};
use urna_crypto::ballot::MAX_ID_LEN;
use urna_crypto::encoding::Decoder;
use urna_crypto::{EncryptedBallot, short_tracking_code};
use urna_election::Revoting;
use urna_service::{Board, Boards, Clock, ElectionContext, Elections, spoiled_body};
use urna_store::{CastOutcome, ElectionState, NewBallot, SpoiledBallot, Store};

use crate::config::CastingConfig;
use crate::error::CastingError;
use crate::gate::{Claim, GateStats, Held, NullifierGate};
use crate::metrics::CastingMetrics;
use crate::opening::{Opening, encode_openings};
use crate::receipt::Receipt;
use crate::verifier::Verifier;

/// The largest ballot accepted: what fits a board entry (64 KiB less the envelope).
pub const MAX_BALLOT_LEN: usize =
    urna_board::entry::MAX_ENTRY_LEN - urna_board::entry::ENVELOPE_OVERHEAD;

/// The casting tier; cheap to clone.
pub struct Casting<S, C> {
    inner: Arc<Inner<S, C>>,
}

struct Inner<S, C> {
    elections: Elections<S>,
    boards: Boards<S>,
    clock: C,
    verifier: Verifier,
    gate: Option<Arc<NullifierGate>>,
    metrics: CastingMetrics,
}

impl<S, C> Clone for Casting<S, C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S, C> std::fmt::Debug for Casting<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Casting").finish_non_exhaustive()
    }
}

/// A ballot that decoded against its election and style.
struct Decoded {
    context: Arc<ElectionContext>,
    ballot: Arc<EncryptedBallot>,
    tracking_code: [u8; 32],
    state: ElectionState,
}

impl<S: Store, C: Clock> Casting<S, C> {
    /// Casting over the process's election cache and board registry; starts the
    /// batch verifier (needs a tokio runtime).
    pub fn new(elections: Elections<S>, boards: Boards<S>, clock: C) -> Self {
        Self::build(elections, boards, clock, None)
    }

    /// Casting as [`Casting::new`], with the nullifier gate of `config.redis` if any
    /// (connected lazily: an unreachable Redis is no error, casting then goes through
    /// the store alone until it answers).
    ///
    /// # Errors
    /// [`CastingError::Redis`] for a malformed Redis URL.
    pub fn with_config(
        elections: Elections<S>,
        boards: Boards<S>,
        clock: C,
        config: &CastingConfig,
    ) -> Result<Self, CastingError> {
        let gate = config
            .redis
            .as_ref()
            .map(NullifierGate::new)
            .transpose()
            .map_err(CastingError::Redis)?;
        Ok(Self::build(elections, boards, clock, gate.map(Arc::new)))
    }

    fn build(
        elections: Elections<S>,
        boards: Boards<S>,
        clock: C,
        gate: Option<Arc<NullifierGate>>,
    ) -> Self {
        let metrics = CastingMetrics::new();
        Self {
            inner: Arc::new(Inner {
                elections,
                boards,
                clock,
                verifier: Verifier::start(metrics.clone()),
                gate,
                metrics,
            }),
        }
    }

    /// What the nullifier gate did so far; `None` without a gate.
    #[must_use]
    pub fn gate_stats(&self) -> Option<GateStats> {
        self.inner.gate.as_deref().map(NullifierGate::stats)
    }

    /// Casts a ballot (its canonical encoding) and returns its receipt once it is on
    /// the board. A byte-identical retry returns the original receipt.
    ///
    /// # Errors
    /// See [`CastingError`]; nothing is stored unless the ballot is accepted.
    pub async fn cast(&self, election: &str, bytes: &[u8]) -> Result<Receipt, CastingError> {
        let cast = self.cast_counted(election, bytes).await;
        self.inner
            .metrics
            .cast(cast.as_ref().map(|(_, repeat)| *repeat));
        cast.map(|(receipt, _)| receipt)
    }

    /// [`Casting::cast`], saying whether the ballot was an identical retry. Each
    /// stage is a span (`decode`, `verify`, `nullifier`, `commit`, `board`), carrying
    /// nothing about the voter or the ballot.
    async fn cast_counted(
        &self,
        election: &str,
        bytes: &[u8],
    ) -> Result<(Receipt, bool), CastingError> {
        let decoded = self.admit(election, bytes).await?;
        let held = self
            .claim(election, &decoded)
            .instrument(tracing::info_span!("nullifier"))
            .await?;
        let store = self.inner.elections.store();
        let cast = store
            .cast(
                election,
                NewBallot {
                    nullifier: decoded.ballot.nullifier(),
                    tracking_code: decoded.tracking_code,
                    ballot: bytes.to_vec(),
                },
            )
            .instrument(tracing::info_span!("commit"))
            .await;
        let outcome = match (cast, held) {
            (Ok(outcome), held) => {
                if let Some(held) = held {
                    held.keep();
                }
                outcome
            }
            (Err(e), Some(held)) => {
                held.release().await;
                return Err(e.into());
            }
            (Err(e), None) => return Err(e.into()),
        };
        let (record, repeat) = match outcome {
            CastOutcome::Accepted(record) => (record, false),
            CastOutcome::Repeat(record) => (record, true),
        };
        tracing::info!(
            election,
            tracking_code = short_tracking_code(&decoded.tracking_code),
            repeat,
            "ballot accepted"
        );
        let mut receipt = async {
            let board = self.inner.boards.board(election, record.phase).await?;
            board.wake();
            let (index, checkpoint) = board.posted(decoded.tracking_code).await?;
            receipt(&board, election, decoded.tracking_code, index, checkpoint).await
        }
        .instrument(tracing::info_span!("board"))
        .await?;
        receipt.supersedes_previous = record.supersedes.is_some();
        Ok((receipt, repeat))
    }

    /// Spoils a challenged ballot: checks it like a cast ballot, checks that the
    /// openings reproduce every ciphertext, records it and publishes it opened on the
    /// board. A ballot that was cast can never be spoiled; a spoiled ballot is never
    /// counted. Spoiling the same ballot again returns the same receipt.
    ///
    /// # Errors
    /// See [`CastingError`].
    pub async fn spoil(
        &self,
        election: &str,
        bytes: &[u8],
        openings: &[Opening],
    ) -> Result<Receipt, CastingError> {
        let decoded = self.admit(election, bytes).await?;
        let contests = decoded.ballot.contests();
        if openings.len() != contests.len() {
            return Err(CastingError::InvalidOpening);
        }
        for ((id, contest), opening) in contests.iter().zip(openings) {
            if *id != opening.contest_id {
                return Err(CastingError::InvalidOpening);
            }
            opening
                .to_contest_opening()?
                .check(decoded.context.joint_key(), contest)
                .map_err(|_| CastingError::InvalidOpening)?;
        }
        let store = self.inner.elections.store();
        if store
            .ballot(election, &decoded.tracking_code)
            .await?
            .is_some()
        {
            return Err(CastingError::AlreadyCast);
        }
        let opening = encode_openings(openings);
        store
            .record_spoiled(
                election,
                SpoiledBallot {
                    tracking_code: decoded.tracking_code,
                    ballot: bytes.to_vec(),
                    opening: opening.clone(),
                },
            )
            .await
            .map_err(|e| match e {
                urna_store::Error::Conflict(urna_store::Conflict::TrackingCode) => {
                    CastingError::AlreadyCast
                }
                other => other.into(),
            })?;
        let board = self.inner.boards.get(election).await?;
        let entry = Entry::new(
            EntryKind::SpoiledBallot,
            *decoded.context.fingerprint(),
            spoiled_body(bytes, &opening),
        )
        .map_err(|_| CastingError::TooLarge)?;
        let appended = board.append_once(entry).await?;
        tracing::info!(
            election,
            tracking_code = short_tracking_code(&decoded.tracking_code),
            "ballot spoiled"
        );
        let mut receipt = receipt(
            &board,
            election,
            decoded.tracking_code,
            appended.index,
            appended.checkpoint,
        )
        .await?;
        receipt.spoiled = true;
        Ok(receipt)
    }

    /// The receipt of a ballot or spoiled ballot already on the board, proven against
    /// the latest checkpoint.
    ///
    /// # Errors
    /// [`CastingError::UnknownElection`], [`CastingError::UnknownBallot`].
    pub async fn receipt(
        &self,
        election: &str,
        tracking_code: [u8; 32],
    ) -> Result<Receipt, CastingError> {
        let board = self.inner.boards.get(election).await?;
        let (index, checkpoint) = board.located(tracking_code).await?;
        let mut receipt = receipt(&board, election, tracking_code, index, checkpoint).await?;
        let kind = Entry::decode(&receipt.entry).map(|e| e.kind());
        receipt.spoiled = kind == Ok(EntryKind::SpoiledBallot);
        let record = self
            .inner
            .elections
            .store()
            .ballot(election, &tracking_code)
            .await?;
        receipt.supersedes_previous = record.is_some_and(|r| r.supersedes.is_some());
        Ok(receipt)
    }

    /// The nullifier gate's answer for a ballot about to be cast: under `once` in
    /// Open, a credential claimed by a different ballot is refused as the store would
    /// refuse it; otherwise the ballot goes on, holding the claim it made (or may
    /// have made, if Redis did not answer) until the store recorded it.
    ///
    /// Under `last-counts` the gate is skipped: a re-vote must reach the store to be
    /// recorded and an identical retry to get its original receipt, so Redis would
    /// save no store call. In Test it is skipped too: Test ballots are discarded when
    /// the election opens, and a claim made then would refuse the credential's first
    /// real ballot.
    async fn claim(&self, election: &str, decoded: &Decoded) -> Result<Option<Held>, CastingError> {
        let Some(gate) = &self.inner.gate else {
            return Ok(None);
        };
        if decoded.state != ElectionState::Open || decoded.context.revoting() != Revoting::Once {
            return Ok(None);
        }
        let nullifier = decoded.ballot.nullifier();
        match gate
            .claim(election, &nullifier, &decoded.tracking_code)
            .await
        {
            Claim::Taken => {
                tracing::info!(
                    election,
                    tracking_code = short_tracking_code(&decoded.tracking_code),
                    "ballot refused by the nullifier gate: credential already used"
                );
                Err(CastingError::CredentialUsed)
            }
            Claim::Same => Ok(None),
            Claim::New | Claim::Unknown => Ok(Some(Held::new(
                Arc::clone(gate),
                election,
                nullifier,
                decoded.tracking_code,
            ))),
        }
    }

    /// Everything before the store: size, decoding, fingerprint, state and window,
    /// signatures and proofs.
    async fn admit(&self, election: &str, bytes: &[u8]) -> Result<Decoded, CastingError> {
        if bytes.len() > MAX_BALLOT_LEN {
            return Err(CastingError::TooLarge);
        }
        let context = self.inner.elections.get(election).await?;
        let ballot = tracing::info_span!("decode").in_scope(|| {
            let (fingerprint, style) = peek(bytes).ok_or(CastingError::Malformed)?;
            if fingerprint != *context.fingerprint() {
                return Err(CastingError::WrongElection);
            }
            let layout = context.layout(&style).ok_or(CastingError::Malformed)?;
            EncryptedBallot::from_bytes(bytes, layout).map_err(|_| CastingError::Malformed)
        })?;
        let state = self.check_open(election, &context).await?;
        let ballot = Arc::new(ballot);
        let tracking_code = ballot.tracking_code();
        let verified = self
            .inner
            .verifier
            .verify(Arc::clone(&context), Arc::clone(&ballot))
            .instrument(tracing::info_span!("verify"))
            .await;
        if let Err(e) = &verified {
            tracing::info!(
                election,
                tracking_code = short_tracking_code(&tracking_code),
                error = %e,
                "ballot refused"
            );
        }
        verified?;
        Ok(Decoded {
            context,
            ballot,
            tracking_code,
            state,
        })
    }

    /// Test accepts ballots at any time; Open only within the manifest's window.
    /// Returns the state.
    async fn check_open(
        &self,
        election: &str,
        context: &ElectionContext,
    ) -> Result<ElectionState, CastingError> {
        match self.inner.elections.state(election).await? {
            ElectionState::Test => Ok(ElectionState::Test),
            ElectionState::Open => {
                let now = self.inner.clock.now();
                let (start, end) = context.window();
                if now < start {
                    Err(CastingError::NotOpen)
                } else if now >= end {
                    Err(CastingError::Closed)
                } else {
                    Ok(ElectionState::Open)
                }
            }
            ElectionState::Draft => Err(CastingError::NotOpen),
            ElectionState::Closed => Err(CastingError::Closed),
        }
    }
}

/// The fingerprint and style id at the head of a ballot encoding (version u8,
/// fingerprint, style string), without decoding the rest.
fn peek(bytes: &[u8]) -> Option<([u8; 32], String)> {
    let mut dec = Decoder::new(bytes);
    if dec.u8().ok()? != urna_crypto::ballot::BALLOT_VERSION {
        return None;
    }
    let fingerprint = dec.array().ok()?;
    let style = dec.str(MAX_ID_LEN).ok()?;
    Some((fingerprint, style.to_owned()))
}

/// The receipt of the entry at `index`, proven in the tree of `checkpoint`.
async fn receipt(
    board: &Board,
    election: &str,
    tracking_code: [u8; 32],
    index: u64,
    checkpoint: urna_board::SignedCheckpoint,
) -> Result<Receipt, CastingError> {
    let size = checkpoint.checkpoint().size();
    let entry = board
        .entries(index, index + 1)
        .await?
        .pop()
        .ok_or(CastingError::UnknownBallot)?;
    let inclusion_proof = board.inclusion_proof(index, size).await?;
    Ok(Receipt {
        election_id: election.to_owned(),
        tracking_code,
        short_code: short_tracking_code(&tracking_code),
        index,
        entry,
        inclusion_proof,
        checkpoint,
        supersedes_previous: false,
        spoiled: false,
    })
}
