//! The tally (docs/protocol.md §4.8): running homomorphic sums of the counted ballots,
//! compared with the `TallyRecord`; every `DecryptionShare` checked against the record
//! and the threshold key; the `Result` recomputed from the first k shares per batch
//! and recounted.
//!
//! Memory stays per contest option, never per ballot, for homomorphic contests: a
//! re-cast ballot under `last-counts` is subtracted from the sums when it is
//! superseded (the board re-read for it, checked against the leaf hash kept per
//! credential). Mix-net contests keep their rows (`mix.rs`), and their shuffle
//! records and decryption shares arrive as parts.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use urna_board::parts::Part;
use urna_crypto::threshold::{self, PartialDecryption, VerifiedPartialDecryption};
use urna_crypto::{Ciphertext, Context, DlogTable, EncryptedBallot};
use urna_election::{Manifest, TallyKind, count_rows, tabulate_totals};

use super::ceremony::CeremonyRecords;
use super::mix::{self, MixChain, Parts, Setting};
use crate::records::{
    ContestResult, DecryptionShare, MIX_SHARE_TAG, MixShareKey, SHUFFLE_RECORD_TAG, ShuffleKey,
    TallyRecord, result_body,
};
use crate::report::{Check, ContestCvr, Report};

/// The most baby steps of the discrete-log table (as the tally service uses).
const MAX_BABY_STEPS: u64 = 1 << 18;

/// One contest's running sums.
struct Sums {
    contest: String,
    ballots: u64,
    sums: Vec<Ciphertext>,
    /// The largest value one ballot can add to one option.
    max_value: u64,
    /// A mix-net contest's rows and shuffles.
    chain: Option<MixChain>,
}

/// The tally's state along the board.
pub(super) struct Tally {
    contests: Vec<Sums>,
    position: HashMap<String, usize>,
    record: Option<(u64, TallyRecord)>,
    /// Per batch, the valid shares in board order.
    shares: Vec<Vec<VerifiedPartialDecryption>>,
    /// Shuffle records and mixed shares not yet whole.
    parts: Parts,
    result: Option<u64>,
}

/// The proof context of a contest's tally (docs/protocol.md §4.8).
fn context(election: &[u8; 32], contest: &str) -> Context {
    Context::new("tally")
        .with(election)
        .with(contest.as_bytes())
}

impl Tally {
    /// Empty sums for every contest of `manifest`; `max_values` bounds each contest's
    /// per-ballot value (from the ballot layouts).
    pub(super) fn new(manifest: &Manifest, max_values: &HashMap<String, u64>) -> Self {
        let contests: Vec<Sums> = manifest
            .contests()
            .iter()
            .map(|c| {
                let mixed = c.tally() == TallyKind::Mixnet;
                Sums {
                    contest: c.id().to_owned(),
                    ballots: 0,
                    sums: if mixed {
                        Vec::new()
                    } else {
                        vec![Ciphertext::zero(); c.options().len()]
                    },
                    max_value: max_values.get(c.id()).copied().unwrap_or(1),
                    chain: mixed.then(|| MixChain::new(c.options().len())),
                }
            })
            .collect();
        let position = contests
            .iter()
            .enumerate()
            .map(|(i, c)| (c.contest.clone(), i))
            .collect();
        Self {
            contests,
            position,
            record: None,
            shares: Vec::new(),
            parts: Parts::default(),
            result: None,
        }
    }

    /// Adds the counted ballot at board index `index` to the sums.
    pub(super) fn add(&mut self, index: u64, ballot: &EncryptedBallot) {
        self.apply(index, ballot, true);
    }

    /// Takes the superseded ballot at `index` out of the sums.
    pub(super) fn subtract(&mut self, index: u64, ballot: &EncryptedBallot) {
        self.apply(index, ballot, false);
    }

    fn apply(&mut self, index: u64, ballot: &EncryptedBallot, add: bool) {
        for (id, contest) in ballot.contests() {
            let Some(sums) = self
                .position
                .get(id)
                .and_then(|&i| self.contests.get_mut(i))
            else {
                continue;
            };
            if let Some(chain) = &mut sums.chain {
                chain.apply(index, contest.ciphertexts(), add);
            }
            for (sum, c) in sums.sums.iter_mut().zip(contest.ciphertexts()) {
                *sum = if add {
                    sum.add(c)
                } else {
                    Ciphertext::from_points(
                        sum.a().point() - c.a().point(),
                        sum.b().point() - c.b().point(),
                    )
                };
            }
            sums.ballots = if add {
                sums.ballots + 1
            } else {
                sums.ballots.saturating_sub(1)
            };
        }
    }

