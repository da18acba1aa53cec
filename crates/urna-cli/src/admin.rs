//! `urna admin`: the election lifecycle over the admin gRPC API — create (or update)
//! an election from its manifest file, import the roll (the voting codes are written
//! once, to a file only the owner can read), open for testing, open, close, status
//! (with the key ceremony's and the tally's progress from the tally service), and
//! close-round (end a key-ceremony round early when a trustee is gone).

mod progress;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use urna_proto::v1;
use urna_proto::v1::admin_client::AdminClient;
use urna_proto::v1::board_client::BoardClient;
use urna_proto::v1::tally_client::TallyClient;

use crate::files::write_private;

/// Arguments of `urna admin`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The admin API, e.g. https://127.0.0.1:7405.
    #[arg(long, required_unless_present = "dev")]
    endpoint: Option<String>,
    /// The CA certificate (PEM) that signed the server's certificate.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// A file holding the admin token (or set URNA_ADMIN_TOKEN).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// The tally API, for the key ceremony's and the tally's progress in `status`
    /// (default with --dev: dev.json's).
    #[arg(long)]
    tally: Option<String>,
    /// The board API, for who answered which decryption batch in `status` (default
    /// with --dev: dev.json's).
    #[arg(long)]
    board: Option<String>,
    /// Read endpoint, CA and token file from the dev.json `urna dev` wrote.
    #[arg(long)]
    dev: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Create the election from its manifest, or apply a changed manifest in Draft
    /// (applying the same file again changes nothing).
    Create {
        /// The manifest (YAML).
        manifest: PathBuf,
    },
    /// Import the voter roll (CSV with voter_id and ballot_style columns) and write
    /// each new voter's voting code to a file (shown only this once).
    ImportRoll {
        /// The election id.
        election: String,
        /// The roll.
        csv: PathBuf,
        /// Where to write the voting codes (CSV; created with mode 0600).
        #[arg(long)]
        codes_out: PathBuf,
    },
    /// Open the polls (`--test`: open a rehearsal whose ballots are discarded later).
    Open {
        /// The election id.
        election: String,
        /// Open the Test phase instead.
        #[arg(long)]
        test: bool,
    },
    /// Close the polls.
    Close {
        /// The election id.
        election: String,
    },
    /// Show the election's state and counts, and the key ceremony's and the tally's
    /// progress when the tally endpoint is known.
    Status {
        /// The election id.
        election: String,
    },
    /// Close the key ceremony's current round now instead of at its deadline (when a
    /// trustee is known to be gone): missing dealers and unanswered complaints
    /// disqualify, as at the deadline. Needs the tally endpoint.
    CloseRound {
        /// The election id.
        election: String,
    },
}

