//! RSA blind signatures (RFC 9474, RSABSSA-SHA384-PSS-Randomized), a thin wrapper over
//! the `blind-rsa-signatures` crate.
//!
//! auth holds a [`BlindSigningKey`]; everyone else its [`BlindVerifyingKey`]. The
//! voter's SDK [`blind`](BlindVerifyingKey::blind)s the credential message, auth
//! [`blind_sign`](BlindSigningKey::blind_sign)s it without seeing it, the SDK
//! [`finalize`](BlindVerifyingKey::finalize)s the result into an ordinary RSA-PSS
//! signature, and casting [`verify`](BlindVerifyingKey::verify)s that signature, which
//! auth cannot link to the signing session.

use core::fmt;

use blind_rsa_signatures::{
    BlindingResult, Error as RsaError, KeyPairSha384PSSRandomized, PublicKeySha384PSSRandomized,
    SecretKeySha384PSSRandomized,
};
use rand_core::CryptoRng;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{DecodeError, Error, VerifyError};

/// Length of the message randomizer RFC 9474 prepends to the message.
pub const RANDOMIZER_LEN: usize = 32;

fn rsa_error(error: RsaError) -> Error {
    match error {
        RsaError::VerificationFailed => Error::Verify(VerifyError::BlindSignature),
        RsaError::EncodingError | RsaError::InvalidKey => Error::Decode(DecodeError::Key),
        other => Error::BlindRsa(other.to_string()),
    }
}

/// auth's secret RSA signing key.
pub struct BlindSigningKey(SecretKeySha384PSSRandomized);

impl BlindSigningKey {
    /// A new key with a modulus of `bits` bits (2048 to 4096; 3072 is recommended).
    pub fn generate<R: CryptoRng + ?Sized>(bits: usize, rng: &mut R) -> Result<Self, Error> {
        let pair = KeyPairSha384PSSRandomized::generate(rng, bits).map_err(rsa_error)?;
        Ok(Self(pair.sk))
    }

    /// Imports a PKCS#8 or PKCS#1 DER private key (the key is validated).
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        SecretKeySha384PSSRandomized::from_der(der)
            .map(Self)
            .map_err(rsa_error)
    }

    /// Imports a PKCS#8 or PKCS#1 PEM private key (the key is validated).
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        SecretKeySha384PSSRandomized::from_pem(pem)
            .map(Self)
            .map_err(rsa_error)
    }

    /// Exports the key as PKCS#8 DER; wiped when dropped.
    pub fn to_der(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.0.to_der().map(Zeroizing::new).map_err(rsa_error)
    }

    /// Exports the key as PKCS#8 PEM; wiped when dropped.
    pub fn to_pem(&self) -> Result<Zeroizing<String>, Error> {
        self.0.to_pem().map(Zeroizing::new).map_err(rsa_error)
    }

    /// The public key.
    pub fn verifying_key(&self) -> Result<BlindVerifyingKey, Error> {
        self.0
            .public_key()
            .map(BlindVerifyingKey)
            .map_err(rsa_error)
    }

    /// Signs a blinded message (RFC 9474 `BlindSign`), with `rng` for RSA blinding
    /// against timing attacks. The result is checked before it is returned.
    pub fn blind_sign<R: CryptoRng + ?Sized>(
        &self,
        blinded: &BlindedMessage,
        rng: &mut R,
    ) -> Result<BlindSignature, Error> {
        self.0
            .blind_sign_with_rng(rng, &blinded.0)
            .map(|signature| BlindSignature(signature.0))
            .map_err(rsa_error)
    }
}

impl fmt::Debug for BlindSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlindSigningKey").finish_non_exhaustive()
    }
}

/// auth's public RSA key, which verifies credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct BlindVerifyingKey(PublicKeySha384PSSRandomized);

