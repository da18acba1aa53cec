//! [`ElectionStore`] on SQLite.

use rusqlite::{Connection, OptionalExtension, Row, params};
use urna_election::{Manifest, Revoting};

use super::{SqliteStore, state_of, to_32};
use crate::election::{Applied, ElectionRecord, ElectionState, ElectionStore};
use crate::error::{Conflict, Error, Result};

const COLUMNS: &str = "id, fingerprint, manifest, source, revoting, state";

pub(super) fn revoting_from(name: &str) -> Result<Revoting> {
    match name {
        "once" => Ok(Revoting::Once),
        "last-counts" => Ok(Revoting::LastCounts),
        _ => Err(Error::corrupt("re-voting policy")),
    }
}

/// An `elections` row as read: id, fingerprint, manifest, source, revoting, state.
type RawElection = (String, Vec<u8>, Vec<u8>, String, String, String);

fn record(row: &Row<'_>) -> rusqlite::Result<RawElection> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn to_record(
    (id, fingerprint, manifest, source, revoting, state): RawElection,
) -> Result<ElectionRecord> {
    Ok(ElectionRecord {
        id,
        fingerprint: to_32(&fingerprint)?,
        manifest,
        source,
        revoting: revoting_from(&revoting)?,
        state: ElectionState::from_name(&state).ok_or_else(|| Error::corrupt("election state"))?,
    })
}

/// The new manifest's stored form.
struct Applying {
    id: String,
    fingerprint: [u8; 32],
    canonical: Vec<u8>,
    source: String,
    revoting: &'static str,
    styles: Vec<String>,
}

fn apply(tx: &Connection, m: &Applying) -> Result<Applied> {
    let existing: Option<(Vec<u8>, String)> = tx
        .query_row(
            "SELECT fingerprint, state FROM elections WHERE id = ?1",
            [&m.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let outcome = match existing {
        Some((fingerprint, _)) if fingerprint == m.fingerprint => return Ok(Applied::Unchanged),
        Some((_, state)) if state != ElectionState::Draft.name() => {
            return Err(Error::Conflict(Conflict::ManifestChanged));
        }
        Some(_) => {
            tx.execute(
                "UPDATE elections SET fingerprint = ?2, manifest = ?3, source = ?4,
                     revoting = ?5, updated_at = unixepoch() WHERE id = ?1",
                params![m.id, m.fingerprint, m.canonical, m.source, m.revoting],
            )?;
            let old: Vec<String> = tx
                .prepare("SELECT style FROM styles WHERE election = ?1")?
                .query_map([&m.id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for style in old.iter().filter(|s| !m.styles.contains(s)) {
                let used: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM voters WHERE election = ?1 AND style = ?2)",
                    params![m.id, style],
                    |r| r.get(0),
                )?;
                if used {
                    return Err(Error::Conflict(Conflict::StyleInUse));
                }
                tx.execute(
                    "DELETE FROM styles WHERE election = ?1 AND style = ?2",
                    params![m.id, style],
                )?;
            }
            Applied::Replaced
        }
        None => {
            tx.execute(
                "INSERT INTO elections (id, fingerprint, manifest, source, revoting, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'draft')",
                params![m.id, m.fingerprint, m.canonical, m.source, m.revoting],
            )?;
            Applied::Created
        }
    };
    let mut insert =
        tx.prepare("INSERT OR IGNORE INTO styles (election, style) VALUES (?1, ?2)")?;
    for style in &m.styles {
        insert.execute(params![m.id, style])?;
    }
    Ok(outcome)
}

fn transition(tx: &Connection, id: &str, from: ElectionState, to: ElectionState) -> Result<()> {
    let changed = tx.execute(
        "UPDATE elections SET state = ?3, updated_at = unixepoch() WHERE id = ?1 AND state = ?2",
        params![id, from.name(), to.name()],
    )?;
    if changed == 0 {
        return Err(Error::WrongState {
            actual: state_of(tx, id)?,
            needed: from.name(),
        });
    }
    if to == ElectionState::Open {
        // Every nullifier so far belongs to a Test ballot; foreign keys are checked
        // at the end of each statement, so the ballots' chains go in one delete.
        tx.execute("DELETE FROM nullifiers WHERE election = ?1", [id])?;
        tx.execute(
            "DELETE FROM ballots WHERE election = ?1 AND phase = 'test'",
            [id],
        )?;
        tx.execute(
            "DELETE FROM spoiled WHERE election = ?1 AND phase = 'test'",
            [id],
        )?;
        tx.execute(
            "DELETE FROM entry_outbox WHERE election = ?1 AND phase = 'test'",
            [id],
        )?;
    }
    Ok(())
}

fn record_results(tx: &Connection, id: &str, data: &[u8]) -> Result<()> {
    let actual = state_of(tx, id)?;
    if actual != ElectionState::Closed {
        return Err(Error::WrongState {
            actual,
            needed: "closed",
        });
    }
    let stored: Option<Vec<u8>> = tx
        .query_row("SELECT data FROM results WHERE election = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    match stored {
        Some(old) if old == data => Ok(()),
        Some(_) => Err(Error::Conflict(Conflict::Results)),
        None => {
            tx.execute(
                "INSERT INTO results (election, data) VALUES (?1, ?2)",
                params![id, data],
            )?;
            Ok(())
        }
    }
}

impl ElectionStore for SqliteStore {
    async fn apply_manifest(&self, manifest: &Manifest, source: &str) -> Result<Applied> {
        let m = Applying {
            id: manifest.id().to_owned(),
            fingerprint: manifest.fingerprint(),
            canonical: manifest.canonical_bytes(),
            source: source.to_owned(),
            revoting: manifest.revoting().name(),
            styles: manifest
                .ballot_styles()
                .iter()
                .map(|s| s.id().to_owned())
                .collect(),
        };
        self.write(move |tx| apply(tx, &m)).await
    }

    async fn election(&self, id: &str) -> Result<Option<ElectionRecord>> {
        let id = id.to_owned();
        self.read(move |c| {
            c.prepare_cached(&format!("SELECT {COLUMNS} FROM elections WHERE id = ?1"))?
                .query_row([id], record)
                .optional()?
                .map(to_record)
                .transpose()
        })
        .await
    }

    async fn elections(&self) -> Result<Vec<ElectionRecord>> {
        self.read(|c| {
            c.prepare_cached(&format!("SELECT {COLUMNS} FROM elections ORDER BY id"))?
                .query_map([], record)?
                .map(|r| to_record(r?))
                .collect()
        })
        .await
    }

    async fn transition(&self, id: &str, from: ElectionState, to: ElectionState) -> Result<()> {
        if !from.can_become(to) {
            return Err(Error::InvalidInput("not a lifecycle transition"));
        }
        let id = id.to_owned();
        self.write(move |tx| transition(tx, &id, from, to)).await
    }

    async fn record_results(&self, id: &str, results: &[u8]) -> Result<()> {
        let (id, data) = (id.to_owned(), results.to_vec());
        self.write(move |tx| record_results(tx, &id, &data)).await
    }

    async fn results(&self, id: &str) -> Result<Option<Vec<u8>>> {
        let id = id.to_owned();
        self.read(move |c| {
            state_of(c, &id)?;
            Ok(
                c.prepare_cached("SELECT data FROM results WHERE election = ?1")?
                    .query_row([id], |r| r.get(0))
                    .optional()?,
            )
        })
        .await
    }
}
