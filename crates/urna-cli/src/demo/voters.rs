//! The voters' side of the demo: each voter makes a credential, has auth blind-sign it
//! (auth sees only the blinded message), and encrypts a ballot with proofs.

use std::collections::HashSet;
use std::sync::Mutex;

use anyhow::{Context as _, Result, anyhow};

use indicatif::ProgressBar;
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use urna_crypto::credential::blind::{BlindSignature, BlindedMessage};
use urna_crypto::credential::credential_message;
use urna_crypto::{
    BlindSigningKey, BlindVerifyingKey, Credential, CredentialSecret, EncryptedBallot,
    EncryptionKey,
};

use super::election::Election;
use super::in_parallel;

/// The authentication tier: knows who votes, signs one blinded credential per voter.
pub struct Auth {
    key: BlindSigningKey,
    issued: Mutex<HashSet<u32>>,
}

impl Auth {
    pub fn new(key: BlindSigningKey) -> Self {
        Self {
            key,
            issued: Mutex::new(HashSet::new()),
        }
    }

    /// Signs a blinded credential for `voter`, once.
    fn sign(
        &self,
        voter: u32,
        blinded: &BlindedMessage,
        rng: &mut ChaCha20Rng,
    ) -> Result<BlindSignature> {
        let first = self
            .issued
            .lock()
            .map_err(|_| anyhow!("auth state poisoned"))?
            .insert(voter);
        if !first {
            return Err(anyhow!("voter {voter} already has a credential"));
        }
        Ok(self.key.blind_sign(blinded, rng)?)
    }

    /// The public half of the signing key, published for voters and verifiers.
    pub fn verifying_key(&self) -> Result<BlindVerifyingKey> {
        Ok(self.key.verifying_key()?)
    }

    /// How many credentials were issued (published for observers).
    pub fn issued(&self) -> usize {
        self.issued.lock().map(|set| set.len()).unwrap_or(0)
    }
}

/// What one voter chose, per contest of their style (one value per option).
pub type Choices = Vec<Vec<u64>>;

/// One cast ballot: the voter's style, the encoded ballot, and (known only to the demo,
/// to check the tally against) the plaintext choices.
pub struct Cast {
    pub style: usize,
    pub ballot: Vec<u8>,
    pub choices: Choices,
}

pub struct Voters<'a> {
    pub election: &'a Election,
    pub key: &'a EncryptionKey,
    pub auth: &'a Auth,
    pub auth_public: &'a BlindVerifyingKey,
    pub seed: u64,
}

impl Voters<'_> {
    /// Runs `count` voters, in parallel.
    pub fn run(&self, count: u32, progress: &ProgressBar) -> Result<Vec<Cast>> {
        let voters: Vec<u32> = (0..count).collect();
        in_parallel(&voters, |_, _, part| {
            part.iter()
                .map(|&voter| {
                    let vote = self.vote(voter);
                    progress.inc(1);
                    vote
                })
                .collect()
        })
    }

    fn vote(&self, voter: u32) -> Result<Cast> {
        // One reproducible stream per voter, so results depend on the seed only.
        let mut rng = ChaCha20Rng::seed_from_u64(self.seed ^ (u64::from(voter) << 20) ^ 0x5eed);
        let style = self.election.pick_style(&mut rng);
        let layout = &self.election.styles[style].layout;
        let choices = self.election.choose(style, &mut rng)?;
        let fingerprint = &self.election.fingerprint;
        let secret = CredentialSecret::generate(&mut rng);
        let message = credential_message(fingerprint, layout.style(), &secret.public_key())?;
        let (blinded, state) = self.auth_public.blind(&message, &mut rng)?;
        let blind_signature = self.auth.sign(voter, &blinded, &mut rng)?;
        let (signature, randomizer) = self
            .auth_public
            .finalize(&blind_signature, &state, &message)
            .context("auth's blind signature did not verify")?;
        let credential = Credential {
            key: secret.public_key(),
            signature,
            randomizer,
        };
        let (ballot, _opening) = EncryptedBallot::encrypt(
            self.key,
            fingerprint,
            layout,
            credential,
            &secret,
            &choices,
            &mut rng,
        )?;
        Ok(Cast {
            style,
            ballot: ballot.to_bytes(),
            choices,
        })
    }
}
