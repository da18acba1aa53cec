//! Counting a mix-net contest from its decrypted rows: each row decoded to the voter's
//! selection, the selections counted with the contest's method, and the cast-vote
//! record written in the format the contest's kind calls for. The tally service and
//! the independent verifier both count through here, so a recount is the same code
//! on the same rows (docs/protocol.md §4.9).

use crate::ballot::{self, BallotError};
use crate::count::{Ballots, Rules, tabulate};
use crate::cvr::{blt, star_csv};
use crate::error::Result;
use crate::manifest::Contest;
use crate::report::Tabulation;

/// A cast-vote record's file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CvrFormat {
    /// BLT, for ranked ballots (and marks, as ties).
    Blt,
    /// The STAR project's CSV, for score ballots.
    StarCsv,
}

impl CvrFormat {
    /// The format's name on the wire and the file's extension's stem: `blt` or
    /// `star-csv`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            CvrFormat::Blt => "blt",
            CvrFormat::StarCsv => "star-csv",
        }
    }

    /// The usual file name extension.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            CvrFormat::Blt => "blt",
            CvrFormat::StarCsv => "csv",
        }
    }
}

/// A mix-net contest counted from its rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MixedCount {
    /// The decoded ballots, in row order.
    pub ballots: Ballots,
    /// The count, round by round.
    pub tabulation: Tabulation,
    /// The cast-vote record's format.
    pub format: CvrFormat,
    /// The cast-vote record: one ballot per row, in row order.
    pub cvr: String,
}

/// Decodes every row of `contest` (one value per option, as urna-election's ballot
/// encoding gives them), counts them by the contest's rules and writes the CVR.
///
/// # Errors
/// [`crate::Error::Ballot`] for a row no valid ballot encodes to (its position named
/// in the message is not kept: the first such row fails the count), or the method's
/// or the CVR writer's error.
pub fn count_rows<R: AsRef<[u64]>>(contest: &Contest, rows: &[R]) -> Result<MixedCount> {
    let selections = rows
        .iter()
        .map(|row| ballot::decode(contest, row.as_ref()))
        .collect::<core::result::Result<Vec<_>, BallotError>>()?;
    let ballots = ballot::profile(contest, &selections)?;
    let tabulation = tabulate(&ballots, &Rules::for_contest(contest))?;
    let (format, cvr) = match &ballots {
        Ballots::Ranked(profile) => (CvrFormat::Blt, blt::write(profile)?),
        Ballots::Scored(profile) => (CvrFormat::StarCsv, star_csv::write(profile)?),
    };
    Ok(MixedCount {
        ballots,
        tabulation,
        format,
        cvr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    const MANIFEST: &str = r#"
id: mixed
title: Mixed
start: 2026-03-01T09:00:00Z
end: 2026-03-08T18:00:00Z
contests:
  - id: captain
    title: Captain
    method: irv
    options:
      - { id: ada, name: Ada }
      - { id: grace, name: Grace }
      - { id: alan, name: Alan }
    selections: { min: 1, max: 3 }
  - id: mascot
    title: Mascot
    method: star
    options:
      - { id: heron, name: Heron }
      - { id: otter, name: Otter }
      - { id: pike, name: Pike }
    scores: { min: 0, max: 5 }
"#;

    fn contest(id: &str) -> Contest {
        let manifest = Manifest::from_yaml(MANIFEST).unwrap();
        manifest
            .contests()
            .iter()
            .find(|c| c.id() == id)
            .unwrap()
            .clone()
    }

    #[test]
    fn ranked_rows_count_by_irv_and_write_blt() {
        let captain = contest("captain");
        // Positions per option: Ada first twice, Grace first once with Ada second,
        // Alan first once with Grace second.
        let rows = [[1, 2, 0], [1, 0, 2], [2, 1, 0], [0, 2, 1]];
        let count = count_rows(&captain, &rows).unwrap();
        assert_eq!(count.format, CvrFormat::Blt);
        assert_eq!(count.tabulation.winner_names(), vec!["Ada"]);
        assert_eq!(count.ballots.voters(), 4);
        assert!(count.cvr.starts_with("3 1\n"), "{}", count.cvr);
        assert_eq!(count_rows(&captain, &rows).unwrap().cvr, count.cvr);
    }

    #[test]
    fn score_rows_count_by_star_and_write_csv() {
        let mascot = contest("mascot");
        let rows = [[5, 4, 0], [0, 5, 1], [3, 5, 0]];
        let count = count_rows(&mascot, &rows).unwrap();
        assert_eq!(count.format, CvrFormat::StarCsv);
        assert_eq!(count.tabulation.winner_names(), vec!["Otter"]);
        assert!(count.cvr.starts_with("Voter,"), "{}", count.cvr);
    }

    #[test]
    fn a_row_no_ballot_encodes_to_fails_the_count() {
        let captain = contest("captain");
        assert!(
            count_rows(&captain, &[[1, 1, 0]]).is_err(),
            "a repeated rank"
        );
        assert!(count_rows(&captain, &[[1, 3, 0]]).is_err(), "a gap");
        assert!(count_rows(&captain, &[[1, 2]]).is_err(), "a short row");
        assert!(count_rows(&contest("mascot"), &[[6, 0, 0]]).is_err());
    }

    #[test]
    fn a_contest_no_ballot_holds_still_counts() {
        for id in ["captain", "mascot"] {
            let contest = contest(id);
            let count = count_rows::<[u64; 3]>(&contest, &[]).unwrap();
            assert_eq!(count.ballots.voters(), 0, "{id}");
            assert!(!count.cvr.is_empty(), "{id}");
        }
    }
}
