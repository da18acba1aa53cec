//! Candidates and ranked ballots: the input every ranked counting method reads.
//!
//! A [`RankedProfile`] is validated once, in [`RankedProfile::new`]; afterwards every
//! ballot is known to name only existing candidates, each at most once, in non-empty
//! preference groups, so the counting code never re-checks its input.

use serde::Serialize;

use crate::error::{Error, Result};

/// The most candidates a profile may have (a bound on what untrusted files can make a
/// counter allocate).
pub const MAX_CANDIDATES: usize = 100_000;

/// Candidate ids `0..n`, for a list of `n` candidates.
pub(crate) fn ids(n: usize) -> impl Iterator<Item = CandidateId> {
    // Both profile types check that their candidate lists fit in u32, so the cap
    // never shortens a list.
    (0..u32::try_from(n).unwrap_or(u32::MAX)).map(CandidateId::new)
}

/// A candidate's position in its profile's candidate list (0-based).
///
/// Candidate files number candidates from 1 (BLT, PrefLib); the readers convert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct CandidateId(u32);

impl CandidateId {
    /// The candidate at `index` (0-based) in the candidate list.
    #[must_use]
    pub const fn new(index: u32) -> Self {
        Self(index)
    }

    /// The 0-based index into the candidate list.
    #[must_use]
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// The 0-based index as stored.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl std::fmt::Display for CandidateId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0 + 1)
    }
}

/// A candidate (or option) standing in a contest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Candidate {
    name: String,
    withdrawn: bool,
}

impl Candidate {
    /// A candidate standing under `name`.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            withdrawn: false,
        }
    }

    /// A candidate who withdrew after the ballots were printed (BLT's negative
    /// candidate line): votes for them pass to the next preference from the start.
    #[must_use]
    pub fn withdrawn(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            withdrawn: true,
        }
    }

    /// The candidate's name as printed on the ballot.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the candidate withdrew.
    #[must_use]
    pub fn is_withdrawn(&self) -> bool {
        self.withdrawn
    }
}

/// One ranked ballot, or `count` identical ones.
///
/// `ranking` lists preference groups from most to least preferred; a group of more
/// than one candidate is a tie (PrefLib "toi"/"toc", BLT `a=b`). Unranked candidates
/// come after every ranked one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct RankedBallot {
    count: u64,
    ranking: Vec<Vec<CandidateId>>,
}

impl RankedBallot {
    /// `count` identical ballots ranking `ranking` (validated by [`RankedProfile::new`]).
    #[must_use]
    pub fn new(count: u64, ranking: Vec<Vec<CandidateId>>) -> Self {
        Self { count, ranking }
    }

    /// A ballot with strict preferences only: one candidate per group.
    #[must_use]
    pub fn strict(count: u64, order: &[CandidateId]) -> Self {
        Self::new(count, order.iter().map(|&c| vec![c]).collect())
    }

    /// How many voters cast this ballot.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Preference groups, most preferred first.
    #[must_use]
    pub fn ranking(&self) -> &[Vec<CandidateId>] {
        &self.ranking
    }

    /// Whether every group holds exactly one candidate.
    #[must_use]
    pub fn is_strict(&self) -> bool {
        self.ranking.iter().all(|group| group.len() == 1)
    }

    /// Whether the ballot ranks no candidate at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ranking.is_empty()
    }
}

/// A validated set of ranked ballots over a candidate list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RankedProfile {
    candidates: Vec<Candidate>,
    seats: Option<u32>,
    title: Option<String>,
    ballots: Vec<RankedBallot>,
}

