//! [`TallyStore`] on PostgreSQL.
//!
//! Every record is written with `INSERT … ON CONFLICT DO NOTHING` and then read
//! back: whichever writer's insert the key admitted first is the record, a racing
//! writer waits for it to commit and compares. Multi-row records (a dealing and its
//! shares, a task and its batches) are admitted by their head row, so the rest is
//! written by the same transaction or not at all.

use deadpool_postgres::{GenericClient, Transaction};

use super::{PgStore, all, exec, opt, require, state_of, to_i64, to_u32, to_u64};
use crate::election::ElectionState;
use crate::error::{Error, Result};
use crate::tally::{
    CeremonyPhase, CeremonyRecord, RecordKind, StoredDealing, StoredPartial, TallyBatch,
    TallyConfig, TallyStore, TallyTask, TrusteeKeys, Written,
};

/// Compares the stored record with the one written.
fn compare<T: PartialEq>(inserted: bool, stored: Option<T>, new: &T) -> Result<Written> {
    match stored {
        _ if inserted => Ok(Written::New),
        Some(old) if old == *new => Ok(Written::Same),
        Some(_) => Ok(Written::Different),
        None => Err(Error::corrupt("a write-once record vanished")),
    }
}

async fn read_config<C: GenericClient>(c: &C, election: &str) -> Result<Option<TallyConfig>> {
    opt(
        c,
        "SELECT trustees, threshold FROM tally_configs WHERE election = $1",
        &[&election],
    )
    .await?
    .map(|r| {
        Ok(TallyConfig {
            trustees: to_u32(r.try_get(0)?)?,
            threshold: to_u32(r.try_get(1)?)?,
        })
    })
    .transpose()
}

async fn read_trustees<C: GenericClient>(
    c: &C,
    election: &str,
    index: Option<u32>,
) -> Result<Vec<TrusteeKeys>> {
    all(
        c,
        "SELECT idx, name, signing_key, encryption_key FROM trustees
         WHERE election = $1 AND ($2::bigint IS NULL OR idx = $2) ORDER BY idx",
        &[&election, &index.map(i64::from)],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(TrusteeKeys {
            index: to_u32(r.try_get(0)?)?,
            name: r.try_get(1)?,
            signing_key: super::to_32(r.try_get(2)?)?,
            encryption_key: super::to_32(r.try_get(3)?)?,
        })
    })
    .collect()
}

async fn read_phase<C: GenericClient>(c: &C, election: &str) -> Result<CeremonyPhase> {
    let row = opt(
        c,
        "SELECT phase FROM ceremony_phases WHERE election = $1",
        &[&election],
    )
    .await?;
    row.map_or(Ok(CeremonyPhase::Registration), |r| {
        CeremonyPhase::from_name(r.try_get(0)?).ok_or_else(|| Error::corrupt("ceremony phase"))
    })
}

async fn read_dealings<C: GenericClient>(
    c: &C,
    election: &str,
    dealer: Option<u32>,
) -> Result<Vec<StoredDealing>> {
    let rows = all(
        c,
        "SELECT d.dealer, d.dealing, d.signature,
                coalesce(array_agg(s.sealed ORDER BY s.recipient)
                         FILTER (WHERE s.sealed IS NOT NULL), '{}')
         FROM dealings d LEFT JOIN sealed_shares s
              ON s.election = d.election AND s.dealer = d.dealer
         WHERE d.election = $1 AND ($2::bigint IS NULL OR d.dealer = $2)
         GROUP BY d.dealer, d.dealing, d.signature ORDER BY d.dealer",
        &[&election, &dealer.map(i64::from)],
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredDealing {
                dealer: to_u32(r.try_get(0)?)?,
                dealing: r.try_get(1)?,
                signature: r.try_get(2)?,
                shares: r.try_get(3)?,
            })
        })
        .collect()
}

async fn read_records<C: GenericClient>(
    c: &C,
    election: &str,
    kind: RecordKind,
    key: Option<&[u8]>,
) -> Result<Vec<CeremonyRecord>> {
    all(
        c,
        "SELECT key, trustee, record, signature FROM ceremony_records
         WHERE election = $1 AND kind = $2 AND ($3::bytea IS NULL OR key = $3) ORDER BY seq",
        &[&election, &kind.name(), &key],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(CeremonyRecord {
            kind,
            key: r.try_get(0)?,
            trustee: to_u32(r.try_get(1)?)?,
            record: r.try_get(2)?,
            signature: r.try_get(3)?,
        })
    })
    .collect()
}

