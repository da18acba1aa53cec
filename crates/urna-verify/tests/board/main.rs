//! The verifier against boards built with the library APIs (see `support`).

mod ballots;
mod support;
mod tally;
