//! An election's public keys, derived from its stored secrets and joint key: what
//! board genesis records (entry 1) and what the election context caches.

use ed25519_dalek::SigningKey;
use urna_board::{NoteSigner, NoteVerifier};
use urna_crypto::BlindSigningKey;
use urna_election::ElectionKeys;
use urna_store::{ElectionSecrets, JointKey, KeyStore, Phase};

use crate::error::Error;

/// The origin of an election's board: `<public name>/<election id>`, with `/test`
/// appended for the Test phase's board.
pub(crate) fn origin(public_name: &str, election: &str, phase: Phase) -> String {
    match phase {
        Phase::Open => format!("{public_name}/{election}"),
        Phase::Test => format!("{public_name}/{election}/test"),
    }
}

/// The election's secrets and joint key, both required.
pub(crate) async fn load<S: KeyStore>(
    store: &S,
    election: &str,
) -> Result<(ElectionSecrets, JointKey), Error> {
    let secrets = store.secrets(election).await?.ok_or(Error::NoKeys)?;
    let joint = store.joint_key(election).await?.ok_or(Error::NoKeys)?;
    Ok((secrets, joint))
}

/// The board's checkpoint signer for `origin`.
pub(crate) fn board_signer(secrets: &ElectionSecrets, origin: &str) -> Result<NoteSigner, Error> {
    NoteSigner::from_seed(origin, secrets.board_seed())
        .map_err(|_| Error::Corrupt("board origin or key"))
}

/// The public keys, with the board key of the board they describe.
pub(crate) fn election_keys(
    secrets: &ElectionSecrets,
    joint: &JointKey,
    board: &NoteVerifier,
) -> Result<ElectionKeys, Error> {
    let auth = BlindSigningKey::from_der(secrets.auth_key_der())
        .and_then(|key| key.verifying_key())
        .and_then(|key| key.to_der())
        .map_err(|_| Error::Corrupt("auth key"))?;
    Ok(ElectionKeys {
        joint_key: joint.key,
        auth_key: auth,
        style_key: SigningKey::from_bytes(secrets.style_seed())
            .verifying_key()
            .to_bytes(),
        board_key: board.to_string(),
    })
}
