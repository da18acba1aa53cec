//! The admin service over gRPC on a real socket, with a real SQLite store.

mod lifecycle;
mod refusals;
mod support;
