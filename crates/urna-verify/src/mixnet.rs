//! A mix-net contest's chain of shuffles, checked step by step (docs/protocol.md
//! §4.9): what the verifier checks of every `ShuffleRecord`, and what a trustee checks
//! before it releases a partial decryption of the last output.

use urna_crypto::dkg::ThresholdPublicKey;
use urna_crypto::encoding::Decoder;
use urna_crypto::mix::rows_digest;
use urna_crypto::{Ciphertext, Context, MixBallots, ShuffleProof};

use crate::records::{ShuffleKey, ShuffleRecord};

/// One mix-net contest's rows, from the counted ballots' through each checked shuffle.
#[derive(Debug, Clone, Default)]
pub struct ShuffleChain {
    source: u64,
    width: usize,
    rows: Vec<Ciphertext>,
    digest: [u8; 32],
    steps: Vec<u32>,
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepError {
    /// The signature is not the trustee's registered one (the caller's check said so).
    Signature,
    /// Anything else, said in words.
    Invalid(String),
}

impl ShuffleChain {
    /// The chain of a contest whose rows of `width` are `rows` (the counted ballots',
    /// in board order), aggregated in the tally record at board index `source`.
    pub fn new(source: u64, width: usize, rows: Vec<Ciphertext>) -> Self {
        let digest = digest(&rows, width);
        Self {
            source,
            width,
            rows,
            digest,
            steps: Vec::new(),
        }
    }

    /// The current rows: the last checked step's output.
    pub fn rows(&self) -> &[Ciphertext] {
        &self.rows
    }

    /// The current rows' digest.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// The trustees whose shuffles were checked, in step order.
    pub fn steps(&self) -> &[u32] {
        &self.steps
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows.len() / self.width.max(1)
    }

    /// Whether the contest has no rows (no counted ballot holds it).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether the chain has the shuffles a decryption needs: k, or none without rows.
    pub fn is_mixed(&self, threshold: &ThresholdPublicKey) -> bool {
        self.is_empty() || self.steps.len() >= threshold.threshold() as usize
    }

    /// Checks the whole shuffle record `record` named by `key` as the chain's next
    /// step of `contest`, and advances the chain to its output. `signed(trustee,
    /// payload, signature)` says whether the signature is the trustee's registered
    /// key's over the payload (what = `shuffle`).
    ///
    /// # Errors
    /// [`StepError::Signature`] if `signed` refused; [`StepError::Invalid`] for every
    /// other broken rule, the chain unchanged.
    pub fn push(
        &mut self,
        key: &ShuffleKey,
        record: &[u8],
        threshold: &ThresholdPublicKey,
        contest: &str,
        signed: impl FnOnce(u32, &[u8], &[u8]) -> bool,
    ) -> Result<(), StepError> {
        let invalid = |why: String| Err(StepError::Invalid(why));
        if key.source != self.source {
            return invalid(format!("it names entry {} as the tally record", key.source));
        }
        if key.step as usize != self.steps.len() {
            return invalid(format!(
                "step {} of batch {}, where step {} is due",
                key.step,
                key.batch,
                self.steps.len()
            ));
        }
        if self.steps.len() >= threshold.threshold() as usize {
            return invalid(format!("batch {} already has its k shuffles", key.batch));
        }
        if threshold.verification_key(key.trustee).is_none() {
            return invalid(format!(
                "trustee {} is not in the threshold key",
                key.trustee
            ));
        }
        if self.steps.contains(&key.trustee) {
            return invalid(format!(
                "trustee {} shuffled batch {} before",
                key.trustee, key.batch
            ));
        }
        if key.input != self.digest {
            return invalid("its input is not the batch's current rows".to_owned());
        }
        let record = match ShuffleRecord::decode(record) {
            Ok(record) => record,
            Err(e) => return invalid(format!("the shuffle record does not decode: {e}")),
        };
        let output = match decode_rows(record.output, self.width) {
            Some(rows) if rows.len() == self.rows.len() => rows,
            _ => return invalid("its output is not the input's shape of canonical rows".into()),
        };
        if digest(&output, self.width) != key.output {
            return invalid("its output is not the rows its key names".to_owned());
        }
        if !signed(
            key.trustee,
            &key.signed_payload(record.proof),
            record.signature,
        ) {
            return Err(StepError::Signature);
        }
        let context = Context::shuffle(
            threshold.parameters().election(),
            contest,
            u64::from(key.step),
        );
        let verified = (|| {
            let input = MixBallots::new(self.width, self.rows.clone()).ok()?;
            let output = MixBallots::new(self.width, output.clone()).ok()?;
            let mut dec = Decoder::new(record.proof);
            let proof = ShuffleProof::decode(&mut dec, input.len(), input.width()).ok()?;
            dec.finish().ok()?;
            proof
                .verify(&threshold.public_key(), &input, &output, &context)
                .ok()
        })();
        if verified.is_none() {
            return invalid("the shuffle proof fails".to_owned());
        }
        self.rows = output;
        self.digest = key.output;
        self.steps.push(key.trustee);
        Ok(())
    }
}

/// The digest of rows of `width` (§4.9).
pub fn digest(rows: &[Ciphertext], width: usize) -> [u8; 32] {
    let bytes: Vec<[u8; 64]> = rows.iter().map(Ciphertext::to_bytes).collect();
    rows_digest(bytes.len() / width.max(1), width, &bytes)
}

/// Rows of `width` canonical ciphertexts, or `None`.
pub fn decode_rows(bytes: &[u8], width: usize) -> Option<Vec<Ciphertext>> {
    if width == 0 || !bytes.len().is_multiple_of(64 * width) {
        return None;
    }
    let mut dec = Decoder::new(bytes);
    (0..bytes.len() / 64)
        .map(|_| Ciphertext::decode(&mut dec).ok())
        .collect()
}
