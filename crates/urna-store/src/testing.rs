//! Test support for the backends that need a running service: a throwaway
//! PostgreSQL database per test store, and one policy for a service that is not
//! there (skip loudly, or fail under `CI=true`). Behind the `testing` feature; other
//! crates' tests use it as a dev-dependency.
//!
//! The server is the one `URNA_TEST_POSTGRES` names (default
//! [`DEFAULT_POSTGRES`]); `scripts/test-services.sh`, run by `make test`, starts one
//! if none is reachable. Each [`PgTestDb`] is a database of its own,
//! `urna_t_<pid>_<random>`, dropped when the value is (best effort: the script also
//! drops `urna_t_` databases older than a day).

use std::fmt;
use std::hash::{BuildHasher as _, RandomState};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio_postgres::NoTls;

use crate::error::Result;
use crate::postgres::PgStore;

/// The environment variable naming the PostgreSQL server tests use (a libpq
/// connection string or a `postgresql://` URL, as an administrator that may create
/// databases).
pub const POSTGRES_ENV: &str = "URNA_TEST_POSTGRES";

/// The server tests use when [`POSTGRES_ENV`] is unset.
pub const DEFAULT_POSTGRES: &str = "host=127.0.0.1 port=5432 user=postgres";

/// The prefix of every test database's name.
pub const DATABASE_PREFIX: &str = "urna_t_";

/// How long a test waits to reach a server before calling it unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether the run requires every service (`CI=true`).
#[must_use]
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Reports on stderr that `service` is unreachable at `at`, and returns whether the
/// test must fail (under `CI=true`) rather than skip (otherwise, with a loud
/// `SKIPPED:` line).
#[must_use]
pub fn must_fail_unreachable(service: &str, at: &str, cause: &dyn fmt::Display) -> bool {
    if ci() {
        eprintln!("{service} unreachable at {at}: CI=true requires it ({cause})");
        true
    } else {
        eprintln!(
            "SKIPPED: {service} unreachable at {at} ({cause}); \
             run scripts/test-services.sh or set CI=true to fail instead"
        );
        false
    }
}

/// The PostgreSQL server tests use: [`POSTGRES_ENV`] or [`DEFAULT_POSTGRES`].
#[must_use]
pub fn postgres_admin() -> String {
    std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_POSTGRES.to_owned())
}

/// A throwaway database on the test server, dropped with this value.
#[derive(Debug)]
pub struct PgTestDb {
    admin: String,
    name: String,
    url: String,
}

impl PgTestDb {
    /// Creates a new, empty database. `Ok(None)`: the server is unreachable and the
    /// test should return (skipped, reported on stderr).
    ///
    /// # Errors
    /// The server is unreachable under `CI=true`, or refuses to create the database.
    pub async fn create() -> Result<Option<Self>> {
        let admin = postgres_admin();
        let client = match admin_client(&admin).await {
            Ok(client) => client,
            Err(e) if must_fail_unreachable("PostgreSQL", &admin, &e) => return Err(e.into()),
            Err(_) => return Ok(None),
        };
        let name = format!(
            "{DATABASE_PREFIX}{}_{:016x}",
            std::process::id(),
            RandomState::new().hash_one(SystemTime::now())
        );
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        // Two statements: CREATE DATABASE cannot run inside a (multi-statement) block.
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await?;
        client
            .batch_execute(&format!(
                "COMMENT ON DATABASE {name} IS 'urna test database, created {created}'"
            ))
            .await?;
        let url = with_database(&admin, &name);
        Ok(Some(Self { admin, name, url }))
    }

    /// Creates a database and connects a [`PgStore`] to it (pool of 8); `Ok(None)`
    /// as [`PgTestDb::create`].
    ///
    /// # Errors
    /// As [`PgTestDb::create`] and [`PgStore::connect`].
    pub async fn store() -> Result<Option<(Self, PgStore)>> {
        let Some(db) = Self::create().await? else {
            return Ok(None);
        };
        let store = PgStore::connect(db.url(), 8).await?;
        Ok(Some((db, store)))
    }

    /// The database's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A connection string for the database, in the form the server's was given.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for PgTestDb {
    /// Drops the database (terminating its remaining connections), on a thread of its
    /// own so it also works inside an async test; failures are only reported.
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || -> std::result::Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let client = admin_client(&admin).await.map_err(|e| e.to_string())?;
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

/// A connection to the server as its administrator, its driver on a task.
async fn admin_client(
    admin: &str,
) -> std::result::Result<tokio_postgres::Client, tokio_postgres::Error> {
    let mut config: tokio_postgres::Config = admin.parse()?;
    config.connect_timeout(CONNECT_TIMEOUT);
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// `admin` with its database replaced by `name`, in the same syntax (URL or
/// key-value pairs).
fn with_database(admin: &str, name: &str) -> String {
    let Some(scheme_end) = admin.find("://") else {
        return format!("{admin} dbname={name}");
    };
    let rest = &admin[scheme_end + 3..];
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let query = rest[host_end..]
        .find('?')
        .map_or("", |q| &rest[host_end + q..]);
    format!(
        "{}{}/{name}{query}",
        &admin[..scheme_end + 3],
        &rest[..host_end]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_replaces_the_servers_in_either_syntax() {
        assert_eq!(
            with_database("host=127.0.0.1 user=postgres", "urna_t_1"),
            "host=127.0.0.1 user=postgres dbname=urna_t_1"
        );
        assert_eq!(
            with_database("postgresql://postgres@127.0.0.1:5433", "x"),
            "postgresql://postgres@127.0.0.1:5433/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/postgres?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
    }
}
