//! Board logs per election, and everything surviving a restart.

use std::future::Future;

use urna_board::{Log, TreeHash};
use urna_election::Revoting;

use super::{accepted, ballot, election_in, import};
use crate::Store;
use crate::ballot::{BallotStore, Phase, SpoiledBallot};
use crate::code::VotingCode;
use crate::election::{ElectionState, ElectionStore};
use crate::error::{Error, Missing, Result};
use crate::keys::{ElectionSecrets, KeyStore};
use crate::outbox::EntryOutbox;
use crate::roll::RollStore;
use crate::tally::{StoredDealing, TallyStore};

const ORIGIN: &str = "example.org/urna/board";

/// Appends `entries` to the election's board and returns its size and root.
async fn append<S: Store>(
    store: &S,
    election: &str,
    phase: Phase,
    entries: Vec<Vec<u8>>,
) -> Result<(u64, TreeHash)> {
    let board = store.open_board(election, phase).await?;
    let out = tokio::task::spawn_blocking(move || -> Result<_> {
        let mut log = Log::open(board, ORIGIN)?;
        log.integrate(&entries)?;
        Ok((log.size(), log.root()))
    });
    out.await?
}

/// Each election has its own board log per phase, kept between openings.
pub async fn board_logs<S: Store>(store: &S) -> Result<()> {
    assert!(matches!(
        store.open_board("missing", Phase::Open).await,
        Err(Error::NotFound(Missing::Election))
    ));
    election_in(store, "board-a", Revoting::Once, ElectionState::Draft).await?;
    election_in(store, "board-b", Revoting::Once, ElectionState::Draft).await?;
    let two = vec![b"one".to_vec(), b"two".to_vec()];
    let (size, root) = append(store, "board-a", Phase::Open, two).await?;
    assert_eq!(size, 2);
    assert_ne!(root, TreeHash::EMPTY_ROOT);
    assert_eq!(
        append(store, "board-a", Phase::Open, vec![]).await?,
        (2, root)
    );
    let empty = (0, TreeHash::EMPTY_ROOT);
    assert_eq!(append(store, "board-a", Phase::Test, vec![]).await?, empty);
    assert_eq!(append(store, "board-b", Phase::Open, vec![]).await?, empty);
    let (size, _) = append(store, "board-a", Phase::Test, vec![b"t".to_vec()]).await?;
    assert_eq!(size, 1);
    assert_eq!(
        append(store, "board-a", Phase::Open, vec![]).await?,
        (2, root)
    );
    Ok(())
}

