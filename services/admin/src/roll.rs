//! The voter roll as the admin uploads it: RFC 4180 CSV with a header row naming
//! `voter_id` and `ballot_style` (other columns are ignored; a UTF-8 byte-order mark
//! and surrounding spaces are tolerated), and the voting codes made for it.

use std::collections::HashMap;

use rand::SeedableRng;
use rand::rngs::{ChaCha20Rng, SysRng};
use urna_election::Manifest;
use urna_store::{CodeHash, CodeParams, RollEntry, VotingCode};

use crate::error::{AdminError, RollError, RollProblem};

/// The longest voter id accepted, in bytes (the API's limit on ids).
pub const MAX_VOTER_ID_LEN: usize = 64;

const VOTER_COLUMN: &str = "voter_id";
const STYLE_COLUMN: &str = "ballot_style";

/// One voter of an uploaded roll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    /// The CSV line the row starts on.
    pub line: u64,
    /// The voter id.
    pub voter: String,
    /// The ballot style id, one of the manifest's.
    pub style: String,
}

/// A voter's fresh voting code, returned to the admin once.
#[derive(Debug)]
pub struct NewCode {
    /// The voter id.
    pub voter: String,
    /// The voting code.
    pub code: VotingCode,
}

/// Parses and checks a roll against the election's manifest: every voter once, with
/// an id of 1 to [`MAX_VOTER_ID_LEN`] bytes and a style of the manifest.
pub(crate) fn parse(csv: &[u8], manifest: &Manifest) -> Result<Vec<Row>, RollError> {
    let mut lines = Lines::new(csv);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(csv);
    let header = reader
        .headers()
        .map_err(|e| malformed(&e, &mut lines))?
        .clone();
    let header_line = lines.at(header.position());
    let voter_col = column(&header, header_line, VOTER_COLUMN)?;
    let style_col = column(&header, header_line, STYLE_COLUMN)?;
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| malformed(&e, &mut lines))?;
        let line = lines.at(record.position());
        let at = |problem| RollError { line, problem };
        let voter = record.get(voter_col).unwrap_or_default();
        let style = record.get(style_col).unwrap_or_default();
        if voter.is_empty() {
            return Err(at(RollProblem::EmptyVoterId));
        }
        if voter.len() > MAX_VOTER_ID_LEN {
            return Err(at(RollProblem::VoterIdTooLong));
        }
        if manifest.ballot_style(style).is_none() {
            return Err(at(RollProblem::UnknownStyle(style.to_owned())));
        }
        if let Some(&first) = first_line.get(voter) {
            return Err(at(RollProblem::DuplicateVoter {
                voter: voter.to_owned(),
                first,
            }));
        }
        first_line.insert(voter.to_owned(), line);
        rows.push(Row {
            line,
            voter: voter.to_owned(),
            style: style.to_owned(),
        });
    }
    if rows.is_empty() {
        return Err(RollError {
            line: header_line,
            problem: RollProblem::NoVoters,
        });
    }
    Ok(rows)
}