/// Runs one admin command.
pub async fn run(args: Args) -> Result<()> {
    let mut tally = args.tally.clone();
    let mut board = args.board.clone();
    let (endpoint, ca, token_file) = match &args.dev {
        Some(file) => {
            let info: serde_json::Value = serde_json::from_slice(&std::fs::read(file)?)
                .with_context(|| format!("reading {}", file.display()))?;
            let text = |key: &str| {
                info[key]
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            tally = tally.or_else(|| text("tally"));
            board = board.or_else(|| text("board"));
            (
                text("admin").context("dev.json has no admin endpoint")?,
                text("ca").map(PathBuf::from),
                text("admin_token_file").map(PathBuf::from),
            )
        }
        None => (
            args.endpoint.clone().context("--endpoint is required")?,
            args.ca.clone(),
            args.token_file.clone(),
        ),
    };
    let token = token(token_file.as_deref())?;
    let mut client = AdminClient::new(channel(&endpoint, ca.as_deref()).await?)
        // A large roll's codes exceed gRPC's default 4 MiB.
        .max_decoding_message_size(64 << 20);
    let auth: MetadataValue<_> = format!("Bearer {token}")
        .parse()
        .context("the admin token is not valid header text")?;
    match args.command {
        Command::Create { manifest } => {
            let yaml = std::fs::read_to_string(&manifest)
                .with_context(|| format!("reading {}", manifest.display()))?;
            let created = client
                .create_election(authorized(
                    v1::CreateElectionRequest {
                        manifest_yaml: yaml,
                    },
                    &auth,
                ))
                .await?
                .into_inner();
            println!(
                "{}: {:?}, state {:?}, fingerprint {}",
                created.election_id,
                created.outcome(),
                created.state(),
                hex::encode(&created.election_fingerprint)
            );
        }
        Command::ImportRoll {
            election,
            csv,
            codes_out,
        } => {
            if codes_out.exists() {
                bail!(
                    "{} exists; voting codes are never overwritten",
                    codes_out.display()
                );
            }
            let bytes =
                std::fs::read(&csv).with_context(|| format!("reading {}", csv.display()))?;
            let imported = client
                .import_roll(authorized(
                    v1::ImportRollRequest {
                        election_id: election,
                        csv: bytes,
                    },
                    &auth,
                ))
                .await?
                .into_inner();
            let mut out = String::from("voter_id,voting_code\n");
            for code in &imported.codes {
                out.push_str(&format!("{},{}\n", code.voter_id, code.voting_code));
            }
            write_private(&codes_out, out.as_bytes())?;
            println!(
                "imported {} voters ({} on the roll); codes written to {}",
                imported.imported,
                imported.total,
                codes_out.display()
            );
        }
        Command::Open { election, test } => {
            let opened = client
                .open_election(authorized(
                    v1::OpenElectionRequest {
                        election_id: election.clone(),
                        test,
                    },
                    &auth,
                ))
                .await?
                .into_inner();
            println!(
                "{election}: {:?} ({} test ballots discarded)",
                opened.state(),
                opened.discarded_test_ballots
            );
        }
        Command::Close { election } => {
            let closed = client
                .close_election(authorized(
                    v1::CloseElectionRequest {
                        election_id: election.clone(),
                    },
                    &auth,
                ))
                .await?
                .into_inner();
            println!(
                "{election}: {:?}; polls-closed is board entry {}",
                closed.state(),
                closed.polls_closed_index
            );
        }
        Command::Status { election } => {
            let s = client
                .get_election_status(authorized(
                    v1::GetElectionStatusRequest {
                        election_id: election.clone(),
                    },
                    &auth,
                ))
                .await?
                .into_inner();
            println!("{} — {}", s.election_id, s.title);
            println!("  state               {:?}", s.state());
            println!("  re-voting           {:?}", s.revoting());
            println!(
                "  fingerprint         {}",
                hex::encode(&s.election_fingerprint)
            );
            println!("  voters              {}", s.voters);
            println!("  credentials issued  {}", s.credentials_issued);
            println!("  ballots cast        {}", s.ballots_cast);
            println!("  ballots spoiled     {}", s.ballots_spoiled);
            println!("  board size          {}", s.board_size);
            if let Some(tally) = &tally {
                let closed = s.state() == v1::ElectionState::Closed;
                let mut tally = TallyClient::new(channel(tally, ca.as_deref()).await?)
                    .max_decoding_message_size(64 << 20);
                let mut board = match &board {
                    Some(url) => Some(BoardClient::new(channel(url, ca.as_deref()).await?)),
                    None => None,
                };
                let progress =
                    progress::Progress::fetch(&mut tally, board.as_mut(), &election, closed)
                        .await?;
                print!("{}", progress.render());
            }
        }
        Command::CloseRound { election } => {
            let tally = tally.context("close-round needs --tally (or --dev)")?;
            let mut tally = TallyClient::new(channel(&tally, ca.as_deref()).await?);
            let next = tally
                .close_round(authorized(
                    v1::CloseRoundRequest {
                        election_id: election.clone(),
                    },
                    &auth,
                ))
                .await?
                .into_inner();
            println!("{election}: the key ceremony is now in {:?}", next.phase());
        }
    }
    Ok(())
}

/// `message` with the admin token's authorization header.
fn authorized<T>(message: T, auth: &MetadataValue<Ascii>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("authorization", auth.clone());
    request
}

fn token(file: Option<&Path>) -> Result<String> {
    if let Some(file) = file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        return Ok(text.trim().to_owned());
    }
    std::env::var("URNA_ADMIN_TOKEN").context("give --token-file or set URNA_ADMIN_TOKEN")
}

/// A channel to `endpoint`, over TLS trusting `ca` for `https` URLs.
pub async fn channel(endpoint: &str, ca: Option<&Path>) -> Result<Channel> {
    let mut ep = Endpoint::from_shared(endpoint.to_owned())
        .with_context(|| format!("bad endpoint {endpoint}"))?;
    if endpoint.starts_with("https://") {
        let ca = ca.context("an https endpoint needs --ca")?;
        ep = ep.tls_config(crate::server::tls::client(ca)?)?;
    }
    ep.connect()
        .await
        .with_context(|| format!("connecting to {endpoint}"))
}
