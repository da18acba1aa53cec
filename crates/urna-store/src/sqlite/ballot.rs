//! [`BallotStore`] on SQLite.

use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, params};
use urna_crypto::Nullifier;
use urna_election::Revoting;

use super::election::revoting_from;
use super::{SqliteStore, state_of, to_32, to_u64};
use crate::ballot::{BallotStore, CastOutcome, CastRecord, NewBallot, Phase, SpoiledBallot};
use crate::election::ElectionState;
use crate::error::{Conflict, Error, Missing, Result};

const COLUMNS: &str =
    "seq, nullifier, tracking_code, ballot, phase, supersedes, superseded_by, board_index";

type RawRecord = (
    i64,
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

fn raw(r: &Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn to_record(
    (seq, nullifier, tracking_code, ballot, phase, supersedes, superseded_by, board_index): RawRecord,
) -> Result<CastRecord> {
    Ok(CastRecord {
        seq: to_u64(seq)?,
        nullifier: Nullifier::from_bytes(to_32(&nullifier)?),
        tracking_code: to_32(&tracking_code)?,
        ballot,
        phase: match phase.as_str() {
            "test" => Phase::Test,
            "open" => Phase::Open,
            _ => return Err(Error::corrupt("ballot phase")),
        },
        supersedes: supersedes.map(to_u64).transpose()?,
        superseded_by: superseded_by.map(to_u64).transpose()?,
        board_index: board_index.map(to_u64).transpose()?,
    })
}

fn by_code(c: &Connection, election: &str, code: &[u8; 32]) -> Result<Option<CastRecord>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM ballots WHERE election = ?1 AND tracking_code = ?2"
    ))?
    .query_row(params![election, code], raw)
    .optional()?
    .map(to_record)
    .transpose()
}

/// The phase ballots are accepted in now, or why none are.
fn casting_phase(c: &Connection, election: &str) -> Result<Phase> {
    match state_of(c, election)? {
        ElectionState::Test => Ok(Phase::Test),
        ElectionState::Open => Ok(Phase::Open),
        actual => Err(Error::WrongState {
            actual,
            needed: "test or open",
        }),
    }
}

const fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Test => "test",
        Phase::Open => "open",
    }
}

fn cast(tx: &Connection, election: &str, b: &NewBallot) -> Result<CastOutcome> {
    let phase = casting_phase(tx, election)?;
    if let Some(old) = by_code(tx, election, &b.tracking_code)? {
        return if old.ballot == b.ballot && old.nullifier == b.nullifier {
            Ok(CastOutcome::Repeat(old))
        } else {
            Err(Error::Conflict(Conflict::TrackingCode))
        };
    }
    let spoiled: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM spoiled WHERE election = ?1 AND tracking_code = ?2)",
        )?
        .query_row(params![election, b.tracking_code], |r| r.get(0))?;
    if spoiled {
        return Err(Error::Conflict(Conflict::Spoiled));
    }
    let revoting: String = tx
        .prepare_cached("SELECT revoting FROM elections WHERE id = ?1")?
        .query_row([election], |r| r.get(0))?;
    let previous: Option<i64> = match revoting_from(&revoting)? {
        Revoting::Once => None,
        Revoting::LastCounts => tx
            .prepare_cached("SELECT latest FROM nullifiers WHERE election = ?1 AND nullifier = ?2")?
            .query_row(params![election, b.nullifier.as_bytes()], |r| r.get(0))
            .optional()?,
    };
    let seq: i64 = tx
        .prepare_cached(
            "INSERT INTO ballots (election, nullifier, tracking_code, ballot, phase, supersedes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING seq",
        )?
        .query_row(
            params![
                election,
                b.nullifier.as_bytes(),
                b.tracking_code,
                b.ballot,
                phase_name(phase),
                previous
            ],
            |r| r.get(0),
        )?;
    // The nullifier's primary key is the double-vote decision under `once`: the
    // insert adds nothing if the nullifier is spent, and the transaction rolls back.
    let sql = match previous {
        None => {
            "INSERT INTO nullifiers (election, nullifier, latest, casts) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (election, nullifier) DO NOTHING"
        }
        Some(_) => {
            "INSERT INTO nullifiers (election, nullifier, latest, casts) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (election, nullifier) DO UPDATE SET latest = excluded.latest,
                 casts = casts + 1"
        }
    };
    let claimed =
        tx.prepare_cached(sql)?
            .execute(params![election, b.nullifier.as_bytes(), seq])?;
    if claimed == 0 {
        return Err(Error::Conflict(Conflict::NullifierSpent));
    }
    if let Some(prev) = previous {
        tx.prepare_cached("UPDATE ballots SET superseded_by = ?2 WHERE seq = ?1")?
            .execute(params![prev, seq])?;
    }
    Ok(CastOutcome::Accepted(CastRecord {
        seq: to_u64(seq)?,
        nullifier: b.nullifier,
        tracking_code: b.tracking_code,
        ballot: b.ballot.clone(),
        phase,
        supersedes: previous.map(to_u64).transpose()?,
        superseded_by: None,
        board_index: None,
    }))
}