    /// Checks the `TallyRecord` at `index` against the sums; `closed` is the
    /// polls-closed entry's index.
    pub(super) fn record(
        &mut self,
        index: u64,
        body: &[u8],
        closed: Option<u64>,
        ceremony: &CeremonyRecords,
        report: &mut Report,
    ) {
        let mut fail = |why: String| report.fail(Check::TallyRecord, Some(index), why);
        if let Some((first, _)) = &self.record {
            return fail(format!("a second tally record (the first at {first})"));
        }
        let record = match TallyRecord::decode(body) {
            Ok(record) => record,
            Err(e) => return fail(format!("the tally record does not decode: {e}")),
        };
        let mut problems = Vec::new();
        if closed != Some(record.polls_closed) {
            problems.push(format!(
                "it names entry {} as polls-closed, the board has {}",
                record.polls_closed,
                closed.map_or("none".to_owned(), |c| c.to_string())
            ));
        }
        if !ceremony.closed() {
            problems.push("it precedes the ceremony's threshold key".to_owned());
        }
        if record.contests.len() != self.contests.len() {
            problems.push(format!(
                "{} contests, the manifest has {}",
                record.contests.len(),
                self.contests.len()
            ));
        }
        for (ours, theirs) in self.contests.iter_mut().zip(&record.contests) {
            if let Some(chain) = &mut ours.chain {
                let digest = chain.seal(index);
                if ours.contest != theirs.contest || ours.ballots != theirs.ballots {
                    problems.push(format!(
                        "mix-net contest {}: {} ballots counted, the record names {} with {}",
                        ours.contest, ours.ballots, theirs.contest, theirs.ballots
                    ));
                } else if theirs
                    .rows
                    .is_none_or(|r| r.digest != digest || r.width as usize != chain.width)
                {
                    problems.push(format!(
                        "mix-net contest {}: the rows are not those of the counted ballots",
                        ours.contest
                    ));
                }
                continue;
            }
            if theirs.rows.is_some() {
                problems.push(format!(
                    "contest {} is homomorphic, the record gives it rows",
                    theirs.contest
                ));
            } else if ours.contest != theirs.contest {
                problems.push(format!(
                    "contest {} where the manifest has {}",
                    theirs.contest, ours.contest
                ));
            } else if ours.ballots != theirs.ballots {
                problems.push(format!(
                    "contest {}: {} ballots counted, the record says {}",
                    ours.contest, ours.ballots, theirs.ballots
                ));
            } else if ours.sums != theirs.sums {
                problems.push(format!(
                    "contest {}: the encrypted sums are not those of the counted ballots",
                    ours.contest
                ));
            }
        }
        if problems.is_empty() {
            report.pass(Check::TallyRecord);
        } else {
            fail(problems.join("; "));
        }
        self.shares = vec![Vec::new(); record.contests.len()];
        self.record = Some((index, record));
    }

    /// Checks the `DecryptionShare` at `index` (a mixed contest's share comes in
    /// parts, checked once whole).
    pub(super) fn share(
        &mut self,
        index: u64,
        body: &[u8],
        election: &[u8; 32],
        ceremony: &CeremonyRecords,
        report: &mut Report,
    ) {
        if Part::decode(body).is_ok_and(|p| p.tag == MIX_SHARE_TAG) {
            let whole = self.parts.push(index, body, Check::DecryptionShare, report);
            if let Some((_, key, record, first)) = whole {
                self.mixed_share(first, &key, &record, election, ceremony, report);
            }
            return;
        }
        let fail = |report: &mut Report, why: String| {
            report.fail(Check::DecryptionShare, Some(index), why);
        };
        let share = match DecryptionShare::decode(body) {
            Ok(share) => share,
            Err(e) => return fail(report, format!("the share does not decode: {e}")),
        };
        let (Some((source, record)), Some(key)) = (&self.record, ceremony.key()) else {
            return fail(report, "a share before the tally record".to_owned());
        };
        if share.source != *source {
            return fail(
                report,
                format!("it answers entry {}, not the tally record", share.source),
            );
        }
        let Some(batch) = record.contests.get(share.batch as usize) else {
            return fail(report, format!("batch {} is out of range", share.batch));
        };
        if batch.rows.is_some() {
            return fail(
                report,
                format!(
                    "batch {} is a mix-net contest's: its shares come in parts",
                    share.batch
                ),
            );
        }
        if key.verification_key(share.trustee).is_none() {
            return fail(
                report,
                format!("trustee {} is not in the threshold key", share.trustee),
            );
        }
        let payload = share.signed_payload();
        let signed = (
            share.trustee,
            "partial-decryption",
            &payload[..],
            share.signature,
        );
        if !ceremony.signed(election, index, signed, report) {
            return;
        }
        let verified = PartialDecryption::from_bytes(share.partial, batch.sums.len())
            .map_err(|e| e.to_string())
            .and_then(|p| {
                p.verify(key, &batch.sums, &context(election, &batch.contest))
                    .map_err(|e| e.to_string())
            });
        let verified = match verified {
            Ok(v) if v.trustee() == share.trustee => v,
            Ok(_) => return fail(report, "the partial decryption is another trustee's".into()),
            Err(e) => return fail(report, format!("the partial decryption fails: {e}")),
        };
        let answered = &mut self.shares[share.batch as usize];
        if answered.iter().any(|v| v.trustee() == share.trustee) {
            return fail(
                report,
                format!(
                    "trustee {} answered batch {} before",
                    share.trustee, share.batch
                ),
            );
        }
        answered.push(verified);
        report.pass(Check::DecryptionShare);
    }

