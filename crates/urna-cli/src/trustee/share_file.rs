//! The trustee's share file: a JSON document whose public part (election, index, name,
//! public keys, the threshold key once the ceremony is done) is in clear, and whose
//! secrets (Ed25519 signing key, X25519 secret, dealer seed, key share) are sealed
//! with a passphrase: Argon2id derives a 32-byte key, ChaCha20-Poly1305 seals the
//! secrets under a random nonce with the public part and the KDF parameters as
//! associated data, so neither can be changed without the passphrase noticing.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};
use ed25519_dalek::SigningKey;
use rand::Rng as _;
use urna_crypto::dkg::{KeyShare, ThresholdPublicKey};
use urna_tally::EncryptionSecret;
use zeroize::Zeroizing;

/// The format version this build writes and reads.
const FORMAT_VERSION: u32 = 1;
/// The only key derivation this format knows.
const KDF_ALGORITHM: &str = "argon2id";
/// The message every failure to open the sealed part gives: a wrong passphrase and a
/// changed file are indistinguishable by design.
const WRONG_PASSPHRASE: &str = "wrong passphrase or damaged share file";
/// Length of the sealed secrets before the key share: signing key, X25519 secret,
/// dealer seed.
const BASE_SECRETS_LEN: usize = 96;

/// Argon2id's cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub lanes: u32,
}

impl Default for KdfCost {
    /// 64 MiB, 3 passes, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: 64 * 1024,
            iterations: 3,
            lanes: 1,
        }
    }
}

/// What anyone may read in a share file (no passphrase needed).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PublicPart {
    /// The file format's version.
    pub version: u32,
    /// The election this trustee was registered for, once registered.
    pub election: Option<String>,
    /// The election fingerprint (hex) the ceremony binds, once registered.
    pub fingerprint: Option<String>,
    /// The trustee's index, once registered.
    pub index: Option<u32>,
    /// The trustee's name.
    pub name: String,
    /// The Ed25519 public key (hex).
    pub signing_key: String,
    /// The X25519 public key (hex).
    pub encryption_key: String,
    /// The canonical threshold public key (hex), once the ceremony is done.
    pub threshold_key: Option<String>,
}

/// Argon2id's parameters as stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Kdf {
    algorithm: String,
    memory_kib: u32,
    iterations: u32,
    lanes: u32,
    /// 16 random bytes (hex).
    salt: String,
}

/// The file as stored.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    public: PublicPart,
    kdf: Kdf,
    /// 12 random bytes (hex).
    nonce: String,
    /// ChaCha20-Poly1305 of the secrets (hex).
    sealed: String,
}

/// A trustee's secrets: zeroized on drop, never printed.
struct Secrets {
    signing: SigningKey,
    encryption: EncryptionSecret,
    dealer_seed: Zeroizing<[u8; 32]>,
    key_share: Option<KeyShare>,
}

impl Secrets {
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(BASE_SECRETS_LEN + KeyShare::LEN));
        out.extend_from_slice(&self.signing.to_bytes());
        out.extend_from_slice(self.encryption.to_bytes().as_ref());
        out.extend_from_slice(self.dealer_seed.as_ref());
        if let Some(share) = &self.key_share {
            out.extend_from_slice(share.to_bytes().as_ref());
        }
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self> {
        let (base, share) = bytes
            .split_at_checked(BASE_SECRETS_LEN)
            .context(WRONG_PASSPHRASE)?;
        let field = |range: std::ops::Range<usize>| -> Zeroizing<[u8; 32]> {
            let mut out = Zeroizing::new([0u8; 32]);
            out.copy_from_slice(&base[range]);
            out
        };
        let key_share = match share.len() {
            0 => None,
            KeyShare::LEN => {
                let mut encoded = Zeroizing::new([0u8; KeyShare::LEN]);
                encoded.copy_from_slice(share);
                Some(KeyShare::from_bytes(&encoded).context(WRONG_PASSPHRASE)?)
            }
            _ => bail!(WRONG_PASSPHRASE),
        };
        Ok(Self {
            signing: SigningKey::from_bytes(&field(0..32)),
            encryption: EncryptionSecret::from_bytes(*field(32..64)),
            dealer_seed: field(64..96),
            key_share,
        })
    }
}

/// An unlocked share file: the public part, and the secrets with the key that seals
/// them (kept so the file can be rewritten as the ceremony goes on).
pub struct ShareFile {
    path: PathBuf,
    public: PublicPart,
    kdf: Kdf,
    key: Zeroizing<[u8; 32]>,
    secrets: Secrets,
}

