//! Every decoder of untrusted input returns an error, never panics, on arbitrary
//! bytes, and what it accepts it re-encodes to the same bytes.

use proptest::prelude::*;
use urna_board::{Checkpoint, Entry, NoteSigner, TileId, open_note};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn entry_decoding_is_total_and_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(e) = Entry::decode(&bytes) {
            prop_assert_eq!(e.encode(), bytes);
        }
    }

    #[test]
    fn entry_decoding_of_near_valid_input(kind in 0u8..12, len in 0u32..80, body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut bytes = vec![1, kind];
        bytes.extend_from_slice(&[3; 32]);
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.extend_from_slice(&body);
        let ok = (1..=9).contains(&kind) && len as usize == body.len();
        prop_assert_eq!(Entry::decode(&bytes).is_ok(), ok);
    }

    #[test]
    fn note_opening_is_total(text in "\\PC{0,120}", tail in proptest::collection::vec(any::<u8>(), 0..40)) {
        let signer = NoteSigner::from_seed("urna.example/fuzz", &[1; 32]).unwrap();
        let mut bytes = text.clone().into_bytes();
        bytes.extend_from_slice(&tail);
        let _ = open_note(&bytes, &[signer.verifier()]);
        // A note built from the text verifies exactly when the text is acceptable.
        let line = format!("{}\n", text.replace('\n', " "));
        if let Ok(note) = urna_board::sign_note(&line, &[&signer]) {
            let opened = open_note(note.as_bytes(), &[signer.verifier()]).unwrap();
            prop_assert_eq!(opened.text(), line.as_str());
        }
    }

    #[test]
    fn checkpoint_and_tile_parsing_are_total(text in "[a-z0-9./+=x\\n-]{0,80}") {
        if let Ok(c) = Checkpoint::parse(&text) {
            prop_assert_eq!(c.to_text(), text.clone());
        }
        if let Ok(t) = TileId::parse(&text) {
            prop_assert_eq!(t.to_string(), text);
        }
    }
}
