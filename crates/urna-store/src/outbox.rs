//! The outbox of non-ballot board entries (spoiled ballots, polls-closed, the tally's
//! records): what any replica asks the board to append, kept until the replica that
//! sequences the board has appended it and recorded where.
//!
//! Ballots have their own outbox (the ballot rows without a board index, see
//! [`BallotStore::unposted`](crate::BallotStore::unposted)); every other entry goes
//! through this one, so a replica that does not hold the board's writer lease can
//! still have an entry appended. A row is keyed by (election, phase, key): enqueueing
//! the same key again keeps the first row, so a retry, or two replicas racing to
//! close the polls, yield one entry.

use std::future::Future;

use crate::ballot::Phase;
use crate::error::Result;

/// The longest key, in bytes.
pub const MAX_KEY_LEN: usize = 256;

/// A board entry in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedEntry {
    /// The board it is for.
    pub phase: Phase,
    /// What makes enqueueing idempotent (by default the hex leaf hash of the entry).
    pub key: String,
    /// The encoded board entry.
    pub entry: Vec<u8>,
    /// The enqueue order: increasing across the store, so older rows have smaller
    /// values.
    pub seq: u64,
    /// The entry's leaf index on the board, once appended.
    pub board_index: Option<u64>,
}

/// The outbox of non-ballot board entries.
pub trait EntryOutbox: Send + Sync {
    /// Enqueues an encoded entry for the board of `phase` under `key`, unless a row
    /// with that key exists: either way the stored row comes back, so the caller sees
    /// whether its own entry or an earlier one is the one that counts. The Test board
    /// takes entries while the election is in Test, the Open board while it is Open
    /// or Closed (the Test phase's rows are discarded when the election opens).
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound) for an unknown election;
    /// [`Error::WrongState`](crate::Error::WrongState) outside those states;
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) for an empty key or one
    /// longer than [`MAX_KEY_LEN`].
    fn enqueue_entry(
        &self,
        election: &str,
        phase: Phase,
        key: &str,
        entry: Vec<u8>,
    ) -> impl Future<Output = Result<QueuedEntry>> + Send;

    /// The entries of the board of `phase` not yet on it, oldest first, at most
    /// `limit` (what the sequencer drains, also after a restart).
    fn unposted_entries(
        &self,
        election: &str,
        phase: Phase,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<QueuedEntry>>> + Send;

    /// Records the entry's board leaf index, once (the same index again is a no-op,
    /// a different one [`Conflict::BoardIndex`](crate::Conflict::BoardIndex)). Two
    /// keys may share an index: identical bytes are on the board once.
    ///
    /// # Errors
    /// [`Missing::Entry`](crate::Missing::Entry) if no row has the key (a Test-phase
    /// row discarded when the election opened).
    fn set_entry_index(
        &self,
        election: &str,
        phase: Phase,
        key: &str,
        index: u64,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The row with this key.
    fn queued_entry(
        &self,
        election: &str,
        phase: Phase,
        key: &str,
    ) -> impl Future<Output = Result<Option<QueuedEntry>>> + Send;
}

/// Refuses a key the schema would refuse.
pub(crate) fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(crate::Error::InvalidInput("outbox key length"));
    }
    Ok(())
}
