//! `urna demo`: a whole verifiable election in one process, in memory.
//!
//! Three trustees run the key ceremony (any two can decrypt), N voters obtain anonymous
//! credentials through blind signatures and cast encrypted ballots with proofs, every
//! ballot is checked (signatures, nullifier uniqueness, batched proofs), the encrypted
//! totals are added up and decrypted by two trustees with proofs, and the result is
//! compared with what the voters chose. The run is reproducible from `--seed`.
//!
//! The networked services, storage and the bulletin board replace the in-memory parts
//! as they land (DESIGN.md, "Services and binaries").

mod trustees;
mod voters;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::ChaCha20Rng;
use rand::{RngExt, SeedableRng};
use sha2::{Digest, Sha256};
use urna_crypto::encoding::Encoder;
use urna_crypto::{
    BallotLayout, BatchVerifier, BlindSigningKey, BlindVerifyingKey, Ciphertext, ContestShape,
    EncryptedBallot, EncryptionKey,
};

use trustees::Ceremony;
use voters::{Auth, Choices, Voters};

/// Options of `urna demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of voters.
    #[arg(long, default_value_t = 1000)]
    voters: u32,
    /// Seed for every random choice, so a run can be repeated exactly.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Ballots per batch verification.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// RSA modulus size of auth's blind-signing key.
    #[arg(long, default_value_t = 2048)]
    rsa_bits: usize,
}

/// One contest of the demo ballot: its id, a description, option names and shape.
struct Contest {
    id: &'static str,
    title: &'static str,
    options: &'static [&'static str],
    shape: ContestShape,
}

fn contests() -> Result<Vec<Contest>> {
    Ok(vec![
        Contest {
            id: "chair",
            title: "Chair (plurality: choose exactly 1)",
            options: &["Ada", "Grace", "Edsger", "Barbara", "Donald"],
            shape: ContestShape::new(5, 1, 1, 1)?,
        },
        Contest {
            id: "board",
            title: "Board (approval: any number)",
            options: &["Alan", "Frances", "John", "Margaret"],
            shape: ContestShape::new(4, 1, 0, 4)?,
        },
        Contest {
            id: "budget",
            title: "Budget priorities (score 0-5 each)",
            options: &["Library", "Garden", "Workshop"],
            shape: ContestShape::new(3, 5, 0, 15)?,
        },
    ])
}

/// A voter's choices: skewed so that the result is not a tie.
fn choose(rng: &mut ChaCha20Rng) -> Choices {
    let weights = [35u32, 25, 20, 12, 8];
    let mut pick = rng.random_range(0..100u32);
    let mut chair = vec![0u64; 5];
    for (i, w) in weights.iter().enumerate() {
        if pick < *w {
            chair[i] = 1;
            break;
        }
        pick -= w;
    }
    let approve = [60u32, 45, 30, 70];
    let board = approve
        .iter()
        .map(|p| u64::from(rng.random_range(0..100u32) < *p))
        .collect();
    let budget = (0..3)
        .map(|i| rng.random_range(0..=(3 + i as u64).min(5)))
        .collect();
    vec![chair, board, budget]
}

pub fn run(args: &Args) -> Result<()> {
    let started = Instant::now();
    let contests = contests()?;
    let layout = BallotLayout::new(
        "members",
        contests
            .iter()
            .map(|c| (c.id.to_owned(), c.shape))
            .collect(),
    )?;
    let election = fingerprint(&contests);
    println!(
        "urna demo: {} voters, 3 trustees (any 2 decrypt), seed {}",
        args.voters, args.seed
    );
    println!("election fingerprint {}", hex::encode(election));

    let mut rng = ChaCha20Rng::seed_from_u64(args.seed);
    let step = Instant::now();
    let ceremony = Ceremony::run(&election, 3, 2, &mut rng)?;
    println!(
        "key ceremony: 3 trustees dealt Feldman-committed shares with proofs of knowledge; joint key {} ({:.0?})",
        hex::encode(ceremony.public_key().element().as_bytes()),
        step.elapsed()
    );

    let step = Instant::now();
    let auth = Auth::new(BlindSigningKey::generate(args.rsa_bits, &mut rng)?);
    let auth_public = auth.verifying_key()?;
    println!(
        "auth: RSA-{} blind-signing key ({:.0?})",
        args.rsa_bits,
        step.elapsed()
    );

    let key = EncryptionKey::new(*ceremony.public_key());
    let progress = bar(args.voters, "voting");
    let step = Instant::now();
    let voters = Voters {
        election: &election,
        layout: &layout,
        key: &key,
        auth: &auth,
        auth_public: &auth_public,
        seed: args.seed,
    };
    let cast = voters.run(args.voters, choose, &progress)?;
    progress.finish_and_clear();
    println!(
        "voting: {} credentials blind-signed, {} ballots encrypted with proofs ({:.1?})",
        auth.issued(),
        cast.ballots.len(),
        step.elapsed()
    );

    let step = Instant::now();
    let ballots = verify_ballots(
        &cast.ballots,
        &layout,
        &key,
        &auth_public,
        args.batch,
        args.seed,
    )?;
    let verify_time = step.elapsed();
    println!(
        "casting checks: {} ballots decoded, credentials and signatures checked, nullifiers unique, all proofs hold in batches of {} ({:.1?}, {:.0} ballots/s)",
        ballots.len(),
        args.batch,
        verify_time,
        per_second(ballots.len(), verify_time)
    );

    let totals = aggregate(&ballots, &contests);
    let step = Instant::now();
    let labelled: Vec<(&str, Vec<Ciphertext>)> =
        contests.iter().map(|c| c.id).zip(totals).collect();
    let tally = ceremony.decrypt(&election, &labelled, &[1, 2], &mut rng)?;
    println!(
        "tally: trustees 1 and 2 decrypted (trustee 3 absent); every partial decryption's proof verified ({:.1?})",
        step.elapsed()
    );

    let expected = expected_totals(&cast.choices, &contests);
    report(&contests, &tally, &expected)?;
    println!(
        "every proof verified; decrypted totals equal the voters' choices ({:.1?} in all)",
        started.elapsed()
    );
    Ok(())
}

