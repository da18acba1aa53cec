//! The issuance domain: builds, signs and caches the ballot styles of elections.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use ed25519_dalek::{Signer, SigningKey};
use urna_election::{Manifest, StyleDocument, StyleError};
use urna_store::{ElectionState, Store};

use crate::error::IssuanceError;

/// A ballot style as served: the document, its canonical bytes and their signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedStyle {
    /// The style (a view of `canonical`).
    pub document: StyleDocument,
    /// `document.encode()`: what `signature` covers.
    pub canonical: Vec<u8>,
    /// The election's Ed25519 style key.
    pub signing_key: [u8; 32],
    /// The Ed25519 signature by `signing_key` over `canonical`.
    pub signature: [u8; 64],
}

/// The issuance tier over a store; cheap to clone (the clones share the cache).
pub struct Issuance<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for Issuance<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner<S> {
    store: S,
    /// Signed styles by (election, style). An election past Draft with a joint key
    /// never changes its manifest, key or style seed, so entries never go stale.
    cache: Mutex<HashMap<(String, String), Arc<SignedStyle>>>,
}

impl<S: Store> Issuance<S> {
    /// Issuance over `store`.
    pub fn new(store: S) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                cache: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The signed ballot style `style` of `election`.
    ///
    /// # Errors
    /// [`IssuanceError::UnknownElection`], [`IssuanceError::UnknownStyle`],
    /// [`IssuanceError::NotReady`] while the election is in Draft or has no joint key
    /// or secrets, or a store failure.
    pub async fn style(
        &self,
        election: &str,
        style: &str,
    ) -> Result<Arc<SignedStyle>, IssuanceError> {
        let key = (election.to_owned(), style.to_owned());
        if let Some(signed) = self.cache().get(&key) {
            return Ok(Arc::clone(signed));
        }
        let signed = Arc::new(self.build(election, style).await?);
        self.cache().insert(key, Arc::clone(&signed));
        Ok(signed)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Arc<SignedStyle>>> {
        self.inner
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    async fn build(&self, election: &str, style: &str) -> Result<SignedStyle, IssuanceError> {
        let store = &self.inner.store;
        let record = store
            .election(election)
            .await?
            .ok_or(IssuanceError::UnknownElection)?;
        if record.state == ElectionState::Draft {
            return Err(IssuanceError::NotReady("election is in draft"));
        }
        let manifest = Manifest::from_yaml(&record.source)
            .map_err(|_| IssuanceError::Manifest("does not parse"))?;
        if manifest.fingerprint() != record.fingerprint {
            return Err(IssuanceError::Manifest("fingerprint mismatch"));
        }
        if manifest.ballot_style(style).is_none() {
            return Err(IssuanceError::UnknownStyle);
        }
        let joint = store
            .joint_key(election)
            .await?
            .ok_or(IssuanceError::NotReady("no joint key"))?;
        let secrets = store
            .secrets(election)
            .await?
            .ok_or(IssuanceError::NotReady("no election secrets"))?;
        let document = match StyleDocument::from_manifest(&manifest, style, joint.key) {
            Err(StyleError::UnknownStyle(_)) => return Err(IssuanceError::UnknownStyle),
            other => other?,
        };
        let canonical = document.encode();
        let signer = SigningKey::from_bytes(secrets.style_seed());
        let signature = signer.sign(&canonical).to_bytes();
        tracing::info!(election, style, "ballot style signed");
        Ok(SignedStyle {
            document,
            canonical,
            signing_key: signer.verifying_key().to_bytes(),
            signature,
        })
    }
}
