//! The API's conventions, checked on the compiled descriptors rather than by review:
//! one package, `<Rpc>Request`/`<Rpc>Response` pairs used once, enums that start at
//! `<ENUM>_UNSPECIFIED = 0` with prefixed values, field numbers 1..n without gaps, and
//! a comment on every service, RPC, message, field, enum and enum value.

use prost::Message;
use prost_types::{DescriptorProto, FileDescriptorProto, FileDescriptorSet};
use std::collections::HashSet;
use urna_proto::v1::FILE_DESCRIPTOR_SET;

fn files() -> Vec<FileDescriptorProto> {
    FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).unwrap().file
}

/// `ElectionState` → `ELECTION_STATE`.
fn screaming(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Whether the element at `path` (descriptor field numbers and indices, see
/// descriptor.proto's `SourceCodeInfo.Location.path`) has a non-empty leading comment.
fn commented(file: &FileDescriptorProto, path: &[i32]) -> bool {
    let info = file.source_code_info.as_ref().unwrap();
    info.location.iter().any(|location| {
        location.path == path
            && location
                .leading_comments
                .as_deref()
                .is_some_and(|c| !c.trim().is_empty())
    })
}

// Field numbers of descriptor.proto used in source paths.
const FILE_MESSAGE: i32 = 4;
const FILE_ENUM: i32 = 5;
const FILE_SERVICE: i32 = 6;
const MESSAGE_FIELD: i32 = 2;
const ENUM_VALUE: i32 = 2;
const SERVICE_METHOD: i32 = 2;

#[test]
fn every_file_is_package_urna_v1() {
    let files = files();
    let mut names: Vec<&str> = files.iter().map(|f| f.name()).collect();
    names.sort_unstable();
    let expected = [
        "admin", "auth", "board", "casting", "common", "issuance", "tally",
    ]
    .map(|n| format!("urna/v1/{n}.proto"));
    assert_eq!(names, expected);
    for file in &files {
        assert_eq!(file.package(), "urna.v1", "{}", file.name());
        assert_eq!(file.syntax(), "proto3", "{}", file.name());
    }
}

#[test]
fn every_rpc_has_its_own_request_and_response() {
    let mut used = HashSet::new();
    let mut rpcs = 0;
    for file in files() {
        for service in &file.service {
            for method in &service.method {
                let name = method.name();
                assert_eq!(method.input_type(), format!(".urna.v1.{name}Request"));
                assert_eq!(method.output_type(), format!(".urna.v1.{name}Response"));
                assert!(used.insert(name.to_owned()), "{name} defined twice");
                assert!(!method.client_streaming() && !method.server_streaming());
                rpcs += 1;
            }
        }
    }
    // Auth 4, Issuance 1, Casting 3, Board 5, Tally 13, Admin 5.
    assert_eq!(rpcs, 31);
}

#[test]
fn enums_start_unspecified_and_prefix_their_values() {
    for file in files() {
        for e in &file.enum_type {
            let prefix = screaming(e.name());
            let first = &e.value[0];
            assert_eq!(first.name(), format!("{prefix}_UNSPECIFIED"));
            assert_eq!(first.number(), 0);
            for (i, value) in e.value.iter().enumerate() {
                assert!(value.name().starts_with(&format!("{prefix}_")));
                assert_eq!(value.number(), i as i32, "{} has a gap", value.name());
            }
        }
    }
}

fn check_fields(message: &DescriptorProto) {
    assert!(message.nested_type.is_empty() && message.enum_type.is_empty());
    assert!(
        message.reserved_range.is_empty(),
        "explain reserved numbers"
    );
    for (i, field) in message.field.iter().enumerate() {
        assert_eq!(
            field.number(),
            i as i32 + 1,
            "{}.{} breaks 1..n numbering",
            message.name(),
            field.name()
        );
        let name = field.name();
        let snake = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        assert!(snake && !name.starts_with('_') && !name.ends_with('_') && !name.contains("__"));
    }
}

#[test]
fn fields_are_numbered_without_gaps() {
    let mut messages = 0;
    for file in files() {
        for message in &file.message_type {
            check_fields(message);
            messages += 1;
        }
    }
    assert!(messages > 60, "only {messages} messages");
}

#[test]
fn everything_is_documented() {
    for file in files() {
        for (s, service) in file.service.iter().enumerate() {
            let path = [FILE_SERVICE, s as i32];
            assert!(commented(&file, &path), "service {}", service.name());
            for (m, method) in service.method.iter().enumerate() {
                let path = [FILE_SERVICE, s as i32, SERVICE_METHOD, m as i32];
                assert!(commented(&file, &path), "rpc {}", method.name());
            }
        }
        for (i, message) in file.message_type.iter().enumerate() {
            let path = [FILE_MESSAGE, i as i32];
            assert!(commented(&file, &path), "message {}", message.name());
            for (f, field) in message.field.iter().enumerate() {
                let path = [FILE_MESSAGE, i as i32, MESSAGE_FIELD, f as i32];
                let name = format!("{}.{}", message.name(), field.name());
                assert!(commented(&file, &path), "field {name}");
            }
        }
        for (i, e) in file.enum_type.iter().enumerate() {
            assert!(
                commented(&file, &[FILE_ENUM, i as i32]),
                "enum {}",
                e.name()
            );
            for (v, value) in e.value.iter().enumerate() {
                let path = [FILE_ENUM, i as i32, ENUM_VALUE, v as i32];
                assert!(commented(&file, &path), "value {}", value.name());
            }
        }
    }
}

#[test]
fn no_voter_identity_reaches_casting_board_or_tally() {
    let identity = ["voter_id", "voting_code", "session_token"];
    let mut checked = 0;
    for file in files() {
        if !["casting", "board", "tally"]
            .iter()
            .any(|n| file.name() == format!("urna/v1/{n}.proto"))
        {
            continue;
        }
        for message in &file.message_type {
            for field in &message.field {
                assert!(
                    !identity.contains(&field.name()),
                    "{}.{} carries voter identity",
                    message.name(),
                    field.name()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 50);
    // The check is not vacuous: auth's login does carry the voter id.
    let auth = files()
        .into_iter()
        .find(|f| f.name() == "urna/v1/auth.proto")
        .unwrap();
    let login = auth
        .message_type
        .iter()
        .find(|m| m.name() == "VoterLoginRequest")
        .unwrap();
    assert!(login.field.iter().any(|f| f.name() == "voter_id"));
}
