//! The canonical byte encoding that every hash and every stored record uses.
//!
//! Rules (docs/protocol.md, "Canonical encoding"):
//! - integers are fixed width, big-endian (`u8`, `u32`, `u64`);
//! - a variable-length byte string is its length as `u32`, then the bytes;
//! - a text string is its UTF-8 bytes as a byte string;
//! - a group element is its 32-byte Ristretto255 encoding, a scalar its 32-byte
//!   little-endian canonical encoding (both fixed width, no length);
//! - a sequence is its item count as `u32`, then the items.
//!
//! There is exactly one encoding of every value, and the decoder rejects anything else
//! (non-canonical points or scalars, truncation, trailing bytes).

use curve25519_dalek::ristretto::CompressedRistretto;
use curve25519_dalek::scalar::Scalar;

use crate::error::DecodeError;
use crate::group::Element;

/// The largest byte string or sequence the decoder accepts (16 MiB).
pub const MAX_LEN: usize = 16 << 20;

/// Appends canonically encoded values to a buffer.
#[derive(Debug, Default, Clone)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// An empty encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// One byte.
    pub fn u8(&mut self, value: u8) -> &mut Self {
        self.buf.push(value);
        self
    }

    /// A big-endian `u32`.
    pub fn u32(&mut self, value: u32) -> &mut Self {
        self.buf.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// A big-endian `u64`.
    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.buf.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// A length, as `u32`. Lengths beyond `u32::MAX` cannot be encoded; the decoder
    /// refuses anything over [`MAX_LEN`] anyway, so such a value can never round-trip.
    pub fn len(&mut self, len: usize) -> &mut Self {
        self.u32(u32::try_from(len).unwrap_or(u32::MAX))
    }

    /// A variable-length byte string: `u32` length, then the bytes.
    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.len(value.len());
        self.buf.extend_from_slice(value);
        self
    }

    /// A text string, as its UTF-8 bytes.
    pub fn str(&mut self, value: &str) -> &mut Self {
        self.bytes(value.as_bytes())
    }

    /// Bytes of a width fixed by the format, with no length prefix.
    pub fn fixed(&mut self, value: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(value);
        self
    }

    /// A group element (32 bytes).
    pub fn element(&mut self, value: &Element) -> &mut Self {
        self.fixed(value.as_bytes())
    }

    /// A scalar (32 bytes, little-endian, reduced).
    pub fn scalar(&mut self, value: &Scalar) -> &mut Self {
        self.fixed(value.as_bytes())
    }

    /// The bytes written so far.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    /// The finished encoding.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads canonically encoded values from a byte slice.
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    input: &'a [u8],
}

impl<'a> Decoder<'a> {
    /// A decoder over `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Self { input }
    }

    /// Takes exactly `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.input.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.input.split_at(n);
        self.input = tail;
        Ok(head)
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    /// A big-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// A big-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A length or count, refused above `max` (and above [`MAX_LEN`]).
    pub fn len(&mut self, max: usize) -> Result<usize, DecodeError> {
        let len = usize::try_from(self.u32()?).map_err(|_| DecodeError::Length)?;
        if len > max.min(MAX_LEN) {
            return Err(DecodeError::Length);
        }
        Ok(len)
    }

    /// A variable-length byte string of at most `max` bytes.
    pub fn bytes(&mut self, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = self.len(max)?;
        self.take(len)
    }

    /// A UTF-8 text string of at most `max` bytes.
    pub fn str(&mut self, max: usize) -> Result<&'a str, DecodeError> {
        core::str::from_utf8(self.bytes(max)?).map_err(|_| DecodeError::Tag)
    }

    /// A canonical group element; the identity is allowed.
    pub fn element(&mut self) -> Result<Element, DecodeError> {
        Element::from_bytes(&self.array()?)
    }

    /// A canonical group element that is not the identity.
    pub fn nonidentity_element(&mut self) -> Result<Element, DecodeError> {
        Element::from_bytes_nonidentity(&self.array()?)
    }

    /// A canonical scalar.
    pub fn scalar(&mut self) -> Result<Scalar, DecodeError> {
        decode_scalar(&self.array()?)
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// Ends decoding: fails if bytes are left over.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.input.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Trailing)
        }
    }
}

/// Decodes a canonical scalar: 32 little-endian bytes of a value below the group order.
pub fn decode_scalar(bytes: &[u8; 32]) -> Result<Scalar, DecodeError> {
    Option::from(Scalar::from_canonical_bytes(*bytes)).ok_or(DecodeError::Scalar)
}

/// Decodes a canonical Ristretto255 encoding to a point.
pub fn decode_point(bytes: &[u8; 32]) -> Result<curve25519_dalek::RistrettoPoint, DecodeError> {
    CompressedRistretto(*bytes)
        .decompress()
        .ok_or(DecodeError::Point)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_of_every_kind() {
        let element = Element::generator();
        let scalar = Scalar::from(7u64);
        let mut enc = Encoder::new();
        enc.u8(1)
            .u32(2)
            .u64(3)
            .bytes(b"abc")
            .str("ünï")
            .element(&element)
            .scalar(&scalar);
        let bytes = enc.finish();
        let mut dec = Decoder::new(&bytes);
        assert_eq!(dec.u8().unwrap(), 1);
        assert_eq!(dec.u32().unwrap(), 2);
        assert_eq!(dec.u64().unwrap(), 3);
        assert_eq!(dec.bytes(16).unwrap(), b"abc");
        assert_eq!(dec.str(16).unwrap(), "ünï");
        assert_eq!(dec.element().unwrap(), element);
        assert_eq!(dec.scalar().unwrap(), scalar);
        dec.finish().unwrap();
    }

    #[test]
    fn integers_are_big_endian_and_strings_length_prefixed() {
        let mut enc = Encoder::new();
        enc.u32(0x0102_0304).str("hi");
        assert_eq!(enc.finish(), [1, 2, 3, 4, 0, 0, 0, 2, b'h', b'i']);
    }

    #[test]
    fn truncated_trailing_and_oversized_inputs_are_refused() {
        assert_eq!(Decoder::new(&[0, 0, 1]).u32(), Err(DecodeError::Truncated));
        let mut dec = Decoder::new(&[0, 0, 0, 9, 1]);
        assert_eq!(dec.bytes(8), Err(DecodeError::Length));
        let mut dec = Decoder::new(&[0, 0, 0, 2, 1]);
        assert_eq!(dec.bytes(8), Err(DecodeError::Truncated));
        let mut dec = Decoder::new(&[7, 8]);
        dec.u8().unwrap();
        assert_eq!(dec.finish(), Err(DecodeError::Trailing));
    }

    #[test]
    fn non_canonical_scalars_are_refused() {
        // The group order l itself is not a canonical scalar, nor is 2^255 - 1.
        let l = Scalar::ZERO - Scalar::ONE;
        let mut bytes = l.to_bytes();
        bytes[0] = bytes[0].wrapping_add(1);
        assert_eq!(decode_scalar(&bytes), Err(DecodeError::Scalar));
        assert_eq!(decode_scalar(&[0xff; 32]), Err(DecodeError::Scalar));
        assert!(decode_scalar(&l.to_bytes()).is_ok());
    }
}
