//! The trustee's side of the key ceremony (docs/protocol.md §1.12, §4.7), driven by
//! polling the tally service's public state: deal, check the shares received and
//! complain about bad ones, confirm, answer complaints, and at the end assemble and
//! keep the key share. Every step looks at the recorded state first, so running it
//! again after a crash continues where it stopped.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use ed25519_dalek::Signer as _;
use rand::SeedableRng as _;
use rand::rngs::ChaCha20Rng;
use tonic::Code;
use tonic::transport::Channel;
use urna_crypto::dkg::{
    self, Complaint, Dealer, Dealing, DkgParameters, RevealedShare, SecretShare, ThresholdPublicKey,
};
use urna_proto::v1 as pb;
use urna_proto::v1::tally_client::TallyClient;
use urna_tally::{dealing_payload, open_share, seal_share, signed_message};

use super::share_file::ShareFile;

/// How often and how long to poll.
#[derive(Clone, Copy, Debug)]
pub struct Polling {
    /// Between two polls.
    pub interval: Duration,
    /// Give up after this long.
    pub timeout: Duration,
}

impl Default for Polling {
    /// Every 200 ms, for two hours.
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(200),
            timeout: Duration::from_secs(2 * 3600),
        }
    }
}

/// The trustee's registration, read from its share file.
pub(super) struct Registered {
    pub(super) election: String,
    pub(super) index: u32,
    pub(super) fingerprint: [u8; 32],
}

impl Registered {
    /// The election, index and fingerprint the share file was registered with.
    pub(super) fn of(file: &ShareFile) -> Result<Self> {
        let public = file.public();
        let (Some(election), Some(index), Some(fingerprint)) =
            (&public.election, public.index, &public.fingerprint)
        else {
            bail!(
                "{} is not registered yet: run `urna trustee register` first",
                file.path().display()
            );
        };
        let fingerprint = hex::decode(fingerprint)
            .ok()
            .and_then(|f| f.try_into().ok())
            .context("the share file's fingerprint is not 32 bytes of hex")?;
        Ok(Self {
            election: election.clone(),
            index,
            fingerprint,
        })
    }

    /// Signs `payload` for `what` with the trustee's key (tally.proto's header).
    pub(super) fn sign(&self, file: &ShareFile, what: &str, payload: &[u8]) -> Vec<u8> {
        let message = signed_message(&self.fingerprint, self.index, what, payload);
        file.signing_key().sign(&message).to_bytes().to_vec()
    }
}

/// Runs trustee `file`'s part of the key ceremony against `tally` until the ceremony
/// is done (the key share is then saved in the file and the threshold key returned)
/// or failed (an error). `report` gets one line per round reached. Safe to run again
/// after a crash: what is recorded is not redone.
pub async fn run_ceremony(
    tally: &mut TallyClient<Channel>,
    file: &mut ShareFile,
    polling: Polling,
    report: &mut (dyn FnMut(&str) + Send),
) -> Result<ThresholdPublicKey> {
    let me = Registered::of(file)?;
    let started = Instant::now();
    let mut reached = None;
    loop {
        let state = tally
            .get_ceremony_state(pb::GetCeremonyStateRequest {
                election_id: me.election.clone(),
            })
            .await
            .context("reading the ceremony's state")?
            .into_inner();
        if state.election_fingerprint != me.fingerprint {
            bail!("the tally service names another election fingerprint than the share file");
        }
        let phase = state.phase();
        if reached != Some(phase) {
            report(&format!("trustee {}: {}", me.index, round_name(phase)));
            reached = Some(phase);
        }
        let step = Step {
            tally: &mut *tally,
            file: &*file,
            me: &me,
            state: &state,
        };
        match phase {
            pb::CeremonyPhase::Dealing => step.deal().await?,
            pb::CeremonyPhase::Complaints => step.check_shares().await?,
            pb::CeremonyPhase::Reveals => step.answer_complaints().await?,
            pb::CeremonyPhase::Done => {
                let (key, share) = step.key_share().await?;
                if file.key_share().is_none() {
                    file.set_key_share(&key, share);
                    file.save()?;
                }
                return Ok(key);
            }
            pb::CeremonyPhase::Failed => {
                bail!("the key ceremony failed: fewer than k dealers qualified")
            }
            pb::CeremonyPhase::Registration | pb::CeremonyPhase::Unspecified => {}
        }
        if started.elapsed() > polling.timeout {
            bail!("the key ceremony did not finish within the timeout");
        }
        tokio::time::sleep(polling.interval).await;
    }
}

