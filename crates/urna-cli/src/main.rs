//! `urna`: the one command-line tool for voters, admins, trustees, observers and operators.

use clap::{Parser, Subcommand};

mod admin;
mod board;
mod demo;
mod dev;
mod files;
mod serve;
mod server;
mod tabulate;
mod telemetry;
mod trustee;
mod verify;
mod vote;

/// urna: end-to-end verifiable voting.
#[derive(Debug, Parser)]
#[command(name = "urna", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a whole verifiable election on this machine and check every proof.
    Demo(demo::Args),
    /// Count a ballot file (BLT, PrefLib, STAR CSV) by any method, round by round.
    Tabulate(tabulate::Args),
    /// Run services (auth, issuance, casting, http, or all) from a configuration file.
    Serve(serve::Args),
    /// Every service on loopback with throwaway TLS certificates and an open election.
    Dev(dev::Args),
    /// Manage elections: create, import the roll, open, close, status.
    Admin(Box<admin::Args>),
    /// Vote: log in, get a credential, encrypt, cast, and check the receipt.
    Vote(Box<vote::VoteArgs>),
    /// A trustee: keys, the key ceremony and the decryption of the tally.
    Trustee(trustee::Args),
    /// Check an exported election board from public data alone.
    Verify(verify::Args),
    /// Export an election's public board from the data directory.
    Board(board::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(args) => runtime()?.block_on(demo::run(args)),
        Command::Tabulate(args) => tabulate::run(&args),
        Command::Serve(args) => runtime()?.block_on(serve::run(args)),
        Command::Dev(args) => runtime()?.block_on(async {
            let traces = telemetry::init(None, "urna-dev")?;
            let done = dev::run(args).await;
            traces.shutdown();
            done
        }),
        Command::Admin(args) => runtime()?.block_on(admin::run(*args)),
        Command::Vote(args) => runtime()?.block_on(vote::run(*args)),
        Command::Trustee(args) => runtime()?.block_on(trustee::run(args)),
        Command::Verify(args) => verify::run(&args),
        Command::Board(args) => runtime()?.block_on(board::run(args)),
    }
}

/// The tokio runtime (servers install their logs and traces in it: `telemetry`).
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    // rustls needs one process-wide crypto provider; ring is the one tonic uses.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
