//! The threshold decryption of the tally: trustees' partial decryptions, checked
//! (DLEQ proofs) and published as `DecryptionShare` entries; once every batch has k
//! answers, the totals are combined, recovered from `m·G`, counted, published as the
//! `Result` entry and recorded as the election's write-once results. A trustee that
//! never answers blocks nothing while k others do.

use urna_board::{Entry, EntryKind};
use urna_crypto::dkg::ThresholdPublicKey;
use urna_crypto::encoding::Decoder;
use urna_crypto::threshold::{self, PartialDecryption, VerifiedPartialDecryption};
use urna_crypto::{Ciphertext, Context, DlogTable};
use urna_election::tabulate_totals;
use urna_store::{Store, StoredPartial, TallyBatch, TallyTask, Written};

use crate::aggregate::count_u32;
use crate::error::{Invalid, TallyError};
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
        let verified = verify_partial(&key, params.election(), work, &partial)?;
        if verified.trustee() != index {
            return Err(Invalid::Partial.into());
        }
        let stored = StoredPartial {
            trustee: index,
            batch,
            partial: partial.clone(),
            signature: signature.clone(),
        };
        if self.store.add_partial(election, stored).await? == Written::Different {
            return Err(TallyError::Conflict("partial decryption"));
        }
        let mut body = Vec::new();
        push_lp(&mut body, b"urna/v1/decryption-share");
        body.extend_from_slice(&task.source_index.to_be_bytes());
        body.extend_from_slice(&batch.to_be_bytes());
        body.extend_from_slice(&index.to_be_bytes());
        push_lp(&mut body, &partial);
        push_lp(&mut body, &signature);
        let board = self.boards.get(election).await.map_err(TallyError::Board)?;
        let entry = Entry::new(EntryKind::DecryptionShare, *params.election(), body)
            .map_err(|_| Invalid::Partial)?;
        let appended = board.append_once(entry).await.map_err(TallyError::Board)?;
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
            board_index: appended.index,
            answered,
        })
    }

    /// The results, once every batch has k partial decryptions (`None` before).
    pub async fn results(&self, election: &str) -> Result<Option<Vec<ContestResult>>, TallyError> {
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
        let table = self.dlog.get_or_init(DlogTable::new);
        let mut results = Vec::with_capacity(task.batches.len());
        for (b, work) in task.batches.iter().enumerate() {
            let partials = self.store.partials(election, count_u32(b)).await?;
            if partials.len() < params.threshold() as usize {
                return Ok(None);
            }
            let verified = partials
                .iter()
                .take(params.threshold() as usize)
                .map(|p| verify_partial(&key, params.election(), work, &p.partial))
                .collect::<Result<Vec<_>, _>>()?;
            let ciphertexts = decode_ciphertexts(work)?;
            let context_t = tally_context(params.election(), &work.contest);
            let points = threshold::combine(&key, &ciphertexts, &context_t, &verified)
                .map_err(|_| TallyError::CorruptBoard)?;
            let totals = points
                .iter()
                .map(|p| table.recover(p.point()))
                .collect::<Result<Vec<u64>, _>>()
                .map_err(|_| TallyError::CorruptBoard)?;
            let contest = context
                .manifest()
                .contests()
                .iter()
                .find(|c| c.id() == work.contest)
                .ok_or(TallyError::CorruptBoard)?;
            let tabulation = tabulate_totals(contest, &totals, work.ballots)
                .map_err(|_| TallyError::CorruptBoard)?;
            let options = contest.options();
            results.push(ContestResult {
                contest: work.contest.clone(),
                ballots: work.ballots,
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

    /// Publishes the `Result` entry and records the results (write-once, so a second
    /// caller changes nothing).
    async fn publish_results(&self, election: &str) -> Result<(), TallyError> {
        let Some(results) = self.results(election).await? else {
            return Ok(());
        };
        let body = result_body(&results);
        let board = self.boards.get(election).await.map_err(TallyError::Board)?;
        let entry = Entry::new(EntryKind::Result, *board.fingerprint(), body.clone())
            .map_err(|_| TallyError::CorruptBoard)?;
        board.append_once(entry).await.map_err(TallyError::Board)?;
        self.store.record_results(election, &body).await?;
        Ok(())
    }

    /// The ceremony's threshold public key, as recorded with the joint key.
    async fn threshold_key(&self, election: &str) -> Result<ThresholdPublicKey, TallyError> {
        let joint = self
            .store
            .joint_key(election)
            .await?
            .ok_or(TallyError::WrongPhase("a finished key ceremony"))?;
        ThresholdPublicKey::from_bytes(&joint.ceremony).map_err(|_| TallyError::CorruptBoard)
    }
}

/// Decodes a partial decryption of `work` and checks every proof.
fn verify_partial(
    key: &ThresholdPublicKey,
    election: &[u8; 32],
    work: &TallyBatch,
    partial: &[u8],
) -> Result<VerifiedPartialDecryption, TallyError> {
    let ciphertexts = decode_ciphertexts(work)?;
    let decoded =
        PartialDecryption::from_bytes(partial, ciphertexts.len()).map_err(|_| Invalid::Partial)?;
    decoded
        .verify(key, &ciphertexts, &tally_context(election, &work.contest))
        .map_err(|_| Invalid::Partial.into())
}

fn decode_ciphertexts(work: &TallyBatch) -> Result<Vec<Ciphertext>, TallyError> {
    work.ciphertexts
        .iter()
        .map(|c| Ciphertext::decode(&mut Decoder::new(c)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| TallyError::CorruptBoard)
}

/// The `Result` body: `lp("urna/v1/result") ‖ u32be(C)`, then per contest
/// `lp(contest id) ‖ u64be(ballots) ‖ u32be(T) ‖ T × (lp(option id) ‖ u64be(total)) ‖
/// u32be(W) ‖ W × lp(winner option id)`.
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
    }
    out
}
