//! What every gRPC server records of each call: a span (`rpc`, named
//! `service/method`, a child of the caller's W3C trace context when it sent one), and,
//! through a tower layer, how long the call took, by service, method and gRPC status
//! (`urna.rpc.duration`, seconds; its count is the calls).
//!
//! The status is the response's `grpc-status` header: tonic answers every error
//! "trailers-only", with the status in the headers, so a call without one ended OK
//! (urna's RPCs are unary). The method label is the request path's, but only for a
//! call the server implements: anything else (an unknown path is the caller's
//! choice, and would grow the label set without bound) is counted as `other`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use opentelemetry::KeyValue;
use opentelemetry::metrics::Histogram;
use opentelemetry::propagation::Extractor;
use tower::{Layer, Service};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// gRPC's UNIMPLEMENTED: the server has no such method.
const UNIMPLEMENTED: &str = "12";

/// Histogram bounds, in seconds: from a cached read to a receipt under load.
const BOUNDS: [f64; 14] = [
    0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The layer; cheap to clone.
#[derive(Clone, Debug)]
pub struct RpcMetricsLayer {
    duration: Histogram<f64>,
}

impl RpcMetricsLayer {
    /// Records into the global meter provider.
    pub fn new() -> Self {
        let duration = opentelemetry::global::meter("urna")
            .f64_histogram("urna.rpc.duration")
            .with_unit("s")
            .with_description("gRPC calls by service, method and status, and how long each took")
            .with_boundaries(BOUNDS.to_vec())
            .build();
        Self { duration }
    }
}

impl<S> Layer<S> for RpcMetricsLayer {
    type Service = RpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMetrics {
            inner,
            duration: self.duration.clone(),
        }
    }
}

/// The layer's service.
#[derive(Clone, Debug)]
pub struct RpcMetrics<S> {
    inner: S,
    duration: Histogram<f64>,
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for RpcMetrics<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let path = request.uri().path().to_owned();
        let start = Instant::now();
        let call = self.inner.call(request);
        let duration = self.duration.clone();
        Box::pin(async move {
            let result = call.await;
            let status = match &result {
                Ok(response) => response
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("0")
                    .to_owned(),
                // The transport failed: no gRPC status at all.
                Err(_) => "transport".to_owned(),
            };
            let (service, method) = labels(&path, &status);
            duration.record(
                start.elapsed().as_secs_f64(),
                &[
                    KeyValue::new("rpc.service", service),
                    KeyValue::new("rpc.method", method),
                    KeyValue::new("rpc.grpc.status_code", status),
                ],
            );
            result
        })
    }
}

/// The span of one call (tonic's `trace_fn`): no request data beyond the method.
pub fn span(request: &http::Request<()>) -> tracing::Span {
    let (service, method) = labels(request.uri().path(), "0");
    let span = tracing::info_span!(
        "rpc",
        otel.name = %format_args!("{service}/{method}"),
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.service = %service,
        rpc.method = %method,
    );
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&Headers(request.headers()))
    });
    // Without a trace export there is no OpenTelemetry context to join: nothing to do.
    let _ = span.set_parent(parent);
    span
}

/// Request headers as the propagator reads them (`traceparent`, `tracestate`).
struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// The service and method of a path `/package.Service/Method`, or `other` for a path
/// the server does not implement.
fn labels(path: &str, status: &str) -> (String, String) {
    let parsed = path
        .strip_prefix('/')
        .and_then(|p| p.split_once('/'))
        .filter(|(s, m)| !s.is_empty() && !m.is_empty() && !m.contains('/'));
    match parsed {
        Some((service, method)) if status != UNIMPLEMENTED => {
            (service.to_owned(), method.to_owned())
        }
        _ => ("other".to_owned(), "other".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_implemented_methods_get_their_own_labels() {
        assert_eq!(
            labels("/urna.v1.Casting/Cast", "0"),
            ("urna.v1.Casting".to_owned(), "Cast".to_owned())
        );
        assert_eq!(
            labels("/urna.v1.Casting/Cast", "3"),
            ("urna.v1.Casting".to_owned(), "Cast".to_owned())
        );
        let other = ("other".to_owned(), "other".to_owned());
        assert_eq!(
            labels("/urna.v1.Casting/NoSuchMethod", UNIMPLEMENTED),
            other
        );
        for path in ["/", "//", "/x", "/a/b/c", "no-slash", "/a/"] {
            assert_eq!(labels(path, "0"), other, "{path}");
        }
    }
}
