//! `urna tabulate` on every shared data file prints the reference result.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn data(rel: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel);
    assert!(
        path.exists(),
        "shared data file missing: {}",
        path.display()
    );
    path
}

fn urna(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_urna"))
        .args(args)
        .output()
        .expect("the urna binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tabulate_json(method: &str, file: &Path, extra: &[&str]) -> Value {
    let path = file.to_str().expect("utf-8 path");
    let mut args = vec!["tabulate", "--method", method, "--format", "json"];
    args.extend_from_slice(extra);
    args.push(path);
    let (ok, stdout, stderr) = urna(&args);
    assert!(ok, "urna tabulate failed: {stderr}");
    serde_json::from_str(&stdout).expect("one JSON object")
}

fn winners(v: &Value) -> Vec<String> {
    v["winners"]
        .as_array()
        .expect("winners")
        .iter()
        .map(|w| w.as_str().expect("a name").to_owned())
        .collect()
}

/// The candidates a Droop report elects, in the order it elects them.
fn droop_elected(report: &Path) -> Vec<String> {
    std::fs::read_to_string(report)
        .expect("report readable")
        .lines()
        .filter(|l| l.starts_with("Action: Elect"))
        .filter_map(|l| l.rsplit_once(": ").map(|(_, name)| name.trim().to_owned()))
        .collect()
}

#[test]
fn burlington_irv_elects_kiss_over_wright() {
    let v = tabulate_json("irv", &data("irv/burlington-2009-mayor.toi"), &[]);
    assert_eq!(v["method"], "irv");
    assert_eq!(winners(&v), ["Bob Kiss"]);
    let last = v["rounds"]
        .as_array()
        .expect("rounds")
        .last()
        .expect("a round");
    let names: Vec<&str> = v["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .map(|c| c.as_str().expect("name"))
        .collect();
    let tally = |n: &str| {
        let i = names.iter().position(|c| *c == n).expect("candidate");
        last["tallies"][i]
            .as_str()
            .expect("decimal string")
            .to_owned()
    };
    assert_eq!(
        (tally("Bob Kiss"), tally("Kurt Wright")),
        ("4314".into(), "4064".into())
    );
}

#[test]
fn burlington_condorcet_winner_is_montroll() {
    for method in ["schulze", "ranked-pairs"] {
        let v = tabulate_json(method, &data("irv/burlington-2009-mayor.toi"), &[]);
        assert_eq!(winners(&v), ["Andy Montroll"], "{method}");
        assert!(
            v["pairwise"]["preferred"].is_array(),
            "{method} reports the matrix"
        );
    }
}

#[test]
fn aspen_irv_elects_ireland() {
    let v = tabulate_json("irv", &data("irv/aspen-2009-mayor.toi"), &[]);
    assert_eq!(winners(&v), ["Mick Ireland"]);
}

#[test]
fn glasgow_wards_elect_the_droop_reference_set() {
    let dir = data("stv/scotland");
    let mut wards = 0;
    for entry in std::fs::read_dir(&dir).expect("data dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "blt") {
            let report = path.with_extension("droop-report.txt");
            let v = tabulate_json("scottish-stv", &path, &[]);
            // Droop collapses runs of spaces in the BLT's names.
            let tidy = |n: &String| n.split_whitespace().collect::<Vec<_>>().join(" ");
            let mut got: Vec<String> = winners(&v).iter().map(tidy).collect();
            let mut want: Vec<String> = droop_elected(&report).iter().map(tidy).collect();
            assert!(!want.is_empty(), "{}", report.display());
            got.sort();
            want.sort();
            assert_eq!(got, want, "{}", path.display());
            wards += 1;
        }
    }
    assert_eq!(wards, 6);
}

#[test]
fn meek_cases_elect_the_droop_reference_set() {
    for case in ["eq1", "eq2"] {
        let v = tabulate_json("meek-stv", &data(&format!("stv/meek/{case}.blt")), &[]);
        let mut got = winners(&v);
        let mut want = droop_elected(&data(&format!("stv/meek/{case}.droop-report.txt")));
        got.sort();
        want.sort();
        assert_eq!(got, want, "{case}");
    }
}

#[test]
fn text_report_and_svg_chart() {
    let svg = std::env::temp_dir().join(format!("urna-tabulate-{}.svg", std::process::id()));
    let file = data("irv/aspen-2009-mayor.toi");
    let (ok, stdout, stderr) = urna(&[
        "tabulate",
        "--method",
        "irv",
        "--svg",
        svg.to_str().expect("utf-8"),
        file.to_str().expect("utf-8"),
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("Round 1"), "{stdout}");
    assert!(
        stdout.trim_end().ends_with("Winner: Mick Ireland"),
        "{stdout}"
    );
    let chart = std::fs::read_to_string(&svg).expect("chart written");
    std::fs::remove_file(&svg).expect("temp file removed");
    assert!(chart.starts_with("<svg"));
    assert!(chart.contains("★ elected") && chart.contains("✗ out"));
    assert!(chart.contains("Mick Ireland"));
}

#[test]
fn star_csv_and_bad_input() {
    let csv = std::env::temp_dir().join(format!("urna-star-{}.csv", std::process::id()));
    std::fs::write(
        &csv,
        "Voter,Skyler,Jesse,Gus\n1,0,5,4\n2,1,2,5\n3,1,1,1\n4,0,2,0\n5,5,3,0\n",
    )
    .expect("temp file");
    let v = tabulate_json("star", &csv, &[]);
    // Scores: Skyler 7, Jesse 13, Gus 10; runoff Jesse 3, Gus 1 (one no preference).
    assert_eq!(winners(&v), ["Jesse"]);
    assert_eq!(v["rounds"][1]["tallies"][1], "3");
    // Ranked methods read score ballots as rankings (equal scores tie).
    let v = tabulate_json("schulze", &csv, &[]);
    assert_eq!(winners(&v), ["Jesse"]);
    std::fs::remove_file(&csv).expect("temp file removed");
    let aspen = data("irv/aspen-2009-mayor.toi");
    let (ok, _, stderr) = urna(&[
        "tabulate",
        "--method",
        "star",
        aspen.to_str().expect("utf-8"),
    ]);
    assert!(!ok && stderr.contains("score ballots"), "{stderr}");
    let (ok, _, stderr) = urna(&["tabulate", "--method", "stv", "x.blt"]);
    assert!(
        !ok && stderr.contains("unknown counting method"),
        "{stderr}"
    );
}

#[test]
fn tie_break_options_decide_ties() {
    // Ann and Bob tie on score, head-to-head and five-star ratings.
    let csv = std::env::temp_dir().join(format!("urna-tie-{}.csv", std::process::id()));
    std::fs::write(&csv, "Voter,Ann,Bob\n1,5,0\n2,0,5\n").expect("temp file");
    let first = |extra: &[&str]| winners(&tabulate_json("star", &csv, extra));
    assert_eq!(first(&[]), ["Ann"]);
    assert_eq!(
        first(&["--tie-break", "fixed-order", "--order", "Bob,Ann"]),
        ["Bob"]
    );
    let seeded = first(&["--tie-break", "random", "--seed", "2026-03-09 lottery"]);
    assert_eq!(
        seeded,
        first(&["--tie-break", "random", "--seed", "2026-03-09 lottery"])
    );
    let path = csv.to_str().expect("utf-8");
    let (ok, _, stderr) = urna(&[
        "tabulate",
        "--method",
        "star",
        "--tie-break",
        "random",
        path,
    ]);
    assert!(!ok && stderr.contains("--seed"), "{stderr}");
    let (ok, _, stderr) = urna(&[
        "tabulate",
        "--method",
        "star",
        "--tie-break",
        "fixed-order",
        "--order",
        "Zed",
        path,
    ]);
    assert!(!ok && stderr.contains("Zed"), "{stderr}");
    std::fs::remove_file(&csv).expect("temp file removed");
}
