//! Voters' anonymous credentials.
//!
//! A voter's SDK makes an Ed25519 key pair ([`CredentialSecret`],
//! [`CredentialPublicKey`]). auth blind-signs (RFC 9474, see [`blind`]) the
//! [`credential_message`] that binds the credential key to the election and the voter's
//! ballot style, without learning the key. casting later checks that blind signature,
//! the ballot's Ed25519 signature under the credential key, and the [`Nullifier`], which
//! is the same for every ballot cast with one credential.

pub mod blind;

use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};
use zeroize::{ZeroizeOnDrop, Zeroizing};

use crate::encoding::Encoder;
use crate::error::{DecodeError, VerifyError};

/// Domain tag of the message auth blind-signs.
pub const CREDENTIAL_TAG: &str = "urna/v1/credential";
/// Domain tag of the nullifier hash.
pub const NULLIFIER_TAG: &str = "urna/v1/nullifier";
/// The largest ballot style id accepted in a credential message, in bytes.
pub const MAX_BALLOT_STYLE_LEN: usize = 64;

/// A voter's secret credential key (Ed25519). Whoever holds it can cast the voter's
/// ballot; it never leaves the voter's device.
pub struct CredentialSecret(SigningKey);

impl CredentialSecret {
    /// A fresh random key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(SigningKey::generate(rng))
    }

    /// Restores a key from its 32-byte Ed25519 seed.
    pub fn from_bytes(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The 32-byte Ed25519 seed, for the SDK's sealed storage; wiped when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public half.
    pub fn public_key(&self) -> CredentialPublicKey {
        CredentialPublicKey(self.0.verifying_key())
    }

    /// Signs a message: the message must be a canonical encoding that starts with its
    /// own domain tag (for example the canonical ballot).
    pub fn sign(&self, message: &[u8]) -> CredentialSignature {
        CredentialSignature(self.0.sign(message))
    }
}

impl ConstantTimeEq for CredentialSecret {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.as_bytes().ct_eq(other.0.as_bytes())
    }
}

// The inner `SigningKey` wipes itself when dropped.
impl ZeroizeOnDrop for CredentialSecret {}

impl fmt::Debug for CredentialSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialSecret").finish_non_exhaustive()
    }
}

/// A voter's credential public key: a canonical Ed25519 point of large order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CredentialPublicKey(VerifyingKey);

impl CredentialPublicKey {
    /// Decodes a key strictly: the encoding must be canonical and the point must not
    /// have small order (such keys admit signatures valid for many messages).
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, DecodeError> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| DecodeError::Point)?;
        if key.to_edwards().compress().as_bytes() != bytes {
            return Err(DecodeError::Point);
        }
        if key.is_weak() {
            return Err(DecodeError::Identity);
        }
        Ok(Self(key))
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The 32-byte encoding, by reference.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Checks a signature with Ed25519's strict rules (RFC 8032 with canonical `s` and
    /// a non-small-order `R`).
    pub fn verify(
        &self,
        message: &[u8],
        signature: &CredentialSignature,
    ) -> Result<(), VerifyError> {
        self.0
            .verify_strict(message, &signature.0)
            .map_err(|_| VerifyError::Signature)
    }
}

impl fmt::Debug for CredentialPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialPublicKey(")?;
        for byte in self.as_bytes() {
            write!(f, "{byte:02x}")?;
        }
        write!(f, ")")
    }
}

/// An Ed25519 signature made with a credential key (64 bytes: `R ‖ s`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CredentialSignature(Signature);

impl CredentialSignature {
    /// The encoded length.
    pub const LEN: usize = 64;

    /// Wraps 64 bytes; whether `R` and `s` are valid is checked by
    /// [`CredentialPublicKey::verify`].
    pub fn from_bytes(bytes: &[u8; 64]) -> Self {
        Self(Signature::from_bytes(bytes))
    }

