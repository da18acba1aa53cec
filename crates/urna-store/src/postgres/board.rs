//! Board logs in PostgreSQL: one urna-board log per election and phase, in four
//! tables keyed by both (entries, hash tiles, the head, signed checkpoints), and the
//! election of the one process that sequences each log.
//!
//! The log is written as the [`urna_board::Store`] contract asks: a batch is one
//! transaction that first locks the log's head row (`FOR UPDATE`) and refuses a batch
//! not starting at the stored size, entries are plain inserts (an index is never
//! overwritten: the primary key refuses it), tiles only grow, and a checkpoint's size
//! is the primary key, so a second, different root for a size is refused by the
//! database even if two processes briefly both believe they sequence. Commits are
//! synchronous (`synchronous_commit = on` for these transactions, whatever the
//! server's default), so a returned batch or checkpoint is durable.
//!
//! # Threads
//! [`urna_board::Store`] is synchronous; [`PgBoard`] runs each call on the pool's
//! tokio-postgres connections through [`Handle::block_on`] on the runtime that opened
//! it. It must therefore only be called from threads that may block: the board
//! sequencer's own thread, or `tokio::task::spawn_blocking`. On an async worker
//! thread `block_on` refuses to run (it panics), which no caller in urna does:
//! urna-service's boards call the log only from the sequencer thread and from
//! `spawn_blocking`, as they do for the SQLite log, whose calls block too.
//!
//! # One sequencer
//! [`BoardStore::acquire_writer`] takes a PostgreSQL session advisory lock whose key
//! is derived from the election and phase, on a connection of its own (taken out of
//! the pool, so the lock never returns to the pool with it). The lock lasts as long
//! as that connection: when the process or its connection dies, the server releases
//! it and another replica's next attempt succeeds.

use std::fmt;
use std::future::Future;

use deadpool_postgres::{ClientWrapper, GenericClient, Object, Pool};
use sha2::{Digest, Sha256};
use tokio::runtime::Handle;
use urna_board::store::{Batch, StoredCheckpoint, TILE_WIDTH};
use urna_board::{StoreError, TreeHash};

use super::{PgStore, exec, state_of};
use crate::ballot::Phase;
use crate::board::{BoardLease, BoardStore};
use crate::error::Result;

/// The board tables: schema migration 2 (`schema.rs`).
pub(crate) const SCHEMA: &str = "
CREATE TABLE board_heads (
    election text NOT NULL REFERENCES elections (id),
    phase    text NOT NULL CHECK (phase IN ('test', 'open')),
    size     bigint NOT NULL CHECK (size >= 0),
    root     bytea NOT NULL CHECK (octet_length(root) = 32),
    PRIMARY KEY (election, phase)
);
CREATE TABLE board_entries (
    election text NOT NULL,
    phase    text NOT NULL,
    idx      bigint NOT NULL CHECK (idx >= 0),
    data     bytea NOT NULL,
    PRIMARY KEY (election, phase, idx),
    FOREIGN KEY (election, phase) REFERENCES board_heads (election, phase)
);
CREATE TABLE board_tiles (
    election text NOT NULL,
    phase    text NOT NULL,
    level    smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
    idx      bigint NOT NULL CHECK (idx >= 0),
    hashes   bytea NOT NULL CHECK (octet_length(hashes) BETWEEN 32 AND 8192
                                   AND octet_length(hashes) % 32 = 0),
    PRIMARY KEY (election, phase, level, idx),
    FOREIGN KEY (election, phase) REFERENCES board_heads (election, phase)
);
CREATE TABLE board_checkpoints (
    election text NOT NULL,
    phase    text NOT NULL,
    size     bigint NOT NULL CHECK (size >= 0),
    root     bytea NOT NULL CHECK (octet_length(root) = 32),
    note     text NOT NULL,
    PRIMARY KEY (election, phase, size),
    FOREIGN KEY (election, phase) REFERENCES board_heads (election, phase)
);
";

/// The log of one election's board in one phase, on the store's connection pool.
/// Cheap handles: open one per sequencer and per reader.
pub struct PgBoard {
    pool: Pool,
    runtime: Handle,
    election: String,
    phase: &'static str,
}

impl fmt::Debug for PgBoard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgBoard")
            .field("election", &self.election)
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}

/// The stored name of a phase.
fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Test => "test",
        Phase::Open => "open",
    }
}

/// A log store error from anything the backend reports.
fn backend(e: impl fmt::Display) -> urna_board::Error {
    StoreError::Backend(e.to_string()).into()
}

