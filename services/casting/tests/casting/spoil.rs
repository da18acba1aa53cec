//! Benaloh challenges: a spoiled ballot is published opened, never cast; a cast
//! ballot is never spoiled.

use tonic::Code;
use urna_board::{Entry, EntryKind};
use urna_casting::Opening;
use urna_casting::opening::encode_openings;
use urna_proto::v1;
use urna_service::spoiled_body;
use urna_service::testing::{CLUB_ELECTION, TestBallot};
use urna_store::ElectionState;

use crate::support::{Harness, check_receipt};

pub fn openings(ballot: &TestBallot) -> Vec<v1::ContestOpening> {
    ballot
        .ballot
        .contests()
        .iter()
        .zip(&ballot.opening.contests)
        .map(|((id, _), opening)| v1::ContestOpening {
            contest_id: id.clone(),
            values: opening.values().to_vec(),
            nonces: opening
                .reveal()
                .iter()
                .map(|n| n.to_bytes().to_vec())
                .collect(),
        })
        .collect()
}

pub async fn spoil(
    harness: &Harness,
    ballot: &[u8],
    openings: Vec<v1::ContestOpening>,
) -> Result<v1::Receipt, tonic::Status> {
    let mut client = harness.client.clone();
    let response = client
        .spoil_ballot(v1::SpoilBallotRequest {
            election_id: harness.election.id().to_owned(),
            ballot: ballot.to_vec(),
            openings,
        })
        .await?;
    Ok(response.into_inner().receipt.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoiled_ballot_is_published_opened_and_can_never_be_cast() {
    let harness = Harness::new(CLUB_ELECTION, ElectionState::Open).await;
    let verifier = harness.verifier().await;
    let challenged = harness.election.ballot("members");
    let opened = openings(&challenged);

    // A wrong opening (one value changed) is refused, and nothing is stored.
    let mut wrong = opened.clone();
    wrong[1].values[0] ^= 1;
    let status = spoil(&harness, &challenged.bytes, wrong).await.unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::InvalidArgument, "invalid ballot opening")
    );
    // Nonces that are not canonical scalars, or not 32 bytes; an opening missing.
    let mut non_canonical = opened.clone();
    non_canonical[0].nonces[0] = vec![0xff; 32];
    let mut short = opened.clone();
    short[0].nonces[0].pop();
    let missing = opened[1..].to_vec();
    for bad in [non_canonical, short, missing] {
        let status = spoil(&harness, &challenged.bytes, bad).await.unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (Code::InvalidArgument, "invalid ballot opening")
        );
    }
    assert_eq!(harness.stored().await, (0, 0, 2));

    let receipt = spoil(&harness, &challenged.bytes, opened.clone())
        .await
        .unwrap();
    assert!(receipt.spoiled);
    check_receipt(&receipt, &verifier, &challenged, EntryKind::SpoiledBallot);
    let entry = Entry::decode(&receipt.entry.as_ref().unwrap().entry).unwrap();
    let published: Vec<Opening> = opened
        .iter()
        .cloned()
        .map(|o| Opening::try_from(o).unwrap())
        .collect();
    assert_eq!(
        entry.body(),
        spoiled_body(&challenged.bytes, &encode_openings(&published))
    );
    // Again: the same entry, not a second one; and its receipt can be looked up.
    let again = spoil(&harness, &challenged.bytes, opened).await.unwrap();
    assert_eq!(again.entry, receipt.entry);
    let found = harness.receipt(&challenged.tracking_code).await.unwrap();
    assert!(found.spoiled);
    assert_eq!(found.entry, receipt.entry);

    let status = harness.cast(&challenged.bytes).await.unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::FailedPrecondition, "ballot was spoiled")
    );

    // A cast ballot cannot be spoiled.
    let cast = harness.election.ballot("juniors");
    harness.cast(&cast.bytes).await.unwrap();
    let status = spoil(&harness, &cast.bytes, openings(&cast))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::FailedPrecondition, "ballot already cast")
    );
    assert_eq!(harness.stored().await, (1, 1, 4));
    harness.stop().await;
}
