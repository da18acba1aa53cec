//! Scottish STV: the Scottish Local Government Elections Order 2007 (SSI 2007/42),
//! rules 45 to 52, counted as Droop's "Scottish STV" rule counts it.
//!
//! - Quota (rule 46): `floor(valid ballots / (seats + 1)) + 1`, a whole number.
//! - A candidate whose votes equal or exceed the quota is elected (47); elections in
//!   one stage are ordered by votes, largest first.
//! - Values are fixed-point decimals with five places. The transfer value of each
//!   ballot paper is `value × surplus / total votes of the candidate`, truncated to five
//!   places ("any remainder being ignored", 48(3)); the elected candidate keeps exactly
//!   the quota and what truncation loses is reported as the residual.
//! - One transfer per stage: the largest surplus first (49), else the lowest
//!   continuing candidate is excluded and all of their papers move at their current
//!   value (50).
//! - Ties (49(2), 51(2)) are decided by the most recent preceding stage at which the
//!   tied candidates had unequal votes, then by lot; [`TieBreak::PreviousRounds`] is the
//!   statutory rule and the default.
//! - Once the continuing candidates are no more than the vacancies left, they are
//!   elected (52), in candidate-list order.
//! - A paper whose next preference ranks two or more continuing candidates equally
//!   (not possible on a Scottish paper; possible in a BLT file) is non-transferable.

use crate::error::Result;
use crate::method::{Method, TieBreak};
use crate::profile::RankedProfile;
use crate::report::Tabulation;

use super::gregory::{self, Rule};

/// Decimal places of Scottish STV values (rule 48(3)).
pub const PLACES: u32 = 5;

const RULE: Rule = Rule {
    method: Method::ScottishStv,
    places: PLACES,
    quota: |voters, seats, scale| {
        let q = i128::from(voters / (u64::from(seats) + 1) + 1);
        q.checked_mul(scale)
    },
    describe: "Scottish STV (SSI 2007/42 rules 45-52), fixed-point decimals with 5 places, truncating",
};

/// Counts `profile` by Scottish STV for `seats` seats (default: the profile's).
///
/// # Errors
/// [`crate::Error::Count`] if the number of seats is unknown or zero;
/// [`crate::Error::Overflow`] if a value exceeds the fixed-point range.
pub fn count(profile: &RankedProfile, seats: Option<u32>, tie: &TieBreak) -> Result<Tabulation> {
    gregory::count(RULE, profile, seats, tie)
}
