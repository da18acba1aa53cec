//! Exponential ElGamal on Ristretto255.
//!
//! A message `m` under the joint election key `K` with randomness `r` encrypts to
//! `(a, b) = (r·G, m·G + r·K)`. Ciphertexts add component-wise, and the sum decrypts
//! to the sum of the messages, which is how additive contests are tallied without
//! decrypting any single ballot.

use core::fmt;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::{RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use rand_core::CryptoRng;
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::encoding::{Decoder, Encoder};
use crate::error::DecodeError;
use crate::group::Element;

/// A private ElGamal key (a single trustee's key in tests; in elections the joint key's
/// secret exists only as threshold shares).
pub struct SecretKey(Scalar);

impl SecretKey {
    /// A uniformly random key.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(Scalar::random(rng))
    }

    /// Wraps a scalar (for keys assembled from shares).
    pub fn from_scalar(scalar: Scalar) -> Self {
        Self(scalar)
    }

    /// The matching public key `s·G`.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_element(Element::from_point(&self.0 * RISTRETTO_BASEPOINT_TABLE))
    }

    /// Decrypts to the group element `m·G` (`b − s·a`).
    pub fn decrypt(&self, ciphertext: &Ciphertext) -> RistrettoPoint {
        ciphertext.b.point() - self.0 * ciphertext.a.point()
    }
}

impl Zeroize for SecretKey {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for SecretKey {}

impl ConstantTimeEq for SecretKey {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey").finish_non_exhaustive()
    }
}

/// The randomness `r` of one encryption. Secret: whoever holds it can open the
/// ciphertext, which is exactly what a Benaloh challenge reveals on purpose.
pub struct Nonce(Scalar);

impl Nonce {
    /// A uniformly random nonce.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(Scalar::random(rng))
    }

    /// Wraps a revealed nonce (from a Benaloh challenge).
    pub fn from_scalar(scalar: Scalar) -> Self {
        Self(scalar)
    }

    /// The nonce of a sum of encryptions is the sum of their nonces.
    pub fn sum<'a>(nonces: impl IntoIterator<Item = &'a Nonce>) -> Self {
        Self(nonces.into_iter().map(|n| n.0).sum())
    }

    /// The scalar; revealing it opens the ciphertext (Benaloh challenge).
    pub fn reveal(&self) -> Scalar {
        self.0
    }

    pub(crate) fn scalar(&self) -> &Scalar {
        &self.0
    }
}

impl Zeroize for Nonce {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for Nonce {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for Nonce {}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Nonce").finish_non_exhaustive()
    }
}

/// A public ElGamal key: the joint election key `K`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(Element);

impl PublicKey {
    /// Wraps a group element.
    pub fn from_element(element: Element) -> Self {
        Self(element)
    }

    /// Decodes a public key; the identity is refused (it would encrypt in the clear).
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, DecodeError> {
        Element::from_bytes_nonidentity(bytes).map(Self)
    }

    /// The group element `K`.
    pub fn element(&self) -> &Element {
        &self.0
    }
}

/// A public key with a precomputed multiplication table, for whoever encrypts or proves
/// many times under it (the voter's SDK, the load generator, the tally). Building the
/// table costs about as much as a few dozen scalar multiplications; each use then costs
/// a fixed-base multiplication instead of a variable-base one.
pub struct EncryptionKey {
    key: PublicKey,
    table: RistrettoBasepointTable,
}

impl EncryptionKey {
    /// Precomputes the table for `key`.
    pub fn new(key: PublicKey) -> Self {
        let table = RistrettoBasepointTable::create(key.element().point());
        Self { key, table }
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }

    /// `s·K`, in constant time.
    pub(crate) fn mul(&self, scalar: &Scalar) -> RistrettoPoint {
        scalar * &self.table
    }

    /// Encrypts `message` with fresh randomness; returns the ciphertext and its nonce.
    pub fn encrypt<R: CryptoRng + ?Sized>(&self, message: u64, rng: &mut R) -> (Ciphertext, Nonce) {
        let nonce = Nonce::random(rng);
        (self.encrypt_with_nonce(message, &nonce), nonce)
    }

    /// Encrypts `message` with the given nonce (deterministic; used to check an opened
    /// ciphertext in a Benaloh challenge).
    pub fn encrypt_with_nonce(&self, message: u64, nonce: &Nonce) -> Ciphertext {
        let r = nonce.scalar();
        let a = r * RISTRETTO_BASEPOINT_TABLE;
        let b = &Scalar::from(message) * RISTRETTO_BASEPOINT_TABLE + self.mul(r);
        Ciphertext::from_points(a, b)
    }

