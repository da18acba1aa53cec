//! Plurality ("vote for N of M") and approval voting.
//!
//! Both count marks: each marked option gets one vote, and the `seats` options with the
//! most votes win. From ranked ballots, a plurality ballot's marks are its first
//! preference group, if it holds at most `seats` candidates (a larger group is an
//! overvote and counts for no one); an approval ballot marks every candidate it ranks.
//! Ties at the last seat are decided by the contest's [`TieBreak`]; with only one
//! round, "previous rounds" goes straight to its lot.

use crate::Method;
use crate::error::Result;
use crate::method::TieBreak;
use crate::profile::{Candidate, RankedProfile};
use crate::report::Tabulation;

use super::tally::{amount, check_seats, checked_voters, elect_highest, one_round};

/// Plurality (vote for `seats`) over ranked ballots.
///
/// # Errors
/// [`crate::Error::Count`] if `seats` is zero or exceeds the standing candidates.
pub fn plurality(profile: &RankedProfile, seats: u32, tie: &TieBreak) -> Result<Tabulation> {
    let voters = checked_voters(profile.ballots().iter().map(|b| b.count()))?;
    let limit = usize::try_from(seats).unwrap_or(usize::MAX);
    let mut totals = vec![0u64; profile.candidates().len()];
    let (mut overvotes, mut blank) = (0u64, 0u64);
    for ballot in profile.ballots() {
        match ballot.ranking().first() {
            None => blank += ballot.count(),
            Some(group) if group.len() > limit => overvotes += ballot.count(),
            Some(group) => {
                for c in group {
                    totals[c.index()] += ballot.count();
                }
            }
        }
    }
    let mut notes = vec![format!(
        "{voters} ballot(s): {blank} blank, {overvotes} overvoted (more than {seats} first choice(s)), counted for no one"
    )];
    let mut tab = from_totals(Method::Plurality, profile.candidates(), &totals, seats, tie)?;
    notes.append(&mut tab.notes);
    tab.notes = notes;
    Ok(tab)
}

/// Approval over ranked ballots: every ranked candidate is approved.
///
/// # Errors
/// [`crate::Error::Count`] if `seats` is zero or exceeds the standing candidates.
pub fn approval(profile: &RankedProfile, seats: u32, tie: &TieBreak) -> Result<Tabulation> {
    checked_voters(profile.ballots().iter().map(|b| b.count()))?;
    let mut totals = vec![0u64; profile.candidates().len()];
    for ballot in profile.ballots() {
        for c in ballot.ranking().iter().flatten() {
            totals[c.index()] += ballot.count();
        }
    }
    from_totals(Method::Approval, profile.candidates(), &totals, seats, tie)
}

/// Any additive method from its per-option totals (as a homomorphic tally decrypts
/// them): the `seats` highest totals win.
///
/// # Errors
/// [`crate::Error::Count`] if `seats` is zero or exceeds the standing candidates, or
/// `totals` does not have one entry per candidate.
pub fn from_totals(
    method: Method,
    candidates: &[Candidate],
    totals: &[u64],
    seats: u32,
    tie: &TieBreak,
) -> Result<Tabulation> {
    let n = check_seats(candidates, seats)?;
    if totals.len() != candidates.len() {
        return Err(crate::Error::Count(format!(
            "{} totals for {} candidates",
            totals.len(),
            candidates.len()
        )));
    }
    let totals: Vec<_> = totals.iter().map(|&t| amount(t)).collect();
    let mut round_notes = Vec::new();
    let winners = elect_highest(candidates, &totals, n, tie, &[], &mut round_notes);
    Ok(one_round(
        method,
        candidates,
        seats,
        totals,
        winners,
        round_notes,
        Vec::new(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::tennessee;
    use super::*;
    use crate::profile::{CandidateId, RankedBallot};

    #[test]
    fn tennessee_plurality_elects_memphis() {
        let t = plurality(&tennessee(), 1, &TieBreak::default()).unwrap();
        assert_eq!(t.winner_names(), ["Memphis"]);
        let r = t.final_round().unwrap();
        assert_eq!(r.tallies, [42, 26, 15, 17].map(amount));
        assert_eq!(r.eliminated.len(), 3);
    }

    #[test]
    fn vote_for_two_counts_top_groups_and_refuses_overvotes() {
        let c = CandidateId::new;
        let profile = RankedProfile::new(
            ["A", "B", "C"].map(Candidate::new).into(),
            None,
            None,
            vec![
                RankedBallot::new(3, vec![vec![c(0), c(1)]]),
                RankedBallot::new(2, vec![vec![c(2)], vec![c(0)]]),
                RankedBallot::new(4, vec![vec![c(0), c(1), c(2)]]),
            ],
        )
        .unwrap();
        let t = plurality(&profile, 2, &TieBreak::default()).unwrap();
        assert_eq!(t.final_round().unwrap().tallies, [3, 3, 2].map(amount));
        assert_eq!(t.winner_names(), ["A", "B"]);
        assert!(t.notes[0].contains("4 overvoted"), "{:?}", t.notes);
        let a = approval(&profile, 1, &TieBreak::default()).unwrap();
        assert_eq!(a.final_round().unwrap().tallies, [9, 7, 6].map(amount));
        assert_eq!(a.winner_names(), ["A"]);
    }

    #[test]
    fn totals_must_match_candidates() {
        let cands: Vec<Candidate> = ["A", "B"].map(Candidate::new).into();
        assert!(from_totals(Method::Approval, &cands, &[1], 1, &TieBreak::default()).is_err());
        assert!(from_totals(Method::Approval, &cands, &[1, 2], 3, &TieBreak::default()).is_err());
    }
}
