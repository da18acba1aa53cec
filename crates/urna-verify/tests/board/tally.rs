//! The key ceremony, the tally, the decryption shares and the result: an honest
//! tallied board verifies and reports the ceremony, the counts and the recount; each
//! tampering (re-signed by the board key, and by a trustee's key where that is what a
//! dishonest trustee could do) fails the check that names it.

use urna_board::{Entry, EntryKind};
use urna_verify::{
    CeremonyRecord, Check, ContestResult, DecryptionShare, TallyRecord, result_body,
};

use crate::support::{
    CLOSED, COMPLAINT, Election, FIRST_BALLOT, FIRST_DEALING, FIRST_SHARE, ISSUED, RESULT, REVEAL,
    TALLY, THRESHOLD_KEY, VOTERS, assert_caught, once,
};

/// Re-encodes ceremony entry `index` with `f` applied to its payload; with `signer`,
/// the trustee signs the new payload (as a dishonest trustee could).
fn rewrite_ceremony(
    election: &Election,
    entries: &mut [Vec<u8>],
    index: usize,
    signer: Option<(u32, &str)>,
    f: impl FnOnce(&mut Vec<u8>),
) {
    Election::rewrite(entries, index, None, |body| {
        let record = CeremonyRecord::decode(body).unwrap();
        let mut payload = record.payload.to_vec();
        f(&mut payload);
        let signature = match signer {
            Some((trustee, what)) => election.sign(trustee, what, &payload),
            None => record.signature.to_vec(),
        };
        *body = CeremonyRecord {
            payload: &payload,
            signature: &signature,
            ..record
        }
        .encode();
    });
}

/// Re-encodes the share at `index` with `f` applied to its partial decryption, signed
/// again by its trustee if `resign`.
fn rewrite_share(
    election: &Election,
    entries: &mut [Vec<u8>],
    index: usize,
    resign: bool,
    f: impl FnOnce(&mut Vec<u8>),
) {
    Election::rewrite(entries, index, None, |body| {
        let share = DecryptionShare::decode(body).unwrap();
        let mut partial = share.partial.to_vec();
        f(&mut partial);
        let payload = [&share.batch.to_be_bytes()[..], &partial].concat();
        let signature = if resign {
            election.sign(share.trustee, "partial-decryption", &payload)
        } else {
            share.signature.to_vec()
        };
        *body = DecryptionShare {
            partial: &partial,
            signature: &signature,
            ..share
        }
        .encode();
    });
}

fn rewrite_result(entries: &mut [Vec<u8>], f: impl FnOnce(&mut ContestResult)) {
    let mut result = ContestResult {
        contest: "chair".into(),
        ballots: VOTERS as u64,
        totals: vec![("a".into(), 3), ("b".into(), 1), ("c".into(), 1)],
        winners: vec!["a".into()],
        cvr_digest: None,
    };
    Election::rewrite(entries, RESULT, None, |body| {
        assert_eq!(*body, result_body(std::slice::from_ref(&result)));
        f(&mut result);
        *body = result_body(&[result]);
    });
}

#[test]
fn an_honest_tallied_board_verifies_and_reports_the_recount() {
    let election = once();
    let report = election.verify(&election.tallied);
    assert!(report.is_ok(), "{report}");
    let ceremony = report.ceremony().unwrap();
    assert_eq!(
        (
            ceremony.threshold,
            ceremony.trustees,
            &ceremony.qualified[..]
        ),
        (2, 3, &[1, 2, 3][..])
    );
    assert_eq!(report.counted(), VOTERS as u64);
    assert_eq!(report.credentials_issued(), Some(ISSUED));
    assert_eq!(report.passed(Check::TrusteeSignature), 3 + 2 + 2);
    assert_eq!(report.passed(Check::DecryptionShare), 2);
    assert_eq!(report.passed(Check::TallyRecord), 1);
    assert_eq!(report.passed(Check::Result), 1);
    assert_eq!(report.passed(Check::CredentialsIssued), 1);
    let chair = &report.results()[0];
    assert_eq!(
        chair.totals,
        vec![("a".into(), 3), ("b".into(), 1), ("c".into(), 1)]
    );
    assert_eq!(chair.winners, vec!["a".to_owned()]);
    let printed = report.to_string();
    for line in [
        "credentials issued: 6",
        "key ceremony: 2 of 3 trustees, qualified dealers 1, 2, 3",
        "contest chair (5 ballots): a 3, b 1, c 1; elected: a",
    ] {
        assert!(printed.contains(line), "{printed}");
    }
}

