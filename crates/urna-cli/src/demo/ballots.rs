//! What the demo's voters choose: for each contest of a voter's ballot style a valid
//! choice, reproducible from the seed and skewed per contest so that results are not
//! ties. Each choice is kept twice: as the SDK's `Choices` the voter casts, and as the
//! option vector of encoded values (§3.4) the published totals must add up to.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow, bail};
use rand::RngExt;
use rand::rngs::ChaCha20Rng;
use urna_election::{Contest, Manifest, Method, TallyKind, ballot};
use urna_sdk::{Choice, Choices};

/// Per contest id, per option in manifest order: the sum of the encoded values.
pub type Totals = BTreeMap<String, Vec<u64>>;

/// One voter's choice in every contest of a style.
pub struct Ballot {
    /// What the voter casts.
    pub choices: Choices,
    /// Per contest id, the encoded option vector.
    pub vectors: Vec<(String, Vec<u64>)>,
}

impl Ballot {
    /// Adds this ballot's encoded values to `totals`.
    pub fn add_to(&self, totals: &mut Totals) {
        for (contest, vector) in &self.vectors {
            let sums = totals
                .entry(contest.clone())
                .or_insert_with(|| vec![0; vector.len()]);
            for (sum, value) in sums.iter_mut().zip(vector) {
                *sum += value;
            }
        }
    }
}

/// Fails unless the demo can generate choices for every contest of `manifest`: the
/// homomorphically tallied plurality, approval, referendum and score contests.
pub fn check_supported(manifest: &Manifest) -> Result<()> {
    for contest in manifest.contests() {
        let generated = matches!(
            contest.method(),
            Method::Plurality | Method::Approval | Method::Referendum | Method::Score
        );
        if contest.tally() != TallyKind::Homomorphic || !generated {
            bail!(
                "contest {}: the demo casts plurality, approval, referendum and score contests (homomorphic); {:?} is not one",
                contest.id(),
                contest.method()
            );
        }
    }
    Ok(())
}

/// A valid choice in every contest of ballot style `style`, each checked against the
/// manifest's rules.
pub fn choose(manifest: &Manifest, style: &str, rng: &mut ChaCha20Rng) -> Result<Ballot> {
    let style = manifest
        .ballot_style(style)
        .ok_or_else(|| anyhow!("the manifest has no ballot style {style}"))?;
    let mut ballot = Ballot {
        choices: Choices::new(),
        vectors: Vec::new(),
    };
    for id in style.contests() {
        let (index, contest) = manifest
            .contests()
            .iter()
            .enumerate()
            .find(|(_, c)| c.id() == id)
            .ok_or_else(|| anyhow!("style {} names unknown contest {id}", style.id()))?;
        let vector = choose_vector(contest, index, rng);
        ballot::decode(contest, &vector)
            .map_err(|e| anyhow!("generated an invalid vote in {id}: {e}"))?;
        ballot.choices.insert(id.clone(), choice(contest, &vector));
        ballot.vectors.push((id.clone(), vector));
    }
    Ok(ballot)
}

/// The SDK's choice for an encoded option vector: the marked options, or every
/// option's score (the encoded value is the score above the minimum).
fn choice(contest: &Contest, vector: &[u64]) -> Choice {
    let options = contest.options().iter().zip(vector);
    match contest.scores() {
        Some(limits) => Choice::Scores(
            options
                .map(|(option, &value)| {
                    let above = u32::try_from(value).unwrap_or(u32::MAX);
                    (option.id().to_owned(), limits.min.saturating_add(above))
                })
                .collect(),
        ),
        None => Choice::Marks(
            options
                .filter(|(_, value)| **value == 1)
                .map(|(option, _)| option.id().to_owned())
                .collect(),
        ),
    }
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

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    const CLUB: &str = include_str!("../../../../examples/club-election.yaml");

    #[test]
    fn choices_and_vectors_agree_for_every_style() {
        let manifest = Manifest::from_yaml(CLUB).unwrap();
        check_supported(&manifest).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for style in manifest.ballot_styles() {
            for _ in 0..50 {
                let ballot = choose(&manifest, style.id(), &mut rng).unwrap();
                assert_eq!(ballot.vectors.len(), style.contests().len());
                for (id, vector) in &ballot.vectors {
                    let contest = manifest.contest(id).unwrap();
                    match (&ballot.choices[id], contest.scores()) {
                        (Choice::Scores(scores), Some(limits)) => {
                            for ((_, score), value) in scores.iter().zip(vector) {
                                assert_eq!(u64::from(*score - limits.min), *value);
                            }
                        }
                        (Choice::Marks(marks), None) => {
                            let marked = vector.iter().filter(|v| **v == 1).count();
                            assert_eq!(marks.len(), marked);
                            for mark in marks {
                                assert_eq!(vector[contest.option_index(mark).unwrap()], 1);
                            }
                        }
                        other => panic!("unexpected choice {other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn totals_add_up_per_option() {
        let manifest = Manifest::from_yaml(CLUB).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let a = choose(&manifest, "members", &mut rng).unwrap();
        let b = choose(&manifest, "juniors", &mut rng).unwrap();
        let mut totals = Totals::new();
        a.add_to(&mut totals);
        b.add_to(&mut totals);
        let chair = |ballot: &Ballot| {
            ballot
                .vectors
                .iter()
                .find(|(c, _)| c == "chair")
                .unwrap()
                .1
                .clone()
        };
        let expected: Vec<u64> = chair(&a)
            .iter()
            .zip(chair(&b))
            .map(|(x, y)| x + y)
            .collect();
        assert_eq!(totals["chair"], expected);
        assert_eq!(totals["boathouse"], a.vectors[0].1);
    }

    #[test]
    fn a_mixnet_contest_is_refused() {
        let ranked = include_str!("../../../../examples/club-election-ranked.yaml");
        let manifest = Manifest::from_yaml(ranked).unwrap();
        assert!(check_supported(&manifest).is_err());
    }
}
