#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod admin;
pub mod error;
pub mod grpc;
pub mod roll;
pub mod token;

pub use admin::{Admin, AdminConfig, Created, Imported, Opened, Status};
pub use error::{AdminError, RollError, RollProblem};
pub use grpc::{AdminService, MAX_REQUEST_BYTES, service};
pub use roll::{MAX_VOTER_ID_LEN, NewCode};
pub use token::{AdminToken, MIN_TOKEN_LEN, TokenError, interceptor};
