//! The pairwise (head-to-head) matrix every Condorcet method starts from.
//!
//! `preferred[a][b]` counts the voters who rank `a` strictly above `b`. A ranked
//! candidate is above every unranked one; candidates in the same preference group, or
//! both unranked, are not compared.

use crate::method::{Lot, Pick, TieBreak};
use crate::profile::{Candidate, CandidateId, RankedBallot, RankedProfile, ids};
use crate::report::Pairwise;

use super::tally::{check_seats, checked_voters, describe, names};

/// The most candidates a Condorcet count accepts: the matrix has `n²` cells and
/// Schulze's widest paths take `n³` steps, so an untrusted file with a huge candidate
/// list is refused rather than allowed to exhaust memory or time.
pub const MAX_CANDIDATES: usize = 500;

/// Refuses candidate lists longer than [`MAX_CANDIDATES`].
///
/// # Errors
/// [`crate::Error::Count`] naming the limit.
pub fn check_size(candidates: usize) -> crate::Result<()> {
    if candidates > MAX_CANDIDATES {
        return Err(crate::Error::Count(format!(
            "{candidates} candidates: Condorcet methods count at most {MAX_CANDIDATES}"
        )));
    }
    Ok(())
}

/// What every Condorcet count does first: checks `seats` against the standing
/// candidates, the candidate list against [`MAX_CANDIDATES`] and the total ballot
/// count against `u64`, then counts the pairwise matrix. Returns the seats as a
/// `usize` and the matrix.
pub(crate) fn checked_pairwise(
    profile: &RankedProfile,
    seats: u32,
) -> crate::Result<(usize, Pairwise)> {
    let seats = check_seats(profile.candidates(), seats)?;
    check_size(profile.candidates().len())?;
    checked_voters(profile.ballots().iter().map(|b| b.count()))?;
    Ok((seats, pairwise(profile)))
}

/// Elects `seats` standing candidates in order: each seat goes to a remaining
/// candidate whom no remaining candidate `beats` (`beats(b, a)`: `b` beats `a`),
/// and where several are unbeaten, [`TieBreak::pick`] chooses by `lot`, adding a note
/// `"{lead(names)} {pick} by {rule}"` to `notes`. Stops early if nobody is unbeaten.
pub(crate) fn elect_unbeaten(
    candidates: &[Candidate],
    seats: usize,
    tie: &TieBreak,
    lot: &Lot,
    beats: impl Fn(usize, usize) -> bool,
    lead: impl Fn(&str) -> String,
    notes: &mut Vec<String>,
) -> Vec<CandidateId> {
    let mut remaining: Vec<CandidateId> = ids(candidates.len())
        .filter(|c| !candidates[c.index()].is_withdrawn())
        .collect();
    let mut winners = Vec::with_capacity(seats);
    while winners.len() < seats {
        let unbeaten: Vec<CandidateId> = remaining
            .iter()
            .copied()
            .filter(|&a| !remaining.iter().any(|&b| beats(b.index(), a.index())))
            .collect();
        let Some(pick) = tie.pick(&unbeaten, &[], lot, Pick::Highest) else {
            break;
        };
        if unbeaten.len() > 1 {
            notes.push(format!(
                "{} {} by {}",
                lead(&names(candidates, &unbeaten)),
                candidates[pick.index()].name(),
                describe(tie)
            ));
        }
        remaining.retain(|&c| c != pick);
        winners.push(pick);
    }
    winners
}

/// Ballots below which counting stays on one thread.
const PARALLEL_FROM: usize = 50_000;

/// Counts the pairwise matrix of `profile`, splitting large profiles across the
/// machine's threads (the sums are the same in any order).
#[must_use]
pub fn pairwise(profile: &RankedProfile) -> Pairwise {
    let n = profile.candidates().len();
    let ballots = profile.ballots();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let flat = if threads > 1 && ballots.len() >= PARALLEL_FROM {
        let chunk = ballots.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let parts: Vec<_> = ballots
                .chunks(chunk)
                .map(|part| scope.spawn(move || count(part, n)))
                .collect();
            let mut total = vec![0u64; n * n];
            for part in parts {
                // A counting thread only adds integers; should it panic all the same,
                // the panic goes on here rather than a partial sum being returned.
                let counted = part
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                for (t, c) in total.iter_mut().zip(counted) {
                    *t += c;
                }
            }
            total
        })
    } else {
        count(ballots, n)
    };
    Pairwise {
        preferred: flat.chunks_exact(n.max(1)).map(<[u64]>::to_vec).collect(),
    }
}

/// The flat `n × n` matrix of `ballots`.
fn count(ballots: &[RankedBallot], n: usize) -> Vec<u64> {
    let mut flat = vec![0u64; n * n];
    let mut position = vec![u32::MAX; n];
    for ballot in ballots {
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
    flat
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

    #[test]
    fn huge_candidate_lists_are_refused_before_any_matrix() {
        assert!(check_size(MAX_CANDIDATES).is_ok());
        let cands: Vec<Candidate> = (0..=MAX_CANDIDATES)
            .map(|i| Candidate::new(i.to_string()))
            .collect();
        let p = RankedProfile::new(cands, None, None, vec![]).unwrap();
        let tie = crate::TieBreak::default();
        let e = super::super::schulze::schulze(&p, 1, &tie).unwrap_err();
        assert!(e.to_string().contains("at most 500"), "{e}");
        assert!(super::super::ranked_pairs::ranked_pairs(&p, 1, &tie).is_err());
    }

    #[test]
    fn threads_sum_to_the_single_thread_count() {
        let c = CandidateId::new;
        let orders = [[0, 1, 2], [2, 0, 1], [1, 2, 0], [0, 2, 1]];
        let ballots: Vec<RankedBallot> = (0..PARALLEL_FROM + 7)
            .map(|i| {
                let o = orders[i % 4];
                RankedBallot::strict(
                    1 + (i % 3) as u64,
                    &o[..1 + i % 3].iter().map(|&x| c(x)).collect::<Vec<_>>(),
                )
            })
            .collect();
        let single = count(&ballots, 3);
        let p = RankedProfile::new(
            ["A", "B", "C"].map(Candidate::new).into(),
            None,
            None,
            ballots,
        )
        .unwrap();
        let flat: Vec<u64> = pairwise(&p).preferred.concat();
        assert_eq!(flat, single);
        assert!(flat.iter().sum::<u64>() > 0);
    }
}
