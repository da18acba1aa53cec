//! The election manifest: what is being decided, by which rules, for whom.
//!
//! A manifest is YAML meant to live in a git repository and be reviewed like code
//! (Elekto's GitOps). [`Manifest::from_yaml`] is the one place an unchecked document
//! becomes a [`Manifest`]; every error names the line, column and field at fault.
//! [`Manifest::fingerprint`] hashes a canonical encoding of the validated manifest
//! (docs/protocol.md, "Election manifest and fingerprint"): formatting, comments, key
//! order and spelled-out defaults do not change it, any change of meaning does.

mod canonical;
mod error;
mod raw;
mod time;

pub use time::format_rfc3339;
mod validate;

pub use error::ManifestError;

use crate::method::{Method, TieBreak};

/// Whether a voter may cast again, and which ballot then counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revoting {
    /// One ballot per credential; a second one is refused.
    Once,
    /// Every ballot is kept on the board; the latest per credential is tallied.
    LastCounts,
}

impl Revoting {
    /// The manifest spelling: `once` or `last-counts`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Revoting::Once => "once",
            Revoting::LastCounts => "last-counts",
        }
    }
}

/// How a contest's encrypted ballots are tallied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TallyKind {
    /// Ciphertexts are added option by option and only the totals are decrypted
    /// (additive methods: plurality, approval, referendum, score, Borda).
    Homomorphic,
    /// Whole ballots are shuffled by a verifiable mix-net and then decrypted one by one
    /// (methods that need whole ballots: ranked, STAR, Condorcet).
    Mixnet,
}

impl TallyKind {
    /// The manifest spelling: `homomorphic` or `mixnet`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            TallyKind::Homomorphic => "homomorphic",
            TallyKind::Mixnet => "mixnet",
        }
    }
}

/// An inclusive range `min..=max` of small non-negative integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The least allowed value.
    pub min: u32,
    /// The greatest allowed value.
    pub max: u32,
}

impl Limits {
    /// Whether `value` lies in `min..=max`.
    #[must_use]
    pub fn contains(self, value: u64) -> bool {
        u64::from(self.min) <= value && value <= u64::from(self.max)
    }
}

/// A fraction `numerator/denominator` in lowest terms, `0 < n ≤ d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fraction {
    numerator: u32,
    denominator: u32,
}

impl Fraction {
    /// The fraction in lowest terms, if `0 < numerator ≤ denominator`.
    #[must_use]
    pub fn new(numerator: u32, denominator: u32) -> Option<Self> {
        if numerator == 0 || numerator > denominator {
            return None;
        }
        let g = gcd(numerator, denominator);
        Some(Self {
            numerator: numerator / g,
            denominator: denominator / g,
        })
    }

    /// The numerator (lowest terms).
    #[must_use]
    pub fn numerator(self) -> u32 {
        self.numerator
    }

    /// The denominator (lowest terms).
    #[must_use]
    pub fn denominator(self) -> u32 {
        self.denominator
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl std::fmt::Display for Fraction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

/// One option of a contest: a candidate, or an answer of a referendum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContestOption {
    id: String,
    name: String,
    party: Option<String>,
    description: String,
}

impl ContestOption {
    /// The short identifier ballots and tie-break orders use.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The name printed on the ballot.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The party or affiliation, if any.
    #[must_use]
    pub fn party(&self) -> Option<&str> {
        self.party.as_deref()
    }

    /// A longer description (empty if none).
    #[must_use]
    pub fn description(&self) -> &str {
        &self.description
    }
}

/// A referendum's acceptance rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ReferendumRules {
    /// The least number of ballots (yes, no and abstain together) for the result to
    /// stand; `None` for no quorum.
    pub quorum: Option<u64>,
    /// The least share of yes among yes and no; `None` means yes must exceed no.
    pub threshold: Option<Fraction>,
}

/// One question on the ballot, with the rules that count it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contest {
    id: String,
    title: String,
    description: String,
    method: Method,
    options: Vec<ContestOption>,
    seats: u32,
    selections: Limits,
    scores: Option<Limits>,
    tie_break: TieBreak,
    referendum: ReferendumRules,
    tally: TallyKind,
}

impl Contest {
    /// The contest's identifier, unique in the manifest.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The title shown to voters.
    #[must_use]
    pub fn title(&self) -> &str {
        &self.title
    }

    /// A longer description (empty if none).
    #[must_use]
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The counting method.
    #[must_use]
    pub fn method(&self) -> Method {
        self.method
    }

    /// The options, in ballot order (a referendum's are `yes`, `no`, `abstain`).
    #[must_use]
    pub fn options(&self) -> &[ContestOption] {
        &self.options
    }

    /// The position of the option with id `id`.
    #[must_use]
    pub fn option_index(&self, id: &str) -> Option<usize> {
        self.options.iter().position(|o| o.id == id)
    }

    /// Seats (winners) to fill.
    #[must_use]
    pub fn seats(&self) -> u32 {
        self.seats
    }

    /// How many options a ballot may mark (plurality, approval, referendum) or rank
    /// (ranked methods), or give a score above the minimum (score, STAR). A minimum of
    /// zero allows an empty ballot.
    #[must_use]
    pub fn selections(&self) -> Limits {
        self.selections
    }

