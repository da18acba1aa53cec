//! What the admin API refuses, and that a refusal changes nothing.

use tonic::Code;
use urna_proto::v1 as pb;
use urna_service::testing::CLUB_ELECTION;
use urna_store::{CeremonyPhase, ElectionStore, KeyStore, TallyStore};

use crate::support::{Harness, assert_refused, club_id, roll};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_manifest_is_a_no_op_and_changes_are_refused_once_out_of_draft() {
    let h = Harness::new().await;
    let id = club_id();
    let revised = CLUB_ELECTION.replacen("annual general meeting 2026", "AGM 2026 (revised)", 1);
    assert_ne!(revised, CLUB_ELECTION);

    let first = h.create(CLUB_ELECTION).await.unwrap();
    assert_eq!(first.outcome(), pb::ManifestOutcome::Created);
    let auth_key = h
        .store
        .secrets(&id)
        .await
        .unwrap()
        .unwrap()
        .auth_key_der()
        .to_vec();
    let again = h.create(CLUB_ELECTION).await.unwrap();
    assert_eq!(again.outcome(), pb::ManifestOutcome::Unchanged);
    assert_eq!(again.election_fingerprint, first.election_fingerprint);
    let updated = h.create(&revised).await.unwrap();
    assert_eq!(updated.outcome(), pb::ManifestOutcome::Updated);
    assert_ne!(updated.election_fingerprint, first.election_fingerprint);
    let secrets = h.store.secrets(&id).await.unwrap().unwrap();
    assert_eq!(secrets.auth_key_der(), auth_key, "secrets are write-once");

    h.import(&id, &roll(1)).await.unwrap();
    h.set_joint_key(&id).await;
    h.open(&id, true).await.unwrap();
    assert_refused(
        h.create(CLUB_ELECTION).await,
        Code::FailedPrecondition,
        "manifest changed after the election left draft",
    );
    let unchanged = h.create(&revised).await.unwrap();
    assert_eq!(unchanged.outcome(), pb::ManifestOutcome::Unchanged);
    assert_eq!(unchanged.state(), pb::ElectionState::Test);
    let status = h.status(&id).await.unwrap();
    assert_eq!(status.election_fingerprint, updated.election_fingerprint);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_without_the_admin_token_are_refused() {
    let h = Harness::new().await;
    let create = pb::CreateElectionRequest {
        manifest_yaml: CLUB_ELECTION.to_owned(),
    };
    let missing = h.client.clone().create_election(create.clone()).await;
    assert_refused(missing, Code::Unauthenticated, "admin token required");

    let mut wrong = tonic::Request::new(create);
    let other = urna_admin::AdminToken::generate().unwrap();
    let header = format!("Bearer {}", other.expose());
    wrong
        .metadata_mut()
        .insert("authorization", header.parse().unwrap());
    let wrong = h.client.clone().create_election(wrong).await;
    assert_refused(wrong, Code::Unauthenticated, "admin token required");

    let mut basic = tonic::Request::new(pb::GetElectionStatusRequest {
        election_id: club_id(),
    });
    let header = format!("Basic {}", h.token.expose());
    basic
        .metadata_mut()
        .insert("authorization", header.parse().unwrap());
    let basic = h.client.clone().get_election_status(basic).await;
    assert_refused(basic, Code::Unauthenticated, "admin token required");

    assert!(h.store.elections().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_roll_names_its_line_and_imports_nothing() {
    let h = Harness::new().await;
    let id = club_id();
    h.create(CLUB_ELECTION).await.unwrap();
    let cases = [
        (
            "voter_id,style\nv0,members\n",
            "line 1: the header has no `ballot_style` column",
        ),
        (
            "voter_id,ballot_style\nv0,members\nv1,members\nv0,juniors\n",
            "line 4: voter `v0` is already on line 2",
        ),
        (
            "voter_id,ballot_style\nv0,members\nv1,seniors\n",
            "line 3: unknown ballot style `seniors`",
        ),
        (
            "voter_id,ballot_style\nv0,members\nv1\n",
            "line 3: malformed CSV",
        ),
    ];
    for (csv, message) in cases {
        assert_refused(h.import(&id, csv).await, Code::InvalidArgument, message);
    }
    assert_eq!(h.status(&id).await.unwrap().voters, 0);

    h.import(&id, &roll(2)).await.unwrap();
    let overlapping = "voter_id,ballot_style\nv9,members\nv1,juniors\n";
    assert_refused(
        h.import(&id, overlapping).await,
        Code::AlreadyExists,
        "line 3: voter `v1` is already on the roll",
    );
    assert_eq!(h.status(&id).await.unwrap().voters, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_life_cycle_is_draft_test_open_closed_and_nothing_else() {
    let h = Harness::new().await;
    let id = club_id();
    assert_refused(h.status(&id).await, Code::NotFound, "unknown election");
    assert_refused(h.open(&id, true).await, Code::NotFound, "unknown election");
    assert_refused(
        h.status("").await,
        Code::InvalidArgument,
        "malformed election id",
    );
    assert_refused(
        h.create("id: x\ntitle: [").await,
        Code::InvalidArgument,
        "invalid manifest: line",
    );

    h.create(CLUB_ELECTION).await.unwrap();
    assert_refused(
        h.open(&id, false).await,
        Code::FailedPrecondition,
        "needs test",
    );
    assert_refused(h.close(&id).await, Code::FailedPrecondition, "needs open");
    assert_refused(
        h.open(&id, true).await,
        Code::FailedPrecondition,
        "key ceremony not done",
    );
    h.set_joint_key(&id).await;
    assert_refused(
        h.open(&id, true).await,
        Code::FailedPrecondition,
        "voter roll is empty",
    );
    h.import(&id, &roll(1)).await.unwrap();
    assert_refused(h.close(&id).await, Code::FailedPrecondition, "needs open");
    // A key ceremony still running may be about to record its key and records:
    // genesis waits for its end.
    let ceremony = |from, to| h.store.advance_ceremony(&id, from, to);
    assert!(
        ceremony(CeremonyPhase::Registration, CeremonyPhase::Dealing)
            .await
            .unwrap()
    );
    assert_refused(
        h.open(&id, true).await,
        Code::FailedPrecondition,
        "key ceremony not done",
    );
    assert!(
        ceremony(CeremonyPhase::Dealing, CeremonyPhase::Failed)
            .await
            .unwrap()
    );

    assert_eq!(
        h.open(&id, true).await.unwrap().state(),
        pb::ElectionState::Test
    );
    assert_eq!(
        h.open(&id, true).await.unwrap().state(),
        pb::ElectionState::Test
    );
    assert_eq!(
        h.open(&id, false).await.unwrap().state(),
        pb::ElectionState::Open
    );
    assert_refused(
        h.open(&id, true).await,
        Code::FailedPrecondition,
        "election is open",
    );
    assert_refused(
        h.import(&id, &roll(1)).await,
        Code::FailedPrecondition,
        "election is open",
    );
    h.close(&id).await.unwrap();
    assert_refused(
        h.open(&id, false).await,
        Code::FailedPrecondition,
        "election is closed",
    );
    let state = h.store.election(&id).await.unwrap().unwrap().state;
    assert_eq!(state, urna_store::ElectionState::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roll_over_grpcs_default_4_mib_is_read_only_for_the_admin() {
    let h = Harness::new().await;
    let id = club_id();
    h.create(CLUB_ELECTION).await.unwrap();
    let notes = "x".repeat(5 << 20);
    let csv = format!("voter_id,ballot_style,notes\nv0,members,{notes}\n");
    let anonymous = pb::ImportRollRequest {
        election_id: id.clone(),
        csv: csv.clone().into_bytes(),
    };
    let refused = h.client.clone().import_roll(anonymous).await;
    assert_refused(refused, Code::Unauthenticated, "admin token required");
    let imported = h.import(&id, &csv).await.unwrap();
    assert_eq!((imported.imported, imported.total), (1, 1));
}
