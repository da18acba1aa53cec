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
    // The protos live outside this package, so cargo must be told to watch them.
    println!("cargo::rerun-if-changed=build.rs");
    for file in &files {
        println!("cargo::rerun-if-changed={}", file.display());
    }
    // The vendored protoc is handed to prost-build directly rather than through the
    // PROTOC environment variable: setting a variable is `unsafe` in edition 2024, and
    // the workspace forbids unsafe code.
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    // Canonical encodings travel as `bytes`; `bytes::Bytes` would only save a copy
    // that the domain decoders make anyway, so they stay `Vec<u8>`.
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(true)
        // Malformed messages are InvalidArgument with a fixed message (src/codec.rs).
        .codec_path("crate::codec::UrnaCodec")
        .file_descriptor_set_path(out_dir.join("urna_v1_descriptor.bin"))
        .compile_with_config(config, &files, &[root])?;
    Ok(())
}