impl fmt::Debug for ShareFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShareFile")
            .field("path", &self.path)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl ShareFile {
    /// New keys for trustee `name`, sealed with `passphrase` at `cost`, written to
    /// `path` (which must not exist yet).
    pub fn create(path: &Path, name: &str, passphrase: &str, cost: KdfCost) -> Result<Self> {
        if path.exists() {
            bail!("{} already exists", path.display());
        }
        let mut rng = rand::rng();
        let mut signing_seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(signing_seed.as_mut());
        let mut dealer_seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(dealer_seed.as_mut());
        let secrets = Secrets {
            signing: SigningKey::from_bytes(&signing_seed),
            encryption: EncryptionSecret::generate(&mut rng),
            dealer_seed,
            key_share: None,
        };
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        let kdf = Kdf {
            algorithm: KDF_ALGORITHM.to_owned(),
            memory_kib: cost.memory_kib,
            iterations: cost.iterations,
            lanes: cost.lanes,
            salt: hex::encode(salt),
        };
        let key = derive(&kdf, passphrase)?;
        let public = PublicPart {
            version: FORMAT_VERSION,
            election: None,
            fingerprint: None,
            index: None,
            name: name.to_owned(),
            signing_key: hex::encode(secrets.signing.verifying_key().to_bytes()),
            encryption_key: hex::encode(secrets.encryption.public_key()),
            threshold_key: None,
        };
        let file = Self {
            path: path.to_owned(),
            public,
            kdf,
            key,
            secrets,
        };
        file.save()?;
        Ok(file)
    }

    /// Opens `path` with `passphrase`.
    pub fn open(path: &Path, passphrase: &str) -> Result<Self> {
        let stored = read(path)?;
        let key = derive(&stored.kdf, passphrase)?;
        let nonce: [u8; 12] = hex::decode(&stored.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .context(WRONG_PASSPHRASE)?;
        let sealed = hex::decode(&stored.sealed).context(WRONG_PASSPHRASE)?;
        let aad = associated_data(&stored.public, &stored.kdf)?;
        let plain = ChaCha20Poly1305::new(&(*key).into())
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: &sealed,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| anyhow::anyhow!(WRONG_PASSPHRASE))?;
        let secrets = Secrets::decode(&plain)?;
        let file = Self {
            path: path.to_owned(),
            public: stored.public,
            kdf: stored.kdf,
            key,
            secrets,
        };
        if file.public.signing_key != hex::encode(file.secrets.signing.verifying_key().to_bytes())
            || file.public.encryption_key != hex::encode(file.secrets.encryption.public_key())
        {
            bail!(WRONG_PASSPHRASE);
        }
        Ok(file)
    }

    /// The public part of `path`, without the passphrase.
    pub fn read_public(path: &Path) -> Result<PublicPart> {
        Ok(read(path)?.public)
    }

    /// Seals the secrets afresh (new nonce) and replaces the file atomically.
    pub fn save(&self) -> Result<()> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let aad = associated_data(&self.public, &self.kdf)?;
        let plain = self.secrets.encode();
        let sealed = ChaCha20Poly1305::new(&(*self.key).into())
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: &plain,
                    aad: &aad,
                },
            )
            .map_err(|_| anyhow::anyhow!("sealing the share file failed"))?;
        let stored = Stored {
            public: self.public.clone(),
            kdf: self.kdf.clone(),
            nonce: hex::encode(nonce),
            sealed: hex::encode(sealed),
        };
        write_atomic(&self.path, &serde_json::to_vec_pretty(&stored)?)
    }

    /// The public part.
    pub fn public(&self) -> &PublicPart {
        &self.public
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records the election and index this trustee is registered as.
    pub fn set_registration(&mut self, election: &str, fingerprint: &[u8; 32], index: u32) {
        self.public.election = Some(election.to_owned());
        self.public.fingerprint = Some(hex::encode(fingerprint));
        self.public.index = Some(index);
    }

    /// Records the ceremony's outcome: the threshold key and this trustee's share.
    pub fn set_key_share(&mut self, key: &ThresholdPublicKey, share: KeyShare) {
        self.public.threshold_key = Some(hex::encode(key.to_bytes()));
        self.secrets.key_share = Some(share);
    }

    /// The Ed25519 signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.secrets.signing
    }

    /// The X25519 secret shares are sealed to.
    pub fn encryption_secret(&self) -> &EncryptionSecret {
        &self.secrets.encryption
    }

    /// The seed the dealer's polynomial is drawn from.
    pub fn dealer_seed(&self) -> [u8; 32] {
        *self.secrets.dealer_seed
    }

    /// The key share, once the ceremony is done.
    pub fn key_share(&self) -> Option<&KeyShare> {
        self.secrets.key_share.as_ref()
    }
}

/// Reads and parses the stored file.
fn read(path: &Path) -> Result<Stored> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let stored: Stored = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a trustee share file", path.display()))?;
    if stored.public.version != FORMAT_VERSION || stored.kdf.algorithm != KDF_ALGORITHM {
        bail!(
            "{}: unsupported share file version or key derivation",
            path.display()
        );
    }
    Ok(stored)
}

/// The associated data: the public part and the KDF parameters, as JSON.
fn associated_data(public: &PublicPart, kdf: &Kdf) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec(&(public, kdf))?)
}

