//! Re-encryption mixing of ballots that are vectors of ciphertexts.
//!
//! A mix-net contest's ballot is a row of `width` ciphertexts (one per rank position, or
//! one per candidate's score). A trustee *shuffles* the rows: it permutes them with a
//! secret permutation `π` and re-encrypts every ciphertext, so output row `i` is input
//! row `π(i)` with fresh randomness, `(a + r'·G, b + r'·K)` per ciphertext. Nobody who
//! lacks `π` can link an output row to an input row, yet the multiset of plaintext rows
//! is unchanged. [`ShuffleProof`] proves exactly that without revealing `π`.
//!
//! Several trustees shuffle in sequence; one honest trustee is enough to break every
//! link between voters' ballots and the rows that are finally decrypted.

mod proof;

use core::fmt;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::elgamal::{Ciphertext, EncryptionKey};
use crate::encoding::{Decoder, Encoder, MAX_LEN};
use crate::error::{DecodeError, Error};
use crate::group::hash_to_group;

pub use proof::ShuffleProof;

/// The most ciphertexts one ballot row may hold.
pub const MAX_WIDTH: usize = 1024;

/// Domain tag of the digest that names a list of rows in board records.
const ROWS_TAG: &str = "urna/v1/mix-rows";

/// Domain tag of the independent generators `h₀, h₁, …` of the shuffle proof.
const GENERATOR_TAG: &str = "urna/v1/shuffle/generator";

/// The rows of one mix-net contest: `len()` ballots of `width()` ciphertexts each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixBallots {
    width: usize,
    ciphertexts: Vec<Ciphertext>,
}

impl MixBallots {
    /// Rows from a flat list of ciphertexts, `width` per row. At least one row, and
    /// `1 <= width <= MAX_WIDTH`.
    pub fn new(width: usize, ciphertexts: Vec<Ciphertext>) -> Result<Self, Error> {
        if width == 0 || width > MAX_WIDTH {
            return Err(Error::Parameters("a mix row holds 1 to 1024 ciphertexts"));
        }
        if ciphertexts.is_empty() || !ciphertexts.len().is_multiple_of(width) {
            return Err(Error::Parameters(
                "a mix needs at least one row, and whole rows only",
            ));
        }
        Ok(Self { width, ciphertexts })
    }

    /// Rows from a list of rows, each `width` ciphertexts long.
    pub fn from_rows<R: AsRef<[Ciphertext]>>(width: usize, rows: &[R]) -> Result<Self, Error> {
        if rows.iter().any(|row| row.as_ref().len() != width) {
            return Err(Error::Parameters("every mix row has the same width"));
        }
        Self::new(
            width,
            rows.iter()
                .flat_map(|row| row.as_ref().iter().copied())
                .collect(),
        )
    }

    /// Number of rows (ballots).
    pub fn len(&self) -> usize {
        self.ciphertexts.len() / self.width
    }

    /// Always false: a mix has at least one row.
    pub fn is_empty(&self) -> bool {
        self.ciphertexts.is_empty()
    }

    /// Ciphertexts per row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Row `index`.
    ///
    /// # Panics
    /// If `index >= len()`.
    pub fn row(&self, index: usize) -> &[Ciphertext] {
        &self.ciphertexts[index * self.width..(index + 1) * self.width]
    }

    /// The rows in order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[Ciphertext]> {
        self.ciphertexts.chunks_exact(self.width)
    }

    /// All ciphertexts, row after row.
    pub fn ciphertexts(&self) -> &[Ciphertext] {
        &self.ciphertexts
    }

    /// Appends `u32 rows ‖ u32 width ‖ ciphertexts`, row after row.
    pub fn encode(&self, out: &mut Encoder) {
        out.len(self.len()).len(self.width);
        for ciphertext in &self.ciphertexts {
            ciphertext.encode(out);
        }
    }

    /// The digest that names these rows in board records: [`rows_digest`] of them.
    #[must_use]
    pub fn digest(&self) -> [u8; 32] {
        let bytes: Vec<[u8; 64]> = self.ciphertexts.iter().map(Ciphertext::to_bytes).collect();
        rows_digest(self.len(), self.width, &bytes)
    }

    /// Reads the encoding of [`encode`](Self::encode). The decoder refuses more than
    /// 16 MiB of ciphertexts.
    pub fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let rows = input.len(MAX_LEN)?;
        let width = input.len(MAX_WIDTH)?;
        let count = rows.checked_mul(width).ok_or(DecodeError::Length)?;
        if rows == 0 || width == 0 || count > MAX_LEN / 64 {
            return Err(DecodeError::Length);
        }
        let ciphertexts = (0..count)
            .map(|_| Ciphertext::decode(input))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { width, ciphertexts })
    }
}

