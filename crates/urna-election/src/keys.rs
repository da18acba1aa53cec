//! The election's public keys, as published on the board (entry 1, kind
//! `KeyCeremony`): the joint key ballots are encrypted to, the auth tier's blind
//! signing key that certifies credentials, the key that signs ballot styles, and the
//! board's checkpoint key. Encoding in docs/protocol.md §3.4.

use urna_crypto::DecodeError;
use urna_crypto::encoding::{Decoder, Encoder};

use crate::style::StyleError;

/// Domain tag that starts the record (and tells it apart from the key-ceremony
/// transcripts that share its entry kind).
pub const KEYS_TAG: &str = "urna/v1/election-keys";

/// The longest auth key (SubjectPublicKeyInfo DER) accepted: RSA-4096 fits.
pub const MAX_AUTH_KEY_LEN: usize = 1024;

/// The longest board verifier key string accepted.
pub const MAX_BOARD_KEY_LEN: usize = 512;

/// The election's public keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElectionKeys {
    /// The joint ElGamal key K (Ristretto255 encoding).
    pub joint_key: [u8; 32],
    /// The auth tier's RSA blind-signing key, SubjectPublicKeyInfo DER.
    pub auth_key: Vec<u8>,
    /// The Ed25519 key that signs ballot styles.
    pub style_key: [u8; 32],
    /// The board's checkpoint key, as a C2SP signed-note verifier key string.
    pub board_key: String,
}

impl ElectionKeys {
    /// The canonical encoding.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut enc = Encoder::new();
        enc.str(KEYS_TAG)
            .fixed(&self.joint_key)
            .bytes(&self.auth_key)
            .fixed(&self.style_key)
            .str(&self.board_key);
        enc.finish()
    }

    /// Decodes the canonical encoding.
    ///
    /// # Errors
    /// [`StyleError::Malformed`] for anything else.
    pub fn decode(bytes: &[u8]) -> Result<Self, StyleError> {
        let malformed = |source| StyleError::Malformed {
            what: "election keys",
            source,
        };
        let mut dec = Decoder::new(bytes);
        if dec.str(KEYS_TAG.len()).map_err(malformed)? != KEYS_TAG {
            return Err(malformed(DecodeError::Tag));
        }
        let keys = Self {
            joint_key: dec.array().map_err(malformed)?,
            auth_key: dec.bytes(MAX_AUTH_KEY_LEN).map_err(malformed)?.to_vec(),
            style_key: dec.array().map_err(malformed)?,
            board_key: dec.str(MAX_BOARD_KEY_LEN).map_err(malformed)?.to_owned(),
        };
        dec.finish().map_err(malformed)?;
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> ElectionKeys {
        ElectionKeys {
            joint_key: [1; 32],
            auth_key: vec![2; 294],
            style_key: [3; 32],
            board_key: "urna.local/e+01020304+AQID".to_owned(),
        }
    }

    #[test]
    fn round_trips_and_refuses_anything_else() {
        let bytes = keys().encode();
        assert_eq!(ElectionKeys::decode(&bytes).unwrap(), keys());
        let mut long = bytes.clone();
        long.push(0);
        assert!(ElectionKeys::decode(&long).is_err());
        for cut in [0, 3, 30, bytes.len() - 1] {
            assert!(ElectionKeys::decode(&bytes[..cut]).is_err());
        }
        let mut tag = bytes;
        tag[4] ^= 1;
        assert!(ElectionKeys::decode(&tag).is_err());
    }
}
