//! The voter roll, codes and credential issuance.

use urna_election::Revoting;

use super::{election_in, import, rng, test_params};
use crate::code::{CodeHash, VotingCode};
use crate::election::{ElectionState, ElectionStore};
use crate::error::{Conflict, Error, Missing, Result};
use crate::roll::{Issued, RollEntry, RollStore, blinded_hash};

/// Import, lookup for login, code verification, all-or-nothing imports.
pub async fn roll_and_codes<S: ElectionStore + RollStore>(store: &S) -> Result<()> {
    let id = "roll";
    election_in(store, id, Revoting::Once, ElectionState::Draft).await?;
    let codes = import(store, id, &["alice", "bob", "carol"], "members", 7).await?;
    assert_eq!(store.roll_size(id).await?, 3);

    let (voter, hash) = store
        .voter(id, "bob")
        .await?
        .ok_or(Error::NotFound(Missing::Voter))?;
    assert_eq!(
        (voter.id.as_str(), voter.style.as_str()),
        ("bob", "members")
    );
    assert!(hash.verify(&VotingCode::parse(&codes[1].display())?));
    assert!(!hash.verify(&codes[0]), "another voter's code");
    assert!(
        !hash.verify(&VotingCode::generate(&mut rng(99))),
        "a random code"
    );
    assert!(store.voter(id, "mallory").await?.is_none());

    let mut r = rng(8);
    let entry = |voter: &str, style: &str, r: &mut _| -> Result<RollEntry> {
        Ok(RollEntry {
            voter: voter.to_owned(),
            style: style.to_owned(),
            code: CodeHash::new(&VotingCode::generate(r), test_params()?, r)?,
        })
    };
    // One existing voter makes the whole import fail, including the new one.
    let batch = vec![
        entry("dave", "members", &mut r)?,
        entry("alice", "members", &mut r)?,
    ];
    assert!(matches!(
        store.import_roll(id, batch).await,
        Err(Error::Conflict(Conflict::VoterExists))
    ));
    let twice = vec![
        entry("erin", "members", &mut r)?,
        entry("erin", "juniors", &mut r)?,
    ];
    assert!(matches!(
        store.import_roll(id, twice).await,
        Err(Error::Conflict(Conflict::VoterExists))
    ));
    let styleless = vec![entry("frank", "seniors", &mut r)?];
    assert!(matches!(
        store.import_roll(id, styleless).await,
        Err(Error::InvalidInput(_))
    ));
    let anonymous = vec![entry("", "members", &mut r)?];
    assert!(matches!(
        store.import_roll(id, anonymous).await,
        Err(Error::InvalidInput(_))
    ));
    assert_eq!(store.roll_size(id).await?, 3);
    assert!(store.voter(id, "dave").await?.is_none());

    store
        .transition(id, ElectionState::Draft, ElectionState::Test)
        .await?;
    assert_eq!(
        store
            .import_roll(id, vec![entry("dave", "juniors", &mut r)?])
            .await?,
        1
    );
    store
        .transition(id, ElectionState::Test, ElectionState::Open)
        .await?;
    assert!(matches!(
        store
            .import_roll(id, vec![entry("gina", "members", &mut r)?])
            .await,
        Err(Error::WrongState {
            actual: ElectionState::Open,
            ..
        })
    ));
    assert_eq!(store.roll_size(id).await?, 4);
    assert!(matches!(
        store.voter("missing", "alice").await,
        Err(Error::NotFound(Missing::Election))
    ));
    Ok(())
}

