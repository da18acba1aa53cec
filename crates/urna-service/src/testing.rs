//! Test fixtures (feature `testing`): an election in a temporary SQLite store (or a
//! store the test brings) with
//! real keys (RSA-2048 auth key, style and board seeds, a joint key from an in-process
//! 2-of-3 key ceremony), moved through its lifecycle on request, and valid ballots
//! made the way a voter's device makes them (credential, blind signature, encryption
//! with proofs).
//!
//! Fixtures panic on failure: they are for tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use rand::Rng;
use tempfile::TempDir;
use urna_crypto::credential::credential_message;
use urna_crypto::dkg::{self, Dealer, DkgParameters};
use urna_crypto::{
    BallotLayout, BallotOpening, BlindSigningKey, ContestShape, Credential, CredentialSecret,
    EncryptedBallot, EncryptionKey, RankingShape,
};
use urna_election::Manifest;
use urna_store::{
    CastOutcome, ElectionSecrets, ElectionState, JointKey, NewBallot, SqliteStore, Store,
};

/// The club election of `examples/`: every contest homomorphic, two ballot styles
/// (`members`, `juniors`), `last-counts`.
pub const CLUB_ELECTION: &str = include_str!("../../../examples/club-election.yaml");

/// The public name tests give boards (origins `urna.test/<election id>`).
pub const PUBLIC_NAME: &str = "urna.test";

/// An election in a store (by default a temporary SQLite store), with its secrets at
/// hand.
pub struct TestElection<S = SqliteStore> {
    dir: TempDir,
    store: S,
    manifest: Manifest,
    auth: BlindSigningKey,
    joint: EncryptionKey,
}

impl<S> std::fmt::Debug for TestElection<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestElection")
            .field("id", &self.manifest.id())
            .finish_non_exhaustive()
    }
}

/// A valid ballot and what only its voter knows.
#[derive(Debug)]
pub struct TestBallot {
    /// The canonical encoding, as cast.
    pub bytes: Vec<u8>,
    /// The decoded ballot.
    pub ballot: EncryptedBallot,
    /// Its opening (values and nonces), for a Benaloh challenge.
    pub opening: BallotOpening,
    /// The credential secret that signed it.
    pub secret: CredentialSecret,
    /// The tracking code.
    pub tracking_code: [u8; 32],
}

impl TestElection {
    /// The club election, in Draft with keys.
    pub async fn new() -> Self {
        Self::from_yaml(CLUB_ELECTION).await
    }

    /// The election of `yaml`, in Draft with keys, alone in a new store.
    pub async fn from_yaml(yaml: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        Self::create(dir, store, yaml).await
    }

    /// The store's data directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Opens the store again from its directory, as a restarted process would.
    pub async fn reopen(&self) -> SqliteStore {
        SqliteStore::open(self.dir.path()).await.unwrap()
    }
}

impl<S: Store> TestElection<S> {
    /// The club election, in Draft with keys, in `store` (e.g. a PostgreSQL test
    /// database).
    pub async fn in_store(store: S) -> Self {
        Self::create(tempfile::tempdir().unwrap(), store, CLUB_ELECTION).await
    }

    async fn create(dir: TempDir, store: S, yaml: &str) -> Self {
        let manifest = Manifest::from_yaml(yaml).unwrap();
        store.apply_manifest(&manifest, yaml).await.unwrap();
        let mut rng = rand::rng();
        let auth = BlindSigningKey::generate(2048, &mut rng).unwrap();
        let mut seeds = [[0u8; 32]; 2];
        for seed in &mut seeds {
            rng.fill_bytes(seed);
        }
        let secrets = ElectionSecrets::new(auth.to_der().unwrap().to_vec(), seeds[0], seeds[1]);
        store.init_secrets(manifest.id(), secrets).await.unwrap();
        let (key, ceremony) = key_ceremony(&manifest.fingerprint());
        store
            .set_joint_key(manifest.id(), JointKey { key, ceremony })
            .await
            .unwrap();
        let joint = EncryptionKey::new(urna_crypto::PublicKey::from_bytes(&key).unwrap());
        Self {
            dir,
            store,
            manifest,
            auth,
            joint,
        }
    }

    /// The store (a clone shares its connections).
    pub fn store(&self) -> S {
        self.store.clone()
    }

    /// The election's id.
    pub fn id(&self) -> &str {
        self.manifest.id()
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The manifest's fingerprint.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.manifest.fingerprint()
    }

    /// The auth tier's blind-signing key.
    pub fn auth_key(&self) -> &BlindSigningKey {
        &self.auth
    }

    /// The joint encryption key.
    pub fn joint_key(&self) -> &EncryptionKey {
        &self.joint
    }

    /// Moves the election along its lifecycle up to `state` (Draft → Test → Open →
    /// Closed), from wherever it is.
    pub async fn advance_to(&self, state: ElectionState) {
        let order = [
            ElectionState::Draft,
            ElectionState::Test,
            ElectionState::Open,
            ElectionState::Closed,
        ];
        let mut now = self.store.election(self.id()).await.unwrap().unwrap().state;
        while now != state {
            let next = order
                .iter()
                .skip_while(|s| **s != now)
                .nth(1)
                .copied()
                .unwrap_or_else(|| panic!("cannot move from {now} to {state}"));
            self.store.transition(self.id(), now, next).await.unwrap();
            now = next;
        }
    }

