//! The public record of a key ceremony, as a state machine over rounds.
//!
//! Rounds: [`Phase::Dealing`] (every trustee publishes its dealing) →
//! [`Phase::Complaints`] (trustees check their private shares and complain) →
//! [`Phase::Reveals`] (accused dealers reveal the disputed shares) → [`Phase::Done`].
//! Each round is closed explicitly by whoever drives the ceremony (the tally service,
//! on a deadline); a verifier replays the same records in the same order.

use std::collections::{BTreeMap, BTreeSet};

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use zeroize::Zeroize;

use super::{
    Complaint, Dealing, DkgParameters, KeyShare, RevealedShare, SecretShare, ThresholdPublicKey,
    evaluate_commitments,
};
use crate::error::{Error, VerifyError};
use crate::group::Element;

/// The round a ceremony is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Dealings are accepted.
    Dealing,
    /// Complaints are accepted.
    Complaints,
    /// Answers to complaints are accepted.
    Reveals,
    /// The key is fixed.
    Done,
}

/// Why a dealer was left out of the joint key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Disqualification {
    /// No dealing arrived before the dealing round closed.
    NoDealing,
    /// The dealing had the wrong shape or its proof of knowledge failed.
    InvalidDealing(VerifyError),
    /// The share revealed in answer to this accuser's complaint did not match the
    /// dealer's commitments.
    BadRevealedShare {
        /// The trustee whose complaint it answered.
        accuser: u32,
    },
    /// This accuser's complaint was not answered before the reveal round closed.
    UnansweredComplaint {
        /// The trustee whose complaint went unanswered.
        accuser: u32,
    },
}

/// The public state of one ceremony.
#[derive(Debug, Clone)]
pub struct Ceremony {
    params: DkgParameters,
    phase: Phase,
    dealings: BTreeMap<u32, Dealing>,
    complaints: BTreeSet<Complaint>,
    reveals: BTreeMap<(u32, u32), RevealedShare>,
    disqualified: BTreeMap<u32, Disqualification>,
    key: Option<ThresholdPublicKey>,
}

impl Ceremony {
    /// A ceremony in its dealing round.
    pub fn new(params: DkgParameters) -> Self {
        Self {
            params,
            phase: Phase::Dealing,
            dealings: BTreeMap::new(),
            complaints: BTreeSet::new(),
            reveals: BTreeMap::new(),
            disqualified: BTreeMap::new(),
            key: None,
        }
    }

