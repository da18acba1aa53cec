//! Property tests: for random sizes m < n, every inclusion and consistency proof
//! verifies, and any mutated proof, root, index or size fails.

use proptest::prelude::*;
use urna_board::merkle::{consistency_proof, inclusion_proof, root};
use urna_board::{
    Log, MemoryStore, NodeSource, Store, TreeHash, verify_consistency, verify_inclusion,
};

/// Every level of a tree of `n` leaves, computed bottom-up.
struct Levels(Vec<Vec<TreeHash>>);

impl Levels {
    fn new(n: u64) -> Self {
        let mut levels = vec![
            (0..n)
                .map(|i| TreeHash::leaf(&i.to_le_bytes()))
                .collect::<Vec<_>>(),
        ];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let up = levels
                .last()
                .unwrap()
                .chunks_exact(2)
                .map(|c| TreeHash::node(&c[0], &c[1]))
                .collect();
            levels.push(up);
        }
        Levels(levels)
    }
}

impl NodeSource for Levels {
    fn node(&self, level: u8, index: u64) -> urna_board::Result<TreeHash> {
        Ok(self.0[level as usize][index as usize])
    }
}

fn flip(h: &TreeHash, bit: u8) -> TreeHash {
    let mut b = *h.as_bytes();
    b[(bit / 8) as usize % 32] ^= 1 << (bit % 8);
    TreeHash::from_bytes(b)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn inclusion_proofs_verify_and_mutations_fail(
        n in 1u64..3000, pick in any::<u64>(), which in any::<usize>(), bit in any::<u8>(),
    ) {
        let tree = Levels::new(n);
        let index = pick % n;
        let root = root(&tree, n).unwrap();
        let leaf = tree.0[0][index as usize];
        let proof = inclusion_proof(&tree, index, n).unwrap();
        prop_assert!(verify_inclusion(&leaf, index, n, &proof, &root).is_ok());

        prop_assert!(verify_inclusion(&flip(&leaf, bit), index, n, &proof, &root).is_err());
        prop_assert!(verify_inclusion(&leaf, index, n, &proof, &flip(&root, bit)).is_err());
        if !proof.is_empty() {
            let i = which % proof.len();
            let mut bad = proof.clone();
            bad[i] = flip(&bad[i], bit);
            prop_assert!(verify_inclusion(&leaf, index, n, &bad, &root).is_err());
            prop_assert!(verify_inclusion(&leaf, index, n, &proof[..proof.len() - 1], &root).is_err());
        }
        let mut longer = proof.clone();
        longer.push(root);
        prop_assert!(verify_inclusion(&leaf, index, n, &longer, &root).is_err());
        // The same proof for another index, or for a tree of twice or half the size.
        if n > 1 {
            prop_assert!(verify_inclusion(&leaf, (index + 1) % n, n, &proof, &root).is_err());
            prop_assert!(verify_inclusion(&leaf, index ^ 1, n, &proof, &root).is_err());
        }
        prop_assert!(verify_inclusion(&leaf, index, n * 2, &proof, &root).is_err());
        prop_assert!(verify_inclusion(&leaf, index, n / 2, &proof, &root).is_err());
    }

    #[test]
    fn consistency_proofs_verify_and_mutations_fail(
        n in 2u64..3000, pick in any::<u64>(), which in any::<usize>(), bit in any::<u8>(),
    ) {
        let tree = Levels::new(n);
        let m = 1 + pick % (n - 1);
        let (r1, r2) = (root(&tree, m).unwrap(), root(&tree, n).unwrap());
        let proof = consistency_proof(&tree, m, n).unwrap();
        prop_assert!(verify_consistency(m, n, &proof, &r1, &r2).is_ok());

        prop_assert!(verify_consistency(m, n, &proof, &flip(&r1, bit), &r2).is_err());
        prop_assert!(verify_consistency(m, n, &proof, &r1, &flip(&r2, bit)).is_err());
        prop_assert!(verify_consistency(m, n, &proof, &r2, &r1).is_err());
        let i = which % proof.len();
        let mut bad = proof.clone();
        bad[i] = flip(&bad[i], bit);
        prop_assert!(verify_consistency(m, n, &bad, &r1, &r2).is_err());
        prop_assert!(verify_consistency(m, n, &proof[..proof.len() - 1], &r1, &r2).is_err());
        let mut longer = proof.clone();
        longer.push(r2);
        prop_assert!(verify_consistency(m, n, &longer, &r1, &r2).is_err());
        prop_assert!(verify_consistency(m, n * 2, &proof, &r1, &r2).is_err());
        prop_assert!(verify_consistency(m, n / 2, &proof, &r1, &r2).is_err());
        prop_assert!(verify_consistency(m - 1, n, &proof, &r1, &r2).is_err());
        if m + 1 < n {
            prop_assert!(verify_consistency(m + 1, n, &proof, &r1, &r2).is_err());
        }
    }

    #[test]
    fn a_log_built_in_random_batches_has_the_same_tree(
        batches in proptest::collection::vec(1u64..700, 1..8), pick in any::<u64>(),
    ) {
        // Through a trait object, as a service holding `Box<dyn Store>` would.
        let store: Box<dyn Store> = Box::new(MemoryStore::new());
        let mut log = Log::open(store, "urna.example/p").unwrap();
        let mut n = 0;
        for b in &batches {
            let entries: Vec<Vec<u8>> = (n..n + b).map(|i| i.to_le_bytes().to_vec()).collect();
            prop_assert_eq!(log.integrate(&entries).unwrap(), n);
            n += b;
        }
        let tree = Levels::new(n);
        prop_assert_eq!(log.root(), root(&tree, n).unwrap());
        let m = pick % n;
        prop_assert_eq!(log.inclusion_proof(m, n).unwrap(), inclusion_proof(&tree, m, n).unwrap());
        prop_assert_eq!(log.consistency_proof(m, n).unwrap(), consistency_proof(&tree, m, n).unwrap());
        prop_assert_eq!(log.root_at(m).unwrap(), root(&tree, m).unwrap());
    }
}
