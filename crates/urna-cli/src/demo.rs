//! `urna demo`: a whole verifiable election on this machine, through the real services.
//!
//! It starts `urna dev` (auth, issuance, casting, board, admin, tally and the public
//! HTTP API, each on its own TLS listener on loopback, over the embedded store in a
//! fresh data directory) with a roll of N voters for the club election of
//! examples/club-election-full.yaml (a referendum, a plurality, an approval and a
//! score contest, tallied homomorphically; an instant-runoff and a STAR contest,
//! tallied by the mix-net). The manifest's trustees, each a separate `urna trustee`
//! process with its share file under a passphrase, run the key ceremony; the election
//! opens once the joint key and the ceremony's records are on the board. The voters
//! then cast concurrently through the SDK (some challenge a ballot first, some cast
//! again), the polls close, all trustees but one shuffle the mix-net contests' ballots
//! in turn and decrypt the tally with proofs, the published results are compared with
//! what the voters chose (totals, or every ballot of the cast-vote records), and
//! `urna verify` checks the exported board from public data alone. The data directory
//! is kept, so the verifier can be run again.

mod ballots;
mod stack;
mod voters;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use urna_election::{
    Ballots, Contest, CvrFormat, Manifest, Rules, TallyKind, cvr, tabulate, tabulate_totals,
};
use urna_proto::v1;
use urna_sdk::{Tls, TrustRoot, Voter};

use stack::{Services, Trustees};
use voters::{Turnout, Voters};

/// The demo's election: the club's meeting with every kind of contest.
const DEMO_ELECTION: &str = include_str!("../../../examples/club-election-full.yaml");

/// Options of `urna demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of voters.
    #[arg(long, default_value_t = 1000)]
    voters: u32,
    /// Seed of the voters' choices, so a run can be repeated.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// How many voters vote at the same time.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// The data directory (default: a new directory under the system's temporary
    /// directory). It is kept after the run.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Election manifest (YAML); examples/club-election-full.yaml by default. Its
    /// polls are opened from now, whatever its start and end.
    #[arg(long)]
    manifest: Option<PathBuf>,
}

