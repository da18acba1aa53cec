//! The rounds as a chart: one row per candidate, one column per round, a bar for the
//! candidate's value in that round. Elected candidates are outlined and starred,
//! eliminated ones crossed and greyed afterwards; the quota is a dashed line. Rows are
//! ordered by outcome: winners in order elected, then the others from last out to
//! first out.

use std::fmt::Write;

use urna_election::{Amount, CandidateId, Method, Status, Tabulation};

const PALETTE: [&str; 12] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7", "#9c755f",
    "#e15759", "#bab0ac", "#2f4b7c", "#a05195",
];
const ROW: f64 = 30.0;
const BAR: f64 = 18.0;
const COLUMN: f64 = 215.0;
const BAR_MAX: f64 = 104.0;
const TOP: f64 = 96.0;
const CELL: f64 = 58.0;

/// Renders `tab` as a standalone SVG document titled `title`.
pub fn render(tab: &Tabulation, title: &str) -> String {
    let n = tab.candidates.len();
    let rounds = &tab.rounds;
    // Names are numbered ("1. ") when the head-to-head table refers to rows by number.
    let numbered = if tab.pairwise.is_some() { 3 } else { 0 };
    let longest = tab
        .candidates
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(4);
    let name_width = 44.0 + 8.0 * (longest + numbered) as f64;
    let matrix_x = name_width + COLUMN * rounds.len().max(1) as f64 + 24.0;
    let matrix_width = tab
        .pairwise
        .as_ref()
        .map_or(0.0, |_| CELL * n as f64 + 24.0);
    // Room for the legend's longest line (about 6.6 px a character at 12 px).
    let width = (matrix_x + matrix_width).max(if tab.pairwise.is_some() { 720.0 } else { 600.0 });
    let height = TOP + ROW * n as f64 + 86.0;
    let order = row_order(tab);
    let per_round_scale = tab.method == Method::Star;
    let global_max = rounds
        .iter()
        .flat_map(|r| r.tallies.iter().copied())
        .chain(tab.quota)
        .max()
        .unwrap_or_default();

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r##"<text x="16" y="30" font-size="20" font-weight="bold" fill="#222">{}</text>"##,
        esc(title)
    );
    let winners = tab.winner_names();
    let subtitle = format!(
        "{} seat(s) · {} · winner{}: {}",
        tab.seats,
        tab.method,
        if winners.len() == 1 { "" } else { "s" },
        if winners.is_empty() {
            "none".to_owned()
        } else {
            winners.join(", ")
        }
    );
    let _ = writeln!(
        s,
        r##"<text x="16" y="54" font-size="14" fill="#444">{}</text>"##,
        esc(&subtitle)
    );

    for (k, round) in rounds.iter().enumerate() {
        let x0 = name_width + COLUMN * k as f64;
        if k % 2 == 0 {
            let _ = writeln!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="{COLUMN}" height="{:.1}" fill="#f5f6f8"/>"##,
                x0 - 6.0,
                TOP - 22.0,
                ROW * n as f64 + 22.0
            );
        }
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="13" font-weight="bold" fill="#333">Round {}</text>"##,
            x0,
            TOP - 6.0,
            round.number
        );
        let max = if per_round_scale {
            round.tallies.iter().copied().max().unwrap_or_default()
        } else {
            global_max
        };
        let scale = |a: Amount| -> f64 {
            if max.is_zero() {
                0.0
            } else {
                BAR_MAX * ratio(a, max)
            }
        };
        for (row, &i) in order.iter().enumerate() {
            let y = TOP + ROW * row as f64 + (ROW - BAR) / 2.0;
            let id = CandidateId::new(u32::try_from(i).unwrap_or(u32::MAX));
            let mut tally = round.tallies.get(i).copied().unwrap_or_default();
            let status = round.status.get(i).copied().unwrap_or(Status::Hopeful);
            let elected_now = round.elected.contains(&id);
            let out_now = round.eliminated.contains(&id);
            let gone_before = status == Status::Eliminated && !out_now;
            let withdrawn = status == Status::Withdrawn;
            if out_now && tally.is_zero() && k > 0 {
                // Transfer methods empty an eliminated pile in the round that excludes
                // it: draw what it held, faded.
                tally = rounds[k - 1].tallies.get(i).copied().unwrap_or_default();
            }
            if (gone_before || withdrawn) && tally.is_zero() {
                let _ = writeln!(
                    s,
                    r##"<text x="{:.1}" y="{:.1}" font-size="12" fill="#bbb">—</text>"##,
                    x0,
                    y + BAR - 4.0
                );
                continue;
            }
            let color = PALETTE[i % PALETTE.len()];
            let opacity = if gone_before || out_now { 0.35 } else { 1.0 };
            let w = scale(tally).max(if tally.is_zero() { 0.0 } else { 1.5 });
            let stroke = if status == Status::Elected {
                r##" stroke="#1b5e20" stroke-width="2.5""##
            } else {
                ""
            };
            let _ = writeln!(
                s,
                r#"<rect x="{x0:.1}" y="{y:.1}" width="{w:.1}" height="{BAR}" rx="2" fill="{color}" fill-opacity="{opacity}"{stroke}/>"#
            );
            let (mark, mark_color) = if elected_now {
                (" ★ elected", "#1b5e20")
            } else if out_now {
                (" ✗ out", "#b71c1c")
            } else {
                ("", "#333")
            };
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" font-size="11" fill="{mark_color}">{}{mark}</text>"#,
                x0 + w + 4.0,
                y + BAR - 5.0,
                short(tally)
            );
        }
        if let Some(q) = round.quota.or(tab.quota).filter(|_| !per_round_scale) {
            let qx = x0 + scale(q);
            let _ = writeln!(
                s,
                r##"<line x1="{qx:.1}" y1="{:.1}" x2="{qx:.1}" y2="{:.1}" stroke="#1b5e20" stroke-dasharray="4 3" stroke-width="1.2"/>"##,
                TOP - 2.0,
                TOP + ROW * n as f64
            );
        }
    }
    if let Some(p) = &tab.pairwise {
        matrix(&mut s, &p.preferred, &order, matrix_x);
    }
    for (row, &i) in order.iter().enumerate() {
        let y = TOP + ROW * row as f64 + ROW / 2.0 + 5.0;
        let won = tab.winners.iter().any(|w| w.index() == i);
        let _ = writeln!(
            s,
            r#"<rect x="12" y="{:.1}" width="10" height="10" fill="{}"/>"#,
            y - 9.0,
            PALETTE[i % PALETTE.len()]
        );
        let _ = writeln!(
            s,
            r#"<text x="28" y="{y:.1}" font-size="13" fill="{}"{}>{}</text>"#,
            if won { "#1b5e20" } else { "#333" },
            if won { r#" font-weight="bold""# } else { "" },
            esc(&label(tab, row, i))
        );
    }
    let legend_y = TOP + ROW * n as f64 + 30.0;
    let quota_note = if tab.quota.is_some() {
        " · dashed line: quota"
    } else {
        ""
    };
    let scale_note = if per_round_scale {
        "Round 1: total scores · Round 2: ballots preferring each finalist".to_owned()
    } else if tab.pairwise.is_some() {
        format!(
            "bars: {} · table: voters preferring the row to the column (green: row wins)",
            tab.notes
                .first()
                .map_or("", |n| n.trim_start_matches("round values: "))
        )
    } else {
        "bars share one scale across rounds".to_owned()
    };
    let _ = writeln!(
        s,
        r##"<text x="16" y="{legend_y:.1}" font-size="12" fill="#555">★ elected (outlined from then on) · ✗ eliminated (faded in that round, — after){quota_note}</text>"##
    );
    let _ = writeln!(
        s,
        r##"<text x="16" y="{:.1}" font-size="12" fill="#555">{scale_note}</text>"##,
        legend_y + 18.0
    );
    s.push_str("</svg>\n");
    s
}

