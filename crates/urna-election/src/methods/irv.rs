//! Instant-runoff voting: one winner by repeated elimination of the last-placed
//! candidate.
//!
//! Each round every ballot counts, at its full value, for its highest-ranked continuing
//! candidate. A candidate holding more than half of the ballots that count for someone
//! wins. Otherwise the candidate with the fewest votes is eliminated (ties by
//! [`TieBreak`], default: the most recent round in which the tied candidates differed,
//! then the lot) and their ballots move on. Counts are whole numbers.
//!
//! A rank holding two or more continuing candidates (a tie in PrefLib "toi" files, an
//! overvote on a paper ballot) is treated by [`Ties`].

use crate::error::Result;
use crate::method::{Method, Pick, TieBreak};
use crate::profile::{CandidateId, RankedProfile, ids};
use crate::report::{Amount, Round, Status, Tabulation, Transfer, TransferKind};

use super::stv::{Grouped, TIED, group_at, starting};

/// What a ballot does at a rank holding two or more continuing candidates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ties {
    /// The ballot counts for nobody while its highest continuing rank is a tie, and
    /// counts again once eliminations leave one continuing candidate there (the
    /// candidates are equally preferred, as PrefLib defines a tie). Burlington 2009
    /// (PrefLib 00005): Kiss 4,314, Wright 4,064.
    #[default]
    Suspend,
    /// The ballot is exhausted for good at the first such rank: the overvote rule of
    /// most US jurisdictions, and Burlington's. Burlington 2009 (PrefLib 00005): Kiss
    /// 4,313, Wright 4,061, the official result.
    Exhaust,
}

/// IRV options beyond the tie-break rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IrvOptions {
    /// Treatment of tied ranks.
    pub ties: Ties,
}

/// Counts `profile` by IRV with the default options.
///
/// # Errors
/// None today; the signature matches the other counting functions.
pub fn count(profile: &RankedProfile, tie: &TieBreak) -> Result<Tabulation> {
    count_with(profile, tie, IrvOptions::default())
}

/// Where the ballots are: per candidate, waiting at a tie, or exhausted.
struct Piles {
    tally: Vec<u64>,
    held: Vec<Vec<usize>>,
    suspended: Vec<usize>,
    exhausted: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Candidate(u32),
    Suspended,
    Exhausted,
}

