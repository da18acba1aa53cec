//! `urna demo` end to end, small: the services, three trustee processes, the voters
//! through the SDK, the mix-net and the tally with one trustee absent, and the verifier
//! on the export. The command must finish with "verified", with published totals and
//! cast-vote records equal to the voters' choices, and leave a data directory the
//! verifier accepts again.

use std::path::Path;
use std::process::Command;

fn demo(data: &Path, voters: &str, seed: &str) -> String {
    demo_with(data, voters, seed, &[])
}

fn demo_with(data: &Path, voters: &str, seed: &str, extra: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_urna"))
        .args(["demo", "--voters", voters, "--seed", seed, "--data"])
        .arg(data)
        .args(extra)
        .output()
        .expect("the urna binary runs");
    let stdout = String::from_utf8(output.stdout).expect("utf-8 output");
    assert!(
        output.status.success(),
        "demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Per-option totals: the lines indented four spaces, last number on the line.
fn totals(stdout: &str) -> Vec<u64> {
    stdout
        .lines()
        .filter(|l| l.starts_with("    ") && !l.trim_start().starts_with("urna"))
        .filter_map(|l| l.split_whitespace().rev().find_map(|w| w.parse().ok()))
        .collect()
}

#[test]
fn a_small_election_runs_through_the_services_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let out = demo(&data, "24", "7");
    assert!(out.contains("24 voters cast"), "{out}");
    assert!(out.contains("trustee 3 stayed away"), "{out}");
    assert!(
        out.contains(
            "the published totals and cast-vote records equal the voters' choices in every contest"
        ),
        "{out}"
    );
    assert!(
        out.contains("trustees [1, 2] shuffled the 2 mix-net contests'"),
        "{out}"
    );
    assert!(
        out.trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("verified"),
        "{out}"
    );
    // examples/club-election-full.yaml: 3 + 4 + 5 + 3 options of homomorphic
    // contests, one result per contest, and the two mix-net contests' round-by-round
    // counts and cast-vote records.
    let totals = totals(&out);
    assert_eq!(totals.len(), 15, "{out}");
    assert_eq!(out.matches("  result: ").count(), 6, "{out}");
    // The chair is on every ballot and "choose exactly 1": its totals add up to 24.
    assert_eq!(totals[3..7].iter().sum::<u64>(), 24, "{out}");
    assert!(out.contains("  | irv — 4 candidates"), "{out}");
    assert!(out.contains("  | star — 4 candidates, 24 ballots"), "{out}");
    let blt = std::fs::read_to_string(data.join("results/captain.blt")).unwrap();
    assert!(blt.starts_with("4 1\n"), "{blt}");
    let csv = std::fs::read_to_string(data.join("results/mascot.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 24, "{csv}");
    let checks = out
        .lines()
        .find(|l| l.contains("mix-net shuffles"))
        .expect("the verifier reports the shuffles");
    assert!(checks.trim_start().starts_with("ok"), "{checks}");
    assert!(checks.contains(" 4 passed, 0 failed"), "{checks}");

    // The data directory is kept and the verifier accepts the export again.
    let key = out
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("urna verify ")
                .and_then(|r| r.split_once(" --board-key "))
        })
        .map(|(_, key)| key.to_owned())
        .expect("the demo prints how to re-run the verifier");
    let again = Command::new(env!("CARGO_BIN_EXE_urna"))
        .arg("verify")
        .arg(data.join("board"))
        .args(["--board-key", &key])
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );

    // A second run into the same directory is refused rather than mixing elections.
    let reused = Command::new(env!("CARGO_BIN_EXE_urna"))
        .args(["demo", "--voters", "2", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!reused.status.success());
    assert!(String::from_utf8_lossy(&reused.stderr).contains("already holds an election"));
}

#[test]
fn stv_schulze_irv_and_star_contests_tally_through_the_mixnet_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/club-election-ranked.yaml"
    );
    let out = demo_with(
        &dir.path().join("demo"),
        "12",
        "3",
        &["--manifest", manifest],
    );
    assert!(out.contains("shuffled the 4 mix-net contests'"), "{out}");
    assert!(!out.contains("homomorphic sums"), "{out}");
    for header in ["irv", "scottish-stv", "schulze", "star"] {
        assert!(out.contains(&format!("  | {header} — ")), "{header}: {out}");
    }
    // Three seats on the board: three winners.
    let board = out
        .lines()
        .skip_while(|l| !l.starts_with("Board (three seats"))
        .find(|l| l.starts_with("  result: "))
        .unwrap();
    assert_eq!(board.matches(", ").count(), 2, "{board}");
    assert!(out.contains("the 4 cast-vote records the tally published are, byte for byte"));
    assert!(
        out.trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("verified"),
        "{out}"
    );
}
