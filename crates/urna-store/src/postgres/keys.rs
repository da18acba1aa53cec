//! [`KeyStore`] on PostgreSQL.

use tokio_postgres::Row;

use super::{PgStore, exec, one, opt, state_locked, state_of, to_32};
use crate::election::ElectionState;
use crate::error::{Conflict, Error, Result};
use crate::keys::{ElectionSecrets, JointKey, KeyStore};

const SELECT_SECRETS: &str =
    "SELECT auth_key, style_seed, board_seed FROM election_secrets WHERE election = $1";

const SELECT_JOINT_KEY: &str = "SELECT joint_key, ceremony FROM joint_keys WHERE election = $1";

fn to_secrets(row: &Row) -> Result<ElectionSecrets> {
    Ok(ElectionSecrets::new(
        row.try_get(0)?,
        to_32(row.try_get(1)?)?,
        to_32(row.try_get(2)?)?,
    ))
}

fn to_joint_key(row: &Row) -> Result<JointKey> {
    Ok(JointKey {
        key: to_32(row.try_get(0)?)?,
        ceremony: row.try_get(1)?,
    })
}

impl KeyStore for PgStore {
    async fn init_secrets(
        &self,
        election: &str,
        secrets: ElectionSecrets,
    ) -> Result<ElectionSecrets> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        state_of(&tx, election).await?;
        // The primary key decides which creator's secrets stand; a racing one waits
        // for the first to commit and then reads its secrets.
        exec(
            &tx,
            "INSERT INTO election_secrets (election, auth_key, style_seed, board_seed)
             VALUES ($1, $2, $3, $4) ON CONFLICT (election) DO NOTHING",
            &[
                &election,
                &secrets.auth_key_der(),
                &&secrets.style_seed()[..],
                &&secrets.board_seed()[..],
            ],
        )
        .await?;
        let stored = to_secrets(&one(&tx, SELECT_SECRETS, &[&election]).await?)?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn secrets(&self, election: &str) -> Result<Option<ElectionSecrets>> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        opt(&client, SELECT_SECRETS, &[&election])
            .await?
            .as_ref()
            .map(to_secrets)
            .transpose()
    }

    async fn set_joint_key(&self, election: &str, key: JointKey) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let state = state_locked(&tx, election).await?;
        if state == ElectionState::Draft {
            exec(
                &tx,
                "INSERT INTO joint_keys (election, joint_key, ceremony) VALUES ($1, $2, $3)
                 ON CONFLICT (election) DO NOTHING",
                &[&election, &&key.key[..], &key.ceremony],
            )
            .await?;
        }
        let stored = opt(&tx, SELECT_JOINT_KEY, &[&election])
            .await?
            .as_ref()
            .map(to_joint_key)
            .transpose()?;
        tx.commit().await?;
        match stored {
            Some(k) if k == key => Ok(()),
            Some(_) => Err(Error::Conflict(Conflict::JointKey)),
            None => Err(Error::WrongState {
                actual: state,
                needed: "draft",
            }),
        }
    }

    async fn joint_key(&self, election: &str) -> Result<Option<JointKey>> {
        let client = self.client().await?;
        state_of(&client, election).await?;
        opt(&client, SELECT_JOINT_KEY, &[&election])
            .await?
            .as_ref()
            .map(to_joint_key)
            .transpose()
    }
}
