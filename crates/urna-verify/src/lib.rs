#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod error;
pub mod export;
pub mod mixnet;
pub mod range;
pub mod records;
pub mod report;
pub mod source;
pub mod verify;

pub use error::Error;
pub use export::{Exported, export};
pub use range::CompactRange;
pub use records::{
    CeremonyRecord, CeremonyTag, ContestResult, ContestTally, DecryptionShare, PollsClosed,
    SpoiledBallot, TallyRecord, result_body, signed_message,
};
pub use report::{Ceremony, Check, ContestCvr, Failure, Report};
pub use source::{DirSource, Source};
pub use verify::{Options, Progress, verify};
