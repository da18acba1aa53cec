//! Login rate limits: failures per voter and attempts per client address, in sliding
//! windows, behind the [`LoginLimiter`] trait: [`MemoryLimiter`] keeps the windows in
//! this process, [`RedisLimiter`] in Redis, shared by replicas.

mod shared;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

pub use shared::{ADDRESS_TAG, RedisLimitConfig, RedisLimiter, VOTER_TAG};

/// Which limit refused a login.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Limited {
    /// The voter id had too many failed logins recently.
    #[error("too many failed logins for the voter")]
    Voter,
    /// The client address made too many attempts recently.
    #[error("too many login attempts from the address")]
    Address,
}

/// Rate-limit settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitConfig {
    /// Failed logins a voter id may have in `voter_window` before it is locked.
    pub voter_failures: u32,
    /// The voter window, in seconds.
    pub voter_window: u64,
    /// Login attempts one client address may make in `address_window`.
    pub address_attempts: u32,
    /// The address window, in seconds.
    pub address_window: u64,
}

impl Default for LimitConfig {
    /// 5 failures per voter per 15 minutes; 30 attempts per address per minute.
    fn default() -> Self {
        Self {
            voter_failures: 5,
            voter_window: 15 * 60,
            address_attempts: 30,
            address_window: 60,
        }
    }
}

/// Decides whether a login attempt may go ahead, and learns its outcome.
pub trait LoginLimiter: Send + Sync + 'static {
    /// Counts an attempt from `client` for `voter` of `election` at `now` (unix
    /// seconds), or refuses it without counting.
    fn admit(
        &self,
        election: &str,
        voter: &str,
        client: IpAddr,
        now: u64,
    ) -> impl Future<Output = Result<(), Limited>> + Send;

    /// Records a failed login for the voter id (whether or not it is on the roll).
    fn failed(&self, election: &str, voter: &str, now: u64) -> impl Future<Output = ()> + Send;

    /// Forgets the voter's failures after a successful login.
    fn succeeded(&self, election: &str, voter: &str) -> impl Future<Output = ()> + Send;
}

/// The in-process limiter: sliding windows of timestamps, swept as they grow.
#[derive(Debug)]
pub struct MemoryLimiter {
    voters: Mutex<Windows<(String, String)>>,
    addresses: Mutex<Windows<IpAddr>>,
}

impl MemoryLimiter {
    /// A limiter with the given limits.
    #[must_use]
    pub fn new(config: LimitConfig) -> Self {
        Self {
            voters: Mutex::new(Windows::new(config.voter_failures, config.voter_window)),
            addresses: Mutex::new(Windows::new(config.address_attempts, config.address_window)),
        }
    }
}

impl LoginLimiter for MemoryLimiter {
    async fn admit(
        &self,
        election: &str,
        voter: &str,
        client: IpAddr,
        now: u64,
    ) -> Result<(), Limited> {
        let key = (election.to_owned(), voter.to_owned());
        if self
            .voters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .full(&key, now)
        {
            return Err(Limited::Voter);
        }
        let mut addresses = self
            .addresses
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if addresses.full(&client, now) {
            return Err(Limited::Address);
        }
        addresses.hit(client, now);
        Ok(())
    }

    async fn failed(&self, election: &str, voter: &str, now: u64) {
        self.voters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .hit((election.to_owned(), voter.to_owned()), now);
    }

    async fn succeeded(&self, election: &str, voter: &str) {
        self.voters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .events
            .remove(&(election.to_owned(), voter.to_owned()));
    }
}

/// Timestamps of recent events per key: at most `limit` per key are kept, and keys
/// whose events all left the window are dropped when the map has doubled.
#[derive(Debug)]
struct Windows<K> {
    limit: usize,
    period: u64,
    events: HashMap<K, VecDeque<u64>>,
    sweep_at: usize,
}

/// The map size that triggers the first sweep.
const FIRST_SWEEP: usize = 1024;

impl<K: Hash + Eq> Windows<K> {
    fn new(limit: u32, period: u64) -> Self {
        Self {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            period,
            events: HashMap::new(),
            sweep_at: FIRST_SWEEP,
        }
    }

    /// Whether the key already has `limit` events in the window ending at `now`.
    fn full(&mut self, key: &K, now: u64) -> bool {
        let period = self.period;
        self.events.get_mut(key).is_some_and(|events| {
            expire(events, now, period);
            events.len() >= self.limit
        })
    }

    /// Records an event.
    fn hit(&mut self, key: K, now: u64) {
        let events = self.events.entry(key).or_default();
        expire(events, now, self.period);
        if events.len() >= self.limit {
            events.pop_front();
        }
        events.push_back(now);
        if self.events.len() >= self.sweep_at {
            let period = self.period;
            self.events.retain(|_, events| {
                expire(events, now, period);
                !events.is_empty()
            });
            self.sweep_at = (self.events.len() * 2).max(FIRST_SWEEP);
        }
    }
}

/// Drops the events older than `period` seconds before `now`.
fn expire(events: &mut VecDeque<u64>, now: u64, period: u64) {
    while events
        .front()
        .is_some_and(|&t| t.saturating_add(period) <= now)
    {
        events.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

    fn limiter() -> MemoryLimiter {
        MemoryLimiter::new(LimitConfig {
            voter_failures: 2,
            voter_window: 100,
            address_attempts: 3,
            address_window: 10,
        })
    }

    #[tokio::test]
    async fn voter_failures_lock_the_voter_until_the_window_passes() {
        let l = limiter();
        for t in [0, 1] {
            assert_eq!(l.admit("e", "v", A, t).await, Ok(()));
            l.failed("e", "v", t).await;
        }
        assert_eq!(l.admit("e", "v", B, 2).await, Err(Limited::Voter));
        assert_eq!(l.admit("e", "w", B, 2).await, Ok(()));
        assert_eq!(l.admit("f", "v", B, 2).await, Ok(()));
        assert_eq!(l.admit("e", "v", B, 100).await, Ok(()));
        l.failed("e", "v", 100).await;
        l.succeeded("e", "v").await;
        l.failed("e", "v", 101).await;
        assert_eq!(l.admit("e", "v", B, 102).await, Ok(()));
    }

    #[tokio::test]
    async fn address_attempts_are_limited_per_address() {
        let l = limiter();
        for voter in ["a", "b", "c"] {
            assert_eq!(l.admit("e", voter, A, 5).await, Ok(()));
        }
        assert_eq!(l.admit("e", "d", A, 5).await, Err(Limited::Address));
        assert_eq!(l.admit("e", "d", B, 5).await, Ok(()));
        assert_eq!(l.admit("e", "d", A, 15).await, Ok(()));
    }

    #[test]
    fn sweeping_drops_keys_whose_window_passed() {
        let mut w = Windows::new(1, 10);
        for k in 0..FIRST_SWEEP {
            w.hit(k, 0);
        }
        assert_eq!(w.events.len(), FIRST_SWEEP);
        for k in 0..FIRST_SWEEP {
            w.hit(FIRST_SWEEP + k, 20);
        }
        assert!(w.events.len() <= FIRST_SWEEP);
        assert!(w.full(&(2 * FIRST_SWEEP - 1), 20));
    }
}
