//! Package `urna.v1`: every message, enum, client and server generated from
//! `proto/urna/v1/*.proto`.
//!
//! prost copies each proto comment onto the item it generates, so the crate's
//! `missing_docs` lint checks the proto files themselves: a message, field, enum value,
//! service or RPC without a comment fails `clippy -D warnings`. (The client and server
//! modules tonic generates carry their own `allow(missing_docs)` for the constructors
//! and builders no proto comment can describe.)

include!(concat!(env!("OUT_DIR"), "/urna.v1.rs"));
