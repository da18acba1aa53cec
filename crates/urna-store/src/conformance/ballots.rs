//! Casting: nullifiers under both policies, the 200-cast race, spoiled ballots,
//! tracking-code lookup and board indices.

use urna_election::Revoting;

use super::{accepted, ballot, election_in};
use crate::ballot::{BallotStore, CastOutcome, Phase, SpoiledBallot};
use crate::election::{ElectionState, ElectionStore};
use crate::error::{Conflict, Error, Missing, Result};

/// Under `once`: a second, different ballot is refused; the identical one returns
/// the original record; ballots are only accepted in Test or Open.
pub async fn cast_once<S: ElectionStore + BallotStore>(store: &S) -> Result<()> {
    let id = "once";
    election_in(store, id, Revoting::Once, ElectionState::Draft).await?;
    assert!(matches!(
        store.cast(id, ballot(1, 0)).await,
        Err(Error::WrongState {
            actual: ElectionState::Draft,
            ..
        })
    ));
    store
        .transition(id, ElectionState::Draft, ElectionState::Test)
        .await?;
    store
        .transition(id, ElectionState::Test, ElectionState::Open)
        .await?;

    let first = match store.cast(id, ballot(1, 0)).await? {
        CastOutcome::Accepted(r) => r,
        other => return Err(unexpected(&other)),
    };
    assert_eq!(
        (
            first.phase,
            first.supersedes,
            first.superseded_by,
            first.board_index
        ),
        (Phase::Open, None, None, None)
    );
    assert_eq!(
        store.cast(id, ballot(1, 0)).await?,
        CastOutcome::Repeat(first.clone())
    );
    assert!(matches!(
        store.cast(id, ballot(1, 1)).await,
        Err(Error::Conflict(Conflict::NullifierSpent))
    ));
    // Different bytes claiming an existing tracking code are refused.
    let mut forged = ballot(2, 0);
    forged.tracking_code = first.tracking_code;
    assert!(matches!(
        store.cast(id, forged).await,
        Err(Error::Conflict(Conflict::TrackingCode))
    ));
    let second = accepted(store, id, ballot(2, 0)).await?;
    assert!(second > first.seq);
    assert_eq!(store.ballots(id).await?.len(), 2);
    assert!(
        store
            .ballot(id, &ballot(1, 1).tracking_code)
            .await?
            .is_none()
    );

    store
        .transition(id, ElectionState::Open, ElectionState::Closed)
        .await?;
    assert!(matches!(
        store.cast(id, ballot(3, 0)).await,
        Err(Error::WrongState {
            actual: ElectionState::Closed,
            ..
        })
    ));
    assert!(matches!(
        store.cast("missing", ballot(3, 0)).await,
        Err(Error::NotFound(Missing::Election))
    ));
    assert_eq!(store.ballots(id).await?.len(), 2);
    Ok(())
}

/// Under `last-counts`: every ballot is kept, each superseding the previous one.
pub async fn cast_last_counts<S: ElectionStore + BallotStore>(store: &S) -> Result<()> {
    let id = "last-counts";
    election_in(store, id, Revoting::LastCounts, ElectionState::Open).await?;
    let a = accepted(store, id, ballot(1, 0)).await?;
    let other = accepted(store, id, ballot(2, 0)).await?;
    let b = match store.cast(id, ballot(1, 1)).await? {
        CastOutcome::Accepted(r) => {
            assert_eq!(r.supersedes, Some(a));
            r.seq
        }
        other => return Err(unexpected(&other)),
    };
    let c = accepted(store, id, ballot(1, 2)).await?;
    let all = store.ballots(id).await?;
    let chain: Vec<_> = all
        .iter()
        .map(|r| (r.seq, r.supersedes, r.superseded_by))
        .collect();
    assert_eq!(
        chain,
        [
            (a, None, Some(b)),
            (other, None, None),
            (b, Some(a), Some(c)),
            (c, Some(b), None)
        ]
    );
    // A retry of the first ballot is the original record; it does not count again.
    match store.cast(id, ballot(1, 0)).await? {
        CastOutcome::Repeat(r) => assert_eq!((r.seq, r.superseded_by), (a, Some(b))),
        other => return Err(unexpected(&other)),
    }
    assert_eq!(store.ballots(id).await?.len(), 4);
    Ok(())
}

