//! The records services/tally writes after the polls close (docs/protocol.md §4.8):
//! the `TallyRecord`, each `DecryptionShare` and the `Result`.

use urna_crypto::encoding::{Decoder, Encoder};
use urna_crypto::{Ciphertext, DecodeError};

use super::{MAX_BODY, MAX_ID_LEN, MAX_ITEMS};

/// The domain tag of the tally record.
pub const TALLY_RECORD_TAG: &str = "urna/v1/tally-record";
/// The domain tag of a decryption share.
pub const DECRYPTION_SHARE_TAG: &str = "urna/v1/decryption-share";
/// The domain tag of the result.
pub const RESULT_TAG: &str = "urna/v1/result";

/// One contest of a `TallyRecord`: the encrypted per-option sums, or a mix-net
/// contest's rows by their digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContestTally {
    /// The contest id.
    pub contest: String,
    /// How many counted ballots hold the contest.
    pub ballots: u64,
    /// The homomorphic sum per option, in option order (empty for a mix-net contest).
    pub sums: Vec<Ciphertext>,
    /// A mix-net contest's rows: ciphertexts per row and their digest (§4.9).
    pub rows: Option<Rows>,
}

/// A list of mix-net rows named by its digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rows {
    /// Ciphertexts per row, at least 1.
    pub width: u32,
    /// `rows_digest` of the rows (docs/protocol.md §4.9).
    pub digest: [u8; 32],
}

/// A `TallyRecord` body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TallyRecord {
    /// The board index of the `PollsClosed` entry the tally stops at.
    pub polls_closed: u64,
    /// Every contest of the manifest, in manifest order (batch `b` is the `b`-th).
    pub contests: Vec<ContestTally>,
}

impl TallyRecord {
    /// The canonical body.
    pub fn encode(&self) -> Vec<u8> {
        let mut enc = Encoder::new();
        enc.str(TALLY_RECORD_TAG)
            .u64(self.polls_closed)
            .len(self.contests.len());
        for c in &self.contests {
            enc.str(&c.contest).u64(c.ballots);
            match &c.rows {
                Some(rows) => {
                    enc.u32(rows.width).fixed(&rows.digest);
                }
                None => {
                    enc.u32(0).len(c.sums.len());
                    for sum in &c.sums {
                        sum.encode(&mut enc);
                    }
                }
            }
        }
        enc.finish()
    }

    /// Decodes a body; every ciphertext must be canonical.
    ///
    /// # Errors
    /// [`DecodeError`] for anything but a canonical tally record.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut dec = Decoder::new(bytes);
        if dec.str(TALLY_RECORD_TAG.len())? != TALLY_RECORD_TAG {
            return Err(DecodeError::Tag);
        }
        let polls_closed = dec.u64()?;
        let count = dec.len(MAX_ITEMS)?;
        let mut contests = Vec::with_capacity(count);
        for _ in 0..count {
            let contest = dec.str(MAX_ID_LEN)?.to_owned();
            let ballots = dec.u64()?;
            let width = dec.u32()?;
            let (sums, rows) = if width == 0 {
                let options = dec.len(MAX_ITEMS)?;
                let sums = (0..options)
                    .map(|_| Ciphertext::decode(&mut dec))
                    .collect::<Result<Vec<_>, _>>()?;
                (sums, None)
            } else {
                let digest = dec.array::<32>()?;
                (Vec::new(), Some(Rows { width, digest }))
            };
            contests.push(ContestTally {
                contest,
                ballots,
                sums,
                rows,
            });
        }
        dec.finish()?;
        Ok(Self {
            polls_closed,
            contests,
        })
    }
}

/// A `DecryptionShare` body: one trustee's signed partial decryption of one batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecryptionShare<'a> {
    /// The board index of the `TallyRecord` it decrypts.
    pub source: u64,
    /// The batch (contest position in the tally record).
    pub batch: u32,
    /// The trustee.
    pub trustee: u32,
    /// The canonical partial decryption (docs/protocol.md §1.13).
    pub partial: &'a [u8],
    /// The trustee's Ed25519 signature, what = `partial-decryption`.
    pub signature: &'a [u8],
}

