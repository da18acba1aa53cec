//! The tally tier's state: the key ceremony of an election (its trustee count and
//! threshold, the registered trustees, their dealings, complaints and reveals, and the
//! round it is in) and the decryption of its tally (the aggregated ciphertexts and the
//! trustees' partial decryptions).
//!
//! Every record is write-once: writing the same record again is a no-op
//! ([`Written::Same`]), a different record under the same key is refused
//! ([`Written::Different`]) and leaves the first in place, so retries are safe and a
//! trustee can never replace what it published. The store keeps bytes; checking
//! proofs and signatures is the tally service's job.

use std::future::Future;

use crate::error::Result;

/// How many trustees take part in an election's key ceremony and how many suffice to
/// decrypt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TallyConfig {
    /// n: the number of trustees.
    pub trustees: u32,
    /// k: how many trustees suffice to decrypt.
    pub threshold: u32,
}

impl Default for TallyConfig {
    /// Two of three.
    fn default() -> Self {
        Self {
            trustees: 3,
            threshold: 2,
        }
    }
}

/// A registered trustee's public keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrusteeKeys {
    /// The trustee's index, 1 to n.
    pub index: u32,
    /// A human name.
    pub name: String,
    /// Its Ed25519 public key, which verifies its submissions.
    pub signing_key: [u8; 32],
    /// Its X25519 public key, to which private shares are sealed.
    pub encryption_key: [u8; 32],
}

/// A dealer's accepted dealing with the private shares it sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDealing {
    /// The dealer's trustee index.
    pub dealer: u32,
    /// The canonical dealing.
    pub dealing: Vec<u8>,
    /// The sealed shares, one per trustee, in recipient order (recipient `j` at `j - 1`).
    pub shares: Vec<Vec<u8>>,
    /// The dealer's signature over the submission.
    pub signature: Vec<u8>,
}

/// The kinds of signed key-ceremony records beside dealings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// A complaint (keyed by accuser and dealer).
    Complaint,
    /// A revealed share answering a complaint (keyed by dealer and recipient).
    Reveal,
    /// A trustee's signed statement that it checked its shares and filed its
    /// complaints (keyed by `u32be(trustee)`; never published on the board).
    Confirmation,
}

impl RecordKind {
    /// The stored spelling.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            RecordKind::Complaint => "complaint",
            RecordKind::Reveal => "reveal",
            RecordKind::Confirmation => "confirmation",
        }
    }
}

/// A signed complaint, reveal or confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CeremonyRecord {
    /// What the record is.
    pub kind: RecordKind,
    /// What makes it unique within its kind (for example the accuser and the dealer).
    pub key: Vec<u8>,
    /// The trustee that signed it.
    pub trustee: u32,
    /// The canonical record.
    pub record: Vec<u8>,
    /// The trustee's signature over the submission.
    pub signature: Vec<u8>,
}

/// The round a key ceremony is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CeremonyPhase {
    /// Trustees' keys are being registered.
    Registration,
    /// Dealings are accepted.
    Dealing,
    /// Complaints are accepted.
    Complaints,
    /// Answers to complaints are accepted.
    Reveals,
    /// The joint key is fixed.
    Done,
    /// Fewer than k dealers qualified.
    Failed,
}

impl CeremonyPhase {
    const ALL: [Self; 6] = [
        Self::Registration,
        Self::Dealing,
        Self::Complaints,
        Self::Reveals,
        Self::Done,
        Self::Failed,
    ];

    /// The stored spelling.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            CeremonyPhase::Registration => "registration",
            CeremonyPhase::Dealing => "dealing",
            CeremonyPhase::Complaints => "complaints",
            CeremonyPhase::Reveals => "reveals",
            CeremonyPhase::Done => "done",
            CeremonyPhase::Failed => "failed",
        }
    }

    /// Parses the stored spelling.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// The outcome of a write-once write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// The record is new and now stored.
    New,
    /// The same record was already stored; nothing changed.
    Same,
    /// A different record is stored under the same key; nothing changed.
    Different,
}