    /// The 64-byte encoding.
    pub fn to_bytes(&self) -> [u8; 64] {
        self.0.to_bytes()
    }
}

impl fmt::Debug for CredentialSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialSignature(")?;
        for byte in self.to_bytes() {
            write!(f, "{byte:02x}")?;
        }
        write!(f, ")")
    }
}

/// The message auth blind-signs for one credential:
/// `lp("urna/v1/credential") ‖ lp(election) ‖ lp(ballot_style) ‖ lp(credential key)`,
/// with `lp(x) = u32be(|x|) ‖ x`.
///
/// Fails if the ballot style id is longer than [`MAX_BALLOT_STYLE_LEN`] bytes.
pub fn credential_message(
    election: &[u8; 32],
    ballot_style: &str,
    credential: &CredentialPublicKey,
) -> Result<Vec<u8>, DecodeError> {
    if ballot_style.len() > MAX_BALLOT_STYLE_LEN {
        return Err(DecodeError::Length);
    }
    let mut enc = Encoder::new();
    enc.str(CREDENTIAL_TAG)
        .bytes(election)
        .str(ballot_style)
        .bytes(credential.as_bytes());
    Ok(enc.finish())
}

/// The nullifier of a credential in an election: the same for every ballot cast with
/// the credential, and unlinkable to the voter because auth never saw the key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nullifier([u8; 32]);

impl Nullifier {
    /// `SHA-256(lp("urna/v1/nullifier") ‖ lp(election) ‖ lp(credential key))`.
    pub fn new(election: &[u8; 32], credential: &CredentialPublicKey) -> Self {
        let mut enc = Encoder::new();
        enc.str(NULLIFIER_TAG)
            .bytes(election)
            .bytes(credential.as_bytes());
        Self(Sha256::digest(enc.as_slice()).into())
    }

    /// Wraps 32 bytes read from storage or the board.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Nullifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nullifier(")?;
        for byte in &self.0 {
            write!(f, "{byte:02x}")?;
        }
        write!(f, ")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::EIGHT_TORSION;
    use rand::SeedableRng;
    use rand::rngs::ChaCha20Rng;

    #[test]
    fn signatures_verify_only_for_their_message_and_key() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let secret = CredentialSecret::generate(&mut rng);
        let other = CredentialSecret::generate(&mut rng);
        let signature = secret.sign(b"ballot");
        assert_eq!(secret.public_key().verify(b"ballot", &signature), Ok(()));
        assert_eq!(
            secret.public_key().verify(b"ballots", &signature),
            Err(VerifyError::Signature)
        );
        assert_eq!(
            other.public_key().verify(b"ballot", &signature),
            Err(VerifyError::Signature)
        );
    }

    #[test]
    fn secret_round_trips_and_debug_is_redacted() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let secret = CredentialSecret::generate(&mut rng);
        let restored = CredentialSecret::from_bytes(&secret.to_bytes());
        assert!(bool::from(secret.ct_eq(&restored)));
        assert_eq!(format!("{secret:?}"), "CredentialSecret { .. }");
    }

    #[test]
    fn small_order_and_non_canonical_keys_are_refused() {
        for point in EIGHT_TORSION {
            let bytes = point.compress().to_bytes();
            assert!(CredentialPublicKey::from_bytes(&bytes).is_err());
        }
        // y = p (≡ 0) is a non-canonical encoding of a valid y coordinate.
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert!(CredentialPublicKey::from_bytes(&p).is_err());
    }

    #[test]
    fn nullifier_depends_on_election_and_key() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let a = CredentialSecret::generate(&mut rng).public_key();
        let b = CredentialSecret::generate(&mut rng).public_key();
        let n = Nullifier::new(&[1; 32], &a);
        assert_eq!(n, Nullifier::new(&[1; 32], &a));
        assert_ne!(n, Nullifier::new(&[2; 32], &a));
        assert_ne!(n, Nullifier::new(&[1; 32], &b));
    }
}
