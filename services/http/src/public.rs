//! What observers read: elections, ballot styles and the bulletin board.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use urna_auth::LoginLimiter;
use urna_board::Entry;
use urna_election::Manifest;
use urna_service::Clock;
use urna_store::{ElectionRecord, ElectionState, Store};

use crate::api::Api;
use crate::error::ApiError;
use crate::json::{
    AuthKeyJson, CheckpointJson, ElectionDetail, ElectionSummary, EntriesQuery, EntryJson,
    StyleJson,
};

/// The most entries one `entries` request returns (one tlog-tiles entry bundle).
pub const MAX_ENTRIES: u64 = 256;

/// `GET /api/v1/elections`.
pub(crate) async fn elections<S: Store, C: Clock, L: LoginLimiter>(
    State(api): State<Api<S, C, L>>,
) -> Result<Json<Vec<ElectionSummary>>, ApiError> {
    let records = api.store.elections().await?;
    Ok(Json(
        records
            .iter()
            .map(|r| summary(r, manifest(r).as_ref()))
            .collect(),
    ))
}

/// `GET /api/v1/elections/{id}`: the election, its counts and its board's head.
pub(crate) async fn election<S: Store, C: Clock, L: LoginLimiter>(
    State(api): State<Api<S, C, L>>,
    Path(id): Path<String>,
) -> Result<Json<ElectionDetail>, ApiError> {
    let record = api
        .store
        .election(&id)
        .await?
        .ok_or(urna_service::Error::UnknownElection)?;
    let manifest = manifest(&record);
    let board = match record.state {
        ElectionState::Draft => None,
        _ => Some(CheckpointJson::from(&api.boards.get(&id).await?.latest())),
    };
    Ok(Json(ElectionDetail {
        summary: summary(&record, manifest.as_ref()),
        description: manifest
            .as_ref()
            .map(|m| m.description().to_owned())
            .unwrap_or_default(),
        start: manifest.as_ref().map_or(0, Manifest::start),
        end: manifest.as_ref().map_or(0, Manifest::end),
        revoting: record.revoting.name(),
        ballot_styles: manifest
            .as_ref()
            .map(|m| {
                m.ballot_styles()
                    .iter()
                    .map(|s| s.id().to_owned())
                    .collect()
            })
            .unwrap_or_default(),
        voters: api.store.roll_size(&id).await?,
        credentials_issued: api.store.credentials_issued(&id).await?,
        board,
    }))
}

/// The manifest of a stored election (it parsed when it was applied).
fn manifest(record: &ElectionRecord) -> Option<Manifest> {
    Manifest::from_yaml(&record.source)
        .inspect_err(
            |e| tracing::error!(election = record.id, error = %e, "stored manifest does not parse"),
        )
        .ok()
}

fn summary(record: &ElectionRecord, manifest: Option<&Manifest>) -> ElectionSummary {
    ElectionSummary {
        id: record.id.clone(),
        title: manifest.map(|m| m.title().to_owned()).unwrap_or_default(),
        state: record.state.name(),
        fingerprint: record.fingerprint.to_vec(),
    }
}

/// `GET /api/v1/elections/{id}/auth-key`: the key credentials are checked against.
pub(crate) async fn auth_key<S: Store, C: Clock, L: LoginLimiter>(
    State(api): State<Api<S, C, L>>,
    Path(id): Path<String>,
) -> Result<Json<AuthKeyJson>, ApiError> {
    let key = api.auth.auth_key(&id).await?;
    Ok(Json(AuthKeyJson {
        public_key_spki: key.spki,
        modulus_bits: key.modulus_bits,
    }))
}

/// `GET /api/v1/elections/{id}/styles/{style}`: the signed ballot style.
pub(crate) async fn style<S: Store, C: Clock, L: LoginLimiter>(
    State(api): State<Api<S, C, L>>,
    Path((id, style)): Path<(String, String)>,
) -> Result<Json<StyleJson>, ApiError> {
    let signed = api.issuance.style(&id, &style).await?;
    Ok(Json(StyleJson::from(signed.as_ref())))
}

/// `GET /api/v1/elections/{id}/board/checkpoint`: the signed note, as text.
pub(crate) async fn checkpoint<S: Store, C: Clock, L: LoginLimiter>(
    State(api): State<Api<S, C, L>>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let board = api.boards.get(&id).await?;
    Ok((
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        board.current().await.note().to_owned(),
    ))
}

/// `GET /api/v1/elections/{id}/board/tile/{path}`: a C2SP tlog-tiles tile or entry
/// bundle.
pub(crate) async fn tile<S: Store, C: Clock, L: LoginLimiter>(
    State(api): State<Api<S, C, L>>,
    Path((id, path)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    let board = api.boards.get(&id).await?;
    let bytes = board.tile(&format!("tile/{path}")).await?;
    Ok(([(CONTENT_TYPE, "application/octet-stream")], bytes))
}

/// `GET /api/v1/elections/{id}/board/entries?start=&end=`: entries `start..end`
/// (at most 256, cut at the latest checkpoint).
pub(crate) async fn entries<S: Store, C: Clock, L: LoginLimiter>(
    State(api): State<Api<S, C, L>>,
    Path(id): Path<String>,
    query: Result<Query<EntriesQuery>, QueryRejection>,
) -> Result<Json<Vec<EntryJson>>, ApiError> {
    let Query(q) = query?;
    if q.end <= q.start || q.end - q.start > MAX_ENTRIES {
        return Err(ApiError::bad_request("end must be 1 to 256 past start"));
    }
    let board = api.boards.get(&id).await?;
    let entries = board.entries(q.start, q.end).await?;
    Ok(Json(
        (q.start..)
            .zip(entries)
            .map(|(index, entry)| EntryJson {
                index,
                kind: Entry::decode(&entry).map_or(0, |e| e.kind().to_byte()),
                entry,
            })
            .collect(),
    ))
}
