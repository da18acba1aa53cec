//! The voter's plaintext choices, checked against the ballot style and turned into the
//! option vectors that are encrypted (docs/protocol.md §3.4).

use std::collections::BTreeMap;

use urna_crypto::BallotLayout;
use urna_election::{Method, Shape, StyleContest, TallyKind};

use crate::error::ChoiceError;

/// What a voter chooses in one contest, by option id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// The marked options (plurality, approval, referendum).
    Marks(Vec<String>),
    /// Scores of some options (score, STAR); options left out get the lowest score.
    Scores(Vec<(String, u32)>),
    /// Options from most to least preferred (Borda, and the ranked methods counted by
    /// mix-net: IRV, STV, Condorcet); options left out are unranked.
    Ranking(Vec<String>),
}

/// The voter's choices, by contest id. A contest left out is an empty choice (no marks,
/// lowest scores, no ranking), which its rules may refuse.
pub type Choices = BTreeMap<String, Choice>;

/// The option vectors of `choices` for the contests of `layout`, in ballot order.
pub fn selections(
    contests: &[StyleContest],
    layout: &BallotLayout,
    choices: &Choices,
) -> Result<Vec<Vec<u64>>, ChoiceError> {
    if let Some(unknown) = choices
        .keys()
        .find(|id| !layout.contests().iter().any(|(c, _)| c == *id))
    {
        return Err(match contests.iter().find(|c| &c.id == unknown) {
            Some(contest) => ChoiceError::Unsupported(contest.id.clone()),
            None => ChoiceError::UnknownContest(unknown.clone()),
        });
    }
    layout
        .contests()
        .iter()
        .map(|(id, _)| {
            let contest = contests
                .iter()
                .find(|c| &c.id == id)
                .ok_or_else(|| ChoiceError::UnknownContest(id.clone()))?;
            vector(contest, choices.get(id))
        })
        .collect()
}

/// One contest's option vector, checked against its rules.
fn vector(contest: &StyleContest, choice: Option<&Choice>) -> Result<Vec<u64>, ChoiceError> {
    let n = contest.options.len();
    let mut values = vec![0u64; n];
    let shape = contest.shape;
    match (contest.method, choice) {
        (Method::Plurality | Method::Approval | Method::Referendum, marks) => {
            let marks = match marks {
                None => &Vec::new(),
                Some(Choice::Marks(marks)) => marks,
                Some(_) => return Err(ChoiceError::WrongKind(contest.id.clone())),
            };
            for index in indices(contest, marks)? {
                values[index] = 1;
            }
            check_count(contest, marks.len() as u64, shape.min_sum, shape.max_sum)?;
        }
        (Method::Score | Method::Star, scores) => {
            let scores = match scores {
                None => &Vec::new(),
                Some(Choice::Scores(scores)) => scores,
                Some(_) => return Err(ChoiceError::WrongKind(contest.id.clone())),
            };
            let ids: Vec<String> = scores.iter().map(|(id, _)| id.clone()).collect();
            for (index, (_, score)) in indices(contest, &ids)?.into_iter().zip(scores) {
                let value = score
                    .checked_sub(contest.score_min)
                    .map(u64::from)
                    .filter(|v| *v <= shape.max_value)
                    .ok_or_else(|| ChoiceError::Score {
                        contest: contest.id.clone(),
                        score: *score,
                        min: contest.score_min,
                        max: u64::from(contest.score_min) + shape.max_value,
                    })?;
                values[index] = value;
            }
        }
        (method, ranking) if method.is_ranked() && contest.tally == TallyKind::Mixnet => {
            // Rank positions (1 for the first choice, 0 if unranked), proven a ranking.
            let ranking = match ranking {
                None => &Vec::new(),
                Some(Choice::Ranking(ranking)) => ranking,
                Some(_) => return Err(ChoiceError::WrongKind(contest.id.clone())),
            };
            for (rank, index) in indices(contest, ranking)?.into_iter().enumerate() {
                values[index] = rank as u64 + 1;
            }
            let (min, max) = ranked_limits(n, &shape, |r| r * (r + 1) / 2);
            check_count(contest, ranking.len() as u64, min, max)?;
        }
        (Method::Borda, ranking) => {
            let ranking = match ranking {
                None => &Vec::new(),
                Some(Choice::Ranking(ranking)) => ranking,
                Some(_) => return Err(ChoiceError::WrongKind(contest.id.clone())),
            };
            for (rank, index) in indices(contest, ranking)?.into_iter().enumerate() {
                values[index] = (n - 1 - rank) as u64;
            }
            let (min, max) = ranked_limits(n, &shape, |r| r * (2 * n as u64 - r - 1) / 2);
            check_count(contest, ranking.len() as u64, min, max)?;
        }
        _ => return Err(ChoiceError::Unsupported(contest.id.clone())),
    }
    let total: u64 = values.iter().sum();
    check_count(contest, total, shape.min_sum, shape.max_sum)?;
    Ok(values)
}

/// The fewest and most options a ranking may hold, from the limits on the sum of its
/// values (`sum(r)` for `r` options ranked, increasing in `r`).
fn ranked_limits(n: usize, shape: &Shape, sum: impl Fn(u64) -> u64) -> (u64, u64) {
    let ranks = 0..=n as u64;
    let min = ranks.clone().find(|r| sum(*r) >= shape.min_sum);
    let max = ranks.rev().find(|r| sum(*r) <= shape.max_sum);
    (min.unwrap_or(u64::MAX), max.unwrap_or(0))
}

/// The indices of option ids, refusing unknown and repeated ones.
fn indices(contest: &StyleContest, ids: &[String]) -> Result<Vec<usize>, ChoiceError> {
    let mut seen = Vec::with_capacity(ids.len());
    for id in ids {
        let index = contest
            .options
            .iter()
            .position(|o| &o.id == id)
            .ok_or_else(|| ChoiceError::UnknownOption {
                contest: contest.id.clone(),
                option: id.clone(),
            })?;
        if seen.contains(&index) {
            return Err(ChoiceError::Duplicate {
                contest: contest.id.clone(),
                option: id.clone(),
            });
        }
        seen.push(index);
    }
    Ok(seen)
}

fn check_count(contest: &StyleContest, count: u64, min: u64, max: u64) -> Result<(), ChoiceError> {
    if (min..=max).contains(&count) {
        Ok(())
    } else {
        Err(ChoiceError::Count {
            contest: contest.id.clone(),
            count,
            min,
            max,
        })
    }
}
