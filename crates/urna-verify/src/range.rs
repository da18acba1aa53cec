//! A compact Merkle range: the roots of the perfect subtrees covering a prefix of the
//! log, enough to compute the RFC 9162 tree head of every prefix while entries stream
//! past, in O(log n) memory.

use urna_board::TreeHash;

/// The perfect subtrees (height, root) covering leaves `0..size`, largest first.
#[derive(Debug, Clone, Default)]
pub struct CompactRange {
    size: u64,
    subtrees: Vec<(u32, TreeHash)>,
}

impl CompactRange {
    /// An empty range.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of leaves appended.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one entry (its encoded bytes).
    pub fn push(&mut self, entry: &[u8]) {
        self.push_hash(TreeHash::leaf(entry));
    }

    /// Appends one entry by its leaf hash.
    pub fn push_hash(&mut self, leaf: TreeHash) {
        let mut node = (0u32, leaf);
        while let Some(&(height, left)) = self.subtrees.last() {
            if height != node.0 {
                break;
            }
            self.subtrees.pop();
            node = (height + 1, TreeHash::node(&left, &node.1));
        }
        self.subtrees.push(node);
        self.size += 1;
    }

    /// The tree head (RFC 9162 Merkle Tree Hash) of the leaves appended so far.
    pub fn root(&self) -> TreeHash {
        let mut subtrees = self.subtrees.iter().rev();
        let Some(&(_, last)) = subtrees.next() else {
            return TreeHash::EMPTY_ROOT;
        };
        subtrees.fold(last, |right, (_, left)| TreeHash::node(left, &right))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9162 §2.1.1, written as the definition.
    fn reference(entries: &[Vec<u8>]) -> TreeHash {
        match entries.len() {
            0 => TreeHash::EMPTY_ROOT,
            1 => TreeHash::leaf(&entries[0]),
            n => {
                let k = n.next_power_of_two() / 2;
                TreeHash::node(&reference(&entries[..k]), &reference(&entries[k..]))
            }
        }
    }

    #[test]
    fn every_prefix_root_matches_the_definition() {
        let entries: Vec<Vec<u8>> = (0..70u8).map(|i| vec![i; usize::from(i)]).collect();
        let mut range = CompactRange::new();
        assert_eq!(range.root(), reference(&[]));
        for (i, entry) in entries.iter().enumerate() {
            range.push(entry);
            assert_eq!(range.size(), i as u64 + 1);
            assert_eq!(range.root(), reference(&entries[..=i]), "size {}", i + 1);
            assert!(range.subtrees.len() <= 7);
        }
    }
}
