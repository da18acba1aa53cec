//! The voter's state directory: the credential, the pinned board key and receipts, each
//! a file readable only by the voter (mode 0600).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use urna_sdk::{Receipt, VoterCredential};

/// A state directory.
pub struct State {
    dir: PathBuf,
}

impl State {
    /// Opens (creating, mode 0700) the directory.
    pub fn open(dir: &Path) -> Result<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating the state directory {}", dir.display()))?;
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    /// The saved credential for `election`, if any.
    pub fn credential(&self, election: &str) -> Result<Option<VoterCredential>> {
        let Some(text) = self.read(&format!("{}.credential", file_name(election)))? else {
            return Ok(None);
        };
        let bytes = hex::decode(text.trim()).context("the saved credential is not hex")?;
        Ok(Some(VoterCredential::from_bytes(&bytes)?))
    }

    /// Saves the credential (secret key included) for `election`.
    pub fn save_credential(&self, election: &str, credential: &VoterCredential) -> Result<()> {
        let text = hex::encode(credential.to_bytes().as_slice());
        self.write(
            &format!("{}.credential", file_name(election)),
            text.as_bytes(),
        )?;
        Ok(())
    }

    /// The board key saved for `election`, if any.
    pub fn board_key(&self, election: &str) -> Result<Option<String>> {
        Ok(self
            .read(&format!("{}.board-key", file_name(election)))?
            .map(|k| k.trim().to_owned()))
    }

    /// Saves the board key of `election`, to pin it next time.
    pub fn save_board_key(&self, election: &str, key: &str) -> Result<()> {
        self.write(
            &format!("{}.board-key", file_name(election)),
            key.as_bytes(),
        )?;
        Ok(())
    }

    /// Saves a receipt file; returns its path.
    pub fn save_receipt(&self, file: &ReceiptFile) -> Result<PathBuf> {
        let name = format!(
            "{}-{}.receipt.json",
            file_name(&file.receipt.election_id),
            file.receipt.short_code
        );
        let path = self.write(&name, file.to_json()?.as_bytes())?;
        Ok(path)
    }

    fn read(&self, name: &str) -> Result<Option<String>> {
        let path = self.dir.join(name);
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    fn write(&self, name: &str, contents: &[u8]) -> Result<PathBuf> {
        let path = self.dir.join(name);
        write_private(&path, contents)?;
        Ok(path)
    }
}

/// A receipt as saved: with the board it was checked on and the board's key.
pub struct ReceiptFile {
    pub receipt: Receipt,
    pub board: String,
    pub board_key: String,
}

impl ReceiptFile {
    pub fn new(receipt: &Receipt, board: &str, board_key: &str) -> Self {
        Self {
            receipt: receipt.clone(),
            board: board.to_owned(),
            board_key: board_key.to_owned(),
        }
    }

    pub fn read(path: &Path) -> Result<Self> {
        let text = fs::read_to_string(path)
            .with_context(|| format!("reading the receipt {}", path.display()))?;
        let mut value: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a receipt file", path.display()))?;
        let text_field = |value: &Value, name: &str| -> Result<String> {
            match value.get(name).and_then(Value::as_str) {
                Some(s) => Ok(s.to_owned()),
                None => bail!("the receipt file has no {name}"),
            }
        };
        let board = text_field(&value, "board")?;
        let board_key = text_field(&value, "board_key")?;
        let receipt = serde_json::from_value(value["receipt"].take())
            .context("the receipt file holds no valid receipt")?;
        Ok(Self {
            receipt,
            board,
            board_key,
        })
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        write_private(path, self.to_json()?.as_bytes())
    }

    fn to_json(&self) -> Result<String> {
        let value = json!({
            "receipt": self.receipt,
            "board": self.board,
            "board_key": self.board_key,
        });
        Ok(serde_json::to_string_pretty(&value)? + "\n")
    }
}

/// Writes a file only its owner can read (mode 0600), replacing any old one.
fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    // An older file keeps its mode when opened: make sure it is private too.
    file.set_permissions(fs::Permissions::from_mode(0o600))
        .and_then(|()| file.write_all(contents))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// An election id made safe as a file name.
fn file_name(election: &str) -> String {
    election
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn receipt() -> Receipt {
        Receipt {
            election_id: "club/agm".into(),
            tracking_code: [7; 32],
            short_code: "0000-1111-2222-3333".into(),
            entry: vec![1, 2, 3],
            leaf_index: 5,
            inclusion_proof: vec![[1; 32], [2; 32]],
            checkpoint: "urna.local/club\n6\nAAAA\n\n— sig\n".into(),
            supersedes_previous: false,
            spoiled: false,
        }
    }

    #[test]
    fn files_are_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("state")).unwrap();
        assert_eq!(mode(&dir.path().join("state")), 0o700);
        assert_eq!(state.board_key("club/agm").unwrap(), None);
        state
            .save_board_key("club/agm", "urna.local/club+1234+AAAA")
            .unwrap();
        assert_eq!(
            state.board_key("club/agm").unwrap().as_deref(),
            Some("urna.local/club+1234+AAAA")
        );
        assert_eq!(mode(&state.dir.join("club_agm.board-key")), 0o600);
        assert!(state.credential("club/agm").unwrap().is_none());

        let path = state
            .save_receipt(&ReceiptFile::new(&receipt(), "https://127.0.0.1:1", "vkey"))
            .unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(
            path.file_name().unwrap(),
            "club_agm-0000-1111-2222-3333.receipt.json"
        );
        let read = ReceiptFile::read(&path).unwrap();
        assert_eq!(read.receipt, receipt());
        assert_eq!(read.board, "https://127.0.0.1:1");
        assert_eq!(read.board_key, "vkey");
    }

    #[test]
    fn an_existing_file_is_made_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        fs::write(&path, "{}").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        ReceiptFile::new(&receipt(), "b", "k").write(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert!(ReceiptFile::read(&dir.path().join("missing.json")).is_err());
        fs::write(&path, r#"{"board":"b","board_key":"k","receipt":{}}"#).unwrap();
        assert!(ReceiptFile::read(&path).is_err());
    }
}
