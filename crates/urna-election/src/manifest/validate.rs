//! The one function that turns YAML into a [`Manifest`]: parse, then check every rule,
//! reporting the first violation with its line, column and field path.

use std::collections::HashSet;

use serde_saphyr::Spanned;

use super::raw::{
    RawContest, RawManifest, RawOption, RawRange, RawStyle, RawTieBreak, RawTrustees,
};
use super::time::parse_rfc3339;
use super::{
    BallotStyle, Contest, ContestOption, Fraction, Limits, Manifest, ManifestError,
    ReferendumRules, Revoting, TallyKind, Trustees,
};
use crate::method::{Method, TieBreak};
use crate::profile::CandidateId;

/// The longest identifier (election, contest, option, style), in bytes.
pub(super) const MAX_ID_LEN: usize = 64;
/// The most options a contest may have.
pub(super) const MAX_OPTIONS: usize = 1000;
/// The highest score a score or STAR contest may allow.
pub(super) const MAX_SCORE: u32 = 100;

type Result<T> = std::result::Result<T, ManifestError>;

fn at<T>(span: &Spanned<T>, field: &str, message: impl Into<String>) -> ManifestError {
    ManifestError::new(
        span.referenced.line(),
        span.referenced.column(),
        field,
        message,
    )
}

pub(super) fn from_yaml(text: &str) -> Result<Manifest> {
    let raw: RawManifest = serde_saphyr::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        ManifestError::new(line, column, "", first_line(&e.to_string()))
    })?;
    build(raw)
}

/// serde-saphyr renders `error: line L column C: message` and then a source snippet;
/// keep the message only (the location is reported separately).
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    match line.split_once(": ") {
        Some((place, message)) if place.starts_with("line ") => message.to_owned(),
        _ => line.to_owned(),
    }
}

fn build(raw: RawManifest) -> Result<Manifest> {
    let id = identifier(&raw.id, "id")?;
    let title = text(&raw.title, "title")?;
    let description = raw.description.map(|d| d.value).unwrap_or_default();
    let start = instant(&raw.start, "start")?;
    let end = instant(&raw.end, "end")?;
    if end <= start {
        return Err(at(&raw.end, "end", "the election must end after it starts"));
    }
    let revoting = match &raw.revoting {
        None => Revoting::Once,
        Some(r) => match r.value.as_str() {
            "once" => Revoting::Once,
            "last-counts" => Revoting::LastCounts,
            other => {
                return Err(at(
                    r,
                    "revoting",
                    format!("unknown policy {other:?}; expected `once` or `last-counts`"),
                ));
            }
        },
    };
    if raw.contests.value.is_empty() {
        return Err(at(
            &raw.contests,
            "contests",
            "at least one contest is required",
        ));
    }
    let mut contests: Vec<Contest> = Vec::with_capacity(raw.contests.value.len());
    for (i, rc) in raw.contests.value.iter().enumerate() {
        let path = format!("contests[{i}]");
        let contest = contest(rc, &path)?;
        if contests.iter().any(|c| c.id == contest.id) {
            return Err(at(
                &rc.value.id,
                &format!("{path}.id"),
                format!("duplicate contest id {:?}", contest.id),
            ));
        }
        contests.push(contest);
    }
    let styles = match &raw.ballot_styles {
        None => vec![BallotStyle {
            id: "default".to_owned(),
            title: String::new(),
            contests: contests.iter().map(|c| c.id.clone()).collect(),
        }],
        Some(list) => styles(list, &contests)?,
    };
    let trustees = match &raw.trustees {
        None => Trustees::default(),
        Some(t) => trustees(t)?,
    };
    Ok(Manifest {
        id,
        title,
        description,
        start,
        end,
        revoting,
        contests,
        styles,
        trustees,
    })
}

