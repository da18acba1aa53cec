//! The bodies of the board records the verifier reads besides ballots, decoded from
//! docs/protocol.md §4.4, §4.5, §4.7, §4.8 and §4.9 (independently of the services that
//! write them).

mod ceremony;
mod mix;
mod tally;

pub use ceremony::{CeremonyRecord, CeremonyTag, signed_message};
pub use mix::{
    MIX_SHARE_TAG, MixShare, MixShareKey, SHUFFLE_RECORD_TAG, ShuffleKey, ShuffleRecord,
};
pub use tally::{ContestResult, ContestTally, DecryptionShare, Rows, TallyRecord, result_body};

use urna_crypto::encoding::{Decoder, Encoder, decode_scalar};
use urna_crypto::{ContestOpening, DecodeError};

/// The domain tag that opens a polls-closed body.
pub const POLLS_CLOSED_TAG: &str = "urna/v1/polls-closed";

/// The largest body an entry can carry, so the longest ballot a spoiled entry holds.
const MAX_BODY: usize = u16::MAX as usize;

/// The longest election or contest id accepted in a record.
const MAX_ID_LEN: usize = 256;

/// The most contests or options per contest a record may list.
const MAX_ITEMS: usize = 1024;

/// A `PollsClosed` body (§4.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollsClosed {
    /// The election's manifest id.
    pub election_id: String,
    /// When the polls closed, in Unix seconds.
    pub closed_at: u64,
    /// The number of Ballot entries before this entry.
    pub ballots: u64,
    /// The number of credentials auth issued for the election (the most voters who
    /// can have a counted ballot).
    pub credentials_issued: u64,
}

impl PollsClosed {
    /// The canonical body.
    pub fn encode(&self) -> Vec<u8> {
        let mut enc = Encoder::new();
        enc.str(POLLS_CLOSED_TAG)
            .str(&self.election_id)
            .u64(self.closed_at)
            .u64(self.ballots)
            .u64(self.credentials_issued);
        enc.finish()
    }

    /// Decodes a body, refusing another tag, truncation and trailing bytes.
    ///
    /// # Errors
    /// [`DecodeError`] for anything but a canonical polls-closed body.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut dec = Decoder::new(bytes);
        if dec.str(POLLS_CLOSED_TAG.len())? != POLLS_CLOSED_TAG {
            return Err(DecodeError::Tag);
        }
        let closed = Self {
            election_id: dec.str(MAX_ID_LEN)?.to_owned(),
            closed_at: dec.u64()?,
            ballots: dec.u64()?,
            credentials_issued: dec.u64()?,
        };
        dec.finish()?;
        Ok(closed)
    }
}

/// A `SpoiledBallot` body (§4.4): the ballot as encrypted and its openings.
#[derive(Debug)]
pub struct SpoiledBallot<'a> {
    /// The ballot's canonical encoding (decoded against its style by the caller).
    pub ballot: &'a [u8],
    /// Per contest in ballot order: the contest id and its opening.
    pub openings: Vec<(String, ContestOpening)>,
}

impl<'a> SpoiledBallot<'a> {
    /// Decodes `lp(ballot) ‖ lp(openings)`; nonces must be canonical scalars and each
    /// contest must list as many nonces as values.
    ///
    /// # Errors
    /// [`DecodeError`] for anything else.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut dec = Decoder::new(body);
        let ballot = dec.bytes(MAX_BODY)?;
        let mut inner = Decoder::new(dec.bytes(MAX_BODY)?);
        dec.finish()?;
        let count = inner.len(MAX_ITEMS)?;
        let mut openings = Vec::with_capacity(count);
        for _ in 0..count {
            let id = inner.str(MAX_ID_LEN)?.to_owned();
            let options = inner.len(MAX_ITEMS)?;
            let values = (0..options)
                .map(|_| inner.u64())
                .collect::<Result<Vec<_>, _>>()?;
            let nonces = (0..options)
                .map(|_| decode_scalar(&inner.array()?))
                .collect::<Result<Vec<_>, _>>()?;
            openings.push((id, ContestOpening::from_revealed(values, &nonces)));
        }
        inner.finish()?;
        Ok(Self { ballot, openings })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_closed_is_exactly_the_documented_bytes() {
        let closed = PollsClosed {
            election_id: "club".into(),
            closed_at: 0x0102,
            ballots: 3,
            credentials_issued: 5,
        };
        let bytes = closed.encode();
        let mut expected = vec![0, 0, 0, 20];
        expected.extend_from_slice(b"urna/v1/polls-closed");
        expected.extend_from_slice(&[0, 0, 0, 4]);
        expected.extend_from_slice(b"club");
        expected.extend_from_slice(&0x0102u64.to_be_bytes());
        expected.extend_from_slice(&3u64.to_be_bytes());
        expected.extend_from_slice(&5u64.to_be_bytes());
        assert_eq!(bytes, expected);
        assert_eq!(PollsClosed::decode(&bytes).unwrap(), closed);
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(PollsClosed::decode(&trailing).is_err());
        assert!(PollsClosed::decode(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn spoiled_bodies_refuse_bad_nonces_and_trailing_bytes() {
        let opening = |nonce: [u8; 32]| {
            let mut enc = Encoder::new();
            enc.len(1).str("c").len(1).u64(1).fixed(&nonce);
            enc.finish()
        };
        let body = |openings: &[u8]| {
            let mut enc = Encoder::new();
            enc.bytes(b"ballot").bytes(openings);
            enc.finish()
        };
        let good = body(&opening([1; 32]));
        let spoiled = SpoiledBallot::decode(&good).unwrap();
        assert_eq!(spoiled.ballot, b"ballot");
        assert_eq!(spoiled.openings.len(), 1);
        assert_eq!(spoiled.openings[0].0, "c");
        assert_eq!(spoiled.openings[0].1.values(), &[1]);
        assert!(SpoiledBallot::decode(&body(&opening([0xff; 32]))).is_err());
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(SpoiledBallot::decode(&trailing).is_err());
    }
}
