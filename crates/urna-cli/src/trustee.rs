//! `urna trustee`: a trustee's process for the key ceremony and the decryption of the
//! tally, and the library `urna dev` runs in-process.
//!
//! The trustee's keys live in a share file ([`ShareFile`]): the public part in clear,
//! the secrets sealed with a passphrase. The library entry points:
//! - [`ShareFile::create`] / [`ShareFile::open`]: new keys, or unlock a file;
//! - [`register`]: the admin registers the trustee's public keys under an index;
//! - [`run_ceremony`]: the trustee's rounds of the key ceremony, by polling, until
//!   its key share is saved in the file;
//! - [`decrypt`]: after the polls close, a partial decryption of every batch of the
//!   tally, checked against the tally record on the board first.

mod ceremony;
mod connect;
mod decrypt;
mod register;
mod share_file;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use zeroize::Zeroizing;

pub use ceremony::{Polling, run_ceremony};
pub use connect::{ConnectArgs, Connection};
pub use decrypt::decrypt;
pub use register::register;
pub use share_file::{KdfCost, ShareFile, write_atomic};

/// The environment variable the passphrase is read from when no file is given.
const PASSPHRASE_ENV: &str = "URNA_TRUSTEE_PASSPHRASE";

/// Arguments of `urna trustee`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Make a new share file: fresh signing and encryption keys, sealed with the
    /// passphrase; prints the public keys.
    Init {
        #[command(flatten)]
        common: Common,
        /// The trustee's name, as the ceremony shows it.
        #[arg(long)]
        name: String,
        /// Argon2id memory in KiB for sealing the file (default 65536).
        #[arg(long, hide = true)]
        kdf_memory_kib: Option<u32>,
    },
    /// (The election admin) register this trustee's public keys as trustee INDEX.
    Register {
        #[command(flatten)]
        common: Common,
        /// The trustee's index, 1 to n.
        #[arg(long)]
        index: u32,
        /// A file holding the admin token (default: the --dev file's; or set
        /// URNA_ADMIN_TOKEN).
        #[arg(long)]
        admin_token_file: Option<PathBuf>,
    },
    /// Run this trustee's part of the key ceremony until it is done; the key share is
    /// saved in the share file.
    Ceremony {
        #[command(flatten)]
        common: Common,
    },
    /// After the polls close: shuffle the mix-net contests in turn with the other
    /// trustees, then partially decrypt the tally, each step checked against the board.
    Decrypt {
        #[command(flatten)]
        common: Common,
        /// Stop once every mix-net contest has its k shuffles, without decrypting
        /// (to run `urna verify` on the board before the decryption).
        #[arg(long)]
        shuffle_only: bool,
    },
    /// Show the share file's public part (no passphrase needed).
    Status {
        /// The share file.
        #[arg(long)]
        file: PathBuf,
    },
}

/// What every command that opens the share file takes.
#[derive(Debug, clap::Args)]
struct Common {
    /// The share file.
    #[arg(long)]
    file: PathBuf,
    /// A file whose first line is the passphrase (else URNA_TRUSTEE_PASSPHRASE, else
    /// asked on the terminal).
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 7200)]
    timeout: u64,
    #[command(flatten)]
    connect: ConnectArgs,
}

impl Common {
    fn polling(&self) -> Polling {
        Polling {
            timeout: Duration::from_secs(self.timeout),
            ..Polling::default()
        }
    }

    fn open(&self) -> Result<ShareFile> {
        ShareFile::open(
            &self.file,
            &passphrase(self.passphrase_file.as_deref(), false)?,
        )
    }
}