/// Argon2id of the passphrase under the stored parameters.
fn derive(kdf: &Kdf, passphrase: &str) -> Result<Zeroizing<[u8; 32]>> {
    let salt = hex::decode(&kdf.salt).context(WRONG_PASSPHRASE)?;
    let params = Params::new(kdf.memory_kib, kdf.iterations, kdf.lanes, Some(32))
        .map_err(|e| anyhow::anyhow!("share file key derivation parameters: {e}"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), &salt, key.as_mut())
        .map_err(|e| anyhow::anyhow!("share file key derivation: {e}"))?;
    Ok(key)
}

/// Writes `bytes` to a temporary file of mode 0600 beside `path`, then renames it
/// over `path`, so a crash leaves the old file or the new one, never a torn one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".urna-trustee-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o600));
    }
    let mut temp = builder
        .tempfile_in(dir)
        .with_context(|| format!("creating a file in {}", dir.display()))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    temp.persist(path)
        .with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters: the tests check the format, not Argon2's cost.
    const CHEAP: KdfCost = KdfCost {
        memory_kib: 64,
        iterations: 1,
        lanes: 1,
    };

    #[test]
    fn a_share_file_round_trips_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        let mut file = ShareFile::create(&path, "Ada", "correct horse", CHEAP).unwrap();
        assert!(ShareFile::create(&path, "Ada", "x", CHEAP).is_err());
        file.set_registration("club", &[7; 32], 2);
        file.save().unwrap();
        let opened = ShareFile::open(&path, "correct horse").unwrap();
        assert_eq!(opened.public(), file.public());
        assert_eq!(opened.public().index, Some(2));
        assert_eq!(
            opened.signing_key().to_bytes(),
            file.signing_key().to_bytes()
        );
        assert_eq!(
            *opened.encryption_secret().to_bytes(),
            *file.encryption_secret().to_bytes()
        );
        assert_eq!(opened.dealer_seed(), file.dealer_seed());
        assert!(opened.key_share().is_none());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&hex::encode(file.dealer_seed())));
        assert!(!format!("{opened:?}").contains(&hex::encode(file.dealer_seed())));
        assert_eq!(ShareFile::read_public(&path).unwrap(), *file.public());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn the_key_share_is_kept_sealed_and_checks_against_the_key() {
        use rand::SeedableRng as _;
        use urna_crypto::dkg::{Ceremony, Dealer, DkgParameters};
        let params = DkgParameters::new([3; 32], 1, 1).unwrap();
        let mut rng = rand::rngs::ChaCha20Rng::seed_from_u64(5);
        let dealer = Dealer::new(&params, 1, &mut rng).unwrap();
        let mut ceremony = Ceremony::new(params);
        ceremony.add_dealing(dealer.dealing().clone()).unwrap();
        ceremony.close_dealings().unwrap();
        ceremony.close_complaints().unwrap();
        let key = ceremony.finish().unwrap().clone();
        let share = ceremony
            .key_share(1, &[dealer.share_for(1).unwrap()])
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        let mut file = ShareFile::create(&path, "Ada", "pw", CHEAP).unwrap();
        file.set_key_share(&key, share);
        file.save().unwrap();
        let opened = ShareFile::open(&path, "pw").unwrap();
        let kept = opened.key_share().unwrap();
        key.check_share(kept).unwrap();
        assert_eq!(
            opened.public().threshold_key,
            Some(hex::encode(key.to_bytes()))
        );
    }

    #[test]
    fn a_wrong_passphrase_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        ShareFile::create(&path, "Ada", "correct horse", CHEAP).unwrap();
        let error = ShareFile::open(&path, "wrong horse").unwrap_err();
        assert_eq!(error.to_string(), WRONG_PASSPHRASE);
    }

    #[test]
    fn a_tampered_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        ShareFile::create(&path, "Ada", "pw", CHEAP).unwrap();
        let original = std::fs::read_to_string(&path).unwrap();
        let stored: Stored = serde_json::from_str(&original).unwrap();
        let mut edits: Vec<Stored> = Vec::new();
        let mut renamed: Stored = serde_json::from_str(&original).unwrap();
        renamed.public.name = "Eve".to_owned();
        edits.push(renamed);
        let mut indexed: Stored = serde_json::from_str(&original).unwrap();
        indexed.public.index = Some(1);
        edits.push(indexed);
        let mut cheaper: Stored = serde_json::from_str(&original).unwrap();
        cheaper.kdf.iterations = 2;
        edits.push(cheaper);
        let mut flipped: Stored = serde_json::from_str(&original).unwrap();
        let mut sealed = hex::decode(&stored.sealed).unwrap();
        sealed[0] ^= 1;
        flipped.sealed = hex::encode(sealed);
        edits.push(flipped);
        for edit in edits {
            std::fs::write(&path, serde_json::to_vec(&edit).unwrap()).unwrap();
            let error = ShareFile::open(&path, "pw").unwrap_err();
            assert_eq!(error.to_string(), WRONG_PASSPHRASE);
        }
    }
}
