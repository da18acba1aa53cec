//! Recovering a small plaintext `m` from `m·G` (baby-step giant-step).
//!
//! A tally decrypts to `M = m·G` where `m` is a vote count: bounded, but too large to
//! find by trying every value. The table stores `j·G` for `j < n` (baby steps); a
//! lookup subtracts `n·G` from `M` until it lands in the table (giant steps), so a
//! value up to `n·g` costs at most `g` point compressions. The default table
//! (2¹⁸ entries, built once in about a quarter of a second) recovers any value below
//! 10⁹ with at most 3,815 giant steps.

use std::collections::HashMap;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;

use crate::error::Error;

/// Default number of baby steps.
pub const DEFAULT_BABY_STEPS: u32 = 1 << 18;

/// Default upper bound on recoverable values (exclusive): 2³⁰, just over 10⁹.
pub const DEFAULT_LIMIT: u64 = 1 << 30;

/// A baby-step table for recovering `m` from `m·G`, for `m` below a fixed limit.
#[derive(Debug)]
pub struct DlogTable {
    /// First 8 bytes of the encoding of `j·G` → `j`. A lookup confirms the full point,
    /// so a prefix collision can never produce a wrong answer.
    baby: HashMap<u64, u32>,
    baby_steps: u32,
    giant_steps: u64,
    giant_stride: RistrettoPoint,
}

impl DlogTable {
    /// A table that recovers every value below [`DEFAULT_LIMIT`].
    pub fn new() -> Self {
        Self::with_size(DEFAULT_BABY_STEPS, DEFAULT_LIMIT)
    }

    /// A table of `baby_steps` entries that recovers every value below `limit`.
    pub fn with_size(baby_steps: u32, limit: u64) -> Self {
        let baby_steps = baby_steps.max(1);
        // double_and_compress_batch compresses 2·P for each P, sharing one inversion
        // across the batch; feeding it j·(G/2) yields the encodings of j·G.
        let half = Scalar::from(2u8).invert() * RISTRETTO_BASEPOINT_POINT;
        let mut points = Vec::with_capacity(baby_steps as usize);
        let mut current = RistrettoPoint::identity();
        for _ in 0..baby_steps {
            points.push(current);
            current += half;
        }
        let encodings = RistrettoPoint::double_and_compress_batch(&points);
        let mut baby = HashMap::with_capacity(baby_steps as usize);
        for (j, encoding) in (0u32..).zip(&encodings) {
            baby.entry(prefix(encoding.as_bytes())).or_insert(j);
        }
        Self {
            baby,
            baby_steps,
            giant_steps: limit.div_ceil(u64::from(baby_steps)),
            giant_stride: Scalar::from(baby_steps) * RISTRETTO_BASEPOINT_POINT,
        }
    }

    /// The exclusive upper bound of recoverable values.
    pub fn limit(&self) -> u64 {
        self.giant_steps * u64::from(self.baby_steps)
    }

    /// Finds `m` with `point = m·G`, or fails if `m` is not below [`limit`](Self::limit).
    pub fn recover(&self, point: &RistrettoPoint) -> Result<u64, Error> {
        let mut current = *point;
        for giant in 0..self.giant_steps {
            let encoding = current.compress();
            if let Some(&j) = self.baby.get(&prefix(encoding.as_bytes()))
                && Scalar::from(j) * RISTRETTO_BASEPOINT_POINT == current
            {
                return Ok(giant * u64::from(self.baby_steps) + u64::from(j));
            }
            current -= self.giant_stride;
        }
        Err(Error::PlaintextOutOfRange)
    }
}

impl Default for DlogTable {
    fn default() -> Self {
        Self::new()
    }
}

fn prefix(bytes: &[u8; 32]) -> u64 {
    let mut head = [0u8; 8];
    head.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times_g(m: u64) -> RistrettoPoint {
        Scalar::from(m) * RISTRETTO_BASEPOINT_POINT
    }

    #[test]
    fn recovers_values_across_baby_and_giant_steps() {
        let table = DlogTable::with_size(64, 64 * 100);
        for m in [0, 1, 63, 64, 65, 1000, 6399] {
            assert_eq!(table.recover(&times_g(m)).unwrap(), m);
        }
        assert_eq!(
            table.recover(&times_g(6400)),
            Err(Error::PlaintextOutOfRange)
        );
    }

    #[test]
    fn the_default_table_reaches_a_billion() {
        let table = DlogTable::new();
        assert!(table.limit() >= 1_000_000_000);
        for m in [0, 1, 262_143, 262_144, 999_999_999, DEFAULT_LIMIT - 1] {
            assert_eq!(table.recover(&times_g(m)).unwrap(), m);
        }
        assert_eq!(
            table.recover(&times_g(DEFAULT_LIMIT)),
            Err(Error::PlaintextOutOfRange)
        );
    }
}
