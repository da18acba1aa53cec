#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod encoding;
pub mod error;
pub mod group;
pub mod transcript;

pub use error::{DecodeError, Error, Result, VerifyError};
pub use group::Element;
pub use transcript::{Context, Transcript};
