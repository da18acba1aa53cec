//! Encode/decode round trips of representative messages, and the wire format pinned
//! byte for byte: field numbers and enum values are forever, so a renumbering must
//! fail here before it breaks a deployed client.

use prost::Message;
use urna_proto::v1;

fn round_trip<M: Message + Default + PartialEq + std::fmt::Debug>(message: &M) -> M {
    let decoded = M::decode(message.encode_to_vec().as_slice()).unwrap();
    assert_eq!(&decoded, message);
    decoded
}

fn receipt() -> v1::Receipt {
    v1::Receipt {
        election_id: "e".to_owned(),
        tracking_code: vec![0xab],
        short_code: "S".to_owned(),
        entry: Some(v1::BoardEntry {
            index: 3,
            kind: v1::EntryKind::Ballot.into(),
            entry: vec![0xcc],
        }),
        inclusion_proof: Some(v1::InclusionProof {
            leaf_index: 3,
            tree_size: 4,
            hashes: vec![vec![0xdd]],
        }),
        checkpoint: Some(v1::SignedCheckpoint {
            note: "n".to_owned(),
            origin: "o".to_owned(),
            tree_size: 4,
            root_hash: vec![0xee],
        }),
        supersedes_previous: true,
        spoiled: true,
    }
}

#[test]
fn cast_ballot_request_wire_format_is_pinned() {
    let request = v1::CastBallotRequest {
        election_id: "e".to_owned(),
        ballot: vec![1, 2],
    };
    // field 1 (string), field 2 (bytes): the ballot's bytes travel untouched.
    let wire = [0x0a, 0x01, b'e', 0x12, 0x02, 0x01, 0x02];
    assert_eq!(request.encode_to_vec(), wire);
    assert_eq!(v1::CastBallotRequest::decode(&wire[..]).unwrap(), request);
}

#[test]
fn receipt_wire_format_is_pinned() {
    #[rustfmt::skip]
    let wire: &[u8] = &[
        0x0a, 0x01, b'e',                             // 1 election_id
        0x12, 0x01, 0xab,                             // 2 tracking_code
        0x1a, 0x01, b'S',                             // 3 short_code
        0x22, 0x07, 0x08, 0x03, 0x10, 0x03, 0x1a, 0x01, 0xcc, // 4 entry {1, 2, 3}
        0x2a, 0x07, 0x08, 0x03, 0x10, 0x04, 0x1a, 0x01, 0xdd, // 5 inclusion_proof {1, 2, 3}
        0x32, 0x0b, 0x0a, 0x01, b'n', 0x12, 0x01, b'o', 0x18, 0x04, 0x22, 0x01, 0xee, // 6 checkpoint
        0x38, 0x01,                                   // 7 supersedes_previous
        0x40, 0x01,                                   // 8 spoiled
    ];
    assert_eq!(receipt().encode_to_vec(), wire);
    let decoded = round_trip(&receipt());
    assert_eq!(decoded.entry.unwrap().kind(), v1::EntryKind::Ballot);
    assert_eq!(decoded.checkpoint.unwrap().tree_size, 4);
}

#[test]
fn entry_kinds_are_the_board_envelope_bytes() {
    let names = [
        "ELECTION_MANIFEST",
        "KEY_CEREMONY",
        "BALLOT",
        "SPOILED_BALLOT",
        "POLLS_CLOSED",
        "TALLY_RECORD",
        "DECRYPTION_SHARE",
        "SHUFFLE_RECORD",
        "RESULT",
    ];
    assert_eq!(urna_board::EntryKind::ALL.len(), names.len());
    for (kind, name) in urna_board::EntryKind::ALL.iter().zip(names) {
        let proto = v1::EntryKind::try_from(i32::from(kind.to_byte())).unwrap();
        assert_eq!(proto.as_str_name(), format!("ENTRY_KIND_{name}"));
    }
    assert!(v1::EntryKind::try_from(10).is_err());
    assert_eq!(v1::EntryKind::default(), v1::EntryKind::Unspecified);
}

#[test]
fn ballot_style_round_trips_with_its_contests_in_order() {
    let contest =
        |id: &str, method: v1::CountingMethod, options: u32, max_value: u64| v1::Contest {
            id: id.to_owned(),
            title: format!("{id} title"),
            description: String::new(),
            method: method.into(),
            tally: v1::TallyKind::Homomorphic.into(),
            seats: 1,
            options: (0..options)
                .map(|i| v1::ContestOption {
                    id: format!("o{i}"),
                    name: format!("Option {i}"),
                    party: String::new(),
                    description: String::new(),
                })
                .collect(),
            shape: Some(v1::ContestShape {
                options,
                max_value,
                min_total: 0,
                max_total: u64::from(options) * max_value,
            }),
            score_min: 0,
        };
    let style = v1::GetBallotStyleResponse {
        election_id: "club-agm-2026".to_owned(),
        election_fingerprint: vec![9; 32],
        style_id: "members".to_owned(),
        title: "Full members".to_owned(),
        contests: vec![
            contest("chair", v1::CountingMethod::Plurality, 4, 1),
            contest("regatta-venue", v1::CountingMethod::Score, 3, 5),
        ],
        election_public_key: vec![1; 32],
        canonical_style: vec![2; 100],
        signing_key: vec![3; 32],
        signature: vec![4; 64],
    };
    let decoded = round_trip(&style);
    let ids: Vec<&str> = decoded.contests.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["chair", "regatta-venue"]);
    let score = &decoded.contests[1];
    assert_eq!(score.method(), v1::CountingMethod::Score);
    assert_eq!(score.shape.unwrap().max_total, 15);
    assert_eq!(score.options[2].id, "o2");
    assert_eq!(decoded.signature.len(), 64);
}

