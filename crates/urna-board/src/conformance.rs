//! The store conformance suite, written once against [`Store`] and run by the tests
//! of every backend (this crate's memory and SQLite stores, urna-store's PostgreSQL
//! log). Behind the cargo feature `conformance`, so that no backend needs to live in
//! this crate.
//!
//! Each check takes a fresh, empty log (or a way to open handles on one fresh log)
//! and returns `Ok(())` if the backend behaves; a store error the check did not
//! expect is returned, and a wrong answer fails an assertion. The checks block: an
//! async caller runs them on a blocking thread.

use std::time::Duration;

use crate::checkpoint::SignedCheckpoint;
use crate::entry::{Entry, EntryKind};
use crate::error::{Result, StoreError};
use crate::hash::TreeHash;
use crate::log::Log;
use crate::note::NoteSigner;
use crate::proof::{verify_consistency, verify_inclusion};
use crate::sequencer::{Appended, Sequencer, SequencerConfig};
use crate::store::{Batch, Store, StoredCheckpoint};

/// The origin of every log the suite writes.
pub const ORIGIN: &str = "urna.example/conformance";

/// The suite's checkpoint signer.
pub fn signer() -> Result<NoteSigner> {
    Ok(NoteSigner::from_seed(ORIGIN, &[4; 32])?)
}

/// Entries `from..from + n`, as the suite writes them.
pub fn entries(from: u64, n: u64) -> Vec<Vec<u8>> {
    (from..from + n)
        .map(|i| format!("entry {i}").into_bytes())
        .collect()
}

/// RFC 9162 MTH from the definition, for comparison.
pub fn reference_root(leaves: &[TreeHash]) -> TreeHash {
    match leaves {
        [] => TreeHash::EMPTY_ROOT,
        [one] => *one,
        _ => {
            let mut k = 1;
            while k * 2 < leaves.len() {
                k *= 2;
            }
            let (left, right) = leaves.split_at(k);
            TreeHash::node(&reference_root(left), &reference_root(right))
        }
    }
}

/// The leaf hashes of [`entries`]`(0, n)`.
pub fn leaf_hashes(n: u64) -> Vec<TreeHash> {
    entries(0, n).iter().map(|e| TreeHash::leaf(e)).collect()
}

/// The log built on the store gives the RFC 9162 roots and proofs while it grows in
/// uneven batches, and stores every level of hash tiles.
pub fn growth_in_uneven_batches<S: Store>(store: S) -> Result<()> {
    let mut log = Log::open(store, ORIGIN)?;
    let all = leaf_hashes(1100);
    let mut size = 0;
    for batch in [1u64, 1, 2, 5, 250, 1, 255, 256, 300, 29] {
        let first = log.integrate(&entries(size, batch))?;
        assert_eq!(first, size);
        size += batch;
        assert_eq!(log.size(), size);
        assert_eq!(log.root(), reference_root(&all[..size as usize]), "{size}");
    }
    assert_eq!(size, 1100);
    let root = log.root();
    for m in [0u64, 1, 2, 255, 256, 257, 511, 512, 1000, 1099] {
        let at = log.root_at(m)?;
        assert_eq!(at, reference_root(&all[..m as usize]));
        let p = log.inclusion_proof(m, size)?;
        verify_inclusion(&all[m as usize], m, size, &p, &root)?;
        let c = log.consistency_proof(m, size)?;
        verify_consistency(m, size, &c, &at, &root)?;
    }
    assert_eq!(log.entries(3, 5)?, entries(3, 2));
    assert_eq!(log.entries(1099, 2000)?, entries(1099, 1));
    assert!(log.inclusion_proof(0, size + 1).is_err());
    // Every level of hash tiles is stored: level 0 tile 4 holds leaves 1024..1100.
    let tile = log.store().read_tile(0, 4)?;
    assert_eq!(tile.as_ref().map(Vec::len), Some(76 * 32));
    assert_eq!(
        tile.as_ref().and_then(|t| t.get(..32)),
        Some(&all[1024].as_bytes()[..])
    );
    assert_eq!(log.store().read_node(0, 1024)?, Some(all[1024]));
    assert_eq!(log.store().read_node(0, 1100)?, None);
    assert_eq!(log.store().read_tile(1, 9)?, None);
    Ok(())
}

/// A batch must start at the stored size; a refused batch (misplaced, or with a
/// malformed tile) changes nothing.
pub fn batches_are_append_only<S: Store>(mut store: S) -> Result<()> {
    assert_eq!(store.head()?, (0, TreeHash::EMPTY_ROOT));
    let e = entries(0, 3);
    let root = TreeHash::leaf(b"whatever");
    let batch = |start, tiles| Batch {
        start,
        entries: &e,
        tiles,
        root,
    };
    store.write_batch(&batch(0, &[]))?;
    assert_eq!(store.head()?, (3, root));
    for start in [0, 2, 4] {
        let refused = store.write_batch(&batch(start, &[]));
        let expected = StoreError::NotAtEnd {
            expected: 3,
            got: start,
        };
        assert_eq!(refused, Err(expected.into()));
    }
    assert_eq!(store.read_entries(0, 10)?, e);
    let bad_tile = [(0u8, 0u64, vec![0u8; 31])];
    assert!(store.write_batch(&batch(3, &bad_tile)).is_err());
    assert_eq!(store.head()?, (3, root), "a refused batch changes nothing");
    assert_eq!(store.read_entries(0, 10)?, e);
    Ok(())
}

