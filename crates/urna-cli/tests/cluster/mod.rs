//! A cluster of `urna serve` processes over one PostgreSQL database (and Redis), for
//! the tests that kill, stop and restart its parts: the processes, an election on
//! DESIGN.md's reference ballot set up through `urna admin` and three `urna trustee`
//! processes, voters' ballots prepared through auth and issuance before any load,
//! a load driver that retries like a client should, and the reconciliation of the
//! receipts the clients hold against the board and the database.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, watch};
use urna_board::{Entry, EntryKind};
use urna_proto::v1 as proto;
use urna_proto::v1::board_client::BoardClient;
use urna_sdk::{Choice, Choices, Election, Endpoints, Error, Receipt, Tls, TrustRoot, Voter};
use urna_store::{BallotStore as _, PgStore};

pub mod services;

use crate::support::{Serve, urna};

/// DESIGN.md's reference ballot: one contest, five options, select exactly one;
/// one ballot per credential (`once`), so a second, different ballot is refused.
pub const REFERENCE_OPTIONS: [&str; 5] = ["a", "b", "c", "d", "e"];

fn reference_manifest(id: &str) -> String {
    format!(
        "id: {id}\n\
         title: Reference ballot under faults\n\
         start: 2026-01-01T00:00:00Z\n\
         end: 2099-12-31T00:00:00Z\n\
         revoting: once\n\
         trustees: {{ count: 3, threshold: 2 }}\n\
         contests:\n  - id: choice\n    title: Choose one\n    method: plurality\n    options:\n\
         {}\
         ballot_styles:\n  - id: all\n    title: Everyone\n    contests: [choice]\n",
        REFERENCE_OPTIONS
            .iter()
            .map(|o| format!("      - {{ id: {o}, name: Option {o} }}\n"))
            .collect::<String>()
    )
}

/// The choices of a reference ballot marking option `n` (mod 5).
pub fn marking(n: usize) -> Choices {
    let mut choices = Choices::new();
    choices.insert(
        "choice".into(),
        Choice::Marks(vec![REFERENCE_OPTIONS[n % 5].into()]),
    );
    choices
}

/// Where the cluster keeps its state: PostgreSQL and Redis URLs.
pub struct Backing {
    pub postgres: String,
    pub redis: Option<String>,
    pub prefix: String,
}

/// The configuration every process shares (each adds its listeners); the voting
/// codes get a cheap Argon2id, since thousands are imported and all are throwaway.
fn common_config(dir: &Path, backing: &Backing) -> String {
    let token = dir.join("admin-token");
    std::fs::write(&token, "a-test-admin-token-of-enough-length\n").unwrap();
    let key = dir.join("session-key");
    std::fs::write(&key, format!("{}\n", "5a".repeat(32))).unwrap();
    // JSON strings are YAML strings: the connection string is quoted whatever it holds.
    let quoted = |s: &str| serde_json::Value::from(s).to_string();
    let redis = backing.redis.as_deref().map_or_else(String::new, |url| {
        format!(
            "redis:\n  url: {}\n  prefix: {}\n",
            quoted(url),
            quoted(&backing.prefix)
        )
    });
    format!(
        "store:\n  backend: postgres\n  url: {}\n  pool: 8\n{redis}\
         session_key_file: {}\nadmin_token_file: {}\n\
         login_limits:\n  address_attempts: 1000000\n\
         voting_codes:\n  memory_kib: 64\n  iterations: 1\n  lanes: 1\n",
        quoted(&backing.postgres),
        quoted(key.to_str().unwrap()),
        quoted(token.to_str().unwrap()),
    )
}

/// One voter's prepared submissions: the ballot, and for some a second, different
/// ballot under the same credential.
#[derive(Clone)]
pub struct Prepared {
    pub voter: usize,
    pub ballot: urna_crypto::EncryptedBallot,
    pub other: Option<urna_crypto::EncryptedBallot>,
}

