//! The crate's one error type.

/// Everything that can go wrong reading, validating or counting an election.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A cast-vote-record file could not be parsed.
    #[error("{format} line {line}: {message}")]
    Parse {
        /// The file format ("BLT", "PrefLib", ...).
        format: &'static str,
        /// 1-based line number of the offending line.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A ballot profile broke a structural rule (unknown candidate, duplicate ranking).
    #[error("invalid profile: {0}")]
    InvalidProfile(String),
    /// A method name that is not one of [`crate::Method`]'s.
    #[error("unknown counting method {0:?}")]
    UnknownMethod(String),
    /// A tie-break rule that could not be understood.
    #[error("unknown tie-break rule {0:?}")]
    UnknownTieBreak(String),
    /// A method cannot count this contest as configured (e.g. more seats than candidates).
    #[error("cannot count: {0}")]
    Count(String),
    /// A value does not fit in the arithmetic the rule prescribes.
    #[error("arithmetic overflow in {0}")]
    Overflow(&'static str),
    /// An election manifest was refused (line, column, field and reason).
    #[error("manifest: {0}")]
    Manifest(#[from] crate::manifest::ManifestError),
    /// A plaintext ballot broke its contest's rules.
    #[error("invalid ballot: {0}")]
    Ballot(#[from] crate::ballot::BallotError),
    /// A cast-vote-record could not be written.
    #[error("cannot write {format}: {message}")]
    Write {
        /// The file format being written.
        format: &'static str,
        /// What prevented it.
        message: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_format_and_line() {
        let e = Error::Parse {
            format: "BLT",
            line: 7,
            message: "expected 0".into(),
        };
        assert_eq!(e.to_string(), "BLT line 7: expected 0");
    }
}
