//! Properties of the ranked counts: majority winners, order independence, determinism,
//! and file round trips.

use proptest::prelude::*;
use urna_election::methods::irv;
use urna_election::methods::stv::{meek, scottish, wigm};
use urna_election::{
    Candidate, CandidateId, IrvOptions, RankedBallot, RankedProfile, Tabulation, TieBreak, Ties,
    cvr,
};

const NAMES: [&str; 6] = ["Ada", "Bo", "Cy", "Di", "Ed", "Fay"];

/// A ballot: a count and a ranking given as a permutation prefix with optional ties.
fn ballot(n: usize) -> impl Strategy<Value = RankedBallot> {
    (
        1u64..20,
        Just((0..n as u32).collect::<Vec<u32>>()).prop_shuffle(),
        1..=n,
        proptest::collection::vec(any::<bool>(), n),
    )
        .prop_map(|(count, order, len, tie)| {
            let mut groups: Vec<Vec<CandidateId>> = Vec::new();
            for (i, &c) in order.iter().take(len).enumerate() {
                match groups.last_mut() {
                    Some(g) if tie[i] => g.push(CandidateId::new(c)),
                    _ => groups.push(vec![CandidateId::new(c)]),
                }
            }
            RankedBallot::new(count, groups)
        })
}

fn profile(strict: bool) -> impl Strategy<Value = RankedProfile> {
    (3usize..=6, 1u32..=3)
        .prop_flat_map(move |(n, seats)| {
            (
                Just(n),
                Just(seats.min(n as u32 - 1)),
                proptest::collection::vec(ballot(n), 1..40),
            )
        })
        .prop_map(move |(n, seats, ballots)| {
            let ballots = if strict {
                ballots
                    .into_iter()
                    .map(|b| {
                        let flat: Vec<CandidateId> =
                            b.ranking().iter().flatten().copied().collect();
                        RankedBallot::strict(b.count(), &flat)
                    })
                    .collect()
            } else {
                ballots
            };
            RankedProfile::new(
                NAMES[..n].iter().map(|s| Candidate::new(*s)).collect(),
                Some(seats),
                None,
                ballots,
            )
            .unwrap()
        })
}

fn all_counts(p: &RankedProfile, tie: &TieBreak) -> Vec<Tabulation> {
    vec![
        irv::count(p, tie).unwrap(),
        irv::count_with(
            p,
            tie,
            IrvOptions {
                ties: Ties::Exhaust,
            },
        )
        .unwrap(),
        scottish::count(p, None, tie).unwrap(),
        wigm::count(p, None, tie).unwrap(),
        meek::count(p, None, tie).unwrap(),
    ]
}

fn reordered(p: &RankedProfile, keys: &[u64]) -> RankedProfile {
    let mut ballots: Vec<(u64, RankedBallot)> = p
        .ballots()
        .iter()
        .cloned()
        .zip(keys.iter().copied().chain(std::iter::repeat(0)))
        .map(|(b, k)| (k, b))
        .collect();
    ballots.sort_by_key(|(k, _)| *k);
    RankedProfile::new(
        p.candidates().to_vec(),
        p.seats(),
        None,
        ballots.into_iter().map(|(_, b)| b).collect(),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn majority_of_first_preferences_wins_irv(
        p in profile(false),
        who in 0usize..6,
        extra in 1u64..10,
    ) {
        let n = p.candidates().len();
        let winner = CandidateId::new((who % n) as u32);
        // Give `winner` a strict majority of first preferences.
        let others = p.voters();
        let mut ballots = p.ballots().to_vec();
        ballots.push(RankedBallot::strict(others + extra, &[winner]));
        let q = RankedProfile::new(p.candidates().to_vec(), None, None, ballots).unwrap();
        for ties in [Ties::Suspend, Ties::Exhaust] {
            let t = irv::count_with(&q, &TieBreak::default(), IrvOptions { ties }).unwrap();
            prop_assert_eq!(&t.winners, &vec![winner]);
            prop_assert_eq!(t.rounds.len(), 1);
        }
    }

    #[test]
    fn ballot_order_never_changes_a_result(
        p in profile(false),
        keys in proptest::collection::vec(any::<u64>(), 40),
        seed in "[a-z]{1,8}",
    ) {
        let q = reordered(&p, &keys);
        for tie in [TieBreak::default(), TieBreak::Random { seed }] {
            prop_assert_eq!(all_counts(&p, &tie), all_counts(&q, &tie));
        }
    }

    #[test]
    fn counts_are_deterministic_for_a_seed(p in profile(false), seed in "[a-z0-9]{1,12}") {
        let tie = TieBreak::Random { seed };
        prop_assert_eq!(all_counts(&p, &tie), all_counts(&p, &tie));
    }

    #[test]
    fn stv_elects_the_seats(p in profile(true)) {
        let seats = p.seats().unwrap() as usize;
        for t in all_counts(&p, &TieBreak::default()).into_iter().skip(2) {
            let mut w = t.winners.clone();
            w.sort();
            w.dedup();
            prop_assert_eq!(w.len(), seats, "{:?}", t.method);
        }
    }

    #[test]
    fn files_round_trip(p in profile(false)) {
        let blt = cvr::blt::read(&cvr::blt::write(&p).unwrap()).unwrap();
        prop_assert_eq!(&blt, &p);
        let preflib = cvr::preflib::read(&cvr::preflib::write(&p).unwrap()).unwrap();
        // PrefLib merges identical orders; the counts are unchanged.
        prop_assert_eq!(preflib.voters(), p.voters());
        prop_assert_eq!(
            scottish::count(&preflib, p.seats(), &TieBreak::default()).unwrap().winners,
            scottish::count(&p, None, &TieBreak::default()).unwrap().winners
        );
    }
}