    /// Checks the `ShuffleRecord` part at `index`; a whole record is checked as its
    /// batch's next mix step.
    pub(super) fn shuffle(
        &mut self,
        index: u64,
        body: &[u8],
        election: &[u8; 32],
        ceremony: &CeremonyRecords,
        report: &mut Report,
    ) {
        if !Part::decode(body).is_ok_and(|p| p.tag == SHUFFLE_RECORD_TAG) {
            return report.fail(Check::Shuffle, Some(index), "not a shuffle record part");
        }
        let Some((_, key, record, first)) = self.parts.push(index, body, Check::Shuffle, report)
        else {
            return;
        };
        let key = match ShuffleKey::decode(&key) {
            Ok(key) => key,
            Err(e) => return report.fail(Check::Shuffle, Some(first), format!("its key: {e}")),
        };
        let Some((source, record_body)) = &self.record else {
            return report.fail(
                Check::Shuffle,
                Some(first),
                "a shuffle before the tally record",
            );
        };
        if self.result.is_some() {
            return report.fail(Check::Shuffle, Some(first), "a shuffle after the result");
        }
        let Some((contest, chain)) = mixed_batch(record_body, &mut self.contests, key.batch) else {
            return report.fail(
                Check::Shuffle,
                Some(first),
                format!("batch {} is not a mix-net contest's", key.batch),
            );
        };
        let setting = Setting {
            election,
            source: *source,
            contest,
            ceremony,
        };
        mix::shuffle(chain, &key, &record, first, &setting, report);
    }

    fn mixed_share(
        &mut self,
        index: u64,
        key: &[u8],
        record: &[u8],
        election: &[u8; 32],
        ceremony: &CeremonyRecords,
        report: &mut Report,
    ) {
        let fail = |report: &mut Report, why: String| {
            report.fail(Check::DecryptionShare, Some(index), why);
        };
        let key = match MixShareKey::decode(key) {
            Ok(key) => key,
            Err(e) => return fail(report, format!("its key: {e}")),
        };
        let Some((source, record_body)) = &self.record else {
            return fail(report, "a share before the tally record".to_owned());
        };
        let Some((contest, chain)) = mixed_batch(record_body, &mut self.contests, key.batch) else {
            return fail(
                report,
                format!("batch {} is not a mix-net contest's", key.batch),
            );
        };
        let setting = Setting {
            election,
            source: *source,
            contest,
            ceremony,
        };
        let Some(verified) = mix::share(chain, &key, record, index, &setting, report) else {
            return;
        };
        let Some(answered) = self.shares.get_mut(key.batch as usize) else {
            return;
        };
        if answered.iter().any(|v| v.trustee() == key.trustee) {
            return fail(
                report,
                format!(
                    "trustee {} answered batch {} before",
                    key.trustee, key.batch
                ),
            );
        }
        answered.push(verified);
        report.pass(Check::DecryptionShare);
    }

    /// Fails the records whose parts never finished.
    pub(super) fn finish(&self, report: &mut Report) {
        self.parts.finish(report);
    }

    /// Checks the `Result` at `index`: the first k shares per batch decrypt the
    /// totals (and the last k agree), recounted per the manifest's method.
    pub(super) fn result(
        &mut self,
        index: u64,
        body: &[u8],
        manifest: &Manifest,
        ceremony: &CeremonyRecords,
        report: &mut Report,
    ) {
        if let Some(first) = self.result {
            return report.fail(
                Check::Result,
                Some(index),
                format!("a second result (the first at {first})"),
            );
        }
        self.result = Some(index);
        match self.recount(manifest, ceremony) {
            Ok((results, cvrs)) => {
                let ok = result_body(&results) == body;
                report.record(
                    Check::Result,
                    index,
                    ok,
                    "the result entry is not the recount of the decrypted totals and ballots",
                );
                report.results = results;
                report.cvrs = cvrs;
            }
            Err(why) => report.fail(Check::Result, Some(index), why),
        }
    }

