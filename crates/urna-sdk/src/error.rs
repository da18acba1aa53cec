//! The SDK's error type: what the servers refused, and which check of their answers
//! failed.

use thiserror::Error;
use tonic::{Code, Status};

/// Everything that can go wrong for a voter's client.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad local input: an endpoint, a TLS certificate or a saved file.
    #[error("configuration: {0}")]
    Config(&'static str),
    /// Login failed: wrong election, voter id or voting code, or an expired session.
    #[error("not authenticated: {0}")]
    Unauthenticated(String),
    /// This credential has already cast a ballot (re-voting policy `once`), or this voter
    /// already received a different credential.
    #[error("already cast or issued: {0}")]
    AlreadyCast(String),
    /// The election does not accept this now: closed, not yet open, or not ready.
    #[error("election not accepting this: {0}")]
    Closed(String),
    /// The server refused the ballot or request as malformed or invalid.
    #[error("invalid ballot or request: {0}")]
    InvalidBallot(String),
    /// The election, style or receipt does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Too many attempts: wait before trying again.
    #[error("rate limited: {0}")]
    RateLimited(String),
    /// The server could not be reached or is overloaded: try again.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Any other status from a server.
    #[error("server error ({code:?}): {message}")]
    Server {
        /// The gRPC status code.
        code: Code,
        /// The server's (fixed) message.
        message: String,
    },
    /// A server's answer failed a check: it must not be trusted.
    #[error("verification failed: {0}")]
    Verify(#[from] VerifyFailure),
    /// The voter's choices do not fit the ballot style.
    #[error("invalid choice: {0}")]
    Choice(#[from] ChoiceError),
    /// The cryptography refused its input (for example a malformed key).
    #[error("cryptography: {0}")]
    Crypto(#[from] urna_crypto::Error),
}

/// Which check of a server's answer failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VerifyFailure {
    /// The board key is malformed, or is not the pinned key.
    #[error("board key")]
    BoardKey,
    /// The checkpoint is not signed by the board key, or is malformed.
    #[error("checkpoint signature")]
    Checkpoint,
    /// A newer checkpoint is older than, or not consistent with, an earlier one.
    #[error("consistency with an earlier checkpoint")]
    Consistency,
    /// An entry is not included in the checkpoint, or its proof is malformed.
    #[error("inclusion proof")]
    Inclusion,
    /// The board's first entries are not this election's manifest and keys.
    #[error("board genesis entries")]
    Genesis,
    /// The ballot style's signature, key or contents.
    #[error("ballot style: {0}")]
    Style(&'static str),
    /// The auth key or the blind signature of the credential.
    #[error("credential")]
    Credential,
    /// A receipt that does not match the ballot it is for.
    #[error("receipt: {0}")]
    Receipt(&'static str),
    /// The opening of a challenged ballot does not reproduce its ciphertexts.
    #[error("ballot opening")]
    Opening,
}

/// Why the voter's choices were refused before anything was encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ChoiceError {
    /// A contest the ballot style does not have.
    #[error("no contest {0} on this ballot")]
    UnknownContest(String),
    /// An option the contest does not have.
    #[error("contest {contest}: no option {option}")]
    UnknownOption {
        /// The contest.
        contest: String,
        /// The option asked for.
        option: String,
    },
    /// An option given twice.
    #[error("contest {contest}: option {option} given more than once")]
    Duplicate {
        /// The contest.
        contest: String,
        /// The option.
        option: String,
    },
    /// Choices of the wrong kind for the contest's method (scores for plurality, ...).
    #[error("contest {0}: this kind of choice does not fit its counting method")]
    WrongKind(String),
    /// Too few or too many options chosen.
    #[error("contest {contest}: {count} option(s) chosen; {min} to {max} allowed")]
    Count {
        /// The contest.
        contest: String,
        /// How many were chosen.
        count: u64,
        /// The least allowed.
        min: u64,
        /// The most allowed.
        max: u64,
    },
    /// A score outside the contest's range.
    #[error("contest {contest}: score {score} outside {min}..={max}")]
    Score {
        /// The contest.
        contest: String,
        /// The score given.
        score: u32,
        /// The least score.
        min: u32,
        /// The greatest score.
        max: u64,
    },
    /// A contest counted by mix-net, which this client cannot cast yet.
    #[error("contest {0} is counted by mix-net, which is not supported yet")]
    Unsupported(String),
}

impl From<Status> for Error {
    fn from(status: Status) -> Self {
        tracing::debug!(code = ?status.code(), "server refused a request");
        let message = status.message().to_owned();
        match status.code() {
            Code::Unauthenticated | Code::PermissionDenied => Error::Unauthenticated(message),
            Code::AlreadyExists => Error::AlreadyCast(message),
            Code::FailedPrecondition => Error::Closed(message),
            Code::InvalidArgument | Code::OutOfRange => Error::InvalidBallot(message),
            Code::NotFound => Error::NotFound(message),
            Code::ResourceExhausted => Error::RateLimited(message),
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                Error::Unavailable(message)
            }
            // The connection broke under a request (the server went away): tonic makes
            // that `Unknown` with the transport's error as the source, which no
            // server's status carries. Retrying elsewhere is the remedy.
            Code::Unknown if std::error::Error::source(&status).is_some() => {
                Error::Unavailable(message)
            }
            code => Error::Server { code, message },
        }
    }
}

/// The SDK's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_connection_is_unavailable_but_a_servers_unknown_is_not() {
        let mut broken = Status::new(Code::Unknown, "transport error");
        broken.set_source(std::sync::Arc::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        )));
        assert!(matches!(Error::from(broken), Error::Unavailable(_)));
        let answered = Status::new(Code::Unknown, "something odd");
        assert!(matches!(
            Error::from(answered),
            Error::Server {
                code: Code::Unknown,
                ..
            }
        ));
    }

    #[test]
    fn statuses_map_to_the_variants_a_voter_acts_on() {
        let cases = [
            (Code::Unauthenticated, "not authenticated"),
            (Code::AlreadyExists, "already cast"),
            (Code::FailedPrecondition, "election not accepting"),
            (Code::InvalidArgument, "invalid ballot"),
            (Code::NotFound, "not found"),
            (Code::ResourceExhausted, "rate limited"),
            (Code::Unavailable, "service unavailable"),
            (Code::Internal, "server error"),
        ];
        for (code, prefix) in cases {
            let error = Error::from(Status::new(code, "fixed message"));
            let text = error.to_string();
            assert!(text.starts_with(prefix), "{code:?}: {text}");
            assert!(text.ends_with("fixed message"), "{code:?}: {text}");
        }
        assert!(matches!(
            Error::from(Status::already_exists("x")),
            Error::AlreadyCast(_)
        ));
        assert!(matches!(
            Error::from(Status::failed_precondition("election closed")),
            Error::Closed(m) if m == "election closed"
        ));
    }
}