/// The processes, the election and the clients of each casting replica.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub election: String,
    pub backing: Backing,
    /// `urna serve all` first, then the `urna serve casting` replicas.
    pub servers: Vec<Serve>,
    /// One client per server, casting (and reading the board) through it.
    pub clients: Vec<Voter>,
    pub info: Election,
}

impl Cluster {
    /// Starts `urna serve all` and `replicas - 1` casting processes, creates and
    /// opens an election `<name>-<pid>` of `voters` voters on the reference ballot (its key ceremony
    /// run by three `urna trustee` processes), and fetches it through each server.
    pub async fn start(name: &str, backing: Backing, replicas: usize, voters: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let common = common_config(dir.path(), &backing);
        let first = Serve::start(dir.path(), "serve-0", "all", &common);
        let election = format!("{name}-{}", std::process::id());
        let connection = first.connection_file(dir.path(), &election);
        let conn = connection.to_str().unwrap().to_owned();
        let manifest = dir.path().join("manifest.yaml");
        std::fs::write(&manifest, reference_manifest(&election)).unwrap();
        urna(&[
            "admin",
            "--dev",
            &conn,
            "create",
            manifest.to_str().unwrap(),
        ]);
        crate::support::ceremony(dir.path(), &conn);

        let roll = dir.path().join("roll.csv");
        let mut csv = String::from("voter_id,ballot_style\n");
        for n in 0..voters {
            csv.push_str(&format!("v{n:06},all\n"));
        }
        std::fs::write(&roll, csv).unwrap();
        let codes = dir.path().join("codes.csv");
        urna(&[
            "admin",
            "--dev",
            &conn,
            "import-roll",
            &election,
            roll.to_str().unwrap(),
            "--codes-out",
            codes.to_str().unwrap(),
        ]);
        urna(&["admin", "--dev", &conn, "open", "--test", &election]);
        let opened = urna(&["admin", "--dev", &conn, "open", &election]);
        assert!(opened.contains("Open"), "{opened}");

        let mut servers = vec![first];
        for n in 1..replicas {
            let name = format!("serve-{n}");
            servers.push(Serve::start(dir.path(), &name, "casting", &common));
        }
        let clients: Vec<Voter> = servers
            .iter()
            .map(|cast| {
                let endpoints = Endpoints {
                    auth: servers[0].ports.url("auth").parse().unwrap(),
                    issuance: servers[0].ports.url("issuance").parse().unwrap(),
                    casting: cast.ports.url("casting").parse().unwrap(),
                    board: cast.ports.url("board").parse().unwrap(),
                };
                Voter::connect(&endpoints, &Tls::Plaintext, &election).unwrap()
            })
            .collect();
        let info = clients[0]
            .fetch_election(&TrustRoot::FirstUse)
            .await
            .unwrap();
        let pinned = TrustRoot::Pinned(info.board_key().to_string());
        for client in &clients[1..] {
            client.fetch_election(&pinned).await.unwrap();
        }
        Self {
            dir,
            election,
            backing,
            servers,
            clients,
            info,
        }
    }

