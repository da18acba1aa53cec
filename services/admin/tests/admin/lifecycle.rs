//! An election's whole life through the admin API, and what it leaves on the boards.

use ed25519_dalek::SigningKey;
use urna_board::EntryKind;
use urna_crypto::BlindSigningKey;
use urna_election::{ElectionKeys, Manifest};
use urna_proto::v1 as pb;
use urna_service::testing::{CLUB_ELECTION, TestElection};
use urna_store::{
    BallotStore, ElectionState, ElectionStore, KeyStore, NewBallot, Phase, RollStore, VotingCode,
};

use crate::support::{Harness, NOW, assert_refused, club_id, polls_closed, roll};

/// Moves the election to Test (`test`) or Open, and checks that the phase's
/// board holds exactly its genesis entries: the manifest and the public keys.
async fn open_and_check_genesis(h: &Harness, test: bool, joint_key: [u8; 32]) {
    let (id, manifest) = (club_id(), Manifest::from_yaml(CLUB_ELECTION).unwrap());
    let (state, phase) = if test {
        (pb::ElectionState::Test, Phase::Test)
    } else {
        (pb::ElectionState::Open, Phase::Open)
    };
    let opened = h.open(&id, test).await.unwrap();
    assert_eq!(opened.state(), state);
    assert_eq!(opened.discarded_test_ballots, 0);
    let entries = h.entries(&id, phase).await;
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].kind(), EntryKind::ElectionManifest);
    assert_eq!(entries[0].body(), manifest.canonical_bytes());
    assert_eq!(entries[1].kind(), EntryKind::KeyCeremony);
    let secrets = h.store.secrets(&id).await.unwrap().unwrap();
    let auth = BlindSigningKey::from_der(secrets.auth_key_der()).unwrap();
    let expected = ElectionKeys {
        joint_key,
        auth_key: auth.verifying_key().unwrap().to_der().unwrap(),
        style_key: SigningKey::from_bytes(secrets.style_seed())
            .verifying_key()
            .to_bytes(),
        board_key: h.board_key(&id, phase).await,
    };
    assert_eq!(ElectionKeys::decode(entries[1].body()).unwrap(), expected);
    for entry in entries {
        assert_eq!(*entry.election(), manifest.fingerprint());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_election_goes_from_manifest_to_polls_closed() {
    let h = Harness::new().await;
    let manifest = Manifest::from_yaml(CLUB_ELECTION).unwrap();
    let id = club_id();

    let created = h.create(CLUB_ELECTION).await.unwrap();
    assert_eq!(created.election_id, id);
    assert_eq!(created.election_fingerprint, manifest.fingerprint());
    assert_eq!(created.outcome(), pb::ManifestOutcome::Created);
    assert_eq!(created.state(), pb::ElectionState::Draft);
    let secrets = h.store.secrets(&id).await.unwrap().unwrap();
    let auth = BlindSigningKey::from_der(secrets.auth_key_der()).unwrap();
    assert_eq!(auth.verifying_key().unwrap().modulus_len(), 256);
    assert_ne!(secrets.style_seed(), secrets.board_seed());
    let draft = h.status(&id).await.unwrap();
    assert_eq!(draft.state(), pb::ElectionState::Draft);
    assert_eq!((draft.voters, draft.board_size), (0, 0));

    let csv = "voter_id,name,ballot_style\nann,\"Smith, Ann\",members\nbob,Bob,juniors\n";
    let imported = h.import(&id, csv).await.unwrap();
    assert_eq!((imported.imported, imported.total), (2, 2));
    let voters: Vec<_> = imported.codes.iter().map(|c| c.voter_id.as_str()).collect();
    assert_eq!(voters, ["ann", "bob"]);
    assert_ne!(imported.codes[0].voting_code, imported.codes[1].voting_code);
    for (code, style) in imported.codes.iter().zip(["members", "juniors"]) {
        let (voter, hash) = h.store.voter(&id, &code.voter_id).await.unwrap().unwrap();
        assert_eq!(voter.style, style);
        assert!(hash.verify(&VotingCode::parse(&code.voting_code).unwrap()));
    }

    assert_refused(
        h.open(&id, true).await,
        tonic::Code::FailedPrecondition,
        "key ceremony not done",
    );
    let joint_key = h.set_joint_key(&id).await;
    open_and_check_genesis(&h, true, joint_key).await;
    open_and_check_genesis(&h, false, joint_key).await;

    let closed = h.close(&id).await.unwrap();
    assert_eq!(closed.state(), pb::ElectionState::Closed);
    assert_eq!(closed.polls_closed_index, 2);
    let board = h.entries(&id, Phase::Open).await;
    assert_eq!(board.len(), 3);
    let body = polls_closed(&board[2]);
    assert_eq!(
        (
            body.election_id.as_str(),
            body.closed_at,
            body.ballots,
            body.credentials_issued
        ),
        (id.as_str(), NOW, 0, 0)
    );

    let again = h.close(&id).await.unwrap();
    assert_eq!(again.polls_closed_index, 2);
    assert_eq!(h.entries(&id, Phase::Open).await.len(), 3);

    let status = h.status(&id).await.unwrap();
    assert_eq!(status.election_id, id);
    assert_eq!(status.election_fingerprint, manifest.fingerprint());
    assert_eq!(status.title, manifest.title());
    assert_eq!(status.state(), pb::ElectionState::Closed);
    assert_eq!(status.revoting(), pb::RevotingPolicy::LastCounts);
    assert_eq!(
        (status.start, status.end),
        (manifest.start(), manifest.end())
    );
    assert_eq!(
        (status.voters, status.ballots_cast, status.board_size),
        (2, 0, 3)
    );
}

/// Records a fixture ballot as casting would (the store does not verify it).
/// Returns the ballot's bytes.
async fn cast(election: &TestElection) -> Vec<u8> {
    let ballot = election.ballot("members");
    let new = NewBallot {
        nullifier: ballot.ballot.nullifier(),
        tracking_code: ballot.tracking_code,
        ballot: ballot.bytes.clone(),
    };
    election.store().cast(election.id(), new).await.unwrap();
    ballot.bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_ballots_are_discarded_and_every_ballot_precedes_polls_closed() {
    let election = TestElection::new().await;
    let id = election.id().to_owned();
    let h = Harness::start(election.store(), None).await;
    let created = h.create(CLUB_ELECTION).await.unwrap();
    assert_eq!(created.outcome(), pb::ManifestOutcome::Unchanged);
    h.import(&id, &roll(3)).await.unwrap();

    h.open(&id, true).await.unwrap();
    cast(&election).await;
    cast(&election).await;
    assert_eq!(h.status(&id).await.unwrap().ballots_cast, 2);
    let open = h.open(&id, false).await.unwrap();
    assert_eq!(open.discarded_test_ballots, 2);
    assert_eq!(h.status(&id).await.unwrap().ballots_cast, 0);

    // Auth records two credentials (the ballots below bypass auth): polls-closed
    // states auth's count, not one derived from the board.
    for voter in ["v0", "v1"] {
        election
            .store()
            .record_issuance(&id, voter, voter.as_bytes(), b"signature")
            .await
            .unwrap();
    }
    let mut cast_codes = Vec::new();
    for _ in 0..3 {
        cast_codes.push(cast(&election).await);
    }
    let (closed, twice) = tokio::join!(h.close(&id), h.close(&id));
    assert_eq!(closed.unwrap().polls_closed_index, 5);
    assert_eq!(twice.unwrap().polls_closed_index, 5);
    let board = h.entries(&id, Phase::Open).await;
    assert_eq!(board.len(), 6);
    let mut on_board: Vec<Vec<u8>> = board[2..5]
        .iter()
        .map(|e| {
            assert_eq!(e.kind(), EntryKind::Ballot);
            e.body().to_vec()
        })
        .collect();
    on_board.sort_unstable();
    cast_codes.sort_unstable();
    assert_eq!(on_board, cast_codes);
    let body = polls_closed(&board[5]);
    assert_eq!((body.ballots, body.credentials_issued), (3, 2));

    let status = h.status(&id).await.unwrap();
    assert_eq!((status.ballots_cast, status.board_size), (3, 6));
    let late = election.ballot("members");
    let refused = election
        .store()
        .cast(
            &id,
            NewBallot {
                nullifier: late.ballot.nullifier(),
                tracking_code: late.tracking_code,
                ballot: late.bytes,
            },
        )
        .await;
    assert!(refused.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_create_or_close_is_completed_by_calling_again() {
    let h = Harness::new().await;
    let id = club_id();
    let manifest = Manifest::from_yaml(CLUB_ELECTION).unwrap();
    h.store
        .apply_manifest(&manifest, CLUB_ELECTION)
        .await
        .unwrap();
    assert!(h.store.secrets(&id).await.unwrap().is_none());
    let created = h.create(CLUB_ELECTION).await.unwrap();
    assert_eq!(created.outcome(), pb::ManifestOutcome::Unchanged);
    assert!(h.store.secrets(&id).await.unwrap().is_some());

    let election = TestElection::new().await;
    let h = Harness::start(election.store(), None).await;
    election.advance_to(ElectionState::Closed).await;
    let closed = h.close(election.id()).await.unwrap();
    assert_eq!(closed.polls_closed_index, 2);
    let again = h.close(election.id()).await.unwrap();
    assert_eq!(again.polls_closed_index, 2);
    let board = h.entries(election.id(), Phase::Open).await;
    assert_eq!(board.len(), 3);
    assert_eq!(polls_closed(&board[2]).ballots, 0);
}
