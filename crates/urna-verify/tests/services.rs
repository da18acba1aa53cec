//! The verifier against a board the services wrote: an election run in-process on a
//! SQLite store through the admin, tally and board domains, with in-process trustees
//! (one dealer cheats, is accused and reveals), re-cast ballots under `last-counts`,
//! polls closed by the admin and the tally decrypted by two of three trustees. The
//! exported board verifies; each tampered copy, re-signed with the board key from the
//! store's secrets, fails the check that names it.

use std::path::Path;
use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use urna_admin::{Admin, AdminConfig};
use urna_board::{Entry, EntryKind, Log, MemoryStore, NoteSigner, SequencerConfig};
use urna_crypto::credential::credential_message;
use urna_crypto::dkg::{Ceremony, Complaint, Dealer, DkgParameters, SecretShare};
use urna_crypto::encoding::Decoder;
use urna_crypto::threshold::PartialDecryption;
use urna_crypto::{
    BlindSigningKey, Ciphertext, Credential, CredentialSecret, EncryptedBallot, EncryptionKey,
};
use urna_election::{Manifest, Revoting, layout};
use urna_service::{Boards, Elections};
use urna_store::conformance::manifest;
use urna_store::{
    BallotStore, BoardStore, CodeParams, ElectionStore, KeyStore, NewBallot, Phase, RollStore,
    SqliteStore, TrusteeKeys,
};
use urna_tally::{EncryptionSecret, Tally, dealing_payload, open_share, seal_share, tally_context};
use urna_verify::{
    CeremonyRecord, Check, DecryptionShare, DirSource, Options, PollsClosed, Report, TallyRecord,
    export, verify,
};

const ELECTION: &str = "club";
const CLOSED_AT: u64 = 1_772_960_400;

/// A trustee's secrets, as its own process would keep them.
struct Trustee {
    signing: CredentialSecret,
    encryption: EncryptionSecret,
    dealer: Dealer,
    shares: Vec<SecretShare>,
}

/// The honest board as the services wrote it, and what a dishonest operator holds.
struct Run {
    _dir: tempfile::TempDir,
    yaml: String,
    origin: String,
    board_seed: [u8; 32],
    entries: Vec<Vec<u8>>,
    trustees: Vec<Trustee>,
    fingerprint: [u8; 32],
}

impl Run {
    /// Index of the first entry of `kind` (after `from`).
    fn find(&self, kind: EntryKind, from: usize) -> usize {
        (from..self.entries.len())
            .find(|&i| Entry::decode(&self.entries[i]).unwrap().kind() == kind)
            .unwrap()
    }

    /// Re-sequences `entries`, signs them with the board key and verifies the export.
    fn verify(&self, entries: &[Vec<u8>]) -> Report {
        let signer = NoteSigner::from_seed(&self.origin, &self.board_seed).unwrap();
        let mut log = Log::open(MemoryStore::new(), &self.origin).unwrap();
        log.integrate(entries).unwrap();
        log.sign_checkpoint(&signer).unwrap();
        let dir = tempfile::tempdir().unwrap();
        export(log.into_store(), &self.yaml, dir.path()).unwrap();
        let options = Options {
            board_key: Some(signer.verifier()),
            ..Options::default()
        };
        verify(&DirSource::new(dir.path()), &options, &mut |_| {}).unwrap()
    }

    fn sign(&self, index: u32, what: &str, payload: &[u8]) -> Vec<u8> {
        let message = urna_tally::signed_message(&self.fingerprint, index, what, payload);
        self.trustees[index as usize - 1]
            .signing
            .sign(&message)
            .to_bytes()
            .to_vec()
    }
}

/// Replaces entry `index`'s body, keeping its kind.
fn rewrite(entries: &mut [Vec<u8>], index: usize, f: impl FnOnce(&mut Vec<u8>)) {
    let entry = Entry::decode(&entries[index]).unwrap();
    let mut body = entry.body().to_vec();
    f(&mut body);
    entries[index] = Entry::new(entry.kind(), *entry.election(), body)
        .unwrap()
        .encode();
}

