//! The mix-net (docs/protocol.md §4.9): after aggregation, every mix-net contest's
//! counted ballots are shuffled by k distinct trustees in turn, each shuffle checked
//! (Terelius–Wikström proof) before it is recorded and published as `ShuffleRecord`
//! parts; only the last output is decrypted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use urna_board::{Entry, EntryKind, parts};
use urna_crypto::encoding::Decoder;
use urna_crypto::mix::rows_digest;
use urna_crypto::{Context, MixBallots, ShuffleProof};
use urna_service::Board;
use urna_store::{Store, StoredShuffle, TallyBatch, TallyTask, Written};

use crate::aggregate::count_u32;
use crate::error::{Invalid, TallyError};
use crate::tally::{Tally, check_index, push_lp};

/// The domain tag of a shuffle record's parts.
pub const SHUFFLE_RECORD_TAG: &str = "urna/v1/shuffle-record";
/// The domain tag of a mixed contest's decryption share parts.
pub const MIX_SHARE_TAG: &str = "urna/v1/mix-decryption-share";

/// Board indexes of published shuffle records' first parts, by election, batch and
/// step: publishing is idempotent, this only spares the outbox the repeats.
pub(crate) type Published = Arc<Mutex<HashMap<(String, u32, u32), u64>>>;

/// What a trustee should do next in the mix-net.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MixWork {
    /// Shuffle this batch's rows as step `step`.
    Shuffle(MixTask),
    /// This trustee has shuffled every batch that still needs steps: wait for others.
    Wait,
    /// Every mix-net batch has its k steps (or the election has none).
    Done,
}

/// One mix step to perform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MixTask {
    /// The tally batch.
    pub batch: u32,
    /// Its contest.
    pub contest: String,
    /// The step to perform, from 0.
    pub step: u32,
    /// The steps the batch needs (k).
    pub steps: u32,
    /// Ciphertexts per row.
    pub width: u32,
    /// The input rows, 64 bytes per ciphertext, row after row.
    pub input: Vec<[u8; 64]>,
    /// The board entry that names the input by its digest: the `TallyRecord` for
    /// step 0, else the previous step's first `ShuffleRecord` part.
    pub source_index: u64,
}

/// What a mix-net batch decrypts: the last step's output, once the batch is mixed.
pub(crate) struct Mixed {
    pub(crate) ciphertexts: Vec<[u8; 64]>,
    /// The entry that names them (see [`MixTask::source_index`]).
    pub(crate) source_index: u64,
}

impl<S: Store> Tally<S> {
    /// The next mix step for trustee `trustee`, aggregating the tally on first demand.
    pub async fn mix_work(&self, election: &str, trustee: u32) -> Result<MixWork, TallyError> {
        let (params, _) = self.parameters(election).await?;
        check_index(&params, trustee)?;
        let task = self.aggregate(election).await?;
        let mut waiting = false;
        for (batch, work) in (0u32..).zip(&task.batches) {
            if work.width == 0 || work.ballots == 0 {
                continue;
            }
            let steps = self.store.mix_steps(election, batch).await?;
            if steps.len() >= params.threshold() as usize {
                continue;
            }
            if steps.iter().any(|s| s.trustee == trustee) {
                waiting = true;
                continue;
            }
            let (input, source_index) = self.mix_input(election, &task, batch, &steps).await?;
            return Ok(MixWork::Shuffle(MixTask {
                batch,
                contest: work.contest.clone(),
                step: count_u32(steps.len()),
                steps: params.threshold(),
                width: work.width,
                input,
                source_index,
            }));
        }
        Ok(if waiting {
            MixWork::Wait
        } else {
            MixWork::Done
        })
    }

