//! The trustee's side of the mix-net and the threshold decryption (docs/protocol.md
//! §1.13, §4.8, §4.9): shuffle every mix-net batch the tally service hands out, each
//! input checked against the digest the public board names for it; then wait for the
//! decryption task, check every batch against the board, and answer it with a signed
//! partial decryption and its proofs.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use ed25519_dalek::{Signature, VerifyingKey};
use rand::SeedableRng as _;
use rand::rngs::ChaCha20Rng;
use tonic::Code;
use tonic::transport::Channel;
use urna_board::parts::{Assembler, Part};
use urna_board::{Entry, EntryKind};
use urna_crypto::dkg::ThresholdPublicKey;
use urna_crypto::encoding::{Decoder, Encoder};
use urna_crypto::mix::rows_digest;
use urna_crypto::threshold::PartialDecryption;
use urna_crypto::{Ciphertext, Context, EncryptionKey, MixBallots, ShuffleProof, shuffle};
use urna_proto::v1 as pb;
use urna_proto::v1::board_client::BoardClient;
use urna_proto::v1::tally_client::TallyClient;
use urna_tally::{shuffle_payload, signed_message, tally_context};
use urna_verify::mixnet::{ShuffleChain, decode_rows};
use urna_verify::records::{
    CeremonyRecord, CeremonyTag, ContestTally, SHUFFLE_RECORD_TAG, ShuffleKey, TallyRecord,
};

use super::ceremony::{Polling, Registered};
use super::share_file::ShareFile;

/// What a trustee's run did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decrypted {
    /// Mix steps this run performed.
    pub shuffles: usize,
    /// Batches answered with a partial decryption (in this run or an earlier one).
    pub batches: usize,
}

/// Trustee `file` takes its part in the tally: shuffles every mix-net batch the tally
/// service asks it to (each input checked against the board first), then waits
/// (polling) until the tally service has a decryption task, checks that its
/// ciphertexts are exactly those the board names (refusing otherwise), and submits one
/// signed partial decryption per batch (unless `shuffle_only`). A batch it answered in
/// an earlier run counts as answered.
pub async fn decrypt(
    tally: &mut TallyClient<Channel>,
    board: &mut BoardClient<Channel>,
    file: &ShareFile,
    polling: Polling,
    shuffle_only: bool,
) -> Result<Decrypted> {
    let me = Registered::of(file)?;
    let share = file
        .key_share()
        .context("the share file has no key share: run `urna trustee ceremony` first")?;
    let key_hex = file
        .public()
        .threshold_key
        .as_deref()
        .context("the share file has no threshold key")?;
    let key = ThresholdPublicKey::from_bytes(&hex::decode(key_hex)?)
        .context("the share file's threshold key does not decode")?;
    key.check_share(share)
        .context("the key share does not match the threshold key")?;
    let started = Instant::now();
    let mut rng = ChaCha20Rng::from_rng(&mut rand::rng());
    let shuffles = mix(tally, board, file, &me, &key, polling, started, &mut rng).await?;
    if shuffle_only {
        return Ok(Decrypted {
            shuffles,
            batches: 0,
        });
    }
    let task = loop {
        let request = pb::GetDecryptionTaskRequest {
            election_id: me.election.clone(),
            trustee_index: me.index,
        };
        match tally.get_decryption_task(request).await {
            Ok(task) => break task.into_inner(),
            Err(status) if status.code() == Code::FailedPrecondition => {}
            Err(status) => return Err(status).context("fetching the decryption task"),
        }
        if started.elapsed() > polling.timeout {
            bail!("no decryption task within the timeout (are the polls closed?)");
        }
        tokio::time::sleep(polling.interval).await;
    };
    let entry = board_entry(board, &me, task.source_index, polling, started).await?;
    if entry.kind() != EntryKind::TallyRecord {
        bail!("board entry {} is not the tally record", task.source_index);
    }
    let record =
        TallyRecord::decode(entry.body()).context("the tally record's body does not decode")?;
    let mut registered = None;
    for batch in &task.batches {
        let check = match record.contests.get(batch.batch_index as usize) {
            Some(contest) if batch.width == 0 => totals_match(batch, contest),
            Some(contest) => {
                let mixed = mixed_match(
                    board,
                    &me,
                    batch,
                    contest,
                    task.source_index,
                    polling,
                    started,
                )
                .await?;
                if mixed && contest.ballots > 0 {
                    if registered.is_none() {
                        registered = Some(signing_keys(board, &me, file).await?);
                    }
                    let keys = registered.as_ref().context("the trustees' keys")?;
                    let wait = (polling, started);
                    check_chain(
                        board,
                        &me,
                        &key,
                        batch,
                        contest,
                        task.source_index,
                        keys,
                        wait,
                    )
                    .await?;
                }
                mixed
            }
            None => false,
        };
        if !check || task.batches.len() != record.contests.len() {
            bail!(
                "decryption batch {} differs from what the board at index {} names: refusing",
                batch.batch_index,
                task.source_index
            );
        }
    }
    for batch in &task.batches {
        let ciphertexts = batch
            .ciphertexts
            .iter()
            .map(|c| Ciphertext::decode(&mut Decoder::new(c)))
            .collect::<Result<Vec<_>, _>>()
            .context("a ciphertext of the task does not decode")?;
        let context = tally_context(&me.fingerprint, &batch.contest_id);
        let partial = PartialDecryption::create(share, &ciphertexts, &context, &mut rng)?;
        let bytes = partial.to_bytes();
        let mut payload = batch.batch_index.to_be_bytes().to_vec();
        payload.extend_from_slice(&bytes);
        let request = pb::SubmitPartialDecryptionRequest {
            election_id: me.election.clone(),
            trustee_index: me.index,
            batch_index: batch.batch_index,
            partial_decryption: bytes,
            signature: me.sign(file, "partial-decryption", &payload),
        };
        match tally.submit_partial_decryption(request).await {
            Ok(_) => {}
            // Answered by an earlier run (its proofs used other nonces).
            Err(status) if status.code() == Code::AlreadyExists => {}
            Err(status) => {
                return Err(status).with_context(|| {
                    format!(
                        "submitting the partial decryption of batch {}",
                        batch.batch_index
                    )
                });
            }
        }
    }
    Ok(Decrypted {
        shuffles,
        batches: task.batches.len(),
    })
}

