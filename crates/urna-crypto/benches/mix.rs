//! Benchmarks of the mix-net: a shuffle with its Terelius–Wikström proof, and the
//! proof's verification, for rows of 5 ciphertexts (a 5-candidate ranking or a
//! 5-candidate STAR ballot). Issue 8's target is 10,000 such rows shuffled and proved in
//! under 30 s on one core, and verified in at most 1.5x the proving time.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use urna_crypto::{
    ContestShape, Context, EncryptedContest, EncryptionKey, MixBallots, SecretKey, ShuffleProof,
    shuffle,
};

const WIDTH: usize = 5;

fn rows(key: &EncryptionKey, count: usize, rng: &mut ChaCha20Rng) -> MixBallots {
    let ciphertexts = (0..count * WIDTH)
        .map(|n| key.encrypt((n % WIDTH) as u64, rng).0)
        .collect();
    MixBallots::new(WIDTH, ciphertexts).unwrap()
}

fn mix(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let key = EncryptionKey::new(SecretKey::random(&mut rng).public_key());
    let context = Context::shuffle(&[1; 32], "ranked", 0);
    let mut group = c.benchmark_group("mix rows of 5");
    group.sample_size(10);
    for count in [1_000usize, 10_000] {
        let input = rows(&key, count, &mut rng);
        group.throughput(Throughput::Elements(count as u64));
        group.bench_with_input(
            BenchmarkId::new("shuffle + prove", count),
            &input,
            |b, input| {
                b.iter(|| {
                    let (output, witness) = shuffle(&key, input, &mut rng);
                    ShuffleProof::prove(&key, input, &output, &witness, &context, &mut rng).unwrap()
                })
            },
        );
        let (output, witness) = shuffle(&key, &input, &mut rng);
        let proof =
            ShuffleProof::prove(&key, &input, &output, &witness, &context, &mut rng).unwrap();
        group.bench_with_input(BenchmarkId::new("verify", count), &input, |b, input| {
            b.iter(|| {
                proof
                    .verify(key.public_key(), input, &output, &context)
                    .unwrap()
            })
        });
    }
    group.finish();
}

/// A voter's side and casting's side of a ranked contest of 5 options, 3 ranked.
fn ranking(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let key = EncryptionKey::new(SecretKey::random(&mut rng).public_key());
    let shape = ContestShape::ranked(5, 1, 5).unwrap();
    let context = Context::ballot(&[1; 32], "ranked", &[2; 32]);
    let positions = [2, 0, 1, 3, 0];
    c.bench_function("ranking of 5: encrypt + prove", |b| {
        b.iter(|| EncryptedContest::encrypt(&key, &shape, &positions, &context, &mut rng).unwrap())
    });
    let (ranking, _) =
        EncryptedContest::encrypt(&key, &shape, &positions, &context, &mut rng).unwrap();
    c.bench_function("ranking of 5: verify", |b| {
        b.iter(|| ranking.verify(key.public_key(), &shape, &context).unwrap())
    });
}

criterion_group!(benches, mix, ranking);
criterion_main!(benches);
