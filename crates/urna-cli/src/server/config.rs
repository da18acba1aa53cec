//! `urna serve`'s configuration: a YAML file, read once at start-up; a bad file stops
//! the process before any port is bound.
//!
//! ```yaml
//! data_dir: /var/lib/urna          # the embedded store (SQLite); only for embedded
//! store:                           # optional; default: embedded
//!   backend: postgres              # embedded | postgres
//!   url: "host=db.internal user=urna dbname=urna"  # libpq string or postgresql:// URL
//!   pool: 16                       # connections per process
//! redis:                           # optional: casting's gate, auth's shared limits
//!   url: redis://redis.internal:6379
//!   ttl_secs: 86400                # how long a credential's claim is kept
//!   timeout_ms: 50                 # slower answers are ignored (store alone)
//!   prefix: urna                   # first part of every key
//! session_key_file: /etc/urna/session-key  # 64 hex digits; required with postgres
//!                                  # or redis (every replica needs the same key)
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
//!   ops: 0.0.0.0:7490              # plain text: /livez /readyz /metrics, gRPC health;
//!                                  # for the orchestrator and monitoring only
//! login_limits:                    # auth's sliding-window rate limits (defaults shown)
//!   voter_failures: 5              # failed logins per voter id ...
//!   voter_window_secs: 900         # ... in this many seconds, then it is locked
//!   address_attempts: 30           # login attempts per client address ...
//!   address_window_secs: 60        # ... in this many seconds (raise it behind a NAT)
//! telemetry:                       # optional: traces and metrics over OTLP/gRPC
//!   otlp_endpoint: http://otel-collector:4317  # also OTEL_EXPORTER_OTLP_ENDPOINT
//!   service_name: urna-casting     # default urna-<role>
//!   export_interval_secs: 10       # metrics export period
//!   trace_sample_ratio: 1.0        # share of new traces kept (a caller's choice wins)
//! voting_codes:                    # Argon2id cost of the voting-code hashes made when
//!   memory_kib: 19456              # a roll is imported (defaults shown: OWASP's
//!   iterations: 2                  # recommendation); lower only for load tests, where
//!   lanes: 1                       # the codes are throwaway
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;
use urna_auth::LimitConfig;
use urna_store::CodeParams;

mod backend;

pub use backend::{Backend, RedisSettings, StoreConfig, read_session_key};

/// The configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The data directory of the embedded store (required for it, unused otherwise).
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// Which store the servers run on.
    #[serde(default)]
    pub store: StoreConfig,
    /// The Redis fast path, if any.
    #[serde(default)]
    pub redis: Option<RedisSettings>,
    /// The file holding the session key every auth replica MACs tokens with (64 hex
    /// digits); without it, a random key per process.
    #[serde(default)]
    pub session_key_file: Option<PathBuf>,
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
    /// Auth's login rate limits.
    #[serde(default)]
    pub login_limits: LoginLimits,
    /// The Argon2id cost of voting-code hashes made at roll import.
    #[serde(default)]
    pub voting_codes: VotingCodes,
    /// Traces and metrics over OTLP, if any.
    #[serde(default)]
    pub telemetry: Option<Telemetry>,
}

/// Where traces and metrics go besides the ops listener: an OpenTelemetry collector
/// over OTLP/gRPC.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Telemetry {
    /// The collector's OTLP/gRPC endpoint (`http://host:4317`); without it, the
    /// standard `OTEL_EXPORTER_OTLP_ENDPOINT` if set, else no export.
    #[serde(default)]
    pub otlp_endpoint: Option<String>,
    /// The `service.name` resource attribute (default `urna-<role>`).
    #[serde(default)]
    pub service_name: Option<String>,
    /// How often metrics are exported, in seconds.
    #[serde(default = "default_export_interval")]
    pub export_interval_secs: u64,
    /// The share of new traces recorded, 0 to 1 (a trace a caller started keeps the
    /// caller's decision).
    #[serde(default = "default_sample_ratio")]
    pub trace_sample_ratio: f64,
}

impl Default for Telemetry {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: None,
            export_interval_secs: default_export_interval(),
            trace_sample_ratio: default_sample_ratio(),
        }
    }
}

