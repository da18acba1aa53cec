//! The mix steps on SQLite.

use rusqlite::{Connection, OptionalExtension, params};

use super::tally::{to_u32, write_once};
use super::{SqliteStore, state_of};
use crate::error::{Error, Result};
use crate::mix::{MixStore, StoredShuffle, check_next};
use crate::tally::Written;

/// Version 6: tally batches get a width (0, or a mix-net contest's ciphertexts per
/// ballot) and the trustees' mix steps.
pub(super) const SCHEMA: &str = "
ALTER TABLE tally_batches ADD COLUMN width INTEGER NOT NULL DEFAULT 0 CHECK (width >= 0);

CREATE TABLE mix_steps (
    election  TEXT NOT NULL,
    batch     INTEGER NOT NULL,
    step      INTEGER NOT NULL CHECK (step >= 0),
    trustee   INTEGER NOT NULL CHECK (trustee >= 1),
    output    BLOB NOT NULL CHECK (length(output) > 0 AND length(output) % 64 = 0),
    proof     BLOB NOT NULL,
    signature BLOB NOT NULL,
    PRIMARY KEY (election, batch, step),
    UNIQUE (election, batch, trustee),
    FOREIGN KEY (election, batch) REFERENCES tally_batches (election, batch)
) STRICT, WITHOUT ROWID;
";

fn read_steps(
    conn: &Connection,
    election: &str,
    batch: u32,
    step: Option<u32>,
) -> Result<Vec<StoredShuffle>> {
    let mut statement = conn.prepare_cached(
        "SELECT step, trustee, output, proof, signature FROM mix_steps
         WHERE election = ?1 AND batch = ?2 AND (?3 IS NULL OR step = ?3) ORDER BY step",
    )?;
    let rows = statement
        .query_map(params![election, batch, step], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(step, trustee, output, proof, signature)| {
            Ok(StoredShuffle {
                batch,
                step: to_u32(step)?,
                trustee: to_u32(trustee)?,
                output,
                proof,
                signature,
            })
        })
        .collect()
}

impl MixStore for SqliteStore {
    async fn add_mix_step(&self, election: &str, shuffle: StoredShuffle) -> Result<Written> {
        let id = election.to_owned();
        self.write(move |tx| {
            state_of(tx, &id)?;
            let width: Option<i64> = tx
                .prepare_cached("SELECT width FROM tally_batches WHERE election = ?1 AND batch = ?2")?
                .query_row(params![id, shuffle.batch], |r| r.get(0))
                .optional()?;
            match width {
                None => return Err(Error::InvalidInput("no such decryption batch")),
                Some(0) => return Err(Error::InvalidInput("not a mix-net batch")),
                Some(_) => {}
            }
            let existing = read_steps(tx, &id, shuffle.batch, Some(shuffle.step))?
                .into_iter()
                .next();
            if existing.is_none() {
                check_next(&read_steps(tx, &id, shuffle.batch, None)?, &shuffle)?;
            }
            write_once(existing, &shuffle, || {
                tx.execute(
                    "INSERT INTO mix_steps (election, batch, step, trustee, output, proof, signature)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        id,
                        shuffle.batch,
                        shuffle.step,
                        shuffle.trustee,
                        shuffle.output,
                        shuffle.proof,
                        shuffle.signature
                    ],
                )?;
                Ok(())
            })
        })
        .await
    }

    async fn mix_steps(&self, election: &str, batch: u32) -> Result<Vec<StoredShuffle>> {
        let id = election.to_owned();
        self.read(move |c| {
            state_of(c, &id)?;
            read_steps(c, &id, batch, None)
        })
        .await
    }
}
