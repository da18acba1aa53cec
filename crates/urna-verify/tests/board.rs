//! The verifier against boards built with the library APIs: an honest election
//! verifies, and every kind of tampering is caught by the check that names it. Each
//! tampered log is re-sequenced and re-signed with the board key (as a dishonest
//! operator could), so the semantic checks, not only the Merkle root, must catch it.

use std::sync::OnceLock;

use urna_board::{Entry, EntryKind, Log, MemoryStore, NoteSigner};
use urna_crypto::credential::credential_message;
use urna_crypto::encoding::Encoder;
use urna_crypto::{
    BlindSigningKey, Credential, CredentialSecret, EncryptedBallot, EncryptionKey, SecretKey,
};
use urna_election::{ElectionKeys, Manifest};
use urna_verify::{Check, DirSource, Options, PollsClosed, Report, export, verify};

const ORIGIN: &str = "urna.test/club";
const BOARD_SEED: [u8; 32] = [7; 32];
const VOTERS: usize = 5;
/// Entry 2 is voter 0's spoiled ballot; voter `v` casts entry `FIRST_BALLOT + v`.
const SPOILED: usize = 2;
const FIRST_BALLOT: usize = 3;
const CLOSED: usize = FIRST_BALLOT + VOTERS;

fn yaml(revoting: &str) -> String {
    format!(
        "id: club
title: Club
start: 2026-03-01T09:00:00Z
end: 2026-03-08T18:00:00Z
revoting: {revoting}
contests:
  - id: chair
    title: Chair
    method: plurality
    options:
      - {{ id: a, name: A }}
      - {{ id: b, name: B }}
      - {{ id: c, name: C }}
"
    )
}

/// An election with its secrets and an honest board.
struct Election {
    yaml: String,
    manifest: Manifest,
    auth: BlindSigningKey,
    joint: EncryptionKey,
    voters: Vec<CredentialSecret>,
    credentials: Vec<Credential>,
    entries: Vec<Vec<u8>>,
}

impl Election {
    fn new(revoting: &str) -> Self {
        let mut rng = rand::rng();
        let yaml = yaml(revoting);
        let manifest = Manifest::from_yaml(&yaml).unwrap();
        let auth = BlindSigningKey::generate(2048, &mut rng).unwrap();
        let joint = EncryptionKey::new(SecretKey::random(&mut rng).public_key());
        let board = NoteSigner::from_seed(ORIGIN, &BOARD_SEED).unwrap();
        let keys = ElectionKeys {
            joint_key: joint.public_key().element().to_bytes(),
            auth_key: auth.verifying_key().unwrap().to_der().unwrap(),
            style_key: [3; 32],
            board_key: board.verifier().to_string(),
        };
        let mut election = Self {
            yaml,
            auth,
            joint,
            voters: Vec::new(),
            credentials: Vec::new(),
            entries: Vec::new(),
            manifest,
        };
        election.entries = vec![
            election.entry(
                EntryKind::ElectionManifest,
                election.manifest.canonical_bytes(),
            ),
            election.entry(EntryKind::KeyCeremony, keys.encode()),
        ];
        for _ in 0..VOTERS {
            election.add_voter();
        }
        let spoiled = election.spoiled_body(0, 1);
        election
            .entries
            .push(election.entry(EntryKind::SpoiledBallot, spoiled));
        for voter in 0..VOTERS {
            let ballot = election.ballot(voter, voter as u64 % 3);
            election
                .entries
                .push(election.entry(EntryKind::Ballot, ballot));
        }
        let closed = election.polls_closed(VOTERS as u64);
        election.entries.push(closed);
        election
    }