/// `{count, threshold}`, each defaulting as in [`Trustees::default`].
fn trustees(raw: &Spanned<RawTrustees>) -> Result<Trustees> {
    let default = Trustees::default();
    let count = raw.value.count.as_ref();
    let threshold = raw.value.threshold.as_ref();
    let n = count.map_or(default.count(), |c| c.value);
    let k = threshold.map_or(default.threshold(), |t| t.value);
    if !(1..=Trustees::MAX).contains(&n) {
        let message = format!("the trustee count must be 1 to {}", Trustees::MAX);
        return Err(match count {
            Some(c) => at(c, "trustees.count", message),
            None => at(raw, "trustees", message),
        });
    }
    Trustees::new(n, k).ok_or_else(|| {
        let message = format!("the threshold must be 1 to the trustee count ({n}), not {k}");
        match threshold {
            Some(t) => at(t, "trustees.threshold", message),
            None => at(raw, "trustees", message),
        }
    })
}

fn identifier(span: &Spanned<String>, field: &str) -> Result<String> {
    let value = &span.value;
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if value.is_empty() || value.len() > MAX_ID_LEN || !value.chars().all(ok_char) {
        return Err(at(
            span,
            field,
            format!(
                "identifier {value:?} must be 1 to {MAX_ID_LEN} characters of A-Z, a-z, 0-9, `-`, `_`, `.`"
            ),
        ));
    }
    Ok(value.clone())
}

fn text(span: &Spanned<String>, field: &str) -> Result<String> {
    if span.value.trim().is_empty() {
        return Err(at(span, field, "must not be empty"));
    }
    Ok(span.value.clone())
}

fn instant(span: &Spanned<String>, field: &str) -> Result<u64> {
    let seconds = parse_rfc3339(&span.value).map_err(|m| at(span, field, m))?;
    u64::try_from(seconds).map_err(|_| at(span, field, "times before 1970 are not accepted"))
}

fn contest(rc: &Spanned<RawContest>, path: &str) -> Result<Contest> {
    let c = &rc.value;
    let field = |name: &str| format!("{path}.{name}");
    let id = identifier(&c.id, &field("id"))?;
    let title = text(&c.title, &field("title"))?;
    let description = c
        .description
        .as_ref()
        .map(|d| d.value.clone())
        .unwrap_or_default();
    let method: Method = c.method.value.parse().map_err(|_| {
        at(
            &c.method,
            &field("method"),
            format!(
                "unknown method {:?}; expected one of {}",
                c.method.value,
                Method::ALL.map(Method::name).join(", ")
            ),
        )
    })?;
    let options = options(c, method, rc, path)?;
    let n = u32::try_from(options.len()).unwrap_or(u32::MAX);

    let seats = match &c.seats {
        None => 1,
        Some(s) => {
            let single = matches!(method, Method::Referendum | Method::Irv | Method::Star);
            if s.value == 0 {
                return Err(at(s, &field("seats"), "at least one seat is required"));
            }
            if single && s.value != 1 {
                return Err(at(
                    s,
                    &field("seats"),
                    format!("{method} elects exactly one winner"),
                ));
            }
            if s.value >= n && method != Method::Referendum {
                return Err(at(
                    s,
                    &field("seats"),
                    format!("{} seats need more than {} options", s.value, n),
                ));
            }
            s.value
        }
    };

    let uses_scores = matches!(method, Method::Score | Method::Star);
    let scores = if uses_scores {
        Some(score_range(c.scores.as_ref(), &field("scores"), rc)?)
    } else {
        if let Some(s) = &c.scores {
            return Err(at(
                s,
                &field("scores"),
                format!("{method} has no score range"),
            ));
        }
        None
    };
    let selections = selections(c, method, seats, n, path, rc)?;

    let tie_break = match &c.tie_break {
        None => TieBreak::default(),
        Some(t) => tie_break(t, &options, &field("tie_break"))?,
    };

    let referendum = referendum_rules(c, method, path)?;

    let tally = match &c.tally {
        None if is_additive(method) => TallyKind::Homomorphic,
        None => TallyKind::Mixnet,
        Some(t) => match t.value.as_str() {
            "homomorphic" if is_additive(method) => TallyKind::Homomorphic,
            "homomorphic" => {
                return Err(at(
                    t,
                    &field("tally"),
                    format!("{method} needs whole ballots; use `mixnet`"),
                ));
            }
            "mixnet" => TallyKind::Mixnet,
            other => {
                return Err(at(
                    t,
                    &field("tally"),
                    format!("unknown tally {other:?}; expected `homomorphic` or `mixnet`"),
                ));
            }
        },
    };

    Ok(Contest {
        id,
        title,
        description,
        method,
        options,
        seats,
        selections,
        scores,
        tie_break,
        referendum,
        tally,
    })
}

