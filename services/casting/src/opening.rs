//! The opening of a challenged ballot, as received, and its canonical encoding on the
//! board.

use urna_crypto::ContestOpening;
use urna_crypto::encoding::{Encoder, decode_scalar};

use crate::error::CastingError;

/// One contest's revealed values and nonces, in option order, as a voter's device
/// sends them to spoil a ballot.
#[derive(Clone, PartialEq, Eq)]
pub struct Opening {
    /// The contest id; must match the ballot's contest at this position.
    pub contest_id: String,
    /// The encrypted value of each option.
    pub values: Vec<u64>,
    /// The encryption nonce of each option: canonical Ristretto255 scalars.
    pub nonces: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Opening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The values are the voter's choices: never in logs.
        f.debug_struct("Opening")
            .field("contest_id", &self.contest_id)
            .finish_non_exhaustive()
    }
}

impl Opening {
    /// The checked form, or [`CastingError::InvalidOpening`] for a nonce that is not a
    /// canonical scalar or counts that differ.
    pub(crate) fn to_contest_opening(&self) -> Result<ContestOpening, CastingError> {
        if self.values.len() != self.nonces.len() {
            return Err(CastingError::InvalidOpening);
        }
        let nonces = self
            .nonces
            .iter()
            .map(decode_scalar)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| CastingError::InvalidOpening)?;
        Ok(ContestOpening::from_revealed(self.values.clone(), &nonces))
    }
}

/// The canonical encoding of a ballot's openings, as published in its spoiled-ballot
/// entry: `u32` contest count, then per contest its id (string), the option count
/// (`u32`), each value (`u64`) and each nonce (32-byte scalar).
pub fn encode_openings(openings: &[Opening]) -> Vec<u8> {
    let mut enc = Encoder::new();
    enc.len(openings.len());
    for opening in openings {
        enc.str(&opening.contest_id).len(opening.values.len());
        for value in &opening.values {
            enc.u64(*value);
        }
        for nonce in &opening.nonces {
            enc.fixed(nonce);
        }
    }
    enc.finish()
}
