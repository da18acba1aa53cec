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

/// The lines that depend only on the seed (not on timings).
fn results(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.starts_with("  ")).collect()
}

#[test]
fn a_small_election_verifies_and_is_reproducible() {
    let first = demo("24", "7");
    assert!(first.contains("24 credentials blind-signed, 24 ballots encrypted"));
    assert!(first.contains("24 ballots decoded"));
    assert!(first.contains("every proof verified; decrypted totals equal the voters' choices"));
    // 5 + 4 + 3 options, one result line each.
    assert_eq!(results(&first).len(), 12);
    // The chair contest is "choose exactly 1": its totals add up to the voter count.
    let chair: u64 = results(&first)[..5]
        .iter()
        .map(|l| l.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(chair, 24);
    let again = demo("24", "7");
    assert_eq!(results(&first), results(&again));
    let other = demo("24", "8");
    assert_ne!(results(&first), results(&other));
}
