//! Package `urna.v1`: every message, enum, client and server generated from
//! `proto/urna/v1/*.proto`.
//!
//! prost copies each proto comment onto the item it generates, so the crate's
//! `missing_docs` lint checks the proto files themselves: a message, field, enum value,
//! service or RPC without a comment fails `clippy -D warnings`. (The client and server
//! modules tonic generates carry their own `allow(missing_docs)` for the constructors
//! and builders no proto comment can describe.)

include!(concat!(env!("OUT_DIR"), "/urna.v1.rs"));

/// The encoded `google.protobuf.FileDescriptorSet` of every file of the package, with
/// its comments: what gRPC server reflection serves, and what the crate's tests read to
/// check the API's conventions.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/urna_v1_descriptor.bin"));