impl BlindVerifyingKey {
    /// Imports a SubjectPublicKeyInfo or PKCS#1 DER public key.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        PublicKeySha384PSSRandomized::from_der(der)
            .map(Self)
            .map_err(rsa_error)
    }

    /// Imports a SubjectPublicKeyInfo or PKCS#1 PEM public key.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        PublicKeySha384PSSRandomized::from_pem(pem)
            .map(Self)
            .map_err(rsa_error)
    }

    /// Exports the key as SubjectPublicKeyInfo DER (rsaEncryption).
    pub fn to_der(&self) -> Result<Vec<u8>, Error> {
        self.0.to_der().map_err(rsa_error)
    }

    /// Exports the key as SubjectPublicKeyInfo PEM (rsaEncryption).
    pub fn to_pem(&self) -> Result<String, Error> {
        self.0.to_pem().map_err(rsa_error)
    }

    /// The modulus length in bytes: the length of every blinded message and signature.
    pub fn modulus_len(&self) -> usize {
        self.0.components().n().len()
    }

    /// Blinds `message` (RFC 9474 `Prepare` with a random 32-byte prefix, then
    /// `Blind`). The blinded message goes to the signer; the state stays with the
    /// client until [`finalize`](Self::finalize).
    pub fn blind<R: CryptoRng + ?Sized>(
        &self,
        message: &[u8],
        rng: &mut R,
    ) -> Result<(BlindedMessage, BlindingState), Error> {
        let result = self.0.blind(rng, message).map_err(rsa_error)?;
        let blinded = BlindedMessage(result.blind_message.0.clone());
        Ok((blinded, BlindingState(result)))
    }

    /// Unblinds the signer's answer (RFC 9474 `Finalize`) and checks the resulting
    /// signature; returns it with the message randomizer both must be published with.
    pub fn finalize(
        &self,
        blind_signature: &BlindSignature,
        state: &BlindingState,
        message: &[u8],
    ) -> Result<(RsaSignature, MessageRandomizer), Error> {
        let randomizer = state
            .0
            .msg_randomizer
            .ok_or(Error::Parameters("blinding state without a randomizer"))?;
        let signature = self
            .0
            .finalize(
                &blind_rsa_signatures::BlindSignature(blind_signature.0.clone()),
                &state.0,
                message,
            )
            .map_err(rsa_error)?;
        Ok((RsaSignature(signature.0), MessageRandomizer(randomizer.0)))
    }

    /// Verifies a finalized signature on `message` with its randomizer (RSA-PSS
    /// verification of `randomizer ‖ message`, SHA-384, MGF1-SHA-384, 48-byte salt).
    pub fn verify(
        &self,
        signature: &RsaSignature,
        randomizer: &MessageRandomizer,
        message: &[u8],
    ) -> Result<(), Error> {
        if signature.0.len() != self.modulus_len() {
            return Err(Error::Verify(VerifyError::BlindSignature));
        }
        self.0
            .verify(
                &blind_rsa_signatures::Signature(signature.0.clone()),
                Some(blind_rsa_signatures::MessageRandomizer(randomizer.0)),
                message,
            )
            .map_err(rsa_error)
    }
}

impl fmt::Debug for BlindVerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlindVerifyingKey")
            .field("modulus_bits", &(self.modulus_len() * 8))
            .finish()
    }
}

/// The client's secret blinding state: the inverse blinding factor and the message
/// randomizer. Whoever holds it can link the blind signature to the final one.
pub struct BlindingState(BlindingResult);

impl BlindingState {
    /// The message randomizer chosen during blinding.
    pub fn randomizer(&self) -> Option<MessageRandomizer> {
        self.0.msg_randomizer.map(|r| MessageRandomizer(r.0))
    }
}

impl Drop for BlindingState {
    fn drop(&mut self) {
        self.0.secret.0.zeroize();
        if let Some(randomizer) = self.0.msg_randomizer.as_mut() {
            randomizer.0.zeroize();
        }
    }
}

impl fmt::Debug for BlindingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlindingState").finish_non_exhaustive()
    }
}

macro_rules! byte_string {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Vec<u8>);

        impl $name {
            /// Wraps bytes received from a peer; their length is checked against the
            /// key when they are used.
            pub fn from_bytes(bytes: Vec<u8>) -> Self {
                Self(bytes)
            }

            /// The big-endian bytes (as long as the modulus).
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("len", &self.0.len())
                    .finish_non_exhaustive()
            }
        }
    };
}

byte_string!(
    /// A blinded message, sent by the client to the signer.
    BlindedMessage
);
byte_string!(
    /// The signer's answer to a blinded message.
    BlindSignature
);
byte_string!(
    /// A finalized RSA-PSS signature on `randomizer ‖ message`.
    RsaSignature
);

/// The 32 random bytes RFC 9474's randomized variant prepends to the message before
/// signing; published together with the signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MessageRandomizer([u8; RANDOMIZER_LEN]);

impl MessageRandomizer {
    /// Wraps 32 bytes.
    pub fn from_bytes(bytes: [u8; RANDOMIZER_LEN]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; RANDOMIZER_LEN] {
        &self.0
    }
}

impl fmt::Debug for MessageRandomizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageRandomizer(")?;
        for byte in &self.0 {
            write!(f, "{byte:02x}")?;
        }
        write!(f, ")")
    }
}
