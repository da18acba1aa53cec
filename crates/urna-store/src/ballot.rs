//! Cast ballots, nullifiers and spoiled ballots: what the casting tier stores. It
//! knows what (encrypted) was cast under which nullifier, never by whom.

use std::future::Future;

use urna_crypto::Nullifier;

use crate::error::Result;

/// A ballot to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBallot {
    /// The credential's nullifier.
    pub nullifier: Nullifier,
    /// The ballot's tracking code (the hash of its canonical encoding).
    pub tracking_code: [u8; 32],
    /// The canonical encoding.
    pub ballot: Vec<u8>,
}

/// The phase a ballot was cast in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The Test phase; discarded when the election opens.
    Test,
    /// Polls open.
    Open,
}

/// A recorded ballot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CastRecord {
    /// Position in the election's cast order (1-based, increasing).
    pub seq: u64,
    /// The credential's nullifier.
    pub nullifier: Nullifier,
    /// The tracking code.
    pub tracking_code: [u8; 32],
    /// The canonical encoding.
    pub ballot: Vec<u8>,
    /// The phase it was cast in.
    pub phase: Phase,
    /// Under `last-counts`: the `seq` of the ballot this one supersedes.
    pub supersedes: Option<u64>,
    /// Under `last-counts`: the `seq` of the ballot that superseded this one.
    pub superseded_by: Option<u64>,
    /// The ballot's leaf index on the board, once appended.
    pub board_index: Option<u64>,
}

/// What casting did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CastOutcome {
    /// The ballot was recorded (under `last-counts` it may supersede another).
    Accepted(CastRecord),
    /// The byte-identical ballot was already recorded: the original record, so the
    /// original receipt can be returned.
    Repeat(CastRecord),
}

impl CastOutcome {
    /// The record, new or original.
    #[must_use]
    pub fn record(&self) -> &CastRecord {
        match self {
            CastOutcome::Accepted(r) | CastOutcome::Repeat(r) => r,
        }
    }
}

/// A spoiled (Benaloh-challenged) ballot: published with its opening, never counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpoiledBallot {
    /// The tracking code of the challenged ballot.
    pub tracking_code: [u8; 32],
    /// Its canonical encoding.
    pub ballot: Vec<u8>,
    /// The revealed randomness and choices, as encoded by the caller.
    pub opening: Vec<u8>,
}

/// Ballots and nullifiers.
pub trait BallotStore: Send + Sync {
    /// Records a cast ballot atomically with its nullifier, in Test or Open, under
    /// the election's re-voting policy. `once`: a different ballot for a spent
    /// nullifier is [`Conflict::NullifierSpent`](crate::Conflict); `last-counts`: it
    /// is accepted, superseding the nullifier's latest ballot, and all are kept.
    /// Either way the byte-identical ballot again is [`CastOutcome::Repeat`].
    fn cast(
        &self,
        election: &str,
        ballot: NewBallot,
    ) -> impl Future<Output = Result<CastOutcome>> + Send;

    /// The ballot with this tracking code.
    fn ballot(
        &self,
        election: &str,
        tracking_code: &[u8; 32],
    ) -> impl Future<Output = Result<Option<CastRecord>>> + Send;

    /// Every recorded ballot in cast order.
    fn ballots(&self, election: &str) -> impl Future<Output = Result<Vec<CastRecord>>> + Send;

    /// Ballots not yet on the board, in cast order, at most `limit` (the outbox a
    /// sequencer drains, also after a restart).
    fn unposted(
        &self,
        election: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<CastRecord>>> + Send;

    /// Records the ballot's board leaf index, once (the same index again is a no-op).
    fn set_board_index(
        &self,
        election: &str,
        tracking_code: &[u8; 32],
        index: u64,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Records the board indexes of several ballots in one transaction, each as
    /// [`BallotStore::set_board_index`] does, all or none; a ballot no longer stored
    /// (the Test phase's ballots are discarded when the election opens) is skipped.
    /// Returns how many indexes are recorded.
    fn set_board_indexes(
        &self,
        election: &str,
        indexes: Vec<([u8; 32], u64)>,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Records a spoiled ballot in Test or Open; the identical record again is a
    /// no-op, different bytes under the same tracking code are
    /// [`Conflict::TrackingCode`](crate::Conflict).
    fn record_spoiled(
        &self,
        election: &str,
        spoiled: SpoiledBallot,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Every spoiled ballot, in the order recorded.
    fn spoiled(&self, election: &str) -> impl Future<Output = Result<Vec<SpoiledBallot>>> + Send;
}