/// Methods whose result depends only on per-option sums of the ballots' option vectors.
pub(super) fn is_additive(method: Method) -> bool {
    matches!(
        method,
        Method::Plurality | Method::Approval | Method::Referendum | Method::Score | Method::Borda
    )
}

fn options(
    c: &RawContest,
    method: Method,
    rc: &Spanned<RawContest>,
    path: &str,
) -> Result<Vec<ContestOption>> {
    let field = format!("{path}.options");
    let Some(list) = &c.options else {
        if method == Method::Referendum {
            return Ok([("yes", "Yes"), ("no", "No"), ("abstain", "Abstain")]
                .map(|(id, name)| ContestOption {
                    id: id.to_owned(),
                    name: name.to_owned(),
                    party: None,
                    description: String::new(),
                })
                .into());
        }
        return Err(at(rc, &field, "the contest lists no options"));
    };
    let mut out: Vec<ContestOption> = Vec::with_capacity(list.value.len());
    for (j, ro) in list.value.iter().enumerate() {
        let o = option(&ro.value, &format!("{field}[{j}]"))?;
        if out.iter().any(|p| p.id == o.id) {
            return Err(at(
                &ro.value.id,
                &format!("{field}[{j}].id"),
                format!("duplicate option id {:?}", o.id),
            ));
        }
        out.push(o);
    }
    if method == Method::Referendum {
        let ids: Vec<&str> = out.iter().map(|o| o.id.as_str()).collect();
        if ids != ["yes", "no"] && ids != ["yes", "no", "abstain"] {
            return Err(at(
                list,
                &field,
                "a referendum's options are `yes`, `no` and optionally `abstain`, in that order",
            ));
        }
    } else if out.len() < 2 {
        return Err(at(list, &field, "a contest needs at least two options"));
    }
    if out.len() > MAX_OPTIONS {
        return Err(at(list, &field, format!("at most {MAX_OPTIONS} options")));
    }
    Ok(out)
}

fn option(o: &RawOption, path: &str) -> Result<ContestOption> {
    Ok(ContestOption {
        id: identifier(&o.id, &format!("{path}.id"))?,
        name: text(&o.name, &format!("{path}.name"))?,
        party: match &o.party {
            Some(p) => Some(text(p, &format!("{path}.party"))?),
            None => None,
        },
        description: o
            .description
            .as_ref()
            .map(|d| d.value.clone())
            .unwrap_or_default(),
    })
}

fn score_range(
    raw: Option<&Spanned<RawRange>>,
    field: &str,
    rc: &Spanned<RawContest>,
) -> Result<Limits> {
    let (min, max) = match raw {
        None => (0, 5),
        Some(r) => (
            r.value.min.as_ref().map_or(0, |m| m.value),
            r.value.max.as_ref().map_or(5, |m| m.value),
        ),
    };
    let span_of =
        |pick: fn(&RawRange) -> &Option<Spanned<u32>>| raw.and_then(|r| pick(&r.value).as_ref());
    if max > MAX_SCORE {
        let e = match span_of(|r| &r.max) {
            Some(s) => at(s, &format!("{field}.max"), ""),
            None => at(rc, field, ""),
        };
        return Err(ManifestError::new(
            e.line(),
            e.column(),
            e.field(),
            format!("the highest score may be at most {MAX_SCORE}"),
        ));
    }
    if min >= max {
        let message = format!("the score range {min}..{max} is empty or a single value");
        return Err(match span_of(|r| &r.min) {
            Some(s) => at(s, &format!("{field}.min"), message),
            None => at(rc, field, message),
        });
    }
    Ok(Limits { min, max })
}

