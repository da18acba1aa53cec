//! `urna serve <role>`: runs tiers from a configuration file until SIGINT/SIGTERM.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use urna_admin::AdminToken;

use crate::server::tls::TlsIdentity;
use crate::server::{self, Config, Role};

/// Arguments of `urna serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which tiers to run (`casting` includes the board, admin and HTTP APIs).
    role: Role,
    /// The configuration file (YAML; see docs/operations.md).
    #[arg(long)]
    config: PathBuf,
    /// Serve without TLS even though the configuration has none: only behind a
    /// TLS-terminating proxy on a private network.
    #[arg(long)]
    insecure_plaintext: bool,
}

/// Runs until a shutdown signal, then drains.
pub async fn run(args: Args) -> Result<()> {
    let config = Config::from_file(&args.config)?;
    let traces = crate::telemetry::init(config.telemetry.as_ref(), &args.role.service_name())?;
    let served = serve(args, &config).await;
    traces.shutdown();
    served
}

async fn serve(args: Args, config: &Config) -> Result<()> {
    let tls = match (&config.tls, args.insecure_plaintext) {
        (Some(files), false) => Some(TlsIdentity::from_files(&files.cert, &files.key)?),
        (None, true) => None,
        (Some(_), true) => bail!("the configuration has TLS files; drop --insecure-plaintext"),
        (None, false) => {
            bail!("no tls section in the configuration (plain text needs --insecure-plaintext)")
        }
    };
    let token = match &config.admin_token_file {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            AdminToken::new(text.trim())?
        }
        None => bail!("admin_token_file is required"),
    };
    server::serve(config, args.role, tls, token).await
}
