#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod error;
pub mod grpc;
mod issuance;

pub use error::IssuanceError;
pub use issuance::{Issuance, SignedStyle};
