#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod auth;
pub mod config;
pub mod error;
pub mod grpc;
pub mod limit;
pub mod session;

pub use auth::{Auth, AuthKey};
pub use config::AuthConfig;
pub use error::AuthError;
pub use limit::{
    LimitConfig, Limited, LoginLimiter, MemoryLimiter, RedisLimitConfig, RedisLimiter,
};
pub use session::{MAX_ID_LEN, SESSION_TAG, Session, SessionKey, SessionToken};
