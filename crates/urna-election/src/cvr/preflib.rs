//! PrefLib ordinal preference files (the 2022 format): `soc`, `soi`, `toc`, `toi`.
//!
//! ```text
//! # TITLE: Example
//! # DATA TYPE: toi
//! # NUMBER ALTERNATIVES: 3
//! # NUMBER VOTERS: 5
//! # NUMBER UNIQUE ORDERS: 2
//! # ALTERNATIVE NAME 1: Alice
//! # ALTERNATIVE NAME 2: Bob
//! # ALTERNATIVE NAME 3: Carol
//! 3: 1,{2,3}
//! 2: 3
//! ```
//!
//! `s`/`t`: strict orders / orders with ties (`{..}` groups); `c`/`i`: complete /
//! incomplete. The reader checks that the data keep the declared type and counts.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::profile::{Candidate, CandidateId, MAX_CANDIDATES, RankedBallot, RankedProfile};

const FORMAT: &str = "PrefLib";

/// The four ordinal PrefLib data types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataType {
    /// Strict orders, complete.
    Soc,
    /// Strict orders, incomplete.
    Soi,
    /// Orders with ties, complete.
    Toc,
    /// Orders with ties, incomplete.
    Toi,
}

impl DataType {
    const fn name(self) -> &'static str {
        match self {
            DataType::Soc => "soc",
            DataType::Soi => "soi",
            DataType::Toc => "toc",
            DataType::Toi => "toi",
        }
    }

    const fn allows_ties(self) -> bool {
        matches!(self, DataType::Toc | DataType::Toi)
    }

    const fn complete(self) -> bool {
        matches!(self, DataType::Soc | DataType::Toc)
    }

    /// The narrowest type that holds every ballot of `profile`.
    #[must_use]
    pub fn of(profile: &RankedProfile) -> Self {
        let n = profile.candidates().len();
        let ties = profile.ballots().iter().any(|b| !b.is_strict());
        let complete = profile
            .ballots()
            .iter()
            .all(|b| b.ranking().iter().map(Vec::len).sum::<usize>() == n);
        match (ties, complete) {
            (false, true) => DataType::Soc,
            (false, false) => DataType::Soi,
            (true, true) => DataType::Toc,
            (true, false) => DataType::Toi,
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DataType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        [DataType::Soc, DataType::Soi, DataType::Toc, DataType::Toi]
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| err(0, format!("unknown data type {s:?}")))
    }
}

fn err(line: usize, message: impl Into<String>) -> Error {
    Error::Parse {
        format: FORMAT,
        line,
        message: message.into(),
    }
}

/// Parses a PrefLib `soc`/`soi`/`toc`/`toi` file.
///
/// # Errors
/// [`Error::Parse`] naming the line: a missing or inconsistent header, a ballot that
/// breaks the declared data type, an unknown alternative, counts that disagree with
/// `NUMBER VOTERS` or `NUMBER UNIQUE ORDERS`.
pub fn read(text: &str) -> Result<RankedProfile> {
    let mut headers: HashMap<String, (usize, String)> = HashMap::new();
    let mut names: HashMap<u32, (usize, String)> = HashMap::new();
    let mut data: Vec<(usize, &str)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim_start_matches('\u{feff}').trim();
        if raw.is_empty() {
            continue;
        }
        if let Some(header) = raw.strip_prefix('#') {
            if !data.is_empty() {
                return Err(err(line, "header line after the data"));
            }
            let (key, value) = header
                .split_once(':')
                .ok_or_else(|| err(line, "header line without ':'"))?;
            let key = key.trim();
            let value = value.trim().to_owned();
            if let Some(k) = key.strip_prefix("ALTERNATIVE NAME ") {
                let k: u32 = k
                    .parse()
                    .map_err(|_| err(line, format!("alternative number {k:?} is not a number")))?;
                if names.insert(k, (line, value)).is_some() {
                    return Err(err(line, format!("alternative {k} named twice")));
                }
            } else {
                headers.insert(key.to_owned(), (line, value));
            }
        } else {
            data.push((line, raw));
        }
    }

    let header = |key: &str| {
        headers
            .get(key)
            .ok_or_else(|| err(1, format!("missing header \"# {key}:\"")))
    };
    let (tline, tvalue) = header("DATA TYPE")?;
    let kind: DataType = tvalue.parse().map_err(|_| {
        err(
            *tline,
            format!("data type {tvalue:?} is not soc, soi, toc or toi"),
        )
    })?;
    let (nline, nvalue) = header("NUMBER ALTERNATIVES")?;
    let n: u32 = nvalue
        .parse()
        .ok()
        .filter(|&n| n > 0 && n as usize <= MAX_CANDIDATES)
        .ok_or_else(|| {
            err(
                *nline,
                format!("NUMBER ALTERNATIVES {nvalue:?} is not a number in 1..={MAX_CANDIDATES}"),
            )
        })?;

    let mut candidates = Vec::with_capacity(n as usize);
    for k in 1..=n {
        let (_, name) = names
            .get(&k)
            .ok_or_else(|| err(*nline, format!("no \"# ALTERNATIVE NAME {k}:\" header")))?;
        candidates.push(Candidate::new(name.clone()));
    }
    if let Some((&k, (line, _))) = names.iter().find(|(k, _)| **k == 0 || **k > n) {
        return Err(err(*line, format!("alternative {k} out of range 1..={n}")));
    }

    let mut ballots = Vec::with_capacity(data.len());
    for &(line, raw) in &data {
        ballots.push(order(raw, n, kind, line)?);
    }

    let last = text.lines().count();
    if let Some((line, value)) = headers.get("NUMBER VOTERS") {
        let declared: u64 = value
            .parse()
            .map_err(|_| err(*line, format!("NUMBER VOTERS {value:?} is not a number")))?;
        let found = ballots
            .iter()
            .try_fold(0u64, |sum, b| sum.checked_add(b.count()));
        if found != Some(declared) {
            let found = found.map_or("more than 2^64 - 1".to_owned(), |f| f.to_string());
            return Err(err(
                last,
                format!("NUMBER VOTERS is {declared} but the orders add up to {found}"),
            ));
        }
    }
    if let Some((line, value)) = headers.get("NUMBER UNIQUE ORDERS") {
        let declared: usize = value.parse().map_err(|_| {
            err(
                *line,
                format!("NUMBER UNIQUE ORDERS {value:?} is not a number"),
            )
        })?;
        if declared != ballots.len() {
            return Err(err(
                last,
                format!(
                    "NUMBER UNIQUE ORDERS is {declared} but there are {} order lines",
                    ballots.len()
                ),
            ));
        }
    }
    let title = headers
        .get("TITLE")
        .map(|(_, t)| t.clone())
        .filter(|t| !t.is_empty());
    RankedProfile::new(candidates, None, title, ballots)
}

