//! Meek STV, as Droop's "Meek Parametric (omega = 1/10^9)" rule counts it with
//! guarded-precision fixed-point arithmetic (18 places plus 9 guard digits).
//!
//! Arithmetic: every value is an integer count of 10^-27; products and quotients are
//! truncated. Two values closer than half a unit of the 18th place (5 × 10^-19) compare
//! equal. Values are reported rounded half-up to 18 places.
//!
//! Each candidate has a keep factor: 1 while hopeful, 0 once defeated, and for an
//! elected candidate the share of each vote reaching them that they keep. A round:
//! 1. Distribute every ballot: from weight 1, each continuing candidate in order keeps
//!    `weight × kf` and passes on `weight × (1 − kf)` (both truncated); a ballot whose
//!    weight falls below the comparison epsilon stops. Equal rankings split the weight
//!    equally among the group's continuing candidates and continue from each branch
//!    with what that branch passes on; a group with no continuing candidate ends the
//!    ballot there (as Droop 0.11 does: the rest of its value is residual).
//! 2. Quota = (votes held by continuing candidates) / (seats + 1), truncated.
//! 3. Every hopeful candidate with more than the quota is elected (list order); the
//!    round ends.
//! 4. Otherwise, with total surplus `s` = Σ(elected votes − quota): stop iterating if
//!    `s ≤ 10^-9` (omega) or `s` did not fall since the last iteration (stable); or if a
//!    batch of lowest candidates whose votes plus `s` are below the next candidate's can
//!    be defeated without breaking a tie or leaving too few candidates, defeat that
//!    batch ("certain losers"). Else each elected candidate's keep factor becomes
//!    `kf × quota / votes` (truncated twice) and step 1 repeats.
//! 5. If nobody was elected, the lowest hopeful candidate is defeated; candidates within
//!    `s` of the lowest count as tied and [`TieBreak`] chooses among them.
//!
//! The count ends when the hopeful candidates are no more than the seats left (they
//! are elected, list order) or every seat is filled (the rest are defeated).
//!
//! Rounds in the report show the values at the moment of each decision, as Droop's
//! report does: a defeated candidate's votes move in the next round.

use num_bigint::BigInt;

use crate::error::{Error, Result};
use crate::method::{Lot, Method, Pick, TieBreak};
use crate::profile::{CandidateId, RankedProfile, ids};
use crate::report::{Amount, Round, Status, Tabulation, Transfer, TransferKind};

use super::{Grouped, TIED, group_at, pow10, starting};

/// Significant decimal places of Meek values (reported).
pub const PLACES: u32 = 18;
/// Guard digits carried beyond [`PLACES`].
pub const GUARD: u32 = 9;
/// Iteration stops when the total surplus is at most `10^-OMEGA`.
pub const OMEGA: u32 = 9;

const SCALE_PLACES: u32 = PLACES + GUARD;

/// The most ways one ballot's equal rankings may split it (the product of its tied
/// groups' sizes): each way is distributed separately, as Droop does.
pub const MAX_BRANCHES: usize = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Hopeful,
    Elected,
    Defeated,
    Withdrawn,
}

/// Why an iteration stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Stop {
    Elected,
    Omega,
    Stable,
    Batch(Vec<CandidateId>),
}

struct Count<'a> {
    groups: Grouped,
    seats: u32,
    one: i128,
    geps: i128,
    state: Vec<State>,
    kf: Vec<i128>,
    vote: Vec<i128>,
    quota: i128,
    surplus: i128,
    tie: &'a TieBreak,
    lot: Lot,
    names: Vec<String>,
    rounds: Vec<Round>,
    winners: Vec<CandidateId>,
    history: Vec<Vec<Amount>>,
}

