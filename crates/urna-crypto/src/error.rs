//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong in urna-crypto.
///
/// Verification failures say *which* check failed, for a verifier's report; a network
/// service must map them to one fixed message rather than echo them to clients.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// Bytes that do not decode to the expected canonical value.
    #[error("decoding failed: {0}")]
    Decode(#[from] DecodeError),
    /// A proof, signature or share failed its check.
    #[error("verification failed: {0}")]
    Verify(#[from] VerifyError),
    /// The caller asked for something the parameters do not allow.
    #[error("invalid parameters: {0}")]
    Parameters(&'static str),
    /// A plaintext could not be recovered from a decrypted group element.
    #[error("plaintext outside the recoverable range")]
    PlaintextOutOfRange,
    /// The blind-signature library reported an error.
    #[error("blind RSA: {0}")]
    BlindRsa(String),
}

/// Why a byte string was refused by a decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not a canonical Ristretto255 encoding.
    #[error("non-canonical or invalid group element")]
    Point,
    /// The identity element where a non-identity element is required.
    #[error("identity element not allowed here")]
    Identity,
    /// Not a canonical scalar (not reduced modulo the group order).
    #[error("non-canonical scalar")]
    Scalar,
    /// The input ended before the value did.
    #[error("input truncated")]
    Truncated,
    /// Bytes were left over after the value.
    #[error("trailing bytes after value")]
    Trailing,
    /// A length or count outside what the format allows.
    #[error("length out of range")]
    Length,
    /// A tag, version or enumeration value that is not known.
    #[error("unknown tag or version")]
    Tag,
    /// A key or signature in a foreign format that could not be parsed.
    #[error("malformed key or signature")]
    Key,
}

/// Which check a verification failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A Schnorr proof of knowledge.
    #[error("Schnorr proof of knowledge")]
    Schnorr,
    /// A Chaum–Pedersen discrete-log-equality proof.
    #[error("Chaum-Pedersen equality proof")]
    Dleq,
    /// A disjunctive range proof on one ciphertext.
    #[error("range proof")]
    Range,
    /// The proof that a contest's selections are within its limits.
    #[error("selection-limit proof")]
    Selection,
    /// A proof's shape does not match the statement (wrong number of branches).
    #[error("proof shape does not match the statement")]
    Shape,
    /// A dealer's share does not match its Feldman commitments.
    #[error("key share does not match the dealer's commitments")]
    Share,
    /// An Ed25519 signature.
    #[error("Ed25519 signature")]
    Signature,
    /// An RSA blind signature (RFC 9474).
    #[error("blind RSA signature")]
    BlindSignature,
    /// A Benaloh challenge: revealed randomness does not reproduce the ciphertext.
    #[error("revealed randomness does not match the ciphertext")]
    Opening,
    /// The proof that a ranked contest's positions form a ranking.
    #[error("ranking proof")]
    Ranking,
    /// A shuffle proof: the output is not shown to be a re-encrypted permutation of the input.
    #[error("shuffle proof")]
    Shuffle,
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;