/// Performs every mix step the tally service hands this trustee until mixing is done;
/// returns how many it performed.
#[allow(clippy::too_many_arguments)]
async fn mix(
    tally: &mut TallyClient<Channel>,
    board: &mut BoardClient<Channel>,
    file: &ShareFile,
    me: &Registered,
    key: &ThresholdPublicKey,
    polling: Polling,
    started: Instant,
    rng: &mut ChaCha20Rng,
) -> Result<usize> {
    let key = EncryptionKey::new(key.public_key());
    let mut performed = 0;
    loop {
        let request = pb::GetMixTaskRequest {
            election_id: me.election.clone(),
            trustee_index: me.index,
        };
        let work = match tally.get_mix_task(request).await {
            Ok(work) => Some(work.into_inner()),
            Err(status) if status.code() == Code::FailedPrecondition => None,
            Err(status) => return Err(status).context("fetching the mix task"),
        };
        let state = work.as_ref().map(pb::GetMixTaskResponse::state);
        if state == Some(pb::MixState::Done) {
            return Ok(performed);
        }
        let Some(work) = work.filter(|_| state == Some(pb::MixState::Shuffle)) else {
            if started.elapsed() > polling.timeout {
                bail!(
                    "the mix-net did not finish within the timeout (are the polls closed, are k trustees mixing?)"
                );
            }
            tokio::time::sleep(polling.interval).await;
            continue;
        };
        let input = mix_input(board, me, &work, polling, started).await?;
        let (output, witness) = shuffle(&key, &input, rng);
        let context = Context::shuffle(&me.fingerprint, &work.contest_id, u64::from(work.step));
        let proof = ShuffleProof::prove(&key, &input, &output, &witness, &context, rng)?;
        drop(witness);
        let mut enc = Encoder::new();
        proof.encode(&mut enc);
        let proof = enc.finish();
        let payload = shuffle_payload(
            work.batch_index,
            work.step,
            &input.digest(),
            &output.digest(),
            &proof,
        );
        let request = pb::SubmitShuffleRequest {
            election_id: me.election.clone(),
            trustee_index: me.index,
            batch_index: work.batch_index,
            step: work.step,
            output: output
                .ciphertexts()
                .iter()
                .flat_map(Ciphertext::to_bytes)
                .collect(),
            proof,
            signature: me.sign(file, "shuffle", &payload),
        };
        match tally.submit_shuffle(request).await {
            Ok(_) => performed += 1,
            // Another trustee took this step first: ask again.
            Err(status) if status.code() == Code::AlreadyExists => {}
            Err(status) => {
                return Err(status).with_context(|| {
                    format!(
                        "submitting mix step {} of batch {}",
                        work.step, work.batch_index
                    )
                });
            }
        }
    }
}

