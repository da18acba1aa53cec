//! The conformance suite on the SQLite backend, each check on a fresh data directory.

use urna_store::{SqliteStore, conformance};

async fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    (dir, store)
}

macro_rules! conformance {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $check() {
            let (_dir, store) = fresh().await;
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
    board_logs,
    secrets_are_write_once,
    joint_key_is_set_once_in_draft,
    tally_config_is_write_once_in_draft,
    trustees_register_once_in_draft,
    ceremony_phase_compare_and_set,
    dealings_and_records_are_write_once,
    tally_task_and_partials,
    mix_steps_in_order_once_per_trustee,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restart_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    conformance::restart_keeps_everything(|| SqliteStore::open(path.clone()))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn board_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    conformance::board_survives_restart(|| SqliteStore::open(path.clone()))
        .await
        .unwrap();
}
