//! The key ceremony's `KeyCeremony` entries after the election keys record
//! (docs/protocol.md §4.7): trustees, then dealings, complaints and reveals, each
//! signed by its trustee, and the threshold key last, which must be what replaying the
//! records through the ceremony (§1.12) gives, with K the election's joint key.

use urna_crypto::dkg::{Ceremony, Complaint, Dealing, DkgParameters, RevealedShare};
use urna_crypto::{CredentialPublicKey, CredentialSignature, PublicKey, ThresholdPublicKey};

use urna_election::Trustees;

use crate::records::{CeremonyRecord, CeremonyTag, signed_message};
use crate::report::{self, Check, Report};

/// What the ceremony is checked against: the manifest's fingerprint and trustees, and
/// the joint key of the election keys record (if it was read).
pub(super) struct Genesis<'a> {
    pub(super) fingerprint: [u8; 32],
    pub(super) trustees: Trustees,
    pub(super) joint: Option<&'a PublicKey>,
}

/// A registered trustee: its Ed25519 key, if the record holds a usable one.
struct Trustee {
    key: Option<CredentialPublicKey>,
}

/// The ceremony's records as read so far.
#[derive(Default)]
pub(super) struct CeremonyRecords {
    first: Option<u64>,
    last: Option<CeremonyTag>,
    trustees: Vec<Trustee>,
    dealings: Vec<Dealing>,
    complaints: Vec<Complaint>,
    reveals: Vec<RevealedShare>,
    /// The threshold key, once its entry was read (whether or not it held).
    key: Option<ThresholdPublicKey>,
    closed: bool,
}

impl CeremonyRecords {
    /// The threshold key, once its entry was read and decoded.
    pub(super) fn key(&self) -> Option<&ThresholdPublicKey> {
        self.key.as_ref()
    }

    /// Whether the threshold key entry was read.
    pub(super) fn closed(&self) -> bool {
        self.closed
    }

    /// Checks trustee `trustee`'s Ed25519 signature over `payload` signed as `what`,
    /// recording the outcome under [`Check::TrusteeSignature`]; true if it holds.
    pub(super) fn signed(
        &self,
        election: &[u8; 32],
        index: u64,
        (trustee, what, payload, signature): (u32, &str, &[u8], &[u8]),
        report: &mut Report,
    ) -> bool {
        let key = trustee
            .checked_sub(1)
            .and_then(|i| self.trustees.get(i as usize))
            .and_then(|t| t.key.as_ref());
        let Some(key) = key else {
            report.fail(
                Check::TrusteeSignature,
                Some(index),
                format!("trustee {trustee} has no registered key"),
            );
            return false;
        };
        let Ok(signature) = <&[u8; CredentialSignature::LEN]>::try_from(signature) else {
            report.fail(
                Check::TrusteeSignature,
                Some(index),
                "the signature is not 64 bytes",
            );
            return false;
        };
        let message = signed_message(election, trustee, what, payload);
        let ok = key
            .verify(&message, &CredentialSignature::from_bytes(signature))
            .is_ok();
        report.record(
            Check::TrusteeSignature,
            index,
            ok,
            &format!("trustee {trustee}'s {what} signature does not verify"),
        );
        ok
    }

    /// Reads ceremony entry `index`.
    pub(super) fn record(
        &mut self,
        index: u64,
        body: &[u8],
        genesis: &Genesis<'_>,
        report: &mut Report,
    ) {
        self.first.get_or_insert(index);
        let fail = |report: &mut Report, why: &str| {
            report.fail(Check::KeyCeremony, Some(index), why);
        };
        if self.closed {
            return fail(report, "a ceremony record after the threshold key");
        }
        let record = match CeremonyRecord::decode(body) {
            Ok(record) => record,
            Err(e) => return fail(report, &format!("the record does not decode: {e}")),
        };
        if self.last.is_some_and(|last| record.tag < last) {
            return fail(
                report,
                "out of order (trustees, dealings, complaints, reveals, then the key)",
            );
        }
        self.last = Some(record.tag);
        if let Some(what) = record.tag.signed_as() {
            let signed = (record.trustee, what, record.payload, record.signature);
            if !self.signed(&genesis.fingerprint, index, signed, report) {
                return;
            }
        }
        let accepted = match record.tag {
            CeremonyTag::Trustee => self.trustee(&record),
            CeremonyTag::Dealing => self.dealing(&record),
            CeremonyTag::Complaint => Complaint::from_bytes(record.payload)
                .ok()
                .filter(|c| c.accuser() == record.trustee)
                .map(|c| self.complaints.push(c))
                .ok_or("not a complaint by its signer"),
            CeremonyTag::Reveal => RevealedShare::from_bytes(record.payload)
                .ok()
                .filter(|r| r.dealer() == record.trustee)
                .filter(|r| {
                    let answers = Complaint::new(r.recipient(), r.dealer());
                    self.complaints.contains(&answers)
                })
                .map(|r| self.reveals.push(r))
                .ok_or("not its signer's answer to a recorded complaint"),
            CeremonyTag::ThresholdKey => {
                self.closed = true;
                return self.threshold_key(index, &record, genesis, report);
            }
        };
        match accepted {
            Ok(()) => report.pass(Check::KeyCeremony),
            Err(why) => fail(report, why),
        }
    }

