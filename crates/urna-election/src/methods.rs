//! The counting methods.

pub mod irv;
pub mod pairwise;
pub mod plurality;
pub mod ranked_pairs;
pub mod referendum;
pub mod schulze;
pub mod score;
pub mod star;
pub mod stv;
mod tally;

#[cfg(test)]
pub(crate) mod fixtures;
