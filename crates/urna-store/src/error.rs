//! The crate's one error type: what went wrong, in the categories a service maps to
//! its status codes, with the backend's own error nested as the cause.

use crate::election::ElectionState;

/// A storage result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The thing named does not exist.
    #[error("{0} not found")]
    NotFound(Missing),
    /// The operation collides with what is already stored (gRPC `AlreadyExists`).
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// The election is in a state that does not allow the operation (gRPC
    /// `FailedPrecondition`).
    #[error("election is {actual}, the operation needs {needed}")]
    WrongState {
        /// The election's state when the operation ran.
        actual: ElectionState,
        /// The state or states that would have allowed it.
        needed: &'static str,
    },
    /// The arguments are malformed; nothing was stored.
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
    /// The backend failed; the operation may be retried.
    #[error("storage backend failed")]
    Backend(#[from] BackendError),
}

/// What was not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Missing {
    /// The election.
    #[error("election")]
    Election,
    /// The voter, in the election's roll.
    #[error("voter")]
    Voter,
    /// The ballot (by tracking code).
    #[error("ballot")]
    Ballot,
    /// The board entry (by outbox key).
    #[error("board entry")]
    Entry,
}

/// What an operation collided with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Conflict {
    /// A different manifest was applied to an election that already left Draft.
    #[error("a different manifest is already applied")]
    ManifestChanged,
    /// A Draft manifest change drops a ballot style the imported roll uses.
    #[error("the roll uses a ballot style the new manifest drops")]
    StyleInUse,
    /// The roll already holds the voter (or the import names a voter twice).
    #[error("the voter is already on the roll")]
    VoterExists,
    /// A credential was issued to the voter for a different blinded message.
    #[error("a credential was already issued for a different blinded message")]
    CredentialIssued,
    /// Under `once`, a different ballot was already cast with the nullifier.
    #[error("a ballot was already cast with this credential")]
    NullifierSpent,
    /// The tracking code is already recorded for different bytes.
    #[error("the tracking code is already recorded for a different ballot")]
    TrackingCode,
    /// The ballot was spoiled (Benaloh-challenged), so it can never be cast.
    #[error("the ballot was spoiled and can not be cast")]
    Spoiled,
    /// The ballot (or outbox entry) already has a different board index, or another
    /// ballot has it.
    #[error("the ballot already has a different board index")]
    BoardIndex,
    /// A different joint key was already recorded.
    #[error("a different joint key is already recorded")]
    JointKey,
    /// Different results were already recorded.
    #[error("different results are already recorded")]
    Results,
}

/// A failure of the storage backend itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// SQLite reported an error.
    #[error("sqlite")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL reported an error (or the connection to it failed).
    #[error("postgres")]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be taken from the pool.
    #[error("postgres connection pool")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The bulletin board's store failed.
    #[error("board store")]
    Board(#[from] urna_board::Error),
    /// A file-system operation on the data directory failed.
    #[error("data directory")]
    Io(#[from] std::io::Error),
    /// The blocking task running the operation panicked or was cancelled.
    #[error("blocking task")]
    Task(#[from] tokio::task::JoinError),
    /// The database holds a newer schema than this build understands.
    #[error("schema version {found} is newer than the supported {supported}")]
    SchemaTooNew {
        /// The version in the database.
        found: i64,
        /// The newest version this build applies.
        supported: i64,
    },
    /// A stored value is not what the schema promises.
    #[error("corrupt stored value: {0}")]
    Corrupt(&'static str),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Backend(e.into())
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        Error::Backend(e.into())
    }
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Error::Backend(e.into())
    }
}

impl From<urna_board::Error> for Error {
    fn from(e: urna_board::Error) -> Self {
        Error::Backend(e.into())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Backend(e.into())
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Backend(e.into())
    }
}

impl Error {
    /// A stored value that breaks the schema's promise.
    pub(crate) fn corrupt(what: &'static str) -> Self {
        Error::Backend(BackendError::Corrupt(what))
    }
}
