//! The verifier's report: each named check with how many items passed, every failure
//! with the board entry it concerns, and the election's summary (ceremony, counts,
//! recounted results).

use std::collections::BTreeMap;
use std::fmt;

use urna_election::{CvrFormat, Tabulation};

use crate::records::ContestResult;

/// A named check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Check {
    /// The latest checkpoint is a signed note by the board key.
    CheckpointSignature,
    /// The Merkle root of every entry equals the latest checkpoint's root.
    TreeRoot,
    /// The hash tiles served are the tree recomputed from the entries.
    HashTiles,
    /// Every other checkpoint is signed and its root is the root of the log's prefix
    /// of its size (so every checkpoint is consistent with the latest).
    CheckpointConsistency,
    /// Entry bundles and envelopes decode (version, kind, length, no trailing bytes).
    EntryEncoding,
    /// Entry 0 is the manifest, and the manifest document's encoding is its body.
    Manifest,
    /// Every entry carries the manifest's fingerprint, in its envelope and body.
    Fingerprint,
    /// Entry 1 is the election keys record: joint key a valid non-identity point, auth
    /// key an RSA key, board key a verifier key (and the pinned one, if pinned).
    ElectionKeys,
    /// A ballot names a style of the manifest and decodes against it exactly.
    BallotEncoding,
    /// A ballot's credential carries auth's blind signature (RFC 9474).
    BlindSignature,
    /// A ballot is signed by its credential key.
    CredentialSignature,
    /// A ballot's range and selection proofs verify (in batches).
    BallotProofs,
    /// The same ballot does not appear twice.
    DuplicateBallot,
    /// Under `once`, a credential casts one ballot.
    Revoting,
    /// A spoiled ballot decodes and its opening reproduces its ciphertexts.
    SpoiledOpening,
    /// A spoiled ballot's tracking code never appears as a cast ballot.
    SpoiledNotCast,
    /// At most one polls-closed entry, for this election, counting the ballots before it.
    PollsClosed,
    /// No ballot or spoiled ballot after polls closed.
    AfterClose,
    /// The ballots counted (one per credential) are no more than the credentials
    /// issued, as the polls-closed entry states them.
    CredentialsIssued,
    /// The key ceremony's records decode, come in order, and replayed through the
    /// ceremony (§1.12) give the threshold key entry, whose K is the election key.
    KeyCeremony,
    /// Every dealing, complaint, reveal and decryption share is signed by its
    /// trustee's registered Ed25519 key.
    TrusteeSignature,
    /// The tally record holds the homomorphic sums and counts of the counted ballots,
    /// and each mix-net contest's rows by their digest.
    TallyRecord,
    /// Every shuffle record is its batch's next step: its input the batch's current
    /// rows, a trustee of the threshold key not yet in the chain, signed, and its
    /// shuffle proof verifies; at most k steps per batch.
    Shuffle,
    /// Every decryption share answers the tally record (batch, trustee of the
    /// threshold key) and its proofs verify.
    DecryptionShare,
    /// The result is the recount of the totals the first k shares per batch decrypt.
    Result,
}

impl Check {
    /// Every check, in report order.
    pub const ALL: [Check; 25] = [
        Check::CheckpointSignature,
        Check::TreeRoot,
        Check::HashTiles,
        Check::CheckpointConsistency,
        Check::EntryEncoding,
        Check::Manifest,
        Check::Fingerprint,
        Check::ElectionKeys,
        Check::BallotEncoding,
        Check::BlindSignature,
        Check::CredentialSignature,
        Check::BallotProofs,
        Check::DuplicateBallot,
        Check::Revoting,
        Check::SpoiledOpening,
        Check::SpoiledNotCast,
        Check::PollsClosed,
        Check::AfterClose,
        Check::CredentialsIssued,
        Check::KeyCeremony,
        Check::TrusteeSignature,
        Check::TallyRecord,
        Check::Shuffle,
        Check::DecryptionShare,
        Check::Result,
    ];

    /// The check's name, as printed.
    pub const fn name(self) -> &'static str {
        match self {
            Check::CheckpointSignature => "checkpoint signature",
            Check::TreeRoot => "tree root",
            Check::HashTiles => "hash tiles",
            Check::CheckpointConsistency => "checkpoint consistency",
            Check::EntryEncoding => "entry encoding",
            Check::Manifest => "manifest",
            Check::Fingerprint => "fingerprint",
            Check::ElectionKeys => "election keys",
            Check::BallotEncoding => "ballot encoding",
            Check::BlindSignature => "blind signature",
            Check::CredentialSignature => "credential signature",
            Check::BallotProofs => "ballot proofs",
            Check::DuplicateBallot => "duplicate ballot",
            Check::Revoting => "re-voting policy",
            Check::SpoiledOpening => "spoiled ballot opening",
            Check::SpoiledNotCast => "spoiled ballot not cast",
            Check::PollsClosed => "polls closed",
            Check::AfterClose => "nothing cast after close",
            Check::CredentialsIssued => "credentials issued",
            Check::KeyCeremony => "key ceremony",
            Check::TrusteeSignature => "trustee signature",
            Check::TallyRecord => "tally record",
            Check::Shuffle => "mix-net shuffles",
            Check::DecryptionShare => "decryption shares",
            Check::Result => "result",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Which check.
    pub check: Check,
    /// The board entry (leaf index) it concerns, if one; for a checkpoint, its size.
    pub entry: Option<u64>,
    /// What was wrong.
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.entry {
            Some(entry) => write!(f, "FAILED {} at entry {entry}: {}", self.check, self.detail),
            None => write!(f, "FAILED {}: {}", self.check, self.detail),
        }
    }
}

