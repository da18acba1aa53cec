//! RFC 6962 / RFC 9162 known-answer vectors (transparency-dev/merkle) for roots,
//! inclusion proofs and consistency proofs: generated, verified, and every mutation
//! refused.

use urna_board::merkle::{consistency_proof, inclusion_proof, root};
use urna_board::{NodeSource, ProofError, TreeHash, verify_consistency, verify_inclusion};

struct Vectors {
    leaves: Vec<Vec<u8>>,
    roots: Vec<TreeHash>,
    inclusion: Vec<(u64, u64, Vec<TreeHash>)>,
    consistency: Vec<(u64, u64, Vec<TreeHash>)>,
}

fn hash(s: &str) -> TreeHash {
    TreeHash::from_slice(&hex::decode(s).unwrap()).unwrap()
}

fn load() -> Vectors {
    let text = include_str!("../testdata/transparency-dev-merkle.txt");
    let mut v = Vectors {
        leaves: Vec::new(),
        roots: Vec::new(),
        inclusion: Vec::new(),
        consistency: Vec::new(),
    };
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.split(' ').collect();
        let num = |i: usize| f[i].parse::<u64>().unwrap();
        match f[0] {
            "leaf" => {
                assert_eq!(num(1) as usize, v.leaves.len());
                v.leaves.push(if f[2] == "-" {
                    Vec::new()
                } else {
                    hex::decode(f[2]).unwrap()
                });
            }
            "root" => {
                assert_eq!(num(1) as usize, v.roots.len());
                v.roots.push(hash(f[2]));
            }
            "inclusion" => {
                v.inclusion
                    .push((num(1), num(2), f[3..].iter().map(|h| hash(h)).collect()))
            }
            "consistency" => {
                v.consistency
                    .push((num(1), num(2), f[3..].iter().map(|h| hash(h)).collect()))
            }
            other => panic!("unknown vector line {other}"),
        }
    }
    assert_eq!((v.leaves.len(), v.roots.len()), (8, 9));
    assert_eq!((v.inclusion.len(), v.consistency.len()), (5, 5));
    v
}

struct Leaves(Vec<TreeHash>);

impl NodeSource for Leaves {
    fn node(&self, level: u8, index: u64) -> urna_board::Result<TreeHash> {
        let mut layer: Vec<TreeHash> = self.0.clone();
        for _ in 0..level {
            layer = layer
                .chunks(2)
                .filter(|c| c.len() == 2)
                .map(|c| TreeHash::node(&c[0], &c[1]))
                .collect();
        }
        Ok(layer[index as usize])
    }
}

fn leaf_hashes(v: &Vectors) -> Vec<TreeHash> {
    v.leaves.iter().map(|l| TreeHash::leaf(l)).collect()
}

#[test]
fn roots_of_every_prefix_match() {
    let v = load();
    let src = Leaves(leaf_hashes(&v));
    for (size, want) in v.roots.iter().enumerate() {
        assert_eq!(root(&src, size as u64).unwrap(), *want, "size {size}");
    }
}

#[test]
fn inclusion_proofs_are_generated_and_verified() {
    let v = load();
    let leaves = leaf_hashes(&v);
    let src = Leaves(leaves.clone());
    for (index, size, want) in &v.inclusion {
        assert_eq!(&inclusion_proof(&src, *index, *size).unwrap(), want);
        let root = v.roots[*size as usize];
        let leaf = leaves[*index as usize];
        verify_inclusion(&leaf, *index, *size, want, &root).unwrap();
        for (what, probe) in corrupt_inclusion(*index, *size, want, &root, &leaf) {
            assert!(
                verify_inclusion(&probe.1, probe.0, probe.2, &probe.3, &probe.4).is_err(),
                "{what} verified for leaf {index} of {size}"
            );
        }
    }
}

