//! [`EntryOutbox`] on PostgreSQL.
//!
//! Enqueueing is one transaction: it holds the election's row `FOR SHARE` (so the
//! election cannot open, which discards the Test phase's rows, or leave the states
//! that accept entries beside it), inserts the row with `ON CONFLICT DO NOTHING` on
//! (election, phase, key) (a racing enqueue of the same key waits on the key until
//! the first commits, then adds nothing), and reads back the stored row in a
//! statement of its own, which sees whichever insert won.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::{PgStore, all, exec, opt, state_locked, state_of, to_i64, to_u64};
use crate::ballot::Phase;
use crate::election::ElectionState;
use crate::error::{Conflict, Error, Missing, Result};
use crate::outbox::{EntryOutbox, QueuedEntry, check_key};

/// Schema version 3: the outbox of non-ballot board entries, drained by the board's
/// sequencer in `seq` order.
pub(crate) const SCHEMA: &str = "
CREATE TABLE entry_outbox (
    seq         bigserial PRIMARY KEY,
    election    text NOT NULL REFERENCES elections (id),
    phase       text NOT NULL CHECK (phase IN ('test', 'open')),
    key         text NOT NULL CHECK (octet_length(key) BETWEEN 1 AND 256),
    entry       bytea NOT NULL,
    board_index bigint CHECK (board_index >= 0),
    queued_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (election, phase, key)
);
CREATE INDEX entry_outbox_unposted ON entry_outbox (election, phase, seq)
    WHERE board_index IS NULL;
";

const COLUMNS: &str = "seq, phase, key, entry, board_index";

fn to_entry(r: &Row) -> Result<QueuedEntry> {
    Ok(QueuedEntry {
        phase: match r.try_get::<_, &str>(1)? {
            "test" => Phase::Test,
            "open" => Phase::Open,
            _ => return Err(Error::corrupt("outbox phase")),
        },
        key: r.try_get(2)?,
        entry: r.try_get(3)?,
        seq: to_u64(r.try_get(0)?)?,
        board_index: r.try_get::<_, Option<i64>>(4)?.map(to_u64).transpose()?,
    })
}

const fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Test => "test",
        Phase::Open => "open",
    }
}

async fn by_key<C: GenericClient>(
    c: &C,
    election: &str,
    phase: Phase,
    key: &str,
) -> Result<Option<QueuedEntry>> {
    opt(
        c,
        &format!(
            "SELECT {COLUMNS} FROM entry_outbox WHERE election = $1 AND phase = $2 AND key = $3"
        ),
        &[&election, &phase_name(phase), &key],
    )
    .await?
    .as_ref()
    .map(to_entry)
    .transpose()
}

/// Fails unless the election's state (its row locked `FOR SHARE`) lets its board of
/// `phase` take entries.
async fn accepting<C: GenericClient>(c: &C, election: &str, phase: Phase) -> Result<()> {
    let actual = state_locked(c, election).await?;
    let (ok, needed) = match phase {
        Phase::Test => (actual == ElectionState::Test, "test"),
        Phase::Open => (
            matches!(actual, ElectionState::Open | ElectionState::Closed),
            "open or closed",
        ),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::WrongState { actual, needed })
    }
}

impl EntryOutbox for PgStore {
    async fn enqueue_entry(
        &self,
        election: &str,
        phase: Phase,
        key: &str,
        entry: Vec<u8>,
    ) -> Result<QueuedEntry> {
        check_key(key)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        accepting(&tx, election, phase).await?;
        exec(
            &tx,
            "INSERT INTO entry_outbox (election, phase, key, entry) VALUES ($1, $2, $3, $4)
             ON CONFLICT (election, phase, key) DO NOTHING",
            &[&election, &phase_name(phase), &key, &entry],
        )
        .await?;
        let stored = by_key(&tx, election, phase, key)
            .await?
            .ok_or_else(|| Error::corrupt("outbox row vanished"))?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn unposted_entries(
        &self,
        election: &str,
        phase: Phase,
        limit: u32,
    ) -> Result<Vec<QueuedEntry>> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        all(
            &client,
            &format!(
                "SELECT {COLUMNS} FROM entry_outbox
                 WHERE election = $1 AND phase = $2 AND board_index IS NULL
                 ORDER BY seq LIMIT $3"
            ),
            &[&election, &phase_name(phase), &i64::from(limit)],
        )
        .await?
        .iter()
        .map(to_entry)
        .collect()
    }

    async fn set_entry_index(
        &self,
        election: &str,
        phase: Phase,
        key: &str,
        index: u64,
    ) -> Result<()> {
        let index = to_i64(index, "board index")?;
        let client = self.client().await?;
        let set = exec(
            &client,
            "UPDATE entry_outbox SET board_index = $4
             WHERE election = $1 AND phase = $2 AND key = $3 AND board_index IS NULL",
            &[&election, &phase_name(phase), &key, &index],
        )
        .await?;
        if set == 1 {
            return Ok(());
        }
        state_of(&client, election).await?;
        match by_key(&client, election, phase, key).await? {
            None => Err(Error::NotFound(Missing::Entry)),
            Some(e) if e.board_index == u64::try_from(index).ok() => Ok(()),
            Some(_) => Err(Error::Conflict(Conflict::BoardIndex)),
        }
    }

    async fn queued_entry(
        &self,
        election: &str,
        phase: Phase,
        key: &str,
    ) -> Result<Option<QueuedEntry>> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        by_key(&client, election, phase, key).await
    }
}
