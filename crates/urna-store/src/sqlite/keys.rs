//! [`KeyStore`] on SQLite.

use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, state_of, to_32};
use crate::election::ElectionState;
use crate::error::{Conflict, Error, Result};
use crate::keys::{ElectionSecrets, JointKey, KeyStore};

type RawSecrets = (Vec<u8>, Vec<u8>, Vec<u8>);

fn to_secrets((auth, style, board): RawSecrets) -> Result<ElectionSecrets> {
    Ok(ElectionSecrets::new(auth, to_32(&style)?, to_32(&board)?))
}

const SELECT_SECRETS: &str =
    "SELECT auth_key, style_seed, board_seed FROM election_secrets WHERE election = ?1";

impl KeyStore for SqliteStore {
    async fn init_secrets(
        &self,
        election: &str,
        secrets: ElectionSecrets,
    ) -> Result<ElectionSecrets> {
        let id = election.to_owned();
        let raw = self
            .write(move |tx| {
                state_of(tx, &id)?;
                tx.execute(
                    "INSERT INTO election_secrets (election, auth_key, style_seed, board_seed)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (election) DO NOTHING",
                    params![
                        id,
                        secrets.auth_key_der(),
                        &secrets.style_seed()[..],
                        &secrets.board_seed()[..]
                    ],
                )?;
                Ok(tx.query_row(SELECT_SECRETS, [&id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?)
            })
            .await?;
        to_secrets(raw)
    }

    async fn secrets(&self, election: &str) -> Result<Option<ElectionSecrets>> {
        let id = election.to_owned();
        let raw: Option<RawSecrets> = self
            .read(move |c| {
                state_of(c, &id)?;
                Ok(c.prepare_cached(SELECT_SECRETS)?
                    .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()?)
            })
            .await?;
        raw.map(to_secrets).transpose()
    }

    async fn set_joint_key(&self, election: &str, key: JointKey) -> Result<()> {
        let id = election.to_owned();
        self.write(move |tx| {
            let state = state_of(tx, &id)?;
            let existing: Option<(Vec<u8>, Vec<u8>)> = tx
                .query_row(
                    "SELECT joint_key, ceremony FROM joint_keys WHERE election = ?1",
                    [&id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            match existing {
                Some((k, c)) if k == key.key && c == key.ceremony => Ok(()),
                Some(_) => Err(Error::Conflict(Conflict::JointKey)),
                None if state != ElectionState::Draft => Err(Error::WrongState {
                    actual: state,
                    needed: "draft",
                }),
                None => {
                    tx.execute(
                        "INSERT INTO joint_keys (election, joint_key, ceremony) VALUES (?1, ?2, ?3)",
                        params![id, &key.key[..], key.ceremony],
                    )?;
                    Ok(())
                }
            }
        })
        .await
    }

    async fn joint_key(&self, election: &str) -> Result<Option<JointKey>> {
        let id = election.to_owned();
        let raw: Option<(Vec<u8>, Vec<u8>)> = self
            .read(move |c| {
                state_of(c, &id)?;
                Ok(c.prepare_cached(
                    "SELECT joint_key, ceremony FROM joint_keys WHERE election = ?1",
                )?
                .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?)
            })
            .await?;
        raw.map(|(key, ceremony)| {
            Ok(JointKey {
                key: to_32(&key)?,
                ceremony,
            })
        })
        .transpose()
    }
}
