//! The state carried along the stream of entries, and the checks of each entry kind.

use std::collections::HashMap;

use urna_board::{Entry, EntryKind, NoteVerifier, TreeHash};
use urna_crypto::encoding::Decoder;
use urna_crypto::{BatchVerifier, EncryptedBallot, EncryptionKey, VerifyError};
use urna_election::Revoting;

use super::ceremony::{CeremonyRecords, Genesis};
use super::genesis::{self, Election, Keys};
use super::tally::Tally;
use super::{BUNDLE, Options, split_bundle};
use crate::error::Error;
use crate::records::{PollsClosed, SpoiledBallot};
use crate::report::{Check, Report};
use crate::source::Source;

/// The longest ballot style id (docs/protocol.md §1.9).
const MAX_STYLE_LEN: usize = 64;

/// What one credential (by nullifier) has on the board: the tracking codes of its
/// cast and spoiled ballots, and its counted ballot.
#[derive(Default)]
struct Credential {
    /// The ballot in the tally: the latest cast before polls closed, by board index
    /// and leaf hash (so a re-cast can take it out of the sums).
    counted: Option<(u64, TreeHash)>,
    cast: Vec<[u8; 32]>,
    spoiled: Vec<[u8; 32]>,
}

/// The verifier's state between entries.
pub(super) struct Board<'a> {
    yaml: &'a str,
    options: &'a Options,
    source: &'a dyn Source,
    size: u64,
    election: Option<Election>,
    keys: Option<Keys>,
    encryption: Option<EncryptionKey>,
    credentials: HashMap<[u8; 32], Credential>,
    pending: Vec<(u64, EncryptedBallot)>,
    closed: Option<u64>,
    ceremony: CeremonyRecords,
    tally: Option<Tally>,
}

impl<'a> Board<'a> {
    /// The state before entry 0 of the `size` entries `source` serves.
    pub(super) fn new(
        yaml: &'a str,
        options: &'a Options,
        source: &'a dyn Source,
        size: u64,
    ) -> Self {
        Self {
            yaml,
            options,
            source,
            size,
            election: None,
            keys: None,
            encryption: None,
            credentials: HashMap::new(),
            pending: Vec::new(),
            closed: None,
            ceremony: CeremonyRecords::default(),
            tally: None,
        }
    }

    /// Checks entry `index`.
    ///
    /// # Errors
    /// [`Error`] if the source cannot be read again for a superseded ballot.
    pub(super) fn entry(
        &mut self,
        index: u64,
        bytes: &[u8],
        report: &mut Report,
    ) -> Result<(), Error> {
        let entry = match Entry::decode(bytes) {
            Ok(entry) => entry,
            Err(e) => {
                report.fail(Check::EntryEncoding, Some(index), e.to_string());
                return Ok(());
            }
        };
        report.pass(Check::EntryEncoding);
        match index {
            0 => {
                self.election = genesis::manifest(self.yaml, &entry, report);
                self.tally = self
                    .election
                    .as_ref()
                    .map(|e| Tally::new(&e.manifest, &e.max_values));
            }
            1 => {
                self.keys = genesis::keys(
                    &entry,
                    self.election.as_ref().map(|e| e.id.as_str()),
                    self.options.board_key.as_ref(),
                    report,
                );
                self.encryption = self.keys.as_ref().map(|k| EncryptionKey::new(k.joint));
            }
            _ => {}
        }
        let Some(election) = &self.election else {
            return Ok(());
        };
        if *entry.election() == election.fingerprint {
            report.pass(Check::Fingerprint);
        } else {
            report.fail(
                Check::Fingerprint,
                Some(index),
                "the entry is for another election",
            );
            return Ok(());
        }
        let fingerprint = election.fingerprint;
        let body = entry.body();
        match entry.kind() {
            EntryKind::ElectionManifest if index != 0 => {
                report.fail(Check::Manifest, Some(index), "a second manifest entry");
            }
            EntryKind::KeyCeremony if index != 1 => {
                let genesis = Genesis {
                    fingerprint,
                    trustees: election.manifest.trustees(),
                    joint: self.keys.as_ref().map(|k| &k.joint),
                };
                self.ceremony.record(index, body, &genesis, report);
            }
            EntryKind::ElectionManifest | EntryKind::KeyCeremony => {}
            EntryKind::Ballot => self.ballot(index, bytes, body, report)?,
            EntryKind::SpoiledBallot => self.spoiled(index, body, report),
            EntryKind::PollsClosed => self.polls_closed(index, body, report),
            EntryKind::TallyRecord => {
                if let Some(tally) = &mut self.tally {
                    tally.record(index, body, self.closed, &self.ceremony, report);
                }
            }
            EntryKind::DecryptionShare => {
                if let Some(tally) = &mut self.tally {
                    tally.share(index, body, &fingerprint, &self.ceremony, report);
                }
            }
            EntryKind::ShuffleRecord => {
                if let Some(tally) = &mut self.tally {
                    tally.shuffle(index, body, &fingerprint, &self.ceremony, report);
                }
            }
            EntryKind::Result => {
                if let (Some(tally), Some(election)) = (&mut self.tally, &self.election) {
                    tally.result(index, body, &election.manifest, &self.ceremony, report);
                }
            }
            _ => report.fail(
                Check::EntryEncoding,
                Some(index),
                "an entry of a kind urna never writes",
            ),
        }
        Ok(())
    }