    fn add_voter(&mut self) -> usize {
        let mut rng = rand::rng();
        let secret = CredentialSecret::generate(&mut rng);
        let message = credential_message(
            &self.manifest.fingerprint(),
            "default",
            &secret.public_key(),
        )
        .unwrap();
        let public = self.auth.verifying_key().unwrap();
        let (blinded, state) = public.blind(&message, &mut rng).unwrap();
        let blind = self.auth.blind_sign(&blinded, &mut rng).unwrap();
        let (signature, randomizer) = public.finalize(&blind, &state, &message).unwrap();
        self.credentials.push(Credential {
            key: secret.public_key(),
            signature,
            randomizer,
        });
        self.voters.push(secret);
        self.voters.len() - 1
    }

    fn encrypt(&self, voter: usize, choice: u64) -> (EncryptedBallot, Vec<u8>) {
        let layout = urna_election::layout(&self.manifest, "default").unwrap();
        let mut values = vec![0; 3];
        values[choice as usize] = 1;
        let (ballot, opening) = EncryptedBallot::encrypt(
            &self.joint,
            &self.manifest.fingerprint(),
            &layout,
            self.credentials[voter].clone(),
            &self.voters[voter],
            &[values],
            &mut rand::rng(),
        )
        .unwrap();
        let mut openings = Encoder::new();
        openings.len(opening.contests.len());
        for ((id, _), contest) in ballot.contests().iter().zip(&opening.contests) {
            openings.str(id).len(contest.values().len());
            for value in contest.values() {
                openings.u64(*value);
            }
            for nonce in contest.reveal() {
                openings.fixed(nonce.as_bytes());
            }
        }
        (ballot, openings.finish())
    }

    /// A cast ballot's bytes.
    fn ballot(&self, voter: usize, choice: u64) -> Vec<u8> {
        self.encrypt(voter, choice).0.to_bytes()
    }

    /// A spoiled ballot's body: `lp(ballot) ‖ lp(openings)`.
    fn spoiled_body(&self, voter: usize, choice: u64) -> Vec<u8> {
        let (ballot, openings) = self.encrypt(voter, choice);
        let mut body = Encoder::new();
        body.bytes(&ballot.to_bytes()).bytes(&openings);
        body.finish()
    }

    fn polls_closed(&self, ballots: u64) -> Vec<u8> {
        let body = PollsClosed {
            election_id: "club".into(),
            closed_at: 1_772_960_400,
            ballots,
        };
        self.entry(EntryKind::PollsClosed, body.encode())
    }

    fn entry(&self, kind: EntryKind, body: Vec<u8>) -> Vec<u8> {
        Entry::new(kind, self.manifest.fingerprint(), body)
            .unwrap()
            .encode()
    }

    /// Replaces entry `index`'s body (same kind), re-signing a ballot with the
    /// voter's credential key so that only the tampered part is wrong.
    fn rewrite(
        entries: &mut [Vec<u8>],
        index: usize,
        secret: Option<&CredentialSecret>,
        f: impl FnOnce(&mut Vec<u8>),
    ) {
        let entry = Entry::decode(&entries[index]).unwrap();
        let mut body = entry.body().to_vec();
        f(&mut body);
        if let Some(secret) = secret {
            resign(&mut body, secret);
        }
        entries[index] = Entry::new(entry.kind(), *entry.election(), body)
            .unwrap()
            .encode();
    }

    fn verify(&self, entries: &[Vec<u8>]) -> Report {
        self.verify_with(entries, &Options::default(), |_| {})
    }

