//! A whole encrypted ballot: the anonymous credential that authorises it, the encrypted
//! contests of its ballot style, and the credential's signature over all of it.
//!
//! Encoding (all lengths `u32`, big-endian; see docs/protocol.md "Ballot"):
//!
//! ```text
//! version u8 (= 1)
//! election fingerprint   32 bytes
//! ballot style id        string (≤ 64 bytes)
//! credential public key  32 bytes (Ed25519)
//! blind RSA signature    bytes (the modulus length)
//! message randomizer     32 bytes
//! contest count          u32, then per contest: id string (≤ 64 bytes), EncryptedContest
//! credential signature   64 bytes: Ed25519 over lp("urna/v1/ballot-signature") ‖ all of the above
//! ```
//!
//! The ballot's proofs are bound to `Context::ballot(election, contest id, credential)`,
//! so neither a contest nor a proof can be moved into another ballot or election.

use rand_core::CryptoRng;
use sha2::{Digest, Sha256};

use crate::contest::{ContestOpening, ContestShape, EncryptedContest};
use crate::credential::blind::{BlindVerifyingKey, MessageRandomizer, RsaSignature};
use crate::credential::{
    CredentialPublicKey, CredentialSecret, CredentialSignature, Nullifier, credential_message,
};
use crate::elgamal::{EncryptionKey, PublicKey};
use crate::encoding::{Decoder, Encoder};
use crate::error::{DecodeError, Error, VerifyError};
use crate::proofs::batch::BatchVerifier;
use crate::transcript::Context;

/// The encoding version this module reads and writes.
pub const BALLOT_VERSION: u8 = 1;

/// Longest ballot-style or contest id, in bytes.
pub const MAX_ID_LEN: usize = 64;

/// Longest RSA signature accepted (RSA-4096).
pub const MAX_RSA_SIGNATURE_LEN: usize = 512;

const SIGNATURE_TAG: &str = "urna/v1/ballot-signature";
const TRACKING_TAG: &str = "urna/v1/tracking-code";

/// The contests a ballot style has, in ballot order, with their shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BallotLayout {
    style: String,
    contests: Vec<(String, ContestShape)>,
}

impl BallotLayout {
    /// A layout; ids must be at most 64 bytes and contest ids unique.
    pub fn new(style: &str, contests: Vec<(String, ContestShape)>) -> Result<Self, Error> {
        let too_long =
            style.len() > MAX_ID_LEN || contests.iter().any(|(id, _)| id.len() > MAX_ID_LEN);
        if too_long {
            return Err(Error::Parameters("ids are at most 64 bytes"));
        }
        let mut ids: Vec<&str> = contests.iter().map(|(id, _)| id.as_str()).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|pair| pair[0] == pair[1]) || contests.is_empty() {
            return Err(Error::Parameters(
                "a style has one or more contests with unique ids",
            ));
        }
        Ok(Self {
            style: style.to_owned(),
            contests,
        })
    }

    /// The ballot style id.
    pub fn style(&self) -> &str {
        &self.style
    }

    /// The contests in ballot order.
    pub fn contests(&self) -> &[(String, ContestShape)] {
        &self.contests
    }
}

/// The anonymous eligibility credential: the key the voter made, and auth's blind
/// signature on the credential message for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The voter's Ed25519 credential public key.
    pub key: CredentialPublicKey,
    /// Auth's RSA signature (RFC 9474) on the credential message.
    pub signature: RsaSignature,
    /// The RFC 9474 message randomizer of that signature.
    pub randomizer: MessageRandomizer,
}

/// An encrypted, signed ballot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedBallot {
    election: [u8; 32],
    style: String,
    credential: Credential,
    contests: Vec<(String, EncryptedContest)>,
    signature: CredentialSignature,
}

/// The secrets of a ballot before it is cast: one opening per contest. Revealing them
/// (a Benaloh challenge) spoils the ballot.
#[derive(Debug)]
pub struct BallotOpening {
    /// Per contest, in ballot order.
    pub contests: Vec<ContestOpening>,
}

impl EncryptedBallot {
    /// Encrypts `selections` (per contest of `layout`, one value per option), proves
    /// every contest well-formed and signs the ballot with the credential key.
    pub fn encrypt<R: CryptoRng + ?Sized>(
        key: &EncryptionKey,
        election: &[u8; 32],
        layout: &BallotLayout,
        credential: Credential,
        secret: &CredentialSecret,
        selections: &[Vec<u64>],
        rng: &mut R,
    ) -> Result<(Self, BallotOpening), Error> {
        if selections.len() != layout.contests.len() {
            return Err(Error::Parameters("one selection vector per contest"));
        }
        if secret.public_key() != credential.key {
            return Err(Error::Parameters(
                "credential secret does not match the credential",
            ));
        }
        let mut contests = Vec::with_capacity(selections.len());
        let mut openings = Vec::with_capacity(selections.len());
        for ((id, shape), values) in layout.contests.iter().zip(selections) {
            let context = Context::ballot(election, id, credential.key.as_bytes());
            let (contest, opening) = EncryptedContest::encrypt(key, shape, values, &context, rng)?;
            contests.push((id.clone(), contest));
            openings.push(opening);
        }
        let mut ballot = Self {
            election: *election,
            style: layout.style.clone(),
            credential,
            contests,
            signature: CredentialSignature::from_bytes(&[0; 64]),
        };
        ballot.signature = secret.sign(&ballot.signed_message());
        Ok((ballot, BallotOpening { contests: openings }))
    }

    /// The election fingerprint the ballot is for.
    pub fn election(&self) -> &[u8; 32] {
        &self.election
    }

