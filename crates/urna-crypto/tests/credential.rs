//! Credentials: RFC 9474 and RFC 8032 known answers, the credential message and
//! nullifier encodings, and the blind-signature round trip with tampering.

use std::collections::HashMap;
use std::sync::OnceLock;

use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use sha2::{Digest, Sha256};
use urna_crypto::credential::blind::{
    BlindSignature, BlindSigningKey, BlindVerifyingKey, BlindedMessage, MessageRandomizer,
    RsaSignature,
};
use urna_crypto::credential::{
    CredentialPublicKey, CredentialSecret, CredentialSignature, Nullifier, credential_message,
};
use urna_crypto::{DecodeError, Error, VerifyError};

const RFC9474: &str = include_str!("../testdata/rfc9474_sha384_pss_randomized.txt");

fn rfc9474() -> HashMap<&'static str, Vec<u8>> {
    RFC9474
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (name, value) = line.split_once(" = ").expect("name = hex");
            (name, hex::decode(value).expect("hex value"))
        })
        .collect()
}

/// Replays fixed bytes as the random stream, so `Blind` reproduces the RFC's run.
struct Replay(Vec<u8>);

impl rand_core::TryRng for Replay {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut bytes = [0u8; 4];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut bytes = [0u8; 8];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        assert!(dst.len() <= self.0.len(), "the vector's randomness ran out");
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Replay {}

#[test]
fn rfc9474_vector_through_the_wrapper() {
    let v = rfc9474();
    let key = BlindSigningKey::from_der(&v["pkcs1_der"]).unwrap();
    let public = key.verifying_key().unwrap();
    assert_eq!(public.modulus_len(), v["n"].len());

    // The library draws the message prefix, then the PSS salt, then the blinding
    // factor r (little-endian, modulus length).
    let mut stream = v["msg_prefix"].clone();
    stream.extend_from_slice(&v["salt"]);
    stream.extend(v["r"].iter().rev());
    let mut replay = Replay(stream);
    let (blinded, state) = public.blind(&v["msg"], &mut replay).unwrap();
    assert!(replay.0.is_empty());
    assert_eq!(blinded.as_bytes(), &v["blinded_msg"][..]);
    assert_eq!(
        state.randomizer().unwrap().as_bytes()[..],
        v["msg_prefix"][..]
    );

    let mut rng = ChaCha20Rng::seed_from_u64(9474);
    let blind_signature = key.blind_sign(&blinded, &mut rng).unwrap();
    assert_eq!(blind_signature.as_bytes(), &v["blind_sig"][..]);

    let (signature, randomizer) = public
        .finalize(&blind_signature, &state, &v["msg"])
        .unwrap();
    assert_eq!(signature.as_bytes(), &v["sig"][..]);
    assert_eq!(randomizer.as_bytes()[..], v["msg_prefix"][..]);
    public.verify(&signature, &randomizer, &v["msg"]).unwrap();

    // A verifier with only the published signature, randomizer and message agrees.
    let sig = RsaSignature::from_bytes(v["sig"].clone());
    let prefix = MessageRandomizer::from_bytes(v["msg_prefix"][..].try_into().unwrap());
    public.verify(&sig, &prefix, &v["msg"]).unwrap();
    let mut other_message = v["msg"].clone();
    other_message[0] ^= 1;
    assert_eq!(
        public.verify(&sig, &prefix, &other_message),
        Err(Error::Verify(VerifyError::BlindSignature))
    );
}

fn test_key() -> &'static (BlindSigningKey, BlindVerifyingKey) {
    static KEY: OnceLock<(BlindSigningKey, BlindVerifyingKey)> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(2048);
        let key = BlindSigningKey::generate(2048, &mut rng).unwrap();
        let public = key.verifying_key().unwrap();
        (key, public)
    })
}

fn issue(message: &[u8], seed: u64) -> (RsaSignature, MessageRandomizer) {
    let (key, public) = test_key();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (blinded, state) = public.blind(message, &mut rng).unwrap();
    let answer = key.blind_sign(&blinded, &mut rng).unwrap();
    public.finalize(&answer, &state, message).unwrap()
}