/// 200 tasks cast different ballots with one credential at once (run it on a
/// multi-threaded runtime): exactly one is accepted under `once`.
pub async fn concurrent_casts_once<S: ElectionStore + BallotStore + Clone + 'static>(
    store: &S,
) -> Result<()> {
    let id = "race";
    election_in(store, id, Revoting::Once, ElectionState::Open).await?;
    let tasks: Vec<_> = (0..200u32)
        .map(|variant| {
            let store = store.clone();
            tokio::spawn(async move { store.cast(id, ballot(7, variant)).await })
        })
        .collect();
    let (mut accepted, mut spent) = (Vec::new(), 0);
    for task in tasks {
        match task.await? {
            Ok(CastOutcome::Accepted(r)) => accepted.push(r),
            Err(Error::Conflict(Conflict::NullifierSpent)) => spent += 1,
            Ok(other) => return Err(unexpected(&other)),
            Err(e) => return Err(e),
        }
    }
    assert_eq!((accepted.len(), spent), (1, 199));
    assert_eq!(store.ballots(id).await?, accepted);
    Ok(())
}

/// 200 tasks retry the same ballot at once: one acceptance, 199 repeats of the same
/// record (so every retry gets the original receipt).
pub async fn concurrent_retries_are_idempotent<S: ElectionStore + BallotStore + Clone + 'static>(
    store: &S,
) -> Result<()> {
    let id = "retries";
    election_in(store, id, Revoting::Once, ElectionState::Open).await?;
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.cast(id, ballot(9, 0)).await })
        })
        .collect();
    let (mut accepted, mut repeats) = (Vec::new(), Vec::new());
    for task in tasks {
        match task.await?? {
            CastOutcome::Accepted(r) => accepted.push(r),
            CastOutcome::Repeat(r) => repeats.push(r),
        }
    }
    assert_eq!((accepted.len(), repeats.len()), (1, 199));
    assert!(repeats.iter().all(|r| *r == accepted[0]));
    assert_eq!(store.ballots(id).await?, accepted);
    Ok(())
}

/// Test-phase ballots, nullifiers and spoiled ballots are gone once the polls open.
pub async fn test_ballots_are_discarded_on_opening<S: ElectionStore + BallotStore>(
    store: &S,
) -> Result<()> {
    let id = "rehearsal";
    election_in(store, id, Revoting::Once, ElectionState::Test).await?;
    let rehearsal = ballot(1, 0);
    match store.cast(id, rehearsal.clone()).await? {
        CastOutcome::Accepted(r) => assert_eq!(r.phase, Phase::Test),
        other => return Err(unexpected(&other)),
    }
    store.record_spoiled(id, spoiled(3)).await?;
    assert!(matches!(
        store.cast(id, ballot(1, 1)).await,
        Err(Error::Conflict(Conflict::NullifierSpent))
    ));
    store
        .transition(id, ElectionState::Test, ElectionState::Open)
        .await?;
    assert!(store.ballots(id).await?.is_empty());
    assert!(store.spoiled(id).await?.is_empty());
    assert!(store.ballot(id, &rehearsal.tracking_code).await?.is_none());
    // The credential's nullifier is free again for the real election.
    match store.cast(id, ballot(1, 1)).await? {
        CastOutcome::Accepted(r) => assert_eq!(r.phase, Phase::Open),
        other => return Err(unexpected(&other)),
    }
    assert_eq!(store.ballots(id).await?.len(), 1);
    Ok(())
}

fn spoiled(credential: u8) -> SpoiledBallot {
    let b = ballot(credential, 99);
    SpoiledBallot {
        tracking_code: b.tracking_code,
        ballot: b.ballot,
        opening: vec![credential; 16],
    }
}

/// Spoiled ballots are kept apart, idempotently, and can never be cast.
pub async fn spoiled_ballots<S: ElectionStore + BallotStore>(store: &S) -> Result<()> {
    let id = "spoiled";
    election_in(store, id, Revoting::LastCounts, ElectionState::Open).await?;
    let (s1, s2) = (spoiled(1), spoiled(2));
    store.record_spoiled(id, s1.clone()).await?;
    store.record_spoiled(id, s2.clone()).await?;
    store.record_spoiled(id, s1.clone()).await?;
    let mut changed = s1.clone();
    changed.opening[0] ^= 1;
    assert!(matches!(
        store.record_spoiled(id, changed).await,
        Err(Error::Conflict(Conflict::TrackingCode))
    ));
    assert_eq!(store.spoiled(id).await?, [s1.clone(), s2]);
    let mut cast_spoiled = ballot(1, 99);
    cast_spoiled.ballot = s1.ballot.clone();
    assert!(matches!(
        store.cast(id, cast_spoiled).await,
        Err(Error::Conflict(Conflict::Spoiled))
    ));
    let cast = ballot(4, 0);
    accepted(store, id, cast.clone()).await?;
    let spoil_cast = SpoiledBallot {
        tracking_code: cast.tracking_code,
        ballot: cast.ballot,
        opening: vec![0; 16],
    };
    assert!(matches!(
        store.record_spoiled(id, spoil_cast).await,
        Err(Error::Conflict(Conflict::TrackingCode))
    ));
    assert_eq!(store.ballots(id).await?.len(), 1);
    assert_eq!(store.spoiled(id).await?.len(), 2);
    Ok(())
}

