//! The demo's election: a manifest (by default examples/club-election.yaml, compiled in)
//! with its fingerprint, and for each ballot style the layout the cryptography checks.

use std::path::Path;

use anyhow::{Context as _, Result, anyhow, bail};
use rand::RngExt;
use rand::rngs::ChaCha20Rng;
use urna_crypto::{BallotLayout, ContestShape};
use urna_election::{Contest, Manifest, Method, TallyKind, ballot};

/// The club's annual general meeting: a referendum, a plurality, an approval and a score
/// contest, in two ballot styles.
const CLUB_ELECTION: &str = include_str!("../../../../examples/club-election.yaml");

/// One ballot style: its layout and, per contest of the style, the manifest's index.
pub struct Style {
    pub layout: BallotLayout,
    pub contests: Vec<usize>,
}

pub struct Election {
    pub manifest: Manifest,
    pub fingerprint: [u8; 32],
    pub styles: Vec<Style>,
}

impl Election {
    /// Loads and validates the manifest; every contest must be homomorphic (the mix-net
    /// for ranked contests is a later stage).
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let text = match path {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
            None => CLUB_ELECTION.to_owned(),
        };
        let manifest = Manifest::from_yaml(&text).map_err(|e| anyhow!("manifest: {e}"))?;
        for contest in manifest.contests() {
            if contest.tally() != TallyKind::Homomorphic || !generated(contest.method()) {
                bail!(
                    "contest {}: the demo casts plurality, approval, referendum and score contests (homomorphic); {:?} is not one",
                    contest.id(),
                    contest.method()
                );
            }
        }
        let styles = manifest
            .ballot_styles()
            .iter()
            .map(|style| {
                let contests = style
                    .contests()
                    .iter()
                    .map(|id| {
                        manifest
                            .contests()
                            .iter()
                            .position(|c| c.id() == id)
                            .with_context(|| {
                                format!("style {} names unknown contest {id}", style.id())
                            })
                    })
                    .collect::<Result<Vec<usize>>>()?;
                let shapes = contests
                    .iter()
                    .map(|&c| {
                        let contest = &manifest.contests()[c];
                        Ok((contest.id().to_owned(), shape(contest)?))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(Style {
                    layout: BallotLayout::new(style.id(), shapes)?,
                    contests,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            fingerprint: manifest.fingerprint(),
            manifest,
            styles,
        })
    }

    /// A style for a voter: the first (main) style for four voters in five, the others
    /// share the rest.
    pub fn pick_style(&self, rng: &mut ChaCha20Rng) -> usize {
        if self.styles.len() == 1 || rng.random_range(0..5u32) < 4 {
            0
        } else {
            rng.random_range(1..self.styles.len())
        }
    }

    /// A voter's valid choice in every contest of `style`, skewed per contest so that
    /// results are not ties; each is checked against the manifest's rules.
    pub fn choose(&self, style: usize, rng: &mut ChaCha20Rng) -> Result<Vec<Vec<u64>>> {
        self.styles[style]
            .contests
            .iter()
            .map(|&c| {
                let contest = &self.manifest.contests()[c];
                let vector = choose_vector(contest, c, rng);
                ballot::decode(contest, &vector)
                    .map_err(|e| anyhow!("generated an invalid vote in {}: {e}", contest.id()))?;
                Ok(vector)
            })
            .collect()
    }
}

fn generated(method: Method) -> bool {
    matches!(
        method,
        Method::Plurality | Method::Approval | Method::Referendum | Method::Score
    )
}

fn shape(contest: &Contest) -> Result<ContestShape> {
    let s = ballot::shape(contest);
    let options = u32::try_from(s.options).context("too many options")?;
    Ok(ContestShape::new(
        options,
        s.max_value,
        s.min_sum,
        s.max_sum,
    )?)
}

/// Marks: between the minimum and maximum number of selections, drawn without
/// replacement with weights falling by option (rotated per contest). Scores: each
/// option its own bias.
fn choose_vector(contest: &Contest, index: usize, rng: &mut ChaCha20Rng) -> Vec<u64> {
    let s = ballot::shape(contest);
    let n = s.options;
    let weight = |option: usize| ((n - (option + index) % n) as u64).pow(2);
    if s.max_value == 1 {
        let marks = rng.random_range(s.min_sum..=s.max_sum.max(s.min_sum)) as usize;
        let mut vector = vec![0u64; n];
        for _ in 0..marks.min(n) {
            let total: u64 = (0..n).filter(|&o| vector[o] == 0).map(weight).sum();
            let mut pick = rng.random_range(0..total.max(1));
            for option in (0..n).filter(|&o| vector[o] == 0) {
                if pick < weight(option) {
                    vector[option] = 1;
                    break;
                }
                pick -= weight(option);
            }
        }
        vector
    } else {
        (0..n)
            .map(|option| {
                let bias = weight(option) * s.max_value / (2 * (n as u64).pow(2));
                rng.random_range(0..=s.max_value).max(bias).min(s.max_value)
            })
            .collect()
    }
}
