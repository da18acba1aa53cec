//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 signatures.
//!
//! A signed note is a text ending in a newline, a blank line, then one or more lines
//! `— <key name> base64(key ID ‖ signature)`. The key ID of an Ed25519 key is the first
//! four bytes of `SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)`, read big-endian.
//! Keys are written as in Go's `golang.org/x/mod/sumdb/note`: a verifier key is
//! `<name>+<key ID as 8 hex digits>+base64(0x01 ‖ public key)` and a signer key is
//! `PRIVATE+KEY+<name>+<key ID>+base64(0x01 ‖ seed)`.

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::NoteError;

/// The signature type byte of Ed25519 note signatures.
pub const ED25519_TYPE: u8 = 0x01;

/// The most signature lines [`open_note`] reads (the spec asks for at least 16).
pub const MAX_SIGNATURES: usize = 100;

/// The longest note [`open_note`] reads, in bytes.
pub const MAX_NOTE_LEN: usize = 1 << 20;

const SIG_PREFIX: &str = "\u{2014} ";

/// The key ID of an Ed25519 key: `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[..4]`, big-endian.
pub fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519_TYPE]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
    {
        return Err(NoteError::KeyName);
    }
    Ok(())
}

/// Splits `<name>+<hex id>+<base64>` and checks the name, the id and the type byte.
fn parse_key(s: &str) -> Result<(&str, u32, [u8; 32]), NoteError> {
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::Key("expected name+id+key"));
    };
    check_name(name)?;
    if id.len() != 8
        || !id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Err(NoteError::Key("key ID is not 8 lower-case hex digits"));
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| NoteError::Key("bad key ID"))?;
    let raw = B64.decode(key).map_err(|_| NoteError::Key("bad base64"))?;
    let Some((&ED25519_TYPE, bytes)) = raw.split_first() else {
        return Err(NoteError::Key("not an Ed25519 key"));
    };
    let bytes = <[u8; 32]>::try_from(bytes).map_err(|_| NoteError::Key("wrong key length"))?;
    Ok((name, id, bytes))
}

/// A key that signs notes under a name. The secret is zeroized on drop (by
/// ed25519-dalek) and never printed.
pub struct NoteSigner {
    name: String,
    id: u32,
    key: SigningKey,
}

impl NoteSigner {
    /// A signer named `name` with the Ed25519 key whose 32-byte seed is `seed`.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, NoteError> {
        check_name(name)?;
        let key = SigningKey::from_bytes(seed);
        let id = key_id(name, key.verifying_key().as_bytes());
        Ok(Self {
            name: name.to_owned(),
            id,
            key,
        })
    }

    /// Parses a signer key `PRIVATE+KEY+<name>+<id>+base64(0x01 ‖ seed)`, checking that
    /// the key ID matches the key.
    pub fn parse(skey: &str) -> Result<Self, NoteError> {
        let rest = skey
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(NoteError::Key("missing PRIVATE+KEY+ prefix"))?;
        let (name, id, seed) = parse_key(rest)?;
        let signer = Self::from_seed(name, &seed)?;
        if signer.id != id {
            return Err(NoteError::Key("key ID does not match the key"));
        }
        Ok(signer)
    }

    /// The signer key string, for storing the key. It holds the secret.
    pub fn to_private_key_string(&self) -> String {
        let mut raw = vec![ED25519_TYPE];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.id,
            B64.encode(raw)
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// The signature line for `text` (without the leading em dash), i.e. the key name,
    /// a space and base64(key ID ‖ signature).
    fn signature_line(&self, text: &str) -> String {
        let sig = self.key.sign(text.as_bytes());
        let mut raw = Vec::with_capacity(68);
        raw.extend_from_slice(&self.id.to_be_bytes());
        raw.extend_from_slice(&sig.to_bytes());
        format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(raw))
    }
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("id", &format_args!("{:08x}", self.id))
            .finish_non_exhaustive()
    }
}

