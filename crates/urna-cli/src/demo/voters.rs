//! The voters' side of the demo: each voter makes a credential, has auth blind-sign it
//! (auth sees only the blinded message), and encrypts a ballot with proofs.

use std::collections::HashSet;
use std::sync::Mutex;

use anyhow::{Context as _, Result, anyhow};

use super::in_parallel;
use indicatif::ProgressBar;
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use urna_crypto::credential::blind::{BlindSignature, BlindedMessage};
use urna_crypto::credential::credential_message;
use urna_crypto::{
    BallotLayout, BlindSigningKey, BlindVerifyingKey, Credential, CredentialSecret,
    EncryptedBallot, EncryptionKey,
};

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

/// What one voter chose, per contest (one value per option).
pub type Choices = Vec<Vec<u64>>;

/// Everything the voters produce: the cast ballots' encodings and, kept apart, the
/// plaintext choices (known only to the demo, to check the tally against).
pub struct Cast {
    pub ballots: Vec<Vec<u8>>,
    pub choices: Vec<Choices>,
}

pub struct Voters<'a> {
    pub election: &'a [u8; 32],
    pub layout: &'a BallotLayout,
    pub key: &'a EncryptionKey,
    pub auth: &'a Auth,
    pub auth_public: &'a BlindVerifyingKey,
    pub seed: u64,
}

impl Voters<'_> {
    /// Runs `count` voters, in parallel.
    pub fn run(
        &self,
        count: u32,
        choose: fn(&mut ChaCha20Rng) -> Choices,
        progress: &ProgressBar,
    ) -> Result<Cast> {
        let voters: Vec<u32> = (0..count).collect();
        let voted = in_parallel(&voters, |_, _, part| {
            part.iter()
                .map(|&voter| {
                    let vote = self.vote(voter, choose);
                    progress.inc(1);
                    vote
                })
                .collect()
        })?;
        let (ballots, choices) = voted.into_iter().unzip();
        Ok(Cast { ballots, choices })
    }

    fn vote(
        &self,
        voter: u32,
        choose: fn(&mut ChaCha20Rng) -> Choices,
    ) -> Result<(Vec<u8>, Choices)> {
        // One reproducible stream per voter, so totals depend on the seed only.
        let mut rng = ChaCha20Rng::seed_from_u64(self.seed ^ (u64::from(voter) << 20) ^ 0x5eed);
        let choices = choose(&mut rng);
        let secret = CredentialSecret::generate(&mut rng);
        let message = credential_message(self.election, self.layout.style(), &secret.public_key())?;
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
            self.election,
            self.layout,
            credential,
            &secret,
            &choices,
            &mut rng,
        )?;
        Ok((ballot.to_bytes(), choices))
    }
}
