//! The board's genesis (manifest and keys) proven against a signed checkpoint.

use urna_board::NoteSigner;

use super::fixture::{Fixture, ORIGIN};
use crate::{Election, TrustRoot, VerifyFailure};

fn verify(f: &mut Fixture, trust: &TrustRoot, note: &str) -> Result<Election, VerifyFailure> {
    Election::verify(f.manifest.id(), trust, note, &f.proven(0), &f.proven(1))
}

#[test]
fn genesis_verifies_trusted_on_first_use_or_pinned() {
    let mut f = Fixture::new();
    let note = f.note();
    let election = verify(&mut f, &TrustRoot::FirstUse, &note).unwrap();
    assert_eq!(election.fingerprint(), &f.manifest.fingerprint());
    assert_eq!(election.manifest(), f.manifest.canonical_bytes());
    assert_eq!(election.keys(), &f.keys);
    assert_eq!(election.board_key(), f.signer.verifier().to_string());
    let pinned = TrustRoot::Pinned(election.board_key().to_owned());
    assert!(verify(&mut f, &pinned, &note).is_ok());
}

#[test]
fn another_pinned_key_is_refused() {
    let mut f = Fixture::new();
    let note = f.note();
    let other = NoteSigner::from_seed(ORIGIN, &[9; 32]).unwrap();
    let pinned = TrustRoot::Pinned(other.verifier().to_string());
    assert_eq!(
        verify(&mut f, &pinned, &note).unwrap_err(),
        VerifyFailure::BoardKey
    );
}

#[test]
fn a_checkpoint_signed_by_another_key_or_altered_is_refused() {
    let mut f = Fixture::new();
    let note = f.note();
    let forged = note.replacen("\n2\n", "\n3\n", 1);
    assert_eq!(
        verify(&mut f, &TrustRoot::FirstUse, &forged).unwrap_err(),
        VerifyFailure::Checkpoint
    );
    // A board that signs with a key other than the one its key record names.
    f.signer = NoteSigner::from_seed(ORIGIN, &[9; 32]).unwrap();
    let other = f.note();
    assert_eq!(
        verify(&mut f, &TrustRoot::FirstUse, &other).unwrap_err(),
        VerifyFailure::Checkpoint
    );
}

#[test]
fn tampered_entries_and_proofs_are_refused() {
    let mut f = Fixture::new();
    f.append(&[b"a later entry".to_vec()]);
    let note = f.note();
    let (manifest, keys) = (f.proven(0), f.proven(1));
    let id = f.manifest.id().to_owned();
    let check = |m: &crate::ProvenEntry, k: &crate::ProvenEntry| {
        Election::verify(&id, &TrustRoot::FirstUse, &note, m, k)
    };
    assert!(check(&manifest, &keys).is_ok());

    let mut bad = manifest.clone();
    let last = bad.entry.len() - 1;
    bad.entry[last] ^= 1;
    // The manifest body changed: its fingerprint no longer matches the envelope's.
    assert_eq!(check(&bad, &keys).unwrap_err(), VerifyFailure::Genesis);

    let mut bad = keys.clone();
    bad.proof[0] = urna_board::TreeHash::leaf(b"x");
    assert_eq!(
        check(&manifest, &bad).unwrap_err(),
        VerifyFailure::Inclusion
    );

    let mut swapped = (keys.clone(), manifest.clone());
    swapped.0.index = 0;
    swapped.1.index = 1;
    assert_eq!(
        check(&swapped.0, &swapped.1).unwrap_err(),
        VerifyFailure::Genesis
    );
}
