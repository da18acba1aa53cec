//! [`RedisLimiter`]: the login limits of [`MemoryLimiter`], kept in Redis so that
//! every auth replica counts the same attempts.
//!
//! Each window is a sorted set of events scored by their time (unix seconds), pruned
//! to the window, read and written in one Lua script per call:
//!
//! - `<prefix>:login:v:<hex HMAC(lp(VOTER_TAG) ‖ lp(election) ‖ lp(voter))>`: a voter's
//!   recent failed logins;
//! - `<prefix>:login:a:<hex HMAC(lp(ADDRESS_TAG) ‖ lp(address))>`: an address's recent
//!   attempts.
//!
//! The HMAC key is the session key, which every replica shares: no voter id or
//! address is stored in the clear, and ids cannot be recovered by hashing guesses
//! without the key. Each set expires one window after its last event.
//!
//! If Redis is down, failing or slow, each call falls back to an in-process
//! [`MemoryLimiter`] with the same limits (logged once per transition): limits then
//! hold per replica instead of across them, and logins never stop.

use std::net::IpAddr;
use std::time::Duration;

use rand::Rng;
use redis::Script;

use super::{LimitConfig, Limited, LoginLimiter, MemoryLimiter};
use crate::session::SessionKey;
use urna_service::RedisLink;

/// Domain tag of the voter keys' HMAC.
pub const VOTER_TAG: &str = "urna/v1/auth/limit-voter";
/// Domain tag of the address keys' HMAC.
pub const ADDRESS_TAG: &str = "urna/v1/auth/limit-address";

/// KEYS: voter failures, address attempts. ARGV: now, voter limit, voter window,
/// address limit, address window, a unique member. Returns 0 (admitted and counted),
/// 1 (the voter is locked) or 2 (the address is).
const ADMIT: &str = r"
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 1
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[5]))
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
  return 2
end
redis.call('ZADD', KEYS[2], now, ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return 0
";

/// KEYS: voter failures. ARGV: now, limit, window, a unique member. Records a
/// failure, keeping at most `limit`.
const FAILED: &str = r"
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
redis.call('ZADD', KEYS[1], now, ARGV[4])
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[2])
if excess > 0 then
  redis.call('ZPOPMIN', KEYS[1], excess)
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 0
";

/// KEYS: voter failures. Forgets them.
const SUCCEEDED: &str = r"
return redis.call('DEL', KEYS[1])
";

/// Where the limiter's Redis is and how it is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisLimitConfig {
    /// `redis://[user:password@]host:port[/db]` (plain TCP: keep Redis on a private
    /// network; TLS would need the redis crate's TLS feature).
    pub url: String,
    /// The longest a login waits for Redis, in milliseconds (default 50); slower
    /// answers are ignored and the in-process limits apply.
    pub timeout_ms: u64,
    /// The first part of every key (default `urna`), to share one Redis.
    pub prefix: String,
}

impl RedisLimitConfig {
    /// The defaults, with Redis at `url`.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            timeout_ms: 50,
            prefix: "urna".to_owned(),
        }
    }
}

/// Login limits shared by auth replicas through Redis, falling back to this
/// process's memory when Redis does not answer.
pub struct RedisLimiter {
    link: RedisLink,
    key: SessionKey,
    limits: LimitConfig,
    prefix: String,
    fallback: MemoryLimiter,
    admit: Script,
    failed: Script,
    succeeded: Script,
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("limits", &self.limits)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisLimiter {
    /// A limiter with `limits` over the Redis of `config`, its keys pseudonymised
    /// under `key` (give every replica the same session key). Connected lazily: an
    /// unreachable Redis is no error, the in-process limits apply until it answers.
    ///
    /// # Errors
    /// A malformed URL.
    pub fn new(
        config: &RedisLimitConfig,
        limits: LimitConfig,
        key: SessionKey,
    ) -> redis::RedisResult<Self> {
        Ok(Self {
            link: RedisLink::open(
                "auth_limits",
                &config.url,
                Duration::from_millis(config.timeout_ms),
                "login limits fall back to this process's memory",
                "login limits are shared again",
            )?,
            key,
            limits,
            prefix: config.prefix.clone(),
            fallback: MemoryLimiter::new(limits),
            admit: Script::new(ADMIT),
            failed: Script::new(FAILED),
            succeeded: Script::new(SUCCEEDED),
        })
    }

    /// Whether the last call to Redis failed (the in-process limits apply).
    #[must_use]
    pub fn degraded(&self) -> bool {
        self.link.degraded()
    }

    /// How many calls fell back to the in-process limits.
    #[must_use]
    pub fn fallbacks(&self) -> u64 {
        self.link.fallbacks()
    }

    fn voter_key(&self, election: &str, voter: &str) -> String {
        let id = self
            .key
            .pseudonym(VOTER_TAG, &[election.as_bytes(), voter.as_bytes()]);
        format!("{}:login:v:{}", self.prefix, hex(&id))
    }

    fn address_key(&self, client: IpAddr) -> String {
        let address = client.to_string();
        let id = self.key.pseudonym(ADDRESS_TAG, &[address.as_bytes()]);
        format!("{}:login:a:{}", self.prefix, hex(&id))
    }
}

impl LoginLimiter for RedisLimiter {
    async fn admit(
        &self,
        election: &str,
        voter: &str,
        client: IpAddr,
        now: u64,
    ) -> Result<(), Limited> {
        let limits = &self.limits;
        let mut invocation = self.admit.prepare_invoke();
        invocation
            .key(self.voter_key(election, voter))
            .key(self.address_key(client))
            .arg(now)
            .arg(limits.voter_failures)
            .arg(limits.voter_window)
            .arg(limits.address_attempts)
            .arg(limits.address_window)
            .arg(member(now));
        match self.link.invoke::<u8>(&invocation).await {
            Some(0) => Ok(()),
            Some(1) => Err(Limited::Voter),
            Some(_) => Err(Limited::Address),
            None => self.fallback.admit(election, voter, client, now).await,
        }
    }

    async fn failed(&self, election: &str, voter: &str, now: u64) {
        let mut invocation = self.failed.prepare_invoke();
        invocation
            .key(self.voter_key(election, voter))
            .arg(now)
            .arg(self.limits.voter_failures)
            .arg(self.limits.voter_window)
            .arg(member(now));
        if self.link.invoke::<u8>(&invocation).await.is_none() {
            self.fallback.failed(election, voter, now).await;
        }
    }

    async fn succeeded(&self, election: &str, voter: &str) {
        self.fallback.succeeded(election, voter).await;
        let mut invocation = self.succeeded.prepare_invoke();
        invocation.key(self.voter_key(election, voter));
        self.link.invoke::<u8>(&invocation).await;
    }
}

/// A sorted-set member unique to one event.
fn member(now: u64) -> String {
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    format!("{now}:{}", hex(&nonce))
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