    /// Replays a ceremony's public records, as a verifier reads them from the board,
    /// in their rounds. A record the ceremony refuses is skipped, exactly as it was
    /// when it arrived (refusing an invalid dealing or reveal disqualifies its dealer).
    pub fn replay<'a>(
        params: DkgParameters,
        dealings: impl IntoIterator<Item = &'a Dealing>,
        complaints: impl IntoIterator<Item = &'a Complaint>,
        reveals: impl IntoIterator<Item = &'a RevealedShare>,
    ) -> Result<Self, Error> {
        let mut ceremony = Self::new(params);
        for dealing in dealings {
            let _refused = ceremony.add_dealing(dealing.clone());
        }
        ceremony.close_dealings()?;
        for complaint in complaints {
            let _refused = ceremony.add_complaint(*complaint);
        }
        ceremony.close_complaints()?;
        for revealed in reveals {
            let _refused = ceremony.add_reveal(*revealed);
        }
        ceremony.finish()?;
        Ok(ceremony)
    }

    /// The parameters.
    pub fn parameters(&self) -> &DkgParameters {
        &self.params
    }

    /// The current round.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    fn expect_phase(&self, phase: Phase) -> Result<(), Error> {
        if self.phase == phase {
            Ok(())
        } else {
            Err(Error::Parameters(
                "record arrived outside its ceremony round",
            ))
        }
    }

    /// Records a dealing. A dealing whose shape or proof fails disqualifies its dealer
    /// (and the error says why); a second dealing from one dealer is refused.
    pub fn add_dealing(&mut self, dealing: Dealing) -> Result<(), Error> {
        self.expect_phase(Phase::Dealing)?;
        let dealer = dealing.dealer();
        if !self.params.contains(dealer) {
            return Err(Error::Parameters("dealer index outside 1..=n"));
        }
        if self.dealings.contains_key(&dealer) || self.disqualified.contains_key(&dealer) {
            return Err(Error::Parameters("duplicate dealing"));
        }
        if let Err(error) = dealing.verify(&self.params) {
            self.disqualified
                .insert(dealer, Disqualification::InvalidDealing(error));
            return Err(error.into());
        }
        self.dealings.insert(dealer, dealing);
        Ok(())
    }

    /// Closes the dealing round; trustees with no dealing are disqualified.
    pub fn close_dealings(&mut self) -> Result<(), Error> {
        self.expect_phase(Phase::Dealing)?;
        for dealer in 1..=self.params.trustees() {
            if !self.dealings.contains_key(&dealer) {
                self.disqualified
                    .entry(dealer)
                    .or_insert(Disqualification::NoDealing);
            }
        }
        self.phase = Phase::Complaints;
        Ok(())
    }

    /// The dealing of `dealer`, if one was accepted.
    pub fn dealing(&self, dealer: u32) -> Option<&Dealing> {
        self.dealings.get(&dealer)
    }

    /// Checks the private shares trustee `recipient` received and lists the complaints
    /// it should publish: one per accepted dealer whose share is missing or wrong.
    pub fn complaints_for(&self, recipient: u32, shares: &[SecretShare]) -> Vec<Complaint> {
        self.dealings
            .values()
            .filter(|dealing| {
                let received = shares
                    .iter()
                    .find(|s| s.dealer() == dealing.dealer() && s.recipient() == recipient);
                received.is_none_or(|share| share.verify(dealing).is_err())
            })
            .map(|dealing| Complaint::new(recipient, dealing.dealer()))
            .collect()
    }

    /// Records a complaint against a dealer with an accepted dealing.
    pub fn add_complaint(&mut self, complaint: Complaint) -> Result<(), Error> {
        self.expect_phase(Phase::Complaints)?;
        if !self.params.contains(complaint.accuser()) {
            return Err(Error::Parameters("accuser index outside 1..=n"));
        }
        if complaint.accuser() == complaint.dealer() {
            return Err(Error::Parameters("a dealer cannot complain about itself"));
        }
        if !self.dealings.contains_key(&complaint.dealer()) {
            return Err(Error::Parameters(
                "complaint against a dealer with no dealing",
            ));
        }
        if !self.complaints.insert(complaint) {
            return Err(Error::Parameters("duplicate complaint"));
        }
        Ok(())
    }

    /// Closes the complaint round.
    pub fn close_complaints(&mut self) -> Result<(), Error> {
        self.expect_phase(Phase::Complaints)?;
        self.phase = Phase::Reveals;
        Ok(())
    }

    /// The complaints recorded so far.
    pub fn complaints(&self) -> impl Iterator<Item = &Complaint> {
        self.complaints.iter()
    }

    /// Records a dealer's answer to a complaint. A revealed share that does not match
    /// the commitments disqualifies the dealer (and the error says so).
    pub fn add_reveal(&mut self, revealed: RevealedShare) -> Result<(), Error> {
        self.expect_phase(Phase::Reveals)?;
        let complaint = Complaint::new(revealed.recipient(), revealed.dealer());
        if !self.complaints.contains(&complaint) {
            return Err(Error::Parameters("revealed share answers no complaint"));
        }
        let key = (revealed.dealer(), revealed.recipient());
        if self.reveals.contains_key(&key) {
            return Err(Error::Parameters("duplicate revealed share"));
        }
        let dealing = self
            .dealings
            .get(&revealed.dealer())
            .ok_or(Error::Parameters(
                "complaint against a dealer with no dealing",
            ))?;
        if let Err(error) = revealed.verify(dealing) {
            self.disqualified.entry(revealed.dealer()).or_insert(
                Disqualification::BadRevealedShare {
                    accuser: revealed.recipient(),
                },
            );
            return Err(error.into());
        }
        self.reveals.insert(key, revealed);
        Ok(())
    }

    /// Closes the reveal round: dealers with unanswered complaints are disqualified,
    /// and the key is computed from the qualified dealers. Fails if fewer than `k`
    /// dealers qualify (the key would not be safe against `k − 1` colluding trustees).
    pub fn finish(&mut self) -> Result<&ThresholdPublicKey, Error> {
        self.expect_phase(Phase::Reveals)?;
        for complaint in &self.complaints {
            if !self
                .reveals
                .contains_key(&(complaint.dealer(), complaint.accuser()))
            {
                self.disqualified.entry(complaint.dealer()).or_insert(
                    Disqualification::UnansweredComplaint {
                        accuser: complaint.accuser(),
                    },
                );
            }
        }
        let qualified = self.qualified();
        if qualified.len() < self.params.threshold() as usize {
            return Err(Error::Parameters(
                "fewer qualified dealers than the threshold",
            ));
        }
        let degree = self.params.threshold() as usize;
        let mut sums = vec![RistrettoPoint::identity(); degree];
        for dealing in qualified.iter().filter_map(|i| self.dealings.get(i)) {
            for (sum, commitment) in sums.iter_mut().zip(dealing.commitments()) {
                *sum += commitment.point();
            }
        }
        let verification_keys = (1..=self.params.trustees())
            .map(|j| Element::from_point(evaluate_commitments(sums.iter().copied(), j)))
            .collect();
        self.phase = Phase::Done;
        Ok(self.key.insert(ThresholdPublicKey::new(
            self.params,
            Element::from_point(sums[0]),
            verification_keys,
        )))
    }

    /// The finished key, once the ceremony is done.
    pub fn key(&self) -> Option<&ThresholdPublicKey> {
        self.key.as_ref()
    }

    /// The dealers in the key so far: an accepted dealing and no disqualification.
    pub fn qualified(&self) -> Vec<u32> {
        self.dealings
            .keys()
            .copied()
            .filter(|dealer| !self.disqualified.contains_key(dealer))
            .collect()
    }

    /// The disqualified dealers and why.
    pub fn disqualified(&self) -> &BTreeMap<u32, Disqualification> {
        &self.disqualified
    }

    /// Trustee `recipient` assembles its key share `xⱼ = Σ_{i∈Q} sᵢ,ⱼ` once the
    /// ceremony is done, from the private shares it received; a share revealed in
    /// answer to its complaint replaces the private one. Every share used is checked,
    /// and so is the result against `Xⱼ`.
    pub fn key_share(&self, recipient: u32, shares: &[SecretShare]) -> Result<KeyShare, Error> {
        let key = self
            .key
            .as_ref()
            .ok_or(Error::Parameters("the ceremony is not finished"))?;
        if !self.params.contains(recipient) {
            return Err(Error::Parameters("recipient index outside 1..=n"));
        }
        let mut total = Scalar::ZERO;
        for dealer in self.qualified() {
            let dealing = self
                .dealings
                .get(&dealer)
                .ok_or(Error::Parameters("qualified dealer without a dealing"))?;
            if let Some(revealed) = self.reveals.get(&(dealer, recipient)) {
                total += revealed.value();
                continue;
            }
            let share = shares
                .iter()
                .find(|s| s.dealer() == dealer && s.recipient() == recipient)
                .ok_or(Error::Verify(VerifyError::Share))?;
            share.verify(dealing)?;
            total += share.value();
        }
        let share = KeyShare::new(recipient, total);
        total.zeroize();
        key.check_share(&share)?;
        Ok(share)
    }
}
