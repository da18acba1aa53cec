#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod casting;
pub mod config;
pub mod error;
pub mod gate;
pub mod grpc;
mod metrics;
pub mod opening;
pub mod receipt;
mod verifier;

pub use casting::{Casting, MAX_BALLOT_LEN};
pub use config::CastingConfig;
pub use error::CastingError;
pub use gate::{GateStats, NullifierGate, RedisConfig};
pub use grpc::service;
pub use opening::Opening;
pub use receipt::Receipt;
