//! One sequencer among replicas: two board registries (two "replicas", each with a
//! connection pool of its own) over one PostgreSQL database. Only the lease holder
//! sequences; ballots cast through either replica get their board index and a
//! receipt; when the leader's lease connection dies, or the leader shuts down, the
//! other replica takes over from the stored head; and the board stays one log: one
//! root per size, no entry twice, every ballot at the index the store recorded.
//! Non-ballot entries (spoiled ballots, polls-closed) appended through either replica
//! go through the store's entry outbox: the leader appends each once, also when both
//! replicas enqueue the same key at once, across a takeover and after a crash between
//! appending and recording. Skipped loudly without a PostgreSQL server (failed under `CI=true`).

use std::collections::HashSet;
use std::time::Duration;

use tokio::time::Instant;
use urna_board::{
    Appended, Entry, EntryKind, Log, NoteSigner, Sequencer, SequencerConfig, SignedCheckpoint,
    Store as _, TreeHash, verify_inclusion,
};
use urna_service::board::{POLLS_CLOSED_KEY, entry_key};
use urna_service::testing::{PUBLIC_NAME, TestElection};
use urna_service::{Board, Boards};
use urna_store::testing::PgTestDb;
use urna_store::{
    BallotStore, BoardStore, ElectionState, EntryOutbox, KeyStore, NewBallot, PgStore, Phase,
};

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
/// is the ballot, included in the receipt's checkpoint. Returns that checkpoint's size.
async fn receipt(board: &Board, ballot: &mut Cast) -> u64 {
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
    size
}