    /// The layout of a ballot style.
    pub fn layout(&self, style: &str) -> BallotLayout {
        urna_election::layout(&self.manifest, style).unwrap()
    }

    /// A credential for `style`, blind-signed by auth as the auth service would.
    pub fn credential(&self, style: &str) -> (Credential, CredentialSecret) {
        let mut rng = rand::rng();
        let secret = CredentialSecret::generate(&mut rng);
        let fingerprint = self.fingerprint();
        let message = credential_message(&fingerprint, style, &secret.public_key()).unwrap();
        let public = self.auth.verifying_key().unwrap();
        let (blinded, state) = public.blind(&message, &mut rng).unwrap();
        let blind = self.auth.blind_sign(&blinded, &mut rng).unwrap();
        let (signature, randomizer) = public.finalize(&blind, &state, &message).unwrap();
        let credential = Credential {
            key: secret.public_key(),
            signature,
            randomizer,
        };
        (credential, secret)
    }

    /// Records a ballot in the store as casting does after its checks (nothing is
    /// verified here); the poster then puts it on the board.
    pub async fn record(&self, ballot: &TestBallot) -> CastOutcome {
        self.store
            .cast(
                self.id(),
                NewBallot {
                    nullifier: ballot.ballot.nullifier(),
                    tracking_code: ballot.tracking_code,
                    ballot: ballot.bytes.clone(),
                },
            )
            .await
            .unwrap()
    }

    /// A valid ballot of `style` with a new credential and [`selections`](Self::selections).
    pub fn ballot(&self, style: &str) -> TestBallot {
        let (credential, secret) = self.credential(style);
        let selections = self.selections(style);
        self.ballot_with(style, credential, secret, &selections)
    }

    /// A ballot of `style` with the given credential and selections (one vector per
    /// contest of the style, one value per option).
    pub fn ballot_with(
        &self,
        style: &str,
        credential: Credential,
        secret: CredentialSecret,
        selections: &[Vec<u64>],
    ) -> TestBallot {
        let (ballot, opening) = EncryptedBallot::encrypt(
            &self.joint,
            &self.fingerprint(),
            &self.layout(style),
            credential,
            &secret,
            selections,
            &mut rand::rng(),
        )
        .unwrap();
        TestBallot {
            bytes: ballot.to_bytes(),
            tracking_code: ballot.tracking_code(),
            ballot,
            opening,
            secret,
        }
    }

    /// `count` valid ballots of `style` cast with one credential (re-votes), each
    /// with the fixture's selections.
    pub fn ballots_of_one_credential(&self, style: &str, count: usize) -> Vec<TestBallot> {
        let (credential, secret) = self.credential(style);
        let selections = self.selections(style);
        (0..count)
            .map(|_| {
                let secret = CredentialSecret::from_bytes(&secret.to_bytes());
                self.ballot_with(style, credential.clone(), secret, &selections)
            })
            .collect()
    }

    /// A valid choice for every contest of `style`: the fewest selections allowed
    /// (at least one), from the first option on.
    pub fn selections(&self, style: &str) -> Vec<Vec<u64>> {
        self.fill(
            style,
            |shape| shape.min_total().max(1).min(shape.max_total()),
            |ranking| ranking.min_ranked().max(1).min(ranking.max_ranked()),
        )
    }

    /// A valid choice for every contest of `style`: the most selections allowed
    /// (every approval, top scores, the longest ranking), from the first option on.
    pub fn largest_selections(&self, style: &str) -> Vec<Vec<u64>> {
        self.fill(style, ContestShape::max_total, RankingShape::max_ranked)
    }

    /// Per contest, `total(shape)` spread over the options from the first on, each
    /// option at most its largest value; a ranked contest ranks its first
    /// `ranked(shape)` options in order.
    fn fill(
        &self,
        style: &str,
        total: impl Fn(&ContestShape) -> u64,
        ranked: impl Fn(&RankingShape) -> u32,
    ) -> Vec<Vec<u64>> {
        self.layout(style)
            .contests()
            .iter()
            .map(|(_, shape)| {
                if let Some(ranking) = shape.ranking() {
                    let r = u64::from(ranked(ranking));
                    return (1..=u64::from(shape.options()))
                        .map(|p| if p <= r { p } else { 0 })
                        .collect();
                }
                let mut left = total(shape);
                (0..shape.options())
                    .map(|_| {
                        let value = left.min(shape.max_value());
                        left -= value;
                        value
                    })
                    .collect()
            })
            .collect()
    }
}

/// Runs a 2-of-3 Pedersen key ceremony in process; returns the joint key and the
/// ceremony's public key record.
fn key_ceremony(election: &[u8; 32]) -> ([u8; 32], Vec<u8>) {
    let mut rng = rand::rng();
    let params = DkgParameters::new(*election, 2, 3).unwrap();
    let dealers: Vec<Dealer> = (1..=3)
        .map(|i| Dealer::new(&params, i, &mut rng).unwrap())
        .collect();
    let mut record = dkg::Ceremony::new(params);
    for dealer in &dealers {
        record.add_dealing(dealer.dealing().clone()).unwrap();
    }
    record.close_dealings().unwrap();
    record.close_complaints().unwrap();
    let key = record.finish().unwrap();
    (key.public_key().element().to_bytes(), key.to_bytes())
}
