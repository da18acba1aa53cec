#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod aggregate;
pub mod ceremony;
pub mod deadlines;
pub mod decrypt;
pub mod error;
pub mod grpc;
pub mod mix;
pub mod seal;
pub mod tally;

pub use ceremony::{CeremonyState, DealingView, TrusteeStatus};
pub use deadlines::{Deadlines, RoundDeadlines};
pub use decrypt::{
    ContestResult, Cvr, DecryptionBatch, PartialRecorded, result_body, tally_context,
};
pub use error::{Invalid, TallyError};
pub use grpc::{TallyService, service};
pub use mix::{MixTask, MixWork, shuffle_payload};
pub use seal::{EncryptionSecret, SealError, open_share, seal_share};
pub use tally::{Tally, dealing_payload, signed_message};
