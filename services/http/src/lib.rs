#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod api;
pub mod error;
mod json;
mod public;
mod voter;

pub use api::{Api, BODY_LIMIT, router};
pub use error::{ApiError, http_status};