    fn recount(
        &self,
        manifest: &Manifest,
        ceremony: &CeremonyRecords,
    ) -> Result<(Vec<ContestResult>, Vec<ContestCvr>), String> {
        let (Some((_, record)), Some(key)) = (&self.record, ceremony.key()) else {
            return Err("a result without a tally record and threshold key".to_owned());
        };
        let k = key.threshold() as usize;
        let bound = self
            .contests
            .iter()
            .map(|c| c.ballots.saturating_mul(c.max_value))
            .chain(record.contests.iter().map(|c| c.ballots))
            .max()
            .unwrap_or(0)
            .saturating_add(1);
        let table = DlogTable::with_size(bound.isqrt().clamp(1, MAX_BABY_STEPS) as u32, bound);
        let election = key.parameters().election();
        let mut results = Vec::with_capacity(record.contests.len());
        let mut cvrs = Vec::new();
        for (b, (batch, shares)) in record.contests.iter().zip(&self.shares).enumerate() {
            let chain = self.contests.get(b).and_then(|c| c.chain.as_ref());
            if shares.len() < k {
                return Err(format!(
                    "batch {b} ({}) has {} valid shares, {k} are needed",
                    batch.contest,
                    shares.len()
                ));
            }
            if let Some(chain) = chain
                && !chain.chain.is_mixed(key)
            {
                return Err(format!(
                    "batch {b} ({}) has {} valid shuffles, {k} are needed",
                    batch.contest,
                    chain.chain.steps().len()
                ));
            }
            let context = context(election, &batch.contest);
            let ciphertexts = chain.map_or(&batch.sums[..], |c| c.chain.rows());
            let combine = |partials: &[VerifiedPartialDecryption]| {
                threshold::combine(key, ciphertexts, &context, partials)
                    .map_err(|e| format!("batch {b}: {e}"))
            };
            let points = combine(&shares[..k])?;
            if points != combine(&shares[shares.len() - k..])? {
                return Err(format!("batch {b}: two sets of k shares disagree"));
            }
            let totals = points
                .iter()
                .map(|p| table.recover(p.point()))
                .collect::<Result<Vec<u64>, _>>()
                .map_err(|_| format!("batch {b}: a total is beyond the ballots counted"))?;
            let contest = manifest.contest(&batch.contest).ok_or_else(|| {
                format!(
                    "batch {b}: contest {} is not in the manifest",
                    batch.contest
                )
            })?;
            let options = contest.options();
            if chain.is_some() {
                let rows: Vec<&[u64]> = totals.chunks(options.len().max(1)).collect();
                let count = count_rows(contest, &rows)
                    .map_err(|e| format!("contest {}: a decrypted ballot: {e}", batch.contest))?;
                results.push(ContestResult {
                    contest: batch.contest.clone(),
                    ballots: batch.ballots,
                    totals: Vec::new(),
                    winners: count.tabulation.winner_ids(contest),
                    cvr_digest: Some(Sha256::digest(count.cvr.as_bytes()).into()),
                });
                cvrs.push(ContestCvr {
                    contest: batch.contest.clone(),
                    format: count.format,
                    text: count.cvr,
                    tabulation: count.tabulation,
                });
                continue;
            }
            let tabulation = tabulate_totals(contest, &totals, batch.ballots)
                .map_err(|e| format!("contest {}: {e}", batch.contest))?;
            results.push(ContestResult {
                contest: batch.contest.clone(),
                ballots: batch.ballots,
                totals: options
                    .iter()
                    .zip(&totals)
                    .map(|(o, t)| (o.id().to_owned(), *t))
                    .collect(),
                winners: tabulation.winner_ids(contest),
                cvr_digest: None,
            });
        }
        Ok((results, cvrs))
    }
}

/// Batch `batch`'s contest id and mix chain, if it is a mix-net contest's.
fn mixed_batch<'a>(
    record: &'a TallyRecord,
    contests: &'a mut [Sums],
    batch: u32,
) -> Option<(&'a str, &'a mut MixChain)> {
    let contest = record.contests.get(batch as usize)?;
    let chain = contests.get_mut(batch as usize)?.chain.as_mut()?;
    Some((contest.contest.as_str(), chain))
}