/// A PostgreSQL error, with the server's message when there is one.
fn pg(e: tokio_postgres::Error) -> urna_board::Error {
    match e.as_db_error() {
        Some(db) => backend(format_args!("{}: {}", db.code().code(), db.message())),
        None => backend(e),
    }
}

fn to_i64(v: u64) -> urna_board::Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt("index beyond 2^63").into())
}

fn to_u64(v: i64) -> urna_board::Result<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt("negative size").into())
}

fn to_hash(bytes: &[u8]) -> urna_board::Result<TreeHash> {
    TreeHash::from_slice(bytes).ok_or_else(|| StoreError::Corrupt("hash of wrong length").into())
}

/// A tile's byte length must be a positive multiple of 32, at most 256 hashes.
fn check_tile(bytes: &[u8]) -> urna_board::Result<()> {
    let len = bytes.len();
    if len == 0 || !len.is_multiple_of(32) || len > TILE_WIDTH as usize * 32 {
        return Err(StoreError::Corrupt("tile of invalid length").into());
    }
    Ok(())
}

impl PgBoard {
    /// Runs `f` to completion on the runtime that opened the board (see the module
    /// documentation: blocking threads only).
    fn block<T>(&self, f: impl Future<Output = urna_board::Result<T>>) -> urna_board::Result<T> {
        self.runtime.block_on(f)
    }

    async fn client(&self) -> urna_board::Result<Object> {
        self.pool.get().await.map_err(backend)
    }

    async fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> urna_board::Result<Option<tokio_postgres::Row>> {
        let c = self.client().await?;
        let statement = c.prepare_cached(sql).await.map_err(pg)?;
        c.query_opt(&statement, params).await.map_err(pg)
    }

    /// The stored size, with the head row locked (`FOR UPDATE` or `FOR SHARE`) until
    /// the transaction ends.
    async fn locked_size<C: GenericClient>(&self, tx: &C, sql: &str) -> urna_board::Result<i64> {
        let statement = tx.prepare_cached(sql).await.map_err(pg)?;
        let row = tx
            .query_opt(&statement, &[&self.election, &self.phase])
            .await
            .map_err(pg)?
            .ok_or(StoreError::Corrupt("the board has no head row"))?;
        row.try_get(0).map_err(pg)
    }
}

impl urna_board::Store for PgBoard {
    fn head(&self) -> urna_board::Result<(u64, TreeHash)> {
        self.block(async {
            let row = self
                .query_opt(
                    "SELECT size, root FROM board_heads WHERE election = $1 AND phase = $2",
                    &[&self.election, &self.phase],
                )
                .await?;
            match row {
                None => Ok((0, TreeHash::EMPTY_ROOT)),
                Some(row) => {
                    let size: i64 = row.try_get(0).map_err(pg)?;
                    let root: &[u8] = row.try_get(1).map_err(pg)?;
                    Ok((to_u64(size)?, to_hash(root)?))
                }
            }
        })
    }

    fn read_tile(&self, level: u8, index: u64) -> urna_board::Result<Option<Vec<u8>>> {
        self.block(async {
            let row = self
                .query_opt(
                    "SELECT hashes FROM board_tiles
                     WHERE election = $1 AND phase = $2 AND level = $3 AND idx = $4",
                    &[
                        &self.election,
                        &self.phase,
                        &i16::from(level),
                        &to_i64(index)?,
                    ],
                )
                .await?;
            row.map(|r| r.try_get(0).map_err(pg)).transpose()
        })
    }

    fn read_node(&self, level: u8, index: u64) -> urna_board::Result<Option<TreeHash>> {
        // 1-based offset of the hash within its tile.
        let offset = (index % TILE_WIDTH) as i32 * 32 + 1;
        self.block(async {
            let row = self
                .query_opt(
                    "SELECT substring(hashes FROM $5 FOR 32) FROM board_tiles
                     WHERE election = $1 AND phase = $2 AND level = $3 AND idx = $4",
                    &[
                        &self.election,
                        &self.phase,
                        &i16::from(level),
                        &to_i64(index / TILE_WIDTH)?,
                        &offset,
                    ],
                )
                .await?;
            let bytes: Option<Vec<u8>> = row.map(|r| r.try_get(0).map_err(pg)).transpose()?;
            Ok(bytes.and_then(|b| TreeHash::from_slice(&b)))
        })
    }

    fn read_entries(&self, start: u64, end: u64) -> urna_board::Result<Vec<Vec<u8>>> {
        let (start, end) = (to_i64(start)?, to_i64(end.min(i64::MAX as u64))?);
        self.block(async {
            let c = self.client().await?;
            let statement = c
                .prepare_cached(
                    "SELECT data FROM board_entries
                     WHERE election = $1 AND phase = $2 AND idx >= $3 AND idx < $4
                     ORDER BY idx",
                )
                .await
                .map_err(pg)?;
            let rows = c
                .query(&statement, &[&self.election, &self.phase, &start, &end])
                .await
                .map_err(pg)?;
            rows.iter().map(|r| r.try_get(0).map_err(pg)).collect()
        })
    }