#[test]
fn every_trustee_answering_still_verifies_and_any_k_agree() {
    let election = once();
    let entries = election.tally(&election.entries, &[3, 2, 1]);
    let report = election.verify(&entries);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.passed(Check::DecryptionShare), 3);
}

#[test]
fn a_board_without_ceremony_records_fails() {
    let election = once();
    let mut entries = election.entries.clone();
    entries.drain(2..=THRESHOLD_KEY);
    let report = election.verify(&entries);
    assert!(
        report
            .failures()
            .iter()
            .any(|f| f.check == Check::KeyCeremony && f.entry.is_none()),
        "{report}"
    );
    assert!(
        report
            .to_string()
            .contains("FAILED key ceremony: no records")
    );
}

#[test]
fn a_changed_dealing_byte_fails_its_signature_and_the_key() {
    let election = once();
    let mut entries = election.tallied.clone();
    let index = FIRST_DEALING + 1;
    rewrite_ceremony(election, &mut entries, index, None, |payload| {
        // A commitment byte of the dealing (after lp, dealer and count).
        payload[4 + 8 + 40] ^= 1;
    });
    let report = election.verify(&entries);
    assert_caught(&report, Check::TrusteeSignature, index);
    assert_caught(&report, Check::KeyCeremony, THRESHOLD_KEY);
}

#[test]
fn a_dealing_signed_by_another_key_fails_its_signature() {
    let election = once();
    let mut entries = election.tallied.clone();
    let index = FIRST_DEALING;
    Election::rewrite(&mut entries, index, None, |body| {
        let record = CeremonyRecord::decode(body).unwrap();
        let signature = election.sign(2, "dealing", record.payload);
        *body = CeremonyRecord {
            signature: &signature,
            ..record
        }
        .encode();
    });
    let report = election.verify(&entries);
    assert_caught(&report, Check::TrusteeSignature, index);
}

#[test]
fn a_dropped_or_false_reveal_disqualifies_the_cheating_dealer_and_changes_the_key() {
    let election = once();
    let mut dropped = election.tallied.clone();
    dropped.remove(REVEAL);
    let report = election.verify(&dropped);
    assert_caught(&report, Check::KeyCeremony, THRESHOLD_KEY - 1);

    // Dealer 3 signs a wrong value: its dealing no longer counts.
    let mut wrong = election.tallied.clone();
    rewrite_ceremony(
        election,
        &mut wrong,
        REVEAL,
        Some((3, "reveal")),
        |payload| {
            payload[8] ^= 1;
        },
    );
    let report = election.verify(&wrong);
    assert_caught(&report, Check::KeyCeremony, THRESHOLD_KEY);
    assert!(!report.failed_at(Check::TrusteeSignature, REVEAL as u64));

    // A reveal with no complaint before it is refused.
    let mut entries = election.tallied.clone();
    entries.swap(COMPLAINT, REVEAL);
    let report = election.verify(&entries);
    assert_caught(&report, Check::KeyCeremony, COMPLAINT);
}

#[test]
fn a_changed_threshold_key_entry_fails_the_ceremony() {
    let election = once();
    let mut entries = election.tallied.clone();
    Election::rewrite(&mut entries, THRESHOLD_KEY, None, |body| {
        let record = CeremonyRecord::decode(body).unwrap();
        let mut key = record.payload.to_vec();
        // Swap X_1 and X_2: still a valid encoding, not the key the records give.
        let (x1, x2) = key[72..136].split_at_mut(32);
        x1.swap_with_slice(x2);
        *body = CeremonyRecord {
            payload: &key,
            ..record
        }
        .encode();
    });
    let report = election.verify(&entries);
    assert_caught(&report, Check::KeyCeremony, THRESHOLD_KEY);
}

