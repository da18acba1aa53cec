//! An election's keys: the secrets generated when it is created, and the joint
//! encryption key its key ceremony produced.
//!
//! The secrets are the auth tier's RSA blind-signing key, the seed of the Ed25519 key
//! that signs ballot styles, and the seed of the board's checkpoint key. They are
//! stored once and never replaced, so every replica signs with the same keys. The
//! joint key may be recorded only while the election is in Draft: nothing can be
//! encrypted before it exists, and it can never change afterwards.

use std::fmt;
use std::future::Future;

use zeroize::Zeroizing;

use crate::error::Result;

/// An election's secret keys (secret): redacted `Debug`, zeroized on drop.
pub struct ElectionSecrets {
    auth_key: Zeroizing<Vec<u8>>,
    style_seed: Zeroizing<[u8; 32]>,
    board_seed: Zeroizing<[u8; 32]>,
}

impl ElectionSecrets {
    /// Bundles the auth tier's RSA private key (PKCS#8 DER, as
    /// `urna_crypto::BlindSigningKey::to_der` writes it), the style key's seed and the
    /// board key's seed.
    #[must_use]
    pub fn new(auth_key_der: Vec<u8>, style_seed: [u8; 32], board_seed: [u8; 32]) -> Self {
        Self {
            auth_key: Zeroizing::new(auth_key_der),
            style_seed: Zeroizing::new(style_seed),
            board_seed: Zeroizing::new(board_seed),
        }
    }

    /// The auth tier's RSA private key, DER.
    #[must_use]
    pub fn auth_key_der(&self) -> &[u8] {
        &self.auth_key
    }

    /// The seed of the Ed25519 key that signs ballot styles.
    #[must_use]
    pub fn style_seed(&self) -> &[u8; 32] {
        &self.style_seed
    }

    /// The seed of the board's Ed25519 checkpoint key.
    #[must_use]
    pub fn board_seed(&self) -> &[u8; 32] {
        &self.board_seed
    }
}

impl fmt::Debug for ElectionSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ElectionSecrets").finish_non_exhaustive()
    }
}

/// The joint encryption key and the key-ceremony record it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JointKey {
    /// The joint ElGamal key K (Ristretto255 encoding).
    pub key: [u8; 32],
    /// The ceremony's public record, as encoded by its producer (empty if none).
    pub ceremony: Vec<u8>,
}

/// An election's keys.
pub trait KeyStore: Send + Sync {
    /// Stores the secrets if the election has none, and returns the election's
    /// secrets: these, or the ones stored first (write-once, so concurrent creators
    /// agree).
    fn init_secrets(
        &self,
        election: &str,
        secrets: ElectionSecrets,
    ) -> impl Future<Output = Result<ElectionSecrets>> + Send;

    /// The election's secrets, if generated.
    fn secrets(
        &self,
        election: &str,
    ) -> impl Future<Output = Result<Option<ElectionSecrets>>> + Send;

    /// Records the joint key, in Draft only ([`Error::WrongState`](crate::Error)
    /// otherwise); the same record again is a no-op, a different one is
    /// [`Conflict::JointKey`](crate::Conflict).
    fn set_joint_key(
        &self,
        election: &str,
        key: JointKey,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The joint key, if the ceremony is done.
    fn joint_key(&self, election: &str) -> impl Future<Output = Result<Option<JointKey>>> + Send;
}
