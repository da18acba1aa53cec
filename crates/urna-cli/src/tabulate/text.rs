//! The human-readable report: every round's values, who was elected or eliminated,
//! transfers, notes, and the pairwise matrix of Condorcet methods.

use std::fmt::Write;

use urna_election::{Status, Tabulation, TransferKind};

/// Renders `tab` (counted from `voters` ballots) as text.
pub fn render(tab: &Tabulation, voters: u64) -> String {
    let mut out = String::new();
    let name = |i: usize| tab.candidates.get(i).map_or("?", String::as_str);
    let width = tab
        .candidates
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(4)
        .max(9);
    let _ = writeln!(
        out,
        "{} — {} candidates, {} ballots, {} seat(s)",
        tab.method,
        tab.candidates.len(),
        voters,
        tab.seats
    );
    if let Some(q) = tab.quota {
        let _ = writeln!(out, "Quota: {q}");
    }
    for note in &tab.notes {
        let _ = writeln!(out, "  {note}");
    }
    for round in &tab.rounds {
        let _ = writeln!(out, "\nRound {}", round.number);
        if let Some(q) = round.quota.filter(|q| Some(*q) != tab.quota) {
            let _ = writeln!(out, "  quota {q}");
        }
        let mut order: Vec<usize> = (0..tab.candidates.len()).collect();
        order.sort_by(|&a, &b| round.tallies[b].cmp(&round.tallies[a]).then(a.cmp(&b)));
        for i in order {
            let id = urna_election::CandidateId::new(u32::try_from(i).unwrap_or(u32::MAX));
            let mark = if round.elected.contains(&id) {
                "elected"
            } else if round.eliminated.contains(&id) {
                "eliminated"
            } else {
                match round.status.get(i) {
                    Some(Status::Elected) => "(elected)",
                    Some(Status::Eliminated) => "(out)",
                    Some(Status::Withdrawn) => "(withdrawn)",
                    _ => "",
                }
            };
            let _ = writeln!(
                out,
                "  {:<width$}  {:>14}  {mark}",
                name(i),
                round.tallies[i].to_string()
            );
        }
        for t in &round.transfers {
            let kind = match t.kind {
                TransferKind::Surplus => "surplus",
                TransferKind::Elimination => "votes",
            };
            let tv = t
                .transfer_value
                .map(|v| format!(" at transfer value {v}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  transferred {} {kind} of {}{tv}",
                t.amount,
                name(t.from.index())
            );
        }
        if let Some(x) = round.exhausted {
            let _ = writeln!(out, "  exhausted {x}");
        }
        if let Some(r) = round.residual {
            let _ = writeln!(out, "  lost to rounding {r}");
        }
        for note in &round.notes {
            let _ = writeln!(out, "  · {note}");
        }
    }
    if let Some(p) = &tab.pairwise {
        let _ = writeln!(out, "\nPairwise matrix (row preferred to column):");
        for (a, row) in p.preferred.iter().enumerate() {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(b, v)| if a == b { "-".into() } else { v.to_string() })
                .map(|s| format!("{s:>7}"))
                .collect();
            let _ = writeln!(out, "  {:<width$} {}", name(a), cells.concat());
        }
    }
    let winners = tab.winner_names();
    let _ = writeln!(
        out,
        "\nWinner{}: {}",
        if winners.len() == 1 { "" } else { "s" },
        if winners.is_empty() {
            "none".to_owned()
        } else {
            winners.join(", ")
        }
    );
    out
}