/// The task's input rows, once checked against the digest the board names for them:
/// the tally record's for step 0, else the previous step's shuffle record's output.
async fn mix_input(
    board: &mut BoardClient<Channel>,
    me: &Registered,
    work: &pb::GetMixTaskResponse,
    polling: Polling,
    started: Instant,
) -> Result<MixBallots> {
    let ciphertexts = work
        .input
        .chunks(64)
        .map(|c| Ciphertext::decode(&mut Decoder::new(c)))
        .collect::<Result<Vec<_>, _>>()
        .context("a ciphertext of the mix task does not decode")?;
    let input = MixBallots::new(work.width as usize, ciphertexts)
        .context("the mix task's rows are not whole")?;
    let entry = board_entry(board, me, work.source_index, polling, started).await?;
    let named = if work.step == 0 && entry.kind() == EntryKind::TallyRecord {
        TallyRecord::decode(entry.body())
            .ok()
            .and_then(|r| r.contests.get(work.batch_index as usize)?.rows)
            .filter(|rows| rows.width == work.width)
            .map(|rows| rows.digest)
    } else {
        shuffle_key(&entry)
            .filter(|k| k.batch == work.batch_index && k.step.checked_add(1) == Some(work.step))
            .map(|k| k.output)
    };
    if named != Some(input.digest()) {
        bail!(
            "the rows of mix step {} of batch {} are not those board entry {} names: refusing to shuffle",
            work.step,
            work.batch_index,
            work.source_index
        );
    }
    Ok(input)
}

/// The trustees' signing keys as the board's key-ceremony records register them (not
/// as the tally service reports them: a shuffle's signature must be checkable from
/// public records), by index; this trustee's own must be its file's.
async fn signing_keys(
    board: &mut BoardClient<Channel>,
    me: &Registered,
    file: &ShareFile,
) -> Result<HashMap<u32, VerifyingKey>> {
    let mut keys = HashMap::new();
    let mut next = 2;
    'read: loop {
        let entries = entries_from(board, me, next).await?;
        if entries.is_empty() {
            break;
        }
        next += entries.len() as u64;
        for entry in entries {
            if entry.kind() != EntryKind::KeyCeremony {
                break 'read;
            }
            let record = CeremonyRecord::decode(entry.body())
                .context("a key-ceremony record does not decode")?;
            if record.tag == CeremonyTag::Trustee {
                let (_, key) = record
                    .trustee_keys()
                    .context("a trustee record does not decode")?;
                keys.insert(record.trustee, VerifyingKey::from_bytes(&key)?);
            }
        }
    }
    if keys.get(&me.index) != Some(&file.signing_key().verifying_key()) {
        bail!(
            "the board's ceremony records do not register this share file's key as trustee {}: refusing",
            me.index
        );
    }
    Ok(keys)
}

/// Entries read from the board per request (shuffle records' parts are up to 60 KB).
const PARTS_PER_READ: u32 = 32;

