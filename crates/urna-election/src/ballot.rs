//! Plaintext ballots: what a voter chooses in one contest, the rules a choice must
//! follow, and the option vector that gets encrypted.
//!
//! Every contest's ballot is a vector of small non-negative integers, one per option,
//! each encrypted separately (exponential ElGamal). Its [`Shape`] tells the
//! cryptographic layer what to prove: each value lies in `0..=max_value`, and their sum
//! in `min_sum..=max_sum`.
//!
//! | method | tally | value of option i |
//! |---|---|---|
//! | plurality, approval, referendum | either | 1 if marked, else 0 |
//! | score, STAR | homomorphic / mix-net | the score minus the range's minimum |
//! | Borda | homomorphic | Borda points: options ranked below it (n−1 for the first) |
//! | ranked (IRV, STV, Condorcet; Borda by mix-net) | mix-net | rank position (1 = first), 0 if unranked |
//!
//! Range and sum proofs alone enforce the marks of plurality, approval and referendum
//! exactly. For score they enforce the range. For Borda they enforce each value and the
//! total but not that the values form a ranking (a voter could give two options the
//! same points); a contest that must exclude that uses `tally: mixnet`, where each
//! decrypted ballot is checked by [`decode`]. Ranked mix-net ballots carry a proof at
//! casting that their positions form a ranking (urna-crypto's ranking proof); they are
//! checked after decryption too, and an invalid one would be rejected publicly.

mod error;

pub use error::BallotError;

use crate::count::Ballots;
use crate::manifest::{Contest, TallyKind};
use crate::method::Method;
use crate::profile::{Candidate, CandidateId, RankedBallot, RankedProfile};
use crate::scored::{ScoredBallot, ScoredProfile};

/// A voter's plaintext choice in one contest.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Selection {
    /// The marked options (plurality, approval, referendum), by option index.
    Marks(Vec<usize>),
    /// One score per option (score, STAR), in option order.
    Scores(Vec<u32>),
    /// Options from most to least preferred (ranked methods, Borda), by option index;
    /// options left out are unranked.
    Ranking(Vec<usize>),
}

/// What the proofs of one contest's encrypted vector must show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Number of options (and ciphertexts).
    pub options: usize,
    /// Each value lies in `0..=max_value`.
    pub max_value: u64,
    /// The least allowed sum of the values.
    pub min_sum: u64,
    /// The greatest allowed sum of the values.
    pub max_sum: u64,
}

/// How a contest's ballots are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Marks,
    Scores { min: u32, max: u32 },
    BordaPoints,
    RankPositions,
}

fn encoding(contest: &Contest) -> Encoding {
    match contest.method() {
        Method::Plurality | Method::Approval | Method::Referendum => Encoding::Marks,
        Method::Score | Method::Star => {
            let s = contest
                .scores()
                .unwrap_or(crate::manifest::Limits { min: 0, max: 5 });
            Encoding::Scores {
                min: s.min,
                max: s.max,
            }
        }
        Method::Borda if contest.tally() == TallyKind::Homomorphic => Encoding::BordaPoints,
        _ => Encoding::RankPositions,
    }
}

/// The shape of `contest`'s encrypted vector.
#[must_use]
pub fn shape(contest: &Contest) -> Shape {
    let n = contest.options().len() as u64;
    let sel = contest.selections();
    let (lo, hi) = (u64::from(sel.min), u64::from(sel.max));
    match encoding(contest) {
        Encoding::Marks => Shape {
            options: contest.options().len(),
            max_value: 1,
            min_sum: lo,
            max_sum: hi,
        },
        Encoding::Scores { min, max } => Shape {
            options: contest.options().len(),
            max_value: u64::from(max - min),
            min_sum: 0,
            max_sum: n * u64::from(max - min),
        },
        Encoding::BordaPoints => {
            // Ranking r options gives (n−1) + … + (n−r) points.
            let points = |r: u64| r * (2 * n - r - 1) / 2;
            Shape {
                options: contest.options().len(),
                max_value: n.saturating_sub(1),
                min_sum: points(lo),
                max_sum: points(hi),
            }
        }
        Encoding::RankPositions => Shape {
            options: contest.options().len(),
            max_value: n,
            min_sum: lo * (lo + 1) / 2,
            max_sum: hi * (hi + 1) / 2,
        },
    }
}

/// Checks `selection` against `contest`'s rules.
///
/// # Errors
/// The [`BallotError`] that names the broken rule.
pub fn validate(contest: &Contest, selection: &Selection) -> Result<(), BallotError> {
    let n = contest.options().len();
    let sel = contest.selections();
    let selections = |count: usize| {
        if u64::try_from(count).is_ok_and(|k| sel.contains(k)) {
            Ok(())
        } else {
            Err(BallotError::Selections {
                count,
                min: sel.min,
                max: sel.max,
            })
        }
    };
    let distinct = |list: &[usize]| -> Result<(), BallotError> {
        let mut seen = vec![false; n];
        for &i in list {
            let slot = seen.get_mut(i).ok_or(BallotError::NoSuchOption(i))?;
            if std::mem::replace(slot, true) {
                return Err(BallotError::Duplicate(i));
            }
        }
        Ok(())
    };
    match (encoding(contest), selection) {
        (Encoding::Marks, Selection::Marks(marks)) => {
            distinct(marks)?;
            selections(marks.len())
        }
        (Encoding::Scores { min, max }, Selection::Scores(scores)) => {
            if scores.len() != n {
                return Err(BallotError::Length {
                    got: scores.len(),
                    options: n,
                });
            }
            if let Some((i, &s)) = scores
                .iter()
                .enumerate()
                .find(|(_, s)| !(min..=max).contains(*s))
            {
                return Err(BallotError::Score {
                    option: i,
                    score: s,
                    min,
                    max,
                });
            }
            let above = scores.iter().filter(|&&s| s > min).count();
            selections(above)
        }
        (Encoding::BordaPoints | Encoding::RankPositions, Selection::Ranking(order)) => {
            distinct(order)?;
            selections(order.len())
        }
        _ => Err(BallotError::WrongKind(contest.method())),
    }
}

