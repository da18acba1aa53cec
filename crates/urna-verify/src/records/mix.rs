//! The mix-net's records (docs/protocol.md §4.9), each published as parts (§2.1): a
//! `ShuffleRecord` per mix step and, per trustee, the decryption share of a mixed
//! contest. The part key says what the record is; the record holds the bulk.

use urna_crypto::DecodeError;
use urna_crypto::encoding::{Decoder, Encoder};

/// The domain tag of a shuffle record's parts.
pub const SHUFFLE_RECORD_TAG: &str = "urna/v1/shuffle-record";
/// The domain tag of a mixed contest's decryption share parts.
pub const MIX_SHARE_TAG: &str = "urna/v1/mix-decryption-share";

/// What a shuffle record's part key says: `u64be(source) ‖ u32be(batch) ‖
/// u32be(step) ‖ u32be(trustee) ‖ input digest ‖ output digest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShuffleKey {
    /// The board index of the `TallyRecord`.
    pub source: u64,
    /// The tally batch (the contest's position in the tally record).
    pub batch: u32,
    /// The mix step, from 0.
    pub step: u32,
    /// The trustee who shuffled.
    pub trustee: u32,
    /// The digest of the rows shuffled.
    pub input: [u8; 32],
    /// The digest of the rows output.
    pub output: [u8; 32],
}

impl ShuffleKey {
    /// The key's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut enc = Encoder::new();
        enc.u64(self.source)
            .u32(self.batch)
            .u32(self.step)
            .u32(self.trustee)
            .fixed(&self.input)
            .fixed(&self.output);
        enc.finish()
    }

    /// Decodes a key.
    ///
    /// # Errors
    /// [`DecodeError`] for anything but a shuffle key.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut dec = Decoder::new(bytes);
        let key = Self {
            source: dec.u64()?,
            batch: dec.u32()?,
            step: dec.u32()?,
            trustee: dec.u32()?,
            input: dec.array()?,
            output: dec.array()?,
        };
        dec.finish()?;
        Ok(key)
    }

    /// The payload the trustee signed (what = `shuffle`): `u32be(batch) ‖ u32be(step)
    /// ‖ input digest ‖ output digest ‖ proof`.
    pub fn signed_payload(&self, proof: &[u8]) -> Vec<u8> {
        [
            &self.batch.to_be_bytes()[..],
            &self.step.to_be_bytes(),
            &self.input,
            &self.output,
            proof,
        ]
        .concat()
    }
}

/// A shuffle record: `lp(output ciphertexts) ‖ lp(proof) ‖ lp(signature)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShuffleRecord<'a> {
    /// The output rows, 64 bytes per ciphertext, row after row.
    pub output: &'a [u8],
    /// The canonical shuffle proof (§1.14).
    pub proof: &'a [u8],
    /// The trustee's Ed25519 signature.
    pub signature: &'a [u8],
}

impl<'a> ShuffleRecord<'a> {
    /// Decodes an assembled record.
    ///
    /// # Errors
    /// [`DecodeError`] for anything but a shuffle record.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut dec = Decoder::new(bytes);
        let record = Self {
            output: long_bytes(&mut dec)?,
            proof: long_bytes(&mut dec)?,
            signature: dec.bytes(64)?,
        };
        dec.finish()?;
        Ok(record)
    }

    /// The record's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut enc = Encoder::new();
        enc.bytes(self.output)
            .bytes(self.proof)
            .bytes(self.signature);
        enc.finish()
    }
}

/// What a mixed contest's decryption share part key says: `u64be(source) ‖
/// u32be(batch) ‖ u32be(trustee) ‖ digest of the rows decrypted`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MixShareKey {
    /// The board index of the `TallyRecord`.
    pub source: u64,
    /// The tally batch.
    pub batch: u32,
    /// The trustee.
    pub trustee: u32,
    /// The digest of the rows decrypted (the last shuffle's output).
    pub rows: [u8; 32],
}

impl MixShareKey {
    /// The key's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut enc = Encoder::new();
        enc.u64(self.source)
            .u32(self.batch)
            .u32(self.trustee)
            .fixed(&self.rows);
        enc.finish()
    }

    /// Decodes a key.
    ///
    /// # Errors
    /// [`DecodeError`] for anything but a mixed share's key.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut dec = Decoder::new(bytes);
        let key = Self {
            source: dec.u64()?,
            batch: dec.u32()?,
            trustee: dec.u32()?,
            rows: dec.array()?,
        };
        dec.finish()?;
        Ok(key)
    }
}

/// A mixed contest's decryption share: `lp(partial decryption) ‖ lp(signature)`, the
/// signature's what and payload as a totals share's (`partial-decryption`,
/// `u32be(batch) ‖ partial`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MixShare<'a> {
    /// The canonical partial decryption (§1.13).
    pub partial: &'a [u8],
    /// The trustee's Ed25519 signature.
    pub signature: &'a [u8],
}

impl<'a> MixShare<'a> {
    /// Decodes an assembled record.
    ///
    /// # Errors
    /// [`DecodeError`] for anything but a mixed share.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut dec = Decoder::new(bytes);
        let share = Self {
            partial: long_bytes(&mut dec)?,
            signature: dec.bytes(64)?,
        };
        dec.finish()?;
        Ok(share)
    }

    /// The record's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut enc = Encoder::new();
        enc.bytes(self.partial).bytes(self.signature);
        enc.finish()
    }
}

/// `lp(bytes)` of any length the record holds: a mixed contest's rows may pass the
/// decoder's 16 MiB bound for one field, and the record is in memory already.
fn long_bytes<'a>(dec: &mut Decoder<'a>) -> Result<&'a [u8], DecodeError> {
    let len = usize::try_from(dec.u32()?).map_err(|_| DecodeError::Length)?;
    dec.take(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_records_round_trip_with_their_documented_sizes() {
        let key = ShuffleKey {
            source: 7,
            batch: 1,
            step: 2,
            trustee: 3,
            input: [4; 32],
            output: [5; 32],
        };
        assert_eq!(key.encode().len(), 84);
        assert_eq!(ShuffleKey::decode(&key.encode()).unwrap(), key);
        assert!(ShuffleKey::decode(&key.encode()[1..]).is_err());
        let payload = key.signed_payload(b"proof");
        assert_eq!(&payload[..8], &[0, 0, 0, 1, 0, 0, 0, 2]);
        assert_eq!(&payload[72..], b"proof");
        let record = ShuffleRecord {
            output: &[1; 128],
            proof: b"proof",
            signature: &[9; 64],
        };
        assert_eq!(ShuffleRecord::decode(&record.encode()).unwrap(), record);
        let mut trailing = record.encode();
        trailing.push(0);
        assert!(ShuffleRecord::decode(&trailing).is_err());
        let share_key = MixShareKey {
            source: 7,
            batch: 1,
            trustee: 3,
            rows: [6; 32],
        };
        assert_eq!(share_key.encode().len(), 48);
        assert_eq!(MixShareKey::decode(&share_key.encode()).unwrap(), share_key);
        let share = MixShare {
            partial: b"partial",
            signature: &[9; 64],
        };
        assert_eq!(MixShare::decode(&share.encode()).unwrap(), share);
    }
}
