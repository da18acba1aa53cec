//! The tally tier's records: the key ceremony and the decryption work.

use urna_election::Revoting;

use super::election_in;
use crate::election::{ElectionState, ElectionStore};
use crate::error::{Error, Result};
use crate::tally::{
    CeremonyPhase, CeremonyRecord, RecordKind, StoredDealing, StoredPartial, TallyBatch,
    TallyConfig, TallyStore, TallyTask, TrusteeKeys, Written,
};

fn trustee(index: u32, key: u8) -> TrusteeKeys {
    TrusteeKeys {
        index,
        name: format!("trustee {index}"),
        signing_key: [key; 32],
        encryption_key: [key + 1; 32],
    }
}

fn dealing(dealer: u32, byte: u8) -> StoredDealing {
    StoredDealing {
        dealer,
        dealing: vec![byte; 10],
        shares: vec![vec![1, byte], vec![2, byte], vec![3, byte]],
        signature: vec![byte; 64],
    }
}

fn complaint(accuser: u32, dealer: u32, signature: u8) -> CeremonyRecord {
    let mut key = accuser.to_be_bytes().to_vec();
    key.extend(dealer.to_be_bytes());
    CeremonyRecord {
        kind: RecordKind::Complaint,
        key: key.clone(),
        trustee: accuser,
        record: key,
        signature: vec![signature; 64],
    }
}

fn task(ballots: u64) -> TallyTask {
    TallyTask {
        source_index: 42,
        batches: vec![
            TallyBatch {
                contest: "chair".into(),
                ciphertexts: vec![[1; 64], [2; 64]],
                ballots,
                width: 0,
            },
            TallyBatch {
                contest: "treasurer".into(),
                ciphertexts: vec![[3; 64]],
                ballots,
                width: 0,
            },
        ],
    }
}

/// The trustee count and threshold: checked, written once, in Draft only.
pub async fn tally_config_is_write_once_in_draft<S: ElectionStore + TallyStore>(
    store: &S,
) -> Result<()> {
    assert!(matches!(
        store.tally_config("missing").await,
        Err(Error::NotFound(_))
    ));
    election_in(store, "e", Revoting::Once, ElectionState::Draft).await?;
    assert_eq!(store.tally_config("e").await?, None);
    let bad = TallyConfig {
        trustees: 2,
        threshold: 3,
    };
    assert!(matches!(
        store.init_tally_config("e", bad).await,
        Err(Error::InvalidInput(_))
    ));
    let first = store.init_tally_config("e", TallyConfig::default()).await?;
    assert_eq!((first.trustees, first.threshold), (3, 2));
    let other = TallyConfig {
        trustees: 5,
        threshold: 3,
    };
    assert_eq!(store.init_tally_config("e", other).await?, first);
    assert_eq!(store.tally_config("e").await?, Some(first));
    election_in(store, "t", Revoting::Once, ElectionState::Test).await?;
    assert!(matches!(
        store.init_tally_config("t", other).await,
        Err(Error::WrongState { .. })
    ));
    Ok(())
}

/// Trustees register once each, in Draft only, and list by index.
pub async fn trustees_register_once_in_draft<S: ElectionStore + TallyStore>(
    store: &S,
) -> Result<()> {
    election_in(store, "e", Revoting::Once, ElectionState::Draft).await?;
    assert_eq!(
        store.register_trustee("e", trustee(2, 20)).await?,
        Written::New
    );
    assert_eq!(
        store.register_trustee("e", trustee(1, 10)).await?,
        Written::New
    );
    assert_eq!(
        store.register_trustee("e", trustee(2, 20)).await?,
        Written::Same
    );
    assert_eq!(
        store.register_trustee("e", trustee(2, 30)).await?,
        Written::Different
    );
    assert!(matches!(
        store.register_trustee("e", trustee(0, 1)).await,
        Err(Error::InvalidInput(_))
    ));
    assert_eq!(
        store.trustees("e").await?,
        vec![trustee(1, 10), trustee(2, 20)]
    );
    election_in(store, "o", Revoting::Once, ElectionState::Open).await?;
    assert!(matches!(
        store.register_trustee("o", trustee(1, 10)).await,
        Err(Error::WrongState { .. })
    ));
    Ok(())
}

