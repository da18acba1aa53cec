//! Building RFC 9162 roots and proofs from stored node hashes.
//!
//! The tree is never held whole: everything is computed from the roots of *perfect*
//! subtrees (a [`NodeSource`]), which the store keeps. A proof for a tree of size `n`
//! reads `O(log n)` of them.

use crate::error::{ProofError, Result};
use crate::hash::TreeHash;

/// Reads the roots of perfect subtrees of the log.
pub trait NodeSource {
    /// The root of the perfect subtree at `level` (`2^level` leaves) with position
    /// `index` in its level, covering leaves `[index·2^level, (index+1)·2^level)`.
    /// The caller only asks for subtrees that lie within the integrated tree.
    fn node(&self, level: u8, index: u64) -> Result<TreeHash>;
}

/// The largest power of two strictly below `n` (for `n ≥ 2`): RFC 9162's split point.
pub(crate) fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[start:end])`, for a range whose start is aligned to the largest power of two
/// not above its length (true of every range that appears in a proof).
pub fn range_root(src: &(impl NodeSource + ?Sized), start: u64, end: u64) -> Result<TreeHash> {
    if end <= start {
        return Ok(TreeHash::EMPTY_ROOT);
    }
    // Split [start, end) into perfect subtrees from the left, then fold from the right.
    let mut parts = [TreeHash::EMPTY_ROOT; 64];
    let mut count = 0;
    let mut lo = start;
    while lo < end {
        let len = end - lo;
        let level = 63 - len.leading_zeros();
        let width = 1u64 << level;
        if !lo.is_multiple_of(width) {
            return Err(ProofError::SizesOutOfOrder {
                first: start,
                second: end,
            }
            .into());
        }
        parts[count] = src.node(level as u8, lo >> level)?;
        count += 1;
        lo += width;
    }
    let mut acc = parts[count - 1];
    for part in parts[..count - 1].iter().rev() {
        acc = TreeHash::node(part, &acc);
    }
    Ok(acc)
}

/// The root of the tree of the first `size` leaves.
pub fn root(src: &(impl NodeSource + ?Sized), size: u64) -> Result<TreeHash> {
    range_root(src, 0, size)
}

/// The inclusion proof (RFC 9162 `PATH`) of leaf `index` in the tree of size `size`,
/// ordered from the leaf upwards.
pub fn inclusion_proof(
    src: &(impl NodeSource + ?Sized),
    index: u64,
    size: u64,
) -> Result<Vec<TreeHash>> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size }.into());
    }
    let mut path = Vec::with_capacity(64);
    let (mut lo, mut hi) = (0, size);
    while hi - lo > 1 {
        let k = split(hi - lo);
        if index < lo + k {
            path.push(range_root(src, lo + k, hi)?);
            hi = lo + k;
        } else {
            path.push(range_root(src, lo, lo + k)?);
            lo += k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The consistency proof (RFC 9162 `PROOF`) between the trees of sizes `first` and
/// `second` (`first ≤ second`); empty when `first` is 0 or equals `second`.
pub fn consistency_proof(
    src: &(impl NodeSource + ?Sized),
    first: u64,
    second: u64,
) -> Result<Vec<TreeHash>> {
    if first > second {
        return Err(ProofError::SizesOutOfOrder { first, second }.into());
    }
    let mut proof = Vec::with_capacity(64);
    if first == 0 || first == second {
        return Ok(proof);
    }
    // SUBPROOF(m, D[lo:hi], b), unrolled: each step appends one hash, outermost first.
    let (mut lo, mut hi, mut m, mut whole) = (0, second, first, true);
    while m != hi - lo {
        let k = split(hi - lo);
        if m <= k {
            proof.push(range_root(src, lo + k, hi)?);
            hi = lo + k;
        } else {
            proof.push(range_root(src, lo, lo + k)?);
            lo += k;
            m -= k;
            whole = false;
        }
    }
    if !whole {
        proof.push(range_root(src, lo, hi)?);
    }
    proof.reverse();
    Ok(proof)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A node source over a list of leaf hashes, computing every node from scratch.
    pub(crate) struct Leaves(pub Vec<TreeHash>);

    impl NodeSource for Leaves {
        fn node(&self, level: u8, index: u64) -> Result<TreeHash> {
            let w = 1usize << level;
            let start = index as usize * w;
            assert!(start + w <= self.0.len(), "node outside the tree");
            Ok(reference_root(&self.0[start..start + w]))
        }
    }

    /// RFC 9162 MTH, straight from the definition.
    pub(crate) fn reference_root(leaves: &[TreeHash]) -> TreeHash {
        match leaves.len() {
            0 => TreeHash::EMPTY_ROOT,
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                TreeHash::node(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    /// RFC 9162 PATH, straight from the definition.
    fn reference_path(m: usize, leaves: &[TreeHash]) -> Vec<TreeHash> {
        let n = leaves.len();
        if n <= 1 {
            return Vec::new();
        }
        let k = split(n as u64) as usize;
        if m < k {
            let mut p = reference_path(m, &leaves[..k]);
            p.push(reference_root(&leaves[k..]));
            p
        } else {
            let mut p = reference_path(m - k, &leaves[k..]);
            p.push(reference_root(&leaves[..k]));
            p
        }
    }

    /// RFC 9162 SUBPROOF, straight from the definition.
    fn reference_subproof(m: usize, leaves: &[TreeHash], whole: bool) -> Vec<TreeHash> {
        let n = leaves.len();
        if m == n {
            return if whole {
                Vec::new()
            } else {
                vec![reference_root(leaves)]
            };
        }
        let k = split(n as u64) as usize;
        if m <= k {
            let mut p = reference_subproof(m, &leaves[..k], whole);
            p.push(reference_root(&leaves[k..]));
            p
        } else {
            let mut p = reference_subproof(m - k, &leaves[k..], false);
            p.push(reference_root(&leaves[..k]));
            p
        }
    }

    pub(crate) fn leaves(n: usize) -> Vec<TreeHash> {
        (0..n)
            .map(|i| TreeHash::leaf(&(i as u64).to_be_bytes()))
            .collect()
    }

    #[test]
    fn split_is_the_largest_power_of_two_below() {
        assert_eq!(split(2), 1);
        assert_eq!(split(3), 2);
        assert_eq!(split(4), 2);
        assert_eq!(split(5), 4);
        assert_eq!(split(1 << 40), 1 << 39);
        assert_eq!(split((1 << 40) + 1), 1 << 40);
    }

    #[test]
    fn roots_and_proofs_match_the_definitions_for_every_small_tree() {
        let all = leaves(70);
        let src = Leaves(all.clone());
        for n in 0..=all.len() {
            let tree = &all[..n];
            assert_eq!(root(&src, n as u64).unwrap(), reference_root(tree), "n={n}");
            for m in 0..n {
                assert_eq!(
                    inclusion_proof(&src, m as u64, n as u64).unwrap(),
                    reference_path(m, tree),
                    "path m={m} n={n}"
                );
            }
            for m in 1..n {
                assert_eq!(
                    consistency_proof(&src, m as u64, n as u64).unwrap(),
                    reference_subproof(m, tree, true),
                    "proof m={m} n={n}"
                );
            }
        }
    }

    #[test]
    fn bad_arguments_are_refused() {
        let src = Leaves(leaves(5));
        assert_eq!(
            inclusion_proof(&src, 5, 5),
            Err(ProofError::IndexOutOfRange { index: 5, size: 5 }.into())
        );
        assert_eq!(
            consistency_proof(&src, 4, 3),
            Err(ProofError::SizesOutOfOrder {
                first: 4,
                second: 3
            }
            .into())
        );
        assert!(consistency_proof(&src, 0, 5).unwrap().is_empty());
        assert!(consistency_proof(&src, 5, 5).unwrap().is_empty());
    }
}
