//! Board logs: one urna-board log store per election, reused as is.

use std::future::Future;

use crate::ballot::Phase;
use crate::error::Result;

/// Opens the bulletin board storage of an election.
pub trait BoardStore: Send + Sync {
    /// The log store (an [`urna_board::Store`]) a board sequencer owns.
    type Board: urna_board::Store + 'static;

    /// Opens (creating if needed) the board of an existing election for a phase: the
    /// Test phase has its own board, frozen when the election opens; the Open board is
    /// the election's public record. Each call opens a new handle on the same log
    /// (one for the sequencer, others for readers).
    fn open_board(
        &self,
        election: &str,
        phase: Phase,
    ) -> impl Future<Output = Result<Self::Board>> + Send;
}
