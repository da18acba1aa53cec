//! Benchmarks of threshold decryption and credentials: partial decryption with its
//! proof, DLEQ verification, combination (2 of 3), and RFC 9474 blind signing and
//! verification for RSA-2048 and RSA-3072. Keys are made once, outside the timed loops.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use std::hint::black_box;
use urna_crypto::threshold::combine;
use urna_crypto::{
    BlindSigningKey, Ceremony, Ciphertext, Context, Dealer, DkgParameters, EncryptionKey, KeyShare,
    PartialDecryption, SecretShare, ThresholdPublicKey,
};

const BATCH: usize = 64;

/// An honest 2-of-3 ceremony.
fn ceremony() -> (ThresholdPublicKey, Vec<KeyShare>) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let params = DkgParameters::new([7; 32], 2, 3).unwrap();
    let dealers: Vec<Dealer> = (1..=3)
        .map(|i| Dealer::new(&params, i, &mut rng).unwrap())
        .collect();
    let mut ceremony = Ceremony::new(params);
    for dealer in &dealers {
        ceremony.add_dealing(dealer.dealing().clone()).unwrap();
    }
    ceremony.close_dealings().unwrap();
    ceremony.close_complaints().unwrap();
    let key = ceremony.finish().unwrap().clone();
    let shares = (1..=3)
        .map(|j| {
            let inbox: Vec<SecretShare> = dealers.iter().map(|d| d.share_for(j).unwrap()).collect();
            ceremony.key_share(j, &inbox).unwrap()
        })
        .collect();
    (key, shares)
}

fn threshold(c: &mut Criterion) {
    let (key, shares) = ceremony();
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let encryption = EncryptionKey::new(key.public_key());
    let ciphertexts: Vec<Ciphertext> = (0..BATCH as u64)
        .map(|m| encryption.encrypt(m, &mut rng).0)
        .collect();
    let context = Context::new("tally").with(&[7; 32]);

    let mut group = c.benchmark_group("threshold");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("partial decryption + DLEQ proof (per ciphertext)", |b| {
        b.iter(|| {
            PartialDecryption::create(&shares[0], black_box(&ciphertexts), &context, &mut rng)
                .unwrap()
        })
    });
    let partials: Vec<PartialDecryption> = shares[..2]
        .iter()
        .map(|share| PartialDecryption::create(share, &ciphertexts, &context, &mut rng).unwrap())
        .collect();
    group.bench_function("DLEQ verify (per ciphertext)", |b| {
        b.iter(|| {
            partials[0]
                .verify(&key, black_box(&ciphertexts), &context)
                .unwrap()
        })
    });
    let verified: Vec<_> = partials
        .iter()
        .map(|p| p.verify(&key, &ciphertexts, &context).unwrap())
        .collect();
    group.bench_function("combine 2 of 3 (per ciphertext)", |b| {
        b.iter(|| combine(&key, black_box(&ciphertexts), &context, &verified).unwrap())
    });
    group.finish();
}

fn blind_rsa(c: &mut Criterion) {
    let mut group = c.benchmark_group("blind RSA (RFC 9474, SHA-384 PSS randomized)");
    group.sample_size(20);
    for bits in [2048usize, 3072] {
        let mut rng = ChaCha20Rng::seed_from_u64(bits as u64);
        let key = BlindSigningKey::generate(bits, &mut rng).unwrap();
        let public = key.verifying_key().unwrap();
        let message = b"credential message";
        group.bench_function(format!("RSA-{bits}: blind (client)"), |b| {
            b.iter(|| public.blind(black_box(message), &mut rng).unwrap())
        });
        let mut signer_rng = ChaCha20Rng::seed_from_u64(bits as u64 + 1);
        group.bench_function(format!("RSA-{bits}: blind sign (server)"), |b| {
            b.iter_batched(
                || public.blind(message, &mut rng).unwrap().0,
                |blinded| key.blind_sign(&blinded, &mut signer_rng).unwrap(),
                BatchSize::SmallInput,
            )
        });
        let (blinded, state) = public.blind(message, &mut rng).unwrap();
        let answer = key.blind_sign(&blinded, &mut rng).unwrap();
        group.bench_function(format!("RSA-{bits}: finalize (client)"), |b| {
            b.iter(|| {
                public
                    .finalize(black_box(&answer), &state, message)
                    .unwrap()
            })
        });
        let (signature, randomizer) = public.finalize(&answer, &state, message).unwrap();
        group.bench_function(format!("RSA-{bits}: verify"), |b| {
            b.iter(|| {
                public
                    .verify(black_box(&signature), &randomizer, message)
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, threshold, blind_rsa);
criterion_main!(benches);