    /// Verifies the last batch and fills in the totals; returns the board key to check
    /// checkpoints with (the pinned one, else entry 1's).
    pub(super) fn finish(mut self, report: &mut Report) -> Option<NoteVerifier> {
        self.flush(report);
        if self.election.is_some() {
            self.ceremony.finish(report);
        }
        if let Some(tally) = &self.tally {
            tally.finish(report);
        }
        report.counted = self.counted();
        self.options
            .board_key
            .clone()
            .or_else(|| self.keys.and_then(|k| k.board))
    }

    /// The ballot's tracking code and what its credential has on the board so far.
    fn credential(&mut self, ballot: &EncryptedBallot) -> ([u8; 32], &mut Credential) {
        let credential = self
            .credentials
            .entry(*ballot.nullifier().as_bytes())
            .or_default();
        (ballot.tracking_code(), credential)
    }

    /// Credentials with a counted ballot.
    fn counted(&self) -> u64 {
        self.credentials
            .values()
            .filter(|c| c.counted.is_some())
            .count() as u64
    }

    /// Entry `index` read again from the source (a superseded ballot, to take it out
    /// of the sums), which must hash to the leaf read the first time.
    fn reread(
        &self,
        index: u64,
        leaf: TreeHash,
        report: &mut Report,
    ) -> Result<Option<EncryptedBallot>, Error> {
        let bundle = index / BUNDLE;
        let width = (self.size - bundle * BUNDLE).min(BUNDLE);
        let partial = (width < BUNDLE).then_some(width as u8);
        let bytes = self.source.entry_bundle(bundle, partial)?;
        let entry = split_bundle(&bytes, width)
            .and_then(|entries| entries.get((index % BUNDLE) as usize).copied())
            .filter(|entry| TreeHash::leaf(entry) == leaf);
        let Some(entry) = entry.and_then(|e| Entry::decode(e).ok()) else {
            report.fail(
                Check::TreeRoot,
                Some(index),
                "the source serves other bytes for this entry on a second read",
            );
            return Ok(None);
        };
        Ok(self.decode(index, entry.body(), Check::BallotEncoding, report))
    }

    /// Decodes a ballot against the style it names, for this election.
    fn decode(
        &self,
        index: u64,
        bytes: &[u8],
        check: Check,
        report: &mut Report,
    ) -> Option<EncryptedBallot> {
        let election = self.election.as_ref()?;
        self.keys.as_ref()?;
        let mut dec = Decoder::new(bytes);
        let style = dec
            .u8()
            .and_then(|_| dec.array::<32>())
            .and_then(|_| dec.str(MAX_STYLE_LEN));
        let Some(layout) = style.ok().and_then(|s| election.layouts.get(s)) else {
            report.fail(
                check,
                Some(index),
                "the ballot names no style of the manifest",
            );
            return None;
        };
        let ballot = match EncryptedBallot::from_bytes(bytes, layout) {
            Ok(ballot) => ballot,
            Err(e) => {
                report.fail(
                    check,
                    Some(index),
                    format!("the ballot does not decode: {e}"),
                );
                return None;
            }
        };
        if *ballot.election() != election.fingerprint {
            report.fail(
                Check::Fingerprint,
                Some(index),
                "the ballot is for another election",
            );
            return None;
        }
        Some(ballot)
    }

    /// Checks auth's blind signature and the credential's signature.
    fn signatures(&self, index: u64, ballot: &EncryptedBallot, report: &mut Report) {
        let Some(keys) = &self.keys else { return };
        match ballot.verify_signatures(&keys.auth) {
            Ok(()) => {
                report.pass(Check::BlindSignature);
                report.pass(Check::CredentialSignature);
            }
            Err(VerifyError::BlindSignature) => {
                report.fail(
                    Check::BlindSignature,
                    Some(index),
                    "invalid blind signature",
                );
            }
            Err(e) => report.fail(Check::CredentialSignature, Some(index), e.to_string()),
        }
    }

    fn after_close(&self, index: u64, what: &str, report: &mut Report) {
        if let Some(closed) = self.closed {
            report.fail(
                Check::AfterClose,
                Some(index),
                format!("{what} after polls closed at entry {closed}"),
            );
        } else {
            report.pass(Check::AfterClose);
        }
    }

