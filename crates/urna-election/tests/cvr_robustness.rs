//! The ballot-file readers take untrusted input: whatever the bytes, they return a
//! profile or an error naming a line inside the file, and never panic.

use proptest::prelude::*;
use urna_election::{Error, cvr};

const BLT: &str =
    "4 2\n-4\n[nick a b c d]\n5 a b=c 0\n(x) 2 3 1 0\n0\n\"A\"\n\"B\"\n\"C\"\n\"D\"\n\"T\"\n";
const TOI: &str = "# TITLE: t\n# DATA TYPE: toi\n# NUMBER ALTERNATIVES: 3\n# NUMBER VOTERS: 5\n# NUMBER UNIQUE ORDERS: 2\n# ALTERNATIVE NAME 1: a\n# ALTERNATIVE NAME 2: b\n# ALTERNATIVE NAME 3: c\n3: 1,{2,3}\n2: 3\n";

fn check(text: &str) {
    let lines = text.lines().count().max(1);
    for result in [
        cvr::blt::read(text),
        cvr::preflib::read(text),
        cvr::read_ranked(text),
    ] {
        if let Err(Error::Parse { line, .. }) = result {
            assert!((1..=lines).contains(&line), "line {line} of {lines}");
        }
    }
}

/// `text` with the byte range `at..at+len` replaced by `with`, kept valid UTF-8.
fn mutate(text: &str, at: usize, len: usize, with: &str) -> String {
    let mut start = at % (text.len() + 1);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + len).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    format!("{}{with}{}", &text[..start], &text[end..])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        check(&text);
    }

    #[test]
    fn mutated_files_never_panic(
        at in any::<usize>(),
        len in 0usize..6,
        with in "[0-9 ={},:#\\-\\[\\]()\"\\n]{0,6}",
    ) {
        check(&mutate(BLT, at, len, &with));
        check(&mutate(TOI, at, len, &with));
    }
}

#[test]
fn the_unmutated_files_parse() {
    assert_eq!(cvr::blt::read(BLT).unwrap().voters(), 7);
    assert_eq!(cvr::preflib::read(TOI).unwrap().voters(), 5);
}
