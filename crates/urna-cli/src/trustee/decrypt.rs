//! The trustee's side of the threshold decryption (docs/protocol.md §1.13, §4.8): wait
//! for the decryption task, check it against the tally record on the public board,
//! then answer every batch with a partial decryption and its proofs, signed.

use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use rand::SeedableRng as _;
use rand::rngs::ChaCha20Rng;
use tonic::Code;
use tonic::transport::Channel;
use urna_board::{Entry, EntryKind};
use urna_crypto::Ciphertext;
use urna_crypto::dkg::ThresholdPublicKey;
use urna_crypto::encoding::Decoder;
use urna_crypto::threshold::PartialDecryption;
use urna_proto::v1 as pb;
use urna_proto::v1::board_client::BoardClient;
use urna_proto::v1::tally_client::TallyClient;
use urna_tally::tally_context;

use super::ceremony::{Polling, Registered};
use super::share_file::ShareFile;

/// The tally record's domain tag (docs/protocol.md §4.8).
const TALLY_RECORD_TAG: &[u8] = b"urna/v1/tally-record";
/// The longest contest id a tally record may name.
const MAX_CONTEST_ID: usize = 256;

/// Trustee `file` partially decrypts the election's tally: waits (polling) until the
/// tally service has a decryption task, checks that its ciphertexts are exactly those
/// of the tally record on the board (refusing otherwise), and submits one signed
/// partial decryption per batch. Returns how many batches it answered; a batch it
/// answered in an earlier run counts as answered.
pub async fn decrypt(
    tally: &mut TallyClient<Channel>,
    board: &mut BoardClient<Channel>,
    file: &ShareFile,
    polling: Polling,
) -> Result<usize> {
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
    let record = tally_record(board, &me, task.source_index, polling, started).await?;
    if !task_matches(&task, &record) {
        bail!(
            "the decryption task differs from the tally record at board index {}: refusing",
            task.source_index
        );
    }
    let mut rng = ChaCha20Rng::from_rng(&mut rand::rng());
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
    Ok(task.batches.len())
}

/// One contest of a tally record: its id and ciphertexts.
type RecordContest = (String, Vec<Vec<u8>>);

/// The tally record at `index` on the election's board, decoded; waits (polling)
/// until a checkpoint covers it.
async fn tally_record(
    board: &mut BoardClient<Channel>,
    me: &Registered,
    index: u64,
    polling: Polling,
    started: Instant,
) -> Result<Vec<RecordContest>> {
    let entry = loop {
        let entries = board
            .get_entries(pb::GetEntriesRequest {
                election_id: me.election.clone(),
                start: index,
                count: 1,
            })
            .await
            .context("reading the tally record from the board")?
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
    if entry.kind() != EntryKind::TallyRecord || entry.election() != &me.fingerprint {
        bail!("board entry {index} is not this election's tally record");
    }
    parse_tally_record(entry.body()).context("the tally record's body does not decode")
}

/// Decodes a `TallyRecord` body: `lp(tag) ‖ u64be(polls-closed index) ‖ u32be(C)`, then
/// per contest `lp(contest id) ‖ u64be(ballots) ‖ u32be(T) ‖ T × 64 bytes`.
fn parse_tally_record(body: &[u8]) -> Result<Vec<RecordContest>, urna_crypto::DecodeError> {
    let mut input = Decoder::new(body);
    if input.bytes(TALLY_RECORD_TAG.len())? != TALLY_RECORD_TAG {
        return Err(urna_crypto::DecodeError::Tag);
    }
    let _closed_at = input.u64()?;
    let contests = input.len(usize::MAX)?;
    let mut out = Vec::new();
    for _ in 0..contests {
        let id = input.str(MAX_CONTEST_ID)?.to_owned();
        let _ballots = input.u64()?;
        let count = input.len(usize::MAX)?;
        let ciphertexts = (0..count)
            .map(|_| input.take(64).map(<[u8]>::to_vec))
            .collect::<Result<Vec<_>, _>>()?;
        out.push((id, ciphertexts));
    }
    input.finish()?;
    Ok(out)
}

/// Whether the task's batches are the record's contests, in order, ciphertext for
/// ciphertext.
fn task_matches(task: &pb::GetDecryptionTaskResponse, record: &[RecordContest]) -> bool {
    task.batches.len() == record.len()
        && (0u32..).zip(task.batches.iter().zip(record)).all(
            |(position, (batch, (contest, ciphertexts)))| {
                batch.batch_index == position
                    && batch.contest_id == *contest
                    && batch.ciphertexts == *ciphertexts
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(contests: &[(&str, Vec<[u8; 64]>)]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(TALLY_RECORD_TAG.len() as u32).to_be_bytes());
        out.extend_from_slice(TALLY_RECORD_TAG);
        out.extend_from_slice(&9u64.to_be_bytes());
        out.extend_from_slice(&(contests.len() as u32).to_be_bytes());
        for (id, cts) in contests {
            out.extend_from_slice(&(id.len() as u32).to_be_bytes());
            out.extend_from_slice(id.as_bytes());
            out.extend_from_slice(&3u64.to_be_bytes());
            out.extend_from_slice(&(cts.len() as u32).to_be_bytes());
            for c in cts {
                out.extend_from_slice(c);
            }
        }
        out
    }

    fn task(contests: &[(&str, Vec<[u8; 64]>)]) -> pb::GetDecryptionTaskResponse {
        pb::GetDecryptionTaskResponse {
            source_index: 12,
            batches: (0u32..)
                .zip(contests)
                .map(|(batch_index, (id, cts))| pb::DecryptionBatch {
                    batch_index,
                    contest_id: (*id).to_owned(),
                    ciphertexts: cts.iter().map(|c| c.to_vec()).collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_task_must_be_the_tally_record_exactly() {
        let contests = [("chair", vec![[1; 64], [2; 64]]), ("vote", vec![[3; 64]])];
        let record = parse_tally_record(&body(&contests)).unwrap();
        assert!(task_matches(&task(&contests), &record));
        let changed = [("chair", vec![[1; 64], [9; 64]]), ("vote", vec![[3; 64]])];
        assert!(!task_matches(&task(&changed), &record));
        let renamed = [("chair", vec![[1; 64], [2; 64]]), ("vote2", vec![[3; 64]])];
        assert!(!task_matches(&task(&renamed), &record));
        assert!(!task_matches(&task(&contests[..1]), &record));
        let mut trailing = body(&contests);
        trailing.push(0);
        assert!(parse_tally_record(&trailing).is_err());
        let mut retagged = body(&contests);
        retagged[4] = b'x';
        assert!(parse_tally_record(&retagged).is_err());
    }
}
