//! The threshold decryption of the tally: trustees' partial decryptions, checked
//! (DLEQ proofs) and published as `DecryptionShare` entries; once every batch has k
//! answers, the totals are combined, recovered from `m·G`, counted, published as the
//! `Result` entry and recorded as the election's write-once results. A trustee that
//! never answers blocks nothing while k others do. A mix-net contest's batch is its
//! last shuffle's output, decrypted row by row and counted from the whole ballots.

use sha2::{Digest, Sha256};
use urna_board::{Entry, EntryKind};
use urna_crypto::dkg::ThresholdPublicKey;
use urna_crypto::encoding::Decoder;
use urna_crypto::mix::rows_digest;
use urna_crypto::threshold::{self, PartialDecryption, VerifiedPartialDecryption};
use urna_crypto::{Ciphertext, Context, DlogTable};
use urna_election::{Contest, CvrFormat, count_rows, tabulate_totals};
use urna_store::{Store, StoredPartial, TallyTask, Written};

use crate::aggregate::count_u32;
use crate::error::{Invalid, TallyError};
use crate::mix::{MIX_SHARE_TAG, Mixed, append_parts};
use crate::tally::{Tally, push_lp};

/// The decrypted result of one contest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContestResult {
    /// The contest.
    pub contest: String,
    /// How many ballots were counted in it.
    pub ballots: u64,
    /// The decrypted total per option, in option order.
    pub totals: Vec<(String, u64)>,
    /// The winners' option ids, in order of election.
    pub winners: Vec<String>,
    /// A mix-net contest's cast-vote record, counted to the winners above.
    pub cvr: Option<Cvr>,
}

/// A mix-net contest's cast-vote record: one ballot per decrypted row, in the order of
/// the last shuffle's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cvr {
    /// BLT for rankings, the STAR CSV for scores.
    pub format: CvrFormat,
    /// The file.
    pub text: String,
    /// Its SHA-256, which the `Result` entry records.
    pub digest: [u8; 32],
    /// The count of it, round by round, as JSON (urna-election `Tabulation`).
    pub rounds: String,
}

/// One batch a trustee decrypts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecryptionBatch {
    /// The batch's contest.
    pub contest: String,
    /// 0 for totals, else ciphertexts per row (a mix-net contest's last output).
    pub width: u32,
    /// The ciphertexts, 64 bytes each.
    pub ciphertexts: Vec<[u8; 64]>,
    /// The board entry that names them: the `TallyRecord`, or for a mixed batch the
    /// last `ShuffleRecord`'s first part.
    pub source_index: u64,
    /// A mixed batch's rows as aggregated (the first shuffle's input); empty for
    /// totals.
    pub mix_input: Vec<[u8; 64]>,
}

/// What a recorded partial decryption led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartialRecorded {
    /// The index of its `DecryptionShare` entry on the board.
    pub board_index: u64,
    /// How many distinct trustees have answered the batch.
    pub answered: u32,
}

/// The proof context of a contest's tally (docs/protocol.md §1.13).
#[must_use]
pub fn tally_context(election: &[u8; 32], contest: &str) -> Context {
    Context::new("tally")
        .with(election)
        .with(contest.as_bytes())
}

impl<S: Store> Tally<S> {
    /// The decryption work, once the tally is aggregated.
    pub async fn decryption_task(&self, election: &str) -> Result<TallyTask, TallyError> {
        self.store
            .tally_task(election)
            .await?
            .ok_or(TallyError::WrongPhase("an aggregated tally"))
    }

    /// Every batch's ciphertexts to decrypt, once the mix-net batches have their k
    /// shuffles (`WrongPhase` before).
    pub async fn decryption_batches(
        &self,
        election: &str,
    ) -> Result<Vec<DecryptionBatch>, TallyError> {
        let (params, _) = self.parameters(election).await?;
        let task = self.aggregate(election).await?;
        let mut out = Vec::with_capacity(task.batches.len());
        for (batch, work) in (0u32..).zip(&task.batches) {
            let mixed = self
                .decryptable(election, &task, batch, params.threshold())
                .await?
                .ok_or(TallyError::WrongPhase("a finished mix-net"))?;
            out.push(DecryptionBatch {
                contest: work.contest.clone(),
                width: work.width,
                ciphertexts: mixed.ciphertexts,
                source_index: mixed.source_index,
                mix_input: if work.width == 0 {
                    Vec::new()
                } else {
                    work.ciphertexts.clone()
                },
            });
        }
        Ok(out)
    }