    /// The voting codes, by voter number.
    fn codes(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("codes.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(','))
            .map(|(_, c)| c.to_owned())
            .collect()
    }

    /// Logs every voter in, gets its credential and encrypts its ballot (marking
    /// option `voter mod 5`); every `other_every`-th voter also gets a second,
    /// different ballot under the same credential.
    pub async fn prepare(&self, other_every: usize) -> Vec<Prepared> {
        let codes = self.codes();
        let limit = Arc::new(Semaphore::new(16));
        let mut tasks = tokio::task::JoinSet::new();
        for (voter, code) in codes.into_iter().enumerate() {
            let client = self.clients[0].clone();
            let info = self.info.clone();
            let limit = Arc::clone(&limit);
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await.unwrap();
                let session = client.login(&format!("v{voter:06}"), &code).await.unwrap();
                let style = client.ballot_style(&info, &session.style_id).await.unwrap();
                let credential = client.credential(&info, &session).await.unwrap();
                tokio::task::spawn_blocking(move || {
                    let ballot = style.encrypt(&credential, &marking(voter)).unwrap().0;
                    let other = (other_every != 0 && voter % other_every == 0)
                        .then(|| style.encrypt(&credential, &marking(voter + 1)).unwrap().0);
                    Prepared {
                        voter,
                        ballot,
                        other,
                    }
                })
                .await
                .unwrap()
            });
        }
        let mut prepared: Vec<Prepared> = tasks.join_all().await;
        prepared.sort_by_key(|p| p.voter);
        prepared
    }

    /// PostgreSQL's view: every ballot recorded for the election.
    pub async fn stored(&self) -> Vec<urna_store::CastRecord> {
        let store = PgStore::connect(&self.backing.postgres, 2).await.unwrap();
        store.ballots(&self.election).await.unwrap()
    }

    /// Every entry of the board, read through server `via`, and the latest checkpoint.
    pub async fn board(&self, via: usize) -> (Vec<Vec<u8>>, u64) {
        let mut client = BoardClient::connect(self.servers[via].ports.url("board"))
            .await
            .unwrap();
        let checkpoint = client
            .get_checkpoint(proto::GetCheckpointRequest {
                election_id: self.election.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let size = checkpoint.checkpoint.expect("a checkpoint").tree_size;
        let mut entries = Vec::with_capacity(size as usize);
        while (entries.len() as u64) < size {
            let got = client
                .get_entries(proto::GetEntriesRequest {
                    election_id: self.election.clone(),
                    start: entries.len() as u64,
                    count: u32::try_from((size - entries.len() as u64).min(256)).unwrap(),
                })
                .await
                .unwrap()
                .into_inner()
                .entries;
            assert!(
                !got.is_empty(),
                "the board served no entries below its size"
            );
            entries.extend(got.into_iter().map(|e| e.entry));
        }
        (entries, size)
    }
}

/// One submission: a voter's ballot (or its other ballot).
#[derive(Clone)]
pub struct Submission {
    pub voter: usize,
    pub bytes: Vec<u8>,
    pub ballot: urna_crypto::EncryptedBallot,
}

/// What the client finally got for a submission.
pub enum Outcome {
    /// A receipt the SDK verified (the entry is this ballot, in a signed checkpoint).
    Accepted(Receipt),
    /// Refused: the credential has cast a different ballot.
    CredentialUsed,
}

/// Whether a client should retry a failed cast (with the same bytes): the service
/// was unreachable, overloaded, or its storage failed (`Unavailable`, which is also
/// what the SDK makes of a connection that fails). `Internal` is not retried: a
/// storage outage must never look like a bug.
fn retryable(error: &Error) -> bool {
    matches!(error, Error::Unavailable(_))
}

/// Sends submissions concurrently across the servers marked alive, each retried with
/// the same bytes on the next alive server (after a short pause) until it gets an
/// answer that is not retryable; counts progress in `done`.
pub struct Driver {
    pub clients: Vec<Voter>,
    pub alive: Arc<Vec<AtomicBool>>,
    pub info: Election,
    pub done: Arc<watch::Sender<usize>>,
    pub retries: Arc<AtomicUsize>,
}

/// How long one submission keeps retrying before the test gives up on it.
const GIVE_UP: Duration = Duration::from_secs(120);

impl Driver {
    pub fn new(cluster: &Cluster) -> Self {
        Self {
            clients: cluster.clients.clone(),
            alive: Arc::new(
                (0..cluster.clients.len())
                    .map(|_| AtomicBool::new(true))
                    .collect(),
            ),
            info: cluster.info.clone(),
            done: Arc::new(watch::Sender::new(0)),
            retries: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Marks server `n` dead: new attempts avoid it.
    pub fn dead(&self, n: usize) {
        self.alive[n].store(false, Ordering::SeqCst);
    }

    /// Runs every submission, at most `in_flight` at once; the outcomes in order.
    pub async fn run(
        &self,
        submissions: Vec<Submission>,
        in_flight: usize,
    ) -> Vec<(Submission, Outcome)> {
        let limit = Arc::new(Semaphore::new(in_flight));
        let mut tasks = tokio::task::JoinSet::new();
        for (n, submission) in submissions.into_iter().enumerate() {
            let clients = self.clients.clone();
            let alive = Arc::clone(&self.alive);
            let info = self.info.clone();
            let done = Arc::clone(&self.done);
            let retries = Arc::clone(&self.retries);
            let limit = Arc::clone(&limit);
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await.unwrap();
                let started = Instant::now();
                let mut server = n;
                loop {
                    server = (server + 1) % clients.len();
                    if !alive[server].load(Ordering::SeqCst) {
                        continue;
                    }
                    match clients[server].cast(&info, &submission.ballot).await {
                        Ok(receipt) => {
                            done.send_modify(|n| *n += 1);
                            return (n, submission, Outcome::Accepted(receipt));
                        }
                        Err(Error::AlreadyCast(_)) => {
                            done.send_modify(|n| *n += 1);
                            return (n, submission, Outcome::CredentialUsed);
                        }
                        Err(error) if retryable(&error) && started.elapsed() < GIVE_UP => {
                            retries.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        Err(error) => panic!(
                            "voter {}: cast through server {server} failed: {error}",
                            submission.voter
                        ),
                    }
                }
            });
        }
        let mut outcomes = tasks.join_all().await;
        outcomes.sort_by_key(|(n, _, _)| *n);
        outcomes.into_iter().map(|(_, s, o)| (s, o)).collect()
    }

    /// Waits until `count` submissions are done (or panics after `limit`).
    pub async fn until_done(&self, count: usize, limit: Duration) {
        let mut done = self.done.subscribe();
        let reached = tokio::time::timeout(limit, done.wait_for(|n| *n >= count)).await;
        assert!(
            reached.is_ok(),
            "only {} submissions done after {limit:?}",
            *self.done.borrow()
        );
    }
}

/// How long any one test's load may take before the test fails.
pub const LOAD_LIMIT: Duration = Duration::from_secs(300);

/// A load running in the background while the test breaks things.
pub struct Load {
    pub driver: Arc<Driver>,
    total: usize,
    handle: tokio::task::JoinHandle<Vec<(Submission, Outcome)>>,
}

impl Load {
    /// Starts sending `submissions` to the cluster's servers, `in_flight` at once.
    pub fn start(cluster: &Cluster, submissions: Vec<Submission>, in_flight: usize) -> Self {
        let driver = Arc::new(Driver::new(cluster));
        let total = submissions.len();
        let handle = tokio::spawn({
            let driver = Arc::clone(&driver);
            async move { driver.run(submissions, in_flight).await }
        });
        Self {
            driver,
            total,
            handle,
        }
    }

    /// Waits until `num / den` of the submissions are done.
    pub async fn reached(&self, num: usize, den: usize) {
        self.driver
            .until_done(self.total * num / den, LOAD_LIMIT)
            .await;
    }

    /// Waits for the rest; every outcome, in submission order.
    pub async fn finish(self) -> Vec<(Submission, Outcome)> {
        tokio::time::timeout(LOAD_LIMIT, self.handle)
            .await
            .expect("the load finished in time")
            .unwrap()
    }
}

/// How many submissions were refused because the credential had cast another ballot.
pub fn refused(outcomes: &[(Submission, Outcome)]) -> usize {
    outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::CredentialUsed))
        .count()
}

