//! The pairwise (head-to-head) matrix every Condorcet method starts from.
//!
//! `preferred[a][b]` counts the voters who rank `a` strictly above `b`. A ranked
//! candidate is above every unranked one; candidates in the same preference group, or
//! both unranked, are not compared.

use crate::profile::RankedProfile;
use crate::report::Pairwise;

/// Counts the pairwise matrix of `profile`.
#[must_use]
pub fn pairwise(profile: &RankedProfile) -> Pairwise {
    let n = profile.candidates().len();
    let mut flat = vec![0u64; n * n];
    let mut position = vec![u32::MAX; n];
    for ballot in profile.ballots() {
        position.fill(u32::MAX);
        for (g, group) in ballot.ranking().iter().enumerate() {
            let g = u32::try_from(g).unwrap_or(u32::MAX - 1);
            for c in group {
                position[c.index()] = g;
            }
        }
        let count = ballot.count();
        for (a, row) in flat.chunks_exact_mut(n).enumerate() {
            let pa = position[a];
            if pa == u32::MAX {
                continue;
            }
            for (cell, &pb) in row.iter_mut().zip(&position) {
                *cell += u64::from(pa < pb) * count;
            }
        }
    }
    Pairwise {
        preferred: flat.chunks_exact(n.max(1)).map(<[u64]>::to_vec).collect(),
    }
}

/// The Condorcet winner: the candidate preferred to every other by more voters than
/// prefer the other, if there is one.
#[must_use]
pub fn condorcet_winner(matrix: &Pairwise) -> Option<usize> {
    let d = &matrix.preferred;
    (0..d.len()).find(|&a| (0..d.len()).all(|b| a == b || d[a][b] > d[b][a]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Candidate, CandidateId, RankedBallot};

    #[test]
    fn counts_ties_and_truncation() {
        let c = CandidateId::new;
        let p = RankedProfile::new(
            ["A", "B", "C", "D"].map(Candidate::new).into(),
            None,
            None,
            vec![
                RankedBallot::new(2, vec![vec![c(0)], vec![c(1), c(2)]]),
                RankedBallot::strict(3, &[c(3), c(2)]),
            ],
        )
        .unwrap();
        let d = pairwise(&p).preferred;
        assert_eq!(d[0], [0, 2, 2, 2]);
        assert_eq!(d[1], [0, 0, 0, 2]);
        assert_eq!(d[2], [3, 3, 0, 2]);
        assert_eq!(d[3], [3, 3, 3, 0]);
        assert_eq!(condorcet_winner(&pairwise(&p)), Some(3));
    }
}
