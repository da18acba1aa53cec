//! STAR voting (Score Then Automatic Runoff) with the STAR Voting project's official
//! tie-breaking protocol (as published by the Equal Vote Coalition and implemented on
//! its BetterVoting platform).
//!
//! 1. **Scoring round.** Each candidate's total score; the two highest advance.
//!    Finalists are chosen one at a time from the highest remaining total. When more
//!    candidates share that total than places remain:
//!    - if exactly two are tied, the one scored higher than the other on more ballots
//!      advances (head-to-head);
//!    - otherwise (three or more tied, or the head-to-head is equal) the candidate
//!      with the most maximum scores ("five-star ratings") advances;
//!    - otherwise the contest's lot decides ([`TieBreak`]: the seeded random order,
//!      the manifest's fixed order, or candidate list order).
//! 2. **Automatic runoff.** Each ballot goes to the finalist it scores higher; ballots
//!    scoring both equally are "no preference". More ballots wins. A tie goes to the
//!    finalist with the higher total score, then the one with more five-star ratings,
//!    then the lot.

use crate::Method;
use crate::error::{Error, Result};
use crate::method::{Pick, TieBreak};
use crate::profile::{CandidateId, ids};
use crate::report::{Amount, Round, Status, Tabulation};
use crate::scored::ScoredProfile;

use super::score::score_totals;
use super::tally::amount;

/// Counts a single-winner STAR election.
///
/// # Errors
/// [`Error::Count`] with fewer than two candidates.
pub fn star(profile: &ScoredProfile, tie: &TieBreak) -> Result<Tabulation> {
    let cands = profile.candidates();
    let n = cands.len();
    if n < 2 {
        return Err(Error::Count("STAR needs at least two candidates".into()));
    }
    let totals = score_totals(profile)?;
    let max = profile.max_score();
    let mut five_star = vec![0u64; n];
    for b in profile.ballots() {
        for (f, &s) in five_star.iter_mut().zip(b.scores()) {
            if s == max {
                *f += b.count();
            }
        }
    }
    let lot = tie.lot(cands);
    let name = |c: CandidateId| cands[c.index()].name().to_owned();
    let prefer = |a: CandidateId, b: CandidateId| -> u64 {
        profile
            .ballots()
            .iter()
            .filter(|x| x.score(a) > x.score(b))
            .map(|x| x.count())
            .sum()
    };

    // Scoring round.
    let mut notes1 = Vec::new();
    let mut remaining: Vec<CandidateId> = ids(n).collect();
    let mut finalists: Vec<CandidateId> = Vec::with_capacity(2);
    while finalists.len() < 2 {
        let Some(best) = remaining.iter().map(|c| totals[c.index()]).max() else {
            break;
        };
        let mut group: Vec<CandidateId> = remaining
            .iter()
            .copied()
            .filter(|c| totals[c.index()] == best)
            .collect();
        let open = 2 - finalists.len();
        if group.len() <= open {
            group.sort_by_key(|&c| lot.rank(c));
            remaining.retain(|c| !group.contains(c));
            finalists.extend(group);
            continue;
        }
        let pick = if group.len() == 2 {
            let (a, b) = (group[0], group[1]);
            let (ab, ba) = (prefer(a, b), prefer(b, a));
            if ab != ba {
                let w = if ab > ba { a } else { b };
                notes1.push(format!(
                    "{} and {} tie at {best}: {} is preferred head-to-head ({} to {})",
                    name(a),
                    name(b),
                    name(w),
                    ab.max(ba),
                    ab.min(ba)
                ));
                w
            } else {
                notes1.push(format!(
                    "{} and {} tie at {best} and head-to-head ({ab} each)",
                    name(a),
                    name(b)
                ));
                five_star_then_lot(&group, &five_star, tie, &lot, &name, &mut notes1)
            }
        } else {
            notes1.push(format!(
                "{} candidates tie at {best} for {open} place(s)",
                group.len()
            ));
            five_star_then_lot(&group, &five_star, tie, &lot, &name, &mut notes1)
        };
        remaining.retain(|&c| c != pick);
        finalists.push(pick);
    }
    let (a, b) = (finalists[0], finalists[1]);
    notes1.push(format!("finalists: {} and {}", name(a), name(b)));
    let mut round1 = Round::new(1, n, 0);
    round1.tallies = totals.iter().map(|&t| amount(t)).collect();
    for c in ids(n) {
        if !finalists.contains(&c) {
            round1.status[c.index()] = Status::Eliminated;
            round1.eliminated.push(c);
        }
    }
    round1.notes = notes1;

    // Automatic runoff.
    let (ab, ba) = (prefer(a, b), prefer(b, a));
    let none = profile.voters() - ab - ba;
    let mut notes2 = vec![format!(
        "runoff: {} {ab}, {} {ba}, no preference {none}",
        name(a),
        name(b)
    )];
    let winner = if ab != ba {
        if ab > ba { a } else { b }
    } else {
        let (ta, tb) = (totals[a.index()], totals[b.index()]);
        if ta != tb {
            let w = if ta > tb { a } else { b };
            notes2.push(format!(
                "runoff tie: {} has the higher total score ({} to {})",
                name(w),
                ta.max(tb),
                ta.min(tb)
            ));
            w
        } else {
            notes2.push(format!("runoff tie, and equal total scores ({ta})"));
            five_star_then_lot(&[a, b], &five_star, tie, &lot, &name, &mut notes2)
        }
    };
    let mut round2 = Round::new(2, n, 0);
    round2.tallies = vec![Amount::integer(0); n];
    round2.tallies[a.index()] = amount(ab);
    round2.tallies[b.index()] = amount(ba);
    round2.status.clone_from(&round1.status);
    round2.status[winner.index()] = Status::Elected;
    let loser = if winner == a { b } else { a };
    round2.status[loser.index()] = Status::Eliminated;
    round2.elected = vec![winner];
    round2.eliminated = vec![loser];
    round2.exhausted = Some(amount(none));
    round2.notes = notes2;

    Ok(Tabulation {
        method: Method::Star,
        candidates: cands.iter().map(|c| c.name().to_owned()).collect(),
        seats: 1,
        winners: vec![winner],
        rounds: vec![round1, round2],
        quota: None,
        pairwise: None,
        notes: vec![format!(
            "{} ballot(s), scores 0 to {max}; official STAR tie-breaking protocol",
            profile.voters()
        )],
    })
}

