//! Benchmarks of the ballot cryptography. The "reference contest" is DESIGN.md's
//! reference ballot's contest: 5 options, select exactly 1 (five 0/1 range proofs and
//! one selection proof).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use std::hint::black_box;
use urna_crypto::credential::credential_message;
use urna_crypto::encoding::{Decoder, Encoder};
use urna_crypto::{
    BallotLayout, BatchVerifier, BlindSigningKey, BlindVerifyingKey, ContestShape, Context,
    Credential, CredentialSecret, DlogTable, EncryptedBallot, EncryptedContest, EncryptionKey,
    SecretKey,
};

fn reference_contests(count: usize) -> (EncryptionKey, ContestShape, Vec<(Context, Vec<u8>)>) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let key = EncryptionKey::new(SecretKey::random(&mut rng).public_key());
    let shape = ContestShape::new(5, 1, 1, 1).unwrap();
    let contests = (0..count)
        .map(|i| {
            let context = Context::ballot(
                &[1; 32],
                "reference",
                &(i as u64).to_le_bytes().repeat(4).try_into().unwrap(),
            );
            let mut values = [0u64; 5];
            values[i % 5] = 1;
            let (contest, _) =
                EncryptedContest::encrypt(&key, &shape, &values, &context, &mut rng).unwrap();
            let mut enc = Encoder::new();
            contest.encode(&mut enc);
            (context, enc.finish())
        })
        .collect();
    (key, shape, contests)
}

fn decode(bytes: &[u8], shape: &ContestShape) -> EncryptedContest {
    EncryptedContest::decode(&mut Decoder::new(bytes), shape).unwrap()
}

fn encrypt(c: &mut Criterion) {
    let (key, shape, _) = reference_contests(0);
    let context = Context::ballot(&[1; 32], "reference", &[2; 32]);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    c.bench_function("reference contest: encrypt + prove", |b| {
        b.iter(|| {
            EncryptedContest::encrypt(
                &key,
                &shape,
                black_box(&[0, 0, 1, 0, 0]),
                &context,
                &mut rng,
            )
            .unwrap()
        })
    });
    c.bench_function("election key: precompute table", |b| {
        b.iter(|| EncryptionKey::new(*black_box(key.public_key())))
    });
}

