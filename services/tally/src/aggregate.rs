//! After the polls close: the homomorphic aggregation of the counted ballots into one
//! encrypted total per contest option, and for each mix-net contest the rows the
//! trustees will shuffle (§4.9), published as the `TallyRecord` entry and kept as the
//! trustees' decryption task.
//!
//! Counted ballots are the `Ballot` entries before the board's first `PollsClosed`
//! entry, one per nullifier: the latest on the board (under `once` there is only one;
//! under `last-counts` a re-cast replaces the earlier ballot).

use std::collections::HashMap;

use urna_board::{Entry, EntryKind};
use urna_crypto::ballot::MAX_ID_LEN;
use urna_crypto::encoding::Decoder;
use urna_crypto::mix::rows_digest;
use urna_crypto::{Ciphertext, EncryptedBallot};
use urna_election::TallyKind;
use urna_service::{Board, ElectionContext};
use urna_store::{ElectionState, Store, TallyBatch, TallyTask};

use crate::error::TallyError;
use crate::tally::{Tally, push_lp};

/// How many entries are read from the board at once.
const READ_CHUNK: u64 = 1024;

impl<S: Store> Tally<S> {
    /// Aggregates the counted ballots of a Closed election, appends the `TallyRecord`
    /// entry and records the decryption task; once done, returns the recorded task.
    pub async fn aggregate(&self, election: &str) -> Result<TallyTask, TallyError> {
        if let Some(task) = self.store.tally_task(election).await? {
            return Ok(task);
        }
        let record = self
            .store
            .election(election)
            .await?
            .ok_or(TallyError::UnknownElection)?;
        if record.state != ElectionState::Closed {
            return Err(TallyError::WrongPhase("a closed election"));
        }
        let context = self
            .elections
            .get(election)
            .await
            .map_err(TallyError::Board)?;
        let board = self.boards.get(election).await.map_err(TallyError::Board)?;
        board.flush().await.map_err(TallyError::Board)?;
        let (counted, closed_at) = counted_ballots(&board, &context).await?;
        let batches = sum_contests(&board, &context, &counted, closed_at).await?;
        let body = tally_record_body(closed_at, &batches);
        let entry = Entry::new(EntryKind::TallyRecord, record.fingerprint, body)
            .map_err(|_| TallyError::WrongPhase("a tally that fits a board entry"))?;
        let appended = board.append_once(entry).await.map_err(TallyError::Board)?;
        let task = TallyTask {
            source_index: appended.index,
            batches,
        };
        self.store.set_tally_task(election, task).await?;
        self.store
            .tally_task(election)
            .await?
            .ok_or(TallyError::WrongPhase("a recorded tally"))
    }
}

/// The board indices of the counted ballots (the latest per nullifier before polls
/// closed) and the index of the `PollsClosed` entry.
async fn counted_ballots(
    board: &Board,
    context: &ElectionContext,
) -> Result<(Vec<u64>, u64), TallyError> {
    let size = board.latest().checkpoint().size();
    let mut latest: HashMap<[u8; 32], u64> = HashMap::new();
    let mut start = 0;
    while start < size {
        let end = size.min(start + READ_CHUNK);
        let entries = board.entries(start, end).await.map_err(TallyError::Board)?;
        for (index, bytes) in (start..).zip(&entries) {
            let entry = Entry::decode(bytes).map_err(|_| TallyError::CorruptBoard)?;
            match entry.kind() {
                EntryKind::Ballot => {
                    let ballot = decode_ballot(context, entry.body())?;
                    latest.insert(*ballot.nullifier().as_bytes(), index);
                }
                EntryKind::PollsClosed => {
                    let mut counted: Vec<u64> = latest.into_values().collect();
                    counted.sort_unstable();
                    return Ok((counted, index));
                }
                _ => {}
            }
        }
        start = end;
    }
    Err(TallyError::WrongPhase("polls closed on the board"))
}

