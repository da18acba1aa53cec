//! The tally tier's domain: [`Tally`] over a store. The key ceremony's operations are
//! in `ceremony.rs`; this file holds what they share.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use ed25519_dalek::{Signature, VerifyingKey};
use urna_crypto::DlogTable;
use urna_crypto::dkg::DkgParameters;
use urna_election::Manifest;
pub use urna_service::dealing_payload;
use urna_service::{Boards, Elections};
use urna_store::{Store, TallyConfig, TrusteeKeys};

use crate::decrypt::ContestResult;
use crate::error::{Invalid, TallyError};
use crate::mix::Published;

/// The domain tag prefix of every trustee signature.
const SIGNATURE_TAG: &str = "urna/v1/trustee/";

/// The tally tier over a store: every method is safe to call from many tasks and
/// replicas at once, because every record is write-once in the store.
#[derive(Clone)]
pub struct Tally<S> {
    pub(crate) store: S,
    pub(crate) elections: Elections<S>,
    pub(crate) boards: Boards<S>,
    /// The discrete-log table that recovers totals, built on first use.
    pub(crate) dlog: Arc<OnceLock<DlogTable>>,
    /// Where published shuffle records start on the board.
    pub(crate) published: Published,
    /// Complete results, once computed (they never change).
    pub(crate) results: Arc<Mutex<HashMap<String, Vec<ContestResult>>>>,
}

impl<S: Store> Tally<S> {
    /// The tally tier over `store`, reading elections through `elections` and
    /// appending to the boards of `boards` (the process's one registry, so there is
    /// one sequencer per board).
    pub fn new(store: S, elections: Elections<S>, boards: Boards<S>) -> Self {
        Self {
            store,
            elections,
            boards,
            dlog: Arc::new(OnceLock::new()),
            published: Published::default(),
            results: Arc::default(),
        }
    }

    /// The election's fingerprint and its ceremony's parameters: k and n are the
    /// manifest's `trustees` (docs/protocol.md §3.1), read from the stored manifest
    /// each time, since a Draft manifest may still be replaced.
    pub(crate) async fn parameters(
        &self,
        election: &str,
    ) -> Result<(DkgParameters, TallyConfig), TallyError> {
        let record = self
            .store
            .election(election)
            .await?
            .ok_or(TallyError::UnknownElection)?;
        let trustees = Manifest::from_yaml(&record.source)
            .map_err(|_| TallyError::Board(urna_service::Error::Corrupt("stored manifest")))?
            .trustees();
        let config = TallyConfig {
            trustees: trustees.count(),
            threshold: trustees.threshold(),
        };
        let params = DkgParameters::new(record.fingerprint, config.threshold, config.trustees)
            .map_err(|_| TallyError::WrongPhase("a valid trustee count and threshold"))?;
        Ok((params, config))
    }

    /// The registered trustee `index`, whose signature over `payload` (for `what`)
    /// must verify.
    pub(crate) async fn authenticate(
        &self,
        election: &str,
        params: &DkgParameters,
        index: u32,
        what: &str,
        payload: &[u8],
        signature: &[u8],
    ) -> Result<TrusteeKeys, TallyError> {
        let trustee = self
            .store
            .trustees(election)
            .await?
            .into_iter()
            .find(|t| t.index == index)
            .ok_or(TallyError::Unauthenticated)?;
        let key = VerifyingKey::from_bytes(&trustee.signing_key)
            .map_err(|_| TallyError::Unauthenticated)?;
        let signature: [u8; 64] = signature
            .try_into()
            .map_err(|_| TallyError::Unauthenticated)?;
        let message = signed_message(params.election(), index, what, payload);
        key.verify_strict(&message, &Signature::from_bytes(&signature))
            .map_err(|_| TallyError::Unauthenticated)?;
        Ok(trustee)
    }
}

/// The bytes a trustee signs (tally.proto's header): `lp("urna/v1/trustee/" ‖ what)
/// ‖ lp(election fingerprint) ‖ lp(u32be(index)) ‖ lp(payload)`.
#[must_use]
pub fn signed_message(election: &[u8; 32], index: u32, what: &str, payload: &[u8]) -> Vec<u8> {
    let tag = [SIGNATURE_TAG.as_bytes(), what.as_bytes()].concat();
    let mut out = Vec::with_capacity(payload.len() + 96);
    for field in [&tag[..], &election[..], &index.to_be_bytes(), payload] {
        push_lp(&mut out, field);
    }
    out
}

/// Appends `lp(field)`: the field's length as u32be, then the field.
pub fn push_lp(out: &mut Vec<u8>, field: &[u8]) {
    // A field longer than 4 GiB never reaches here: gRPC messages are far smaller.
    let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field);
}

/// Checks a trustee index against the ceremony's parameters.
pub(crate) fn check_index(params: &DkgParameters, index: u32) -> Result<(), Invalid> {
    if params.contains(index) {
        Ok(())
    } else {
        Err(Invalid::TrusteeIndex)
    }
}