    /// The score range of score and STAR contests.
    #[must_use]
    pub fn scores(&self) -> Option<Limits> {
        self.scores
    }

    /// The tie-break rule.
    #[must_use]
    pub fn tie_break(&self) -> &TieBreak {
        &self.tie_break
    }

    /// Quorum and threshold (referendums only; default otherwise).
    #[must_use]
    pub fn referendum(&self) -> ReferendumRules {
        self.referendum
    }

    /// How the contest is tallied.
    #[must_use]
    pub fn tally(&self) -> TallyKind {
        self.tally
    }
}

/// The contests one group of voters (a jurisdiction, a precinct, a membership class)
/// sees, in ballot order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BallotStyle {
    id: String,
    title: String,
    contests: Vec<String>,
}

impl BallotStyle {
    /// The style's identifier.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A human title (empty if none).
    #[must_use]
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The ids of the contests on this style, in ballot order.
    #[must_use]
    pub fn contests(&self) -> &[String] {
        &self.contests
    }
}

/// Who holds the election's decryption key: `count` trustees run the key ceremony,
/// any `threshold` of them can decrypt, fewer learn nothing (`1 ≤ threshold ≤ count`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trustees {
    count: u32,
    threshold: u32,
}

impl Trustees {
    /// The most trustees a manifest may name.
    pub const MAX: u32 = 100;

    /// `threshold` of `count`, if `1 ≤ threshold ≤ count ≤` [`Trustees::MAX`].
    #[must_use]
    pub fn new(count: u32, threshold: u32) -> Option<Self> {
        (1 <= threshold && threshold <= count && count <= Self::MAX)
            .then_some(Self { count, threshold })
    }

    /// n: how many trustees take part in the key ceremony.
    #[must_use]
    pub fn count(self) -> u32 {
        self.count
    }

    /// k: how many trustees suffice to decrypt.
    #[must_use]
    pub fn threshold(self) -> u32 {
        self.threshold
    }
}

impl Default for Trustees {
    /// Two of three.
    fn default() -> Self {
        Self {
            count: 3,
            threshold: 2,
        }
    }
}

/// A validated election manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    id: String,
    title: String,
    description: String,
    start: u64,
    end: u64,
    revoting: Revoting,
    contests: Vec<Contest>,
    styles: Vec<BallotStyle>,
    trustees: Trustees,
}

impl Manifest {
    /// Parses and validates a YAML manifest.
    ///
    /// # Errors
    /// A [`ManifestError`] naming the line, column and field of the first problem.
    pub fn from_yaml(text: &str) -> Result<Self, ManifestError> {
        validate::from_yaml(text)
    }

    /// The election's identifier.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The election's title.
    #[must_use]
    pub fn title(&self) -> &str {
        &self.title
    }

    /// A longer description (empty if none).
    #[must_use]
    pub fn description(&self) -> &str {
        &self.description
    }

    /// When polls open, in seconds since the Unix epoch (UTC).
    #[must_use]
    pub fn start(&self) -> u64 {
        self.start
    }

    /// When polls close, in seconds since the Unix epoch (UTC).
    #[must_use]
    pub fn end(&self) -> u64 {
        self.end
    }

    /// The start as an RFC 3339 UTC time.
    #[must_use]
    pub fn start_rfc3339(&self) -> String {
        time::format_rfc3339(i64::try_from(self.start).unwrap_or(i64::MAX))
    }

    /// The end as an RFC 3339 UTC time.
    #[must_use]
    pub fn end_rfc3339(&self) -> String {
        time::format_rfc3339(i64::try_from(self.end).unwrap_or(i64::MAX))
    }

    /// The re-voting policy.
    #[must_use]
    pub fn revoting(&self) -> Revoting {
        self.revoting
    }

    /// Every contest, in manifest order.
    #[must_use]
    pub fn contests(&self) -> &[Contest] {
        &self.contests
    }

    /// The contest with id `id`.
    #[must_use]
    pub fn contest(&self, id: &str) -> Option<&Contest> {
        self.contests.iter().find(|c| c.id == id)
    }

    /// The ballot styles (one `default` style with every contest if the YAML named none).
    #[must_use]
    pub fn ballot_styles(&self) -> &[BallotStyle] {
        &self.styles
    }

    /// The ballot style with id `id`.
    #[must_use]
    pub fn ballot_style(&self, id: &str) -> Option<&BallotStyle> {
        self.styles.iter().find(|s| s.id == id)
    }

    /// The trustees of the key ceremony: how many, and how many suffice to decrypt.
    #[must_use]
    pub fn trustees(&self) -> Trustees {
        self.trustees
    }

    /// The canonical encoding (docs/protocol.md, "Canonical manifest encoding").
    #[must_use]
    pub fn canonical_bytes(&self) -> Vec<u8> {
        canonical::encode(self)
    }

    /// The election fingerprint: `SHA-256(lp("urna/v1/manifest") ‖ canonical encoding)`.
    /// Every proof and credential of the election binds it.
    #[must_use]
    pub fn fingerprint(&self) -> [u8; 32] {
        canonical::fingerprint(self)
    }
}

#[cfg(test)]
mod tests;