/// Every contest of the manifest, in manifest order, from the ballots at `counted`:
/// a homomorphic contest's encrypted per-option totals, a mix-net contest's rows (its
/// ciphertexts per counted ballot that holds it, in board order).
async fn sum_contests(
    board: &Board,
    context: &ElectionContext,
    counted: &[u64],
    closed_at: u64,
) -> Result<Vec<TallyBatch>, TallyError> {
    let contests = context.manifest().contests();
    let mut sums: Vec<(Vec<Ciphertext>, u64)> = contests
        .iter()
        .map(|c| match c.tally() {
            TallyKind::Homomorphic => (vec![Ciphertext::zero(); c.options().len()], 0),
            TallyKind::Mixnet => (Vec::new(), 0),
        })
        .collect();
    let position: HashMap<&str, usize> = contests
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id(), i))
        .collect();
    let mut next = counted.iter().peekable();
    let mut start = 0;
    while start < closed_at && next.peek().is_some() {
        let end = closed_at.min(start + READ_CHUNK);
        let entries = board.entries(start, end).await.map_err(TallyError::Board)?;
        for (index, bytes) in (start..).zip(&entries) {
            if next.peek() != Some(&&index) {
                continue;
            }
            next.next();
            let entry = Entry::decode(bytes).map_err(|_| TallyError::CorruptBoard)?;
            let ballot = decode_ballot(context, entry.body())?;
            for (id, contest) in ballot.contests() {
                let (i, (sum, ballots)) = position
                    .get(id.as_str())
                    .and_then(|&i| Some((i, sums.get_mut(i)?)))
                    .ok_or(TallyError::CorruptBoard)?;
                let options = contests.get(i).map_or(0, |c| c.options().len());
                if options != contest.ciphertexts().len() {
                    return Err(TallyError::CorruptBoard);
                }
                if contests
                    .get(i)
                    .is_some_and(|c| c.tally() == TallyKind::Mixnet)
                {
                    sum.extend_from_slice(contest.ciphertexts());
                } else {
                    for (total, c) in sum.iter_mut().zip(contest.ciphertexts()) {
                        *total = total.add(c);
                    }
                }
                *ballots += 1;
            }
        }
        start = end;
    }
    Ok(contests
        .iter()
        .zip(sums)
        .map(|(contest, (sum, ballots))| TallyBatch {
            contest: contest.id().to_owned(),
            ciphertexts: sum.iter().map(Ciphertext::to_bytes).collect(),
            ballots,
            width: match contest.tally() {
                TallyKind::Homomorphic => 0,
                TallyKind::Mixnet => count_u32(contest.options().len()),
            },
        })
        .collect())
}

/// Decodes a ballot on the board with its style's layout.
fn decode_ballot(context: &ElectionContext, body: &[u8]) -> Result<EncryptedBallot, TallyError> {
    let mut dec = Decoder::new(body);
    let style = dec
        .u8()
        .and_then(|_| dec.array::<32>())
        .and_then(|_| dec.str(MAX_ID_LEN))
        .map_err(|_| TallyError::CorruptBoard)?;
    let layout = context.layout(style).ok_or(TallyError::CorruptBoard)?;
    EncryptedBallot::from_bytes(body, layout).map_err(|_| TallyError::CorruptBoard)
}

/// The `TallyRecord` body (docs/protocol.md §4.8): `lp("urna/v1/tally-record") ‖
/// u64be(polls-closed index) ‖ u32be(C)`, then per contest `lp(contest id) ‖
/// u64be(ballots) ‖ u32be(width)` and, for width 0, `u32be(T) ‖ T × 64 bytes` of
/// totals, else the 32-byte digest of its rows (§4.9), which are on the board already.
pub fn tally_record_body(closed_at: u64, batches: &[TallyBatch]) -> Vec<u8> {
    let mut out = Vec::new();
    push_lp(&mut out, b"urna/v1/tally-record");
    out.extend_from_slice(&closed_at.to_be_bytes());
    out.extend_from_slice(&count_u32(batches.len()).to_be_bytes());
    for b in batches {
        push_lp(&mut out, b.contest.as_bytes());
        out.extend_from_slice(&b.ballots.to_be_bytes());
        out.extend_from_slice(&b.width.to_be_bytes());
        if b.width == 0 {
            out.extend_from_slice(&count_u32(b.ciphertexts.len()).to_be_bytes());
            for c in &b.ciphertexts {
                out.extend_from_slice(c);
            }
        } else {
            let rows = usize::try_from(b.ballots).unwrap_or(usize::MAX);
            out.extend_from_slice(&rows_digest(rows, b.width as usize, &b.ciphertexts));
        }
    }
    out
}

/// A count that the manifest's limits keep far below `u32::MAX`.
pub(crate) fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
