//! The embedded backend: one SQLite database (rusqlite, bundled) in WAL mode in a
//! data directory, plus one urna-board SQLite log per election.
//!
//! ```text
//! <dir>/urna.sqlite            elections, roll, issuances, ballots, nullifiers, the
//!                              entry outbox, results
//! <dir>/urna.sqlite-wal, -shm  SQLite's write-ahead log and its index
//! <dir>/boards/<election>.sqlite       the election's bulletin board (urna_board::SqliteStore)
//! <dir>/boards/<election>.test.sqlite  the board of its Test phase
//! ```
//!
//! Every operation runs on tokio's blocking pool, never on the async executor. Writes
//! go through one connection (SQLite has one writer at a time anyway), each a
//! `BEGIN IMMEDIATE` transaction, so a decision read inside it cannot be raced; reads
//! use a small pool of connections that WAL lets run beside the writer.
//! `synchronous = FULL`: a write is on disk when its future resolves.

mod ballot;
mod election;
mod keys;
mod mix;
mod outbox;
mod roll;
mod schema;
mod tally;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::ballot::Phase;
use crate::board::{BoardStore, SoleWriter};
use crate::election::ElectionState;
use crate::error::{Error, Missing, Result};

/// The database file's name in the data directory.
pub const DATABASE_FILE: &str = "urna.sqlite";
/// The directory of board logs in the data directory.
pub const BOARDS_DIR: &str = "boards";
/// Idle read connections kept open.
const READERS: usize = 8;

/// The embedded store; cheap to clone (the clones share the connections).
#[derive(Clone, Debug)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl SqliteStore {
    /// Opens the store in `dir` (created if missing), applying pending migrations.
    ///
    /// # Errors
    /// [`Error::Backend`] if the directory or database cannot be opened, WAL mode is
    /// unavailable, or the database's schema is newer than this build.
    pub async fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_blocking(dir)).await?
    }

    fn open_blocking(dir: PathBuf) -> Result<Self> {
        std::fs::create_dir_all(dir.join(BOARDS_DIR))?;
        // The database holds election secrets (the auth tier's signing key, the style
        // and board keys) and voting-code hashes: the directory is the owner's alone.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let mut writer = connect(&dir)?;
        let mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::corrupt("journal mode is not WAL"));
        }
        schema::migrate(&mut writer)?;
        Ok(Self {
            inner: Arc::new(Inner {
                dir,
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The data directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction on the writer, off the executor;
    /// commits if it returns `Ok`, rolls back otherwise.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            // A panic inside a transaction drops it, which rolls back, so a poisoned
            // connection is still consistent.
            let mut conn = inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await?
    }

    /// Runs `f` on a pooled read connection, off the executor.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let pooled = inner
                .readers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let conn = match pooled {
                Some(c) => c,
                None => connect(&inner.dir)?,
            };
            let out = f(&conn);
            let mut pool = inner.readers.lock().unwrap_or_else(PoisonError::into_inner);
            if pool.len() < READERS {
                pool.push(conn);
            }
            out
        })
        .await?
    }
}

/// A connection with the store's settings.
fn connect(dir: &Path) -> Result<Connection> {
    let conn = Connection::open(dir.join(DATABASE_FILE))?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA synchronous = FULL;",
    )?;
    Ok(conn)
}

/// The election's state, read inside a transaction.
fn state_of(conn: &Connection, election: &str) -> Result<ElectionState> {
    let name: Option<String> = conn
        .prepare_cached("SELECT state FROM elections WHERE id = ?1")?
        .query_row([election], |r| r.get(0))
        .optional()?;
    let name = name.ok_or(Error::NotFound(Missing::Election))?;
    ElectionState::from_name(&name).ok_or_else(|| Error::corrupt("election state"))
}

/// Converts a stored integer that the schema keeps non-negative.
fn to_u64(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| Error::corrupt("negative integer"))
}

/// Converts a stored 32-byte value.
fn to_32(v: &[u8]) -> Result<[u8; 32]> {
    v.try_into()
        .map_err(|_| Error::corrupt("value of wrong length"))
}

impl BoardStore for SqliteStore {
    type Board = urna_board::SqliteStore;
    type Lease = SoleWriter;

    async fn open_board(&self, election: &str, phase: Phase) -> Result<Self::Board> {
        let id = election.to_owned();
        let file = match phase {
            Phase::Test => format!("{id}.test.sqlite"),
            Phase::Open => format!("{id}.sqlite"),
        };
        let dir = self.inner.dir.join(BOARDS_DIR);
        // The election must exist; its id is a manifest identifier (A-Z, a-z, 0-9,
        // `-`, `_`, `.`), so with the suffix it is always a plain file name.
        self.read({
            let id = id.clone();
            move |c| state_of(c, &id).map(drop)
        })
        .await?;
        Ok(
            tokio::task::spawn_blocking(move || urna_board::SqliteStore::open(dir.join(file)))
                .await??,
        )
    }

    /// One process owns the data directory, so it always sequences its boards.
    async fn acquire_writer(&self, _election: &str, _phase: Phase) -> Result<Option<SoleWriter>> {
        Ok(Some(SoleWriter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_new_store_is_in_wal_mode_at_the_current_schema() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let (mode, version) = store
            .read(|c| {
                let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
                let v: i64 =
                    c.query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))?;
                Ok((mode, v))
            })
            .await
            .unwrap();
        assert_eq!((mode.as_str(), version), ("wal", schema::VERSION));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        assert!(dir.path().join(BOARDS_DIR).is_dir());
        assert!(matches!(
            store.open_board("nope", Phase::Open).await,
            Err(Error::NotFound(Missing::Election))
        ));
    }
}
