//! The key ceremony over the store: registration, dealings, complaints, reveals and
//! the joint key. The store holds every signed record; the ceremony's state machine is
//! urna-crypto's [`dkg::Ceremony`], rebuilt from the records whenever it is needed, so
//! every replica reaches the same decisions a verifier reaches from the board.

use urna_crypto::dkg::{
    self, Complaint, Dealing, Disqualification, DkgParameters, RevealedShare, ThresholdPublicKey,
};
use urna_store::{
    CeremonyPhase, CeremonyRecord, JointKey, RecordKind, Store, StoredDealing, TrusteeKeys, Written,
};

use crate::aggregate::count_u32;
use crate::error::{Invalid, TallyError};
use crate::tally::{Tally, check_index, dealing_payload};

/// The rounds trustee submissions belong to, with how a refusal names them.
const DEALING: (CeremonyPhase, &str) = (CeremonyPhase::Dealing, "the dealing round");
const COMPLAINTS: (CeremonyPhase, &str) = (CeremonyPhase::Complaints, "the complaint round");
const REVEALS: (CeremonyPhase, &str) = (CeremonyPhase::Reveals, "the reveal round");

/// One trustee as the ceremony sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrusteeStatus {
    /// The trustee's index, 1 to n.
    pub index: u32,
    /// Its registered keys, if registered.
    pub keys: Option<TrusteeKeys>,
    /// Whether its dealing was accepted.
    pub dealt: bool,
    /// Why it was left out of the joint key, if it was.
    pub disqualification: Option<Disqualification>,
}

/// The public state of a ceremony.
#[derive(Clone, Debug)]
pub struct CeremonyState {
    /// The round.
    pub phase: CeremonyPhase,
    /// k.
    pub threshold: u32,
    /// n.
    pub trustees: Vec<TrusteeStatus>,
    /// The canonical complaints, in arrival order.
    pub complaints: Vec<Vec<u8>>,
    /// The canonical revealed shares, in arrival order.
    pub reveals: Vec<Vec<u8>>,
    /// The threshold public key, once done.
    pub key: Option<ThresholdPublicKey>,
    /// The election fingerprint the ceremony binds.
    pub election: [u8; 32],
    /// The trustees that confirmed their shares in the complaint round, by index.
    pub confirmed: Vec<u32>,
}

/// One accepted dealing with the share sealed to the requested recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DealingView {
    /// The dealer.
    pub dealer: u32,
    /// The canonical dealing.
    pub dealing: Vec<u8>,
    /// The share sealed to the requested recipient (none if none was requested).
    pub sealed: Option<Vec<u8>>,
}

impl<S: Store> Tally<S> {
    /// Registers trustee `keys.index`'s keys (the caller checked the admin token);
    /// returns how many trustees are registered. The dealing round opens when all n
    /// are.
    pub async fn register_trustee(
        &self,
        election: &str,
        keys: TrusteeKeys,
    ) -> Result<u32, TallyError> {
        let (params, _) = self.parameters(election).await?;
        check_index(&params, keys.index)?;
        ed25519_dalek::VerifyingKey::from_bytes(&keys.signing_key)
            .map_err(|_| Invalid::PublicKey)?;
        if !crate::seal::usable_public_key(&keys.encryption_key) {
            return Err(Invalid::PublicKey.into());
        }
        let trustees = self.store.trustees(election).await?;
        match trustees.iter().find(|t| t.index == keys.index) {
            Some(existing) if *existing == keys => return Ok(count_u32(trustees.len())),
            Some(_) => return Err(TallyError::Conflict("trustee registration")),
            None => {}
        }
        self.expect_phase(
            election,
            CeremonyPhase::Registration,
            "the registration round",
        )
        .await?;
        if self.store.register_trustee(election, keys).await? == Written::Different {
            return Err(TallyError::Conflict("trustee registration"));
        }
        let registered = count_u32(self.store.trustees(election).await?.len());
        if registered == params.trustees() {
            self.store
                .advance_ceremony(
                    election,
                    CeremonyPhase::Registration,
                    CeremonyPhase::Dealing,
                )
                .await?;
        }
        Ok(registered)
    }

