//! Verification of RFC 9162 inclusion and consistency proofs.
//!
//! These functions need nothing but the proof, the sizes and the roots, so a client
//! that holds only a checkpoint (and the entry it cares about) can run them.

use crate::error::ProofError;
use crate::hash::TreeHash;

/// Recomputes the root from an inclusion proof (RFC 9162, section 2.1.3.2).
pub fn root_from_inclusion_proof(
    leaf: &TreeHash,
    index: u64,
    size: u64,
    proof: &[TreeHash],
) -> Result<TreeHash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = TreeHash::node(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = TreeHash::node(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    Ok(r)
}

/// Checks that the leaf with hash `leaf` sits at `index` in the tree of `size` leaves
/// whose root is `root`.
pub fn verify_inclusion(
    leaf: &TreeHash,
    index: u64,
    size: u64,
    proof: &[TreeHash],
    root: &TreeHash,
) -> Result<(), ProofError> {
    if root_from_inclusion_proof(leaf, index, size, proof)? == *root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Checks that the tree of size `first` with root `first_root` is a prefix of the tree
/// of size `second` with root `second_root` (RFC 9162, section 2.1.4.2).
pub fn verify_consistency(
    first: u64,
    second: u64,
    proof: &[TreeHash],
    first_root: &TreeHash,
    second_root: &TreeHash,
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::SizesOutOfOrder { first, second });
    }
    if first == second {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if first_root == second_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if first == 0 {
        // Every tree extends the empty tree; there is nothing to prove.
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength)
        };
    }
    let (head, rest) = match proof.split_first() {
        Some(split) => split,
        None => return Err(ProofError::WrongLength),
    };
    // When `first` is a power of two the old root is itself a node of the new tree and
    // the proof starts one step later.
    let (start, rest) = if first.is_power_of_two() {
        (first_root, proof)
    } else {
        (head, rest)
    };
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*start, *start);
    for c in rest {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = TreeHash::node(c, &fr);
            sr = TreeHash::node(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = TreeHash::node(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr == *first_root && sr == *second_root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::tests::{Leaves, leaves, reference_root};
    use crate::merkle::{consistency_proof, inclusion_proof};

    #[test]
    fn every_proof_of_every_small_tree_verifies() {
        let all = leaves(40);
        let src = Leaves(all.clone());
        for n in 1..=all.len() as u64 {
            let root = reference_root(&all[..n as usize]);
            for m in 0..n {
                let proof = inclusion_proof(&src, m, n).unwrap();
                verify_inclusion(&all[m as usize], m, n, &proof, &root).unwrap();
            }
            for m in 0..=n {
                let proof = consistency_proof(&src, m, n).unwrap();
                let old = reference_root(&all[..m as usize]);
                verify_consistency(m, n, &proof, &old, &root).unwrap();
            }
        }
    }

    #[test]
    fn a_proof_for_another_leaf_or_size_fails() {
        let all = leaves(13);
        let src = Leaves(all.clone());
        let root = reference_root(&all);
        let proof = inclusion_proof(&src, 6, 13).unwrap();
        assert!(verify_inclusion(&all[7], 6, 13, &proof, &root).is_err());
        assert!(verify_inclusion(&all[6], 7, 13, &proof, &root).is_err());
        assert!(verify_inclusion(&all[6], 6, 26, &proof, &root).is_err());
        assert_eq!(
            verify_inclusion(&all[6], 13, 13, &proof, &root),
            Err(ProofError::IndexOutOfRange {
                index: 13,
                size: 13
            })
        );
        let cons = consistency_proof(&src, 5, 13).unwrap();
        let old = reference_root(&all[..5]);
        assert!(verify_consistency(5, 13, &cons, &old, &root).is_ok());
        assert!(verify_consistency(6, 13, &cons, &old, &root).is_err());
        assert!(verify_consistency(5, 13, &cons, &root, &old).is_err());
        assert!(verify_consistency(13, 5, &cons, &root, &old).is_err());
    }
}
