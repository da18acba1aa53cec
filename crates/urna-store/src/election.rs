//! Elections: the applied manifest, the lifecycle state and the write-once results.

use std::fmt;
use std::future::Future;

use urna_election::{Manifest, Revoting};

use crate::error::Result;

/// Where an election is in its lifecycle. The only transitions are
/// Draft → Test → Open → Closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ElectionState {
    /// Being prepared: the manifest may still change.
    Draft,
    /// Rehearsal: credentials and ballots work, and ballots are discarded on opening.
    Test,
    /// Polls are open.
    Open,
    /// Polls are closed; results may be recorded.
    Closed,
}

impl ElectionState {
    /// The stored spelling: `draft`, `test`, `open`, `closed`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            ElectionState::Draft => "draft",
            ElectionState::Test => "test",
            ElectionState::Open => "open",
            ElectionState::Closed => "closed",
        }
    }

    /// Parses the stored spelling.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Draft, Self::Test, Self::Open, Self::Closed]
            .into_iter()
            .find(|s| s.name() == name)
    }

    /// Whether `self → next` is a lifecycle transition.
    #[must_use]
    pub const fn can_become(self, next: ElectionState) -> bool {
        matches!(
            (self, next),
            (ElectionState::Draft, ElectionState::Test)
                | (ElectionState::Test, ElectionState::Open)
                | (ElectionState::Open, ElectionState::Closed)
        )
    }
}

impl fmt::Display for ElectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An election as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElectionRecord {
    /// The manifest's id.
    pub id: String,
    /// The manifest's fingerprint.
    pub fingerprint: [u8; 32],
    /// The manifest's canonical encoding (what the fingerprint hashes).
    pub manifest: Vec<u8>,
    /// The YAML the manifest was parsed from, as applied.
    pub source: String,
    /// The re-voting policy the ballot store enforces.
    pub revoting: Revoting,
    /// The lifecycle state.
    pub state: ElectionState,
}

/// What applying a manifest did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// A new election was created in Draft.
    Created,
    /// The same manifest (same fingerprint) was already applied: nothing changed.
    Unchanged,
    /// A Draft election's manifest was replaced.
    Replaced,
}

/// Elections, their lifecycle and their results.
///
/// The futures are `Send`, so a generic service can run them on a multi-threaded
/// runtime; the trait is not dyn-compatible (use generics, not `dyn`).
pub trait ElectionStore: Send + Sync {
    /// Applies a manifest (GitOps): creates the election in Draft, or does nothing if
    /// the same manifest (same fingerprint) is applied, or replaces a Draft election's
    /// manifest. A different manifest for an election past Draft is
    /// [`Conflict::ManifestChanged`](crate::Conflict::ManifestChanged); a Draft change
    /// that drops a ballot style the roll uses is
    /// [`Conflict::StyleInUse`](crate::Conflict::StyleInUse).
    fn apply_manifest(
        &self,
        manifest: &Manifest,
        source: &str,
    ) -> impl Future<Output = Result<Applied>> + Send;

    /// The election, if it exists.
    fn election(&self, id: &str) -> impl Future<Output = Result<Option<ElectionRecord>>> + Send;

    /// Every election, by id.
    fn elections(&self) -> impl Future<Output = Result<Vec<ElectionRecord>>> + Send;

    /// Moves the election from `from` to `to`, atomically and only if it is in `from`
    /// (compare-and-set). A pair that is not a lifecycle transition is
    /// [`Error::InvalidInput`](crate::Error::InvalidInput); an election not in `from`
    /// is [`Error::WrongState`](crate::Error::WrongState). Test → Open discards, in
    /// the same transaction, every ballot, nullifier and spoiled ballot of the Test
    /// phase; credentials issued in Test stay issued (they remain valid).
    fn transition(
        &self,
        id: &str,
        from: ElectionState,
        to: ElectionState,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Records the results of a Closed election, once: the same bytes again are a
    /// no-op, different bytes are [`Conflict::Results`](crate::Conflict::Results).
    fn record_results(&self, id: &str, results: &[u8]) -> impl Future<Output = Result<()>> + Send;

    /// The recorded results, if any.
    fn results(&self, id: &str) -> impl Future<Output = Result<Option<Vec<u8>>>> + Send;
}
