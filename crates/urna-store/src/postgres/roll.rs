//! [`RollStore`] on PostgreSQL.

use deadpool_postgres::Transaction;

use super::{PgStore, all, exec, one, opt, state_locked, state_of, to_32, to_u64};
use crate::code::{CodeHash, CodeParams};
use crate::election::ElectionState;
use crate::error::{Conflict, Error, Missing, Result};
use crate::roll::{Issuance, Issued, RollEntry, RollStore, Voter, blinded_hash};

/// The longest voter id, in bytes.
const MAX_VOTER_LEN: usize = 256;

/// The import as columns, for one `unnest` insert.
#[derive(Default)]
struct Columns {
    voters: Vec<String>,
    styles: Vec<String>,
    m: Vec<i64>,
    t: Vec<i64>,
    p: Vec<i64>,
    salts: Vec<Vec<u8>>,
    hashes: Vec<Vec<u8>>,
}

async fn import(tx: &Transaction<'_>, election: &str, entries: Vec<RollEntry>) -> Result<u64> {
    let actual = state_locked(tx, election).await?;
    if !matches!(actual, ElectionState::Draft | ElectionState::Test) {
        return Err(Error::WrongState {
            actual,
            needed: "draft or test",
        });
    }
    let known: Vec<String> = all(
        tx,
        "SELECT style FROM styles WHERE election = $1",
        &[&election],
    )
    .await?
    .iter()
    .map(|r| r.try_get(0))
    .collect::<Result<_, _>>()?;
    let mut c = Columns::default();
    for e in entries {
        if e.voter.is_empty() || e.voter.len() > MAX_VOTER_LEN {
            return Err(Error::InvalidInput("voter id must be 1 to 256 bytes"));
        }
        if !known.contains(&e.style) {
            return Err(Error::InvalidInput("unknown ballot style"));
        }
        let p = e.code.params();
        c.m.push(p.memory_kib().into());
        c.t.push(p.iterations().into());
        c.p.push(p.lanes().into());
        c.salts.push(e.code.salt().to_vec());
        c.hashes.push(e.code.hash().to_vec());
        c.voters.push(e.voter);
        c.styles.push(e.style);
    }
    // One statement for the whole roll; a voter already on it, or named twice, adds
    // one row fewer than asked, and the transaction rolls back.
    let added = exec(
        tx,
        "INSERT INTO voters (election, voter, style, code_m_kib, code_t, code_p, code_salt, code_hash)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[],
                                  $6::bigint[], $7::bytea[], $8::bytea[])
         ON CONFLICT DO NOTHING",
        &[
            &election, &c.voters, &c.styles, &c.m, &c.t, &c.p, &c.salts, &c.hashes,
        ],
    )
    .await?;
    if added != c.voters.len() as u64 {
        return Err(Error::Conflict(Conflict::VoterExists));
    }
    Ok(added)
}

async fn issue(
    tx: &Transaction<'_>,
    election: &str,
    voter: &str,
    hash: [u8; 32],
    signature: &[u8],
) -> Result<Issued> {
    let actual = state_locked(tx, election).await?;
    if !matches!(actual, ElectionState::Test | ElectionState::Open) {
        return Err(Error::WrongState {
            actual,
            needed: "test or open",
        });
    }
    let on_roll = opt(
        tx,
        "SELECT 1 FROM voters WHERE election = $1 AND voter = $2",
        &[&election, &voter],
    )
    .await?;
    if on_roll.is_none() {
        return Err(Error::NotFound(Missing::Voter));
    }
    // The primary key (election, voter) decides: one issuance per voter. A racing
    // issuer waits here for the first to commit, then adds nothing.
    let hash = &hash[..];
    let added = exec(
        tx,
        "INSERT INTO issuances (election, voter, blinded_hash, signature)
         VALUES ($1, $2, $3, $4) ON CONFLICT (election, voter) DO NOTHING",
        &[&election, &voter, &hash, &signature],
    )
    .await?;
    if added == 1 {
        return Ok(Issued::New(signature.to_vec()));
    }
    let row = one(
        tx,
        "SELECT blinded_hash, signature FROM issuances WHERE election = $1 AND voter = $2",
        &[&election, &voter],
    )
    .await?;
    let stored: &[u8] = row.try_get(0)?;
    if stored == hash {
        Ok(Issued::Repeat(row.try_get(1)?))
    } else {
        Err(Error::Conflict(Conflict::CredentialIssued))
    }
}

impl RollStore for PgStore {
    async fn import_roll(&self, election: &str, entries: Vec<RollEntry>) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let added = import(&tx, election, entries).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn voter(&self, election: &str, voter: &str) -> Result<Option<(Voter, CodeHash)>> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        let Some(row) = opt(
            &client,
            "SELECT style, code_m_kib, code_t, code_p, code_salt, code_hash
             FROM voters WHERE election = $1 AND voter = $2",
            &[&election, &voter],
        )
        .await?
        else {
            return Ok(None);
        };
        let param = |i| -> Result<u32> {
            u32::try_from(row.try_get::<_, i64>(i)?).map_err(|_| Error::corrupt("code params"))
        };
        let params = CodeParams::new(param(1)?, param(2)?, param(3)?)
            .map_err(|_| Error::corrupt("code params"))?;
        let code = CodeHash::from_parts(params, row.try_get(4)?, row.try_get(5)?)
            .map_err(|_| Error::corrupt("code hash"))?;
        let voter = Voter {
            id: voter.to_owned(),
            style: row.try_get(0)?,
        };
        Ok(Some((voter, code)))
    }

    async fn roll_size(&self, election: &str) -> Result<u64> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        let row = one(
            &client,
            "SELECT count(*) FROM voters WHERE election = $1",
            &[&election],
        )
        .await?;
        to_u64(row.try_get(0)?)
    }

    async fn record_issuance(
        &self,
        election: &str,
        voter: &str,
        blinded_message: &[u8],
        signature: &[u8],
    ) -> Result<Issued> {
        if signature.is_empty() {
            return Err(Error::InvalidInput("empty signature"));
        }
        let hash = blinded_hash(blinded_message);
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let issued = issue(&tx, election, voter, hash, signature).await?;
        tx.commit().await?;
        Ok(issued)
    }

    async fn issuance(&self, election: &str, voter: &str) -> Result<Option<Issuance>> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        opt(
            &client,
            "SELECT blinded_hash, signature FROM issuances WHERE election = $1 AND voter = $2",
            &[&election, &voter],
        )
        .await?
        .map(|row| {
            Ok(Issuance {
                blinded_hash: to_32(row.try_get(0)?)?,
                signature: row.try_get(1)?,
            })
        })
        .transpose()
    }

    async fn credentials_issued(&self, election: &str) -> Result<u64> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        let row = one(
            &client,
            "SELECT count(*) FROM issuances WHERE election = $1",
            &[&election],
        )
        .await?;
        to_u64(row.try_get(0)?)
    }
}