/// Counts `profile` by IRV.
///
/// # Errors
/// None today; the signature matches the other counting functions.
pub fn count_with(
    profile: &RankedProfile,
    tie: &TieBreak,
    options: IrvOptions,
) -> Result<Tabulation> {
    let n = profile.candidates().len();
    let groups = Grouped::new(profile);
    let lot = tie.lot(profile.candidates());
    let names: Vec<String> = profile
        .candidates()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    let mut status: Vec<Status> = starting(profile, Status::Hopeful, Status::Withdrawn);

    let mut pos = vec![0usize; groups.len()];

    let place = |b: usize, pos: &mut [usize], status: &[Status]| -> Place {
        let prefs = groups.prefs(b);
        while let Some(group) = group_at(prefs, pos[b]) {
            let mut live = group
                .iter()
                .map(|&e| e & !TIED)
                .filter(|&c| status[c as usize] == Status::Hopeful);
            match (live.next(), live.next()) {
                (Some(c), None) => return Place::Candidate(c),
                (Some(_), Some(_)) => {
                    return match options.ties {
                        Ties::Suspend => Place::Suspended,
                        Ties::Exhaust => Place::Exhausted,
                    };
                }
                _ => pos[b] += group.len(),
            }
        }
        Place::Exhausted
    };
    let put = |b: usize, to: Place, piles: &mut Piles| match to {
        Place::Candidate(c) => {
            piles.tally[c as usize] += groups.count(b);
            piles.held[c as usize].push(b);
        }
        Place::Suspended => piles.suspended.push(b),
        Place::Exhausted => piles.exhausted += groups.count(b),
    };
    let mut piles = Piles {
        tally: vec![0; n],
        held: vec![Vec::new(); n],
        suspended: Vec::new(),
        exhausted: 0,
    };
    for b in 0..groups.len() {
        let to = place(b, &mut pos, &status);
        put(b, to, &mut piles);
    }

    let mut rounds: Vec<Round> = Vec::new();
    let mut history: Vec<Vec<Amount>> = Vec::new();
    let mut winners = Vec::new();
    let mut pending_transfer: Option<Transfer> = None;
    loop {
        let mut round = Round::new(rounds.len() as u32 + 1, n, 0);
        round.transfers.extend(pending_transfer.take());
        round.status = status.clone();
        round.tallies = piles
            .tally
            .iter()
            .map(|&v| Amount::integer(i128::from(v)))
            .collect();
        let parked: u64 = piles.suspended.iter().map(|&b| groups.count(b)).sum();
        round.exhausted = Some(Amount::integer(i128::from(piles.exhausted + parked)));
        if parked > 0 {
            round
                .notes
                .push(format!("{parked} ballot(s) wait at a tied rank"));
        }
        let hopeful: Vec<CandidateId> = ids(n)
            .filter(|c| status[c.index()] == Status::Hopeful)
            .collect();
        let active: u64 = hopeful.iter().map(|c| piles.tally[c.index()]).sum();
        let leader = hopeful
            .iter()
            .copied()
            .max_by_key(|c| piles.tally[c.index()]);
        let decided = match leader {
            Some(w)
                if u128::from(piles.tally[w.index()]) * 2 > u128::from(active)
                    || hopeful.len() == 1 =>
            {
                Some(w)
            }
            Some(_) => None,
            None => {
                rounds.push(round);
                break;
            }
        };
        if let Some(w) = decided {
            status[w.index()] = Status::Elected;
            winners.push(w);
            round.elected.push(w);
            round.notes.push(format!(
                "{} wins with {} of {active} continuing votes",
                names[w.index()],
                piles.tally[w.index()]
            ));
            round.status = status.clone();
            rounds.push(round);
            break;
        }
        let low = hopeful
            .iter()
            .map(|c| piles.tally[c.index()])
            .min()
            .unwrap_or(0);
        let lowest: Vec<CandidateId> = hopeful
            .iter()
            .copied()
            .filter(|c| piles.tally[c.index()] == low)
            .collect();
        let past: Vec<&[Amount]> = history.iter().map(Vec::as_slice).collect();
        let Some(out) = tie.pick(&lowest, &past, &lot, Pick::Lowest) else {
            rounds.push(round);
            break;
        };
        if lowest.len() > 1 {
            let tied: Vec<&str> = lowest.iter().map(|c| names[c.index()].as_str()).collect();
            round.notes.push(format!(
                "tie for last among {} broken by {tie:?}: {} eliminated",
                tied.join(", "),
                names[out.index()]
            ));
        }
        status[out.index()] = Status::Eliminated;
        round.eliminated.push(out);
        round.status = status.clone();
        history.push(round.tallies.clone());
        rounds.push(round);

        pending_transfer = Some(Transfer {
            from: out,
            kind: TransferKind::Elimination,
            amount: Amount::integer(i128::from(piles.tally[out.index()])),
            transfer_value: None,
        });
        piles.tally[out.index()] = 0;
        let mut moving = std::mem::take(&mut piles.held[out.index()]);
        moving.append(&mut piles.suspended);
        for b in moving {
            let to = place(b, &mut pos, &status);
            put(b, to, &mut piles);
        }
    }
    Ok(Tabulation {
        method: Method::Irv,
        candidates: names,
        seats: 1,
        winners,
        rounds,
        quota: None,
        pairwise: None,
        notes: vec![format!(
            "instant-runoff voting; tied ranks: {:?}",
            options.ties
        )],
    })
}
