//! Group elements of Ristretto255 and the generators urna uses.
//!
//! An [`Element`] carries both the point and its canonical 32-byte encoding, so a value
//! read from the wire is decompressed once and a computed value compressed once: proofs
//! hash encodings and verify with points, and neither is recomputed.

use core::fmt;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::traits::Identity;
use sha2::{Digest, Sha512};

use crate::encoding::{Encoder, decode_point};
use crate::error::DecodeError;

/// A Ristretto255 group element with its canonical encoding.
#[derive(Clone, Copy)]
pub struct Element {
    point: RistrettoPoint,
    bytes: CompressedRistretto,
}

impl Element {
    /// The element for a computed point (compresses it once).
    pub fn from_point(point: RistrettoPoint) -> Self {
        Self {
            point,
            bytes: point.compress(),
        }
    }

    /// Decodes a canonical encoding; the identity is allowed.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, DecodeError> {
        let point = decode_point(bytes)?;
        Ok(Self {
            point,
            bytes: CompressedRistretto(*bytes),
        })
    }

    /// Decodes a canonical encoding that must not be the identity (keys, commitments).
    pub fn from_bytes_nonidentity(bytes: &[u8; 32]) -> Result<Self, DecodeError> {
        let element = Self::from_bytes(bytes)?;
        if element.is_identity() {
            return Err(DecodeError::Identity);
        }
        Ok(element)
    }

    /// The standard generator G (the Ristretto255 basepoint).
    pub fn generator() -> Self {
        Self::from_point(RISTRETTO_BASEPOINT_POINT)
    }

    /// The identity element.
    pub fn identity() -> Self {
        Self::from_point(RistrettoPoint::identity())
    }

    /// The point.
    pub fn point(&self) -> &RistrettoPoint {
        &self.point
    }

    /// The canonical encoding.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.bytes.as_bytes()
    }

    /// The canonical encoding, by value.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.bytes.to_bytes()
    }

    /// Whether this is the identity element.
    pub fn is_identity(&self) -> bool {
        self.bytes == CompressedRistretto::identity()
    }
}

impl PartialEq for Element {
    fn eq(&self, other: &Self) -> bool {
        // Encodings are canonical, so equal points have equal bytes.
        self.bytes == other.bytes
    }
}

impl Eq for Element {}

impl core::hash::Hash for Element {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.bytes.as_bytes().hash(state);
    }
}

impl From<RistrettoPoint> for Element {
    fn from(point: RistrettoPoint) -> Self {
        Self::from_point(point)
    }
}

impl fmt::Debug for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Element(")?;
        for byte in self.as_bytes() {
            write!(f, "{byte:02x}")?;
        }
        write!(f, ")")
    }
}

/// Hash to the group with a domain tag: `from_uniform_bytes(SHA-512(enc(tag) ‖ enc(data)))`,
/// each part encoded as a length-prefixed byte string. The discrete logarithm of the
/// result with respect to G, or to any other output, is unknown.
pub fn hash_to_group(tag: &str, data: &[u8]) -> RistrettoPoint {
    let mut input = Encoder::new();
    input.str(tag).bytes(data);
    let digest: [u8; 64] = Sha512::digest(input.as_slice()).into();
    RistrettoPoint::from_uniform_bytes(&digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_refused_where_required() {
        let zero = [0u8; 32];
        assert!(Element::from_bytes(&zero).unwrap().is_identity());
        assert_eq!(
            Element::from_bytes_nonidentity(&zero),
            Err(DecodeError::Identity)
        );
    }

    #[test]
    fn hash_to_group_separates_domains() {
        let a = hash_to_group("urna/v1/test/a", b"x");
        let b = hash_to_group("urna/v1/test/b", b"x");
        let c = hash_to_group("urna/v1/test/a", b"y");
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, hash_to_group("urna/v1/test/a", b"x"));
        assert_ne!(a, RISTRETTO_BASEPOINT_POINT);
    }
}