    fn write_batch(&mut self, batch: &Batch<'_>) -> urna_board::Result<()> {
        for (_, _, t) in batch.tiles {
            check_tile(t)?;
        }
        let start = to_i64(batch.start)?;
        let end = to_i64(batch.start + batch.entries.len() as u64)?;
        let entries: Vec<&[u8]> = batch.entries.iter().map(Vec::as_slice).collect();
        let levels: Vec<i16> = batch.tiles.iter().map(|t| i16::from(t.0)).collect();
        let indexes = batch
            .tiles
            .iter()
            .map(|t| to_i64(t.1))
            .collect::<urna_board::Result<Vec<i64>>>()?;
        let hashes: Vec<&[u8]> = batch.tiles.iter().map(|t| t.2.as_slice()).collect();
        let root = batch.root.as_bytes().to_vec();
        self.block(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(pg)?;
            tx.batch_execute("SET LOCAL synchronous_commit TO on")
                .await
                .map_err(pg)?;
            let size = self
                .locked_size(
                    &tx,
                    "SELECT size FROM board_heads
                     WHERE election = $1 AND phase = $2 FOR UPDATE",
                )
                .await?;
            if size != start {
                return Err(StoreError::NotAtEnd {
                    expected: to_u64(size)?,
                    got: batch.start,
                }
                .into());
            }
            let key: [&(dyn tokio_postgres::types::ToSql + Sync); 2] =
                [&self.election, &self.phase];
            let insert = tx
                .prepare_cached(
                    "INSERT INTO board_entries (election, phase, idx, data)
                     SELECT $1, $2, $3 + t.n - 1, t.data
                     FROM unnest($4::bytea[]) WITH ORDINALITY AS t (data, n)",
                )
                .await
                .map_err(pg)?;
            tx.execute(&insert, &[key[0], key[1], &start, &entries])
                .await
                .map_err(pg)?;
            // Tiles only grow: an edge tile is rewritten wider, never narrower.
            let tiles = tx
                .prepare_cached(
                    "INSERT INTO board_tiles (election, phase, level, idx, hashes)
                     SELECT $1, $2, t.level, t.idx, t.hashes
                     FROM unnest($3::smallint[], $4::bigint[], $5::bytea[])
                          AS t (level, idx, hashes)
                     ON CONFLICT (election, phase, level, idx) DO UPDATE
                     SET hashes = EXCLUDED.hashes
                     WHERE octet_length(EXCLUDED.hashes) >= octet_length(board_tiles.hashes)",
                )
                .await
                .map_err(pg)?;
            tx.execute(&tiles, &[key[0], key[1], &levels, &indexes, &hashes])
                .await
                .map_err(pg)?;
            let head = tx
                .prepare_cached(
                    "UPDATE board_heads SET size = $3, root = $4
                     WHERE election = $1 AND phase = $2",
                )
                .await
                .map_err(pg)?;
            tx.execute(&head, &[key[0], key[1], &end, &root])
                .await
                .map_err(pg)?;
            tx.commit().await.map_err(pg)
        })
    }

    fn latest_checkpoint(&self) -> urna_board::Result<Option<StoredCheckpoint>> {
        self.block(async {
            let row = self
                .query_opt(
                    "SELECT size, root, note FROM board_checkpoints
                     WHERE election = $1 AND phase = $2 ORDER BY size DESC LIMIT 1",
                    &[&self.election, &self.phase],
                )
                .await?;
            row.map(|r| {
                let size: i64 = r.try_get(0).map_err(pg)?;
                let root: &[u8] = r.try_get(1).map_err(pg)?;
                Ok(StoredCheckpoint {
                    size: to_u64(size)?,
                    root: to_hash(root)?,
                    note: r.try_get(2).map_err(pg)?,
                })
            })
            .transpose()
        })
    }

    fn checkpoint(&self, size: u64) -> urna_board::Result<Option<StoredCheckpoint>> {
        self.block(async {
            let row = self
                .query_opt(
                    "SELECT root, note FROM board_checkpoints
                     WHERE election = $1 AND phase = $2 AND size = $3",
                    &[&self.election, &self.phase, &to_i64(size)?],
                )
                .await?;
            row.map(|r| {
                let root: &[u8] = r.try_get(0).map_err(pg)?;
                Ok(StoredCheckpoint {
                    size,
                    root: to_hash(root)?,
                    note: r.try_get(1).map_err(pg)?,
                })
            })
            .transpose()
        })
    }

    fn write_checkpoint(&mut self, cp: &StoredCheckpoint) -> urna_board::Result<()> {
        let at = to_i64(cp.size)?;
        let root = cp.root.as_bytes().to_vec();
        self.block(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(pg)?;
            tx.batch_execute("SET LOCAL synchronous_commit TO on")
                .await
                .map_err(pg)?;
            let size = self
                .locked_size(
                    &tx,
                    "SELECT size FROM board_heads
                     WHERE election = $1 AND phase = $2 FOR SHARE",
                )
                .await?;
            if at > size {
                return Err(StoreError::Corrupt("checkpoint beyond the integrated tree").into());
            }
            // The size is the key: of two different roots for it, the second is not
            // inserted, whoever writes it.
            let insert = tx
                .prepare_cached(
                    "INSERT INTO board_checkpoints (election, phase, size, root, note)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (election, phase, size) DO NOTHING",
                )
                .await
                .map_err(pg)?;
            let inserted = tx
                .execute(
                    &insert,
                    &[&self.election, &self.phase, &at, &root, &cp.note],
                )
                .await
                .map_err(pg)?;
            if inserted == 0 {
                let stored = tx
                    .prepare_cached(
                        "SELECT root FROM board_checkpoints
                         WHERE election = $1 AND phase = $2 AND size = $3",
                    )
                    .await
                    .map_err(pg)?;
                let row = tx
                    .query_one(&stored, &[&self.election, &self.phase, &at])
                    .await
                    .map_err(pg)?;
                let stored: &[u8] = row.try_get(0).map_err(pg)?;
                if stored != root.as_slice() {
                    return Err(StoreError::Fork(cp.size).into());
                }
            }
            tx.commit().await.map_err(pg)
        })
    }
}

