//! Ballots that are accepted: every homomorphic contest type, both phases, the
//! re-voting policies, and concurrent casts of one credential.

use tonic::Code;
use urna_board::EntryKind;
use urna_service::testing::{CLUB_ELECTION, TestBallot};
use urna_store::{BallotStore, ElectionState};

use crate::support::{Harness, check_receipt, once};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_homomorphic_contest_type_is_cast_and_receipted() {
    // The club election: referendum, plurality, approval (3 seats) and score.
    let harness = Harness::new(CLUB_ELECTION, ElectionState::Test).await;
    // Test ignores the window.
    harness.clock.set(0);
    let rehearsal = harness.election.ballot("members");
    let receipt = harness.cast(&rehearsal.bytes).await.unwrap();
    let verifier = harness.verifier().await;
    assert!(verifier.name().ends_with("/test"));
    check_receipt(&receipt, &verifier, &rehearsal, EntryKind::Ballot);

    harness.election.advance_to(ElectionState::Open).await;
    harness.clock.set(crate::support::DURING);
    let verifier = harness.verifier().await;
    let mut cast = Vec::new();
    for style in ["members", "juniors"] {
        let (credential, secret) = harness.election.credential(style);
        let selections = harness.election.largest_selections(style);
        cast.push(
            harness
                .election
                .ballot_with(style, credential, secret, &selections),
        );
        cast.push(harness.election.ballot(style));
    }
    for (offset, ballot) in cast.iter().enumerate() {
        let receipt = harness.cast(&ballot.bytes).await.unwrap();
        check_receipt(&receipt, &verifier, ballot, EntryKind::Ballot);
        // Genesis is entries 0 and 1; the Test ballot is not on this board.
        assert_eq!(receipt.entry.as_ref().unwrap().index, 2 + offset as u64);
        assert!(!receipt.supersedes_previous && !receipt.spoiled);
        let again = harness.receipt(&ballot.tracking_code).await.unwrap();
        check_receipt(&again, &verifier, ballot, EntryKind::Ballot);
        assert_eq!(again.entry, receipt.entry);
    }
    let stored = harness
        .election
        .store()
        .ballots(harness.election.id())
        .await;
    assert_eq!(
        stored.unwrap().len(),
        cast.len(),
        "Test ballots were discarded"
    );
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranked_and_star_contests_are_cast_with_their_mixnet_proofs() {
    // IRV, Scottish STV and Schulze contests (rank positions proven a ranking) and a
    // STAR contest (scores with range proofs), all tallied by mix-net.
    let ranked = include_str!("../../../../examples/club-election-ranked.yaml");
    let harness = Harness::new(ranked, ElectionState::Open).await;
    harness.clock.set(crate::support::DURING);
    let verifier = harness.verifier().await;
    let style = harness.election.manifest().ballot_styles()[0]
        .id()
        .to_owned();
    let shortest = harness.election.ballot(&style);
    let (credential, secret) = harness.election.credential(&style);
    let longest = harness.election.largest_selections(&style);
    assert_eq!(
        longest[0],
        vec![1, 2, 3, 4],
        "the captain contest, fully ranked"
    );
    let longest = harness
        .election
        .ballot_with(&style, credential, secret, &longest);
    for ballot in [&shortest, &longest] {
        let receipt = harness.cast(&ballot.bytes).await.unwrap();
        check_receipt(&receipt, &verifier, ballot, EntryKind::Ballot);
    }
    // A ranked contest's proof with one byte changed is refused, and nothing is lost.
    let (credential, secret) = harness.election.credential(&style);
    let selections = harness.election.selections(&style);
    let mut forged = harness
        .election
        .ballot_with(&style, credential, secret, &selections)
        .bytes;
    let middle = forged.len() / 2;
    forged[middle] ^= 1;
    let refused = harness.cast(&forged).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let stored = harness
        .election
        .store()
        .ballots(harness.election.id())
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_last_counts_a_new_ballot_supersedes_and_both_stay_on_the_board() {
    let harness = Harness::new(CLUB_ELECTION, ElectionState::Open).await;
    let verifier = harness.verifier().await;
    let [first, second]: [TestBallot; 2] = harness
        .election
        .ballots_of_one_credential("members", 2)
        .try_into()
        .unwrap();
    let one = harness.cast(&first.bytes).await.unwrap();
    let two = harness.cast(&second.bytes).await.unwrap();
    check_receipt(&one, &verifier, &first, EntryKind::Ballot);
    check_receipt(&two, &verifier, &second, EntryKind::Ballot);
    assert!(!one.supersedes_previous);
    assert!(two.supersedes_previous);
    assert!(
        harness
            .receipt(&second.tracking_code)
            .await
            .unwrap()
            .supersedes_previous
    );
    let records = harness
        .election
        .store()
        .ballots(harness.election.id())
        .await
        .unwrap();
    assert_eq!(records[0].superseded_by, Some(records[1].seq));
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_200_concurrent_ballots_of_one_credential_exactly_one_is_accepted_under_once() {
    let harness = Harness::new(&once(), ElectionState::Open).await;
    let ballots = harness.election.ballots_of_one_credential("members", 200);
    let casts = ballots.into_iter().map(|ballot| {
        let mut client = harness.client.clone();
        let election_id = harness.election.id().to_owned();
        tokio::spawn(async move {
            client
                .cast_ballot(urna_proto::v1::CastBallotRequest {
                    election_id,
                    ballot: ballot.bytes,
                })
                .await
        })
    });
    let mut accepted = 0;
    for cast in casts.collect::<Vec<_>>() {
        match cast.await.unwrap() {
            Ok(_) => accepted += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::AlreadyExists);
                assert_eq!(status.message(), "credential already used");
            }
        }
    }
    assert_eq!(accepted, 1);
    assert_eq!(harness.stored().await, (1, 0, 3));
    harness.stop().await;
}
