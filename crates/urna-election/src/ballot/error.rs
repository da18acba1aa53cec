//! Why a plaintext ballot was refused.

use crate::method::Method;

/// A ballot that breaks its contest's rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BallotError {
    /// The selection is of the wrong kind for the method (e.g. scores for plurality).
    #[error("this kind of selection does not fit a {0} contest")]
    WrongKind(Method),
    /// An option index outside the contest.
    #[error("option {0} does not exist")]
    NoSuchOption(usize),
    /// An option marked or ranked twice.
    #[error("option {0} is marked or ranked more than once")]
    Duplicate(usize),
    /// Too few or too many options marked, ranked or scored.
    #[error("{count} option(s) selected; the contest allows {min} to {max}")]
    Selections {
        /// How many were selected.
        count: usize,
        /// The least allowed.
        min: u32,
        /// The most allowed.
        max: u32,
    },
    /// A score outside the contest's range.
    #[error("option {option}: score {score} outside {min}..={max}")]
    Score {
        /// The option.
        option: usize,
        /// The score given.
        score: u32,
        /// The least score.
        min: u32,
        /// The greatest score.
        max: u32,
    },
    /// A score list or vector of the wrong length.
    #[error("{got} values for {options} options")]
    Length {
        /// Values given.
        got: usize,
        /// Options in the contest.
        options: usize,
    },
    /// A decrypted vector that no valid ballot encodes to.
    #[error("malformed ballot vector: {0}")]
    Malformed(&'static str),
}
