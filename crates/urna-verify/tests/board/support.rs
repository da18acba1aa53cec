//! An election built with the library APIs alone, as the services would write its
//! board: genesis, a 2-of-3 key ceremony in which dealer 3 cheats on trustee 1 (a
//! complaint and an honest reveal follow), a spoiled ballot, one ballot per voter,
//! polls closed, and the tally (record, shares of trustees 1 and 3, result).
//!
//! Tampered boards are re-sequenced and re-signed with the board key (as a dishonest
//! operator could), so the semantic checks, not only the Merkle root, must catch them.

use urna_board::{Entry, EntryKind, Log, MemoryStore, NoteSigner};
use urna_crypto::credential::credential_message;
use urna_crypto::dkg::{Ceremony, Complaint, Dealer, DkgParameters, KeyShare, SecretShare};
use urna_crypto::encoding::Encoder;
use urna_crypto::threshold::PartialDecryption;
use urna_crypto::{
    BlindSigningKey, Ciphertext, Context, Credential, CredentialSecret, EncryptedBallot,
    EncryptionKey,
};
use urna_election::{ElectionKeys, Manifest, tabulate_totals};
use urna_verify::{
    CeremonyRecord, CeremonyTag, Check, ContestResult, ContestTally, DecryptionShare, DirSource,
    Options, PollsClosed, Report, TallyRecord, export, result_body, signed_message, verify,
};

pub const ORIGIN: &str = "urna.test/club";
pub const BOARD_SEED: [u8; 32] = [7; 32];
pub const VOTERS: usize = 5;
/// Voter `v` votes for option `VOTES[v]` of the chair contest (a: 3, b: 1, c: 1).
pub const VOTES: [u64; VOTERS] = [0, 1, 0, 2, 0];
/// The ceremony's entries from 2: three trustees, three dealings, a complaint, a
/// reveal and the threshold key.
pub const FIRST_DEALING: usize = 5;
pub const COMPLAINT: usize = 8;
pub const REVEAL: usize = 9;
pub const THRESHOLD_KEY: usize = 10;
/// Entry 11 is voter 0's spoiled ballot; voter `v` casts entry `FIRST_BALLOT + v`.
pub const SPOILED: usize = 11;
pub const FIRST_BALLOT: usize = 12;
pub const CLOSED: usize = FIRST_BALLOT + VOTERS;
/// After polls closed: the tally record, trustee 1's and trustee 3's shares, the
/// result.
pub const TALLY: usize = CLOSED + 1;
pub const FIRST_SHARE: usize = TALLY + 1;
pub const RESULT: usize = TALLY + 3;
/// Credentials auth issued (one voter never cast).
pub const ISSUED: u64 = VOTERS as u64 + 1;