/// One credential per voter: the same blinded message gets the stored signature,
/// a different one is refused; the count is per election.
pub async fn credential_issuance<S: ElectionStore + RollStore>(store: &S) -> Result<()> {
    let id = "issuance";
    election_in(store, id, Revoting::Once, ElectionState::Draft).await?;
    import(store, id, &["alice", "bob", "carol"], "members", 3).await?;
    assert!(matches!(
        store
            .record_issuance(id, "alice", b"blinded-a", b"sig-a")
            .await,
        Err(Error::WrongState {
            actual: ElectionState::Draft,
            ..
        })
    ));
    store
        .transition(id, ElectionState::Draft, ElectionState::Test)
        .await?;
    assert_eq!(
        store
            .record_issuance(id, "alice", b"blinded-a", b"sig-a")
            .await?,
        Issued::New(b"sig-a".to_vec())
    );
    store
        .transition(id, ElectionState::Test, ElectionState::Open)
        .await?;
    // A retry after opening: the credential issued in Test is still the voter's.
    let again = store
        .record_issuance(id, "alice", b"blinded-a", b"sig-other")
        .await?;
    assert_eq!(again, Issued::Repeat(b"sig-a".to_vec()));
    assert_eq!(again.signature(), b"sig-a");
    assert!(matches!(
        store
            .record_issuance(id, "alice", b"blinded-b", b"sig-b")
            .await,
        Err(Error::Conflict(Conflict::CredentialIssued))
    ));
    assert!(matches!(
        store
            .record_issuance(id, "mallory", b"blinded-m", b"sig-m")
            .await,
        Err(Error::NotFound(Missing::Voter))
    ));
    assert!(matches!(
        store.record_issuance(id, "bob", b"blinded-b", b"").await,
        Err(Error::InvalidInput(_))
    ));
    assert_eq!(store.credentials_issued(id).await?, 1);
    let stored = store
        .issuance(id, "alice")
        .await?
        .ok_or(Error::NotFound(Missing::Voter))?;
    assert_eq!(stored.blinded_hash, blinded_hash(b"blinded-a"));
    assert_eq!(stored.signature, b"sig-a");
    assert!(store.issuance(id, "bob").await?.is_none());

    store
        .record_issuance(id, "bob", b"blinded-b", b"sig-b")
        .await?;
    assert_eq!(store.credentials_issued(id).await?, 2);

    // Counts are per election.
    let other = "issuance-2";
    election_in(store, other, Revoting::Once, ElectionState::Draft).await?;
    import(store, other, &["alice"], "members", 4).await?;
    store
        .transition(other, ElectionState::Draft, ElectionState::Test)
        .await?;
    store
        .record_issuance(other, "alice", b"blinded-b", b"sig-x")
        .await?;
    assert_eq!(
        (
            store.credentials_issued(id).await?,
            store.credentials_issued(other).await?
        ),
        (2, 1)
    );
    store
        .transition(id, ElectionState::Open, ElectionState::Closed)
        .await?;
    assert!(matches!(
        store
            .record_issuance(id, "carol", b"blinded-c", b"sig-c")
            .await,
        Err(Error::WrongState {
            actual: ElectionState::Closed,
            ..
        })
    ));
    Ok(())
}

/// 50 tasks ask for one voter's credential with different blinded messages at once:
/// exactly one is issued.
pub async fn concurrent_issuance_once<S: ElectionStore + RollStore + Clone + 'static>(
    store: &S,
) -> Result<()> {
    let id = "issuance-race";
    election_in(store, id, Revoting::Once, ElectionState::Draft).await?;
    import(store, id, &["alice"], "members", 5).await?;
    store
        .transition(id, ElectionState::Draft, ElectionState::Test)
        .await?;
    let tasks: Vec<_> = (0..50u8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .record_issuance(id, "alice", &[i; 64], &[i; 256])
                    .await
            })
        })
        .collect();
    let (mut issued, mut refused) = (Vec::new(), 0);
    for task in tasks {
        match task.await? {
            Ok(Issued::New(sig)) => issued.push(sig),
            Err(Error::Conflict(Conflict::CredentialIssued)) => refused += 1,
            Ok(Issued::Repeat(_)) => return Err(Error::InvalidInput("unexpected repeat")),
            Err(e) => return Err(e),
        }
    }
    assert_eq!((issued.len(), refused), (1, 49));
    let stored = store
        .issuance(id, "alice")
        .await?
        .ok_or(Error::NotFound(Missing::Voter))?;
    assert_eq!(stored.signature, issued[0]);
    assert_eq!(stored.blinded_hash, blinded_hash(&[issued[0][0]; 64]));
    assert_eq!(store.credentials_issued(id).await?, 1);
    Ok(())
}
