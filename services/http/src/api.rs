//! The API's state and its routes.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::{get, post};
use urna_auth::{Auth, LoginLimiter, MemoryLimiter};
use urna_casting::Casting;
use urna_issuance::Issuance;
use urna_service::{Boards, Clock};
use urna_store::Store;

use crate::{public, voter};

/// The largest request body accepted (a ballot of the largest board entry, in base64,
/// fits).
pub const BODY_LIMIT: usize = 128 * 1024;

/// The domain services the API calls: the same values the gRPC services wrap.
pub struct Api<S, C, L = MemoryLimiter> {
    /// The auth tier.
    pub auth: Auth<S, L>,
    /// The issuance tier.
    pub issuance: Issuance<S>,
    /// The casting tier.
    pub casting: Casting<S, C>,
    /// The process's board registry.
    pub boards: Boards<S>,
    /// The store, for election views and counts.
    pub store: S,
}

impl<S: Clone, C, L> Clone for Api<S, C, L> {
    fn clone(&self) -> Self {
        Self {
            auth: self.auth.clone(),
            issuance: self.issuance.clone(),
            casting: self.casting.clone(),
            boards: self.boards.clone(),
            store: self.store.clone(),
        }
    }
}

/// The API's router, with the body limit applied. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` (or insert
/// `ConnectInfo<SocketAddr>` per connection) so that login rate limits see the
/// client's address; without it every client shares one address budget.
pub fn router<S: Store, C: Clock, L: LoginLimiter>(api: Api<S, C, L>) -> Router {
    Router::new()
        .route("/api/v1/auth/voter-login", post(voter::login::<S, C, L>))
        .route("/api/v1/ballots/token", post(voter::token::<S, C, L>))
        .route("/api/v1/votes/cast", post(voter::cast::<S, C, L>))
        .route("/api/v1/votes/spoil", post(voter::spoil::<S, C, L>))
        .route(
            "/api/v1/bulletin-board/verify",
            get(voter::verify::<S, C, L>),
        )
        .route("/api/v1/elections", get(public::elections::<S, C, L>))
        .route("/api/v1/elections/{id}", get(public::election::<S, C, L>))
        .route(
            "/api/v1/elections/{id}/auth-key",
            get(public::auth_key::<S, C, L>),
        )
        .route(
            "/api/v1/elections/{id}/styles/{style}",
            get(public::style::<S, C, L>),
        )
        .route(
            "/api/v1/elections/{id}/board/checkpoint",
            get(public::checkpoint::<S, C, L>),
        )
        .route(
            "/api/v1/elections/{id}/board/entries",
            get(public::entries::<S, C, L>),
        )
        .route(
            "/api/v1/elections/{id}/board/tile/{*path}",
            get(public::tile::<S, C, L>),
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(api)
}

/// The client's IP address, from the connection (`ConnectInfo`), or `0.0.0.0` when
/// the server was not set up to record it. Forwarding headers are not trusted.
pub(crate) struct ClientAddr(pub(crate) IpAddr);

impl<T: Send + Sync> FromRequestParts<T> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &T) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip()),
        ))
    }
}
