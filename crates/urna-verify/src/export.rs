//! Writes a board's static mirror (the layout [`DirSource`](crate::DirSource) reads)
//! from its log store: what `urna board export` runs. Only urna-board is needed, so the
//! same code serves any store backend.

use std::path::Path;

use urna_board::tiles::hash_tiles;
use urna_board::{Log, Store, TileId, TileKind};

use crate::error::Error;
use crate::verify::unsigned;

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exported {
    /// Entries in the latest checkpoint.
    pub size: u64,
    /// Signed checkpoints written (the latest included).
    pub checkpoints: u64,
}

/// Exports the board in `store` to `out`: the latest checkpoint, every stored
/// checkpoint under `checkpoints/<size>`, every hash tile and entry bundle of the
/// latest checkpoint's tree, and the manifest document as `manifest.yaml`.
///
/// The store keeps checkpoints by size without a listing, so every size up to the
/// latest is looked up: one indexed read per entry.
///
/// # Errors
/// [`Error::Board`] if the store cannot be read or has no signed checkpoint,
/// [`Error::Write`] if a file cannot be written.
pub fn export<S: Store>(store: S, manifest_yaml: &str, out: &Path) -> Result<Exported, Error> {
    let latest = store
        .latest_checkpoint()
        .map_err(|e| Error::Board(e.to_string()))?
        .ok_or_else(|| Error::Board("the board has no signed checkpoint".to_owned()))?;
    let origin = unsigned(latest.note.as_bytes())
        .map_err(Error::Board)?
        .origin()
        .to_owned();
    let log = Log::open(store, &origin).map_err(|e| Error::Board(e.to_string()))?;
    write(out, "checkpoint", latest.note.as_bytes())?;
    write(out, "manifest.yaml", manifest_yaml.as_bytes())?;
    let mut checkpoints = 1;
    for size in 0..latest.size {
        let stored = log
            .store()
            .checkpoint(size)
            .map_err(|e| Error::Board(e.to_string()))?;
        if let Some(stored) = stored {
            write(out, &format!("checkpoints/{size}"), stored.note.as_bytes())?;
            checkpoints += 1;
        }
    }
    let bundles = (0..latest.size.div_ceil(256)).map(|index| TileId {
        kind: TileKind::Entries,
        index,
        width: (latest.size - index * 256 < 256).then_some((latest.size % 256) as u8),
    });
    for id in hash_tiles(latest.size).chain(bundles) {
        let bytes = log.tile(&id).map_err(|e| Error::Board(e.to_string()))?;
        write(out, &id.to_string(), &bytes)?;
    }
    Ok(Exported {
        size: latest.size,
        checkpoints,
    })
}

fn write(out: &Path, relative: &str, bytes: &[u8]) -> Result<(), Error> {
    let path = out.join(relative);
    let written = match path.parent() {
        Some(parent) => std::fs::create_dir_all(parent),
        None => Ok(()),
    }
    .and_then(|()| std::fs::write(&path, bytes));
    written.map_err(|source| Error::Write { path, source })
}
