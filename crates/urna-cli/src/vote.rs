//! `urna vote`: a voter casts a ballot through the services and checks the receipt,
//! then or later (`urna vote check`). Every answer is verified by urna-sdk; this module
//! only gathers input, keeps the voter's state and prints.

mod choices;
mod connect;
mod state;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use urna_sdk::{Choices, Election, Receipt, Style, TrustRoot, Voter, VoterCredential};

use connect::ConnectArgs;
use state::{ReceiptFile, State};

/// Arguments of `urna vote`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct VoteArgs {
    #[command(subcommand)]
    command: Option<VoteCommand>,
    #[command(flatten)]
    connect: ConnectArgs,
    /// The election's manifest id (default: the --dev file's).
    #[arg(long)]
    election: Option<String>,
    /// Your voter id in the roll (not needed to re-cast with a credential saved in
    /// --state).
    #[arg(long)]
    voter: Option<String>,
    /// Your voting code (asked for when left out).
    #[arg(long)]
    code: Option<String>,
    /// Marks in a plurality, approval or referendum contest: CONTEST=OPTION[,OPTION...]
    /// (repeatable).
    #[arg(long = "choice", value_name = "CONTEST=OPTION[,OPTION]")]
    choices: Vec<String>,
    /// Scores in a score contest: CONTEST=OPTION:N[,OPTION:N...] (repeatable); options
    /// left out get the lowest score.
    #[arg(long = "score", value_name = "CONTEST=OPTION:N[,...]")]
    scores: Vec<String>,
    /// A ranking in a Borda contest, most preferred first: CONTEST=OPTION[,OPTION...]
    /// (repeatable).
    #[arg(long = "rank", value_name = "CONTEST=OPTION[,OPTION]")]
    ranks: Vec<String>,
    /// Challenge an encryption first (Benaloh): it is opened, checked and spoiled, and
    /// your choices are encrypted afresh for the real cast.
    #[arg(long)]
    challenge: bool,
    /// A directory for your credential, the board key and receipts (files of mode
    /// 0600). With a saved credential, voting again re-casts (where the election lets
    /// the last ballot count).
    #[arg(long)]
    state: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum VoteCommand {
    /// Re-check a saved receipt: the board's latest checkpoint must be consistent with
    /// the receipt's and still include the ballot.
    Check(CheckArgs),
}

/// Arguments of `urna vote check`.
#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The receipt file `urna vote` saved.
    #[arg(long)]
    receipt: PathBuf,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Runs `urna vote`.
pub async fn run(args: VoteArgs) -> Result<()> {
    match args.command {
        Some(VoteCommand::Check(check)) => run_check(check).await,
        None => run_cast(args).await,
    }
}

async fn run_cast(args: VoteArgs) -> Result<()> {
    let connection = args.connect.resolve(None)?;
    let Some(election_id) = args.election.clone().or(connection.election.clone()) else {
        bail!("--election is required (or --dev with an election)");
    };
    let state = args.state.as_deref().map(State::open).transpose()?;
    let saved_key = match &state {
        Some(state) => state.board_key(&election_id)?,
        None => None,
    };
    let pinned = args
        .connect
        .board_key
        .clone()
        .or(saved_key)
        .or(connection.board_key.clone());
    let trust = pinned.map_or(TrustRoot::FirstUse, TrustRoot::Pinned);
    let voter = Voter::connect(&connection.endpoints, &connection.tls, &election_id)?;
    let election = voter
        .fetch_election(&trust)
        .await
        .context("fetching the election from its board")?;
    println!("election {election_id}: manifest and keys verified on the board");
    if trust == TrustRoot::FirstUse {
        println!("board key trusted on first use: {}", election.board_key());
    }
    if let Some(state) = &state {
        state.save_board_key(&election_id, election.board_key())?;
    }
    let saved = match &state {
        Some(state) => state.credential(election.id())?,
        None => None,
    };
    let (style, choices, credential) = match saved {
        Some(credential) => {
            println!("using the credential saved in the state directory");
            let style = ballot_style(&voter, &election, credential.style()).await?;
            let choices = gather(&args, &style)?;
            (style, choices, credential)
        }
        None => enrol(&args, &voter, &election, state.as_ref()).await?,
    };
    if args.challenge {
        let (ballot, opening) = style.encrypt(&credential, &choices)?;
        let receipt = voter
            .challenge(&election, &style, &ballot, &opening)
            .await
            .context("challenging the encryption")?;
        println!(
            "challenge: the encryption {} was opened and holds",
            receipt.short_code
        );
        for line in choices::describe(&style, &opening) {
            println!("  {line}");
        }
        println!(
            "it is spoiled (board entry {}) and never counted; your ballot is encrypted \
             afresh",
            receipt.leaf_index
        );
    }
    let (ballot, _opening) = style.encrypt(&credential, &choices)?;
    let receipt = voter
        .cast(&election, &ballot)
        .await
        .context("casting the ballot")?;
    print_receipt(&election, &receipt);
    if let Some(state) = &state {
        let path = state.save_receipt(&ReceiptFile::new(
            &receipt,
            &connection.board_uri,
            election.board_key(),
        ))?;
        println!("receipt saved to {}", path.display());
    }
    Ok(())
}

