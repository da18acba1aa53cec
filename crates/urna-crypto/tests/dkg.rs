//! The key ceremony: honest runs, the complaint path, disqualification, tampering with
//! every record, contexts, and known-answer vectors of the wire format.
//!
//! To regenerate the vectors after an intended format change, run with
//! `URNA_WRITE_VECTORS=1` and review the diff of testdata/dkg-v1.txt.

#[path = "support/vectors.rs"]
mod support;

use support::check_vectors;

use curve25519_dalek::ristretto::RistrettoPoint;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use urna_crypto::dkg::{Disqualification, Phase};
use urna_crypto::encoding::Decoder;
use urna_crypto::{
    Ceremony, Complaint, Dealer, Dealing, DecodeError, DkgParameters, Element, Error,
    RevealedShare, SecretShare, ThresholdPublicKey, VerifyError,
};

const ELECTION: [u8; 32] = [0x11; 32];

/// Every dealer, and the private shares each trustee received (`inbox[j - 1]`).
struct Run {
    params: DkgParameters,
    dealers: Vec<Dealer>,
    inbox: Vec<Vec<SecretShare>>,
}

fn deal(k: u32, n: u32, seed: u64) -> Run {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let params = DkgParameters::new(ELECTION, k, n).unwrap();
    let dealers: Vec<Dealer> = (1..=n)
        .map(|i| Dealer::new(&params, i, &mut rng).unwrap())
        .collect();
    let inbox = (1..=n)
        .map(|j| dealers.iter().map(|d| d.share_for(j).unwrap()).collect())
        .collect();
    Run {
        params,
        dealers,
        inbox,
    }
}

fn ceremony_with_dealings(run: &Run) -> Ceremony {
    let mut ceremony = Ceremony::new(run.params);
    for dealer in &run.dealers {
        ceremony.add_dealing(dealer.dealing().clone()).unwrap();
    }
    ceremony.close_dealings().unwrap();
    ceremony
}

/// A share with the same indices and a different value (still canonical).
fn corrupt(share: &SecretShare) -> SecretShare {
    let mut bytes = *share.to_bytes();
    bytes[8] ^= 1;
    SecretShare::from_bytes(&bytes).unwrap()
}

fn sum_of_c0(run: &Run, dealers: &[u32]) -> Element {
    let sum: RistrettoPoint = dealers
        .iter()
        .map(|&i| *run.dealers[i as usize - 1].dealing().commitments()[0].point())
        .sum();
    Element::from_point(sum)
}

#[test]
fn honest_ceremonies_give_consistent_keys() {
    for (k, n) in [(1, 1), (2, 3), (3, 5)] {
        let run = deal(k, n, u64::from(10 * k + n));
        let mut ceremony = ceremony_with_dealings(&run);
        for j in 1..=n {
            assert!(
                ceremony
                    .complaints_for(j, &run.inbox[j as usize - 1])
                    .is_empty()
            );
        }
        ceremony.close_complaints().unwrap();
        let key = ceremony.finish().unwrap().clone();
        assert_eq!(ceremony.phase(), Phase::Done);
        let all: Vec<u32> = (1..=n).collect();
        assert_eq!(ceremony.qualified(), all);
        assert_eq!(*key.public_key().element(), sum_of_c0(&run, &all));
        for j in 1..=n {
            let share = ceremony.key_share(j, &run.inbox[j as usize - 1]).unwrap();
            assert_eq!(share.index(), j);
            key.check_share(&share).unwrap();
        }
        // A share assembled for one trustee does not pass as another's.
        if n > 1 {
            let share = ceremony.key_share(1, &run.inbox[0]).unwrap();
            let mut bytes = *share.to_bytes();
            bytes[3] = 2;
            let relabelled = urna_crypto::KeyShare::from_bytes(&bytes).unwrap();
            assert_eq!(key.check_share(&relabelled), Err(VerifyError::Share));
        }
        assert_eq!(ThresholdPublicKey::from_bytes(&key.to_bytes()), Ok(key));
    }
}