#[test]
fn blind_signatures_verify_and_every_part_is_bound() {
    let (_, public) = test_key();
    let (signature, randomizer) = issue(b"credential", 1);
    public
        .verify(&signature, &randomizer, b"credential")
        .unwrap();

    let refused = Err(Error::Verify(VerifyError::BlindSignature));
    assert_eq!(
        public.verify(&signature, &randomizer, b"credentia1"),
        refused
    );
    let mut bytes = *randomizer.as_bytes();
    bytes[31] ^= 0x80;
    let other_randomizer = MessageRandomizer::from_bytes(bytes);
    assert_eq!(
        public.verify(&signature, &other_randomizer, b"credential"),
        refused
    );
    for position in [0, 100, 255] {
        let mut bytes = signature.as_bytes().to_vec();
        bytes[position] ^= 1;
        let tampered = RsaSignature::from_bytes(bytes);
        assert_eq!(
            public.verify(&tampered, &randomizer, b"credential"),
            refused
        );
    }
    let short = RsaSignature::from_bytes(signature.as_bytes()[1..].to_vec());
    assert_eq!(public.verify(&short, &randomizer, b"credential"), refused);
}

#[test]
fn blinding_hides_the_message_and_two_sessions_differ() {
    let (key, public) = test_key();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let (first, _) = public.blind(b"same", &mut rng).unwrap();
    let (second, _) = public.blind(b"same", &mut rng).unwrap();
    assert_ne!(first, second);
    assert_eq!(first.as_bytes().len(), public.modulus_len());

    // A signer's answer unblinds only with the state of its own session.
    let (blinded, state) = public.blind(b"mine", &mut rng).unwrap();
    let (_, other_state) = public.blind(b"mine", &mut rng).unwrap();
    let answer = key.blind_sign(&blinded, &mut rng).unwrap();
    assert!(public.finalize(&answer, &other_state, b"mine").is_err());
    assert!(public.finalize(&answer, &state, b"not mine").is_err());
    let mut bytes = answer.as_bytes().to_vec();
    bytes[7] ^= 4;
    assert!(
        public
            .finalize(&BlindSignature::from_bytes(bytes), &state, b"mine")
            .is_err()
    );
    // The signer refuses blinded messages of the wrong length.
    let short = BlindedMessage::from_bytes(blinded.as_bytes()[1..].to_vec());
    assert!(key.blind_sign(&short, &mut rng).is_err());
}

#[test]
fn keys_round_trip_through_der_and_pem() {
    let (key, public) = test_key();
    let der = key.to_der().unwrap();
    let pem = key.to_pem().unwrap();
    let from_der = BlindSigningKey::from_der(&der).unwrap();
    let from_pem = BlindSigningKey::from_pem(&pem).unwrap();
    assert_eq!(&from_der.verifying_key().unwrap(), public);
    assert_eq!(&from_pem.verifying_key().unwrap(), public);

    let public_der = public.to_der().unwrap();
    assert_eq!(&BlindVerifyingKey::from_der(&public_der).unwrap(), public);
    assert_eq!(
        &BlindVerifyingKey::from_pem(&public.to_pem().unwrap()).unwrap(),
        public
    );
    assert_eq!(
        BlindVerifyingKey::from_der(&public_der[1..]),
        Err(Error::Decode(DecodeError::Key))
    );
    assert!(format!("{key:?}").starts_with("BlindSigningKey {"));
    assert!(!format!("{key:?}").contains(&format!("{:?}", &der[..8])));
}

#[test]
fn small_rsa_keys_are_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(1024);
    assert!(BlindSigningKey::generate(1024, &mut rng).is_err());
}

/// RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2 (one byte).
#[test]
fn rfc8032_vectors() {
    let cases = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
    ];
    for (secret, public, message, signature) in cases {
        let secret = CredentialSecret::from_bytes(&hex32(secret));
        let public_key = CredentialPublicKey::from_bytes(&hex32(public)).unwrap();
        assert_eq!(secret.public_key(), public_key);
        let message = hex::decode(message).unwrap();
        let signature: [u8; 64] = hex::decode(signature).unwrap().try_into().unwrap();
        assert_eq!(secret.sign(&message).to_bytes(), signature);
        public_key
            .verify(&message, &CredentialSignature::from_bytes(&signature))
            .unwrap();
    }
}