/// The ceremony round moves only from the round the caller expects.
pub async fn ceremony_phase_compare_and_set<S: ElectionStore + TallyStore>(
    store: &S,
) -> Result<()> {
    election_in(store, "e", Revoting::Once, ElectionState::Draft).await?;
    assert_eq!(
        store.ceremony_phase("e").await?,
        CeremonyPhase::Registration
    );
    assert!(
        store
            .advance_ceremony("e", CeremonyPhase::Registration, CeremonyPhase::Dealing)
            .await?
    );
    assert!(
        !store
            .advance_ceremony("e", CeremonyPhase::Registration, CeremonyPhase::Failed)
            .await?
    );
    assert!(
        store
            .advance_ceremony("e", CeremonyPhase::Dealing, CeremonyPhase::Complaints)
            .await?
    );
    assert_eq!(store.ceremony_phase("e").await?, CeremonyPhase::Complaints);
    Ok(())
}

/// Dealings and complaints, reveals and confirmations are write-once.
pub async fn dealings_and_records_are_write_once<S: ElectionStore + TallyStore>(
    store: &S,
) -> Result<()> {
    {
        election_in(store, "e", Revoting::Once, ElectionState::Draft).await?;
        assert_eq!(store.add_dealing("e", dealing(3, 3)).await?, Written::New);
        assert_eq!(store.add_dealing("e", dealing(1, 1)).await?, Written::New);
        assert_eq!(store.add_dealing("e", dealing(1, 1)).await?, Written::Same);
        assert_eq!(
            store.add_dealing("e", dealing(1, 9)).await?,
            Written::Different
        );
        for (accuser, dealer) in [(3, 1), (1, 3)] {
            assert_eq!(
                store
                    .add_ceremony_record("e", complaint(accuser, dealer, 7))
                    .await?,
                Written::New
            );
        }
        assert_eq!(
            store.add_ceremony_record("e", complaint(3, 1, 8)).await?,
            Written::Different
        );
    }
    assert_eq!(
        store.dealings("e").await?,
        vec![dealing(1, 1), dealing(3, 3)]
    );
    assert_eq!(
        store.ceremony_records("e", RecordKind::Complaint).await?,
        vec![complaint(3, 1, 7), complaint(1, 3, 7)]
    );
    assert!(
        store
            .ceremony_records("e", RecordKind::Reveal)
            .await?
            .is_empty()
    );
    // A confirmation is its own kind: keyed by trustee, beside the complaints.
    let confirmation = CeremonyRecord {
        kind: RecordKind::Confirmation,
        key: 3u32.to_be_bytes().to_vec(),
        trustee: 3,
        record: 1u32.to_be_bytes().to_vec(),
        signature: vec![7; 64],
    };
    assert_eq!(
        store.add_ceremony_record("e", confirmation.clone()).await?,
        Written::New
    );
    assert_eq!(
        store
            .ceremony_records("e", RecordKind::Confirmation)
            .await?,
        vec![confirmation]
    );
    assert_eq!(
        store
            .ceremony_records("e", RecordKind::Complaint)
            .await?
            .len(),
        2
    );
    Ok(())
}

/// The decryption task is set once after closing; partials need its batches and are write-once.
pub async fn tally_task_and_partials<S: ElectionStore + TallyStore>(store: &S) -> Result<()> {
    election_in(store, "open", Revoting::Once, ElectionState::Open).await?;
    assert!(matches!(
        store.set_tally_task("open", task(5)).await,
        Err(Error::WrongState { .. })
    ));
    election_in(store, "e", Revoting::Once, ElectionState::Closed).await?;
    assert_eq!(store.tally_task("e").await?, None);
    let partial = |trustee, batch, byte| StoredPartial {
        trustee,
        batch,
        partial: vec![byte; 8],
        signature: vec![byte; 64],
    };
    assert!(matches!(
        store.add_partial("e", partial(1, 0, 1)).await,
        Err(Error::InvalidInput(_))
    ));
    assert_eq!(store.set_tally_task("e", task(5)).await?, Written::New);
    assert_eq!(store.set_tally_task("e", task(5)).await?, Written::Same);
    assert_eq!(
        store.set_tally_task("e", task(6)).await?,
        Written::Different
    );
    assert_eq!(store.tally_task("e").await?, Some(task(5)));
    assert!(matches!(
        store.add_partial("e", partial(1, 2, 1)).await,
        Err(Error::InvalidInput(_))
    ));
    assert_eq!(
        store.add_partial("e", partial(3, 1, 3)).await?,
        Written::New
    );
    assert_eq!(
        store.add_partial("e", partial(1, 1, 1)).await?,
        Written::New
    );
    assert_eq!(
        store.add_partial("e", partial(1, 1, 1)).await?,
        Written::Same
    );
    assert_eq!(
        store.add_partial("e", partial(1, 1, 2)).await?,
        Written::Different
    );
    assert_eq!(
        store.partials("e", 1).await?,
        vec![partial(3, 1, 3), partial(1, 1, 1)]
    );
    assert!(store.partials("e", 0).await?.is_empty());
    Ok(())
}
