//! Board logs: one urna-board log store per election, reused as is.

use std::future::Future;

use crate::error::Result;

/// Opens the bulletin board storage of an election.
pub trait BoardStore: Send + Sync {
    /// The log store (an [`urna_board::Store`]) a board sequencer owns.
    type Board: urna_board::Store + 'static;

    /// Opens (creating if needed) the board of an existing election.
    fn open_board(&self, election: &str) -> impl Future<Output = Result<Self::Board>> + Send;
}
