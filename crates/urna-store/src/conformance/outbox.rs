//! The outbox of non-ballot board entries: the first row per key kept, oldest first,
//! indexes recorded once, the states that accept entries, the Test phase's rows
//! discarded on opening, and a race of one key.

use urna_election::Revoting;

use super::election_in;
use crate::ballot::Phase;
use crate::election::{ElectionState, ElectionStore};
use crate::error::{Conflict, Error, Missing, Result};
use crate::outbox::{EntryOutbox, MAX_KEY_LEN, QueuedEntry};

/// The row under `key`, which must exist.
async fn row<S: EntryOutbox>(
    store: &S,
    election: &str,
    phase: Phase,
    key: &str,
) -> Result<QueuedEntry> {
    store
        .queued_entry(election, phase, key)
        .await?
        .ok_or(Error::NotFound(Missing::Entry))
}

/// Enqueueing keeps the first row per (election, phase, key) and returns it; the
/// unposted rows come oldest first, up to the limit, per phase; an index is recorded
/// once; entries are taken in Test (Test board), Open and Closed (Open board) only,
/// and the Test phase's rows go when the election opens.
pub async fn entry_outbox<S: ElectionStore + EntryOutbox>(store: &S) -> Result<()> {
    let id = "outbox";
    assert!(matches!(
        store
            .enqueue_entry("missing", Phase::Open, "k", vec![1])
            .await,
        Err(Error::NotFound(Missing::Election))
    ));
    election_in(store, id, Revoting::Once, ElectionState::Draft).await?;
    for phase in [Phase::Test, Phase::Open] {
        assert!(matches!(
            store.enqueue_entry(id, phase, "k", vec![1]).await,
            Err(Error::WrongState {
                actual: ElectionState::Draft,
                ..
            })
        ));
    }
    store
        .transition(id, ElectionState::Draft, ElectionState::Test)
        .await?;
    let test = store
        .enqueue_entry(id, Phase::Test, "spoiled", b"test spoil".to_vec())
        .await?;
    assert_eq!(
        (test.phase, test.key.as_str(), test.board_index),
        (Phase::Test, "spoiled", None)
    );
    assert!(matches!(
        store.enqueue_entry(id, Phase::Open, "k", vec![1]).await,
        Err(Error::WrongState {
            actual: ElectionState::Test,
            ..
        })
    ));
    let long = "k".repeat(MAX_KEY_LEN + 1);
    for key in ["", long.as_str()] {
        assert!(matches!(
            store.enqueue_entry(id, Phase::Test, key, vec![1]).await,
            Err(Error::InvalidInput(_))
        ));
    }
    assert_eq!(
        store.unposted_entries(id, Phase::Test, 10).await?,
        std::slice::from_ref(&test)
    );
    store
        .transition(id, ElectionState::Test, ElectionState::Open)
        .await?;
    assert_eq!(store.queued_entry(id, Phase::Test, "spoiled").await?, None);
    assert!(
        store
            .unposted_entries(id, Phase::Test, 10)
            .await?
            .is_empty()
    );
    assert!(matches!(
        store.set_entry_index(id, Phase::Test, "spoiled", 3).await,
        Err(Error::NotFound(Missing::Entry))
    ));
    assert!(matches!(
        store.enqueue_entry(id, Phase::Test, "k", vec![1]).await,
        Err(Error::WrongState {
            actual: ElectionState::Open,
            ..
        })
    ));

    let a = store
        .enqueue_entry(id, Phase::Open, "a", b"entry a".to_vec())
        .await?;
    let b = store
        .enqueue_entry(id, Phase::Open, "b", b"entry b".to_vec())
        .await?;
    let closed = store
        .enqueue_entry(id, Phase::Open, "polls-closed", b"closed at 9".to_vec())
        .await?;
    assert_eq!(
        (a.entry.as_slice(), a.phase, a.board_index),
        (&b"entry a"[..], Phase::Open, None)
    );
    assert!(a.seq > test.seq && b.seq > a.seq && closed.seq > b.seq);
    // The same key again, with other bytes or the same: the first row.
    assert_eq!(
        store
            .enqueue_entry(id, Phase::Open, "polls-closed", b"closed at 10".to_vec())
            .await?,
        closed
    );
    assert_eq!(
        store
            .enqueue_entry(id, Phase::Open, "a", b"entry a".to_vec())
            .await?,
        a
    );
    assert_eq!(
        store.unposted_entries(id, Phase::Open, 10).await?,
        [a.clone(), b.clone(), closed.clone()]
    );
    assert_eq!(
        store.unposted_entries(id, Phase::Open, 2).await?,
        [a.clone(), b.clone()]
    );
    assert_eq!(store.queued_entry(id, Phase::Open, "nope").await?, None);
    assert_eq!(store.queued_entry(id, Phase::Test, "a").await?, None);

    store.set_entry_index(id, Phase::Open, "a", 7).await?;
    store.set_entry_index(id, Phase::Open, "a", 7).await?;
    assert!(matches!(
        store.set_entry_index(id, Phase::Open, "a", 8).await,
        Err(Error::Conflict(Conflict::BoardIndex))
    ));
    assert!(matches!(
        store.set_entry_index(id, Phase::Open, "nope", 8).await,
        Err(Error::NotFound(Missing::Entry))
    ));
    assert_eq!(row(store, id, Phase::Open, "a").await?.board_index, Some(7));
    // Identical bytes are on the board once: two keys may share an index.
    store.set_entry_index(id, Phase::Open, "b", 7).await?;
    assert_eq!(
        store.unposted_entries(id, Phase::Open, 10).await?,
        std::slice::from_ref(&closed)
    );
    // A posted row is still the one a retry gets.
    let again = store
        .enqueue_entry(id, Phase::Open, "a", b"entry a".to_vec())
        .await?;
    assert_eq!((again.seq, again.board_index), (a.seq, Some(7)));

    // Closed: the tally's entries still go to the Open board.
    store
        .transition(id, ElectionState::Open, ElectionState::Closed)
        .await?;
    let tally = store
        .enqueue_entry(id, Phase::Open, "tally", b"tally record".to_vec())
        .await?;
    assert!(tally.seq > closed.seq);
    store
        .set_entry_index(id, Phase::Open, "polls-closed", 9)
        .await?;
    assert_eq!(store.unposted_entries(id, Phase::Open, 10).await?, [tally]);

    // Another election's keys are its own.
    election_in(store, "outbox-2", Revoting::Once, ElectionState::Open).await?;
    let other = store
        .enqueue_entry("outbox-2", Phase::Open, "a", b"other a".to_vec())
        .await?;
    assert_eq!(
        (other.entry.as_slice(), other.board_index),
        (&b"other a"[..], None)
    );
    assert_eq!(row(store, id, Phase::Open, "a").await?.entry, b"entry a");
    assert!(matches!(
        store.unposted_entries("missing", Phase::Open, 1).await,
        Err(Error::NotFound(Missing::Election))
    ));
    Ok(())
}

/// 32 tasks enqueue different bytes under one key at once (two replicas closing the
/// polls): every one gets the same row back, and the outbox holds one.
pub async fn concurrent_enqueues_keep_one<S: ElectionStore + EntryOutbox + Clone + 'static>(
    store: &S,
) -> Result<()> {
    let id = "outbox-race";
    election_in(store, id, Revoting::Once, ElectionState::Open).await?;
    let tasks: Vec<_> = (0..32u8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .enqueue_entry(id, Phase::Open, "polls-closed", vec![i; 8])
                    .await
            })
        })
        .collect();
    let mut rows = Vec::new();
    for task in tasks {
        rows.push(task.await??);
    }
    let first = rows[0].clone();
    assert!(rows.iter().all(|r| *r == first), "one row for every caller");
    assert_eq!(store.unposted_entries(id, Phase::Open, 100).await?, [first]);
    Ok(())
}
