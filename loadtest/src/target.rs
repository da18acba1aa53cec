//! What the load test drives: the services' endpoints, the election, the trust in its
//! board and the voters' codes, from a `urna dev` connection file (`dev.json`) or
//! from explicit flags.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use urna_sdk::{Endpoints, Tls, TrustRoot, Uri};

/// Where the services are, as given on the command line.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// A `urna dev` connection file (its dev.json): endpoints, CA, election, board key
    /// and the voting codes (DATA/voting-codes.csv). Flags below override it.
    #[arg(long)]
    dev: Option<PathBuf>,
    /// Auth's endpoint (login and credentials).
    #[arg(long)]
    auth: Option<Uri>,
    /// Issuance's endpoint (ballot styles).
    #[arg(long)]
    issuance: Option<Uri>,
    /// The board's endpoint (the election's genesis entries).
    #[arg(long)]
    board: Option<Uri>,
    /// A casting endpoint; repeat it to drive several replicas round-robin.
    #[arg(long)]
    casting: Vec<Uri>,
    /// The election id.
    #[arg(long)]
    election: Option<String>,
    /// The voters' codes: a CSV file `voter_id,voting_code` with a header line.
    #[arg(long)]
    codes: Option<PathBuf>,
    /// The CA certificate (PEM) that https endpoints are checked against.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// The board key to pin (default: dev.json's, else trust on first use).
    #[arg(long)]
    board_key: Option<String>,
}

/// The part of `urna dev`'s dev.json the load test reads.
#[derive(Debug, Deserialize)]
struct DevFile {
    auth: String,
    issuance: String,
    casting: String,
    board: String,
    ca: Option<PathBuf>,
    election: String,
    #[serde(default)]
    board_key: String,
    data: PathBuf,
    state: String,
}

/// The resolved target.
#[derive(Debug)]
pub struct Target {
    /// Endpoints for the prepare phase (casting: the first one).
    pub endpoints: Endpoints,
    /// Every casting endpoint.
    pub casting: Vec<Uri>,
    /// How https endpoints are checked.
    pub tls: Tls,
    /// The election id.
    pub election: String,
    /// How the board key is trusted.
    pub trust: TrustRoot,
    /// The voters' codes file.
    pub codes: PathBuf,
}

impl TargetArgs {
    /// Resolves the flags, reading dev.json when given.
    ///
    /// # Errors
    /// If dev.json is unreadable or not open yet, or something needed is missing.
    pub fn resolve(&self) -> Result<Target> {
        let dev = self.dev.as_deref().map(read_dev).transpose()?;
        let uri = |flag: &Option<Uri>, from_dev: Option<&String>, name: &str| -> Result<Uri> {
            match (flag, from_dev) {
                (Some(uri), _) => Ok(uri.clone()),
                (None, Some(text)) => text
                    .parse()
                    .with_context(|| format!("dev.json: {name} is not a URI")),
                (None, None) => bail!("--{name} (or --dev) is required"),
            }
        };
        let auth = uri(&self.auth, dev.as_ref().map(|d| &d.auth), "auth")?;
        let issuance = uri(
            &self.issuance,
            dev.as_ref().map(|d| &d.issuance),
            "issuance",
        )?;
        let board = uri(&self.board, dev.as_ref().map(|d| &d.board), "board")?;
        let casting = if self.casting.is_empty() {
            vec![uri(&None, dev.as_ref().map(|d| &d.casting), "casting")?]
        } else {
            self.casting.clone()
        };
        let election = match (&self.election, &dev) {
            (Some(e), _) => e.clone(),
            (None, Some(d)) => d.election.clone(),
            (None, None) => bail!("--election (or --dev) is required"),
        };
        let codes = match (&self.codes, &dev) {
            (Some(c), _) => c.clone(),
            (None, Some(d)) => d.data.join("voting-codes.csv"),
            (None, None) => bail!("--codes (or --dev) is required"),
        };
        let ca = self
            .ca
            .clone()
            .or_else(|| dev.as_ref().and_then(|d| d.ca.clone()));
        let tls = match ca {
            Some(path) => Tls::Ca(
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
            ),
            None => Tls::Plaintext,
        };
        let pinned = self
            .board_key
            .clone()
            .or_else(|| dev.as_ref().map(|d| d.board_key.clone()))
            .filter(|k| !k.is_empty());
        Ok(Target {
            endpoints: Endpoints {
                auth,
                issuance,
                casting: casting[0].clone(),
                board,
            },
            casting,
            tls,
            election,
            trust: pinned.map_or(TrustRoot::FirstUse, TrustRoot::Pinned),
            codes,
        })
    }
}