#[test]
fn spoil_request_keeps_openings_per_contest() {
    let request = v1::SpoilBallotRequest {
        election_id: "e".to_owned(),
        ballot: vec![7; 1800],
        openings: vec![
            v1::ContestOpening {
                contest_id: "chair".to_owned(),
                values: vec![0, 1, 0, 0],
                nonces: vec![vec![5; 32]; 4],
            },
            v1::ContestOpening {
                contest_id: "regatta-venue".to_owned(),
                values: vec![5, 0, 3],
                nonces: vec![vec![6; 32]; 3],
            },
        ],
    };
    let decoded = round_trip(&request);
    assert_eq!(decoded.openings[1].values, [5, 0, 3]);
    assert_eq!(decoded.openings[0].nonces[3], [5; 32]);
    assert_eq!(decoded.ballot.len(), 1800);
}

#[test]
fn ceremony_messages_round_trip() {
    let dealing = v1::SubmitDealingRequest {
        election_id: "e".to_owned(),
        trustee_index: 2,
        dealing: vec![8; 8 + 32 * 2 + 64],
        shares: (1..=3)
            .map(|recipient| v1::SealedShare {
                recipient,
                ciphertext: vec![recipient as u8; 32 + 40 + 16],
            })
            .collect(),
        signature: vec![1; 64],
    };
    let decoded = round_trip(&dealing);
    let recipients: Vec<u32> = decoded.shares.iter().map(|s| s.recipient).collect();
    assert_eq!(recipients, [1, 2, 3]);

    let state = v1::GetCeremonyStateResponse {
        phase: v1::CeremonyPhase::Done.into(),
        threshold: 2,
        trustee_count: 3,
        trustees: vec![v1::TrusteeStatus {
            index: 3,
            name: "Carol".to_owned(),
            registered: true,
            dealt: true,
            disqualification: v1::DisqualificationReason::BadReveal.into(),
            accuser: 1,
            signing_key: vec![3; 32],
            encryption_key: vec![4; 32],
        }],
        complaints: vec![vec![0, 0, 0, 1, 0, 0, 0, 3]],
        reveals: vec![vec![0; 40]],
        threshold_public_key: vec![0; 72 + 32 * 3],
        election_fingerprint: vec![9; 32],
        confirmed: vec![1, 3],
    };
    let decoded = round_trip(&state);
    assert_eq!(decoded.phase(), v1::CeremonyPhase::Done);
    let trustee = &decoded.trustees[0];
    assert_eq!(
        trustee.disqualification(),
        v1::DisqualificationReason::BadReveal
    );
    assert_eq!(decoded.threshold_public_key.len(), 168);
    assert_eq!(decoded.confirmed, [1, 3]);
}

#[test]
fn election_status_round_trips() {
    let status = v1::GetElectionStatusResponse {
        election_id: "club-agm-2026".to_owned(),
        election_fingerprint: vec![9; 32],
        title: "AGM".to_owned(),
        state: v1::ElectionState::Open.into(),
        revoting: v1::RevotingPolicy::LastCounts.into(),
        start: 1_772_355_600,
        end: 1_772_992_800,
        voters: 120,
        credentials_issued: 80,
        ballots_cast: 83,
        ballots_spoiled: 2,
        board_size: 90,
    };
    let decoded = round_trip(&status);
    assert_eq!(decoded.state(), v1::ElectionState::Open);
    assert_eq!(decoded.revoting(), v1::RevotingPolicy::LastCounts);
    assert_eq!((decoded.voters, decoded.ballots_cast), (120, 83));
}

#[test]
fn unknown_fields_are_skipped_and_absent_ones_default() {
    // A newer peer's field 15 (varint 1) is skipped by this version.
    let mut wire = v1::GetReceiptRequest {
        election_id: "e".to_owned(),
        tracking_code: vec![1; 32],
    }
    .encode_to_vec();
    wire.extend_from_slice(&[0x78, 0x01]);
    let decoded = v1::GetReceiptRequest::decode(wire.as_slice()).unwrap();
    assert_eq!(decoded.election_id, "e");
    assert_eq!(decoded.tracking_code, [1; 32]);

    let empty = v1::CastBallotResponse::decode(&[][..]).unwrap();
    assert_eq!(empty.receipt, None);
    let empty = v1::GetElectionStatusResponse::decode(&[][..]).unwrap();
    assert_eq!(empty.state(), v1::ElectionState::Unspecified);
    // An enum value this version does not know reads as UNSPECIFIED.
    let unknown = v1::GetElectionStatusResponse {
        state: 99,
        ..Default::default()
    };
    assert_eq!(round_trip(&unknown).state(), v1::ElectionState::Unspecified);
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let wire = receipt().encode_to_vec();
    // A prefix decodes only if it ends between two fields (and then lacks the rest).
    let boundaries = [3, 6, 9, 18, 27, 40, 42];
    for cut in 1..wire.len() {
        let result = v1::Receipt::decode(&wire[..cut]);
        assert_eq!(
            result.is_ok(),
            boundaries.contains(&cut),
            "prefix of {cut} bytes"
        );
        if let Ok(partial) = result {
            assert_ne!(partial, receipt());
        }
    }
    // A length prefix past the end, and a wire type 7 (invalid).
    assert!(v1::CastBallotRequest::decode(&[0x12, 0x05, 0x01][..]).is_err());
    assert!(v1::CastBallotRequest::decode(&[0x0f][..]).is_err());
}