fn five_star_then_lot(
    group: &[CandidateId],
    five_star: &[u64],
    tie: &TieBreak,
    lot: &crate::method::Lot,
    name: &dyn Fn(CandidateId) -> String,
    notes: &mut Vec<String>,
) -> CandidateId {
    let most = group
        .iter()
        .map(|c| five_star[c.index()])
        .max()
        .unwrap_or(0);
    let top: Vec<CandidateId> = group
        .iter()
        .copied()
        .filter(|c| five_star[c.index()] == most)
        .collect();
    if let [only] = top.as_slice() {
        notes.push(format!(
            "{} has the most maximum scores ({most})",
            name(*only)
        ));
        return *only;
    }
    // `top` is non-empty because `group` is.
    let pick = tie.pick(&top, &[], lot, Pick::Highest).unwrap_or(group[0]);
    notes.push(format!(
        "equal maximum scores ({most}): {} by {}",
        name(pick),
        super::tally::describe(tie)
    ));
    pick
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Candidate;
    use crate::scored::ScoredBallot;

    fn profile(names: &[&str], ballots: &[(u64, &[u32])]) -> ScoredProfile {
        ScoredProfile::new(
            names.iter().map(|n| Candidate::new(*n)).collect(),
            5,
            None,
            ballots
                .iter()
                .map(|(c, s)| ScoredBallot::new(*c, s.to_vec()))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn runoff_can_overturn_the_score_leader() {
        // A leads on score (2·5+3·0=10 vs B 2·0+3·3=9? no: make it explicit).
        let p = profile(&["A", "B", "C"], &[(2, &[5, 0, 1]), (3, &[1, 2, 0])]);
        // Totals: A 13, B 6, C 2. Runoff A vs B: A preferred by 2, B by 3.
        let t = star(&p, &TieBreak::default()).unwrap();
        assert_eq!(t.winner_names(), ["B"]);
        assert_eq!(t.rounds[0].tallies, [13, 6, 2].map(amount));
        assert_eq!(t.rounds[1].tallies, [2, 3, 0].map(amount));
        assert_eq!(t.rounds[0].eliminated, [CandidateId::new(2)]);
    }

    #[test]
    fn scoring_tie_of_two_goes_head_to_head() {
        // A 15, B 6, C 6; B beats C head-to-head on 2 ballots to 1.
        let p = profile(
            &["A", "B", "C"],
            &[(1, &[5, 3, 0]), (1, &[5, 3, 1]), (1, &[5, 0, 5])],
        );
        let t = star(&p, &TieBreak::default()).unwrap();
        assert_eq!(t.rounds[0].eliminated, [CandidateId::new(2)]);
        assert!(t.rounds[0].notes[0].contains("preferred head-to-head"));
    }

    #[test]
    fn runoff_tie_goes_to_score_then_five_stars() {
        // The breakable runoff tie of the starvote test suite: Brian and Chuck tie in
        // the runoff and on score (12 each); Chuck has more five-star ratings.
        let p = profile(
            &["Amy", "Brian", "Chuck"],
            &[(1, &[1, 4, 2]), (1, &[1, 3, 5]), (1, &[1, 5, 5])],
        );
        let t = star(&p, &TieBreak::default()).unwrap();
        assert_eq!(t.rounds[0].tallies, [3, 12, 12].map(amount));
        assert_eq!(t.rounds[1].tallies, [0, 1, 1].map(amount));
        assert_eq!(t.winner_names(), ["Chuck"]);
        // Scores differ: the higher total wins the runoff tie.
        let p = profile(&["A", "B"], &[(1, &[5, 0]), (1, &[0, 4]), (1, &[2, 2])]);
        let t = star(&p, &TieBreak::default()).unwrap();
        assert_eq!(t.winner_names(), ["A"]);
    }

    #[test]
    fn unbreakable_ties_use_the_lot() {
        let p = profile(&["A", "B", "C"], &[(1, &[5, 0, 3]), (1, &[0, 5, 3])]);
        // A 5, B 5, C 6: C advances; A and B tie on score, head-to-head and five
        // stars; the lot decides.
        let first = star(&p, &TieBreak::default()).unwrap();
        assert_eq!(first.rounds[0].eliminated, [CandidateId::new(1)]);
        let fixed = TieBreak::FixedOrder(vec![CandidateId::new(1)]);
        let second = star(&p, &fixed).unwrap();
        assert_eq!(second.rounds[0].eliminated, [CandidateId::new(0)]);
    }
}
