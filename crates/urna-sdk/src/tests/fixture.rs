//! An election with real keys, the club manifest, and an in-memory board whose first
//! entries are the manifest and the key record.

use ed25519_dalek::{Signer, SigningKey};
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use urna_board::{Entry, EntryKind, Log, MemoryStore, NoteSigner};
use urna_crypto::credential::credential_message;
use urna_crypto::{BlindSigningKey, Credential, CredentialSecret, SecretKey};
use urna_election::{ElectionKeys, Manifest, StyleDocument};
use urna_proto::v1 as proto;

use crate::{Election, ProvenEntry, Style, TrustRoot, VoterCredential};

pub const ORIGIN: &str = "urna.local/club-agm-2026";
pub const STYLE: &str = "members";

pub struct Fixture {
    pub manifest: Manifest,
    pub keys: ElectionKeys,
    pub style_key: SigningKey,
    pub auth: BlindSigningKey,
    pub signer: NoteSigner,
    pub log: Log<MemoryStore>,
    pub rng: ChaCha20Rng,
}

impl Fixture {
    pub fn new() -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let manifest =
            Manifest::from_yaml(include_str!("../../../../examples/club-election.yaml")).unwrap();
        let joint = SecretKey::random(&mut rng).public_key();
        let auth = BlindSigningKey::generate(2048, &mut rng).unwrap();
        let style_key = SigningKey::from_bytes(&[3; 32]);
        let signer = NoteSigner::from_seed(ORIGIN, &[4; 32]).unwrap();
        let keys = ElectionKeys {
            joint_key: joint.element().to_bytes(),
            auth_key: auth.verifying_key().unwrap().to_der().unwrap(),
            style_key: style_key.verifying_key().to_bytes(),
            board_key: signer.verifier().to_string(),
        };
        let mut log = Log::open(MemoryStore::new(), ORIGIN).unwrap();
        let fingerprint = manifest.fingerprint();
        let genesis = [
            Entry::new(
                EntryKind::ElectionManifest,
                fingerprint,
                manifest.canonical_bytes(),
            ),
            Entry::new(EntryKind::KeyCeremony, fingerprint, keys.encode()),
        ];
        let genesis: Vec<Vec<u8>> = genesis.into_iter().map(|e| e.unwrap().encode()).collect();
        log.integrate(&genesis).unwrap();
        Self {
            manifest,
            keys,
            style_key,
            auth,
            signer,
            log,
            rng,
        }
    }

    /// Appends entries and signs a checkpoint; returns its note.
    pub fn append(&mut self, entries: &[Vec<u8>]) -> String {
        self.log.integrate(entries).unwrap();
        self.log
            .sign_checkpoint(&self.signer)
            .unwrap()
            .note()
            .to_owned()
    }

    pub fn note(&mut self) -> String {
        self.append(&[])
    }

    /// Entry `index` with its proof in the current tree.
    pub fn proven(&self, index: u64) -> ProvenEntry {
        ProvenEntry {
            index,
            entry: self.log.entries(index, index + 1).unwrap().remove(0),
            proof: self.log.inclusion_proof(index, self.log.size()).unwrap(),
        }
    }

    pub fn election(&mut self) -> Election {
        let note = self.note();
        Election::verify(
            self.manifest.id(),
            &TrustRoot::FirstUse,
            &note,
            &self.proven(0),
            &self.proven(1),
        )
        .unwrap()
    }

    /// What issuance sends for `document`, signed with `key`.
    pub fn style_response(
        &self,
        document: &StyleDocument,
        key: &SigningKey,
    ) -> proto::GetBallotStyleResponse {
        let canonical = document.encode();
        let mut response = proto::GetBallotStyleResponse {
            election_id: String::new(),
            election_fingerprint: Vec::new(),
            style_id: String::new(),
            title: String::new(),
            contests: Vec::new(),
            election_public_key: Vec::new(),
            signature: key.sign(&canonical).to_bytes().to_vec(),
            canonical_style: canonical,
            signing_key: key.verifying_key().to_bytes().to_vec(),
        };
        response = crate::style::view(document, &response);
        response
    }

    pub fn document(&self) -> StyleDocument {
        StyleDocument::from_manifest(&self.manifest, STYLE, self.keys.joint_key).unwrap()
    }

    pub fn style(&mut self) -> Style {
        let election = self.election();
        let response = self.style_response(&self.document(), &self.style_key);
        Style::verify(&response, &election, STYLE).unwrap()
    }

    /// A credential blind-signed by the fixture's auth key.
    pub fn credential(&mut self) -> VoterCredential {
        let verifying = self.auth.verifying_key().unwrap();
        let secret = CredentialSecret::generate(&mut self.rng);
        let fingerprint = self.manifest.fingerprint();
        let message = credential_message(&fingerprint, STYLE, &secret.public_key()).unwrap();
        let (blinded, state) = verifying.blind(&message, &mut self.rng).unwrap();
        let blind = self.auth.blind_sign(&blinded, &mut self.rng).unwrap();
        let (signature, randomizer) = verifying.finalize(&blind, &state, &message).unwrap();
        VoterCredential {
            election: fingerprint,
            style: STYLE.to_owned(),
            credential: Credential {
                key: secret.public_key(),
                signature,
                randomizer,
            },
            secret,
        }
    }
}
