//! [`BallotStore`] on PostgreSQL: the casting transaction.
//!
//! `cast` is one transaction: it holds the election's row `FOR SHARE` (so the
//! election cannot open, which discards Test ballots, or close beside it) and a
//! transaction-level advisory lock on the tracking code (so the same ballot is never
//! cast and spoiled at once), then inserts the ballot and claims its nullifier. The
//! nullifier's primary key is the double-vote decision: under `once`,
//! `INSERT … ON CONFLICT DO NOTHING` adds nothing for a spent nullifier (a racing
//! cast waits on the key until the first commits) and the whole transaction rolls
//! back; under `last-counts` the nullifier's row is locked `FOR UPDATE` and moved to
//! the new ballot. The ballot row with `board_index` NULL is the outbox entry the
//! board sequencer drains in `seq` (cast) order.

use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use urna_crypto::Nullifier;
use urna_election::Revoting;

use super::election::revoting_from;
use super::{PgStore, all, exec, one, opt, state_of, to_32, to_i64, to_u64};
use crate::ballot::{BallotStore, CastOutcome, CastRecord, NewBallot, Phase, SpoiledBallot};
use crate::election::ElectionState;
use crate::error::{Conflict, Error, Missing, Result};

const COLUMNS: &str =
    "seq, nullifier, tracking_code, ballot, phase, supersedes, superseded_by, board_index";

/// How many times a cast is tried when a racing first cast of the same nullifier
/// (under `last-counts`) commits between its read and its claim.
const CAST_ATTEMPTS: usize = 4;

fn to_record(r: &Row) -> Result<CastRecord> {
    let optional =
        |i| -> Result<Option<u64>> { r.try_get::<_, Option<i64>>(i)?.map(to_u64).transpose() };
    Ok(CastRecord {
        seq: to_u64(r.try_get(0)?)?,
        nullifier: Nullifier::from_bytes(to_32(r.try_get(1)?)?),
        tracking_code: to_32(r.try_get(2)?)?,
        ballot: r.try_get(3)?,
        phase: phase_from(r.try_get(4)?)?,
        supersedes: optional(5)?,
        superseded_by: optional(6)?,
        board_index: optional(7)?,
    })
}

fn phase_from(name: &str) -> Result<Phase> {
    match name {
        "test" => Ok(Phase::Test),
        "open" => Ok(Phase::Open),
        _ => Err(Error::corrupt("ballot phase")),
    }
}

const fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Test => "test",
        Phase::Open => "open",
    }
}

async fn by_code<C: GenericClient>(
    c: &C,
    election: &str,
    code: &[u8; 32],
) -> Result<Option<CastRecord>> {
    opt(
        c,
        &format!("SELECT {COLUMNS} FROM ballots WHERE election = $1 AND tracking_code = $2"),
        &[&election, &&code[..]],
    )
    .await?
    .as_ref()
    .map(to_record)
    .transpose()
}

/// The advisory lock key of a tracking code (its first eight bytes: it is a hash).
fn code_lock(code: &[u8; 32]) -> i64 {
    let mut key = [0; 8];
    key.copy_from_slice(&code[..8]);
    i64::from_be_bytes(key)
}

/// Locks the election's row `FOR SHARE` and the tracking code's advisory lock, and
/// returns the phase ballots are accepted in now (or why none are) and the policy.
async fn lock_for_casting(
    tx: &Transaction<'_>,
    election: &str,
    code: &[u8; 32],
) -> Result<(Phase, Revoting)> {
    let row = opt(
        tx,
        "SELECT state, revoting, pg_advisory_xact_lock($2)::text FROM elections
         WHERE id = $1 FOR SHARE",
        &[&election, &code_lock(code)],
    )
    .await?
    .ok_or(Error::NotFound(Missing::Election))?;
    let state = ElectionState::from_name(row.try_get(0)?)
        .ok_or_else(|| Error::corrupt("election state"))?;
    let phase = match state {
        ElectionState::Test => Phase::Test,
        ElectionState::Open => Phase::Open,
        actual => {
            return Err(Error::WrongState {
                actual,
                needed: "test or open",
            });
        }
    };
    Ok((phase, revoting_from(row.try_get(1)?)?))
}

