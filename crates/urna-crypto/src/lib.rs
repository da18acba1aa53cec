#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod ballot;
pub mod contest;
pub mod credential;
pub mod dkg;
pub mod dlog;
pub mod elgamal;
pub mod encoding;
pub mod error;
pub mod group;
pub mod mix;
pub mod proofs;
pub mod ranking;
pub mod threshold;
pub mod transcript;

pub use ballot::{BallotLayout, BallotOpening, Credential, EncryptedBallot, short_tracking_code};
pub use contest::{ContestOpening, ContestShape, EncryptedContest};
pub use credential::blind::{
    BlindSignature, BlindSigningKey, BlindVerifyingKey, BlindedMessage, BlindingState,
    MessageRandomizer, RsaSignature,
};
pub use credential::{CredentialPublicKey, CredentialSecret, CredentialSignature, Nullifier};
pub use dkg::{
    Ceremony, Complaint, Dealer, Dealing, DkgParameters, KeyShare, RevealedShare, SecretShare,
    ThresholdPublicKey,
};
pub use dlog::DlogTable;
pub use elgamal::{Ciphertext, EncryptionKey, Nonce, PublicKey, SecretKey};
pub use error::{DecodeError, Error, Result, VerifyError};
pub use group::Element;
pub use mix::{MixBallots, ShuffleProof, ShuffleWitness, shuffle};
pub use proofs::batch::BatchVerifier;
pub use proofs::dleq::DleqProof;
pub use proofs::range::{RangeKind, RangeProof, RangeStatement};
pub use proofs::schnorr::SchnorrProof;
pub use ranking::RankingShape;
pub use threshold::{PartialDecryption, VerifiedPartialDecryption};
pub use transcript::{Context, Transcript};
