//! A Redis connection that never holds its caller up for long and knows whether Redis
//! is answering (casting's nullifier gate and auth's shared login limits use it): each script call is bounded by a timeout; a failure or a timeout
//! marks the link degraded (logged once per transition) and, while degraded, calls
//! are skipped without waiting except for one probe per [`PROBE_INTERVAL`]. The
//! connection manager reconnects by itself, so the link recovers when Redis returns.
//!
//! Metrics (OpenTelemetry API): `urna.redis.degraded` (1 while degraded, else 0) and
//! `urna.redis.fallbacks` (calls that went on without Redis), both by `user` (which
//! part of urna the link serves).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Gauge};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, RedisResult, ScriptInvocation};

/// While degraded, how often a call still tries Redis.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// How long one connection attempt may take (the calls themselves are bounded by
/// the link's shorter timeout; a connection attempt goes on in the background).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// A bounded, self-healing Redis connection.
pub struct RedisLink {
    conn: ConnectionManager,
    timeout: Duration,
    started: Instant,
    degraded: AtomicBool,
    /// While degraded: milliseconds after `started` before the next probe.
    probe_at: AtomicU64,
    fallbacks: AtomicU64,
    /// What the caller does without Redis, and with it again (logged on transitions).
    without: &'static str,
    with: &'static str,
    user: [KeyValue; 1],
    degraded_gauge: Gauge<u64>,
    fallback_counter: Counter<u64>,
}

impl RedisLink {
    /// A link to `url` (connected lazily: an unreachable Redis is not an error here),
    /// each call bounded by `timeout`. `user` names the caller in metrics; `without`
    /// and `with` say, in the log, what it does when Redis goes and when it is back.
    ///
    /// # Errors
    /// A malformed URL.
    pub fn open(
        user: &'static str,
        url: &str,
        timeout: Duration,
        without: &'static str,
        with: &'static str,
    ) -> RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(None)
            .set_number_of_retries(1)
            .set_max_delay(PROBE_INTERVAL);
        let meter = opentelemetry::global::meter("urna");
        let user = [KeyValue::new("user", user)];
        let degraded_gauge = meter
            .u64_gauge("urna.redis.degraded")
            .with_description("1 while Redis does not answer and the caller goes on without it")
            .build();
        degraded_gauge.record(0, &user);
        let fallback_counter = meter
            .u64_counter("urna.redis.fallbacks")
            .with_description("Calls that went on without Redis (failed, too slow or skipped)")
            .build();
        Ok(Self {
            conn: ConnectionManager::new_lazy_with_config(client, config)?,
            timeout,
            started: Instant::now(),
            degraded: AtomicBool::new(false),
            probe_at: AtomicU64::new(0),
            fallbacks: AtomicU64::new(0),
            without,
            with,
            user,
            degraded_gauge,
            fallback_counter,
        })
    }

    /// Runs a script; `None` if Redis failed, was too slow or is known to be down
    /// (the caller then goes on without it).
    pub async fn invoke<T: FromRedisValue>(&self, invocation: &ScriptInvocation<'_>) -> Option<T> {
        if self.degraded.load(Ordering::Acquire)
            && self.elapsed_ms() < self.probe_at.load(Ordering::Acquire)
        {
            self.fallbacks.fetch_add(1, Ordering::Relaxed);
            self.fallback_counter.add(1, &self.user);
            return None;
        }
        let mut conn = self.conn.clone();
        match tokio::time::timeout(self.timeout, invocation.invoke_async(&mut conn)).await {
            Ok(Ok(value)) => {
                if self.degraded.swap(false, Ordering::AcqRel) {
                    self.degraded_gauge.record(0, &self.user);
                    tracing::info!("Redis answers again: {}", self.with);
                }
                Some(value)
            }
            Ok(Err(error)) => {
                self.failed(&error);
                None
            }
            Err(_) => {
                self.failed(&format_args!("no answer within {:?}", self.timeout));
                None
            }
        }
    }

    /// Whether the last call failed (Redis down, failing or too slow).
    pub fn degraded(&self) -> bool {
        self.degraded.load(Ordering::Acquire)
    }

    /// How many calls went on without Redis.
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    fn failed(&self, error: &dyn std::fmt::Display) {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        self.fallback_counter.add(1, &self.user);
        let next = self.elapsed_ms().saturating_add(millis(PROBE_INTERVAL));
        self.probe_at.store(next, Ordering::Release);
        if !self.degraded.swap(true, Ordering::AcqRel) {
            self.degraded_gauge.record(1, &self.user);
            tracing::warn!(%error, "Redis unavailable: {}", self.without);
        }
    }

    fn elapsed_ms(&self) -> u64 {
        millis(self.started.elapsed())
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
