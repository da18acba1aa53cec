//! The ballot checks: an honest election verifies, and every kind of tampering with
//! its ballots, spoiled ballots, checkpoints or genesis is caught by the check that
//! names it.

use urna_board::{Entry, EntryKind, Log, MemoryStore, NoteSigner};
use urna_election::ElectionKeys;
use urna_verify::{Check, DirSource, Options, export, verify};

use crate::support::{
    BOARD_SEED, CLOSED, Election, FIRST_BALLOT, ORIGIN, SPOILED, VOTERS, assert_caught,
    first_ciphertext, once,
};

#[test]
fn an_honest_board_verifies_and_counts_one_ballot_per_credential() {
    let election = once();
    let mut calls = Vec::new();
    let signer = NoteSigner::from_seed(ORIGIN, &BOARD_SEED).unwrap();
    let options = Options {
        board_key: Some(signer.verifier()),
        batch_size: 2,
    };
    let report = election.verify_with(&election.entries, &options, |_| {});
    assert!(report.is_ok(), "{report}");
    assert_eq!(
        report.board_key(),
        Some(signer.verifier().to_string().as_str())
    );
    assert_eq!(report.size(), election.entries.len() as u64);
    assert_eq!(report.ballots(), VOTERS as u64);
    assert_eq!(report.spoiled(), 1);
    assert_eq!(report.counted(), VOTERS as u64);
    assert_eq!(report.passed(Check::BallotProofs), VOTERS as u64);
    assert_eq!(report.passed(Check::BlindSignature), VOTERS as u64 + 1);
    assert_eq!(report.passed(Check::SpoiledOpening), 1);
    assert_eq!(report.passed(Check::PollsClosed), 1);
    assert_eq!(report.passed(Check::TreeRoot), 1);
    assert_eq!(report.passed(Check::CheckpointSignature), 1);
    // A checkpoint every three entries, the latest apart.
    assert_eq!(
        report.passed(Check::CheckpointConsistency),
        (election.entries.len() as u64 - 1) / 3
    );
    assert_eq!(report.passed(Check::KeyCeremony), 9);
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(MemoryStore::new(), ORIGIN).unwrap();
    log.integrate(&election.entries).unwrap();
    log.sign_checkpoint(&signer).unwrap();
    export(log.into_store(), &election.yaml, dir.path()).unwrap();
    verify(&DirSource::new(dir.path()), &Options::default(), &mut |p| {
        calls.push(p)
    })
    .unwrap();
    let last = calls.last().unwrap();
    assert_eq!(
        (last.entries, last.total),
        (election.entries.len() as u64, election.entries.len() as u64)
    );
}

#[test]
fn a_swapped_ciphertext_fails_the_proofs_even_when_re_signed() {
    let election = once();
    let mut entries = election.entries.clone();
    let index = FIRST_BALLOT + 2;
    Election::rewrite(&mut entries, index, Some(&election.voters[2]), |ballot| {
        let at = first_ciphertext(ballot);
        let (first, second) = ballot[at..at + 128].split_at_mut(64);
        first.swap_with_slice(second);
    });
    let report = election.verify(&entries);
    assert_caught(&report, Check::BallotProofs, index);
    assert_eq!(report.failures().len(), 1, "{report}");
    let printed = report.to_string();
    assert!(
        printed.contains(&format!("FAILED ballot proofs at entry {index}")),
        "{printed}"
    );
}

#[test]
fn a_flipped_ciphertext_byte_without_the_credential_key_fails_the_signature() {
    let election = once();
    let mut entries = election.entries.clone();
    let index = FIRST_BALLOT + 1;
    Election::rewrite(&mut entries, index, None, |ballot| {
        let at = first_ciphertext(ballot) + 40;
        ballot[at] ^= 1;
    });
    let report = election.verify(&entries);
    let caught = [Check::BallotEncoding, Check::CredentialSignature]
        .iter()
        .any(|check| report.failed_at(*check, index as u64));
    assert!(caught, "{report}");
}

#[test]
fn a_corrupted_proof_is_named_within_its_batch() {
    let election = once();
    let mut entries = election.entries.clone();
    let index = FIRST_BALLOT + 3;
    Election::rewrite(&mut entries, index, Some(&election.voters[3]), |ballot| {
        // The first branch's challenge c_0 of option 0's range proof (low byte: the
        // scalar stays canonical).
        let at = first_ciphertext(ballot) + 3 * 64 + 4 + 64;
        ballot[at] ^= 1;
    });
    let options = Options {
        batch_size: 2,
        ..Options::default()
    };
    let report = election.verify_with(&entries, &options, |_| {});
    assert_caught(&report, Check::BallotProofs, index);
    assert_eq!(report.failures().len(), 1, "{report}");
    assert_eq!(report.passed(Check::BallotProofs), VOTERS as u64 - 1);
}

