//! Reading a cast-vote-record file of any supported format.

use std::path::Path;

use anyhow::{Context, Result};
use urna_election::Ballots;
use urna_election::cvr::{read_ranked, star_csv};

/// Reads `path`: `.csv` is the STAR server's CVR; `.blt` and PrefLib's extensions are
/// ranked files; anything else is told apart by content (a `Voter,` header is CSV, a
/// `#` header PrefLib, otherwise BLT).
pub fn read(path: &Path) -> Result<Ballots> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let first = text
        .lines()
        .map(|l| l.trim_start_matches('\u{feff}').trim())
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let csv = match ext.as_str() {
        "csv" => true,
        "blt" | "soi" | "soc" | "toi" | "toc" => false,
        _ => first.to_ascii_lowercase().starts_with("voter,"),
    };
    let ballots = if csv {
        Ballots::Scored(star_csv::read(&text)?)
    } else {
        Ballots::Ranked(read_ranked(&text)?)
    };
    Ok(ballots)
}
