//! The verifier against boards built with the library APIs (see `support`).

mod ballots;
mod mixnet;
mod support;
mod tally;