#[test]
fn a_dropped_ballot_breaks_the_polls_closed_count() {
    let election = once();
    let mut entries = election.entries.clone();
    entries.remove(FIRST_BALLOT + 1);
    let report = election.verify(&entries);
    assert_caught(&report, Check::PollsClosed, CLOSED - 1);
    assert_eq!(report.failures().len(), 1, "{report}");
}

#[test]
fn a_duplicated_ballot_is_a_duplicate_and_a_second_vote_under_once() {
    let election = once();
    let mut entries = election.entries.clone();
    entries.insert(FIRST_BALLOT + 1, entries[FIRST_BALLOT].clone());
    let report = election.verify(&entries);
    assert_caught(&report, Check::DuplicateBallot, FIRST_BALLOT + 1);
    assert_caught(&report, Check::Revoting, FIRST_BALLOT + 1);
    assert_caught(&report, Check::PollsClosed, CLOSED + 1);
}

#[test]
fn a_ballot_reordered_after_polls_closed_is_caught() {
    let election = once();
    let mut entries = election.entries.clone();
    entries.swap(CLOSED - 1, CLOSED);
    let report = election.verify(&entries);
    assert_caught(&report, Check::AfterClose, CLOSED);
    assert_caught(&report, Check::PollsClosed, CLOSED - 1);
}

#[test]
fn reordered_genesis_entries_are_caught() {
    let election = once();
    let mut entries = election.entries.clone();
    entries.swap(0, 1);
    let report = election.verify(&entries);
    assert_caught(&report, Check::Manifest, 0);
    assert_caught(&report, Check::ElectionKeys, 1);
}

#[test]
fn a_new_ballot_after_polls_closed_is_caught() {
    let mut election = Election::new("once");
    let voter = election.add_voter();
    let late = election.ballot(voter, 0);
    let mut entries = election.entries.clone();
    entries.push(election.entry(EntryKind::Ballot, late));
    let report = election.verify(&entries);
    assert_caught(&report, Check::AfterClose, CLOSED + 1);
    assert_eq!(report.failures().len(), 1, "{report}");
    // It is on the board, and never counted.
    assert_eq!(report.ballots(), VOTERS as u64 + 1);
    assert_eq!(report.counted(), VOTERS as u64);
}

#[test]
fn a_wrong_polls_closed_count_is_caught() {
    let election = once();
    let mut entries = election.entries.clone();
    entries[CLOSED] = election.polls_closed(VOTERS as u64 + 1);
    let report = election.verify(&entries);
    assert_caught(&report, Check::PollsClosed, CLOSED);
    assert_eq!(report.failures().len(), 1, "{report}");
}

#[test]
fn a_false_opening_and_a_cast_spoiled_ballot_are_caught() {
    let election = once();
    let mut entries = election.entries.clone();
    Election::rewrite(&mut entries, SPOILED, None, |body| {
        // The last opening's first value, 8 bytes before the first of the three nonces.
        let at = body.len() - 3 * 32 - 3 * 8 + 7;
        body[at] ^= 1;
    });
    let report = election.verify(&entries);
    assert_caught(&report, Check::SpoiledOpening, SPOILED);
    assert_eq!(report.failures().len(), 1, "{report}");

    let mut entries = election.entries.clone();
    let spoiled = Entry::decode(&entries[SPOILED]).unwrap().body().to_vec();
    let len = u32::from_be_bytes(spoiled[..4].try_into().unwrap()) as usize;
    let ballot = spoiled[4..4 + len].to_vec();
    entries.insert(CLOSED, election.entry(EntryKind::Ballot, ballot));
    entries[CLOSED + 1] = election.polls_closed(VOTERS as u64 + 1);
    let report = election.verify(&entries);
    assert_caught(&report, Check::SpoiledNotCast, CLOSED);
    assert_caught(&report, Check::Revoting, CLOSED);
}

