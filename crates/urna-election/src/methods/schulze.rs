//! The Schulze method (beatpath), as defined in Markus Schulze, "The Schulze Method of
//! Voting" (2018), with the "winning votes" link strength.
//!
//! The strength of the link `a → b` is `d[a][b]` if `d[a][b] > d[b][a]`, else 0; the
//! strength of a path is its weakest link; `p[a][b]` is the strongest path from `a` to
//! `b` (widest paths, Floyd–Warshall). `a` beats `b` if `p[a][b] > p[b][a]`; this
//! relation is transitive, so candidates are elected in order: at each seat, the
//! remaining candidates no remaining candidate beats are the potential winners, and a
//! tie between several goes to the contest's lot ([`TieBreak`]).

use crate::Method;
use crate::error::Result;
use crate::method::TieBreak;
use crate::profile::RankedProfile;
use crate::report::Tabulation;

use super::pairwise::{checked_pairwise, elect_unbeaten};
use super::tally::{amount, one_round};

/// The strongest-path matrix of a pairwise matrix `d` (winning votes).
#[must_use]
pub fn strongest_paths(d: &[Vec<u64>]) -> Vec<Vec<u64>> {
    let n = d.len();
    let mut p = vec![vec![0u64; n]; n];
    for a in 0..n {
        for b in 0..n {
            if a != b && d[a][b] > d[b][a] {
                p[a][b] = d[a][b];
            }
        }
    }
    for i in 0..n {
        // Row i does not change while rows j ≠ i are relaxed through i.
        let through = p[i].clone();
        for (j, row) in p.iter_mut().enumerate() {
            let pji = row[i];
            if j == i || pji == 0 {
                continue;
            }
            for (k, (cell, &pik)) in row.iter_mut().zip(&through).enumerate() {
                if k != i && k != j {
                    let via = pji.min(pik);
                    if via > *cell {
                        *cell = via;
                    }
                }
            }
        }
    }
    p
}

/// Counts a Schulze election for `seats` winners (the first `seats` of the Schulze
/// order).
///
/// # Errors
/// [`crate::Error::Count`] if `seats` is zero or exceeds the standing candidates, or
/// there are more than [`MAX_CANDIDATES`](super::pairwise::MAX_CANDIDATES).
pub fn schulze(profile: &RankedProfile, seats: u32, tie: &TieBreak) -> Result<Tabulation> {
    let cands = profile.candidates();
    let (seats_n, matrix) = checked_pairwise(profile, seats)?;
    let p = strongest_paths(&matrix.preferred);
    let n = cands.len();
    let beats = |a: usize, b: usize| p[a][b] > p[b][a];
    let lot = tie.lot(cands);
    let totals = (0..n)
        .map(|a| amount((0..n).filter(|&b| beats(a, b)).count() as u64))
        .collect();
    let mut notes = Vec::new();
    let winners = elect_unbeaten(
        cands,
        seats_n,
        tie,
        &lot,
        beats,
        |names| format!("potential winners {names} are unbeaten:"),
        &mut notes,
    );
    for (a, row) in p.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(b, v)| {
                if a == b {
                    "-".to_owned()
                } else {
                    v.to_string()
                }
            })
            .collect();
        notes.push(format!(
            "strongest paths from {}: {}",
            cands[a].name(),
            cells.join(" ")
        ));
    }
    let mut t = one_round(
        Method::Schulze,
        cands,
        seats,
        totals,
        winners,
        notes,
        vec!["round values: opponents beaten by strongest path (winning votes)".into()],
    );
    t.pairwise = Some(matrix);
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{letters, schulze_example_1, tennessee};
    use super::super::pairwise::pairwise;
    use super::*;
    use crate::profile::CandidateId;

    /// Schulze (2018), section 3.1, example 1: 45 voters, winner E.
    #[test]
    fn schulze_paper_example_1() {
        let p = schulze_example_1();
        let m = pairwise(&p);
        assert_eq!(m.preferred[0], [0, 20, 26, 30, 22]);
        assert_eq!(m.preferred[4], [23, 27, 21, 31, 0]);
        let paths = strongest_paths(&m.preferred);
        assert_eq!(paths[0], [0, 28, 28, 30, 24]);
        assert_eq!(paths[4], [25, 28, 28, 31, 0]);
        let t = schulze(&p, 5, &TieBreak::default()).unwrap();
        // The paper's order: E > A > C > B > D.
        assert_eq!(t.winner_names(), ["E", "A", "C", "B", "D"]);
    }

    /// Schulze (2018), section 3.2, example 2: 30 voters, winner D.
    #[test]
    fn schulze_paper_example_2() {
        let p = letters(
            4,
            &[
                (5, "ACBD"),
                (2, "ACDB"),
                (3, "ADCB"),
                (4, "BACD"),
                (3, "CBDA"),
                (3, "CDBA"),
                (1, "DACB"),
                (5, "DBAC"),
                (4, "DCBA"),
            ],
        );
        let t = schulze(&p, 1, &TieBreak::default()).unwrap();
        assert_eq!(t.winner_names(), ["D"]);
    }

    /// Schulze (2018), section 3.3, example 4: 9 voters, B and D tie (the order
    /// relation is not complete); the tie-break decides.
    #[test]
    fn schulze_paper_example_4_tie_goes_to_the_rule() {
        let p = letters(4, &[(3, "ABCD"), (2, "DABC"), (2, "DBCA"), (2, "CBDA")]);
        let t = schulze(&p, 1, &TieBreak::default()).unwrap();
        assert_eq!(t.winner_names(), ["B"]);
        assert!(
            t.rounds[0].notes[0].starts_with("potential winners B and D"),
            "{:?}",
            t.rounds[0].notes
        );
        let fixed = TieBreak::FixedOrder(vec![CandidateId::new(3)]);
        assert_eq!(schulze(&p, 1, &fixed).unwrap().winner_names(), ["D"]);
    }

    #[test]
    fn tennessee_condorcet_winner_is_nashville() {
        let t = schulze(&tennessee(), 1, &TieBreak::default()).unwrap();
        assert_eq!(t.winner_names(), ["Nashville"]);
        let m = t.pairwise.unwrap();
        assert_eq!(m.preferred[1][0], 58);
        assert_eq!(m.preferred[0][1], 42);
    }
}
