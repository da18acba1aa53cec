//! The weighted inclusive Gregory count in fixed-point decimals, shared by Scottish STV
//! and WIGM: surpluses move every ballot a candidate holds at a reduced transfer value,
//! truncated to the rule's decimal places; exclusions move ballots at their value.

use crate::error::{Error, Result};
use crate::method::{Method, Pick, TieBreak};
use crate::profile::{CandidateId, RankedProfile, ids};
use crate::report::{Amount, Round, Status, Tabulation, Transfer, TransferKind};

use super::{Grouped, TIED, group_at, pow10, starting};

/// What distinguishes one Gregory rule from another.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rule {
    pub method: Method,
    /// Decimal places of every value; results are truncated to them.
    pub places: u32,
    /// The quota (scaled) from the number of voters and seats.
    pub quota: fn(voters: u64, seats: u32, scale: i128) -> Option<i128>,
    /// A note describing the rule for the report.
    pub describe: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Hopeful,
    Pending,
    Elected,
    Defeated,
    Withdrawn,
}

struct Count<'a> {
    rule: Rule,
    groups: Grouped,
    seats: u32,
    scale: i128,
    quota: i128,
    tie: &'a TieBreak,
    lot: crate::method::Lot,
    state: Vec<State>,
    tally: Vec<i128>,
    /// Papers held by each candidate: indices into `weight`/`pos`.
    piles: Vec<Vec<usize>>,
    /// Each ballot group's current value per paper (scaled).
    weight: Vec<i128>,
    /// Each ballot group's current preference position.
    pos: Vec<usize>,
    exhausted: i128,
    rounds: Vec<Round>,
    history: Vec<Vec<Amount>>,
    winners: Vec<CandidateId>,
    names: Vec<String>,
}

/// Counts `profile` under `rule`.
pub(crate) fn count(
    rule: Rule,
    profile: &RankedProfile,
    seats: Option<u32>,
    tie: &TieBreak,
) -> Result<Tabulation> {
    let seats = super::seats(profile, seats)?;
    let n = profile.candidates().len();
    let scale = pow10(rule.places);
    let groups = Grouped::new(profile);
    let quota = (rule.quota)(groups.voters, seats, scale).ok_or(Error::Overflow("quota"))?;
    let state = starting(profile, State::Hopeful, State::Withdrawn);
    let papers = groups.len();
    let mut count = Count {
        rule,
        groups,
        seats,
        scale,
        quota,
        tie,
        lot: tie.lot(profile.candidates()),
        state,
        tally: vec![0; n],
        piles: vec![Vec::new(); n],
        weight: vec![scale; papers],
        pos: vec![0; papers],
        exhausted: 0,
        rounds: Vec::new(),
        history: Vec::new(),
        winners: Vec::new(),
        names: profile
            .candidates()
            .iter()
            .map(|c| c.name().to_owned())
            .collect(),
    };
    count.run()?;
    let notes = vec![
        rule.describe.to_owned(),
        format!(
            "quota {} from {} voters and {seats} seats",
            Amount::new(quota, rule.places),
            count.groups.voters
        ),
    ];
    Ok(Tabulation {
        method: rule.method,
        candidates: profile
            .candidates()
            .iter()
            .map(|c| c.name().to_owned())
            .collect(),
        seats,
        winners: count.winners,
        rounds: count.rounds,
        quota: Some(Amount::new(quota, rule.places)),
        pairwise: None,
        notes,
    })
}

