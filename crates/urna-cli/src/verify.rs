//! `urna verify DIR|URL`: checks an election board from public data alone, from an
//! export directory or the public HTTP API.

mod http;

use std::path::PathBuf;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use urna_board::NoteVerifier;
use urna_verify::{DirSource, Options, Source};

/// `urna verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The board: an export directory (`urna board export`) or the public API's board
    /// URL (`https://<host>/api/v1/elections/<id>/board/`).
    board: String,
    /// The board's verifier key, obtained out of band
    /// (`<origin>+<key id>+<base64 key>`). Without it, the key published on the board
    /// is used and printed, to be compared with one obtained elsewhere.
    #[arg(long)]
    board_key: Option<String>,
    /// For a URL: the manifest document (YAML) the election was created from.
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// For an https URL: the CA certificates (PEM) to trust.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Write each mix-net contest's cast-vote record, as decrypted and recounted from
    /// the board, to `<DIR>/<contest>.blt` or `.csv`, with its round-by-round count
    /// in `<contest>.txt` (only when every check holds).
    #[arg(long, value_name = "DIR")]
    cvr_dir: Option<PathBuf>,
}

/// Runs `urna verify`; fails (exit code 1) unless every check holds.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let board_key = args
        .board_key
        .as_deref()
        .map(NoteVerifier::parse)
        .transpose()
        .context("--board-key is not a verifier key")?;
    let options = Options {
        board_key,
        ..Options::default()
    };
    let source: Box<dyn Source> =
        if args.board.starts_with("https://") || args.board.starts_with("http://") {
            let manifest = args
                .manifest
                .as_deref()
                .context("a board URL needs --manifest")?;
            Box::new(http::HttpSource::new(
                &args.board,
                args.ca.as_deref(),
                manifest,
            )?)
        } else {
            Box::new(DirSource::new(&args.board))
        };
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>10} [{bar:40}] {pos}/{len} entries {per_sec} eta {eta}",
        )
        .context("progress bar template")?,
    );
    bar.set_prefix("verifying");
    let report = urna_verify::verify(source.as_ref(), &options, &mut |p| {
        bar.set_length(p.total);
        bar.set_position(p.entries);
    })?;
    bar.finish_and_clear();
    if let Some(dir) = &args.cvr_dir
        && report.is_ok()
    {
        write_cvrs(&report, dir)?;
    }
    print!("{report}");
    if report.is_ok() {
        println!("verified");
        Ok(())
    } else {
        anyhow::bail!("{} checks failed", report.failures().len())
    }
}

/// Writes the recounted CVRs and their round-by-round counts into `dir`.
fn write_cvrs(report: &urna_verify::Report, dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for cvr in report.cvrs() {
        let records = dir.join(format!("{}.{}", cvr.contest, cvr.format.extension()));
        std::fs::write(&records, &cvr.text)
            .with_context(|| format!("writing {}", records.display()))?;
        let voters = report
            .results()
            .iter()
            .find(|r| r.contest == cvr.contest)
            .map_or(0, |r| r.ballots);
        let count = crate::tabulate::text::render(&cvr.tabulation, voters);
        let file = dir.join(format!("{}.txt", cvr.contest));
        std::fs::write(&file, count).with_context(|| format!("writing {}", file.display()))?;
        println!(
            "contest {}: cast-vote record {}, count {}",
            cvr.contest,
            records.display(),
            file.display()
        );
    }
    Ok(())
}