/// A replica asked right after another gave a receipt never answers with an older
/// tree: its checkpoint covers the receipt's, and it serves proofs up to that size
/// (it reads the stored checkpoint rather than wait for its next look at the store).
async fn no_older_than(board: &Board, ballot: &Cast, size: u64) {
    let current = board.current().await;
    assert!(
        current.checkpoint().size() >= size,
        "a replica answered with a tree of {} entries after a receipt at {size}",
        current.checkpoint().size()
    );
    board
        .inclusion_proof(ballot.index.unwrap(), size)
        .await
        .unwrap();
    board
        .consistency_proof(1, current.checkpoint().size())
        .await
        .unwrap();
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

    let mut ballots = Vec::new();
    for i in 0..6 {
        let (store, board, other) = if i % 2 == 0 {
            (&a, &board_a, &board_b)
        } else {
            (&b, &board_b, &board_a)
        };
        let mut ballot = cast(store, &election).await;
        let size = receipt(board, &mut ballot).await;
        no_older_than(other, &ballot, size).await;
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

/// A spoiled-ballot-like entry of the election, numbered `n`.
fn spoiled(election: &TestElection<PgStore>, n: u8) -> Entry {
    Entry::new(
        EntryKind::SpoiledBallot,
        election.fingerprint(),
        vec![n; 40],
    )
    .unwrap()
}

/// Checks what `append` returned: `entry` is at the index, included in the signed
/// checkpoint returned with it.
async fn assert_appended(board: &Board, entry: &Entry, appended: &Appended) {
    let verifier = board.verifier();
    let opened = SignedCheckpoint::open(
        appended.checkpoint.note().as_bytes(),
        verifier.name(),
        std::slice::from_ref(&verifier),
    )
    .unwrap();
    let size = opened.checkpoint().size();
    let index = appended.index;
    let stored = board.entries(index, index + 1).await.unwrap();
    assert_eq!(stored, [entry.encode()], "the entry is at its index");
    let proof = board.inclusion_proof(index, size).await.unwrap();
    verify_inclusion(
        &TreeHash::leaf(&entry.encode()),
        index,
        size,
        &proof,
        opened.checkpoint().root(),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn entries_through_a_follower_are_appended_once() {
    tokio::time::timeout(Duration::from_secs(120), entries_scenario())
        .await
        .expect("the scenario finishes in time");
}

async fn entries_scenario() {
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
    let board_a = replica_a.get(id).await.unwrap();
    let board_b = replica_b.get(id).await.unwrap();
    assert!(board_a.is_sequencing());
    assert!(!board_b.is_sequencing());
    let genesis = board_a.latest().checkpoint().size() as usize;

    // A spoiled ballot through the follower: on the board, and a retry through
    // either replica gets the same index.
    let first = spoiled(&election, 1);
    let appended = board_b.append_once(first.clone()).await.unwrap();
    assert_appended(&board_b, &first, &appended).await;
    assert!(!board_b.is_sequencing(), "the follower did not take over");
    assert_eq!(
        board_b.append_once(first.clone()).await.unwrap().index,
        appended.index
    );
    assert_eq!(
        board_a.append_once(first.clone()).await.unwrap().index,
        appended.index
    );

    // The same entry through both replicas at once: one index.
    let twice = spoiled(&election, 2);
    let (x, y) = tokio::join!(
        board_a.append_once(twice.clone()),
        board_b.append_once(twice.clone())
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.index, y.index);
    assert_appended(&board_b, &twice, &y).await;

    // Ballots accepted through both replicas and not yet waited for, then the polls
    // closed through both at once with different bytes: one polls-closed entry, the
    // first enqueued, after every one of those ballots.
    let mut ballots = Vec::new();
    for i in 0..6 {
        let store = if i % 2 == 0 { &a } else { &b };
        ballots.push(cast(store, &election).await);
    }
    let closed_a = Entry::new(
        EntryKind::PollsClosed,
        election.fingerprint(),
        b"a".to_vec(),
    );
    let closed_b = Entry::new(
        EntryKind::PollsClosed,
        election.fingerprint(),
        b"b".to_vec(),
    );
    let (closed_a, closed_b) = (closed_a.unwrap(), closed_b.unwrap());
    assert_eq!(entry_key(&closed_a), POLLS_CLOSED_KEY);
    let (x, y) = tokio::join!(
        board_b.append(closed_b.clone()),
        board_a.append(closed_a.clone())
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.index, y.index, "one polls-closed entry");
    let row = b
        .queued_entry(id, Phase::Open, POLLS_CLOSED_KEY)
        .await
        .unwrap()
        .unwrap();
    let winner = Entry::decode(&row.entry).unwrap();
    assert!(winner == closed_a || winner == closed_b);
    assert_appended(&board_b, &winner, &x).await;
    let closed_at = x.index;
    for ballot in &mut ballots {
        receipt(&board_b, ballot).await;
        assert!(
            ballot.index.unwrap() < closed_at,
            "ballots before polls-closed"
        );
    }

    // The leader's lease connection dies: entries enqueued through either replica
    // while the other takes over are appended, once.
    kill_lease_holders(db.url()).await;
    let during_a = spoiled(&election, 3);
    let during_b = spoiled(&election, 4);
    let (x, y) = tokio::join!(
        board_a.append_once(during_a.clone()),
        board_b.append_once(during_b.clone())
    );
    assert_appended(&board_a, &during_a, &x.unwrap()).await;
    assert_appended(&board_b, &during_b, &y.unwrap()).await;
    until_sequencing(&board_b, true).await;
    until_sequencing(&board_a, false).await;
    let after = spoiled(&election, 5);
    let appended = board_a.append_once(after.clone()).await.unwrap();
    assert_appended(&board_a, &after, &appended).await;

    // A crash between appending an entry and recording its index: the entry is
    // queued, and on the board (signed), but its row has no index. Whoever sequences
    // next records where it is instead of appending it again.
    replica_a.shutdown().await;
    replica_b.shutdown().await;
    let crashed = spoiled(&election, 6);
    let queued = b
        .enqueue_entry(id, Phase::Open, &entry_key(&crashed), crashed.encode())
        .await
        .unwrap();
    assert_eq!(queued.board_index, None);
    let secrets = b.secrets(id).await.unwrap().unwrap();
    let origin = format!("{PUBLIC_NAME}/{id}");
    let signer = NoteSigner::from_seed(&origin, secrets.board_seed()).unwrap();
    let log = b.open_board(id, Phase::Open).await.unwrap();
    let on_board = {
        let crashed = crashed.clone();
        tokio::task::spawn_blocking(move || {
            let sequencer = Sequencer::start(log, signer, config()).unwrap();
            let index = sequencer.append(&crashed).unwrap().index;
            sequencer.shutdown();
            index
        })
        .await
        .unwrap()
    };
    let replica_c = Boards::new(b.clone(), PUBLIC_NAME, config());
    let board_c = replica_c.get(id).await.unwrap();
    assert!(board_c.is_sequencing());
    let appended = board_c.append_once(crashed.clone()).await.unwrap();
    assert_eq!(appended.index, on_board, "recorded, not appended again");
    assert_appended(&board_c, &crashed, &appended).await;
    replica_c.shutdown().await;

    // One log: every entry once; every outbox row posted, at an index holding its
    // bytes; one polls-closed entry.
    let log = b.open_board(id, Phase::Open).await.unwrap();
    let entries = tokio::task::spawn_blocking(move || {
        let log = Log::open(log, &origin).unwrap();
        log.entries(0, log.size()).unwrap()
    })
    .await
    .unwrap();
    let distinct: HashSet<&Vec<u8>> = entries.iter().collect();
    assert_eq!(distinct.len(), entries.len(), "no entry twice");
    assert!(
        b.unposted_entries(id, Phase::Open, 100)
            .await
            .unwrap()
            .is_empty()
    );
    for entry in [
        &first, &twice, &winner, &during_a, &during_b, &after, &crashed,
    ] {
        let row = b
            .queued_entry(id, Phase::Open, &entry_key(entry))
            .await
            .unwrap()
            .unwrap();
        let index = row.board_index.unwrap() as usize;
        assert_eq!(entries[index], entry.encode());
    }
    let polls_closed = entries
        .iter()
        .filter(|e| Entry::decode(e).unwrap().kind() == EntryKind::PollsClosed)
        .count();
    assert_eq!(polls_closed, 1);
    assert_eq!(entries.len(), genesis + 7 + ballots.len());
}
