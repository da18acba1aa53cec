//! The crate's one error type, in the categories the gRPC layer maps to status codes.

/// Why a tally operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TallyError {
    /// The election does not exist.
    #[error("unknown election")]
    UnknownElection,
    /// The request is malformed (gRPC `InvalidArgument`).
    #[error("invalid request: {0}")]
    Invalid(Invalid),
    /// The trustee is not registered, or the signature is not its (gRPC
    /// `PermissionDenied`).
    #[error("the submission is not signed by the registered trustee")]
    Unauthenticated,
    /// The record collides with one already stored (gRPC `AlreadyExists`).
    #[error("a different {0} is already recorded")]
    Conflict(&'static str),
    /// The ceremony or the election is not in the round or state the operation needs
    /// (gRPC `FailedPrecondition`).
    #[error("not now: the operation needs {0}")]
    WrongPhase(&'static str),
    /// The storage failed.
    #[error("storage")]
    Store(#[source] urna_store::Error),
    /// An entry on the election's board does not decode as the election's.
    #[error("corrupt board entry")]
    CorruptBoard,
    /// The election's board failed or is busy.
    #[error("board")]
    Board(#[source] urna_service::Error),
}

/// What was malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Invalid {
    /// The trustee index is outside 1..=n.
    #[error("trustee index")]
    TrusteeIndex,
    /// The trustee name is too long.
    #[error("trustee name")]
    TrusteeName,
    /// A public key does not decode or is unusable.
    #[error("public key")]
    PublicKey,
    /// The dealing does not decode, names another dealer or its proof fails.
    #[error("dealing")]
    Dealing,
    /// The sealed shares are not one per trustee in recipient order.
    #[error("sealed shares")]
    Shares,
    /// The complaint does not decode, names another accuser or an unknown dealer.
    #[error("complaint")]
    Complaint,
    /// The revealed share does not decode, names another dealer or answers no
    /// complaint.
    #[error("revealed share")]
    Reveal,
    /// The confirmation's complaint count differs from the complaints recorded in
    /// the trustee's name.
    #[error("confirmation")]
    Confirmation,
    /// The decryption batch does not exist.
    #[error("decryption batch")]
    Batch,
    /// The partial decryption does not decode, names another trustee or a proof fails.
    #[error("partial decryption")]
    Partial,
    /// The shuffle's output or proof does not decode, or the proof fails.
    #[error("shuffle")]
    Shuffle,
    /// The trustee has already shuffled this batch.
    #[error("mix step")]
    MixStep,
}

impl From<urna_store::Error> for TallyError {
    fn from(e: urna_store::Error) -> Self {
        match e {
            urna_store::Error::NotFound(_) => TallyError::UnknownElection,
            urna_store::Error::WrongState { .. } => {
                TallyError::WrongPhase("another election state")
            }
            other => TallyError::Store(other),
        }
    }
}

impl From<Invalid> for TallyError {
    fn from(e: Invalid) -> Self {
        TallyError::Invalid(e)
    }
}
