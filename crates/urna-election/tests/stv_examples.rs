//! STV worked examples from the literature and hand-checked edge cases.

use urna_election::methods::stv::{meek, scottish, wigm};
use urna_election::{
    Candidate, CandidateId, RankedBallot, RankedProfile, Status, Tabulation, TieBreak, cvr,
};

/// The food election of the STV literature (used by Wikipedia's STV article):
/// 20 voters, 3 seats, Droop quota 6.
fn food() -> RankedProfile {
    let text = "6 3\n4 1 0\n2 2 1 0\n8 3 4 0\n4 3 5 0\n1 4 0\n1 5 0\n0\n\"Oranges\"\n\"Pears\"\n\"Chocolate\"\n\"Strawberries\"\n\"Sweets\"\n\"Hamburgers\"\n\"Food\"\n";
    cvr::blt::read(text).unwrap()
}

fn values(t: &Tabulation, round: usize) -> Vec<String> {
    t.rounds[round]
        .tallies
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn food_election_scottish() {
    let t = scottish::count(&food(), None, &TieBreak::default()).unwrap();
    assert_eq!(t.winner_names(), ["Chocolate", "Oranges", "Strawberries"]);
    assert_eq!(t.quota.unwrap().to_string(), "6.00000");
    // Chocolate's surplus of 6 moves all 12 papers at 6/12 = 0.5.
    assert_eq!(
        values(&t, 1),
        [
            "4.00000", "2.00000", "6.00000", "5.00000", "3.00000", "0.00000"
        ]
    );
    assert_eq!(
        t.rounds[1].transfers[0].transfer_value.unwrap().to_string(),
        "0.50000"
    );
    // Hamburgers (no votes) out, then Pears: Oranges reach the quota exactly.
    assert_eq!(t.rounds[2].eliminated, [CandidateId::new(5)]);
    assert_eq!(t.rounds[3].eliminated, [CandidateId::new(1)]);
    assert_eq!(t.rounds[3].elected, [CandidateId::new(0)]);
    let last = t.final_round().unwrap();
    assert_eq!(last.status[5], Status::Eliminated);
    assert_eq!(last.status[3], Status::Elected);
}

#[test]
fn food_election_wigm_and_meek_agree() {
    let w = wigm::count(&food(), None, &TieBreak::default()).unwrap();
    // With the fractional Droop quota, Chocolate's surplus (7 of 12, value 7/12 =
    // 0.583333333) lifts Strawberries to 1 + 8 × 0.583333333 = 5.666666664.
    assert_eq!(w.winner_names(), ["Chocolate", "Strawberries", "Oranges"]);
    assert_eq!(w.rounds[1].tallies[3].to_string(), "5.666666664");
    // Droop quota 20/4 = 5 plus one unit of the ninth place.
    assert_eq!(w.quota.unwrap().to_string(), "5.000000001");
    let m = meek::count(&food(), None, &TieBreak::default()).unwrap();
    let mut meek_winners = m.winner_names();
    meek_winners.sort_unstable();
    assert_eq!(meek_winners, ["Chocolate", "Oranges", "Strawberries"]);
    assert_eq!(m.quota.unwrap().to_string(), "5.000000000000000000");
}

#[test]
fn scottish_truncates_transfer_values_to_five_places() {
    // A has 7 votes for a quota of 4: surplus 3 over 7 votes gives each paper
    // 3/7 = 0.428571..., truncated to 0.42857; the 7 papers carry 2.99999 to B.
    let profile = RankedProfile::new(
        vec![
            Candidate::new("A"),
            Candidate::new("B"),
            Candidate::new("C"),
        ],
        Some(2),
        None,
        vec![
            RankedBallot::strict(7, &[CandidateId::new(0), CandidateId::new(1)]),
            RankedBallot::strict(2, &[CandidateId::new(2)]),
        ],
    )
    .unwrap();
    let t = scottish::count(&profile, None, &TieBreak::default()).unwrap();
    // 9 voters, 2 seats: quota floor(9/3)+1 = 4.
    assert_eq!(t.quota.unwrap().to_string(), "4.00000");
    assert_eq!(values(&t, 1), ["4.00000", "2.99999", "2.00000"]);
    assert_eq!(t.rounds[1].residual.unwrap().to_string(), "0.00001");
    assert_eq!(t.winner_names(), ["A", "B"]);
}

#[test]
fn withdrawn_candidates_are_skipped() {
    let text = "3 1\n-1\n5 1 2 0\n3 3 0\n0\n\"Gone\"\n\"B\"\n\"C\"\n";
    let profile = cvr::blt::read(text).unwrap();
    for t in [
        scottish::count(&profile, None, &TieBreak::default()).unwrap(),
        wigm::count(&profile, None, &TieBreak::default()).unwrap(),
        meek::count(&profile, None, &TieBreak::default()).unwrap(),
    ] {
        assert_eq!(t.winner_names(), ["B"], "{:?}", t.method);
        assert_eq!(t.rounds[0].status[0], Status::Withdrawn);
        assert!(t.rounds[0].tallies[0].is_zero());
    }
}

#[test]
fn seats_must_be_known() {
    let text = "# DATA TYPE: soi\n# NUMBER ALTERNATIVES: 2\n# ALTERNATIVE NAME 1: a\n# ALTERNATIVE NAME 2: b\n3: 1\n";
    let profile = cvr::preflib::read(text).unwrap();
    assert!(scottish::count(&profile, None, &TieBreak::default()).is_err());
    let t = scottish::count(&profile, Some(1), &TieBreak::default()).unwrap();
    assert_eq!(t.winner_names(), ["a"]);
}

#[test]
fn meek_defeats_certain_losers_in_a_batch() {
    // 2 seats, 35 voters. A is elected at once (quota 35/3 = 11.67). With A's surplus
    // of 2.33, D and E together (2) plus the surplus cannot reach C (9): both are
    // certain losers and go in one batch, in list order; their votes elect B.
    let text =
        "5 2\n14 1 3 0\n10 2 0\n9 3 0\n1 4 2 0\n1 5 2 0\n0\n\"A\"\n\"B\"\n\"C\"\n\"D\"\n\"E\"\n";
    let profile = cvr::blt::read(text).unwrap();
    let t = meek::count(&profile, None, &TieBreak::default()).unwrap();
    assert_eq!(t.winner_names(), ["A", "B"]);
    let defeated: Vec<Vec<CandidateId>> = t.rounds.iter().map(|r| r.eliminated.clone()).collect();
    assert_eq!(defeated[2], [CandidateId::new(3)]);
    assert_eq!(defeated[3], [CandidateId::new(4)]);
    assert!(
        t.rounds[2]
            .notes
            .iter()
            .any(|n| n.contains("certain losers"))
    );
    assert_eq!(
        t.rounds[0].quota.unwrap().to_string(),
        "11.666666666666666667"
    );
    // B's 10 first preferences plus D's and E's next preferences: 12 > quota.
    let b_final = t.final_round().unwrap().tallies[1];
    assert!(
        b_final >= "12.000000000000000000".parse().unwrap(),
        "{b_final}"
    );
}

#[test]
fn meek_refuses_ballots_that_split_too_many_ways() {
    // Six groups of seven tied candidates split one ballot 7^6 = 117,649 ways.
    let n = 42;
    let groups: Vec<Vec<CandidateId>> = (0..6)
        .map(|g| (0..7).map(|i| CandidateId::new(g * 7 + i)).collect())
        .collect();
    let profile = RankedProfile::new(
        (0..n).map(|i| Candidate::new(format!("c{i}"))).collect(),
        Some(2),
        None,
        vec![RankedBallot::new(1, groups)],
    )
    .unwrap();
    let err = meek::count(&profile, None, &TieBreak::default()).unwrap_err();
    assert!(err.to_string().contains("117649 ways"), "{err}");
}
