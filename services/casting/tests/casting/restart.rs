//! A restart keeps every acknowledged ballot, and the board stays one append-only log.

use urna_board::{EntryKind, TreeHash, verify_consistency};
use urna_service::testing::CLUB_ELECTION;
use urna_store::ElectionState;

use crate::support::{Harness, check_receipt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_every_acknowledged_ballot_and_the_board_consistent() {
    let harness = Harness::new(CLUB_ELECTION, ElectionState::Open).await;
    let verifier = harness.verifier().await;
    let mut cast = Vec::new();
    for _ in 0..5 {
        let ballot = harness.election.ballot("members");
        let receipt = harness.cast(&ballot.bytes).await.unwrap();
        cast.push((ballot, receipt));
    }
    let before = check_receipt(&cast[4].1, &verifier, &cast[4].0, EntryKind::Ballot);

    let election = harness.stop().await;
    let store = election.reopen().await;
    let harness = Harness::start(election, store).await;
    assert_eq!(harness.verifier().await, verifier);
    for (ballot, receipt) in &cast {
        let again = harness.receipt(&ballot.tracking_code).await.unwrap();
        assert_eq!(again.entry, receipt.entry);
        check_receipt(&again, &verifier, ballot, EntryKind::Ballot);
    }
    let more = harness.election.ballot("juniors");
    let receipt = harness.cast(&more.bytes).await.unwrap();
    assert_eq!(receipt.entry.as_ref().unwrap().index, 7);
    let after = check_receipt(&receipt, &verifier, &more, EntryKind::Ballot);

    let (old, new) = (before.checkpoint().size(), after.checkpoint().size());
    let board = harness.boards.get(harness.election.id()).await.unwrap();
    let proof: Vec<TreeHash> = board.consistency_proof(old, new).await.unwrap();
    verify_consistency(
        old,
        new,
        &proof,
        before.checkpoint().root(),
        after.checkpoint().root(),
    )
    .unwrap();
    harness.stop().await;
}