/// Validates `selection` and encodes it as the option vector to encrypt.
///
/// # Errors
/// The [`BallotError`] of [`validate`].
pub fn encode(contest: &Contest, selection: &Selection) -> Result<Vec<u64>, BallotError> {
    validate(contest, selection)?;
    let n = contest.options().len();
    let mut v = vec![0u64; n];
    match (encoding(contest), selection) {
        (Encoding::Marks, Selection::Marks(marks)) => {
            for &i in marks {
                v[i] = 1;
            }
        }
        (Encoding::Scores { min, .. }, Selection::Scores(scores)) => {
            for (slot, &s) in v.iter_mut().zip(scores) {
                *slot = u64::from(s - min);
            }
        }
        (Encoding::BordaPoints, Selection::Ranking(order)) => {
            for (k, &i) in order.iter().enumerate() {
                v[i] = (n - 1 - k) as u64;
            }
        }
        (Encoding::RankPositions, Selection::Ranking(order)) => {
            for (k, &i) in order.iter().enumerate() {
                v[i] = k as u64 + 1;
            }
        }
        _ => return Err(BallotError::WrongKind(contest.method())),
    }
    Ok(v)
}

/// Decodes a decrypted option vector back into a selection, refusing any vector that
/// [`encode`] could not have produced from a valid selection (except that a Borda
/// vector of a full ranking decodes with its last option unranked, which scores the
/// same).
///
/// # Errors
/// [`BallotError::Malformed`] for a vector no valid ballot encodes to, or the rule it
/// breaks.
pub fn decode(contest: &Contest, vector: &[u64]) -> Result<Selection, BallotError> {
    let n = contest.options().len();
    if vector.len() != n {
        return Err(BallotError::Length {
            got: vector.len(),
            options: n,
        });
    }
    let selection = match encoding(contest) {
        Encoding::Marks => {
            if vector.iter().any(|&x| x > 1) {
                return Err(BallotError::Malformed("a mark is not 0 or 1"));
            }
            Selection::Marks((0..n).filter(|&i| vector[i] == 1).collect())
        }
        Encoding::Scores { min, max } => Selection::Scores(
            vector
                .iter()
                .map(|&x| {
                    u32::try_from(x)
                        .ok()
                        .and_then(|x| x.checked_add(min))
                        .filter(|s| *s <= max)
                        .ok_or(BallotError::Malformed("a score out of range"))
                })
                .collect::<Result<_, _>>()?,
        ),
        Encoding::BordaPoints => {
            let mut ranked: Vec<usize> = (0..n).filter(|&i| vector[i] > 0).collect();
            ranked.sort_by(|&a, &b| vector[b].cmp(&vector[a]));
            for (k, &i) in ranked.iter().enumerate() {
                if vector[i] != (n - 1 - k) as u64 {
                    return Err(BallotError::Malformed("Borda points are not a ranking"));
                }
            }
            Selection::Ranking(ranked)
        }
        Encoding::RankPositions => {
            let mut ranked: Vec<usize> = (0..n).filter(|&i| vector[i] > 0).collect();
            ranked.sort_by_key(|&i| vector[i]);
            for (k, &i) in ranked.iter().enumerate() {
                if vector[i] != k as u64 + 1 {
                    return Err(BallotError::Malformed("rank positions are not 1, 2, 3, …"));
                }
            }
            Selection::Ranking(ranked)
        }
    };
    validate(contest, &selection)?;
    Ok(selection)
}

/// Builds the profile a counting method reads from a contest's (valid) selections, as
/// decoded after a mix-net.
///
/// # Errors
/// The first selection that breaks the contest's rules, or a profile error.
pub fn profile(contest: &Contest, selections: &[Selection]) -> crate::Result<Ballots> {
    let candidates: Vec<Candidate> = contest
        .options()
        .iter()
        .map(|o| Candidate::new(o.name()))
        .collect();
    let id = |i: usize| CandidateId::new(u32::try_from(i).unwrap_or(u32::MAX));
    for s in selections {
        validate(contest, s)?;
    }
    match encoding(contest) {
        Encoding::Scores { min, max } => {
            let ballots = selections
                .iter()
                .filter_map(|s| match s {
                    Selection::Scores(v) => {
                        Some(ScoredBallot::new(1, v.iter().map(|x| x - min).collect()))
                    }
                    _ => None,
                })
                .collect();
            Ok(Ballots::Scored(ScoredProfile::new(
                candidates,
                max - min,
                Some(contest.title().to_owned()),
                ballots,
            )?))
        }
        _ => {
            let ballots = selections
                .iter()
                .map(|s| match s {
                    Selection::Marks(m) if m.is_empty() => RankedBallot::new(1, Vec::new()),
                    Selection::Marks(m) => {
                        RankedBallot::new(1, vec![m.iter().map(|&i| id(i)).collect()])
                    }
                    Selection::Ranking(r) => {
                        RankedBallot::strict(1, &r.iter().map(|&i| id(i)).collect::<Vec<_>>())
                    }
                    Selection::Scores(_) => RankedBallot::new(1, Vec::new()),
                })
                .collect();
            Ok(Ballots::Ranked(RankedProfile::new(
                candidates,
                Some(contest.seats()),
                Some(contest.title().to_owned()),
                ballots,
            )?))
        }
    }
}

#[cfg(test)]
mod tests;
