//! What the demo's voters choose: for each contest of a voter's ballot style a valid
//! choice, reproducible from the seed and skewed per contest so that results are not
//! ties. Each choice is kept twice: as the SDK's `Choices` the voter casts, and as the
//! option vector of encoded values (§3.4) the published totals must add up to.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow};
use rand::RngExt;
use rand::rngs::ChaCha20Rng;
use urna_election::{Contest, Limits, Manifest, Method, Selection, ballot};
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
        let selection = choose_selection(contest, index, rng);
        let vector = ballot::encode(contest, &selection)
            .map_err(|e| anyhow!("generated an invalid vote in {id}: {e}"))?;
        ballot
            .choices
            .insert(id.clone(), choice(contest, &selection));
        ballot.vectors.push((id.clone(), vector));
    }
    Ok(ballot)
}

/// The SDK's choice for a selection: the marked options, every option's score, or
/// the options in rank order.
fn choice(contest: &Contest, selection: &Selection) -> Choice {
    let id = |i: &usize| {
        contest
            .options()
            .get(*i)
            .map(|o| o.id().to_owned())
            .unwrap_or_default()
    };
    match selection {
        Selection::Marks(marked) => Choice::Marks(marked.iter().map(id).collect()),
        Selection::Scores(scores) => Choice::Scores(
            contest
                .options()
                .iter()
                .zip(scores)
                .map(|(option, &score)| (option.id().to_owned(), score))
                .collect(),
        ),
        Selection::Ranking(order) => Choice::Ranking(order.iter().map(id).collect()),
    }
}

/// Marks: between the minimum and maximum number of selections, drawn without
/// replacement with weights falling by option (rotated per contest). Rankings: as
/// many options as allowed at least, in the order drawn the same way. Scores: each
/// option its own bias.
fn choose_selection(contest: &Contest, index: usize, rng: &mut ChaCha20Rng) -> Selection {
    let n = contest.options().len();
    let weight = |option: usize| ((n - (option + index) % n) as u64).pow(2);
    let draw = |count: usize, rng: &mut ChaCha20Rng| {
        let mut drawn: Vec<usize> = Vec::with_capacity(count);
        for _ in 0..count.min(n) {
            let left = || (0..n).filter(|o| !drawn.contains(o));
            let total: u64 = left().map(weight).sum();
            let mut pick = rng.random_range(0..total.max(1));
            let mut chosen = None;
            for option in left() {
                if pick < weight(option) {
                    chosen = Some(option);
                    break;
                }
                pick -= weight(option);
            }
            drawn.extend(chosen);
        }
        drawn
    };
    let selections = contest.selections();
    let (lo, hi) = (selections.min as usize, (selections.max as usize).max(1));
    match contest.method() {
        Method::Plurality | Method::Approval | Method::Referendum => {
            let s = ballot::shape(contest);
            let marks = rng.random_range(s.min_sum..=s.max_sum.max(s.min_sum)) as usize;
            let mut marked = draw(marks, rng);
            marked.sort_unstable();
            Selection::Marks(marked)
        }
        Method::Score | Method::Star => {
            let limits = contest.scores().unwrap_or(Limits { min: 0, max: 5 });
            let range = u64::from(limits.max - limits.min);
            Selection::Scores(
                (0..n)
                    .map(|option| {
                        let bias = weight(option) * range / (2 * (n as u64).pow(2));
                        let value = rng.random_range(0..=range).max(bias).min(range);
                        limits.min + u32::try_from(value).unwrap_or(0)
                    })
                    .collect(),
            )
        }
        _ => {
            let ranked = rng.random_range(lo.max(1).min(hi)..=hi.min(n));
            Selection::Ranking(draw(ranked, rng))
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    const FULL: &str = include_str!("../../../../examples/club-election-full.yaml");
    const RANKED: &str = include_str!("../../../../examples/club-election-ranked.yaml");

    #[test]
    fn choices_and_vectors_agree_for_every_style_and_kind_of_contest() {
        for yaml in [FULL, RANKED] {
            let manifest = Manifest::from_yaml(yaml).unwrap();
            let mut rng = ChaCha20Rng::seed_from_u64(7);
            for style in manifest.ballot_styles() {
                for _ in 0..50 {
                    let ballot = choose(&manifest, style.id(), &mut rng).unwrap();
                    assert_eq!(ballot.vectors.len(), style.contests().len());
                    for (id, vector) in &ballot.vectors {
                        let contest = manifest.contest(id).unwrap();
                        let decoded = ballot::decode(contest, vector).unwrap();
                        let index = |o: &String| contest.option_index(o).unwrap();
                        match (&ballot.choices[id], decoded) {
                            (Choice::Scores(scores), Selection::Scores(values)) => {
                                let given: Vec<u32> = scores.iter().map(|(_, s)| *s).collect();
                                assert_eq!(given, values);
                            }
                            (Choice::Marks(marks), Selection::Marks(marked)) => {
                                assert_eq!(marks.iter().map(index).collect::<Vec<_>>(), marked);
                            }
                            (Choice::Ranking(order), Selection::Ranking(ranked)) => {
                                assert_eq!(order.iter().map(index).collect::<Vec<_>>(), ranked);
                                assert!(!ranked.is_empty());
                            }
                            other => panic!("unexpected choice {other:?}"),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn totals_add_up_per_option() {
        let manifest = Manifest::from_yaml(FULL).unwrap();
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
}
