//! The Redis login limiter against the machine's Redis (`URNA_TEST_REDIS`, default
//! `redis://127.0.0.1:6379`; unreachable, the tests print a loud `SKIPPED:` line
//! and pass, except under `CI=true`, where they fail): two limiters stand for two auth
//! replicas sharing their limits, keys carry no voter id, and an unreachable Redis
//! leaves the in-process limits in force.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use rand::Rng;
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use std::sync::Arc;

use urna_auth::{
    Auth, AuthConfig, AuthError, LimitConfig, Limited, LoginLimiter, RedisLimitConfig,
    RedisLimiter, SessionKey,
};
use urna_service::testing::TestElection;
use urna_store::{CodeHash, CodeParams, RollEntry, RollStore, VotingCode};

const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const B: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
const T: u64 = 1_000_000;

const LIMITS: LimitConfig = LimitConfig {
    voter_failures: 2,
    voter_window: 100,
    address_attempts: 3,
    address_window: 10,
};

/// The test Redis and this test's key prefix, or `None` after a SKIPPED line.
async fn test_redis(test: &str) -> Option<(String, String, MultiplexedConnection)> {
    let url =
        std::env::var("URNA_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let conn = async {
        let client = redis::Client::open(url.as_str())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        Ok::<_, redis::RedisError>(conn)
    };
    let error = match tokio::time::timeout(Duration::from_secs(5), conn).await {
        Ok(Ok(conn)) => {
            let mut nonce = [0u8; 6];
            rand::rng().fill_bytes(&mut nonce);
            let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
            let prefix = format!("urna-test-{}-{nonce}", std::process::id());
            return Some((url, prefix, conn));
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => "no answer in 5 s".to_owned(),
    };
    // urna-store's policy for a missing test service: skip loudly, fail under CI=true.
    let failing = urna_store::testing::must_fail_unreachable("Redis", &url, &error);
    assert!(!failing, "{test}: Redis required under CI=true");
    None
}

async fn keys(conn: &mut MultiplexedConnection, prefix: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut iter = conn
        .scan_match::<_, String>(format!("{prefix}:*"))
        .await
        .unwrap();
    while let Some(key) = iter.next_item().await {
        keys.push(key.unwrap());
    }
    keys
}

async fn clean(conn: &mut MultiplexedConnection, prefix: &str) {
    for key in keys(conn, prefix).await {
        conn.del::<_, ()>(key).await.unwrap();
    }
}

fn replica(url: &str, prefix: &str, key: &SessionKey) -> RedisLimiter {
    let config = RedisLimitConfig {
        timeout_ms: 2_000,
        prefix: prefix.to_owned(),
        ..RedisLimitConfig::new(url)
    };
    RedisLimiter::new(&config, LIMITS, key.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_the_voter_and_address_limits() {
    let Some((url, prefix, mut conn)) = test_redis("limiter: shared").await else {
        return;
    };
    let key = SessionKey::from_bytes([3; 32]);
    let (one, two) = (replica(&url, &prefix, &key), replica(&url, &prefix, &key));

    // Two failures for alice, one on each replica, lock her on both.
    assert_eq!(one.admit("e", "alice", A, T).await, Ok(()));
    one.failed("e", "alice", T).await;
    assert_eq!(two.admit("e", "alice", B, T + 1).await, Ok(()));
    two.failed("e", "alice", T + 1).await;
    assert_eq!(one.admit("e", "alice", B, T + 2).await, Err(Limited::Voter));
    assert_eq!(two.admit("e", "alice", B, T + 2).await, Err(Limited::Voter));
    assert_eq!(two.admit("f", "alice", B, T + 2).await, Ok(()));
    // A success on one replica forgets her failures on both.
    one.succeeded("e", "alice").await;
    assert_eq!(two.admit("e", "alice", B, T + 3).await, Ok(()));
    // The voter window slides: two new failures lock her until the first leaves it.
    two.failed("e", "alice", T + 10).await;
    one.failed("e", "alice", T + 20).await;
    assert_eq!(
        one.admit("e", "alice", B, T + 109).await,
        Err(Limited::Voter)
    );
    assert_eq!(two.admit("e", "alice", B, T + 110).await, Ok(()));

    // Address A made one attempt above (at T); two more, one per replica, fill it.
    assert_eq!(two.admit("e", "bob", A, T + 5).await, Ok(()));
    assert_eq!(one.admit("e", "carol", A, T + 5).await, Ok(()));
    assert_eq!(
        two.admit("e", "dave", A, T + 9).await,
        Err(Limited::Address)
    );
    assert_eq!(one.admit("e", "dave", B, T + 9).await, Ok(()));
    // Once the attempt at T leaves the window, A may try again.
    assert_eq!(one.admit("e", "dave", A, T + 10).await, Ok(()));
    assert!(!one.degraded() && !two.degraded());
    assert_eq!(one.fallbacks() + two.fallbacks(), 0);

    // No key names a voter, an election or an address in the clear.
    let stored = keys(&mut conn, &prefix).await;
    assert!(!stored.is_empty());
    for k in &stored {
        for clear in ["alice", "bob", "carol", ":e:", "192.0.2"] {
            assert!(!k.contains(clear), "{k} contains {clear}");
        }
    }
    clean(&mut conn, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_with_different_keys_do_not_share_voter_limits() {
    let Some((url, prefix, mut conn)) = test_redis("limiter: keys").await else {
        return;
    };
    let one = replica(&url, &prefix, &SessionKey::from_bytes([1; 32]));
    let other = replica(&url, &prefix, &SessionKey::from_bytes([2; 32]));
    one.failed("e", "alice", T).await;
    one.failed("e", "alice", T).await;
    assert_eq!(one.admit("e", "alice", A, T).await, Err(Limited::Voter));
    assert_eq!(other.admit("e", "alice", B, T).await, Ok(()));
    clean(&mut conn, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_unreachable_the_limits_hold_in_process() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let key = SessionKey::from_bytes([3; 32]);
    let limiter = replica(&format!("redis://127.0.0.1:{port}"), "urna-test", &key);

    // Logins go on...
    assert_eq!(limiter.admit("e", "alice", A, T).await, Ok(()));
    assert!(limiter.degraded());
    limiter.failed("e", "alice", T).await;
    limiter.failed("e", "alice", T).await;
    // ...and are still limited.
    assert_eq!(limiter.admit("e", "alice", B, T).await, Err(Limited::Voter));
    assert_eq!(limiter.admit("e", "bob", A, T).await, Ok(()));
    assert_eq!(limiter.admit("e", "carol", A, T).await, Ok(()));
    assert_eq!(
        limiter.admit("e", "dave", A, T).await,
        Err(Limited::Address)
    );
    limiter.succeeded("e", "alice").await;
    assert_eq!(limiter.admit("e", "alice", B, T).await, Ok(()));
    assert!(limiter.fallbacks() >= 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_on_one_auth_replica_lock_the_voter_on_the_other() {
    let Some((url, prefix, mut conn)) = test_redis("limiter: auth replicas").await else {
        return;
    };
    let election = TestElection::new().await;
    let params = CodeParams::new(64, 1, 1).unwrap();
    let code = VotingCode::generate(&mut rand::rng());
    let entry = RollEntry {
        voter: "alice".into(),
        style: "members".into(),
        code: CodeHash::new(&code, params, &mut rand::rng()).unwrap(),
    };
    let store = election.store();
    store.import_roll(election.id(), vec![entry]).await.unwrap();
    let key = SessionKey::from_bytes([5; 32]);
    let replicas: Vec<_> = (0..2)
        .map(|_| {
            let config = AuthConfig {
                session_key: Some(key.clone()),
                limits: LIMITS,
                code_params: params,
                ..AuthConfig::default()
            };
            let limiter = replica(&url, &prefix, &key);
            Auth::with_limiter(store.clone(), config, Arc::new(|| T), limiter)
        })
        .collect();
    let (id, right) = (election.id(), code.display().to_string());
    for _ in 0..2 {
        let wrong = replicas[0]
            .login(id, "alice", "0000-0000-0000-0000", A)
            .await;
        assert!(matches!(wrong, Err(AuthError::InvalidCredentials)));
    }
    let locked = replicas[1].login(id, "alice", &right, B).await;
    assert!(matches!(
        locked,
        Err(AuthError::RateLimited(Limited::Voter))
    ));
    assert!(replicas.iter().all(|auth| !auth.limiter().degraded()));
    clean(&mut conn, &prefix).await;
}
