//! Counting methods by name, and the tie-break rules they share.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::profile::{Candidate, CandidateId};
use crate::report::Amount;

/// A counting method. The names (`Display`/`FromStr`, serde) are the ones manifests and
/// `urna tabulate --method` use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Plurality, or "vote for N of M": the N options with the most marks win.
    Plurality,
    /// Approval: each voter marks any number of options; most marks win.
    Approval,
    /// A yes/no question with abstentions, an optional quorum and threshold.
    Referendum,
    /// Score (range) voting: the highest total score wins.
    Score,
    /// STAR: score then automatic runoff between the two highest totals.
    Star,
    /// Borda count over rankings.
    Borda,
    /// Instant-runoff voting (single-winner ranked elimination).
    Irv,
    /// Scottish STV (Scottish Local Government Elections Order 2007, 5-place decimals).
    #[serde(rename = "scottish-stv")]
    ScottishStv,
    /// Meek STV (Droop's Meek parametric rule).
    #[serde(rename = "meek-stv")]
    MeekStv,
    /// STV with the weighted inclusive Gregory method.
    #[serde(rename = "wigm-stv")]
    WigmStv,
    /// The Schulze Condorcet method (beatpath).
    Schulze,
    /// Tideman's Ranked Pairs Condorcet method.
    #[serde(rename = "ranked-pairs")]
    RankedPairs,
}

impl Method {
    /// Every method, in the order the documentation lists them.
    pub const ALL: [Method; 12] = [
        Method::Plurality,
        Method::Approval,
        Method::Referendum,
        Method::Score,
        Method::Star,
        Method::Borda,
        Method::Irv,
        Method::ScottishStv,
        Method::MeekStv,
        Method::WigmStv,
        Method::Schulze,
        Method::RankedPairs,
    ];

    /// The method's canonical name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Method::Plurality => "plurality",
            Method::Approval => "approval",
            Method::Referendum => "referendum",
            Method::Score => "score",
            Method::Star => "star",
            Method::Borda => "borda",
            Method::Irv => "irv",
            Method::ScottishStv => "scottish-stv",
            Method::MeekStv => "meek-stv",
            Method::WigmStv => "wigm-stv",
            Method::Schulze => "schulze",
            Method::RankedPairs => "ranked-pairs",
        }
    }

    /// Whether the method reads whole rankings (and so counts a [`crate::RankedProfile`]).
    #[must_use]
    pub const fn is_ranked(self) -> bool {
        matches!(
            self,
            Method::Borda
                | Method::Irv
                | Method::ScottishStv
                | Method::MeekStv
                | Method::WigmStv
                | Method::Schulze
                | Method::RankedPairs
        )
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| Error::UnknownMethod(s.to_owned()))
    }
}

/// How a tie is decided when a method must pick one of several equal candidates (whom
/// to eliminate, whose surplus to transfer first, who wins).
///
/// Every rule ends in a total "lot order" over the candidates ([`TieBreak::lot`]), so a
/// count never depends on anything but its input and this rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "rule")]
pub enum TieBreak {
    /// Look back through earlier rounds, most recent first, to the last round in which
    /// the tied candidates had unequal values, and decide by those values (as the
    /// Scottish rules prescribe). Candidates equal in every earlier round are decided
    /// by the seeded order if `seed` is given, else by candidate list order (earlier
    /// listed is favoured).
    PreviousRounds {
        /// Public seed for the final lot, if any.
        seed: Option<String>,
    },
    /// A fixed order from the manifest: earlier in the list is favoured (kept, or
    /// elected). Candidates missing from the list come after, in list order.
    FixedOrder(Vec<CandidateId>),
    /// A pseudo-random order fixed by a public seed: candidates sorted by
    /// SHA-256 of the encoding in [`TieBreak::lot`]; the smallest digest is favoured.
    Random {
        /// The public seed (e.g. a published lottery draw or a beacon value).
        seed: String,
    },
}

