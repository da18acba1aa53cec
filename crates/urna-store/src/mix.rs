//! The trustees' shuffles of the mix-net contests' ballots, before they are decrypted.
//!
//! A tally batch with a width (a mix-net contest: its counted ballots as rows of
//! `width` ciphertexts, [`crate::TallyBatch`]) is shuffled by trustees in turn: step 0
//! shuffles the batch's ciphertexts, step `s` the output of step `s − 1`. Each step is
//! recorded once, in order, by a trustee that has not shuffled the batch before. The
//! store checks none of the cryptography: the tally verifies each shuffle's proof
//! before it records the step.

use std::future::Future;

use crate::error::{Error, Result};
use crate::tally::Written;

/// One trustee's shuffle of a mix-net batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredShuffle {
    /// The tally batch shuffled.
    pub batch: u32,
    /// The step, from 0: step `s` shuffles step `s − 1`'s output (step 0 the batch's).
    pub step: u32,
    /// The trustee who shuffled.
    pub trustee: u32,
    /// The output ciphertexts, 64 bytes each, row after row.
    pub output: Vec<u8>,
    /// The canonical shuffle proof.
    pub proof: Vec<u8>,
    /// The trustee's signature over the submission.
    pub signature: Vec<u8>,
}

/// The mix steps of a closed election's tally.
pub trait MixStore: Send + Sync {
    /// Records a mix step, keyed by batch and step: [`Written::Same`] or
    /// [`Written::Different`] if that step is already recorded. A new step needs a
    /// batch with a width, output of whole 64-byte ciphertexts, the next step number
    /// (no gap) and a trustee that has not shuffled this batch
    /// ([`Error::InvalidInput`](crate::Error) otherwise).
    fn add_mix_step(
        &self,
        election: &str,
        shuffle: StoredShuffle,
    ) -> impl Future<Output = Result<Written>> + Send;

    /// The recorded steps of one batch, in step order.
    fn mix_steps(
        &self,
        election: &str,
        batch: u32,
    ) -> impl Future<Output = Result<Vec<StoredShuffle>>> + Send;
}

/// Refuses a new step that is not the next one, whose trustee already shuffled the
/// batch, or whose output is not whole ciphertexts.
pub(crate) fn check_next(recorded: &[StoredShuffle], new: &StoredShuffle) -> Result<()> {
    if new.output.is_empty() || !new.output.len().is_multiple_of(64) {
        return Err(Error::InvalidInput("mix output of whole ciphertexts"));
    }
    if recorded.len() != new.step as usize {
        return Err(Error::InvalidInput("mix steps are recorded in order"));
    }
    if recorded.iter().any(|s| s.trustee == new.trustee) {
        return Err(Error::InvalidInput(
            "the trustee already shuffled this batch",
        ));
    }
    Ok(())
}
