//! The election contexts services work with: the parsed manifest, the ballot layout of
//! each style, and the public keys, built once per election and cached. The state is
//! never cached: read it from the store when it matters (or let the store's own
//! checks decide).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use ed25519_dalek::VerifyingKey;
use urna_board::NoteVerifier;
use urna_crypto::{BallotLayout, BlindSigningKey, BlindVerifyingKey, EncryptionKey, PublicKey};
use urna_election::{ElectionKeys, Manifest, Revoting};
use urna_store::{ElectionState, Phase, Store};

use crate::error::Error;
use crate::keys;

/// The cache of election contexts, by election id; cheap to clone.
pub struct Elections<S> {
    store: S,
    public_name: Arc<str>,
    cache: Arc<Mutex<HashMap<String, Arc<ElectionContext>>>>,
}

impl<S: Clone> Clone for Elections<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            public_name: Arc::clone(&self.public_name),
            cache: Arc::clone(&self.cache),
        }
    }
}

impl<S> std::fmt::Debug for Elections<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Elections")
            .field("public_name", &self.public_name)
            .finish_non_exhaustive()
    }
}

/// What services need to know about an election, apart from its state.
#[derive(Debug)]
pub struct ElectionContext {
    manifest: Manifest,
    fingerprint: [u8; 32],
    layouts: HashMap<String, BallotLayout>,
    auth_key: BlindVerifyingKey,
    style_key: VerifyingKey,
    joint_key: EncryptionKey,
    keys: ElectionKeys,
    board: NoteVerifier,
    test_board: NoteVerifier,
}

impl<S: Store> Elections<S> {
    /// A cache over `store`; board origins are `<public_name>/<election id>`.
    pub fn new(store: S, public_name: &str) -> Self {
        Self {
            store,
            public_name: public_name.into(),
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The store the contexts come from.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The election's context. Built from the store the first time; cached once the
    /// election has left Draft (a Draft manifest may still change, so it is rebuilt).
    ///
    /// # Errors
    /// [`Error::UnknownElection`]; [`Error::NoKeys`] if the election has no secrets or
    /// joint key yet; [`Error::Corrupt`] if what is stored does not parse.
    pub async fn get(&self, id: &str) -> Result<Arc<ElectionContext>, Error> {
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned();
        if let Some(context) = cached {
            return Ok(context);
        }
        let record = self
            .store
            .election(id)
            .await?
            .ok_or(Error::UnknownElection)?;
        let (secrets, joint) = keys::load(&self.store, id).await?;
        let manifest =
            Manifest::from_yaml(&record.source).map_err(|_| Error::Corrupt("stored manifest"))?;
        if manifest.fingerprint() != record.fingerprint {
            return Err(Error::Corrupt("stored manifest fingerprint"));
        }
        let layouts = manifest
            .ballot_styles()
            .iter()
            .filter_map(|style| {
                // Styles with contests casting cannot take yet (mix-net) have no layout.
                urna_election::layout(&manifest, style.id())
                    .ok()
                    .map(|layout| (style.id().to_owned(), layout))
            })
            .collect();
        let verifier = |phase| {
            let origin = keys::origin(&self.public_name, id, phase);
            keys::board_signer(&secrets, &origin).map(|s| s.verifier())
        };
        let board = verifier(Phase::Open)?;
        let test_board = verifier(Phase::Test)?;
        let keys = keys::election_keys(&secrets, &joint, &board)?;
        let auth_key = BlindSigningKey::from_der(secrets.auth_key_der())
            .and_then(|key| key.verifying_key())
            .map_err(|_| Error::Corrupt("auth key"))?;
        let style_key =
            VerifyingKey::from_bytes(&keys.style_key).map_err(|_| Error::Corrupt("style key"))?;
        let joint_key = PublicKey::from_bytes(&joint.key)
            .map(EncryptionKey::new)
            .map_err(|_| Error::Corrupt("joint key"))?;
        let context = Arc::new(ElectionContext {
            manifest,
            fingerprint: record.fingerprint,
            layouts,
            auth_key,
            style_key,
            joint_key,
            keys,
            board,
            test_board,
        });
        if record.state != ElectionState::Draft {
            self.cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(id.to_owned(), Arc::clone(&context));
        }
        Ok(context)
    }

    /// The election's current state, read from the store.
    ///
    /// # Errors
    /// [`Error::UnknownElection`]; store failures.
    pub async fn state(&self, id: &str) -> Result<ElectionState, Error> {
        Ok(self
            .store
            .election(id)
            .await?
            .ok_or(Error::UnknownElection)?
            .state)
    }
}

impl ElectionContext {
    /// The election's id.
    pub fn id(&self) -> &str {
        self.manifest.id()
    }

    /// The parsed manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The manifest's fingerprint, which ballots and board entries carry.
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// The re-voting policy.
    pub fn revoting(&self) -> Revoting {
        self.manifest.revoting()
    }

    /// When polls open and close, in Unix seconds (enforced in Open, not in Test).
    pub fn window(&self) -> (u64, u64) {
        (self.manifest.start(), self.manifest.end())
    }

    /// The ballot layout of a style; `None` for an unknown style or one whose contests
    /// casting cannot take (mix-net).
    pub fn layout(&self, style: &str) -> Option<&BallotLayout> {
        self.layouts.get(style)
    }

    /// The auth tier's blind-signature verifying key.
    pub fn auth_key(&self) -> &BlindVerifyingKey {
        &self.auth_key
    }

    /// The key that verifies signed ballot styles.
    pub fn style_key(&self) -> &VerifyingKey {
        &self.style_key
    }

    /// The joint encryption key.
    pub fn joint_key(&self) -> &EncryptionKey {
        &self.joint_key
    }

    /// The public keys as the election's board records them (entry 1 of the Open
    /// board; the Test board's entry 1 names the Test board's key instead).
    pub fn keys(&self) -> &ElectionKeys {
        &self.keys
    }

    /// The key that verifies the checkpoints of the phase's board.
    pub fn board_verifier(&self, phase: Phase) -> &NoteVerifier {
        match phase {
            Phase::Open => &self.board,
            Phase::Test => &self.test_board,
        }
    }
}
