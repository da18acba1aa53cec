//! The operations listener: plain text (HTTP/1.1 and h2c on one port, never TLS),
//! for the orchestrator and the monitoring system, never the public:
//!
//! - `GET /livez`: 200 while the process serves requests at all;
//! - `GET /readyz`: 200 once every listener is bound and the store answered its last
//!   probe; 503 before, when the store stops answering, and while draining;
//! - `GET /metrics`: the process's metrics in the Prometheus text format;
//! - gRPC `grpc.health.v1.Health` (tonic-health): the process (`""`) and each tier it
//!   runs (`urna.v1.Casting`, …) SERVING or NOT_SERVING by the same readiness, for
//!   Kubernetes' gRPC probes. The same health service is on every tier's own
//!   listener too, for gRPC clients that balance by health.
//!
//! Readiness is one probe task: every [`PROBE_EVERY`] it looks up an election that
//! cannot exist (one indexed read, bounded by [`PROBE_TIMEOUT`]); the answers only
//! change on a transition, which is logged once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::watch;
use tonic::service::Routes;
use tonic_health::ServingStatus;
use tonic_health::pb::health_server::HealthServer;
use tonic_health::server::{HealthReporter, HealthService};
use urna_store::Store;

use super::metrics::Metrics;

/// How often readiness probes the store.
pub const PROBE_EVERY: Duration = Duration::from_secs(2);

/// How long a store probe may take before the process counts as not ready.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// An election id no election can have (ids are non-empty), so the probe reads
/// nothing.
const PROBE_ID: &str = "";

/// The health service every gRPC listener of the process adds to its routes.
pub type Health = HealthServer<HealthService>;

/// The process's readiness and metrics, shared by the ops listener and the probe.
#[derive(Clone)]
pub struct Ops {
    ready: Arc<AtomicBool>,
    reporter: HealthReporter,
    health: Health,
    services: Arc<std::sync::Mutex<Vec<&'static str>>>,
    metrics: Metrics,
}

impl Ops {
    /// Not ready, no tier registered; `metrics` is what `/metrics` renders.
    pub async fn new(metrics: Metrics) -> Self {
        let reporter = HealthReporter::new();
        // The process (`""`) starts SERVING in tonic-health: not before the probe.
        reporter
            .set_service_status("", ServingStatus::NotServing)
            .await;
        let health = HealthServer::new(HealthService::from_health_reporter(reporter.clone()));
        Self {
            ready: Arc::new(AtomicBool::new(false)),
            reporter,
            health,
            services: Arc::default(),
            metrics,
        }
    }

    /// The health service, to serve beside a tier.
    pub fn health(&self) -> Health {
        self.health.clone()
    }

    /// Counts a tier's gRPC service (its full name) among those the health service
    /// reports (NOT_SERVING until the process is ready).
    pub async fn register(&self, service: &'static str) {
        self.services
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(service);
        self.reporter
            .set_service_status(service, ServingStatus::NotServing)
            .await;
    }

    /// Sets readiness (and every registered service's health) when it changes.
    async fn set_ready(&self, ready: bool) {
        if self.ready.swap(ready, Ordering::AcqRel) == ready {
            return;
        }
        let status = if ready {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        let services = self
            .services
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        self.reporter.set_service_status("", status).await;
        for service in services {
            self.reporter.set_service_status(service, status).await;
        }
    }

    /// Whether the process is ready.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Probes `store` every [`PROBE_EVERY`] and keeps readiness up to date until
    /// `stopped` turns true; then (draining) the process is not ready any more.
    pub async fn probe<S: Store>(self, store: S, mut stopped: watch::Receiver<bool>) {
        loop {
            let answered = matches!(
                tokio::time::timeout(PROBE_TIMEOUT, store.election(PROBE_ID)).await,
                Ok(Ok(_))
            );
            if answered != self.is_ready() {
                if answered {
                    tracing::info!("ready: the store answers");
                } else {
                    tracing::warn!("not ready: the store does not answer");
                }
            }
            self.set_ready(answered).await;
            tokio::select! {
                () = tokio::time::sleep(PROBE_EVERY) => {}
                _ = stopped.wait_for(|stop| *stop) => break,
            }
        }
        self.set_ready(false).await;
    }

    /// The ops listener's routes.
    pub fn router(&self) -> axum::Router {
        let ready = self.clone();
        let metrics = self.metrics.clone();
        Routes::new(self.health())
            .into_axum_router()
            // tonic answers every other path as a gRPC UNIMPLEMENTED; here, HTTP's 404.
            .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
            .route("/livez", get(|| async { "live\n" }))
            .route(
                "/readyz",
                get(move || {
                    let ready = ready.is_ready();
                    async move {
                        if ready {
                            (StatusCode::OK, "ready\n")
                        } else {
                            (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
                        }
                    }
                }),
            )
            .route(
                "/metrics",
                get(move || {
                    let rendered = metrics.render();
                    async move { prometheus(rendered) }
                }),
            )
    }
}

fn prometheus(rendered: Result<String, opentelemetry_sdk::error::OTelSdkError>) -> Response {
    match rendered {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "collecting metrics failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "metrics unavailable\n").into_response()
        }
    }
}
