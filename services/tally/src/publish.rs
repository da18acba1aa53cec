//! The ceremony's public record on the board. The board's genesis (the manifest, then
//! the election keys with the joint key) happens when the election leaves Draft, after
//! the ceremony; so the ceremony's records wait in the store and are appended right
//! after genesis as `KeyCeremony` entries (docs/protocol.md §4.7), each body
//! `lp(tag) ‖ lp(u32be(trustee)) ‖ lp(payload) ‖ lp(signature)`:
//!
//! | tag | trustee | payload | signature |
//! |---|---|---|---|
//! | `urna/v1/dkg/trustee` | index | `lp(name) ‖ lp(signing key) ‖ lp(encryption key)` | empty |
//! | `urna/v1/dkg/dealing` | dealer | the signed dealing payload (dealing and sealed shares) | the dealer's |
//! | `urna/v1/dkg/complaint` | accuser | the 8-byte complaint | the accuser's |
//! | `urna/v1/dkg/reveal` | dealer | the 40-byte revealed share | the dealer's |
//! | `urna/v1/dkg/threshold-key` | 0 | the canonical threshold public key | empty |
//!
//! in that order: trustees and dealings by index, complaints and reveals in arrival
//! order, the key last.

use urna_board::{Entry, EntryKind};
use urna_store::{CeremonyPhase, RecordKind, Store};

use crate::error::TallyError;
use crate::tally::{Tally, dealing_payload, push_lp};

/// The tag prefix of every ceremony entry body.
const TAG: &str = "urna/v1/dkg/";

impl<S: Store> Tally<S> {
    /// The bodies of the ceremony's board entries, in board order (the ceremony must
    /// be done).
    pub async fn ceremony_bodies(&self, election: &str) -> Result<Vec<Vec<u8>>, TallyError> {
        if self.store.ceremony_phase(election).await? != CeremonyPhase::Done {
            return Err(TallyError::WrongPhase("a finished key ceremony"));
        }
        let mut bodies = Vec::new();
        for t in self.store.trustees(election).await? {
            let mut payload = Vec::new();
            for field in [t.name.as_bytes(), &t.signing_key, &t.encryption_key] {
                push_lp(&mut payload, field);
            }
            bodies.push(body("trustee", t.index, &payload, &[]));
        }
        for d in self.store.dealings(election).await? {
            let shares: Vec<(u32, Vec<u8>)> = (1u32..).zip(d.shares).collect();
            let payload = dealing_payload(&d.dealing, &shares);
            bodies.push(body("dealing", d.dealer, &payload, &d.signature));
        }
        for (kind, tag) in [
            (RecordKind::Complaint, "complaint"),
            (RecordKind::Reveal, "reveal"),
        ] {
            for r in self.store.ceremony_records(election, kind).await? {
                bodies.push(body(tag, r.trustee, &r.record, &r.signature));
            }
        }
        let key = self
            .store
            .joint_key(election)
            .await?
            .ok_or(TallyError::WrongPhase("a recorded joint key"))?;
        bodies.push(body("threshold-key", 0, &key.ceremony, &[]));
        Ok(bodies)
    }

    /// Appends the ceremony's record to the election's board (Test or later), each
    /// entry once however often this runs; returns the entries' board indices.
    pub async fn publish_ceremony(&self, election: &str) -> Result<Vec<u64>, TallyError> {
        let bodies = self.ceremony_bodies(election).await?;
        let board = self.boards.get(election).await.map_err(TallyError::Board)?;
        let mut indices = Vec::with_capacity(bodies.len());
        for b in bodies {
            let entry = Entry::new(EntryKind::KeyCeremony, *board.fingerprint(), b)
                .map_err(|_| TallyError::WrongPhase("ceremony records that fit a board entry"))?;
            let appended = board.append_once(entry).await.map_err(TallyError::Board)?;
            indices.push(appended.index);
        }
        Ok(indices)
    }
}

/// `lp(tag) ‖ lp(u32be(trustee)) ‖ lp(payload) ‖ lp(signature)`.
fn body(what: &str, trustee: u32, payload: &[u8], signature: &[u8]) -> Vec<u8> {
    let tag = [TAG, what].concat();
    let mut out = Vec::new();
    for field in [tag.as_bytes(), &trustee.to_be_bytes(), payload, signature] {
        push_lp(&mut out, field);
    }
    out
}
