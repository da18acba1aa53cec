//! Records larger than one entry, split into consecutive parts (docs/protocol.md §2.1).
//!
//! An entry holds at most [`MAX_ENTRY_LEN`](crate::entry::MAX_ENTRY_LEN) bytes, so a
//! mix-net shuffle (its output rows and proof) or the decryption of a mixed contest is
//! published as several entries of one kind, each body
//! `lp(tag) ‖ lp(key) ‖ u32be(part) ‖ u32be(parts) ‖ lp(chunk)`. The record is the
//! chunks concatenated in part order; the split is canonical (every chunk but the last
//! holds exactly [`CHUNK`] bytes), so one record has one sequence of bodies. The key
//! names the record (its kind's header: batch, step, trustee, digests), identical in
//! every part, so parts of different records may interleave on the board.

use std::collections::HashMap;

use thiserror::Error;
use urna_crypto::encoding::{Decoder, Encoder};

/// The bytes of the record in every part but the last.
pub const CHUNK: usize = 60_000;
/// The longest key a part carries.
pub const MAX_KEY_LEN: usize = 1024;
/// The longest tag a part carries.
const MAX_TAG_LEN: usize = 64;

/// One part of a record, as decoded from an entry body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part<'a> {
    /// The record's domain tag.
    pub tag: &'a str,
    /// The record's key, the same in every part.
    pub key: &'a [u8],
    /// This part's position, from 0.
    pub index: u32,
    /// How many parts the record has.
    pub count: u32,
    /// This part's bytes of the record.
    pub chunk: &'a [u8],
}

/// Why a part was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PartError {
    /// The body is not a part's encoding.
    #[error("the part does not decode")]
    Encoding,
    /// The part's position or size breaks the canonical split.
    #[error("part {index} of {count} holds {len} bytes, not the canonical split's")]
    Split {
        /// The part's index.
        index: u32,
        /// The record's part count.
        count: u32,
        /// The chunk's length.
        len: usize,
    },
    /// The part is not the next one of its record.
    #[error("part {index} of {count} arrived where part {expected} was due")]
    Order {
        /// The part's index.
        index: u32,
        /// The part's count.
        count: u32,
        /// The index expected next.
        expected: u32,
    },
}

/// The entry bodies that carry `record` under `tag` and `key`, in order.
///
/// # Panics
/// Never for keys and tags within their limits; a longer tag or key is a caller's bug.
#[must_use]
pub fn split(tag: &str, key: &[u8], record: &[u8]) -> Vec<Vec<u8>> {
    let chunks: Vec<&[u8]> = if record.is_empty() {
        vec![record]
    } else {
        record.chunks(CHUNK).collect()
    };
    let count = u32::try_from(chunks.len()).unwrap_or(u32::MAX);
    (0u32..)
        .zip(&chunks)
        .map(|(index, chunk)| {
            let mut enc = Encoder::new();
            enc.str(tag).bytes(key).u32(index).u32(count).bytes(chunk);
            enc.finish()
        })
        .collect()
}

impl<'a> Part<'a> {
    /// Decodes a part's body and checks that its size fits the canonical split (every
    /// chunk but the last exactly [`CHUNK`] bytes, the last non-empty unless the
    /// record is).
    ///
    /// # Errors
    /// [`PartError::Encoding`] or [`PartError::Split`].
    pub fn decode(body: &'a [u8]) -> Result<Self, PartError> {
        let mut dec = Decoder::new(body);
        let mut read = || -> Result<Self, urna_crypto::DecodeError> {
            Ok(Self {
                tag: dec.str(MAX_TAG_LEN)?,
                key: dec.bytes(MAX_KEY_LEN)?,
                index: dec.u32()?,
                count: dec.u32()?,
                chunk: dec.bytes(CHUNK)?,
            })
        };
        let part = read().map_err(|_| PartError::Encoding)?;
        dec.finish().map_err(|_| PartError::Encoding)?;
        let len = part.chunk.len();
        let last = part.count.checked_sub(1);
        let canonical = match last {
            Some(last) if part.index < last => len == CHUNK,
            Some(last) => part.index == last && (len > 0 || part.count == 1),
            None => false,
        };
        if canonical {
            Ok(part)
        } else {
            Err(PartError::Split {
                index: part.index,
                count: part.count,
                len,
            })
        }
    }
}

/// Collects parts in board order into whole records: parts of one record must come in
/// order, though other records' parts may come between them.
#[derive(Debug, Default)]
pub struct Assembler {
    open: HashMap<(String, Vec<u8>), Open>,
}

