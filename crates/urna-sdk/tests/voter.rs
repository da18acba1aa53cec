//! The SDK against the real services (auth, issuance, casting, board) on 127.0.0.1:0
//! over a real SQLite store: every check the SDK makes passes on honest answers, and
//! the servers' refusals arrive as the SDK's error variants.

use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, Server, ServerTlsConfig};
use urna_auth::{Auth, AuthConfig};
use urna_board::SequencerConfig;
use urna_casting::Casting;
use urna_issuance::Issuance;
use urna_sdk::{
    Choice, Choices, Election, Endpoints, Error, Session, Style, Tls, TrustRoot, Uri,
    VerifyFailure, Voter, VoterCredential,
};
use urna_service::testing::{CLUB_ELECTION, PUBLIC_NAME, TestElection};
use urna_service::{Boards, Elections};
use urna_store::{CodeHash, CodeParams, ElectionState, RollEntry, RollStore, VotingCode};

/// A moment inside the club election's window (2026-03-02).
const DURING: u64 = 1_772_409_600;

/// The four services over one test election, and two voters' codes.
struct Services {
    election: TestElection,
    endpoints: Endpoints,
    codes: Vec<(&'static str, String)>,
}

async fn listen(scheme: &str) -> (TcpIncoming, Uri) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("{scheme}://{}", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    (TcpIncoming::from(listener), uri)
}

/// A throwaway CA (PEM) and a server identity it issued for 127.0.0.1.
fn certificates() -> (String, Identity) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    (
        ca_cert.pem(),
        Identity::from_pem(cert.pem(), key.serialize_pem()),
    )
}

impl Services {
    /// The services over `yaml`'s election, with TLS when `identity` is given.
    async fn start(yaml: &str, identity: Option<Identity>) -> Self {
        let election = TestElection::from_yaml(yaml).await;
        let params = CodeParams::new(64, 1, 1).unwrap();
        let mut rng = rand::rng();
        let mut codes = Vec::new();
        let mut roll = Vec::new();
        for voter in ["alice", "bob"] {
            let code = VotingCode::generate(&mut rng);
            roll.push(RollEntry {
                voter: voter.into(),
                style: "members".into(),
                code: CodeHash::new(&code, params, &mut rng).unwrap(),
            });
            codes.push((voter, code.display().to_string()));
        }
        let store = election.store();
        store.import_roll(election.id(), roll).await.unwrap();
        election.advance_to(ElectionState::Open).await;
        let clock = || DURING;
        let config = SequencerConfig {
            interval: Duration::from_millis(2),
            ..SequencerConfig::default()
        };
        let boards = Boards::new(store.clone(), PUBLIC_NAME, config);
        let auth = Auth::new(
            store.clone(),
            AuthConfig {
                code_params: params,
                ..AuthConfig::default()
            },
            Arc::new(clock),
        );
        let casting = Casting::new(
            Elections::new(store.clone(), PUBLIC_NAME),
            boards.clone(),
            clock,
        );
        let scheme = if identity.is_some() { "https" } else { "http" };
        let (auth_in, auth_uri) = listen(scheme).await;
        let (issuance_in, issuance_uri) = listen(scheme).await;
        let (casting_in, casting_uri) = listen(scheme).await;
        let (board_in, board_uri) = listen(scheme).await;
        let server = || match &identity {
            Some(identity) => Server::builder()
                .tls_config(ServerTlsConfig::new().identity(identity.clone()))
                .unwrap(),
            None => Server::builder(),
        };
        tokio::spawn(server().serve_with_incoming(urna_auth::grpc::service(auth), auth_in));
        tokio::spawn(server().serve_with_incoming(
            urna_issuance::grpc::service(Issuance::new(store.clone())),
            issuance_in,
        ));
        tokio::spawn(server().serve_with_incoming(urna_casting::service(casting), casting_in));
        tokio::spawn(
            server().serve_with_incoming(urna_service::board_grpc::service(boards), board_in),
        );
        Self {
            election,
            endpoints: Endpoints {
                auth: auth_uri,
                issuance: issuance_uri,
                casting: casting_uri,
                board: board_uri,
            },
            codes,
        }
    }

    fn voter(&self) -> Voter {
        Voter::connect(&self.endpoints, &Tls::Plaintext, self.election.id()).unwrap()
    }

    fn tls_voter(&self, ca: &str) -> Voter {
        let tls = Tls::Ca(ca.as_bytes().to_vec());
        Voter::connect(&self.endpoints, &tls, self.election.id()).unwrap()
    }
}

/// Logs in, fetches the voter's style and obtains a credential.
async fn enrol(
    voter: &Voter,
    election: &Election,
    id: &str,
    code: &str,
) -> (Session, Style, VoterCredential) {
    let session = voter.login(id, code).await.unwrap();
    let style = voter
        .ballot_style(election, &session.style_id)
        .await
        .unwrap();
    let credential = voter.credential(election, &session).await.unwrap();
    (session, style, credential)
}

