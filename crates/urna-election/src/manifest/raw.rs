//! The manifest as written: serde structures that keep the source location of every
//! field validation may complain about. Nothing here is trusted; `validate` turns it
//! into a [`Manifest`](super::Manifest).

use serde::Deserialize;
use serde_saphyr::Spanned;

/// The top-level YAML mapping.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawManifest {
    pub id: Spanned<String>,
    pub title: Spanned<String>,
    #[serde(default)]
    pub description: Option<Spanned<String>>,
    pub start: Spanned<String>,
    pub end: Spanned<String>,
    #[serde(default)]
    pub revoting: Option<Spanned<String>>,
    pub contests: Spanned<Vec<Spanned<RawContest>>>,
    #[serde(default)]
    pub ballot_styles: Option<Spanned<Vec<Spanned<RawStyle>>>>,
    #[serde(default)]
    pub trustees: Option<Spanned<RawTrustees>>,
}

/// The key ceremony's `{count, threshold}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTrustees {
    #[serde(default)]
    pub count: Option<Spanned<u32>>,
    #[serde(default)]
    pub threshold: Option<Spanned<u32>>,
}

/// One contest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawContest {
    pub id: Spanned<String>,
    pub title: Spanned<String>,
    #[serde(default)]
    pub description: Option<Spanned<String>>,
    pub method: Spanned<String>,
    #[serde(default)]
    pub options: Option<Spanned<Vec<Spanned<RawOption>>>>,
    #[serde(default)]
    pub seats: Option<Spanned<u32>>,
    #[serde(default)]
    pub selections: Option<Spanned<RawRange>>,
    #[serde(default)]
    pub scores: Option<Spanned<RawRange>>,
    #[serde(default)]
    pub tie_break: Option<Spanned<RawTieBreak>>,
    #[serde(default)]
    pub quorum: Option<Spanned<u64>>,
    #[serde(default)]
    pub threshold: Option<Spanned<String>>,
    #[serde(default)]
    pub tally: Option<Spanned<String>>,
}

/// A `{min, max}` pair.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRange {
    #[serde(default)]
    pub min: Option<Spanned<u32>>,
    #[serde(default)]
    pub max: Option<Spanned<u32>>,
}

/// One option (candidate, or answer of a referendum).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOption {
    pub id: Spanned<String>,
    pub name: Spanned<String>,
    #[serde(default)]
    pub party: Option<Spanned<String>>,
    #[serde(default)]
    pub description: Option<Spanned<String>>,
}

/// A tie-break rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTieBreak {
    pub rule: Spanned<String>,
    #[serde(default)]
    pub order: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub seed: Option<Spanned<String>>,
}

/// A ballot style: the contests one group of voters sees.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStyle {
    pub id: Spanned<String>,
    #[serde(default)]
    pub title: Option<Spanned<String>>,
    pub contests: Spanned<Vec<Spanned<String>>>,
}
