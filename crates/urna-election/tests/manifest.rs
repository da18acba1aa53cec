//! Manifests from untrusted hands: no input makes validation panic, and every refusal
//! says where.

use proptest::prelude::*;
use urna_election::Manifest;

const CLUB: &str = include_str!("../../../examples/club-election.yaml");

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = Manifest::from_yaml(&text);
    }

    #[test]
    fn dropping_or_duplicating_a_line_is_located(line in 0usize..61, duplicate: bool) {
        let lines: Vec<&str> = CLUB.lines().collect();
        let line = line % lines.len();
        let mut edited: Vec<&str> = lines.clone();
        if duplicate {
            edited.insert(line, lines[line]);
        } else {
            edited.remove(line);
        }
        let text = edited.join("\n");
        match Manifest::from_yaml(&text) {
            // Dropping a comment, a blank line or an optional field may leave a valid
            // manifest; it must then differ or be the same election.
            Ok(m) => {
                let original = Manifest::from_yaml(CLUB).unwrap();
                prop_assert_eq!(m == original, m.fingerprint() == original.fingerprint());
            }
            Err(e) => {
                prop_assert!(e.line() >= 1 || e.message().contains("missing"), "{}", e);
                prop_assert!(!e.message().is_empty());
            }
        }
    }
}