/// Line numbers from the reader's byte offsets. (The csv crate's own line count
/// is off after CRLF line ends; its byte offsets are exact, but a record after a
/// CRLF is reported at the LF.)
struct Lines<'a> {
    csv: &'a [u8],
    byte: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    fn new(csv: &'a [u8]) -> Self {
        Self {
            csv,
            byte: 0,
            line: 1,
        }
    }

    /// The line of the first character at or after `position` that is not a line
    /// end. Positions must not go backwards.
    fn at(&mut self, position: Option<&csv::Position>) -> u64 {
        let Some(position) = position else {
            return self.line;
        };
        let len = self.csv.len();
        let mut start = usize::try_from(position.byte()).map_or(len, |b| b.min(len));
        while start < len && matches!(self.csv[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > self.byte {
            let newlines = self.csv[self.byte..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.line += u64::try_from(newlines).unwrap_or(u64::MAX);
            self.byte = start;
        }
        self.line
    }
}

/// The index of the header's column `name`, which must appear exactly once.
fn column(header: &csv::StringRecord, line: u64, name: &'static str) -> Result<usize, RollError> {
    let mut found = header.iter().enumerate().filter(|(_, h)| *h == name);
    match (found.next(), found.next()) {
        (Some((i, _)), None) => Ok(i),
        (None, _) => Err(RollError {
            line,
            problem: RollProblem::MissingColumn(name),
        }),
        (Some(_), Some(_)) => Err(RollError {
            line,
            problem: RollProblem::DuplicateColumn(name.to_owned()),
        }),
    }
}

fn malformed(e: &csv::Error, lines: &mut Lines<'_>) -> RollError {
    let line = lines.at(e.position());
    let problem = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8".to_owned(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        _ => "does not parse".to_owned(),
    };
    RollError {
        line,
        problem: RollProblem::Malformed(problem),
    }
}

/// Makes a fresh voting code and its Argon2id hash for every row, on `threads`
/// blocking threads (hashing is deliberately slow). Each thread draws from its own
/// ChaCha20 generator seeded by the operating system.
pub(crate) async fn make_codes(
    rows: Vec<Row>,
    params: CodeParams,
    threads: usize,
) -> Result<(Vec<RollEntry>, Vec<NewCode>), AdminError> {
    let chunk = rows.len().div_ceil(threads.max(1)).max(1);
    let mut rows = rows.into_iter();
    let mut tasks = Vec::new();
    loop {
        let part: Vec<Row> = rows.by_ref().take(chunk).collect();
        if part.is_empty() {
            break;
        }
        tasks.push(tokio::task::spawn_blocking(move || hash_part(part, params)));
    }
    let mut entries = Vec::new();
    let mut codes = Vec::new();
    for task in tasks {
        for (row, code, hash) in task.await?? {
            entries.push(RollEntry {
                voter: row.voter.clone(),
                style: row.style,
                code: hash,
            });
            codes.push(NewCode {
                voter: row.voter,
                code,
            });
        }
    }
    Ok((entries, codes))
}

fn hash_part(
    rows: Vec<Row>,
    params: CodeParams,
) -> Result<Vec<(Row, VotingCode, CodeHash)>, AdminError> {
    let mut rng = ChaCha20Rng::try_from_rng(&mut SysRng).map_err(|_| AdminError::KeyGeneration)?;
    rows.into_iter()
        .map(|row| {
            let code = VotingCode::generate(&mut rng);
            let hash = CodeHash::new(&code, params, &mut rng)?;
            Ok((row, code, hash))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        let yaml = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/club-election.yaml"
        ))
        .unwrap();
        Manifest::from_yaml(&yaml).unwrap()
    }

    fn style(m: &Manifest) -> String {
        m.ballot_styles()[0].id().to_owned()
    }

    fn refused(csv: &str) -> RollError {
        parse(csv.as_bytes(), &manifest()).unwrap_err()
    }

    #[test]
    fn quoted_fields_extra_columns_a_bom_and_crlf_are_read() {
        let m = manifest();
        let s = style(&m);
        let csv = format!(
            "\u{feff}name,ballot_style,voter_id\r\n\"Doe, \"\"J\"\"\",{s},alice\r\n\"multi\nline\",{s},\"bob\"\r\n"
        );
        let rows = parse(csv.as_bytes(), &m).unwrap();
        assert_eq!(
            rows,
            vec![
                Row {
                    line: 2,
                    voter: "alice".into(),
                    style: s.clone()
                },
                Row {
                    line: 3,
                    voter: "bob".into(),
                    style: s
                },
            ]
        );
    }

    #[test]
    fn every_refusal_names_its_line() {
        let s = style(&manifest());
        let cases = [
            (
                "voter,ballot_style\na,x\n",
                1,
                RollProblem::MissingColumn("voter_id"),
            ),
            (
                "voter_id,ballot_style,voter_id\na,x,b\n",
                1,
                RollProblem::DuplicateColumn("voter_id".into()),
            ),
            ("voter_id,ballot_style\n", 1, RollProblem::NoVoters),
            (
                &format!("voter_id,ballot_style\na,{s}\nb,nope\n"),
                3,
                RollProblem::UnknownStyle("nope".into()),
            ),
            (
                &format!("voter_id,ballot_style\na,{s}\nb,{s}\n a ,{s}\n"),
                4,
                RollProblem::DuplicateVoter {
                    voter: "a".into(),
                    first: 2,
                },
            ),
            (
                &format!("voter_id,ballot_style\n,{s}\n"),
                2,
                RollProblem::EmptyVoterId,
            ),
            (
                &format!("voter_id,ballot_style\n{},{s}\n", "v".repeat(65)),
                2,
                RollProblem::VoterIdTooLong,
            ),
            (
                &format!("voter_id,ballot_style\na,{s}\nb,{s},extra\n"),
                3,
                RollProblem::Malformed("3 fields where the header has 2".into()),
            ),
        ];
        for (csv, line, problem) in cases {
            assert_eq!(refused(csv), RollError { line, problem }, "{csv}");
        }
        let crlf = format!("voter_id,ballot_style\r\na,{s}\r\n\r\nb,nope\r\n");
        assert_eq!(refused(&crlf).line, 4);
        let not_utf8 = parse(b"voter_id,ballot_style\n\xff,x\n", &manifest()).unwrap_err();
        assert_eq!(not_utf8.line, 2);
        assert!(matches!(not_utf8.problem, RollProblem::Malformed(_)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_voter_gets_a_distinct_code_that_its_hash_verifies() {
        let m = manifest();
        let s = style(&m);
        let csv: String = std::iter::once("voter_id,ballot_style\n".to_owned())
            .chain((0..5).map(|i| format!("v{i},{s}\n")))
            .collect();
        let rows = parse(csv.as_bytes(), &m).unwrap();
        let params = CodeParams::new(64, 1, 1).unwrap();
        let (entries, codes) = make_codes(rows, params, 2).await.unwrap();
        let voters: Vec<_> = codes.iter().map(|c| c.voter.as_str()).collect();
        assert_eq!(voters, ["v0", "v1", "v2", "v3", "v4"]);
        for (entry, code) in entries.iter().zip(&codes) {
            assert_eq!(entry.voter, code.voter);
            assert!(entry.code.verify(&code.code));
        }
        assert!(!entries[0].code.verify(&codes[1].code));
    }
}
