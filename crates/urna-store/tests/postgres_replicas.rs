//! What only a shared database shows: several stores with pools of their own (as
//! separate replica processes have) migrating and casting against one PostgreSQL
//! database at once. Each test has a database of its own (`urna_store::testing`);
//! without a server they are skipped loudly, or fail under `CI=true`.

use tokio_postgres::NoTls;
use urna_election::Revoting;
use urna_store::conformance::{ballot, election_in};
use urna_store::testing::PgTestDb;
use urna_store::{
    BackendError, BallotStore as _, CastOutcome, Conflict, ElectionState, Error, PgStore,
};

const REPLICAS: usize = 4;

/// A fresh database and `REPLICAS` stores on it, connected at once.
async fn replicas() -> Option<(PgTestDb, Vec<PgStore>)> {
    let db = PgTestDb::create().await.unwrap()?;
    let connecting: Vec<_> = (0..REPLICAS)
        .map(|_| {
            let url = db.url().to_owned();
            tokio::spawn(async move { PgStore::connect(&url, 4).await })
        })
        .collect();
    let mut stores = Vec::new();
    for c in connecting {
        stores.push(c.await.unwrap().unwrap());
    }
    Some((db, stores))
}

async fn sql(db: &PgTestDb) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(db.url(), NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

async fn count(client: &tokio_postgres::Client, query: &str) -> i64 {
    client.query_one(query, &[]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_migrate_once_and_a_newer_schema_is_refused() {
    let Some((db, stores)) = replicas().await else {
        return;
    };
    drop(stores);
    let client = sql(&db).await;
    let versions = count(&client, "SELECT count(*) FROM schema_version").await;
    let newest = count(&client, "SELECT max(version) FROM schema_version").await;
    assert_eq!(versions, newest);
    assert!(newest >= 1);
    // Reconnecting is a no-op.
    PgStore::connect(db.url(), 1).await.unwrap();
    assert_eq!(
        count(&client, "SELECT count(*) FROM schema_version").await,
        versions
    );
    client
        .execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&(newest + 1)],
        )
        .await
        .unwrap();
    assert!(matches!(
        PgStore::connect(db.url(), 1).await,
        Err(Error::Backend(BackendError::SchemaTooNew { .. }))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_never_accept_two_ballots_for_one_credential() {
    let Some((db, stores)) = replicas().await else {
        return;
    };
    election_in(&stores[0], "race", Revoting::Once, ElectionState::Open)
        .await
        .unwrap();
    // 20 credentials, 20 different ballots each, spread over every replica at once.
    let tasks: Vec<_> = (0..400u32)
        .map(|i| {
            let store = stores[i as usize % REPLICAS].clone();
            let credential = u8::try_from(i % 20).unwrap() + 1;
            tokio::spawn(async move { store.cast("race", ballot(credential, i)).await })
        })
        .collect();
    let (mut accepted, mut spent) = (Vec::new(), 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(CastOutcome::Accepted(r)) => accepted.push(r.nullifier),
            Err(Error::Conflict(Conflict::NullifierSpent)) => spent += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    accepted.sort_by_key(|n| *n.as_bytes());
    accepted.dedup();
    assert_eq!((accepted.len(), spent), (20, 380));
    let client = sql(&db).await;
    assert_eq!(count(&client, "SELECT count(*) FROM ballots").await, 20);
    assert_eq!(count(&client, "SELECT count(*) FROM nullifiers").await, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_retrying_one_ballot_get_one_record() {
    let Some((_db, stores)) = replicas().await else {
        return;
    };
    election_in(&stores[0], "retry", Revoting::Once, ElectionState::Open)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let store = stores[i % REPLICAS].clone();
            tokio::spawn(async move { store.cast("retry", ballot(3, 0)).await })
        })
        .collect();
    let (mut accepted, mut repeats) = (Vec::new(), Vec::new());
    for task in tasks {
        match task.await.unwrap().unwrap() {
            CastOutcome::Accepted(r) => accepted.push(r),
            CastOutcome::Repeat(r) => repeats.push(r),
        }
    }
    assert_eq!((accepted.len(), repeats.len()), (1, 99));
    assert!(repeats.iter().all(|r| *r == accepted[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_last_counts_casts_form_one_chain() {
    let Some((db, stores)) = replicas().await else {
        return;
    };
    election_in(
        &stores[0],
        "chain",
        Revoting::LastCounts,
        ElectionState::Open,
    )
    .await
    .unwrap();
    let tasks: Vec<_> = (0..40u32)
        .map(|i| {
            let store = stores[i as usize % REPLICAS].clone();
            tokio::spawn(async move { store.cast("chain", ballot(5, i)).await })
        })
        .collect();
    for task in tasks {
        assert!(matches!(
            task.await.unwrap().unwrap(),
            CastOutcome::Accepted(_)
        ));
    }
    let all = stores[1].ballots("chain").await.unwrap();
    assert_eq!(all.len(), 40);
    // Exactly one ballot counts; following `supersedes` from it visits every ballot.
    let latest: Vec<_> = all.iter().filter(|r| r.superseded_by.is_none()).collect();
    assert_eq!(latest.len(), 1);
    let (mut at, mut seen) = (Some(latest[0].seq), 0);
    while let Some(seq) = at {
        let r = all.iter().find(|r| r.seq == seq).unwrap();
        if let Some(prev) = r.supersedes {
            let p = all.iter().find(|p| p.seq == prev).unwrap();
            assert_eq!(p.superseded_by, Some(seq));
        }
        at = r.supersedes;
        seen += 1;
    }
    assert_eq!(seen, 40);
    let client = sql(&db).await;
    assert_eq!(
        count(&client, "SELECT casts FROM nullifiers").await,
        40,
        "every cast counted once in the nullifier's row"
    );
}
