//! The voter's flow over gRPC: every answer is checked before it is used or returned.

use core::fmt;

use urna_board::{Checkpoint, NoteVerifier};
use urna_crypto::credential::credential_message;
use urna_crypto::{
    BallotOpening, BlindSignature, BlindVerifyingKey, Credential, CredentialSecret, EncryptedBallot,
};
use urna_proto::v1 as proto;
use zeroize::Zeroizing;

use crate::board::{hashes, open_checkpoint, verify_consistency, verify_inclusion_message};
use crate::credential::VoterCredential;
use crate::election::{Election, ProvenEntry, TrustRoot};
use crate::endpoints::{Clients, Endpoints, Tls};
use crate::error::{Result, VerifyFailure};
use crate::receipt::Receipt;
use crate::style::Style;

/// A voter's logged-in session with auth. The token is a bearer secret: the `Debug`
/// output leaves it out.
pub struct Session {
    token: Zeroizing<String>,
    /// When the session expires, in seconds since the Unix epoch.
    pub expires_at: u64,
    /// The voter's ballot style id.
    pub style_id: String,
    /// The election fingerprint auth binds credentials to.
    pub fingerprint: Vec<u8>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("expires_at", &self.expires_at)
            .field("style_id", &self.style_id)
            .finish_non_exhaustive()
    }
}

/// The outcome of [`Voter::recheck`].
#[derive(Debug, Clone)]
pub struct Rechecked {
    /// The receipt advanced to the latest checkpoint (to save in place of the old one).
    pub receipt: Receipt,
    /// The latest checkpoint, which includes the entry.
    pub checkpoint: Checkpoint,
    /// The receipt's checkpoint, which the latest one extends.
    pub previous: Checkpoint,
}

/// A voter's client for one election.
#[derive(Debug, Clone)]
pub struct Voter {
    clients: Clients,
    election: String,
}

impl Voter {
    /// A client of the services at `endpoints` for election `election` (its manifest
    /// id). Needs a Tokio runtime; connects on the first call.
    pub fn connect(endpoints: &Endpoints, tls: &Tls, election: &str) -> Result<Self> {
        Ok(Self {
            clients: Clients::connect(endpoints, tls)?,
            election: election.to_owned(),
        })
    }

    /// The election's manifest id.
    pub fn election_id(&self) -> &str {
        &self.election
    }

    /// Fetches the board's latest checkpoint and its first two entries (manifest and
    /// keys) with their inclusion proofs, and verifies them ([`Election::verify`]).
    pub async fn fetch_election(&self, trust: &TrustRoot) -> Result<Election> {
        let checkpoint = self.latest_checkpoint().await?;
        let size = checkpoint.tree_size;
        let entries = self
            .clients
            .board
            .clone()
            .get_entries(proto::GetEntriesRequest {
                election_id: self.election.clone(),
                start: 0,
                count: 2,
            })
            .await?
            .into_inner()
            .entries;
        let mut proven = Vec::with_capacity(2);
        for entry in entries.into_iter().take(2) {
            let proof = self
                .inclusion_proof(entry.index, size)
                .await?
                .ok_or(VerifyFailure::Inclusion)?;
            proven.push(ProvenEntry {
                index: entry.index,
                entry: entry.entry,
                proof: hashes(&proof.hashes)?,
            });
        }
        let [manifest, keys] = proven.as_slice() else {
            return Err(VerifyFailure::Genesis.into());
        };
        Ok(Election::verify(
            &self.election,
            trust,
            &checkpoint.note,
            manifest,
            keys,
        )?)
    }

    /// Logs in with the voter's id and voting code.
    pub async fn login(&self, voter_id: &str, code: &str) -> Result<Session> {
        let response = self
            .clients
            .auth
            .clone()
            .voter_login(proto::VoterLoginRequest {
                election_id: self.election.clone(),
                voter_id: voter_id.to_owned(),
                voting_code: code.to_owned(),
            })
            .await?
            .into_inner();
        Ok(Session {
            token: Zeroizing::new(response.session_token),
            expires_at: response.expires_at,
            style_id: response.ballot_style_id,
            fingerprint: response.election_fingerprint,
        })
    }

    /// Fetches and verifies the ballot style `style_id` ([`Style::verify`]).
    pub async fn ballot_style(&self, election: &Election, style_id: &str) -> Result<Style> {
        let response = self
            .clients
            .issuance
            .clone()
            .get_ballot_style(proto::GetBallotStyleRequest {
                election_id: self.election.clone(),
                style_id: style_id.to_owned(),
            })
            .await?
            .into_inner();
        Ok(Style::verify(&response, election, style_id)?)
    }

