//! Helpers shared by the integration tests (each includes this file with
//! `mod support;`): the reference data in `shared/data`, which sits beside the
//! repository.

use std::path::PathBuf;

/// The `shared/data` folder.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// The text of `shared/data/{rel}`; panics, naming the file, if it cannot be read.
pub fn data(rel: &str) -> String {
    let path = data_dir().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "reference data {} missing ({e}); shared/ must sit beside the repository",
            path.display()
        )
    })
}
