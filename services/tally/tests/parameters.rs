//! The ceremony's k and n come from the election's manifest (docs/protocol.md §3.1,
//! §4.7), read again while a Draft manifest may still be replaced.

use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use urna_board::SequencerConfig;
use urna_election::Manifest;
use urna_service::{Boards, Elections};
use urna_store::{ElectionStore, SqliteStore, TrusteeKeys};
use urna_tally::{EncryptionSecret, Invalid, Tally, TallyError};

const BASE: &str = "\
id: board-vote
title: Board vote
start: 2026-03-01T09:00:00Z
end: 2026-03-02T09:00:00Z
contests:
  - id: chair
    title: Chair
    method: plurality
    options: [{id: ada, name: Ada}, {id: grace, name: Grace}]
";

async fn apply(store: &SqliteStore, trustees: &str) {
    let yaml = format!("{BASE}{trustees}");
    let manifest = Manifest::from_yaml(&yaml).unwrap();
    store.apply_manifest(&manifest, &yaml).await.unwrap();
}

fn keys(index: u32) -> TrusteeKeys {
    let mut rng = ChaCha20Rng::seed_from_u64(u64::from(index));
    TrusteeKeys {
        index,
        name: format!("trustee {index}"),
        signing_key: ed25519_dalek::SigningKey::from_bytes(&[7; 32])
            .verifying_key()
            .to_bytes(),
        encryption_key: EncryptionSecret::generate(&mut rng).public_key(),
    }
}

#[tokio::test]
async fn the_manifest_sets_how_many_trustees_and_how_many_decrypt() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let boards = Boards::new(store.clone(), "urna.test", SequencerConfig::default());
    let tally = Tally::new(
        store.clone(),
        Elections::new(store.clone(), "urna.test"),
        boards,
    );

    apply(&store, "trustees: {count: 4, threshold: 3}\n").await;
    let state = tally.ceremony_state("board-vote").await.unwrap();
    assert_eq!((state.threshold, state.trustees.len()), (3, 4));
    assert_eq!(
        tally.register_trustee("board-vote", keys(4)).await.unwrap(),
        1
    );
    assert!(matches!(
        tally.register_trustee("board-vote", keys(5)).await,
        Err(TallyError::Invalid(Invalid::TrusteeIndex))
    ));

    // A replaced Draft manifest changes the parameters with the fingerprint; the
    // default is 2 of 3.
    apply(&store, "").await;
    let state = tally.ceremony_state("board-vote").await.unwrap();
    assert_eq!((state.threshold, state.trustees.len()), (2, 3));
}
