//! One sequencer among replicas: two board registries (two "replicas", each with a
//! connection pool of its own) over one PostgreSQL database. Only the lease holder
//! sequences; ballots cast through either replica get their board index and a
//! receipt; when the leader's lease connection dies, or the leader shuts down, the
//! other replica takes over from the stored head; and the board stays one log: one
//! root per size, no entry twice, every ballot at the index the store recorded.
//! Skipped loudly without a PostgreSQL server (failed under `CI=true`).

use std::collections::HashSet;
use std::time::Duration;

use tokio::time::Instant;
use urna_board::{
    Entry, EntryKind, Log, SequencerConfig, SignedCheckpoint, Store as _, TreeHash,
    verify_inclusion,
};
use urna_service::testing::{PUBLIC_NAME, TestElection};
use urna_service::{Board, Boards, Error};
use urna_store::testing::PgTestDb;
use urna_store::{BallotStore, BoardStore, ElectionState, NewBallot, PgStore, Phase};

/// How long a replica may take to notice a lost lease or to take a free one.
const TAKEOVER: Duration = Duration::from_secs(15);

fn config() -> SequencerConfig {
    SequencerConfig {
        interval: Duration::from_millis(5),
        ..SequencerConfig::default()
    }
}

/// A ballot cast through `store` (one replica's pool), as casting records it.
struct Cast {
    code: [u8; 32],
    bytes: Vec<u8>,
    index: Option<u64>,
}

async fn cast(store: &PgStore, election: &TestElection<PgStore>) -> Cast {
    let ballot = election.ballot("members");
    store
        .cast(
            election.id(),
            NewBallot {
                nullifier: ballot.ballot.nullifier(),
                tracking_code: ballot.tracking_code,
                ballot: ballot.bytes.clone(),
            },
        )
        .await
        .unwrap();
    Cast {
        code: ballot.tracking_code,
        bytes: ballot.bytes,
        index: None,
    }
}

/// Waits for the ballot's receipt from `board` and checks it: the entry at the index
/// is the ballot, included in the receipt's checkpoint.
async fn receipt(board: &Board, ballot: &mut Cast) {
    board.wake();
    let (index, checkpoint) = board.posted(ballot.code).await.unwrap();
    let verifier = board.verifier();
    let opened = SignedCheckpoint::open(
        checkpoint.note().as_bytes(),
        verifier.name(),
        std::slice::from_ref(&verifier),
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
    assert_eq!(
        (decoded.kind(), decoded.body()),
        (EntryKind::Ballot, &ballot.bytes[..])
    );
    let proof = board.inclusion_proof(index, size).await.unwrap();
    verify_inclusion(
        &TreeHash::leaf(&entry),
        index,
        size,
        &proof,
        opened.checkpoint().root(),
    )
    .unwrap();
    ballot.index = Some(index);
}

/// Waits until `board` sequences (`true`) or follows (`false`).
async fn until_sequencing(board: &Board, sequencing: bool) {
    let deadline = Instant::now() + TAKEOVER;
    while board.is_sequencing() != sequencing {
        assert!(
            Instant::now() < deadline,
            "the board never became {}",
            if sequencing {
                "the leader"
            } else {
                "a follower"
            }
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Ends every connection of the database that holds an advisory lock: the server
/// releases the locks as it would for a replica that died.
async fn kill_lease_holders(url: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let killed = client
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_locks
             WHERE locktype = 'advisory' AND pid <> pg_backend_pid()
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(killed.len(), 1, "one lease was held");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_replica_sequences_and_another_takes_over() {
    tokio::time::timeout(Duration::from_secs(120), scenario())
        .await
        .expect("the scenario finishes in time");
}

async fn scenario() {
    let Some(db) = PgTestDb::create().await.unwrap() else {
        return;
    };
    let a = PgStore::connect(db.url(), 4).await.unwrap();
    let b = PgStore::connect(db.url(), 4).await.unwrap();
    let election = TestElection::in_store(a.clone()).await;
    election.advance_to(ElectionState::Open).await;
    let id = election.id();
    let replica_a = Boards::new(a.clone(), PUBLIC_NAME, config());
    let replica_b = Boards::new(b.clone(), PUBLIC_NAME, config());

    // The first replica to open the board leads; the other follows it.
    let board_a = replica_a.get(id).await.unwrap();
    let board_b = replica_b.get(id).await.unwrap();
    assert!(board_a.is_sequencing());
    assert!(!board_b.is_sequencing(), "one sequencer");
    assert_eq!(board_b.latest(), board_a.latest());
    let genesis = board_a.entries(0, 100).await.unwrap();
    assert_eq!(board_b.entries(0, 100).await.unwrap(), genesis);
    let entry = Entry::new(EntryKind::PollsClosed, election.fingerprint(), vec![1]).unwrap();
    assert!(
        matches!(board_b.append(entry).await, Err(Error::Unavailable)),
        "a follower does not append"
    );

    let mut ballots = Vec::new();
    for i in 0..6 {
        let (store, board) = if i % 2 == 0 {
            (&a, &board_a)
        } else {
            (&b, &board_b)
        };
        let mut ballot = cast(store, &election).await;
        receipt(board, &mut ballot).await;
        ballots.push(ballot);
    }

    // The leader's lease connection dies while its process lives on: it stops
    // sequencing, and the other replica takes over.
    kill_lease_holders(db.url()).await;
    until_sequencing(&board_b, true).await;
    until_sequencing(&board_a, false).await;
    for i in 0..6 {
        let (store, board) = if i % 2 == 0 {
            (&a, &board_a)
        } else {
            (&b, &board_b)
        };
        let mut ballot = cast(store, &election).await;
        receipt(board, &mut ballot).await;
        ballots.push(ballot);
    }

    // Ballots wait in the outbox while the leader shuts down; the other replica
    // takes over and posts them.
    let mut waiting = Vec::new();
    for _ in 0..4 {
        waiting.push(cast(&b, &election).await);
    }
    replica_b.shutdown().await;
    until_sequencing(&board_a, true).await;
    for mut ballot in waiting {
        receipt(&board_a, &mut ballot).await;
        ballots.push(ballot);
    }
    replica_a.shutdown().await;

    // One log: every ballot once, at the index the store recorded; every stored
    // checkpoint is the tree's root at its size.
    let origin = board_a.verifier().name().to_owned();
    let log = b.open_board(id, Phase::Open).await.unwrap();
    let entries = tokio::task::spawn_blocking(move || {
        let log = Log::open(log, &origin).unwrap();
        let entries = log.entries(0, log.size()).unwrap();
        let mut signed = 0;
        for size in 1..=log.size() {
            if let Some(cp) = log.store().checkpoint(size).unwrap() {
                assert_eq!(cp.root, log.root_at(size).unwrap(), "size {size}");
                signed += 1;
            }
        }
        assert_eq!(log.latest_checkpoint().unwrap().unwrap().size, log.size());
        assert!(signed > 1);
        entries
    })
    .await
    .unwrap();
    let distinct: HashSet<&Vec<u8>> = entries.iter().collect();
    assert_eq!(distinct.len(), entries.len(), "no entry twice");
    assert_eq!(entries.len(), genesis.len() + ballots.len());
    for ballot in &ballots {
        let index = ballot.index.unwrap();
        let record = a.ballot(id, &ballot.code).await.unwrap().unwrap();
        assert_eq!(record.board_index, Some(index));
        let entry = Entry::decode(&entries[index as usize]).unwrap();
        assert_eq!(entry.body(), &ballot.bytes[..]);
    }
}
