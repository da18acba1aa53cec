//! `urna tabulate`: count a cast-vote-record file by any method and explain every round.

mod input;
mod svg;
pub(crate) mod text;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use urna_election::{Ballots, CandidateId, Method, Rules, Tabulation, TieBreak};

/// Arguments of `urna tabulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Counting method: plurality, approval, referendum, score, star, borda, irv,
    /// scottish-stv, meek-stv, wigm-stv, schulze, ranked-pairs.
    #[arg(long, value_parser = parse_method)]
    method: Method,
    /// Seats to fill (default: the file's, else 1).
    #[arg(long)]
    seats: Option<u32>,
    /// Tie-break rule: previous-rounds, fixed-order (needs --order) or random (needs
    /// --seed).
    #[arg(long, default_value = "previous-rounds")]
    tie_break: String,
    /// Public seed of the random lot (random; optional for previous-rounds).
    #[arg(long)]
    seed: Option<String>,
    /// Candidate names, most favoured first, for fixed-order (comma-separated).
    #[arg(long, value_delimiter = ',')]
    order: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also draw the rounds as an SVG chart to this file.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// The ballots: BLT (.blt), PrefLib (.soi/.soc/.toi/.toc) or the STAR server's CSV
    /// (.csv); detected by extension, then by content.
    file: PathBuf,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A human-readable report.
    Text,
    /// One JSON object.
    Json,
}

fn parse_method(s: &str) -> Result<Method, String> {
    s.parse().map_err(|e: urna_election::Error| e.to_string())
}

/// Runs `urna tabulate`.
pub fn run(args: &Args) -> Result<()> {
    let ballots = input::read(&args.file)?;
    let tie_break = tie_break(args, &ballots)?;
    let rules = Rules {
        seats: args.seats,
        tie_break,
        ..Rules::new(args.method)
    };
    let tab = urna_election::tabulate(&ballots, &rules)
        .with_context(|| format!("counting {} by {}", args.file.display(), args.method))?;
    if let Some(path) = &args.svg {
        let title = format!(
            "{} — {}",
            args.file
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            args.method
        );
        std::fs::write(path, svg::render(&tab, &title))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let out = match args.format {
        Format::Text => text::render(&tab, ballots.voters()),
        Format::Json => json(&tab)?,
    };
    print!("{out}");
    Ok(())
}

fn tie_break(args: &Args, ballots: &Ballots) -> Result<TieBreak> {
    Ok(match args.tie_break.as_str() {
        "previous-rounds" => TieBreak::PreviousRounds {
            seed: args.seed.clone(),
        },
        "random" => TieBreak::Random {
            seed: args
                .seed
                .clone()
                .context("--tie-break random needs a public --seed")?,
        },
        "fixed-order" => {
            if args.order.is_empty() {
                bail!("--tie-break fixed-order needs --order NAME,NAME,...");
            }
            let names = ballots.candidates();
            let ids = args
                .order
                .iter()
                .map(|n| {
                    names
                        .iter()
                        .position(|c| c.name() == n)
                        .and_then(|i| u32::try_from(i).ok())
                        .map(CandidateId::new)
                        .with_context(|| format!("--order: no candidate is named {n:?}"))
                })
                .collect::<Result<Vec<_>>>()?;
            TieBreak::FixedOrder(ids)
        }
        other => {
            bail!("unknown --tie-break {other:?}: expected previous-rounds, fixed-order or random")
        }
    })
}

/// The JSON report: the whole tabulation, with `winners` as names in order elected.
fn json(tab: &Tabulation) -> Result<String> {
    Ok(tab.to_json()?)
}
