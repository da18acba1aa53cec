//! Choices are checked against the contests' rules and encoded as the option vectors
//! of docs/protocol.md §3.4; a Benaloh opening must reproduce the ballot.

use urna_election::{Manifest, StyleDocument};

use super::fixture::Fixture;
use crate::choice::selections;
use crate::{Choice, ChoiceError, Choices, Error, VerifyFailure};

fn marks(ids: &[&str]) -> Choice {
    Choice::Marks(ids.iter().map(|s| (*s).to_owned()).collect())
}

fn choose(f: &mut Fixture, choices: &[(&str, Choice)]) -> Result<Vec<Vec<u64>>, ChoiceError> {
    let style = f.style();
    let choices: Choices = choices
        .iter()
        .map(|(id, c)| ((*id).to_owned(), c.clone()))
        .collect();
    selections(style.contests(), &style.layout().unwrap(), &choices)
}

#[test]
fn valid_choices_become_option_vectors_in_ballot_order() {
    let mut f = Fixture::new();
    let vectors = choose(
        &mut f,
        &[
            ("boathouse", marks(&["no"])),
            ("chair", marks(&["alan"])),
            ("committee", marks(&["radia", "barbara"])),
            (
                "regatta-venue",
                Choice::Scores(vec![("river".into(), 5), ("lake".into(), 2)]),
            ),
        ],
    )
    .unwrap();
    assert_eq!(
        vectors,
        vec![
            vec![0, 1, 0],
            vec![0, 0, 1, 0],
            vec![1, 0, 0, 0, 1],
            vec![2, 5, 0],
        ]
    );
}

#[test]
fn choices_that_break_the_rules_are_refused() {
    let mut f = Fixture::new();
    let chair = |c: Choice| vec![("chair", c)];
    let cases = [
        (
            chair(marks(&["ada", "grace"])),
            ChoiceError::Count {
                contest: "chair".into(),
                count: 2,
                min: 1,
                max: 1,
            },
        ),
        (
            chair(marks(&["nobody"])),
            ChoiceError::UnknownOption {
                contest: "chair".into(),
                option: "nobody".into(),
            },
        ),
        (
            vec![("committee", marks(&["john", "john"]))],
            ChoiceError::Duplicate {
                contest: "committee".into(),
                option: "john".into(),
            },
        ),
        (
            chair(Choice::Scores(vec![("ada".into(), 1)])),
            ChoiceError::WrongKind("chair".into()),
        ),
        (
            vec![("regatta-venue", Choice::Scores(vec![("lake".into(), 6)]))],
            ChoiceError::Score {
                contest: "regatta-venue".into(),
                score: 6,
                min: 0,
                max: 5,
            },
        ),
        (
            vec![("treasurer", marks(&["ada"]))],
            ChoiceError::UnknownContest("treasurer".into()),
        ),
    ];
    for (choices, expected) in cases {
        let mut all = vec![("chair", marks(&["ada"])), ("boathouse", marks(&["yes"]))];
        all.retain(|(id, _)| !choices.iter().any(|(c, _)| c == id));
        all.extend(choices);
        assert_eq!(choose(&mut f, &all).unwrap_err(), expected);
    }
    // Plurality needs one mark: leaving the contest out is refused.
    assert_eq!(
        choose(&mut f, &[("boathouse", marks(&["yes"]))]).unwrap_err(),
        ChoiceError::Count {
            contest: "chair".into(),
            count: 0,
            min: 1,
            max: 1,
        }
    );
}

#[test]
fn borda_rankings_become_points() {
    let yaml = "id: b\ntitle: B\nstart: 2026-03-01T09:00:00Z\nend: 2026-03-08T18:00:00Z\n\
        contests:\n  - id: pick\n    title: Pick\n    method: borda\n    options:\n\
        \x20     - { id: a, name: A }\n      - { id: b, name: B }\n      - { id: c, name: C }\n\
        ballot_styles:\n  - { id: all, title: All, contests: [pick] }\n";
    let manifest = Manifest::from_yaml(yaml).unwrap();
    let document = StyleDocument::from_manifest(&manifest, "all", [0; 32]).unwrap();
    let layout = document.layout().unwrap();
    let rank = |ids: &[&str]| {
        let choices: Choices = [(
            "pick".to_owned(),
            Choice::Ranking(ids.iter().map(|s| (*s).to_owned()).collect()),
        )]
        .into();
        selections(&document.contests, &layout, &choices)
    };
    assert_eq!(rank(&["c", "a", "b"]).unwrap(), vec![vec![1, 0, 2]]);
    assert!(matches!(
        rank(&["c", "c"]).unwrap_err(),
        ChoiceError::Duplicate { .. }
    ));
}