impl Default for TieBreak {
    fn default() -> Self {
        TieBreak::PreviousRounds { seed: None }
    }
}

/// Domain tag of the seeded lot digest.
const LOT_DOMAIN: &[u8] = b"urna/v1/tie-break-lot";

impl TieBreak {
    /// Whether earlier rounds are consulted before the lot.
    #[must_use]
    pub fn uses_previous_rounds(&self) -> bool {
        matches!(self, TieBreak::PreviousRounds { .. })
    }

    /// The total lot order of `candidates`.
    ///
    /// For a seed, each candidate's key is SHA-256 over the domain tag
    /// `urna/v1/tie-break-lot`, then the seed and the candidate's name, each prefixed by
    /// its byte length as a big-endian u64; keys sort ascending (ties of identical
    /// names by list position).
    #[must_use]
    pub fn lot(&self, candidates: &[Candidate]) -> Lot {
        let n = candidates.len();
        let mut order: Vec<usize> = (0..n).collect();
        match self {
            TieBreak::PreviousRounds { seed: None } => {}
            TieBreak::PreviousRounds { seed: Some(seed) } | TieBreak::Random { seed } => {
                let keys: Vec<[u8; 32]> = candidates
                    .iter()
                    .map(|c| seeded_key(seed, c.name()))
                    .collect();
                order.sort_by(|&a, &b| keys[a].cmp(&keys[b]).then(a.cmp(&b)));
            }
            TieBreak::FixedOrder(list) => {
                let mut position = vec![usize::MAX; n];
                for (p, id) in list.iter().enumerate() {
                    if let Some(slot) = position.get_mut(id.index()) {
                        *slot = (*slot).min(p);
                    }
                }
                order.sort_by_key(|&c| (position[c], c));
            }
        }
        let mut rank = vec![0; n];
        for (r, &c) in order.iter().enumerate() {
            rank[c] = r;
        }
        Lot { rank }
    }

    /// Picks one of `tied` (non-empty): the [`Pick::Lowest`] to eliminate or the
    /// [`Pick::Highest`] to favour. `history` holds the values of earlier rounds,
    /// oldest first, indexed by candidate; it is consulted only under
    /// [`TieBreak::PreviousRounds`]. Returns `None` only if `tied` is empty.
    #[must_use]
    pub fn pick(
        &self,
        tied: &[CandidateId],
        history: &[&[Amount]],
        lot: &Lot,
        pick: Pick,
    ) -> Option<CandidateId> {
        let mut left: Vec<CandidateId> = tied.to_vec();
        if self.uses_previous_rounds() {
            for round in history.iter().rev() {
                if left.len() <= 1 {
                    break;
                }
                let value = |c: &CandidateId| round.get(c.index()).copied();
                let best = match pick {
                    Pick::Lowest => left.iter().map(value).min(),
                    Pick::Highest => left.iter().map(value).max(),
                }
                .flatten();
                left.retain(|c| value(c) == best);
            }
        }
        match pick {
            Pick::Highest => left.into_iter().min_by_key(|c| lot.rank(*c)),
            Pick::Lowest => left.into_iter().max_by_key(|c| lot.rank(*c)),
        }
    }
}

fn seeded_key(seed: &str, name: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(LOT_DOMAIN);
    for field in [seed.as_bytes(), name.as_bytes()] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field);
    }
    h.finalize().into()
}

/// Which end of a tie a method wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// The candidate to lose (eliminated, or transferred last).
    Lowest,
    /// The candidate to win (elected, or transferred first).
    Highest,
}

/// A total order over candidates used as the last resort of a tie-break.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lot {
    rank: Vec<usize>,
}

impl Lot {
    /// The candidate's place in the order (0 = most favoured).
    #[must_use]
    pub fn rank(&self, id: CandidateId) -> usize {
        self.rank.get(id.index()).copied().unwrap_or(usize::MAX)
    }

