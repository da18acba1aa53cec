#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod ballot;
pub mod count;
pub mod cvr;
pub mod error;
pub mod keys;
pub mod manifest;
pub mod method;
pub mod methods;
pub mod mixed;
pub mod profile;
pub mod report;
pub mod scored;
pub mod style;

pub use ballot::{BallotError, Selection, Shape};
pub use count::{Ballots, Rules, tabulate, tabulate_totals};
pub use error::{Error, Result};
pub use keys::{ElectionKeys, KEYS_TAG};
pub use manifest::{
    BallotStyle, Contest, ContestOption, Fraction, Limits, Manifest, ManifestError,
    ReferendumRules, Revoting, TallyKind, Trustees, format_rfc3339,
};
pub use method::{Lot, Method, Pick, TieBreak};
pub use methods::irv::{IrvOptions, Ties};
pub use mixed::{CvrFormat, MixedCount, count_rows};
pub use profile::{Candidate, CandidateId, RankedBallot, RankedProfile};
pub use report::{Amount, Pairwise, Round, Status, Tabulation, Transfer, TransferKind};
pub use scored::{ScoredBallot, ScoredProfile};
pub use style::{STYLE_TAG, StyleContest, StyleDocument, StyleError, StyleOption, layout};