    /// Makes a fresh credential key and has auth blind-sign it: auth's key must be the
    /// one on the board, and the finalized signature must verify.
    pub async fn credential(
        &self,
        election: &Election,
        session: &Session,
    ) -> Result<VoterCredential> {
        if session.fingerprint != election.fingerprint() {
            return Err(VerifyFailure::Credential.into());
        }
        let served = self
            .clients
            .auth
            .clone()
            .get_auth_key(proto::GetAuthKeyRequest {
                election_id: self.election.clone(),
            })
            .await?
            .into_inner();
        if served.public_key_spki != election.keys().auth_key {
            return Err(VerifyFailure::Credential.into());
        }
        let key = BlindVerifyingKey::from_der(&election.keys().auth_key)
            .map_err(|_| VerifyFailure::Credential)?;
        let (secret, message, blinded, state) = {
            let mut rng = rand::rng();
            let secret = CredentialSecret::generate(&mut rng);
            let message = credential_message(
                election.fingerprint(),
                &session.style_id,
                &secret.public_key(),
            )
            .map_err(|_| VerifyFailure::Credential)?;
            let (blinded, state) = key.blind(&message, &mut rng)?;
            (secret, message, blinded, state)
        };
        let response = self
            .clients
            .auth
            .clone()
            .issue_credential(proto::IssueCredentialRequest {
                session_token: session.token.to_string(),
                blinded_message: blinded.as_bytes().to_vec(),
            })
            .await?
            .into_inner();
        let (signature, randomizer) = key
            .finalize(
                &BlindSignature::from_bytes(response.blind_signature),
                &state,
                &message,
            )
            .map_err(|_| VerifyFailure::Credential)?;
        Ok(VoterCredential {
            election: *election.fingerprint(),
            style: session.style_id.clone(),
            credential: Credential {
                key: secret.public_key(),
                signature,
                randomizer,
            },
            secret,
        })
    }

    /// A Benaloh challenge: checks locally that `opening` reproduces every ciphertext,
    /// spoils the ballot (it is published opened and never counted) and verifies the
    /// receipt. Encrypt afresh for the real cast.
    pub async fn challenge(
        &self,
        election: &Election,
        style: &Style,
        ballot: &EncryptedBallot,
        opening: &BallotOpening,
    ) -> Result<Receipt> {
        let openings = style.reveal(ballot, opening)?;
        let bytes = ballot.to_bytes();
        let receipt = self
            .clients
            .casting
            .clone()
            .spoil_ballot(proto::SpoilBallotRequest {
                election_id: self.election.clone(),
                ballot: bytes.clone(),
                openings,
            })
            .await?
            .into_inner()
            .receipt;
        self.checked_receipt(election, receipt, &bytes, true)
    }

    /// Casts the ballot and verifies the receipt: the entry is exactly this ballot and
    /// is included in a checkpoint signed by the board key.
    pub async fn cast(&self, election: &Election, ballot: &EncryptedBallot) -> Result<Receipt> {
        let bytes = ballot.to_bytes();
        let receipt = self
            .clients
            .casting
            .clone()
            .cast_ballot(proto::CastBallotRequest {
                election_id: self.election.clone(),
                ballot: bytes.clone(),
            })
            .await?
            .into_inner()
            .receipt;
        self.checked_receipt(election, receipt, &bytes, false)
    }

    /// Re-checks a receipt later: fetches the latest checkpoint (signed by the board
    /// key), proves it consistent with the receipt's and the entry included in it.
    pub async fn recheck(&self, election: &Election, receipt: &Receipt) -> Result<Rechecked> {
        let board_key: &NoteVerifier = election.board();
        let older = receipt.verify(board_key, election.fingerprint())?;
        if receipt.election_id != self.election {
            return Err(VerifyFailure::Receipt("a receipt of another election").into());
        }
        let latest_note = self.latest_checkpoint().await?.note;
        let newer = open_checkpoint(&latest_note, board_key)?;
        if newer.checkpoint().size() < older.size() {
            return Err(VerifyFailure::Consistency.into());
        }
        let consistency = self
            .clients
            .board
            .clone()
            .get_consistency_proof(proto::GetConsistencyProofRequest {
                election_id: self.election.clone(),
                old_size: older.size(),
                new_size: newer.checkpoint().size(),
            })
            .await?
            .into_inner()
            .proof;
        verify_consistency(&older, newer.checkpoint(), consistency)?;
        let inclusion = self
            .inclusion_proof(receipt.leaf_index, newer.checkpoint().size())
            .await?;
        let proof = verify_inclusion_message(
            newer.checkpoint(),
            &receipt.entry,
            receipt.leaf_index,
            inclusion,
        )?;
        Ok(Rechecked {
            receipt: Receipt {
                inclusion_proof: proof.iter().map(|h| *h.as_bytes()).collect(),
                checkpoint: latest_note,
                ..receipt.clone()
            },
            checkpoint: newer.checkpoint().clone(),
            previous: older,
        })
    }

    async fn latest_checkpoint(&self) -> Result<proto::SignedCheckpoint> {
        let checkpoint = self
            .clients
            .board
            .clone()
            .get_checkpoint(proto::GetCheckpointRequest {
                election_id: self.election.clone(),
            })
            .await?
            .into_inner()
            .checkpoint;
        Ok(checkpoint.ok_or(VerifyFailure::Checkpoint)?)
    }

    async fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<Option<proto::InclusionProof>> {
        Ok(self
            .clients
            .board
            .clone()
            .get_inclusion_proof(proto::GetInclusionProofRequest {
                election_id: self.election.clone(),
                leaf_index: index,
                tree_size: size,
            })
            .await?
            .into_inner()
            .proof)
    }

    fn checked_receipt(
        &self,
        election: &Election,
        receipt: Option<proto::Receipt>,
        ballot: &[u8],
        spoiled: bool,
    ) -> Result<Receipt> {
        let receipt = Receipt::from_proto(receipt.ok_or(VerifyFailure::Receipt("no receipt"))?)?;
        if receipt.spoiled != spoiled || receipt.election_id != self.election {
            return Err(VerifyFailure::Receipt("not the receipt asked for").into());
        }
        receipt.verify(election.board(), election.fingerprint())?;
        receipt.verify_ballot(election.fingerprint(), ballot)?;
        Ok(receipt)
    }
}
