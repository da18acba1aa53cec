//! IRV on the real elections in shared/data and on the literature's examples.

use urna_election::methods::irv;
use urna_election::{
    Candidate, CandidateId, IrvOptions, RankedBallot, RankedProfile, Tabulation, TieBreak, Ties,
    cvr,
};

mod support;
use support::data;

/// Each round's tallies by candidate name (only candidates still counted).
fn rounds(t: &Tabulation) -> Vec<Vec<(String, String)>> {
    t.rounds
        .iter()
        .map(|r| {
            r.tallies
                .iter()
                .zip(&t.candidates)
                .enumerate()
                .filter(|(i, _)| {
                    // Counted this round: not eliminated in an earlier round.
                    !t.rounds
                        .iter()
                        .take_while(|p| p.number < r.number)
                        .any(|p| p.eliminated.contains(&CandidateId::new(*i as u32)))
                })
                .map(|(_, (v, n))| (n.clone(), v.to_string()))
                .collect()
        })
        .collect()
}

fn pairs(raw: &[(&str, u32)]) -> Vec<(String, String)> {
    raw.iter()
        .map(|(n, v)| ((*n).to_owned(), v.to_string()))
        .collect()
}

#[test]
fn burlington_2009_strict_count() {
    let profile = cvr::preflib::read(&data("irv/burlington-2009-mayor.toi")).unwrap();
    assert_eq!(profile.voters(), 8980);
    let t = irv::count(&profile, &TieBreak::default()).unwrap();
    assert_eq!(t.winner_names(), ["Bob Kiss"]);
    let r = rounds(&t);
    // The official first round (the city's report) is reproduced exactly.
    assert_eq!(
        r[0],
        pairs(&[
            ("Bob Kiss", 2585),
            ("Andy Montroll", 2063),
            ("James Simpson", 35),
            ("Dan Smith", 1306),
            ("Kurt Wright", 2951),
            ("Write-In", 36),
        ])
    );
    // Ties in the file are indifference: a ballot waits at a tie until one of the
    // tied candidates is out. This is the data README's strict count.
    assert_eq!(
        r.last().unwrap(),
        &pairs(&[("Bob Kiss", 4314), ("Kurt Wright", 4064)])
    );
    assert_eq!(
        t.final_round().unwrap().exhausted.unwrap().to_string(),
        "602"
    );
    let eliminated: Vec<&str> = t
        .rounds
        .iter()
        .flat_map(|r| &r.eliminated)
        .map(|c| t.candidates[c.index()].as_str())
        .collect();
    assert_eq!(
        eliminated,
        ["James Simpson", "Write-In", "Dan Smith", "Andy Montroll"]
    );
}

#[test]
fn burlington_2009_official_overvote_rule() {
    // Burlington exhausted a ballot at its first overvote for good: that is the
    // official 4,313 to 4,061 with 606 exhausted.
    let profile = cvr::preflib::read(&data("irv/burlington-2009-mayor.toi")).unwrap();
    let options = IrvOptions {
        ties: Ties::Exhaust,
    };
    let t = irv::count_with(&profile, &TieBreak::default(), options).unwrap();
    assert_eq!(t.winner_names(), ["Bob Kiss"]);
    assert_eq!(
        rounds(&t).last().unwrap(),
        &pairs(&[("Bob Kiss", 4313), ("Kurt Wright", 4061)])
    );
    assert_eq!(
        t.final_round().unwrap().exhausted.unwrap().to_string(),
        "606"
    );
}

#[test]
fn aspen_2009() {
    let profile = cvr::preflib::read(&data("irv/aspen-2009-mayor.toi")).unwrap();
    assert_eq!(profile.voters(), 2527);
    let t = irv::count(&profile, &TieBreak::default()).unwrap();
    assert_eq!(t.winner_names(), ["Mick Ireland"]);
    let r = rounds(&t);
    assert_eq!(
        r[0],
        pairs(&[
            ("Marilyn Marks", 876),
            ("Lj Erspamer", 421),
            ("Andrew Kole", 126),
            ("Mick Ireland", 1090),
            ("Write In", 14),
        ])
    );
    assert_eq!(
        r.last().unwrap(),
        &pairs(&[("Marilyn Marks", 1123), ("Mick Ireland", 1301)])
    );
    assert_eq!(t.rounds.len(), 4);
}

fn strict(names: &[&str], ballots: &[(u64, &[usize])]) -> RankedProfile {
    RankedProfile::new(
        names.iter().map(|n| Candidate::new(*n)).collect(),
        Some(1),
        None,
        ballots
            .iter()
            .map(|(count, order)| {
                let ids: Vec<CandidateId> =
                    order.iter().map(|&i| CandidateId::new(i as u32)).collect();
                RankedBallot::strict(*count, &ids)
            })
            .collect(),
    )
    .unwrap()
}

#[test]
fn tennessee_capital() {
    // The classic example: Memphis 42%, Nashville 26%, Chattanooga 15%, Knoxville 17%,
    // each voter ranking by distance. IRV elects Knoxville (the Condorcet winner,
    // Nashville, is eliminated in round 2).
    let profile = strict(
        &["Memphis", "Nashville", "Chattanooga", "Knoxville"],
        &[
            (42, &[0, 1, 2, 3]),
            (26, &[1, 2, 3, 0]),
            (15, &[2, 3, 1, 0]),
            (17, &[3, 2, 1, 0]),
        ],
    );
    let t = irv::count(&profile, &TieBreak::default()).unwrap();
    assert_eq!(t.winner_names(), ["Knoxville"]);
    let r = rounds(&t);
    assert_eq!(
        r[1],
        pairs(&[("Memphis", 42), ("Nashville", 26), ("Knoxville", 32)])
    );
    assert_eq!(r[2], pairs(&[("Memphis", 42), ("Knoxville", 58)]));
}

#[test]
fn ties_for_last_follow_the_tie_break_rule() {
    // A and B tie for last in round 2 but differed in round 1: the previous-rounds rule
    // eliminates B (lower in round 1); a fixed order can eliminate A instead.
    let profile = strict(
        &["A", "B", "C", "D"],
        &[(4, &[0]), (3, &[1]), (1, &[3, 1]), (10, &[2]), (2, &[3, 0])],
    );
    // Round 1: A 4, B 3, C 10, D 3 -> D and B tie at 3; earlier rounds: none; list
    // order: D (listed last) is eliminated. Round 2: A 6, B 4, C 10 -> B out.
    let t = irv::count(&profile, &TieBreak::default()).unwrap();
    let out: Vec<_> = t.rounds.iter().flat_map(|r| r.eliminated.clone()).collect();
    assert_eq!(out, [CandidateId::new(3), CandidateId::new(1)]);
    assert!(t.rounds[0].notes.iter().any(|n| n.contains("tie for last")));
    let fixed = TieBreak::FixedOrder(vec![CandidateId::new(3)]);
    let t = irv::count(&profile, &fixed).unwrap();
    assert_eq!(t.rounds[0].eliminated, [CandidateId::new(1)]);
}