async fn read_task<C: GenericClient>(c: &C, election: &str) -> Result<Option<TallyTask>> {
    let Some(source) = opt(
        c,
        "SELECT source_index FROM tally_tasks WHERE election = $1",
        &[&election],
    )
    .await?
    else {
        return Ok(None);
    };
    let rows = all(
        c,
        "SELECT contest, ciphertexts, ballots, width FROM tally_batches WHERE election = $1
         ORDER BY batch",
        &[&election],
    )
    .await?;
    let batches = rows
        .iter()
        .map(|r| {
            let bytes: &[u8] = r.try_get(1)?;
            let ciphertexts = bytes
                .chunks(64)
                .map(|c| {
                    c.try_into()
                        .map_err(|_| Error::corrupt("ciphertext of wrong length"))
                })
                .collect::<Result<Vec<[u8; 64]>>>()?;
            Ok(TallyBatch {
                contest: r.try_get(0)?,
                ciphertexts,
                ballots: to_u64(r.try_get(2)?)?,
                width: to_u32(r.try_get(3)?)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(TallyTask {
        source_index: to_u64(source.try_get(0)?)?,
        batches,
    }))
}

async fn insert_task(tx: &Transaction<'_>, election: &str, task: &TallyTask) -> Result<bool> {
    let source = to_i64(task.source_index, "source index")?;
    let inserted = exec(
        tx,
        "INSERT INTO tally_tasks (election, source_index) VALUES ($1, $2)
         ON CONFLICT (election) DO NOTHING",
        &[&election, &source],
    )
    .await?;
    if inserted == 0 {
        return Ok(false);
    }
    for (batch, b) in (0i64..).zip(&task.batches) {
        exec(
            tx,
            "INSERT INTO tally_batches (election, batch, contest, ciphertexts, ballots, width)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &election,
                &batch,
                &b.contest,
                &b.ciphertexts.concat(),
                &to_i64(b.ballots, "ballots")?,
                &i64::from(b.width),
            ],
        )
        .await?;
    }
    Ok(true)
}

async fn read_partials<C: GenericClient>(
    c: &C,
    election: &str,
    batch: u32,
    trustee: Option<u32>,
) -> Result<Vec<StoredPartial>> {
    all(
        c,
        "SELECT trustee, partial, signature FROM partial_decryptions
         WHERE election = $1 AND batch = $2 AND ($3::bigint IS NULL OR trustee = $3)
         ORDER BY seq",
        &[&election, &i64::from(batch), &trustee.map(i64::from)],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(StoredPartial {
            trustee: to_u32(r.try_get(0)?)?,
            batch,
            partial: r.try_get(1)?,
            signature: r.try_get(2)?,
        })
    })
    .collect()
}

impl TallyStore for PgStore {
    async fn init_tally_config(&self, election: &str, config: TallyConfig) -> Result<TallyConfig> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if let Some(stored) = read_config(&tx, election).await? {
            return Ok(stored);
        }
        require(&tx, election, ElectionState::Draft).await?;
        if config.threshold == 0 || config.threshold > config.trustees {
            return Err(Error::InvalidInput(
                "threshold must be 1 to the trustee count",
            ));
        }
        exec(
            &tx,
            "INSERT INTO tally_configs (election, trustees, threshold) VALUES ($1, $2, $3)
             ON CONFLICT (election) DO NOTHING",
            &[
                &election,
                &i64::from(config.trustees),
                &i64::from(config.threshold),
            ],
        )
        .await?;
        let stored = read_config(&tx, election)
            .await?
            .ok_or_else(|| Error::corrupt("tally config vanished"))?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn tally_config(&self, election: &str) -> Result<Option<TallyConfig>> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        read_config(&client, election).await
    }

    async fn register_trustee(&self, election: &str, trustee: TrusteeKeys) -> Result<Written> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        require(&tx, election, ElectionState::Draft).await?;
        if trustee.index == 0 {
            return Err(Error::InvalidInput("trustee index"));
        }
        let inserted = exec(
            &tx,
            "INSERT INTO trustees (election, idx, name, signing_key, encryption_key)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[
                &election,
                &i64::from(trustee.index),
                &trustee.name,
                &&trustee.signing_key[..],
                &&trustee.encryption_key[..],
            ],
        )
        .await?;
        let stored = read_trustees(&tx, election, Some(trustee.index)).await?;
        tx.commit().await?;
        compare(inserted == 1, stored.into_iter().next(), &trustee)
    }

    async fn trustees(&self, election: &str) -> Result<Vec<TrusteeKeys>> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        read_trustees(&client, election, None).await
    }

    async fn ceremony_phase(&self, election: &str) -> Result<CeremonyPhase> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        read_phase(&client, election).await
    }

    async fn advance_ceremony(
        &self,
        election: &str,
        from: CeremonyPhase,
        to: CeremonyPhase,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        state_of(&tx, election).await?;
        exec(
            &tx,
            "INSERT INTO ceremony_phases (election, phase) VALUES ($1, 'registration')
             ON CONFLICT (election) DO NOTHING",
            &[&election],
        )
        .await?;
        // Compare-and-set: a racing update is waited for and the condition re-checked.
        let moved = exec(
            &tx,
            "UPDATE ceremony_phases SET phase = $3 WHERE election = $1 AND phase = $2",
            &[&election, &from.name(), &to.name()],
        )
        .await?;
        tx.commit().await?;
        Ok(moved == 1)
    }

    async fn add_dealing(&self, election: &str, dealing: StoredDealing) -> Result<Written> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        state_of(&tx, election).await?;
        let dealer = i64::from(dealing.dealer);
        let inserted = exec(
            &tx,
            "INSERT INTO dealings (election, dealer, dealing, signature) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            &[&election, &dealer, &dealing.dealing, &dealing.signature],
        )
        .await?
            == 1;
        if inserted {
            exec(
                &tx,
                "INSERT INTO sealed_shares (election, dealer, recipient, sealed)
                 SELECT $1, $2, r, s FROM unnest($3::bytea[]) WITH ORDINALITY AS u (s, r)",
                &[&election, &dealer, &dealing.shares],
            )
            .await?;
        }
        let stored = read_dealings(&tx, election, Some(dealing.dealer)).await?;
        tx.commit().await?;
        compare(inserted, stored.into_iter().next(), &dealing)
    }

    async fn dealings(&self, election: &str) -> Result<Vec<StoredDealing>> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        read_dealings(&client, election, None).await
    }

    async fn add_ceremony_record(&self, election: &str, record: CeremonyRecord) -> Result<Written> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        state_of(&tx, election).await?;
        let inserted = exec(
            &tx,
            "INSERT INTO ceremony_records (election, kind, key, trustee, record, signature)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[
                &election,
                &record.kind.name(),
                &record.key,
                &i64::from(record.trustee),
                &record.record,
                &record.signature,
            ],
        )
        .await?;
        let stored = read_records(&tx, election, record.kind, Some(&record.key)).await?;
        tx.commit().await?;
        compare(inserted == 1, stored.into_iter().next(), &record)
    }

    async fn ceremony_records(
        &self,
        election: &str,
        kind: RecordKind,
    ) -> Result<Vec<CeremonyRecord>> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        read_records(&client, election, kind, None).await
    }

    async fn set_tally_task(&self, election: &str, task: TallyTask) -> Result<Written> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        require(&tx, election, ElectionState::Closed).await?;
        let inserted = insert_task(&tx, election, &task).await?;
        let stored = read_task(&tx, election).await?;
        tx.commit().await?;
        compare(inserted, stored, &task)
    }

    async fn tally_task(&self, election: &str) -> Result<Option<TallyTask>> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        read_task(&client, election).await
    }

    async fn add_partial(&self, election: &str, partial: StoredPartial) -> Result<Written> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        state_of(&tx, election).await?;
        let batch = i64::from(partial.batch);
        let batch_exists = opt(
            &tx,
            "SELECT 1 FROM tally_batches WHERE election = $1 AND batch = $2",
            &[&election, &batch],
        )
        .await?;
        if batch_exists.is_none() {
            return Err(Error::InvalidInput("no such decryption batch"));
        }
        let inserted = exec(
            &tx,
            "INSERT INTO partial_decryptions (election, batch, trustee, partial, signature)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[
                &election,
                &batch,
                &i64::from(partial.trustee),
                &partial.partial,
                &partial.signature,
            ],
        )
        .await?;
        let stored = read_partials(&tx, election, partial.batch, Some(partial.trustee)).await?;
        tx.commit().await?;
        compare(inserted == 1, stored.into_iter().next(), &partial)
    }

    async fn partials(&self, election: &str, batch: u32) -> Result<Vec<StoredPartial>> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        read_partials(&client, election, batch, None).await
    }
}
