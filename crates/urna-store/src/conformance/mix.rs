//! The trustees' mix steps: in order, write-once, one per trustee and batch, only on a
//! mix-net batch.

use urna_election::Revoting;

use super::election_in;
use crate::election::{ElectionState, ElectionStore};
use crate::error::{Error, Result};
use crate::mix::{MixStore, StoredShuffle};
use crate::tally::{TallyBatch, TallyStore, TallyTask, Written};

fn step(step: u32, trustee: u32, byte: u8) -> StoredShuffle {
    StoredShuffle {
        batch: 1,
        step,
        trustee,
        output: vec![byte; 128],
        proof: vec![byte; 40],
        signature: vec![byte; 64],
    }
}

/// Steps are recorded in order, each once (the same again is `Same`, another at the
/// same step `Different`), a trustee once per batch, only on a batch with a width;
/// the task keeps each batch's width.
pub async fn mix_steps_in_order_once_per_trustee<S: ElectionStore + TallyStore + MixStore>(
    store: &S,
) -> Result<()> {
    election_in(store, "e", Revoting::Once, ElectionState::Closed).await?;
    let task = TallyTask {
        source_index: 7,
        batches: vec![
            TallyBatch {
                contest: "chair".into(),
                ciphertexts: vec![[1; 64], [2; 64]],
                ballots: 3,
                width: 0,
            },
            TallyBatch {
                contest: "captain".into(),
                ciphertexts: vec![[3; 64], [4; 64], [5; 64], [6; 64]],
                ballots: 2,
                width: 2,
            },
        ],
    };
    assert!(matches!(
        store.add_mix_step("e", step(0, 1, 1)).await,
        Err(Error::InvalidInput(_))
    ));
    assert_eq!(store.set_tally_task("e", task.clone()).await?, Written::New);
    assert_eq!(store.tally_task("e").await?, Some(task));
    let on_totals = StoredShuffle {
        batch: 0,
        ..step(0, 1, 1)
    };
    let refused = |result: Result<Written>| matches!(result, Err(Error::InvalidInput(_)));
    assert!(refused(store.add_mix_step("e", on_totals).await));
    assert!(
        refused(store.add_mix_step("e", step(1, 1, 1)).await),
        "a gap"
    );
    let ragged = StoredShuffle {
        output: vec![1; 100],
        ..step(0, 1, 1)
    };
    assert!(refused(store.add_mix_step("e", ragged).await));
    assert_eq!(store.add_mix_step("e", step(0, 2, 1)).await?, Written::New);
    assert_eq!(store.add_mix_step("e", step(0, 2, 1)).await?, Written::Same);
    assert_eq!(
        store.add_mix_step("e", step(0, 3, 9)).await?,
        Written::Different
    );
    assert!(
        refused(store.add_mix_step("e", step(1, 2, 2)).await),
        "trustee 2 already shuffled"
    );
    assert_eq!(store.add_mix_step("e", step(1, 1, 2)).await?, Written::New);
    assert_eq!(
        store.mix_steps("e", 1).await?,
        vec![step(0, 2, 1), step(1, 1, 2)]
    );
    assert!(store.mix_steps("e", 0).await?.is_empty());
    assert!(matches!(
        store.mix_steps("missing", 1).await,
        Err(Error::NotFound(_))
    ));
    Ok(())
}
