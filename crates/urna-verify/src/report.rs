//! The verifier's report: each named check with how many items passed, every failure
//! with the board entry it concerns, and what was not checked.

use std::collections::BTreeMap;
use std::fmt;

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
}

impl Check {
    /// Every check, in report order.
    pub const ALL: [Check; 18] = [
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

/// Something the verifier did not check (not a failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The first entry it concerns.
    pub entry: u64,
    /// How many entries it concerns.
    pub count: u64,
    /// What was not checked.
    pub detail: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not yet checked: {} ({} entries, the first at {})",
            self.detail, self.count, self.entry
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
    pub(crate) warnings: Vec<Warning>,
    pub(crate) ballots: u64,
    pub(crate) spoiled: u64,
    pub(crate) counted: u64,
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

    /// What was not checked.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
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
        for warning in &self.warnings {
            writeln!(f, "{warning}")?;
        }
        Ok(())
    }
}
