//! The whole storage of a service: every concern's trait from one backend.

/// Everything a service needs from one backend, shareable across tasks.
pub trait Store:
    crate::ElectionStore
    + crate::RollStore
    + crate::BallotStore
    + crate::EntryOutbox
    + crate::BoardStore
    + crate::KeyStore
    + crate::TallyStore
    + crate::MixStore
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: crate::ElectionStore
        + crate::RollStore
        + crate::BallotStore
        + crate::EntryOutbox
        + crate::BoardStore
        + crate::KeyStore
        + crate::TallyStore
        + crate::MixStore
        + Clone
        + Send
        + Sync
        + 'static
{
}