fn selections(
    c: &RawContest,
    method: Method,
    seats: u32,
    n: u32,
    path: &str,
    rc: &Spanned<RawContest>,
) -> Result<Limits> {
    let field = format!("{path}.selections");
    let (default_min, default_max) = match method {
        Method::Plurality => (1, seats),
        Method::Approval | Method::Score | Method::Star => (0, n),
        Method::Referendum => (1, 1),
        _ => (1, n),
    };
    let Some(r) = &c.selections else {
        return Ok(Limits {
            min: default_min,
            max: default_max,
        });
    };
    let min = r.value.min.as_ref().map_or(default_min, |m| m.value);
    let max = r.value.max.as_ref().map_or(default_max, |m| m.value);
    let span_max = r.value.max.as_ref();
    let fail = |message: String| match span_max {
        Some(s) => at(s, &format!("{field}.max"), message),
        None => at(r, &field, message),
    };
    let cap = match method {
        Method::Plurality => seats,
        Method::Referendum => 1,
        _ => n,
    };
    if max > cap {
        let why = match method {
            Method::Plurality => {
                format!("plurality marks at most `seats` ({seats}) options; use approval for more")
            }
            Method::Referendum => "a referendum ballot marks at most one answer".to_owned(),
            _ => format!("there are only {n} options"),
        };
        return Err(fail(why));
    }
    if max == 0 {
        return Err(fail(
            "a ballot must be able to mark at least one option".to_owned(),
        ));
    }
    if min > max {
        let message = format!("the minimum ({min}) exceeds the maximum ({max})");
        return Err(match r.value.min.as_ref() {
            Some(s) => at(s, &format!("{field}.min"), message),
            None => at(rc, &field, message),
        });
    }
    Ok(Limits { min, max })
}

fn tie_break(t: &Spanned<RawTieBreak>, options: &[ContestOption], field: &str) -> Result<TieBreak> {
    let raw = &t.value;
    let seed = match &raw.seed {
        Some(s) if s.value.is_empty() => {
            return Err(at(
                s,
                &format!("{field}.seed"),
                "the seed must not be empty",
            ));
        }
        Some(s) => Some(s.value.clone()),
        None => None,
    };
    let refuse_order = || match &raw.order {
        Some(o) => Err(at(
            o,
            &format!("{field}.order"),
            format!("rule `{}` takes no order", raw.rule.value),
        )),
        None => Ok(()),
    };
    match raw.rule.value.as_str() {
        "previous-rounds" => {
            refuse_order()?;
            Ok(TieBreak::PreviousRounds { seed })
        }
        "random" => {
            refuse_order()?;
            let seed = seed.ok_or_else(|| at(t, field, "rule `random` needs a public `seed`"))?;
            Ok(TieBreak::Random { seed })
        }
        "fixed-order" => {
            if let Some(s) = &raw.seed {
                return Err(at(
                    s,
                    &format!("{field}.seed"),
                    "rule `fixed-order` takes no seed",
                ));
            }
            let mut order: Vec<CandidateId> = Vec::with_capacity(options.len());
            if let Some(list) = &raw.order {
                for (k, entry) in list.value.iter().enumerate() {
                    let index = options
                        .iter()
                        .position(|o| o.id == entry.value)
                        .ok_or_else(|| {
                            at(
                                entry,
                                &format!("{field}.order[{k}]"),
                                format!("no option has id {:?}", entry.value),
                            )
                        })?;
                    let id = CandidateId::new(u32::try_from(index).unwrap_or(u32::MAX));
                    if order.contains(&id) {
                        return Err(at(
                            entry,
                            &format!("{field}.order[{k}]"),
                            format!("option {:?} is listed twice", entry.value),
                        ));
                    }
                    order.push(id);
                }
            }
            // Unlisted options follow in ballot order: write them out, so that an
            // order and its completion have one canonical form.
            for index in 0..options.len() {
                let id = CandidateId::new(u32::try_from(index).unwrap_or(u32::MAX));
                if !order.contains(&id) {
                    order.push(id);
                }
            }
            Ok(TieBreak::FixedOrder(order))
        }
        other => Err(at(
            &raw.rule,
            &format!("{field}.rule"),
            format!(
                "unknown rule {other:?}; expected `previous-rounds`, `fixed-order` or `random`"
            ),
        )),
    }
}