/// The election fingerprint of the demo's fixed election: SHA-256 over a canonical
/// encoding of its contests (the manifest-based fingerprint replaces it with the
/// services).
fn fingerprint(contests: &[Contest]) -> [u8; 32] {
    let mut enc = Encoder::new();
    enc.str("urna/v1/demo-election").len(contests.len());
    for c in contests {
        enc.str(c.id).str(c.title).len(c.options.len());
        for option in c.options {
            enc.str(option);
        }
        enc.u32(c.shape.options())
            .u64(c.shape.max_value())
            .u64(c.shape.min_total())
            .u64(c.shape.max_total());
    }
    Sha256::digest(enc.as_slice()).into()
}

/// What the casting service checks, for every ballot: it decodes against the style,
/// carries a valid credential and signature, has an unused nullifier, and its proofs
/// hold (checked in batches, one batch stream per core).
fn verify_ballots(
    encoded: &[Vec<u8>],
    layout: &BallotLayout,
    key: &EncryptionKey,
    auth: &BlindVerifyingKey,
    batch_size: usize,
    seed: u64,
) -> Result<Vec<EncryptedBallot>> {
    let progress = bar(encoded.len() as u32, "verifying");
    let ballots = in_parallel(encoded, |part, offset, slice| {
        // Batch weights must be unpredictable to ballot authors; the demo seeds them for
        // reproducibility, a server draws them from the operating system.
        let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0xba7c4 ^ part as u64);
        let mut ballots = Vec::with_capacity(slice.len());
        for chunk in slice.chunks(batch_size.max(1)) {
            let mut batch = BatchVerifier::new(*key.public_key(), &mut rng);
            for bytes in chunk {
                let index = offset + ballots.len();
                let ballot = EncryptedBallot::from_bytes(bytes, layout)
                    .with_context(|| format!("ballot {index} does not decode"))?;
                ballot
                    .verify_signatures(auth)
                    .with_context(|| format!("ballot {index}: bad credential or signature"))?;
                ballot.add_to_batch(&mut batch, index, layout);
                ballots.push(ballot);
            }
            if let Err(failed) = batch.verify() {
                bail!("ballots failed their proofs: {failed:?}");
            }
            progress.inc(chunk.len() as u64);
        }
        Ok(ballots)
    })?;
    progress.finish_and_clear();
    let mut nullifiers = HashSet::with_capacity(ballots.len());
    for (index, ballot) in ballots.iter().enumerate() {
        if !nullifiers.insert(ballot.nullifier()) {
            bail!("ballot {index}: credential already used");
        }
    }
    Ok(ballots)
}

/// The homomorphic sum of every ballot, per contest and option.
fn aggregate(ballots: &[EncryptedBallot], contests: &[Contest]) -> Vec<Vec<Ciphertext>> {
    contests
        .iter()
        .enumerate()
        .map(|(c, contest)| {
            (0..contest.options.len())
                .map(|o| {
                    Ciphertext::sum(ballots.iter().map(|b| &b.contests()[c].1.ciphertexts()[o]))
                })
                .collect()
        })
        .collect()
}

fn expected_totals(choices: &[Choices], contests: &[Contest]) -> Vec<Vec<u64>> {
    contests
        .iter()
        .enumerate()
        .map(|(c, contest)| {
            (0..contest.options.len())
                .map(|o| choices.iter().map(|v| v[c][o]).sum())
                .collect()
        })
        .collect()
}

fn report(contests: &[Contest], tally: &[Vec<u64>], expected: &[Vec<u64>]) -> Result<()> {
    println!();
    for ((contest, totals), want) in contests.iter().zip(tally).zip(expected) {
        println!("{}", contest.title);
        let top = totals.iter().copied().max().unwrap_or(0);
        for ((name, total), w) in contest.options.iter().zip(totals).zip(want) {
            let width = (total * 40).checked_div(top).unwrap_or(0);
            let bar = "#".repeat(width as usize);
            let mark = if total == w { "" } else { "  MISMATCH" };
            println!("  {name:<10} {total:>7}  {bar}{mark}");
        }
    }
    println!();
    if tally != expected {
        bail!("decrypted totals differ from the voters' choices");
    }
    Ok(())
}

fn bar(len: u32, label: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(u64::from(len));
    if let Ok(style) =
        ProgressStyle::with_template("{prefix:>10} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label);
    bar
}

/// Runs `work` on one contiguous part of `items` per core and concatenates the results
/// in order. `work` gets the part number, the offset of its first item and the part.
fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(usize, usize, &[T]) -> Result<Vec<R>> + Sync,
) -> Result<Vec<R>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_part = items.len().div_ceil(cores).max(1);
    let parts: Vec<Result<Vec<R>>> = std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = items
            .chunks(per_part)
            .enumerate()
            .map(|(part, slice)| scope.spawn(move || work(part, part * per_part, slice)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("a worker thread panicked")))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(items.len());
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}