/// A row's name, numbered when the head-to-head table refers to rows by number.
fn label(tab: &Tabulation, row: usize, i: usize) -> String {
    let name = tab.candidates.get(i).map_or("?", String::as_str);
    if tab.pairwise.is_some() {
        format!("{}. {name}", row + 1)
    } else {
        name.to_owned()
    }
}

/// The head-to-head table: rows and columns in row order, each cell the voters who
/// prefer the row to the column, green where the row wins, red where it loses.
fn matrix(s: &mut String, d: &[Vec<u64>], order: &[usize], x0: f64) {
    let _ = writeln!(
        s,
        r##"<text x="{x0:.1}" y="{:.1}" font-size="13" font-weight="bold" fill="#333">Head to head</text>"##,
        TOP - 40.0
    );
    for (col, _) in order.iter().enumerate() {
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" fill="#555" text-anchor="middle">{}</text>"##,
            x0 + CELL * col as f64 + CELL / 2.0,
            TOP - 6.0,
            col + 1
        );
    }
    for (row, &a) in order.iter().enumerate() {
        for (col, &b) in order.iter().enumerate() {
            let (x, y) = (x0 + CELL * col as f64, TOP + ROW * row as f64 + 2.0);
            if a == b {
                let _ = writeln!(
                    s,
                    r##"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="#eeeeee"/>"##,
                    CELL - 2.0,
                    ROW - 4.0
                );
                continue;
            }
            let (ab, ba) = (d[a][b], d[b][a]);
            let fill = match ab.cmp(&ba) {
                std::cmp::Ordering::Greater => "#c8e6c9",
                std::cmp::Ordering::Less => "#ffcdd2",
                std::cmp::Ordering::Equal => "#fff9c4",
            };
            let _ = writeln!(
                s,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{fill}"/>"#,
                CELL - 2.0,
                ROW - 4.0
            );
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#222" text-anchor="middle">{ab}</text>"##,
                x + CELL / 2.0 - 1.0,
                y + ROW / 2.0 + 2.0
            );
        }
    }
}

