//! `urna-loadtest`: an open-loop load generator for urna's tiers.
//!
//! The `cast` scenario (the default) prepares one credential and one encrypted
//! reference ballot per voter first (so the client's cryptography never limits the
//! server), then casts them; `auth` logs voters in and gets their credentials
//! blind-signed; `read` reads the board (scenario.rs). Requests go at a fixed arrival
//! rate, a linear ramp followed by a hold, each sent when due whatever is still
//! outstanding; the report gives the hold's throughput, errors by gRPC status and
//! latency percentiles from an HDR histogram, measured from each request's due time
//! (no coordinated omission). `make loadtest` runs a standard scenario.

mod prepare;
mod report;
mod run;
mod scenario;
mod schedule;
mod target;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use urna_sdk::Voter;

use crate::report::Target as ReportTarget;
use crate::scenario::{Inputs, Scenario};
use crate::schedule::Schedule;
use crate::target::TargetArgs;

/// Drives urna at a fixed arrival rate (pre-generated reference ballots, logins with
/// credentials, or board reads) and reports throughput, errors and latency.
#[derive(Debug, Parser)]
#[command(name = "urna-loadtest", version)]
struct Args {
    #[command(flatten)]
    target: TargetArgs,
    /// What each request does.
    #[arg(long, value_enum, default_value_t = Scenario::Cast)]
    scenario: Scenario,
    /// Voters of the codes file to pass over first: `auth` and `cast` use each voter
    /// once (a credential is issued once), so a later run on the same roll starts
    /// after the voters an earlier one used.
    #[arg(long, default_value_t = 0)]
    skip_voters: usize,
    /// Arrival rate of the hold, requests per second.
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// Length of the linear ramp from 0 to the rate, in seconds.
    #[arg(long, default_value_t = 5.0)]
    ramp_secs: f64,
    /// Length of the hold at the rate, in seconds (only the hold is measured).
    #[arg(long, default_value_t = 20.0)]
    hold_secs: f64,
    /// HTTP/2 connections per endpoint.
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
    /// A shell command run after preparation, just before the first timed request (for
    /// example to snapshot the servers' CPU counters); the run stops if it fails.
    #[arg(long)]
    before_run: Option<String>,
    /// A shell command run right after the timed run's last answer.
    #[arg(long)]
    after_run: Option<String>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let schedule = Schedule::new(args.rate, args.ramp_secs, args.hold_secs)?;
    if !(args.timeout_secs.is_finite() && args.timeout_secs > 0.0) {
        bail!("--timeout-secs must be a positive number");
    }
    let target = args.target.resolve()?;
    let needed = usize::try_from(schedule.len())?;
    let mut voters = Vec::new();
    if args.scenario.needs_voters() {
        let codes = std::fs::read_to_string(&target.codes)
            .with_context(|| format!("reading {}", target.codes.display()))?;
        voters = target::parse_codes(&codes)?;
        voters.drain(..args.skip_voters.min(voters.len()));
    }
    if args.scenario.needs_voters() && voters.len() < needed {
        bail!(
            "the schedule sends {needed} requests ({} in the ramp, {} in the hold) but {} has \
             only {} voters left after --skip-voters: lower the rate or the durations, or \
             import a larger roll",
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
        "urna-loadtest: election {} (board key {}), preparing {needed} {} requests",
        target.election,
        election.board_key(),
        args.scenario.name()
    );
    let (requests, endpoints) = scenario::prepare(
        args.scenario,
        &target,
        Inputs {
            voter: &voter,
            election: &election,
            voters,
            count: needed,
            connections: args.connections,
            concurrency: args.prepare_concurrency,
        },
    )
    .await?;
    eprintln!(
        "{} at {}/s: {:.0} s ramp, {:.0} s hold",
        args.scenario.name(),
        args.rate,
        args.ramp_secs,
        args.hold_secs
    );
    hook("--before-run", args.before_run.as_deref())?;
    let recorder = run::run(
        &schedule,
        requests,
        run::Settings {
            max_in_flight: args.max_in_flight,
            timeout: Duration::from_secs_f64(args.timeout_secs),
        },
    )
    .await?;
    hook("--after-run", args.after_run.as_deref())?;
    let report = recorder.report(
        &schedule,
        ReportTarget {
            election: target.election,
            scenario: args.scenario.name().to_owned(),
            endpoints,
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

/// Runs a hook command with `sh -c` and waits for it.
fn hook(flag: &str, command: Option<&str>) -> Result<()> {
    let Some(command) = command else {
        return Ok(());
    };
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .status()
        .with_context(|| format!("starting the {flag} command"))?;
    if !status.success() {
        bail!("the {flag} command failed ({status})");
    }
    Ok(())
}
