//! The Auth service over a real socket, against a real SQLite store with real keys:
//! login, rate limits, blind issuance as a voter's device does it, and the public
//! figures.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic::{Code, Status};
use urna_auth::{Auth, AuthConfig, LimitConfig};
use urna_crypto::credential::credential_message;
use urna_crypto::{BlindSignature, BlindVerifyingKey, CredentialSecret};
use urna_proto::v1;
use urna_proto::v1::auth_client::AuthClient;
use urna_service::testing::TestElection;
use urna_store::{CodeHash, CodeParams, ElectionState, RollEntry, RollStore, VotingCode};

const START: u64 = 1_000_000;
const TTL: u64 = 900;

/// A voter on the roll and their code.
struct Voter {
    id: &'static str,
    style: &'static str,
    code: String,
}

struct Fixture {
    election: TestElection,
    client: AuthClient<Channel>,
    now: Arc<AtomicU64>,
    voters: Vec<Voter>,
}

impl Fixture {
    /// The club election in Draft with three voters, and an Auth server on
    /// 127.0.0.1:0 whose clock the test moves.
    async fn new(limits: LimitConfig) -> Self {
        let election = TestElection::new().await;
        let params = CodeParams::new(64, 1, 1).unwrap();
        let mut rng = rand::rng();
        let mut voters = Vec::new();
        let mut entries = Vec::new();
        for (id, style) in [
            ("alice", "members"),
            ("bob", "members"),
            ("carol", "juniors"),
        ] {
            let code = VotingCode::generate(&mut rng);
            entries.push(RollEntry {
                voter: id.into(),
                style: style.into(),
                code: CodeHash::new(&code, params, &mut rng).unwrap(),
            });
            voters.push(Voter {
                id,
                style,
                code: code.display().to_string(),
            });
        }
        let store = election.store();
        store.import_roll(election.id(), entries).await.unwrap();
        let now = Arc::new(AtomicU64::new(START));
        let clock = {
            let now = Arc::clone(&now);
            Arc::new(move || now.load(Ordering::SeqCst))
        };
        let config = AuthConfig {
            session_ttl: TTL,
            limits,
            code_params: params,
            ..AuthConfig::default()
        };
        let auth = Auth::new(store, config, clock);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(
            Server::builder()
                .serve_with_incoming(urna_auth::grpc::service(auth), TcpIncoming::from(listener)),
        );
        let client = AuthClient::connect(format!("http://{addr}")).await.unwrap();
        Self {
            election,
            client,
            now,
            voters,
        }
    }