const fn default_export_interval() -> u64 {
    10
}

const fn default_sample_ratio() -> f64 {
    1.0
}

impl Telemetry {
    fn check(&self) -> Result<()> {
        if let Some(url) = &self.otlp_endpoint
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            bail!("telemetry: otlp_endpoint must be an http:// or https:// URL");
        }
        if self.export_interval_secs == 0 {
            bail!("telemetry: export_interval_secs must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.trace_sample_ratio) {
            bail!("telemetry: trace_sample_ratio must be between 0 and 1");
        }
        Ok(())
    }
}

/// The Argon2id cost of voting-code hashes (urna_store's `CodeParams`, in
/// configuration spelling). Each hash keeps its parameters, so changing them later
/// affects only rolls imported afterwards.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VotingCodes {
    /// Memory per hash, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes (parallelism within one hash).
    pub lanes: u32,
}

impl Default for VotingCodes {
    fn default() -> Self {
        let d = CodeParams::default();
        Self {
            memory_kib: d.memory_kib(),
            iterations: d.iterations(),
            lanes: d.lanes(),
        }
    }
}

impl VotingCodes {
    /// The parameters, checked by Argon2 itself.
    ///
    /// # Errors
    /// If Argon2 refuses them (for example less than 8 KiB of memory per lane).
    pub fn params(self) -> Result<CodeParams> {
        CodeParams::new(self.memory_kib, self.iterations, self.lanes)
            .context("voting_codes: Argon2id refuses these parameters")
    }
}

/// Auth's login rate limits (urna_auth's `LimitConfig`, in configuration spelling).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginLimits {
    /// Failed logins a voter id may have in the voter window before it is locked.
    pub voter_failures: u32,
    /// The voter window, in seconds.
    pub voter_window_secs: u64,
    /// Login attempts one client address may make in the address window.
    pub address_attempts: u32,
    /// The address window, in seconds.
    pub address_window_secs: u64,
}

impl Default for LoginLimits {
    fn default() -> Self {
        let d = LimitConfig::default();
        Self {
            voter_failures: d.voter_failures,
            voter_window_secs: d.voter_window,
            address_attempts: d.address_attempts,
            address_window_secs: d.address_window,
        }
    }
}

impl From<LoginLimits> for LimitConfig {
    fn from(l: LoginLimits) -> Self {
        Self {
            voter_failures: l.voter_failures,
            voter_window: l.voter_window_secs,
            address_attempts: l.address_attempts,
            address_window: l.address_window_secs,
        }
    }
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
    /// The operations listener (plain text: health, readiness, Prometheus metrics).
    pub ops: SocketAddr,
}

impl Default for Listen {
    fn default() -> Self {
        Self::loopback(7400)
    }
}

impl Listen {
    /// Every listener on 127.0.0.1, at `base + 1 ..= base + 6`, `base + 80` and
    /// `base + 90` (all ephemeral when `base` is 0).
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
            ops: at(90),
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

    /// A configuration for `urna dev` and tests: loopback listeners; every voter
    /// logs in from the same address there (`urna demo` runs a whole roll), so the
    /// per-address limit is raised to 100,000 attempts a minute.
    #[must_use]
    pub fn dev(data_dir: PathBuf, base_port: u16) -> Self {
        Self {
            data_dir: Some(data_dir),
            store: StoreConfig::default(),
            redis: None,
            session_key_file: None,
            public_name: default_public_name(),
            tls: None,
            admin_token_file: None,
            rsa_bits: default_rsa_bits(),
            listen: Listen::loopback(base_port),
            login_limits: LoginLimits {
                address_attempts: 100_000,
                ..LoginLimits::default()
            },
            voting_codes: VotingCodes::default(),
            telemetry: None,
        }
    }

