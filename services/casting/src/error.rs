//! Why casting refused a request. Each variant maps to one fixed gRPC status
//! ([`grpc`](crate::grpc)) and one HTTP code; details go to tracing only.

/// A refused or failed casting request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CastingError {
    /// The ballot is larger than [`MAX_BALLOT_LEN`](crate::MAX_BALLOT_LEN).
    #[error("ballot too large")]
    TooLarge,
    /// The bytes are not a ballot of one of the election's styles.
    #[error("malformed ballot")]
    Malformed,
    /// The ballot is for another election (its fingerprint differs).
    #[error("ballot for another election")]
    WrongElection,
    /// Auth's blind signature or the credential's signature does not verify.
    #[error("invalid credential")]
    InvalidCredential,
    /// A proof of the ballot does not verify.
    #[error("invalid ballot proof")]
    InvalidProof,
    /// A spoil request's opening does not reproduce the ballot.
    #[error("invalid ballot opening")]
    InvalidOpening,
    /// No election has this id.
    #[error("unknown election")]
    UnknownElection,
    /// The election does not accept ballots yet (Draft, or Open before its start).
    #[error("election not open")]
    NotOpen,
    /// The election no longer accepts ballots (Closed, or Open past its end).
    #[error("election closed")]
    Closed,
    /// Under `once`: a different ballot was already cast with this credential.
    #[error("credential already used")]
    CredentialUsed,
    /// A spoil request for a ballot that was cast.
    #[error("ballot already cast")]
    AlreadyCast,
    /// A cast of a ballot that was spoiled.
    #[error("ballot was spoiled")]
    Spoiled,
    /// No ballot with this tracking code is on the board.
    #[error("unknown ballot")]
    UnknownBallot,
    /// Back-pressure or a timeout; the request may be retried.
    #[error("unavailable")]
    Unavailable,
    /// The database (or the board's storage in it) failed or could not be reached:
    /// transient, the request may be retried with the same bytes (a ballot the store
    /// recorded before the failure gets its original receipt).
    #[error("storage unavailable")]
    StorageUnavailable(#[source] urna_service::Error),
    /// Anything else that failed inside: corrupt stored data, a task that panicked.
    #[error("internal")]
    Internal(#[source] urna_service::Error),
    /// The nullifier gate's Redis configuration is unusable (a malformed URL); only
    /// at start-up, never for a request.
    #[error("redis configuration")]
    Redis(#[source] redis::RedisError),
}

impl CastingError {
    /// A short, stable name of the refusal (the `outcome` of the ballots metric).
    #[must_use]
    pub const fn reason(&self) -> &'static str {
        match self {
            CastingError::TooLarge => "too_large",
            CastingError::Malformed => "malformed",
            CastingError::WrongElection => "wrong_election",
            CastingError::InvalidCredential => "invalid_credential",
            CastingError::InvalidProof => "invalid_proof",
            CastingError::InvalidOpening => "invalid_opening",
            CastingError::UnknownElection => "unknown_election",
            CastingError::NotOpen => "not_open",
            CastingError::Closed => "closed",
            CastingError::CredentialUsed => "credential_used",
            CastingError::AlreadyCast => "already_cast",
            CastingError::Spoiled => "spoiled",
            CastingError::UnknownBallot => "unknown_ballot",
            CastingError::Unavailable => "unavailable",
            CastingError::StorageUnavailable(_) => "storage_unavailable",
            CastingError::Internal(_) => "internal",
            CastingError::Redis(_) => "redis_configuration",
        }
    }
}

impl From<urna_service::Error> for CastingError {
    fn from(e: urna_service::Error) -> Self {
        use urna_service::Error as E;
        use urna_store::ElectionState as S;
        match e {
            E::UnknownElection => CastingError::UnknownElection,
            E::UnknownBallot => CastingError::UnknownBallot,
            E::NoKeys | E::WrongState(S::Draft) => CastingError::NotOpen,
            E::WrongState(_) => CastingError::Closed,
            E::Unavailable => CastingError::Unavailable,
            transient @ (E::Store(urna_store::Error::Backend(_))
            | E::Board(
                urna_board::Error::Store(_) | urna_board::Error::SequencerStopped,
            )) => CastingError::StorageUnavailable(transient),
            other => CastingError::Internal(other),
        }
    }
}

impl From<urna_store::Error> for CastingError {
    fn from(e: urna_store::Error) -> Self {
        use urna_store::{Conflict, Error as E};
        match e {
            E::Conflict(Conflict::NullifierSpent) => CastingError::CredentialUsed,
            E::Conflict(Conflict::Spoiled) => CastingError::Spoiled,
            E::Conflict(Conflict::TrackingCode) => CastingError::Malformed,
            other => urna_service::Error::from(other).into(),
        }
    }
}