    /// Records trustee `index`'s dealing and the shares it sealed (one per trustee, in
    /// recipient order), signed by the trustee. The complaint round opens when all n
    /// have dealt.
    pub async fn submit_dealing(
        &self,
        election: &str,
        index: u32,
        dealing: Vec<u8>,
        shares: Vec<(u32, Vec<u8>)>,
        signature: Vec<u8>,
    ) -> Result<(), TallyError> {
        let payload = dealing_payload(&dealing, &shares);
        let params = self
            .signed_submission(election, index, "dealing", &payload, &signature, DEALING)
            .await?;
        let decoded = Dealing::from_bytes(&dealing).map_err(|_| Invalid::Dealing)?;
        if decoded.dealer() != index || decoded.verify(&params).is_err() {
            return Err(Invalid::Dealing.into());
        }
        let in_order = shares.len() == params.trustees() as usize
            && (1u32..).zip(&shares).all(|(j, (recipient, sealed))| {
                j == *recipient && sealed.len() == crate::seal::SEALED_SHARE_LEN
            });
        if !in_order {
            return Err(Invalid::Shares.into());
        }
        let record = StoredDealing {
            dealer: index,
            dealing,
            shares: shares.into_iter().map(|(_, sealed)| sealed).collect(),
            signature,
        };
        if self.store.add_dealing(election, record).await? == Written::Different {
            return Err(TallyError::Conflict("dealing"));
        }
        let dealt = self.store.dealings(election).await?.len();
        if dealt == params.trustees() as usize {
            self.store
                .advance_ceremony(election, CeremonyPhase::Dealing, CeremonyPhase::Complaints)
                .await?;
        }
        Ok(())
    }

    /// Every accepted dealing, with the share sealed to `recipient` (0: none).
    pub async fn dealings(
        &self,
        election: &str,
        recipient: u32,
    ) -> Result<Vec<DealingView>, TallyError> {
        let (params, _) = self.parameters(election).await?;
        if recipient != 0 {
            check_index(&params, recipient)?;
        }
        Ok(self
            .store
            .dealings(election)
            .await?
            .into_iter()
            .map(|d| DealingView {
                dealer: d.dealer,
                sealed: recipient
                    .checked_sub(1)
                    .and_then(|j| d.shares.get(j as usize).cloned()),
                dealing: d.dealing,
            })
            .collect())
    }

    /// Records trustee `index`'s signed complaint about a dealer's share (refused once
    /// the trustee has confirmed its shares).
    pub async fn submit_complaint(
        &self,
        election: &str,
        index: u32,
        complaint: Vec<u8>,
        signature: Vec<u8>,
    ) -> Result<(), TallyError> {
        self.signed_submission(
            election,
            index,
            "complaint",
            &complaint,
            &signature,
            COMPLAINTS,
        )
        .await?;
        let confirmed = self
            .store
            .ceremony_records(election, RecordKind::Confirmation)
            .await?
            .iter()
            .any(|c| c.trustee == index);
        if confirmed {
            return Err(TallyError::WrongPhase(
                "the complaint round before the trustee confirmed its shares",
            ));
        }
        let decoded = Complaint::from_bytes(&complaint).map_err(|_| Invalid::Complaint)?;
        let dealt = self
            .store
            .dealings(election)
            .await?
            .iter()
            .any(|d| d.dealer == decoded.dealer());
        if decoded.accuser() != index || decoded.dealer() == index || !dealt {
            return Err(Invalid::Complaint.into());
        }
        let record = CeremonyRecord {
            kind: RecordKind::Complaint,
            key: complaint.clone(),
            trustee: index,
            record: complaint,
            signature,
        };
        match self.store.add_ceremony_record(election, record).await? {
            Written::Different => Err(TallyError::Conflict("complaint")),
            Written::New | Written::Same => Ok(()),
        }
    }

    /// Records dealer `index`'s signed answer to a complaint; the joint key is fixed
    /// as soon as every complaint is answered.
    pub async fn submit_reveal(
        &self,
        election: &str,
        index: u32,
        revealed: Vec<u8>,
        signature: Vec<u8>,
    ) -> Result<(), TallyError> {
        let params = self
            .signed_submission(election, index, "reveal", &revealed, &signature, REVEALS)
            .await?;
        let decoded = RevealedShare::from_bytes(&revealed).map_err(|_| Invalid::Reveal)?;
        let complaint = Complaint::new(decoded.recipient(), decoded.dealer()).to_bytes();
        let complaints = self
            .store
            .ceremony_records(election, RecordKind::Complaint)
            .await?;
        if decoded.dealer() != index || !complaints.iter().any(|c| c.record == complaint) {
            return Err(Invalid::Reveal.into());
        }
        let record = CeremonyRecord {
            kind: RecordKind::Reveal,
            key: complaint.to_vec(),
            trustee: index,
            record: revealed,
            signature,
        };
        if self.store.add_ceremony_record(election, record).await? == Written::Different {
            return Err(TallyError::Conflict("revealed share"));
        }
        let answered = self
            .store
            .ceremony_records(election, RecordKind::Reveal)
            .await?
            .len();
        if answered == complaints.len() {
            self.finish(election, &params).await?;
        }
        Ok(())
    }

