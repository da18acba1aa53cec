#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod board;
pub mod board_grpc;
pub mod boards;
pub mod ceremony;
pub mod clock;
pub mod elections;
pub mod error;
mod keys;
mod poster;
pub mod redis_link;
mod replica;
#[cfg(feature = "testing")]
pub mod testing;

pub use board::{Board, spoiled_body};
pub use boards::Boards;
pub use ceremony::{ceremony_bodies, dealing_payload};
pub use clock::{Clock, SystemClock};
pub use elections::{ElectionContext, Elections};
pub use error::Error;
pub use redis_link::RedisLink;
