//! Where and why a manifest was refused.

use std::fmt;

/// A manifest that failed to parse or validate: the line and column of the offending
/// YAML node, the field's path (`contests[2].options[0].id`) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    line: u64,
    column: u64,
    field: String,
    message: String,
}

impl ManifestError {
    pub(crate) fn new(
        line: u64,
        column: u64,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            line,
            column,
            field: field.into(),
            message: message.into(),
        }
    }

    /// 1-based line of the offending node (0 if the YAML parser did not know it).
    #[must_use]
    pub fn line(&self) -> u64 {
        self.line
    }

    /// 1-based column of the offending node (0 if unknown).
    #[must_use]
    pub fn column(&self) -> u64 {
        self.column
    }

    /// The field's path from the document root, e.g. `contests[1].seats`; empty for
    /// errors of YAML syntax.
    #[must_use]
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, ", field `{}`", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ManifestError {}