/// Runs one `urna trustee` command.
pub async fn run(args: Args) -> Result<()> {
    match args.command {
        Command::Init {
            common,
            name,
            kdf_memory_kib,
        } => {
            let cost = KdfCost {
                memory_kib: kdf_memory_kib.unwrap_or(KdfCost::default().memory_kib),
                ..KdfCost::default()
            };
            let passphrase = passphrase(common.passphrase_file.as_deref(), true)?;
            let file = ShareFile::create(&common.file, &name, &passphrase, cost)?;
            println!("share file {} created for {name}", common.file.display());
            println!("  signing key     {}", file.public().signing_key);
            println!("  encryption key  {}", file.public().encryption_key);
            Ok(())
        }
        Command::Register {
            common,
            index,
            admin_token_file,
        } => {
            let connection = common.connect.resolve()?;
            let election = connection
                .election
                .clone()
                .context("--election is required (or --dev)")?;
            let token = admin_token(
                admin_token_file
                    .as_deref()
                    .or(connection.admin_token_file.as_deref()),
            )?;
            let mut file = common.open()?;
            let mut tally = connection.tally().await?;
            let registered = register(&mut tally, &mut file, &election, index, &token).await?;
            println!("trustee {index} of {election} registered ({registered} registered so far)");
            Ok(())
        }
        Command::Ceremony { common } => {
            let mut file = common.open()?;
            let connection = connected(&common, &file)?;
            let mut tally = connection.tally().await?;
            let mut report = |line: &str| println!("{line}");
            run_ceremony(&mut tally, &mut file, common.polling(), &mut report).await?;
            println!("key share saved in {}", common.file.display());
            Ok(())
        }
        Command::Decrypt {
            common,
            shuffle_only,
        } => {
            let file = common.open()?;
            let connection = connected(&common, &file)?;
            let mut tally = connection.tally().await?;
            let mut board = connection.board().await?;
            let polling = common.polling();
            let done = decrypt(&mut tally, &mut board, &file, polling, shuffle_only).await?;
            println!(
                "{} mix steps shuffled and proved, {} partial decryptions accepted",
                done.shuffles, done.batches
            );
            Ok(())
        }
        Command::Status { file } => {
            let public = ShareFile::read_public(&file)?;
            let unset = || "(not registered)".to_owned();
            println!("share file {}", file.display());
            println!("  name            {}", public.name);
            println!(
                "  election        {}",
                public.election.unwrap_or_else(unset)
            );
            println!(
                "  index           {}",
                public.index.map_or_else(unset, |i| i.to_string())
            );
            println!("  signing key     {}", public.signing_key);
            println!("  encryption key  {}", public.encryption_key);
            println!(
                "  threshold key   {}",
                public
                    .threshold_key
                    .unwrap_or_else(|| "(ceremony not done)".to_owned())
            );
            Ok(())
        }
    }
}

/// The connection, checked against the election the share file is registered for.
fn connected(common: &Common, file: &ShareFile) -> Result<Connection> {
    let connection = common.connect.resolve()?;
    if let (Some(given), Some(registered)) = (&connection.election, &file.public().election)
        && given != registered
    {
        bail!("the share file is registered for {registered}, not {given}");
    }
    Ok(connection)
}

/// The passphrase: the first line of `file`, else the environment, else asked on the
/// terminal without echo (twice when `confirm`, for a new share file).
fn passphrase(file: Option<&Path>, confirm: bool) -> Result<Zeroizing<String>> {
    let text = match file {
        Some(file) => Zeroizing::new(
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?,
        ),
        None => match std::env::var(PASSPHRASE_ENV) {
            Ok(value) => Zeroizing::new(value),
            Err(_) => {
                let first = prompt("share file passphrase: ")?;
                if confirm && *prompt("the same passphrase again: ")? != *first {
                    bail!("the two passphrases differ");
                }
                first
            }
        },
    };
    let line = Zeroizing::new(text.lines().next().unwrap_or_default().to_owned());
    if line.is_empty() {
        bail!("the passphrase is empty");
    }
    Ok(line)
}

/// Reads one line after printing `question` on stderr: without echo from a terminal,
/// else (a pipe) as it comes.
fn prompt(question: &str) -> Result<Zeroizing<String>> {
    use std::io::{BufRead as _, IsTerminal as _, Write as _};
    eprint!("{question}");
    std::io::stderr().flush()?;
    if std::io::stdin().is_terminal() {
        return Ok(Zeroizing::new(console::Term::stderr().read_secure_line()?));
    }
    let mut line = Zeroizing::new(String::new());
    if std::io::stdin().lock().read_line(&mut line)? == 0 {
        bail!("no passphrase given");
    }
    Ok(line)
}

/// The admin token from `file`, else URNA_ADMIN_TOKEN.
fn admin_token(file: Option<&Path>) -> Result<String> {
    if let Some(file) = file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        return Ok(text.trim().to_owned());
    }
    std::env::var("URNA_ADMIN_TOKEN").context("give --admin-token-file or set URNA_ADMIN_TOKEN")
}
