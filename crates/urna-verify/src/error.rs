//! What stops verification before it can report (the source cannot be read), and
//! what stops an export.
//!
//! Anything wrong with the board's content is not an error but a failed check in the
//! [`Report`](crate::Report).

use std::path::PathBuf;

/// The board could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file of the export is missing or unreadable.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file of an export could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The board's log store could not be read for an export.
    #[error("board: {0}")]
    Board(String),
}