pub fn yaml(revoting: &str) -> String {
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

/// A trustee's secrets.
pub struct Trustee {
    pub signing: CredentialSecret,
    pub share: KeyShare,
}

/// An election with its secrets and an honest board.
pub struct Election {
    pub yaml: String,
    pub manifest: Manifest,
    pub auth: BlindSigningKey,
    pub joint: EncryptionKey,
    pub ceremony: Ceremony,
    pub trustees: Vec<Trustee>,
    pub voters: Vec<CredentialSecret>,
    pub credentials: Vec<Credential>,
    /// The board up to and including polls closed.
    pub entries: Vec<Vec<u8>>,
    /// The whole board: `entries`, then the tally.
    pub tallied: Vec<Vec<u8>>,
}

impl Election {
    pub fn new(revoting: &str) -> Self {
        Self::from_yaml(yaml(revoting))
    }

    /// The election of `yaml` with the fixture's 2-of-3 ceremony, whatever the
    /// manifest's trustees say.
    pub fn from_yaml(yaml: String) -> Self {
        let votes: Vec<Vec<u64>> = VOTES.iter().map(|&choice| one_hot(choice)).collect();
        let mut election = Self::closed(yaml, &votes);
        election.tallied = election.tally(&election.entries, &[1, 3]);
        election
    }

    /// The board of `yaml` up to polls closed, `tallied` left empty: the fixture's
    /// 2-of-3 ceremony (whatever the manifest's trustees say), voter 0's spoiled
    /// ballot for option 1, voter `v`'s ballot with the values `votes[v]` for the first
    /// contest, and one credential issued more than ballots cast.
    pub fn closed(yaml: String, votes: &[Vec<u64>]) -> Self {
        let mut rng = rand::rng();
        let manifest = Manifest::from_yaml(&yaml).unwrap();
        let params = DkgParameters::new(manifest.fingerprint(), 2, 3).unwrap();
        let auth = BlindSigningKey::generate(2048, &mut rng).unwrap();
        let (ceremony, records, trustees) = ceremony(&params);
        let key = ceremony.key().unwrap().clone();
        let joint = EncryptionKey::new(key.public_key());
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
            ceremony,
            trustees,
            voters: Vec::new(),
            credentials: Vec::new(),
            entries: Vec::new(),
            tallied: Vec::new(),
            manifest,
        };
        election.entries = vec![
            election.entry(
                EntryKind::ElectionManifest,
                election.manifest.canonical_bytes(),
            ),
            election.entry(EntryKind::KeyCeremony, keys.encode()),
        ];
        for body in records {
            let entry = election.entry(EntryKind::KeyCeremony, body);
            election.entries.push(entry);
        }
        for _ in votes {
            election.add_voter();
        }
        let spoiled = election.spoiled_body(0, 1);
        election
            .entries
            .push(election.entry(EntryKind::SpoiledBallot, spoiled));
        for (voter, values) in votes.iter().enumerate() {
            let ballot = election.encrypt_values(voter, values).0.to_bytes();
            election
                .entries
                .push(election.entry(EntryKind::Ballot, ballot));
        }
        let cast = votes.len() as u64;
        let closed = election.polls_closed_with(cast, cast + 1);
        election.entries.push(closed);
        election
    }

    pub fn add_voter(&mut self) -> usize {
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

    pub fn encrypt(&self, voter: usize, choice: u64) -> (EncryptedBallot, Vec<u8>) {
        self.encrypt_values(voter, &one_hot(choice))
    }

    /// Voter `voter`'s ballot with `values` for the first contest's options (a
    /// ranked contest's are rank positions), and its openings.
    pub fn encrypt_values(&self, voter: usize, values: &[u64]) -> (EncryptedBallot, Vec<u8>) {
        let layout = urna_election::layout(&self.manifest, "default").unwrap();
        let (ballot, opening) = EncryptedBallot::encrypt(
            &self.joint,
            &self.manifest.fingerprint(),
            &layout,
            self.credentials[voter].clone(),
            &self.voters[voter],
            &[values.to_vec()],
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
    pub fn ballot(&self, voter: usize, choice: u64) -> Vec<u8> {
        self.encrypt(voter, choice).0.to_bytes()
    }

    /// A spoiled ballot's body: `lp(ballot) ‖ lp(openings)`.
    pub fn spoiled_body(&self, voter: usize, choice: u64) -> Vec<u8> {
        let (ballot, openings) = self.encrypt(voter, choice);
        let mut body = Encoder::new();
        body.bytes(&ballot.to_bytes()).bytes(&openings);
        body.finish()
    }

    pub fn polls_closed(&self, ballots: u64) -> Vec<u8> {
        self.polls_closed_with(ballots, ISSUED)
    }

    pub fn polls_closed_with(&self, ballots: u64, credentials_issued: u64) -> Vec<u8> {
        let body = PollsClosed {
            election_id: "club".into(),
            closed_at: 1_772_960_400,
            ballots,
            credentials_issued,
        };
        self.entry(EntryKind::PollsClosed, body.encode())
    }

    pub fn entry(&self, kind: EntryKind, body: Vec<u8>) -> Vec<u8> {
        Entry::new(kind, self.manifest.fingerprint(), body)
            .unwrap()
            .encode()
    }

    /// Trustee `index`'s signature over `payload` signed as `what`.
    pub fn sign(&self, index: u32, what: &str, payload: &[u8]) -> Vec<u8> {
        let message = signed_message(&self.manifest.fingerprint(), index, what, payload);
        self.trustees[index as usize - 1]
            .signing
            .sign(&message)
            .to_bytes()
            .to_vec()
    }

    /// `board` followed by the tally as services/tally writes it: the record of the
    /// latest ballot per nullifier before polls closed, `answering` trustees' shares,
    /// and the result.
    pub fn tally(&self, board: &[Vec<u8>], answering: &[u32]) -> Vec<Vec<u8>> {
        let layout = urna_election::layout(&self.manifest, "default").unwrap();
        let mut closed = None;
        let mut latest = std::collections::HashMap::new();
        for (index, bytes) in (0u64..).zip(board) {
            let entry = Entry::decode(bytes).unwrap();
            match entry.kind() {
                EntryKind::Ballot if closed.is_none() => {
                    let ballot = EncryptedBallot::from_bytes(entry.body(), &layout).unwrap();
                    latest.insert(*ballot.nullifier().as_bytes(), ballot);
                }
                EntryKind::PollsClosed => {
                    closed.get_or_insert(index);
                }
                _ => {}
            }
        }
        let closed = closed.unwrap();
        let counted: Vec<&EncryptedBallot> = latest.values().collect();
        let sums: Vec<Ciphertext> = (0..3)
            .map(|o| Ciphertext::sum(counted.iter().map(|b| &b.contests()[0].1.ciphertexts()[o])))
            .collect();
        let record = TallyRecord {
            polls_closed: closed,
            contests: vec![ContestTally {
                contest: "chair".into(),
                ballots: counted.len() as u64,
                sums: sums.clone(),
                rows: None,
            }],
        };
        let mut out = board.to_vec();
        let source = out.len() as u64;
        out.push(self.entry(EntryKind::TallyRecord, record.encode()));
        let context = Context::new("tally")
            .with(&self.manifest.fingerprint())
            .with(b"chair");
        let key = self.ceremony.key().unwrap();
        let mut verified = Vec::new();
        for &trustee in answering {
            let share = &self.trustees[trustee as usize - 1].share;
            let partial =
                PartialDecryption::create(share, &sums, &context, &mut rand::rng()).unwrap();
            verified.push(partial.verify(key, &sums, &context).unwrap());
            let partial = partial.to_bytes();
            let payload = [&0u32.to_be_bytes()[..], &partial].concat();
            let signature = self.sign(trustee, "partial-decryption", &payload);
            let body = DecryptionShare {
                source,
                batch: 0,
                trustee,
                partial: &partial,
                signature: &signature,
            };
            out.push(self.entry(EntryKind::DecryptionShare, body.encode()));
        }
        let points = urna_crypto::threshold::combine(key, &sums, &context, &verified).unwrap();
        let table = urna_crypto::DlogTable::with_size(16, 256);
        let totals: Vec<u64> = points
            .iter()
            .map(|p| table.recover(p.point()).unwrap())
            .collect();
        let contest = &self.manifest.contests()[0];
        let winners = tabulate_totals(contest, &totals, counted.len() as u64)
            .unwrap()
            .winners;
        let options = contest.options();
        let result = ContestResult {
            contest: "chair".into(),
            ballots: counted.len() as u64,
            totals: options
                .iter()
                .zip(&totals)
                .map(|(o, t)| (o.id().to_owned(), *t))
                .collect(),
            winners: winners
                .iter()
                .map(|w| options[w.index()].id().to_owned())
                .collect(),
            cvr_digest: None,
        };
        out.push(self.entry(EntryKind::Result, result_body(&[result])));
        out
    }

    /// Replaces entry `index`'s body (same kind), re-signing a ballot with the
    /// voter's credential key so that only the tampered part is wrong.
    pub fn rewrite(
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

    pub fn verify(&self, entries: &[Vec<u8>]) -> Report {
        self.verify_with(entries, &Options::default(), |_| {})
    }

    /// Sequences `entries` into a new log signed by the board key (a checkpoint every
    /// three entries), exports it, lets `tamper` edit the export, and verifies it.
    pub fn verify_with(
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

/// A 2-of-3 ceremony in which dealer 3 seals a bad share to trustee 1, who complains;
/// dealer 3 reveals the right share. Returns the finished ceremony, its board
/// bodies in order, and the trustees' secrets.
fn ceremony(params: &DkgParameters) -> (Ceremony, Vec<Vec<u8>>, Vec<Trustee>) {
    let mut rng = rand::rng();
    let dealers: Vec<Dealer> = (1..=3)
        .map(|i| Dealer::new(params, i, &mut rng).unwrap())
        .collect();
    let signing: Vec<CredentialSecret> = (0..3)
        .map(|_| CredentialSecret::generate(&mut rng))
        .collect();
    let sign = |index: u32, what: &str, payload: &[u8]| {
        let message = signed_message(params.election(), index, what, payload);
        signing[index as usize - 1]
            .sign(&message)
            .to_bytes()
            .to_vec()
    };
    let record = |tag, trustee, payload: &[u8], signature: &[u8]| {
        CeremonyRecord {
            tag,
            trustee,
            payload,
            signature,
        }
        .encode()
    };
    let mut bodies = Vec::new();
    for (index, key) in (1u32..).zip(&signing) {
        let mut payload = Encoder::new();
        payload
            .str(&format!("trustee {index}"))
            .bytes(&key.public_key().to_bytes())
            .bytes(&[index as u8; 32]);
        bodies.push(record(CeremonyTag::Trustee, index, payload.as_slice(), &[]));
    }
    for dealer in &dealers {
        let mut payload = Encoder::new();
        payload.bytes(&dealer.dealing().to_bytes());
        for j in 1u32..=3 {
            payload.bytes(&j.to_be_bytes()).bytes(&[j as u8; 88]);
        }
        let signature = sign(dealer.index(), "dealing", payload.as_slice());
        bodies.push(record(
            CeremonyTag::Dealing,
            dealer.index(),
            payload.as_slice(),
            &signature,
        ));
    }
    let complaint = Complaint::new(1, 3);
    let revealed = dealers[2].reveal(&complaint).unwrap().to_bytes();
    let signature = sign(1, "complaint", &complaint.to_bytes());
    bodies.push(record(
        CeremonyTag::Complaint,
        1,
        &complaint.to_bytes(),
        &signature,
    ));
    let signature = sign(3, "reveal", &revealed);
    bodies.push(record(CeremonyTag::Reveal, 3, &revealed, &signature));
    let dealings: Vec<_> = dealers.iter().map(|d| d.dealing().clone()).collect();
    let reveals = [urna_crypto::RevealedShare::from_bytes(&revealed).unwrap()];
    let ceremony = Ceremony::replay(*params, &dealings, &[complaint], &reveals).unwrap();
    let key = ceremony.key().unwrap().to_bytes();
    bodies.push(record(CeremonyTag::ThresholdKey, 0, &key, &[]));
    let trustees = (1u32..)
        .zip(signing)
        .map(|(j, signing)| {
            let shares: Vec<SecretShare> =
                dealers.iter().map(|d| d.share_for(j).unwrap()).collect();
            Trustee {
                signing,
                share: ceremony.key_share(j, &shares).unwrap(),
            }
        })
        .collect();
    (ceremony, bodies, trustees)
}

/// The values of a vote for option `choice` of three.
fn one_hot(choice: u64) -> Vec<u64> {
    let mut values = vec![0; 3];
    values[choice as usize] = 1;
    values
}

/// Signs a ballot's bytes again with its credential key (docs/protocol.md §1.9).
pub fn resign(ballot: &mut [u8], secret: &CredentialSecret) {
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
pub fn first_ciphertext(ballot: &[u8]) -> usize {
    let style = 4 + u32::from_be_bytes(ballot[33..37].try_into().unwrap()) as usize;
    let rsa_at = 33 + style + 32;
    let rsa = 4 + u32::from_be_bytes(ballot[rsa_at..rsa_at + 4].try_into().unwrap()) as usize;
    let id_at = rsa_at + rsa + 32 + 4;
    let id = 4 + u32::from_be_bytes(ballot[id_at..id_at + 4].try_into().unwrap()) as usize;
    id_at + id + 4
}

/// `check` failed and one failure names `entry`.
pub fn assert_caught(report: &Report, check: Check, entry: usize) {
    assert!(!report.is_ok());
    assert!(
        report.failed_at(check, entry as u64),
        "{check} at {entry} not reported:\n{report}"
    );
}

/// The once-only election every test that does not add voters shares.
pub fn once() -> &'static Election {
    static ELECTION: std::sync::OnceLock<Election> = std::sync::OnceLock::new();
    ELECTION.get_or_init(|| Election::new("once"))
}
