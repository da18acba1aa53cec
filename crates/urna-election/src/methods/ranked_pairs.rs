//! Ranked Pairs (Tideman 1987), with the tie-breaking of Zavist and Tideman (1989).
//!
//! Every majority `a > b` (`d[a][b] > d[b][a]`) is a pair. Pairs are sorted strongest
//! first: more voters for the winner, then fewer for the loser, then by the contest's
//! lot (the "tie-breaking ranking of candidates": the pair whose winner is more
//! favoured first, and for the same winner the pair whose loser is less favoured
//! first). Each pair is locked in turn unless it would close a cycle with the pairs
//! already locked. The locked graph orders the candidates: at each seat the remaining
//! candidates with no locked defeat by a remaining candidate are the potential
//! winners, and the lot decides between several (which only happens when pairwise
//! ties leave candidates unordered).

use crate::Method;
use crate::error::Result;
use crate::method::TieBreak;
use crate::profile::{CandidateId, RankedProfile};
use crate::report::Tabulation;

use super::pairwise::{checked_pairwise, elect_unbeaten};
use super::tally::{amount, one_round};

/// Counts a Ranked Pairs election for `seats` winners (the first `seats` of its order).
///
/// # Errors
/// [`crate::Error::Count`] if `seats` is zero or exceeds the standing candidates, or
/// there are more than [`MAX_CANDIDATES`](super::pairwise::MAX_CANDIDATES).
pub fn ranked_pairs(profile: &RankedProfile, seats: u32, tie: &TieBreak) -> Result<Tabulation> {
    let cands = profile.candidates();
    let (seats_n, matrix) = checked_pairwise(profile, seats)?;
    let d = &matrix.preferred;
    let n = cands.len();
    let lot = tie.lot(cands);
    let standing = |i: usize| !cands[i].is_withdrawn();

    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for a in (0..n).filter(|&a| standing(a)) {
        for b in (0..n).filter(|&b| standing(b)) {
            if d[a][b] > d[b][a] {
                pairs.push((a, b));
            }
        }
    }
    let rank = |i: usize| lot.rank(CandidateId::new(u32::try_from(i).unwrap_or(u32::MAX)));
    pairs.sort_by(|&(a, b), &(c, e)| {
        d[c][e]
            .cmp(&d[a][b])
            .then(d[b][a].cmp(&d[e][c]))
            .then(rank(a).cmp(&rank(c)))
            .then(rank(e).cmp(&rank(b)))
    });

    let mut locked = vec![vec![false; n]; n];
    let mut reach = Closure::new(n);
    let mut notes = Vec::new();
    for &(a, b) in &pairs {
        let line = format!(
            "{} > {} ({} to {})",
            cands[a].name(),
            cands[b].name(),
            d[a][b],
            d[b][a]
        );
        if reach.has(b, a) {
            notes.push(format!("skipped {line}: it would close a cycle"));
        } else {
            locked[a][b] = true;
            reach.add(a, b);
            notes.push(format!("locked {line}"));
        }
    }

    let winners = elect_unbeaten(
        cands,
        seats_n,
        tie,
        &lot,
        |b, a| locked[b][a],
        |names| format!("unordered by locked pairs: {names};"),
        &mut notes,
    );
    let totals = (0..n).map(|a| amount(reach.count(a))).collect();
    let mut t = one_round(
        Method::RankedPairs,
        cands,
        seats,
        totals,
        winners,
        notes,
        vec!["round values: opponents ranked below through locked pairs".into()],
    );
    t.pairwise = Some(matrix);
    Ok(t)
}

/// The transitive closure of the locked pairs, one bit set per candidate, so a cycle
/// check is one bit test and a lock costs `n²/64` word operations at most.
struct Closure {
    words: usize,
    bits: Vec<u64>,
}

impl Closure {
    fn new(n: usize) -> Self {
        let words = n.div_ceil(64).max(1);
        Self {
            words,
            bits: vec![0; words * n],
        }
    }

    fn row(&self, x: usize) -> &[u64] {
        &self.bits[x * self.words..(x + 1) * self.words]
    }

    /// Whether `to` is reachable from `from` along locked pairs.
    fn has(&self, from: usize, to: usize) -> bool {
        self.row(from)[to / 64] >> (to % 64) & 1 == 1
    }

    /// Locks `a → b`: everything that reaches `a` (and `a`) now reaches `b` and all
    /// that `b` reaches.
    fn add(&mut self, a: usize, b: usize) {
        if self.has(a, b) {
            return;
        }
        let mut gained = self.row(b).to_vec();
        gained[b / 64] |= 1 << (b % 64);
        let n = self.bits.len() / self.words;
        for x in 0..n {
            if x == a || self.has(x, a) {
                let w = self.words;
                for (cell, g) in self.bits[x * w..(x + 1) * w].iter_mut().zip(&gained) {
                    *cell |= g;
                }
            }
        }
    }

    /// How many candidates `x` reaches.
    fn count(&self, x: usize) -> u64 {
        self.row(x).iter().map(|w| u64::from(w.count_ones())).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{letters, schulze_example_1, tennessee};
    use super::*;

    #[test]
    fn closure_follows_chains_across_words() {
        let mut c = Closure::new(130);
        c.add(0, 70);
        c.add(70, 129);
        assert!(c.has(0, 129) && c.has(0, 70) && !c.has(129, 0));
        c.add(5, 0);
        assert!(c.has(5, 129));
        assert_eq!((c.count(5), c.count(0), c.count(129)), (3, 2, 0));
    }

    #[test]
    fn tennessee_elects_nashville_with_full_order() {
        let t = ranked_pairs(&tennessee(), 4, &TieBreak::default()).unwrap();
        // Nashville > Chattanooga > Knoxville > Memphis.
        assert_eq!(
            t.winner_names(),
            ["Nashville", "Chattanooga", "Knoxville", "Memphis"]
        );
        assert_eq!(t.rounds[0].tallies, [0, 3, 2, 1].map(amount));
    }

    #[test]
    fn a_cycle_skips_the_weakest_pair() {
        // A>B 7-2? Build the classic cycle: A beats B, B beats C, C beats A.
        let p = letters(3, &[(4, "ABC"), (3, "BCA"), (2, "CAB")]);
        // d: A>B 6-3, B>C 7-2, C>A 5-4. Lock B>C (7), A>B (6); C>A (5) closes a cycle.
        let t = ranked_pairs(&p, 1, &TieBreak::default()).unwrap();
        assert_eq!(t.winner_names(), ["A"]);
        assert!(
            t.rounds[0]
                .notes
                .iter()
                .any(|n| n.starts_with("skipped C > A"))
        );
    }

    #[test]
    fn schulze_example_1_elects_a_under_ranked_pairs() {
        // Schulze (2018) example 1 has a cycle; Schulze elects E, while Ranked Pairs
        // locks B>D 33, E>D 31, A>D 30, C>B 29, skips D>C 28, locks E>B 27, A>C 26,
        // skips B>A 25, locks C>E 24, skips E>A 23: A is the only source.
        let p = schulze_example_1();
        let t = ranked_pairs(&p, 1, &TieBreak::default()).unwrap();
        assert_eq!(t.winner_names(), ["A"]);
        let skipped: Vec<&String> = t.rounds[0]
            .notes
            .iter()
            .filter(|n| n.starts_with("skipped"))
            .collect();
        assert_eq!(skipped.len(), 3, "{skipped:?}");
    }
}