    /// After the last entry: a board without the ceremony's records fails.
    pub(super) fn finish(&self, report: &mut Report) {
        match self.first {
            None => report.fail(Check::KeyCeremony, None, "no records"),
            Some(first) if !self.closed => report.fail(
                Check::KeyCeremony,
                Some(first),
                "the ceremony's records end without the threshold key",
            ),
            Some(_) => {}
        }
    }

    fn trustee(&mut self, record: &CeremonyRecord<'_>) -> Result<(), &'static str> {
        if record.trustee as usize != self.trustees.len() + 1 {
            return Err("trustees must be listed by index 1, 2, …");
        }
        if !record.signature.is_empty() {
            return Err("a trustee record must carry no signature");
        }
        let (_, key) = record
            .trustee_keys()
            .map_err(|_| "the trustee's keys do not decode")?;
        let key = CredentialPublicKey::from_bytes(&key).ok();
        self.trustees.push(Trustee { key });
        match key {
            Some(_) => Ok(()),
            None => Err("the trustee's Ed25519 key is not a valid key"),
        }
    }

    fn dealing(&mut self, record: &CeremonyRecord<'_>) -> Result<(), &'static str> {
        let (dealing, shares) = record
            .dealing()
            .map_err(|_| "the dealing payload does not decode")?;
        if shares as usize != self.trustees.len() {
            return Err("the dealing does not seal a share to every trustee");
        }
        if self
            .dealings
            .last()
            .is_some_and(|d| d.dealer() >= record.trustee)
        {
            return Err("dealings must be listed once each, by dealer");
        }
        // A dealing that does not verify is replayed too: it disqualifies its dealer.
        let dealing = Dealing::from_bytes(dealing).map_err(|_| "the dealing does not decode")?;
        if dealing.dealer() != record.trustee {
            return Err("the dealing is not its signer's");
        }
        self.dealings.push(dealing);
        Ok(())
    }

    /// The threshold key must be what the records give, for this election and its
    /// registered trustees, with K the election keys record's joint key.
    fn threshold_key(
        &mut self,
        index: u64,
        record: &CeremonyRecord<'_>,
        genesis: &Genesis<'_>,
        report: &mut Report,
    ) {
        let mut fail = |why: String| report.fail(Check::KeyCeremony, Some(index), why);
        if record.trustee != 0 || !record.signature.is_empty() {
            return fail("the threshold key names no trustee and carries no signature".to_owned());
        }
        let key = match ThresholdPublicKey::from_bytes(record.payload) {
            Ok(key) => key,
            Err(e) => return fail(format!("the threshold key does not decode: {e}")),
        };
        let params: DkgParameters = *key.parameters();
        if *params.election() != genesis.fingerprint {
            return fail("the threshold key is for another election".to_owned());
        }
        let (n, k) = (genesis.trustees.count(), genesis.trustees.threshold());
        if (params.trustees(), params.threshold()) != (n, k) {
            return fail(format!(
                "the threshold key is {} of {}, the manifest's trustees {k} of {n}",
                params.threshold(),
                params.trustees(),
            ));
        }
        if params.trustees() as usize != self.trustees.len() {
            return fail(format!(
                "the threshold key is for {} trustees, {} are registered",
                params.trustees(),
                self.trustees.len()
            ));
        }
        let replayed =
            match Ceremony::replay(params, &self.dealings, &self.complaints, &self.reveals) {
                Ok(replayed) => replayed,
                Err(e) => return fail(format!("replaying the records fails: {e}")),
            };
        if replayed.key().map(ThresholdPublicKey::to_bytes) != Some(key.to_bytes()) {
            return fail("the threshold key is not the one the records give".to_owned());
        }
        if genesis
            .joint
            .is_some_and(|joint| *joint != key.public_key())
        {
            return fail("K is not the joint key of the election keys record".to_owned());
        }
        report.pass(Check::KeyCeremony);
        report.ceremony = Some(report::Ceremony {
            threshold: params.threshold(),
            trustees: params.trustees(),
            qualified: replayed.qualified(),
        });
        self.key = Some(key);
    }
}