fn order(raw: &str, n: u32, kind: DataType, line: usize) -> Result<RankedBallot> {
    let (count, rest) = raw
        .split_once(':')
        .ok_or_else(|| err(line, "order line without ':' after the count"))?;
    let count: u64 = count.trim().parse().map_err(|_| {
        err(
            line,
            format!("count {:?} is not a whole number", count.trim()),
        )
    })?;
    let mut ranking: Vec<Vec<CandidateId>> = Vec::new();
    let mut seen = vec![false; n as usize];
    let mut chars = rest.trim();
    while !chars.is_empty() {
        let (group, tail) = if let Some(inner) = chars.strip_prefix('{') {
            if !kind.allows_ties() {
                return Err(err(line, format!("tie {{..}} in a {kind} file")));
            }
            let (inside, tail) = inner
                .split_once('}')
                .ok_or_else(|| err(line, "'{' without matching '}'"))?;
            (inside, tail)
        } else {
            chars.split_at(chars.find(',').unwrap_or(chars.len()))
        };
        let mut members = Vec::new();
        for tok in group.split(',') {
            let tok = tok.trim();
            let k: u32 = tok
                .parse()
                .map_err(|_| err(line, format!("alternative {tok:?} is not a number")))?;
            if k == 0 || k > n {
                return Err(err(line, format!("alternative {k} out of range 1..={n}")));
            }
            if std::mem::replace(&mut seen[(k - 1) as usize], true) {
                return Err(err(line, format!("alternative {k} ranked twice")));
            }
            members.push(CandidateId::new(k - 1));
        }
        ranking.push(members);
        let tail = tail.trim_start();
        chars = match tail.strip_prefix(',') {
            Some(t) => t.trim_start(),
            None if tail.is_empty() => tail,
            None => return Err(err(line, format!("expected ',' before {tail:?}"))),
        };
    }
    if kind.complete() && seen.iter().any(|s| !s) {
        return Err(err(line, format!("incomplete order in a {kind} file")));
    }
    Ok(RankedBallot::new(count, ranking))
}