/// Up to [`PARTS_PER_READ`] entries of the board from index `start`, decoded (none
/// past the latest checkpoint).
async fn entries_from(
    board: &mut BoardClient<Channel>,
    me: &Registered,
    start: u64,
) -> Result<Vec<Entry>> {
    board
        .get_entries(pb::GetEntriesRequest {
            election_id: me.election.clone(),
            start,
            count: PARTS_PER_READ,
        })
        .await
        .context("reading the board")?
        .into_inner()
        .entries
        .iter()
        .map(|e| Entry::decode(&e.entry).context("a board entry does not decode"))
        .collect()
}

/// Checks every shuffle of a mixed batch on the board before its last output is
/// decrypted: from the batch's aggregated rows (their digest the tally record's),
/// each step's signature by a distinct registered trustee and its proof, k steps,
/// ending at exactly the rows the task asks to decrypt. Without this, a dishonest
/// tally service could hand over rows it can link to voters.
#[allow(clippy::too_many_arguments)]
async fn check_chain(
    board: &mut BoardClient<Channel>,
    me: &Registered,
    key: &ThresholdPublicKey,
    batch: &pb::DecryptionBatch,
    contest: &ContestTally,
    source: u64,
    registered: &HashMap<u32, VerifyingKey>,
    (polling, started): (Polling, Instant),
) -> Result<()> {
    let width = batch.width as usize;
    let rows = decode_rows(&batch.mix_input, width)
        .context("the batch's aggregated rows do not decode")?;
    let mut chain = ShuffleChain::new(source, width, rows);
    if contest.rows.map(|r| r.digest) != Some(chain.digest()) {
        bail!(
            "batch {}: the aggregated rows are not those the tally record names: refusing",
            batch.batch_index
        );
    }
    let mut parts = Assembler::new();
    let mut next = source + 1;
    while !chain.is_mixed(key) {
        let entries = entries_from(board, me, next).await?;
        if entries.is_empty() {
            // A board replica may lag behind the tally service: wait for it.
            if started.elapsed() > polling.timeout {
                bail!(
                    "batch {}: the board holds {} of its {} shuffles: refusing to decrypt",
                    batch.batch_index,
                    chain.steps().len(),
                    key.threshold()
                );
            }
            tokio::time::sleep(polling.interval).await;
            continue;
        }
        next += entries.len() as u64;
        for entry in entries {
            if entry.kind() != EntryKind::ShuffleRecord {
                continue;
            }
            let Ok(part) = Part::decode(entry.body()) else {
                continue;
            };
            let step = ShuffleKey::decode(part.key);
            let whole = parts.push(part).ok().flatten();
            let (Some(record), Ok(step)) = (whole, step) else {
                continue;
            };
            if step.batch != batch.batch_index || chain.is_mixed(key) {
                continue;
            }
            let signed = |trustee: u32, payload: &[u8], signature: &[u8]| {
                let message = signed_message(&me.fingerprint, trustee, "shuffle", payload);
                let signature = <[u8; 64]>::try_from(signature).ok();
                registered
                    .get(&trustee)
                    .zip(signature)
                    .is_some_and(|(k, s)| {
                        k.verify_strict(&message, &Signature::from_bytes(&s))
                            .is_ok()
                    })
            };
            chain
                .push(&step, &record, key, &batch.contest_id, signed)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "batch {}: shuffle step {} on the board fails ({e:?}): refusing to decrypt",
                        batch.batch_index,
                        step.step
                    )
                })?;
        }
    }
    let last: Vec<[u8; 64]> = chain.rows().iter().map(Ciphertext::to_bytes).collect();
    let asked: Vec<&[u8]> = batch.ciphertexts.iter().map(Vec::as_slice).collect();
    if last.iter().map(|c| &c[..]).ne(asked) {
        bail!(
            "batch {}: the rows to decrypt are not the last checked shuffle's output: refusing",
            batch.batch_index
        );
    }
    Ok(())
}

/// The key of a shuffle record's part, if `entry` is one.
fn shuffle_key(entry: &Entry) -> Option<ShuffleKey> {
    if entry.kind() != EntryKind::ShuffleRecord {
        return None;
    }
    let part = Part::decode(entry.body()).ok()?;
    if part.tag != SHUFFLE_RECORD_TAG {
        return None;
    }
    ShuffleKey::decode(part.key).ok()
}