/// Winners in order elected, then the rest from the last eliminated to the first, ties
/// by first-round value.
fn row_order(tab: &Tabulation) -> Vec<usize> {
    let n = tab.candidates.len();
    let out_round = |i: usize| -> usize {
        tab.rounds
            .iter()
            .position(|r| r.eliminated.iter().any(|c| c.index() == i))
            .unwrap_or(usize::MAX)
    };
    let first = |i: usize| tab.rounds.first().and_then(|r| r.tallies.get(i).copied());
    let mut rest: Vec<usize> = (0..n)
        .filter(|&i| !tab.winners.iter().any(|w| w.index() == i))
        .collect();
    rest.sort_by(|&a, &b| {
        out_round(b)
            .cmp(&out_round(a))
            .then(first(b).cmp(&first(a)))
            .then(a.cmp(&b))
    });
    tab.winners.iter().map(|w| w.index()).chain(rest).collect()
}

/// `a / b` as a float, for drawing only (never for counting).
fn ratio(a: Amount, b: Amount) -> f64 {
    let value = |x: Amount| x.mantissa() as f64 / 10f64.powi(x.scale() as i32);
    let d = value(b);
    if d == 0.0 {
        0.0
    } else {
        (value(a) / d).clamp(0.0, 1.0)
    }
}

/// A value for a label: whole numbers as they are, fixed-point values to 2 decimals
/// (truncated; the text and JSON reports carry every digit).
fn short(a: Amount) -> String {
    if a.scale() <= 2 {
        a.to_string()
    } else {
        a.rescale(2).unwrap_or(a).to_string()
    }
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