/// A ballot is found by its tracking code, in its own election only.
pub async fn tracking_code_lookup<S: ElectionStore + BallotStore>(store: &S) -> Result<()> {
    election_in(store, "lookup", Revoting::Once, ElectionState::Open).await?;
    election_in(store, "lookup-2", Revoting::Once, ElectionState::Open).await?;
    let b = ballot(5, 0);
    let seq = accepted(store, "lookup", b.clone()).await?;
    let found = store.ballot("lookup", &b.tracking_code).await?;
    let found = found.ok_or(Error::NotFound(Missing::Ballot))?;
    assert_eq!(
        (found.seq, found.nullifier, &found.ballot),
        (seq, b.nullifier, &b.ballot)
    );
    assert!(store.ballot("lookup-2", &b.tracking_code).await?.is_none());
    assert!(store.ballot("lookup", &[0; 32]).await?.is_none());
    // The same credential in another election is another nullifier space.
    accepted(store, "lookup-2", b).await?;
    Ok(())
}

/// Board indexes recorded as a batch: all or none, missing ballots skipped, and the
/// same rules as one at a time.
pub async fn board_indexes_in_one_batch<S: ElectionStore + BallotStore>(store: &S) -> Result<()> {
    let id = "batched";
    election_in(store, id, Revoting::Once, ElectionState::Open).await?;
    let (a, b, c) = (ballot(1, 0), ballot(2, 0), ballot(3, 0));
    for x in [&a, &b, &c] {
        accepted(store, id, x.clone()).await?;
    }
    let (ca, cb, cc) = (a.tracking_code, b.tracking_code, c.tracking_code);
    // A conflict anywhere records nothing.
    store.set_board_index(id, &cc, 9).await?;
    assert!(matches!(
        store.set_board_indexes(id, vec![(ca, 7), (cc, 8)]).await,
        Err(Error::Conflict(Conflict::BoardIndex))
    ));
    assert_eq!(
        store.ballot(id, &ca).await?.and_then(|r| r.board_index),
        None
    );
    // A ballot no longer stored is skipped; the same index again is no change.
    let recorded = store
        .set_board_indexes(id, vec![(ca, 7), ([9; 32], 10), (cb, 8), (cc, 9)])
        .await?;
    assert_eq!(recorded, 3);
    for (code, index) in [(ca, 7), (cb, 8), (cc, 9)] {
        let stored = store.ballot(id, &code).await?.and_then(|r| r.board_index);
        assert_eq!(stored, Some(index));
    }
    assert!(store.unposted(id, 10).await?.is_empty());
    Ok(())
}

/// The outbox of unposted ballots, and board indices set once.
pub async fn board_index_is_write_once<S: ElectionStore + BallotStore>(store: &S) -> Result<()> {
    let id = "outbox";
    election_in(store, id, Revoting::Once, ElectionState::Open).await?;
    let (a, b, c) = (ballot(1, 0), ballot(2, 0), ballot(3, 0));
    for x in [&a, &b, &c] {
        accepted(store, id, x.clone()).await?;
    }
    let codes =
        |v: Vec<crate::CastRecord>| v.into_iter().map(|r| r.tracking_code).collect::<Vec<_>>();
    assert_eq!(
        codes(store.unposted(id, 10).await?),
        [a.tracking_code, b.tracking_code, c.tracking_code]
    );
    assert_eq!(codes(store.unposted(id, 1).await?), [a.tracking_code]);
    store.set_board_index(id, &a.tracking_code, 4).await?;
    store.set_board_index(id, &a.tracking_code, 4).await?;
    assert!(matches!(
        store.set_board_index(id, &a.tracking_code, 5).await,
        Err(Error::Conflict(Conflict::BoardIndex))
    ));
    assert!(matches!(
        store.set_board_index(id, &b.tracking_code, 4).await,
        Err(Error::Conflict(Conflict::BoardIndex))
    ));
    assert!(matches!(
        store.set_board_index(id, &[9; 32], 6).await,
        Err(Error::NotFound(Missing::Ballot))
    ));
    assert_eq!(
        codes(store.unposted(id, 10).await?),
        [b.tracking_code, c.tracking_code]
    );
    let posted = store.ballot(id, &a.tracking_code).await?;
    assert_eq!(posted.and_then(|r| r.board_index), Some(4));
    match store.cast(id, a).await? {
        CastOutcome::Repeat(r) => assert_eq!(r.board_index, Some(4)),
        other => return Err(unexpected(&other)),
    }
    Ok(())
}

fn unexpected(outcome: &CastOutcome) -> Error {
    Error::InvalidInput(match outcome {
        CastOutcome::Accepted(_) => "unexpected acceptance",
        CastOutcome::Repeat(_) => "unexpected repeat",
    })
}