#[test]
fn mixnet_rankings_become_positions_and_encrypt_with_ranking_proofs() {
    let yaml = include_str!("../../../../examples/club-election-ranked.yaml");
    let manifest = Manifest::from_yaml(yaml).unwrap();
    let style = manifest.ballot_styles()[0].id().to_owned();
    let document = StyleDocument::from_manifest(&manifest, &style, [0; 32]).unwrap();
    let layout = document.layout().unwrap();
    let ranked = |ids: &[&str]| Choice::Ranking(ids.iter().map(|s| (*s).to_owned()).collect());
    let choose = |captain: Choice| {
        let choices: Choices = [
            ("captain".to_owned(), captain),
            ("board".to_owned(), ranked(&["ken", "radia"])),
            ("steering".to_owned(), ranked(&["alan"])),
            (
                "mascot".to_owned(),
                Choice::Scores(vec![("otter".to_owned(), 5), ("swan".to_owned(), 2)]),
            ),
        ]
        .into();
        selections(&document.contests, &layout, &choices)
    };
    let vectors = choose(ranked(&["grace", "edsger", "ada"])).unwrap();
    assert_eq!(
        vectors[0],
        vec![3, 1, 0, 2],
        "captain: positions per option"
    );
    assert_eq!(vectors[1], vec![0, 0, 0, 0, 2, 1], "board");
    assert_eq!(vectors[2], vec![0, 0, 1, 0], "steering");
    assert_eq!(vectors[3], vec![0, 5, 0, 2], "mascot: scores");
    // The captain contest needs at least one ranked option.
    assert!(matches!(
        choose(ranked(&[])).unwrap_err(),
        ChoiceError::Count { .. }
    ));
    assert!(matches!(
        choose(ranked(&["ada", "ada"])).unwrap_err(),
        ChoiceError::Duplicate { .. }
    ));
    // The ranked contests get ranking shapes; the STAR contest an option shape.
    let shapes: Vec<bool> = layout
        .contests()
        .iter()
        .map(|(_, shape)| shape.ranking().is_some())
        .collect();
    assert_eq!(shapes, vec![true, true, true, false]);
}

#[test]
fn an_opening_reveals_only_what_reproduces_the_ballot() {
    let mut f = Fixture::new();
    let style = f.style();
    let credential = f.credential();
    let choices: Choices = [
        ("chair".to_owned(), marks(&["edsger"])),
        ("boathouse".to_owned(), marks(&["abstain"])),
    ]
    .into();
    style.validate(&choices).unwrap();
    let (ballot, opening) = style.encrypt(&credential, &choices).unwrap();
    let revealed = style.reveal(&ballot, &opening).unwrap();
    assert_eq!(revealed.len(), 4);
    assert_eq!(revealed[1].contest_id, "chair");
    assert_eq!(revealed[1].values, vec![0, 0, 0, 1]);
    let (other, other_opening) = style.encrypt(&credential, &choices).unwrap();
    assert_ne!(other.to_bytes(), ballot.to_bytes());
    assert_eq!(
        style.reveal(&ballot, &other_opening).unwrap_err(),
        VerifyFailure::Opening
    );
    assert!(style.reveal(&other, &other_opening).is_ok());
}

#[test]
fn a_credential_round_trips_and_binds_its_style() {
    let mut f = Fixture::new();
    let style = f.style();
    let credential = f.credential();
    let restored = crate::VoterCredential::from_bytes(&credential.to_bytes()).unwrap();
    assert_eq!(restored.credential(), credential.credential());
    assert_eq!(restored.style(), "members");
    assert!(!format!("{restored:?}").contains("secret"));
    let choices: Choices = [("chair".to_owned(), marks(&["ada"]))].into();
    assert!(matches!(
        style.validate(&choices),
        Err(Error::Choice(ChoiceError::Count { .. }))
    ));
    let mut bytes = credential.to_bytes().to_vec();
    bytes.pop();
    assert!(matches!(
        crate::VoterCredential::from_bytes(&bytes),
        Err(Error::Config(_))
    ));
    let mut other = restored;
    other.style = "juniors".into();
    assert!(matches!(
        style.encrypt(&other, &choices),
        Err(Error::Config(_))
    ));
}
