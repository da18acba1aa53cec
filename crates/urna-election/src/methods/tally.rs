//! Pieces shared by the one-round methods: electing the highest totals with the
//! contest's tie-break, and building the one-round report.

use crate::Method;
use crate::method::{Pick, TieBreak};
use crate::profile::{Candidate, CandidateId, ids};
use crate::report::{Amount, Round, Status, Tabulation};

/// Elects the `seats` candidates with the highest `totals`, most first.
///
/// Where equal totals straddle the last seat, [`TieBreak::pick`] chooses among the tied
/// candidates, one seat at a time, consulting `history` (earlier rounds, oldest first)
/// under previous-rounds and then the lot. Each decided tie adds a note.
pub(crate) fn elect_highest(
    candidates: &[Candidate],
    totals: &[Amount],
    seats: usize,
    tie: &TieBreak,
    history: &[&[Amount]],
    notes: &mut Vec<String>,
) -> Vec<CandidateId> {
    let lot = tie.lot(candidates);
    let mut left: Vec<CandidateId> = ids(candidates.len())
        .filter(|c| !candidates[c.index()].is_withdrawn())
        .collect();
    let mut winners = Vec::with_capacity(seats);
    while winners.len() < seats && !left.is_empty() {
        let Some(best) = left.iter().map(|c| totals[c.index()]).max() else {
            break;
        };
        let mut group: Vec<CandidateId> = left
            .iter()
            .copied()
            .filter(|c| totals[c.index()] == best)
            .collect();
        left.retain(|c| totals[c.index()] != best);
        let open = seats - winners.len();
        if group.len() <= open {
            group.sort_by_key(|&c| lot.rank(c));
            winners.extend(group);
            continue;
        }
        let tied_names = names(candidates, &group);
        let mut chosen = Vec::with_capacity(open);
        while chosen.len() < open {
            let Some(pick) = tie.pick(&group, history, &lot, Pick::Highest) else {
                break;
            };
            group.retain(|&c| c != pick);
            chosen.push(pick);
        }
        notes.push(format!(
            "tie at {best} between {tied_names} for {open} seat(s): {} by {}",
            names(candidates, &chosen),
            describe(tie)
        ));
        winners.extend(chosen);
    }
    winners
}

/// `A, B and C`.
pub(crate) fn names(candidates: &[Candidate], ids: &[CandidateId]) -> String {
    let list: Vec<&str> = ids
        .iter()
        .filter_map(|c| candidates.get(c.index()).map(Candidate::name))
        .collect();
    match list.as_slice() {
        [] => "nobody".to_owned(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// How the rule decides, for notes.
pub(crate) fn describe(tie: &TieBreak) -> &'static str {
    match tie {
        TieBreak::PreviousRounds { seed: None } => "previous rounds, then candidate list order",
        TieBreak::PreviousRounds { seed: Some(_) } => "previous rounds, then the seeded lot",
        TieBreak::FixedOrder(_) => "the manifest's fixed order",
        TieBreak::Random { .. } => "the seeded lot",
    }
}

/// A one-round report: `totals`, the winners elected, everyone else defeated.
pub(crate) fn one_round(
    method: Method,
    candidates: &[Candidate],
    seats: u32,
    totals: Vec<Amount>,
    winners: Vec<CandidateId>,
    round_notes: Vec<String>,
    notes: Vec<String>,
) -> Tabulation {
    let mut round = Round::new(1, candidates.len(), 0);
    for c in ids(candidates.len()) {
        let i = c.index();
        round.status[i] = if candidates[i].is_withdrawn() {
            Status::Withdrawn
        } else if winners.contains(&c) {
            Status::Elected
        } else {
            round.eliminated.push(c);
            Status::Eliminated
        };
    }
    round.tallies = totals;
    round.elected.clone_from(&winners);
    round.notes = round_notes;
    Tabulation {
        method,
        candidates: candidates.iter().map(|c| c.name().to_owned()).collect(),
        seats,
        winners,
        rounds: vec![round],
        quota: None,
        pairwise: None,
        notes,
    }
}

/// Checks `1 ≤ seats ≤ standing candidates`.
pub(crate) fn check_seats(candidates: &[Candidate], seats: u32) -> crate::Result<usize> {
    let standing = candidates.iter().filter(|c| !c.is_withdrawn()).count();
    let seats_usize = usize::try_from(seats).unwrap_or(usize::MAX);
    if seats == 0 || seats_usize > standing {
        return Err(crate::Error::Count(format!(
            "{seats} seat(s) for {standing} standing candidate(s)"
        )));
    }
    Ok(seats_usize)
}

/// The number of voters, refusing ballot counts whose sum does not fit in `u64`. Once
/// this passes, every per-candidate or per-pair count of ballots fits too.
pub(crate) fn checked_voters(counts: impl IntoIterator<Item = u64>) -> crate::Result<u64> {
    counts
        .into_iter()
        .try_fold(0u64, u64::checked_add)
        .ok_or(crate::Error::Overflow("the number of ballots"))
}

/// A `u128` accumulator back to `u64`, or an overflow error naming `what`.
pub(crate) fn narrow(values: Vec<u128>, what: &'static str) -> crate::Result<Vec<u64>> {
    values
        .into_iter()
        .map(|v| u64::try_from(v).map_err(|_| crate::Error::Overflow(what)))
        .collect()
}

/// `n` as an integer amount.
pub(crate) fn amount(n: u64) -> Amount {
    Amount::integer(i128::from(n))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::cands;
    use super::*;

    #[test]
    fn elects_highest_and_breaks_ties_at_the_cut() {
        let c = cands(4);
        let totals: Vec<Amount> = [5, 9, 5, 1].map(amount).into();
        let mut notes = Vec::new();
        let w = elect_highest(&c, &totals, 2, &TieBreak::default(), &[], &mut notes);
        // C1 first; C0 and C2 tie for the last seat, list order favours C0.
        assert_eq!(w, [CandidateId::new(1), CandidateId::new(0)]);
        assert_eq!(notes.len(), 1);
        let fixed = TieBreak::FixedOrder(vec![CandidateId::new(2)]);
        let w = elect_highest(&c, &totals, 2, &fixed, &[], &mut notes);
        assert_eq!(w, [CandidateId::new(1), CandidateId::new(2)]);
        // No tie at the cut: no note.
        let mut quiet = Vec::new();
        elect_highest(&c, &totals, 3, &TieBreak::default(), &[], &mut quiet);
        assert!(quiet.is_empty());
    }

    #[test]
    fn names_read_naturally() {
        let c = cands(3);
        let all: Vec<_> = ids(3).collect();
        assert_eq!(names(&c, &all), "C0, C1 and C2");
        assert_eq!(names(&c, &all[..1]), "C0");
        assert!(check_seats(&c, 4).is_err());
        assert!(check_seats(&c, 0).is_err());
    }
}
