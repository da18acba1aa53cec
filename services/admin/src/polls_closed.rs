//! The body of the board's polls-closed entry ([`EntryKind::PollsClosed`]).
//!
//! ```text
//! body = lp("urna/v1/polls-closed") ‖ lp(election id) ‖ u64be(closed at) ‖ u64be(ballots)
//! ```
//!
//! `closed at` is the closing time in seconds since the Unix epoch; `ballots` is the
//! number of ballot entries on the board before this entry. Every ballot accepted
//! before the polls closed precedes the entry, and none follows it.
//!
//! [`EntryKind::PollsClosed`]: urna_board::EntryKind::PollsClosed

use urna_crypto::DecodeError;
use urna_crypto::encoding::{Decoder, Encoder};

/// The domain tag that opens the body.
pub const POLLS_CLOSED_TAG: &str = "urna/v1/polls-closed";

/// The longest election id a body may carry (the manifest's limit is shorter).
const MAX_ID_LEN: usize = 256;

/// The statement that an election's polls are closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollsClosed {
    /// The election's manifest id.
    pub election_id: String,
    /// When the polls closed, in seconds since the Unix epoch.
    pub closed_at: u64,
    /// How many ballot entries precede this entry on the board.
    pub ballots: u64,
}

impl PollsClosed {
    /// The canonical body.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut enc = Encoder::new();
        enc.str(POLLS_CLOSED_TAG)
            .str(&self.election_id)
            .u64(self.closed_at)
            .u64(self.ballots);
        enc.finish()
    }

    /// Decodes a body, refusing another tag, truncation and trailing bytes.
    ///
    /// # Errors
    /// [`DecodeError`] if `bytes` is not a canonical polls-closed body.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut dec = Decoder::new(bytes);
        if dec.str(POLLS_CLOSED_TAG.len())? != POLLS_CLOSED_TAG {
            return Err(DecodeError::Tag);
        }
        let election_id = dec.str(MAX_ID_LEN)?.to_owned();
        let closed_at = dec.u64()?;
        let ballots = dec.u64()?;
        dec.finish()?;
        Ok(Self {
            election_id,
            closed_at,
            ballots,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_round_trips_and_is_exactly_the_documented_bytes() {
        let closed = PollsClosed {
            election_id: "club".into(),
            closed_at: 0x0102,
            ballots: 3,
        };
        let bytes = closed.encode();
        let mut expected = vec![0, 0, 0, 20];
        expected.extend_from_slice(b"urna/v1/polls-closed");
        expected.extend_from_slice(&[0, 0, 0, 4]);
        expected.extend_from_slice(b"club");
        expected.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 2]);
        expected.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 3]);
        assert_eq!(bytes, expected);
        assert_eq!(PollsClosed::decode(&bytes).unwrap(), closed);
    }

    #[test]
    fn other_tags_truncation_and_trailing_bytes_are_refused() {
        let bytes = PollsClosed {
            election_id: "club".into(),
            closed_at: 1,
            ballots: 0,
        }
        .encode();
        let mut other_tag = bytes.clone();
        other_tag[4] ^= 1;
        assert!(PollsClosed::decode(&other_tag).is_err());
        assert!(PollsClosed::decode(&bytes[..bytes.len() - 1]).is_err());
        let mut trailing = bytes;
        trailing.push(0);
        assert!(PollsClosed::decode(&trailing).is_err());
    }
}
