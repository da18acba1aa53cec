//! The voter's anonymous credential: a key the device made, blind-signed by auth. It
//! can be saved so that the same credential re-casts (re-voting `last-counts`) or
//! retries a cast whose answer was lost.

use core::fmt;

use urna_crypto::encoding::{Decoder, Encoder};
use urna_crypto::{
    Credential, CredentialPublicKey, CredentialSecret, MessageRandomizer, RsaSignature,
};
use zeroize::Zeroizing;

use crate::error::Error;

/// The domain tag of a saved credential.
const SAVED_TAG: &str = "urna/v1/sdk-credential";

/// Longest style id (as in ballots and credential messages).
const MAX_STYLE_LEN: usize = 64;

/// Longest RSA signature (RSA-4096).
const MAX_SIGNATURE_LEN: usize = 512;

/// A credential with its secret key, for one election and ballot style.
pub struct VoterCredential {
    pub(crate) election: [u8; 32],
    pub(crate) style: String,
    pub(crate) secret: CredentialSecret,
    pub(crate) credential: Credential,
}

impl VoterCredential {
    /// The election fingerprint the credential is for.
    pub fn election(&self) -> &[u8; 32] {
        &self.election
    }

    /// The ballot style id it is for.
    pub fn style(&self) -> &str {
        &self.style
    }

    /// The public credential (key, auth's signature and its randomizer).
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// The encoding to save, secret key included: keep it private (a file of mode
    /// 0600); whoever has it can cast this voter's ballot. Wiped when dropped.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut enc = Encoder::new();
        enc.str(SAVED_TAG)
            .fixed(&self.election)
            .str(&self.style)
            .fixed(self.secret.to_bytes().as_slice())
            .bytes(self.credential.signature.as_bytes())
            .fixed(self.credential.randomizer.as_bytes());
        Zeroizing::new(enc.finish())
    }

    /// Restores a saved credential; the secret key must match the credential's key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let malformed = |_| Error::Config("malformed saved credential");
        let mut dec = Decoder::new(bytes);
        if dec.str(SAVED_TAG.len()).map_err(malformed)? != SAVED_TAG {
            return Err(Error::Config("malformed saved credential"));
        }
        let election = dec.array().map_err(malformed)?;
        let style = dec.str(MAX_STYLE_LEN).map_err(malformed)?.to_owned();
        let seed = Zeroizing::new(dec.array::<32>().map_err(malformed)?);
        let signature =
            RsaSignature::from_bytes(dec.bytes(MAX_SIGNATURE_LEN).map_err(malformed)?.to_vec());
        let randomizer = MessageRandomizer::from_bytes(dec.array().map_err(malformed)?);
        dec.finish().map_err(malformed)?;
        let secret = CredentialSecret::from_bytes(&seed);
        let key: CredentialPublicKey = secret.public_key();
        Ok(Self {
            election,
            style,
            secret,
            credential: Credential {
                key,
                signature,
                randomizer,
            },
        })
    }
}

impl fmt::Debug for VoterCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VoterCredential")
            .field("style", &self.style)
            .field("key", &self.credential.key)
            .finish_non_exhaustive()
    }
}
