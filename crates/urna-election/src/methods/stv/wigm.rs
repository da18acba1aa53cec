//! STV by the weighted inclusive Gregory method (WIGM), the variant Droop calls
//! "Model WIGM" counted in fixed-point decimals.
//!
//! urna's variant, in full:
//! - Values are fixed-point decimals with nine places ([`PLACES`]); every product and
//!   quotient is truncated.
//! - Quota: the Droop quota `voters / (seats + 1)` truncated to nine places, plus one
//!   unit of the last place (so that no more than `seats` candidates can reach it);
//!   a candidate with at least the quota is elected.
//! - The largest pending surplus is transferred first: every paper the candidate holds
//!   (inclusive), each at `value × surplus / votes` (weighted).
//! - Otherwise the lowest hopeful candidate is excluded and their papers move at their
//!   current values.
//! - Ties: by [`TieBreak`] (default: the most recent round where the tied candidates
//!   differed, then the lot).
//! - The count ends when the hopeful candidates are no more than the seats left
//!   (they are elected) or every seat is filled.
//! - A preference group with two or more continuing candidates makes the paper
//!   non-transferable.

use crate::error::Result;
use crate::method::{Method, TieBreak};
use crate::profile::RankedProfile;
use crate::report::Tabulation;

use super::gregory::{self, Rule};

/// Decimal places of WIGM values.
pub const PLACES: u32 = 9;

const RULE: Rule = Rule {
    method: Method::WigmStv,
    places: PLACES,
    quota: |voters, seats, scale| {
        let total = i128::from(voters).checked_mul(scale)?;
        Some(total / (i128::from(seats) + 1) + 1)
    },
    describe: "WIGM STV, fixed-point decimals with 9 places, truncating; Droop quota plus one unit",
};

/// Counts `profile` by WIGM STV for `seats` seats (default: the profile's).
///
/// # Errors
/// [`crate::Error::Count`] if the number of seats is unknown or zero;
/// [`crate::Error::Overflow`] if a value exceeds the fixed-point range.
pub fn count(profile: &RankedProfile, seats: Option<u32>, tie: &TieBreak) -> Result<Tabulation> {
    gregory::count(RULE, profile, seats, tie)
}
