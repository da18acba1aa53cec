//! The tally (docs/protocol.md §4.8): running homomorphic sums of the counted ballots,
//! compared with the `TallyRecord`; every `DecryptionShare` checked against the record
//! and the threshold key; the `Result` recomputed from the first k shares per batch
//! and recounted.
//!
//! Memory stays per contest option, never per ballot: a re-cast ballot under
//! `last-counts` is subtracted from the sums when it is superseded (the board re-read
//! for it, checked against the leaf hash kept per credential).

use std::collections::HashMap;

use urna_crypto::threshold::{self, PartialDecryption, VerifiedPartialDecryption};
use urna_crypto::{Ciphertext, Context, DlogTable, EncryptedBallot};
use urna_election::{Manifest, tabulate_totals};

use super::ceremony::CeremonyRecords;
use crate::records::{ContestResult, DecryptionShare, TallyRecord, result_body};
use crate::report::{Check, Report};

/// The most baby steps of the discrete-log table (as the tally service uses).
const MAX_BABY_STEPS: u64 = 1 << 18;

/// One contest's running sums.
struct Sums {
    contest: String,
    ballots: u64,
    sums: Vec<Ciphertext>,
    /// The largest value one ballot can add to one option.
    max_value: u64,
}

/// The tally's state along the board.
pub(super) struct Tally {
    contests: Vec<Sums>,
    position: HashMap<String, usize>,
    record: Option<(u64, TallyRecord)>,
    /// Per batch, the valid shares in board order.
    shares: Vec<Vec<VerifiedPartialDecryption>>,
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
            .map(|c| Sums {
                contest: c.id().to_owned(),
                ballots: 0,
                sums: vec![Ciphertext::zero(); c.options().len()],
                max_value: max_values.get(c.id()).copied().unwrap_or(1),
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
            result: None,
        }
    }

    /// Adds a counted ballot to the sums.
    pub(super) fn add(&mut self, ballot: &EncryptedBallot) {
        self.apply(ballot, true);
    }

    /// Takes a superseded ballot out of the sums.
    pub(super) fn subtract(&mut self, ballot: &EncryptedBallot) {
        self.apply(ballot, false);
    }

    fn apply(&mut self, ballot: &EncryptedBallot, add: bool) {
        for (id, contest) in ballot.contests() {
            let Some(sums) = self
                .position
                .get(id)
                .and_then(|&i| self.contests.get_mut(i))
            else {
                continue;
            };
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
        for (ours, theirs) in self.contests.iter().zip(&record.contests) {
            if ours.contest != theirs.contest {
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

    /// Checks the `DecryptionShare` at `index`.
    pub(super) fn share(
        &mut self,
        index: u64,
        body: &[u8],
        election: &[u8; 32],
        ceremony: &CeremonyRecords,
        report: &mut Report,
    ) {
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
            Ok(results) => {
                let ok = result_body(&results) == body;
                report.record(
                    Check::Result,
                    index,
                    ok,
                    "the result entry is not the recount of the decrypted totals",
                );
                report.results = results;
            }
            Err(why) => report.fail(Check::Result, Some(index), why),
        }
    }

    fn recount(
        &self,
        manifest: &Manifest,
        ceremony: &CeremonyRecords,
    ) -> Result<Vec<ContestResult>, String> {
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
        for (b, (batch, shares)) in record.contests.iter().zip(&self.shares).enumerate() {
            if shares.len() < k {
                return Err(format!(
                    "batch {b} ({}) has {} valid shares, {k} are needed",
                    batch.contest,
                    shares.len()
                ));
            }
            let context = context(election, &batch.contest);
            let combine = |partials: &[VerifiedPartialDecryption]| {
                threshold::combine(key, &batch.sums, &context, partials)
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
            let tabulation = tabulate_totals(contest, &totals, batch.ballots)
                .map_err(|e| format!("contest {}: {e}", batch.contest))?;
            let options = contest.options();
            results.push(ContestResult {
                contest: batch.contest.clone(),
                ballots: batch.ballots,
                totals: options
                    .iter()
                    .zip(&totals)
                    .map(|(o, t)| (o.id().to_owned(), *t))
                    .collect(),
                winners: tabulation
                    .winners
                    .iter()
                    .filter_map(|w| options.get(w.index()).map(|o| o.id().to_owned()))
                    .collect(),
            });
        }
        Ok(results)
    }
}