#[test]
fn rounds_are_enforced() {
    let run = deal(2, 3, 1);
    let mut ceremony = Ceremony::new(run.params);
    assert!(ceremony.add_complaint(Complaint::new(1, 2)).is_err());
    assert!(ceremony.close_complaints().is_err());
    assert!(ceremony.finish().is_err());
    ceremony
        .add_dealing(run.dealers[0].dealing().clone())
        .unwrap();
    assert_eq!(
        ceremony.add_dealing(run.dealers[0].dealing().clone()),
        Err(Error::Parameters("duplicate dealing"))
    );
    assert!(ceremony.key_share(1, &run.inbox[0]).is_err());
    ceremony.close_dealings().unwrap();
    assert!(
        ceremony
            .add_dealing(run.dealers[1].dealing().clone())
            .is_err()
    );
    // Dealers 2 and 3 never dealt: only one qualified dealer for k = 2.
    assert_eq!(
        ceremony.disqualified().get(&2),
        Some(&Disqualification::NoDealing)
    );
    ceremony.close_complaints().unwrap();
    assert_eq!(
        ceremony.finish().map(|_| ()),
        Err(Error::Parameters(
            "fewer qualified dealers than the threshold"
        ))
    );
}

/// The outcome of a ceremony where `dealer` sent a bad share to `victim` and then
/// answered the complaint with `answer`.
enum Answer {
    Honest,
    Wrong,
    Silent,
}

fn disputed_ceremony(k: u32, n: u32, dealer: u32, victim: u32, answer: Answer) -> (Run, Ceremony) {
    let mut run = deal(k, n, u64::from(dealer * 100 + victim));
    let slot = &mut run.inbox[victim as usize - 1][dealer as usize - 1];
    *slot = corrupt(slot);
    let mut ceremony = ceremony_with_dealings(&run);
    for j in 1..=n {
        for complaint in ceremony.complaints_for(j, &run.inbox[j as usize - 1]) {
            ceremony.add_complaint(complaint).unwrap();
        }
    }
    let complaints: Vec<Complaint> = ceremony.complaints().copied().collect();
    assert_eq!(complaints, vec![Complaint::new(victim, dealer)]);
    ceremony.close_complaints().unwrap();
    let revealed = run.dealers[dealer as usize - 1]
        .reveal(&complaints[0])
        .unwrap();
    match answer {
        Answer::Honest => ceremony.add_reveal(revealed).unwrap(),
        Answer::Wrong => {
            let mut bytes = revealed.to_bytes();
            bytes[8] ^= 1;
            let wrong = RevealedShare::from_bytes(&bytes).unwrap();
            assert_eq!(
                ceremony.add_reveal(wrong),
                Err(Error::Verify(VerifyError::Share))
            );
        }
        Answer::Silent => {}
    }
    ceremony.finish().unwrap();
    (run, ceremony)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn complaint_path_disqualifies_exactly_the_cheating_dealer(
        dealer in 1u32..=4,
        victim_offset in 1u32..4,
        answer in 0u8..3,
    ) {
        let (k, n) = (3, 4);
        let victim = (dealer - 1 + victim_offset) % n + 1;
        let answer = match answer {
            0 => Answer::Honest,
            1 => Answer::Wrong,
            _ => Answer::Silent,
        };
        let honest = matches!(answer, Answer::Honest);
        let expected_reason = match answer {
            Answer::Honest => None,
            Answer::Wrong => Some(Disqualification::BadRevealedShare { accuser: victim }),
            Answer::Silent => Some(Disqualification::UnansweredComplaint { accuser: victim }),
        };
        let (run, ceremony) = disputed_ceremony(k, n, dealer, victim, answer);
        prop_assert_eq!(ceremony.disqualified().get(&dealer).copied(), expected_reason);
        let qualified: Vec<u32> = (1..=n).filter(|&i| honest || i != dealer).collect();
        prop_assert_eq!(ceremony.qualified(), qualified.clone());
        let key = ceremony.key().unwrap();
        prop_assert_eq!(*key.public_key().element(), sum_of_c0(&run, &qualified));
        // Every trustee, the victim included, still gets a share that matches Xⱼ: the
        // victim uses the revealed share, or the cheating dealer is left out.
        for j in 1..=n {
            let share = ceremony.key_share(j, &run.inbox[j as usize - 1]).unwrap();
            prop_assert!(key.check_share(&share).is_ok());
        }
    }
}

