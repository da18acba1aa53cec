//! The nullifier gate: a fast first check, shared by every casting replica through
//! Redis, that turns away a second, different ballot of a spent credential under
//! `once` before it reaches the store.
//!
//! One key per credential and election, `<prefix>:<election>:nf:<nullifier hex>`,
//! holds the hex tracking code (the domain-separated SHA-256 of the ballot's
//! canonical encoding) of the first ballot that claimed it, for `ttl_secs`. A Lua
//! script sets it if absent and otherwise returns what it holds; another deletes it
//! only if it still holds a given tracking code.
//!
//! Redis is never the authority: the store's nullifier insert decides. The gate only
//! answers early what the store would answer, and when Redis is down, failing or
//! slower than `timeout_ms`, casting goes on through the store alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use redis::Script;
use urna_crypto::Nullifier;

use urna_service::RedisLink;

/// Sets the key to ARGV[1] with a TTL of ARGV[2] seconds if it is absent (returns
/// nil), or returns the value it holds.
const CLAIM: &str = r"
local held = redis.call('GET', KEYS[1])
if held then
  return held
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
";

/// Deletes the key if it holds ARGV[1]; returns how many keys were deleted.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Where the gate's Redis is and how it is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` (plain TCP: keep Redis on a private
    /// network; TLS would need the redis crate's TLS feature).
    pub url: String,
    /// How long a claim is kept, in seconds (default 24 hours). After it expires the
    /// store alone turns away a second ballot of the credential.
    pub ttl_secs: u64,
    /// The longest a cast waits for Redis, in milliseconds (default 50); slower
    /// answers are ignored and the cast goes on through the store.
    pub timeout_ms: u64,
    /// The first part of every key (default `urna`), to share one Redis.
    pub prefix: String,
}

impl RedisConfig {
    /// The defaults, with Redis at `url`.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ttl_secs: 24 * 60 * 60,
            timeout_ms: 50,
            prefix: "urna".to_owned(),
        }
    }
}

/// What the gate did so far, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GateStats {
    /// Redis failed or was too slow at the last call: casting goes through the store
    /// alone until it answers again.
    pub degraded: bool,
    /// Ballots turned away by the gate without a store call.
    pub refused: u64,
    /// Ballots the gate let through to the store after Redis answered.
    pub passed: u64,
    /// Gate calls that went on without Redis.
    pub fallbacks: u64,
}

/// What Redis said about a ballot's credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// This ballot claimed the credential now.
    New,
    /// The credential is claimed by this same ballot (an identical retry, or a
    /// concurrent duplicate).
    Same,
    /// The credential is claimed by a different ballot.
    Taken,
    /// Redis did not answer; the claim may or may not have been made.
    Unknown,
}

/// The gate in front of the store's cast.
pub struct NullifierGate {
    link: RedisLink,
    ttl_secs: u64,
    prefix: String,
    claim: Script,
    release: Script,
    refused: AtomicU64,
    passed: AtomicU64,
}

