//! A server process's telemetry: logs on stderr (`RUST_LOG`, default `info`) and,
//! when a collector is configured (`telemetry.otlp_endpoint`, or the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT`), the same spans exported as OpenTelemetry traces
//! over OTLP/gRPC, with W3C trace context taken from callers (see `server::rpc`).
//! Metrics go the same way (`server::metrics`). The log filter applies to both: a
//! span the filter drops is neither logged nor exported.

use std::time::Duration;

use anyhow::{Context as _, Result};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::server::config::Telemetry;

/// How long one export may take before it is given up.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where to export, if anywhere: the configured endpoint, else the environment's.
#[must_use]
pub fn endpoint(telemetry: Option<&Telemetry>) -> Option<String> {
    telemetry
        .and_then(|t| t.otlp_endpoint.clone())
        .or_else(|| std::env::var(opentelemetry_otlp::OTEL_EXPORTER_OTLP_ENDPOINT).ok())
        .filter(|url| !url.is_empty())
}

/// The resource every export carries: `service.name`.
#[must_use]
pub fn resource(telemetry: Option<&Telemetry>, default_name: &str) -> Resource {
    let name = telemetry
        .and_then(|t| t.service_name.clone())
        .unwrap_or_else(|| default_name.to_owned());
    Resource::builder().with_service_name(name).build()
}

/// The trace export of a process, flushed by [`Traces::shutdown`].
#[derive(Debug)]
pub struct Traces(Option<SdkTracerProvider>);

impl Traces {
    /// Exports what is still buffered (at the end of the process).
    pub fn shutdown(self) {
        if let Some(provider) = self.0
            && let Err(e) = provider.shutdown()
        {
            tracing::warn!(error = %e, "flushing traces failed");
        }
    }
}

/// Installs the process's subscriber: logs, and the trace export when an endpoint
/// is configured (must run inside the tokio runtime: the exporter's connection
/// lives on it). `default_name` is the service name when none is configured.
///
/// # Errors
/// If the exporter cannot be built (a malformed endpoint) or a subscriber is
/// installed already.
pub fn init(telemetry: Option<&Telemetry>, default_name: &str) -> Result<Traces> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let provider = match endpoint(telemetry) {
        Some(url) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(url)
                .with_timeout(EXPORT_TIMEOUT)
                .build()
                .context("telemetry: the OTLP trace exporter")?;
            let ratio = telemetry.map_or(1.0, |t| t.trace_sample_ratio);
            Some(
                SdkTracerProvider::builder()
                    .with_batch_exporter(exporter)
                    .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                        ratio,
                    ))))
                    .with_resource(resource(telemetry, default_name))
                    .build(),
            )
        }
        None => None,
    };
    let traces = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("urna")));
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(traces)
        .try_init()
        .context("installing the log subscriber")?;
    Ok(Traces(provider))
}
