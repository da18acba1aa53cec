use super::*;
use crate::count::{Rules, tabulate};
use crate::manifest::Manifest;

fn club() -> Manifest {
    Manifest::from_yaml(include_str!("../../../../examples/club-election.yaml")).unwrap()
}

fn ranked() -> Manifest {
    Manifest::from_yaml(include_str!(
        "../../../../examples/club-election-ranked.yaml"
    ))
    .unwrap()
}

#[test]
fn shapes_of_each_kind() {
    let m = club();
    let s = |id: &str| shape(m.contest(id).unwrap());
    assert_eq!(
        s("boathouse"),
        Shape {
            options: 3,
            max_value: 1,
            min_sum: 1,
            max_sum: 1
        }
    );
    assert_eq!(
        s("chair"),
        Shape {
            options: 4,
            max_value: 1,
            min_sum: 1,
            max_sum: 1
        }
    );
    assert_eq!(
        s("committee"),
        Shape {
            options: 5,
            max_value: 1,
            min_sum: 0,
            max_sum: 5
        }
    );
    assert_eq!(
        s("regatta-venue"),
        Shape {
            options: 3,
            max_value: 5,
            min_sum: 0,
            max_sum: 15
        }
    );
    let r = ranked();
    // IRV with 4 options, rank 1 to 4: positions sum 1..=10.
    assert_eq!(
        shape(r.contest("captain").unwrap()),
        Shape {
            options: 4,
            max_value: 4,
            min_sum: 1,
            max_sum: 10
        }
    );
    let borda = Manifest::from_yaml(
        "id: b\ntitle: B\nstart: 2026-01-01T00:00:00Z\nend: 2026-01-02T00:00:00Z\n\
         contests:\n  - {id: c, title: C, method: borda, options: [{id: a, name: A}, \
         {id: b, name: B}, {id: c, name: C}, {id: d, name: D}]}\n",
    )
    .unwrap();
    // Ranking 1 to 4 of 4 options: 3 to 3+2+1+0 = 6 points.
    assert_eq!(
        shape(&borda.contests()[0]),
        Shape {
            options: 4,
            max_value: 3,
            min_sum: 3,
            max_sum: 6
        }
    );
}

#[test]
fn encode_and_decode_round_trip() {
    let m = club();
    let r = ranked();
    let cases = [
        (m.contest("boathouse").unwrap(), Selection::Marks(vec![2])),
        (m.contest("chair").unwrap(), Selection::Marks(vec![1])),
        (
            m.contest("committee").unwrap(),
            Selection::Marks(vec![0, 3, 4]),
        ),
        (m.contest("committee").unwrap(), Selection::Marks(vec![])),
        (
            m.contest("regatta-venue").unwrap(),
            Selection::Scores(vec![5, 0, 3]),
        ),
        (
            r.contest("captain").unwrap(),
            Selection::Ranking(vec![2, 0]),
        ),
        (
            r.contest("mascot").unwrap(),
            Selection::Scores(vec![0, 0, 0, 0]),
        ),
    ];
    for (contest, selection) in cases {
        let v = encode(contest, &selection).unwrap();
        let sh = shape(contest);
        assert_eq!(v.len(), sh.options);
        assert!(v.iter().all(|&x| x <= sh.max_value), "{v:?}");
        let sum: u64 = v.iter().sum();
        assert!((sh.min_sum..=sh.max_sum).contains(&sum), "{v:?} {sh:?}");
        let back = decode(contest, &v).unwrap();
        let sorted = |s: Selection| match s {
            Selection::Marks(mut m) => {
                m.sort_unstable();
                Selection::Marks(m)
            }
            other => other,
        };
        assert_eq!(sorted(back), sorted(selection));
    }
    assert_eq!(
        encode(
            r.contest("captain").unwrap(),
            &Selection::Ranking(vec![2, 0])
        )
        .unwrap(),
        [2, 0, 1, 0]
    );
}

#[test]
fn rule_violations_are_named() {
    let m = club();
    let chair = m.contest("chair").unwrap();
    assert_eq!(
        validate(chair, &Selection::Marks(vec![0, 1])),
        Err(BallotError::Selections {
            count: 2,
            min: 1,
            max: 1
        })
    );
    assert_eq!(
        validate(chair, &Selection::Marks(vec![])),
        Err(BallotError::Selections {
            count: 0,
            min: 1,
            max: 1
        })
    );
    assert_eq!(
        validate(chair, &Selection::Marks(vec![9])),
        Err(BallotError::NoSuchOption(9))
    );
    assert_eq!(
        validate(chair, &Selection::Scores(vec![1, 0, 0, 0])),
        Err(BallotError::WrongKind(Method::Plurality))
    );
    let venue = m.contest("regatta-venue").unwrap();
    assert!(matches!(
        validate(venue, &Selection::Scores(vec![6, 0, 0])),
        Err(BallotError::Score {
            option: 0,
            score: 6,
            ..
        })
    ));
    assert!(matches!(
        validate(venue, &Selection::Scores(vec![1, 2])),
        Err(BallotError::Length { got: 2, options: 3 })
    ));
    let r = ranked();
    let captain = r.contest("captain").unwrap();
    assert_eq!(
        validate(captain, &Selection::Ranking(vec![1, 2, 1])),
        Err(BallotError::Duplicate(1))
    );
    assert!(validate(captain, &Selection::Ranking(vec![])).is_err());
}

#[test]
fn malformed_vectors_are_refused() {
    let m = club();
    let r = ranked();
    let chair = m.contest("chair").unwrap();
    assert!(decode(chair, &[2, 0, 0, 0]).is_err());
    assert!(decode(chair, &[1, 1, 0, 0]).is_err());
    assert!(decode(chair, &[1, 0, 0]).is_err());
    assert!(decode(m.contest("regatta-venue").unwrap(), &[6, 0, 0]).is_err());
    let captain = r.contest("captain").unwrap();
    assert!(decode(captain, &[1, 1, 0, 0]).is_err());
    assert!(decode(captain, &[1, 3, 0, 0]).is_err());
    assert!(decode(captain, &[0, 0, 0, 0]).is_err());
}

#[test]
fn decoded_mixnet_ballots_count() {
    let r = ranked();
    let captain = r.contest("captain").unwrap();
    // 3 voters: grace > ada; 2 voters: ada; 1: alan > grace.
    let mut selections = vec![Selection::Ranking(vec![1, 0]); 3];
    selections.extend(vec![Selection::Ranking(vec![0]); 2]);
    selections.push(Selection::Ranking(vec![2, 1]));
    let ballots = profile(captain, &selections).unwrap();
    let t = tabulate(&ballots, &Rules::for_contest(captain)).unwrap();
    assert_eq!(t.winner_names(), ["Grace Hopper"]);
    let mascot = r.contest("mascot").unwrap();
    let stars = vec![
        Selection::Scores(vec![5, 4, 0, 1]),
        Selection::Scores(vec![0, 5, 1, 1]),
    ];
    let t = tabulate(
        &profile(mascot, &stars).unwrap(),
        &Rules::for_contest(mascot),
    )
    .unwrap();
    assert_eq!(t.winner_names(), ["Otter"]);
    assert!(profile(mascot, &[Selection::Scores(vec![9, 0, 0, 0])]).is_err());
}