    async fn login(
        &mut self,
        election: &str,
        voter: &str,
        code: &str,
    ) -> Result<v1::VoterLoginResponse, Status> {
        self.client
            .voter_login(v1::VoterLoginRequest {
                election_id: election.into(),
                voter_id: voter.into(),
                voting_code: code.into(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// Logs voter `i` in with their code.
    async fn login_voter(&mut self, i: usize) -> Result<v1::VoterLoginResponse, Status> {
        let (id, code) = (self.voters[i].id, self.voters[i].code.clone());
        let election = self.election.id().to_owned();
        self.login(&election, id, &code).await
    }

    async fn issue(&mut self, token: &str, blinded: &[u8]) -> Result<Vec<u8>, Status> {
        self.client
            .issue_credential(v1::IssueCredentialRequest {
                session_token: token.into(),
                blinded_message: blinded.to_vec(),
            })
            .await
            .map(|r| r.into_inner().blind_signature)
    }

    async fn public_key(&mut self) -> BlindVerifyingKey {
        let key = self
            .client
            .get_auth_key(v1::GetAuthKeyRequest {
                election_id: self.election.id().into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(key.modulus_bits, 2048);
        BlindVerifyingKey::from_der(&key.public_key_spki).unwrap()
    }

    async fn issued(&mut self) -> Result<u64, Status> {
        self.client
            .credentials_issued(v1::CredentialsIssuedRequest {
                election_id: self.election.id().into(),
            })
            .await
            .map(|r| r.into_inner().count)
    }
}

fn generous() -> LimitConfig {
    LimitConfig {
        voter_failures: 100,
        voter_window: 60,
        address_attempts: 1000,
        address_window: 60,
    }
}

fn assert_status<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, message: &str) {
    let status = result.unwrap_err();
    assert_eq!((status.code(), status.message()), (code, message));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_accepts_the_code_and_nothing_else() {
    let mut f = Fixture::new(generous()).await;
    f.election.advance_to(ElectionState::Test).await;
    let session = f.login_voter(2).await.unwrap();
    assert_eq!(session.ballot_style_id, "juniors");
    assert_eq!(session.election_fingerprint, f.election.fingerprint());
    assert_eq!(session.expires_at, START + TTL);
    assert!(!session.session_token.is_empty());

    // As typed by a voter: lower case, spaces instead of hyphens.
    let election = f.election.id().to_owned();
    let typed = f.voters[0].code.to_lowercase().replace('-', " ");
    assert!(f.login(&election, "alice", &typed).await.is_ok());

    let bob = f.voters[1].code.clone();
    let long = "v".repeat(urna_auth::MAX_ID_LEN + 1);
    let refused = [
        (election.as_str(), long.as_str(), bob.as_str()),
        (election.as_str(), "alice", bob.as_str()),
        (election.as_str(), "alice", "not a code"),
        (election.as_str(), "mallory", bob.as_str()),
        ("another-election", "bob", bob.as_str()),
    ];
    for (election, voter, code) in refused {
        assert_status(
            f.login(election, voter, code).await,
            Code::Unauthenticated,
            "invalid credentials",
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_lock_the_voter_and_attempts_are_limited_per_address() {
    let mut f = Fixture::new(LimitConfig {
        voter_failures: 2,
        voter_window: 600,
        address_attempts: 6,
        address_window: 60,
    })
    .await;
    let election = f.election.id().to_owned();
    for _ in 0..2 {
        assert_status(
            f.login(&election, "alice", "0000-0000-0000-0000").await,
            Code::Unauthenticated,
            "invalid credentials",
        );
    }
    // Locked: even the right code is refused now.
    assert_status(
        f.login_voter(0).await,
        Code::ResourceExhausted,
        "too many login attempts",
    );
    // Attempts 3 to 6 of the address: other voters are not locked.
    for _ in 0..4 {
        assert!(f.login_voter(1).await.is_ok());
    }
    assert_status(
        f.login_voter(2).await,
        Code::ResourceExhausted,
        "too many login attempts",
    );
    // A minute later the address may try again; alice stays locked for her window.
    f.now.fetch_add(60, Ordering::SeqCst);
    assert!(f.login_voter(2).await.is_ok());
    assert_status(
        f.login_voter(0).await,
        Code::ResourceExhausted,
        "too many login attempts",
    );
    f.now.fetch_add(600, Ordering::SeqCst);
    assert!(f.login_voter(0).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_credential_per_voter_and_a_retry_gets_the_same_signature() {
    let mut f = Fixture::new(generous()).await;
    f.election.advance_to(ElectionState::Test).await;
    let session = f.login_voter(0).await.unwrap();
    let key = f.public_key().await;
    let mut rng = rand::rng();
    let secret = CredentialSecret::generate(&mut rng);
    let message = credential_message(
        &f.election.fingerprint(),
        &session.ballot_style_id,
        &secret.public_key(),
    )
    .unwrap();
    let (blinded, state) = key.blind(&message, &mut rng).unwrap();
    assert_eq!(f.issued().await.unwrap(), 0);

    let token = session.session_token.clone();
    let signature = f.issue(&token, blinded.as_bytes()).await.unwrap();
    let again = f.issue(&token, blinded.as_bytes()).await.unwrap();
    assert_eq!(signature, again);
    assert_eq!(f.issued().await.unwrap(), 1);

    // The finalized signature is a valid credential for the voter's style.
    let (rsa, randomizer) = key
        .finalize(&BlindSignature::from_bytes(signature), &state, &message)
        .unwrap();
    key.verify(&rsa, &randomizer, &message).unwrap();
    assert_eq!(f.voters[0].style, session.ballot_style_id);

    // A second credential is refused, even after logging in again.
    let (other, _) = key.blind(&message, &mut rng).unwrap();
    let token = f.login_voter(0).await.unwrap().session_token;
    assert_status(
        f.issue(&token, other.as_bytes()).await,
        Code::AlreadyExists,
        "credential already issued",
    );
    assert_eq!(f.issued().await.unwrap(), 1);

    assert_status(
        f.issue(&token, &blinded.as_bytes()[1..]).await,
        Code::InvalidArgument,
        "blinded message length does not match the key",
    );
    let mut forged = token.clone().into_bytes();
    forged[3] ^= 1;
    let forged = String::from_utf8(forged).unwrap();
    assert_status(
        f.issue(&forged, blinded.as_bytes()).await,
        Code::Unauthenticated,
        "invalid or expired session",
    );
    f.now.fetch_add(TTL, Ordering::SeqCst);
    assert_status(
        f.issue(&token, blinded.as_bytes()).await,
        Code::Unauthenticated,
        "invalid or expired session",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_issued_only_in_test_and_open() {
    let mut f = Fixture::new(generous()).await;
    let key = f.public_key().await;
    let mut rng = rand::rng();
    let blinded = |rng: &mut rand::rngs::ThreadRng| {
        let secret = CredentialSecret::generate(rng);
        let message =
            credential_message(&f.election.fingerprint(), "members", &secret.public_key()).unwrap();
        key.blind(&message, rng).unwrap().0
    };
    let (a, b) = (blinded(&mut rng), blinded(&mut rng));

    let alice = f.login_voter(0).await.unwrap().session_token;
    let bob = f.login_voter(1).await.unwrap().session_token;
    assert_status(
        f.issue(&alice, a.as_bytes()).await,
        Code::FailedPrecondition,
        "election is not issuing credentials",
    );
    f.election.advance_to(ElectionState::Open).await;
    assert!(f.issue(&alice, a.as_bytes()).await.is_ok());
    f.election.advance_to(ElectionState::Closed).await;
    assert_status(
        f.issue(&bob, b.as_bytes()).await,
        Code::FailedPrecondition,
        "election is not issuing credentials",
    );
    assert_eq!(f.issued().await.unwrap(), 1);

    let unknown = f
        .client
        .credentials_issued(v1::CredentialsIssuedRequest {
            election_id: "no-such-election".into(),
        })
        .await;
    assert_status(unknown, Code::NotFound, "election not found");
}
