//! The embedded store: one SQLite database (rusqlite, bundled SQLite) in WAL mode.
//!
//! Durability: `synchronous = FULL`, so a batch is on disk when [`Store::write_batch`]
//! returns, and a batch is one `BEGIN IMMEDIATE … COMMIT` transaction, so a crash
//! leaves either all of it or none of it. Several handles (one writer, any number of
//! readers) may open the same file.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{Batch, Store, StoredCheckpoint, TILE_WIDTH, check_tile};
use crate::error::{Result, StoreError};
use crate::hash::{HASH_LEN, TreeHash};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entries (
    idx  INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);
-- key = level << 56 | tile index; hashes = 32-byte hashes, at most 256.
CREATE TABLE IF NOT EXISTS tiles (
    key    INTEGER PRIMARY KEY,
    hashes BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS head (
    id   INTEGER PRIMARY KEY CHECK (id = 0),
    size INTEGER NOT NULL,
    root BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    size INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    note TEXT NOT NULL
);
";

/// A log in a SQLite database file.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
}

fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt("index beyond 2^63").into())
}

fn tile_key(level: u8, index: u64) -> Result<i64> {
    if level > 63 || index >= 1 << 56 {
        return Err(StoreError::Corrupt("tile address out of range").into());
    }
    to_i64((u64::from(level) << 56) | index)
}

fn to_hash(bytes: &[u8]) -> Result<TreeHash> {
    TreeHash::from_slice(bytes).ok_or_else(|| StoreError::Corrupt("hash of wrong length").into())
}

impl SqliteStore {
    /// Opens (creating if needed) the log database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        // 16 KiB pages hold a whole 8 KiB hash tile without overflow pages; this only
        // takes effect while the file is new, so it comes before WAL mode.
        conn.execute_batch("PRAGMA page_size = 16384;")?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!("journal mode {mode}, not WAL")).into());
        }
        // A 64 MiB page cache and memory-mapped reads keep proof generation off the
        // system-call path.
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA cache_size = -65536;
             PRAGMA mmap_size = 1073741824;",
        )?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn })
    }
}

impl Store for SqliteStore {
    fn head(&self) -> Result<(u64, TreeHash)> {
        let row: Option<(i64, Vec<u8>)> = self
            .conn
            .prepare_cached("SELECT size, root FROM head WHERE id = 0")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match row {
            None => Ok((0, TreeHash::EMPTY_ROOT)),
            Some((size, root)) => Ok((
                u64::try_from(size).map_err(|_| StoreError::Corrupt("negative size"))?,
                to_hash(&root)?,
            )),
        }
    }

    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT hashes FROM tiles WHERE key = ?1")?
            .query_row([tile_key(level, index)?], |r| r.get(0))
            .optional()?)
    }

    fn read_node(&self, level: u8, index: u64) -> Result<Option<TreeHash>> {
        let offset = (index % TILE_WIDTH) as i64 * HASH_LEN as i64 + 1;
        let bytes: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT substr(hashes, ?1, 32) FROM tiles WHERE key = ?2")?
            .query_row(params![offset, tile_key(level, index / TILE_WIDTH)?], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(bytes.and_then(|b| TreeHash::from_slice(&b)))
    }

    fn read_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        let (start, end) = (to_i64(start)?, to_i64(end.min(i64::MAX as u64))?);
        let mut stmt = self
            .conn
            .prepare_cached("SELECT data FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx")?;
        let rows = stmt.query_map([start, end], |r| r.get(0))?;
        Ok(rows.collect::<Result<Vec<Vec<u8>>, _>>()?)
    }

    fn write_batch(&mut self, batch: &Batch<'_>) -> Result<()> {
        for (_, _, t) in batch.tiles {
            check_tile(t)?;
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let size: i64 = tx
            .query_row("SELECT size FROM head WHERE id = 0", [], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        let start = to_i64(batch.start)?;
        if start != size {
            return Err(StoreError::NotAtEnd {
                expected: size as u64,
                got: batch.start,
            }
            .into());
        }
        {
            let mut ins = tx.prepare_cached("INSERT INTO entries (idx, data) VALUES (?1, ?2)")?;
            for (i, e) in batch.entries.iter().enumerate() {
                ins.execute(params![start + i as i64, e])?;
            }
            let mut put =
                tx.prepare_cached("INSERT OR REPLACE INTO tiles (key, hashes) VALUES (?1, ?2)")?;
            for (level, index, t) in batch.tiles {
                put.execute(params![tile_key(*level, *index)?, t])?;
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO head (id, size, root) VALUES (0, ?1, ?2)",
            params![start + batch.entries.len() as i64, batch.root.as_bytes()],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        let row: Option<(i64, Vec<u8>, String)> = self
            .conn
            .prepare_cached("SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        row.map(|(size, root, note)| {
            Ok(StoredCheckpoint {
                size: size as u64,
                root: to_hash(&root)?,
                note,
            })
        })
        .transpose()
    }

    fn checkpoint(&self, size: u64) -> Result<Option<StoredCheckpoint>> {
        let row: Option<(Vec<u8>, String)> = self
            .conn
            .prepare_cached("SELECT root, note FROM checkpoints WHERE size = ?1")?
            .query_row([to_i64(size)?], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(root, note)| {
            Ok(StoredCheckpoint {
                size,
                root: to_hash(&root)?,
                note,
            })
        })
        .transpose()
    }

    fn write_checkpoint(&mut self, cp: &StoredCheckpoint) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let size: i64 = tx
            .query_row("SELECT size FROM head WHERE id = 0", [], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        let at = to_i64(cp.size)?;
        if at > size {
            return Err(StoreError::Corrupt("checkpoint beyond the integrated tree").into());
        }
        let old: Option<Vec<u8>> = tx
            .query_row("SELECT root FROM checkpoints WHERE size = ?1", [at], |r| {
                r.get(0)
            })
            .optional()?;
        match old {
            Some(root) if root != cp.root.as_bytes() => {
                return Err(StoreError::Fork(cp.size).into());
            }
            Some(_) => return Ok(()),
            None => {
                tx.execute(
                    "INSERT INTO checkpoints (size, root, note) VALUES (?1, ?2, ?3)",
                    params![at, cp.root.as_bytes(), cp.note],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_uses_wal_and_16k_pages() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("t.db")).unwrap();
        let page: i64 = store
            .conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap();
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!((page, mode.as_str()), (16384, "wal"));
        assert_eq!(store.head().unwrap(), (0, TreeHash::EMPTY_ROOT));
    }
}
