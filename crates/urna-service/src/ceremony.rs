//! The key ceremony's public record, as board genesis writes it (docs/protocol.md
//! §4.3, §4.7). The ceremony runs in Draft, before any board exists, and its records
//! wait in the store; when a board is created they become its entries 2 to 1 + m,
//! right after the manifest and the election keys, so no ballot can precede them.
//! Each is a `KeyCeremony` entry with body
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

use urna_crypto::encoding::Encoder;
use urna_store::{CeremonyPhase, KeyStore, RecordKind, TallyStore};

use crate::error::Error;

/// The tag prefix of every ceremony entry body.
const TAG: &str = "urna/v1/dkg/";

/// The bodies of the ceremony's board entries, in board order; none unless the
/// ceremony is done (a joint key recorded some other way has no public record).
///
/// # Errors
/// Store failures; [`Error::Corrupt`] if a done ceremony has no joint key.
pub async fn ceremony_bodies<S: TallyStore + KeyStore>(
    store: &S,
    election: &str,
) -> Result<Vec<Vec<u8>>, Error> {
    if store.ceremony_phase(election).await? != CeremonyPhase::Done {
        return Ok(Vec::new());
    }
    let mut bodies = Vec::new();
    for t in store.trustees(election).await? {
        let mut payload = Encoder::new();
        payload
            .str(&t.name)
            .bytes(&t.signing_key)
            .bytes(&t.encryption_key);
        bodies.push(body("trustee", t.index, payload.as_slice(), &[]));
    }
    for d in store.dealings(election).await? {
        let shares: Vec<(u32, Vec<u8>)> = (1u32..).zip(d.shares).collect();
        let payload = dealing_payload(&d.dealing, &shares);
        bodies.push(body("dealing", d.dealer, &payload, &d.signature));
    }
    for (kind, tag) in [
        (RecordKind::Complaint, "complaint"),
        (RecordKind::Reveal, "reveal"),
    ] {
        for r in store.ceremony_records(election, kind).await? {
            bodies.push(body(tag, r.trustee, &r.record, &r.signature));
        }
    }
    let key = store.joint_key(election).await?.ok_or(Error::Corrupt(
        "a finished key ceremony without a joint key",
    ))?;
    bodies.push(body("threshold-key", 0, &key.ceremony, &[]));
    Ok(bodies)
}

/// The payload a dealer signs: `lp(dealing)` then `lp(u32be(j)) ‖ lp(ciphertext)` for
/// each sealed share in order.
#[must_use]
pub fn dealing_payload(dealing: &[u8], shares: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = Encoder::new();
    out.bytes(dealing);
    for (recipient, sealed) in shares {
        out.bytes(&recipient.to_be_bytes()).bytes(sealed);
    }
    out.finish()
}

/// `lp(tag) ‖ lp(u32be(trustee)) ‖ lp(payload) ‖ lp(signature)`.
fn body(what: &str, trustee: u32, payload: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut out = Encoder::new();
    out.str(&[TAG, what].concat())
        .bytes(&trustee.to_be_bytes())
        .bytes(payload)
        .bytes(signature);
    out.finish()
}
