//! Casting replicas under faults (issue 7): separate `urna serve` processes over one
//! PostgreSQL database and Redis, loaded with ballots prepared through the real auth
//! and issuance, while a replica, the sequencer, Redis or PostgreSQL fails. Every test
//! ends with [`cluster::reconcile`]: each client-side receipt against the board and
//! the database — zero lost acknowledged ballots, zero double-counted credentials, one
//! history of the board. Clients retry a failed cast with the same bytes, on another
//! replica, as the SDK's users are told to. Skipped loudly without PostgreSQL and
//! Redis (failed under `CI=true`).

mod cluster;
mod support;

use cluster::services::{OwnPostgres, OwnRedis};
use cluster::{Backing, Cluster, Load, reconcile, refused, submissions};
use urna_store::testing::PgTestDb;

/// The machine's Redis for the tests (`make test` provides one).
fn test_redis() -> String {
    std::env::var("URNA_TEST_REDIS")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned())
}

/// A throwaway database on the tests' PostgreSQL and the tests' Redis under a prefix
/// of its own.
fn shared(db: &PgTestDb) -> Backing {
    Backing {
        postgres: db.url().to_owned(),
        redis: Some(test_redis()),
        prefix: db.name().to_owned(),
    }
}

/// 10,000 submissions fired concurrently at three replicas: 8,000 voters' ballots, a
/// second, different ballot of 1,000 of them and the same ballot again from 1,000
/// others (20 % duplicates). Exactly one ballot per credential is accepted; every
/// repeat of an accepted ballot gets the same receipt; every different second ballot
/// is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_accept_exactly_one_ballot_per_credential_under_duplicates() {
    let Some(db) = PgTestDb::create().await.unwrap() else {
        return;
    };
    let backing = shared(&db);
    let started = std::time::Instant::now();
    let cluster = Cluster::start("duplicates", backing, 3, 8_000).await;
    eprintln!("cluster up after {:?}", started.elapsed());
    let prepared = cluster.prepare(8).await;
    eprintln!("ballots prepared after {:?}", started.elapsed());
    let all = submissions(&prepared, 8);
    assert_eq!(all.len(), 10_000);

    let outcomes = Load::start(&cluster, all, 96).finish().await;
    eprintln!("load done after {:?}", started.elapsed());
    assert_eq!(
        refused(&outcomes),
        1_000,
        "each credential's different ballot is refused"
    );
    reconcile(&cluster, 1, &outcomes).await;
}

/// A casting replica is killed (SIGKILL) a third of the way through the load, the
/// replica that sequences the board two thirds of the way: clients retry elsewhere,
/// another replica takes the board over, nothing acknowledged is lost, nothing is
/// counted twice, and every receipt's checkpoint is consistent with the final board
/// (one root per size).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_a_replica_and_the_sequencer_mid_load_loses_nothing() {
    let Some(db) = PgTestDb::create().await.unwrap() else {
        return;
    };
    let backing = shared(&db);
    let mut cluster = Cluster::start("kills", backing, 3, 3_000).await;
    let prepared = cluster.prepare(0).await;
    let all = submissions(&prepared, 10);

    let load = Load::start(&cluster, all, 64);
    load.reached(1, 3).await;
    cluster.servers[2].kill();
    load.driver.dead(2);
    load.reached(2, 3).await;
    // serve-0 created the board and has sequenced it since.
    cluster.servers[0].kill();
    load.driver.dead(0);
    let retries = std::sync::Arc::clone(&load.driver.retries);
    let outcomes = load.finish().await;
    reconcile(&cluster, 1, &outcomes).await;
    assert!(
        retries.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "the kills broke requests in flight"
    );
    let log = cluster.servers[1].log();
    assert!(log.contains("took over sequencing the board"), "{log}");
    assert!(
        cluster.servers[1].running(),
        "the surviving replica is still up"
    );
}

/// Redis is killed a third of the way through the load and started again (empty) two
/// thirds of the way: casting goes on through PostgreSQL alone, says so, and uses
/// Redis again once it answers. A different second ballot of every fifth voter is
/// refused whether Redis or PostgreSQL turns it away.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_killed_and_restarted_mid_load_loses_nothing() {
    let Some(db) = PgTestDb::create().await.unwrap() else {
        return;
    };
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    let backing = Backing {
        postgres: db.url().to_owned(),
        redis: Some(redis.url()),
        prefix: "faults".to_owned(),
    };
    let cluster = Cluster::start("redis", backing, 2, 3_000).await;
    let prepared = cluster.prepare(5).await;
    let all = submissions(&prepared, 10);

    let load = Load::start(&cluster, all, 64);
    load.reached(1, 3).await;
    redis.kill();
    load.reached(2, 3).await;
    redis.restart();
    let outcomes = load.finish().await;
    assert_eq!(
        refused(&outcomes),
        600,
        "each credential's different ballot is refused"
    );
    reconcile(&cluster, 1, &outcomes).await;
    // The casting replicas noticed, and the one that cast after the restart recovered.
    let logs: Vec<String> = cluster.servers.iter().map(support::Serve::log).collect();
    assert!(
        logs.iter().any(|l| l.contains("Redis unavailable")),
        "{logs:?}"
    );
    assert!(
        logs.iter().any(|l| l.contains("Redis answers again")),
        "{logs:?}"
    );
}

/// PostgreSQL crashes and restarts (immediate shutdown, recovery from its log) a
/// third of the way through the load: casts in flight fail, clients retry the same
/// bytes, and each gets the one receipt of its ballot; the board's lease is taken
/// again and sequencing resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_restarted_mid_load_loses_nothing() {
    let Some(postgres) = OwnPostgres::start() else {
        return;
    };
    let backing = Backing {
        postgres: postgres.url(),
        redis: Some(test_redis()),
        prefix: format!("faults-pg-{}", std::process::id()),
    };
    let cluster = Cluster::start("postgres", backing, 2, 2_000).await;
    let prepared = cluster.prepare(10).await;
    let all = submissions(&prepared, 10);

    let load = Load::start(&cluster, all, 64);
    load.reached(1, 3).await;
    let postgres = tokio::task::spawn_blocking(move || {
        postgres.crash_restart();
        postgres
    })
    .await
    .unwrap();
    let retries = std::sync::Arc::clone(&load.driver.retries);
    let outcomes = load.finish().await;
    reconcile(&cluster, 1, &outcomes).await;
    assert!(
        retries.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "the restart was felt by clients"
    );
    drop(cluster);
    drop(postgres);
}
