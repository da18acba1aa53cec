//! The conformance suite on the PostgreSQL backend, each check on a database of its
//! own (`urna_store::testing`): skipped with a loud line when no server is reachable,
//! failed under `CI=true`.

use urna_store::testing::PgTestDb;
use urna_store::{PgStore, conformance};

macro_rules! conformance {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $check() {
            let Some((_db, store)) = PgTestDb::store().await.unwrap() else {
                return;
            };
            conformance::$check(&store).await.unwrap();
        }
    )*};
}

conformance!(
    lifecycle_transitions,
    manifest_idempotence,
    results_are_write_once,
    roll_and_codes,
    credential_issuance,
    cast_once,
    cast_last_counts,
    concurrent_casts_once,
    concurrent_retries_are_idempotent,
    concurrent_issuance_once,
    test_ballots_are_discarded_on_opening,
    spoiled_ballots,
    tracking_code_lookup,
    board_index_is_write_once,
    board_indexes_in_one_batch,
    entry_outbox,
    concurrent_enqueues_keep_one,
    secrets_are_write_once,
    joint_key_is_set_once_in_draft,
    tally_config_is_write_once_in_draft,
    trustees_register_once_in_draft,
    ceremony_phase_compare_and_set,
    dealings_and_records_are_write_once,
    tally_task_and_partials,
    mix_steps_in_order_once_per_trustee,
    board_logs,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restart_keeps_everything() {
    let Some(db) = PgTestDb::create().await.unwrap() else {
        return;
    };
    conformance::restart_keeps_everything(|| PgStore::connect(db.url(), 4))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn board_survives_restart() {
    let Some(db) = PgTestDb::create().await.unwrap() else {
        return;
    };
    conformance::board_survives_restart(|| PgStore::connect(db.url(), 4))
        .await
        .unwrap();
}
