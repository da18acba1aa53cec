//! Sealing a private DKG share to its recipient, as `SealedShare` in tally.proto
//! specifies: HPKE (RFC 9180) base mode, single shot, with DHKEM(X25519, HKDF-SHA256),
//! HKDF-SHA256 and ChaCha20-Poly1305, to the recipient's registered X25519 key, with
//! info `lp("urna/v1/dkg-share") ‖ lp(election fingerprint) ‖ lp(u32be(dealer)) ‖
//! lp(u32be(recipient))` and empty aad. The sealed bytes are the 32-byte encapsulated
//! key followed by the AEAD ciphertext of the 40-byte share encoding.
//!
//! Binding the dealer and the recipient into the info means a sealed share cannot be
//! replayed under another dealer's name or to another recipient: it does not open.

use core::fmt;

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};
use curve25519_dalek::montgomery::MontgomeryPoint;
use hkdf::Hkdf;
use rand_core::CryptoRng;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use urna_crypto::dkg::SecretShare;
use zeroize::Zeroizing;

/// The length of the encapsulated key at the start of a sealed share.
pub const ENCAPSULATED_LEN: usize = 32;

/// The length of a sealed share: encapsulated key, sealed share encoding, AEAD tag.
pub const SEALED_SHARE_LEN: usize = ENCAPSULATED_LEN + SecretShare::LEN + 16;

/// `"KEM" ‖ I2OSP(0x0020, 2)`: DHKEM(X25519, HKDF-SHA256).
const KEM_SUITE: &[u8] = b"KEM\x00\x20";
/// `"HPKE" ‖ kem ‖ kdf (HKDF-SHA256) ‖ aead (ChaCha20-Poly1305)`.
const HPKE_SUITE: &[u8] = b"HPKE\x00\x20\x00\x01\x00\x03";
/// The domain tag of the info.
const SHARE_TAG: &[u8] = b"urna/v1/dkg-share";

/// Why a share could not be sealed or opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The public key gives an all-zero Diffie–Hellman result (a low-order point).
    #[error("unusable encryption key")]
    PublicKey,
    /// The sealed bytes have the wrong length.
    #[error("sealed share has the wrong length")]
    Length,
    /// The sealed share does not open with this key and context.
    #[error("sealed share does not open")]
    Open,
    /// The opened bytes are not a share from this dealer to this recipient.
    #[error("sealed share holds no valid share for this dealer and recipient")]
    Share,
}

/// A trustee's X25519 secret key (secret): redacted `Debug`, zeroized on drop.
pub struct EncryptionSecret {
    bytes: Zeroizing<[u8; 32]>,
}

impl EncryptionSecret {
    /// A fresh random key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(bytes.as_mut());
        Self { bytes }
    }

    /// The key from its 32 stored bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            bytes: Zeroizing::new(bytes),
        }
    }

    /// The 32 bytes to store (wiped when dropped).
    #[must_use]
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(*self.bytes)
    }

    /// The public key to register, `X25519(sk, 9)`.
    #[must_use]
    pub fn public_key(&self) -> [u8; 32] {
        MontgomeryPoint::mul_base_clamped(*self.bytes).to_bytes()
    }
}

impl fmt::Debug for EncryptionSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionSecret").finish_non_exhaustive()
    }
}

/// Whether shares can be sealed to `key`: false for the low-order X25519 points,
/// whose Diffie–Hellman result is always zero.
#[must_use]
pub fn usable_public_key(key: &[u8; 32]) -> bool {
    // A clamped scalar is a multiple of the cofactor 8, so it sends exactly the
    // low-order points to zero.
    !bool::from(
        MontgomeryPoint(*key)
            .mul_clamped([0x55; 32])
            .to_bytes()
            .ct_eq(&[0u8; 32]),
    )
}

/// Seals `share` (from its dealer to its recipient) to the recipient's encryption key.
pub fn seal_share<R: CryptoRng + ?Sized>(
    rng: &mut R,
    recipient_key: &[u8; 32],
    election: &[u8; 32],
    share: &SecretShare,
) -> Result<Vec<u8>, SealError> {
    let ephemeral = EncryptionSecret::generate(rng);
    let info = share_info(election, share.dealer(), share.recipient());
    seal(&ephemeral, recipient_key, &info, share.to_bytes().as_ref())
}

/// Opens the share `dealer` sealed to `recipient` with the recipient's secret key.
pub fn open_share(
    secret: &EncryptionSecret,
    election: &[u8; 32],
    dealer: u32,
    recipient: u32,
    sealed: &[u8],
) -> Result<SecretShare, SealError> {
    if sealed.len() != SEALED_SHARE_LEN {
        return Err(SealError::Length);
    }
    let info = share_info(election, dealer, recipient);
    let opened = open(secret, &info, sealed)?;
    let bytes: Zeroizing<[u8; SecretShare::LEN]> =
        Zeroizing::new(opened.as_slice().try_into().map_err(|_| SealError::Share)?);
    let share = SecretShare::from_bytes(&bytes).map_err(|_| SealError::Share)?;
    if share.dealer() != dealer || share.recipient() != recipient {
        return Err(SealError::Share);
    }
    Ok(share)
}