fn read_dev(path: &Path) -> Result<DevFile> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let dev: DevFile = serde_json::from_slice(&text)
        .with_context(|| format!("{}: not a urna dev connection file", path.display()))?;
    if dev.state != "open" {
        bail!(
            "{}: the election is not open yet (state {})",
            path.display(),
            dev.state
        );
    }
    Ok(dev)
}

/// The voters of a codes file, `voter_id,voting_code` after a header line.
///
/// # Errors
/// If a line has no comma.
pub fn parse_codes(text: &str) -> Result<Vec<(String, String)>> {
    text.lines()
        .skip(1)
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            let (voter, code) = line
                .split_once(',')
                .with_context(|| format!("codes line {}: expected voter_id,voting_code", n + 2))?;
            Ok((voter.trim().to_owned(), code.trim().to_owned()))
        })
        .collect()
}

/// `connections` separate HTTP/2 connections to a casting endpoint (made lazily).
///
/// # Errors
/// If the URI is neither http nor https, or https lacks a CA.
pub fn channels(uri: &Uri, tls: &Tls, connections: usize) -> Result<Vec<Channel>> {
    (0..connections)
        .map(|_| {
            let endpoint = Endpoint::from(uri.clone());
            let endpoint = match (uri.scheme_str(), tls) {
                (Some("http"), _) => endpoint,
                (Some("https"), Tls::Ca(pem)) => {
                    let host = uri.host().context("endpoint without a host")?;
                    endpoint.tls_config(
                        ClientTlsConfig::new()
                            .ca_certificate(Certificate::from_pem(pem))
                            .domain_name(host.trim_start_matches('[').trim_end_matches(']')),
                    )?
                }
                (Some("https"), Tls::Plaintext) => bail!("{uri}: https needs --ca"),
                _ => bail!("{uri}: endpoints are http:// or https:// URIs"),
            };
            Ok(endpoint.connect_lazy())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_after_the_header() {
        let codes =
            parse_codes("voter_id,voting_code\nv001,ABCD-EFGH\nv002, WXYZ-1234 \n\n").unwrap();
        assert_eq!(
            codes,
            vec![
                ("v001".to_owned(), "ABCD-EFGH".to_owned()),
                ("v002".to_owned(), "WXYZ-1234".to_owned())
            ]
        );
        assert!(parse_codes("voter_id,voting_code\nv001\n").is_err());
    }

    #[test]
    fn dev_json_supplies_what_flags_leave_out() {
        let dir = std::env::temp_dir().join(format!("urna-loadtest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("dev.json");
        let dev = serde_json::json!({
            "auth": "http://127.0.0.1:7401", "issuance": "http://127.0.0.1:7402",
            "casting": "http://127.0.0.1:7403", "board": "http://127.0.0.1:7404",
            "admin": "http://127.0.0.1:7405", "ca": null, "election": "loadtest-reference",
            "board_key": "", "data": dir, "state": "open"
        });
        std::fs::write(&file, dev.to_string()).unwrap();
        let args = TargetArgs {
            dev: Some(file.clone()),
            auth: None,
            issuance: None,
            board: None,
            casting: vec![
                "http://127.0.0.1:9001".parse().unwrap(),
                "http://127.0.0.1:9002".parse().unwrap(),
            ],
            election: None,
            codes: None,
            ca: None,
            board_key: None,
        };
        let target = args.resolve().unwrap();
        assert_eq!(target.endpoints.auth, "http://127.0.0.1:7401");
        assert_eq!(target.casting.len(), 2);
        assert_eq!(target.endpoints.casting, "http://127.0.0.1:9001");
        assert_eq!(target.election, "loadtest-reference");
        assert_eq!(target.codes, dir.join("voting-codes.csv"));
        assert!(matches!(target.trust, TrustRoot::FirstUse));

        // A dev that is still in its ceremony is refused.
        let waiting = serde_json::json!({
            "auth": "", "issuance": "", "casting": "", "board": "", "election": "e",
            "data": dir, "state": "ceremony"
        });
        std::fs::write(&file, waiting.to_string()).unwrap();
        assert!(args.resolve().is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
