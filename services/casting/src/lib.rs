#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod casting;
pub mod error;
pub mod grpc;
pub mod opening;
pub mod receipt;
mod verifier;

pub use casting::{Casting, MAX_BALLOT_LEN};
pub use error::CastingError;
pub use grpc::service;
pub use opening::Opening;
pub use receipt::Receipt;
