//! Whole ballots: credential, contests and signature, end to end.

use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use urna_crypto::{
    BallotLayout, BatchVerifier, BlindSigningKey, ContestShape, Credential, CredentialSecret,
    EncryptedBallot, EncryptionKey, SecretKey, VerifyError, credential::credential_message,
    short_tracking_code,
};

struct Election {
    fingerprint: [u8; 32],
    key: EncryptionKey,
    auth: BlindSigningKey,
    layout: BallotLayout,
    rng: ChaCha20Rng,
}

fn election() -> Election {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let key = EncryptionKey::new(SecretKey::random(&mut rng).public_key());
    let auth = BlindSigningKey::generate(2048, &mut rng).unwrap();
    let layout = BallotLayout::new(
        "ward-1",
        vec![
            ("mayor".into(), ContestShape::new(5, 1, 1, 1).unwrap()),
            ("budget".into(), ContestShape::new(3, 5, 0, 15).unwrap()),
        ],
    )
    .unwrap();
    Election {
        fingerprint: [0xab; 32],
        key,
        auth,
        layout,
        rng,
    }
}

/// What a voter's SDK does: make a credential, have it blind-signed, then encrypt.
fn cast(e: &mut Election, selections: &[Vec<u64>]) -> EncryptedBallot {
    let secret = CredentialSecret::generate(&mut e.rng);
    let verifying = e.auth.verifying_key().unwrap();
    let message =
        credential_message(&e.fingerprint, e.layout.style(), &secret.public_key()).unwrap();
    let (blinded, state) = verifying.blind(&message, &mut e.rng).unwrap();
    let blind_signature = e.auth.blind_sign(&blinded, &mut e.rng).unwrap();
    let (signature, randomizer) = verifying
        .finalize(&blind_signature, &state, &message)
        .unwrap();
    let credential = Credential {
        key: secret.public_key(),
        signature,
        randomizer,
    };
    let (ballot, _) = EncryptedBallot::encrypt(
        &e.key,
        &e.fingerprint,
        &e.layout,
        credential,
        &secret,
        selections,
        &mut e.rng,
    )
    .unwrap();
    ballot
}

#[test]
fn a_ballot_round_trips_and_verifies_singly_and_in_a_batch() {
    let mut e = election();
    let ballot = cast(&mut e, &[vec![0, 0, 1, 0, 0], vec![5, 0, 3]]);
    let verifying = e.auth.verifying_key().unwrap();
    let bytes = ballot.to_bytes();
    let decoded = EncryptedBallot::from_bytes(&bytes, &e.layout).unwrap();
    assert_eq!(decoded, ballot);
    decoded
        .verify(e.key.public_key(), &verifying, &e.layout)
        .unwrap();
    let mut batch = BatchVerifier::new(*e.key.public_key(), &mut e.rng);
    decoded.add_to_batch(&mut batch, 0, &e.layout);
    assert!(batch.verify().is_ok());
    assert_eq!(ballot.tracking_code(), decoded.tracking_code());
    let short = short_tracking_code(&ballot.tracking_code());
    assert_eq!(short.len(), 19);
    assert_eq!(short.matches('-').count(), 3);
}

#[test]
fn every_mutated_byte_of_a_ballot_is_rejected() {
    let mut e = election();
    let ballot = cast(&mut e, &[vec![1, 0, 0, 0, 0], vec![0, 2, 4]]);
    let verifying = e.auth.verifying_key().unwrap();
    let bytes = ballot.to_bytes();
    let mut verified_mutants = Vec::new();
    for position in 0..bytes.len() {
        let mut mutant = bytes.clone();
        mutant[position] ^= 0x04;
        if let Ok(decoded) = EncryptedBallot::from_bytes(&mutant, &e.layout)
            && decoded
                .verify(e.key.public_key(), &verifying, &e.layout)
                .is_ok()
        {
            verified_mutants.push(position);
        }
    }
    assert_eq!(verified_mutants, Vec::<usize>::new());
}

#[test]
fn signatures_bind_the_auth_key_the_election_and_the_style() {
    let mut e = election();
    let ballot = cast(&mut e, &[vec![0, 1, 0, 0, 0], vec![1, 1, 1]]);
    let other_auth = BlindSigningKey::generate(2048, &mut e.rng)
        .unwrap()
        .verifying_key()
        .unwrap();
    assert_eq!(
        ballot.verify_signatures(&other_auth),
        Err(VerifyError::BlindSignature)
    );
    // The same credential and contests re-labelled for another election: the blind
    // signature no longer covers it.
    let mut bytes = ballot.to_bytes();
    bytes[1] ^= 1;
    let moved = EncryptedBallot::from_bytes(&bytes, &e.layout).unwrap();
    let verifying = e.auth.verifying_key().unwrap();
    assert_eq!(
        moved.verify_signatures(&verifying),
        Err(VerifyError::BlindSignature)
    );
    // A ballot whose style does not match the layout does not even decode.
    let other_layout = BallotLayout::new("ward-2", e.layout.contests().to_vec()).unwrap();
    assert!(EncryptedBallot::from_bytes(&ballot.to_bytes(), &other_layout).is_err());
}

#[test]
fn two_ballots_of_one_credential_share_a_nullifier_and_others_do_not() {
    let mut e = election();
    let a = cast(&mut e, &[vec![0, 0, 0, 1, 0], vec![0, 0, 0]]);
    let b = cast(&mut e, &[vec![0, 0, 0, 1, 0], vec![0, 0, 0]]);
    assert_ne!(a.nullifier(), b.nullifier());
    assert_eq!(
        a.nullifier(),
        EncryptedBallot::from_bytes(&a.to_bytes(), &e.layout)
            .unwrap()
            .nullifier()
    );
    assert_ne!(a.tracking_code(), b.tracking_code());
}