/// The HPKE info of a share: `lp(tag) ‖ lp(election) ‖ lp(u32be(dealer)) ‖
/// lp(u32be(recipient))`.
fn share_info(election: &[u8; 32], dealer: u32, recipient: u32) -> Vec<u8> {
    let mut info = Vec::new();
    for field in [
        SHARE_TAG,
        &election[..],
        &dealer.to_be_bytes(),
        &recipient.to_be_bytes(),
    ] {
        // Each field is at most 32 bytes long, so its length fits a u32.
        info.extend_from_slice(&(field.len() as u32).to_be_bytes());
        info.extend_from_slice(field);
    }
    info
}

/// HPKE `SealBase` with the ephemeral key `ephemeral`: `enc ‖ ct`.
fn seal(
    ephemeral: &EncryptionSecret,
    recipient_key: &[u8; 32],
    info: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, SealError> {
    let enc = ephemeral.public_key();
    let dh = diffie_hellman(ephemeral, recipient_key)?;
    let (key, nonce) = key_schedule(&dh, &enc, recipient_key, info)?;
    let ciphertext = ChaCha20Poly1305::new(&(*key).into())
        .encrypt(
            &nonce.into(),
            Payload {
                msg: plaintext,
                aad: b"",
            },
        )
        .map_err(|_| SealError::Open)?;
    let mut out = Vec::with_capacity(ENCAPSULATED_LEN + ciphertext.len());
    out.extend_from_slice(&enc);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// HPKE `OpenBase` of `enc ‖ ct`.
fn open(
    secret: &EncryptionSecret,
    info: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let (enc, ciphertext) = sealed
        .split_first_chunk::<ENCAPSULATED_LEN>()
        .ok_or(SealError::Length)?;
    let dh = diffie_hellman(secret, enc)?;
    let (key, nonce) = key_schedule(&dh, enc, &secret.public_key(), info)?;
    ChaCha20Poly1305::new(&(*key).into())
        .decrypt(
            &nonce.into(),
            Payload {
                msg: ciphertext,
                aad: b"",
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| SealError::Open)
}

/// X25519, refusing the all-zero output as RFC 9180 §7.1.4 requires.
fn diffie_hellman(
    secret: &EncryptionSecret,
    public: &[u8; 32],
) -> Result<Zeroizing<[u8; 32]>, SealError> {
    let shared = Zeroizing::new(
        MontgomeryPoint(*public)
            .mul_clamped(*secret.bytes)
            .to_bytes(),
    );
    if bool::from(shared.ct_eq(&[0u8; 32])) {
        return Err(SealError::PublicKey);
    }
    Ok(shared)
}

/// DHKEM's `ExtractAndExpand(dh, enc ‖ pkR)`: the KEM's shared secret.
fn kem_shared_secret(
    dh: &[u8; 32],
    enc: &[u8; 32],
    recipient_key: &[u8; 32],
) -> Result<Zeroizing<[u8; 32]>, SealError> {
    let kem_context = [&enc[..], &recipient_key[..]].concat();
    let (_, eae_prk) = labeled_extract(KEM_SUITE, b"", b"eae_prk", dh);
    let mut shared_secret = Zeroizing::new([0u8; 32]);
    labeled_expand(
        &eae_prk,
        KEM_SUITE,
        b"shared_secret",
        &kem_context,
        shared_secret.as_mut(),
    )?;
    Ok(shared_secret)
}

/// The KEM step, then the base-mode key schedule: the AEAD key and base nonce.
fn key_schedule(
    dh: &[u8; 32],
    enc: &[u8; 32],
    recipient_key: &[u8; 32],
    info: &[u8],
) -> Result<(Zeroizing<[u8; 32]>, [u8; 12]), SealError> {
    let shared_secret = kem_shared_secret(dh, enc, recipient_key)?;
    let (psk_id_hash, _) = labeled_extract(HPKE_SUITE, b"", b"psk_id_hash", b"");
    let (info_hash, _) = labeled_extract(HPKE_SUITE, b"", b"info_hash", info);
    let context = [&[0u8][..], &psk_id_hash, &info_hash].concat();
    let (_, secret) = labeled_extract(HPKE_SUITE, shared_secret.as_ref(), b"secret", b"");
    let mut key = Zeroizing::new([0u8; 32]);
    labeled_expand(&secret, HPKE_SUITE, b"key", &context, key.as_mut())?;
    let mut nonce = [0u8; 12];
    labeled_expand(&secret, HPKE_SUITE, b"base_nonce", &context, &mut nonce)?;
    Ok((key, nonce))
}

/// `LabeledExtract(salt, label, ikm)`: the PRK and the HKDF state holding it.
fn labeled_extract(suite: &[u8], salt: &[u8], label: &[u8], ikm: &[u8]) -> (Vec<u8>, Hkdf<Sha256>) {
    let labeled = Zeroizing::new([b"HPKE-v1", suite, label, ikm].concat());
    let (prk, hkdf) = Hkdf::<Sha256>::extract(Some(salt), &labeled);
    (prk.to_vec(), hkdf)
}

/// `LabeledExpand(prk, label, info, L)` into `out` (L = `out.len()`; callers ask for
/// at most 32 bytes, far below HKDF-SHA256's limit).
fn labeled_expand(
    prk: &Hkdf<Sha256>,
    suite: &[u8],
    label: &[u8],
    info: &[u8],
    out: &mut [u8],
) -> Result<(), SealError> {
    let length = u16::try_from(out.len())
        .map_err(|_| SealError::Length)?
        .to_be_bytes();
    let labeled = [&length[..], b"HPKE-v1", suite, label, info].concat();
    prk.expand(&labeled, out).map_err(|_| SealError::Length)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::ChaCha20Rng;
    use subtle::ConstantTimeEq;
    use urna_crypto::dkg::{Dealer, DkgParameters};

    use super::*;

    const ELECTION: [u8; 32] = [7; 32];

    fn share(rng: &mut ChaCha20Rng, dealer: u32, recipient: u32) -> SecretShare {
        let params = DkgParameters::new(ELECTION, 2, 3).unwrap();
        Dealer::new(&params, dealer, rng)
            .unwrap()
            .share_for(recipient)
            .unwrap()
    }

    #[test]
    fn a_sealed_share_opens_for_its_recipient_only() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let recipient = EncryptionSecret::generate(&mut rng);
        let other = EncryptionSecret::generate(&mut rng);
        let sent = share(&mut rng, 1, 2);
        let sealed = seal_share(&mut rng, &recipient.public_key(), &ELECTION, &sent).unwrap();
        assert_eq!(sealed.len(), SEALED_SHARE_LEN);
        let opened = open_share(&recipient, &ELECTION, 1, 2, &sealed).unwrap();
        assert!(bool::from(opened.ct_eq(&sent)));
        assert_eq!(
            open_share(&other, &ELECTION, 1, 2, &sealed).unwrap_err(),
            SealError::Open
        );
        let restored = EncryptionSecret::from_bytes(*recipient.to_bytes());
        assert!(open_share(&restored, &ELECTION, 1, 2, &sealed).is_ok());
    }

    #[test]
    fn a_sealed_share_is_bound_to_election_dealer_and_recipient() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let recipient = EncryptionSecret::generate(&mut rng);
        let sent = share(&mut rng, 3, 1);
        let sealed = seal_share(&mut rng, &recipient.public_key(), &ELECTION, &sent).unwrap();
        for (election, dealer, recipient_index) in
            [([8; 32], 3, 1), (ELECTION, 2, 1), (ELECTION, 3, 2)]
        {
            assert_eq!(
                open_share(&recipient, &election, dealer, recipient_index, &sealed).unwrap_err(),
                SealError::Open
            );
        }
    }

    #[test]
    fn every_flipped_bit_and_wrong_length_is_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let recipient = EncryptionSecret::generate(&mut rng);
        let sent = share(&mut rng, 1, 3);
        let sealed = seal_share(&mut rng, &recipient.public_key(), &ELECTION, &sent).unwrap();
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(
                open_share(&recipient, &ELECTION, 1, 3, &bad).is_err(),
                "byte {i}"
            );
        }
        assert_eq!(
            open_share(&recipient, &ELECTION, 1, 3, &sealed[1..]).unwrap_err(),
            SealError::Length
        );
    }

    fn hex32(s: &str) -> [u8; 32] {
        let bytes: Vec<u8> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect();
        bytes.try_into().unwrap()
    }

    /// RFC 9180 A.1.1 shares the KEM, DHKEM(X25519, HKDF-SHA256): its ephemeral and
    /// recipient keys give its `enc` and `shared_secret`.
    #[test]
    fn the_kem_matches_rfc_9180_a_1_1() {
        let ephemeral = EncryptionSecret::from_bytes(hex32(
            "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736",
        ));
        let recipient = EncryptionSecret::from_bytes(hex32(
            "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8",
        ));
        let pk_r = hex32("3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d");
        assert_eq!(recipient.public_key(), pk_r);
        let enc = ephemeral.public_key();
        assert_eq!(
            enc,
            hex32("37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431")
        );
        let dh = diffie_hellman(&ephemeral, &pk_r).unwrap();
        assert_eq!(*diffie_hellman(&recipient, &enc).unwrap(), *dh);
        assert_eq!(
            *kem_shared_secret(&dh, &enc, &pk_r).unwrap(),
            hex32("fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc")
        );
    }

    #[test]
    fn a_low_order_key_is_unusable_and_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        assert!(!usable_public_key(&[0; 32]));
        let mut one = [0u8; 32];
        one[0] = 1;
        assert!(!usable_public_key(&one));
        assert!(usable_public_key(
            &EncryptionSecret::generate(&mut rng).public_key()
        ));
    }

    #[test]
    fn a_low_order_key_is_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let sent = share(&mut rng, 1, 2);
        assert_eq!(
            seal_share(&mut rng, &[0; 32], &ELECTION, &sent).unwrap_err(),
            SealError::PublicKey
        );
    }
}