/// A public key that verifies notes signed under a name.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// A verifier for the Ed25519 public key `public_key` under `name`.
    pub fn new(name: &str, public_key: &[u8; 32]) -> Result<Self, NoteError> {
        check_name(name)?;
        let key = VerifyingKey::from_bytes(public_key)
            .map_err(|_| NoteError::Key("not a valid Ed25519 public key"))?;
        Ok(Self {
            name: name.to_owned(),
            id: key_id(name, public_key),
            key,
        })
    }

    /// Parses a verifier key `<name>+<id>+base64(0x01 ‖ public key)`, checking that the
    /// key ID matches the key.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let (name, id, key) = parse_key(vkey)?;
        let v = Self::new(name, &key)?;
        if v.id != id {
            return Err(NoteError::Key("key ID does not match the key"));
        }
        Ok(v)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }

    fn verify(&self, text: &str, sig: &[u8]) -> bool {
        let Ok(sig) = <[u8; 64]>::try_from(sig) else {
            return false;
        };
        self.key
            .verify_strict(text.as_bytes(), &Signature::from_bytes(&sig))
            .is_ok()
    }
}

impl fmt::Display for NoteVerifier {
    /// The verifier key string, `<name>+<id>+base64(0x01 ‖ public key)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = vec![ED25519_TYPE];
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, B64.encode(raw))
    }
}

impl fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteVerifier({self})")
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(NoteError::Malformed("text must end with a newline"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::Malformed("control character"));
    }
    Ok(())
}

/// Signs `text` (which must end in a newline and hold no control characters other
/// than newlines) with every signer, returning the signed note.
pub fn sign_note(text: &str, signers: &[&NoteSigner]) -> Result<String, NoteError> {
    check_text(text)?;
    if signers.is_empty() {
        return Err(NoteError::Unverified);
    }
    let mut out = String::with_capacity(text.len() + 1 + 100 * signers.len());
    out.push_str(text);
    out.push('\n');
    for s in signers {
        out.push_str(&s.signature_line(text));
    }
    Ok(out)
}

/// A note whose signature by at least one known key verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    text: String,
    signers: Vec<(String, u32)>,
}

impl VerifiedNote {
    /// The signed text, including its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The names and key IDs of the known keys whose signatures verified.
    pub fn signers(&self) -> &[(String, u32)] {
        &self.signers
    }
}

