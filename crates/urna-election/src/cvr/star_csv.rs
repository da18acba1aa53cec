//! The STAR election server's cast-vote-record CSV (seed 004): a header `Voter,` then
//! each candidate's short name; then one line per ballot, the voter index followed by
//! one score (0–5) per candidate.
//!
//! ```text
//! Voter,Skyler,Jesse,Gus
//! 1,0,5,4
//! 2,1,2,5
//! ```
//!
//! Reading: the first column is ignored (it only numbers voters); an empty cell is a
//! score of zero; the highest score allowed is 5, or the highest score in the file if
//! that is more. Names may be double-quoted (`""` for a quote inside). Writing emits
//! one line per voter (a ballot with count 3 becomes three lines), numbered from 1.

use crate::error::{Error, Result};
use crate::profile::Candidate;
use crate::scored::{ScoredBallot, ScoredProfile};

const FORMAT: &str = "STAR CSV";

/// The default highest score of a STAR ballot.
pub const STAR_MAX_SCORE: u32 = 5;

/// Reads a STAR CVR CSV file.
///
/// # Errors
/// [`Error::Parse`] naming the line of a malformed row.
pub fn read(text: &str) -> Result<ScoredProfile> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            (
                i + 1,
                l.trim_start_matches('\u{feff}').trim_end_matches('\r'),
            )
        })
        .filter(|(_, l)| !l.trim().is_empty());
    let parse_err = |line: usize, message: String| Error::Parse {
        format: FORMAT,
        line,
        message,
    };
    let (hline, header) = lines
        .next()
        .ok_or_else(|| parse_err(1, "empty file".into()))?;
    let names = split(header).map_err(|m| parse_err(hline, m))?;
    if names.len() < 2 {
        return Err(parse_err(
            hline,
            "expected `Voter,` and candidate names".into(),
        ));
    }
    let candidates: Vec<Candidate> = names[1..].iter().map(Candidate::new).collect();
    let mut ballots = Vec::new();
    let mut max = STAR_MAX_SCORE;
    for (line, row) in lines {
        let cells = split(row).map_err(|m| parse_err(line, m))?;
        if cells.len() != names.len() {
            return Err(parse_err(
                line,
                format!("{} cells, expected {}", cells.len(), names.len()),
            ));
        }
        let scores = cells[1..]
            .iter()
            .map(|cell| {
                let cell = cell.trim();
                if cell.is_empty() {
                    Ok(0)
                } else {
                    cell.parse::<u32>().map_err(|_| {
                        parse_err(line, format!("score {cell:?} is not a whole number"))
                    })
                }
            })
            .collect::<Result<Vec<u32>>>()?;
        max = max.max(scores.iter().copied().max().unwrap_or(0));
        ballots.push(ScoredBallot::new(1, scores));
    }
    ScoredProfile::new(candidates, max, None, ballots)
}

/// Writes a score profile in the STAR CVR CSV layout.
///
/// # Errors
/// Never for a validated profile; the signature leaves room for future limits.
pub fn write(profile: &ScoredProfile) -> Result<String> {
    let mut out = String::from("Voter");
    for c in profile.candidates() {
        out.push(',');
        out.push_str(&quote(c.name()));
    }
    out.push('\n');
    let mut voter = 0u64;
    for b in profile.ballots() {
        for _ in 0..b.count() {
            voter += 1;
            out.push_str(&voter.to_string());
            for s in b.scores() {
                out.push(',');
                out.push_str(&s.to_string());
            }
            out.push('\n');
        }
    }
    Ok(out)
}

fn quote(name: &str) -> String {
    if name.contains([',', '"', '\n', '\r']) || name.trim() != name {
        format!("\"{}\"", name.replace('"', "\"\""))
    } else {
        name.to_owned()
    }
}

/// Splits one CSV line (RFC 4180 quoting, no embedded newlines).
fn split(line: &str) -> std::result::Result<Vec<String>, String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.trim().is_empty() => {
                cell.clear();
                quoted = true;
            }
            (false, ',') => cells.push(std::mem::take(&mut cell)),
            (false, c) => cell.push(c),
        }
    }
    if quoted {
        return Err("unterminated quoted cell".into());
    }
    cells.push(cell);
    Ok(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "Voter,Skyler,Jesse,Gus\n1,0,5,4\n2,1,2,5\n3,1,1,1\n4,0,2,0\n5,5,3,0\n";

    #[test]
    fn reads_the_seed_example() {
        let p = read(SEED).unwrap();
        assert_eq!(p.candidates().len(), 3);
        assert_eq!(p.voters(), 5);
        assert_eq!(p.max_score(), 5);
        assert_eq!(p.ballots()[1].scores(), [1, 2, 5]);
    }

    #[test]
    fn round_trips_with_quotes_and_counts() {
        let p = ScoredProfile::new(
            vec![Candidate::new("Smith, Jo"), Candidate::new("Say \"hi\"")],
            5,
            None,
            vec![
                ScoredBallot::new(2, vec![5, 0]),
                ScoredBallot::new(1, vec![3, 4]),
            ],
        )
        .unwrap();
        let text = write(&p).unwrap();
        assert_eq!(
            text,
            "Voter,\"Smith, Jo\",\"Say \"\"hi\"\"\"\n1,5,0\n2,5,0\n3,3,4\n"
        );
        let back = read(&text).unwrap();
        assert_eq!(back.candidates(), p.candidates());
        assert_eq!(back.voters(), 3);
        assert_eq!(write(&back).unwrap(), text);
    }

    #[test]
    fn malformed_rows_name_their_line() {
        let e = read("Voter,A,B\n1,2\n").unwrap_err();
        assert_eq!(e.to_string(), "STAR CSV line 2: 2 cells, expected 3");
        let e = read("Voter,A,B\n\n1,2,x\n").unwrap_err();
        assert!(e.to_string().starts_with("STAR CSV line 3:"), "{e}");
        assert!(read("").is_err());
        // Empty cells are zero; a 0-10 file raises the maximum.
        let p = read("Voter,A,B\n1,,10\n").unwrap();
        assert_eq!((p.ballots()[0].scores(), p.max_score()), (&[0, 10][..], 10));
    }
}