/// Writes something of every kind but board entries (see [`board_survives_restart`]),
/// drops the store, reopens it with `open`, and finds everything as it was.
pub async fn restart_keeps_everything<S, F, Fut>(open: F) -> Result<()>
where
    S: ElectionStore + RollStore + BallotStore + EntryOutbox + KeyStore + TallyStore,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<S>>,
{
    let store = open().await?;
    let m = election_in(&store, "kept", Revoting::LastCounts, ElectionState::Test).await?;
    let codes = import(&store, "kept", &["alice", "bob"], "juniors", 11).await?;
    store
        .record_issuance("kept", "alice", b"blinded", b"signature")
        .await?;
    store
        .transition("kept", ElectionState::Test, ElectionState::Open)
        .await?;
    accepted(&store, "kept", ballot(1, 0)).await?;
    accepted(&store, "kept", ballot(1, 1)).await?;
    store
        .set_board_index("kept", &ballot(1, 0).tracking_code, 0)
        .await?;
    let spoiled = SpoiledBallot {
        tracking_code: [8; 32],
        ballot: b"challenged".to_vec(),
        opening: b"randomness".to_vec(),
    };
    store.record_spoiled("kept", spoiled.clone()).await?;
    let posted = store
        .enqueue_entry("kept", Phase::Open, "posted", b"spoiled entry".to_vec())
        .await?;
    store
        .set_entry_index("kept", Phase::Open, "posted", 1)
        .await?;
    let queued = store
        .enqueue_entry("kept", Phase::Open, "polls-closed", b"closed".to_vec())
        .await?;
    let secrets = ElectionSecrets::new(b"rsa der".to_vec(), [1; 32], [2; 32]);
    store.init_secrets("kept", secrets).await?;
    election_in(&store, "done", Revoting::Once, ElectionState::Closed).await?;
    store.record_results("done", b"totals").await?;
    election_in(&store, "ceremony", Revoting::Once, ElectionState::Draft).await?;
    let dealing = StoredDealing {
        dealer: 2,
        dealing: b"dealing".to_vec(),
        shares: vec![b"to 1".to_vec(), b"to 2".to_vec()],
        signature: b"signed".to_vec(),
    };
    store.add_dealing("ceremony", dealing.clone()).await?;

    let elections = store.elections().await?;
    let ballots = store.ballots("kept").await?;
    drop(store);

    let store = open().await?;
    assert_eq!(store.elections().await?, elections);
    let kept = store
        .election("kept")
        .await?
        .ok_or(Error::NotFound(Missing::Election))?;
    assert_eq!(
        (kept.fingerprint, kept.state),
        (m.fingerprint(), ElectionState::Open)
    );
    assert_eq!(store.ballots("kept").await?, ballots);
    assert_eq!(ballots.len(), 2);
    assert_eq!(store.spoiled("kept").await?, [spoiled]);
    let posted = crate::QueuedEntry {
        board_index: Some(1),
        ..posted
    };
    assert_eq!(
        store.queued_entry("kept", Phase::Open, "posted").await?,
        Some(posted)
    );
    assert_eq!(
        store.unposted_entries("kept", Phase::Open, 10).await?,
        std::slice::from_ref(&queued)
    );
    // The key still holds: the first row comes back, and a new one goes after it.
    assert_eq!(
        store
            .enqueue_entry("kept", Phase::Open, "polls-closed", b"later".to_vec())
            .await?,
        queued
    );
    let next = store
        .enqueue_entry("kept", Phase::Open, "tally", b"tally".to_vec())
        .await?;
    assert!(next.seq > queued.seq);
    assert_eq!(store.roll_size("kept").await?, 2);
    let (voter, hash) = store
        .voter("kept", "bob")
        .await?
        .ok_or(Error::NotFound(Missing::Voter))?;
    assert_eq!(voter.style, "juniors");
    assert!(hash.verify(&VotingCode::parse(&codes[1].display())?));
    assert!(!hash.verify(&codes[0]));
    assert_eq!(store.credentials_issued("kept").await?, 1);
    assert_eq!(
        store
            .record_issuance("kept", "alice", b"blinded", b"new")
            .await?
            .signature(),
        b"signature"
    );
    assert_eq!(store.results("done").await?, Some(b"totals".to_vec()));
    assert_eq!(store.dealings("ceremony").await?, [dealing]);
    let secrets = store
        .secrets("kept")
        .await?
        .ok_or(Error::NotFound(Missing::Election))?;
    assert_eq!(
        (secrets.auth_key_der(), secrets.board_seed()),
        (&b"rsa der"[..], &[2; 32])
    );
    // The policy survives too: the same nullifier supersedes again.
    let third = store.cast("kept", ballot(1, 2)).await?;
    assert_eq!(third.record().supersedes, Some(ballots[1].seq));
    Ok(())
}

/// Appends to an election's board, drops the store, reopens it with `open`, and
/// finds the same log.
pub async fn board_survives_restart<S, F, Fut>(open: F) -> Result<()>
where
    S: Store,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<S>>,
{
    let store = open().await?;
    election_in(&store, "kept", Revoting::Once, ElectionState::Open).await?;
    let board = append(
        &store,
        "kept",
        Phase::Open,
        vec![b"manifest".to_vec(), b"ballot".to_vec()],
    )
    .await?;
    drop(store);
    let store = open().await?;
    assert_eq!(append(&store, "kept", Phase::Open, vec![]).await?, board);
    assert_eq!(board.0, 2);
    Ok(())
}
