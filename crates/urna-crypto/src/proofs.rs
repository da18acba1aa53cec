//! Zero-knowledge proofs, all non-interactive through Fiat–Shamir
//! ([`Transcript`](crate::Transcript)) and bound to a caller's [`Context`](crate::Context).
//!
//! - [`schnorr`]: knowledge of a discrete logarithm;
//! - [`dleq`]: equality of two discrete logarithms (Chaum–Pedersen), e.g. a correct
//!   partial decryption;
//! - [`range`]: a ciphertext holds a value in `lo..=hi` (disjunctive Chaum–Pedersen),
//!   for 0/1 options, score ranges and a contest's selection limits;
//! - [`batch`]: verification of many range proofs with one multiscalar multiplication.

pub mod batch;
mod compact;
pub mod dleq;
pub mod range;
pub mod schnorr;