/// The entries of an export directory.
fn read_entries(dir: &Path, size: u64) -> Vec<Vec<u8>> {
    let mut entries = Vec::new();
    for bundle in 0..size.div_ceil(256) {
        let width = (size - bundle * 256).min(256);
        let name = if width < 256 {
            format!("tile/entries/{bundle:03}.p/{width}")
        } else {
            format!("tile/entries/{bundle:03}")
        };
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let mut rest = bytes.as_slice();
        while let Some((len, tail)) = rest.split_first_chunk::<2>() {
            let (entry, tail) = tail.split_at(usize::from(u16::from_be_bytes(*len)));
            entries.push(entry.to_vec());
            rest = tail;
        }
    }
    entries
}

fn assert_caught(report: &Report, check: Check, entry: usize) {
    assert!(
        report.failed_at(check, entry as u64),
        "{check} at {entry} not reported:\n{report}"
    );
}

/// Runs the election through the services and exports its board.
async fn run() -> Run {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("store")).await.unwrap();
    let boards = Boards::new(store.clone(), "urna.test", SequencerConfig::default());
    let elections = Elections::new(store.clone(), "urna.test");
    let tally = Tally::new(store.clone(), elections, boards.clone());
    let config = AdminConfig {
        code_params: CodeParams::new(64, 1, 1).unwrap(),
        ..AdminConfig::default()
    };
    let admin = Admin::with_clock(
        store.clone(),
        boards.clone(),
        config,
        Arc::new(|| CLOSED_AT),
    );
    let (_, yaml) = manifest(ELECTION, Revoting::LastCounts, "Club election", true).unwrap();
    let created = admin.create(&yaml).await.unwrap();
    let fingerprint = created.fingerprint;
    let params = DkgParameters::new(fingerprint, 2, 3).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(9);

    // The ceremony: dealer 3 seals a bad share to trustee 1, who complains; dealer 3
    // reveals the right one.
    let mut trustees: Vec<Trustee> = (1..=3)
        .map(|index| Trustee {
            signing: CredentialSecret::generate(&mut rng),
            encryption: EncryptionSecret::generate(&mut rng),
            dealer: Dealer::new(&params, index, &mut rng).unwrap(),
            shares: Vec::new(),
        })
        .collect();
    let sign = |t: &Trustee, index: u32, what: &str, payload: &[u8]| {
        let message = urna_tally::signed_message(&fingerprint, index, what, payload);
        t.signing.sign(&message).to_bytes().to_vec()
    };
    for (index, t) in (1u32..).zip(&trustees) {
        let keys = TrusteeKeys {
            index,
            name: format!("trustee {index}"),
            signing_key: t.signing.public_key().to_bytes(),
            encryption_key: t.encryption.public_key(),
        };
        tally.register_trustee(ELECTION, keys).await.unwrap();
    }
    let recipients: Vec<[u8; 32]> = trustees.iter().map(|t| t.encryption.public_key()).collect();
    for (index, t) in (1u32..).zip(&trustees) {
        let shares: Vec<(u32, Vec<u8>)> = (1u32..)
            .zip(&recipients)
            .map(|(j, key)| {
                let mut share = t.dealer.share_for(j).unwrap();
                if index == 3 && j == 1 {
                    let mut bytes = *share.to_bytes();
                    bytes[8..].copy_from_slice(&[1; 32]);
                    bytes[39] = 0;
                    share = SecretShare::from_bytes(&bytes).unwrap();
                }
                (j, seal_share(&mut rng, key, &fingerprint, &share).unwrap())
            })
            .collect();
        let dealing = t.dealer.dealing().to_bytes();
        let signature = sign(t, index, "dealing", &dealing_payload(&dealing, &shares));
        tally
            .submit_dealing(ELECTION, index, dealing, shares, signature)
            .await
            .unwrap();
    }
    let mut complaints = Vec::new();
    for (index, t) in (1u32..).zip(trustees.iter_mut()) {
        let views = tally.dealings(ELECTION, index).await.unwrap();
        let mut ceremony = Ceremony::new(params);
        for v in &views {
            let dealing = urna_crypto::Dealing::from_bytes(&v.dealing).unwrap();
            ceremony.add_dealing(dealing).unwrap();
            let sealed = v.sealed.as_ref().unwrap();
            let share = open_share(&t.encryption, &fingerprint, v.dealer, index, sealed);
            t.shares.push(share.unwrap());
        }
        ceremony.close_dealings().unwrap();
        complaints.extend(ceremony.complaints_for(index, &t.shares));
    }
    assert_eq!(complaints, vec![Complaint::new(1, 3)]);
    let complaint = complaints[0].to_bytes().to_vec();
    let signature = sign(&trustees[0], 1, "complaint", &complaint);
    tally
        .submit_complaint(ELECTION, 1, complaint, signature)
        .await
        .unwrap();
    tally.close_round(ELECTION).await.unwrap();
    let revealed = trustees[2]
        .dealer
        .reveal(&complaints[0])
        .unwrap()
        .to_bytes();
    let signature = sign(&trustees[2], 3, "reveal", &revealed);
    tally
        .submit_reveal(ELECTION, 3, revealed, signature)
        .await
        .unwrap();
    let key = tally.ceremony_state(ELECTION).await.unwrap().key.unwrap();

    // Three voters on the roll, each issued a credential; voter 0 re-casts.
    admin
        .import_roll(
            ELECTION,
            b"voter_id,ballot_style\nv0,members\nv1,members\nv2,members\n",
        )
        .await
        .unwrap();
    admin.open(ELECTION, true).await.unwrap();
    admin.open(ELECTION, false).await.unwrap();
    let secrets = store.secrets(ELECTION).await.unwrap().unwrap();
    let auth = BlindSigningKey::from_der(secrets.auth_key_der()).unwrap();
    let parsed = Manifest::from_yaml(&yaml).unwrap();
    let joint = EncryptionKey::new(key.public_key());
    let votes: [&[[u64; 2]]; 3] = [&[[1, 0], [0, 1]], &[[1, 0]], &[[0, 1]]];
    for (voter, casts) in votes.iter().enumerate() {
        let secret = CredentialSecret::generate(&mut rng);
        let message = credential_message(&fingerprint, "members", &secret.public_key()).unwrap();
        let public = auth.verifying_key().unwrap();
        let (blinded, state) = public.blind(&message, &mut rng).unwrap();
        let blind = auth.blind_sign(&blinded, &mut rng).unwrap();
        store
            .record_issuance(ELECTION, &format!("v{voter}"), blinded.as_bytes(), b"sig")
            .await
            .unwrap();
        let (signature, randomizer) = public.finalize(&blind, &state, &message).unwrap();
        let credential = Credential {
            key: secret.public_key(),
            signature,
            randomizer,
        };
        for selection in *casts {
            let (ballot, _) = EncryptedBallot::encrypt(
                &joint,
                &fingerprint,
                &layout(&parsed, "members").unwrap(),
                credential.clone(),
                &secret,
                &[selection.to_vec()],
                &mut rng,
            )
            .unwrap();
            let new = NewBallot {
                nullifier: ballot.nullifier(),
                tracking_code: ballot.tracking_code(),
                ballot: ballot.to_bytes(),
            };
            store.cast(ELECTION, new).await.unwrap();
        }
    }
    boards.get(ELECTION).await.unwrap().flush().await.unwrap();
    admin.close(ELECTION).await.unwrap();

    // The tally: trustees 1 and 3 answer, trustee 2 never does.
    let task = tally.aggregate(ELECTION).await.unwrap();
    let ciphertexts: Vec<Ciphertext> = task.batches[0]
        .ciphertexts
        .iter()
        .map(|c| Ciphertext::decode(&mut Decoder::new(c)).unwrap())
        .collect();
    let context = tally_context(&fingerprint, "chair");
    let dealings: Vec<_> = tally
        .dealings(ELECTION, 0)
        .await
        .unwrap()
        .iter()
        .map(|v| urna_crypto::Dealing::from_bytes(&v.dealing).unwrap())
        .collect();
    let state = tally.ceremony_state(ELECTION).await.unwrap();
    let complaints: Vec<Complaint> = state
        .complaints
        .iter()
        .map(|c| Complaint::from_bytes(c).unwrap())
        .collect();
    let reveals: Vec<_> = state
        .reveals
        .iter()
        .map(|r| urna_crypto::RevealedShare::from_bytes(r).unwrap())
        .collect();
    let replayed = Ceremony::replay(params, &dealings, &complaints, &reveals).unwrap();
    for index in [1u32, 3] {
        let t = &trustees[index as usize - 1];
        let share = replayed.key_share(index, &t.shares).unwrap();
        let partial = PartialDecryption::create(&share, &ciphertexts, &context, &mut rng)
            .unwrap()
            .to_bytes();
        let payload = [&0u32.to_be_bytes()[..], &partial].concat();
        let signature = sign(t, index, "partial-decryption", &payload);
        tally
            .submit_partial(ELECTION, index, 0, partial, signature)
            .await
            .unwrap();
    }
    assert!(tally.results(ELECTION).await.unwrap().is_some());
    boards.shutdown().await;

    let board = store.open_board(ELECTION, Phase::Open).await.unwrap();
    let out = dir.path().join("export");
    let record = store.election(ELECTION).await.unwrap().unwrap();
    let (source, out_dir) = (record.source.clone(), out.clone());
    let exported = tokio::task::spawn_blocking(move || export(board, &source, &out_dir))
        .await
        .unwrap()
        .unwrap();
    let note = std::fs::read_to_string(out.join("checkpoint")).unwrap();
    let origin = note.lines().next().unwrap().to_owned();
    Run {
        entries: read_entries(&out, exported.size),
        yaml: record.source,
        origin,
        board_seed: *secrets.board_seed(),
        trustees,
        fingerprint,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_the_services_tallied_verifies_and_each_tampering_is_named() {
    let run = run().await;
    let report = run.verify(&run.entries);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.counted(), 3);
    assert_eq!(report.credentials_issued(), Some(3));
    assert_eq!(report.ceremony().unwrap().qualified, vec![1, 2, 3]);
    let chair = &report.results()[0];
    assert_eq!(chair.totals, vec![("ada".into(), 1), ("grace".into(), 2)]);
    assert_eq!(chair.winners, vec!["grace".to_owned()]);

    let dealing = run.find(EntryKind::KeyCeremony, 2) + 3;
    let closed = run.find(EntryKind::PollsClosed, 0);
    let tally = run.find(EntryKind::TallyRecord, 0);
    let share = run.find(EntryKind::DecryptionShare, 0);
    let result = run.find(EntryKind::Result, 0);
    let key = run.find(EntryKind::Ballot, 0) - 1;

    // A dealing byte, and a dealing signed by another trustee.
    let mut entries = run.entries.clone();
    rewrite(&mut entries, dealing, |body| {
        let record = CeremonyRecord::decode(body).unwrap();
        let mut payload = record.payload.to_vec();
        payload[4 + 8 + 40] ^= 1;
        *body = CeremonyRecord {
            payload: &payload,
            ..record
        }
        .encode();
    });
    let report = run.verify(&entries);
    assert_caught(&report, Check::TrusteeSignature, dealing);
    assert_caught(&report, Check::KeyCeremony, key);

    // The threshold key entry.
    let mut entries = run.entries.clone();
    rewrite(&mut entries, key, |body| {
        let record = CeremonyRecord::decode(body).unwrap();
        let mut payload = record.payload.to_vec();
        let (x1, x2) = payload[72..136].split_at_mut(32);
        x1.swap_with_slice(x2);
        *body = CeremonyRecord {
            payload: &payload,
            ..record
        }
        .encode();
    });
    assert_caught(&run.verify(&entries), Check::KeyCeremony, key);

    // A tally-record ciphertext, and its ballot count.
    let mut entries = run.entries.clone();
    rewrite(&mut entries, tally, |body| {
        let mut record = TallyRecord::decode(body).unwrap();
        record.contests[0].sums.swap(0, 1);
        *body = record.encode();
    });
    assert_caught(&run.verify(&entries), Check::TallyRecord, tally);
    let mut entries = run.entries.clone();
    rewrite(&mut entries, tally, |body| {
        let mut record = TallyRecord::decode(body).unwrap();
        record.contests[0].ballots += 1;
        *body = record.encode();
    });
    assert_caught(&run.verify(&entries), Check::TallyRecord, tally);

    // A share's proof (re-signed by its trustee), and a share's signature.
    let mut entries = run.entries.clone();
    rewrite(&mut entries, share, |body| {
        let decoded = DecryptionShare::decode(body).unwrap();
        let mut partial = decoded.partial.to_vec();
        partial[8 + 32] ^= 1;
        let payload = [&decoded.batch.to_be_bytes()[..], &partial].concat();
        let signature = run.sign(decoded.trustee, "partial-decryption", &payload);
        *body = DecryptionShare {
            partial: &partial,
            signature: &signature,
            ..decoded
        }
        .encode();
    });
    let report = run.verify(&entries);
    assert_caught(&report, Check::DecryptionShare, share);
    assert_caught(&report, Check::Result, result);
    let mut entries = run.entries.clone();
    rewrite(&mut entries, share, |body| {
        let at = body.len() - 1;
        body[at] ^= 1;
    });
    assert_caught(&run.verify(&entries), Check::TrusteeSignature, share);

    // A dropped share leaves fewer than k.
    let mut entries = run.entries.clone();
    entries.remove(share);
    assert_caught(&run.verify(&entries), Check::Result, result - 1);

    // A result count and a result winner.
    for (from, to) in [
        (&b"grace"[..], &b"ada\0\0"[..]),
        (&[0, 0, 0, 2][..], &[0, 0, 0, 3][..]),
    ] {
        let mut entries = run.entries.clone();
        rewrite(&mut entries, result, |body| {
            let at = body.windows(from.len()).rposition(|w| w == from).unwrap();
            body[at..at + from.len()].copy_from_slice(to);
        });
        assert_caught(&run.verify(&entries), Check::Result, result);
    }

    // A duplicated ballot, a ballot after polls closed, reordered entries.
    let first_ballot = run.find(EntryKind::Ballot, 0);
    let mut entries = run.entries.clone();
    entries.insert(first_ballot + 1, entries[first_ballot].clone());
    assert_caught(
        &run.verify(&entries),
        Check::DuplicateBallot,
        first_ballot + 1,
    );
    let mut entries = run.entries.clone();
    entries.swap(closed - 1, closed);
    let report = run.verify(&entries);
    assert_caught(&report, Check::AfterClose, closed);
    assert_caught(&report, Check::TallyRecord, tally);

    // The credentials issued lowered below the ballots counted.
    let mut entries = run.entries.clone();
    rewrite(&mut entries, closed, |body| {
        let mut decoded = PollsClosed::decode(body).unwrap();
        assert_eq!(decoded.credentials_issued, 3);
        decoded.credentials_issued = 2;
        *body = decoded.encode();
    });
    let report = run.verify(&entries);
    assert_caught(&report, Check::CredentialsIssued, closed);
    assert_eq!(report.failures().len(), 1, "{report}");
}