    /// Closes the current round (the admin's decision, or its deadline): whoever has
    /// not dealt by the end of the dealing round is disqualified, a complaint round
    /// without complaints and a reveal round end in the joint key. Returns the new
    /// round.
    pub async fn close_round(&self, election: &str) -> Result<CeremonyPhase, TallyError> {
        let (params, _) = self.parameters(election).await?;
        let phase = self.store.ceremony_phase(election).await?;
        match phase {
            CeremonyPhase::Dealing => {
                self.store
                    .advance_ceremony(election, phase, CeremonyPhase::Complaints)
                    .await?;
                Ok(CeremonyPhase::Complaints)
            }
            CeremonyPhase::Complaints => self.close_complaints(election, &params).await,
            CeremonyPhase::Reveals => self.finish(election, &params).await,
            CeremonyPhase::Registration | CeremonyPhase::Done | CeremonyPhase::Failed => Err(
                TallyError::WrongPhase("a dealing, complaint or reveal round"),
            ),
        }
    }

    /// Records trustee `index`'s signed confirmation that it checked the shares it
    /// received and filed `complaints` complaints (the count must be the number
    /// recorded in its name). The complaint round closes, as [`Self::close_round`]
    /// closes it, once every trustee that dealt has confirmed. Returns how many
    /// trustees have confirmed.
    pub async fn confirm_shares(
        &self,
        election: &str,
        index: u32,
        complaints: u32,
        signature: Vec<u8>,
    ) -> Result<u32, TallyError> {
        let payload = complaints.to_be_bytes();
        let params = self
            .signed_submission(
                election,
                index,
                "shares-checked",
                &payload,
                &signature,
                COMPLAINTS,
            )
            .await?;
        let filed = self
            .store
            .ceremony_records(election, RecordKind::Complaint)
            .await?
            .iter()
            .filter(|c| c.trustee == index)
            .count();
        if filed != complaints as usize {
            return Err(Invalid::Confirmation.into());
        }
        let record = CeremonyRecord {
            kind: RecordKind::Confirmation,
            key: index.to_be_bytes().to_vec(),
            trustee: index,
            record: payload.to_vec(),
            signature,
        };
        if self.store.add_ceremony_record(election, record).await? == Written::Different {
            return Err(TallyError::Conflict("confirmation"));
        }
        let confirmed: Vec<u32> = self
            .store
            .ceremony_records(election, RecordKind::Confirmation)
            .await?
            .iter()
            .map(|r| r.trustee)
            .collect();
        // Whoever did not deal is disqualified (NO_DEALING) and need not confirm.
        let dealers = self.store.dealings(election).await?;
        if dealers.iter().all(|d| confirmed.contains(&d.dealer)) {
            self.close_complaints(election, &params).await?;
        }
        Ok(count_u32(confirmed.len()))
    }

    /// The public state of the ceremony.
    pub async fn ceremony_state(&self, election: &str) -> Result<CeremonyState, TallyError> {
        let (params, config) = self.parameters(election).await?;
        let phase = self.store.ceremony_phase(election).await?;
        let registered = self.store.trustees(election).await?;
        let dealings = self.store.dealings(election).await?;
        let complaints = self.records(election, RecordKind::Complaint).await?;
        let reveals = self.records(election, RecordKind::Reveal).await?;
        let ceremony = rebuild(params, phase, &dealings, &complaints, &reveals);
        let trustees = (1..=config.trustees)
            .map(|index| TrusteeStatus {
                index,
                keys: registered.iter().find(|t| t.index == index).cloned(),
                dealt: dealings.iter().any(|d| d.dealer == index),
                disqualification: ceremony.disqualified().get(&index).copied(),
            })
            .collect();
        let mut confirmed: Vec<u32> = self
            .store
            .ceremony_records(election, RecordKind::Confirmation)
            .await?
            .iter()
            .map(|r| r.trustee)
            .collect();
        confirmed.sort_unstable();
        Ok(CeremonyState {
            phase,
            threshold: config.threshold,
            trustees,
            complaints,
            reveals,
            key: ceremony.key().cloned(),
            election: *params.election(),
            confirmed,
        })
    }

