//! What a voter's device calls: login, credential issuance, casting, receipt checks.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use urna_auth::{LoginLimiter, SessionToken};
use urna_casting::Opening;
use urna_crypto::short_tracking_code;
use urna_proto::v1;
use urna_service::Clock;
use urna_store::Store;

use crate::api::{Api, ClientAddr};
use crate::error::ApiError;
use crate::json::{
    CastRequest, LoginRequest, LoginResponse, ReceiptJson, SpoilRequest, TokenRequest,
    TokenResponse, VerifyQuery,
};

/// `POST /api/v1/auth/voter-login`.
pub(crate) async fn login<S: Store, C: Clock, L: LoginLimiter>(
    State(api): State<Api<S, C, L>>,
    ClientAddr(client): ClientAddr,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Json<LoginResponse>, ApiError> {
    let Json(r) = body?;
    let session = api
        .auth
        .login(&r.election_id, &r.voter_id, &r.voting_code, client)
        .await?;
    Ok(Json(LoginResponse {
        session_token: session.token.as_str().to_owned(),
        expires_at: session.expires_at,
        ballot_style_id: session.ballot_style,
        election_fingerprint: session.fingerprint.to_vec(),
    }))
}

/// `POST /api/v1/ballots/token`, with `Authorization: Bearer <session token>`.
pub(crate) async fn token<S: Store, C: Clock, L: LoginLimiter>(
    State(api): State<Api<S, C, L>>,
    headers: HeaderMap,
    body: Result<Json<TokenRequest>, JsonRejection>,
) -> Result<Json<TokenResponse>, ApiError> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| SessionToken::new(t.trim().to_owned()))
        .ok_or(urna_auth::AuthError::InvalidSession)?;
    let Json(r) = body?;
    let blind_signature = api.auth.issue(&token, &r.blinded_message).await?;
    Ok(Json(TokenResponse { blind_signature }))
}

/// `POST /api/v1/votes/cast`: the receipt once the ballot is on the board.
pub(crate) async fn cast<S: Store, C: Clock, L: LoginLimiter>(
    State(api): State<Api<S, C, L>>,
    body: Result<Json<CastRequest>, JsonRejection>,
) -> Result<Json<ReceiptJson>, ApiError> {
    let Json(r) = body?;
    let receipt = api.casting.cast(&r.election_id, &r.ballot).await?;
    Ok(Json(receipt.into()))
}

/// `POST /api/v1/votes/spoil`: publishes a challenged (Benaloh) ballot opened; it
/// can then never be cast.
pub(crate) async fn spoil<S: Store, C: Clock, L: LoginLimiter>(
    State(api): State<Api<S, C, L>>,
    body: Result<Json<SpoilRequest>, JsonRejection>,
) -> Result<Json<ReceiptJson>, ApiError> {
    let Json(r) = body?;
    let openings = r
        .openings
        .into_iter()
        .map(|o| Opening::try_from(v1::ContestOpening::from(o)))
        .collect::<Result<Vec<_>, _>>()?;
    let receipt = api
        .casting
        .spoil(&r.election_id, &r.ballot, &openings)
        .await?;
    Ok(Json(receipt.into()))
}

/// `GET /api/v1/bulletin-board/verify?election=<id>&receipt=<code>`: the ballot's
/// entry, leaf index and inclusion proof against the latest checkpoint.
pub(crate) async fn verify<S: Store, C: Clock, L: LoginLimiter>(
    State(api): State<Api<S, C, L>>,
    query: Result<Query<VerifyQuery>, QueryRejection>,
) -> Result<Json<ReceiptJson>, ApiError> {
    let Query(q) = query?;
    let tracking_code = match URL_SAFE_NO_PAD
        .decode(q.receipt.trim_end_matches('='))
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
    {
        Some(code) => code,
        None => resolve_short_code(&api.store, &q.election, &q.receipt).await?,
    };
    let receipt = api.casting.receipt(&q.election, tracking_code).await?;
    Ok(Json(receipt.into()))
}

/// The full tracking code of a cast or spoiled ballot from its short form (as the
/// voter may type it: any case, hyphens optional). This scans the election's ballots:
/// fine for the elections one machine runs, a store index is needed at national
/// scale.
async fn resolve_short_code<S: Store>(
    store: &S,
    election: &str,
    short: &str,
) -> Result<[u8; 32], ApiError> {
    let wanted = normalise(short).ok_or(ApiError::bad_request("malformed receipt"))?;
    let matches = |code: &[u8; 32]| normalise(&short_tracking_code(code)).as_ref() == Some(&wanted);
    let cast = store.ballots(election).await?;
    if let Some(record) = cast.iter().find(|r| matches(&r.tracking_code)) {
        return Ok(record.tracking_code);
    }
    let spoiled = store.spoiled(election).await?;
    spoiled
        .iter()
        .find(|s| matches(&s.tracking_code))
        .map(|s| s.tracking_code)
        .ok_or_else(|| urna_casting::CastingError::UnknownBallot.into())
}

/// A short code in canonical form (16 upper-case Crockford characters, `I`/`L` as
/// `1`, `O` as `0`), or `None` if it is not one.
fn normalise(short: &str) -> Option<String> {
    let code: String = short
        .chars()
        .filter(|c| *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'I' | 'L' => '1',
            'O' => '0',
            c => c,
        })
        .collect();
    let valid = code.len() == 16
        && code
            .bytes()
            .all(|b| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b));
    valid.then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_codes_normalise_as_voters_type_them() {
        let code = short_tracking_code(&[0xa5; 32]);
        let typed = code.to_lowercase().replace('-', "");
        assert_eq!(normalise(&typed), normalise(&code));
        assert_eq!(normalise(&code).unwrap().len(), 16);
        for bad in [
            "",
            "ABCD-EFGH",
            "ABCD-EFGH-JKMN-PQRU",
            "ÄBCD-EFGH-JKMN-PQRS",
        ] {
            assert_eq!(normalise(bad), None, "{bad}");
        }
    }
}