impl std::fmt::Debug for NullifierGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NullifierGate")
            .field("prefix", &self.prefix)
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl NullifierGate {
    /// A gate over the Redis of `config`, connected lazily (an unreachable Redis is
    /// not an error: the gate starts degraded and recovers when it answers).
    ///
    /// # Errors
    /// A malformed URL.
    pub fn new(config: &RedisConfig) -> redis::RedisResult<Self> {
        Ok(Self {
            link: RedisLink::open(
                "casting_gate",
                &config.url,
                Duration::from_millis(config.timeout_ms),
                "the nullifier gate is skipped, casting goes on through the store alone",
                "the nullifier gate is back in use",
            )?,
            ttl_secs: config.ttl_secs.max(1),
            prefix: config.prefix.clone(),
            claim: Script::new(CLAIM),
            release: Script::new(RELEASE),
            refused: AtomicU64::new(0),
            passed: AtomicU64::new(0),
        })
    }

    /// What the gate did so far.
    #[must_use]
    pub fn stats(&self) -> GateStats {
        GateStats {
            degraded: self.link.degraded(),
            refused: self.refused.load(Ordering::Relaxed),
            passed: self.passed.load(Ordering::Relaxed),
            fallbacks: self.link.fallbacks(),
        }
    }

    /// The key of a credential's claim.
    fn key(&self, election: &str, nullifier: &Nullifier) -> String {
        format!(
            "{}:{election}:nf:{}",
            self.prefix,
            hex(nullifier.as_bytes())
        )
    }

    /// Claims the credential for the ballot with this tracking code.
    pub(crate) async fn claim(
        &self,
        election: &str,
        nullifier: &Nullifier,
        tracking_code: &[u8; 32],
    ) -> Claim {
        let ours = hex(tracking_code);
        let mut invocation = self.claim.prepare_invoke();
        invocation
            .key(self.key(election, nullifier))
            .arg(&ours)
            .arg(self.ttl_secs);
        let claim = match self.link.invoke::<Option<String>>(&invocation).await {
            None => return Claim::Unknown,
            Some(None) => Claim::New,
            Some(Some(held)) if held == ours => Claim::Same,
            Some(Some(_)) => Claim::Taken,
        };
        let counter = if claim == Claim::Taken {
            &self.refused
        } else {
            &self.passed
        };
        counter.fetch_add(1, Ordering::Relaxed);
        claim
    }

    /// Deletes the credential's claim if it still holds this tracking code.
    async fn release(&self, election: &str, nullifier: &Nullifier, tracking_code: &[u8; 32]) {
        let mut invocation = self.release.prepare_invoke();
        invocation
            .key(self.key(election, nullifier))
            .arg(hex(tracking_code));
        self.link.invoke::<u64>(&invocation).await;
    }
}

/// A claim this cast may have made, released unless the store recorded the ballot:
/// explicitly after a failed store cast, or in the background if the cast is
/// dropped half-way (the client went away).
pub(crate) struct Held {
    gate: Option<Arc<NullifierGate>>,
    election: String,
    nullifier: Nullifier,
    tracking_code: [u8; 32],
}

impl Held {
    pub(crate) fn new(
        gate: Arc<NullifierGate>,
        election: &str,
        nullifier: Nullifier,
        tracking_code: [u8; 32],
    ) -> Self {
        Self {
            gate: Some(gate),
            election: election.to_owned(),
            nullifier,
            tracking_code,
        }
    }

    /// The store recorded the ballot: the claim stays.
    pub(crate) fn keep(mut self) {
        self.gate = None;
    }

    /// The store did not record the ballot: the claim goes, so the voter can cast.
    pub(crate) async fn release(mut self) {
        if let Some(gate) = self.gate.take() {
            gate.release(&self.election, &self.nullifier, &self.tracking_code)
                .await;
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(gate) = self.gate.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let election = std::mem::take(&mut self.election);
        let nullifier = self.nullifier;
        let tracking_code = self.tracking_code;
        runtime.spawn(async move {
            gate.release(&election, &nullifier, &tracking_code).await;
        });
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_name_the_election_and_the_nullifier_in_hex() {
        let gate = NullifierGate::new(&RedisConfig::new("redis://127.0.0.1:1")).unwrap();
        let nullifier = Nullifier::from_bytes([0xab; 32]);
        assert_eq!(
            gate.key("club-2026", &nullifier),
            format!("urna:club-2026:nf:{}", "ab".repeat(32))
        );
        assert_eq!(hex(&[0, 1, 0xfe]), "0001fe");
    }

    #[test]
    fn claims_last_a_day_and_redis_may_take_50_ms_by_default() {
        let config = RedisConfig::new("redis://127.0.0.1:6379");
        assert_eq!((config.ttl_secs, config.timeout_ms), (24 * 60 * 60, 50));
        assert_eq!(config.prefix, "urna");
    }
}