    /// Ends the complaint round; without complaints the joint key is fixed at once.
    /// Only the writer that moves the round on goes further, so a concurrent closer
    /// can never end the reveal round early.
    async fn close_complaints(
        &self,
        election: &str,
        params: &DkgParameters,
    ) -> Result<CeremonyPhase, TallyError> {
        let moved = self
            .store
            .advance_ceremony(election, CeremonyPhase::Complaints, CeremonyPhase::Reveals)
            .await?;
        let complaints = self
            .store
            .ceremony_records(election, RecordKind::Complaint)
            .await?;
        if moved && complaints.is_empty() {
            return self.finish(election, params).await;
        }
        Ok(self.store.ceremony_phase(election).await?)
    }

    /// The checks every trustee submission passes first, in this order: the index
    /// is a trustee's, the signature over `payload` (for `what`) is its registered
    /// key's, and the ceremony is in the round `round` names. Returns the ceremony's
    /// parameters.
    async fn signed_submission(
        &self,
        election: &str,
        index: u32,
        what: &str,
        payload: &[u8],
        signature: &[u8],
        round: (CeremonyPhase, &'static str),
    ) -> Result<DkgParameters, TallyError> {
        let (params, _) = self.parameters(election).await?;
        check_index(&params, index)?;
        self.authenticate(election, &params, index, what, payload, signature)
            .await?;
        self.expect_phase(election, round.0, round.1).await?;
        Ok(params)
    }

    /// Fails unless the ceremony is in `phase`.
    async fn expect_phase(
        &self,
        election: &str,
        phase: CeremonyPhase,
        needed: &'static str,
    ) -> Result<(), TallyError> {
        if self.store.ceremony_phase(election).await? == phase {
            Ok(())
        } else {
            Err(TallyError::WrongPhase(needed))
        }
    }

    /// The canonical records of one kind, in arrival order.
    async fn records(&self, election: &str, kind: RecordKind) -> Result<Vec<Vec<u8>>, TallyError> {
        Ok(self
            .store
            .ceremony_records(election, kind)
            .await?
            .into_iter()
            .map(|r| r.record)
            .collect())
    }

    /// Ends the reveal round: replays every record, and records the joint key (Done)
    /// or the failure (fewer than k dealers qualified).
    async fn finish(
        &self,
        election: &str,
        params: &DkgParameters,
    ) -> Result<CeremonyPhase, TallyError> {
        let dealings = self.store.dealings(election).await?;
        let complaints = self.records(election, RecordKind::Complaint).await?;
        let reveals = self.records(election, RecordKind::Reveal).await?;
        let ceremony = rebuild(
            *params,
            CeremonyPhase::Done,
            &dealings,
            &complaints,
            &reveals,
        );
        let Some(key) = ceremony.key() else {
            self.store
                .advance_ceremony(election, CeremonyPhase::Reveals, CeremonyPhase::Failed)
                .await?;
            return Ok(CeremonyPhase::Failed);
        };
        let joint = JointKey {
            key: key.public_key().element().to_bytes(),
            ceremony: key.to_bytes(),
        };
        match self.store.set_joint_key(election, joint).await {
            Ok(()) => {}
            Err(urna_store::Error::Conflict(_)) => {
                return Err(TallyError::Conflict("joint key"));
            }
            Err(e) => return Err(e.into()),
        }
        self.store
            .advance_ceremony(election, CeremonyPhase::Reveals, CeremonyPhase::Done)
            .await?;
        Ok(CeremonyPhase::Done)
    }
}

/// The ceremony's state machine with the stored records replayed as far as `phase`.
/// Stored dealings were checked on arrival; a record the machine refuses now is
/// skipped, as [`dkg::Ceremony::replay`] does.
fn rebuild(
    params: DkgParameters,
    phase: CeremonyPhase,
    dealings: &[StoredDealing],
    complaints: &[Vec<u8>],
    reveals: &[Vec<u8>],
) -> dkg::Ceremony {
    let mut ceremony = dkg::Ceremony::new(params);
    for dealing in dealings {
        if let Ok(d) = Dealing::from_bytes(&dealing.dealing) {
            let _refused = ceremony.add_dealing(d);
        }
    }
    if matches!(phase, CeremonyPhase::Registration | CeremonyPhase::Dealing)
        || ceremony.close_dealings().is_err()
    {
        return ceremony;
    }
    for complaint in complaints {
        if let Ok(c) = Complaint::from_bytes(complaint) {
            let _refused = ceremony.add_complaint(c);
        }
    }
    if phase == CeremonyPhase::Complaints || ceremony.close_complaints().is_err() {
        return ceremony;
    }
    for revealed in reveals {
        if let Ok(r) = RevealedShare::from_bytes(revealed) {
            let _refused = ceremony.add_reveal(r);
        }
    }
    if phase != CeremonyPhase::Reveals {
        let _failed = ceremony.finish();
    }
    ceremony
}
