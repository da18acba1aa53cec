//! The JSON bodies of the API. Binary fields are base64 (standard alphabet, padded);
//! docs/api.md shows each with an example.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use urna_board::SignedCheckpoint;
use urna_casting::Receipt;
use urna_election::{StyleContest, StyleDocument, TallyKind};
use urna_issuance::SignedStyle;
use urna_proto::v1;

/// Serde helpers for base64 fields.
pub(crate) mod b64 {
    use super::*;

    /// Writes bytes as base64.
    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    /// Reads base64 into bytes.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <&str>::deserialize(d)?;
        STANDARD
            .decode(text)
            .map_err(|_| serde::de::Error::custom("invalid base64"))
    }
}

/// Reads a list of base64 strings.
fn b64_list_de<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|text| STANDARD.decode(text))
        .collect::<Result<_, _>>()
        .map_err(|_| serde::de::Error::custom("invalid base64"))
}

/// Serializes a list of byte strings as base64 strings.
fn b64_list<S: Serializer>(items: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(items.iter().map(|i| STANDARD.encode(i)))
}

/// `POST /api/v1/auth/voter-login` request.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    pub(crate) election_id: String,
    pub(crate) voter_id: String,
    pub(crate) voting_code: String,
}

/// `POST /api/v1/auth/voter-login` response.
#[derive(Serialize)]
pub(crate) struct LoginResponse {
    pub(crate) session_token: String,
    pub(crate) expires_at: u64,
    pub(crate) ballot_style_id: String,
    #[serde(with = "b64")]
    pub(crate) election_fingerprint: Vec<u8>,
}

/// `POST /api/v1/ballots/token` request.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenRequest {
    #[serde(with = "b64")]
    pub(crate) blinded_message: Vec<u8>,
}

/// `POST /api/v1/ballots/token` response.
#[derive(Serialize)]
pub(crate) struct TokenResponse {
    #[serde(with = "b64")]
    pub(crate) blind_signature: Vec<u8>,
}

/// `GET /api/v1/elections/{id}/auth-key` response.
#[derive(Serialize)]
pub(crate) struct AuthKeyJson {
    #[serde(with = "b64")]
    pub(crate) public_key_spki: Vec<u8>,
    pub(crate) modulus_bits: u32,
}

/// `POST /api/v1/votes/cast` request.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CastRequest {
    pub(crate) election_id: String,
    #[serde(with = "b64")]
    pub(crate) ballot: Vec<u8>,
}

/// `POST /api/v1/votes/spoil` request: a challenged ballot and its openings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpoilRequest {
    pub(crate) election_id: String,
    #[serde(with = "b64")]
    pub(crate) ballot: Vec<u8>,
    pub(crate) openings: Vec<OpeningJson>,
}

/// One contest's revealed values and nonces.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpeningJson {
    contest_id: String,
    values: Vec<u64>,
    #[serde(deserialize_with = "b64_list_de")]
    nonces: Vec<Vec<u8>>,
}

/// Read as the gRPC message, so that one conversion (casting's) checks openings.
impl From<OpeningJson> for v1::ContestOpening {
    fn from(o: OpeningJson) -> Self {
        Self {
            contest_id: o.contest_id,
            values: o.values,
            nonces: o.nonces,
        }
    }
}

/// A signed checkpoint: the note and its parsed fields.
#[derive(Serialize)]
pub(crate) struct CheckpointJson {
    note: String,
    origin: String,
    tree_size: u64,
    #[serde(with = "b64")]
    root_hash: Vec<u8>,
}

impl From<&SignedCheckpoint> for CheckpointJson {
    fn from(signed: &SignedCheckpoint) -> Self {
        let checkpoint = signed.checkpoint();
        Self {
            note: signed.note().to_owned(),
            origin: checkpoint.origin().to_owned(),
            tree_size: checkpoint.size(),
            root_hash: checkpoint.root().as_bytes().to_vec(),
        }
    }
}

/// A receipt: the answer to a cast and to a verify query.
#[derive(Serialize)]
pub(crate) struct ReceiptJson {
    election_id: String,
    #[serde(with = "b64")]
    tracking_code: Vec<u8>,
    short_code: String,
    leaf_index: u64,
    #[serde(with = "b64")]
    entry: Vec<u8>,
    #[serde(serialize_with = "b64_list")]
    inclusion_proof: Vec<Vec<u8>>,
    checkpoint: CheckpointJson,
    supersedes_previous: bool,
    spoiled: bool,
}

