//! Every bad input gets its exact status and a fixed message, and changes nothing
//! stored.

use tonic::{Code, Status};
use urna_casting::MAX_BALLOT_LEN;
use urna_service::testing::{CLUB_ELECTION, TestBallot, TestElection};
use urna_store::ElectionState;

use crate::support::{DURING, Harness, once, resign};

fn assert_status(result: Result<urna_proto::v1::Receipt, Status>, code: Code, message: &str) {
    let status = result.unwrap_err();
    assert_eq!((status.code(), status.message()), (code, message));
}

/// The offset of the blind RSA signature in a ballot of style `style`: version,
/// fingerprint, style string, credential key, then the signature's length prefix.
fn rsa_signature_at(style: &str) -> usize {
    1 + 32 + 4 + style.len() + 32 + 4
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_ballot_gets_its_status_and_changes_nothing() {
    let harness = Harness::new(&once(), ElectionState::Open).await;
    let good = harness.election.ballot("members");
    let accepted = harness.cast(&good.bytes).await.unwrap();
    let before = harness.stored().await;
    let invalid = Code::InvalidArgument;

    assert_status(harness.cast(&[1, 2, 3]).await, invalid, "malformed ballot");
    let truncated = &good.bytes[..good.bytes.len() - 1];
    assert_status(harness.cast(truncated).await, invalid, "malformed ballot");
    let oversize = vec![0; MAX_BALLOT_LEN + 1];
    assert_status(
        harness.cast(&oversize).await,
        Code::ResourceExhausted,
        "ballot too large",
    );
    assert_status(
        harness.cast_to("no-such-election", &good.bytes).await,
        Code::NotFound,
        "unknown election",
    );

    // A ballot of another election (same contests, another id and fingerprint).
    let other = TestElection::from_yaml(&once().replace("club-agm-2026", "club-egm-2026")).await;
    let foreign = other.ballot("members");
    assert_status(
        harness.cast(&foreign.bytes).await,
        invalid,
        "malformed ballot",
    );

    // A style the election does not have, correctly signed.
    let mut bytes = harness.election.ballot("members").bytes;
    let style = 1 + 32 + 4;
    bytes[style..style + 7].copy_from_slice(b"memberz");
    assert_status(harness.cast(&bytes).await, invalid, "malformed ballot");

    // A credential blind-signed for another style than the ballot's.
    let (credential, secret) = harness.election.credential("juniors");
    let selections = harness.election.selections("members");
    let crossed = harness
        .election
        .ballot_with("members", credential, secret, &selections);
    assert_status(
        harness.cast(&crossed.bytes).await,
        invalid,
        "invalid credential",
    );

    // A proof changed (the lowest byte of its last scalar, so it stays canonical),
    // the ballot signed again: only the proof is wrong.
    let ballot = harness.election.ballot("members");
    let mut bytes = ballot.bytes.clone();
    let last_scalar = bytes.len() - 64 - 32;
    bytes[last_scalar] ^= 1;
    resign(&mut bytes, &ballot.secret);
    assert_status(harness.cast(&bytes).await, invalid, "invalid ballot proof");

    // Auth's signature changed, the ballot signed again: only the credential is wrong.
    let ballot = harness.election.ballot("members");
    let mut bytes = ballot.bytes.clone();
    bytes[rsa_signature_at("members") + 10] ^= 1;
    resign(&mut bytes, &ballot.secret);
    assert_status(harness.cast(&bytes).await, invalid, "invalid credential");

    // The ballot's own signature broken.
    let mut bytes = harness.election.ballot("members").bytes;
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    assert_status(harness.cast(&bytes).await, invalid, "invalid credential");

    // Under `once`, another ballot of the same credential.
    let [first, replay]: [TestBallot; 2] = harness
        .election
        .ballots_of_one_credential("juniors", 2)
        .try_into()
        .unwrap();
    let first_receipt = harness.cast(&first.bytes).await.unwrap();
    let before = (before.0 + 1, before.1, before.2 + 1);
    assert_eq!(harness.stored().await, before);
    assert_status(
        harness.cast(&replay.bytes).await,
        Code::AlreadyExists,
        "credential already used",
    );
    // The identical ballot again: the original receipt.
    assert_eq!(harness.cast(&first.bytes).await.unwrap(), first_receipt);
    assert_eq!(
        harness.cast(&good.bytes).await.unwrap().entry,
        accepted.entry
    );

    assert_eq!(harness.stored().await, before, "nothing was stored");
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ballots_outside_the_election_window_or_state_are_refused() {
    let harness = Harness::new(CLUB_ELECTION, ElectionState::Draft).await;
    let ballot = harness.election.ballot("members");
    let precondition = Code::FailedPrecondition;
    assert_status(
        harness.cast(&ballot.bytes).await,
        precondition,
        "election not open",
    );

    harness.election.advance_to(ElectionState::Open).await;
    let (start, end) = (
        harness.election.manifest().start(),
        harness.election.manifest().end(),
    );
    harness.clock.set(start - 1);
    assert_status(
        harness.cast(&ballot.bytes).await,
        precondition,
        "election not open",
    );
    harness.clock.set(end);
    assert_status(
        harness.cast(&ballot.bytes).await,
        precondition,
        "election closed",
    );
    harness.clock.set(DURING);
    let before = harness.stored().await;
    assert_eq!(before, (0, 0, 2));

    harness.election.advance_to(ElectionState::Closed).await;
    assert_status(
        harness.cast(&ballot.bytes).await,
        precondition,
        "election closed",
    );
    assert_eq!(harness.stored().await, before);
    harness.stop().await;
}