    /// Candidates from most to least favoured.
    #[must_use]
    pub fn order(&self) -> Vec<CandidateId> {
        let mut ids: Vec<CandidateId> = (0..self.rank.len() as u32).map(CandidateId::new).collect();
        ids.sort_by_key(|&c| self.rank(c));
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cands(names: &[&str]) -> Vec<Candidate> {
        names.iter().map(|n| Candidate::new(*n)).collect()
    }

    #[test]
    fn names_round_trip() {
        for m in Method::ALL {
            assert_eq!(m.to_string().parse::<Method>().unwrap(), m);
        }
        assert_eq!(
            "scottish-stv".parse::<Method>().unwrap(),
            Method::ScottishStv
        );
        assert!("stv".parse::<Method>().is_err());
        for m in Method::ALL {
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{m}\""));
        }
    }

    #[test]
    fn seeded_lot_is_deterministic_and_seed_dependent() {
        let c = cands(&["Ann", "Bob", "Cy", "Di", "Ed", "Flo"]);
        let a = TieBreak::Random {
            seed: "2026-11-22".into(),
        }
        .lot(&c)
        .order();
        let b = TieBreak::Random {
            seed: "2026-11-22".into(),
        }
        .lot(&c)
        .order();
        assert_eq!(a, b);
        let orders: std::collections::HashSet<Vec<CandidateId>> = (0..8)
            .map(|s| {
                TieBreak::Random {
                    seed: s.to_string(),
                }
                .lot(&c)
                .order()
            })
            .collect();
        assert!(orders.len() > 1, "the seed must change the order");
        // The order is a permutation.
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..6).map(CandidateId::new).collect::<Vec<_>>());
        // Known answer: pins the digest encoding.
        let key = seeded_key("s", "A");
        let mut h = Sha256::new();
        h.update(b"urna/v1/tie-break-lot");
        h.update(1u64.to_be_bytes());
        h.update(b"s");
        h.update(1u64.to_be_bytes());
        h.update(b"A");
        assert_eq!(key, <[u8; 32]>::from(h.finalize()));
    }

    #[test]
    fn fixed_order_favours_listed_first() {
        let c = cands(&["A", "B", "C"]);
        let rule = TieBreak::FixedOrder(vec![CandidateId::new(2), CandidateId::new(0)]);
        let lot = rule.lot(&c);
        assert_eq!(
            lot.order(),
            vec![
                CandidateId::new(2),
                CandidateId::new(0),
                CandidateId::new(1)
            ]
        );
        let all: Vec<_> = (0..3).map(CandidateId::new).collect();
        assert_eq!(
            rule.pick(&all, &[], &lot, Pick::Lowest),
            Some(CandidateId::new(1))
        );
        assert_eq!(
            rule.pick(&all, &[], &lot, Pick::Highest),
            Some(CandidateId::new(2))
        );
    }

    #[test]
    fn previous_rounds_look_back_to_last_difference() {
        let c = cands(&["A", "B", "C"]);
        let rule = TieBreak::default();
        let lot = rule.lot(&c);
        let r1 = [Amount::integer(5), Amount::integer(3), Amount::integer(4)];
        let r2 = [Amount::integer(6), Amount::integer(6), Amount::integer(6)];
        let tied: Vec<_> = (0..3).map(CandidateId::new).collect();
        let history: Vec<&[Amount]> = vec![&r1, &r2];
        assert_eq!(
            rule.pick(&tied, &history, &lot, Pick::Lowest),
            Some(CandidateId::new(1))
        );
        assert_eq!(
            rule.pick(&tied, &history, &lot, Pick::Highest),
            Some(CandidateId::new(0))
        );
        // Equal throughout: list order decides (last listed loses).
        let flat: Vec<&[Amount]> = vec![&r2];
        assert_eq!(
            rule.pick(&tied, &flat, &lot, Pick::Lowest),
            Some(CandidateId::new(2))
        );
        assert_eq!(rule.pick(&[], &flat, &lot, Pick::Lowest), None);
    }
}
