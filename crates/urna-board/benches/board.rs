//! Bulletin-board benchmarks: integration throughput (memory and SQLite, direct and
//! through the sequencer), inclusion proofs at 1M entries (generation from stored
//! tiles, and verification), and checkpoint signing and verification.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use urna_board::{
    Checkpoint, Entry, EntryKind, Log, MemoryStore, NoteSigner, Sequencer, SequencerConfig,
    SignedCheckpoint, SqliteStore, Store, TreeHash, verify_inclusion,
};

const ORIGIN: &str = "urna.example/bench";
const BATCH: usize = 4096;
const MILLION: u64 = 1 << 20;

fn batch(body: usize) -> Vec<Vec<u8>> {
    (0..BATCH)
        .map(|i| {
            let mut b = vec![0u8; body];
            b[..8].copy_from_slice(&(i as u64).to_be_bytes());
            Entry::new(EntryKind::Ballot, [1; 32], b).unwrap().encode()
        })
        .collect()
}

fn integrate(c: &mut Criterion) {
    let mut g = c.benchmark_group("integrate");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    for body in [100usize, 2048] {
        let entries = batch(body);
        let mut mem = Log::open(MemoryStore::new(), ORIGIN).unwrap();
        g.bench_function(format!("memory/{BATCH}x{body}B"), |b| {
            b.iter(|| mem.integrate(black_box(&entries)).unwrap())
        });
        let dir = tempfile::tempdir().unwrap();
        let mut sql =
            Log::open(SqliteStore::open(dir.path().join("b.db")).unwrap(), ORIGIN).unwrap();
        g.bench_function(format!("sqlite/{BATCH}x{body}B"), |b| {
            b.iter(|| sql.integrate(black_box(&entries)).unwrap())
        });
    }
    g.finish();
}

fn sequencer(c: &mut Criterion) {
    let mut g = c.benchmark_group("sequencer");
    let n = 4 * BATCH;
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let entries: Vec<Entry> = (0..n)
        .map(|i| Entry::new(EntryKind::Ballot, [1; 32], vec![i as u8; 100]).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let signer = NoteSigner::from_seed(ORIGIN, &[7; 32]).unwrap();
    let config = SequencerConfig {
        queue: n,
        ..SequencerConfig::default()
    };
    let seq = Sequencer::start(
        SqliteStore::open(dir.path().join("s.db")).unwrap(),
        signer,
        config,
    )
    .unwrap();
    g.bench_function(format!("sqlite/append+ack/{n}x100B"), |b| {
        b.iter(|| {
            let pending: Vec<_> = entries.iter().map(|e| seq.submit(e).unwrap()).collect();
            for p in pending {
                p.wait().unwrap();
            }
        })
    });
    g.finish();
    seq.shutdown();
}

/// A log of 2^20 entries, built once.
fn million<S: Store>(store: S) -> Log<S> {
    let mut log = Log::open(store, ORIGIN).unwrap();
    let mut next = 0u64;
    while next < MILLION {
        let entries: Vec<Vec<u8>> = (next..next + BATCH as u64)
            .map(|i| i.to_be_bytes().to_vec())
            .collect();
        log.integrate(&entries).unwrap();
        next += BATCH as u64;
    }
    log
}

fn indices() -> Vec<u64> {
    // A fixed pseudo-random walk over the tree (splitmix64).
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..4096)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) % MILLION
        })
        .collect()
}

fn proofs(c: &mut Criterion) {
    let mut g = c.benchmark_group("proof_1M");
    let dir = tempfile::tempdir().unwrap();
    let sql = million(SqliteStore::open(dir.path().join("m.db")).unwrap());
    // A reader opened on the same file, as a proof server would be.
    let reader = Log::open(SqliteStore::open(dir.path().join("m.db")).unwrap(), ORIGIN).unwrap();
    drop(sql);
    let mem = million(MemoryStore::new());
    let idx = indices();
    let mut i = 0;
    g.bench_function("inclusion/generate/sqlite", |b| {
        b.iter(|| {
            i = (i + 1) % idx.len();
            reader.inclusion_proof(black_box(idx[i]), MILLION).unwrap()
        })
    });
    g.bench_function("inclusion/generate/memory", |b| {
        b.iter(|| {
            i = (i + 1) % idx.len();
            mem.inclusion_proof(black_box(idx[i]), MILLION).unwrap()
        })
    });
    g.bench_function("consistency/generate/sqlite", |b| {
        b.iter(|| {
            i = (i + 1) % idx.len();
            reader
                .consistency_proof(black_box(idx[i].max(1)), MILLION)
                .unwrap()
        })
    });
    let root = reader.root();
    let cases: Vec<(u64, TreeHash, Vec<TreeHash>)> = idx
        .iter()
        .take(256)
        .map(|&k| {
            (
                k,
                TreeHash::leaf(&k.to_be_bytes()),
                reader.inclusion_proof(k, MILLION).unwrap(),
            )
        })
        .collect();
    g.bench_function("inclusion/verify", |b| {
        b.iter(|| {
            i = (i + 1) % cases.len();
            let (k, leaf, proof) = &cases[i];
            verify_inclusion(leaf, *k, MILLION, black_box(proof), &root).unwrap()
        })
    });
    g.finish();
}

fn checkpoints(c: &mut Criterion) {
    let mut g = c.benchmark_group("checkpoint");
    let signer = NoteSigner::from_seed(ORIGIN, &[7; 32]).unwrap();
    let verifier = [signer.verifier()];
    let cp = Checkpoint::new(ORIGIN, MILLION, TreeHash::leaf(b"root")).unwrap();
    g.bench_function("sign", |b| b.iter(|| cp.sign(black_box(&signer)).unwrap()));
    let note = cp.sign(&signer).unwrap().note().to_owned();
    g.bench_function("open+verify", |b| {
        b.iter_batched(
            || note.clone(),
            |n| SignedCheckpoint::open(n.as_bytes(), ORIGIN, &verifier).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, checkpoints, proofs, integrate, sequencer);
criterion_main!(benches);
