//! Where the services are: flags, or the JSON file `urna dev` writes.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;
use urna_sdk::{Endpoints, Tls, Uri};

/// How to reach the services.
#[derive(Debug, Default, clap::Args)]
pub struct ConnectArgs {
    /// The JSON file `urna dev` writes: endpoints, CA certificate, election and board
    /// key. Flags override its values.
    #[arg(long, value_name = "FILE")]
    dev: Option<PathBuf>,
    /// auth's URL.
    #[arg(long, value_name = "URL")]
    auth: Option<String>,
    /// issuance's URL.
    #[arg(long, value_name = "URL")]
    issuance: Option<String>,
    /// casting's URL.
    #[arg(long, value_name = "URL")]
    casting: Option<String>,
    /// The bulletin board's URL.
    #[arg(long, value_name = "URL")]
    board: Option<String>,
    /// The CA certificate (PEM) that https endpoints must chain to.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// The board key (C2SP vkey) to pin; by default the one saved in --state or the
    /// --dev file, else the board's own (trusted on first use).
    #[arg(long, value_name = "VKEY")]
    pub board_key: Option<String>,
}

/// The resolved connection.
pub struct Connection {
    pub endpoints: Endpoints,
    pub tls: Tls,
    pub board_uri: String,
    pub election: Option<String>,
    pub board_key: Option<String>,
}

impl ConnectArgs {
    /// Resolves flags over the --dev file. `board` stands in for a missing board URL
    /// (a saved receipt's) and, when given, for the other services too: re-checking a
    /// receipt needs only the board.
    pub fn resolve(&self, board: Option<&str>) -> Result<Connection> {
        let dev = self.dev.as_deref().map(read_dev).transpose()?;
        let field = |name: &str| -> Option<String> {
            dev.as_ref()
                .and_then(|d| d.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let board_url = self
            .board
            .clone()
            .or(field("board"))
            .or(board.map(str::to_owned))
            .context("--board is required")?;
        let service = |flag: &Option<String>, name: &str| -> Result<Uri> {
            let url = flag
                .clone()
                .or(field(name))
                .or(board.map(|_| board_url.clone()))
                .with_context(|| format!("--{name} is required"))?;
            url.parse()
                .with_context(|| format!("--{name}: not a URL: {url}"))
        };
        let endpoints = Endpoints {
            auth: service(&self.auth, "auth")?,
            issuance: service(&self.issuance, "issuance")?,
            casting: service(&self.casting, "casting")?,
            board: service(&self.board, "board")?,
        };
        let ca = self.ca.clone().or(field("ca").map(PathBuf::from));
        let tls = match ca {
            Some(path) => Tls::Ca(
                std::fs::read(&path)
                    .with_context(|| format!("reading the CA certificate {}", path.display()))?,
            ),
            None => Tls::Plaintext,
        };
        Ok(Connection {
            endpoints,
            tls,
            board_uri: board_url,
            election: field("election"),
            board_key: field("board_key"),
        })
    }
}

fn read_dev(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    if !value.is_object() {
        bail!("{} is not a JSON object", path.display());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_dev_file() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\n").unwrap();
        let dev = dir.path().join("dev.json");
        let json = serde_json::json!({
            "auth": "https://127.0.0.1:7001", "issuance": "https://127.0.0.1:7002",
            "casting": "https://127.0.0.1:7003", "board": "https://127.0.0.1:7004",
            "admin": "https://127.0.0.1:7005", "http": "https://127.0.0.1:7006",
            "ca": ca, "election": "club-agm-2026", "board_key": "urna.local/x+1+AA",
        });
        std::fs::write(&dev, json.to_string()).unwrap();
        let args = ConnectArgs {
            dev: Some(dev),
            casting: Some("https://127.0.0.1:9003".into()),
            ..ConnectArgs::default()
        };
        let c = args.resolve(None).unwrap();
        assert_eq!(c.endpoints.auth, "https://127.0.0.1:7001");
        assert_eq!(c.endpoints.casting, "https://127.0.0.1:9003");
        assert_eq!(c.board_uri, "https://127.0.0.1:7004");
        assert_eq!(c.election.as_deref(), Some("club-agm-2026"));
        assert_eq!(c.board_key.as_deref(), Some("urna.local/x+1+AA"));
        assert!(matches!(c.tls, Tls::Ca(pem) if pem.starts_with(b"-----BEGIN")));
    }

    #[test]
    fn a_receipt_check_needs_only_the_board() {
        let c = ConnectArgs::default()
            .resolve(Some("http://127.0.0.1:7004"))
            .unwrap();
        assert_eq!(c.endpoints.auth, "http://127.0.0.1:7004");
        assert!(matches!(c.tls, Tls::Plaintext));
        let missing = ConnectArgs {
            board: Some("http://127.0.0.1:7004".into()),
            ..ConnectArgs::default()
        };
        assert!(missing.resolve(None).is_err());
        let bad = ConnectArgs {
            board: Some("not a url".into()),
            ..ConnectArgs::default()
        };
        assert!(bad.resolve(Some("x")).is_err());
    }
}
