//! Casting on the SQLite backend: one durable (`synchronous = FULL`) transaction per
//! ballot, sequentially and from 64 concurrent tasks.

use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sha2::{Digest, Sha256};
use urna_crypto::Nullifier;
use urna_election::Revoting;
use urna_store::{BallotStore, ElectionState, NewBallot, SqliteStore, conformance};

/// A distinct ~2 KB ballot (the reference size) with its own nullifier.
fn ballot(n: u64) -> NewBallot {
    let mut bytes = vec![0u8; 2048];
    bytes[..8].copy_from_slice(&n.to_be_bytes());
    let mut nullifier = [0u8; 32];
    nullifier[..8].copy_from_slice(&n.to_be_bytes());
    NewBallot {
        nullifier: Nullifier::from_bytes(nullifier),
        tracking_code: Sha256::digest(&bytes).into(),
        ballot: bytes,
    }
}

fn cast(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = runtime.block_on(async {
        let store = SqliteStore::open(dir.path()).await.unwrap();
        conformance::election_in(&store, "bench", Revoting::Once, ElectionState::Open)
            .await
            .unwrap();
        store
    });
    let next = AtomicU64::new(0);
    let mut group = c.benchmark_group("sqlite_cast");
    group.sample_size(20);
    group.throughput(Throughput::Elements(1));
    group.bench_function("sequential", |b| {
        b.iter(|| {
            let n = next.fetch_add(1, Ordering::Relaxed);
            runtime.block_on(store.cast("bench", ballot(n))).unwrap()
        })
    });
    group.throughput(Throughput::Elements(64));
    group.bench_function("concurrent_64", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let tasks: Vec<_> = (0..64)
                    .map(|_| {
                        let (store, n) = (store.clone(), next.fetch_add(1, Ordering::Relaxed));
                        tokio::spawn(async move { store.cast("bench", ballot(n)).await })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap().unwrap();
                }
            })
        })
    });
    group.finish();
}

criterion_group!(benches, cast);
criterion_main!(benches);
