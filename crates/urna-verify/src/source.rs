//! Where the board comes from: a trait, so an export directory and (later) the public
//! HTTP endpoint serve the same verifier.
//!
//! The directory layout is the one the HTTP API serves below
//! `/api/v1/elections/{id}/board/` (C2SP tlog-tiles), plus what a static mirror needs:
//!
//! ```text
//! checkpoint                     the latest signed checkpoint
//! checkpoints/<size>             every other signed checkpoint the board kept
//! tile/<L>/<N>[.p/<W>]           hash tiles
//! tile/entries/<N>[.p/<W>]       entry bundles
//! manifest.yaml                  the manifest document (entry 0 holds its encoding)
//! ```

use std::path::{Path, PathBuf};

use urna_board::{TileId, TileKind};

use crate::error::Error;

/// Reads a board.
pub trait Source {
    /// The latest signed checkpoint note.
    ///
    /// # Errors
    /// [`Error`] if it cannot be read.
    fn checkpoint(&self) -> Result<Vec<u8>, Error>;

    /// Every other signed checkpoint the source has, as `(size, note)`.
    ///
    /// # Errors
    /// [`Error`] if they cannot be read.
    fn checkpoints(&self) -> Result<Vec<(u64, Vec<u8>)>, Error>;

    /// The entry bundle `index`: 256 entries, or `width` of them for a partial bundle.
    ///
    /// # Errors
    /// [`Error`] if it cannot be read.
    fn entry_bundle(&self, index: u64, width: Option<u8>) -> Result<Vec<u8>, Error>;

    /// The hash tile `index` of tlog-tiles level `level`: 256 hashes, or `width`.
    ///
    /// # Errors
    /// [`Error`] if it cannot be read.
    fn hash_tile(&self, level: u8, index: u64, width: Option<u8>) -> Result<Vec<u8>, Error>;

    /// The manifest document (YAML), whose canonical encoding must be entry 0's body.
    ///
    /// # Errors
    /// [`Error`] if it cannot be read.
    fn manifest_yaml(&self) -> Result<String, Error>;
}

/// A board exported to a directory (`urna board export`).
#[derive(Debug, Clone)]
pub struct DirSource {
    root: PathBuf,
}

impl DirSource {
    /// The export in `root`.
    pub fn new(root: impl AsRef<Path>) -> Self {
        Self {
            root: root.as_ref().to_path_buf(),
        }
    }

    fn read(&self, relative: &str) -> Result<Vec<u8>, Error> {
        let path = self.root.join(relative);
        std::fs::read(&path).map_err(|source| Error::Read { path, source })
    }
}

impl Source for DirSource {
    fn checkpoint(&self) -> Result<Vec<u8>, Error> {
        self.read("checkpoint")
    }

    fn checkpoints(&self) -> Result<Vec<(u64, Vec<u8>)>, Error> {
        let dir = self.root.join("checkpoints");
        let listing = match std::fs::read_dir(&dir) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(Error::Read { path: dir, source }),
        };
        let mut out = Vec::new();
        for item in listing {
            let item = item.map_err(|source| Error::Read {
                path: dir.clone(),
                source,
            })?;
            let name = item.file_name();
            // Only canonical decimal sizes are checkpoints; anything else is not ours.
            let Some(size) = name
                .to_str()
                .filter(|n| *n == "0" || !n.starts_with('0'))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            out.push((size, self.read(&format!("checkpoints/{size}"))?));
        }
        out.sort_by_key(|(size, _)| *size);
        Ok(out)
    }

    fn entry_bundle(&self, index: u64, width: Option<u8>) -> Result<Vec<u8>, Error> {
        let id = TileId {
            kind: TileKind::Entries,
            index,
            width,
        };
        self.read(&id.to_string())
    }

    fn hash_tile(&self, level: u8, index: u64, width: Option<u8>) -> Result<Vec<u8>, Error> {
        let id = TileId {
            kind: TileKind::Hash(level),
            index,
            width,
        };
        self.read(&id.to_string())
    }

    fn manifest_yaml(&self) -> Result<String, Error> {
        let bytes = self.read("manifest.yaml")?;
        String::from_utf8(bytes).map_err(|_| Error::Read {
            path: self.root.join("manifest.yaml"),
            source: std::io::Error::from(std::io::ErrorKind::InvalidData),
        })
    }
}
