//! The crate's error type, in the categories services map to status codes.

use urna_store::ElectionState;

/// Why a board or election operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No election has this id.
    #[error("unknown election")]
    UnknownElection,
    /// The election is not in a state that allows the operation.
    #[error("the election is {0}")]
    WrongState(ElectionState),
    /// The election has no keys yet (no secrets, or no joint key from the ceremony).
    #[error("the election's keys are not set up")]
    NoKeys,
    /// Back-pressure or a timeout: the board's queue is full, or posting took too long.
    /// The caller may retry.
    #[error("the board is busy")]
    Unavailable,
    /// No ballot of the board has this tracking code.
    #[error("unknown ballot")]
    UnknownBallot,
    /// The request names something the board does not have (an index or size past
    /// the latest checkpoint, a tile the tree does not have).
    #[error("out of range")]
    OutOfRange,
    /// The storage backend failed.
    #[error("store")]
    Store(#[source] urna_store::Error),
    /// The bulletin board failed.
    #[error("board")]
    Board(#[source] urna_board::Error),
    /// A blocking task panicked or was cancelled.
    #[error("blocking task failed")]
    Task(#[source] tokio::task::JoinError),
    /// Stored data is not what it must be (an unparsable manifest or key, a board
    /// whose genesis entries are wrong).
    #[error("corrupt stored data: {0}")]
    Corrupt(&'static str),
}

impl From<urna_store::Error> for Error {
    fn from(e: urna_store::Error) -> Self {
        match e {
            urna_store::Error::NotFound(urna_store::Missing::Election) => Error::UnknownElection,
            urna_store::Error::WrongState { actual, .. } => Error::WrongState(actual),
            other => Error::Store(other),
        }
    }
}

impl From<urna_board::Error> for Error {
    fn from(e: urna_board::Error) -> Self {
        match e {
            urna_board::Error::QueueFull => Error::Unavailable,
            urna_board::Error::Proof(_) | urna_board::Error::Tile(_) => Error::OutOfRange,
            other => Error::Board(other),
        }
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Task(e)
    }
}