fn hex32(value: &str) -> [u8; 32] {
    hex::decode(value).unwrap().try_into().unwrap()
}

#[test]
fn credential_message_and_nullifier_encodings() {
    let secret = CredentialSecret::from_bytes(&[7u8; 32]);
    let key = secret.public_key();
    let election = [0xe1u8; 32];
    let message = credential_message(&election, "ward-3", &key).unwrap();

    let mut expected = Vec::new();
    expected.extend_from_slice(&18u32.to_be_bytes());
    expected.extend_from_slice(b"urna/v1/credential");
    expected.extend_from_slice(&32u32.to_be_bytes());
    expected.extend_from_slice(&election);
    expected.extend_from_slice(&6u32.to_be_bytes());
    expected.extend_from_slice(b"ward-3");
    expected.extend_from_slice(&32u32.to_be_bytes());
    expected.extend_from_slice(key.as_bytes());
    assert_eq!(message, expected);

    let mut input = Vec::new();
    input.extend_from_slice(&17u32.to_be_bytes());
    input.extend_from_slice(b"urna/v1/nullifier");
    input.extend_from_slice(&32u32.to_be_bytes());
    input.extend_from_slice(&election);
    input.extend_from_slice(&32u32.to_be_bytes());
    input.extend_from_slice(key.as_bytes());
    let digest: [u8; 32] = Sha256::digest(&input).into();
    assert_eq!(Nullifier::new(&election, &key).as_bytes(), &digest);

    // Frozen wire values: a change to either encoding must be deliberate.
    assert_eq!(
        hex::encode(key.as_bytes()),
        "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c"
    );
    assert_eq!(
        hex::encode(Nullifier::new(&election, &key).as_bytes()),
        "ef05b15542aed7c661cd4a4aa0b3fe8ae17494ab5f8e965c350d932300f743e3"
    );

    let long = "x".repeat(65);
    assert_eq!(
        credential_message(&election, &long, &key),
        Err(DecodeError::Length)
    );
}

#[test]
fn credential_keys_decode_strictly() {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let key = CredentialSecret::generate(&mut rng).public_key();
    assert_eq!(
        CredentialPublicKey::from_bytes(key.as_bytes()).unwrap(),
        key
    );
    // Non-canonical encodings: y in [p, 2^255) with either sign bit. Some of them
    // decode laxly to points of large order; all must be refused.
    let mut lax_large_order = 0;
    for offset in 0u8..19 {
        for sign in [0u8, 0x80] {
            let mut bytes = [0xffu8; 32];
            bytes[0] = 0xed + offset;
            bytes[31] = 0x7f | sign;
            if ed25519_dalek::VerifyingKey::from_bytes(&bytes).is_ok_and(|k| !k.is_weak()) {
                lax_large_order += 1;
            }
            assert!(CredentialPublicKey::from_bytes(&bytes).is_err());
        }
    }
    assert!(lax_large_order > 0);
    // The identity (y = 1) and its sign-flipped non-canonical twin.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert_eq!(
        CredentialPublicKey::from_bytes(&identity),
        Err(DecodeError::Identity)
    );
    identity[31] = 0x80;
    assert!(CredentialPublicKey::from_bytes(&identity).is_err());
}

#[test]
fn signatures_with_non_canonical_s_are_refused() {
    let secret = CredentialSecret::from_bytes(&[3u8; 32]);
    let key = secret.public_key();
    let signature = secret.sign(b"m").to_bytes();
    // s + l encodes the same scalar non-canonically; strict verification refuses it.
    let l: [u8; 32] = hex32("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
    let mut s = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(signature[32 + i]) + u16::from(l[i]) + carry;
        s[i] = sum as u8;
        carry = sum >> 8;
    }
    let mut malleated = signature;
    malleated[32..].copy_from_slice(&s);
    assert_eq!(
        key.verify(b"m", &CredentialSignature::from_bytes(&malleated)),
        Err(VerifyError::Signature)
    );
    key.verify(b"m", &CredentialSignature::from_bytes(&signature))
        .unwrap();
}
