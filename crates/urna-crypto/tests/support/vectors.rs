//! Known-answer vector files shared by the integration tests: `testdata/<name>`, one
//! `name hex` line per value, `#` lines are comments. Run the tests with
//! `URNA_WRITE_VECTORS=1` to rewrite the files after an intended format change, then
//! review the diff.

use std::path::PathBuf;

/// The path of a file in the crate's testdata directory.
pub fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

/// Asserts that `values` equal the file's value lines, in order (rewriting the file
/// first, under `header`, when `URNA_WRITE_VECTORS` is set). Returns the file's lines.
pub fn check_vectors(name: &str, header: &str, values: &[(String, String)]) -> Vec<String> {
    let path = testdata(name);
    let rendered: String = values.iter().map(|(k, v)| format!("{k} {v}\n")).collect();
    if std::env::var_os("URNA_WRITE_VECTORS").is_some() {
        std::fs::write(&path, format!("{header}{rendered}")).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap();
    let expected: Vec<String> = stored
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let actual: Vec<&str> = rendered.lines().collect();
    assert_eq!(expected.len(), actual.len(), "{name}: number of values");
    for (want, got) in expected.iter().zip(&actual) {
        assert_eq!(want, got, "{name}");
    }
    expected
}
