//! Entries 0 and 1: the manifest and the election keys, which every later check uses.

use std::collections::HashMap;

use urna_board::{Entry, EntryKind, NoteVerifier};
use urna_crypto::{BallotLayout, BlindVerifyingKey, PublicKey};
use urna_election::{ElectionKeys, Manifest, Revoting};

use crate::report::{Check, Report};

/// What the manifest entry establishes.
pub(super) struct Election {
    pub(super) id: String,
    pub(super) fingerprint: [u8; 32],
    pub(super) revoting: Revoting,
    pub(super) layouts: HashMap<String, BallotLayout>,
    pub(super) manifest: Manifest,
    /// Per contest, the largest value a ballot adds to one option.
    pub(super) max_values: HashMap<String, u64>,
}

/// What the keys entry establishes.
pub(super) struct Keys {
    pub(super) joint: PublicKey,
    pub(super) auth: BlindVerifyingKey,
    pub(super) board: Option<NoteVerifier>,
}

/// Parses the manifest document; its encoding must be entry 0's body.
pub(super) fn manifest(yaml: &str, entry: &Entry, report: &mut Report) -> Option<Election> {
    if entry.kind() != EntryKind::ElectionManifest {
        report.fail(Check::Manifest, Some(0), "entry 0 is not the manifest");
        return None;
    }
    let manifest = match Manifest::from_yaml(yaml) {
        Ok(manifest) => manifest,
        Err(e) => {
            report.fail(Check::Manifest, Some(0), format!("manifest.yaml: {e}"));
            return None;
        }
    };
    if manifest.canonical_bytes() != entry.body() {
        report.fail(
            Check::Manifest,
            Some(0),
            "the manifest document does not encode to entry 0's body",
        );
        return None;
    }
    let mut layouts = HashMap::new();
    for style in manifest.ballot_styles() {
        match urna_election::layout(&manifest, style.id()) {
            Ok(layout) => {
                layouts.insert(style.id().to_owned(), layout);
            }
            Err(e) => {
                report.fail(
                    Check::Manifest,
                    Some(0),
                    format!("style {}: {e}", style.id()),
                );
                return None;
            }
        }
    }
    report.pass(Check::Manifest);
    let max_values = layouts
        .values()
        .flat_map(|layout| layout.contests())
        .map(|(id, shape)| (id.clone(), shape.max_value()))
        .collect();
    Some(Election {
        id: manifest.id().to_owned(),
        fingerprint: manifest.fingerprint(),
        revoting: manifest.revoting(),
        layouts,
        max_values,
        manifest,
    })
}

/// Decodes the election keys record of entry 1 and checks each key; the board key
/// must be named for election `election` (if the manifest was read).
pub(super) fn keys(
    entry: &Entry,
    election: Option<&str>,
    pinned: Option<&NoteVerifier>,
    report: &mut Report,
) -> Option<Keys> {
    let mut bad = |why: String| {
        report.fail(Check::ElectionKeys, Some(1), why);
        None
    };
    if entry.kind() != EntryKind::KeyCeremony {
        return bad("entry 1 is not the election keys record".to_owned());
    }
    let keys = match ElectionKeys::decode(entry.body()) {
        Ok(keys) => keys,
        Err(e) => return bad(e.to_string()),
    };
    let Ok(joint) = PublicKey::from_bytes(&keys.joint_key) else {
        return bad("the joint key is not a valid non-identity point".to_owned());
    };
    let Ok(auth) = BlindVerifyingKey::from_der(&keys.auth_key) else {
        return bad("the auth key is not an RSA public key".to_owned());
    };
    let board = match NoteVerifier::parse(&keys.board_key) {
        Ok(board) => board,
        Err(e) => return bad(format!("board key: {e}")),
    };
    // The key is named by the board's origin, `<host>/<election id>`.
    if election.is_some_and(|id| !board.name().ends_with(&format!("/{id}"))) {
        return bad(format!(
            "the board key {board} is not named for this election"
        ));
    }
    if pinned.is_some_and(|pinned| *pinned != board) {
        return bad(format!(
            "the board key on the board ({board}) is not the pinned one"
        ));
    }
    report.pass(Check::ElectionKeys);
    Some(Keys {
        joint,
        auth,
        board: Some(board),
    })
}
