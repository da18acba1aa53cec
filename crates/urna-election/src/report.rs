//! The round-by-round report every counting method returns.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use num_bigint::BigInt;
use serde::{Serialize, Serializer};

use crate::error::Error;
use crate::method::Method;
use crate::profile::CandidateId;

/// An exact decimal value: `mantissa / 10^scale`, printed with exactly `scale`
/// decimals. Never a float: counts are integers (`scale` 0) and the fixed-point rules
/// use their prescribed scale (Scottish STV 5, Meek 18).
#[derive(Clone, Copy, Debug, Default)]
pub struct Amount {
    mantissa: i128,
    scale: u32,
}

impl Amount {
    /// The largest scale an amount may have (10^38 still fits in `i128`).
    pub const MAX_SCALE: u32 = 38;

    /// `mantissa / 10^scale` (`scale` is clamped to [`Amount::MAX_SCALE`]).
    #[must_use]
    pub const fn new(mantissa: i128, scale: u32) -> Self {
        let scale = if scale > Self::MAX_SCALE {
            Self::MAX_SCALE
        } else {
            scale
        };
        Self { mantissa, scale }
    }

    /// A whole number.
    #[must_use]
    pub const fn integer(n: i128) -> Self {
        Self::new(n, 0)
    }

    /// Zero at `scale` decimals.
    #[must_use]
    pub const fn zero(scale: u32) -> Self {
        Self::new(0, scale)
    }

    /// The integer `value * 10^scale`.
    #[must_use]
    pub const fn mantissa(self) -> i128 {
        self.mantissa
    }

    /// Decimal places.
    #[must_use]
    pub const fn scale(self) -> u32 {
        self.scale
    }

    /// The same value at another scale, truncating toward zero if `scale` is smaller;
    /// `None` if it does not fit.
    #[must_use]
    pub fn rescale(self, scale: u32) -> Option<Self> {
        let scale = scale.min(Self::MAX_SCALE);
        let mantissa = match scale.cmp(&self.scale) {
            Ordering::Equal => self.mantissa,
            Ordering::Greater => self.mantissa.checked_mul(10i128.pow(scale - self.scale))?,
            Ordering::Less => self.mantissa / 10i128.pow(self.scale - scale),
        };
        Some(Self { mantissa, scale })
    }

    /// `self + other` at the larger scale; `None` on overflow.
    #[must_use]
    pub fn checked_add(self, other: Self) -> Option<Self> {
        let scale = self.scale.max(other.scale);
        let (a, b) = (self.rescale(scale)?, other.rescale(scale)?);
        Some(Self::new(a.mantissa.checked_add(b.mantissa)?, scale))
    }

    /// `self - other` at the larger scale; `None` on overflow.
    #[must_use]
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.checked_add(Self::new(other.mantissa.checked_neg()?, other.scale))
    }

    /// Whether the value is zero.
    #[must_use]
    pub const fn is_zero(self) -> bool {
        self.mantissa == 0
    }

    fn big(self, scale: u32) -> BigInt {
        BigInt::from(self.mantissa) * BigInt::from(10u8).pow(scale - self.scale)
    }
}

impl PartialEq for Amount {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Amount {}

impl PartialOrd for Amount {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Amount {
    fn cmp(&self, other: &Self) -> Ordering {
        if self.scale == other.scale {
            return self.mantissa.cmp(&other.mantissa);
        }
        let scale = self.scale.max(other.scale);
        self.big(scale).cmp(&other.big(scale))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int}.{frac}")
    }
}

impl FromStr for Amount {
    type Err = Error;

    /// Parses `-?digits(.digits)?`; the scale is the number of decimals written.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidProfile(format!("not a decimal number: {s:?}"));
        let (negative, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if int.is_empty()
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
            || (body.contains('.') && frac.is_empty())
        {
            return Err(bad());
        }
        let scale = u32::try_from(frac.len()).map_err(|_| bad())?;
        if scale > Self::MAX_SCALE {
            return Err(bad());
        }
        let mantissa: i128 = format!("{int}{frac}").parse().map_err(|_| bad())?;
        Ok(Self::new(
            if negative { -mantissa } else { mantissa },
            scale,
        ))
    }
}

impl Serialize for Amount {
    /// Serialised as its decimal string, so no JSON reader turns it into a float.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A candidate's state at the end of a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Still in the count.
    Hopeful,
    /// Elected (in this or an earlier round).
    Elected,
    /// Eliminated (defeated, excluded).
    Eliminated,
    /// Withdrew before the count; never receives votes.
    Withdrawn,
}

/// Why votes moved in a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransferKind {
    /// An elected candidate's surplus.
    Surplus,
    /// An eliminated candidate's votes.
    Elimination,
}

/// Votes moved from one candidate to the others in a round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Transfer {
    /// Whose votes moved.
    pub from: CandidateId,
    /// Surplus or elimination.
    pub kind: TransferKind,
    /// The value that left `from` (a surplus, or the eliminated candidate's total).
    pub amount: Amount,
    /// The transfer value applied to each moved ballot, where the rule has one.
    pub transfer_value: Option<Amount>,
}

