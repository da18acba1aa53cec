//! The crate's error: why a style could not be served.

/// Why a ballot style could not be served. Clients see fixed messages (see
/// [`grpc`](crate::grpc)); the details here go to `tracing`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssuanceError {
    /// The election does not exist.
    #[error("unknown election")]
    UnknownElection,
    /// The election has no ballot style with this id.
    #[error("unknown ballot style")]
    UnknownStyle,
    /// The election is still in Draft or has no joint key yet.
    #[error("the election is not ready: {0}")]
    NotReady(&'static str),
    /// The stored manifest does not parse or does not match its fingerprint.
    #[error("stored manifest: {0}")]
    Manifest(&'static str),
    /// The style could not be built from the manifest.
    #[error("style: {0}")]
    Style(#[from] urna_election::StyleError),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] urna_store::Error),
}