    /// Records trustee `index`'s signed partial decryption of batch `batch` after
    /// checking every proof, and publishes it; completes the results as soon as every
    /// batch has k answers.
    pub async fn submit_partial(
        &self,
        election: &str,
        index: u32,
        batch: u32,
        partial: Vec<u8>,
        signature: Vec<u8>,
    ) -> Result<PartialRecorded, TallyError> {
        let (params, _) = self.parameters(election).await?;
        let mut payload = batch.to_be_bytes().to_vec();
        payload.extend_from_slice(&partial);
        self.authenticate(
            election,
            &params,
            index,
            "partial-decryption",
            &payload,
            &signature,
        )
        .await?;
        let task = self.decryption_task(election).await?;
        let key = self.threshold_key(election).await?;
        let work = task.batches.get(batch as usize).ok_or(Invalid::Batch)?;
        let mixed = self
            .decryptable(election, &task, batch, params.threshold())
            .await?
            .ok_or(TallyError::WrongPhase("a finished mix-net"))?;
        let verified = {
            let (contest, ciphertexts) = (work.contest.clone(), mixed.ciphertexts.clone());
            let (election, partial) = (*params.election(), partial.clone());
            off_the_runtime(move || {
                verify_partial(&key, &election, &contest, &ciphertexts, &partial)
            })
            .await?
        };
        if verified.trustee() != index {
            return Err(Invalid::Partial.into());
        }
        let stored = StoredPartial {
            trustee: index,
            batch,
            partial,
            signature,
        };
        if self.store.add_partial(election, stored.clone()).await? == Written::Different {
            // Answered before (a retry draws other nonces): the recorded answer is the
            // one that counts, so it must be on the board even if that call was cut
            // short.
            let recorded = self.store.partials(election, batch).await?;
            if let Some(recorded) = recorded.iter().find(|p| p.trustee == index) {
                self.publish_partial(election, &task, batch, &mixed, recorded)
                    .await?;
            }
            return Err(TallyError::Conflict("partial decryption"));
        }
        let board_index = self
            .publish_partial(election, &task, batch, &mixed, &stored)
            .await?;
        let answered = count_u32(self.store.partials(election, batch).await?.len());
        let mut complete = true;
        for b in 0..task.batches.len() {
            let n = self.store.partials(election, count_u32(b)).await?.len();
            complete &= n >= params.threshold() as usize;
        }
        if complete {
            self.publish_results(election).await?;
        }
        Ok(PartialRecorded {
            board_index,
            answered,
        })
    }

