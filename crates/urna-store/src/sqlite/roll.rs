//! [`RollStore`] on SQLite.

use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, state_of, to_32, to_u64};
use crate::code::{CodeHash, CodeParams};
use crate::election::ElectionState;
use crate::error::{Conflict, Error, Missing, Result};
use crate::roll::{Issuance, Issued, RollEntry, RollStore, Voter, blinded_hash};

/// The longest voter id, in bytes.
const MAX_VOTER_LEN: usize = 256;

/// A `voters` row as read: style, Argon2 m, t, p, salt, hash.
type RawVoter = (String, u32, u32, u32, Vec<u8>, Vec<u8>);

fn import(tx: &Connection, election: &str, entries: &[RollEntry]) -> Result<u64> {
    let actual = state_of(tx, election)?;
    if !matches!(actual, ElectionState::Draft | ElectionState::Test) {
        return Err(Error::WrongState {
            actual,
            needed: "draft or test",
        });
    }
    let mut style_known = tx.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM styles WHERE election = ?1 AND style = ?2)",
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO voters (election, voter, style, code_m_kib, code_t, code_p, code_salt, code_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
    )?;
    for e in entries {
        if e.voter.is_empty() || e.voter.len() > MAX_VOTER_LEN {
            return Err(Error::InvalidInput("voter id must be 1 to 256 bytes"));
        }
        if !style_known.query_row(params![election, e.style], |r| r.get::<_, bool>(0))? {
            return Err(Error::InvalidInput("unknown ballot style"));
        }
        let p = e.code.params();
        let added = insert.execute(params![
            election,
            e.voter,
            e.style,
            p.memory_kib(),
            p.iterations(),
            p.lanes(),
            e.code.salt(),
            e.code.hash(),
        ])?;
        if added == 0 {
            return Err(Error::Conflict(Conflict::VoterExists));
        }
    }
    Ok(entries.len() as u64)
}

fn issue(
    tx: &Connection,
    election: &str,
    voter: &str,
    hash: [u8; 32],
    signature: Vec<u8>,
) -> Result<Issued> {
    let actual = state_of(tx, election)?;
    if !matches!(actual, ElectionState::Test | ElectionState::Open) {
        return Err(Error::WrongState {
            actual,
            needed: "test or open",
        });
    }
    let on_roll: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM voters WHERE election = ?1 AND voter = ?2)",
        params![election, voter],
        |r| r.get(0),
    )?;
    if !on_roll {
        return Err(Error::NotFound(Missing::Voter));
    }
    // The primary key (election, voter) decides: one issuance per voter.
    let added = tx.execute(
        "INSERT INTO issuances (election, voter, blinded_hash, signature)
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (election, voter) DO NOTHING",
        params![election, voter, hash, signature],
    )?;
    if added == 1 {
        return Ok(Issued::New(signature));
    }
    let (stored_hash, stored_sig): (Vec<u8>, Vec<u8>) = tx.query_row(
        "SELECT blinded_hash, signature FROM issuances WHERE election = ?1 AND voter = ?2",
        params![election, voter],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if stored_hash == hash {
        Ok(Issued::Repeat(stored_sig))
    } else {
        Err(Error::Conflict(Conflict::CredentialIssued))
    }
}

fn count(c: &Connection, election: &str, sql: &str) -> Result<u64> {
    state_of(c, election)?;
    to_u64(c.prepare_cached(sql)?.query_row([election], |r| r.get(0))?)
}

impl RollStore for SqliteStore {
    async fn import_roll(&self, election: &str, entries: Vec<RollEntry>) -> Result<u64> {
        let election = election.to_owned();
        self.write(move |tx| import(tx, &election, &entries)).await
    }

    async fn voter(&self, election: &str, voter: &str) -> Result<Option<(Voter, CodeHash)>> {
        let (election, voter) = (election.to_owned(), voter.to_owned());
        self.read(move |c| {
            state_of(c, &election)?;
            let row: Option<RawVoter> = c
                .prepare_cached(
                    "SELECT style, code_m_kib, code_t, code_p, code_salt, code_hash
                     FROM voters WHERE election = ?1 AND voter = ?2",
                )?
                .query_row(params![election, voter], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })
                .optional()?;
            let Some((style, m, t, p, salt, hash)) = row else {
                return Ok(None);
            };
            let params = CodeParams::new(m, t, p).map_err(|_| Error::corrupt("code params"))?;
            let code = CodeHash::from_parts(params, &salt, &hash)
                .map_err(|_| Error::corrupt("code hash"))?;
            Ok(Some((Voter { id: voter, style }, code)))
        })
        .await
    }

    async fn roll_size(&self, election: &str) -> Result<u64> {
        let election = election.to_owned();
        self.read(move |c| {
            count(
                c,
                &election,
                "SELECT count(*) FROM voters WHERE election = ?1",
            )
        })
        .await
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
        let (election, voter) = (election.to_owned(), voter.to_owned());
        let (hash, signature) = (blinded_hash(blinded_message), signature.to_vec());
        self.write(move |tx| issue(tx, &election, &voter, hash, signature))
            .await
    }

    async fn issuance(&self, election: &str, voter: &str) -> Result<Option<Issuance>> {
        let (election, voter) = (election.to_owned(), voter.to_owned());
        self.read(move |c| {
            state_of(c, &election)?;
            let row: Option<(Vec<u8>, Vec<u8>)> = c
                .prepare_cached(
                    "SELECT blinded_hash, signature FROM issuances
                     WHERE election = ?1 AND voter = ?2",
                )?
                .query_row(params![election, voter], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            row.map(|(hash, signature)| {
                Ok(Issuance {
                    blinded_hash: to_32(&hash)?,
                    signature,
                })
            })
            .transpose()
        })
        .await
    }

    async fn credentials_issued(&self, election: &str) -> Result<u64> {
        let election = election.to_owned();
        self.read(move |c| {
            count(
                c,
                &election,
                "SELECT count(*) FROM issuances WHERE election = ?1",
            )
        })
        .await
    }
}