fn referendum_rules(c: &RawContest, method: Method, path: &str) -> Result<ReferendumRules> {
    if method != Method::Referendum {
        if let Some(q) = &c.quorum {
            return Err(at(
                q,
                &format!("{path}.quorum"),
                "only a referendum has a quorum",
            ));
        }
        if let Some(t) = &c.threshold {
            return Err(at(
                t,
                &format!("{path}.threshold"),
                "only a referendum has a threshold",
            ));
        }
        return Ok(ReferendumRules::default());
    }
    let threshold = match &c.threshold {
        None => None,
        Some(t) => Some(
            parse_fraction(&t.value).ok_or_else(|| {
                at(
                    t,
                    &format!("{path}.threshold"),
                    format!(
                        "threshold {:?} must be a fraction p/q or a percentage, above 0 and at most 1 (e.g. 2/3, 60%)",
                        t.value
                    ),
                )
            })?,
        ),
    };
    Ok(ReferendumRules {
        quorum: c.quorum.as_ref().map(|q| q.value),
        threshold,
    })
}

/// `p/q` or `N%`, `0 < value ≤ 1`.
fn parse_fraction(text: &str) -> Option<Fraction> {
    let text = text.trim();
    let number = |s: &str| -> Option<u32> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    if let Some(percent) = text.strip_suffix('%') {
        return Fraction::new(number(percent)?, 100);
    }
    let (p, q) = text.split_once('/')?;
    Fraction::new(number(p)?, number(q)?)
}

fn styles(
    list: &Spanned<Vec<Spanned<RawStyle>>>,
    contests: &[Contest],
) -> Result<Vec<BallotStyle>> {
    if list.value.is_empty() {
        return Err(at(
            list,
            "ballot_styles",
            "list at least one style, or leave the key out",
        ));
    }
    let mut out: Vec<BallotStyle> = Vec::with_capacity(list.value.len());
    let mut used: HashSet<&str> = HashSet::new();
    for (i, rs) in list.value.iter().enumerate() {
        let path = format!("ballot_styles[{i}]");
        let s = &rs.value;
        let id = identifier(&s.id, &format!("{path}.id"))?;
        if out.iter().any(|o| o.id == id) {
            return Err(at(
                &s.id,
                &format!("{path}.id"),
                format!("duplicate style id {id:?}"),
            ));
        }
        if s.contests.value.is_empty() {
            return Err(at(
                &s.contests,
                &format!("{path}.contests"),
                "a style needs a contest",
            ));
        }
        let mut ids: Vec<String> = Vec::with_capacity(s.contests.value.len());
        for (k, entry) in s.contests.value.iter().enumerate() {
            let field = format!("{path}.contests[{k}]");
            let Some(contest) = contests.iter().find(|c| c.id == entry.value) else {
                return Err(at(
                    entry,
                    &field,
                    format!("no contest has id {:?}", entry.value),
                ));
            };
            if ids.contains(&contest.id) {
                return Err(at(
                    entry,
                    &field,
                    format!("contest {:?} is listed twice", entry.value),
                ));
            }
            used.insert(contest.id.as_str());
            ids.push(contest.id.clone());
        }
        out.push(BallotStyle {
            id,
            title: s
                .title
                .as_ref()
                .map(|t| t.value.clone())
                .unwrap_or_default(),
            contests: ids,
        });
    }
    if let Some(orphan) = contests.iter().find(|c| !used.contains(c.id.as_str())) {
        return Err(at(
            list,
            "ballot_styles",
            format!("contest {:?} is on no ballot style", orphan.id),
        ));
    }
    Ok(out)
}
