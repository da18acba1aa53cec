//! The one mapping from errors to HTTP responses. Every domain error is first turned
//! into the `tonic::Status` its crate's gRPC mapping gives (fixed message, exact code,
//! details logged there), so HTTP and gRPC clients learn exactly the same; the status
//! code then becomes an HTTP status here. The body is `{"error": "<message>"}`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tonic::{Code, Status};

/// A refused or failed request.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// A malformed request (400).
    pub(crate) fn bad_request(message: &'static str) -> Self {
        Status::invalid_argument(message).into()
    }

    /// A request body over the limit (413).
    fn too_large() -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: "request too large".to_owned(),
        }
    }

    /// The HTTP status of the error.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The fixed message clients see.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<Status> for ApiError {
    fn from(status: Status) -> Self {
        Self {
            status: http_status(status.code()),
            message: status.message().to_owned(),
        }
    }
}

/// The HTTP status for a gRPC code.
#[must_use]
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument => StatusCode::BAD_REQUEST,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound | Code::OutOfRange => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::FailedPrecondition | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message() });
        (self.status(), Json(body)).into_response()
    }
}

macro_rules! via_status {
    ($($error:ty),* $(,)?) => {$(
        impl From<$error> for ApiError {
            fn from(error: $error) -> Self {
                Status::from(error).into()
            }
        }
    )*};
}

via_status!(
    urna_auth::AuthError,
    urna_issuance::IssuanceError,
    urna_service::Error,
);

impl From<urna_casting::CastingError> for ApiError {
    fn from(error: urna_casting::CastingError) -> Self {
        match error {
            urna_casting::CastingError::TooLarge => Self::too_large(),
            other => Status::from(other).into(),
        }
    }
}

impl From<urna_store::Error> for ApiError {
    fn from(error: urna_store::Error) -> Self {
        urna_service::Error::from(error).into()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        tracing::debug!(%rejection, "http: malformed JSON body");
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::too_large();
        }
        Self::bad_request("malformed request body")
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        tracing::debug!(%rejection, "http: malformed query");
        Self::bad_request("malformed query")
    }
}