/// Every voter's ballot once, plus its other ballot (if prepared) and, for every
/// `again_every`-th voter, the same ballot a second time; shuffled deterministically.
pub fn submissions(prepared: &[Prepared], again_every: usize) -> Vec<Submission> {
    let mut all = Vec::new();
    for p in prepared {
        let one = |ballot: &urna_crypto::EncryptedBallot| Submission {
            voter: p.voter,
            bytes: ballot.to_bytes(),
            ballot: ballot.clone(),
        };
        all.push(one(&p.ballot));
        if let Some(other) = &p.other {
            all.push(one(other));
        }
        if again_every != 0 && p.voter % again_every == 1 {
            all.push(one(&p.ballot));
        }
    }
    // A fixed permutation (multiplication by a unit mod the length), so the second
    // submissions of a credential arrive at unrelated times, and runs repeat.
    let len = all.len();
    let step = (1..len)
        .rev()
        .find(|s| gcd(*s, len) == 1 && *s < len * 2 / 3)
        .unwrap_or(1);
    (0..len).map(|i| all[(i * step) % len].clone()).collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The reconciliation every fault test ends with: zero lost acknowledged ballots, zero
/// double-counted credentials, one history of the board.
///
/// - every voter got exactly one accepted ballot (all its submissions of that ballot
///   got receipts for the same entry; a different ballot was refused);
/// - every receipt's entry is on the board at its index, and its checkpoint is
///   consistent with the latest one (no fork: one root per size);
/// - the board's ballot entries are exactly the accepted ballots, each once;
/// - PostgreSQL records exactly those ballots, each with the index the board gave.
pub async fn reconcile(cluster: &Cluster, via: usize, outcomes: &[(Submission, Outcome)]) {
    let mut accepted: HashMap<usize, (Vec<u8>, u64)> = HashMap::new();
    let mut refused: HashMap<usize, usize> = HashMap::new();
    let mut sizes: BTreeMap<String, &Receipt> = BTreeMap::new();
    for (submission, outcome) in outcomes {
        match outcome {
            Outcome::Accepted(receipt) => {
                let got = (submission.bytes.clone(), receipt.leaf_index);
                if let Some(first) = accepted.insert(submission.voter, got.clone()) {
                    assert!(
                        first == got,
                        "voter {}: two different ballots accepted (indexes {} and {})",
                        submission.voter,
                        first.1,
                        got.1
                    );
                }
                sizes.entry(receipt.checkpoint.clone()).or_insert(receipt);
            }
            Outcome::CredentialUsed => *refused.entry(submission.voter).or_default() += 1,
        }
    }
    for voter in refused.keys() {
        assert!(
            accepted.contains_key(voter),
            "voter {voter}: every ballot refused, none accepted"
        );
    }
    let voters: BTreeSet<usize> = outcomes.iter().map(|(s, _)| s.voter).collect();
    assert_eq!(
        accepted.len(),
        voters.len(),
        "a voter got no accepted ballot"
    );

    // No fork: every checkpoint a client was given is consistent with the latest.
    for receipt in sizes.values() {
        cluster.clients[via]
            .recheck(&cluster.info, receipt)
            .await
            .unwrap_or_else(|e| panic!("receipt at {} does not recheck: {e}", receipt.leaf_index));
    }

    let (entries, size) = cluster.board(via).await;
    let mut on_board: HashMap<Vec<u8>, u64> = HashMap::new();
    for (index, bytes) in entries.iter().enumerate() {
        let entry = Entry::decode(bytes).unwrap();
        if entry.kind() == EntryKind::Ballot {
            let previous = on_board.insert(entry.body().to_vec(), index as u64);
            assert!(previous.is_none(), "a ballot is on the board twice");
        }
    }
    assert_eq!(
        on_board.len(),
        accepted.len(),
        "ballot entries on the board (size {size}) differ from the accepted ballots"
    );
    for (voter, (bytes, index)) in &accepted {
        assert_eq!(
            on_board.get(bytes),
            Some(index),
            "voter {voter}: the accepted ballot is not on the board at its receipt's index"
        );
    }

    let stored: Vec<_> = cluster
        .stored()
        .await
        .into_iter()
        .filter(|r| r.phase == urna_store::Phase::Open)
        .collect();
    assert_eq!(stored.len(), accepted.len(), "PostgreSQL's ballots");
    for record in &stored {
        assert_eq!(
            record.board_index,
            on_board.get(&record.ballot).copied(),
            "a stored ballot's board index"
        );
    }
    let nullifiers: BTreeSet<_> = stored.iter().map(|r| *r.nullifier.as_bytes()).collect();
    assert_eq!(nullifiers.len(), stored.len(), "a credential stored twice");
}
