//! Referendums: yes, no and (optionally) abstain.
//!
//! The rule, in order:
//! 1. Quorum: if the contest has one and fewer ballots were cast (yes, no and abstain
//!    together), the vote is void: no option wins.
//! 2. Threshold `p/q`: the proposal passes if `yes · q ≥ p · (yes + no)`, i.e. yes is at
//!    least the fraction `p/q` of the votes for or against; abstentions count toward
//!    the quorum only. Without a threshold the proposal passes if yes exceeds no.
//! 3. The winner is `yes` if the proposal passes, else `no`. No tie-break is needed:
//!    an exact tie without a threshold fails (yes does not exceed no).

use crate::Method;
use crate::error::{Error, Result};
use crate::manifest::ReferendumRules;
use crate::profile::{Candidate, CandidateId, RankedProfile};
use crate::report::Tabulation;

use super::tally::{amount, one_round};

/// Counts a referendum from its totals, in option order yes, no\[, abstain\].
///
/// # Errors
/// [`Error::Count`] unless there are two or three options with as many totals.
pub fn referendum(
    candidates: &[Candidate],
    totals: &[u64],
    rules: ReferendumRules,
) -> Result<Tabulation> {
    if !(2..=3).contains(&candidates.len()) || totals.len() != candidates.len() {
        return Err(Error::Count(
            "a referendum has the options yes, no and optionally abstain".into(),
        ));
    }
    let (yes, no) = (totals[0], totals[1]);
    let abstain = totals.get(2).copied().unwrap_or(0);
    let cast = yes + no + abstain;
    let mut notes = vec![format!(
        "{cast} ballot(s): {yes} yes, {no} no, {abstain} abstain"
    )];
    let quorum_met = match rules.quorum {
        Some(q) if cast < q => {
            notes.push(format!("quorum of {q} not met: the vote is void"));
            false
        }
        Some(q) => {
            notes.push(format!("quorum of {q} met"));
            true
        }
        None => true,
    };
    let passes = match rules.threshold {
        Some(t) => {
            let lhs = u128::from(yes) * u128::from(t.denominator());
            let rhs = u128::from(t.numerator()) * u128::from(yes + no);
            let ok = yes + no > 0 && lhs >= rhs;
            notes.push(format!(
                "threshold {t} of yes among yes and no: {yes} of {} {}",
                yes + no,
                if ok { "reaches it" } else { "falls short" }
            ));
            ok
        }
        None => {
            notes.push("yes must exceed no".into());
            yes > no
        }
    };
    let winners = if !quorum_met {
        Vec::new()
    } else if passes {
        notes.push("the proposal passes".into());
        vec![CandidateId::new(0)]
    } else {
        notes.push("the proposal fails".into());
        vec![CandidateId::new(1)]
    };
    let totals = totals.iter().map(|&t| amount(t)).collect();
    Ok(one_round(
        Method::Referendum,
        candidates,
        1,
        totals,
        winners,
        notes,
        Vec::new(),
    ))
}

/// A referendum from ranked ballots whose candidates are named yes, no and optionally
/// abstain (any case, any order): each ballot's single first preference counts.
///
/// # Errors
/// [`Error::Count`] if the candidates are not yes/no\[/abstain\].
pub fn referendum_from_profile(
    profile: &RankedProfile,
    rules: ReferendumRules,
) -> Result<Tabulation> {
    let names = ["yes", "no", "abstain"];
    let mut slot = Vec::with_capacity(profile.candidates().len());
    for c in profile.candidates() {
        let i = names
            .iter()
            .position(|n| c.name().eq_ignore_ascii_case(n))
            .ok_or_else(|| Error::Count(format!("a referendum option is named {:?}", c.name())))?;
        if slot.contains(&i) {
            return Err(Error::Count(format!("option {:?} appears twice", names[i])));
        }
        slot.push(i);
    }
    if !slot.contains(&0) || !slot.contains(&1) {
        return Err(Error::Count(
            "a referendum needs a yes and a no option".into(),
        ));
    }
    super::tally::checked_voters(profile.ballots().iter().map(|b| b.count()))?;
    let mut totals = vec![0u64; slot.len()];
    for ballot in profile.ballots() {
        if let Some([c]) = ballot.ranking().first().map(Vec::as_slice) {
            totals[slot[c.index()]] += ballot.count();
        }
    }
    let candidates: Vec<Candidate> = names[..slot.len()]
        .iter()
        .map(|n| Candidate::new(*n))
        .collect();
    referendum(&candidates, &totals, rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Fraction;

    fn yna() -> Vec<Candidate> {
        ["yes", "no", "abstain"].map(Candidate::new).into()
    }

    fn run(totals: [u64; 3], quorum: Option<u64>, threshold: Option<(u32, u32)>) -> Vec<String> {
        let rules = ReferendumRules {
            quorum,
            threshold: threshold.and_then(|(p, q)| Fraction::new(p, q)),
        };
        referendum(&yna(), &totals, rules)
            .unwrap()
            .winner_names()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn simple_majority_excludes_abstentions_and_fails_on_a_tie() {
        assert_eq!(run([10, 9, 50], None, None), ["yes"]);
        assert_eq!(run([10, 10, 0], None, None), ["no"]);
        assert_eq!(run([0, 0, 5], None, None), ["no"]);
    }

    #[test]
    fn threshold_is_at_least_and_quorum_counts_abstentions() {
        assert_eq!(run([20, 10, 0], None, Some((2, 3))), ["yes"]);
        assert_eq!(run([19, 10, 0], None, Some((2, 3))), ["no"]);
        assert_eq!(run([20, 10, 70], Some(100), Some((2, 3))), ["yes"]);
        assert!(run([20, 10, 69], Some(100), Some((2, 3))).is_empty());
    }

    #[test]
    fn from_ranked_ballots_by_name() {
        use crate::profile::RankedBallot;
        let c = CandidateId::new;
        let p = RankedProfile::new(
            ["No", "Yes"].map(Candidate::new).into(),
            None,
            None,
            vec![
                RankedBallot::strict(3, &[c(1)]),
                RankedBallot::strict(2, &[c(0)]),
            ],
        )
        .unwrap();
        let t = referendum_from_profile(&p, ReferendumRules::default()).unwrap();
        assert_eq!(t.winner_names(), ["yes"]);
        assert_eq!(t.final_round().unwrap().tallies, [3, 2].map(amount));
    }
}