#[test]
fn a_changed_tally_ciphertext_or_count_fails_the_tally_record() {
    let election = once();
    let mut entries = election.tallied.clone();
    Election::rewrite(&mut entries, TALLY, None, |body| {
        let mut record = TallyRecord::decode(body).unwrap();
        record.contests[0].sums.swap(0, 1);
        *body = record.encode();
    });
    let report = election.verify(&entries);
    assert_caught(&report, Check::TallyRecord, TALLY);

    let mut entries = election.tallied.clone();
    Election::rewrite(&mut entries, TALLY, None, |body| {
        let mut record = TallyRecord::decode(body).unwrap();
        record.contests[0].ballots -= 1;
        *body = record.encode();
    });
    let report = election.verify(&entries);
    assert_caught(&report, Check::TallyRecord, TALLY);
    assert!(
        report
            .to_string()
            .contains("5 ballots counted, the record says 4")
    );
}

#[test]
fn a_bad_share_proof_or_signature_is_named_and_leaves_too_few_shares() {
    let election = once();
    let mut entries = election.tallied.clone();
    rewrite_share(election, &mut entries, FIRST_SHARE, true, |partial| {
        // The low byte of the first proof's challenge: still a canonical scalar.
        partial[8 + 32] ^= 1;
    });
    let report = election.verify(&entries);
    assert_caught(&report, Check::DecryptionShare, FIRST_SHARE);
    assert_caught(&report, Check::Result, RESULT);

    let mut entries = election.tallied.clone();
    Election::rewrite(&mut entries, FIRST_SHARE + 1, None, |body| {
        let at = body.len() - 1;
        body[at] ^= 1;
    });
    let report = election.verify(&entries);
    assert_caught(&report, Check::TrusteeSignature, FIRST_SHARE + 1);
    assert_caught(&report, Check::Result, RESULT);
}

#[test]
fn a_dropped_share_leaves_the_result_without_k_shares() {
    let election = once();
    let mut entries = election.tallied.clone();
    entries.remove(FIRST_SHARE);
    let report = election.verify(&entries);
    assert_caught(&report, Check::Result, RESULT - 1);
    assert!(report.to_string().contains("1 valid shares, 2 are needed"));
}

#[test]
fn a_changed_result_count_or_winner_fails_the_result() {
    let election = once();
    let mut entries = election.tallied.clone();
    rewrite_result(&mut entries, |r| r.totals[1].1 = 4);
    let report = election.verify(&entries);
    assert_caught(&report, Check::Result, RESULT);
    assert_eq!(report.failures().len(), 1, "{report}");

    let mut entries = election.tallied.clone();
    rewrite_result(&mut entries, |r| r.winners = vec!["b".into()]);
    let report = election.verify(&entries);
    assert_caught(&report, Check::Result, RESULT);
    assert_eq!(report.failures().len(), 1, "{report}");
}

#[test]
fn a_duplicated_ballot_is_caught_on_a_tallied_board() {
    let election = once();
    let mut board = election.entries.clone();
    board.insert(FIRST_BALLOT + 1, board[FIRST_BALLOT].clone());
    board[CLOSED + 1] = election.polls_closed(VOTERS as u64 + 1);
    let entries = election.tally(&board, &[1, 3]);
    let report = election.verify(&entries);
    assert_caught(&report, Check::DuplicateBallot, FIRST_BALLOT + 1);
    // The tally counts the credential once, as the verifier does.
    assert_eq!(report.passed(Check::TallyRecord), 1);
}

#[test]
fn a_ballot_after_polls_closed_is_caught_and_never_counted() {
    let mut election = Election::new("last-counts");
    let voter = election.add_voter();
    let late = election.ballot(voter, 1);
    let mut board = election.entries.clone();
    board.push(election.entry(EntryKind::Ballot, late));
    let entries = election.tally(&board, &[1, 3]);
    let report = election.verify(&entries);
    assert_caught(&report, Check::AfterClose, CLOSED + 1);
    assert_eq!(report.passed(Check::TallyRecord), 1, "{report}");
    assert_eq!(report.passed(Check::Result), 1, "{report}");
}

#[test]
fn reordered_tally_entries_are_caught() {
    let election = once();
    let mut entries = election.tallied.clone();
    entries.swap(CLOSED, TALLY);
    let report = election.verify(&entries);
    assert_caught(&report, Check::TallyRecord, CLOSED);

    let mut entries = election.tallied.clone();
    entries.swap(RESULT - 1, RESULT);
    let report = election.verify(&entries);
    assert_caught(&report, Check::Result, RESULT - 1);

    let mut entries = election.tallied.clone();
    entries.swap(FIRST_DEALING, FIRST_DEALING + 1);
    let report = election.verify(&entries);
    assert_caught(&report, Check::KeyCeremony, FIRST_DEALING + 1);
}

