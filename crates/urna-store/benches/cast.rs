//! Casting: one durable transaction per ballot, sequentially and from 64 concurrent
//! tasks, on the SQLite backend (`synchronous = FULL`) and on the PostgreSQL backend
//! (a throwaway database on `URNA_TEST_POSTGRES`, pool of 16; skipped without one).

use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sha2::{Digest, Sha256};
use tokio::runtime::Runtime;
use urna_crypto::Nullifier;
use urna_election::Revoting;
use urna_store::testing::PgTestDb;
use urna_store::{
    BallotStore, ElectionState, ElectionStore, NewBallot, PgStore, SqliteStore, conformance,
};

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
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = runtime.block_on(SqliteStore::open(dir.path())).unwrap();
    bench_store(c, &runtime, "sqlite_cast", sqlite);
    let pg = runtime.block_on(async {
        let db = PgTestDb::create().await.unwrap()?;
        let store = PgStore::connect(db.url(), 16).await.unwrap();
        Some((db, store))
    });
    if let Some((_db, store)) = pg {
        bench_store(c, &runtime, "postgres_cast", store);
    }
}

fn bench_store<S: ElectionStore + BallotStore + Clone + 'static>(
    c: &mut Criterion,
    runtime: &Runtime,
    name: &str,
    store: S,
) {
    runtime
        .block_on(conformance::election_in(
            &store,
            "bench",
            Revoting::Once,
            ElectionState::Open,
        ))
        .unwrap();
    let next = AtomicU64::new(0);
    let mut group = c.benchmark_group(name);
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
