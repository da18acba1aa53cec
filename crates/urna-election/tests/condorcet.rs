//! Condorcet methods on real ballots, and properties every method here must keep.

use proptest::prelude::*;
use urna_election::cvr::read_ranked;
use urna_election::methods::pairwise::{condorcet_winner, pairwise};
use urna_election::{
    Ballots, Candidate, CandidateId, Method, RankedBallot, RankedProfile, Rules, ScoredBallot,
    ScoredProfile, TieBreak, tabulate,
};

mod support;
use support::data;

fn burlington() -> RankedProfile {
    read_ranked(&data("irv/burlington-2009-mayor.toi")).expect("Burlington parses")
}

#[test]
fn burlington_condorcet_winner_montroll_wins_schulze_and_ranked_pairs() {
    let profile = burlington();
    let montroll = profile.find("Andy Montroll").expect("Montroll stands");
    let matrix = pairwise(&profile);
    assert_eq!(condorcet_winner(&matrix), Some(montroll.index()));
    // Montroll beats Kiss 4,067 to 3,477 and Wright 4,597 to 3,668 head to head.
    let kiss = profile.find("Bob Kiss").expect("Kiss stands").index();
    let wright = profile.find("Kurt Wright").expect("Wright stands").index();
    let m = montroll.index();
    assert_eq!(
        (matrix.preferred[m][kiss], matrix.preferred[kiss][m]),
        (4067, 3477)
    );
    assert_eq!(
        (matrix.preferred[m][wright], matrix.preferred[wright][m]),
        (4597, 3668)
    );
    let ballots = Ballots::Ranked(profile);
    for method in [Method::Schulze, Method::RankedPairs] {
        let t = tabulate(&ballots, &Rules::new(method)).expect("counts");
        assert_eq!(t.winner_names(), ["Andy Montroll"], "{method}");
        assert_eq!(t.pairwise.as_ref(), Some(&matrix));
    }
}

/// Random strict or truncated rankings over `n` candidates.
fn profile_strategy() -> impl Strategy<Value = RankedProfile> {
    (3usize..6).prop_flat_map(|n| {
        let ballot = (
            Just(n),
            1u64..4,
            Just(()).prop_perturb(move |(), mut rng| {
                let mut order: Vec<u32> = (0..n as u32).collect();
                for i in (1..order.len()).rev() {
                    order.swap(i, rng.random_range(0..=i));
                }
                let keep = rng.random_range(1..=n);
                order.truncate(keep);
                order
            }),
        );
        prop::collection::vec(ballot, 1..30).prop_map(move |rows| {
            let cands = (0..n).map(|i| Candidate::new(format!("C{i}"))).collect();
            let ballots = rows
                .into_iter()
                .map(|(_, count, order)| {
                    let ids: Vec<CandidateId> = order.into_iter().map(CandidateId::new).collect();
                    RankedBallot::strict(count, &ids)
                })
                .collect();
            RankedProfile::new(cands, Some(1), None, ballots).expect("valid profile")
        })
    })
}

/// The same ballots in an order drawn from `seed` (Fisher–Yates over splitmix64).
fn shuffled(profile: &RankedProfile, mut seed: u64) -> RankedProfile {
    let mut ballots = profile.ballots().to_vec();
    for i in (1..ballots.len()).rev() {
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ballots.swap(i, (z % (i as u64 + 1)) as usize);
    }
    RankedProfile::new(
        profile.candidates().to_vec(),
        profile.seats(),
        None,
        ballots,
    )
    .expect("same ballots")
}

const MINE: [Method; 5] = [
    Method::Plurality,
    Method::Approval,
    Method::Borda,
    Method::Schulze,
    Method::RankedPairs,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_condorcet_winner_wins_schulze_and_ranked_pairs(profile in profile_strategy()) {
        let matrix = pairwise(&profile);
        if let Some(w) = condorcet_winner(&matrix) {
            let ballots = Ballots::Ranked(profile);
            for method in [Method::Schulze, Method::RankedPairs] {
                let t = tabulate(&ballots, &Rules::new(method)).unwrap();
                prop_assert_eq!(t.winners[0].index(), w, "{}", method);
            }
        }
    }

    #[test]
    fn ballot_order_never_changes_a_result(
        profile in profile_strategy(),
        seed in "[a-z]{1,8}",
        order in any::<u64>(),
    ) {
        let forward = Ballots::Ranked(profile.clone());
        let backward = Ballots::Ranked(shuffled(&profile, order));
        for method in MINE {
            for tie in [TieBreak::default(), TieBreak::Random { seed: seed.clone() }] {
                let rules = Rules { tie_break: tie, ..Rules::new(method) };
                let a = tabulate(&forward, &rules).unwrap();
                let b = tabulate(&backward, &rules).unwrap();
                prop_assert_eq!(&a.winners, &b.winners, "{}", method);
                prop_assert_eq!(&a.rounds, &b.rounds, "{}", method);
            }
        }
    }

    #[test]
    fn a_seed_fixes_the_result(profile in profile_strategy(), seed in "[a-z0-9]{1,12}") {
        let ballots = Ballots::Ranked(profile);
        for method in MINE {
            let rules = Rules {
                seats: Some(2),
                tie_break: TieBreak::Random { seed: seed.clone() },
                ..Rules::new(method)
            };
            let a = tabulate(&ballots, &rules).unwrap();
            let b = tabulate(&ballots, &rules).unwrap();
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn star_ignores_ballot_order_and_is_seed_deterministic(
        rows in prop::collection::vec((1u64..3, prop::collection::vec(0u32..=5, 4)), 1..25),
        seed in "[a-z]{1,6}",
        order in any::<u64>(),
    ) {
        let cands: Vec<Candidate> = ["A", "B", "C", "D"].map(Candidate::new).into();
        let make = |rows: &[(u64, Vec<u32>)]| {
            let ballots = rows.iter().map(|(c, s)| ScoredBallot::new(*c, s.clone())).collect();
            Ballots::Scored(ScoredProfile::new(cands.clone(), 5, None, ballots).unwrap())
        };
        let mut back = rows.clone();
        let mut state = order | 1;
        for i in (1..back.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            back.swap(i, (state % (i as u64 + 1)) as usize);
        }
        for method in [Method::Star, Method::Score] {
            let rules = Rules { tie_break: TieBreak::Random { seed: seed.clone() }, ..Rules::new(method) };
            let a = tabulate(&make(&rows), &rules).unwrap();
            let b = tabulate(&make(&back), &rules).unwrap();
            prop_assert_eq!(&a, &b);
        }
    }
}
