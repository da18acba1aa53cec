//! The Board gRPC service over a real socket and a real store: what a client receives
//! verifies with urna-board's verifiers alone.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tonic::Code;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use urna_board::{
    Entry, EntryKind, NoteVerifier, SequencerConfig, SignedCheckpoint, TreeHash,
    verify_consistency, verify_inclusion,
};
use urna_proto::v1;
use urna_proto::v1::board_client::BoardClient;
use urna_service::testing::{PUBLIC_NAME, TestElection};
use urna_service::{Boards, board_grpc};
use urna_store::ElectionState;

async fn serve(boards: Boards<urna_store::SqliteStore>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(Server::builder().serve_with_incoming_shutdown(
        board_grpc::service(boards),
        TcpIncoming::from(listener),
        std::future::pending(),
    ));
    addr
}

fn hashes(proof: &[Vec<u8>]) -> Vec<TreeHash> {
    proof
        .iter()
        .map(|h| TreeHash::from_slice(h).unwrap())
        .collect()
}

fn open(checkpoint: &v1::SignedCheckpoint, verifier: &NoteVerifier) -> SignedCheckpoint {
    let opened = SignedCheckpoint::open(
        checkpoint.note.as_bytes(),
        verifier.name(),
        std::slice::from_ref(verifier),
    )
    .unwrap();
    assert_eq!(checkpoint.tree_size, opened.checkpoint().size());
    assert_eq!(checkpoint.root_hash, opened.checkpoint().root().as_bytes());
    opened
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_entries_and_proofs_verify_over_a_socket() {
    let election = TestElection::new().await;
    election.advance_to(ElectionState::Test).await;
    election.advance_to(ElectionState::Open).await;
    let config = SequencerConfig {
        interval: Duration::from_millis(5),
        ..SequencerConfig::default()
    };
    let boards = Boards::new(election.store(), PUBLIC_NAME, config);
    let board = boards.get(election.id()).await.unwrap();
    let verifier = board.verifier();
    let old = board.latest();
    let ballot = election.ballot("juniors");
    election.record(&ballot).await;
    board.posted(ballot.tracking_code).await.unwrap();

    let addr = serve(boards.clone()).await;
    let mut client = BoardClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    let id = election.id().to_owned();

    let latest = client
        .get_checkpoint(v1::GetCheckpointRequest {
            election_id: id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .checkpoint
        .unwrap();
    let latest = open(&latest, &verifier);
    assert_eq!(latest.checkpoint().size(), 3);

    let found = client
        .get_entry_by_tracking_code(v1::GetEntryByTrackingCodeRequest {
            election_id: id.clone(),
            tracking_code: ballot.tracking_code.to_vec(),
        })
        .await
        .unwrap()
        .into_inner();
    let entry = found.entry.unwrap();
    assert_eq!(entry.kind(), v1::EntryKind::Ballot);
    assert_eq!(Entry::decode(&entry.entry).unwrap().body(), ballot.bytes);
    let proof = found.inclusion_proof.unwrap();
    let checkpoint = open(&found.checkpoint.unwrap(), &verifier);
    verify_inclusion(
        &TreeHash::leaf(&entry.entry),
        entry.index,
        proof.tree_size,
        &hashes(&proof.hashes),
        checkpoint.checkpoint().root(),
    )
    .unwrap();

    let entries = client
        .get_entries(v1::GetEntriesRequest {
            election_id: id.clone(),
            start: 0,
            count: 256,
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let kinds: Vec<EntryKind> = entries
        .iter()
        .map(|e| Entry::decode(&e.entry).unwrap().kind())
        .collect();
    assert_eq!(
        kinds,
        [
            EntryKind::ElectionManifest,
            EntryKind::KeyCeremony,
            EntryKind::Ballot
        ]
    );

    let consistency = client
        .get_consistency_proof(v1::GetConsistencyProofRequest {
            election_id: id.clone(),
            old_size: 2,
            new_size: 3,
        })
        .await
        .unwrap()
        .into_inner()
        .proof
        .unwrap();
    verify_consistency(
        2,
        3,
        &hashes(&consistency.hashes),
        old.checkpoint().root(),
        latest.checkpoint().root(),
    )
    .unwrap();

    // Bad requests get their codes.
    let status = client
        .get_checkpoint(v1::GetCheckpointRequest {
            election_id: "no-such-election".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::NotFound, "unknown election")
    );
    let entries = |start, count| v1::GetEntriesRequest {
        election_id: id.clone(),
        start,
        count,
    };
    let status = client.get_entries(entries(0, 0)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = client.get_entries(entries(3, 1)).await.unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange);
    let status = client
        .get_inclusion_proof(v1::GetInclusionProofRequest {
            election_id: id.clone(),
            leaf_index: 0,
            tree_size: 4,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange);
    let status = client
        .get_entry_by_tracking_code(v1::GetEntryByTrackingCodeRequest {
            election_id: id.clone(),
            tracking_code: vec![1; 32],
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = client
        .get_entry_by_tracking_code(v1::GetEntryByTrackingCodeRequest {
            election_id: id,
            tracking_code: vec![1; 31],
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    boards.shutdown().await;
}