#[test]
fn consistency_proofs_are_generated_and_verified() {
    let v = load();
    let src = Leaves(leaf_hashes(&v));
    for (first, second, want) in &v.consistency {
        assert_eq!(&consistency_proof(&src, *first, *second).unwrap(), want);
        let (r1, r2) = (v.roots[*first as usize], v.roots[*second as usize]);
        verify_consistency(*first, *second, want, &r1, &r2).unwrap();
        if want.is_empty() {
            continue;
        }
        for (what, p) in corrupt_consistency(*first, *second, want, &r1, &r2) {
            assert!(
                verify_consistency(p.0, p.1, &p.2, &p.3, &p.4).is_err(),
                "{what} verified for {first} -> {second}"
            );
        }
    }
}

#[test]
fn degenerate_consistency_cases() {
    let some = TreeHash::leaf(b"some");
    let other = TreeHash::leaf(b"other");
    let e = TreeHash::EMPTY_ROOT;
    assert!(verify_consistency(0, 0, &[], &some, &some).is_ok());
    assert!(verify_consistency(0, 1, &[], &some, &other).is_ok());
    assert!(verify_consistency(1, 1, &[], &other, &other).is_ok());
    assert!(verify_consistency(0, 0, &[], &some, &other).is_err());
    assert!(verify_consistency(1, 1, &[], &some, &other).is_err());
    assert_eq!(
        verify_consistency(1, 0, &[], &some, &other),
        Err(ProofError::SizesOutOfOrder {
            first: 1,
            second: 0
        })
    );
    assert!(verify_consistency(2, 1, &[], &some, &other).is_err());
    assert!(verify_consistency(1, 2, &[], &some, &other).is_err());
    assert!(verify_consistency(0, 0, &[e], &e, &e).is_err());
    assert!(verify_consistency(0, 1, &[e], &e, &e).is_err());
    assert!(verify_consistency(1, 1, &[e], &e, &e).is_err());
}

#[test]
fn degenerate_inclusion_cases() {
    let some = TreeHash::leaf(b"some");
    for (index, size) in [(0, 0), (1, 0), (2, 1)] {
        assert!(verify_inclusion(&some, index, size, &[], &TreeHash::EMPTY_ROOT).is_err());
    }
    // A one-leaf tree: the root is the leaf and the proof is empty.
    assert!(verify_inclusion(&some, 0, 1, &[], &some).is_ok());
    assert!(verify_inclusion(&some, 0, 1, &[], &TreeHash::EMPTY_ROOT).is_err());
}

type InclusionProbe = (u64, TreeHash, u64, Vec<TreeHash>, TreeHash);

fn corrupt_inclusion(
    index: u64,
    size: u64,
    proof: &[TreeHash],
    root: &TreeHash,
    leaf: &TreeHash,
) -> Vec<(String, InclusionProbe)> {
    let some = hash("abacaba000000000000000000000000000000000000000000060061e00123456");
    let p = proof.to_vec();
    let mut out = vec![
        (
            "index - 1".to_string(),
            (index.wrapping_sub(1), *leaf, size, p.clone(), *root),
        ),
        (
            "index + 1".to_string(),
            (index + 1, *leaf, size, p.clone(), *root),
        ),
        (
            "index ^ 2".to_string(),
            (index ^ 2, *leaf, size, p.clone(), *root),
        ),
        (
            "size * 2".to_string(),
            (index, *leaf, size * 2, p.clone(), *root),
        ),
        (
            "size / 2".to_string(),
            (index, *leaf, size / 2, p.clone(), *root),
        ),
        (
            "wrong leaf".to_string(),
            (index, TreeHash::leaf(b"WrongLeaf"), size, p.clone(), *root),
        ),
        (
            "empty root".to_string(),
            (index, *leaf, size, p.clone(), TreeHash::EMPTY_ROOT),
        ),
        (
            "random root".to_string(),
            (index, *leaf, size, p.clone(), some),
        ),
        (
            "trailing root".to_string(),
            (index, *leaf, size, [p.clone(), vec![*root]].concat(), *root),
        ),
        (
            "preceding root".to_string(),
            (index, *leaf, size, [vec![*root], p.clone()].concat(), *root),
        ),
    ];
    for i in 0..p.len() {
        let mut q = p.clone();
        let mut b = *q[i].as_bytes();
        b[0] ^= 8;
        q[i] = TreeHash::from_bytes(b);
        out.push((
            format!("modified proof[{i}]"),
            (index, *leaf, size, q, *root),
        ));
    }
    if !p.is_empty() {
        out.push((
            "removed component".into(),
            (index, *leaf, size, p[..p.len() - 1].to_vec(), *root),
        ));
    }
    if p.len() > 1 {
        let q = [vec![p[0], some], p[1..].to_vec()].concat();
        out.push(("inserted component".into(), (index, *leaf, size, q, *root)));
    }
    out
}