/// Writes `profile` as a PrefLib file of the narrowest type that holds it
/// ([`DataType::of`]). Identical orders are merged; lines are sorted by count,
/// largest first, then by order text, as PrefLib's own files are.
///
/// # Errors
/// [`Error::Write`] if a name contains a line break.
pub fn write(profile: &RankedProfile) -> Result<String> {
    let kind = DataType::of(profile);
    let mut merged: HashMap<String, u64> = HashMap::new();
    for b in profile.ballots() {
        if b.count() == 0 {
            continue;
        }
        let text: Vec<String> = b
            .ranking()
            .iter()
            .map(|g| {
                let ids: Vec<String> = g.iter().map(|c| (c.get() + 1).to_string()).collect();
                if g.len() == 1 {
                    ids.join(",")
                } else {
                    format!("{{{}}}", ids.join(","))
                }
            })
            .collect();
        *merged.entry(text.join(",")).or_default() += b.count();
    }
    let mut lines: Vec<(String, u64)> = merged.into_iter().collect();
    lines.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

    let mut out = String::new();
    let title = profile.title().unwrap_or_default();
    for text in profile
        .candidates()
        .iter()
        .map(Candidate::name)
        .chain([title])
    {
        if text.contains(['\n', '\r']) {
            return Err(Error::Write {
                format: FORMAT,
                message: format!("{text:?} contains a line break"),
            });
        }
    }
    let _ = writeln!(out, "# TITLE: {title}");
    let _ = writeln!(out, "# DATA TYPE: {kind}");
    let _ = writeln!(out, "# NUMBER ALTERNATIVES: {}", profile.candidates().len());
    let _ = writeln!(out, "# NUMBER VOTERS: {}", profile.voters());
    let _ = writeln!(out, "# NUMBER UNIQUE ORDERS: {}", lines.len());
    for (i, c) in profile.candidates().iter().enumerate() {
        let _ = writeln!(out, "# ALTERNATIVE NAME {}: {}", i + 1, c.name());
    }
    for (text, count) in lines {
        let _ = writeln!(out, "{count}: {text}");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOI: &str = "# TITLE: Example\n# DATA TYPE: toi\n# NUMBER ALTERNATIVES: 3\n# NUMBER VOTERS: 5\n# NUMBER UNIQUE ORDERS: 2\n# ALTERNATIVE NAME 1: Alice\n# ALTERNATIVE NAME 2: Bob\n# ALTERNATIVE NAME 3: Carol\n3: 1,{2,3}\n2: 3\n";

    #[test]
    fn reads_ties_and_headers() {
        let p = read(TOI).unwrap();
        assert_eq!(p.title(), Some("Example"));
        assert_eq!(p.voters(), 5);
        let id = CandidateId::new;
        assert_eq!(p.ballots()[0].ranking(), &[vec![id(0)], vec![id(1), id(2)]]);
        assert_eq!(DataType::of(&p), DataType::Toi);
    }

    #[test]
    fn round_trips_and_picks_narrowest_type() {
        let p = read(TOI).unwrap();
        let text = write(&p).unwrap();
        assert!(text.contains("# DATA TYPE: toi\n"));
        assert!(text.ends_with("3: 1,{2,3}\n2: 3\n"));
        assert_eq!(read(&text).unwrap(), p);

        let strict = TOI
            .replace("toi", "soc")
            .replace("3: 1,{2,3}\n2: 3\n", "3: 1,2,3\n2: 3,1,2\n");
        let q = read(&strict).unwrap();
        assert_eq!(DataType::of(&q), DataType::Soc);
        assert!(write(&q).unwrap().contains("# DATA TYPE: soc\n"));
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            (
                TOI.replace("3: 1,{2,3}", "3: 1,{2,3"),
                9,
                "without matching",
            ),
            (TOI.replace("3: 1,{2,3}", "3: 1,4"), 9, "out of range"),
            (TOI.replace("3: 1,{2,3}", "3: 1,1"), 9, "ranked twice"),
            (TOI.replace("3: 1,{2,3}", "x: 1"), 9, "not a whole number"),
            (TOI.replace("3: 1,{2,3}", "3 1"), 9, "without ':'"),
            (TOI.replace("3: 1,{2,3}", "3: 1 2"), 9, "not a number"),
            (TOI.replace("toi", "soi"), 9, "tie {..} in a soi file"),
            (
                TOI.replace("toi", "toc"),
                10,
                "incomplete order in a toc file",
            ),
            (TOI.replace("toi", "xyz"), 2, "not soc, soi, toc or toi"),
            (
                TOI.replace("VOTERS: 5", "VOTERS: 6"),
                10,
                "NUMBER VOTERS is 6",
            ),
            (
                TOI.replace("ORDERS: 2", "ORDERS: 3"),
                10,
                "NUMBER UNIQUE ORDERS is 3",
            ),
            (
                TOI.replace("# ALTERNATIVE NAME 3: Carol\n", ""),
                3,
                "ALTERNATIVE NAME 3",
            ),
            (TOI.replace("# DATA TYPE: toi\n", ""), 1, "missing header"),
            (
                format!("{TOI}# TITLE: late\n"),
                11,
                "header line after the data",
            ),
        ];
        for (text, line, what) in cases {
            match read(&text) {
                Err(Error::Parse {
                    line: l, message, ..
                }) => {
                    assert_eq!(l, line, "{message}");
                    assert!(message.contains(what), "{message}");
                }
                other => panic!("{what}: {other:?}"),
            }
        }
    }
}