/// One round (stage) of a count: the state after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Round {
    /// 1-based round number.
    pub number: u32,
    /// Each candidate's value after the round, indexed by [`CandidateId`].
    pub tallies: Vec<Amount>,
    /// Each candidate's state after the round, indexed by [`CandidateId`].
    pub status: Vec<Status>,
    /// Candidates elected in this round, in order of election.
    pub elected: Vec<CandidateId>,
    /// Candidates eliminated in this round.
    pub eliminated: Vec<CandidateId>,
    /// Votes moved in this round.
    pub transfers: Vec<Transfer>,
    /// Votes that can go to no hopeful candidate (exhausted), cumulative; for methods
    /// that transfer votes.
    pub exhausted: Option<Amount>,
    /// Value lost to rounding, cumulative; for fixed-point rules.
    pub residual: Option<Amount>,
    /// The quota in force, for quota methods (Meek's changes every round).
    pub quota: Option<Amount>,
    /// Human-readable explanations: tie-breaks, iterations, rule steps.
    pub notes: Vec<String>,
}

impl Round {
    /// An empty round `number` for `candidates` candidates, everyone hopeful at zero.
    #[must_use]
    pub fn new(number: u32, candidates: usize, scale: u32) -> Self {
        Self {
            number,
            tallies: vec![Amount::zero(scale); candidates],
            status: vec![Status::Hopeful; candidates],
            elected: Vec::new(),
            eliminated: Vec::new(),
            transfers: Vec::new(),
            exhausted: None,
            residual: None,
            quota: None,
            notes: Vec::new(),
        }
    }

    /// The value of candidate `id` after this round.
    #[must_use]
    pub fn tally(&self, id: CandidateId) -> Option<Amount> {
        self.tallies.get(id.index()).copied()
    }
}

/// Head-to-head counts for Condorcet methods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pairwise {
    /// `preferred[a][b]`: how many voters ranked candidate `a` above candidate `b`.
    pub preferred: Vec<Vec<u64>>,
}

/// The result of counting one contest: winners and every round that led to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tabulation {
    /// The method that counted.
    pub method: Method,
    /// Candidate names, indexed by [`CandidateId`].
    pub candidates: Vec<String>,
    /// Seats filled.
    pub seats: u32,
    /// Winners, in the order elected.
    pub winners: Vec<CandidateId>,
    /// Rounds, first to last.
    pub rounds: Vec<Round>,
    /// The quota, for quota methods (the first round's, for Meek).
    pub quota: Option<Amount>,
    /// The pairwise matrix, for Condorcet methods.
    pub pairwise: Option<Pairwise>,
    /// Notes on the whole count: arithmetic, tie-break rule, deviations.
    pub notes: Vec<String>,
}

impl Tabulation {
    /// The whole count as pretty-printed JSON (what `urna tabulate --json` prints and
    /// the tally service publishes for a mix-net contest): every field, with
    /// `winners` as names in the order elected and `winner_ids` as candidate indexes.
    ///
    /// # Errors
    /// [`Error::Write`] if serialisation fails (it cannot for a finished count).
    pub fn to_json(&self) -> crate::Result<String> {
        let write = |e: serde_json::Error| Error::Write {
            format: "JSON",
            message: e.to_string(),
        };
        let mut value = serde_json::to_value(self).map_err(write)?;
        value["winners"] = serde_json::json!(self.winner_names());
        value["winner_ids"] = serde_json::to_value(&self.winners).map_err(write)?;
        Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(&value).map_err(write)?
        ))
    }

    /// The winners' option ids of `contest` (counted here), in the order elected.
    #[must_use]
    pub fn winner_ids(&self, contest: &crate::Contest) -> Vec<String> {
        let options = contest.options();
        self.winners
            .iter()
            .filter_map(|w| options.get(w.index()).map(|o| o.id().to_owned()))
            .collect()
    }

    /// The winners' names, in the order elected.
    #[must_use]
    pub fn winner_names(&self) -> Vec<&str> {
        self.winners
            .iter()
            .filter_map(|w| self.candidates.get(w.index()).map(String::as_str))
            .collect()
    }

    /// The last round, if any.
    #[must_use]
    pub fn final_round(&self) -> Option<&Round> {
        self.rounds.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_fixed_decimals() {
        assert_eq!(Amount::new(130_000_000, 5).to_string(), "1300.00000");
        assert_eq!(Amount::new(1362, 5).to_string(), "0.01362");
        assert_eq!(Amount::new(-5, 2).to_string(), "-0.05");
        assert_eq!(Amount::integer(42).to_string(), "42");
    }

    #[test]
    fn parses_what_it_prints() {
        for s in [
            "1300.00000",
            "0.01362",
            "-0.05",
            "42",
            "3.666666666666666667",
        ] {
            assert_eq!(s.parse::<Amount>().unwrap().to_string(), s);
        }
        for bad in ["", "1.", ".5", "1e3", "--1", "1.2.3", "abc"] {
            assert!(bad.parse::<Amount>().is_err(), "{bad}");
        }
    }

    #[test]
    fn compares_across_scales_and_truncates() {
        let a = Amount::new(150, 2);
        assert_eq!(a, Amount::new(15, 1));
        assert!(a > Amount::integer(1));
        assert!(Amount::new(-1, 30) < Amount::zero(0));
        assert_eq!(Amount::new(19_999, 4).rescale(2), Some(Amount::new(199, 2)));
        assert_eq!(
            Amount::new(1, 0).checked_add(Amount::new(5, 1)),
            Some(Amount::new(15, 1))
        );
        assert_eq!(Amount::new(i128::MAX, 0).rescale(1), None);
    }

    #[test]
    fn serialises_as_string() {
        let json = serde_json::to_string(&Amount::new(250, 2)).unwrap();
        assert_eq!(json, "\"2.50\"");
    }
}