impl RankedProfile {
    /// Checks and builds a profile.
    ///
    /// # Errors
    /// [`Error::InvalidProfile`] if there are no candidates, a ballot names a
    /// candidate that does not exist or names one twice, or has an empty group.
    pub fn new(
        candidates: Vec<Candidate>,
        seats: Option<u32>,
        title: Option<String>,
        ballots: Vec<RankedBallot>,
    ) -> Result<Self> {
        if candidates.is_empty() {
            return Err(Error::InvalidProfile("no candidates".into()));
        }
        if candidates.len() > MAX_CANDIDATES {
            return Err(Error::InvalidProfile(format!(
                "{} candidates; at most {MAX_CANDIDATES} are supported",
                candidates.len()
            )));
        }
        if ballots
            .iter()
            .try_fold(0u64, |sum, b| sum.checked_add(b.count))
            .is_none()
        {
            return Err(Error::InvalidProfile(
                "the ballot counts add up to more than 2^64 - 1".into(),
            ));
        }
        let mut seen = vec![usize::MAX; candidates.len()];
        for (b, ballot) in ballots.iter().enumerate() {
            for group in &ballot.ranking {
                if group.is_empty() {
                    return Err(Error::InvalidProfile(format!(
                        "ballot {}: empty preference group",
                        b + 1
                    )));
                }
                for &c in group {
                    let slot = seen.get_mut(c.index()).ok_or_else(|| {
                        Error::InvalidProfile(format!(
                            "ballot {}: candidate {c} does not exist ({} candidates)",
                            b + 1,
                            candidates.len()
                        ))
                    })?;
                    if *slot == b {
                        return Err(Error::InvalidProfile(format!(
                            "ballot {}: candidate {c} ranked more than once",
                            b + 1
                        )));
                    }
                    *slot = b;
                }
            }
        }
        Ok(Self {
            candidates,
            seats,
            title,
            ballots,
        })
    }

    /// The candidates, indexed by [`CandidateId`].
    #[must_use]
    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// The candidate with id `id`, if it exists.
    #[must_use]
    pub fn candidate(&self, id: CandidateId) -> Option<&Candidate> {
        self.candidates.get(id.index())
    }

    /// Every candidate id in list order.
    pub fn candidate_ids(&self) -> impl Iterator<Item = CandidateId> + use<> {
        ids(self.candidates.len())
    }

    /// Seats to fill, if the file said.
    #[must_use]
    pub fn seats(&self) -> Option<u32> {
        self.seats
    }

    /// The election's title, if the file had one.
    #[must_use]
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// The ballots, in file order.
    #[must_use]
    pub fn ballots(&self) -> &[RankedBallot] {
        &self.ballots
    }

    /// The number of voters (sum of ballot counts; checked to fit by [`RankedProfile::new`]).
    #[must_use]
    pub fn voters(&self) -> u64 {
        self.ballots.iter().map(|b| b.count).sum()
    }

    /// The id of the candidate named `name`, if one is.
    #[must_use]
    pub fn find(&self, name: &str) -> Option<CandidateId> {
        self.candidate_ids()
            .find(|&id| self.candidates[id.index()].name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(raw: &[u32]) -> Vec<CandidateId> {
        raw.iter().copied().map(CandidateId::new).collect()
    }

    #[test]
    fn accepts_ties_and_counts_voters() {
        let profile = RankedProfile::new(
            vec![
                Candidate::new("A"),
                Candidate::new("B"),
                Candidate::new("C"),
            ],
            Some(1),
            None,
            vec![
                RankedBallot::new(3, vec![ids(&[0]), ids(&[1, 2])]),
                RankedBallot::strict(2, &ids(&[2])),
                RankedBallot::new(1, vec![]),
            ],
        )
        .unwrap();
        assert_eq!(profile.voters(), 6);
        assert!(!profile.ballots()[0].is_strict());
        assert!(profile.ballots()[2].is_empty());
        assert_eq!(profile.find("C"), Some(CandidateId::new(2)));
    }

    #[test]
    fn rejects_unknown_duplicate_and_empty_group() {
        let cands = || vec![Candidate::new("A"), Candidate::new("B")];
        let unknown = RankedProfile::new(
            cands(),
            None,
            None,
            vec![RankedBallot::strict(1, &ids(&[2]))],
        );
        assert!(unknown.unwrap_err().to_string().contains("does not exist"));
        let twice = RankedProfile::new(
            cands(),
            None,
            None,
            vec![RankedBallot::new(1, vec![ids(&[0]), ids(&[1, 0])])],
        );
        assert!(twice.unwrap_err().to_string().contains("more than once"));
        let empty = RankedProfile::new(
            cands(),
            None,
            None,
            vec![RankedBallot::new(1, vec![vec![]])],
        );
        assert!(
            empty
                .unwrap_err()
                .to_string()
                .contains("empty preference group")
        );
        assert!(RankedProfile::new(vec![], None, None, vec![]).is_err());
        let huge = vec![
            RankedBallot::strict(u64::MAX, &ids(&[0])),
            RankedBallot::strict(1, &ids(&[1])),
        ];
        let overflow = RankedProfile::new(cands(), None, None, huge);
        assert!(overflow.unwrap_err().to_string().contains("2^64"));
    }
}
