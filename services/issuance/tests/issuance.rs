//! The Issuance service over a real socket, against a real SQLite store with real
//! keys: the served style is signed by the election's style key, its structured view
//! is exactly the decoding of the signed bytes, and any altered byte fails.

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use tokio::net::TcpListener;
use tonic::Code;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use urna_election::StyleDocument;
use urna_issuance::{Issuance, SignedStyle};
use urna_proto::v1;
use urna_proto::v1::issuance_client::IssuanceClient;
use urna_service::testing::TestElection;
use urna_store::{ElectionState, KeyStore};

async fn serve(election: &TestElection) -> IssuanceClient<Channel> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let issuance = Issuance::new(election.store());
    tokio::spawn(Server::builder().serve_with_incoming(
        urna_issuance::grpc::service(issuance),
        TcpIncoming::from(listener),
    ));
    IssuanceClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}

async fn get(
    client: &mut IssuanceClient<Channel>,
    election: &str,
    style: &str,
) -> Result<v1::GetBallotStyleResponse, tonic::Status> {
    client
        .get_ballot_style(v1::GetBallotStyleRequest {
            election_id: election.into(),
            style_id: style.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

fn verify(response: &v1::GetBallotStyleResponse, canonical: &[u8]) -> bool {
    let key = VerifyingKey::from_bytes(&response.signing_key.clone().try_into().unwrap()).unwrap();
    let signature = Signature::from_bytes(&response.signature.clone().try_into().unwrap());
    key.verify_strict(canonical, &signature).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_style_is_signed_by_the_style_key_and_its_view_is_the_signed_bytes() {
    let election = TestElection::new().await;
    election.advance_to(ElectionState::Test).await;
    let mut client = serve(&election).await;
    let response = get(&mut client, election.id(), "juniors").await.unwrap();

    let secrets = election
        .store()
        .secrets(election.id())
        .await
        .unwrap()
        .unwrap();
    let style_key = SigningKey::from_bytes(secrets.style_seed()).verifying_key();
    assert_eq!(response.signing_key, style_key.to_bytes());
    assert!(verify(&response, &response.canonical_style));

    let document = StyleDocument::decode(&response.canonical_style).unwrap();
    assert_eq!(document.style_id, "juniors");
    assert_eq!(document.fingerprint, election.fingerprint());
    let joint = election
        .store()
        .joint_key(election.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(document.election_key, joint.key);
    assert_eq!(
        document,
        StyleDocument::from_manifest(election.manifest(), "juniors", document.election_key)
            .unwrap()
    );
    let view = urna_issuance::grpc::response(&SignedStyle {
        document,
        canonical: response.canonical_style.clone(),
        signing_key: style_key.to_bytes(),
        signature: response.signature.clone().try_into().unwrap(),
    });
    assert_eq!(view, response);
    assert!(!response.contests.is_empty());

    for i in 0..response.canonical_style.len() {
        let mut altered = response.canonical_style.clone();
        altered[i] ^= 0x20;
        assert!(!verify(&response, &altered), "byte {i}");
    }
    // Served again from the cache: the same bytes and signature.
    assert_eq!(
        get(&mut client, election.id(), "juniors").await.unwrap(),
        response
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn styles_are_served_only_for_known_styles_of_elections_past_draft() {
    let election = TestElection::new().await;
    let mut client = serve(&election).await;
    let status = get(&mut client, election.id(), "members")
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::FailedPrecondition, "election is not ready")
    );
    election.advance_to(ElectionState::Open).await;
    assert!(get(&mut client, election.id(), "members").await.is_ok());
    for (id, style, message) in [
        (election.id(), "seniors", "ballot style not found"),
        ("no-such-election", "members", "election not found"),
    ] {
        let status = get(&mut client, id, style).await.unwrap_err();
        assert_eq!((status.code(), status.message()), (Code::NotFound, message));
    }
}