fn choices(chair: &str) -> Choices {
    [
        ("boathouse".to_owned(), Choice::Marks(vec!["yes".into()])),
        ("chair".to_owned(), Choice::Marks(vec![chair.into()])),
        (
            "committee".to_owned(),
            Choice::Marks(vec!["radia".into(), "donald".into()]),
        ),
        (
            "regatta-venue".to_owned(),
            Choice::Scores(vec![("river".into(), 4)]),
        ),
    ]
    .into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voter_challenges_casts_recasts_and_rechecks() {
    let services = Services::start(CLUB_ELECTION, None).await;
    let voter = services.voter();
    let election = voter.fetch_election(&TrustRoot::FirstUse).await.unwrap();
    assert_eq!(election.fingerprint(), &services.election.fingerprint());
    let pinned = TrustRoot::Pinned(election.board_key().to_owned());
    assert!(voter.fetch_election(&pinned).await.is_ok());

    let (id, code) = &services.codes[0];
    assert!(matches!(
        voter.login(id, "not-the-code").await,
        Err(Error::Unauthenticated(_))
    ));
    let (session, style, credential) = enrol(&voter, &election, id, code).await;
    assert_eq!(session.style_id, "members");

    let (ballot, opening) = style.encrypt(&credential, &choices("ada")).unwrap();
    let spoiled = voter
        .challenge(&election, &style, &ballot, &opening)
        .await
        .unwrap();
    assert!(spoiled.spoiled);
    assert_eq!(spoiled.tracking_code, ballot.tracking_code());

    let (ballot, _) = style.encrypt(&credential, &choices("grace")).unwrap();
    let receipt = voter.cast(&election, &ballot).await.unwrap();
    assert!(!receipt.spoiled && !receipt.supersedes_previous);
    assert!(receipt.leaf_index > spoiled.leaf_index);

    // The same credential, saved and restored, re-casts; the club lets the last count.
    let restored = VoterCredential::from_bytes(&credential.to_bytes()).unwrap();
    let (again, _) = style.encrypt(&restored, &choices("alan")).unwrap();
    let second = voter.cast(&election, &again).await.unwrap();
    assert!(second.supersedes_previous);

    let later = voter.recheck(&election, &receipt).await.unwrap();
    assert_eq!(later.previous.size(), receipt.leaf_index + 1);
    assert!(later.checkpoint.size() > second.leaf_index);
    assert_eq!(later.receipt.entry, receipt.entry);
    later
        .receipt
        .verify(election.board(), election.fingerprint())
        .unwrap();

    // auth issues one credential per voter: a fresh key is a different blinded message.
    assert!(matches!(
        voter.credential(&election, &session).await,
        Err(Error::AlreadyCast(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_arrive_as_error_variants() {
    let once = CLUB_ELECTION.replace("revoting: last-counts", "revoting: once");
    let services = Services::start(&once, None).await;
    let voter = services.voter();
    let other = urna_board::NoteSigner::from_seed("urna.test/x", &[1; 32]).unwrap();
    assert!(matches!(
        voter
            .fetch_election(&TrustRoot::Pinned(other.verifier().to_string()))
            .await,
        Err(Error::Verify(VerifyFailure::BoardKey))
    ));
    let election = voter.fetch_election(&TrustRoot::FirstUse).await.unwrap();
    let (id, code) = &services.codes[1];
    let (_, style, credential) = enrol(&voter, &election, id, code).await;
    let (ballot, _) = style.encrypt(&credential, &choices("ada")).unwrap();
    let receipt = voter.cast(&election, &ballot).await.unwrap();
    // A byte-identical retry returns the original receipt; another ballot is refused.
    assert_eq!(voter.cast(&election, &ballot).await.unwrap(), receipt);
    let (another, _) = style.encrypt(&credential, &choices("grace")).unwrap();
    assert!(matches!(
        voter.cast(&election, &another).await,
        Err(Error::AlreadyCast(_))
    ));
    assert!(matches!(
        voter.ballot_style(&election, "no-such-style").await,
        Err(Error::NotFound(_))
    ));
    services.election.advance_to(ElectionState::Closed).await;
    let (late, _) = style.encrypt(&credential, &choices("alan")).unwrap();
    assert!(matches!(
        voter.cast(&election, &late).await,
        Err(Error::Closed(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_trusts_exactly_the_given_ca() {
    let (ca, identity) = certificates();
    let services = Services::start(CLUB_ELECTION, Some(identity)).await;
    let voter = services.tls_voter(&ca);
    let election = voter.fetch_election(&TrustRoot::FirstUse).await.unwrap();
    let (id, code) = &services.codes[0];
    let (_, style, credential) = enrol(&voter, &election, id, code).await;
    let (ballot, _) = style.encrypt(&credential, &choices("ada")).unwrap();
    assert!(voter.cast(&election, &ballot).await.is_ok());

    let (other_ca, _) = certificates();
    assert!(matches!(
        services
            .tls_voter(&other_ca)
            .fetch_election(&TrustRoot::FirstUse)
            .await,
        Err(Error::Unavailable(_))
    ));
    assert!(matches!(
        Voter::connect(&services.endpoints, &Tls::Plaintext, "x"),
        Err(Error::Config(_))
    ));
}
