//! Compiles `proto/urna/v1/*.proto` into prost messages and tonic clients and servers,
//! with the protoc binary vendored by `protoc-bin-vendored`: a fresh machine needs no
//! system protoc.

use std::path::PathBuf;

const PROTOS: [&str; 7] = [
    "common", "auth", "issuance", "casting", "board", "tally", "admin",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../proto")
        .canonicalize()?;
    let files: Vec<PathBuf> = PROTOS
        .iter()
        .map(|name| root.join(format!("urna/v1/{name}.proto")))
        .collect();
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    // Canonical encodings travel as `bytes`; `bytes::Bytes` would only save a copy
    // that the domain decoders make anyway, so they stay `Vec<u8>`.
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(true)
        .compile_with_config(config, &files, &[root])?;
    Ok(())
}
