//! Where a trustee's services are: from `--tally`, `--board`, `--ca` and `--election`,
//! or from the dev.json `urna dev` wrote (`--dev`), and the gRPC channels to them.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use tonic::transport::{Channel, Endpoint};
use urna_proto::v1::board_client::BoardClient;
use urna_proto::v1::tally_client::TallyClient;

/// The connection flags every `urna trustee` command takes.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConnectArgs {
    /// The tally service's URL.
    #[arg(long, global = true)]
    tally: Option<String>,
    /// The board service's URL (for `decrypt`, which reads the tally record).
    #[arg(long, global = true)]
    board: Option<String>,
    /// The CA certificate (PEM) that https URLs are checked against.
    #[arg(long, global = true)]
    ca: Option<PathBuf>,
    /// The election's manifest id (default: the share file's, else the --dev file's).
    #[arg(long, global = true)]
    election: Option<String>,
    /// Read the URLs, CA, election and admin token file from the dev.json `urna dev`
    /// wrote.
    #[arg(long, global = true)]
    dev: Option<PathBuf>,
}

/// The resolved connection.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The tally service's URL.
    pub tally: String,
    /// The board service's URL, if known.
    pub board: Option<String>,
    /// The CA for https URLs.
    pub ca: Option<PathBuf>,
    /// The election, if given.
    pub election: Option<String>,
    /// The admin token file, from the dev file.
    pub admin_token_file: Option<PathBuf>,
}

impl ConnectArgs {
    /// The flags, completed from the dev file where left out.
    pub fn resolve(&self) -> Result<Connection> {
        let dev = match &self.dev {
            Some(file) => Some(
                serde_json::from_slice::<serde_json::Value>(
                    &std::fs::read(file).with_context(|| format!("reading {}", file.display()))?,
                )
                .with_context(|| format!("parsing {}", file.display()))?,
            ),
            None => None,
        };
        let text = |key: &str| {
            dev.as_ref()
                .and_then(|d| d[key].as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Ok(Connection {
            tally: self
                .tally
                .clone()
                .or_else(|| text("tally"))
                .context("--tally is required (or --dev)")?,
            board: self.board.clone().or_else(|| text("board")),
            ca: self.ca.clone().or_else(|| text("ca").map(PathBuf::from)),
            election: self.election.clone().or_else(|| text("election")),
            admin_token_file: text("admin_token_file").map(PathBuf::from),
        })
    }
}

impl Connection {
    /// A client of the tally service.
    pub async fn tally(&self) -> Result<TallyClient<Channel>> {
        Ok(
            TallyClient::new(channel(&self.tally, self.ca.as_deref()).await?)
                .max_decoding_message_size(urna_tally::grpc::MAX_REQUEST_BYTES)
                .max_encoding_message_size(urna_tally::grpc::MAX_REQUEST_BYTES),
        )
    }

    /// A client of the board service.
    pub async fn board(&self) -> Result<BoardClient<Channel>> {
        let url = self
            .board
            .as_deref()
            .context("--board is required (or --dev)")?;
        Ok(BoardClient::new(channel(url, self.ca.as_deref()).await?))
    }
}

/// A channel to `url`, over TLS trusting `ca` for `https` URLs.
pub async fn channel(url: &str, ca: Option<&Path>) -> Result<Channel> {
    let mut endpoint =
        Endpoint::from_shared(url.to_owned()).with_context(|| format!("bad URL {url}"))?;
    if url.starts_with("https://") {
        let ca = ca.context("an https URL needs --ca")?;
        endpoint = endpoint.tls_config(crate::server::tls::client(ca)?)?;
    }
    endpoint
        .connect()
        .await
        .with_context(|| format!("connecting to {url}"))
}