/// A first ballot: login, the voter's style and choices (checked before anything is
/// spent), then a new credential, saved at once so that a lost answer can be retried
/// with it.
async fn enrol(
    args: &VoteArgs,
    voter: &Voter,
    election: &Election,
    state: Option<&State>,
) -> Result<(Style, Choices, VoterCredential)> {
    let Some(voter_id) = &args.voter else {
        bail!("--voter is required for a first ballot");
    };
    let code = match &args.code {
        Some(code) => code.clone(),
        None => choices::prompt("voting code: ")?,
    };
    let session = voter
        .login(voter_id, code.trim())
        .await
        .context("logging in")?;
    let style = ballot_style(voter, election, &session.style_id).await?;
    let choices = gather(args, &style)?;
    if state.is_none() {
        println!("note: without --state your credential is not kept, so you cannot vote again");
    }
    let credential = voter
        .credential(election, &session)
        .await
        .context("obtaining your anonymous credential")?;
    if let Some(state) = state {
        state.save_credential(election.id(), &credential)?;
    }
    Ok((style, choices, credential))
}

async fn ballot_style(voter: &Voter, election: &Election, style: &str) -> Result<Style> {
    voter
        .ballot_style(election, style)
        .await
        .context("fetching your ballot style")
}

/// The choices from the flags or the terminal, checked against the style.
fn gather(args: &VoteArgs, style: &Style) -> Result<Choices> {
    let choices = choices::gather(style, &args.choices, &args.scores, &args.ranks)?;
    style.validate(&choices)?;
    Ok(choices)
}

fn print_receipt(election: &Election, receipt: &Receipt) {
    println!("tracking code: {}", receipt.short_code);
    println!(
        "receipt verified: your ballot is board entry {} under a checkpoint signed by {}",
        receipt.leaf_index,
        election.board().name()
    );
    if receipt.supersedes_previous {
        println!("this ballot replaces your earlier one");
    }
}

async fn run_check(args: CheckArgs) -> Result<()> {
    let file = ReceiptFile::read(&args.receipt)?;
    let connection = args.connect.resolve(Some(&file.board))?;
    let voter = Voter::connect(
        &connection.endpoints,
        &connection.tls,
        &file.receipt.election_id,
    )?;
    let board_key = args
        .connect
        .board_key
        .clone()
        .unwrap_or(file.board_key.clone());
    let election = voter
        .fetch_election(&TrustRoot::Pinned(board_key))
        .await
        .context("fetching the election from its board")?;
    let later = voter
        .recheck(&election, &file.receipt)
        .await
        .context("re-checking the receipt")?;
    println!(
        "receipt {} still holds: entry {} is in the board's latest checkpoint ({} entries), \
         which extends the receipt's ({} entries)",
        later.receipt.short_code,
        later.receipt.leaf_index,
        later.checkpoint.size(),
        later.previous.size()
    );
    ReceiptFile {
        receipt: later.receipt,
        ..file
    }
    .write(&args.receipt)?;
    Ok(())
}
