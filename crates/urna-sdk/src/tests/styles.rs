//! Style verification: a tampered byte, key or signature, or a view that differs from
//! the signed bytes, is refused.

use ed25519_dalek::SigningKey;

use super::fixture::{Fixture, STYLE};
use crate::{Style, VerifyFailure};

#[test]
fn the_signed_style_verifies() {
    let mut f = Fixture::new();
    let election = f.election();
    let document = f.document();
    let response = f.style_response(&document, &f.style_key);
    let style = Style::verify(&response, &election, STYLE).unwrap();
    assert_eq!(style.document(), &document);
    assert_eq!(style.contests().len(), 4);
    assert_eq!(style.layout().unwrap().contests().len(), 4);
}

fn refused(f: &mut Fixture, response: &urna_proto::v1::GetBallotStyleResponse) -> VerifyFailure {
    let election = f.election();
    match Style::verify(response, &election, STYLE) {
        Err(failure) => failure,
        Ok(_) => panic!("a bad style was accepted"),
    }
}

#[test]
fn a_tampered_byte_or_signature_is_refused() {
    let mut f = Fixture::new();
    let good = f.style_response(&f.document(), &f.style_key);
    for index in [
        0,
        good.canonical_style.len() / 2,
        good.canonical_style.len() - 1,
    ] {
        let mut bad = good.clone();
        bad.canonical_style[index] ^= 0x20;
        assert_eq!(refused(&mut f, &bad), VerifyFailure::Style("bad signature"));
    }
    let mut bad = good.clone();
    bad.signature[5] ^= 1;
    assert_eq!(refused(&mut f, &bad), VerifyFailure::Style("bad signature"));
    let mut bad = good;
    bad.signature.pop();
    assert_eq!(
        refused(&mut f, &bad),
        VerifyFailure::Style("malformed signature")
    );
}

#[test]
fn a_style_signed_by_another_key_is_refused() {
    let mut f = Fixture::new();
    let other = SigningKey::from_bytes(&[8; 32]);
    let bad = f.style_response(&f.document(), &other);
    assert_eq!(
        refused(&mut f, &bad),
        VerifyFailure::Style("not signed by the election's style key")
    );
    // Claiming the right key does not help a signature by another one.
    let mut bad = bad;
    bad.signing_key = f.keys.style_key.to_vec();
    assert_eq!(refused(&mut f, &bad), VerifyFailure::Style("bad signature"));
}

#[test]
fn a_view_that_differs_from_the_signed_bytes_is_refused() {
    let mut f = Fixture::new();
    let good = f.style_response(&f.document(), &f.style_key);
    let mut swapped = good.clone();
    swapped.contests[1].options.swap(0, 1);
    let mut renamed = good.clone();
    renamed.contests[1].options[0].name = "Someone Else".into();
    let mut retitled = good;
    retitled.title.push('!');
    for bad in [swapped, renamed, retitled] {
        assert_eq!(
            refused(&mut f, &bad),
            VerifyFailure::Style("view differs from the signed style")
        );
    }
}

#[test]
fn a_signed_style_for_another_key_or_election_is_refused() {
    let mut f = Fixture::new();
    let mut document = f.document();
    document.election_key = urna_crypto::SecretKey::random(&mut f.rng)
        .public_key()
        .element()
        .to_bytes();
    let bad = f.style_response(&document, &f.style_key);
    assert_eq!(
        refused(&mut f, &bad),
        VerifyFailure::Style("not the election's joint key")
    );
    let mut document = f.document();
    document.fingerprint[0] ^= 1;
    let bad = f.style_response(&document, &f.style_key);
    assert_eq!(
        refused(&mut f, &bad),
        VerifyFailure::Style("another election fingerprint")
    );
    let election = f.election();
    let good = f.style_response(&f.document(), &f.style_key);
    assert_eq!(
        Style::verify(&good, &election, "juniors").unwrap_err(),
        VerifyFailure::Style("another election or style")
    );
}
