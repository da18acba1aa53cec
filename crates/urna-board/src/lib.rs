#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod checkpoint;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod entry;
pub mod error;
pub mod hash;
pub mod log;
pub mod merkle;
pub mod note;
pub mod parts;
pub mod proof;
pub mod sequencer;
pub mod store;
pub mod tiles;

pub use checkpoint::{Checkpoint, SignedCheckpoint};
pub use entry::{Entry, EntryKind};
pub use error::{EntryError, Error, NoteError, ProofError, Result, StoreError};
pub use hash::TreeHash;
pub use log::Log;
pub use merkle::NodeSource;
pub use note::{NoteSigner, NoteVerifier, VerifiedNote, open_note, sign_note};
pub use proof::{root_from_inclusion_proof, verify_consistency, verify_inclusion};
pub use sequencer::{Appended, Pending, Sequencer, SequencerConfig};
pub use store::memory::MemoryStore;
pub use store::sqlite::SqliteStore;
pub use store::{Batch, Store, StoredCheckpoint};
pub use tiles::{TileId, TileKind};
