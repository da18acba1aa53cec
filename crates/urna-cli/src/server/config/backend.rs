//! The configuration's backend sections: which store, the optional Redis fast path
//! and the session key replicas share.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;
use urna_auth::{RedisLimitConfig, SessionKey};
use urna_casting::RedisConfig;
use zeroize::Zeroizing;

/// Which store the servers run on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// SQLite files under `data_dir`: one casting process (the default).
    #[default]
    Embedded,
    /// A PostgreSQL database any number of replicas share.
    Postgres,
}

/// The `store` section.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The backend.
    #[serde(default)]
    pub backend: Backend,
    /// PostgreSQL's connection string (libpq `host=... user=... dbname=...` or a
    /// `postgresql://` URL); only for `postgres`.
    #[serde(default)]
    pub url: Option<String>,
    /// Connections in this process's pool (PostgreSQL).
    #[serde(default = "default_pool")]
    pub pool: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            backend: Backend::Embedded,
            url: None,
            pool: default_pool(),
        }
    }
}

const fn default_pool() -> usize {
    16
}

impl StoreConfig {
    /// The PostgreSQL connection string (checked present for `postgres`).
    ///
    /// # Errors
    /// Without a `url`.
    pub fn postgres_url(&self) -> Result<&str> {
        self.url
            .as_deref()
            .context("store: backend postgres needs a url")
    }

    pub(super) fn check(&self) -> Result<()> {
        match self.backend {
            Backend::Embedded => {
                if self.url.is_some() {
                    bail!("store: url is for backend postgres (embedded uses data_dir)");
                }
            }
            Backend::Postgres => {
                if self.postgres_url()?.trim().is_empty() {
                    bail!("store: backend postgres needs a url");
                }
                if !(1..=1000).contains(&self.pool) {
                    bail!("store: pool must be between 1 and 1000");
                }
            }
        }
        Ok(())
    }
}

/// The `redis` section: casting's nullifier gate and auth's shared login limits.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://[user:password@]host:port[/db]`.
    pub url: String,
    /// How long casting's claim of a credential is kept, in seconds.
    #[serde(default = "default_ttl_secs")]
    pub ttl_secs: u64,
    /// The longest a cast or login waits for Redis, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// The first part of every key (to share one Redis between deployments).
    #[serde(default = "default_prefix")]
    pub prefix: String,
}

fn default_ttl_secs() -> u64 {
    RedisConfig::new("").ttl_secs
}

fn default_timeout_ms() -> u64 {
    RedisConfig::new("").timeout_ms
}

fn default_prefix() -> String {
    RedisConfig::new("").prefix
}

impl RedisSettings {
    /// Casting's gate settings.
    #[must_use]
    pub fn casting(&self) -> RedisConfig {
        RedisConfig {
            url: self.url.clone(),
            ttl_secs: self.ttl_secs,
            timeout_ms: self.timeout_ms,
            prefix: self.prefix.clone(),
        }
    }

    /// Auth's shared limiter settings.
    #[must_use]
    pub fn auth(&self) -> RedisLimitConfig {
        RedisLimitConfig {
            url: self.url.clone(),
            timeout_ms: self.timeout_ms,
            prefix: self.prefix.clone(),
        }
    }

    pub(super) fn check(&self) -> Result<()> {
        if !(self.url.starts_with("redis://") || self.url.starts_with("rediss://")) {
            bail!("redis: url must start with redis:// or rediss://");
        }
        if self.ttl_secs == 0 || self.timeout_ms == 0 {
            bail!("redis: ttl_secs and timeout_ms must be at least 1");
        }
        if self.prefix.is_empty() {
            bail!("redis: prefix must not be empty");
        }
        Ok(())
    }
}

/// Reads a session key file: 64 hexadecimal digits (32 bytes, e.g. from
/// `openssl rand -hex 32`), surrounding whitespace ignored.
///
/// # Errors
/// If the file cannot be read or does not hold exactly 64 hex digits.
pub fn read_session_key(path: &Path) -> Result<SessionKey> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
    );
    let mut bytes = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), bytes.as_mut()).map_err(|_| {
        anyhow::anyhow!(
            "{}: a session key is 64 hexadecimal digits (32 bytes)",
            path.display()
        )
    })?;
    Ok(SessionKey::from_bytes(*bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_key_is_64_hex_digits() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, format!("{}\n", "ab".repeat(32))).unwrap();
        assert!(read_session_key(&file).is_ok());
        for bad in [
            "ab".repeat(31),
            "ab".repeat(33),
            "zz".repeat(32),
            String::new(),
        ] {
            std::fs::write(&file, bad).unwrap();
            let err = read_session_key(&file).unwrap_err().to_string();
            assert!(err.contains("64 hexadecimal digits"), "{err}");
        }
        assert!(read_session_key(&dir.path().join("missing")).is_err());
    }
}