/// Runs the demo election.
pub async fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    let data = match &args.data {
        Some(dir) => dir.clone(),
        None => tempfile::Builder::new()
            .prefix("urna-demo-")
            .tempdir()?
            .keep(),
    };
    if data.join("dev.json").exists() {
        bail!(
            "{} already holds an election: give a new --data directory",
            data.display()
        );
    }
    std::fs::create_dir_all(&data)?;
    println!("urna demo: data directory {}", data.display());

    let step = Instant::now();
    let yaml = match &args.manifest {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        None => DEMO_ELECTION.to_owned(),
    };
    let given = data.join("demo-election.yaml");
    std::fs::write(&given, crate::dev::open_from_now(&yaml)?)?;
    let mut services = Services::start(&data, args.voters, Some(&given)).await?;
    let manifest = Manifest::from_yaml(&std::fs::read_to_string(data.join("manifest.yaml"))?)
        .map_err(|e| anyhow!("manifest: {e}"))?;
    let (n, k) = (manifest.trustees().count(), manifest.trustees().threshold());
    println!(
        "services: auth, issuance, casting, board, admin, tally and HTTP on loopback over TLS, embedded store; election {} ({}) with {} voters ({:.1?})",
        manifest.id(),
        manifest.title(),
        args.voters,
        step.elapsed()
    );

    let step = Instant::now();
    let trustees = Trustees::create(&data, &services, n).await?;
    trustees.ceremony().await?;
    services.wait_until_open().await?;
    println!(
        "key ceremony: {n} trustee processes dealt verifiable shares, any {k} can decrypt; the election is open ({:.1?})",
        step.elapsed()
    );

    let step = Instant::now();
    let turnout = vote(&services, &data, &manifest, &args).await?;
    let elapsed = step.elapsed();
    println!(
        "voting: {} voters cast {} ballots ({} challenged and spoiled first, {} cast again) in {:.1?}, {:.0} ballots/s; every receipt checked against the board",
        turnout.voters,
        turnout.cast,
        turnout.challenged,
        turnout.recast,
        elapsed,
        turnout.cast as f64 / elapsed.as_secs_f64().max(1e-9)
    );

    let step = Instant::now();
    let (mut admin, auth) = services.admin().await?;
    let mut close = tonic::Request::new(v1::CloseElectionRequest {
        election_id: services.info.election.clone(),
    });
    close.metadata_mut().insert("authorization", auth);
    let closed = admin.close_election(close).await?.into_inner();
    println!("polls closed: board entry {}", closed.polls_closed_index);
    let present: Vec<u32> = (1..=k).collect();
    trustees.decrypt(&present).await?;
    let results = wait_for_results(&services).await?;
    let mixed = manifest
        .contests()
        .iter()
        .filter(|c| c.tally() == TallyKind::Mixnet)
        .count();
    let summed = manifest.contests().len() - mixed;
    let mut work = Vec::new();
    if mixed > 0 {
        work.push(format!(
            "shuffled the {mixed} mix-net contests' ballots in turn, each shuffle proved and checked, then decrypted them one by one"
        ));
    }
    if summed > 0 {
        work.push(format!(
            "decrypted the homomorphic sums of the {summed} other contests"
        ));
    }
    println!(
        "tally: trustees {present:?} {}, all with proofs; trustee {n} stayed away ({:.1?})",
        work.join(" and "),
        step.elapsed()
    );
    report(&manifest, &results, &turnout, &data.join("results"))?;

    let board_key = services.info.board_key.clone();
    let election = services.info.election.clone();
    services.stop().await?;
    let export = data.join("board");
    export_board(&data, &election, &export)?;
    let verified = verify(&export, &board_key, &data.join("verified"))?;
    println!();
    println!("Re-run the verifier on this election:");
    println!("  urna verify {} --board-key {board_key}", export.display());
    println!("Data directory: {}", data.display());
    if !verified {
        bail!("the verifier rejected the election");
    }
    same_cvrs(&data.join("results"), &data.join("verified"))?;
    println!(
        "verified: the election's board, ceremony, ballots, tally and results all check ({:.1?} in all)",
        started.elapsed()
    );
    Ok(())
}

/// Every voter of the roll votes through the SDK, with a progress bar.
async fn vote(
    services: &Services,
    data: &Path,
    manifest: &Manifest,
    args: &Args,
) -> Result<Turnout> {
    let info = &services.info;
    let endpoints = urna_sdk::Endpoints {
        auth: info.auth.parse()?,
        issuance: info.issuance.parse()?,
        casting: info.casting.parse()?,
        board: info.board.parse()?,
    };
    let ca = std::fs::read(&info.ca).context("reading the CA certificate")?;
    let voter = Voter::connect(&endpoints, &Tls::Ca(ca), &info.election)?;
    let election = voter
        .fetch_election(&TrustRoot::Pinned(info.board_key.clone()))
        .await?;
    let roll = read_codes(&data.join("voting-codes.csv"))?;
    let progress = ProgressBar::new(roll.len() as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{prefix:>10} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
    {
        progress.set_style(style.progress_chars("=> "));
    }
    progress.set_prefix("voting");
    let voters = Voters {
        voter,
        election,
        manifest: Arc::new(manifest.clone()),
        seed: args.seed,
    };
    let turnout = voters.run(roll, args.concurrency, progress.clone()).await;
    progress.finish_and_clear();
    turnout
}

/// The `voter_id,voting_code` rows `urna dev` wrote.
fn read_codes(file: &Path) -> Result<Vec<(String, String)>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    text.lines()
        .skip(1)
        .filter(|line| !line.is_empty())
        .map(|line| {
            line.split_once(',')
                .map(|(v, c)| (v.to_owned(), c.to_owned()))
                .with_context(|| format!("{}: bad row {line}", file.display()))
        })
        .collect()
}