#[test]
fn tampered_checkpoints_and_entries_without_the_board_key_are_caught() {
    let election = once();
    let report = election.verify_with(&election.entries, &Options::default(), |dir| {
        let path = dir.join("checkpoint");
        let mut note = std::fs::read_to_string(&path).unwrap();
        // A different signature byte: the base64 text after the key ID.
        let at = note.len() - 10;
        let c = if &note[at..=at] == "A" { "B" } else { "A" };
        note.replace_range(at..=at, c);
        std::fs::write(&path, note).unwrap();
        let path = dir.join("checkpoints/3");
        let note = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, note.replacen("\n3\n", "\n3 \n", 1)).unwrap();
    });
    assert!(
        report.failed_at(Check::CheckpointSignature, election.entries.len() as u64),
        "{report}"
    );
    assert!(
        report.failed_at(Check::CheckpointConsistency, 3),
        "{report}"
    );
    assert_eq!(report.passed(Check::TreeRoot), 1);

    let report = election.verify_with(&election.entries, &Options::default(), |dir| {
        let path = dir.join(format!("tile/entries/000.p/{}", CLOSED + 1));
        let mut bundle = std::fs::read(&path).unwrap();
        let last = bundle.len() - 1;
        bundle[last] ^= 1;
        std::fs::write(&path, bundle).unwrap();
    });
    assert!(
        report.failed_at(Check::TreeRoot, election.entries.len() as u64),
        "{report}"
    );
    assert_eq!(
        report.passed(Check::CheckpointConsistency),
        CLOSED as u64 / 3
    );
}

#[test]
fn a_board_key_other_than_the_pinned_one_is_refused() {
    let election = once();
    let other = NoteSigner::from_seed(ORIGIN, &[8; 32]).unwrap();
    let options = Options {
        board_key: Some(other.verifier()),
        ..Options::default()
    };
    let report = election.verify_with(&election.entries, &options, |_| {});
    assert_caught(&report, Check::ElectionKeys, 1);
    assert!(report.failed_at(Check::CheckpointSignature, election.entries.len() as u64));
}

#[test]
fn last_counts_keeps_every_ballot_and_counts_one_per_credential() {
    let election = Election::new("last-counts");
    let mut entries = election.entries.clone();
    let revote = election.ballot(1, 2);
    entries.insert(CLOSED, election.entry(EntryKind::Ballot, revote));
    entries[CLOSED + 1] = election.polls_closed(VOTERS as u64 + 1);
    let report = election.verify(&entries);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.ballots(), VOTERS as u64 + 1);
    assert_eq!(report.counted(), VOTERS as u64);
}

#[test]
fn any_corrupted_byte_of_the_export_fails_verification_without_a_panic() {
    let election = once();
    let bundle = format!("tile/entries/000.p/{}", CLOSED + 1);
    let len = election
        .entries
        .iter()
        .map(|e| e.len() as u64 + 2)
        .sum::<u64>();
    for at in (0..len).step_by(61) {
        let report = election.verify_with(&election.entries, &Options::default(), |dir| {
            let path = dir.join(&bundle);
            let mut bytes = std::fs::read(&path).unwrap();
            bytes[at as usize] ^= 0x80;
            std::fs::write(&path, bytes).unwrap();
        });
        // A changed entry no longer hashes to the root; a broken bundle is not read.
        assert!(
            report.failures().iter().any(|f| f.check == Check::TreeRoot),
            "byte {at}: {report}"
        );
    }
}

#[test]
fn hash_tiles_of_every_level_are_checked_and_a_changed_one_is_named() {
    let election = once();
    let mut entries = election.entries.clone();
    for i in 0..600u32 {
        entries.push(election.entry(EntryKind::TallyRecord, i.to_be_bytes().to_vec()));
    }
    let report = election.verify(&entries);
    // Level 0: two full tiles and one partial; level 1: one partial of width 2.
    assert_eq!(report.passed(Check::HashTiles), 4);
    // The filler entries are not tally records; nothing else fails.
    assert_eq!(report.failures().len(), 600, "{report}");
    assert!(
        report
            .failures()
            .iter()
            .all(|f| f.check == Check::TallyRecord)
    );

    let report = election.verify_with(&entries, &Options::default(), |dir| {
        let path = dir.join("tile/1/000.p/2");
        let mut tile = std::fs::read(&path).unwrap();
        tile[40] ^= 1;
        std::fs::write(&path, tile).unwrap();
    });
    assert_caught(&report, Check::HashTiles, 0);
    assert_eq!(report.failures().len(), 601, "{report}");
}

#[test]
fn a_board_key_named_for_another_election_is_refused() {
    let election = once();
    let mut entries = election.entries.clone();
    Election::rewrite(&mut entries, 1, None, |body| {
        let mut keys = ElectionKeys::decode(body).unwrap();
        let other = NoteSigner::from_seed("urna.test/other", &BOARD_SEED).unwrap();
        keys.board_key = other.verifier().to_string();
        *body = keys.encode();
    });
    let report = election.verify(&entries);
    assert_caught(&report, Check::ElectionKeys, 1);
}
