//! `urna-loadtest`: an open-loop load generator for urna's casting tier.
//!
//! It prepares one credential and one encrypted reference ballot per voter first (so
//! the client's cryptography never limits the server), then casts them at a fixed
//! arrival rate, a linear ramp followed by a hold, each request sent when due whatever
//! is still outstanding, and reports the hold's throughput, errors by gRPC status and
//! latency percentiles from an HDR histogram, measured from each request's due time
//! (no coordinated omission). `make loadtest` runs a standard scenario.

mod prepare;
mod report;
mod run;
mod schedule;
mod target;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use urna_sdk::Voter;

use crate::report::Target as ReportTarget;
use crate::schedule::Schedule;
use crate::target::TargetArgs;

/// Casts pre-generated reference ballots at a fixed arrival rate and reports
/// throughput, errors and latency.
#[derive(Debug, Parser)]
#[command(name = "urna-loadtest", version)]
struct Args {
    #[command(flatten)]
    target: TargetArgs,
    /// Arrival rate of the hold, ballots per second.
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// Length of the linear ramp from 0 to the rate, in seconds.
    #[arg(long, default_value_t = 5.0)]
    ramp_secs: f64,
    /// Length of the hold at the rate, in seconds (only the hold is measured).
    #[arg(long, default_value_t = 20.0)]
    hold_secs: f64,
    /// HTTP/2 connections per casting endpoint.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Most casts outstanding at once; requests due beyond it are dropped and counted.
    #[arg(long, default_value_t = 20_000)]
    max_in_flight: usize,
    /// Each cast's deadline in seconds (a later answer counts as DeadlineExceeded).
    #[arg(long, default_value_t = 30.0)]
    timeout_secs: f64,
    /// Voters prepared at a time.
    #[arg(long, default_value_t = 64)]
    prepare_concurrency: usize,
    /// The p99 latency, in milliseconds, a sustained hold stays under.
    #[arg(long, default_value_t = 500.0)]
    p99_limit_ms: f64,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let schedule = Schedule::new(args.rate, args.ramp_secs, args.hold_secs)?;
    if !(args.timeout_secs.is_finite() && args.timeout_secs > 0.0) {
        bail!("--timeout-secs must be a positive number");
    }
    let target = args.target.resolve()?;
    let codes = std::fs::read_to_string(&target.codes)
        .with_context(|| format!("reading {}", target.codes.display()))?;
    let mut voters = target::parse_codes(&codes)?;
    let needed = usize::try_from(schedule.len())?;
    if voters.len() < needed {
        bail!(
            "the schedule casts {needed} ballots ({} in the ramp, {} in the hold) but {} has \
             only {} voters: lower the rate or the durations, or import a larger roll",
            schedule.ramp_count(),
            schedule.hold_count(),
            target.codes.display(),
            voters.len()
        );
    }
    voters.truncate(needed);

    let voter = Voter::connect(&target.endpoints, &target.tls, &target.election)?;
    let election = voter
        .fetch_election(&target.trust)
        .await
        .context("fetching and verifying the election from the board")?;
    eprintln!(
        "urna-loadtest: election {} (board key {}), preparing {needed} ballots",
        target.election,
        election.board_key()
    );
    let ballots = prepare::ballots(&voter, &election, voters, args.prepare_concurrency).await?;

    let mut channels = Vec::new();
    for uri in &target.casting {
        channels.push(target::channels(uri, &target.tls, args.connections.max(1))?);
    }
    // Round-robin over endpoints first, then over each endpoint's connections.
    let channels: Vec<_> = (0..args.connections.max(1))
        .flat_map(|c| {
            channels
                .iter()
                .map(move |per_endpoint| per_endpoint[c].clone())
        })
        .collect();
    eprintln!(
        "casting at {}/s: {:.0} s ramp, {:.0} s hold",
        args.rate, args.ramp_secs, args.hold_secs
    );
    let recorder = run::run(
        &schedule,
        ballots,
        run::Settings {
            election: target.election.clone(),
            channels,
            max_in_flight: args.max_in_flight,
            timeout: Duration::from_secs_f64(args.timeout_secs),
        },
    )
    .await?;
    let report = recorder.report(
        &schedule,
        ReportTarget {
            election: target.election,
            casting: target.casting.iter().map(ToString::to_string).collect(),
            connections: args.connections.max(1),
            max_in_flight: args.max_in_flight,
        },
    );
    println!("{report}");
    println!(
        "  verdict     {} (no errors, none dropped, >= 95% of the rate, p99 < {} ms)",
        if report.sustained(args.p99_limit_ms) {
            "sustained"
        } else {
            "NOT sustained"
        },
        args.p99_limit_ms
    );
    if let Some(path) = &args.json {
        std::fs::write(path, report.to_json(args.p99_limit_ms)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
