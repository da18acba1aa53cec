//! Condorcet counts at scale: Schulze and Ranked Pairs over 1,000,000 full rankings of
//! 30 candidates (target for Schulze: under 5 s). Ballots are generated, not timed:
//! each voter ranks all 30 candidates in an order drawn with a bias toward a common
//! "left–right" axis, so the pairwise contests are close but not coin flips.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use urna_election::methods::pairwise::pairwise;
use urna_election::methods::{ranked_pairs, schulze};
use urna_election::{Candidate, CandidateId, RankedBallot, RankedProfile, TieBreak};

/// splitmix64: a fixed generator so every run counts the same ballots.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn generate(candidates: u32, ballots: usize, seed: u64) -> RankedProfile {
    let mut rng = SplitMix(seed);
    let names = (0..candidates)
        .map(|i| Candidate::new(format!("Candidate {i:02}")))
        .collect();
    let mut out = Vec::with_capacity(ballots);
    for _ in 0..ballots {
        // The voter's ideal point on the axis, then each candidate's distance plus noise.
        let ideal = rng.next() % u64::from(candidates) * 1000;
        let mut keyed: Vec<(u64, u32)> = (0..candidates)
            .map(|c| {
                let distance = (u64::from(c) * 1000).abs_diff(ideal);
                (distance + rng.next() % 12_000, c)
            })
            .collect();
        keyed.sort_unstable();
        let order: Vec<CandidateId> = keyed
            .into_iter()
            .map(|(_, c)| CandidateId::new(c))
            .collect();
        out.push(RankedBallot::strict(1, &order));
    }
    RankedProfile::new(names, Some(1), None, out).expect("generated ballots are valid")
}

fn condorcet(c: &mut Criterion) {
    let profile = generate(30, 1_000_000, 2026);
    let tie = TieBreak::default();
    let mut group = c.benchmark_group("condorcet");
    group.sample_size(10);
    group.bench_function("pairwise matrix, 1M ballots x 30", |b| {
        b.iter(|| pairwise(black_box(&profile)));
    });
    group.bench_function("schulze, 1M ballots x 30", |b| {
        b.iter(|| schulze::schulze(black_box(&profile), 1, &tie).expect("counts"));
    });
    group.bench_function("ranked pairs, 1M ballots x 30", |b| {
        b.iter(|| ranked_pairs::ranked_pairs(black_box(&profile), 1, &tie).expect("counts"));
    });
    group.finish();
}

criterion_group!(benches, condorcet);
criterion_main!(benches);
