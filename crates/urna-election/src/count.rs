//! One entry point for every method: [`tabulate`] maps a [`Method`], its parameters
//! and a ballot profile to the right counting function; [`tabulate_totals`] counts an
//! additive contest from the per-option totals a homomorphic tally decrypts.

use crate::error::{Error, Result};
use crate::manifest::{Contest, ReferendumRules};
use crate::method::{Method, TieBreak};
use crate::methods::{irv, plurality, ranked_pairs, referendum, schulze, score, star, stv};
use crate::profile::{Candidate, RankedProfile};
use crate::report::Tabulation;
use crate::scored::ScoredProfile;

/// The ballots of one contest: rankings (BLT, PrefLib, ranked mix-net output) or
/// scores (the STAR server's CSV, score and STAR contests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ballots {
    /// Ranked ballots, possibly with ties and truncation.
    Ranked(RankedProfile),
    /// Score ballots.
    Scored(ScoredProfile),
}

impl Ballots {
    /// The candidate names, in candidate order.
    #[must_use]
    pub fn candidates(&self) -> &[Candidate] {
        match self {
            Ballots::Ranked(p) => p.candidates(),
            Ballots::Scored(p) => p.candidates(),
        }
    }

    /// The number of voters.
    #[must_use]
    pub fn voters(&self) -> u64 {
        match self {
            Ballots::Ranked(p) => p.voters(),
            Ballots::Scored(p) => p.voters(),
        }
    }

    /// Seats named by the file, if any (BLT's header).
    #[must_use]
    pub fn seats(&self) -> Option<u32> {
        match self {
            Ballots::Ranked(p) => p.seats(),
            Ballots::Scored(_) => None,
        }
    }

    /// Rankings: as they are, or score ballots grouped by score
    /// ([`ScoredProfile::to_ranked`]).
    ///
    /// # Errors
    /// Only if the conversion fails, which validation rules out.
    pub fn ranked(&self) -> Result<std::borrow::Cow<'_, RankedProfile>> {
        match self {
            Ballots::Ranked(p) => Ok(std::borrow::Cow::Borrowed(p)),
            Ballots::Scored(p) => Ok(std::borrow::Cow::Owned(p.to_ranked()?)),
        }
    }
}

/// A method and its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    /// The counting method.
    pub method: Method,
    /// Seats to fill; `None` takes the file's (BLT) or 1.
    pub seats: Option<u32>,
    /// The tie-break rule.
    pub tie_break: TieBreak,
    /// Quorum and threshold (referendums).
    pub referendum: ReferendumRules,
}

impl Rules {
    /// `method` with one seat (or the file's), default tie-break and no quorum.
    #[must_use]
    pub fn new(method: Method) -> Self {
        Self {
            method,
            seats: None,
            tie_break: TieBreak::default(),
            referendum: ReferendumRules::default(),
        }
    }

    /// The rules a manifest contest prescribes.
    #[must_use]
    pub fn for_contest(contest: &Contest) -> Self {
        Self {
            method: contest.method(),
            seats: Some(contest.seats()),
            tie_break: contest.tie_break().clone(),
            referendum: contest.referendum(),
        }
    }
}

/// Counts `ballots` by `rules`.
///
/// # Errors
/// [`Error::Count`] if the method cannot count these ballots (score methods need score
/// ballots; seats out of range), or the method's own error.
pub fn tabulate(ballots: &Ballots, rules: &Rules) -> Result<Tabulation> {
    let seats = rules.seats.or(ballots.seats()).unwrap_or(1);
    let tie = &rules.tie_break;
    match rules.method {
        Method::Score | Method::Star => {
            let Ballots::Scored(p) = ballots else {
                return Err(Error::Count(format!(
                    "{} needs score ballots (the STAR server's CSV), not rankings",
                    rules.method
                )));
            };
            if rules.method == Method::Star {
                single_seat(rules.method, seats)?;
                star::star(p, tie)
            } else {
                score::score(p, seats, tie)
            }
        }
        Method::Referendum => {
            single_seat(rules.method, seats)?;
            referendum::referendum_from_profile(ballots.ranked()?.as_ref(), rules.referendum)
        }
        Method::Plurality => plurality::plurality(ballots.ranked()?.as_ref(), seats, tie),
        // A score ballot approves every candidate it scores above zero, which is what
        // its ranking (zero left unranked) says too.
        Method::Approval => plurality::approval(ballots.ranked()?.as_ref(), seats, tie),
        Method::Borda => score::borda(ballots.ranked()?.as_ref(), seats, tie),
        Method::Irv => {
            single_seat(rules.method, seats)?;
            irv::count(ballots.ranked()?.as_ref(), tie)
        }
        Method::ScottishStv => stv::scottish::count(ballots.ranked()?.as_ref(), Some(seats), tie),
        Method::MeekStv => stv::meek::count(ballots.ranked()?.as_ref(), Some(seats), tie),
        Method::WigmStv => stv::wigm::count(ballots.ranked()?.as_ref(), Some(seats), tie),
        Method::Schulze => schulze::schulze(ballots.ranked()?.as_ref(), seats, tie),
        Method::RankedPairs => ranked_pairs::ranked_pairs(ballots.ranked()?.as_ref(), seats, tie),
    }
}