/// Polls the tally service until the results are published.
async fn wait_for_results(services: &Services) -> Result<v1::GetResultsResponse> {
    let mut tally = services.tally().await?;
    let started = Instant::now();
    loop {
        let request = v1::GetResultsRequest {
            election_id: services.info.election.clone(),
        };
        match tally.get_results(request).await {
            Ok(results) => return Ok(results.into_inner()),
            Err(status) if status.code() == tonic::Code::FailedPrecondition => {}
            Err(status) => return Err(status.into()),
        }
        if started.elapsed() > Duration::from_secs(300) {
            bail!("no results within 5 minutes of the trustees' decryption");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Prints the published results and fails unless every total and ballot count is what
/// the voters chose; a mix-net contest's cast-vote record is written to `out`, its
/// count printed round by round, and it must hold exactly the voters' ballots.
fn report(
    manifest: &Manifest,
    results: &v1::GetResultsResponse,
    turnout: &Turnout,
    out: &Path,
) -> Result<()> {
    let published: BTreeMap<&str, &v1::ContestResult> = results
        .contests
        .iter()
        .map(|c| (c.contest_id.as_str(), c))
        .collect();
    let mut wrong = Vec::new();
    println!();
    for contest in manifest.contests() {
        let id = contest.id();
        let result = published
            .get(id)
            .with_context(|| format!("no result for contest {id}"))?;
        let ballots = turnout.ballots.get(id).copied().unwrap_or(0);
        println!("{} ({} ballots)", contest.title(), result.ballots);
        if result.ballots != ballots {
            wrong.push(format!(
                "{id}: {} ballots counted, {ballots} cast",
                result.ballots
            ));
        }
        if contest.tally() == TallyKind::Mixnet {
            let file = mixed_contest(contest, result, turnout, out, &mut wrong)?;
            println!("  cast-vote record: {}", file.display());
            continue;
        }
        let expected = turnout.totals.get(id);
        let top = result.totals.iter().map(|t| t.total).max().unwrap_or(0);
        for (position, (option, total)) in contest.options().iter().zip(&result.totals).enumerate()
        {
            let want = expected.and_then(|e| e.get(position)).copied().unwrap_or(0);
            if total.option_id != option.id() || total.total != want {
                wrong.push(format!(
                    "{id}/{}: published {} for {}, the voters gave {want}",
                    option.id(),
                    total.total,
                    total.option_id
                ));
            }
            let width = (total.total * 40).checked_div(top).unwrap_or(0);
            println!(
                "    {:<16} {:>7}  {}",
                option.name(),
                total.total,
                "#".repeat(usize::try_from(width).unwrap_or(0))
            );
        }
        let names: Vec<&str> = result
            .winners
            .iter()
            .map(|w| {
                contest
                    .options()
                    .iter()
                    .find(|o| o.id() == w)
                    .map_or(w.as_str(), |o| o.name())
            })
            .collect();
        if names.is_empty() {
            // Why not (a referendum's quorum or threshold), from the manifest's rules.
            let totals: Vec<u64> = result.totals.iter().map(|t| t.total).collect();
            let notes = tabulate_totals(contest, &totals, result.ballots)
                .map(|t| t.notes.join("; "))
                .unwrap_or_default();
            println!("  result: no winner ({notes})");
        } else {
            println!("  result: {}", names.join(", "));
        }
    }
    println!();
    if !wrong.is_empty() {
        bail!(
            "the published results differ from the voters' choices:\n  {}",
            wrong.join("\n  ")
        );
    }
    println!(
        "the published totals and cast-vote records equal the voters' choices in every contest"
    );
    Ok(())
}

/// A mix-net contest's published CVR: written to `out`, checked to hold exactly the
/// voters' counted ballots (in another order) and to count to the published winners,
/// and its count printed round by round. Returns the file written.
fn mixed_contest(
    contest: &Contest,
    result: &v1::ContestResult,
    turnout: &Turnout,
    out: &Path,
    wrong: &mut Vec<String>,
) -> Result<PathBuf> {
    let id = contest.id();
    let format = match result.cvr_format.as_str() {
        "blt" => CvrFormat::Blt,
        "star-csv" => CvrFormat::StarCsv,
        other => bail!("contest {id}: the CVR format {other:?} is not one urna writes"),
    };
    std::fs::create_dir_all(out)?;
    let file = out.join(format!("{id}.{}", format.extension()));
    std::fs::write(&file, &result.cvr)?;
    if Sha256::digest(result.cvr.as_bytes())[..] != result.cvr_digest[..] {
        wrong.push(format!(
            "{id}: the CVR is not the one the result entry names"
        ));
    }
    let ballots = match format {
        CvrFormat::Blt => Ballots::Ranked(cvr::blt::read(&result.cvr)?),
        CvrFormat::StarCsv => Ballots::Scored(cvr::star_csv::read(&result.cvr)?),
    };
    let mut published = rows(contest, &ballots);
    let mut cast = turnout.rows.get(id).cloned().unwrap_or_default();
    published.sort_unstable();
    cast.sort_unstable();
    if published != cast {
        wrong.push(format!(
            "{id}: the CVR's {} ballots are not the {} the voters cast",
            published.len(),
            cast.len()
        ));
    }
    let tabulation = tabulate(&ballots, &Rules::for_contest(contest))?;
    if tabulation.winner_ids(contest) != result.winners {
        wrong.push(format!(
            "{id}: the CVR counts to other winners than published"
        ));
    }
    for line in crate::tabulate::text::render(&tabulation, ballots.voters()).lines() {
        println!("  | {line}");
    }
    let names: Vec<&str> = tabulation.winner_names();
    println!("  result: {}", names.join(", "));
    Ok(file)
}

/// Every ballot of a CVR as its encoded option vector (§3.4): rank positions for
/// rankings (0 unranked), the score above the minimum for scores.
fn rows(contest: &Contest, ballots: &Ballots) -> Vec<Vec<u64>> {
    let n = contest.options().len();
    match ballots {
        Ballots::Ranked(profile) => profile
            .ballots()
            .iter()
            .flat_map(|b| {
                let mut row = vec![0u64; n];
                for (position, group) in (1u64..).zip(b.ranking()) {
                    for candidate in group {
                        if let Some(cell) = row.get_mut(candidate.index()) {
                            *cell = position;
                        }
                    }
                }
                std::iter::repeat_n(row, usize::try_from(b.count()).unwrap_or(0))
            })
            .collect(),
        Ballots::Scored(profile) => profile
            .ballots()
            .iter()
            .flat_map(|b| {
                let row: Vec<u64> = b.scores().iter().map(|&s| u64::from(s)).collect();
                std::iter::repeat_n(row, usize::try_from(b.count()).unwrap_or(0))
            })
            .collect(),
    }
}

/// `urna board export` of the stopped services' store.
fn export_board(data: &Path, election: &str, out: &Path) -> Result<()> {
    let output = Command::new(std::env::current_exe()?)
        .args(["board", "export", "--election", election, "--data"])
        .arg(data.join("store"))
        .arg("--out")
        .arg(out)
        .output()?;
    if !output.status.success() {
        bail!(
            "urna board export failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// `urna verify` on the export, its report shown as it runs, the CVRs it recounts
/// written to `cvrs`; whether it passed.
fn verify(export: &Path, board_key: &str, cvrs: &Path) -> Result<bool> {
    println!();
    println!("urna verify {} (public data only):", export.display());
    let status = Command::new(std::env::current_exe()?)
        .arg("verify")
        .arg(export)
        .args(["--board-key", board_key])
        .arg("--cvr-dir")
        .arg(cvrs)
        .status()?;
    Ok(status.success())
}

/// Fails unless every CVR the tally published (in `published`) is, byte for byte, the
/// one the verifier decrypted and recounted from the board (in `verified`).
fn same_cvrs(published: &Path, verified: &Path) -> Result<()> {
    let Ok(files) = std::fs::read_dir(published) else {
        return Ok(());
    };
    let mut count = 0;
    for file in files {
        let file = file?.path();
        let name = file.file_name().context("a CVR file name")?;
        let ours = std::fs::read(verified.join(name))
            .with_context(|| format!("the verifier wrote no {}", name.to_string_lossy()))?;
        if std::fs::read(&file)? != ours {
            bail!(
                "{}: the published CVR differs from the verifier's recount",
                name.to_string_lossy()
            );
        }
        count += 1;
    }
    println!(
        "the {count} cast-vote records the tally published are, byte for byte, the ones the verifier decrypted from the board"
    );
    Ok(())
}