#[test]
fn a_verifier_replaying_the_public_records_gets_the_same_key() {
    let (run, live) = disputed_ceremony(3, 4, 2, 4, Answer::Wrong);
    // The board also holds a late second dealing in dealer 1's name (dealer 4's,
    // relabelled) and a wrong revealed share; replay judges them as the live run did.
    let mut dealings: Vec<Dealing> = run.dealers.iter().map(|d| d.dealing().clone()).collect();
    let mut relabelled = dealings[3].to_bytes();
    relabelled[3] = 1;
    dealings.push(Dealing::from_bytes(&relabelled).unwrap());
    let complaints: Vec<Complaint> = live.complaints().copied().collect();
    let revealed = run.dealers[1].reveal(&complaints[0]).unwrap();
    let mut bytes = revealed.to_bytes();
    bytes[8] ^= 1;
    let reveals = [RevealedShare::from_bytes(&bytes).unwrap()];
    let replayed = Ceremony::replay(run.params, &dealings, &complaints, &reveals).unwrap();
    assert_eq!(replayed.key(), live.key());
    assert_eq!(replayed.disqualified(), live.disqualified());

    // Leaving out the complaint keeps the cheating dealer in: a different key.
    let without = Ceremony::replay(run.params, &dealings, &[], &[]).unwrap();
    assert_ne!(without.key(), live.key());
    assert!(without.disqualified().is_empty());
}

#[test]
fn a_missing_share_is_a_complaint_too() {
    let mut run = deal(2, 3, 5);
    run.inbox[0].retain(|share| share.dealer() != 3);
    let ceremony = ceremony_with_dealings(&run);
    assert_eq!(
        ceremony.complaints_for(1, &run.inbox[0]),
        vec![Complaint::new(1, 3)]
    );
}

#[test]
fn complaints_and_reveals_are_checked() {
    let run = deal(2, 3, 6);
    let mut ceremony = ceremony_with_dealings(&run);
    assert!(ceremony.add_complaint(Complaint::new(2, 2)).is_err());
    assert!(ceremony.add_complaint(Complaint::new(4, 1)).is_err());
    assert!(ceremony.add_complaint(Complaint::new(1, 4)).is_err());
    ceremony.add_complaint(Complaint::new(1, 2)).unwrap();
    assert!(ceremony.add_complaint(Complaint::new(1, 2)).is_err());
    ceremony.close_complaints().unwrap();
    // A reveal nobody asked for, and a dealer answering another dealer's complaint.
    let unasked = run.dealers[2].reveal(&Complaint::new(1, 3)).unwrap();
    assert!(ceremony.add_reveal(unasked).is_err());
    assert!(run.dealers[2].reveal(&Complaint::new(1, 2)).is_err());
    let answer = run.dealers[1].reveal(&Complaint::new(1, 2)).unwrap();
    ceremony.add_reveal(answer).unwrap();
    assert!(ceremony.add_reveal(answer).is_err());
    ceremony.finish().unwrap();
    assert!(ceremony.disqualified().is_empty());
}

