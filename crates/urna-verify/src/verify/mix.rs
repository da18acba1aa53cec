//! The mix-net (docs/protocol.md §4.9): each mix-net contest's rows kept from the
//! counted ballots, every `ShuffleRecord` checked as the next step of its batch (input
//! digest, distinct trustee of the threshold key, signature, proof), and the mixed
//! contests' decryption shares checked against the last output.
//!
//! Unlike the sums, this keeps every row of every mix-net contest: 64 bytes per option
//! per counted ballot.

use std::collections::BTreeMap;

use urna_board::parts::{Assembler, Part};
use urna_crypto::threshold::{PartialDecryption, VerifiedPartialDecryption};
use urna_crypto::{Ciphertext, Context};

use super::ceremony::CeremonyRecords;
use crate::mixnet::{ShuffleChain, StepError};
use crate::records::{MixShare, MixShareKey, SHUFFLE_RECORD_TAG, ShuffleKey};
use crate::report::{Check, Report};

/// One mix-net contest: its rows as the ballots arrive, then the checked chain of
/// shuffles from them.
#[derive(Default)]
pub(super) struct MixChain {
    /// Ciphertexts per row.
    pub(super) width: usize,
    /// The counted ballots' rows by board index (so in board order), until the tally
    /// record fixes them.
    ballots: BTreeMap<u64, Vec<Ciphertext>>,
    /// The shuffles, from the tally record on.
    pub(super) chain: ShuffleChain,
}

impl MixChain {
    /// An empty chain for rows of `width`.
    pub(super) fn new(width: usize) -> Self {
        Self {
            width,
            ..Self::default()
        }
    }

    /// Adds (or, for a superseded ballot, removes) the row of the ballot at `index`.
    pub(super) fn apply(&mut self, index: u64, row: &[Ciphertext], add: bool) {
        if add {
            self.ballots.insert(index, row.to_vec());
        } else {
            self.ballots.remove(&index);
        }
    }

    /// Fixes the counted ballots' rows as step 0's input, for the tally record at
    /// `source`; returns their digest.
    pub(super) fn seal(&mut self, source: u64) -> [u8; 32] {
        let rows = std::mem::take(&mut self.ballots)
            .into_values()
            .flatten()
            .collect();
        self.chain = ShuffleChain::new(source, self.width, rows);
        self.chain.digest()
    }
}

/// The parts of records not yet whole, and where each record's first part was.
#[derive(Default)]
pub(super) struct Parts {
    assembler: Assembler,
    first: BTreeMap<(String, Vec<u8>), u64>,
}

impl Parts {
    /// Adds the part at `index`; returns the whole record (its key, its bytes and the
    /// index of its first part) once its last part is in. A part out of order fails
    /// `check`.
    pub(super) fn push(
        &mut self,
        index: u64,
        body: &[u8],
        check: Check,
        report: &mut Report,
    ) -> Option<(String, Vec<u8>, Vec<u8>, u64)> {
        let part = match Part::decode(body) {
            Ok(part) => part,
            Err(e) => {
                report.fail(check, Some(index), format!("a record part: {e}"));
                return None;
            }
        };
        let name = (part.tag.to_owned(), part.key.to_vec());
        self.first.entry(name.clone()).or_insert(index);
        match self.assembler.push(part) {
            Ok(None) => None,
            Ok(Some(record)) => {
                let first = self.first.remove(&name).unwrap_or(index);
                Some((name.0, name.1, record, first))
            }
            Err(e) => {
                self.first.remove(&name);
                report.fail(check, Some(index), format!("a record part: {e}"));
                None
            }
        }
    }

    /// Fails every record whose parts stopped before the last.
    pub(super) fn finish(&self, report: &mut Report) {
        for (tag, key) in self.assembler.unfinished() {
            let index = self.first.get(&(tag.to_owned(), key.to_vec())).copied();
            let check = if tag == SHUFFLE_RECORD_TAG {
                Check::Shuffle
            } else {
                Check::DecryptionShare
            };
            report.fail(check, index, "a record's parts end before its last part");
        }
    }
}

/// What the shuffle checks need from the tally around them.
pub(super) struct Setting<'a> {
    pub(super) election: &'a [u8; 32],
    pub(super) source: u64,
    pub(super) contest: &'a str,
    pub(super) ceremony: &'a CeremonyRecords,
}

/// Checks a whole shuffle record (first part at `index`) as the next step of `chain`,
/// which it advances. A bad signature fails [`Check::TrusteeSignature`], anything
/// else [`Check::Shuffle`].
pub(super) fn shuffle(
    chain: &mut MixChain,
    key: &ShuffleKey,
    record: &[u8],
    index: u64,
    setting: &Setting<'_>,
    report: &mut Report,
) {
    let Some(threshold) = setting.ceremony.key() else {
        return report.fail(
            Check::Shuffle,
            Some(index),
            "a shuffle before the threshold key",
        );
    };
    let pushed = chain.chain.push(
        key,
        record,
        threshold,
        setting.contest,
        |trustee, payload, signature| {
            let signed = (trustee, "shuffle", payload, signature);
            setting
                .ceremony
                .signed(setting.election, index, signed, report)
        },
    );
    match pushed {
        Ok(()) => report.pass(Check::Shuffle),
        // The ceremony's check reported it as a trustee signature.
        Err(StepError::Signature) => {}
        Err(StepError::Invalid(why)) => report.fail(Check::Shuffle, Some(index), why),
    }
}

/// Checks a whole mixed decryption share (first part at `index`) against the batch's
/// last output; returns the verified partial decryption.
pub(super) fn share(
    chain: &MixChain,
    key: &MixShareKey,
    record: &[u8],
    index: u64,
    setting: &Setting<'_>,
    report: &mut Report,
) -> Option<VerifiedPartialDecryption> {
    let fail = |report: &mut Report, why: String| {
        report.fail(Check::DecryptionShare, Some(index), why);
        None
    };
    let Some(threshold) = setting.ceremony.key() else {
        return fail(report, "a share before the threshold key".to_owned());
    };
    let chain = &chain.chain;
    if key.source != setting.source {
        return fail(
            report,
            format!("it answers entry {}, not the tally record", key.source),
        );
    }
    if !chain.is_mixed(threshold) {
        return fail(
            report,
            format!(
                "a share of batch {} before its {} shuffles",
                key.batch,
                threshold.threshold()
            ),
        );
    }
    if key.rows != chain.digest() {
        return fail(
            report,
            "it decrypts rows other than the last shuffle's output".to_owned(),
        );
    }
    let share = match MixShare::decode(record) {
        Ok(share) => share,
        Err(e) => return fail(report, format!("the share does not decode: {e}")),
    };
    let payload = [&key.batch.to_be_bytes()[..], share.partial].concat();
    let signed = (
        key.trustee,
        "partial-decryption",
        &payload[..],
        share.signature,
    );
    if !setting
        .ceremony
        .signed(setting.election, index, signed, report)
    {
        return None;
    }
    let context = Context::new("tally")
        .with(setting.election)
        .with(setting.contest.as_bytes());
    let verified = PartialDecryption::from_bytes(share.partial, chain.rows().len())
        .map_err(|e| e.to_string())
        .and_then(|p| {
            p.verify(threshold, chain.rows(), &context)
                .map_err(|e| e.to_string())
        });
    match verified {
        Ok(v) if v.trustee() == key.trustee => Some(v),
        Ok(_) => fail(report, "the partial decryption is another trustee's".into()),
        Err(e) => fail(report, format!("the partial decryption fails: {e}")),
    }
}