/// Whether a totals batch is the tally record's contest, ciphertext for ciphertext.
fn totals_match(batch: &pb::DecryptionBatch, contest: &ContestTally) -> bool {
    contest.rows.is_none()
        && batch.contest_id == contest.contest
        && batch.ciphertexts.len() == contest.sums.len()
        && batch
            .ciphertexts
            .iter()
            .zip(&contest.sums)
            .all(|(ours, theirs)| ours[..] == theirs.to_bytes()[..])
}

/// Whether a mixed batch is what the board names: the last shuffle's output of the
/// contest (by digest), or no rows for a contest no ballot holds.
async fn mixed_match(
    board: &mut BoardClient<Channel>,
    me: &Registered,
    batch: &pb::DecryptionBatch,
    contest: &ContestTally,
    source: u64,
    polling: Polling,
    started: Instant,
) -> Result<bool> {
    let Some(rows) = contest.rows.filter(|r| r.width == batch.width) else {
        return Ok(false);
    };
    if batch.contest_id != contest.contest || batch.ciphertexts.iter().any(|c| c.len() != 64) {
        return Ok(false);
    }
    let bytes: Vec<[u8; 64]> = batch
        .ciphertexts
        .iter()
        .filter_map(|c| c.as_slice().try_into().ok())
        .collect();
    let width = batch.width as usize;
    let digest = rows_digest(bytes.len() / width, width, &bytes);
    if contest.ballots == 0 {
        return Ok(bytes.is_empty() && digest == rows.digest);
    }
    let entry = board_entry(board, me, batch.source_index, polling, started).await?;
    Ok(shuffle_key(&entry)
        .is_some_and(|k| k.source == source && k.batch == batch.batch_index && k.output == digest))
}

/// The entry at `index` on the election's board; waits (polling) until a checkpoint
/// covers it.
async fn board_entry(
    board: &mut BoardClient<Channel>,
    me: &Registered,
    index: u64,
    polling: Polling,
    started: Instant,
) -> Result<Entry> {
    let entry = loop {
        let entries = board
            .get_entries(pb::GetEntriesRequest {
                election_id: me.election.clone(),
                start: index,
                count: 1,
            })
            .await
            .context("reading the board")?
            .into_inner()
            .entries;
        if let Some(entry) = entries.into_iter().find(|e| e.index == index) {
            break entry;
        }
        if started.elapsed() > polling.timeout {
            bail!("the board has no entry {index} within the timeout");
        }
        tokio::time::sleep(polling.interval).await;
    };
    let entry = Entry::decode(&entry.entry).context("the board entry does not decode")?;
    if entry.election() != &me.fingerprint {
        bail!("board entry {index} is not this election's");
    }
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use urna_verify::records::ContestTally;

    fn batch(id: &str, cts: &[[u8; 64]]) -> pb::DecryptionBatch {
        pb::DecryptionBatch {
            batch_index: 0,
            contest_id: id.to_owned(),
            ciphertexts: cts.iter().map(|c| c.to_vec()).collect(),
            width: 0,
            source_index: 12,
            mix_input: Vec::new(),
        }
    }

    #[test]
    fn a_totals_batch_must_be_the_tally_record_exactly() {
        let sums = vec![Ciphertext::zero(), Ciphertext::zero()];
        let contest = ContestTally {
            contest: "chair".into(),
            ballots: 3,
            sums: sums.clone(),
            rows: None,
        };
        let bytes: Vec<[u8; 64]> = sums.iter().map(Ciphertext::to_bytes).collect();
        assert!(totals_match(&batch("chair", &bytes), &contest));
        assert!(!totals_match(&batch("chair2", &bytes), &contest));
        assert!(!totals_match(&batch("chair", &bytes[..1]), &contest));
        let mut changed = bytes.clone();
        changed[1][0] ^= 1;
        assert!(!totals_match(&batch("chair", &changed), &contest));
        let mixed = ContestTally {
            rows: Some(urna_verify::records::Rows {
                width: 2,
                digest: [0; 32],
            }),
            ..contest
        };
        assert!(!totals_match(&batch("chair", &bytes), &mixed));
    }
}