#[test]
fn invalid_proof_of_knowledge_disqualifies() {
    let run = deal(2, 3, 7);
    let mut ceremony = Ceremony::new(run.params);
    let mut bytes = run.dealers[1].dealing().to_bytes();
    let last = bytes.len() - 1;
    bytes[last - 40] ^= 1;
    let forged = Dealing::from_bytes(&bytes).unwrap();
    assert_eq!(
        ceremony.add_dealing(forged),
        Err(Error::Verify(VerifyError::Schnorr))
    );
    assert_eq!(
        ceremony.disqualified().get(&2),
        Some(&Disqualification::InvalidDealing(VerifyError::Schnorr))
    );
    // The genuine dealing cannot replace it afterwards.
    assert!(
        ceremony
            .add_dealing(run.dealers[1].dealing().clone())
            .is_err()
    );
}

#[test]
fn a_dealing_verifies_only_under_its_own_context() {
    let run = deal(2, 3, 8);
    let dealing = run.dealers[0].dealing();
    dealing.verify(&run.params).unwrap();
    for other in [
        DkgParameters::new([0x22; 32], 2, 3).unwrap(),
        DkgParameters::new(ELECTION, 2, 4).unwrap(),
    ] {
        assert_eq!(dealing.verify(&other), Err(VerifyError::Schnorr));
    }
    assert_eq!(
        dealing.verify(&DkgParameters::new(ELECTION, 3, 3).unwrap()),
        Err(VerifyError::Shape)
    );
    // Claiming to be another dealer changes the context.
    let mut bytes = dealing.to_bytes();
    bytes[3] = 2;
    assert_eq!(
        Dealing::from_bytes(&bytes).unwrap().verify(&run.params),
        Err(VerifyError::Schnorr)
    );
}

/// Flips each bit of `bytes` in turn and asserts that `accepts` refuses every result.
fn every_bit_flip_is_refused(bytes: &[u8], accepts: impl Fn(&[u8]) -> bool) {
    assert!(accepts(bytes), "the unmodified record must be accepted");
    for position in 0..bytes.len() {
        for bit in 0..8 {
            let mut mutated = bytes.to_vec();
            mutated[position] ^= 1 << bit;
            assert!(!accepts(&mutated), "byte {position} bit {bit} accepted");
        }
    }
}

#[test]
fn every_mutation_of_a_dealing_is_refused() {
    let run = deal(3, 4, 9);
    let bytes = run.dealers[2].dealing().to_bytes();
    every_bit_flip_is_refused(&bytes, |candidate| {
        Dealing::from_bytes(candidate).is_ok_and(|d| d.verify(&run.params).is_ok())
    });
}

#[test]
fn every_mutation_of_a_revealed_share_is_refused() {
    let run = deal(2, 3, 10);
    let mut ceremony = ceremony_with_dealings(&run);
    ceremony.add_complaint(Complaint::new(3, 1)).unwrap();
    ceremony.close_complaints().unwrap();
    let bytes = run.dealers[0]
        .reveal(&Complaint::new(3, 1))
        .unwrap()
        .to_bytes();
    every_bit_flip_is_refused(&bytes, |candidate| {
        RevealedShare::from_bytes(candidate)
            .is_ok_and(|revealed| ceremony.clone().add_reveal(revealed).is_ok())
    });
}

#[test]
fn every_mutation_of_a_private_share_is_detected() {
    let run = deal(2, 3, 11);
    let dealing = run.dealers[1].dealing();
    let share = run.dealers[1].share_for(3).unwrap();
    let bytes = *share.to_bytes();
    every_bit_flip_is_refused(&bytes, |candidate| {
        let candidate: [u8; SecretShare::LEN] = candidate.try_into().unwrap();
        SecretShare::from_bytes(&candidate)
            .is_ok_and(|s| s.recipient() == 3 && s.verify(dealing).is_ok())
    });
}