    /// A fresh encryption of the same message: `(a + r'·G, b + r'·K)`.
    pub fn reencrypt<R: CryptoRng + ?Sized>(
        &self,
        ciphertext: &Ciphertext,
        rng: &mut R,
    ) -> (Ciphertext, Nonce) {
        let nonce = Nonce::random(rng);
        let r = nonce.scalar();
        let a = ciphertext.a.point() + r * RISTRETTO_BASEPOINT_TABLE;
        let b = ciphertext.b.point() + self.mul(r);
        (Ciphertext::from_points(a, b), nonce)
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// An exponential ElGamal ciphertext `(a, b)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ciphertext {
    a: Element,
    b: Element,
}

/// Length of an encoded ciphertext: `a ‖ b`.
pub const CIPHERTEXT_LEN: usize = 64;

impl Ciphertext {
    /// A ciphertext from its two components.
    pub fn new(a: Element, b: Element) -> Self {
        Self { a, b }
    }

    /// A ciphertext from computed points (compresses both).
    pub fn from_points(a: RistrettoPoint, b: RistrettoPoint) -> Self {
        Self::new(Element::from_point(a), Element::from_point(b))
    }

    /// The encryption of zero with zero randomness: the neutral element of addition.
    pub fn zero() -> Self {
        Self::from_points(RistrettoPoint::identity(), RistrettoPoint::identity())
    }

    /// `a = r·G`.
    pub fn a(&self) -> &Element {
        &self.a
    }

    /// `b = m·G + r·K`.
    pub fn b(&self) -> &Element {
        &self.b
    }

    /// The homomorphic sum: encrypts the sum of the messages.
    pub fn add(&self, other: &Ciphertext) -> Ciphertext {
        Self::from_points(
            self.a.point() + other.a.point(),
            self.b.point() + other.b.point(),
        )
    }

    /// The homomorphic difference: encrypts the first message minus the second.
    pub fn sub(&self, other: &Ciphertext) -> Ciphertext {
        Self::from_points(
            self.a.point() - other.a.point(),
            self.b.point() - other.b.point(),
        )
    }

    /// The homomorphic multiple: encrypts `k` times the message (with `k` times the
    /// nonce).
    pub fn scale(&self, k: &Scalar) -> Ciphertext {
        Self::from_points(k * self.a.point(), k * self.b.point())
    }

    /// The homomorphic sum of many ciphertexts (one compression at the end).
    pub fn sum<'a>(ciphertexts: impl IntoIterator<Item = &'a Ciphertext>) -> Ciphertext {
        let (a, b) = ciphertexts.into_iter().fold(
            (RistrettoPoint::identity(), RistrettoPoint::identity()),
            |(a, b), c| (a + c.a.point(), b + c.b.point()),
        );
        Self::from_points(a, b)
    }

    /// Appends the canonical encoding `a ‖ b`.
    pub fn encode(&self, out: &mut Encoder) {
        out.element(&self.a).element(&self.b);
    }

    /// Reads a canonical encoding.
    pub fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(Self::new(input.element()?, input.element()?))
    }

    /// The 64-byte encoding.
    pub fn to_bytes(&self) -> [u8; CIPHERTEXT_LEN] {
        let mut out = [0u8; CIPHERTEXT_LEN];
        out[..32].copy_from_slice(self.a.as_bytes());
        out[32..].copy_from_slice(self.b.as_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::ChaCha20Rng;

    fn decrypts_to(secret: &SecretKey, ciphertext: &Ciphertext, message: u64) -> bool {
        secret.decrypt(ciphertext) == &Scalar::from(message) * RISTRETTO_BASEPOINT_TABLE
    }

    #[test]
    fn encrypt_decrypt_add_reencrypt() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let secret = SecretKey::random(&mut rng);
        let key = EncryptionKey::new(secret.public_key());
        let (c1, _) = key.encrypt(3, &mut rng);
        let (c2, _) = key.encrypt(4, &mut rng);
        assert!(decrypts_to(&secret, &c1, 3));
        assert!(decrypts_to(&secret, &c1.add(&c2), 7));
        assert!(decrypts_to(&secret, &Ciphertext::sum([&c1, &c2, &c2]), 11));
        let (c3, _) = key.reencrypt(&c1, &mut rng);
        assert_ne!(c3, c1);
        assert!(decrypts_to(&secret, &c3, 3));
    }

    #[test]
    fn an_opened_nonce_reproduces_the_ciphertext() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let key = EncryptionKey::new(SecretKey::random(&mut rng).public_key());
        let (c, nonce) = key.encrypt(1, &mut rng);
        let opened = Nonce::from_scalar(nonce.reveal());
        assert_eq!(key.encrypt_with_nonce(1, &opened), c);
        assert_ne!(key.encrypt_with_nonce(0, &opened), c);
    }

    #[test]
    fn identity_public_key_is_refused() {
        assert_eq!(
            PublicKey::from_bytes(&[0u8; 32]),
            Err(DecodeError::Identity)
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let secret = SecretKey::random(&mut rng);
        let shown = format!("{secret:?}");
        assert_eq!(shown, "SecretKey { .. }");
    }
}