    /// Records trustee `trustee`'s shuffle of batch `batch` as step `step` after
    /// checking its signature and proof, and publishes it; returns the board index of
    /// its first `ShuffleRecord` part. A repeat of the recorded step is accepted.
    #[allow(clippy::too_many_arguments)]
    pub async fn submit_shuffle(
        &self,
        election: &str,
        trustee: u32,
        batch: u32,
        step: u32,
        output: Vec<u8>,
        proof: Vec<u8>,
        signature: Vec<u8>,
    ) -> Result<u64, TallyError> {
        let (params, _) = self.parameters(election).await?;
        check_index(&params, trustee)?;
        let task = self.decryption_task(election).await?;
        let work = task.batches.get(batch as usize).ok_or(Invalid::Batch)?;
        if work.width == 0 || work.ballots == 0 {
            return Err(Invalid::Batch.into());
        }
        let steps = self.store.mix_steps(election, batch).await?;
        if let Some(recorded) = steps.get(step as usize) {
            let same = recorded.trustee == trustee
                && recorded.output == output
                && recorded.proof == proof
                && recorded.signature == signature;
            if !same {
                return Err(TallyError::Conflict("mix step"));
            }
            return self.publish_step(election, &task, work, recorded).await;
        }
        if step as usize > steps.len() {
            return Err(TallyError::WrongPhase("the previous mix step"));
        }
        if steps.len() >= params.threshold() as usize {
            return Err(TallyError::WrongPhase("a batch still being mixed"));
        }
        if steps.iter().any(|s| s.trustee == trustee) {
            return Err(Invalid::MixStep.into());
        }
        let (input, _) = self.mix_input(election, &task, batch, &steps).await?;
        let output_rows = ciphertext_rows(&output).ok_or(Invalid::Shuffle)?;
        let (width, rows) = (work.width as usize, input.len() / work.width as usize);
        if output_rows.len() != input.len() {
            return Err(Invalid::Shuffle.into());
        }
        // Digests of the bytes as they are: the signature is checked before any point
        // is decoded, so an unsigned request costs hashing only.
        let payload = shuffle_payload(
            batch,
            step,
            &rows_digest(rows, width, &input),
            &rows_digest(rows, width, &output_rows),
            &proof,
        );
        self.authenticate(election, &params, trustee, "shuffle", &payload, &signature)
            .await?;
        let key = self.threshold_key(election).await?.public_key();
        let context = Context::shuffle(params.election(), &work.contest, u64::from(step));
        let checked = {
            let proof = proof.clone();
            // Seconds of CPU for a large contest: off the async workers.
            tokio::task::spawn_blocking(move || {
                let input = mix_ballots(&input, width).ok()?;
                let output = mix_ballots(&output_rows, width).ok()?;
                let mut dec = Decoder::new(&proof);
                let decoded = ShuffleProof::decode(&mut dec, input.len(), input.width()).ok()?;
                dec.finish().ok()?;
                decoded.verify(&key, &input, &output, &context).ok()
            })
            .await
            .map_err(|_| TallyError::CorruptBoard)?
        };
        checked.ok_or(Invalid::Shuffle)?;
        let stored = StoredShuffle {
            batch,
            step,
            trustee,
            output,
            proof,
            signature,
        };
        if self.store.add_mix_step(election, stored.clone()).await? == Written::Different {
            return Err(TallyError::Conflict("mix step"));
        }
        tracing::info!(election, batch, step, trustee, rows, "mix step recorded");
        self.publish_step(election, &task, work, &stored).await
    }

    /// The ciphertexts batch `batch` decrypts and the entry that names them, once it
    /// is ready: a totals batch at once, a mix-net batch after its k steps (`None`
    /// before).
    pub(crate) async fn decryptable(
        &self,
        election: &str,
        task: &TallyTask,
        batch: u32,
        threshold: u32,
    ) -> Result<Option<Mixed>, TallyError> {
        let work = task.batches.get(batch as usize).ok_or(Invalid::Batch)?;
        if work.width == 0 || work.ballots == 0 {
            return Ok(Some(Mixed {
                ciphertexts: work.ciphertexts.clone(),
                source_index: task.source_index,
            }));
        }
        let steps = self.store.mix_steps(election, batch).await?;
        if steps.len() < threshold as usize {
            return Ok(None);
        }
        let (ciphertexts, source_index) = self.mix_input(election, task, batch, &steps).await?;
        Ok(Some(Mixed {
            ciphertexts,
            source_index,
        }))
    }

    /// The input of the step after `steps`: the batch's rows, or the last step's
    /// output (published first, so the entry naming it exists).
    async fn mix_input(
        &self,
        election: &str,
        task: &TallyTask,
        batch: u32,
        steps: &[StoredShuffle],
    ) -> Result<(Vec<[u8; 64]>, u64), TallyError> {
        let work = task.batches.get(batch as usize).ok_or(Invalid::Batch)?;
        match steps.last() {
            None => Ok((work.ciphertexts.clone(), task.source_index)),
            Some(last) => {
                let index = self.publish_step(election, task, work, last).await?;
                let rows = ciphertext_rows(&last.output).ok_or(TallyError::CorruptBoard)?;
                Ok((rows, index))
            }
        }
    }

