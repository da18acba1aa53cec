//! `urna board export`: a static mirror of an election's public board, read straight
//! from the data directory, in the layout `urna verify` (and any C2SP tlog-tiles
//! client) reads.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use urna_store::{BoardStore as _, ElectionStore as _, Phase, SqliteStore};

/// `urna board …`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the election's board (checkpoints, tiles, entry bundles, manifest) to a
    /// directory.
    Export(ExportArgs),
}

#[derive(Debug, clap::Args)]
struct ExportArgs {
    /// The data directory of the embedded store.
    #[arg(long)]
    data: PathBuf,
    /// The election id.
    #[arg(long)]
    election: String,
    /// Where to write the export (created if missing).
    #[arg(long)]
    out: PathBuf,
}

/// Runs `urna board …`.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let Command::Export(args) = args.command;
    let store = SqliteStore::open(&args.data)
        .await
        .with_context(|| format!("opening the store in {}", args.data.display()))?;
    let election = store
        .election(&args.election)
        .await?
        .with_context(|| format!("no election {:?} in this store", args.election))?;
    let board = store.open_board(&election.id, Phase::Open).await?;
    let out = args.out.clone();
    let exported =
        tokio::task::spawn_blocking(move || urna_verify::export(board, &election.source, &out))
            .await??;
    println!(
        "exported {} entries and {} signed checkpoints to {}",
        exported.size,
        exported.checkpoints,
        args.out.display()
    );
    println!("verify with: urna verify {}", args.out.display());
    Ok(())
}
