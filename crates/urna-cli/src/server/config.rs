//! `urna serve`'s configuration: a YAML file, read once at start-up; a bad file stops
//! the process before any port is bound.
//!
//! ```yaml
//! data_dir: /var/lib/urna          # the embedded store (SQLite) and the boards
//! public_name: vote.example.org    # board origins are <public_name>/<election id>
//! tls:                             # required unless --insecure-plaintext
//!   cert: /etc/urna/tls/server.pem # certificate chain, PEM
//!   key: /etc/urna/tls/server.key  # private key, PEM
//! admin_token_file: /etc/urna/admin-token
//! rsa_bits: 2048                   # auth's blind-signing key size for new elections
//! listen:                          # each tier on its own listener
//!   auth: 0.0.0.0:7401
//!   issuance: 0.0.0.0:7402
//!   casting: 0.0.0.0:7403
//!   board: 0.0.0.0:7404
//!   admin: 127.0.0.1:7405
//!   tally: 0.0.0.0:7406            # trustees connect here
//!   http: 0.0.0.0:7480
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;

/// The configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The data directory of the embedded store.
    pub data_dir: PathBuf,
    /// The host name in board origins.
    #[serde(default = "default_public_name")]
    pub public_name: String,
    /// The TLS certificate and key files.
    #[serde(default)]
    pub tls: Option<TlsFiles>,
    /// The file holding the admin token (see `urna_admin::AdminToken`: at least 22
    /// visible ASCII characters; `urna dev` makes a random one).
    #[serde(default)]
    pub admin_token_file: Option<PathBuf>,
    /// RSA modulus size of new elections' blind-signing keys.
    #[serde(default = "default_rsa_bits")]
    pub rsa_bits: usize,
    /// Listener addresses.
    #[serde(default)]
    pub listen: Listen,
}

/// TLS certificate chain and key, PEM files.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// Where each server listens (port 0: any free port).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Listen {
    /// Auth gRPC.
    pub auth: SocketAddr,
    /// Issuance gRPC.
    pub issuance: SocketAddr,
    /// Casting gRPC.
    pub casting: SocketAddr,
    /// Board gRPC.
    pub board: SocketAddr,
    /// Admin gRPC.
    pub admin: SocketAddr,
    /// Tally gRPC (trustees).
    pub tally: SocketAddr,
    /// The public HTTP API.
    pub http: SocketAddr,
}

impl Default for Listen {
    fn default() -> Self {
        Self::loopback(7400)
    }
}

impl Listen {
    /// Every listener on 127.0.0.1, at `base + 1 ..= base + 6` and `base + 80` (all
    /// ephemeral when `base` is 0).
    #[must_use]
    pub fn loopback(base: u16) -> Self {
        let at = |offset: u16| {
            let port = if base == 0 {
                0
            } else {
                base.saturating_add(offset)
            };
            SocketAddr::from(([127, 0, 0, 1], port))
        };
        Self {
            auth: at(1),
            issuance: at(2),
            casting: at(3),
            board: at(4),
            admin: at(5),
            tally: at(6),
            http: at(80),
        }
    }
}

fn default_public_name() -> String {
    "urna.local".to_owned()
}

const fn default_rsa_bits() -> usize {
    2048
}

impl Config {
    /// Reads and checks a configuration file.
    ///
    /// # Errors
    /// If the file cannot be read or parsed, or a value is out of range.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let config: Self = serde_saphyr::from_str(&text)
            .with_context(|| format!("{}: invalid configuration", path.display()))?;
        config.check()?;
        Ok(config)
    }

    /// A configuration for `urna dev` and tests: loopback listeners.
    #[must_use]
    pub fn dev(data_dir: PathBuf, base_port: u16) -> Self {
        Self {
            data_dir,
            public_name: default_public_name(),
            tls: None,
            admin_token_file: None,
            rsa_bits: default_rsa_bits(),
            listen: Listen::loopback(base_port),
        }
    }

    fn check(&self) -> Result<()> {
        if !(2048..=4096).contains(&self.rsa_bits) {
            bail!("rsa_bits must be between 2048 and 4096");
        }
        urna_board::checkpoint::check_origin(&format!("{}/e", self.public_name))
            .map_err(|e| anyhow::anyhow!("public_name {:?}: {e}", self.public_name))?;
        Ok(())
    }
}