/// Opens a signed note: checks its form, ignores signatures by unknown keys, rejects
/// the note if any signature by a known key (same name and key ID) fails, and requires
/// at least one that verifies.
pub fn open_note(note: &[u8], known: &[NoteVerifier]) -> Result<VerifiedNote, NoteError> {
    if note.len() > MAX_NOTE_LEN {
        return Err(NoteError::Malformed("note too long"));
    }
    let note = core::str::from_utf8(note).map_err(|_| NoteError::Malformed("not UTF-8"))?;
    if note.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::Malformed("control character"));
    }
    let split = note
        .rfind("\n\n")
        .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
    let (text, sigs) = (&note[..=split], &note[split + 2..]);
    if sigs.is_empty() || !sigs.ends_with('\n') {
        return Err(NoteError::Malformed(
            "signature block must end with a newline",
        ));
    }
    let mut signers = Vec::new();
    for (n, line) in sigs[..sigs.len() - 1].split('\n').enumerate() {
        if n >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let rest = line.strip_prefix(SIG_PREFIX).ok_or(NoteError::Malformed(
            "signature line must start with an em dash",
        ))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(NoteError::Malformed("signature line without a signature"))?;
        check_name(name)?;
        let raw = B64
            .decode(b64)
            .map_err(|_| NoteError::Malformed("signature is not base64"))?;
        if raw.len() < 5 {
            return Err(NoteError::Malformed("signature too short"));
        }
        let id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
        let Some(key) = known.iter().find(|k| k.name == name && k.id == id) else {
            continue;
        };
        if !key.verify(text, &raw[4..]) {
            return Err(NoteError::BadSignature);
        }
        signers.push((name.to_owned(), id));
    }
    if signers.is_empty() {
        return Err(NoteError::Unverified);
    }
    Ok(VerifiedNote {
        text: text.to_owned(),
        signers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of golang.org/x/mod/sumdb/note (note.go, "Example"), also used by
    // the C2SP signed-note implementations as the reference vector.
    const PETER_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                              then you don't know what your problem is.\n";
    const PETER_NOTE: &str = "If you think cryptography is the answer to your problem,\n\
        then you don't know what your problem is.\n\
        \n\
        \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    #[test]
    fn the_go_reference_note_is_reproduced_byte_for_byte() {
        let signer = NoteSigner::parse(PETER_SKEY).unwrap();
        assert_eq!(signer.key_id(), 0xc74f20a3);
        assert_eq!(signer.verifier().to_string(), PETER_VKEY);
        assert_eq!(signer.to_private_key_string(), PETER_SKEY);
        assert_eq!(sign_note(PETER_TEXT, &[&signer]).unwrap(), PETER_NOTE);
    }

    #[test]
    fn the_go_reference_note_opens_and_tampering_is_caught() {
        let v = NoteVerifier::parse(PETER_VKEY).unwrap();
        assert_eq!(key_id("PeterNeumann", v.public_key()), 0xc74f20a3);
        let opened = open_note(PETER_NOTE.as_bytes(), std::slice::from_ref(&v)).unwrap();
        assert_eq!(opened.text(), PETER_TEXT);
        assert_eq!(
            opened.signers(),
            &[("PeterNeumann".to_string(), 0xc74f20a3)]
        );
        let tampered = PETER_NOTE.replace("cryptography", "cryptographY");
        assert_eq!(
            open_note(tampered.as_bytes(), &[v]),
            Err(NoteError::BadSignature)
        );
    }

    #[test]
    fn unknown_keys_are_ignored_but_one_known_key_is_required() {
        let a = NoteSigner::from_seed("urna.example/a", &[1; 32]).unwrap();
        let b = NoteSigner::from_seed("urna.example/b", &[2; 32]).unwrap();
        let note = sign_note("hello\n", &[&a, &b]).unwrap();
        let opened = open_note(note.as_bytes(), &[b.verifier()]).unwrap();
        assert_eq!(opened.signers().len(), 1);
        assert_eq!(opened.text(), "hello\n");
        assert_eq!(open_note(note.as_bytes(), &[]), Err(NoteError::Unverified));
        // Same name, different key: not the known key, so ignored, so unverified.
        let impostor = NoteSigner::from_seed("urna.example/a", &[3; 32]).unwrap();
        assert_eq!(
            open_note(note.as_bytes(), &[impostor.verifier()]),
            Err(NoteError::Unverified)
        );
    }

    #[test]
    fn malformed_notes_and_keys_are_refused() {
        let a = NoteSigner::from_seed("urna.example/a", &[1; 32]).unwrap();
        let v = [a.verifier()];
        let good = sign_note("x\n", &[&a]).unwrap();
        assert!(open_note(good.as_bytes(), &v).is_ok());
        for bad in [
            good.trim_end().to_string(),
            good.replace("\n\n", "\n"),
            good.replace('\u{2014}', "-"),
            good.replace("x\n", "x\r\n"),
            format!("{good}\u{2014} urna.example/a\n"),
        ] {
            assert!(open_note(bad.as_bytes(), &v).is_err(), "{bad:?}");
        }
        assert!(open_note(&[0xff, b'\n', b'\n'], &v).is_err());
        assert!(sign_note("no newline", &[&a]).is_err());
        assert!(sign_note("tab\there\n", &[&a]).is_err());
        assert!(NoteSigner::from_seed("has space", &[1; 32]).is_err());
        assert!(NoteSigner::from_seed("has+plus", &[1; 32]).is_err());
        assert!(NoteSigner::from_seed("", &[1; 32]).is_err());
        // A mangled verifier key: wrong ID, wrong type byte, truncated.
        assert!(NoteVerifier::parse(&PETER_VKEY.replace("c74f20a3", "c74f20a4")).is_err());
        assert!(NoteVerifier::parse(&PETER_VKEY.replace("+AR", "+Ah")).is_err());
        assert!(NoteVerifier::parse(&PETER_VKEY[..PETER_VKEY.len() - 4]).is_err());
        assert!(NoteSigner::parse(&PETER_SKEY.replace("c74f20a3", "00000000")).is_err());
    }

    #[test]
    fn too_many_signature_lines_are_refused() {
        let a = NoteSigner::from_seed("urna.example/a", &[1; 32]).unwrap();
        let mut note = sign_note("x\n", &[&a]).unwrap();
        let line = note.split("\n\n").nth(1).unwrap().to_string();
        for _ in 0..MAX_SIGNATURES {
            note.push_str(&line);
        }
        assert_eq!(
            open_note(note.as_bytes(), &[a.verifier()]),
            Err(NoteError::TooManySignatures)
        );
    }

    #[test]
    fn debug_does_not_show_the_secret() {
        let a = NoteSigner::from_seed("urna.example/a", &[9; 32]).unwrap();
        let shown = format!("{a:?}");
        assert!(shown.contains("urna.example/a"));
        assert!(!shown.contains(&B64.encode([9u8; 32])));
        assert!(!shown.contains("0909"));
    }
}
