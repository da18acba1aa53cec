//! The voter's choices: from --choice/--score/--rank, or asked for contest by contest.

use std::io::{BufRead, Write};

use anyhow::{Context, Result, bail};
use urna_crypto::BallotOpening;
use urna_election::{Method, StyleContest};
use urna_sdk::{Choice, Choices, Style};

/// The choices given as flags, or, when there are none, asked for on the terminal.
pub fn gather(
    style: &Style,
    marks: &[String],
    scores: &[String],
    ranks: &[String],
) -> Result<Choices> {
    let mut choices = Choices::new();
    for flag in marks {
        let (contest, options) = split(flag)?;
        choices.insert(contest, Choice::Marks(options));
    }
    for flag in scores {
        let (contest, options) = split(flag)?;
        let scored = options
            .iter()
            .map(|o| parse_score(o).with_context(|| format!("--score {flag}")))
            .collect::<Result<_>>()?;
        choices.insert(contest, Choice::Scores(scored));
    }
    for flag in ranks {
        let (contest, options) = split(flag)?;
        choices.insert(contest, Choice::Ranking(options));
    }
    if choices.is_empty() {
        ask(style, &mut choices)?;
    }
    Ok(choices)
}

/// Reads one line from the terminal after printing `question`.
pub fn prompt(question: &str) -> Result<String> {
    print!("{question}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line)? == 0 {
        bail!("no input");
    }
    Ok(line.trim().to_owned())
}

/// `CONTEST=A,B,C` into the contest and its items.
fn split(flag: &str) -> Result<(String, Vec<String>)> {
    let Some((contest, items)) = flag.split_once('=') else {
        bail!("{flag}: expected CONTEST=OPTION[,OPTION...]");
    };
    let items = items
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    Ok((contest.trim().to_owned(), items))
}

/// `OPTION:N`.
fn parse_score(item: &str) -> Result<(String, u32)> {
    let Some((option, score)) = item.split_once(':') else {
        bail!("{item}: expected OPTION:SCORE");
    };
    let score = score
        .trim()
        .parse()
        .with_context(|| format!("{item}: the score is not a number"))?;
    Ok((option.trim().to_owned(), score))
}

/// Lists each contest and reads the voter's choice for it.
fn ask(style: &Style, choices: &mut Choices) -> Result<()> {
    let count = style.contests().len();
    for (n, contest) in style.contests().iter().enumerate() {
        println!();
        println!("contest {}/{count}: {}", n + 1, contest.title);
        if !contest.description.is_empty() {
            println!("  {}", contest.description);
        }
        for (i, option) in contest.options.iter().enumerate() {
            let party = if option.party.is_empty() {
                String::new()
            } else {
                format!(" ({})", option.party)
            };
            println!("  {}) {}{party}  [{}]", i + 1, option.name, option.id);
            if !option.description.is_empty() {
                println!("       {}", option.description);
            }
        }
        let shape = contest.shape;
        let choice = match contest.method {
            Method::Plurality | Method::Approval | Method::Referendum => {
                let answer = prompt(&format!(
                    "choose {} to {} (numbers or ids, comma-separated): ",
                    shape.min_sum, shape.max_sum
                ))?;
                Choice::Marks(options(contest, &answer)?)
            }
            Method::Score | Method::Star => {
                let (lo, hi) = (
                    contest.score_min,
                    u64::from(contest.score_min) + shape.max_value,
                );
                let answer = prompt(&format!(
                    "score each option from {lo} to {hi}, in order (comma-separated; blank: {lo}): "
                ))?;
                let scores = answer
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::parse::<u32>)
                    .collect::<Result<Vec<_>, _>>()
                    .context("scores are numbers")?;
                Choice::Scores(
                    contest
                        .options
                        .iter()
                        .map(|o| o.id.clone())
                        .zip(scores)
                        .collect(),
                )
            }
            _ => {
                let answer = prompt("rank the options, most preferred first (numbers or ids): ")?;
                Choice::Ranking(options(contest, &answer)?)
            }
        };
        choices.insert(contest.id.clone(), choice);
    }
    Ok(())
}

/// What an opened ballot holds, contest by contest, for the voter to compare with what
/// they chose: the revealed values, read back through each contest's encoding.
pub fn describe(style: &Style, opening: &BallotOpening) -> Vec<String> {
    style
        .contests()
        .iter()
        .zip(&opening.contests)
        .map(|(contest, opened)| {
            let named = contest.options.iter().zip(opened.values());
            let shown: Vec<String> = match contest.method {
                Method::Score | Method::Star => named
                    .map(|(o, v)| format!("{} {}", o.name, v + u64::from(contest.score_min)))
                    .collect(),
                Method::Plurality | Method::Approval | Method::Referendum => named
                    .filter(|(_, v)| **v == 1)
                    .map(|(o, _)| o.name.clone())
                    .collect(),
                _ => {
                    let mut ranked: Vec<_> = named.collect();
                    ranked.sort_by(|a, b| b.1.cmp(a.1));
                    ranked
                        .into_iter()
                        .map(|(o, v)| format!("{} ({v})", o.name))
                        .collect()
                }
            };
            format!("{}: {}", contest.title, shown.join(", "))
        })
        .collect()
}

/// Option ids from an answer of numbers (1-based) or ids.
fn options(contest: &StyleContest, answer: &str) -> Result<Vec<String>> {
    answer
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| match item.parse::<usize>() {
            Ok(n) => contest
                .options
                .get(n.wrapping_sub(1))
                .map(|o| o.id.clone())
                .with_context(|| format!("there is no option {n}")),
            Err(_) => Ok(item.to_owned()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_split_into_contest_and_items() {
        assert_eq!(
            split("committee=radia, john,").unwrap(),
            (
                "committee".to_owned(),
                vec!["radia".to_owned(), "john".to_owned()]
            )
        );
        assert!(split("committee").is_err());
        assert_eq!(parse_score("lake:4").unwrap(), ("lake".to_owned(), 4));
        assert!(parse_score("lake").is_err());
        assert!(parse_score("lake:high").is_err());
    }

    #[test]
    fn answers_name_options_by_number_or_id() {
        let contest = StyleContest {
            id: "chair".into(),
            title: "Chair".into(),
            description: String::new(),
            method: Method::Plurality,
            tally: urna_election::TallyKind::Homomorphic,
            seats: 1,
            score_min: 0,
            options: ["ada", "grace"]
                .iter()
                .map(|id| urna_election::StyleOption {
                    id: (*id).into(),
                    name: id.to_uppercase(),
                    party: String::new(),
                    description: String::new(),
                })
                .collect(),
            shape: urna_election::Shape {
                options: 2,
                max_value: 1,
                min_sum: 1,
                max_sum: 1,
            },
        };
        assert_eq!(options(&contest, "2").unwrap(), vec!["grace".to_owned()]);
        assert_eq!(
            options(&contest, "ada, 2").unwrap(),
            vec!["ada".to_owned(), "grace".to_owned()]
        );
        assert!(options(&contest, "3").is_err());
        assert!(options(&contest, "0").is_err());
    }
}
