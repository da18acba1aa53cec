//! `urna demo`: a whole verifiable election in one process, in memory.
//!
//! The election is a real manifest (examples/club-election.yaml unless `--manifest`
//! names another): its fingerprint binds every credential and proof. Three trustees run
//! the key ceremony (any two can decrypt), N voters obtain anonymous credentials
//! through blind signatures and cast encrypted ballots with proofs, every ballot is
//! checked (signatures, nullifier uniqueness, batched proofs), the encrypted totals are
//! added up per contest and decrypted by two trustees with proofs, the manifest's
//! counting rules declare the winners, and the totals are compared with what the
//! voters chose. The run is reproducible from `--seed`.
//!
//! The networked services, storage and the bulletin board replace the in-memory parts
//! as they land (DESIGN.md, "Services and binaries").

mod election;
pub mod trustees;
mod voters;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use urna_crypto::{
    BatchVerifier, BlindSigningKey, BlindVerifyingKey, Ciphertext, EncryptedBallot, EncryptionKey,
};
use urna_election::tabulate_totals;

use election::Election;
use trustees::Ceremony;
use voters::{Auth, Cast, Voters};

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
    /// Election manifest (YAML); the club election of examples/ by default.
    #[arg(long)]
    manifest: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<()> {
    let started = Instant::now();
    let election = Election::load(args.manifest.as_deref())?;
    let manifest = &election.manifest;
    println!(
        "urna demo: {} — {} voters, 3 trustees (any 2 decrypt), seed {}",
        manifest.title(),
        args.voters,
        args.seed
    );
    println!(
        "election {} fingerprint {}",
        manifest.id(),
        hex::encode(election.fingerprint)
    );

    let mut rng = ChaCha20Rng::seed_from_u64(args.seed);
    let step = Instant::now();
    let ceremony = Ceremony::run(&election.fingerprint, 3, 2, &mut rng)?;
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
        key: &key,
        auth: &auth,
        auth_public: &auth_public,
        seed: args.seed,
    };
    let cast = voters.run(args.voters, &progress)?;
    progress.finish_and_clear();
    println!(
        "voting: {} credentials blind-signed, {} ballots encrypted with proofs ({:.1?})",
        auth.issued(),
        cast.len(),
        step.elapsed()
    );

    let step = Instant::now();
    let ballots = verify_ballots(&cast, &election, &key, &auth_public, args.batch, args.seed)?;
    let verify_time = step.elapsed();
    println!(
        "casting checks: {} ballots decoded, credentials and signatures checked, nullifiers unique, all proofs hold in batches of {} ({:.1?}, {:.0} ballots/s)",
        ballots.len(),
        args.batch,
        verify_time,
        per_second(ballots.len(), verify_time)
    );

    let totals = aggregate(&ballots, &cast, &election);
    let step = Instant::now();
    let labelled: Vec<(&str, Vec<Ciphertext>)> = manifest
        .contests()
        .iter()
        .zip(&totals)
        .map(|(contest, (sums, _))| (contest.id(), sums.clone()))
        .collect();
    let decrypted = ceremony.decrypt(&election.fingerprint, &labelled, &[1, 2], &mut rng)?;
    println!(
        "tally: trustees 1 and 2 decrypted (trustee 3 absent); every partial decryption's proof verified ({:.1?})",
        step.elapsed()
    );

    let expected = expected_totals(&cast, &election);
    let counts: Vec<u64> = totals.iter().map(|(_, count)| *count).collect();
    report(&election, &decrypted, &counts, &expected)?;
    println!(
        "every proof verified; decrypted totals equal the voters' choices ({:.1?} in all)",
        started.elapsed()
    );
    Ok(())
}