/// The key ceremony as the board records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ceremony {
    /// k: how many trustees decrypt.
    pub threshold: u32,
    /// n: the registered trustees.
    pub trustees: u32,
    /// The dealers whose dealings make the key.
    pub qualified: Vec<u32>,
}

impl fmt::Display for Ceremony {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let qualified: Vec<String> = self.qualified.iter().map(u32::to_string).collect();
        write!(
            f,
            "key ceremony: {} of {} trustees, qualified dealers {}",
            self.threshold,
            self.trustees,
            qualified.join(", ")
        )
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub(crate) board_key: Option<String>,
    pub(crate) size: u64,
    pub(crate) passed: BTreeMap<Check, u64>,
    pub(crate) failures: Vec<Failure>,
    pub(crate) ballots: u64,
    pub(crate) spoiled: u64,
    pub(crate) counted: u64,
    pub(crate) credentials_issued: Option<u64>,
    pub(crate) ceremony: Option<Ceremony>,
    pub(crate) results: Vec<ContestResult>,
    pub(crate) cvrs: Vec<ContestCvr>,
}

/// A mix-net contest's cast-vote record as the verifier decrypted and recounted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContestCvr {
    /// The contest id.
    pub contest: String,
    /// The CVR's format.
    pub format: CvrFormat,
    /// The CVR file: one ballot per row of the last shuffle's output, in its order.
    pub text: String,
    /// The recount, round by round.
    pub tabulation: Tabulation,
}

impl Report {
    /// Whether every check held.
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty()
    }

    /// The board key the checkpoints were checked with (compare it out of band).
    pub fn board_key(&self) -> Option<&str> {
        self.board_key.as_deref()
    }

    /// The number of entries of the latest checkpoint.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// How many items passed `check`.
    pub fn passed(&self, check: Check) -> u64 {
        self.passed.get(&check).copied().unwrap_or(0)
    }

    /// Every failure, in board order within each check.
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// Whether `check` failed for `entry`.
    pub fn failed_at(&self, check: Check, entry: u64) -> bool {
        self.failures
            .iter()
            .any(|f| f.check == check && f.entry == Some(entry))
    }

    /// The key ceremony, once its threshold key entry was read.
    pub fn ceremony(&self) -> Option<&Ceremony> {
        self.ceremony.as_ref()
    }

    /// The credentials issued, as the polls-closed entry states them.
    pub fn credentials_issued(&self) -> Option<u64> {
        self.credentials_issued
    }

    /// The results as the verifier recounted them (empty until a result entry).
    pub fn results(&self) -> &[ContestResult] {
        &self.results
    }

    /// The mix-net contests' cast-vote records and recounts (empty until a result
    /// entry).
    pub fn cvrs(&self) -> &[ContestCvr] {
        &self.cvrs
    }

    /// Ballot entries on the board.
    pub fn ballots(&self) -> u64 {
        self.ballots
    }

    /// Spoiled ballot entries on the board.
    pub fn spoiled(&self) -> u64 {
        self.spoiled
    }

    /// Ballots the tally must count: one per credential (its latest under
    /// `last-counts`), from the ballots before polls closed.
    pub fn counted(&self) -> u64 {
        self.counted
    }

    pub(crate) fn pass(&mut self, check: Check) {
        *self.passed.entry(check).or_default() += 1;
    }

    /// Records `check` for `entry` as passed if `ok`, else as failed with `detail`.
    pub(crate) fn record(&mut self, check: Check, entry: u64, ok: bool, detail: &str) {
        if ok {
            self.pass(check);
        } else {
            self.fail(check, Some(entry), detail);
        }
    }

    pub(crate) fn fail(&mut self, check: Check, entry: Option<u64>, detail: impl Into<String>) {
        self.failures.push(Failure {
            check,
            entry,
            detail: detail.into(),
        });
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(key) = &self.board_key {
            writeln!(f, "board key: {key}")?;
        }
        writeln!(
            f,
            "{} entries: {} ballots, {} spoiled, {} counted",
            self.size, self.ballots, self.spoiled, self.counted
        )?;
        if let Some(issued) = self.credentials_issued {
            writeln!(f, "credentials issued: {issued}")?;
        }
        if let Some(ceremony) = &self.ceremony {
            writeln!(f, "{ceremony}")?;
        }
        for contest in &self.results {
            let totals: Vec<String> = match &contest.cvr_digest {
                Some(digest) => vec![format!(
                    "mix-net, CVR sha256 {}",
                    digest
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                )],
                None => contest
                    .totals
                    .iter()
                    .map(|(option, total)| format!("{option} {total}"))
                    .collect(),
            };
            writeln!(
                f,
                "contest {} ({} ballots): {}; elected: {}",
                contest.contest,
                contest.ballots,
                totals.join(", "),
                contest.winners.join(", ")
            )?;
        }
        for check in Check::ALL {
            let failed = self.failures.iter().filter(|x| x.check == check).count();
            let status = if failed > 0 { "FAILED" } else { "ok" };
            writeln!(
                f,
                "  {status:6} {:26} {} passed, {failed} failed",
                check.name(),
                self.passed(check)
            )?;
        }
        for failure in &self.failures {
            writeln!(f, "{failure}")?;
        }
        Ok(())
    }
}
