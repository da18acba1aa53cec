//! The nullifier gate against the machine's Redis: under `once` it turns away a
//! second, different ballot of a credential without a store call, lets an identical
//! retry through to its original receipt, gives the credential back when the store
//! does not record the ballot, and casting goes on through the store alone while
//! Redis is away.

use std::time::{Duration, Instant};

use tonic::Code;
use urna_board::EntryKind;
use urna_casting::{CastingConfig, GateStats, RedisConfig};
use urna_service::testing::{CLUB_ELECTION, TestBallot};
use urna_store::{BallotStore, ElectionState};

use crate::redis_support::{Relay, TestRedis, claim_key, closed_port_url, hex};
use crate::spoil::{openings, spoil};
use crate::support::{Harness, check_receipt, once};

fn gated(config: RedisConfig) -> CastingConfig {
    CastingConfig {
        redis: Some(config),
    }
}

fn stats(harness: &Harness) -> GateStats {
    harness.casting.gate_stats().unwrap()
}

fn two_of_one_credential(harness: &Harness) -> [TestBallot; 2] {
    harness
        .election
        .ballots_of_one_credential("members", 2)
        .try_into()
        .unwrap_or_else(|_| unreachable!())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_once_a_different_second_ballot_is_refused_and_a_retry_gets_its_receipt() {
    let Some(redis) = TestRedis::connect("gate: once").await else {
        return;
    };
    let harness = Harness::configured(&once(), ElectionState::Open, &gated(redis.gate())).await;
    let verifier = harness.verifier().await;
    let [first, second] = two_of_one_credential(&harness);
    let key = claim_key(&redis.prefix, harness.election.id(), &first.ballot);

    let receipt = harness.cast(&first.bytes).await.unwrap();
    check_receipt(&receipt, &verifier, &first, EntryKind::Ballot);
    assert_eq!(redis.get(&key).await, Some(hex(&first.tracking_code)));
    let ttl = redis.ttl(&key).await;
    assert!(ttl > 540 && ttl <= 600, "ttl {ttl}");

    let status = harness.cast(&second.bytes).await.unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(status.message(), "credential already used");
    let after = stats(&harness);
    assert_eq!((after.refused, after.passed, after.fallbacks), (1, 1, 0));
    assert!(!after.degraded);

    let again = harness.cast(&first.bytes).await.unwrap();
    assert_eq!(again, receipt);
    assert_eq!(stats(&harness).passed, 2);
    assert_eq!(harness.stored().await, (1, 0, 3));
    harness.stop().await;
    redis.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_by_another_ballot_turns_a_ballot_away_without_a_store_call() {
    let Some(redis) = TestRedis::connect("gate: no store call").await else {
        return;
    };
    let harness = Harness::configured(&once(), ElectionState::Open, &gated(redis.gate())).await;
    let ballot = harness.election.ballot("members");
    let key = claim_key(&redis.prefix, harness.election.id(), &ballot.ballot);
    // Another replica's claim, for a ballot the store never saw.
    redis.set(&key, &hex(&[7; 32])).await;

    let status = harness.cast(&ballot.bytes).await.unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    // The store, had it been asked, would have recorded the ballot: it was not asked.
    assert_eq!(harness.stored().await, (0, 0, 2));
    assert_eq!(stats(&harness).refused, 1);

    redis.del(&key).await;
    harness.cast(&ballot.bytes).await.unwrap();
    assert_eq!(harness.stored().await, (1, 0, 3));
    harness.stop().await;
    redis.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ballot_the_store_refuses_gives_the_credential_back() {
    let Some(redis) = TestRedis::connect("gate: release").await else {
        return;
    };
    let harness = Harness::configured(&once(), ElectionState::Open, &gated(redis.gate())).await;
    let [challenged, cast] = two_of_one_credential(&harness);
    let key = claim_key(&redis.prefix, harness.election.id(), &cast.ballot);
    spoil(&harness, &challenged.bytes, openings(&challenged))
        .await
        .unwrap();

    // The gate claims the credential for the spoiled ballot, the store's cast fails,
    // and the claim is released.
    let status = harness.cast(&challenged.bytes).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(status.message(), "ballot was spoiled");
    assert_eq!(stats(&harness).passed, 1);
    assert_eq!(redis.get(&key).await, None);

    // So the voter's real ballot is accepted, and now holds the claim.
    harness.cast(&cast.bytes).await.unwrap();
    assert_eq!(redis.get(&key).await, Some(hex(&cast.tracking_code)));
    assert_eq!(harness.stored().await, (1, 1, 4));
    harness.stop().await;
    redis.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_100_concurrent_ballots_of_one_credential_the_gate_lets_exactly_one_be_cast() {
    let Some(redis) = TestRedis::connect("gate: concurrent").await else {
        return;
    };
    let harness = Harness::configured(&once(), ElectionState::Open, &gated(redis.gate())).await;
    let ballots = harness.election.ballots_of_one_credential("members", 100);
    let key = claim_key(&redis.prefix, harness.election.id(), &ballots[0].ballot);
    let casts: Vec<_> = ballots
        .into_iter()
        .map(|ballot| {
            let mut client = harness.client.clone();
            let election_id = harness.election.id().to_owned();
            tokio::spawn(async move {
                let result = client
                    .cast_ballot(urna_proto::v1::CastBallotRequest {
                        election_id,
                        ballot: ballot.bytes,
                    })
                    .await;
                (result, ballot.tracking_code)
            })
        })
        .collect();
    let mut accepted = Vec::new();
    for cast in casts {
        match cast.await.unwrap() {
            (Ok(_), code) => accepted.push(code),
            (Err(status), _) => {
                assert_eq!(status.code(), Code::AlreadyExists);
                assert_eq!(status.message(), "credential already used");
            }
        }
    }
    assert_eq!(accepted.len(), 1);
    assert_eq!(harness.stored().await, (1, 0, 3));
    let after = stats(&harness);
    assert_eq!(after.passed + after.refused + after.fallbacks, 100);
    if after.fallbacks == 0 {
        // Every refusal came from the gate, and the claim names the accepted ballot.
        assert_eq!(after.refused, 99);
        assert_eq!(redis.get(&key).await, Some(hex(&accepted[0])));
    }
    harness.stop().await;
    redis.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_ballots_all_get_the_one_receipt() {
    let Some(redis) = TestRedis::connect("gate: identical duplicates").await else {
        return;
    };
    let harness = Harness::configured(&once(), ElectionState::Open, &gated(redis.gate())).await;
    let ballot = harness.election.ballot("members");
    let casts: Vec<_> = (0..20)
        .map(|_| {
            let mut client = harness.client.clone();
            let request = urna_proto::v1::CastBallotRequest {
                election_id: harness.election.id().to_owned(),
                ballot: ballot.bytes.clone(),
            };
            tokio::spawn(async move { client.cast_ballot(request).await })
        })
        .collect();
    let mut entries = Vec::new();
    for cast in casts {
        let receipt = cast.await.unwrap().unwrap().into_inner().receipt.unwrap();
        entries.push(receipt.entry.unwrap());
    }
    assert!(entries.iter().all(|e| *e == entries[0]));
    assert_eq!(harness.stored().await, (1, 0, 3));
    let key = claim_key(&redis.prefix, harness.election.id(), &ballot.ballot);
    assert_eq!(redis.get(&key).await, Some(hex(&ballot.tracking_code)));
    assert_eq!(stats(&harness).refused, 0);
    harness.stop().await;
    redis.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_unreachable_casting_goes_on_through_the_store() {
    let config = RedisConfig::new(closed_port_url().await);
    let harness = Harness::configured(&once(), ElectionState::Open, &gated(config)).await;
    let [first, second] = two_of_one_credential(&harness);
    let receipt = harness.cast(&first.bytes).await.unwrap();
    let after = stats(&harness);
    assert!(after.degraded);
    assert!(after.fallbacks >= 1);
    assert_eq!((after.passed, after.refused), (0, 0));
    // The store alone still decides: a retry gets its receipt, another ballot is refused.
    assert_eq!(harness.cast(&first.bytes).await.unwrap(), receipt);
    let status = harness.cast(&second.bytes).await.unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(harness.stored().await, (1, 0, 3));
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gate_recovers_when_redis_returns() {
    let Some(redis) = TestRedis::connect("gate: recovery").await else {
        return;
    };
    let mut relay = Relay::start(&redis.url).await;
    let config = RedisConfig {
        url: relay.url(),
        ..redis.gate()
    };
    let harness = Harness::configured(&once(), ElectionState::Open, &gated(config)).await;
    harness
        .cast(&harness.election.ballot("members").bytes)
        .await
        .unwrap();
    assert_eq!(stats(&harness).passed, 1);

    relay.cut().await;
    let during = harness.election.ballot("members");
    harness.cast(&during.bytes).await.unwrap();
    assert!(stats(&harness).degraded);
    assert_eq!(stats(&harness).passed, 1);

    relay.restore().await;
    let after = harness.election.ballot("members");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // Identical retries: each gets the same receipt, and probes Redis.
        harness.cast(&after.bytes).await.unwrap();
        if !stats(&harness).degraded {
            break;
        }
        assert!(Instant::now() < deadline, "the gate did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let key = claim_key(&redis.prefix, harness.election.id(), &after.ballot);
    assert_eq!(redis.get(&key).await, Some(hex(&after.tracking_code)));
    assert_eq!(harness.stored().await, (3, 0, 5));
    harness.stop().await;
    redis.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_last_counts_and_in_test_the_gate_is_not_used() {
    let Some(redis) = TestRedis::connect("gate: skipped").await else {
        return;
    };
    let harness =
        Harness::configured(CLUB_ELECTION, ElectionState::Open, &gated(redis.gate())).await;
    let [first, second] = two_of_one_credential(&harness);
    harness.cast(&first.bytes).await.unwrap();
    assert!(
        harness
            .cast(&second.bytes)
            .await
            .unwrap()
            .supersedes_previous
    );
    assert_eq!(stats(&harness), GateStats::default());
    harness.stop().await;

    let harness = Harness::configured(&once(), ElectionState::Test, &gated(redis.gate())).await;
    let [rehearsal, real] = two_of_one_credential(&harness);
    harness.clock.set(0);
    harness.cast(&rehearsal.bytes).await.unwrap();
    assert!(redis.keys().await.is_empty());
    // Test ballots are discarded on opening; the credential's first real ballot counts.
    harness.election.advance_to(ElectionState::Open).await;
    harness.clock.set(crate::support::DURING);
    harness.cast(&real.bytes).await.unwrap();
    assert_eq!(stats(&harness).passed, 1);
    let records = harness
        .election
        .store()
        .ballots(harness.election.id())
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    harness.stop().await;
    redis.clean().await;
}