#[test]
fn decoders_refuse_identity_non_canonical_and_malformed_records() {
    let run = deal(2, 3, 12);
    let bytes = run.dealers[0].dealing().to_bytes();
    // Commitment C₁ sits after dealer, count and C₀.
    let mut identity = bytes.clone();
    identity[40..72].fill(0);
    assert_eq!(Dealing::from_bytes(&identity), Err(DecodeError::Identity));
    let mut non_canonical = bytes.clone();
    non_canonical[8..40].fill(0xff);
    assert_eq!(Dealing::from_bytes(&non_canonical), Err(DecodeError::Point));
    let mut zero_count = bytes.clone();
    zero_count[4..8].fill(0);
    assert!(Dealing::from_bytes(&zero_count).is_err());
    let mut huge_count = bytes.clone();
    huge_count[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(Dealing::from_bytes(&huge_count), Err(DecodeError::Length));
    assert_eq!(
        Dealing::from_bytes(&bytes[..bytes.len() - 1]),
        Err(DecodeError::Truncated)
    );
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert_eq!(Dealing::from_bytes(&trailing), Err(DecodeError::Trailing));

    let mut ceremony = ceremony_with_dealings(&run);
    ceremony.close_complaints().unwrap();
    let key = ceremony.finish().unwrap().to_bytes();
    let mut identity_key = key.clone();
    identity_key[40..72].fill(0);
    assert_eq!(
        ThresholdPublicKey::from_bytes(&identity_key),
        Err(DecodeError::Identity)
    );
    let mut bad_params = key.clone();
    bad_params[32..36].copy_from_slice(&7u32.to_be_bytes());
    assert_eq!(
        ThresholdPublicKey::from_bytes(&bad_params),
        Err(DecodeError::Length)
    );
    let mut dec = Decoder::new(&key);
    ThresholdPublicKey::decode(&mut dec).unwrap();
    dec.finish().unwrap();
}

/// The ceremony's records from a seeded generator: 2 of 3, dealer 2 accused by 3.
fn wire_values() -> Vec<(String, String)> {
    let run = deal(2, 3, 2026);
    let mut out = Vec::new();
    let mut params = urna_crypto::encoding::Encoder::new();
    run.params.encode(&mut params);
    out.push(("parameters".into(), hex::encode(params.finish())));
    for dealer in &run.dealers {
        out.push((
            format!("dealing-{}", dealer.index()),
            hex::encode(dealer.dealing().to_bytes()),
        ));
    }
    out.push((
        "secret-share-2-3".into(),
        hex::encode(*run.inbox[2][1].to_bytes()),
    ));
    let complaint = Complaint::new(3, 2);
    out.push(("complaint-3-2".into(), hex::encode(complaint.to_bytes())));
    let revealed = run.dealers[1].reveal(&complaint).unwrap();
    out.push((
        "revealed-share-2-3".into(),
        hex::encode(revealed.to_bytes()),
    ));

    let mut ceremony = ceremony_with_dealings(&run);
    ceremony.add_complaint(complaint).unwrap();
    ceremony.close_complaints().unwrap();
    ceremony.add_reveal(revealed).unwrap();
    let key = ceremony.finish().unwrap().clone();
    out.push(("threshold-public-key".into(), hex::encode(key.to_bytes())));
    for j in 1..=3 {
        let share = ceremony.key_share(j, &run.inbox[j as usize - 1]).unwrap();
        out.push((format!("key-share-{j}"), hex::encode(*share.to_bytes())));
    }
    out
}

#[test]
fn wire_format_known_answers() {
    let header = "# urna key ceremony records, wire format v1 (tests/dkg.rs, wire_values):\n\
                      # ChaCha20Rng seed 2026, election 11…11, k = 2, n = 3; trustee 3\n\
                      # complains about dealer 2, which reveals the share.\n";
    let expected = check_vectors("dkg-v1.txt", header, &wire_values());
    // The stored records decode and verify on their own.
    let params = DkgParameters::new(ELECTION, 2, 3).unwrap();
    for line in &expected {
        let (name, value) = line.split_once(' ').unwrap();
        let bytes = hex::decode(value).unwrap();
        if name.starts_with("dealing-") {
            Dealing::from_bytes(&bytes)
                .unwrap()
                .verify(&params)
                .unwrap();
        } else if name == "threshold-public-key" {
            ThresholdPublicKey::from_bytes(&bytes).unwrap();
        }
    }
}
