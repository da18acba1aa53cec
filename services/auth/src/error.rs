//! The crate's error: why a login, an issuance or a lookup failed.

use urna_store::ElectionState;

use crate::limit::Limited;

/// Why an auth operation failed. Clients see fixed messages (see
/// [`grpc`](crate::grpc)); the details here go to `tracing`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Wrong election, voter id or voting code: one error for all, so the roll cannot
    /// be probed.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The session token is malformed, forged or expired.
    #[error("invalid or expired session")]
    InvalidSession,
    /// A login rate limit refused the attempt.
    #[error("rate limited: {0}")]
    RateLimited(Limited),
    /// The election does not exist.
    #[error("election not found")]
    UnknownElection,
    /// The election is not in Test or Open, so no credential is issued.
    #[error("election is {0}, credentials are issued in test and open")]
    NotIssuing(ElectionState),
    /// The election has no blind-signing key yet.
    #[error("the election has no auth key")]
    NoKey,
    /// The blinded message's length is not the modulus length.
    #[error("blinded message length does not match the key")]
    BlindedLength,
    /// The voter was already issued a credential for a different blinded message.
    #[error("credential already issued")]
    AlreadyIssued,
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] urna_store::Error),
    /// The stored key could not be used, or signing failed.
    #[error("crypto: {0}")]
    Crypto(#[from] urna_crypto::Error),
    /// A blocking task (hashing, signing) panicked or was cancelled.
    #[error("blocking task: {0}")]
    Task(#[from] tokio::task::JoinError),
}
