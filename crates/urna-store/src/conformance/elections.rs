//! Elections: lifecycle, manifest idempotence, results.

use urna_election::Revoting;

use super::{election_in, import, manifest};
use crate::election::{Applied, ElectionState, ElectionStore};
use crate::error::{Conflict, Error, Missing, Result};
use crate::roll::RollStore;

const STATES: [ElectionState; 4] = [
    ElectionState::Draft,
    ElectionState::Test,
    ElectionState::Open,
    ElectionState::Closed,
];

async fn state<S: ElectionStore>(store: &S, id: &str) -> Result<Option<ElectionState>> {
    Ok(store.election(id).await?.map(|e| e.state))
}

/// Draft → Test → Open → Closed, each step a compare-and-set; every other pair and
/// every step from the wrong state is refused and changes nothing.
pub async fn lifecycle_transitions<S: ElectionStore>(store: &S) -> Result<()> {
    let id = "lifecycle";
    assert!(matches!(
        store
            .transition(id, ElectionState::Draft, ElectionState::Test)
            .await,
        Err(Error::NotFound(Missing::Election))
    ));
    election_in(store, id, Revoting::Once, ElectionState::Draft).await?;
    let mut legal = 0;
    for (i, &current) in STATES.iter().enumerate() {
        assert_eq!(state(store, id).await?, Some(current));
        for &from in &STATES {
            for &to in &STATES {
                if from == current && from.can_become(to) {
                    continue; // the one legal step, taken below
                }
                let r = store.transition(id, from, to).await;
                if !from.can_become(to) {
                    assert!(
                        matches!(r, Err(Error::InvalidInput(_))),
                        "{from} → {to}: {r:?}"
                    );
                } else {
                    assert!(
                        matches!(r, Err(Error::WrongState { actual, .. }) if actual == current),
                        "{from} → {to} while {current}: {r:?}"
                    );
                }
                assert_eq!(state(store, id).await?, Some(current));
            }
        }
        if let Some(&next) = STATES.get(i + 1) {
            store.transition(id, current, next).await?;
            legal += 1;
        }
    }
    assert_eq!(legal, 3);
    assert_eq!(state(store, id).await?, Some(ElectionState::Closed));
    Ok(())
}

/// The same manifest twice is a no-op; a changed one replaces a Draft, and is
/// refused after it; a Draft change may not drop a style the roll uses.
pub async fn manifest_idempotence<S: ElectionStore + RollStore>(store: &S) -> Result<()> {
    let id = "gitops";
    let (first, yaml) = manifest(id, Revoting::Once, "First title", true)?;
    assert_eq!(store.apply_manifest(&first, &yaml).await?, Applied::Created);
    assert_eq!(
        store.apply_manifest(&first, &yaml).await?,
        Applied::Unchanged
    );
    let stored = store.election(id).await?;
    let stored = stored.ok_or(Error::NotFound(Missing::Election))?;
    assert_eq!(stored.fingerprint, first.fingerprint());
    assert_eq!(stored.manifest, first.canonical_bytes());
    assert_eq!(
        (stored.source.as_str(), stored.revoting),
        (yaml.as_str(), Revoting::Once)
    );

    let (second, yaml2) = manifest(id, Revoting::LastCounts, "Second title", true)?;
    assert_eq!(
        store.apply_manifest(&second, &yaml2).await?,
        Applied::Replaced
    );
    let stored = store
        .election(id)
        .await?
        .ok_or(Error::NotFound(Missing::Election))?;
    assert_eq!(
        (stored.fingerprint, stored.revoting, stored.state),
        (
            second.fingerprint(),
            Revoting::LastCounts,
            ElectionState::Draft
        )
    );

    import(store, id, &["junior-1"], "juniors", 1).await?;
    let (no_juniors, yaml3) = manifest(id, Revoting::LastCounts, "Second title", false)?;
    assert!(matches!(
        store.apply_manifest(&no_juniors, &yaml3).await,
        Err(Error::Conflict(Conflict::StyleInUse))
    ));
    assert_eq!(
        store.election(id).await?.map(|e| e.fingerprint),
        Some(second.fingerprint())
    );

    store
        .transition(id, ElectionState::Draft, ElectionState::Test)
        .await?;
    assert_eq!(
        store.apply_manifest(&second, &yaml2).await?,
        Applied::Unchanged
    );
    assert!(matches!(
        store.apply_manifest(&first, &yaml).await,
        Err(Error::Conflict(Conflict::ManifestChanged))
    ));
    store
        .transition(id, ElectionState::Test, ElectionState::Open)
        .await?;
    assert!(matches!(
        store.apply_manifest(&first, &yaml).await,
        Err(Error::Conflict(Conflict::ManifestChanged))
    ));
    let stored = store
        .election(id)
        .await?
        .ok_or(Error::NotFound(Missing::Election))?;
    assert_eq!(
        (stored.fingerprint, stored.state, store.roll_size(id).await?),
        (second.fingerprint(), ElectionState::Open, 1)
    );
    assert_eq!(store.elections().await?.len(), 1);
    Ok(())
}

/// Results only once the polls are closed, and only once.
pub async fn results_are_write_once<S: ElectionStore>(store: &S) -> Result<()> {
    let id = "results";
    election_in(store, id, Revoting::Once, ElectionState::Open).await?;
    assert!(matches!(
        store.record_results(id, b"early").await,
        Err(Error::WrongState {
            actual: ElectionState::Open,
            ..
        })
    ));
    assert_eq!(store.results(id).await?, None);
    store
        .transition(id, ElectionState::Open, ElectionState::Closed)
        .await?;
    store.record_results(id, b"ada 3, grace 2").await?;
    store.record_results(id, b"ada 3, grace 2").await?;
    assert!(matches!(
        store.record_results(id, b"ada 2, grace 3").await,
        Err(Error::Conflict(Conflict::Results))
    ));
    assert_eq!(store.results(id).await?, Some(b"ada 3, grace 2".to_vec()));
    assert!(matches!(
        store.results("missing").await,
        Err(Error::NotFound(Missing::Election))
    ));
    Ok(())
}
