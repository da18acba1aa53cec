//! The BLT ballot file, the common input of STV counting programs (ERS, OpenSTV, Droop).
//!
//! ```text
//! 4 2                 candidates, seats
//! -3                  optional: withdrawn candidates, negated
//! [nick a b c d]      optional Droop extension: nicknames usable in ballots
//! 5 1 2 0             count, preferences (1-based numbers or nicknames), 0
//! 2 3=4 1 0           "=" joins tied preferences
//! 0                   end of ballots
//! "Alice"             one quoted name per candidate
//! "Bob"
//! "Carol"
//! "Dan"
//! "Election title"    optional
//! ```
//!
//! A ballot may start with a Droop ballot id in parentheses, `(id) 1 2 0`, which is
//! ignored. `#` starts a comment outside quoted names.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::error::{Error, Result};
use crate::profile::{Candidate, CandidateId, MAX_CANDIDATES, RankedBallot, RankedProfile};

const FORMAT: &str = "BLT";

fn err(line: usize, message: impl Into<String>) -> Error {
    Error::Parse {
        format: FORMAT,
        line,
        message: message.into(),
    }
}

/// Parses a BLT file.
///
/// # Errors
/// [`Error::Parse`] naming the line and what is wrong with it.
pub fn read(text: &str) -> Result<RankedProfile> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_start_matches('\u{feff}')))
        .filter(|(_, l)| !strip_comment(l).trim().is_empty())
        .peekable();

    let (header_line, header) = lines.next().ok_or_else(|| err(1, "empty file"))?;
    let mut fields = strip_comment(header).split_whitespace();
    let n: u32 = number(fields.next(), header_line, "number of candidates")?;
    let seats: u32 = number(fields.next(), header_line, "number of seats")?;
    if let Some(extra) = fields.next() {
        return Err(err(
            header_line,
            format!("unexpected {extra:?} after the seats"),
        ));
    }
    if n == 0 || n as usize > MAX_CANDIDATES {
        return Err(err(
            header_line,
            format!("{n} candidates; between 1 and {MAX_CANDIDATES} are supported"),
        ));
    }

    let mut withdrawn = vec![false; n as usize];
    let mut nicks: HashMap<String, CandidateId> = HashMap::new();
    let mut ballots = Vec::new();
    let mut ended = false;
    for (line, raw) in lines.by_ref() {
        let body = strip_comment(raw).trim();
        if body.starts_with('-') && ballots.is_empty() && nicks.is_empty() {
            for tok in body.split_whitespace() {
                let c = candidate_number(tok.strip_prefix('-'), n, line)?;
                withdrawn[c.index()] = true;
            }
            continue;
        }
        if let Some(option) = body.strip_prefix('[') {
            let option = option
                .strip_suffix(']')
                .ok_or_else(|| err(line, "option line without closing ']'"))?;
            let mut words = option.split_whitespace();
            if words.next() == Some("nick") {
                for (i, nick) in words.enumerate() {
                    if i >= n as usize {
                        return Err(err(line, format!("more nicknames than the {n} candidates")));
                    }
                    nicks.insert(nick.to_owned(), CandidateId::new(i as u32));
                }
            }
            continue;
        }
        if body == "0" {
            ended = true;
            break;
        }
        ballots.push(ballot(body, n, &nicks, line)?);
    }
    if !ended {
        return Err(err(
            text.lines().count().max(1),
            "file ended before the 0 that closes the ballots",
        ));
    }

    let mut names = Vec::with_capacity(n as usize);
    let mut title = None;
    for (line, raw) in lines {
        let name = quoted(raw.trim(), line)?;
        if names.len() < n as usize {
            names.push(name);
        } else if title.is_none() {
            title = Some(name);
        } else {
            return Err(err(line, "text after the title"));
        }
    }
    if names.len() < n as usize {
        return Err(err(
            text.lines().count(),
            format!("expected {n} candidate names, found {}", names.len()),
        ));
    }
    let candidates = names
        .into_iter()
        .zip(withdrawn)
        .map(|(name, w)| {
            if w {
                Candidate::withdrawn(name)
            } else {
                Candidate::new(name)
            }
        })
        .collect();
    RankedProfile::new(candidates, Some(seats), title, ballots)
}

fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('"') {
        return line;
    }
    line.split_once('#').map_or(line, |(before, _)| before)
}

fn number<T: std::str::FromStr>(tok: Option<&str>, line: usize, what: &str) -> Result<T> {
    let tok = tok.ok_or_else(|| err(line, format!("missing {what}")))?;
    tok.parse()
        .map_err(|_| err(line, format!("{what} {tok:?} is not a whole number")))
}

fn candidate_number(tok: Option<&str>, n: u32, line: usize) -> Result<CandidateId> {
    let k: u32 = number(tok, line, "candidate number")?;
    if k == 0 || k > n {
        return Err(err(line, format!("candidate {k} out of range 1..={n}")));
    }
    Ok(CandidateId::new(k - 1))
}

fn ballot(
    body: &str,
    n: u32,
    nicks: &HashMap<String, CandidateId>,
    line: usize,
) -> Result<RankedBallot> {
    let mut toks = body.split_whitespace().peekable();
    if toks.peek().is_some_and(|t| t.starts_with('(')) {
        let id = toks.next().unwrap_or_default();
        if !id.ends_with(')') {
            return Err(err(line, format!("ballot id {id:?} without closing ')'")));
        }
    }
    let count: u64 = number(toks.next(), line, "ballot count")?;
    let mut ranking: Vec<Vec<CandidateId>> = Vec::new();
    let mut closed = false;
    let mut seen = vec![false; n as usize];
    for tok in toks.by_ref() {
        if tok == "0" {
            closed = true;
            break;
        }
        let mut group = Vec::new();
        for part in tok.split('=') {
            let c = match nicks.get(part) {
                Some(&c) => c,
                None => candidate_number(Some(part), n, line).map_err(|_| {
                    err(
                        line,
                        format!("{part:?} is neither a candidate number in 1..={n} nor a nickname"),
                    )
                })?,
            };
            if std::mem::replace(&mut seen[c.index()], true) {
                return Err(err(line, format!("candidate {} ranked twice", c.get() + 1)));
            }
            group.push(c);
        }
        ranking.push(group);
    }
    if !closed {
        return Err(err(line, "ballot does not end with 0"));
    }
    if let Some(extra) = toks.next() {
        return Err(err(
            line,
            format!("unexpected {extra:?} after the closing 0"),
        ));
    }
    Ok(RankedBallot::new(count, ranking))
}

fn quoted(s: &str, line: usize) -> Result<String> {
    let inner = s
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or_else(|| err(line, format!("expected a quoted name, found {s:?}")))?;
    if inner.contains('"') {
        return Err(err(line, "a name may not contain '\"'"));
    }
    Ok(inner.to_owned())
}

