//! Score (range) voting and the Borda count: the highest totals win.
//!
//! Score: each ballot gives every candidate a score; a candidate's total is the sum.
//! Borda: a ranked ballot gives each candidate one point per candidate it ranks
//! strictly below it (unranked candidates are below every ranked one and get nothing),
//! so a full ranking of n gives n−1, n−2, …, 0 and candidates tied on a ballot share
//! the same, whole, number of points. Ties at the last seat go to the [`TieBreak`].

use crate::Method;
use crate::error::Result;
use crate::method::TieBreak;
use crate::profile::RankedProfile;
use crate::report::Tabulation;
use crate::scored::ScoredProfile;

use super::plurality::from_totals;
use super::tally::{checked_voters, narrow};

/// Score voting: the `seats` highest total scores win.
///
/// # Errors
/// [`crate::Error::Count`] if `seats` is zero or exceeds the candidates.
pub fn score(profile: &ScoredProfile, seats: u32, tie: &TieBreak) -> Result<Tabulation> {
    let totals = score_totals(profile)?;
    let mut t = from_totals(Method::Score, profile.candidates(), &totals, seats, tie)?;
    t.notes.push(format!(
        "{} ballot(s), scores 0 to {}",
        profile.voters(),
        profile.max_score()
    ));
    Ok(t)
}

/// Each candidate's total score.
///
/// # Errors
/// [`crate::Error::Overflow`] if the ballot counts or a total do not fit in `u64`.
pub(crate) fn score_totals(profile: &ScoredProfile) -> Result<Vec<u64>> {
    checked_voters(profile.ballots().iter().map(|b| b.count()))?;
    let mut totals = vec![0u128; profile.candidates().len()];
    for b in profile.ballots() {
        for (t, &s) in totals.iter_mut().zip(b.scores()) {
            *t += u128::from(s) * u128::from(b.count());
        }
    }
    narrow(totals, "score totals")
}

/// The Borda count: the `seats` highest point totals win.
///
/// # Errors
/// [`crate::Error::Count`] if `seats` is zero or exceeds the candidates.
pub fn borda(profile: &RankedProfile, seats: u32, tie: &TieBreak) -> Result<Tabulation> {
    checked_voters(profile.ballots().iter().map(|b| b.count()))?;
    let n = profile.candidates().len() as u128;
    let mut totals = vec![0u128; profile.candidates().len()];
    for b in profile.ballots() {
        let mut above = 0u128;
        for group in b.ranking() {
            above += group.len() as u128;
            let points = n - above;
            for c in group {
                totals[c.index()] += points * u128::from(b.count());
            }
        }
    }
    let totals = narrow(totals, "Borda totals")?;
    let mut t = from_totals(Method::Borda, profile.candidates(), &totals, seats, tie)?;
    t.notes.push(format!(
        "points: one per candidate ranked strictly below (a full ranking gives {}..0)",
        n.saturating_sub(1)
    ));
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::tennessee;
    use super::super::tally::amount;
    use super::*;
    use crate::profile::{Candidate, CandidateId, RankedBallot};
    use crate::scored::ScoredBallot;

    #[test]
    fn tennessee_borda_elects_nashville() {
        // Memphis 42·3 = 126; Nashville 42·2+26·3+15·1+17·1 = 194;
        // Chattanooga 42·1+26·2+15·3+17·2 = 173; Knoxville 26·1+15·2+17·3 = 107.
        let t = borda(&tennessee(), 1, &TieBreak::default()).unwrap();
        assert_eq!(t.winner_names(), ["Nashville"]);
        assert_eq!(
            t.final_round().unwrap().tallies,
            [126, 194, 173, 107].map(amount)
        );
    }

    #[test]
    fn borda_truncated_and_tied_ballots_get_whole_points() {
        let c = CandidateId::new;
        let p = RankedProfile::new(
            ["A", "B", "C", "D"].map(Candidate::new).into(),
            None,
            None,
            vec![
                RankedBallot::new(1, vec![vec![c(0)], vec![c(1), c(2)]]),
                RankedBallot::strict(1, &[c(3)]),
            ],
        )
        .unwrap();
        let t = borda(&p, 2, &TieBreak::default()).unwrap();
        assert_eq!(t.final_round().unwrap().tallies, [3, 1, 1, 3].map(amount));
        assert_eq!(t.winner_names(), ["A", "D"]);
    }

    #[test]
    fn overflowing_counts_are_refused_not_wrapped() {
        let cands: Vec<Candidate> = ["A", "B"].map(Candidate::new).into();
        let big = ScoredProfile::new(
            cands.clone(),
            5,
            None,
            vec![ScoredBallot::new(u64::MAX / 2, vec![5, 0])],
        )
        .unwrap();
        assert!(matches!(
            score(&big, 1, &TieBreak::default()),
            Err(crate::Error::Overflow(_))
        ));
        let two = ScoredProfile::new(
            cands.clone(),
            5,
            None,
            vec![
                ScoredBallot::new(u64::MAX, vec![1, 0]),
                ScoredBallot::new(1, vec![0, 1]),
            ],
        )
        .unwrap();
        assert!(score(&two, 1, &TieBreak::default()).is_err());
        let c = CandidateId::new;
        let ranked = RankedProfile::new(
            cands,
            None,
            None,
            vec![RankedBallot::strict(u64::MAX, &[c(0), c(1)])],
        )
        .unwrap();
        // u64::MAX voters fit; one Borda point each still fits; a second ballot would not.
        assert!(borda(&ranked, 1, &TieBreak::default()).is_ok());
    }

    #[test]
    fn score_sums_scores() {
        let p = ScoredProfile::new(
            ["A", "B"].map(Candidate::new).into(),
            5,
            None,
            vec![
                ScoredBallot::new(2, vec![5, 1]),
                ScoredBallot::new(3, vec![0, 4]),
            ],
        )
        .unwrap();
        let t = score(&p, 1, &TieBreak::default()).unwrap();
        assert_eq!(t.final_round().unwrap().tallies, [10, 14].map(amount));
        assert_eq!(t.winner_names(), ["B"]);
    }
}