fn verify(c: &mut Criterion) {
    let (key, shape, contests) = reference_contests(256);
    let public = *key.public_key();
    c.bench_function("reference contest: decode + verify (single)", |b| {
        let (context, bytes) = &contests[0];
        b.iter(|| {
            decode(bytes, &shape)
                .verify(&public, &shape, context)
                .unwrap()
        })
    });
    let mut group = c.benchmark_group("reference contest: decode + verify (batched)");
    for size in [16usize, 64, 256] {
        group.throughput(Throughput::Elements(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, &size| {
            let mut rng = ChaCha20Rng::seed_from_u64(3);
            b.iter(|| {
                let mut batch = BatchVerifier::new(public, &mut rng);
                for (i, (context, bytes)) in contests.iter().take(size).enumerate() {
                    batch.add_contest(i, &decode(bytes, &shape), &shape, context);
                }
                batch.verify().unwrap()
            })
        });
    }
    group.finish();
}

/// DESIGN.md's reference ballot, whole: one contest (5 options, select exactly 1), an
/// RSA-2048 blind signature on the credential and an Ed25519 credential signature.
fn reference_ballots(
    count: usize,
) -> (EncryptionKey, BlindVerifyingKey, BallotLayout, Vec<Vec<u8>>) {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let key = EncryptionKey::new(SecretKey::random(&mut rng).public_key());
    let auth = BlindSigningKey::generate(2048, &mut rng).unwrap();
    let verifying = auth.verifying_key().unwrap();
    let layout = BallotLayout::new(
        "reference",
        vec![("contest".into(), ContestShape::new(5, 1, 1, 1).unwrap())],
    )
    .unwrap();
    let election = [9u8; 32];
    let ballots = (0..count)
        .map(|i| {
            let secret = CredentialSecret::generate(&mut rng);
            let message =
                credential_message(&election, layout.style(), &secret.public_key()).unwrap();
            let (blinded, state) = verifying.blind(&message, &mut rng).unwrap();
            let blind = auth.blind_sign(&blinded, &mut rng).unwrap();
            let (signature, randomizer) = verifying.finalize(&blind, &state, &message).unwrap();
            let credential = Credential {
                key: secret.public_key(),
                signature,
                randomizer,
            };
            let mut values = vec![0u64; 5];
            values[i % 5] = 1;
            let (ballot, _) = EncryptedBallot::encrypt(
                &key,
                &election,
                &layout,
                credential,
                &secret,
                &[values],
                &mut rng,
            )
            .unwrap();
            ballot.to_bytes()
        })
        .collect();
    (key, verifying, layout, ballots)
}

fn reference_ballot(c: &mut Criterion) {
    let (key, auth, layout, ballots) = reference_ballots(256);
    let public = *key.public_key();
    c.bench_function(
        "reference ballot: decode + signatures + proofs (single)",
        |b| {
            b.iter(|| {
                EncryptedBallot::from_bytes(&ballots[0], &layout)
                    .unwrap()
                    .verify(&public, &auth, &layout)
                    .unwrap()
            })
        },
    );
    let mut group = c.benchmark_group("reference ballot: decode + signatures + proofs (batched)");
    group.throughput(Throughput::Elements(ballots.len() as u64));
    group.bench_function(BenchmarkId::from_parameter(ballots.len()), |b| {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        b.iter(|| {
            let mut batch = BatchVerifier::new(public, &mut rng);
            for (i, bytes) in ballots.iter().enumerate() {
                let ballot = EncryptedBallot::from_bytes(bytes, &layout).unwrap();
                ballot.verify_signatures(&auth).unwrap();
                ballot.add_to_batch(&mut batch, i, &layout);
            }
            batch.verify().unwrap()
        })
    });
    group.finish();
}

fn dlog(c: &mut Criterion) {
    c.bench_function("dlog table: build (2^18 entries)", |b| {
        b.iter(DlogTable::new)
    });
    let table = DlogTable::new();
    let point = curve25519_dalek::Scalar::from(999_999_999u64)
        * curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
    c.bench_function("dlog table: recover 999,999,999", |b| {
        b.iter(|| table.recover(black_box(&point)).unwrap())
    });
}

/// The group operations everything above is made of, for cost accounting: a reference
/// contest's verification needs 32 decompressions and a 34-term multiscalar
/// multiplication; its encryption needs 48 fixed-base multiplications and 32
/// compressions.
fn primitives(c: &mut Criterion) {
    use curve25519_dalek::constants::{RISTRETTO_BASEPOINT_POINT, RISTRETTO_BASEPOINT_TABLE};
    use curve25519_dalek::ristretto::RistrettoPoint;
    use curve25519_dalek::scalar::Scalar;
    use curve25519_dalek::traits::VartimeMultiscalarMul;
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let point = RistrettoPoint::random(&mut rng);
    let encoded = point.compress();
    let scalar = Scalar::random(&mut rng);
    c.bench_function("ristretto255: decompress", |b| {
        b.iter(|| black_box(encoded).decompress().unwrap())
    });
    c.bench_function("ristretto255: compress", |b| {
        b.iter(|| black_box(point).compress())
    });
    c.bench_function("ristretto255: fixed-base multiplication", |b| {
        b.iter(|| black_box(&scalar) * RISTRETTO_BASEPOINT_TABLE)
    });
    c.bench_function("ristretto255: variable-base multiplication", |b| {
        b.iter(|| black_box(scalar) * point)
    });
    let n = 256 * 32;
    let scalars: Vec<Scalar> = (0..n).map(|_| Scalar::random(&mut rng)).collect();
    let points: Vec<RistrettoPoint> = (0..n)
        .map(|i| Scalar::from(i as u64 + 1) * RISTRETTO_BASEPOINT_POINT)
        .collect();
    let mut group = c.benchmark_group("ristretto255: multiscalar multiplication");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(BenchmarkId::from_parameter(n), |b| {
        b.iter(|| RistrettoPoint::vartime_multiscalar_mul(&scalars, &points))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = primitives, encrypt, verify, reference_ballot, dlog
}
criterion_main!(benches);
