//! Score ballots (score and STAR voting): each voter gives every candidate a whole
//! number of stars in a fixed range.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::profile::{Candidate, CandidateId, RankedBallot, RankedProfile, ids};

/// One score ballot, or `count` identical ones: a score per candidate, in candidate
/// order. A candidate left blank scores the minimum.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ScoredBallot {
    count: u64,
    scores: Vec<u32>,
}

impl ScoredBallot {
    /// `count` identical ballots with `scores` (validated by [`ScoredProfile::new`]).
    #[must_use]
    pub fn new(count: u64, scores: Vec<u32>) -> Self {
        Self { count, scores }
    }

    /// How many voters cast this ballot.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The scores, indexed by [`CandidateId`].
    #[must_use]
    pub fn scores(&self) -> &[u32] {
        &self.scores
    }

    /// The score of candidate `id`.
    #[must_use]
    pub fn score(&self, id: CandidateId) -> u32 {
        self.scores.get(id.index()).copied().unwrap_or(0)
    }
}

/// A validated set of score ballots over a candidate list, with the highest score
/// allowed ("five stars" on a 0–5 ballot).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScoredProfile {
    candidates: Vec<Candidate>,
    max_score: u32,
    title: Option<String>,
    ballots: Vec<ScoredBallot>,
}

impl ScoredProfile {
    /// Checks and builds a profile.
    ///
    /// # Errors
    /// [`Error::InvalidProfile`] if there are no candidates, the maximum score is zero,
    /// or a ballot has the wrong number of scores or a score above the maximum.
    pub fn new(
        candidates: Vec<Candidate>,
        max_score: u32,
        title: Option<String>,
        ballots: Vec<ScoredBallot>,
    ) -> Result<Self> {
        if candidates.is_empty() || u32::try_from(candidates.len()).is_err() {
            return Err(Error::InvalidProfile("no candidates, or too many".into()));
        }
        if max_score == 0 {
            return Err(Error::InvalidProfile(
                "the maximum score must be positive".into(),
            ));
        }
        for (b, ballot) in ballots.iter().enumerate() {
            if ballot.scores.len() != candidates.len() {
                return Err(Error::InvalidProfile(format!(
                    "ballot {}: {} scores for {} candidates",
                    b + 1,
                    ballot.scores.len(),
                    candidates.len()
                )));
            }
            if let Some(s) = ballot.scores.iter().find(|&&s| s > max_score) {
                return Err(Error::InvalidProfile(format!(
                    "ballot {}: score {s} above the maximum {max_score}",
                    b + 1
                )));
            }
        }
        Ok(Self {
            candidates,
            max_score,
            title,
            ballots,
        })
    }

    /// The candidates, indexed by [`CandidateId`].
    #[must_use]
    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// The highest score a ballot may give.
    #[must_use]
    pub fn max_score(&self) -> u32 {
        self.max_score
    }

    /// The title, if the file had one.
    #[must_use]
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// The ballots, in file order.
    #[must_use]
    pub fn ballots(&self) -> &[ScoredBallot] {
        &self.ballots
    }

    /// The number of voters.
    #[must_use]
    pub fn voters(&self) -> u64 {
        self.ballots.iter().map(ScoredBallot::count).sum()
    }

    /// Every candidate id in list order.
    pub fn candidate_ids(&self) -> impl Iterator<Item = CandidateId> + use<> {
        ids(self.candidates.len())
    }

    /// The same ballots as rankings: candidates grouped by score, highest first; a
    /// candidate scored zero is left unranked (below every scored one).
    ///
    /// # Errors
    /// Only if the profile could not be rebuilt, which validation rules out.
    pub fn to_ranked(&self) -> Result<RankedProfile> {
        let ballots = self
            .ballots
            .iter()
            .map(|b| {
                let mut groups: Vec<Vec<CandidateId>> = Vec::new();
                for score in (1..=self.max_score).rev() {
                    let group: Vec<CandidateId> = self
                        .candidate_ids()
                        .filter(|&c| b.score(c) == score)
                        .collect();
                    if !group.is_empty() {
                        groups.push(group);
                    }
                }
                RankedBallot::new(b.count, groups)
            })
            .collect();
        RankedProfile::new(
            self.candidates.clone(),
            Some(1),
            self.title.clone(),
            ballots,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::fixtures::cands;

    #[test]
    fn validates_scores() {
        assert!(
            ScoredProfile::new(cands(2), 5, None, vec![ScoredBallot::new(1, vec![5, 6])]).is_err()
        );
        assert!(
            ScoredProfile::new(cands(2), 5, None, vec![ScoredBallot::new(1, vec![5])]).is_err()
        );
        assert!(ScoredProfile::new(cands(2), 0, None, vec![]).is_err());
        let p =
            ScoredProfile::new(cands(2), 5, None, vec![ScoredBallot::new(3, vec![5, 0])]).unwrap();
        assert_eq!(p.voters(), 3);
    }

    #[test]
    fn converts_to_rankings_grouping_equal_scores() {
        let p = ScoredProfile::new(
            cands(4),
            5,
            None,
            vec![ScoredBallot::new(2, vec![3, 5, 3, 0])],
        )
        .unwrap();
        let r = p.to_ranked().unwrap();
        let c = CandidateId::new;
        assert_eq!(r.ballots()[0].ranking(), &[vec![c(1)], vec![c(0), c(2)]]);
        assert_eq!(r.ballots()[0].count(), 2);
    }
}
