//! `urna`: the one command-line tool for voters, admins, trustees, observers and operators.

use clap::{Parser, Subcommand};

mod demo;
mod tabulate;

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
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Demo(args) => demo::run(&args),
        Command::Tabulate(args) => tabulate::run(&args),
    }
}