/// Signing again at a size is idempotent; a second, different root for a
/// checkpointed size is [`StoreError::Fork`]; a checkpoint beyond the tree is refused.
pub fn a_second_root_for_a_size_is_refused<S: Store>(store: S) -> Result<()> {
    let signer = signer()?;
    let mut log = Log::open(store, ORIGIN)?;
    log.integrate(&entries(0, 10))?;
    let signed = log.sign_checkpoint(&signer)?;
    assert_eq!(signed.checkpoint().size(), 10);
    log.sign_checkpoint(&signer)?;
    let stored = log.latest_checkpoint()?;
    let root = log.root();
    assert_eq!(
        stored,
        Some(StoredCheckpoint {
            size: 10,
            root,
            note: signed.note().to_owned()
        })
    );
    // A key not named after the origin may not sign.
    let other = NoteSigner::from_seed("urna.example/other", &[4; 32])?;
    assert!(log.sign_checkpoint(&other).is_err());

    let mut store = log.into_store();
    let forged = StoredCheckpoint {
        size: 10,
        root: TreeHash::leaf(b"fork"),
        note: String::new(),
    };
    assert_eq!(
        store.write_checkpoint(&forged),
        Err(StoreError::Fork(10).into())
    );
    let beyond = StoredCheckpoint {
        size: 11,
        root,
        note: String::new(),
    };
    assert!(store.write_checkpoint(&beyond).is_err());
    assert_eq!(store.checkpoint(10)?.map(|c| c.root), Some(root));
    assert_eq!(store.checkpoint(9)?, None);
    Ok(())
}

/// A log reopened through a new handle has what was written, and goes on.
pub fn reopening_keeps_the_log<S: Store>(mut open: impl FnMut() -> Result<S>) -> Result<()> {
    let signer = signer()?;
    let mut log = Log::open(open()?, ORIGIN)?;
    log.integrate(&entries(0, 300))?;
    log.sign_checkpoint(&signer)?;
    let root = log.root();
    drop(log);
    let mut log = Log::open(open()?, ORIGIN)?;
    assert_eq!((log.size(), log.root()), (300, root));
    assert_eq!(log.latest_checkpoint()?.map(|c| c.size), Some(300));
    log.integrate(&entries(300, 10))?;
    assert_eq!(log.root(), reference_root(&leaf_hashes(310)));
    Ok(())
}

/// A reader opened on another handle keeps serving the tree it opened while the
/// writer extends the partial tiles that tree ends in; a reader opened later sees the
/// longer tree.
pub fn a_reader_keeps_its_snapshot<S: Store>(mut open: impl FnMut() -> Result<S>) -> Result<()> {
    let signer = signer()?;
    let mut writer = Log::open(open()?, ORIGIN)?;
    writer.integrate(&entries(0, 700))?;
    writer.sign_checkpoint(&signer)?;
    let reader = Log::open(open()?, ORIGIN)?;
    writer.integrate(&entries(700, 90))?;
    writer.sign_checkpoint(&signer)?;
    let all = leaf_hashes(790);
    assert_eq!(reader.size(), 700);
    assert_eq!(reader.root(), reference_root(&all[..700]));
    for m in [0u64, 511, 699] {
        let p = reader.inclusion_proof(m, 700)?;
        verify_inclusion(&all[m as usize], m, 700, &p, &reader.root())?;
    }
    let later = Log::open(open()?, ORIGIN)?;
    assert_eq!((later.size(), later.root()), (790, writer.root()));
    let c = later.consistency_proof(700, 790)?;
    verify_consistency(700, 790, &c, &reader.root(), &later.root())?;
    Ok(())
}