/// Writes `profile` as BLT (candidate numbers, `=` for ties, one line per ballot).
///
/// # Errors
/// [`Error::Write`] if a name contains `"` or a line break, which BLT cannot express,
/// or the profile does not say how many seats.
pub fn write(profile: &RankedProfile) -> Result<String> {
    let bad = |message: String| Error::Write {
        format: FORMAT,
        message,
    };
    let seats = profile
        .seats()
        .ok_or_else(|| bad("BLT needs the number of seats".into()))?;
    let mut out = String::new();
    let _ = writeln!(out, "{} {seats}", profile.candidates().len());
    let withdrawn: Vec<String> = profile
        .candidate_ids()
        .filter(|&c| profile.candidates()[c.index()].is_withdrawn())
        .map(|c| format!("-{}", c.get() + 1))
        .collect();
    if !withdrawn.is_empty() {
        let _ = writeln!(out, "{}", withdrawn.join(" "));
    }
    for b in profile.ballots() {
        let _ = write!(out, "{}", b.count());
        for group in b.ranking() {
            let g: Vec<String> = group.iter().map(|c| (c.get() + 1).to_string()).collect();
            let _ = write!(out, " {}", g.join("="));
        }
        out.push_str(" 0\n");
    }
    out.push_str("0\n");
    let names = profile.candidates().iter().map(Candidate::name);
    for name in names.chain(profile.title()) {
        if name.contains(['"', '\n', '\r']) {
            return Err(bad(format!("{name:?} contains a quote or line break")));
        }
        let _ = writeln!(out, "\"{name}\"");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EQ2: &str = "4 2\n[nick a b c d]\n5 a b=c d 0\n1 b=c a 0\n3 c=d b=a 0\n2 b a=d c 0\n0\n\"A\"\n\"B\"\n\"C\"\n\"D\"\n\"simple election with equal rankings\"\n";

    #[test]
    fn reads_nicknames_ties_and_title() {
        let p = read(EQ2).unwrap();
        assert_eq!(p.candidates().len(), 4);
        assert_eq!(p.seats(), Some(2));
        assert_eq!(p.voters(), 11);
        assert_eq!(p.title(), Some("simple election with equal rankings"));
        let first = &p.ballots()[0];
        let id = CandidateId::new;
        assert_eq!(
            first.ranking(),
            &[vec![id(0)], vec![id(1), id(2)], vec![id(3)]]
        );
    }

    #[test]
    fn round_trips_through_write() {
        let p = read(EQ2).unwrap();
        let text = write(&p).unwrap();
        assert!(text.starts_with("4 2\n5 1 2=3 4 0\n"));
        assert_eq!(read(&text).unwrap(), p);
    }

    #[test]
    fn withdrawn_ids_and_comments() {
        let text =
            "3 1 # header\n-2\n(b1) 4 1 2 0\n2 2 3 0\n0\n\"X\"\n\"Y\"\n\"Z # not a comment\"\n";
        let p = read(text).unwrap();
        assert!(p.candidates()[1].is_withdrawn());
        assert_eq!(p.candidates()[2].name(), "Z # not a comment");
        assert_eq!(p.title(), None);
        assert_eq!(read(&write(&p).unwrap()).unwrap(), p);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("", 1, "empty file"),
            ("4000000000 1\n", 1, "between 1 and"),
            ("x 1\n", 1, "number of candidates"),
            ("2 1\n1 1 3 0\n0\n\"a\"\n\"b\"\n", 2, "neither a candidate"),
            ("2 1\n1 1 1 0\n0\n\"a\"\n\"b\"\n", 2, "ranked twice"),
            ("2 1\n1 1 2\n0\n\"a\"\n\"b\"\n", 2, "does not end with 0"),
            ("2 1\n1 1 0 2\n0\n\"a\"\n\"b\"\n", 2, "after the closing 0"),
            ("2 1\n1 1 0\n", 2, "ended before the 0"),
            ("2 1\n1 1 0\n0\n\"a\"\nb\n", 5, "quoted name"),
            ("2 1\n1 1 0\n0\n\"a\"\n", 4, "expected 2 candidate names"),
            ("2 1\n-3\n0\n\"a\"\n\"b\"\n", 2, "out of range"),
            (
                "2 1\n1 1 0\n0\n\"a\"\n\"b\"\n\"t\"\n\"u\"\n",
                7,
                "after the title",
            ),
        ];
        for (text, line, what) in cases {
            match read(text) {
                Err(Error::Parse {
                    line: l, message, ..
                }) => {
                    assert_eq!(l, line, "{text:?}: {message}");
                    assert!(message.contains(what), "{text:?}: {message}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn refuses_to_write_unquotable_names() {
        let p = RankedProfile::new(vec![Candidate::new("a\"b")], Some(1), None, vec![]).unwrap();
        assert!(matches!(write(&p), Err(Error::Write { .. })));
    }
}