/// Counts `profile` by Meek STV for `seats` seats (default: the profile's).
///
/// # Errors
/// [`Error::Count`] if the number of seats is unknown or zero;
/// [`Error::Overflow`] if the number of voters exceeds the fixed-point range.
pub fn count(profile: &RankedProfile, seats: Option<u32>, tie: &TieBreak) -> Result<Tabulation> {
    let seats = super::seats(profile, seats)?;
    let n = profile.candidates().len();
    let one = pow10(SCALE_PLACES);
    let groups = Grouped::new(profile);
    if groups.voters > 10_000_000_000 {
        return Err(Error::Overflow("Meek vote totals"));
    }
    for b in 0..groups.len() {
        let mut leaves = 1usize;
        let prefs = groups.prefs(b);
        let mut pos = 0;
        while let Some(group) = group_at(prefs, pos) {
            leaves = leaves.saturating_mul(group.len());
            pos += group.len();
        }
        if leaves > MAX_BRANCHES {
            return Err(Error::Count(format!(
                "a ballot's equal rankings split it {leaves} ways; Meek supports at most {MAX_BRANCHES}"
            )));
        }
    }
    let state: Vec<State> = starting(profile, State::Hopeful, State::Withdrawn);
    let kf = state
        .iter()
        .map(|&s| if s == State::Hopeful { one } else { 0 })
        .collect();
    let mut count = Count {
        groups,
        seats,
        one,
        geps: pow10(GUARD) / 2,
        state,
        kf,
        vote: vec![0; n],
        quota: 0,
        surplus: 0,
        tie,
        lot: tie.lot(profile.candidates()),
        names: profile
            .candidates()
            .iter()
            .map(|c| c.name().to_owned())
            .collect(),
        rounds: Vec::new(),
        winners: Vec::new(),
        history: Vec::new(),
    };
    count.run();
    let first_quota = count.rounds.first().and_then(|r| r.quota);
    Ok(Tabulation {
        method: Method::MeekStv,
        candidates: count.names.clone(),
        seats,
        winners: count.winners,
        rounds: count.rounds,
        quota: first_quota,
        pairwise: None,
        notes: vec![format!(
            "Meek STV (omega = 1/10^{OMEGA}), guarded fixed-point decimals ({PLACES}+{GUARD} places), values shown to {PLACES} places"
        )],
    })
}

fn mul_div(a: i128, b: i128, c: i128) -> i128 {
    if c == 0 {
        return 0;
    }
    // Keep factors of 1 and weights of 1 are the common case: exact without a product.
    if b == c {
        return a;
    }
    if a == c {
        return b;
    }
    if let Some(p) = a.checked_mul(b) {
        return p.div_euclid(c);
    }
    let q = (BigInt::from(a) * BigInt::from(b)) / BigInt::from(c);
    // The quotient of two in-range values by a scale fits: results are votes or factors.
    i128::try_from(q).unwrap_or(i128::MAX)
}

