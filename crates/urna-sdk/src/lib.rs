#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod board;
pub mod choice;
pub mod credential;
pub mod election;
pub mod endpoints;
pub mod error;
pub mod receipt;
pub mod style;
pub mod voter;

#[cfg(test)]
mod tests;

pub use choice::{Choice, Choices};
pub use credential::VoterCredential;
pub use election::{Election, ProvenEntry, TrustRoot};
pub use endpoints::{Endpoints, Tls, Uri};
pub use error::{ChoiceError, Error, Result, VerifyFailure};
pub use receipt::Receipt;
pub use style::Style;
pub use voter::{Rechecked, Session, Voter};