#[test]
fn fewer_credentials_issued_than_ballots_counted_is_caught() {
    let election = once();
    let mut entries = election.tallied.clone();
    entries[CLOSED] = election.polls_closed_with(VOTERS as u64, VOTERS as u64 - 1);
    let report = election.verify(&entries);
    assert_caught(&report, Check::CredentialsIssued, CLOSED);
    assert_eq!(report.failures().len(), 1, "{report}");
    assert!(
        report
            .to_string()
            .contains("5 ballots are counted, only 4 credentials were issued")
    );
}

#[test]
fn under_last_counts_a_re_cast_ballot_replaces_the_earlier_one_in_the_sums() {
    let election = Election::new("last-counts");
    let mut board = election.entries.clone();
    // Voter 0 re-casts for c; voter 1 re-casts twice, for a then for c.
    let recasts = [(0, 2), (1, 0), (1, 2)];
    for (voter, choice) in recasts {
        let ballot = election.ballot(voter, choice);
        board.insert(board.len() - 1, election.entry(EntryKind::Ballot, ballot));
    }
    let last = board.len() - 1;
    board[last] = election.polls_closed((VOTERS + recasts.len()) as u64);
    let entries = election.tally(&board, &[2, 3]);
    let report = election.verify(&entries);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.counted(), VOTERS as u64);
    assert_eq!(
        report.results()[0].totals,
        vec![("a".into(), 2), ("b".into(), 0), ("c".into(), 3)]
    );

    // A tally that counts voter 0's first ballot instead is caught.
    let mut stale = board.clone();
    stale.remove(board.len() - 4);
    let stale_tally = election.tally(&stale, &[2, 3]);
    let mut forged = board.clone();
    forged.push(stale_tally[stale.len()].clone());
    let index = forged.len() - 1;
    Election::rewrite(&mut forged, index, None, |body| {
        let mut record = TallyRecord::decode(body).unwrap();
        record.polls_closed = board.len() as u64 - 1;
        *body = record.encode();
    });
    let report = election.verify(&forged);
    assert_caught(&report, Check::TallyRecord, index);
    assert_eq!(report.failures().len(), 1, "{report}");
    assert!(
        report
            .to_string()
            .contains("contest chair: the encrypted sums are not those of the counted ballots")
    );
}

#[test]
fn a_ceremony_other_than_the_manifests_trustees_fails() {
    let yaml = crate::support::yaml("once") + "trustees: { count: 3, threshold: 3 }\n";
    let election = Election::from_yaml(yaml);
    let report = election.verify(&election.entries);
    assert_caught(&report, Check::KeyCeremony, THRESHOLD_KEY);
    assert!(
        report
            .to_string()
            .contains("the threshold key is 2 of 3, the manifest's trustees 3 of 3")
    );
}

#[test]
fn an_election_key_other_than_the_ceremonys_fails_the_ceremony() {
    let election = once();
    let mut entries = election.entries.clone();
    Election::rewrite(&mut entries, 1, None, |body| {
        let mut keys = urna_election::ElectionKeys::decode(body).unwrap();
        let other = urna_crypto::SecretKey::random(&mut rand::rng()).public_key();
        keys.joint_key = other.element().to_bytes();
        *body = keys.encode();
    });
    let report = election.verify(&entries);
    assert_caught(&report, Check::KeyCeremony, THRESHOLD_KEY);
    assert!(
        report
            .to_string()
            .contains("K is not the joint key of the election keys record")
    );
}

#[test]
fn any_changed_byte_of_a_tally_entry_fails_without_a_panic() {
    let election = once();
    for index in [TALLY, FIRST_SHARE, RESULT] {
        let len = Entry::decode(&election.tallied[index])
            .unwrap()
            .body()
            .len();
        for at in (0..len).step_by(13) {
            let mut entries = election.tallied.clone();
            Election::rewrite(&mut entries, index, None, |body| body[at] ^= 0x40);
            let report = election.verify(&entries);
            assert!(
                report
                    .failures()
                    .iter()
                    .any(|f| f.entry == Some(index as u64)),
                "entry {index} byte {at}:\n{report}"
            );
        }
    }
}