    /// Appends a recorded step's `ShuffleRecord` parts (idempotent: parts already on
    /// the board keep their index); returns the first part's index.
    async fn publish_step(
        &self,
        election: &str,
        task: &TallyTask,
        work: &TallyBatch,
        step: &StoredShuffle,
    ) -> Result<u64, TallyError> {
        let cache_key = (election.to_owned(), step.batch, step.step);
        if let Some(&index) = self.lock_published().get(&cache_key) {
            return Ok(index);
        }
        let input = if step.step == 0 {
            work.ciphertexts.clone()
        } else {
            let steps = self.store.mix_steps(election, step.batch).await?;
            let previous = steps
                .get(step.step as usize - 1)
                .ok_or(TallyError::CorruptBoard)?;
            ciphertext_rows(&previous.output).ok_or(TallyError::CorruptBoard)?
        };
        let width = work.width as usize;
        let rows = input.len() / width.max(1);
        let output = ciphertext_rows(&step.output).ok_or(TallyError::CorruptBoard)?;
        let mut key = Vec::with_capacity(84);
        key.extend_from_slice(&task.source_index.to_be_bytes());
        key.extend_from_slice(&step.batch.to_be_bytes());
        key.extend_from_slice(&step.step.to_be_bytes());
        key.extend_from_slice(&step.trustee.to_be_bytes());
        key.extend_from_slice(&rows_digest(rows, width, &input));
        key.extend_from_slice(&rows_digest(rows, width, &output));
        let mut record = Vec::with_capacity(step.output.len() + step.proof.len() + 80);
        push_lp(&mut record, &step.output);
        push_lp(&mut record, &step.proof);
        push_lp(&mut record, &step.signature);
        let board = self.boards.get(election).await.map_err(TallyError::Board)?;
        let index = append_parts(
            &board,
            EntryKind::ShuffleRecord,
            SHUFFLE_RECORD_TAG,
            &key,
            &record,
        )
        .await?;
        self.lock_published().insert(cache_key, index);
        Ok(index)
    }

    fn lock_published(&self) -> std::sync::MutexGuard<'_, HashMap<(String, u32, u32), u64>> {
        // A poisoned map only caches indexes: its contents stay valid.
        self.published
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Appends `record` as consecutive parts of `kind` under `tag` and `key` (each part
/// once: a retry finds them on the board); returns the first part's index.
pub(crate) async fn append_parts(
    board: &Board,
    kind: EntryKind,
    tag: &str,
    key: &[u8],
    record: &[u8],
) -> Result<u64, TallyError> {
    let mut first = None;
    for body in parts::split(tag, key, record) {
        let entry =
            Entry::new(kind, *board.fingerprint(), body).map_err(|_| TallyError::CorruptBoard)?;
        let appended = board.append_once(entry).await.map_err(TallyError::Board)?;
        first.get_or_insert(appended.index);
    }
    first.ok_or(TallyError::CorruptBoard)
}

/// The payload a trustee signs for a shuffle (what = `shuffle`): `u32be(batch) ‖
/// u32be(step) ‖ input digest ‖ output digest ‖ proof`.
#[must_use]
pub fn shuffle_payload(
    batch: u32,
    step: u32,
    input: &[u8; 32],
    output: &[u8; 32],
    proof: &[u8],
) -> Vec<u8> {
    [
        &batch.to_be_bytes()[..],
        &step.to_be_bytes(),
        input,
        output,
        proof,
    ]
    .concat()
}

/// Whole 64-byte ciphertexts, or `None`.
pub(crate) fn ciphertext_rows(bytes: &[u8]) -> Option<Vec<[u8; 64]>> {
    if !bytes.len().is_multiple_of(64) {
        return None;
    }
    bytes
        .chunks_exact(64)
        .map(|c| <[u8; 64]>::try_from(c).ok())
        .collect()
}

/// The rows as [`MixBallots`], every ciphertext canonical.
fn mix_ballots(ciphertexts: &[[u8; 64]], width: usize) -> Result<MixBallots, TallyError> {
    let decoded = ciphertexts
        .iter()
        .map(|c| urna_crypto::Ciphertext::decode(&mut Decoder::new(c)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| TallyError::CorruptBoard)?;
    MixBallots::new(width, decoded).map_err(|_| TallyError::CorruptBoard)
}
