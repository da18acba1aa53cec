//! The poster, run by the board's task (`replica`) on the one replica that
//! sequences the board: it moves accepted ballots from the store's outbox
//! ([`BallotStore::unposted`](urna_store::BallotStore::unposted)) onto the board in
//! cast order, one sequencer batch per round, records each ballot's leaf index, and
//! then wakes whoever waits for it. Then it does the same for the outbox of
//! non-ballot entries ([`EntryOutbox`](urna_store::EntryOutbox)), whichever replica
//! enqueued them, in enqueue order.
//!
//! Order: the entries of a round are listed before the round's ballots are read, and
//! the ballots are posted until a read finds all that are left, so every ballot
//! accepted before an entry was enqueued is on the board before it (polls-closed,
//! enqueued once the election is Closed, follows every ballot accepted while Open).
//!
//! Crash safety: the board is written before the index is recorded. A crash (or a
//! sequencer replica's death, another replica taking over) between the two leaves
//! ballots on the board whose index the store lacks; they are the newest ballot
//! entries on the board, so before posting anything the poster scans the board
//! backwards from its end and records the index of every entry that is an unposted
//! ballot, stopping at the first ballot entry that is not. A non-ballot entry is
//! looked up by its leaf hash among the board's non-ballot entries before it is
//! appended: one already there (appended before a crash, or the identical bytes
//! under another key) only gets its index recorded. Nothing is ever appended twice.

use std::collections::HashMap;

use urna_board::{Entry, EntryKind, TreeHash};
use urna_store::{CastRecord, QueuedEntry, Store};

use crate::board::{Board, READ_CHUNK};
use crate::error::Error;

/// The most ballots posted in one round (one sequencer batch).
const ROUND: u32 = 1024;

/// One round of the poster on a board this process sequences: first (after a start
/// or a failure) the reconciliation described in the module documentation, then the
/// outbox drained onto the board. `reconciled` carries over between rounds.
pub(crate) async fn step<S: Store>(store: &S, board: &Board, reconciled: &mut bool) {
    if !*reconciled {
        match reconcile(store, board).await {
            Ok(0) => *reconciled = true,
            Ok(found) => {
                tracing::info!(
                    election = board.election(),
                    ballots = found,
                    "recorded the board index of ballots posted before a restart"
                );
                *reconciled = true;
            }
            Err(error) => {
                tracing::warn!(election = board.election(), %error, "board reconciliation failed")
            }
        }
    }
    if *reconciled && let Err(error) = drain(store, board).await {
        tracing::warn!(election = board.election(), %error, "posting to the board failed; will retry");
        *reconciled = false;
    }
}

/// The oldest unposted ballots of the board's phase, at most one round.
async fn outbox<S: Store>(store: &S, board: &Board) -> Result<Vec<CastRecord>, Error> {
    Ok(store
        .unposted(board.election(), ROUND)
        .await?
        .into_iter()
        .take_while(|r| r.phase == board.phase())
        .collect())
}

/// Posts rounds of ballots until a read finds every one left, then the entries
/// listed before it, until the entry outbox is empty.
async fn drain<S: Store>(store: &S, board: &Board) -> Result<(), Error> {
    loop {
        // Listed before the ballots are read (see the module documentation).
        let entries = store
            .unposted_entries(board.election(), board.phase(), ROUND)
            .await?;
        loop {
            let records = outbox(store, board).await?;
            if !records.is_empty() {
                post(store, board, &records).await?;
            }
            if records.len() < ROUND as usize {
                break;
            }
        }
        if entries.is_empty() {
            return Ok(());
        }
        post_entries(store, board, &entries).await?;
    }
}

