//! [`ElectionStore`] on PostgreSQL.

use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::Row;
use urna_election::{Manifest, Revoting};

use super::{PgStore, all, exec, one, opt, state_locked, state_of, to_32};
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

fn to_record(row: &Row) -> Result<ElectionRecord> {
    let state: &str = row.try_get(5)?;
    Ok(ElectionRecord {
        id: row.try_get(0)?,
        fingerprint: to_32(row.try_get(1)?)?,
        manifest: row.try_get(2)?,
        source: row.try_get(3)?,
        revoting: revoting_from(row.try_get(4)?)?,
        state: ElectionState::from_name(state).ok_or_else(|| Error::corrupt("election state"))?,
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

async fn apply(tx: &Transaction<'_>, m: &Applying) -> Result<Applied> {
    let fingerprint = &m.fingerprint[..];
    // The primary key decides who creates the election; everyone else finds it and
    // holds its row for the rest of the transaction.
    let created = exec(
        tx,
        "INSERT INTO elections (id, fingerprint, manifest, source, revoting, state)
         VALUES ($1, $2, $3, $4, $5, 'draft') ON CONFLICT (id) DO NOTHING",
        &[&m.id, &fingerprint, &m.canonical, &m.source, &m.revoting],
    )
    .await?;
    let outcome = if created == 1 {
        Applied::Created
    } else {
        let row = one(
            tx,
            "SELECT fingerprint, state FROM elections WHERE id = $1 FOR UPDATE",
            &[&m.id],
        )
        .await?;
        let (stored, state): (&[u8], &str) = (row.try_get(0)?, row.try_get(1)?);
        if stored == fingerprint {
            return Ok(Applied::Unchanged);
        }
        if state != ElectionState::Draft.name() {
            return Err(Error::Conflict(Conflict::ManifestChanged));
        }
        exec(
            tx,
            "UPDATE elections SET fingerprint = $2, manifest = $3, source = $4, revoting = $5,
                 updated_at = now() WHERE id = $1",
            &[&m.id, &fingerprint, &m.canonical, &m.source, &m.revoting],
        )
        .await?;
        let dropped = all(
            tx,
            "SELECT style, EXISTS (SELECT 1 FROM voters v
                                   WHERE v.election = s.election AND v.style = s.style)
             FROM styles s WHERE election = $1 AND NOT (style = ANY ($2))",
            &[&m.id, &m.styles],
        )
        .await?;
        for row in &dropped {
            let (style, used): (&str, bool) = (row.try_get(0)?, row.try_get(1)?);
            if used {
                return Err(Error::Conflict(Conflict::StyleInUse));
            }
            exec(
                tx,
                "DELETE FROM styles WHERE election = $1 AND style = $2",
                &[&m.id, &style],
            )
            .await?;
        }
        Applied::Replaced
    };
    exec(
        tx,
        "INSERT INTO styles (election, style) SELECT $1, unnest($2::text[])
         ON CONFLICT DO NOTHING",
        &[&m.id, &m.styles],
    )
    .await?;
    Ok(outcome)
}

async fn transition(
    tx: &Transaction<'_>,
    id: &str,
    from: ElectionState,
    to: ElectionState,
) -> Result<()> {
    // The update waits for every write holding the row FOR SHARE (a cast, an
    // issuance) and makes new ones wait for this transaction.
    let changed = exec(
        tx,
        "UPDATE elections SET state = $3, updated_at = now() WHERE id = $1 AND state = $2",
        &[&id, &from.name(), &to.name()],
    )
    .await?;
    if changed == 0 {
        return Err(Error::WrongState {
            actual: state_of(tx, id).await?,
            needed: from.name(),
        });
    }
    if to == ElectionState::Open {
        // Every nullifier so far belongs to a Test ballot; foreign keys are checked
        // at the end of each statement, so the ballots' chains go in one delete.
        exec(tx, "DELETE FROM nullifiers WHERE election = $1", &[&id]).await?;
        exec(
            tx,
            "DELETE FROM ballots WHERE election = $1 AND phase = 'test'",
            &[&id],
        )
        .await?;
        exec(
            tx,
            "DELETE FROM spoiled WHERE election = $1 AND phase = 'test'",
            &[&id],
        )
        .await?;
        exec(
            tx,
            "DELETE FROM entry_outbox WHERE election = $1 AND phase = 'test'",
            &[&id],
        )
        .await?;
    }
    Ok(())
}

async fn record_results(tx: &Transaction<'_>, id: &str, data: &[u8]) -> Result<()> {
    let actual = state_locked(tx, id).await?;
    if actual != ElectionState::Closed {
        return Err(Error::WrongState {
            actual,
            needed: "closed",
        });
    }
    exec(
        tx,
        "INSERT INTO results (election, data) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[&id, &data],
    )
    .await?;
    let row = one(tx, "SELECT data FROM results WHERE election = $1", &[&id]).await?;
    let stored: &[u8] = row.try_get(0)?;
    if stored == data {
        Ok(())
    } else {
        Err(Error::Conflict(Conflict::Results))
    }
}

async fn election<C: GenericClient>(c: &C, id: &str) -> Result<Option<ElectionRecord>> {
    opt(
        c,
        &format!("SELECT {COLUMNS} FROM elections WHERE id = $1"),
        &[&id],
    )
    .await?
    .as_ref()
    .map(to_record)
    .transpose()
}

impl ElectionStore for PgStore {
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
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let applied = apply(&tx, &m).await?;
        tx.commit().await?;
        Ok(applied)
    }

    async fn election(&self, id: &str) -> Result<Option<ElectionRecord>> {
        election(&self.client().await?, id).await
    }

    async fn elections(&self) -> Result<Vec<ElectionRecord>> {
        let client = self.client().await?;
        all(
            &client,
            &format!("SELECT {COLUMNS} FROM elections ORDER BY id"),
            &[],
        )
        .await?
        .iter()
        .map(to_record)
        .collect()
    }

    async fn transition(&self, id: &str, from: ElectionState, to: ElectionState) -> Result<()> {
        if !from.can_become(to) {
            return Err(Error::InvalidInput("not a lifecycle transition"));
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        transition(&tx, id, from, to).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_results(&self, id: &str, results: &[u8]) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        record_results(&tx, id, results).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn results(&self, id: &str) -> Result<Option<Vec<u8>>> {
        let client = self.client().await?;
        state_of(&client, id).await?;
        opt(
            &client,
            "SELECT data FROM results WHERE election = $1",
            &[&id],
        )
        .await?
        .map(|row| Ok(row.try_get(0)?))
        .transpose()
    }
}