    /// The ballot style id.
    pub fn style(&self) -> &str {
        &self.style
    }

    /// The credential.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// The nullifier: the same for every ballot of this credential in this election.
    pub fn nullifier(&self) -> Nullifier {
        Nullifier::new(&self.election, &self.credential.key)
    }

    /// The encrypted contests, in ballot order.
    pub fn contests(&self) -> &[(String, EncryptedContest)] {
        &self.contests
    }

    /// Checks auth's blind signature on the credential and the credential's signature on
    /// the ballot (no proofs: see [`add_to_batch`](Self::add_to_batch) and
    /// [`verify`](Self::verify)).
    pub fn verify_signatures(&self, auth_key: &BlindVerifyingKey) -> Result<(), VerifyError> {
        let message = credential_message(&self.election, &self.style, &self.credential.key)
            .map_err(|_| VerifyError::BlindSignature)?;
        auth_key
            .verify(
                &self.credential.signature,
                &self.credential.randomizer,
                &message,
            )
            .map_err(|_| VerifyError::BlindSignature)?;
        self.credential
            .key
            .verify(&self.signed_message(), &self.signature)
    }

    /// Adds every contest's proofs to a batch, labelled `id`.
    pub fn add_to_batch<Id: Clone, R: CryptoRng + ?Sized>(
        &self,
        batch: &mut BatchVerifier<'_, Id, R>,
        id: Id,
        layout: &BallotLayout,
    ) {
        for ((contest_id, contest), (_, shape)) in self.contests.iter().zip(&layout.contests) {
            let context =
                Context::ballot(&self.election, contest_id, self.credential.key.as_bytes());
            batch.add_contest(id.clone(), contest, shape, &context);
        }
    }

    /// Verifies the signatures and every proof of this ballot on its own.
    pub fn verify(
        &self,
        election_key: &PublicKey,
        auth_key: &BlindVerifyingKey,
        layout: &BallotLayout,
    ) -> Result<(), VerifyError> {
        self.verify_signatures(auth_key)?;
        for ((contest_id, contest), (_, shape)) in self.contests.iter().zip(&layout.contests) {
            let context =
                Context::ballot(&self.election, contest_id, self.credential.key.as_bytes());
            contest.verify(election_key, shape, &context)?;
        }
        Ok(())
    }

    /// The tracking code: `SHA-256(lp("urna/v1/tracking-code") ‖ lp(encoding))`.
    pub fn tracking_code(&self) -> [u8; 32] {
        let mut enc = Encoder::new();
        enc.str(TRACKING_TAG).bytes(&self.to_bytes());
        Sha256::digest(enc.as_slice()).into()
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut enc = Encoder::new();
        self.encode_unsigned(&mut enc);
        enc.fixed(&self.signature.to_bytes());
        enc.finish()
    }

    /// Decodes a ballot that must match `layout` (style, contest ids, shapes) exactly.
    pub fn from_bytes(bytes: &[u8], layout: &BallotLayout) -> Result<Self, DecodeError> {
        let mut dec = Decoder::new(bytes);
        if dec.u8()? != BALLOT_VERSION {
            return Err(DecodeError::Tag);
        }
        let election = dec.array()?;
        if dec.str(MAX_ID_LEN)? != layout.style {
            return Err(DecodeError::Tag);
        }
        let key = CredentialPublicKey::from_bytes(&dec.array()?)?;
        let signature = RsaSignature::from_bytes(dec.bytes(MAX_RSA_SIGNATURE_LEN)?.to_vec());
        let randomizer = MessageRandomizer::from_bytes(dec.array()?);
        let count = dec.len(layout.contests.len())?;
        if count != layout.contests.len() {
            return Err(DecodeError::Length);
        }
        let contests = layout
            .contests
            .iter()
            .map(|(id, shape)| {
                if dec.str(MAX_ID_LEN)? != id {
                    return Err(DecodeError::Tag);
                }
                Ok((id.clone(), EncryptedContest::decode(&mut dec, shape)?))
            })
            .collect::<Result<Vec<_>, DecodeError>>()?;
        let ballot_signature = CredentialSignature::from_bytes(&dec.array()?);
        dec.finish()?;
        Ok(Self {
            election,
            style: layout.style.clone(),
            credential: Credential {
                key,
                signature,
                randomizer,
            },
            contests,
            signature: ballot_signature,
        })
    }

    fn encode_unsigned(&self, enc: &mut Encoder) {
        enc.u8(BALLOT_VERSION)
            .fixed(&self.election)
            .str(&self.style)
            .fixed(self.credential.key.as_bytes())
            .bytes(self.credential.signature.as_bytes())
            .fixed(self.credential.randomizer.as_bytes())
            .len(self.contests.len());
        for (id, contest) in &self.contests {
            enc.str(id);
            contest.encode(enc);
        }
    }

    fn signed_message(&self) -> Vec<u8> {
        let mut enc = Encoder::new();
        enc.str(SIGNATURE_TAG);
        self.encode_unsigned(&mut enc);
        enc.finish()
    }
}

/// The tracking code in short human form: the first 10 bytes in Crockford base32,
/// grouped `XXXX-XXXX-XXXX-XXXX`, easy to read aloud and compare.
pub fn short_tracking_code(code: &[u8; 32]) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut bits: u128 = 0;
    for byte in &code[..10] {
        bits = (bits << 8) | u128::from(*byte);
    }
    let chars: Vec<char> = (0..16)
        .rev()
        .map(|i| char::from(ALPHABET[((bits >> (i * 5)) & 31) as usize]))
        .collect();
    chars
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}
