//! Election secrets and joint keys.

use urna_election::Revoting;

use super::election_in;
use crate::election::{ElectionState, ElectionStore};
use crate::error::{Conflict, Error, Missing, Result};
use crate::keys::{ElectionSecrets, JointKey, KeyStore};

/// Secrets are written once: a second writer gets the first secrets back.
pub async fn secrets_are_write_once<S: ElectionStore + KeyStore>(store: &S) -> Result<()> {
    assert!(matches!(
        store.secrets("missing").await,
        Err(Error::NotFound(Missing::Election))
    ));
    election_in(store, "keys", Revoting::Once, ElectionState::Draft).await?;
    assert!(store.secrets("keys").await?.is_none());
    let first = store
        .init_secrets(
            "keys",
            ElectionSecrets::new(vec![1, 2, 3], [4; 32], [5; 32]),
        )
        .await?;
    assert_eq!(first.auth_key_der(), &[1, 2, 3]);
    let second = store
        .init_secrets("keys", ElectionSecrets::new(vec![9], [9; 32], [9; 32]))
        .await?;
    assert_eq!(
        (
            second.auth_key_der(),
            second.style_seed(),
            second.board_seed()
        ),
        (&[1u8, 2, 3][..], &[4; 32], &[5; 32])
    );
    let stored = store.secrets("keys").await?;
    assert_eq!(stored.map(|s| *s.style_seed()), Some([4; 32]));
    Ok(())
}

/// The joint key is set in Draft only, once; the same record again is a no-op.
pub async fn joint_key_is_set_once_in_draft<S: ElectionStore + KeyStore>(store: &S) -> Result<()> {
    election_in(store, "joint", Revoting::Once, ElectionState::Draft).await?;
    assert_eq!(store.joint_key("joint").await?, None);
    let key = JointKey {
        key: [7; 32],
        ceremony: b"transcript".to_vec(),
    };
    store.set_joint_key("joint", key.clone()).await?;
    store.set_joint_key("joint", key.clone()).await?;
    let other = JointKey {
        key: [8; 32],
        ceremony: Vec::new(),
    };
    assert!(matches!(
        store.set_joint_key("joint", other).await,
        Err(Error::Conflict(Conflict::JointKey))
    ));
    assert_eq!(store.joint_key("joint").await?, Some(key));
    election_in(store, "late", Revoting::Once, ElectionState::Test).await?;
    assert!(matches!(
        store
            .set_joint_key(
                "late",
                JointKey {
                    key: [1; 32],
                    ceremony: Vec::new()
                }
            )
            .await,
        Err(Error::WrongState {
            actual: ElectionState::Test,
            ..
        })
    ));
    assert_eq!(store.joint_key("late").await?, None);
    Ok(())
}
