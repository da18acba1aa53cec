//! Schema migrations, applied in order at connect; `schema_version` records each one.
//!
//! All of them run in one transaction that first takes a transaction-level advisory
//! lock, so replicas starting at once queue on the lock and the later ones find the
//! schema current (or the first one's failure rolled back entirely).

use deadpool_postgres::Object;

use crate::error::{BackendError, Result};

/// The advisory lock key migrations hold (`'urna-mig'` as a big-endian integer).
const MIGRATION_LOCK: i64 = 0x7572_6e61_2d6d_6967;

/// The migrations; migration `i` brings the schema to version `i + 1`. Version 2:
/// the board logs ([`super::board::SCHEMA`]); version 3: the outbox of non-ballot
/// board entries ([`super::outbox::SCHEMA`]).
const MIGRATIONS: &[&str] = &[
    V1,
    super::board::SCHEMA,
    super::outbox::SCHEMA,
    super::mix::SCHEMA,
];

/// The newest schema version this build knows.
pub(crate) const VERSION: i64 = MIGRATIONS.len() as i64;

/// Version 1: elections, the roll, ballots and nullifiers, keys, the tally tier.
const V1: &str = "
CREATE TABLE elections (
    id          text PRIMARY KEY,
    fingerprint bytea NOT NULL CHECK (octet_length(fingerprint) = 32),
    manifest    bytea NOT NULL,
    source      text NOT NULL,
    revoting    text NOT NULL CHECK (revoting IN ('once', 'last-counts')),
    state       text NOT NULL CHECK (state IN ('draft', 'test', 'open', 'closed')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE styles (
    election text NOT NULL REFERENCES elections (id),
    style    text NOT NULL,
    PRIMARY KEY (election, style)
);

CREATE TABLE results (
    election    text PRIMARY KEY REFERENCES elections (id),
    data        bytea NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE voters (
    election    text NOT NULL,
    voter       text NOT NULL CHECK (octet_length(voter) BETWEEN 1 AND 256),
    style       text NOT NULL,
    code_m_kib  bigint NOT NULL,
    code_t      bigint NOT NULL,
    code_p      bigint NOT NULL,
    code_salt   bytea NOT NULL CHECK (octet_length(code_salt) = 16),
    code_hash   bytea NOT NULL CHECK (octet_length(code_hash) = 32),
    PRIMARY KEY (election, voter),
    FOREIGN KEY (election, style) REFERENCES styles (election, style)
);

CREATE TABLE issuances (
    election     text NOT NULL,
    voter        text NOT NULL,
    blinded_hash bytea NOT NULL CHECK (octet_length(blinded_hash) = 32),
    signature    bytea NOT NULL,
    issued_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (election, voter),
    FOREIGN KEY (election, voter) REFERENCES voters (election, voter)
);

CREATE TABLE ballots (
    seq           bigserial PRIMARY KEY,
    election      text NOT NULL REFERENCES elections (id),
    nullifier     bytea NOT NULL CHECK (octet_length(nullifier) = 32),
    tracking_code bytea NOT NULL CHECK (octet_length(tracking_code) = 32),
    ballot        bytea NOT NULL,
    phase         text NOT NULL CHECK (phase IN ('test', 'open')),
    supersedes    bigint REFERENCES ballots (seq),
    superseded_by bigint REFERENCES ballots (seq),
    board_index   bigint CHECK (board_index >= 0),
    cast_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (election, tracking_code)
);
CREATE INDEX ballots_unposted ON ballots (election, seq) WHERE board_index IS NULL;
CREATE UNIQUE INDEX ballots_board_index ON ballots (election, board_index)
    WHERE board_index IS NOT NULL;

CREATE TABLE nullifiers (
    election  text NOT NULL REFERENCES elections (id),
    nullifier bytea NOT NULL CHECK (octet_length(nullifier) = 32),
    latest    bigint NOT NULL REFERENCES ballots (seq),
    casts     bigint NOT NULL CHECK (casts >= 1),
    PRIMARY KEY (election, nullifier)
);

CREATE TABLE spoiled (
    seq           bigserial PRIMARY KEY,
    election      text NOT NULL REFERENCES elections (id),
    tracking_code bytea NOT NULL CHECK (octet_length(tracking_code) = 32),
    ballot        bytea NOT NULL,
    opening       bytea NOT NULL,
    phase         text NOT NULL CHECK (phase IN ('test', 'open')),
    spoiled_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (election, tracking_code)
);

CREATE TABLE election_secrets (
    election   text PRIMARY KEY REFERENCES elections (id),
    auth_key   bytea NOT NULL,
    style_seed bytea NOT NULL CHECK (octet_length(style_seed) = 32),
    board_seed bytea NOT NULL CHECK (octet_length(board_seed) = 32)
);

CREATE TABLE joint_keys (
    election  text PRIMARY KEY REFERENCES elections (id),
    joint_key bytea NOT NULL CHECK (octet_length(joint_key) = 32),
    ceremony  bytea NOT NULL,
    set_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tally_configs (
    election  text PRIMARY KEY REFERENCES elections (id),
    trustees  bigint NOT NULL CHECK (trustees >= 1),
    threshold bigint NOT NULL CHECK (threshold >= 1 AND threshold <= trustees)
);

CREATE TABLE trustees (
    election       text NOT NULL REFERENCES elections (id),
    idx            bigint NOT NULL CHECK (idx >= 1),
    name           text NOT NULL,
    signing_key    bytea NOT NULL CHECK (octet_length(signing_key) = 32),
    encryption_key bytea NOT NULL CHECK (octet_length(encryption_key) = 32),
    PRIMARY KEY (election, idx)
);

CREATE TABLE ceremony_phases (
    election text PRIMARY KEY REFERENCES elections (id),
    phase    text NOT NULL CHECK (phase IN
        ('registration', 'dealing', 'complaints', 'reveals', 'done', 'failed'))
);

CREATE TABLE dealings (
    election  text NOT NULL REFERENCES elections (id),
    dealer    bigint NOT NULL CHECK (dealer >= 1),
    dealing   bytea NOT NULL,
    signature bytea NOT NULL,
    PRIMARY KEY (election, dealer)
);

CREATE TABLE sealed_shares (
    election  text NOT NULL,
    dealer    bigint NOT NULL,
    recipient bigint NOT NULL CHECK (recipient >= 1),
    sealed    bytea NOT NULL,
    PRIMARY KEY (election, dealer, recipient),
    FOREIGN KEY (election, dealer) REFERENCES dealings (election, dealer)
);

CREATE TABLE ceremony_records (
    seq       bigserial PRIMARY KEY,
    election  text NOT NULL REFERENCES elections (id),
    kind      text NOT NULL CHECK (kind IN ('complaint', 'reveal', 'confirmation')),
    key       bytea NOT NULL,
    trustee   bigint NOT NULL CHECK (trustee >= 1),
    record    bytea NOT NULL,
    signature bytea NOT NULL,
    UNIQUE (election, kind, key)
);

CREATE TABLE tally_tasks (
    election     text PRIMARY KEY REFERENCES elections (id),
    source_index bigint NOT NULL CHECK (source_index >= 0)
);

CREATE TABLE tally_batches (
    election    text NOT NULL REFERENCES tally_tasks (election),
    batch       bigint NOT NULL CHECK (batch >= 0),
    contest     text NOT NULL,
    ciphertexts bytea NOT NULL CHECK (octet_length(ciphertexts) % 64 = 0),
    ballots     bigint NOT NULL CHECK (ballots >= 0),
    PRIMARY KEY (election, batch)
);

CREATE TABLE partial_decryptions (
    seq       bigserial PRIMARY KEY,
    election  text NOT NULL,
    batch     bigint NOT NULL,
    trustee   bigint NOT NULL CHECK (trustee >= 1),
    partial   bytea NOT NULL,
    signature bytea NOT NULL,
    UNIQUE (election, batch, trustee),
    FOREIGN KEY (election, batch) REFERENCES tally_batches (election, batch)
);
";

/// Brings the database to [`VERSION`] in one transaction under the migration lock.
pub(crate) async fn migrate(client: &mut Object) -> Result<()> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    bigint PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let current: i64 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
        .await?
        .try_get(0)?;
    if current > VERSION {
        return Err(BackendError::SchemaTooNew {
            found: current,
            supported: VERSION,
        }
        .into());
    }
    let pending = usize::try_from(current)
        .ok()
        .and_then(|done| MIGRATIONS.get(done..))
        .unwrap_or_default();
    for (version, sql) in (current + 1..).zip(pending) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&version],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