    fn check(&self) -> Result<()> {
        self.store.check()?;
        self.voting_codes.params()?;
        if self.store.backend == Backend::Embedded && self.data_dir.is_none() {
            bail!("data_dir is required for the embedded store");
        }
        if let Some(redis) = &self.redis {
            redis.check()?;
        }
        if let Some(telemetry) = &self.telemetry {
            telemetry.check()?;
        }
        if self.session_key_file.is_none()
            && (self.store.backend == Backend::Postgres || self.redis.is_some())
        {
            bail!(
                "session_key_file is required with backend postgres or redis: \
                 every replica must accept the others' session tokens"
            );
        }
        if !(2048..=4096).contains(&self.rsa_bits) {
            bail!("rsa_bits must be between 2048 and 4096");
        }
        urna_board::checkpoint::check_origin(&format!("{}/e", self.public_name))
            .map_err(|e| anyhow::anyhow!("public_name {:?}: {e}", self.public_name))?;
        let l = &self.login_limits;
        if l.voter_failures == 0 || l.address_attempts == 0 {
            bail!("login_limits: voter_failures and address_attempts must be at least 1");
        }
        if l.voter_window_secs == 0 || l.address_window_secs == 0 {
            bail!("login_limits: windows must be at least one second");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<Config> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("urna.yaml");
        std::fs::write(&file, yaml)?;
        Config::from_file(&file)
    }

    #[test]
    fn telemetry_is_optional_and_checked() {
        assert!(parse("data_dir: /tmp/x\n").unwrap().telemetry.is_none());
        let set = parse(
            "data_dir: /tmp/x\ntelemetry:\n  otlp_endpoint: http://collector:4317\n  \
             trace_sample_ratio: 0.25\n",
        )
        .unwrap()
        .telemetry
        .unwrap();
        assert_eq!(set.otlp_endpoint.as_deref(), Some("http://collector:4317"));
        assert_eq!(
            (set.export_interval_secs, set.trace_sample_ratio),
            (10, 0.25)
        );
        for bad in [
            "  otlp_endpoint: collector:4317\n",
            "  trace_sample_ratio: 1.5\n",
            "  export_interval_secs: 0\n",
            "  endpoint: http://x:4317\n",
        ] {
            assert!(
                parse(&format!("data_dir: /tmp/x\ntelemetry:\n{bad}")).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn login_limits_default_and_can_be_set() {
        let plain = parse("data_dir: /tmp/x\n").unwrap();
        assert_eq!(
            LimitConfig::from(plain.login_limits),
            LimitConfig::default()
        );
        let set = parse("data_dir: /tmp/x\nlogin_limits:\n  address_attempts: 500\n").unwrap();
        let limits = LimitConfig::from(set.login_limits);
        assert_eq!(limits.address_attempts, 500);
        assert_eq!(limits.voter_failures, LimitConfig::default().voter_failures);
    }

    #[test]
    fn bad_login_limits_are_refused() {
        let zero = parse("data_dir: /tmp/x\nlogin_limits:\n  voter_failures: 0\n");
        assert!(zero.unwrap_err().to_string().contains("login_limits"));
        let window = parse("data_dir: /tmp/x\nlogin_limits:\n  address_window_secs: 0\n");
        assert!(window.unwrap_err().to_string().contains("login_limits"));
        let unknown = parse("data_dir: /tmp/x\nlogin_limits:\n  per_voter: 3\n");
        assert!(unknown.is_err());
    }

    #[test]
    fn voting_codes_default_to_owasp_and_argon2_refuses_too_little_memory() {
        let plain = parse("data_dir: /tmp/x\n").unwrap();
        assert_eq!(plain.voting_codes.params().unwrap(), CodeParams::default());
        let cheap =
            parse("data_dir: /tmp/x\nvoting_codes:\n  memory_kib: 64\n  iterations: 1\n").unwrap();
        let params = cheap.voting_codes.params().unwrap();
        assert_eq!((params.memory_kib(), params.iterations()), (64, 1));
        assert_eq!(params.lanes(), CodeParams::default().lanes());
        let tiny = parse("data_dir: /tmp/x\nvoting_codes:\n  memory_kib: 4\n").unwrap_err();
        assert!(tiny.to_string().contains("voting_codes"), "{tiny}");
    }

    #[test]
    fn embedded_is_the_default_and_needs_data_dir() {
        let plain = parse("data_dir: /tmp/x\n").unwrap();
        assert_eq!(plain.store.backend, Backend::Embedded);
        assert!(plain.redis.is_none());
        let none = parse("public_name: a.example\n").unwrap_err();
        assert!(none.to_string().contains("data_dir"), "{none}");
        let url = parse("data_dir: /tmp/x\nstore:\n  url: host=db\n").unwrap_err();
        assert!(
            url.to_string().contains("url is for backend postgres"),
            "{url}"
        );
    }

    #[test]
    fn postgres_parses_with_session_key_and_without_data_dir() {
        let config = parse(
            "store:\n  backend: postgres\n  url: host=db user=urna dbname=urna\n  pool: 4\n\
             session_key_file: /etc/urna/key\n",
        )
        .unwrap();
        assert_eq!(config.store.backend, Backend::Postgres);
        assert_eq!(
            config.store.postgres_url().unwrap(),
            "host=db user=urna dbname=urna"
        );
        assert_eq!(config.store.pool, 4);
        assert!(config.data_dir.is_none());
        let default_pool =
            parse("store:\n  backend: postgres\n  url: host=db\nsession_key_file: /k\n").unwrap();
        assert_eq!(default_pool.store.pool, 16);
    }

    #[test]
    fn postgres_refusals() {
        let refused = |yaml: &str, expected: &str| {
            let err = parse(yaml).unwrap_err();
            assert!(format!("{err:#}").contains(expected), "{yaml}: {err:#}");
        };
        refused(
            "store:\n  backend: postgres\nsession_key_file: /k\n",
            "needs a url",
        );
        refused(
            "store:\n  backend: postgres\n  url: host=db\n",
            "session_key_file is required",
        );
        refused(
            "store:\n  backend: postgres\n  url: host=db\n  pool: 0\nsession_key_file: /k\n",
            "pool",
        );
        refused(
            "store:\n  backend: mysql\n  url: host=db\nsession_key_file: /k\n",
            "invalid configuration",
        );
        refused(
            "store:\n  backend: postgres\n  url: host=db\n  size: 3\nsession_key_file: /k\n",
            "invalid configuration",
        );
    }

    #[test]
    fn redis_parses_with_defaults_and_refuses_bad_values() {
        let config = parse(
            "data_dir: /tmp/x\nsession_key_file: /k\nredis:\n  url: redis://127.0.0.1:6379\n",
        )
        .unwrap();
        let redis = config.redis.unwrap();
        assert_eq!(
            redis.casting(),
            urna_casting::RedisConfig::new("redis://127.0.0.1:6379")
        );
        let auth = redis.auth();
        assert_eq!((auth.timeout_ms, auth.prefix.as_str()), (50, "urna"));
        let set = parse(
            "data_dir: /tmp/x\nsession_key_file: /k\nredis:\n  url: redis://r\n  ttl_secs: 60\n  \
             timeout_ms: 20\n  prefix: t1\n",
        )
        .unwrap()
        .redis
        .unwrap();
        assert_eq!(
            (set.ttl_secs, set.timeout_ms, set.prefix.as_str()),
            (60, 20, "t1")
        );
        let refused = |yaml: &str, expected: &str| {
            let err = parse(yaml).unwrap_err();
            assert!(format!("{err:#}").contains(expected), "{yaml}: {err:#}");
        };
        refused(
            "data_dir: /tmp/x\nredis:\n  url: redis://r\n",
            "session_key_file is required",
        );
        refused(
            "data_dir: /tmp/x\nsession_key_file: /k\nredis:\n  url: http://r\n",
            "redis://",
        );
        refused(
            "data_dir: /tmp/x\nsession_key_file: /k\nredis:\n  url: redis://r\n  timeout_ms: 0\n",
            "at least 1",
        );
        refused(
            "data_dir: /tmp/x\nsession_key_file: /k\nredis:\n  url: redis://r\n  prefix: \"\"\n",
            "prefix",
        );
    }

    #[test]
    fn dev_lets_one_address_log_in_a_whole_roll() {
        let dev = Config::dev(PathBuf::from("/tmp/x"), 0);
        assert!(dev.login_limits.address_attempts >= 10_000);
        dev.check().unwrap();
    }
}