fn single_seat(method: Method, seats: u32) -> Result<()> {
    if seats == 1 {
        Ok(())
    } else {
        Err(Error::Count(format!(
            "{method} fills exactly one seat, not {seats}"
        )))
    }
}

/// Counts an additive contest from its decrypted per-option totals (the homomorphic
/// tally's output, in the encoding of [`crate::ballot`]).
///
/// `ballots` is the number of ballots cast in the contest; score totals are of the
/// encoded values (`score − min`), and `min · ballots` is added back.
///
/// # Errors
/// [`Error::Count`] if the contest is not additive or the totals do not match it.
pub fn tabulate_totals(contest: &Contest, totals: &[u64], ballots: u64) -> Result<Tabulation> {
    let candidates: Vec<Candidate> = contest
        .options()
        .iter()
        .map(|o| Candidate::new(o.name()))
        .collect();
    if totals.len() != candidates.len() {
        return Err(Error::Count(format!(
            "{} totals for {} options",
            totals.len(),
            candidates.len()
        )));
    }
    let tie = contest.tie_break();
    match contest.method() {
        Method::Referendum => referendum::referendum(&candidates, totals, contest.referendum()),
        Method::Score => {
            let min = u64::from(contest.scores().map_or(0, |s| s.min));
            let shifted: Vec<u64> = totals
                .iter()
                .map(|&t| {
                    min.checked_mul(ballots)
                        .and_then(|base| t.checked_add(base))
                        .ok_or(Error::Overflow("score totals"))
                })
                .collect::<Result<_>>()?;
            plurality::from_totals(Method::Score, &candidates, &shifted, contest.seats(), tie)
        }
        m @ (Method::Plurality | Method::Approval | Method::Borda) => {
            plurality::from_totals(m, &candidates, totals, contest.seats(), tie)
        }
        m => Err(Error::Count(format!("{m} needs whole ballots, not totals"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;
    use crate::methods::fixtures::tennessee;

    #[test]
    fn every_ranked_method_counts_tennessee() {
        let ballots = Ballots::Ranked(tennessee());
        let expect = [
            (Method::Plurality, "Memphis"),
            // Full rankings approve everyone: all tie at 100 and list order decides.
            (Method::Approval, "Memphis"),
            (Method::Borda, "Nashville"),
            (Method::Irv, "Knoxville"),
            (Method::ScottishStv, "Knoxville"),
            (Method::MeekStv, "Knoxville"),
            (Method::WigmStv, "Knoxville"),
            (Method::Schulze, "Nashville"),
            (Method::RankedPairs, "Nashville"),
        ];
        for (method, winner) in expect {
            let t = tabulate(&ballots, &Rules::new(method)).unwrap();
            assert_eq!(t.method, method);
            assert_eq!(t.winner_names(), [winner], "{method}");
        }
        for method in [Method::Score, Method::Star] {
            let e = tabulate(&ballots, &Rules::new(method)).unwrap_err();
            assert!(e.to_string().contains("score ballots"), "{e}");
        }
        let two = Rules {
            seats: Some(2),
            ..Rules::new(Method::Irv)
        };
        assert!(tabulate(&ballots, &two).is_err());
    }

    #[test]
    fn totals_of_the_club_election() {
        let m = Manifest::from_yaml(include_str!("../../../examples/club-election.yaml")).unwrap();
        let boathouse = m.contest("boathouse").unwrap();
        let t = tabulate_totals(boathouse, &[40, 20, 5], 65).unwrap();
        assert_eq!(t.winner_names(), ["Yes"]);
        let t = tabulate_totals(boathouse, &[40, 21, 5], 66).unwrap();
        assert_eq!(t.winner_names(), ["No"]);
        let committee = m.contest("committee").unwrap();
        let t = tabulate_totals(committee, &[9, 7, 9, 3, 7], 12).unwrap();
        // Barbara and Frances lead; Donald and Radia tie for the third seat and the
        // fixed order (radia first) decides.
        assert_eq!(
            t.winner_names(),
            ["Frances Allen", "Barbara Liskov", "Radia Perlman"]
        );
        let venue = m.contest("regatta-venue").unwrap();
        let t = tabulate_totals(venue, &[10, 30, 20], 10).unwrap();
        assert_eq!(t.winner_names(), ["Home river"]);
        assert!(tabulate_totals(venue, &[1, 2], 1).is_err());
    }
}
