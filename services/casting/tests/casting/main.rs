//! The casting service over a real socket, on a real SQLite store, with ballots made
//! as a voter's device makes them.

mod cast;
mod gate;
mod redis_support;
mod refusals;
mod restart;
mod spoil;
mod support;