/// `SHA-256(lp("urna/v1/mix-rows") ‖ u32be(rows) ‖ u32be(width) ‖ ciphertexts)`, the
/// ciphertexts row after row, 64 bytes each (docs/protocol.md §4.9); defined for zero
/// rows too, which [`MixBallots`] cannot hold.
#[must_use]
pub fn rows_digest(rows: usize, width: usize, ciphertexts: &[[u8; 64]]) -> [u8; 32] {
    let mut enc = Encoder::new();
    enc.str(ROWS_TAG).len(rows).len(width);
    let mut hash = Sha256::new();
    hash.update(enc.as_slice());
    for c in ciphertexts {
        hash.update(c);
    }
    hash.finalize().into()
}

/// What a shuffle keeps secret: the permutation and every re-encryption nonce. Whoever
/// holds it can link the output rows to the input rows, so it lives only as long as the
/// proof takes, and is zeroized on drop.
pub struct ShuffleWitness {
    /// Output row `i` is input row `permutation[i]`.
    permutation: Vec<usize>,
    /// `nonces[i·width + k]` re-encrypted ciphertext `k` of output row `i`.
    nonces: Vec<Scalar>,
}

impl ShuffleWitness {
    /// A witness from a permutation (output row `i` is input row `permutation[i]`) and
    /// the re-encryption nonces, row after row.
    pub(crate) fn new(permutation: Vec<usize>, nonces: Vec<Scalar>) -> Self {
        Self {
            permutation,
            nonces,
        }
    }

    pub(crate) fn permutation(&self) -> &[usize] {
        &self.permutation
    }

    pub(crate) fn nonces(&self) -> &[Scalar] {
        &self.nonces
    }
}

impl Zeroize for ShuffleWitness {
    fn zeroize(&mut self) {
        self.permutation.zeroize();
        self.nonces.zeroize();
    }
}

impl Drop for ShuffleWitness {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for ShuffleWitness {}

impl fmt::Debug for ShuffleWitness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShuffleWitness").finish_non_exhaustive()
    }
}

/// Shuffles `input` under `key`: a uniformly random permutation of the rows, and every
/// ciphertext re-encrypted. Returns the output rows and the witness for
/// [`ShuffleProof::prove`].
pub fn shuffle<R: CryptoRng + ?Sized>(
    key: &EncryptionKey,
    input: &MixBallots,
    rng: &mut R,
) -> (MixBallots, ShuffleWitness) {
    let permutation = random_permutation(input.len(), rng);
    let nonces: Vec<Scalar> = (0..input.ciphertexts.len())
        .map(|_| Scalar::random(rng))
        .collect();
    let width = input.width;
    let ciphertexts = permutation
        .iter()
        .flat_map(|&source| input.row(source))
        .zip(&nonces)
        .map(|(ciphertext, r)| {
            Ciphertext::from_points(
                ciphertext.a().point() + r * RISTRETTO_BASEPOINT_TABLE,
                ciphertext.b().point() + key.mul(r),
            )
        })
        .collect();
    (
        MixBallots { width, ciphertexts },
        ShuffleWitness {
            permutation,
            nonces,
        },
    )
}

/// A uniformly random permutation of `0..n` (Fisher–Yates, with unbiased indices).
fn random_permutation<R: CryptoRng + ?Sized>(n: usize, rng: &mut R) -> Vec<usize> {
    let mut permutation: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = uniform_below(i as u64 + 1, rng) as usize;
        permutation.swap(i, j);
    }
    permutation
}

/// A uniform integer in `0..bound` (`bound >= 1`), by rejection sampling.
fn uniform_below<R: CryptoRng + ?Sized>(bound: u64, rng: &mut R) -> u64 {
    // The largest multiple of `bound` that fits in u64's range; draws at or above it
    // would favour small results, so they are drawn again.
    let zone = u64::MAX - (u64::MAX - bound + 1) % bound;
    loop {
        let draw = rng.next_u64();
        if draw <= zone {
            return draw % bound;
        }
    }
}