    fn ballot(
        &mut self,
        index: u64,
        bytes: &[u8],
        body: &[u8],
        report: &mut Report,
    ) -> Result<(), Error> {
        report.ballots += 1;
        self.after_close(index, "a ballot", report);
        let Some(ballot) = self.decode(index, body, Check::BallotEncoding, report) else {
            return Ok(());
        };
        report.pass(Check::BallotEncoding);
        self.signatures(index, &ballot, report);
        let once = self
            .election
            .as_ref()
            .is_some_and(|e| e.revoting == Revoting::Once);
        let open = self.closed.is_none();
        let (code, credential) = self.credential(&ballot);
        report.record(
            Check::DuplicateBallot,
            index,
            !credential.cast.contains(&code),
            "the same ballot was cast before",
        );
        if credential.spoiled.contains(&code) {
            report.fail(
                Check::SpoiledNotCast,
                Some(index),
                "this ballot was spoiled before",
            );
        }
        report.record(
            Check::Revoting,
            index,
            !once || credential.cast.is_empty(),
            "a second ballot of one credential under `once`",
        );
        credential.cast.push(code);
        if open {
            let superseded = credential.counted.replace((index, TreeHash::leaf(bytes)));
            if let Some((old_index, leaf)) = superseded
                && let Some(old) = self.reread(old_index, leaf, report)?
                && let Some(tally) = &mut self.tally
            {
                tally.subtract(old_index, &old);
            }
            if let Some(tally) = &mut self.tally {
                tally.add(index, &ballot);
            }
        }
        self.pending.push((index, ballot));
        if self.pending.len() >= self.options.batch_size {
            self.flush(report);
        }
        Ok(())
    }

    /// Verifies the pending ballots' proofs in one batch; on failure the batch names
    /// the bad ones.
    fn flush(&mut self, report: &mut Report) {
        let pending = std::mem::take(&mut self.pending);
        let (Some(keys), Some(election)) = (&self.keys, &self.election) else {
            return;
        };
        let mut rng = rand::rng();
        let mut batch = BatchVerifier::new(keys.joint, &mut rng);
        for (index, ballot) in &pending {
            if let Some(layout) = election.layouts.get(ballot.style()) {
                ballot.add_to_batch(&mut batch, *index, layout);
            }
        }
        let mut failed: Vec<u64> = match batch.verify() {
            Ok(()) => Vec::new(),
            Err(failed) => failed.into_iter().map(|(index, _)| index).collect(),
        };
        failed.dedup();
        for (index, _) in &pending {
            if failed.contains(index) {
                report.fail(
                    Check::BallotProofs,
                    Some(*index),
                    "a range or selection proof fails",
                );
            } else {
                report.pass(Check::BallotProofs);
            }
        }
    }

    fn spoiled(&mut self, index: u64, body: &[u8], report: &mut Report) {
        report.spoiled += 1;
        self.after_close(index, "a spoiled ballot", report);
        let spoiled = match SpoiledBallot::decode(body) {
            Ok(spoiled) => spoiled,
            Err(e) => return report.fail(Check::SpoiledOpening, Some(index), e.to_string()),
        };
        let Some(ballot) = self.decode(index, spoiled.ballot, Check::SpoiledOpening, report) else {
            return;
        };
        self.signatures(index, &ballot, report);
        let Some(key) = &self.encryption else { return };
        let opens = spoiled.openings.len() == ballot.contests().len()
            && spoiled.openings.iter().zip(ballot.contests()).all(
                |((id, opening), (contest_id, contest))| {
                    id == contest_id && opening.check(key, contest).is_ok()
                },
            );
        report.record(
            Check::SpoiledOpening,
            index,
            opens,
            "the opening does not reproduce the ballot's ciphertexts",
        );
        let (code, credential) = self.credential(&ballot);
        report.record(
            Check::SpoiledNotCast,
            index,
            !credential.cast.contains(&code),
            "a cast ballot was spoiled",
        );
        credential.spoiled.push(code);
    }

    fn polls_closed(&mut self, index: u64, body: &[u8], report: &mut Report) {
        if let Some(closed) = self.closed {
            return report.fail(
                Check::PollsClosed,
                Some(index),
                format!("a second polls-closed entry (the first at {closed})"),
            );
        }
        self.closed = Some(index);
        let closed = match PollsClosed::decode(body) {
            Ok(closed) => closed,
            Err(e) => return report.fail(Check::PollsClosed, Some(index), e.to_string()),
        };
        if let Some(election) = &self.election
            && closed.election_id != election.id
        {
            return report.fail(Check::PollsClosed, Some(index), "for another election id");
        }
        if closed.ballots == report.ballots {
            report.pass(Check::PollsClosed);
        } else {
            report.fail(
                Check::PollsClosed,
                Some(index),
                format!(
                    "it counts {} ballots, the board has {} before it",
                    closed.ballots, report.ballots
                ),
            );
        }
        report.credentials_issued = Some(closed.credentials_issued);
        let counted = self.counted();
        if counted <= closed.credentials_issued {
            report.pass(Check::CredentialsIssued);
        } else {
            report.fail(
                Check::CredentialsIssued,
                Some(index),
                format!(
                    "{counted} ballots are counted, only {} credentials were issued",
                    closed.credentials_issued
                ),
            );
        }
    }
}
