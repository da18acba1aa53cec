//! [`TallyStore`] on SQLite.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{SqliteStore, state_of, to_32, to_u64};
use crate::election::ElectionState;
use crate::error::{Error, Result};
use crate::tally::{
    CeremonyPhase, CeremonyRecord, RecordKind, StoredDealing, StoredPartial, TallyBatch,
    TallyConfig, TallyStore, TallyTask, TrusteeKeys, Written,
};

/// Compares a stored record with a new one, inserting the new one if there is none.
pub(super) fn write_once<T: PartialEq>(
    existing: Option<T>,
    new: &T,
    insert: impl FnOnce() -> Result<()>,
) -> Result<Written> {
    match existing {
        Some(old) if old == *new => Ok(Written::Same),
        Some(_) => Ok(Written::Different),
        None => insert().map(|()| Written::New),
    }
}

/// Fails unless the election is in `needed`.
fn require(conn: &Connection, election: &str, needed: ElectionState) -> Result<()> {
    let actual = state_of(conn, election)?;
    if actual == needed {
        Ok(())
    } else {
        Err(Error::WrongState {
            actual,
            needed: needed.name(),
        })
    }
}

pub(super) fn to_u32(v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::corrupt("index out of range"))
}

/// Reads the record of every index `indices` (a query on the election) selects, in
/// its order.
fn read_each<T>(
    conn: &Connection,
    election: &str,
    indices: &str,
    read: fn(&Connection, &str, u32) -> Result<Option<T>>,
) -> Result<Vec<T>> {
    let indices = conn
        .prepare_cached(indices)?
        .query_map([election], |r| r.get::<_, i64>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::with_capacity(indices.len());
    for index in indices {
        out.extend(read(conn, election, to_u32(index)?)?);
    }
    Ok(out)
}

fn read_config(conn: &Connection, election: &str) -> Result<Option<TallyConfig>> {
    let raw: Option<(i64, i64)> = conn
        .prepare_cached("SELECT trustees, threshold FROM tally_configs WHERE election = ?1")?
        .query_row([election], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    raw.map(|(n, k)| {
        Ok(TallyConfig {
            trustees: to_u32(n)?,
            threshold: to_u32(k)?,
        })
    })
    .transpose()
}

fn read_trustee(conn: &Connection, election: &str, index: u32) -> Result<Option<TrusteeKeys>> {
    let raw: Option<(String, Vec<u8>, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT name, signing_key, encryption_key FROM trustees
             WHERE election = ?1 AND idx = ?2",
        )?
        .query_row(params![election, index], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    raw.map(|(name, signing, encryption)| {
        Ok(TrusteeKeys {
            index,
            name,
            signing_key: to_32(&signing)?,
            encryption_key: to_32(&encryption)?,
        })
    })
    .transpose()
}

fn read_phase(conn: &Connection, election: &str) -> Result<CeremonyPhase> {
    let name: Option<String> = conn
        .prepare_cached("SELECT phase FROM ceremony_phases WHERE election = ?1")?
        .query_row([election], |r| r.get(0))
        .optional()?;
    name.map_or(Ok(CeremonyPhase::Registration), |n| {
        CeremonyPhase::from_name(&n).ok_or_else(|| Error::corrupt("ceremony phase"))
    })
}

fn read_dealing(conn: &Connection, election: &str, dealer: u32) -> Result<Option<StoredDealing>> {
    let raw: Option<(Vec<u8>, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT dealing, signature FROM dealings WHERE election = ?1 AND dealer = ?2",
        )?
        .query_row(params![election, dealer], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((dealing, signature)) = raw else {
        return Ok(None);
    };
    let shares = conn
        .prepare_cached(
            "SELECT sealed FROM sealed_shares WHERE election = ?1 AND dealer = ?2
             ORDER BY recipient",
        )?
        .query_map(params![election, dealer], |r| r.get(0))?
        .collect::<Result<Vec<Vec<u8>>, _>>()?;
    Ok(Some(StoredDealing {
        dealer,
        dealing,
        shares,
        signature,
    }))
}

fn read_task(conn: &Connection, election: &str) -> Result<Option<TallyTask>> {
    let source: Option<i64> = conn
        .prepare_cached("SELECT source_index FROM tally_tasks WHERE election = ?1")?
        .query_row([election], |r| r.get(0))
        .optional()?;
    let Some(source) = source else {
        return Ok(None);
    };
    let rows = conn
        .prepare_cached(
            "SELECT contest, ciphertexts, ballots, width FROM tally_batches
             WHERE election = ?1 ORDER BY batch",
        )?
        .query_map([election], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let batches = rows
        .into_iter()
        .map(|(contest, bytes, ballots, width)| {
            let ciphertexts = bytes
                .chunks(64)
                .map(|c| {
                    c.try_into()
                        .map_err(|_| Error::corrupt("ciphertext of wrong length"))
                })
                .collect::<Result<Vec<[u8; 64]>>>()?;
            Ok(TallyBatch {
                contest,
                ciphertexts,
                ballots: to_u64(ballots)?,
                width: to_u32(width)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(TallyTask {
        source_index: to_u64(source)?,
        batches,
    }))
}

fn insert_task(tx: &Transaction<'_>, election: &str, task: &TallyTask) -> Result<()> {
    let source =
        i64::try_from(task.source_index).map_err(|_| Error::InvalidInput("source index"))?;
    tx.execute(
        "INSERT INTO tally_tasks (election, source_index) VALUES (?1, ?2)",
        params![election, source],
    )?;
    for (batch, b) in task.batches.iter().enumerate() {
        let ballots = i64::try_from(b.ballots).map_err(|_| Error::InvalidInput("ballots"))?;
        tx.execute(
            "INSERT INTO tally_batches (election, batch, contest, ciphertexts, ballots, width)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                election,
                i64::try_from(batch).map_err(|_| Error::InvalidInput("batch"))?,
                b.contest,
                b.ciphertexts.concat(),
                ballots,
                b.width
            ],
        )?;
    }
    Ok(())
}

fn read_partial(
    conn: &Connection,
    election: &str,
    batch: u32,
    trustee: u32,
) -> Result<Option<StoredPartial>> {
    Ok(conn
        .prepare_cached(
            "SELECT partial, signature FROM partial_decryptions
             WHERE election = ?1 AND batch = ?2 AND trustee = ?3",
        )?
        .query_row(params![election, batch, trustee], |r| {
            Ok(StoredPartial {
                trustee,
                batch,
                partial: r.get(0)?,
                signature: r.get(1)?,
            })
        })
        .optional()?)
}

impl TallyStore for SqliteStore {
    async fn init_tally_config(&self, election: &str, config: TallyConfig) -> Result<TallyConfig> {
        let id = election.to_owned();
        self.write(move |tx| {
            if let Some(stored) = read_config(tx, &id)? {
                return Ok(stored);
            }
            require(tx, &id, ElectionState::Draft)?;
            if config.threshold == 0 || config.threshold > config.trustees {
                return Err(Error::InvalidInput(
                    "threshold must be 1 to the trustee count",
                ));
            }
            tx.execute(
                "INSERT INTO tally_configs (election, trustees, threshold) VALUES (?1, ?2, ?3)",
                params![id, config.trustees, config.threshold],
            )?;
            Ok(config)
        })
        .await
    }

    async fn tally_config(&self, election: &str) -> Result<Option<TallyConfig>> {
        let id = election.to_owned();
        self.read(move |c| {
            state_of(c, &id)?;
            read_config(c, &id)
        })
        .await
    }

    async fn register_trustee(&self, election: &str, trustee: TrusteeKeys) -> Result<Written> {
        let id = election.to_owned();
        self.write(move |tx| {
            require(tx, &id, ElectionState::Draft)?;
            if trustee.index == 0 {
                return Err(Error::InvalidInput("trustee index"));
            }
            let existing = read_trustee(tx, &id, trustee.index)?;
            write_once(existing, &trustee, || {
                tx.execute(
                    "INSERT INTO trustees (election, idx, name, signing_key, encryption_key)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        id,
                        trustee.index,
                        trustee.name,
                        &trustee.signing_key[..],
                        &trustee.encryption_key[..]
                    ],
                )?;
                Ok(())
            })
        })
        .await
    }

    async fn trustees(&self, election: &str) -> Result<Vec<TrusteeKeys>> {
        let id = election.to_owned();
        self.read(move |c| {
            state_of(c, &id)?;
            read_each(
                c,
                &id,
                "SELECT idx FROM trustees WHERE election = ?1 ORDER BY idx",
                read_trustee,
            )
        })
        .await
    }

    async fn ceremony_phase(&self, election: &str) -> Result<CeremonyPhase> {
        let id = election.to_owned();
        self.read(move |c| {
            state_of(c, &id)?;
            read_phase(c, &id)
        })
        .await
    }

    async fn advance_ceremony(
        &self,
        election: &str,
        from: CeremonyPhase,
        to: CeremonyPhase,
    ) -> Result<bool> {
        let id = election.to_owned();
        self.write(move |tx| {
            state_of(tx, &id)?;
            if read_phase(tx, &id)? != from {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO ceremony_phases (election, phase) VALUES (?1, ?2)
                 ON CONFLICT (election) DO UPDATE SET phase = excluded.phase",
                params![id, to.name()],
            )?;
            Ok(true)
        })
        .await
    }

    async fn add_dealing(&self, election: &str, dealing: StoredDealing) -> Result<Written> {
        let id = election.to_owned();
        self.write(move |tx| {
            state_of(tx, &id)?;
            let existing = read_dealing(tx, &id, dealing.dealer)?;
            write_once(existing, &dealing, || {
                tx.execute(
                    "INSERT INTO dealings (election, dealer, dealing, signature)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![id, dealing.dealer, dealing.dealing, dealing.signature],
                )?;
                for (recipient, sealed) in (1u32..).zip(&dealing.shares) {
                    tx.execute(
                        "INSERT INTO sealed_shares (election, dealer, recipient, sealed)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![id, dealing.dealer, recipient, sealed],
                    )?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn dealings(&self, election: &str) -> Result<Vec<StoredDealing>> {
        let id = election.to_owned();
        self.read(move |c| {
            state_of(c, &id)?;
            read_each(
                c,
                &id,
                "SELECT dealer FROM dealings WHERE election = ?1 ORDER BY dealer",
                read_dealing,
            )
        })
        .await
    }

    async fn add_ceremony_record(&self, election: &str, record: CeremonyRecord) -> Result<Written> {
        let id = election.to_owned();
        self.write(move |tx| {
            state_of(tx, &id)?;
            let existing = tx
                .prepare_cached(
                    "SELECT trustee, record, signature FROM ceremony_records
                     WHERE election = ?1 AND kind = ?2 AND key = ?3",
                )?
                .query_row(params![id, record.kind.name(), record.key], |r| {
                    Ok(CeremonyRecord {
                        kind: record.kind,
                        key: record.key.clone(),
                        trustee: r.get(0)?,
                        record: r.get(1)?,
                        signature: r.get(2)?,
                    })
                })
                .optional()?;
            write_once(existing, &record, || {
                tx.execute(
                    "INSERT INTO ceremony_records (election, kind, key, trustee, record, signature)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        id,
                        record.kind.name(),
                        record.key,
                        record.trustee,
                        record.record,
                        record.signature
                    ],
                )?;
                Ok(())
            })
        })
        .await
    }

    async fn ceremony_records(
        &self,
        election: &str,
        kind: RecordKind,
    ) -> Result<Vec<CeremonyRecord>> {
        let id = election.to_owned();
        self.read(move |c| {
            state_of(c, &id)?;
            Ok(c.prepare_cached(
                "SELECT key, trustee, record, signature FROM ceremony_records
                 WHERE election = ?1 AND kind = ?2 ORDER BY seq",
            )?
            .query_map(params![id, kind.name()], |r| {
                Ok(CeremonyRecord {
                    kind,
                    key: r.get(0)?,
                    trustee: r.get(1)?,
                    record: r.get(2)?,
                    signature: r.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn set_tally_task(&self, election: &str, task: TallyTask) -> Result<Written> {
        let id = election.to_owned();
        self.write(move |tx| {
            require(tx, &id, ElectionState::Closed)?;
            let existing = read_task(tx, &id)?;
            write_once(existing, &task, || insert_task(tx, &id, &task))
        })
        .await
    }

    async fn tally_task(&self, election: &str) -> Result<Option<TallyTask>> {
        let id = election.to_owned();
        self.read(move |c| {
            state_of(c, &id)?;
            read_task(c, &id)
        })
        .await
    }

    async fn add_partial(&self, election: &str, partial: StoredPartial) -> Result<Written> {
        let id = election.to_owned();
        self.write(move |tx| {
            state_of(tx, &id)?;
            let batch_exists = tx
                .prepare_cached("SELECT 1 FROM tally_batches WHERE election = ?1 AND batch = ?2")?
                .exists(params![id, partial.batch])?;
            if !batch_exists {
                return Err(Error::InvalidInput("no such decryption batch"));
            }
            let existing = read_partial(tx, &id, partial.batch, partial.trustee)?;
            write_once(existing, &partial, || {
                tx.execute(
                    "INSERT INTO partial_decryptions (election, batch, trustee, partial, signature)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        id,
                        partial.batch,
                        partial.trustee,
                        partial.partial,
                        partial.signature
                    ],
                )?;
                Ok(())
            })
        })
        .await
    }

    async fn partials(&self, election: &str, batch: u32) -> Result<Vec<StoredPartial>> {
        let id = election.to_owned();
        self.read(move |c| {
            state_of(c, &id)?;
            Ok(c.prepare_cached(
                "SELECT trustee, partial, signature FROM partial_decryptions
                 WHERE election = ?1 AND batch = ?2 ORDER BY seq",
            )?
            .query_map(params![id, batch], |r| {
                Ok(StoredPartial {
                    trustee: r.get(0)?,
                    batch,
                    partial: r.get(1)?,
                    signature: r.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}