/// Two writers on the same log (two processes that both believe they sequence): the
/// one behind is refused rather than overwriting, and cannot store a second root for
/// a size the other signed. The log stays the first writer's.
pub fn a_stale_writer_cannot_fork<S: Store>(mut open: impl FnMut() -> Result<S>) -> Result<()> {
    let signer = signer()?;
    let mut first = Log::open(open()?, ORIGIN)?;
    first.integrate(&entries(0, 10))?;
    first.sign_checkpoint(&signer)?;
    let mut second = Log::open(open()?, ORIGIN)?;
    first.integrate(&entries(10, 5))?;
    let signed = first.sign_checkpoint(&signer)?;
    let other: Vec<Vec<u8>> = (0..5).map(|i| format!("other {i}").into_bytes()).collect();
    let refused = second.integrate(&other);
    let expected = StoreError::NotAtEnd {
        expected: 15,
        got: 10,
    };
    assert_eq!(refused, Err(expected.into()));
    // The stale writer's view of size 10 is the same tree: signing it again is fine.
    assert_eq!(second.sign_checkpoint(&signer)?.checkpoint().size(), 10);
    let mut store = second.into_store();
    let fork = StoredCheckpoint {
        size: 15,
        root: TreeHash::leaf(b"other"),
        note: String::new(),
    };
    assert_eq!(
        store.write_checkpoint(&fork),
        Err(StoreError::Fork(15).into())
    );
    let reopened = Log::open(open()?, ORIGIN)?;
    assert_eq!((reopened.size(), reopened.root()), (15, first.root()));
    assert_eq!(
        reopened.latest_checkpoint()?.map(|c| c.note),
        Some(signed.note().to_owned())
    );
    assert_eq!(reopened.entries(10, 15)?, entries(10, 5));
    Ok(())
}

fn ballot(i: u32) -> Result<Entry> {
    Ok(Entry::new(
        EntryKind::Ballot,
        [9; 32],
        format!("ballot {i}").into_bytes(),
    )?)
}

fn sequencer_config() -> SequencerConfig {
    SequencerConfig {
        interval: Duration::from_millis(5),
        max_batch: 16,
        queue: 1024,
    }
}

/// Appends `range` concurrently (so batches form) and returns the acknowledgements.
fn append_all(seq: &Sequencer, range: std::ops::Range<u32>) -> Result<Vec<(u32, Appended)>> {
    let pending = range
        .map(|i| Ok((i, seq.submit(&ballot(i)?)?)))
        .collect::<Result<Vec<_>>>()?;
    pending
        .into_iter()
        .map(|(i, p)| Ok((i, p.wait()?)))
        .collect()
}

/// Checks every acknowledgement against the stored tree, and every stored checkpoint
/// for consistency with it; returns the tree size.
fn audit<S: Store>(store: S, acked: &[(u32, Appended)]) -> Result<u64> {
    let log = Log::open(store, ORIGIN)?;
    let verifiers = [signer()?.verifier()];
    assert_eq!(
        log.latest_checkpoint()?.map(|c| c.size),
        Some(log.size()),
        "the stored tree is fully signed"
    );
    for (i, ack) in acked {
        let encoded = ballot(*i)?.encode();
        assert_eq!(log.entries(ack.index, ack.index + 1)?, vec![encoded]);
        let cp = SignedCheckpoint::open(ack.checkpoint.note().as_bytes(), ORIGIN, &verifiers)?;
        let (size, root) = (cp.checkpoint().size(), *cp.checkpoint().root());
        let proof = log.inclusion_proof(ack.index, size)?;
        verify_inclusion(&ballot(*i)?.leaf_hash(), ack.index, size, &proof, &root)?;
        let cons = log.consistency_proof(size, log.size())?;
        verify_consistency(size, log.size(), &cons, &root, &log.root())?;
    }
    for size in 0..=log.size() {
        if let Some(cp) = log.store().checkpoint(size)? {
            assert_eq!(cp.root, log.root_at(size)?, "checkpoint {size}");
        }
    }
    Ok(log.size())
}

/// A sequencer stopped between storing a batch and signing it (a crash, or a leader
/// that lost its lease): the next sequencer, on a new handle, signs the stored tree
/// with the root it already had before taking new work. Nothing acknowledged is lost
/// and no size gets two roots.
pub fn a_new_sequencer_signs_what_was_stored<S: Store + 'static>(
    mut open: impl FnMut() -> Result<S>,
) -> Result<()> {
    let seq = Sequencer::start(open()?, signer()?, sequencer_config())?;
    assert_eq!(seq.initial_checkpoint().checkpoint().size(), 0);
    let mut acked = append_all(&seq, 0..40)?;
    seq.shutdown();
    assert_eq!(audit(open()?, &acked)?, 40);

    let mut log = Log::open(open()?, ORIGIN)?;
    let unsigned = (40..47)
        .map(|i| Ok(ballot(i)?.encode()))
        .collect::<Result<Vec<_>>>()?;
    log.integrate(&unsigned)?;
    let root_47 = log.root();
    drop(log);
    assert_eq!(open()?.latest_checkpoint()?.map(|c| c.size), Some(40));

    let seq = Sequencer::start(open()?, signer()?, sequencer_config())?;
    let recovered = seq.initial_checkpoint().checkpoint().clone();
    assert_eq!((recovered.size(), *recovered.root()), (47, root_47));
    acked.extend(append_all(&seq, 47..80)?);
    seq.shutdown();
    assert_eq!(audit(open()?, &acked)?, 80);
    Ok(())
}