impl<'a> DecryptionShare<'a> {
    /// Decodes a body.
    ///
    /// # Errors
    /// [`DecodeError`] for anything but a decryption share.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut dec = Decoder::new(bytes);
        if dec.str(DECRYPTION_SHARE_TAG.len())? != DECRYPTION_SHARE_TAG {
            return Err(DecodeError::Tag);
        }
        let share = Self {
            source: dec.u64()?,
            batch: dec.u32()?,
            trustee: dec.u32()?,
            partial: dec.bytes(MAX_BODY)?,
            signature: dec.bytes(MAX_BODY)?,
        };
        dec.finish()?;
        Ok(share)
    }

    /// The canonical body.
    pub fn encode(&self) -> Vec<u8> {
        let mut enc = Encoder::new();
        enc.str(DECRYPTION_SHARE_TAG)
            .u64(self.source)
            .u32(self.batch)
            .u32(self.trustee)
            .bytes(self.partial)
            .bytes(self.signature);
        enc.finish()
    }

    /// The payload the trustee signed: `u32be(batch) ‖ partial`.
    pub fn signed_payload(&self) -> Vec<u8> {
        [&self.batch.to_be_bytes()[..], self.partial].concat()
    }
}

/// One contest of the `Result`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContestResult {
    /// The contest id.
    pub contest: String,
    /// How many ballots were counted in it.
    pub ballots: u64,
    /// The decrypted total per option, in option order.
    pub totals: Vec<(String, u64)>,
    /// The winners' option ids, in order of election.
    pub winners: Vec<String>,
    /// A mix-net contest's CVR digest (SHA-256 of the CVR file); `None` for a
    /// homomorphic contest.
    pub cvr_digest: Option<[u8; 32]>,
}

/// The `Result` body: `lp("urna/v1/result") ‖ u32be(C)`, then per contest
/// `lp(contest id) ‖ u64be(ballots) ‖ u32be(T) ‖ T × (lp(option id) ‖ u64be(total)) ‖
/// u32be(W) ‖ W × lp(winner option id) ‖ lp(CVR digest, empty for a homomorphic
/// contest)`.
pub fn result_body(results: &[ContestResult]) -> Vec<u8> {
    let mut enc = Encoder::new();
    enc.str(RESULT_TAG).len(results.len());
    for r in results {
        enc.str(&r.contest).u64(r.ballots).len(r.totals.len());
        for (option, total) in &r.totals {
            enc.str(option).u64(*total);
        }
        enc.len(r.winners.len());
        for winner in &r.winners {
            enc.str(winner);
        }
        enc.bytes(r.cvr_digest.as_ref().map_or(&[][..], |d| &d[..]));
    }
    enc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_records_round_trip_and_refuse_trailing_bytes() {
        let record = TallyRecord {
            polls_closed: 9,
            contests: vec![ContestTally {
                contest: "chair".into(),
                ballots: 2,
                sums: vec![Ciphertext::zero(); 3],
                rows: None,
            }],
        };
        let bytes = record.encode();
        assert_eq!(bytes.len(), 24 + 8 + 4 + 9 + 8 + 4 + 4 + 3 * 64);
        assert_eq!(TallyRecord::decode(&bytes).unwrap(), record);
        let mixed = TallyRecord {
            polls_closed: 9,
            contests: vec![ContestTally {
                contest: "rank".into(),
                ballots: 7,
                sums: Vec::new(),
                rows: Some(Rows {
                    width: 4,
                    digest: [3; 32],
                }),
            }],
        };
        let mixed_bytes = mixed.encode();
        assert_eq!(mixed_bytes.len(), 24 + 8 + 4 + 8 + 8 + 4 + 32);
        assert_eq!(TallyRecord::decode(&mixed_bytes).unwrap(), mixed);
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(TallyRecord::decode(&trailing).is_err());
        let mut bad_point = bytes.clone();
        let last = bad_point.len() - 1;
        bad_point[last] = 0xff;
        assert!(TallyRecord::decode(&bad_point).is_err());
    }

    #[test]
    fn shares_round_trip_and_sign_the_batch_and_partial() {
        let share = DecryptionShare {
            source: 12,
            batch: 1,
            trustee: 3,
            partial: b"partial",
            signature: &[5; 64],
        };
        let bytes = share.encode();
        assert_eq!(DecryptionShare::decode(&bytes).unwrap(), share);
        assert_eq!(share.signed_payload(), b"\0\0\0\x01partial");
        assert!(DecryptionShare::decode(&bytes[1..]).is_err());
    }

    #[test]
    fn the_result_body_is_exactly_the_documented_bytes() {
        let body = result_body(&[ContestResult {
            contest: "c".into(),
            ballots: 2,
            totals: vec![("a".into(), 1)],
            winners: vec!["a".into()],
            cvr_digest: None,
        }]);
        let mut expected = vec![0, 0, 0, 14];
        expected.extend_from_slice(b"urna/v1/result");
        expected.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, b'c']);
        expected.extend_from_slice(&2u64.to_be_bytes());
        expected.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, b'a']);
        expected.extend_from_slice(&1u64.to_be_bytes());
        expected.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, b'a']);
        expected.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(body, expected);
    }
}