/// The advisory lock key of a board's sequencer: the first 8 bytes of
/// `SHA-256("urna board sequencer" ‖ 0 ‖ election ‖ 0 ‖ phase)`, top bit cleared.
fn lock_key(election: &str, phase: &str) -> i64 {
    let digest = Sha256::new()
        .chain_update(b"urna board sequencer\0")
        .chain_update(election.as_bytes())
        .chain_update([0])
        .chain_update(phase.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first) & i64::MAX
}

/// The right to sequence one board: a session advisory lock held on a connection of
/// its own. Dropping it closes the connection, which releases the lock.
pub struct PgLease {
    client: ClientWrapper,
    key: i64,
}

impl fmt::Debug for PgLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgLease")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl BoardLease for PgLease {
    async fn held(&self) -> bool {
        if self.client.is_closed() {
            return false;
        }
        let held = self
            .client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_locks
                 WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
                   AND objsubid = 1 AND (classid::bigint << 32 | objid::bigint) = $1)",
                &[&self.key],
            )
            .await;
        matches!(held.map(|row| row.try_get::<_, bool>(0)), Ok(Ok(true)))
    }
}

impl BoardStore for PgStore {
    type Board = PgBoard;
    type Lease = PgLease;

    async fn open_board(&self, election: &str, phase: Phase) -> Result<PgBoard> {
        let c = self.pool().get().await?;
        state_of(&c, election).await?;
        let phase = phase_name(phase);
        exec(
            &c,
            "INSERT INTO board_heads (election, phase, size, root) VALUES ($1, $2, 0, $3)
             ON CONFLICT (election, phase) DO NOTHING",
            &[
                &election,
                &phase,
                &TreeHash::EMPTY_ROOT.as_bytes().as_slice(),
            ],
        )
        .await?;
        Ok(PgBoard {
            pool: self.pool().clone(),
            runtime: Handle::current(),
            election: election.to_owned(),
            phase,
        })
    }

    async fn acquire_writer(&self, election: &str, phase: Phase) -> Result<Option<PgLease>> {
        let key = lock_key(election, phase_name(phase));
        let client = self.pool().get().await?;
        let row = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .await?;
        let granted: bool = row.try_get(0)?;
        // Granted: the connection leaves the pool for good, so the lock is never
        // reused by another caller and dies with it. Refused: it holds no lock and
        // goes back to the pool.
        Ok(granted.then(|| PgLease {
            client: Object::take(client),
            key,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_differ_per_election_and_phase_and_are_positive() {
        let keys = [
            lock_key("e1", "open"),
            lock_key("e1", "test"),
            lock_key("e2", "open"),
            lock_key("e1open", ""),
        ];
        for (i, a) in keys.iter().enumerate() {
            assert!(*a >= 0);
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
