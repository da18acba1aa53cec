//! The voter's ballot style, verified: signed by the election's style key, its view
//! equal to its canonical bytes, and bound to the election's fingerprint and joint key.

use ed25519_dalek::{Signature, VerifyingKey};
use urna_crypto::{BallotLayout, BallotOpening, EncryptedBallot, EncryptionKey, PublicKey};
use urna_election::{StyleContest, StyleDocument};
use urna_proto::v1 as proto;

use crate::choice::{Choices, selections};
use crate::credential::VoterCredential;
use crate::election::Election;
use crate::error::{Error, VerifyFailure};

/// A ballot style whose signature and contents were verified.
#[derive(Debug, Clone)]
pub struct Style {
    document: StyleDocument,
}

impl Style {
    /// Verifies issuance's answer for style `style_id` of `election`: the signing key is
    /// the election's style key, the Ed25519 signature covers the canonical style, the
    /// structured fields are exactly a view of it, and it names this election, its
    /// fingerprint and its joint key.
    pub fn verify(
        response: &proto::GetBallotStyleResponse,
        election: &Election,
        style_id: &str,
    ) -> Result<Self, VerifyFailure> {
        let keys = election.keys();
        if response.signing_key != keys.style_key {
            return Err(VerifyFailure::Style(
                "not signed by the election's style key",
            ));
        }
        let key = VerifyingKey::from_bytes(&keys.style_key)
            .map_err(|_| VerifyFailure::Style("malformed style key"))?;
        let signature = Signature::from_slice(&response.signature)
            .map_err(|_| VerifyFailure::Style("malformed signature"))?;
        key.verify_strict(&response.canonical_style, &signature)
            .map_err(|_| VerifyFailure::Style("bad signature"))?;
        let document = StyleDocument::decode(&response.canonical_style)
            .map_err(|_| VerifyFailure::Style("malformed canonical style"))?;
        if document.election_id != election.id() || document.style_id != style_id {
            return Err(VerifyFailure::Style("another election or style"));
        }
        if document.fingerprint != *election.fingerprint() {
            return Err(VerifyFailure::Style("another election fingerprint"));
        }
        if document.election_key != keys.joint_key {
            return Err(VerifyFailure::Style("not the election's joint key"));
        }
        if *response != view(&document, response) {
            return Err(VerifyFailure::Style("view differs from the signed style"));
        }
        Ok(Self { document })
    }

    /// The signed style document.
    pub fn document(&self) -> &StyleDocument {
        &self.document
    }

    /// The style id.
    pub fn id(&self) -> &str {
        &self.document.style_id
    }

    /// The contests in ballot order.
    pub fn contests(&self) -> &[StyleContest] {
        &self.document.contests
    }

    /// The layout ballots of this style are encrypted with.
    pub fn layout(&self) -> Result<BallotLayout, Error> {
        self.document
            .layout()
            .map_err(|_| Error::Verify(VerifyFailure::Style("a shape the cryptography refuses")))
    }

    /// The joint election key ballots are encrypted to.
    pub fn encryption_key(&self) -> Result<EncryptionKey, VerifyFailure> {
        PublicKey::from_bytes(&self.document.election_key)
            .map(EncryptionKey::new)
            .map_err(|_| VerifyFailure::Style("malformed election key"))
    }

    /// Checks `choices` against the contests' rules without encrypting: a client
    /// should do this before it obtains a credential, which auth issues only once.
    pub fn validate(&self, choices: &Choices) -> Result<(), Error> {
        selections(self.contests(), &self.layout()?, choices)?;
        Ok(())
    }

    /// Encrypts `choices` with proofs, signed with the credential. The opening stays
    /// with the voter: it is revealed only to challenge (and so spoil) this ballot.
    pub fn encrypt(
        &self,
        credential: &VoterCredential,
        choices: &Choices,
    ) -> Result<(EncryptedBallot, BallotOpening), Error> {
        if credential.election != self.document.fingerprint || credential.style != self.id() {
            return Err(Error::Config(
                "the credential is for another election or style",
            ));
        }
        let layout = self.layout()?;
        let values = selections(self.contests(), &layout, choices)?;
        let key = self.encryption_key()?;
        let mut rng = rand::rng();
        Ok(EncryptedBallot::encrypt(
            &key,
            &self.document.fingerprint,
            &layout,
            credential.credential.clone(),
            &credential.secret,
            &values,
            &mut rng,
        )?)
    }

    /// The opening of `ballot` as a Benaloh challenge reveals it, after checking that it
    /// reproduces every ciphertext (the device encrypted what it claims).
    pub fn reveal(
        &self,
        ballot: &EncryptedBallot,
        opening: &BallotOpening,
    ) -> Result<Vec<proto::ContestOpening>, VerifyFailure> {
        let key = self.encryption_key()?;
        if opening.contests.len() != ballot.contests().len() {
            return Err(VerifyFailure::Opening);
        }
        ballot
            .contests()
            .iter()
            .zip(&opening.contests)
            .map(|((id, contest), secret)| {
                secret
                    .check(&key, contest)
                    .map_err(|_| VerifyFailure::Opening)?;
                Ok(proto::ContestOpening {
                    contest_id: id.clone(),
                    values: secret.values().to_vec(),
                    nonces: secret
                        .reveal()
                        .iter()
                        .map(|n| n.to_bytes().to_vec())
                        .collect(),
                })
            })
            .collect()
    }
}

/// What issuance must send for `document`, given the signature fields it sent.
pub(crate) fn view(
    document: &StyleDocument,
    signed: &proto::GetBallotStyleResponse,
) -> proto::GetBallotStyleResponse {
    urna_proto::style::style_response(
        document,
        signed.canonical_style.clone(),
        signed.signing_key.clone(),
        signed.signature.clone(),
    )
}
