//! A casting server on `127.0.0.1:0` over a test election, a client, and the checks a
//! voter runs on a receipt.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::Status;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use urna_board::{
    Entry, EntryKind, NoteVerifier, SequencerConfig, SignedCheckpoint, TreeHash, verify_inclusion,
};
use urna_casting::{Casting, CastingConfig};
use urna_crypto::encoding::Encoder;
use urna_crypto::{CredentialSecret, short_tracking_code};
use urna_proto::v1;
use urna_proto::v1::casting_client::CastingClient;
use urna_service::testing::{CLUB_ELECTION, PUBLIC_NAME, TestBallot, TestElection};
use urna_service::{Boards, Clock, Elections};
use urna_store::{BallotStore, ElectionState, SqliteStore};

/// A moment inside the club election's window (2026-03-02).
pub const DURING: u64 = 1_772_409_600;

/// The club election with `once` re-voting.
pub fn once() -> String {
    CLUB_ELECTION.replace("revoting: last-counts", "revoting: once")
}

/// A clock the test sets.
#[derive(Clone, Default)]
pub struct TestClock(Arc<AtomicU64>);

impl TestClock {
    pub fn set(&self, now: u64) {
        self.0.store(now, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A running casting server over a test election.
pub struct Harness {
    pub election: TestElection,
    pub casting: Casting<SqliteStore, TestClock>,
    pub boards: Boards<SqliteStore>,
    pub clock: TestClock,
    pub client: CastingClient<Channel>,
    stop: oneshot::Sender<()>,
    server: JoinHandle<Result<(), tonic::transport::Error>>,
}

impl Harness {
    /// The election of `yaml`, moved to `state`, with the clock inside its window.
    pub async fn new(yaml: &str, state: ElectionState) -> Self {
        Self::configured(yaml, state, &CastingConfig::default()).await
    }

    /// As [`Harness::new`], casting with `config`.
    pub async fn configured(yaml: &str, state: ElectionState, config: &CastingConfig) -> Self {
        let election = TestElection::from_yaml(yaml).await;
        election.advance_to(state).await;
        let store = election.store();
        Self::start_with(election, store, config).await
    }

    /// A server over `store` (e.g. reopened after a restart).
    pub async fn start(election: TestElection, store: SqliteStore) -> Self {
        Self::start_with(election, store, &CastingConfig::default()).await
    }

    /// A server over `store`, casting with `config`.
    pub async fn start_with(
        election: TestElection,
        store: SqliteStore,
        casting: &CastingConfig,
    ) -> Self {
        let clock = TestClock::default();
        clock.set(DURING);
        let config = SequencerConfig {
            interval: Duration::from_millis(2),
            ..SequencerConfig::default()
        };
        let boards = Boards::new(store.clone(), PUBLIC_NAME, config);
        let elections = Elections::new(store, PUBLIC_NAME);
        let casting =
            Casting::with_config(elections, boards.clone(), clock.clone(), casting).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(Server::builder().serve_with_incoming_shutdown(
            urna_casting::service(casting.clone()),
            TcpIncoming::from(listener),
            async {
                let _ = stopped.await;
            },
        ));
        let client = CastingClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        Self {
            election,
            casting,
            boards,
            clock,
            client,
            stop,
            server,
        }
    }

    /// Stops the server and closes the boards; the election (and its directory) stays.
    pub async fn stop(self) -> TestElection {
        let _ = self.stop.send(());
        self.server.await.unwrap().unwrap();
        self.boards.shutdown().await;
        self.election
    }

    /// Casts ballot bytes to the harness's election.
    pub async fn cast(&self, ballot: &[u8]) -> Result<v1::Receipt, Status> {
        self.cast_to(self.election.id(), ballot).await
    }

    /// Casts ballot bytes to any election id.
    pub async fn cast_to(&self, election: &str, ballot: &[u8]) -> Result<v1::Receipt, Status> {
        let mut client = self.client.clone();
        let response = client
            .cast_ballot(v1::CastBallotRequest {
                election_id: election.to_owned(),
                ballot: ballot.to_vec(),
            })
            .await?;
        Ok(response.into_inner().receipt.unwrap())
    }

    /// The receipt the service gives for a tracking code.
    pub async fn receipt(&self, code: &[u8; 32]) -> Result<v1::Receipt, Status> {
        let mut client = self.client.clone();
        let response = client
            .get_receipt(v1::GetReceiptRequest {
                election_id: self.election.id().to_owned(),
                tracking_code: code.to_vec(),
            })
            .await?;
        Ok(response.into_inner().receipt.unwrap())
    }

    /// The key of the board of the election's current phase.
    pub async fn verifier(&self) -> NoteVerifier {
        self.boards
            .get(self.election.id())
            .await
            .unwrap()
            .verifier()
    }

    /// What is stored and on the board: (ballots, spoiled ballots, board size).
    pub async fn stored(&self) -> (usize, usize, u64) {
        let store = self.election.store();
        let id = self.election.id();
        let board = self.boards.get(id).await.unwrap();
        (
            store.ballots(id).await.unwrap().len(),
            store.spoiled(id).await.unwrap().len(),
            board.latest().checkpoint().size(),
        )
    }
}

/// Checks a receipt as a voter's device would, with the board's key only: the
/// checkpoint's signature, the entry (kind, election, body), and its inclusion.
/// Returns the opened checkpoint.
pub fn check_receipt(
    receipt: &v1::Receipt,
    verifier: &NoteVerifier,
    ballot: &TestBallot,
    kind: EntryKind,
) -> SignedCheckpoint {
    let note = &receipt.checkpoint.as_ref().unwrap().note;
    let checkpoint = SignedCheckpoint::open(
        note.as_bytes(),
        verifier.name(),
        std::slice::from_ref(verifier),
    )
    .unwrap();
    assert_eq!(receipt.tracking_code, ballot.tracking_code);
    assert_eq!(
        receipt.short_code,
        short_tracking_code(&ballot.tracking_code)
    );
    let entry = receipt.entry.as_ref().unwrap();
    let decoded = Entry::decode(&entry.entry).unwrap();
    assert_eq!(decoded.kind(), kind);
    if kind == EntryKind::Ballot {
        assert_eq!(decoded.body(), ballot.bytes);
    }
    let proof = receipt.inclusion_proof.as_ref().unwrap();
    assert_eq!(proof.leaf_index, entry.index);
    assert_eq!(proof.tree_size, checkpoint.checkpoint().size());
    let hashes: Vec<TreeHash> = proof
        .hashes
        .iter()
        .map(|h| TreeHash::from_slice(h).unwrap())
        .collect();
    verify_inclusion(
        &TreeHash::leaf(&entry.entry),
        entry.index,
        proof.tree_size,
        &hashes,
        checkpoint.checkpoint().root(),
    )
    .unwrap();
    checkpoint
}

/// Signs ballot bytes again with the credential secret after a test changed them, so
/// that only the change itself can be what casting refuses.
pub fn resign(bytes: &mut [u8], secret: &CredentialSecret) {
    let unsigned = bytes.len() - 64;
    let mut message = Encoder::new();
    message
        .str("urna/v1/ballot-signature")
        .fixed(&bytes[..unsigned]);
    let signature = secret.sign(message.as_slice());
    bytes[unsigned..].copy_from_slice(&signature.to_bytes());
}
