//! [`MixStore`] on PostgreSQL.
//!
//! Adding a step is one transaction that holds the batch's row `FOR UPDATE`, so the
//! steps of one batch are added one at a time: the check that a step is the next one
//! and that its trustee has not shuffled the batch sees every earlier step.

use deadpool_postgres::GenericClient;

use super::{PgStore, all, exec, opt, state_of, to_u32};
use crate::error::{Error, Result};
use crate::mix::{MixStore, StoredShuffle, check_next};
use crate::tally::Written;

/// Schema version 4: tally batches get a width (0, or a mix-net contest's ciphertexts
/// per ballot) and the trustees' mix steps.
pub(crate) const SCHEMA: &str = "
ALTER TABLE tally_batches ADD COLUMN width bigint NOT NULL DEFAULT 0 CHECK (width >= 0);

CREATE TABLE mix_steps (
    election  text NOT NULL,
    batch     bigint NOT NULL,
    step      bigint NOT NULL CHECK (step >= 0),
    trustee   bigint NOT NULL CHECK (trustee >= 1),
    output    bytea NOT NULL CHECK (octet_length(output) > 0 AND octet_length(output) % 64 = 0),
    proof     bytea NOT NULL,
    signature bytea NOT NULL,
    PRIMARY KEY (election, batch, step),
    UNIQUE (election, batch, trustee),
    FOREIGN KEY (election, batch) REFERENCES tally_batches (election, batch)
);
";

async fn read_steps<C: GenericClient>(
    c: &C,
    election: &str,
    batch: u32,
) -> Result<Vec<StoredShuffle>> {
    all(
        c,
        "SELECT step, trustee, output, proof, signature FROM mix_steps
         WHERE election = $1 AND batch = $2 ORDER BY step",
        &[&election, &i64::from(batch)],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(StoredShuffle {
            batch,
            step: to_u32(r.try_get(0)?)?,
            trustee: to_u32(r.try_get(1)?)?,
            output: r.try_get(2)?,
            proof: r.try_get(3)?,
            signature: r.try_get(4)?,
        })
    })
    .collect()
}

impl MixStore for PgStore {
    async fn add_mix_step(&self, election: &str, shuffle: StoredShuffle) -> Result<Written> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        state_of(&tx, election).await?;
        let batch = i64::from(shuffle.batch);
        let width = opt(
            &tx,
            "SELECT width FROM tally_batches WHERE election = $1 AND batch = $2 FOR UPDATE",
            &[&election, &batch],
        )
        .await?;
        match width.map(|r| r.try_get::<_, i64>(0)).transpose()? {
            None => return Err(Error::InvalidInput("no such decryption batch")),
            Some(0) => return Err(Error::InvalidInput("not a mix-net batch")),
            Some(_) => {}
        }
        let recorded = read_steps(&tx, election, shuffle.batch).await?;
        if let Some(existing) = recorded.iter().find(|s| s.step == shuffle.step) {
            return Ok(if *existing == shuffle {
                Written::Same
            } else {
                Written::Different
            });
        }
        check_next(&recorded, &shuffle)?;
        exec(
            &tx,
            "INSERT INTO mix_steps (election, batch, step, trustee, output, proof, signature)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &election,
                &batch,
                &i64::from(shuffle.step),
                &i64::from(shuffle.trustee),
                &shuffle.output,
                &shuffle.proof,
                &shuffle.signature,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Written::New)
    }

    async fn mix_steps(&self, election: &str, batch: u32) -> Result<Vec<StoredShuffle>> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        read_steps(&client, election, batch).await
    }
}
