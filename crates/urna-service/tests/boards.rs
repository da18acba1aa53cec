//! The board registry on a real SQLite store: genesis, the poster, phases, and
//! recovery after a crash between appending ballots and recording their index.

use std::time::Duration;

use urna_board::{
    Entry, EntryKind, NoteSigner, Sequencer, SequencerConfig, SignedCheckpoint, TreeHash,
    verify_inclusion,
};
use urna_election::ElectionKeys;
use urna_service::testing::{PUBLIC_NAME, TestElection};
use urna_service::{Board, Boards, Error};
use urna_store::{BallotStore, ElectionState, KeyStore, Phase};

fn config() -> SequencerConfig {
    SequencerConfig {
        interval: Duration::from_millis(5),
        ..SequencerConfig::default()
    }
}

/// Records a fixture ballot in the store, as casting does after its checks.
async fn record(election: &TestElection) -> ([u8; 32], Vec<u8>) {
    let ballot = election.ballot("members");
    let outcome = election.record(&ballot).await;
    assert!(outcome.record().board_index.is_none());
    (ballot.tracking_code, ballot.bytes)
}

/// Checks that the ballot is at `index`, included in the signed checkpoint.
async fn assert_included(board: &Board, index: u64, ballot: &[u8], checkpoint: &SignedCheckpoint) {
    let opened = SignedCheckpoint::open(
        checkpoint.note().as_bytes(),
        board.verifier().name(),
        &[board.verifier()],
    )
    .unwrap();
    let size = opened.checkpoint().size();
    let entry = board
        .entries(index, index + 1)
        .await
        .unwrap()
        .pop()
        .unwrap();
    let decoded = Entry::decode(&entry).unwrap();
    assert_eq!(decoded.kind(), EntryKind::Ballot);
    assert_eq!(decoded.body(), ballot);
    let proof = board.inclusion_proof(index, size).await.unwrap();
    verify_inclusion(
        &TreeHash::leaf(&entry),
        index,
        size,
        &proof,
        opened.checkpoint().root(),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn genesis_then_ballots_in_cast_order_and_a_board_per_phase() {
    let election = TestElection::new().await;
    let boards = Boards::new(election.store(), PUBLIC_NAME, config());
    assert!(matches!(
        boards.get(election.id()).await,
        Err(Error::WrongState(ElectionState::Draft))
    ));
    assert!(matches!(
        boards.get("no-such-election").await,
        Err(Error::UnknownElection)
    ));
    election.advance_to(ElectionState::Test).await;
    let board = boards.get(election.id()).await.unwrap();
    let origin = format!("{PUBLIC_NAME}/{}/test", election.id());
    assert_eq!(board.verifier().name(), origin);
    assert_eq!(board.latest().checkpoint().size(), 2);

    // Entry 0: the manifest; entry 1: the keys, naming this board's key.
    let genesis = board.entries(0, 2).await.unwrap();
    let manifest = Entry::decode(&genesis[0]).unwrap();
    assert_eq!(manifest.kind(), EntryKind::ElectionManifest);
    assert_eq!(manifest.body(), election.manifest().canonical_bytes());
    assert_eq!(manifest.election(), &election.fingerprint());
    let keys = Entry::decode(&genesis[1]).unwrap();
    assert_eq!(keys.kind(), EntryKind::KeyCeremony);
    let keys = ElectionKeys::decode(keys.body()).unwrap();
    assert_eq!(keys.board_key, board.verifier().to_string());
    let joint = election.store().joint_key(election.id()).await.unwrap();
    assert_eq!(keys.joint_key, joint.unwrap().key);

    let mut cast = Vec::new();
    for _ in 0..3 {
        cast.push(record(&election).await);
    }
    board.wake();
    for (offset, (code, bytes)) in cast.iter().enumerate() {
        let (index, checkpoint) = board.posted(*code).await.unwrap();
        assert_eq!(index, 2 + offset as u64);
        assert_included(&board, index, bytes, &checkpoint).await;
    }
    board.flush().await.unwrap();
    assert!(matches!(
        board.posted([7; 32]).await,
        Err(Error::UnknownBallot)
    ));

    // Opening discards Test ballots; the election's own board starts with genesis.
    election.advance_to(ElectionState::Open).await;
    let open = boards.get(election.id()).await.unwrap();
    assert_eq!(open.phase(), Phase::Open);
    assert_eq!(
        open.verifier().name(),
        format!("{PUBLIC_NAME}/{}", election.id())
    );
    assert_eq!(open.latest().checkpoint().size(), 2);
    let (code, bytes) = record(&election).await;
    let (index, checkpoint) = open.posted(code).await.unwrap();
    assert_eq!(index, 2);
    assert_included(&open, index, &bytes, &checkpoint).await;
    boards.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_appending_and_recording_the_index_never_appends_twice() {
    let election = TestElection::new().await;
    election.advance_to(ElectionState::Test).await;
    let boards = Boards::new(election.store(), PUBLIC_NAME, config());
    let first = record(&election).await;
    let (index, _) = boards
        .get(election.id())
        .await
        .unwrap()
        .posted(first.0)
        .await
        .unwrap();
    assert_eq!(index, 2);
    boards.shutdown().await;

    // The poster's first step, then a crash: two ballots integrated and signed, but
    // their board index never recorded.
    let crashed = [record(&election).await, record(&election).await];
    let store = election.store();
    let secrets = store.secrets(election.id()).await.unwrap().unwrap();
    let origin = format!("{PUBLIC_NAME}/{}/test", election.id());
    let signer = NoteSigner::from_seed(&origin, secrets.board_seed()).unwrap();
    let log = urna_store::BoardStore::open_board(&store, election.id(), Phase::Test)
        .await
        .unwrap();
    let entries: Vec<Entry> = crashed
        .iter()
        .map(|(_, bytes)| Entry::new(EntryKind::Ballot, election.fingerprint(), bytes.clone()))
        .collect::<Result<_, _>>()
        .unwrap();
    tokio::task::spawn_blocking(move || {
        let sequencer = Sequencer::start(log, signer, config()).unwrap();
        for entry in &entries {
            sequencer.append(entry).unwrap();
        }
        sequencer.shutdown();
    })
    .await
    .unwrap();
    drop(store);

    // A restarted process: its poster finds them on the board and records them.
    let store = election.reopen().await;
    let boards = Boards::new(store.clone(), PUBLIC_NAME, config());
    let board = boards.get(election.id()).await.unwrap();
    for (offset, (code, bytes)) in crashed.iter().enumerate() {
        let (index, checkpoint) = board.posted(*code).await.unwrap();
        assert_eq!(index, 3 + offset as u64);
        assert_included(&board, index, bytes, &checkpoint).await;
    }
    let after = record(&election).await;
    let (index, _) = board.posted(after.0).await.unwrap();
    assert_eq!(index, 5, "nothing was appended twice");
    let entries = board.entries(0, 100).await.unwrap();
    assert_eq!(entries.len(), 6);
    let indexes: Vec<Option<u64>> = store
        .ballots(election.id())
        .await
        .unwrap()
        .iter()
        .map(|r| r.board_index)
        .collect();
    assert_eq!(indexes, [Some(2), Some(3), Some(4), Some(5)]);
    boards.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_once_appends_an_entry_once_across_restarts() {
    let election = TestElection::new().await;
    election.advance_to(ElectionState::Test).await;
    let entry = Entry::new(
        EntryKind::PollsClosed,
        election.fingerprint(),
        b"x".to_vec(),
    )
    .unwrap();
    let boards = Boards::new(election.store(), PUBLIC_NAME, config());
    let board = boards.get(election.id()).await.unwrap();
    let first = board.append_once(entry.clone()).await.unwrap();
    assert_eq!(first.index, 2);
    assert_eq!(board.append_once(entry.clone()).await.unwrap().index, 2);
    boards.shutdown().await;

    let boards = Boards::new(election.reopen().await, PUBLIC_NAME, config());
    let board = boards.get(election.id()).await.unwrap();
    assert_eq!(board.append_once(entry).await.unwrap().index, 2);
    assert_eq!(board.latest().checkpoint().size(), 3);
    boards.shutdown().await;
}
