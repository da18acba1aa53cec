//! Cast-vote-record files of ranked ballots: BLT and PrefLib.

pub mod blt;
pub mod json;
pub mod preflib;
pub mod star_csv;

use crate::error::Result;
use crate::profile::RankedProfile;

/// Reads a ranked ballot file, telling PrefLib (starts with a `#` header) from BLT.
///
/// # Errors
/// The reader's [`crate::Error::Parse`].
pub fn read_ranked(text: &str) -> Result<RankedProfile> {
    let first = text
        .lines()
        .map(|l| l.trim_start_matches('\u{feff}').trim())
        .find(|l| !l.is_empty());
    if first.is_some_and(|l| l.starts_with('#')) {
        preflib::read(text)
    } else {
        blt::read(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_format() {
        let blt = "2 1\n1 1 0\n0\n\"a\"\n\"b\"\n";
        assert_eq!(read_ranked(blt).unwrap().seats(), Some(1));
        let preflib = "# DATA TYPE: soi\n# NUMBER ALTERNATIVES: 1\n# ALTERNATIVE NAME 1: a\n2: 1\n";
        assert_eq!(read_ranked(preflib).unwrap().voters(), 2);
    }
}
