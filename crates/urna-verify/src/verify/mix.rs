//! The mix-net (docs/protocol.md §4.9): each mix-net contest's rows kept from the
//! counted ballots, every `ShuffleRecord` checked as the next step of its batch (input
//! digest, distinct trustee of the threshold key, signature, proof), and the mixed
//! contests' decryption shares checked against the last output.
//!
//! Unlike the sums, this keeps every row of every mix-net contest: 64 bytes per option
//! per counted ballot.

use std::collections::BTreeMap;

use urna_board::parts::{Assembler, Part};
use urna_crypto::encoding::Decoder;
use urna_crypto::mix::rows_digest;
use urna_crypto::threshold::{PartialDecryption, VerifiedPartialDecryption};
use urna_crypto::{Ciphertext, Context, MixBallots, ShuffleProof};

use super::ceremony::CeremonyRecords;
use crate::records::{MixShare, MixShareKey, SHUFFLE_RECORD_TAG, ShuffleKey, ShuffleRecord};
use crate::report::{Check, Report};

/// One mix-net contest: its rows as the ballots arrive, then as the steps shuffle them.
#[derive(Default)]
pub(super) struct MixChain {
    /// Ciphertexts per row.
    pub(super) width: usize,
    /// The counted ballots' rows by board index (so in board order), until the tally
    /// record fixes them.
    ballots: BTreeMap<u64, Vec<Ciphertext>>,
    /// The rows the next step takes (after the tally record): the counted ballots',
    /// then each step's output.
    pub(super) rows: Vec<Ciphertext>,
    /// The digest of `rows`.
    pub(super) digest: [u8; 32],
    /// The trustees who shuffled, in step order.
    pub(super) steps: Vec<u32>,
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

    /// Fixes the counted ballots' rows as step 0's input; returns their digest.
    pub(super) fn seal(&mut self) -> [u8; 32] {
        self.rows = std::mem::take(&mut self.ballots)
            .into_values()
            .flatten()
            .collect();
        self.digest = digest(&self.rows, self.width);
        self.digest
    }

    /// The number of rows.
    pub(super) fn len(&self) -> usize {
        self.rows.len() / self.width.max(1)
    }
}

/// The digest of rows of `width` (§4.9).
fn digest(rows: &[Ciphertext], width: usize) -> [u8; 32] {
    let bytes: Vec<[u8; 64]> = rows.iter().map(Ciphertext::to_bytes).collect();
    rows_digest(bytes.len() / width.max(1), width, &bytes)
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
/// which it advances. Every problem fails [`Check::Shuffle`].
pub(super) fn shuffle(
    chain: &mut MixChain,
    key: &ShuffleKey,
    record: &[u8],
    index: u64,
    setting: &Setting<'_>,
    report: &mut Report,
) {
    let mut fail = |why: String| report.fail(Check::Shuffle, Some(index), why);
    let Some(threshold) = setting.ceremony.key() else {
        return fail("a shuffle before the threshold key".to_owned());
    };
    if key.source != setting.source {
        return fail(format!("it names entry {} as the tally record", key.source));
    }
    if key.step as usize != chain.steps.len() {
        return fail(format!(
            "step {} of batch {}, where step {} is due",
            key.step,
            key.batch,
            chain.steps.len()
        ));
    }
    if chain.steps.len() >= threshold.threshold() as usize {
        return fail(format!("batch {} already has its k shuffles", key.batch));
    }
    if threshold.verification_key(key.trustee).is_none() {
        return fail(format!(
            "trustee {} is not in the threshold key",
            key.trustee
        ));
    }
    if chain.steps.contains(&key.trustee) {
        return fail(format!(
            "trustee {} shuffled batch {} before",
            key.trustee, key.batch
        ));
    }
    if key.input != chain.digest {
        return fail("its input is not the batch's current rows".to_owned());
    }
    let record = match ShuffleRecord::decode(record) {
        Ok(record) => record,
        Err(e) => return fail(format!("the shuffle record does not decode: {e}")),
    };
    let output = decode_rows(record.output, chain.width);
    let output = match output {
        Some(rows) if rows.len() == chain.rows.len() => rows,
        _ => return fail("its output is not the input's shape of canonical rows".to_owned()),
    };
    if digest(&output, chain.width) != key.output {
        return fail("its output is not the rows its key names".to_owned());
    }
    let payload = key.signed_payload(record.proof);
    let signed = (key.trustee, "shuffle", &payload[..], record.signature);
    if !setting
        .ceremony
        .signed(setting.election, index, signed, report)
    {
        return;
    }
    let verified = (|| {
        let input = MixBallots::new(chain.width, chain.rows.clone()).ok()?;
        let output = MixBallots::new(chain.width, output.clone()).ok()?;
        let mut dec = Decoder::new(record.proof);
        let proof = ShuffleProof::decode(&mut dec, input.len(), input.width()).ok()?;
        dec.finish().ok()?;
        let context = Context::shuffle(setting.election, setting.contest, u64::from(key.step));
        proof
            .verify(&threshold.public_key(), &input, &output, &context)
            .ok()
    })();
    if verified.is_none() {
        return report.fail(Check::Shuffle, Some(index), "the shuffle proof fails");
    }
    chain.rows = output;
    chain.digest = key.output;
    chain.steps.push(key.trustee);
    report.pass(Check::Shuffle);
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
    let threshold = setting.ceremony.key()?;
    if key.source != setting.source {
        return fail(
            report,
            format!("it answers entry {}, not the tally record", key.source),
        );
    }
    let needed = if chain.len() == 0 {
        0
    } else {
        threshold.threshold() as usize
    };
    if chain.steps.len() < needed {
        return fail(
            report,
            format!(
                "a share of batch {} before its {needed} shuffles",
                key.batch
            ),
        );
    }
    if key.rows != chain.digest {
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
    let verified = PartialDecryption::from_bytes(share.partial, chain.rows.len())
        .map_err(|e| e.to_string())
        .and_then(|p| {
            p.verify(threshold, &chain.rows, &context)
                .map_err(|e| e.to_string())
        });
    match verified {
        Ok(v) if v.trustee() == key.trustee => Some(v),
        Ok(_) => fail(report, "the partial decryption is another trustee's".into()),
        Err(e) => fail(report, format!("the partial decryption fails: {e}")),
    }
}

/// Rows of `width` canonical ciphertexts, or `None`.
fn decode_rows(bytes: &[u8], width: usize) -> Option<Vec<Ciphertext>> {
    if width == 0 || !bytes.len().is_multiple_of(64 * width) {
        return None;
    }
    let mut dec = Decoder::new(bytes);
    (0..bytes.len() / 64)
        .map(|_| Ciphertext::decode(&mut dec).ok())
        .collect()
}