impl Count<'_> {
    fn run(&mut self) {
        self.first_count();
        while !self.complete() {
            let mut round = self.new_round();
            let (stop, iterations) = self.iterate(&mut round);
            round.notes.push(format!(
                "{iterations} iteration(s), stopped: {}",
                match &stop {
                    Stop::Elected => "candidate elected",
                    Stop::Omega => "surplus below omega",
                    Stop::Stable => "surplus stable",
                    Stop::Batch(_) => "certain losers",
                }
            ));
            match stop {
                Stop::Elected => self.close(round),
                Stop::Batch(batch) => {
                    let mut round = Some(round);
                    for c in batch {
                        let mut r = round.take().unwrap_or_else(|| self.new_round());
                        self.defeat(c, &mut r, "certain loser");
                        self.close(r);
                        self.zero(c);
                    }
                }
                Stop::Omega | Stop::Stable => {
                    let hopeful = self.with_state(State::Hopeful);
                    let low = hopeful
                        .iter()
                        .map(|c| self.vote[c.index()])
                        .min()
                        .unwrap_or(0);
                    let tied: Vec<CandidateId> = hopeful
                        .into_iter()
                        .filter(|c| !self.lt(low + self.surplus, self.vote[c.index()]))
                        .collect();
                    let history: Vec<&[Amount]> = self.history.iter().map(Vec::as_slice).collect();
                    let Some(c) = self.tie.pick(&tied, &history, &self.lot, Pick::Lowest) else {
                        self.close(round);
                        break;
                    };
                    if tied.len() > 1 {
                        let names: Vec<&str> = tied.iter().map(|&t| self.name(t)).collect();
                        round.notes.push(format!(
                            "tie (defeat) among {} broken by {:?}: {}",
                            names.join(", "),
                            self.tie,
                            self.name(c)
                        ));
                    }
                    self.defeat(c, &mut round, "lowest vote");
                    self.close(round);
                    self.zero(c);
                }
            }
        }
        self.finish();
    }

    fn name(&self, c: CandidateId) -> &str {
        self.names.get(c.index()).map_or("?", String::as_str)
    }

    fn with_state(&self, s: State) -> Vec<CandidateId> {
        ids(self.state.len())
            .filter(|c| self.state[c.index()] == s)
            .collect()
    }

    fn seats_left(&self) -> i64 {
        i64::from(self.seats) - self.with_state(State::Elected).len() as i64
    }

    fn complete(&self) -> bool {
        let left = self.seats_left();
        left <= 0 || self.with_state(State::Hopeful).len() as i64 <= left
    }

    /// Guarded comparison: `a < b` by at least the epsilon.
    fn lt(&self, a: i128, b: i128) -> bool {
        b - a >= self.geps
    }

    /// Round 1: first preferences (equal first preferences split equally).
    fn first_count(&mut self) {
        let mut round = self.new_round();
        for b in 0..self.groups.len() {
            let Some(first) = group_at(self.groups.prefs(b), 0) else {
                continue;
            };
            let share = self.one / first.len() as i128;
            for &e in first {
                self.vote[(e & !TIED) as usize] += share * i128::from(self.groups.count(b));
            }
        }
        self.quota = i128::from(self.groups.voters) * self.one / (i128::from(self.seats) + 1);
        round.notes.push("first preferences".into());
        self.close(round);
    }

    fn new_round(&self) -> Round {
        Round::new(self.rounds.len() as u32 + 1, self.state.len(), PLACES)
    }

    fn close(&mut self, mut round: Round) {
        round.tallies = self.vote.iter().map(|&v| shown(v)).collect();
        round.status = self
            .state
            .iter()
            .map(|s| match s {
                State::Hopeful => Status::Hopeful,
                State::Elected => Status::Elected,
                State::Defeated => Status::Eliminated,
                State::Withdrawn => Status::Withdrawn,
            })
            .collect();
        let held: i128 = self.vote.iter().sum();
        let total = i128::from(self.groups.voters) * self.one;
        round.residual = Some(shown(total - held));
        round.quota = Some(shown(self.quota));
        let kfs: Vec<String> = self
            .with_state(State::Elected)
            .into_iter()
            .map(|c| format!("{} {}", self.name(c), shown(self.kf[c.index()])))
            .collect();
        if !kfs.is_empty() {
            round
                .notes
                .push(format!("keep factors: {}", kfs.join(", ")));
        }
        self.history.push(round.tallies.clone());
        self.rounds.push(round);
    }

    fn defeat(&mut self, c: CandidateId, round: &mut Round, why: &str) {
        self.state[c.index()] = State::Defeated;
        round.eliminated.push(c);
        round.transfers.push(Transfer {
            from: c,
            kind: TransferKind::Elimination,
            amount: shown(self.vote[c.index()]),
            transfer_value: None,
        });
        round
            .notes
            .push(format!("{} defeated ({why})", self.name(c)));
    }

    /// A defeated candidate keeps nothing: their votes flow on at the next distribution.
    fn zero(&mut self, c: CandidateId) {
        self.kf[c.index()] = 0;
        self.vote[c.index()] = 0;
        self.distribute();
    }

    fn iterate(&mut self, round: &mut Round) -> (Stop, u32) {
        let mut last = i128::from(self.groups.voters) * self.one;
        let mut iterations = 0;
        loop {
            iterations += 1;
            self.distribute();
            let votes: i128 = self.vote.iter().sum();
            self.quota = votes / (i128::from(self.seats) + 1);
            let mut elected = false;
            for c in self.with_state(State::Hopeful) {
                if self.lt(self.quota, self.vote[c.index()]) {
                    self.state[c.index()] = State::Elected;
                    self.winners.push(c);
                    round.elected.push(c);
                    elected = true;
                }
            }
            self.surplus = self
                .with_state(State::Elected)
                .iter()
                .map(|c| self.vote[c.index()] - self.quota)
                .sum();
            if elected {
                return (Stop::Elected, iterations);
            }
            let omega = self.one / pow10(OMEGA);
            if !self.lt(omega, self.surplus) {
                return (Stop::Omega, iterations);
            }
            if !self.lt(self.surplus, last) {
                return (Stop::Stable, iterations);
            }
            let batch = self.batch_defeat();
            if !batch.is_empty() {
                return (Stop::Batch(batch), iterations);
            }
            last = self.surplus;
            for c in self.with_state(State::Elected) {
                let i = c.index();
                let kept = mul_div(self.kf[i], self.quota, self.one);
                self.kf[i] = mul_div(kept, self.one, self.vote[i]);
            }
        }
    }

    /// The largest set of lowest hopeful candidates that together with the surplus
    /// cannot reach the next candidate, never splitting near-equal candidates and
    /// leaving enough hopefuls for the seats.
    fn batch_defeat(&self) -> Vec<CandidateId> {
        let mut sorted = self.with_state(State::Hopeful);
        sorted.sort_by_key(|c| (self.vote[c.index()], c.get()));
        let mut groups: Vec<Vec<CandidateId>> = Vec::new();
        let mut group: Vec<CandidateId> = Vec::new();
        let mut base = 0i128;
        for c in sorted {
            let v = self.vote[c.index()];
            if self.lt(base + self.surplus, v) {
                if !group.is_empty() {
                    groups.push(std::mem::take(&mut group));
                }
                base = v;
            }
            group.push(c);
        }
        if !group.is_empty() {
            groups.push(group);
        }
        let max_defeat = self.with_state(State::Hopeful).len() as i64 - self.seats_left();
        let mut total = 0i128;
        let mut taken = 0i64;
        let mut upto = None;
        for g in 0..groups.len().saturating_sub(1) {
            taken += groups[g].len() as i64;
            if taken > max_defeat {
                break;
            }
            total += groups[g].iter().map(|c| self.vote[c.index()]).sum::<i128>();
            if self.lt(total + self.surplus, self.vote[groups[g + 1][0].index()]) {
                upto = Some(g);
            }
        }
        let mut batch: Vec<CandidateId> = match upto {
            Some(g) => groups.into_iter().take(g + 1).flatten().collect(),
            None => Vec::new(),
        };
        batch.sort();
        batch
    }

    fn distribute(&mut self) {
        for (v, s) in self.vote.iter_mut().zip(&self.state) {
            if matches!(s, State::Hopeful | State::Elected) {
                *v = 0;
            }
        }
        for b in 0..self.groups.len() {
            let count = i128::from(self.groups.count(b));
            if self.groups.is_strict(b) {
                let mut weight = self.one;
                for &c in self.groups.prefs(b) {
                    let kf = self.kf[c as usize];
                    if kf == 0 {
                        continue;
                    }
                    let keep = mul_div(weight, kf, self.one);
                    weight = mul_div(weight, self.one - kf, self.one);
                    self.vote[c as usize] += keep * count;
                    if weight < self.geps {
                        break;
                    }
                }
            } else {
                self.descend(b, 0, self.one, count);
            }
        }
    }

    /// Distributes `weight` of tied ballot `b` from preference position `pos` on. A
    /// group with one continuing candidate is walked in place; only real ties branch
    /// (at most [`MAX_BRANCHES`] leaves, checked before counting).
    fn descend(&mut self, b: usize, mut pos: usize, mut weight: i128, count: i128) {
        loop {
            if weight == 0 {
                return;
            }
            let Some(group) = group_at(self.groups.prefs(b), pos) else {
                return;
            };
            let next = pos + group.len();
            let live: Vec<usize> = group
                .iter()
                .map(|&e| (e & !TIED) as usize)
                .filter(|&c| matches!(self.state[c], State::Hopeful | State::Elected))
                .collect();
            let share = match live.len() {
                0 => return,
                m => weight / m as i128,
            };
            let mut rests = Vec::with_capacity(live.len());
            for &c in &live {
                let kf = self.kf[c];
                self.vote[c] += mul_div(share, kf, self.one) * count;
                rests.push(mul_div(share, self.one - kf, self.one));
            }
            if let [rest] = rests[..] {
                weight = rest;
                pos = next;
                continue;
            }
            for rest in rests {
                self.descend(b, next, rest, count);
            }
            return;
        }
    }

    /// Elects the remaining hopefuls if they fit the seats left, else defeats them.
    fn finish(&mut self) {
        let hopeful = self.with_state(State::Hopeful);
        if hopeful.is_empty() {
            return;
        }
        let mut round = self.new_round();
        for c in hopeful {
            if self.seats_left() > 0 {
                self.state[c.index()] = State::Elected;
                self.winners.push(c);
                round.elected.push(c);
                round
                    .notes
                    .push(format!("{} elected to a remaining seat", self.name(c)));
            } else {
                self.defeat(c, &mut round, "seats filled");
                self.kf[c.index()] = 0;
                self.vote[c.index()] = 0;
            }
        }
        self.distribute();
        self.close(round);
    }
}

/// A guarded value shown to [`PLACES`], rounded half up as Droop prints it.
fn shown(v: i128) -> Amount {
    let unit = pow10(GUARD);
    Amount::new((v + unit / 2).div_euclid(unit), PLACES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_rounded_half_up() {
        assert_eq!(
            shown(3_666_666_666_666_666_666_666_666_666).to_string(),
            "3.666666666666666667"
        );
        assert_eq!(shown(499_999_999).to_string(), "0.000000000000000000");
        assert_eq!(shown(500_000_000).to_string(), "0.000000000000000001");
    }

    #[test]
    fn mul_div_is_exact_beyond_i128_products() {
        let one = pow10(SCALE_PLACES);
        assert_eq!(mul_div(one, one, one), one);
        assert_eq!(mul_div(one * 5, one / 3, one), (one / 3) * 5);
        assert_eq!(mul_div(7, 2, 4), 3);
        assert_eq!(mul_div(one, 12_345, one), 12_345);
        assert_eq!(mul_div(98_765, one, one), 98_765);
    }
}
