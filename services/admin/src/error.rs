//! The crate's one error type. The admin is trusted, so the messages carry details
//! (the manifest's line and field, the CSV line); storage and internal faults stay
//! behind a fixed message and go to tracing.

use urna_election::ManifestError;
use urna_store::ElectionState;

/// Why an admin operation failed. Nothing was changed by a failed operation, except
/// where a variant says otherwise.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The manifest does not parse or validate.
    #[error("invalid manifest: {0}")]
    Manifest(ManifestError),
    /// No election has this id.
    #[error("unknown election")]
    UnknownElection,
    /// A different manifest for an election that has left Draft.
    #[error("manifest changed after the election left draft")]
    ManifestChanged,
    /// A manifest change drops a ballot style the imported roll uses.
    #[error("the new manifest drops a ballot style the roll uses")]
    StyleInUse,
    /// The roll is refused; nothing was imported.
    #[error(transparent)]
    Roll(#[from] RollError),
    /// Another import added one of the roll's voters while this one ran; nothing
    /// was imported.
    #[error("a voter of the roll was added by a concurrent import")]
    ConcurrentImport,
    /// The election has no joint key yet, so it cannot leave Draft.
    #[error("key ceremony not done")]
    KeyCeremonyNotDone,
    /// The election has no voters, so it cannot leave Draft.
    #[error("the voter roll is empty")]
    EmptyRoll,
    /// The election's state does not allow the operation.
    #[error("election is {actual}, the operation needs {needed}")]
    WrongState {
        /// The state the election is in.
        actual: ElectionState,
        /// The state or states that would allow it.
        needed: &'static str,
    },
    /// The store failed or holds something unexpected.
    #[error("storage failed")]
    Store(#[source] urna_store::Error),
    /// The election's board failed.
    #[error("bulletin board failed")]
    Board(#[from] urna_service::Error),
    /// A stored election does not decode (its manifest, its board).
    #[error("stored election is corrupt: {0}")]
    Corrupt(&'static str),
    /// Generating the election's keys failed, or the system's random number
    /// generator did.
    #[error("key generation failed")]
    KeyGeneration,
    /// A blocking task panicked or was cancelled.
    #[error("blocking task failed")]
    Task(#[from] tokio::task::JoinError),
}

impl From<urna_store::Error> for AdminError {
    /// The store's errors that mean the same thing everywhere; call sites map the
    /// ones that depend on the operation (conflicts) themselves.
    fn from(e: urna_store::Error) -> Self {
        match e {
            urna_store::Error::NotFound(urna_store::Missing::Election) => {
                AdminError::UnknownElection
            }
            urna_store::Error::WrongState { actual, needed } => {
                AdminError::WrongState { actual, needed }
            }
            e => AdminError::Store(e),
        }
    }
}

/// A refused voter roll: the CSV line (1-based, the header is line 1) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct RollError {
    /// The line of the CSV the problem is on.
    pub line: u64,
    /// What is wrong.
    pub problem: RollProblem,
}

/// What is wrong with a roll.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RollProblem {
    /// The header lacks a required column.
    #[error("the header has no `{0}` column")]
    MissingColumn(&'static str),
    /// The header names a column twice.
    #[error("the header names `{0}` twice")]
    DuplicateColumn(String),
    /// The CSV does not parse (unbalanced quotes, not UTF-8, a row with another
    /// number of fields than the header).
    #[error("malformed CSV: {0}")]
    Malformed(String),
    /// The CSV has a header but no voter.
    #[error("no voters")]
    NoVoters,
    /// A row's voter id is empty.
    #[error("empty voter_id")]
    EmptyVoterId,
    /// A row's voter id is longer than [`MAX_VOTER_ID_LEN`](crate::MAX_VOTER_ID_LEN).
    #[error("voter_id longer than {} bytes", crate::MAX_VOTER_ID_LEN)]
    VoterIdTooLong,
    /// The voter is named twice in the CSV.
    #[error("voter `{voter}` is already on line {first}")]
    DuplicateVoter {
        /// The voter id.
        voter: String,
        /// The line that names it first.
        first: u64,
    },
    /// The voter is already on the election's roll (from an earlier import).
    #[error("voter `{0}` is already on the roll")]
    AlreadyOnRoll(String),
    /// The row's ballot style is not one of the manifest's.
    #[error("unknown ballot style `{0}`")]
    UnknownStyle(String),
}
