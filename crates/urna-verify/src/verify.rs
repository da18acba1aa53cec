//! The verification pass: one streaming read of the board, every check named.

mod board;
mod ceremony;
mod genesis;
mod mix;
mod tally;
mod tiles;

use urna_board::{Checkpoint, NoteVerifier, SignedCheckpoint, TreeHash};

use crate::error::Error;
use crate::range::CompactRange;
use crate::report::{Check, Report};
use crate::source::Source;

use board::Board;
use tiles::Tiles;

/// Entries per bundle (C2SP tlog-tiles).
const BUNDLE: u64 = 256;

/// How to verify.
#[derive(Debug, Clone)]
pub struct Options {
    /// The board key, obtained out of band. Without it the key published in entry 1
    /// is used (and printed, so observers compare it).
    pub board_key: Option<NoteVerifier>,
    /// Ballots whose proofs are verified in one batch.
    pub batch_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            board_key: None,
            batch_size: 256,
        }
    }
}

/// How far the pass is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Entries read and checked.
    pub entries: u64,
    /// Entries in the latest checkpoint.
    pub total: u64,
}

/// A checkpoint as read, before its signature is checked.
struct Read {
    size: u64,
    checkpoint: Checkpoint,
    note: Vec<u8>,
}

/// Verifies the board `source` serves. Returns an error only if the source cannot be
/// read; every problem with its content is a failed check in the report.
///
/// # Errors
/// [`Error`] if a file of the source is missing or unreadable.
pub fn verify(
    source: &dyn Source,
    options: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, Error> {
    let mut report = Report::default();
    let note = source.checkpoint()?;
    let latest = match unsigned(&note) {
        Ok(checkpoint) => Read {
            size: checkpoint.size(),
            checkpoint,
            note,
        },
        Err(why) => {
            report.fail(Check::CheckpointSignature, None, why);
            return Ok(report);
        }
    };
    report.size = latest.size;
    let mut others = Vec::new();
    for (size, note) in source.checkpoints()? {
        match unsigned(&note) {
            Ok(checkpoint) if checkpoint.size() == size && size <= latest.size => {
                others.push(Read {
                    size,
                    checkpoint,
                    note,
                });
            }
            Ok(_) => report.fail(
                Check::CheckpointConsistency,
                Some(size),
                "checkpoint file names another size or one beyond the latest checkpoint",
            ),
            Err(why) => report.fail(Check::CheckpointConsistency, Some(size), why),
        }
    }
    let yaml = source.manifest_yaml()?;
    let mut board = Board::new(&yaml, options, source, latest.size);

    let mut range = CompactRange::new();
    let mut tiles = Tiles::default();
    let mut roots: Vec<(u64, TreeHash)> = Vec::new();
    let mut next_other = others.iter().map(|o| o.size).peekable();
    while next_other.next_if_eq(&0).is_some() {
        roots.push((0, range.root()));
    }
    let mut complete = true;
    for bundle in 0..latest.size.div_ceil(BUNDLE) {
        let start = bundle * BUNDLE;
        let width = (latest.size - start).min(BUNDLE);
        let partial = (width < BUNDLE).then_some(width as u8);
        let bytes = source.entry_bundle(bundle, partial)?;
        let Some(entries) = split_bundle(&bytes, width) else {
            report.fail(
                Check::EntryEncoding,
                Some(start),
                format!("entry bundle {bundle} is malformed"),
            );
            complete = false;
            break;
        };
        for (offset, entry) in entries.into_iter().enumerate() {
            board.entry(start + offset as u64, entry, &mut report)?;
            let leaf = TreeHash::leaf(entry);
            range.push_hash(leaf);
            tiles.push(leaf, source, &mut report)?;
            while next_other.next_if_eq(&range.size()).is_some() {
                roots.push((range.size(), range.root()));
            }
        }
        progress(Progress {
            entries: range.size(),
            total: latest.size,
        });
    }
    let key = board.finish(&mut report);
    if complete {
        tiles.finish(source, &mut report)?;
    }

    if complete && range.root() == *latest.checkpoint.root() {
        report.pass(Check::TreeRoot);
    } else if complete {
        report.fail(
            Check::TreeRoot,
            Some(latest.size),
            "the entries do not hash to the checkpoint's root",
        );
    } else {
        report.fail(Check::TreeRoot, None, "not every entry could be read");
    }
    match &key {
        Some(key) => {
            report.board_key = Some(key.to_string());
            signed(&latest, key, Check::CheckpointSignature, &mut report);
        }
        None => report.fail(
            Check::CheckpointSignature,
            None,
            "no board key: entry 1 has none and none was pinned",
        ),
    }
    for other in &others {
        let Some(root) = roots.iter().find(|(size, _)| *size == other.size) else {
            continue;
        };
        if root.1 != *other.checkpoint.root() {
            report.fail(
                Check::CheckpointConsistency,
                Some(other.size),
                "the checkpoint's root is not the root of the log's prefix of its size",
            );
        } else if let Some(key) = &key {
            signed(other, key, Check::CheckpointConsistency, &mut report);
        }
    }
    Ok(report)
}

/// Parses a note's checkpoint text without checking signatures.
pub(crate) fn unsigned(note: &[u8]) -> Result<Checkpoint, String> {
    let text = core::str::from_utf8(note).map_err(|_| "checkpoint is not UTF-8".to_owned())?;
    let split = text
        .rfind("\n\n")
        .ok_or_else(|| "checkpoint is not a signed note".to_owned())?;
    Checkpoint::parse(&text[..=split]).map_err(|e| e.to_string())
}

/// Checks a checkpoint's signature by `key`, recording the outcome under `check`.
fn signed(read: &Read, key: &NoteVerifier, check: Check, report: &mut Report) {
    let opened = SignedCheckpoint::open(
        &read.note,
        read.checkpoint.origin(),
        core::slice::from_ref(key),
    );
    match opened {
        Ok(_) => report.pass(check),
        Err(e) => report.fail(check, Some(read.size), e.to_string()),
    }
}

/// Splits an entry bundle into exactly `width` entries (`u16be(len) ‖ entry` each).
fn split_bundle(bytes: &[u8], width: u64) -> Option<Vec<&[u8]>> {
    let mut rest = bytes;
    let mut out = Vec::new();
    while let Some((len, tail)) = rest.split_first_chunk::<2>() {
        let len = usize::from(u16::from_be_bytes(*len));
        let (entry, tail) = tail.split_at_checked(len)?;
        out.push(entry);
        rest = tail;
    }
    (rest.is_empty() && out.len() as u64 == width).then_some(out)
}
