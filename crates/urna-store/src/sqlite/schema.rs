//! Schema migrations, applied in order at open; `schema_version` records each one.

use rusqlite::{Connection, TransactionBehavior, params};

use crate::error::{BackendError, Result};

/// The migrations; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, super::mix::SCHEMA];

/// The newest schema version this build knows.
pub(crate) const VERSION: i64 = MIGRATIONS.len() as i64;

const V1: &str = "
CREATE TABLE elections (
    id          TEXT PRIMARY KEY,
    fingerprint BLOB NOT NULL CHECK (length(fingerprint) = 32),
    manifest    BLOB NOT NULL,
    source      TEXT NOT NULL,
    revoting    TEXT NOT NULL CHECK (revoting IN ('once', 'last-counts')),
    state       TEXT NOT NULL CHECK (state IN ('draft', 'test', 'open', 'closed')),
    created_at  INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at  INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT;

CREATE TABLE styles (
    election TEXT NOT NULL REFERENCES elections (id),
    style    TEXT NOT NULL,
    PRIMARY KEY (election, style)
) STRICT, WITHOUT ROWID;

CREATE TABLE results (
    election    TEXT PRIMARY KEY REFERENCES elections (id),
    data        BLOB NOT NULL,
    recorded_at INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT;

CREATE TABLE voters (
    election    TEXT NOT NULL,
    voter       TEXT NOT NULL CHECK (length(voter) > 0),
    style       TEXT NOT NULL,
    code_m_kib  INTEGER NOT NULL,
    code_t      INTEGER NOT NULL,
    code_p      INTEGER NOT NULL,
    code_salt   BLOB NOT NULL CHECK (length(code_salt) = 16),
    code_hash   BLOB NOT NULL CHECK (length(code_hash) = 32),
    PRIMARY KEY (election, voter),
    FOREIGN KEY (election, style) REFERENCES styles (election, style)
) STRICT, WITHOUT ROWID;

CREATE TABLE issuances (
    election     TEXT NOT NULL,
    voter        TEXT NOT NULL,
    blinded_hash BLOB NOT NULL CHECK (length(blinded_hash) = 32),
    signature    BLOB NOT NULL,
    issued_at    INTEGER NOT NULL DEFAULT (unixepoch()),
    PRIMARY KEY (election, voter),
    FOREIGN KEY (election, voter) REFERENCES voters (election, voter)
) STRICT, WITHOUT ROWID;

CREATE TABLE ballots (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    election      TEXT NOT NULL REFERENCES elections (id),
    nullifier     BLOB NOT NULL CHECK (length(nullifier) = 32),
    tracking_code BLOB NOT NULL CHECK (length(tracking_code) = 32),
    ballot        BLOB NOT NULL,
    phase         TEXT NOT NULL CHECK (phase IN ('test', 'open')),
    supersedes    INTEGER REFERENCES ballots (seq),
    superseded_by INTEGER REFERENCES ballots (seq),
    board_index   INTEGER CHECK (board_index >= 0),
    cast_at       INTEGER NOT NULL DEFAULT (unixepoch()),
    UNIQUE (election, tracking_code)
) STRICT;
CREATE INDEX ballots_unposted ON ballots (election, seq) WHERE board_index IS NULL;
CREATE UNIQUE INDEX ballots_board_index ON ballots (election, board_index)
    WHERE board_index IS NOT NULL;

CREATE TABLE nullifiers (
    election  TEXT NOT NULL REFERENCES elections (id),
    nullifier BLOB NOT NULL CHECK (length(nullifier) = 32),
    latest    INTEGER NOT NULL REFERENCES ballots (seq),
    casts     INTEGER NOT NULL CHECK (casts >= 1),
    PRIMARY KEY (election, nullifier)
) STRICT, WITHOUT ROWID;

CREATE TABLE spoiled (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    election      TEXT NOT NULL REFERENCES elections (id),
    tracking_code BLOB NOT NULL CHECK (length(tracking_code) = 32),
    ballot        BLOB NOT NULL,
    opening       BLOB NOT NULL,
    phase         TEXT NOT NULL CHECK (phase IN ('test', 'open')),
    spoiled_at    INTEGER NOT NULL DEFAULT (unixepoch()),
    UNIQUE (election, tracking_code)
) STRICT;
";

/// Version 2: the election's secrets (written once) and its joint key.
const V2: &str = "
CREATE TABLE election_secrets (
    election   TEXT PRIMARY KEY REFERENCES elections (id),
    auth_key   BLOB NOT NULL,
    style_seed BLOB NOT NULL CHECK (length(style_seed) = 32),
    board_seed BLOB NOT NULL CHECK (length(board_seed) = 32)
) STRICT, WITHOUT ROWID;

CREATE TABLE joint_keys (
    election  TEXT PRIMARY KEY REFERENCES elections (id),
    joint_key BLOB NOT NULL CHECK (length(joint_key) = 32),
    ceremony  BLOB NOT NULL,
    set_at    INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT, WITHOUT ROWID;
";

/// Version 3: the tally tier's key ceremony and decryption records.
const V3: &str = "
CREATE TABLE tally_configs (
    election  TEXT PRIMARY KEY REFERENCES elections (id),
    trustees  INTEGER NOT NULL CHECK (trustees >= 1),
    threshold INTEGER NOT NULL CHECK (threshold >= 1 AND threshold <= trustees)
) STRICT, WITHOUT ROWID;

CREATE TABLE trustees (
    election       TEXT NOT NULL REFERENCES elections (id),
    idx            INTEGER NOT NULL CHECK (idx >= 1),
    name           TEXT NOT NULL,
    signing_key    BLOB NOT NULL CHECK (length(signing_key) = 32),
    encryption_key BLOB NOT NULL CHECK (length(encryption_key) = 32),
    PRIMARY KEY (election, idx)
) STRICT, WITHOUT ROWID;

CREATE TABLE ceremony_phases (
    election TEXT PRIMARY KEY REFERENCES elections (id),
    phase    TEXT NOT NULL CHECK (phase IN
        ('registration', 'dealing', 'complaints', 'reveals', 'done', 'failed'))
) STRICT, WITHOUT ROWID;

CREATE TABLE dealings (
    election  TEXT NOT NULL REFERENCES elections (id),
    dealer    INTEGER NOT NULL CHECK (dealer >= 1),
    dealing   BLOB NOT NULL,
    signature BLOB NOT NULL,
    PRIMARY KEY (election, dealer)
) STRICT, WITHOUT ROWID;

CREATE TABLE sealed_shares (
    election  TEXT NOT NULL,
    dealer    INTEGER NOT NULL,
    recipient INTEGER NOT NULL CHECK (recipient >= 1),
    sealed    BLOB NOT NULL,
    PRIMARY KEY (election, dealer, recipient),
    FOREIGN KEY (election, dealer) REFERENCES dealings (election, dealer)
) STRICT, WITHOUT ROWID;

CREATE TABLE ceremony_records (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    election  TEXT NOT NULL REFERENCES elections (id),
    kind      TEXT NOT NULL CHECK (kind IN ('complaint', 'reveal')),
    key       BLOB NOT NULL,
    trustee   INTEGER NOT NULL CHECK (trustee >= 1),
    record    BLOB NOT NULL,
    signature BLOB NOT NULL,
    UNIQUE (election, kind, key)
) STRICT;

CREATE TABLE tally_tasks (
    election     TEXT PRIMARY KEY REFERENCES elections (id),
    source_index INTEGER NOT NULL CHECK (source_index >= 0)
) STRICT, WITHOUT ROWID;

CREATE TABLE tally_batches (
    election    TEXT NOT NULL REFERENCES tally_tasks (election),
    batch       INTEGER NOT NULL CHECK (batch >= 0),
    contest     TEXT NOT NULL,
    ciphertexts BLOB NOT NULL CHECK (length(ciphertexts) % 64 = 0),
    ballots     INTEGER NOT NULL CHECK (ballots >= 0),
    PRIMARY KEY (election, batch)
) STRICT, WITHOUT ROWID;

CREATE TABLE partial_decryptions (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    election  TEXT NOT NULL,
    batch     INTEGER NOT NULL,
    trustee   INTEGER NOT NULL CHECK (trustee >= 1),
    partial   BLOB NOT NULL,
    signature BLOB NOT NULL,
    UNIQUE (election, batch, trustee),
    FOREIGN KEY (election, batch) REFERENCES tally_batches (election, batch)
) STRICT;
";

/// Version 4: ceremony records may also be trustees' confirmations that they checked
/// their shares (SQLite cannot alter a CHECK, so the table is rebuilt, rows and
/// arrival order kept).
const V4: &str = "
CREATE TABLE ceremony_records_v4 (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    election  TEXT NOT NULL REFERENCES elections (id),
    kind      TEXT NOT NULL CHECK (kind IN ('complaint', 'reveal', 'confirmation')),
    key       BLOB NOT NULL,
    trustee   INTEGER NOT NULL CHECK (trustee >= 1),
    record    BLOB NOT NULL,
    signature BLOB NOT NULL,
    UNIQUE (election, kind, key)
) STRICT;

INSERT INTO ceremony_records_v4 (seq, election, kind, key, trustee, record, signature)
    SELECT seq, election, kind, key, trustee, record, signature FROM ceremony_records;
DROP TABLE ceremony_records;
ALTER TABLE ceremony_records_v4 RENAME TO ceremony_records;
";

/// Version 5: the outbox of non-ballot board entries (one row per election, phase and
/// key; the first enqueued kept), drained by the board's sequencer in `seq` order.
const V5: &str = "
CREATE TABLE entry_outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    election    TEXT NOT NULL REFERENCES elections (id),
    phase       TEXT NOT NULL CHECK (phase IN ('test', 'open')),
    key         TEXT NOT NULL CHECK (length(CAST(key AS BLOB)) BETWEEN 1 AND 256),
    entry       BLOB NOT NULL,
    board_index INTEGER CHECK (board_index >= 0),
    queued_at   INTEGER NOT NULL DEFAULT (unixepoch()),
    UNIQUE (election, phase, key)
) STRICT;
CREATE INDEX entry_outbox_unposted ON entry_outbox (election, phase, seq)
    WHERE board_index IS NULL;
";

/// Brings the database to [`VERSION`], each migration in its own transaction.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    INTEGER PRIMARY KEY,
             applied_at INTEGER NOT NULL DEFAULT (unixepoch())
         ) STRICT;",
    )?;
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: i64 = tx.query_row(
            "SELECT coalesce(max(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )?;
        if current > VERSION {
            return Err(BackendError::SchemaTooNew {
                found: current,
                supported: VERSION,
            }
            .into());
        }
        let Some(sql) = usize::try_from(current)
            .ok()
            .and_then(|i| MIGRATIONS.get(i))
        else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            params![current + 1],
        )?;
        tx.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op_and_a_newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let versions: i64 = conn
            .query_row("SELECT count(*) FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(versions, VERSION);
        conn.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [VERSION + 1],
        )
        .unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(crate::Error::Backend(BackendError::SchemaTooNew { .. }))
        ));
    }
}
