//! `urna demo` end to end, small: the services, three trustee processes, the voters
//! through the SDK, the tally with one trustee absent, and the verifier on the export.
//! The command must finish with "verified", with published totals equal to the voters'
//! choices, and leave a data directory the verifier accepts again.

use std::path::Path;
use std::process::Command;

fn demo(data: &Path, voters: &str, seed: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_urna"))
        .args(["demo", "--voters", voters, "--seed", seed, "--data"])
        .arg(data)
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
        out.contains("the published totals equal the voters' choices in every contest"),
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
    // examples/club-election.yaml: 3 + 4 + 5 + 3 options, and one result per contest.
    let totals = totals(&out);
    assert_eq!(totals.len(), 15, "{out}");
    assert_eq!(out.matches("  result: ").count(), 4, "{out}");
    // The chair is on every ballot and "choose exactly 1": its totals add up to 24.
    assert_eq!(totals[3..7].iter().sum::<u64>(), 24, "{out}");

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
