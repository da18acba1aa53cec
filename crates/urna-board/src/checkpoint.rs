//! C2SP tlog-checkpoint (<https://c2sp.org/tlog-checkpoint>): the signed tree head.
//!
//! The note text is three lines: the origin, the tree size in decimal, and the
//! base64 root hash. urna writes no extension lines; it accepts them when reading
//! (they are opaque and unsigned by some cosignature formats).

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::error::{NoteError, ProofError};
use crate::hash::TreeHash;
use crate::note::{NoteSigner, NoteVerifier, open_note, sign_note};
use crate::proof::{verify_consistency, verify_inclusion};

/// A tree head: which log, how many entries, which root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: TreeHash,
    extensions: Vec<String>,
}

/// Checks an origin line: non-empty, no spaces, no `+`, no control characters.
pub fn check_origin(origin: &str) -> Result<(), NoteError> {
    if origin.is_empty()
        || origin
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
    {
        return Err(NoteError::Checkpoint("invalid origin"));
    }
    Ok(())
}

impl Checkpoint {
    /// The checkpoint of the log `origin` at `size` entries with root `root`.
    pub fn new(origin: &str, size: u64, root: TreeHash) -> Result<Self, NoteError> {
        check_origin(origin)?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        })
    }

    /// The log's origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root hash.
    pub fn root(&self) -> &TreeHash {
        &self.root
    }

    /// Extension lines of a parsed checkpoint (urna writes none).
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The note text.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root.as_bytes())
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses note text: an origin, a size without leading zeros, a base64 root of 32
    /// bytes, then optional non-empty extension lines; every line ends in a newline.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(NoteError::Checkpoint("text must end with a newline"))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(NoteError::Checkpoint("fewer than three lines"));
        };
        check_origin(origin)?;
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(NoteError::Checkpoint(
                "tree size is not a canonical decimal",
            ));
        }
        let size = size
            .parse::<u64>()
            .map_err(|_| NoteError::Checkpoint("tree size out of range"))?;
        let root = B64
            .decode(root)
            .ok()
            .and_then(|r| TreeHash::from_slice(&r))
            .ok_or(NoteError::Checkpoint("root is not base64 of 32 bytes"))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(NoteError::Checkpoint("empty extension line"));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Checks that `entry` (its encoded bytes) is leaf `index` of the tree this
    /// checkpoint commits to: what a client holding a receipt runs.
    pub fn verify_entry(
        &self,
        entry: &[u8],
        index: u64,
        proof: &[TreeHash],
    ) -> Result<(), ProofError> {
        verify_inclusion(&TreeHash::leaf(entry), index, self.size, proof, &self.root)
    }

    /// Checks that `newer` extends this checkpoint of the same log: what a monitor or
    /// witness runs before accepting a new tree head.
    pub fn verify_extended_by(
        &self,
        newer: &Checkpoint,
        proof: &[TreeHash],
    ) -> Result<(), ProofError> {
        if newer.origin != self.origin {
            return Err(ProofError::RootMismatch);
        }
        verify_consistency(self.size, newer.size, proof, &self.root, &newer.root)
    }

    /// Signs the checkpoint as a note. The signer's key name should be the origin.
    pub fn sign(&self, signer: &NoteSigner) -> Result<SignedCheckpoint, NoteError> {
        Ok(SignedCheckpoint {
            note: sign_note(&self.to_text(), &[signer])?,
            checkpoint: self.clone(),
        })
    }
}

/// A checkpoint with its signed note, as served at `<prefix>/checkpoint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    note: String,
}

impl SignedCheckpoint {
    /// Opens a signed checkpoint of the log `origin`: the note must carry a valid
    /// signature by one of `known` and its origin line must be `origin`.
    pub fn open(note: &[u8], origin: &str, known: &[NoteVerifier]) -> Result<Self, NoteError> {
        let verified = open_note(note, known)?;
        let checkpoint = Checkpoint::parse(verified.text())?;
        if checkpoint.origin != origin {
            return Err(NoteError::Checkpoint("origin is not the expected log"));
        }
        Ok(Self {
            checkpoint,
            note: String::from_utf8_lossy(note).into_owned(),
        })
    }