/// What the trustee does in one poll.
struct Step<'a> {
    tally: &'a mut TallyClient<Channel>,
    file: &'a ShareFile,
    me: &'a Registered,
    state: &'a pb::GetCeremonyStateResponse,
}

impl Step<'_> {
    fn params(&self) -> Result<DkgParameters> {
        DkgParameters::new(
            self.me.fingerprint,
            self.state.threshold,
            self.state.trustee_count,
        )
        .context("the ceremony's threshold and trustee count are invalid")
    }

    /// This trustee's dealer: its polynomial comes from the seed in the share file,
    /// so it is the same after a restart.
    fn dealer(&self) -> Result<Dealer> {
        let mut rng = ChaCha20Rng::from_seed(self.file.dealer_seed());
        Ok(Dealer::new(&self.params()?, self.me.index, &mut rng)?)
    }

    fn status(&self) -> Option<&pb::TrusteeStatus> {
        self.state
            .trustees
            .iter()
            .find(|t| t.index == self.me.index)
    }

    /// Deals, unless the dealing is recorded: a share sealed to every registered
    /// trustee, signed.
    async fn deal(self) -> Result<()> {
        if self.status().is_some_and(|t| t.dealt) {
            return Ok(());
        }
        let dealer = self.dealer()?;
        let mut rng = ChaCha20Rng::from_rng(&mut rand::rng());
        let mut shares = Vec::new();
        for trustee in &self.state.trustees {
            let key: [u8; 32] = trustee
                .encryption_key
                .as_slice()
                .try_into()
                .with_context(|| format!("trustee {} has no encryption key", trustee.index))?;
            let share = dealer.share_for(trustee.index)?;
            let sealed = seal_share(&mut rng, &key, &self.me.fingerprint, &share)?;
            shares.push((trustee.index, sealed));
        }
        let dealing = dealer.dealing().to_bytes();
        let signature = self
            .me
            .sign(self.file, "dealing", &dealing_payload(&dealing, &shares));
        let request = pb::SubmitDealingRequest {
            election_id: self.me.election.clone(),
            trustee_index: self.me.index,
            dealing,
            shares: shares
                .into_iter()
                .map(|(recipient, ciphertext)| pb::SealedShare {
                    recipient,
                    ciphertext,
                })
                .collect(),
            signature,
        };
        match self.tally.submit_dealing(request).await {
            Ok(_) => Ok(()),
            // Recorded by an earlier run (its shares were sealed with other nonces).
            Err(status) if status.code() == Code::AlreadyExists => Ok(()),
            // The round moved on meanwhile: the next poll sees it.
            Err(status) if status.code() == Code::FailedPrecondition => Ok(()),
            Err(status) => Err(status).context("submitting the dealing"),
        }
    }

    /// The accepted dealings and the shares sealed to this trustee that open (a share
    /// that does not open counts as missing).
    async fn received(&mut self) -> Result<(Vec<Dealing>, Vec<SecretShare>)> {
        let records = self
            .tally
            .get_dealings(pb::GetDealingsRequest {
                election_id: self.me.election.clone(),
                recipient: self.me.index,
            })
            .await
            .context("fetching the dealings")?
            .into_inner()
            .dealings;
        let mut dealings = Vec::new();
        let mut shares = Vec::new();
        for record in records {
            let dealing = Dealing::from_bytes(&record.dealing)
                .with_context(|| format!("dealer {}'s dealing does not decode", record.dealer))?;
            if let Some(sealed) = &record.share
                && let Ok(share) = open_share(
                    self.file.encryption_secret(),
                    &self.me.fingerprint,
                    record.dealer,
                    self.me.index,
                    &sealed.ciphertext,
                )
            {
                shares.push(share);
            }
            dealings.push(dealing);
        }
        Ok((dealings, shares))
    }

    /// Checks every share received against its dealing, complains about the bad or
    /// missing ones, then confirms.
    async fn check_shares(mut self) -> Result<()> {
        if self.state.confirmed.contains(&self.me.index) {
            return Ok(());
        }
        let (dealings, shares) = self.received().await?;
        let mut ceremony = dkg::Ceremony::new(self.params()?);
        for dealing in dealings {
            // The service checked each dealing; one refused here gets no complaint.
            let _refused = ceremony.add_dealing(dealing);
        }
        ceremony.close_dealings()?;
        let complaints: Vec<Complaint> = ceremony
            .complaints_for(self.me.index, &shares)
            .into_iter()
            .filter(|c| c.dealer() != self.me.index)
            .collect();
        for complaint in &complaints {
            let bytes = complaint.to_bytes().to_vec();
            let signature = self.me.sign(self.file, "complaint", &bytes);
            let request = pb::SubmitComplaintRequest {
                election_id: self.me.election.clone(),
                trustee_index: self.me.index,
                complaint: bytes,
                signature,
            };
            match self.tally.submit_complaint(request).await {
                Ok(_) => {}
                Err(status) if status.code() == Code::FailedPrecondition => return Ok(()),
                Err(status) => return Err(status).context("submitting a complaint"),
            }
        }
        let count = u32::try_from(complaints.len()).context("too many complaints")?;
        let request = pb::ConfirmSharesRequest {
            election_id: self.me.election.clone(),
            trustee_index: self.me.index,
            complaints: count,
            signature: self
                .me
                .sign(self.file, "shares-checked", &count.to_be_bytes()),
        };
        match self.tally.confirm_shares(request).await {
            Ok(_) => Ok(()),
            Err(status) if status.code() == Code::FailedPrecondition => Ok(()),
            Err(status) => Err(status).context("confirming the shares"),
        }
    }

    /// Reveals the share of every complaint against this trustee not answered yet.
    async fn answer_complaints(self) -> Result<()> {
        let answered: Vec<(u32, u32)> = self
            .state
            .reveals
            .iter()
            .filter_map(|r| RevealedShare::from_bytes(r).ok())
            .map(|r| (r.dealer(), r.recipient()))
            .collect();
        let against_me: Vec<Complaint> = self
            .state
            .complaints
            .iter()
            .filter_map(|c| Complaint::from_bytes(c).ok())
            .filter(|c| {
                c.dealer() == self.me.index && !answered.contains(&(c.dealer(), c.accuser()))
            })
            .collect();
        if against_me.is_empty() {
            return Ok(());
        }
        let dealer = self.dealer()?;
        for complaint in against_me {
            let revealed = dealer.reveal(&complaint)?.to_bytes();
            let signature = self.me.sign(self.file, "reveal", &revealed);
            let request = pb::SubmitRevealRequest {
                election_id: self.me.election.clone(),
                trustee_index: self.me.index,
                revealed_share: revealed,
                signature,
            };
            match self.tally.submit_reveal(request).await {
                Ok(_) => {}
                Err(status) if status.code() == Code::FailedPrecondition => return Ok(()),
                Err(status) => return Err(status).context("revealing a share"),
            }
        }
        Ok(())
    }

    /// Replays the public record, checks the result is the service's threshold key,
    /// and assembles this trustee's key share (revealed shares addressed to it take
    /// the place of the private ones).
    async fn key_share(mut self) -> Result<(ThresholdPublicKey, dkg::KeyShare)> {
        let announced = ThresholdPublicKey::from_bytes(&self.state.threshold_public_key)
            .context("the service's threshold key does not decode")?;
        let (dealings, shares) = self.received().await?;
        let complaints: Vec<Complaint> = self
            .state
            .complaints
            .iter()
            .map(|c| Complaint::from_bytes(c))
            .collect::<Result<_, _>>()
            .context("a recorded complaint does not decode")?;
        let reveals: Vec<RevealedShare> = self
            .state
            .reveals
            .iter()
            .map(|r| RevealedShare::from_bytes(r))
            .collect::<Result<_, _>>()
            .context("a recorded revealed share does not decode")?;
        let ceremony = dkg::Ceremony::replay(self.params()?, &dealings, &complaints, &reveals)?;
        if ceremony.key() != Some(&announced) {
            bail!("the service's threshold key is not the one the ceremony's record gives");
        }
        let share = ceremony.key_share(self.me.index, &shares)?;
        announced
            .check_share(&share)
            .context("the key share does not match the threshold key")?;
        Ok((announced, share))
    }
}

/// How a round is named in the progress lines.
fn round_name(phase: pb::CeremonyPhase) -> &'static str {
    match phase {
        pb::CeremonyPhase::Unspecified => "waiting for the ceremony",
        pb::CeremonyPhase::Registration => "registration round (waiting for every trustee)",
        pb::CeremonyPhase::Dealing => "dealing round",
        pb::CeremonyPhase::Complaints => "complaint round (checking the shares received)",
        pb::CeremonyPhase::Reveals => "reveal round",
        pb::CeremonyPhase::Done => "done",
        pb::CeremonyPhase::Failed => "failed",
    }
}