/// One try of the casting transaction; `None`: a racing cast claimed the nullifier
/// first under `last-counts`, so the caller rolls back and tries again.
async fn cast(tx: &Transaction<'_>, election: &str, b: &NewBallot) -> Result<Option<CastOutcome>> {
    let (phase, revoting) = lock_for_casting(tx, election, &b.tracking_code).await?;
    // After the lock (a statement of its own, so it sees what a racing cast or spoil
    // of this tracking code committed): the ballot stored under it, if any, and
    // whether it was spoiled, in one round trip.
    let code = &b.tracking_code[..];
    let known = one(
        tx,
        &format!(
            "SELECT {COLUMNS}, EXISTS (SELECT 1 FROM spoiled s
                                       WHERE s.election = $1 AND s.tracking_code = $2)
             FROM (VALUES (1)) AS one (x)
                  LEFT JOIN ballots ON election = $1 AND tracking_code = $2"
        ),
        &[&election, &code],
    )
    .await?;
    if known.try_get::<_, Option<i64>>(0)?.is_some() {
        let old = to_record(&known)?;
        return if old.ballot == b.ballot && old.nullifier == b.nullifier {
            Ok(Some(CastOutcome::Repeat(old)))
        } else {
            Err(Error::Conflict(Conflict::TrackingCode))
        };
    }
    if known.try_get::<_, bool>(8)? {
        return Err(Error::Conflict(Conflict::Spoiled));
    }
    let nullifier = &b.nullifier.as_bytes()[..];
    let previous: Option<i64> = match revoting {
        Revoting::Once => None,
        Revoting::LastCounts => opt(
            tx,
            "SELECT latest FROM nullifiers WHERE election = $1 AND nullifier = $2 FOR UPDATE",
            &[&election, &nullifier],
        )
        .await?
        .map(|r| r.try_get(0))
        .transpose()?,
    };
    let seq: i64 = one(
        tx,
        "INSERT INTO ballots (election, nullifier, tracking_code, ballot, phase, supersedes)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq",
        &[
            &election,
            &nullifier,
            &code,
            &b.ballot,
            &phase_name(phase),
            &previous,
        ],
    )
    .await?
    .try_get(0)?;
    if let Some(prev) = previous {
        exec(
            tx,
            "UPDATE nullifiers SET latest = $3, casts = casts + 1
             WHERE election = $1 AND nullifier = $2",
            &[&election, &nullifier, &seq],
        )
        .await?;
        exec(
            tx,
            "UPDATE ballots SET superseded_by = $2 WHERE seq = $1",
            &[&prev, &seq],
        )
        .await?;
    } else {
        // The double-vote decision: a spent nullifier adds nothing.
        let claimed = exec(
            tx,
            "INSERT INTO nullifiers (election, nullifier, latest, casts) VALUES ($1, $2, $3, 1)
             ON CONFLICT (election, nullifier) DO NOTHING",
            &[&election, &nullifier, &seq],
        )
        .await?;
        if claimed == 0 {
            return match revoting {
                Revoting::Once => Err(Error::Conflict(Conflict::NullifierSpent)),
                Revoting::LastCounts => Ok(None),
            };
        }
    }
    Ok(Some(CastOutcome::Accepted(CastRecord {
        seq: to_u64(seq)?,
        nullifier: b.nullifier,
        tracking_code: b.tracking_code,
        ballot: b.ballot.clone(),
        phase,
        supersedes: previous.map(to_u64).transpose()?,
        superseded_by: None,
        board_index: None,
    })))
}

async fn set_board_index(
    tx: &Transaction<'_>,
    election: &str,
    code: &[u8; 32],
    index: i64,
) -> Result<()> {
    let statement = tx
        .prepare_cached(
            "UPDATE ballots SET board_index = $3
             WHERE election = $1 AND tracking_code = $2 AND board_index IS NULL",
        )
        .await?;
    let set = tx
        .execute(&statement, &[&election, &&code[..], &index])
        .await
        .map_err(board_index_error)?;
    if set == 1 {
        return Ok(());
    }
    state_of(tx, election).await?;
    match by_code(tx, election, code).await? {
        None => Err(Error::NotFound(Missing::Ballot)),
        Some(r) if r.board_index == u64::try_from(index).ok() => Ok(()),
        Some(_) => Err(Error::Conflict(Conflict::BoardIndex)),
    }
}

/// A unique violation on `(election, board_index)` is another ballot's index.
fn board_index_error(e: tokio_postgres::Error) -> Error {
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => Error::Conflict(Conflict::BoardIndex),
        _ => e.into(),
    }
}

async fn spoil(tx: &Transaction<'_>, election: &str, s: &SpoiledBallot) -> Result<()> {
    let (phase, _) = lock_for_casting(tx, election, &s.tracking_code).await?;
    if by_code(tx, election, &s.tracking_code).await?.is_some() {
        return Err(Error::Conflict(Conflict::TrackingCode));
    }
    let code = &s.tracking_code[..];
    exec(
        tx,
        "INSERT INTO spoiled (election, tracking_code, ballot, opening, phase)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (election, tracking_code) DO NOTHING",
        &[&election, &code, &s.ballot, &s.opening, &phase_name(phase)],
    )
    .await?;
    let row = one(
        tx,
        "SELECT ballot, opening FROM spoiled WHERE election = $1 AND tracking_code = $2",
        &[&election, &code],
    )
    .await?;
    let (ballot, opening): (&[u8], &[u8]) = (row.try_get(0)?, row.try_get(1)?);
    if ballot == s.ballot && opening == s.opening {
        Ok(())
    } else {
        Err(Error::Conflict(Conflict::TrackingCode))
    }
}

