//! Decoder robustness ("fuzzing" that runs in every test run): arbitrary bytes, and
//! valid encodings with random corruption, must give an error or a value, never a panic
//! and never an unbounded allocation. Every decoder of network or board input is here.

use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use urna_crypto::dkg::{
    Complaint, Dealer, Dealing, DkgParameters, RevealedShare, ThresholdPublicKey,
};
use urna_crypto::encoding::Decoder;
use urna_crypto::{
    BallotLayout, Ciphertext, ContestShape, Context, DleqProof, Element, EncryptedBallot,
    EncryptedContest, EncryptionKey, MixBallots, PartialDecryption, PublicKey, RangeProof,
    SchnorrProof, SecretKey, ShuffleProof, shuffle,
};

fn layout() -> BallotLayout {
    BallotLayout::new(
        "s",
        vec![
            ("a".into(), ContestShape::new(3, 1, 1, 1).unwrap()),
            ("b".into(), ContestShape::new(2, 3, 0, 6).unwrap()),
            ("c".into(), ContestShape::ranked(3, 1, 3).unwrap()),
        ],
    )
    .unwrap()
}

/// Feeds `bytes` to every decoder; only the absence of a panic is asserted here, the
/// rejection of specific corruptions is asserted in the per-type tests.
fn decode_everything(bytes: &[u8]) {
    let _ = EncryptedBallot::from_bytes(bytes, &layout());
    let _ = EncryptedContest::decode(
        &mut Decoder::new(bytes),
        &ContestShape::new(5, 1, 1, 1).unwrap(),
    );
    let _ = EncryptedContest::decode(
        &mut Decoder::new(bytes),
        &ContestShape::ranked(4, 0, 4).unwrap(),
    );
    let _ = MixBallots::decode(&mut Decoder::new(bytes));
    let _ = ShuffleProof::decode(&mut Decoder::new(bytes), 3, 2);
    let _ = RangeProof::decode(&mut Decoder::new(bytes), 2);
    let _ = Ciphertext::decode(&mut Decoder::new(bytes));
    let _ = SchnorrProof::decode(&mut Decoder::new(bytes));
    let _ = DleqProof::decode(&mut Decoder::new(bytes));
    let _ = Dealing::from_bytes(bytes);
    let _ = Complaint::from_bytes(bytes);
    let _ = RevealedShare::from_bytes(bytes);
    let _ = ThresholdPublicKey::from_bytes(bytes);
    let _ = PartialDecryption::from_bytes(bytes, 16);
    let _ = DkgParameters::decode(&mut Decoder::new(bytes));
    if let Ok(array) = <[u8; 32]>::try_from(bytes) {
        let _ = Element::from_bytes(&array);
        let _ = PublicKey::from_bytes(&array);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        decode_everything(&bytes);
    }

    #[test]
    fn huge_length_prefixes_are_refused_before_allocating(prefix in any::<u32>(), tail in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut bytes = prefix.to_be_bytes().to_vec();
        bytes.extend(tail);
        decode_everything(&bytes);
        let mut dec = Decoder::new(&bytes);
        if let Ok(b) = dec.bytes(1 << 20) {
            prop_assert!(b.len() <= 64);
        }
    }
}

/// Flips the given bytes of a valid record, then feeds it, and a truncation of it, to
/// every decoder.
fn corrupt_and_decode(
    mut bytes: Vec<u8>,
    flips: &[(prop::sample::Index, u8)],
    cut: prop::sample::Index,
) {
    for (index, value) in flips {
        let i = index.index(bytes.len());
        bytes[i] ^= value;
    }
    decode_everything(&bytes);
    decode_everything(&bytes[..cut.index(bytes.len() + 1)]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn corrupted_valid_records_never_panic(seed in any::<u64>(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let params = DkgParameters::new([3; 32], 2, 3).unwrap();
        let dealer = Dealer::new(&params, 1, &mut rng).unwrap();
        corrupt_and_decode(dealer.dealing().to_bytes(), &flips, cut);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn corrupted_rankings_and_shuffles_never_panic(seed in any::<u64>(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let key = EncryptionKey::new(SecretKey::random(&mut rng).public_key());
        let context = Context::new("fuzz");
        let shape = ContestShape::ranked(4, 0, 4).unwrap();
        let (ranking, _) = EncryptedContest::encrypt(&key, &shape, &[0, 2, 1, 0], &context, &mut rng).unwrap();
        let rows = MixBallots::new(2, (0..6).map(|m| key.encrypt(m, &mut rng).0).collect()).unwrap();
        let (output, witness) = shuffle(&key, &rows, &mut rng);
        let proof = ShuffleProof::prove(&key, &rows, &output, &witness, &context, &mut rng).unwrap();
        let mut enc = urna_crypto::encoding::Encoder::new();
        ranking.encode(&mut enc);
        output.encode(&mut enc);
        proof.encode(&mut enc);
        corrupt_and_decode(enc.finish(), &flips, cut);
    }
}
