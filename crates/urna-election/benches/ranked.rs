//! Ranked counts at scale: IRV over 1,000,000 ballots with 10 candidates, Scottish STV
//! over 100,000 ballots with 12 candidates for 4 seats (targets: under 2 s each), and
//! Meek STV over 10,000 ballots for scale. Ballots are generated, not timed: each
//! voter ranks a random number of candidates, drawn without replacement with weights
//! that give the candidates realistic, unequal support.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use urna_election::methods::irv;
use urna_election::methods::stv::{meek, scottish};
use urna_election::{Candidate, CandidateId, RankedBallot, RankedProfile, TieBreak};

/// xorshift64*: a fixed, dependency-free generator so every run counts the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn generate(candidates: usize, ballots: usize, seats: u32, seed: u64) -> RankedProfile {
    let mut rng = Rng(seed);
    let support: Vec<u64> = (0..candidates as u64).map(|i| 10 + (i * 37) % 90).collect();
    let mut out = Vec::with_capacity(ballots);
    for _ in 0..ballots {
        let len = 1 + rng.below(candidates as u64) as usize;
        let mut left: Vec<usize> = (0..candidates).collect();
        let mut order = Vec::with_capacity(len);
        for _ in 0..len {
            let total: u64 = left.iter().map(|&c| support[c]).sum();
            let mut pick = rng.below(total);
            let mut at = 0;
            while pick >= support[left[at]] {
                pick -= support[left[at]];
                at += 1;
            }
            order.push(CandidateId::new(left.swap_remove(at) as u32));
        }
        out.push(RankedBallot::strict(1, &order));
    }
    let names = (0..candidates)
        .map(|i| Candidate::new(format!("Candidate {}", i + 1)))
        .collect();
    RankedProfile::new(names, Some(seats), None, out).expect("generated ballots are valid")
}

fn ranked(c: &mut Criterion) {
    let mut group = c.benchmark_group("ranked");
    group.sample_size(10);

    let irv_profile = generate(10, 1_000_000, 1, 0x1234_5678_9abc_def1);
    group.bench_function("irv_1m_ballots_10_candidates", |b| {
        b.iter(|| irv::count(black_box(&irv_profile), &TieBreak::default()).expect("counts"))
    });
    drop(irv_profile);

    let stv_profile = generate(12, 100_000, 4, 0x0fed_cba9_8765_4321);
    group.bench_function("scottish_stv_100k_ballots_12_candidates_4_seats", |b| {
        b.iter(|| {
            scottish::count(black_box(&stv_profile), None, &TieBreak::default()).expect("counts")
        })
    });

    let meek_profile = generate(12, 10_000, 4, 0x5555_aaaa_5555_aaaa);
    group.bench_function("meek_stv_10k_ballots_12_candidates_4_seats", |b| {
        b.iter(|| {
            meek::count(black_box(&meek_profile), None, &TieBreak::default()).expect("counts")
        })
    });
    group.finish();
}

criterion_group!(benches, ranked);
criterion_main!(benches);