fn set_board_index(tx: &Connection, election: &str, code: &[u8; 32], index: i64) -> Result<()> {
    let set = tx
        .execute(
            "UPDATE ballots SET board_index = ?3
             WHERE election = ?1 AND tracking_code = ?2 AND board_index IS NULL",
            params![election, code, index],
        )
        .map_err(|e| match e.sqlite_error_code() {
            Some(ErrorCode::ConstraintViolation) => Error::Conflict(Conflict::BoardIndex),
            _ => e.into(),
        })?;
    if set == 1 {
        return Ok(());
    }
    state_of(tx, election)?;
    match by_code(tx, election, code)? {
        None => Err(Error::NotFound(Missing::Ballot)),
        Some(r) if r.board_index == u64::try_from(index).ok() => Ok(()),
        Some(_) => Err(Error::Conflict(Conflict::BoardIndex)),
    }
}

fn spoil(tx: &Connection, election: &str, s: &SpoiledBallot) -> Result<()> {
    let phase = casting_phase(tx, election)?;
    if by_code(tx, election, &s.tracking_code)?.is_some() {
        return Err(Error::Conflict(Conflict::TrackingCode));
    }
    let added = tx
        .prepare_cached(
            "INSERT INTO spoiled (election, tracking_code, ballot, opening, phase)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (election, tracking_code) DO NOTHING",
        )?
        .execute(params![
            election,
            s.tracking_code,
            s.ballot,
            s.opening,
            phase_name(phase)
        ])?;
    if added == 1 {
        return Ok(());
    }
    let (ballot, opening): (Vec<u8>, Vec<u8>) = tx.query_row(
        "SELECT ballot, opening FROM spoiled WHERE election = ?1 AND tracking_code = ?2",
        params![election, s.tracking_code],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if ballot == s.ballot && opening == s.opening {
        Ok(())
    } else {
        Err(Error::Conflict(Conflict::TrackingCode))
    }
}

impl BallotStore for SqliteStore {
    async fn cast(&self, election: &str, ballot: NewBallot) -> Result<CastOutcome> {
        let election = election.to_owned();
        self.write(move |tx| cast(tx, &election, &ballot)).await
    }

    async fn ballot(&self, election: &str, tracking_code: &[u8; 32]) -> Result<Option<CastRecord>> {
        let (election, code) = (election.to_owned(), *tracking_code);
        self.read(move |c| {
            state_of(c, &election)?;
            by_code(c, &election, &code)
        })
        .await
    }

    async fn ballots(&self, election: &str) -> Result<Vec<CastRecord>> {
        let election = election.to_owned();
        self.read(move |c| {
            state_of(c, &election)?;
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM ballots WHERE election = ?1 ORDER BY seq"
            ))?
            .query_map([election], raw)?
            .map(|r| to_record(r?))
            .collect()
        })
        .await
    }

    async fn unposted(&self, election: &str, limit: u32) -> Result<Vec<CastRecord>> {
        let election = election.to_owned();
        self.read(move |c| {
            state_of(c, &election)?;
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM ballots WHERE election = ?1 AND board_index IS NULL
                 ORDER BY seq LIMIT ?2"
            ))?
            .query_map(params![election, limit], raw)?
            .map(|r| to_record(r?))
            .collect()
        })
        .await
    }

    async fn set_board_index(
        &self,
        election: &str,
        tracking_code: &[u8; 32],
        index: u64,
    ) -> Result<()> {
        let index = i64::try_from(index).map_err(|_| Error::InvalidInput("board index"))?;
        let (election, code) = (election.to_owned(), *tracking_code);
        self.write(move |tx| set_board_index(tx, &election, &code, index))
            .await
    }

    async fn set_board_indexes(
        &self,
        election: &str,
        indexes: Vec<([u8; 32], u64)>,
    ) -> Result<u64> {
        let indexes = indexes
            .into_iter()
            .map(|(code, index)| Ok((code, i64::try_from(index)?)))
            .collect::<std::result::Result<Vec<_>, std::num::TryFromIntError>>()
            .map_err(|_| Error::InvalidInput("board index"))?;
        let election = election.to_owned();
        self.write(move |tx| {
            let mut recorded = 0;
            for (code, index) in &indexes {
                match set_board_index(tx, &election, code, *index) {
                    Ok(()) => recorded += 1,
                    Err(Error::NotFound(Missing::Ballot)) => {}
                    Err(other) => return Err(other),
                }
            }
            Ok(recorded)
        })
        .await
    }

    async fn record_spoiled(&self, election: &str, spoiled: SpoiledBallot) -> Result<()> {
        let election = election.to_owned();
        self.write(move |tx| spoil(tx, &election, &spoiled)).await
    }

    async fn spoiled(&self, election: &str) -> Result<Vec<SpoiledBallot>> {
        let election = election.to_owned();
        self.read(move |c| {
            state_of(c, &election)?;
            c.prepare_cached(
                "SELECT tracking_code, ballot, opening FROM spoiled WHERE election = ?1 ORDER BY seq",
            )?
            .query_map([election], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get(1)?, r.get(2)?))
            })?
            .map(|r| {
                let (code, ballot, opening) = r?;
                Ok(SpoiledBallot {
                    tracking_code: to_32(&code)?,
                    ballot,
                    opening,
                })
            })
            .collect()
        })
        .await
    }
}
