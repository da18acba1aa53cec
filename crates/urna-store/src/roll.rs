//! The voter roll and credential issuance: what the auth tier stores. It knows who
//! may vote and whether they were issued a credential, never which credential (it
//! only ever sees the blinded message).

use std::future::Future;

use sha2::{Digest, Sha256};

use crate::code::CodeHash;
use crate::error::Result;

/// Domain tag of [`blinded_hash`].
pub const BLINDED_TAG: &[u8] = b"urna/v1/store/blinded-message";

/// One voter to import.
#[derive(Clone, Debug)]
pub struct RollEntry {
    /// The voter's id in the roll (unique per election).
    pub voter: String,
    /// The ballot style the voter gets; must be one of the manifest's.
    pub style: String,
    /// The hash of the voter's voting code.
    pub code: CodeHash,
}

/// A voter on the roll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Voter {
    /// The voter's id.
    pub id: String,
    /// The voter's ballot style.
    pub style: String,
}

/// A recorded credential issuance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issuance {
    /// [`blinded_hash`] of the blinded message that was signed.
    pub blinded_hash: [u8; 32],
    /// The blind signature returned to the voter.
    pub signature: Vec<u8>,
}

/// What recording an issuance did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Issued {
    /// The first issuance for the voter: the given signature was stored.
    New(Vec<u8>),
    /// The same blinded message was already signed: the stored signature.
    Repeat(Vec<u8>),
}

impl Issued {
    /// The signature to return to the voter.
    #[must_use]
    pub fn signature(&self) -> &[u8] {
        match self {
            Issued::New(s) | Issued::Repeat(s) => s,
        }
    }
}

/// `SHA-256(BLINDED_TAG ‖ blinded message)`: how an issuance remembers the message.
#[must_use]
pub fn blinded_hash(blinded_message: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(BLINDED_TAG)
        .chain_update(blinded_message)
        .finalize()
        .into()
}

/// The voter roll and the issuance records.
pub trait RollStore: Send + Sync {
    /// Imports voters into an election in Draft or Test, all or none: a voter already
    /// on the roll or named twice is [`Conflict::VoterExists`](crate::Conflict),
    /// an unknown style or empty id [`Error::InvalidInput`](crate::Error). Returns
    /// the number imported.
    fn import_roll(
        &self,
        election: &str,
        entries: Vec<RollEntry>,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// A voter and the hash of their code, for login; `None` if not on the roll.
    /// Verify the code with [`CodeHash::verify`] off the executor.
    fn voter(
        &self,
        election: &str,
        voter: &str,
    ) -> impl Future<Output = Result<Option<(Voter, CodeHash)>>> + Send;

    /// The number of voters on the roll.
    fn roll_size(&self, election: &str) -> impl Future<Output = Result<u64>> + Send;

    /// Records that `voter` was issued a credential, once per election, in Test or
    /// Open: if nothing is recorded, stores `signature`; if the same blinded message
    /// was recorded, returns the stored signature; a different blinded message is
    /// [`Conflict::CredentialIssued`](crate::Conflict).
    fn record_issuance(
        &self,
        election: &str,
        voter: &str,
        blinded_message: &[u8],
        signature: &[u8],
    ) -> impl Future<Output = Result<Issued>> + Send;

    /// The voter's issuance record, if any (auth checks it before signing).
    fn issuance(
        &self,
        election: &str,
        voter: &str,
    ) -> impl Future<Output = Result<Option<Issuance>>> + Send;

    /// How many credentials were issued in the election (published for observers).
    fn credentials_issued(&self, election: &str) -> impl Future<Output = Result<u64>> + Send;
}