    /// The results, once every batch has k partial decryptions (`None` before).
    pub async fn results(&self, election: &str) -> Result<Option<Vec<ContestResult>>, TallyError> {
        if let Some(results) = self.lock_results().get(election) {
            return Ok(Some(results.clone()));
        }
        let (params, _) = self.parameters(election).await?;
        let Some(task) = self.store.tally_task(election).await? else {
            return Ok(None);
        };
        let key = self.threshold_key(election).await?;
        let context = self
            .elections
            .get(election)
            .await
            .map_err(TallyError::Board)?;
        let mut results = Vec::with_capacity(task.batches.len());
        for (b, work) in (0u32..).zip(&task.batches) {
            let partials = self.store.partials(election, b).await?;
            if partials.len() < params.threshold() as usize {
                return Ok(None);
            }
            let Some(mixed) = self
                .decryptable(election, &task, b, params.threshold())
                .await?
            else {
                return Ok(None);
            };
            let contest = context
                .manifest()
                .contests()
                .iter()
                .find(|c| c.id() == work.contest)
                .ok_or(TallyError::CorruptBoard)?
                .clone();
            let partials: Vec<Vec<u8>> = partials
                .into_iter()
                .take(params.threshold() as usize)
                .map(|p| p.partial)
                .collect();
            let (key, fingerprint, dlog) = (key.clone(), *params.election(), self.dlog.clone());
            let (width, ballots) = (work.width, work.ballots);
            // Every proof of every row for a mix-net contest: off the async workers.
            results.push(
                off_the_runtime(move || {
                    let verified = partials
                        .iter()
                        .map(|p| {
                            verify_partial(&key, &fingerprint, contest.id(), &mixed.ciphertexts, p)
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    let ciphertexts = decode_ciphertexts(&mixed.ciphertexts)?;
                    let context_t = tally_context(&fingerprint, contest.id());
                    let points = threshold::combine(&key, &ciphertexts, &context_t, &verified)
                        .map_err(|_| TallyError::CorruptBoard)?;
                    let table = dlog.get_or_init(DlogTable::new);
                    let values = points
                        .iter()
                        .map(|p| table.recover(p.point()))
                        .collect::<Result<Vec<u64>, _>>()
                        .map_err(|_| TallyError::CorruptBoard)?;
                    if width == 0 {
                        count_totals(&contest, &values, ballots)
                    } else {
                        count_mixed(&contest, &values, ballots)
                    }
                })
                .await?,
            );
        }
        self.lock_results()
            .insert(election.to_owned(), results.clone());
        Ok(Some(results))
    }

    /// The `Result` entry on the board (index and envelope), once published.
    pub async fn result_entry(&self, election: &str) -> Result<Option<(u64, Vec<u8>)>, TallyError> {
        let Some(task) = self.store.tally_task(election).await? else {
            return Ok(None);
        };
        let board = self.boards.get(election).await.map_err(TallyError::Board)?;
        let size = board.latest().checkpoint().size();
        let entries = board
            .entries(task.source_index, size)
            .await
            .map_err(TallyError::Board)?;
        Ok((task.source_index..)
            .zip(entries)
            .find(|(_, bytes)| Entry::decode(bytes).is_ok_and(|e| e.kind() == EntryKind::Result)))
    }

    /// Appends a recorded partial decryption's `DecryptionShare` entry (or, for a
    /// mixed batch, its parts) once: a repeat finds them on the board. Returns the
    /// (first) entry's index.
    async fn publish_partial(
        &self,
        election: &str,
        task: &TallyTask,
        batch: u32,
        mixed: &Mixed,
        stored: &StoredPartial,
    ) -> Result<u64, TallyError> {
        let work = task.batches.get(batch as usize).ok_or(Invalid::Batch)?;
        let board = self.boards.get(election).await.map_err(TallyError::Board)?;
        let mut key = task.source_index.to_be_bytes().to_vec();
        key.extend_from_slice(&batch.to_be_bytes());
        key.extend_from_slice(&stored.trustee.to_be_bytes());
        if work.width == 0 {
            let mut body = Vec::new();
            push_lp(&mut body, b"urna/v1/decryption-share");
            body.extend_from_slice(&key);
            push_lp(&mut body, &stored.partial);
            push_lp(&mut body, &stored.signature);
            let entry = Entry::new(EntryKind::DecryptionShare, *board.fingerprint(), body)
                .map_err(|_| Invalid::Partial)?;
            let appended = board.append_once(entry).await.map_err(TallyError::Board)?;
            return Ok(appended.index);
        }
        let width = work.width as usize;
        let rows = mixed.ciphertexts.len() / width;
        key.extend_from_slice(&rows_digest(rows, width, &mixed.ciphertexts));
        let mut record = Vec::with_capacity(stored.partial.len() + 72);
        push_lp(&mut record, &stored.partial);
        push_lp(&mut record, &stored.signature);
        append_parts(
            &board,
            EntryKind::DecryptionShare,
            MIX_SHARE_TAG,
            &key,
            &record,
        )
        .await
    }

    /// Publishes the `Result` entry and records the results (write-once, so a second
    /// caller changes nothing). Every recorded partial decryption is published first
    /// (again: appends are once), so the `Result` never precedes a share it counts,
    /// even one whose trustee's call is still appending its parts or was cut short.
    async fn publish_results(&self, election: &str) -> Result<(), TallyError> {
        let Some(results) = self.results(election).await? else {
            return Ok(());
        };
        let (params, _) = self.parameters(election).await?;
        let task = self.decryption_task(election).await?;
        for batch in (0u32..).take(task.batches.len()) {
            let mixed = self
                .decryptable(election, &task, batch, params.threshold())
                .await?
                .ok_or(TallyError::WrongPhase("a finished mix-net"))?;
            for stored in self.store.partials(election, batch).await? {
                self.publish_partial(election, &task, batch, &mixed, &stored)
                    .await?;
            }
        }
        let body = result_body(&results);
        let board = self.boards.get(election).await.map_err(TallyError::Board)?;
        let entry = Entry::new(EntryKind::Result, *board.fingerprint(), body.clone())
            .map_err(|_| TallyError::CorruptBoard)?;
        board.append_once(entry).await.map_err(TallyError::Board)?;
        self.store.record_results(election, &body).await?;
        Ok(())
    }

    fn lock_results(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Vec<ContestResult>>> {
        // A poisoned map only caches complete results: its contents stay valid.
        self.results
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The ceremony's threshold public key, as recorded with the joint key.
    pub(crate) async fn threshold_key(
        &self,
        election: &str,
    ) -> Result<ThresholdPublicKey, TallyError> {
        let joint = self
            .store
            .joint_key(election)
            .await?
            .ok_or(TallyError::WrongPhase("a finished key ceremony"))?;
        ThresholdPublicKey::from_bytes(&joint.ceremony).map_err(|_| TallyError::CorruptBoard)
    }
}

/// A homomorphic contest counted from its decrypted totals.
fn count_totals(
    contest: &Contest,
    totals: &[u64],
    ballots: u64,
) -> Result<ContestResult, TallyError> {
    let tabulation =
        tabulate_totals(contest, totals, ballots).map_err(|_| TallyError::CorruptBoard)?;
    let options = contest.options();
    Ok(ContestResult {
        contest: contest.id().to_owned(),
        ballots,
        totals: options
            .iter()
            .zip(totals)
            .map(|(o, t)| (o.id().to_owned(), *t))
            .collect(),
        winners: tabulation.winner_ids(contest),
        cvr: None,
    })
}

/// A mix-net contest counted from its decrypted rows (one value per option each).
fn count_mixed(
    contest: &Contest,
    values: &[u64],
    ballots: u64,
) -> Result<ContestResult, TallyError> {
    let width = contest.options().len().max(1);
    let rows: Vec<&[u64]> = values.chunks(width).collect();
    let count = count_rows(contest, &rows).map_err(|e| {
        tracing::error!(contest = contest.id(), error = %e, "a mixed contest does not count");
        TallyError::CorruptBoard
    })?;
    Ok(ContestResult {
        contest: contest.id().to_owned(),
        ballots,
        totals: Vec::new(),
        winners: count.tabulation.winner_ids(contest),
        cvr: Some(Cvr {
            format: count.format,
            rounds: count
                .tabulation
                .to_json()
                .map_err(|_| TallyError::CorruptBoard)?,
            digest: Sha256::digest(count.cvr.as_bytes()).into(),
            text: count.cvr,
        }),
    })
}

/// Runs CPU-heavy `work` (proofs over every row of a mix-net contest) on the blocking
/// pool, so the async workers keep serving.
async fn off_the_runtime<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, TallyError> + Send + 'static,
) -> Result<T, TallyError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| TallyError::CorruptBoard)?
}

/// Decodes a partial decryption of `ciphertexts` (of `contest`) and checks every proof.
fn verify_partial(
    key: &ThresholdPublicKey,
    election: &[u8; 32],
    contest: &str,
    ciphertexts: &[[u8; 64]],
    partial: &[u8],
) -> Result<VerifiedPartialDecryption, TallyError> {
    let ciphertexts = decode_ciphertexts(ciphertexts)?;
    let decoded =
        PartialDecryption::from_bytes(partial, ciphertexts.len()).map_err(|_| Invalid::Partial)?;
    decoded
        .verify(key, &ciphertexts, &tally_context(election, contest))
        .map_err(|_| Invalid::Partial.into())
}

fn decode_ciphertexts(ciphertexts: &[[u8; 64]]) -> Result<Vec<Ciphertext>, TallyError> {
    ciphertexts
        .iter()
        .map(|c| Ciphertext::decode(&mut Decoder::new(c)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| TallyError::CorruptBoard)
}

/// The `Result` body: `lp("urna/v1/result") ‖ u32be(C)`, then per contest
/// `lp(contest id) ‖ u64be(ballots) ‖ u32be(T) ‖ T × (lp(option id) ‖ u64be(total)) ‖
/// u32be(W) ‖ W × lp(winner option id) ‖ lp(CVR digest)`, the digest empty for a
/// homomorphic contest and the SHA-256 of the cast-vote record for a mix-net one.
#[must_use]
pub fn result_body(results: &[ContestResult]) -> Vec<u8> {
    let mut out = Vec::new();
    push_lp(&mut out, b"urna/v1/result");
    out.extend_from_slice(&count_u32(results.len()).to_be_bytes());
    for r in results {
        push_lp(&mut out, r.contest.as_bytes());
        out.extend_from_slice(&r.ballots.to_be_bytes());
        out.extend_from_slice(&count_u32(r.totals.len()).to_be_bytes());
        for (option, total) in &r.totals {
            push_lp(&mut out, option.as_bytes());
            out.extend_from_slice(&total.to_be_bytes());
        }
        out.extend_from_slice(&count_u32(r.winners.len()).to_be_bytes());
        for w in &r.winners {
            push_lp(&mut out, w.as_bytes());
        }
        push_lp(&mut out, r.cvr.as_ref().map_or(&[][..], |c| &c.digest[..]));
    }
    out
}
