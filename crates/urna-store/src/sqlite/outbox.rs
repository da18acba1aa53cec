//! [`EntryOutbox`] on SQLite.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{SqliteStore, state_of, to_u64};
use crate::ballot::Phase;
use crate::election::ElectionState;
use crate::error::{Conflict, Error, Missing, Result};
use crate::outbox::{EntryOutbox, QueuedEntry, check_key};

const COLUMNS: &str = "seq, phase, key, entry, board_index";

type RawEntry = (i64, String, String, Vec<u8>, Option<i64>);

fn raw(r: &Row<'_>) -> rusqlite::Result<RawEntry> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_entry((seq, phase, key, entry, board_index): RawEntry) -> Result<QueuedEntry> {
    Ok(QueuedEntry {
        phase: match phase.as_str() {
            "test" => Phase::Test,
            "open" => Phase::Open,
            _ => return Err(Error::corrupt("outbox phase")),
        },
        key,
        entry,
        seq: to_u64(seq)?,
        board_index: board_index.map(to_u64).transpose()?,
    })
}

const fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Test => "test",
        Phase::Open => "open",
    }
}

fn by_key(c: &Connection, election: &str, phase: Phase, key: &str) -> Result<Option<QueuedEntry>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM entry_outbox WHERE election = ?1 AND phase = ?2 AND key = ?3"
    ))?
    .query_row(params![election, phase_name(phase), key], raw)
    .optional()?
    .map(to_entry)
    .transpose()
}

/// Fails unless the election's state lets its board of `phase` take entries.
fn accepting(c: &Connection, election: &str, phase: Phase) -> Result<()> {
    let actual = state_of(c, election)?;
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

fn enqueue(
    tx: &Connection,
    election: &str,
    phase: Phase,
    key: &str,
    entry: &[u8],
) -> Result<QueuedEntry> {
    accepting(tx, election, phase)?;
    tx.prepare_cached(
        "INSERT INTO entry_outbox (election, phase, key, entry) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (election, phase, key) DO NOTHING",
    )?
    .execute(params![election, phase_name(phase), key, entry])?;
    by_key(tx, election, phase, key)?.ok_or_else(|| Error::corrupt("outbox row vanished"))
}

fn set_index(tx: &Connection, election: &str, phase: Phase, key: &str, index: i64) -> Result<()> {
    let set = tx
        .prepare_cached(
            "UPDATE entry_outbox SET board_index = ?4
             WHERE election = ?1 AND phase = ?2 AND key = ?3 AND board_index IS NULL",
        )?
        .execute(params![election, phase_name(phase), key, index])?;
    if set == 1 {
        return Ok(());
    }
    state_of(tx, election)?;
    match by_key(tx, election, phase, key)? {
        None => Err(Error::NotFound(Missing::Entry)),
        Some(e) if e.board_index == u64::try_from(index).ok() => Ok(()),
        Some(_) => Err(Error::Conflict(Conflict::BoardIndex)),
    }
}

impl EntryOutbox for SqliteStore {
    async fn enqueue_entry(
        &self,
        election: &str,
        phase: Phase,
        key: &str,
        entry: Vec<u8>,
    ) -> Result<QueuedEntry> {
        check_key(key)?;
        let (election, key) = (election.to_owned(), key.to_owned());
        self.write(move |tx| enqueue(tx, &election, phase, &key, &entry))
            .await
    }

    async fn unposted_entries(
        &self,
        election: &str,
        phase: Phase,
        limit: u32,
    ) -> Result<Vec<QueuedEntry>> {
        let election = election.to_owned();
        self.read(move |c| {
            state_of(c, &election)?;
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM entry_outbox
                 WHERE election = ?1 AND phase = ?2 AND board_index IS NULL
                 ORDER BY seq LIMIT ?3"
            ))?
            .query_map(params![election, phase_name(phase), limit], raw)?
            .map(|r| to_entry(r?))
            .collect()
        })
        .await
    }

    async fn set_entry_index(
        &self,
        election: &str,
        phase: Phase,
        key: &str,
        index: u64,
    ) -> Result<()> {
        let index = i64::try_from(index).map_err(|_| Error::InvalidInput("board index"))?;
        let (election, key) = (election.to_owned(), key.to_owned());
        self.write(move |tx| set_index(tx, &election, phase, &key, index))
            .await
    }

    async fn queued_entry(
        &self,
        election: &str,
        phase: Phase,
        key: &str,
    ) -> Result<Option<QueuedEntry>> {
        let (election, key) = (election.to_owned(), key.to_owned());
        self.read(move |c| {
            state_of(c, &election)?;
            by_key(c, &election, phase, &key)
        })
        .await
    }
}
