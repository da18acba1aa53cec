//! The admin service on a real socket over a real SQLite store, and a client.

use std::sync::Arc;
use std::time::Duration;

use tempfile::TempDir;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Code, Request, Status};
use urna_admin::{Admin, AdminConfig, AdminToken};
use urna_board::{Entry, EntryKind, SequencerConfig};
use urna_proto::v1 as pb;
use urna_proto::v1::admin_client::AdminClient;
use urna_service::Boards;
use urna_service::testing::{CLUB_ELECTION, PUBLIC_NAME};
use urna_store::{CodeParams, JointKey, KeyStore, Phase, SqliteStore};
use urna_verify::PollsClosed;

/// The time the test clock shows (the polls-closed entry carries it).
pub const NOW: u64 = 1_772_400_000;

/// A running admin server.
pub struct Harness {
    pub client: AdminClient<Channel>,
    pub token: AdminToken,
    pub store: SqliteStore,
    pub boards: Boards<SqliteStore>,
    _dir: Option<TempDir>,
}

impl Harness {
    /// The server over a fresh store.
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        Self::start(store, Some(dir)).await
    }

    /// The server over `store` (owned by someone else, e.g. a test fixture).
    pub async fn start(store: SqliteStore, dir: Option<TempDir>) -> Self {
        let boards = Boards::new(
            store.clone(),
            PUBLIC_NAME,
            SequencerConfig {
                interval: Duration::from_millis(2),
                ..SequencerConfig::default()
            },
        );
        let config = AdminConfig {
            code_params: CodeParams::new(64, 1, 1).unwrap(),
            ..AdminConfig::default()
        };
        let admin = Admin::with_clock(store.clone(), boards.clone(), config, Arc::new(|| NOW));
        let token = AdminToken::generate().unwrap();
        let incoming = TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = incoming.local_addr().unwrap();
        let service = urna_admin::service(admin, token.clone());
        tokio::spawn(
            Server::builder()
                .add_service(service)
                .serve_with_incoming(incoming),
        );
        let channel = Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        Self {
            client: AdminClient::new(channel),
            token,
            store,
            boards,
            _dir: dir,
        }
    }

    /// `message` with the admin token.
    pub fn authed<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        let header = format!("Bearer {}", self.token.expose());
        request
            .metadata_mut()
            .insert("authorization", header.parse().unwrap());
        request
    }

    pub async fn create(&self, yaml: &str) -> Result<pb::CreateElectionResponse, Status> {
        let request = self.authed(pb::CreateElectionRequest {
            manifest_yaml: yaml.to_owned(),
        });
        Ok(self
            .client
            .clone()
            .create_election(request)
            .await?
            .into_inner())
    }

    pub async fn import(
        &self,
        election: &str,
        csv: &str,
    ) -> Result<pb::ImportRollResponse, Status> {
        let request = self.authed(pb::ImportRollRequest {
            election_id: election.to_owned(),
            csv: csv.as_bytes().to_vec(),
        });
        Ok(self.client.clone().import_roll(request).await?.into_inner())
    }

    pub async fn open(
        &self,
        election: &str,
        test: bool,
    ) -> Result<pb::OpenElectionResponse, Status> {
        let request = self.authed(pb::OpenElectionRequest {
            election_id: election.to_owned(),
            test,
        });
        Ok(self
            .client
            .clone()
            .open_election(request)
            .await?
            .into_inner())
    }

    pub async fn close(&self, election: &str) -> Result<pb::CloseElectionResponse, Status> {
        let request = self.authed(pb::CloseElectionRequest {
            election_id: election.to_owned(),
        });
        Ok(self
            .client
            .clone()
            .close_election(request)
            .await?
            .into_inner())
    }

    pub async fn status(&self, election: &str) -> Result<pb::GetElectionStatusResponse, Status> {
        let request = self.authed(pb::GetElectionStatusRequest {
            election_id: election.to_owned(),
        });
        Ok(self
            .client
            .clone()
            .get_election_status(request)
            .await?
            .into_inner())
    }

    /// Gives the election a joint key, as the key ceremony would.
    pub async fn set_joint_key(&self, election: &str) -> [u8; 32] {
        let secret = urna_crypto::SecretKey::random(&mut rand::rng());
        let key = secret.public_key().element().to_bytes();
        self.store
            .set_joint_key(
                election,
                JointKey {
                    key,
                    ceremony: Vec::new(),
                },
            )
            .await
            .unwrap();
        key
    }

    /// A phase's board's note verifier key, as the genesis entry carries it.
    pub async fn board_key(&self, election: &str, phase: Phase) -> String {
        let board = self.boards.board(election, phase).await.unwrap();
        board.verifier().to_string()
    }

    /// Every entry of a phase's board, decoded.
    pub async fn entries(&self, election: &str, phase: Phase) -> Vec<Entry> {
        let board = self.boards.board(election, phase).await.unwrap();
        let size = board.latest().checkpoint().size();
        board
            .entries(0, size)
            .await
            .unwrap()
            .iter()
            .map(|bytes| Entry::decode(bytes).unwrap())
            .collect()
    }
}

/// The club election's manifest id.
pub fn club_id() -> String {
    urna_election::Manifest::from_yaml(CLUB_ELECTION)
        .unwrap()
        .id()
        .to_owned()
}

/// A roll of `n` voters `v0`, `v1`, … of style `members`.
pub fn roll(n: usize) -> String {
    std::iter::once("voter_id,ballot_style\n".to_owned())
        .chain((0..n).map(|i| format!("v{i},members\n")))
        .collect()
}

/// Asserts that `result` failed with `code` and a message containing `text`.
pub fn assert_refused<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, text: &str) {
    let status = result.unwrap_err();
    assert_eq!(status.code(), code, "{status:?}");
    assert!(
        status.message().contains(text),
        "{:?} lacks {text:?}",
        status.message()
    );
}

/// The polls-closed entry's body, checking its kind.
pub fn polls_closed(entry: &Entry) -> PollsClosed {
    assert_eq!(entry.kind(), EntryKind::PollsClosed);
    PollsClosed::decode(entry.body()).unwrap()
}
