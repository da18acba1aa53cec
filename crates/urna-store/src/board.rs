//! Board logs: one urna-board log store per election and phase, and the election of
//! the one process that sequences each.

use std::future::Future;

use crate::ballot::Phase;
use crate::error::Result;

/// Opens the bulletin board storage of an election.
pub trait BoardStore: Send + Sync {
    /// The log store (an [`urna_board::Store`]) a board sequencer owns.
    type Board: urna_board::Store + 'static;

    /// The right to sequence one board, held until dropped (see
    /// [`acquire_writer`](Self::acquire_writer)).
    type Lease: BoardLease;

    /// Opens (creating if needed) the board of an existing election for a phase: the
    /// Test phase has its own board, frozen when the election opens; the Open board is
    /// the election's public record. Each call opens a new handle on the same log
    /// (one for the sequencer, others for readers).
    fn open_board(
        &self,
        election: &str,
        phase: Phase,
    ) -> impl Future<Output = Result<Self::Board>> + Send;

    /// Tries, without waiting, to become the one process that sequences the board:
    /// `Some` grants it until the lease is dropped or lost, `None` means another
    /// process holds it (this one then only reads the board). A backend that only one
    /// process ever opens (the embedded store) always grants it.
    fn acquire_writer(
        &self,
        election: &str,
        phase: Phase,
    ) -> impl Future<Output = Result<Option<Self::Lease>>> + Send;
}

/// A held right to sequence a board.
pub trait BoardLease: Send + Sync + 'static {
    /// Whether the lease still holds, asked of the backend; once lost, a lease never
    /// holds again (the holder stops sequencing and drops it).
    fn held(&self) -> impl Future<Output = bool> + Send;
}

/// The lease of a backend that a single process owns: always held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoleWriter;

impl BoardLease for SoleWriter {
    async fn held(&self) -> bool {
        true
    }
}