/// What the casting service checks, for every ballot: it decodes against the style,
/// carries a valid credential and signature, has an unused nullifier, and its proofs
/// hold (checked in batches, one batch stream per core).
fn verify_ballots(
    cast: &[Cast],
    election: &Election,
    key: &EncryptionKey,
    auth: &BlindVerifyingKey,
    batch_size: usize,
    seed: u64,
) -> Result<Vec<EncryptedBallot>> {
    let progress = bar(cast.len() as u32, "verifying");
    let ballots = in_parallel(cast, |part, offset, slice| {
        // Batch weights must be unpredictable to ballot authors; the demo seeds them for
        // reproducibility, a server draws them from the operating system.
        let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0xba7c4 ^ part as u64);
        let mut ballots = Vec::with_capacity(slice.len());
        for chunk in slice.chunks(batch_size.max(1)) {
            let mut batch = BatchVerifier::new(*key.public_key(), &mut rng);
            for vote in chunk {
                let index = offset + ballots.len();
                let layout = &election.styles[vote.style].layout;
                let ballot = EncryptedBallot::from_bytes(&vote.ballot, layout)
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

/// The homomorphic sum per contest and option, over the ballots whose style has the
/// contest, with the number of those ballots.
fn aggregate(
    ballots: &[EncryptedBallot],
    cast: &[Cast],
    election: &Election,
) -> Vec<(Vec<Ciphertext>, u64)> {
    per_contest(cast, election, |_, vote_index, position| {
        ballots[vote_index].contests()[position]
            .1
            .ciphertexts()
            .to_vec()
    })
    .into_iter()
    .map(|(vectors, count)| {
        let sums = (0..vectors.first().map_or(0, Vec::len))
            .map(|o| Ciphertext::sum(vectors.iter().map(|v| &v[o])))
            .collect();
        (sums, count)
    })
    .collect()
}

/// The plaintext totals the voters chose, per contest and option.
fn expected_totals(cast: &[Cast], election: &Election) -> Vec<Vec<u64>> {
    per_contest(cast, election, |_, vote_index, position| {
        cast[vote_index].choices[position].clone()
    })
    .into_iter()
    .zip(election.manifest.contests())
    .map(|((vectors, _), contest)| {
        (0..contest.options().len())
            .map(|o| vectors.iter().map(|v| v[o]).sum())
            .collect()
    })
    .collect()
}

/// For each manifest contest, `item(contest, ballot index, position in the ballot)` of
/// every ballot whose style has the contest, and how many there were.
fn per_contest<T>(
    cast: &[Cast],
    election: &Election,
    item: impl Fn(usize, usize, usize) -> T,
) -> Vec<(Vec<T>, u64)> {
    (0..election.manifest.contests().len())
        .map(|c| {
            let items: Vec<T> = cast
                .iter()
                .enumerate()
                .filter_map(|(i, vote)| {
                    let style = &election.styles[vote.style];
                    style
                        .contests
                        .iter()
                        .position(|&sc| sc == c)
                        .map(|p| item(c, i, p))
                })
                .collect();
            let count = items.len() as u64;
            (items, count)
        })
        .collect()
}

fn report(
    election: &Election,
    decrypted: &[Vec<u64>],
    counts: &[u64],
    expected: &[Vec<u64>],
) -> Result<()> {
    println!();
    for (((contest, totals), &count), want) in election
        .manifest
        .contests()
        .iter()
        .zip(decrypted)
        .zip(counts)
        .zip(expected)
    {
        println!("{} ({} ballots)", contest.title(), count);
        let top = totals.iter().copied().max().unwrap_or(0);
        for ((option, total), w) in contest.options().iter().zip(totals).zip(want) {
            let width = (total * 40).checked_div(top).unwrap_or(0);
            let mark = if total == w { "" } else { "  MISMATCH" };
            println!(
                "    {:<16} {total:>7}  {}{mark}",
                option.name(),
                "#".repeat(width as usize)
            );
        }
        let tabulation = tabulate_totals(contest, totals, count)
            .map_err(|e| anyhow!("{}: {e}", contest.id()))?;
        let winners = tabulation.winner_names();
        if winners.is_empty() {
            println!("  result: no winner ({})", tabulation.notes.join("; "));
        } else {
            println!("  result: {}", winners.join(", "));
        }
    }
    println!();
    if decrypted != expected {
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