#[derive(Debug)]
struct Open {
    next: u32,
    count: u32,
    bytes: Vec<u8>,
}

impl Assembler {
    /// An assembler with no open record.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next part of its record; returns the record once its last part is in.
    ///
    /// # Errors
    /// [`PartError::Order`] for a part that is not its record's next (a repeat, a gap,
    /// another count, or a new part 0 while the record is open); the record is then
    /// dropped, so its later parts are refused too.
    pub fn push(&mut self, part: Part<'_>) -> Result<Option<Vec<u8>>, PartError> {
        let key = (part.tag.to_owned(), part.key.to_vec());
        let open = self.open.remove(&key);
        let mut open = match open {
            None if part.index == 0 => Open {
                next: 0,
                count: part.count,
                bytes: Vec::new(),
            },
            Some(open) if open.next == part.index && open.count == part.count => open,
            other => {
                return Err(PartError::Order {
                    index: part.index,
                    count: part.count,
                    expected: other.map_or(0, |o| o.next),
                });
            }
        };
        open.bytes.extend_from_slice(part.chunk);
        open.next += 1;
        if open.next == open.count {
            Ok(Some(open.bytes))
        } else {
            self.open.insert(key, open);
            Ok(None)
        }
    }

    /// The records whose parts stopped before their last (tag and key each).
    pub fn unfinished(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.open
            .keys()
            .map(|(tag, key)| (tag.as_str(), key.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assemble(bodies: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, PartError> {
        let mut assembler = Assembler::new();
        let mut out = Vec::new();
        for body in bodies {
            if let Some(record) = assembler.push(Part::decode(body)?)? {
                out.push(record);
            }
        }
        Ok(out)
    }

    #[test]
    fn records_split_and_reassemble_exactly() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            let record: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let bodies = split("urna/v1/test", b"key", &record);
            assert_eq!(bodies.len(), len.div_ceil(CHUNK).max(1));
            for body in &bodies {
                assert!(
                    body.len() + crate::entry::ENVELOPE_OVERHEAD <= crate::entry::MAX_ENTRY_LEN
                );
            }
            assert_eq!(assemble(&bodies).unwrap(), vec![record]);
        }
    }

    #[test]
    fn interleaved_records_reassemble_by_key() {
        let a = vec![1u8; 2 * CHUNK + 5];
        let b = vec![2u8; CHUNK + 1];
        let (pa, pb) = (split("t", b"a", &a), split("t", b"b", &b));
        let mixed = vec![
            pa[0].clone(),
            pb[0].clone(),
            pa[1].clone(),
            pb[1].clone(),
            pa[2].clone(),
        ];
        assert_eq!(assemble(&mixed).unwrap(), vec![b, a]);
    }

    #[test]
    fn parts_out_of_order_repeated_or_resized_are_refused() {
        let record = vec![7u8; 2 * CHUNK + 5];
        let bodies = split("t", b"k", &record);
        let swapped = vec![bodies[1].clone(), bodies[0].clone(), bodies[2].clone()];
        assert!(matches!(assemble(&swapped), Err(PartError::Order { .. })));
        let repeated = vec![bodies[0].clone(), bodies[0].clone()];
        assert!(matches!(assemble(&repeated), Err(PartError::Order { .. })));
        let gap = vec![bodies[0].clone(), bodies[2].clone()];
        assert!(matches!(assemble(&gap), Err(PartError::Order { .. })));
        // A short middle chunk is not the canonical split.
        let mut enc = Encoder::new();
        enc.str("t").bytes(b"k").u32(1).u32(3).bytes(&[7; 10]);
        assert!(matches!(
            Part::decode(&enc.finish()),
            Err(PartError::Split { .. })
        ));
        // An empty last chunk of a non-empty record, and an index past the count.
        for (index, count, len) in [(1, 2, 0), (3, 3, 5), (0, 0, 5), (u32::MAX, u32::MAX, 5)] {
            let mut enc = Encoder::new();
            enc.str("t")
                .bytes(b"k")
                .u32(index)
                .u32(count)
                .bytes(&vec![7; len]);
            assert!(Part::decode(&enc.finish()).is_err());
        }
        let mut trailing = bodies[2].clone();
        trailing.push(0);
        assert_eq!(Part::decode(&trailing), Err(PartError::Encoding));
        // Part counts that disagree.
        let mut enc = Encoder::new();
        enc.str("t").bytes(b"k").u32(1).u32(2).bytes(&[7; 5]);
        let other_count = vec![bodies[0].clone(), enc.finish()];
        assert!(matches!(
            assemble(&other_count),
            Err(PartError::Order { .. })
        ));
    }
}