/// The independent generators `h₀` (the commitment chain's start) and `h₁ … h_n` (the
/// permutation commitment's bases): `hᵢ = hash_to_group("urna/v1/shuffle/generator",
/// u64be(i))`. Nobody knows a discrete-log relation between them or with `G`.
fn generators(n: usize) -> (RistrettoPoint, Vec<RistrettoPoint>) {
    let h0 = hash_to_group(GENERATOR_TAG, &0u64.to_be_bytes());
    let hs = (1..=n as u64)
        .map(|i| hash_to_group(GENERATOR_TAG, &i.to_be_bytes()))
        .collect();
    (h0, hs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::SecretKey;
    use rand::SeedableRng;
    use rand::rngs::ChaCha20Rng;

    #[test]
    fn uniform_below_stays_in_range_and_hits_every_value() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut seen = [0u32; 7];
        for _ in 0..7_000 {
            seen[uniform_below(7, &mut rng) as usize] += 1;
        }
        assert!(seen.iter().all(|&count| count > 800), "{seen:?}");
        assert_eq!(uniform_below(1, &mut rng), 0);
        assert!(uniform_below(u64::MAX, &mut rng) < u64::MAX);
    }

    #[test]
    fn a_shuffle_permutes_rows_and_keeps_their_plaintexts() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let secret = SecretKey::random(&mut rng);
        let key = EncryptionKey::new(secret.public_key());
        let rows: Vec<Vec<Ciphertext>> = (0..20u64)
            .map(|i| vec![key.encrypt(i, &mut rng).0, key.encrypt(100 + i, &mut rng).0])
            .collect();
        let input = MixBallots::from_rows(2, &rows).unwrap();
        let (output, witness) = shuffle(&key, &input, &mut rng);
        assert_eq!((output.len(), output.width()), (20, 2));
        let mut sorted = witness.permutation().to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..20).collect::<Vec<_>>());
        assert_ne!(witness.permutation(), (0..20).collect::<Vec<_>>());
        for (i, row) in output.rows().enumerate() {
            let source = witness.permutation()[i] as u64;
            assert_ne!(row, input.row(source as usize), "re-encrypted");
            let g = RISTRETTO_BASEPOINT_TABLE;
            assert_eq!(secret.decrypt(&row[0]), &Scalar::from(source) * g);
            assert_eq!(secret.decrypt(&row[1]), &Scalar::from(100 + source) * g);
        }
    }

    #[test]
    fn rows_must_be_whole_and_nonempty() {
        let c = Ciphertext::zero();
        assert!(MixBallots::new(0, vec![c]).is_err());
        assert!(MixBallots::new(2, vec![c; 3]).is_err());
        assert!(MixBallots::new(2, vec![]).is_err());
        assert!(MixBallots::from_rows(2, &[vec![c, c], vec![c]]).is_err());
        let ok = MixBallots::new(2, vec![c; 4]).unwrap();
        let mut enc = Encoder::new();
        ok.encode(&mut enc);
        let bytes = enc.finish();
        assert_eq!(MixBallots::decode(&mut Decoder::new(&bytes)).unwrap(), ok);
        let mut zero_rows = bytes.clone();
        zero_rows[..4].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(
            MixBallots::decode(&mut Decoder::new(&zero_rows)),
            Err(DecodeError::Length)
        );
    }

    #[test]
    fn the_rows_digest_is_the_documented_hash_and_names_the_order() {
        let c = |b: u8| {
            let mut rng = ChaCha20Rng::seed_from_u64(u64::from(b));
            let key = EncryptionKey::new(SecretKey::random(&mut rng).public_key());
            key.encrypt(u64::from(b), &mut rng).0
        };
        let rows = MixBallots::new(2, vec![c(1), c(2), c(3), c(4)]).unwrap();
        let mut expected = Sha256::new();
        expected.update(b"\0\0\0\x10urna/v1/mix-rows\0\0\0\x02\0\0\0\x02");
        for ciphertext in rows.ciphertexts() {
            expected.update(ciphertext.to_bytes());
        }
        assert_eq!(rows.digest(), <[u8; 32]>::from(expected.finalize()));
        let swapped = MixBallots::new(2, vec![c(3), c(4), c(1), c(2)]).unwrap();
        assert_ne!(rows.digest(), swapped.digest());
        let reshaped = MixBallots::new(4, rows.ciphertexts().to_vec()).unwrap();
        assert_ne!(rows.digest(), reshaped.digest());
        assert_ne!(rows_digest(0, 2, &[]), rows_digest(0, 3, &[]));
    }
}