impl BallotStore for PgStore {
    async fn cast(&self, election: &str, ballot: NewBallot) -> Result<CastOutcome> {
        let mut client = self.client().await?;
        for _ in 0..CAST_ATTEMPTS {
            let tx = client.transaction().await?;
            if let Some(outcome) = cast(&tx, election, &ballot).await? {
                tx.commit().await?;
                return Ok(outcome);
            }
            tx.rollback().await?;
        }
        Err(Error::corrupt("nullifier claimed and released repeatedly"))
    }

    async fn ballot(&self, election: &str, tracking_code: &[u8; 32]) -> Result<Option<CastRecord>> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        by_code(&client, election, tracking_code).await
    }

    async fn ballots(&self, election: &str) -> Result<Vec<CastRecord>> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        all(
            &client,
            &format!("SELECT {COLUMNS} FROM ballots WHERE election = $1 ORDER BY seq"),
            &[&election],
        )
        .await?
        .iter()
        .map(to_record)
        .collect()
    }

    async fn unposted(&self, election: &str, limit: u32) -> Result<Vec<CastRecord>> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        all(
            &client,
            &format!(
                "SELECT {COLUMNS} FROM ballots WHERE election = $1 AND board_index IS NULL
                 ORDER BY seq LIMIT $2"
            ),
            &[&election, &i64::from(limit)],
        )
        .await?
        .iter()
        .map(to_record)
        .collect()
    }

    async fn set_board_index(
        &self,
        election: &str,
        tracking_code: &[u8; 32],
        index: u64,
    ) -> Result<()> {
        let index = to_i64(index, "board index")?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        set_board_index(&tx, election, tracking_code, index).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_board_indexes(
        &self,
        election: &str,
        indexes: Vec<([u8; 32], u64)>,
    ) -> Result<u64> {
        if indexes.is_empty() {
            return Ok(0);
        }
        let mut codes = Vec::with_capacity(indexes.len());
        let mut values = Vec::with_capacity(indexes.len());
        for (code, index) in &indexes {
            codes.push(code.to_vec());
            values.push(to_i64(*index, "board index")?);
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        state_of(&tx, election).await?;
        // The whole batch in two statements: set every index not yet set (a taken
        // index is a unique violation), then compare what is stored with what was
        // asked, which also answers the indexes set before.
        let statement = tx
            .prepare_cached(
                "UPDATE ballots b SET board_index = u.idx
                 FROM unnest($2::bytea[], $3::bigint[]) AS u (code, idx)
                 WHERE b.election = $1 AND b.tracking_code = u.code AND b.board_index IS NULL",
            )
            .await?;
        tx.execute(&statement, &[&election, &codes, &values])
            .await
            .map_err(board_index_error)?;
        let stored = all(
            &tx,
            "SELECT tracking_code, board_index FROM ballots
             WHERE election = $1 AND tracking_code = ANY ($2)",
            &[&election, &codes],
        )
        .await?;
        let stored = stored
            .iter()
            .map(|r| Ok((r.try_get::<_, &[u8]>(0)?, r.try_get::<_, Option<i64>>(1)?)))
            .collect::<Result<std::collections::HashMap<_, _>>>()?;
        let mut recorded = 0;
        for (code, index) in codes.iter().zip(&values) {
            match stored.get(code.as_slice()) {
                None => {} // no longer stored (a discarded Test ballot): skipped
                Some(Some(i)) if i == index => recorded += 1,
                Some(_) => return Err(Error::Conflict(Conflict::BoardIndex)),
            }
        }
        tx.commit().await?;
        Ok(recorded)
    }

    async fn record_spoiled(&self, election: &str, spoiled: SpoiledBallot) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        spoil(&tx, election, &spoiled).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn spoiled(&self, election: &str) -> Result<Vec<SpoiledBallot>> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        all(
            &client,
            "SELECT tracking_code, ballot, opening FROM spoiled WHERE election = $1 ORDER BY seq",
            &[&election],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(SpoiledBallot {
                tracking_code: to_32(r.try_get(0)?)?,
                ballot: r.try_get(1)?,
                opening: r.try_get(2)?,
            })
        })
        .collect()
    }
}
