//! `urna demo` end to end, small: the command must run a whole election, verify every
//! proof and find the decrypted totals equal to the voters' choices.

use std::process::Command;

fn demo(voters: &str, seed: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_urna"))
        .args(["demo", "--voters", voters, "--seed", seed, "--batch", "8"])
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

/// The lines that depend only on the seed (not on timings): per-option totals (indented
/// four spaces) and each contest's result.
fn results(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.starts_with("  ")).collect()
}

fn totals(stdout: &str) -> Vec<u64> {
    stdout
        .lines()
        .filter(|l| l.starts_with("    "))
        .map(|l| {
            l.split_whitespace()
                .rev()
                .find_map(|w| w.parse().ok())
                .unwrap()
        })
        .collect()
}

#[test]
fn a_small_election_verifies_and_is_reproducible() {
    let first = demo("24", "7");
    assert!(first.contains("24 credentials blind-signed, 24 ballots encrypted"));
    assert!(first.contains("24 ballots decoded"));
    assert!(first.contains("every proof verified; decrypted totals equal the voters' choices"));
    assert!(first.contains("election club-agm-2026 fingerprint"));
    // examples/club-election.yaml: 3 + 4 + 5 + 3 options, and one result per contest.
    let totals = totals(&first);
    assert_eq!(totals.len(), 15);
    assert_eq!(first.matches("  result: ").count(), 4);
    // The chair is on every ballot and "choose exactly 1": its totals add up to 24.
    assert_eq!(totals[3..7].iter().sum::<u64>(), 24);
    // The referendum is on the members' ballots only, one mark each.
    let members: u64 = totals[..3].iter().sum();
    assert!(members > 0 && members < 24, "{members}");
    let again = demo("24", "7");
    assert_eq!(results(&first), results(&again));
    let other = demo("24", "8");
    assert_ne!(results(&first), results(&other));
}
