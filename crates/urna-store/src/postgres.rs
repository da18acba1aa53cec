//! The scale-out backend: PostgreSQL (tokio-postgres behind a deadpool connection
//! pool) as the single source of truth that every replica of every service shares.
//!
//! Every operation is one transaction on a pooled connection, its statements
//! prepared once per connection (deadpool's statement cache). Decisions are taken by
//! the database, never by an application-level read-then-write: unique keys with
//! `ON CONFLICT` decide double votes, repeated issuances and write-once records, and
//! a write that depends on the election's state holds the election's row `FOR SHARE`
//! so a lifecycle transition (which updates that row) is ordered before or after it,
//! never beside it. Migrations run at [`PgStore::connect`] under a transaction-level
//! advisory lock, so replicas starting together apply each one exactly once.

mod ballot;
mod board;
mod election;
mod keys;
mod mix;
mod outbox;
mod roll;
mod schema;
mod tally;

use std::fmt;
use std::time::Duration;

pub use board::{PgBoard, PgLease};

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use crate::election::ElectionState;
use crate::error::{Error, Missing, Result};

/// How long opening a connection may take (unless the URL sets `connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long an operation waits for a free pooled connection before failing (so an
/// overloaded or unreachable database turns into errors a caller can retry, not
/// requests that hang).
const POOL_WAIT: Duration = Duration::from_secs(10);

/// The PostgreSQL store; cheap to clone (the clones share the pool).
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
}

/// The connection pool's state at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStatus {
    /// The most connections the pool opens.
    pub max: usize,
    /// Connections open now.
    pub open: usize,
    /// Open connections no operation holds.
    pub idle: usize,
    /// Operations waiting for a connection.
    pub waiting: usize,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.pool.status();
        f.debug_struct("PgStore")
            .field("max_size", &status.max_size)
            .field("size", &status.size)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database named by `url` (a libpq-style connection string,
    /// `host=… user=… dbname=…`, or a `postgresql://` URL) with a pool of at most
    /// `pool_size` connections, and applies pending migrations.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a malformed URL or a pool size of 0;
    /// [`Error::Backend`] if the database is unreachable, a migration fails, or the
    /// database's schema is newer than this build.
    pub async fn connect(url: &str, pool_size: usize) -> Result<Self> {
        if pool_size == 0 {
            return Err(Error::InvalidInput("pool size must be at least 1"));
        }
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|_| Error::InvalidInput("malformed PostgreSQL connection string"))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(CONNECT_TIMEOUT))
            .wait_timeout(Some(POOL_WAIT))
            .build()
            .map_err(|_| Error::InvalidInput("PostgreSQL pool configuration"))?;
        let mut client = pool.get().await?;
        schema::migrate(&mut client).await?;
        drop(client);
        Ok(Self { pool })
    }

    /// The connection pool's state now (for metrics).
    #[must_use]
    pub fn pool_status(&self) -> PoolStatus {
        let status = self.pool.status();
        PoolStatus {
            max: status.max_size,
            open: status.size,
            idle: status.available,
            waiting: status.waiting,
        }
    }

    /// The connection pool, for the other parts of this backend (the board log).
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// A pooled connection.
    async fn client(&self) -> Result<deadpool_postgres::Object> {
        Ok(self.pool().get().await?)
    }
}

/// Runs a cached prepared statement and returns its one row, if any.
async fn opt<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<Row>> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query_opt(&statement, params).await?)
}

/// Runs a cached prepared statement and returns its one row.
async fn one<C: GenericClient>(c: &C, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query_one(&statement, params).await?)
}

/// Runs a cached prepared statement and returns its rows.
async fn all<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query(&statement, params).await?)
}

/// Runs a cached prepared statement and returns the number of rows it changed.
async fn exec<C: GenericClient>(c: &C, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.execute(&statement, params).await?)
}

/// The election's state (a plain read).
async fn state_of<C: GenericClient>(c: &C, election: &str) -> Result<ElectionState> {
    state_with(c, election, "SELECT state FROM elections WHERE id = $1").await
}

/// The election's state, its row held `FOR SHARE` until the transaction ends, so no
/// transition can run beside the write that depends on it.
async fn state_locked<C: GenericClient>(c: &C, election: &str) -> Result<ElectionState> {
    state_with(
        c,
        election,
        "SELECT state FROM elections WHERE id = $1 FOR SHARE",
    )
    .await
}

async fn state_with<C: GenericClient>(c: &C, election: &str, sql: &str) -> Result<ElectionState> {
    let row = opt(c, sql, &[&election])
        .await?
        .ok_or(Error::NotFound(Missing::Election))?;
    let name: &str = row.try_get(0)?;
    ElectionState::from_name(name).ok_or_else(|| Error::corrupt("election state"))
}

/// Fails unless the election (locked `FOR SHARE`) is in `needed`.
async fn require<C: GenericClient>(c: &C, election: &str, needed: ElectionState) -> Result<()> {
    let actual = state_locked(c, election).await?;
    if actual == needed {
        Ok(())
    } else {
        Err(Error::WrongState {
            actual,
            needed: needed.name(),
        })
    }
}

/// Converts a stored integer that the schema keeps non-negative.
fn to_u64(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| Error::corrupt("negative integer"))
}

/// Converts a stored integer that the schema keeps within `u32`.
fn to_u32(v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::corrupt("index out of range"))
}

/// Converts a stored 32-byte value.
fn to_32(v: &[u8]) -> Result<[u8; 32]> {
    v.try_into()
        .map_err(|_| Error::corrupt("value of wrong length"))
}

/// Converts a caller's count or index to the stored `bigint`.
fn to_i64(v: u64, what: &'static str) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::InvalidInput(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bad_url_pool_size_or_unreachable_server_is_an_error() {
        assert!(matches!(
            PgStore::connect("host=127.0.0.1 port=notaport", 1).await,
            Err(Error::InvalidInput(_))
        ));
        assert!(matches!(
            PgStore::connect("host=127.0.0.1", 0).await,
            Err(Error::InvalidInput(_))
        ));
        // Nothing listens on port 1 of loopback: refused at once, not a hang.
        assert!(matches!(
            PgStore::connect("host=127.0.0.1 port=1 user=urna", 1).await,
            Err(Error::Backend(crate::BackendError::Pool(_)))
        ));
    }
}