    /// Sequences `entries` into a new log signed by the board key (a checkpoint every
    /// three entries), exports it, lets `tamper` edit the export, and verifies it.
    fn verify_with(
        &self,
        entries: &[Vec<u8>],
        options: &Options,
        tamper: impl FnOnce(&std::path::Path),
    ) -> Report {
        let signer = NoteSigner::from_seed(ORIGIN, &BOARD_SEED).unwrap();
        let mut log = Log::open(MemoryStore::new(), ORIGIN).unwrap();
        for chunk in entries.chunks(3) {
            log.integrate(chunk).unwrap();
            log.sign_checkpoint(&signer).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let exported = export(log.into_store(), &self.yaml, dir.path()).unwrap();
        assert_eq!(exported.size, entries.len() as u64);
        tamper(dir.path());
        verify(&DirSource::new(dir.path()), options, &mut |_| {}).unwrap()
    }
}

/// Signs a ballot's bytes again with its credential key (docs/protocol.md §1.9).
fn resign(ballot: &mut [u8], secret: &CredentialSecret) {
    let unsigned = ballot.len() - 64;
    let mut message = Encoder::new();
    message
        .str("urna/v1/ballot-signature")
        .fixed(&ballot[..unsigned]);
    let signature = secret.sign(message.as_slice()).to_bytes();
    ballot[unsigned..].copy_from_slice(&signature);
}

/// Where a ballot's first ciphertext starts: version, fingerprint, style, credential
/// key, RSA signature, randomizer, contest count, contest id, option count.
fn first_ciphertext(ballot: &[u8]) -> usize {
    let style = 4 + u32::from_be_bytes(ballot[33..37].try_into().unwrap()) as usize;
    let rsa_at = 33 + style + 32;
    let rsa = 4 + u32::from_be_bytes(ballot[rsa_at..rsa_at + 4].try_into().unwrap()) as usize;
    let id_at = rsa_at + rsa + 32 + 4;
    let id = 4 + u32::from_be_bytes(ballot[id_at..id_at + 4].try_into().unwrap()) as usize;
    id_at + id + 4
}

fn once() -> &'static Election {
    static ELECTION: OnceLock<Election> = OnceLock::new();
    ELECTION.get_or_init(|| Election::new("once"))
}

/// The only failures are of `check`, and one names `entry`.
fn assert_caught(report: &Report, check: Check, entry: usize) {
    assert!(!report.is_ok());
    assert!(
        report.failed_at(check, entry as u64),
        "{check} at {entry} not reported:\n{report}"
    );
}

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
    assert!(report.warnings().is_empty());
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
        let path = dir.join("tile/entries/000.p/9");
        let mut bundle = std::fs::read(&path).unwrap();
        let last = bundle.len() - 1;
        bundle[last] ^= 1;
        std::fs::write(&path, bundle).unwrap();
    });
    assert!(
        report.failed_at(Check::TreeRoot, election.entries.len() as u64),
        "{report}"
    );
    assert_eq!(report.passed(Check::CheckpointConsistency), 2);
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
fn tally_entries_are_reported_as_not_yet_checked() {
    let election = once();
    let mut entries = election.entries.clone();
    entries.push(election.entry(EntryKind::TallyRecord, vec![1, 2, 3]));
    let report = election.verify(&entries);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.warnings().len(), 1);
    assert_eq!(report.warnings()[0].entry, CLOSED as u64 + 1);
}

#[test]
fn any_corrupted_byte_of_the_export_fails_verification_without_a_panic() {
    let election = once();
    let bundle = "tile/entries/000.p/9";
    let len = election
        .entries
        .iter()
        .map(|e| e.len() as u64 + 2)
        .sum::<u64>();
    for at in (0..len).step_by(61) {
        let report = election.verify_with(&election.entries, &Options::default(), |dir| {
            let path = dir.join(bundle);
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
    assert!(report.is_ok(), "{report}");
    // Level 0: two full tiles and one partial; level 1: one partial of width 2.
    assert_eq!(report.passed(Check::HashTiles), 4);
    assert_eq!(report.warnings()[0].count, 600);

    let report = election.verify_with(&entries, &Options::default(), |dir| {
        let path = dir.join("tile/1/000.p/2");
        let mut tile = std::fs::read(&path).unwrap();
        tile[40] ^= 1;
        std::fs::write(&path, tile).unwrap();
    });
    assert_caught(&report, Check::HashTiles, 0);
    assert_eq!(report.failures().len(), 1, "{report}");
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