impl Count<'_> {
    fn run(&mut self) -> Result<()> {
        for p in 0..self.weight.len() {
            self.place(p, None)?;
        }
        let mut round = self.open_round();
        self.elect_quota(&mut round);
        self.close_round(round);
        loop {
            if self.complete() {
                break;
            }
            let mut round = self.open_round();
            let pending: Vec<CandidateId> = self.with_state(State::Pending);
            if !pending.is_empty() {
                let c = self.break_tie(&pending, Pick::Highest, "largest surplus", &mut round);
                self.transfer_surplus(c, &mut round)?;
                self.elect_quota(&mut round);
                self.close_round(round);
                continue;
            }
            let hopeful = self.with_state(State::Hopeful);
            let Some(low) = hopeful.iter().map(|c| self.tally[c.index()]).min() else {
                self.close_round(round);
                break;
            };
            let lowest: Vec<CandidateId> = hopeful
                .into_iter()
                .filter(|c| self.tally[c.index()] == low)
                .collect();
            let c = self.break_tie(&lowest, Pick::Lowest, "exclusion", &mut round);
            self.exclude(c, &mut round)?;
            if !self.complete() {
                self.elect_quota(&mut round);
            }
            self.close_round(round);
        }
        self.finish();
        Ok(())
    }

    fn with_state(&self, s: State) -> Vec<CandidateId> {
        ids(self.state.len())
            .filter(|c| self.state[c.index()] == s)
            .collect()
    }

    fn seats_left(&self) -> i64 {
        let taken = self
            .state
            .iter()
            .filter(|s| matches!(s, State::Pending | State::Elected))
            .count();
        i64::from(self.seats) - taken as i64
    }

    fn complete(&self) -> bool {
        let left = self.seats_left();
        left <= 0 || (self.with_state(State::Hopeful).len() as i64) <= left
    }

    /// Moves paper group `p` to its next hopeful preference at or after its position,
    /// or to the non-transferable pile. A preference group with two or more hopeful
    /// candidates (an overvote) makes the paper non-transferable.
    fn place(&mut self, p: usize, round: Option<&mut Round>) -> Result<()> {
        let prefs = self.groups.prefs(p);
        let value = self.weight[p]
            .checked_mul(i128::from(self.groups.count(p)))
            .ok_or(Error::Overflow("ballot value"))?;
        let mut to = None;
        while let Some(group) = group_at(prefs, self.pos[p]) {
            let mut hopeful = group
                .iter()
                .map(|&e| (e & !TIED) as usize)
                .filter(|&c| self.state[c] == State::Hopeful);
            match (hopeful.next(), hopeful.next()) {
                (Some(c), None) => {
                    to = Some(c);
                    break;
                }
                (Some(_), Some(_)) => break,
                _ => self.pos[p] += group.len(),
            }
        }
        match to {
            Some(c) => {
                self.tally[c] += value;
                self.piles[c].push(p);
            }
            None => {
                self.exhausted += value;
                self.pos[p] = prefs.len();
            }
        }
        if let Some(round) = round {
            round.exhausted = Some(Amount::new(self.exhausted, self.rule.places));
        }
        Ok(())
    }

    fn transfer_surplus(&mut self, c: CandidateId, round: &mut Round) -> Result<()> {
        let vote = self.tally[c.index()];
        let surplus = vote - self.quota;
        self.state[c.index()] = State::Elected;
        let pile = std::mem::take(&mut self.piles[c.index()]);
        for &p in &pile {
            let w = self.weight[p]
                .checked_mul(surplus)
                .ok_or(Error::Overflow("transfer value"))?;
            self.weight[p] = w / vote;
            self.place(p, Some(round))?;
        }
        self.tally[c.index()] = self.quota;
        round.transfers.push(Transfer {
            from: c,
            kind: TransferKind::Surplus,
            amount: Amount::new(surplus, self.rule.places),
            transfer_value: Some(Amount::new(surplus * self.scale / vote, self.rule.places)),
        });
        round.notes.push(format!(
            "surplus of {} ({}) transferred",
            self.name(c),
            Amount::new(surplus, self.rule.places)
        ));
        Ok(())
    }

    fn exclude(&mut self, c: CandidateId, round: &mut Round) -> Result<()> {
        let amount = self.tally[c.index()];
        self.state[c.index()] = State::Defeated;
        round.eliminated.push(c);
        let pile = std::mem::take(&mut self.piles[c.index()]);
        for &p in &pile {
            self.place(p, Some(round))?;
        }
        self.tally[c.index()] = 0;
        round.transfers.push(Transfer {
            from: c,
            kind: TransferKind::Elimination,
            amount: Amount::new(amount, self.rule.places),
            transfer_value: None,
        });
        round.notes.push(format!("{} excluded", self.name(c)));
        Ok(())
    }

    /// Elects every hopeful candidate at or above the quota, largest vote first.
    fn elect_quota(&mut self, round: &mut Round) {
        let mut reached: Vec<CandidateId> = self
            .with_state(State::Hopeful)
            .into_iter()
            .filter(|c| self.tally[c.index()] >= self.quota)
            .collect();
        reached.sort_by_key(|c| (std::cmp::Reverse(self.tally[c.index()]), self.lot.rank(*c)));
        for c in reached {
            self.state[c.index()] = State::Pending;
            self.winners.push(c);
            round.elected.push(c);
        }
    }

    fn break_tie(
        &self,
        tied: &[CandidateId],
        pick: Pick,
        why: &str,
        round: &mut Round,
    ) -> CandidateId {
        let history: Vec<&[Amount]> = self.history.iter().map(Vec::as_slice).collect();
        let chosen = self
            .tie
            .pick(tied, &history, &self.lot, pick)
            .unwrap_or(tied[0]);
        if tied.len() > 1 {
            let names: Vec<String> = tied.iter().map(|&c| self.name(c)).collect();
            round.notes.push(format!(
                "tie ({why}) among {} broken by {:?}: {}",
                names.join(", "),
                self.tie,
                self.name(chosen)
            ));
        }
        chosen
    }

    fn name(&self, c: CandidateId) -> String {
        self.names
            .get(c.index())
            .cloned()
            .unwrap_or_else(|| c.to_string())
    }

    fn open_round(&self) -> Round {
        let mut round = Round::new(
            self.rounds.len() as u32 + 1,
            self.state.len(),
            self.rule.places,
        );
        round.exhausted = Some(Amount::new(self.exhausted, self.rule.places));
        round
    }

    fn close_round(&mut self, mut round: Round) {
        let places = self.rule.places;
        round.tallies = self.tally.iter().map(|&v| Amount::new(v, places)).collect();
        round.status = self.state.iter().map(|&s| status(s)).collect();
        round.exhausted = Some(Amount::new(self.exhausted, places));
        let held: i128 = self.tally.iter().sum();
        let total = i128::from(self.groups.voters) * self.scale;
        round.residual = Some(Amount::new(total - held - self.exhausted, places));
        round.quota = Some(Amount::new(self.quota, places));
        self.history.push(round.tallies.clone());
        self.rounds.push(round);
    }

    /// Rule 52: once the continuing candidates are no more than the vacancies, they
    /// are elected (in list order); everyone else still hopeful is defeated.
    fn finish(&mut self) {
        for s in &mut self.state {
            if *s == State::Pending {
                *s = State::Elected;
            }
        }
        let hopeful = self.with_state(State::Hopeful);
        let fill = (hopeful.len() as i64) <= self.seats_left();
        let Some(mut last) = self.rounds.pop() else {
            return;
        };
        for c in hopeful {
            if fill {
                self.state[c.index()] = State::Elected;
                self.winners.push(c);
                last.elected.push(c);
                let note = format!("{} elected to a remaining seat", self.name(c));
                last.notes.push(note);
            } else {
                self.state[c.index()] = State::Defeated;
                last.eliminated.push(c);
            }
        }
        last.status = self.state.iter().map(|&s| status(s)).collect();
        self.rounds.push(last);
    }
}

fn status(s: State) -> Status {
    match s {
        State::Hopeful => Status::Hopeful,
        State::Pending | State::Elected => Status::Elected,
        State::Defeated => Status::Eliminated,
        State::Withdrawn => Status::Withdrawn,
    }
}