impl From<Receipt> for ReceiptJson {
    fn from(r: Receipt) -> Self {
        Self {
            checkpoint: CheckpointJson::from(&r.checkpoint),
            election_id: r.election_id,
            tracking_code: r.tracking_code.to_vec(),
            short_code: r.short_code,
            leaf_index: r.index,
            entry: r.entry,
            inclusion_proof: r
                .inclusion_proof
                .iter()
                .map(|h| h.as_bytes().to_vec())
                .collect(),
            supersedes_previous: r.supersedes_previous,
            spoiled: r.spoiled,
        }
    }
}

/// `GET /api/v1/bulletin-board/verify` query.
#[derive(Deserialize)]
pub(crate) struct VerifyQuery {
    pub(crate) election: String,
    pub(crate) receipt: String,
}

/// One election in the list.
#[derive(Serialize)]
pub(crate) struct ElectionSummary {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) state: &'static str,
    #[serde(with = "b64")]
    pub(crate) fingerprint: Vec<u8>,
}

/// `GET /api/v1/elections/{id}`.
#[derive(Serialize)]
pub(crate) struct ElectionDetail {
    #[serde(flatten)]
    pub(crate) summary: ElectionSummary,
    pub(crate) description: String,
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) revoting: &'static str,
    pub(crate) ballot_styles: Vec<String>,
    pub(crate) voters: u64,
    pub(crate) credentials_issued: u64,
    /// The latest checkpoint of the board served now (absent in Draft).
    pub(crate) board: Option<CheckpointJson>,
}

/// `GET /api/v1/elections/{id}/board/entries` query.
#[derive(Deserialize)]
pub(crate) struct EntriesQuery {
    pub(crate) start: u64,
    pub(crate) end: u64,
}

/// One board entry.
#[derive(Serialize)]
pub(crate) struct EntryJson {
    pub(crate) index: u64,
    /// The entry kind byte (docs/protocol.md §2.1), 0 if the entry does not decode.
    pub(crate) kind: u8,
    #[serde(with = "b64")]
    pub(crate) entry: Vec<u8>,
}

/// A signed ballot style: the structured view, the canonical bytes, key and signature.
#[derive(Serialize)]
pub(crate) struct StyleJson {
    election_id: String,
    #[serde(with = "b64")]
    election_fingerprint: Vec<u8>,
    style_id: String,
    title: String,
    #[serde(with = "b64")]
    election_public_key: Vec<u8>,
    contests: Vec<ContestJson>,
    #[serde(with = "b64")]
    canonical_style: Vec<u8>,
    #[serde(with = "b64")]
    signing_key: Vec<u8>,
    #[serde(with = "b64")]
    signature: Vec<u8>,
}

#[derive(Serialize)]
struct ContestJson {
    id: String,
    title: String,
    description: String,
    method: &'static str,
    tally: &'static str,
    seats: u32,
    score_min: u32,
    options: Vec<OptionJson>,
    shape: ShapeJson,
}

#[derive(Serialize)]
struct OptionJson {
    id: String,
    name: String,
    party: String,
    description: String,
}

#[derive(Serialize)]
struct ShapeJson {
    options: usize,
    max_value: u64,
    min_total: u64,
    max_total: u64,
}

impl From<&SignedStyle> for StyleJson {
    fn from(signed: &SignedStyle) -> Self {
        let d: &StyleDocument = &signed.document;
        Self {
            election_id: d.election_id.clone(),
            election_fingerprint: d.fingerprint.to_vec(),
            style_id: d.style_id.clone(),
            title: d.title.clone(),
            election_public_key: d.election_key.to_vec(),
            contests: d.contests.iter().map(ContestJson::from).collect(),
            canonical_style: signed.canonical.clone(),
            signing_key: signed.signing_key.to_vec(),
            signature: signed.signature.to_vec(),
        }
    }
}

impl From<&StyleContest> for ContestJson {
    fn from(c: &StyleContest) -> Self {
        Self {
            id: c.id.clone(),
            title: c.title.clone(),
            description: c.description.clone(),
            method: c.method.name(),
            tally: match c.tally {
                TallyKind::Homomorphic => "homomorphic",
                TallyKind::Mixnet => "mixnet",
            },
            seats: c.seats,
            score_min: c.score_min,
            options: c
                .options
                .iter()
                .map(|o| OptionJson {
                    id: o.id.clone(),
                    name: o.name.clone(),
                    party: o.party.clone(),
                    description: o.description.clone(),
                })
                .collect(),
            shape: ShapeJson {
                options: c.shape.options,
                max_value: c.shape.max_value,
                min_total: c.shape.min_sum,
                max_total: c.shape.max_sum,
            },
        }
    }
}