    /// The checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The signed note text.
    pub fn note(&self) -> &str {
        &self.note
    }
}

impl fmt::Display for SignedCheckpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of c2sp.org/tlog-checkpoint.
    const SPEC_TEXT: &str =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn the_spec_example_parses_and_prints_back() {
        let c = Checkpoint::parse(SPEC_TEXT).unwrap();
        assert_eq!(c.origin(), "example.com/behind-the-sofa");
        assert_eq!(c.size(), 20852163);
        assert_eq!(c.to_text(), SPEC_TEXT);
    }

    #[test]
    fn malformed_checkpoints_are_refused() {
        let root = B64.encode([0u8; 32]);
        for bad in [
            format!("o\n1\n{root}"),
            format!("o\n01\n{root}\n"),
            format!("o\n+1\n{root}\n"),
            format!("o\n\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            "o\n1\nAAAA\n".to_string(),
            format!("\n1\n{root}\n"),
            format!("o o\n1\n{root}\n"),
            format!("o\n1\n{root}\n\n"),
            "o\n1\n".to_string(),
        ] {
            assert!(Checkpoint::parse(&bad).is_err(), "{bad:?}");
        }
        let ok = Checkpoint::parse(&format!("o\n0\n{root}\next\n")).unwrap();
        assert_eq!(ok.extensions(), ["ext".to_string()]);
        assert!(Checkpoint::new("a+b", 0, TreeHash::EMPTY_ROOT).is_err());
    }

    #[test]
    fn signed_checkpoints_open_only_for_their_log_and_key() {
        let origin = "urna.example/e-2026";
        let signer = NoteSigner::from_seed(origin, &[5; 32]).unwrap();
        let cp = Checkpoint::new(origin, 42, TreeHash::leaf(b"r")).unwrap();
        let signed = cp.sign(&signer).unwrap();
        let v = [signer.verifier()];
        let opened = SignedCheckpoint::open(signed.note().as_bytes(), origin, &v).unwrap();
        assert_eq!(opened.checkpoint(), &cp);
        assert_eq!(opened, signed);
        assert!(SignedCheckpoint::open(signed.note().as_bytes(), "urna.example/x", &v).is_err());
        let other = NoteSigner::from_seed(origin, &[6; 32]).unwrap();
        assert!(
            SignedCheckpoint::open(signed.note().as_bytes(), origin, &[other.verifier()]).is_err()
        );
        let forged = signed.note().replace("\n42\n", "\n43\n");
        assert_eq!(
            SignedCheckpoint::open(forged.as_bytes(), origin, &v),
            Err(NoteError::BadSignature)
        );
    }

    #[test]
    fn clients_check_entries_and_growth_against_checkpoints() {
        use crate::{Log, MemoryStore};
        let origin = "urna.example/e";
        let mut log = Log::open(MemoryStore::new(), origin).unwrap();
        let entries: Vec<Vec<u8>> = (0u8..9).map(|i| vec![i; 3]).collect();
        log.integrate(&entries[..5]).unwrap();
        let old = Checkpoint::new(origin, 5, log.root()).unwrap();
        log.integrate(&entries[5..]).unwrap();
        let new = Checkpoint::new(origin, 9, log.root()).unwrap();
        let p = log.inclusion_proof(2, 9).unwrap();
        assert!(new.verify_entry(&entries[2], 2, &p).is_ok());
        assert!(new.verify_entry(&entries[3], 2, &p).is_err());
        assert!(old.verify_entry(&entries[2], 2, &p).is_err());
        let c = log.consistency_proof(5, 9).unwrap();
        assert!(old.verify_extended_by(&new, &c).is_ok());
        assert!(new.verify_extended_by(&old, &c).is_err());
        let elsewhere = Checkpoint::new("urna.example/other", 9, log.root()).unwrap();
        assert!(old.verify_extended_by(&elsewhere, &c).is_err());
    }
}