/// Appends the outbox entries not yet on the board (in enqueue order, one batch) and
/// records every entry's index.
async fn post_entries<S: Store>(
    store: &S,
    board: &Board,
    queued: &[QueuedEntry],
) -> Result<(), Error> {
    let mut found: Vec<Option<u64>> = Vec::with_capacity(queued.len());
    let mut batch: Vec<Entry> = Vec::new();
    // Where each entry of the batch goes in it, by leaf: identical bytes under two
    // keys are appended once.
    let mut in_batch: HashMap<TreeHash, usize> = HashMap::new();
    let mut slot: Vec<Option<usize>> = Vec::with_capacity(queued.len());
    for q in queued {
        let entry = Entry::decode(&q.entry)
            .map_err(|_| Error::Corrupt("a queued board entry does not decode"))?;
        let leaf = TreeHash::leaf(&q.entry);
        if entry.kind() != EntryKind::Ballot
            && let Some(index) = board.find_leaf(&leaf).await?
        {
            found.push(Some(index));
            slot.push(None);
            continue;
        }
        let at = *in_batch.entry(leaf).or_insert_with(|| {
            batch.push(entry);
            batch.len() - 1
        });
        found.push(None);
        slot.push(Some(at));
    }
    let appended = if batch.is_empty() {
        Vec::new()
    } else {
        board.append_all(&batch).await
    };
    let mut failure = None;
    let mut indexes: Vec<Option<u64>> = Vec::with_capacity(appended.len());
    for result in appended {
        match result {
            Ok(a) => indexes.push(Some(a.index)),
            Err(error) => {
                failure.get_or_insert(error);
                indexes.push(None);
            }
        }
    }
    let mut recorded = 0;
    for ((q, known), at) in queued.iter().zip(found).zip(slot) {
        let index = known.or_else(|| at.and_then(|i| indexes.get(i).copied().flatten()));
        let Some(index) = index else { continue };
        match store
            .set_entry_index(board.election(), board.phase(), &q.key, index)
            .await
        {
            // A Test-phase row the election's opening discarded: the Test board is
            // frozen.
            Err(urna_store::Error::NotFound(urna_store::Missing::Entry)) => {}
            other => other?,
        }
        recorded += 1;
    }
    board.mark_recorded();
    if let Some(error) = failure {
        return Err(error);
    }
    tracing::debug!(
        election = board.election(),
        entries = recorded,
        "board entries posted"
    );
    Ok(())
}

/// Appends one round and records where each ballot went.
async fn post<S: Store>(store: &S, board: &Board, records: &[CastRecord]) -> Result<(), Error> {
    let entries = records
        .iter()
        .map(|r| Entry::new(EntryKind::Ballot, *board.fingerprint(), r.ballot.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Error::Corrupt("a stored ballot does not fit a board entry"))?;
    let results = board.append_all(&entries).await;
    // Every index the board gave, in cast order, up to the first append that failed;
    // recorded in one store transaction.
    let mut indexes = Vec::with_capacity(records.len());
    let mut failure = None;
    for (record, result) in records.iter().zip(results) {
        match result {
            Ok(appended) => indexes.push((record.tracking_code, appended.index)),
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    let posted = indexes.len();
    // Ballots of a Test phase that ended while they were posted are no longer stored
    // (and the Test board is frozen): the store skips them.
    store.set_board_indexes(board.election(), indexes).await?;
    if let Some(last) = records[..posted].last() {
        // In cast order, so every ballot up to this one is on the board.
        board.mark_posted(last.seq);
    }
    if let Some(error) = failure {
        return Err(error);
    }
    tracing::debug!(
        election = board.election(),
        ballots = records.len(),
        "ballots posted"
    );
    Ok(())
}

async fn record_index<S: Store>(
    store: &S,
    board: &Board,
    record: &CastRecord,
    index: u64,
) -> Result<(), Error> {
    match store
        .set_board_index(board.election(), &record.tracking_code, index)
        .await
    {
        // The Test phase ended while the ballot was being posted: the store has
        // discarded it, and the Test board is frozen.
        Err(urna_store::Error::NotFound(urna_store::Missing::Ballot)) => Ok(()),
        other => Ok(other?),
    }
}

/// Records the index of unposted ballots already on the board (see the module
/// documentation); returns how many.
async fn reconcile<S: Store>(store: &S, board: &Board) -> Result<usize, Error> {
    let unposted: HashMap<Vec<u8>, CastRecord> = outbox(store, board)
        .await?
        .into_iter()
        .map(|r| (r.ballot.clone(), r))
        .collect();
    if unposted.is_empty() {
        return Ok(0);
    }
    let mut found = Vec::new();
    let mut end = board.latest().checkpoint().size();
    'scan: while end > 0 {
        let start = end.saturating_sub(READ_CHUNK);
        let entries = board.entries(start, end).await?;
        for (offset, bytes) in entries.iter().enumerate().rev() {
            let Ok(entry) = Entry::decode(bytes) else {
                continue;
            };
            if entry.kind() != EntryKind::Ballot {
                continue;
            }
            match unposted.get(entry.body()) {
                Some(record) => found.push((record, start + offset as u64)),
                None => break 'scan,
            }
        }
        end = start;
    }
    found.sort_by_key(|(_, index)| *index);
    for (record, index) in &found {
        record_index(store, board, record, *index).await?;
    }
    if let Some(seq) = found.iter().map(|(r, _)| r.seq).max() {
        board.mark_posted(seq);
    }
    Ok(found.len())
}