/// One batch of a tally's decryption work: a contest's aggregated ciphertexts, or a
/// mix-net contest's counted ballots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TallyBatch {
    /// The contest.
    pub contest: String,
    /// The aggregated ciphertexts, 64 bytes each, in option order; for a mix-net
    /// contest its counted ballots, `width` ciphertexts each, row after row.
    pub ciphertexts: Vec<[u8; 64]>,
    /// How many ballots were aggregated (or are rows).
    pub ballots: u64,
    /// 0 for aggregated totals; for a mix-net contest the ciphertexts per ballot: the
    /// trustees shuffle the rows ([`crate::MixStore`]) before they are decrypted.
    pub width: u32,
}

/// The decryption work of a closed election: where its ciphertexts come from on the
/// board, and the batches in batch order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TallyTask {
    /// The board index of the entry the ciphertexts come from.
    pub source_index: u64,
    /// The batches; batch `b` is at index `b`.
    pub batches: Vec<TallyBatch>,
}

/// A trustee's partial decryption of one batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPartial {
    /// The trustee.
    pub trustee: u32,
    /// The batch answered.
    pub batch: u32,
    /// The canonical partial decryption.
    pub partial: Vec<u8>,
    /// The trustee's signature over the submission.
    pub signature: Vec<u8>,
}

/// The key ceremony and the decryption of the tally.
pub trait TallyStore: Send + Sync {
    /// Records the election's trustee count and threshold in Draft
    /// ([`Error::WrongState`](crate::Error) otherwise) unless it has some, and returns
    /// the recorded ones (write-once, so concurrent writers agree).
    fn init_tally_config(
        &self,
        election: &str,
        config: TallyConfig,
    ) -> impl Future<Output = Result<TallyConfig>> + Send;

    /// The election's trustee count and threshold, if recorded.
    fn tally_config(
        &self,
        election: &str,
    ) -> impl Future<Output = Result<Option<TallyConfig>>> + Send;

    /// Registers a trustee's keys, in Draft only, keyed by index.
    fn register_trustee(
        &self,
        election: &str,
        trustee: TrusteeKeys,
    ) -> impl Future<Output = Result<Written>> + Send;

    /// The registered trustees, by index.
    fn trustees(&self, election: &str) -> impl Future<Output = Result<Vec<TrusteeKeys>>> + Send;

    /// The ceremony's round ([`CeremonyPhase::Registration`] until one is recorded).
    fn ceremony_phase(&self, election: &str) -> impl Future<Output = Result<CeremonyPhase>> + Send;

    /// Moves the ceremony from `from` to `to` if it is in `from`; returns whether it
    /// moved (false: another writer moved it first).
    fn advance_ceremony(
        &self,
        election: &str,
        from: CeremonyPhase,
        to: CeremonyPhase,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Records a dealing, keyed by dealer.
    fn add_dealing(
        &self,
        election: &str,
        dealing: StoredDealing,
    ) -> impl Future<Output = Result<Written>> + Send;

    /// The recorded dealings, by dealer index.
    fn dealings(&self, election: &str) -> impl Future<Output = Result<Vec<StoredDealing>>> + Send;

    /// Records a complaint, reveal or confirmation, keyed by its kind and key.
    fn add_ceremony_record(
        &self,
        election: &str,
        record: CeremonyRecord,
    ) -> impl Future<Output = Result<Written>> + Send;

    /// The recorded records of one kind, in arrival order.
    fn ceremony_records(
        &self,
        election: &str,
        kind: RecordKind,
    ) -> impl Future<Output = Result<Vec<CeremonyRecord>>> + Send;

    /// Records the decryption work, once the election is Closed
    /// ([`Error::WrongState`](crate::Error) otherwise).
    fn set_tally_task(
        &self,
        election: &str,
        task: TallyTask,
    ) -> impl Future<Output = Result<Written>> + Send;

    /// The decryption work, if recorded.
    fn tally_task(&self, election: &str) -> impl Future<Output = Result<Option<TallyTask>>> + Send;

    /// Records a partial decryption, keyed by trustee and batch; the batch must exist
    /// ([`Error::InvalidInput`](crate::Error) otherwise).
    fn add_partial(
        &self,
        election: &str,
        partial: StoredPartial,
    ) -> impl Future<Output = Result<Written>> + Send;

    /// The partial decryptions of one batch, in arrival order.
    fn partials(
        &self,
        election: &str,
        batch: u32,
    ) -> impl Future<Output = Result<Vec<StoredPartial>>> + Send;
}