type ConsistencyProbe = (u64, u64, Vec<TreeHash>, TreeHash, TreeHash);

fn corrupt_consistency(
    first: u64,
    second: u64,
    proof: &[TreeHash],
    r1: &TreeHash,
    r2: &TreeHash,
) -> Vec<(String, ConsistencyProbe)> {
    let p = proof.to_vec();
    let wrong = TreeHash::leaf(b"WrongRoot");
    let mut out = vec![
        (
            "first - 1".to_string(),
            (first - 1, second, p.clone(), *r1, *r2),
        ),
        (
            "first + 1".to_string(),
            (first + 1, second, p.clone(), *r1, *r2),
        ),
        (
            "first ^ 2".to_string(),
            (first ^ 2, second, p.clone(), *r1, *r2),
        ),
        (
            "second * 2".to_string(),
            (first, second * 2, p.clone(), *r1, *r2),
        ),
        (
            "second / 2".to_string(),
            (first, second / 2, p.clone(), *r1, *r2),
        ),
        (
            "wrong root1".to_string(),
            (first, second, p.clone(), wrong, *r2),
        ),
        (
            "wrong root2".to_string(),
            (first, second, p.clone(), *r1, wrong),
        ),
        (
            "swapped roots".to_string(),
            (first, second, p.clone(), *r2, *r1),
        ),
        (
            "empty proof".to_string(),
            (first, second, Vec::new(), *r1, *r2),
        ),
        (
            "trailing root1".to_string(),
            (first, second, [p.clone(), vec![*r1]].concat(), *r1, *r2),
        ),
        (
            "trailing root2".to_string(),
            (first, second, [p.clone(), vec![*r2]].concat(), *r1, *r2),
        ),
        (
            "preceding root1".to_string(),
            (first, second, [vec![*r1], p.clone()].concat(), *r1, *r2),
        ),
        (
            "preceding root2".to_string(),
            (first, second, [vec![*r2], p.clone()].concat(), *r1, *r2),
        ),
        (
            "preceding proof[0]".to_string(),
            (first, second, [vec![p[0]], p.clone()].concat(), *r1, *r2),
        ),
        (
            "truncated proof".to_string(),
            (first, second, p[..p.len() - 1].to_vec(), *r1, *r2),
        ),
    ];
    for i in 0..p.len() {
        let mut q = p.clone();
        let mut b = *q[i].as_bytes();
        b[0] ^= 16;
        q[i] = TreeHash::from_bytes(b);
        out.push((format!("modified proof[{i}]"), (first, second, q, *r1, *r2)));
    }
    out
}

#[test]
fn a_log_on_a_store_gives_the_same_roots_and_proofs() {
    let v = load();
    let mut log = urna_board::Log::open(urna_board::MemoryStore::new(), "urna.example/v").unwrap();
    for (i, leaf) in v.leaves.iter().enumerate() {
        log.integrate(std::slice::from_ref(leaf)).unwrap();
        assert_eq!(log.root(), v.roots[i + 1]);
    }
    for (index, size, want) in &v.inclusion {
        assert_eq!(&log.inclusion_proof(*index, *size).unwrap(), want);
    }
    for (first, second, want) in &v.consistency {
        assert_eq!(&log.consistency_proof(*first, *second).unwrap(), want);
    }
}
