//! The machine's Redis for tests: `URNA_TEST_REDIS` (default
//! `redis://127.0.0.1:6379`). Unreachable, a test prints a loud `SKIPPED:` line
//! and passes, except under `CI=true`, where it fails (urna-store's policy). Each test works under its own key
//! prefix and deletes its keys at the end.

use std::time::Duration;

use rand::Rng;
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use urna_casting::RedisConfig;

/// A reachable test Redis and this test's key prefix.
pub struct TestRedis {
    pub url: String,
    pub prefix: String,
    conn: MultiplexedConnection,
}

impl TestRedis {
    /// The test Redis, or `None` (after a SKIPPED line) if it is unreachable outside
    /// CI.
    pub async fn connect(test: &str) -> Option<Self> {
        let url = std::env::var("URNA_TEST_REDIS")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
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
                return Some(Self { url, prefix, conn });
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => "no answer in 5 s".to_owned(),
        };
        // urna-store's policy for a missing test service: skip loudly, fail under CI=true.
        let failing = urna_store::testing::must_fail_unreachable("Redis", &url, &error);
        assert!(!failing, "{test}: Redis required under CI=true");
        None
    }

    /// A gate configuration on this Redis under this test's prefix, with a timeout
    /// generous enough for a loaded test machine and claims that expire within ten
    /// minutes (should a failed test leave some).
    pub fn gate(&self) -> RedisConfig {
        RedisConfig {
            timeout_ms: 2_000,
            ttl_secs: 600,
            prefix: self.prefix.clone(),
            ..RedisConfig::new(self.url.clone())
        }
    }

    pub async fn get(&self, key: &str) -> Option<String> {
        self.conn.clone().get(key).await.unwrap()
    }

    pub async fn set(&self, key: &str, value: &str) {
        self.conn.clone().set::<_, _, ()>(key, value).await.unwrap();
    }

    pub async fn ttl(&self, key: &str) -> i64 {
        self.conn.clone().ttl(key).await.unwrap()
    }

    pub async fn del(&self, key: &str) {
        self.conn.clone().del::<_, ()>(key).await.unwrap();
    }

    /// The keys under this test's prefix.
    pub async fn keys(&self) -> Vec<String> {
        let mut conn = self.conn.clone();
        let mut keys = Vec::new();
        let mut iter = conn
            .scan_match::<_, String>(format!("{}:*", self.prefix))
            .await
            .unwrap();
        while let Some(key) = iter.next_item().await {
            keys.push(key.unwrap());
        }
        keys
    }

    /// Deletes this test's keys.
    pub async fn clean(&self) {
        for key in self.keys().await {
            self.del(&key).await;
        }
    }
}

/// The key of a credential's claim, as operations.md documents it.
pub fn claim_key(prefix: &str, election: &str, ballot: &urna_crypto::EncryptedBallot) -> String {
    format!(
        "{prefix}:{election}:nf:{}",
        hex(ballot.nullifier().as_bytes())
    )
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A URL where nothing listens.
pub async fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("redis://127.0.0.1:{port}")
}

/// A loopback TCP relay to the test Redis that the test can cut and restore, to
/// take Redis away and bring it back.
pub struct Relay {
    port: u16,
    target: String,
    task: Option<JoinHandle<()>>,
}

impl Relay {
    /// A running relay to `url`'s host and port.
    pub async fn start(url: &str) -> Self {
        let target = url
            .trim_start_matches("redis://")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut relay = Self {
            port,
            target,
            task: None,
        };
        relay.serve(listener);
        relay
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Closes the port and every relayed connection.
    pub async fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    pub async fn restore(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }

    fn serve(&mut self, listener: TcpListener) {
        let target = self.target.clone();
        self.task = Some(tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                connections.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
    }
}
