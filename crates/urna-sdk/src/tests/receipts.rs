//! Receipt checks: the entry is the ballot, included in a checkpoint signed by the
//! board key; a tampered proof, entry or note is refused; a later checkpoint must be
//! consistent with the receipt's.

use urna_board::{Checkpoint, Entry, EntryKind};
use urna_crypto::encoding::Encoder;
use urna_crypto::{EncryptedBallot, short_tracking_code};
use urna_proto::v1 as proto;

use super::fixture::Fixture;
use crate::board::{open_checkpoint, verify_consistency};
use crate::{Choice, Choices, Receipt, VerifyFailure};

fn ballot(f: &mut Fixture) -> EncryptedBallot {
    let style = f.style();
    let credential = f.credential();
    let mut choices = Choices::new();
    choices.insert("chair".into(), Choice::Marks(vec!["grace".into()]));
    choices.insert("boathouse".into(), Choice::Marks(vec!["yes".into()]));
    style.encrypt(&credential, &choices).unwrap().0
}

/// Puts `body` on the board as `kind` and returns the receipt casting would send.
fn receipt(f: &mut Fixture, ballot: &EncryptedBallot, kind: EntryKind, body: Vec<u8>) -> Receipt {
    let entry = Entry::new(kind, *ballot.election(), body).unwrap().encode();
    let note = f.append(&[entry.clone(), b"someone else's ballot".to_vec()]);
    let index = f.log.size() - 2;
    let code = ballot.tracking_code();
    Receipt::from_proto(proto::Receipt {
        election_id: f.manifest.id().to_owned(),
        tracking_code: code.to_vec(),
        short_code: short_tracking_code(&code),
        entry: Some(proto::BoardEntry {
            index,
            kind: proto::EntryKind::Ballot.into(),
            entry,
        }),
        inclusion_proof: Some(proto::InclusionProof {
            leaf_index: index,
            tree_size: f.log.size(),
            hashes: f
                .log
                .inclusion_proof(index, f.log.size())
                .unwrap()
                .iter()
                .map(|h| h.as_bytes().to_vec())
                .collect(),
        }),
        checkpoint: Some(proto::SignedCheckpoint {
            note,
            origin: String::new(),
            tree_size: 0,
            root_hash: Vec::new(),
        }),
        supersedes_previous: false,
        spoiled: kind == EntryKind::SpoiledBallot,
    })
    .unwrap()
}

#[test]
fn a_cast_receipt_verifies_and_round_trips_through_json() {
    let mut f = Fixture::new();
    let ballot = ballot(&mut f);
    let bytes = ballot.to_bytes();
    let receipt = receipt(&mut f, &ballot, EntryKind::Ballot, bytes.clone());
    let election = f.election();
    let checkpoint = receipt
        .verify(election.board(), election.fingerprint())
        .unwrap();
    assert_eq!(checkpoint.size(), 4);
    receipt
        .verify_ballot(election.fingerprint(), &bytes)
        .unwrap();
    let json = serde_json::to_string(&receipt).unwrap();
    assert!(json.contains(&hex::encode(ballot.tracking_code())));
    assert_eq!(serde_json::from_str::<Receipt>(&json).unwrap(), receipt);

    let other = self::ballot(&mut f).to_bytes();
    assert_eq!(
        receipt.verify_ballot(election.fingerprint(), &other),
        Err(VerifyFailure::Receipt("the entry is not this ballot"))
    );
}

#[test]
fn a_tampered_proof_entry_or_note_is_refused() {
    let mut f = Fixture::new();
    let ballot = ballot(&mut f);
    let good = receipt(&mut f, &ballot, EntryKind::Ballot, ballot.to_bytes());
    let election = f.election();
    let check = |r: &Receipt| r.verify(election.board(), election.fingerprint());
    assert!(check(&good).is_ok());

    let mut bad = good.clone();
    bad.inclusion_proof[0][0] ^= 1;
    assert_eq!(check(&bad), Err(VerifyFailure::Inclusion));

    let mut bad = good.clone();
    let middle = bad.entry.len() / 2;
    bad.entry[middle] ^= 1;
    assert_eq!(check(&bad), Err(VerifyFailure::Inclusion));

    let mut bad = good.clone();
    bad.leaf_index += 1;
    assert_eq!(check(&bad), Err(VerifyFailure::Inclusion));

    let mut bad = good.clone();
    bad.checkpoint = bad.checkpoint.replacen("\n4\n", "\n5\n", 1);
    assert_eq!(check(&bad), Err(VerifyFailure::Checkpoint));

    let mut bad = good.clone();
    bad.tracking_code[0] ^= 1;
    assert_eq!(
        check(&bad),
        Err(VerifyFailure::Receipt("tracking code is not the ballot's"))
    );

    let mut bad = good.clone();
    bad.short_code = short_tracking_code(&[0; 32]);
    assert_eq!(
        check(&bad),
        Err(VerifyFailure::Receipt(
            "short code is not the tracking code's"
        ))
    );

    let mut bad = good;
    bad.spoiled = true;
    assert_eq!(
        check(&bad),
        Err(VerifyFailure::Receipt(
            "not a ballot entry of this election"
        ))
    );
}

#[test]
fn a_spoiled_receipt_carries_the_ballot_first() {
    let mut f = Fixture::new();
    let ballot = ballot(&mut f);
    let mut body = Encoder::new();
    body.bytes(&ballot.to_bytes()).bytes(b"the opening");
    let receipt = receipt(&mut f, &ballot, EntryKind::SpoiledBallot, body.finish());
    let election = f.election();
    assert!(receipt.spoiled);
    receipt
        .verify(election.board(), election.fingerprint())
        .unwrap();
    receipt
        .verify_ballot(election.fingerprint(), &ballot.to_bytes())
        .unwrap();
}

#[test]
fn a_later_checkpoint_must_extend_the_receipts() {
    let mut f = Fixture::new();
    let old_note = f.note();
    let board = f.signer.verifier();
    let old = open_checkpoint(&old_note, &board).unwrap();
    let new_note = f.append(&[b"x".to_vec(), b"y".to_vec(), b"z".to_vec()]);
    let new = open_checkpoint(&new_note, &board).unwrap();
    let proof = |hashes: Vec<Vec<u8>>| proto::ConsistencyProof {
        old_size: 2,
        new_size: 5,
        hashes,
    };
    let good: Vec<Vec<u8>> = f
        .log
        .consistency_proof(2, 5)
        .unwrap()
        .iter()
        .map(|h| h.as_bytes().to_vec())
        .collect();
    verify_consistency(
        old.checkpoint(),
        new.checkpoint(),
        Some(proof(good.clone())),
    )
    .unwrap();
    let mut bad = good.clone();
    bad[0][0] ^= 1;
    assert_eq!(
        verify_consistency(old.checkpoint(), new.checkpoint(), Some(proof(bad))),
        Err(VerifyFailure::Consistency)
    );
    // A "newer" checkpoint with another root at the same size as the receipt's (a fork).
    let fork = Checkpoint::new(
        old.checkpoint().origin(),
        5,
        urna_board::TreeHash::leaf(b"f"),
    )
    .unwrap();
    assert_eq!(
        verify_consistency(old.checkpoint(), &fork, Some(proof(good))),
        Err(VerifyFailure::Consistency)
    );
    assert_eq!(
        verify_consistency(old.checkpoint(), new.checkpoint(), None),
        Err(VerifyFailure::Consistency)
    );
}
