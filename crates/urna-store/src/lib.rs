#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod ballot;
pub mod board;
pub mod code;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod election;
pub mod error;
pub mod keys;
pub mod mix;
pub mod outbox;
pub mod postgres;
pub mod roll;
pub mod sqlite;
pub mod store;
pub mod tally;
#[cfg(feature = "testing")]
pub mod testing;

pub use ballot::{BallotStore, CastOutcome, CastRecord, NewBallot, Phase, SpoiledBallot};
pub use board::{BoardLease, BoardStore, SoleWriter};
pub use code::{CodeHash, CodeParams, VotingCode};
pub use election::{Applied, ElectionRecord, ElectionState, ElectionStore};
pub use error::{BackendError, Conflict, Error, Missing, Result};
pub use keys::{ElectionSecrets, JointKey, KeyStore};
pub use mix::{MixStore, StoredShuffle};
pub use outbox::{EntryOutbox, QueuedEntry};
pub use postgres::{PgStore, PoolStatus};
pub use roll::{Issuance, Issued, RollEntry, RollStore, Voter, blinded_hash};
pub use sqlite::SqliteStore;
pub use store::Store;
pub use tally::{
    CeremonyPhase, CeremonyRecord, RecordKind, StoredDealing, StoredPartial, TallyBatch,
    TallyConfig, TallyStore, TallyTask, TrusteeKeys, Written,
};
