//! The process's metrics: the services record through the OpenTelemetry metrics API
//! (`opentelemetry::global::meter`), and this module installs the SDK behind it with
//! a pull reader that the ops listener renders in the Prometheus text format
//! (version 0.0.4) on every scrape of `/metrics`.
//!
//! Names follow OpenTelemetry (`urna.casting.ballots`); rendered for Prometheus, dots
//! become underscores, a unit of seconds adds `_seconds`, and counters end in
//! `_total`. Nothing recorded identifies a voter: outcomes, sizes and durations only.

use std::fmt::Write as _;
use std::sync::{Arc, Weak};
use std::time::Duration;

use anyhow::{Context as _, Result};
use opentelemetry::KeyValue;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::{
    AggregatedMetrics, Histogram, Metric, MetricData, ResourceMetrics, Sum,
};
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{
    InstrumentKind, ManualReader, PeriodicReader, Pipeline, SdkMeterProvider, Temporality,
};

use super::config::Telemetry;
use crate::telemetry;

/// Collects on demand; a handle the ops listener keeps while the provider owns a
/// clone (the SDK takes its readers by value).
#[derive(Clone, Debug)]
pub struct PullReader(Arc<ManualReader>);

impl MetricReader for PullReader {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.0.register_pipeline(pipeline);
    }

    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

/// The installed meter provider and the reader `/metrics` collects from.
#[derive(Clone, Debug)]
pub struct Metrics {
    provider: SdkMeterProvider,
    reader: PullReader,
}

impl Metrics {
    /// Builds the SDK (cumulative temporality, as Prometheus expects), exporting
    /// over OTLP too when `telemetry` (or the environment) names a collector, and
    /// makes it the global meter provider, so every instrument created afterwards
    /// records into it. Call before building the services (their instruments are
    /// made when they are), inside the tokio runtime.
    ///
    /// # Errors
    /// If the OTLP exporter cannot be built.
    pub fn install(telemetry: Option<&Telemetry>, default_name: &str) -> Result<Self> {
        let reader = PullReader(Arc::new(ManualReader::builder().build()));
        let mut builder = SdkMeterProvider::builder()
            .with_reader(reader.clone())
            .with_resource(telemetry::resource(telemetry, default_name));
        if let Some(url) = telemetry::endpoint(telemetry) {
            let exporter = opentelemetry_otlp::MetricExporter::builder()
                .with_tonic()
                .with_endpoint(url)
                .with_timeout(telemetry::EXPORT_TIMEOUT)
                .build()
                .context("telemetry: the OTLP metric exporter")?;
            let every = telemetry.map_or(10, |t| t.export_interval_secs);
            builder = builder.with_reader(
                PeriodicReader::builder(exporter)
                    .with_interval(Duration::from_secs(every))
                    .build(),
            );
        }
        let metrics = Self {
            provider: builder.build(),
            reader,
        };
        opentelemetry::global::set_meter_provider(metrics.provider.clone());
        Ok(metrics)
    }

    /// A provider of its own, not installed globally and exporting nothing (tests).
    #[cfg(test)]
    #[must_use]
    pub fn new() -> Self {
        let reader = PullReader(Arc::new(ManualReader::builder().build()));
        let provider = SdkMeterProvider::builder()
            .with_reader(reader.clone())
            .build();
        Self { provider, reader }
    }

    /// Exports what the periodic reader still holds (at the end of the process).
    pub fn shutdown(&self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::debug!(error = %e, "shutting the meter provider down");
        }
    }

    /// The provider, to make instruments from (tests; the services use the global
    /// one).
    #[cfg(test)]
    pub fn provider(&self) -> &SdkMeterProvider {
        &self.provider
    }

    /// Everything recorded so far, in the Prometheus text format.
    ///
    /// # Errors
    /// If the SDK cannot collect (it was shut down).
    pub fn render(&self) -> Result<String, opentelemetry_sdk::error::OTelSdkError> {
        let mut collected = ResourceMetrics::default();
        self.reader.collect(&mut collected)?;
        let mut out = String::new();
        for scope in collected.scope_metrics() {
            for metric in scope.metrics() {
                render_metric(&mut out, metric);
            }
        }
        Ok(out)
    }
}

/// Reports the PostgreSQL pool's connections (`urna.store.pool.connections` by
/// `state`: idle or busy, and the pool's `max`) and the operations waiting for one
/// (`urna.store.pool.waiting`), read at each collection.
pub fn observe_pool(store: urna_store::PgStore) {
    let meter = opentelemetry::global::meter("urna");
    let connections = store.clone();
    let _connections = meter
        .u64_observable_gauge("urna.store.pool.connections")
        .with_description("PostgreSQL pool connections: idle, busy, and the pool's max")
        .with_callback(move |observer| {
            let status = connections.pool_status();
            let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
            observer.observe(count(status.idle), &[KeyValue::new("state", "idle")]);
            observer.observe(
                count(status.open.saturating_sub(status.idle)),
                &[KeyValue::new("state", "busy")],
            );
            observer.observe(count(status.max), &[KeyValue::new("state", "max")]);
        })
        .build();
    let _waiting = meter
        .u64_observable_gauge("urna.store.pool.waiting")
        .with_description("Operations waiting for a PostgreSQL pool connection")
        .with_callback(move |observer| {
            let waiting = store.pool_status().waiting;
            observer.observe(u64::try_from(waiting).unwrap_or(u64::MAX), &[]);
        })
        .build();
}

/// A metric's Prometheus name: `[a-zA-Z0-9_:]` only, its unit when it is seconds
/// or bytes, and `_total` for counters.
fn prometheus_name(metric: &Metric, counter: bool) -> String {
    let mut name: String = metric
        .name()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let suffix = match metric.unit() {
        "s" => "_seconds",
        "By" => "_bytes",
        _ => "",
    };
    if !suffix.is_empty() && !name.ends_with(suffix) {
        name.push_str(suffix);
    }
    if counter {
        name.push_str("_total");
    }
    name
}

/// `{k="v",…}` with Prometheus escaping, `extra` (the histogram's `le`) last;
/// empty for no labels.
fn labels<'a>(
    attributes: impl Iterator<Item = &'a KeyValue>,
    extra: Option<(&str, &str)>,
) -> String {
    let mut pairs: Vec<(String, String)> = attributes
        .map(|kv| {
            let key = kv
                .key
                .as_str()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            (key, kv.value.as_str().into_owned())
        })
        .collect();
    pairs.sort();
    if let Some((k, v)) = extra {
        pairs.push((k.to_owned(), v.to_owned()));
    }
    if pairs.is_empty() {
        return String::new();
    }
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            let escaped = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{escaped}\"")
        })
        .collect();
    format!("{{{}}}", body.join(","))
}

/// A sample value: integers as they are, floats with Prometheus's spellings of the
/// special values.
trait Sample: Copy {
    fn text(self) -> String;
}

impl Sample for u64 {
    fn text(self) -> String {
        self.to_string()
    }
}

impl Sample for i64 {
    fn text(self) -> String {
        self.to_string()
    }
}

impl Sample for f64 {
    fn text(self) -> String {
        if self.is_nan() {
            "NaN".to_owned()
        } else if self == f64::INFINITY {
            "+Inf".to_owned()
        } else if self == f64::NEG_INFINITY {
            "-Inf".to_owned()
        } else {
            self.to_string()
        }
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    if !help.is_empty() {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(out, "# HELP {name} {help}");
    }
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn render_metric(out: &mut String, metric: &Metric) {
    match metric.data() {
        AggregatedMetrics::U64(data) => render_data(out, metric, data),
        AggregatedMetrics::I64(data) => render_data(out, metric, data),
        AggregatedMetrics::F64(data) => render_data(out, metric, data),
    }
}

fn render_data<T: Sample>(out: &mut String, metric: &Metric, data: &MetricData<T>) {
    match data {
        MetricData::Gauge(gauge) => {
            let name = prometheus_name(metric, false);
            header(out, &name, metric.description(), "gauge");
            for point in gauge.data_points() {
                let _ = writeln!(
                    out,
                    "{name}{} {}",
                    labels(point.attributes(), None),
                    point.value().text()
                );
            }
        }
        MetricData::Sum(sum) => render_sum(out, metric, sum),
        MetricData::Histogram(histogram) => render_histogram(out, metric, histogram),
        // No instrument of urna's aggregates exponentially.
        MetricData::ExponentialHistogram(_) => {}
    }
}

fn render_sum<T: Sample>(out: &mut String, metric: &Metric, sum: &Sum<T>) {
    let counter = sum.is_monotonic();
    let name = prometheus_name(metric, counter);
    header(
        out,
        &name,
        metric.description(),
        if counter { "counter" } else { "gauge" },
    );
    for point in sum.data_points() {
        let _ = writeln!(
            out,
            "{name}{} {}",
            labels(point.attributes(), None),
            point.value().text()
        );
    }
}

fn render_histogram<T: Sample>(out: &mut String, metric: &Metric, histogram: &Histogram<T>) {
    let name = prometheus_name(metric, false);
    header(out, &name, metric.description(), "histogram");
    for point in histogram.data_points() {
        let mut cumulative = 0u64;
        for (bound, count) in point.bounds().zip(point.bucket_counts()) {
            cumulative += count;
            let le = bound.text();
            let _ = writeln!(
                out,
                "{name}_bucket{} {cumulative}",
                labels(point.attributes(), Some(("le", &le)))
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{} {}",
            labels(point.attributes(), Some(("le", "+Inf"))),
            point.count()
        );
        let plain = labels(point.attributes(), None);
        let _ = writeln!(out, "{name}_sum{plain} {}", point.sum().text());
        let _ = writeln!(out, "{name}_count{plain} {}", point.count());
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::metrics::MeterProvider as _;

    use super::*;

    #[test]
    fn counters_gauges_and_histograms_render_as_prometheus_text() {
        let metrics = Metrics::new();
        let meter = metrics.provider().meter("test");
        let ballots = meter
            .u64_counter("urna.casting.ballots")
            .with_description("Ballots by outcome")
            .build();
        ballots.add(3, &[KeyValue::new("outcome", "accepted")]);
        ballots.add(1, &[KeyValue::new("outcome", "invalid_proof")]);
        let queue = meter.i64_up_down_counter("urna.queue").build();
        queue.add(5, &[]);
        queue.add(-2, &[]);
        let latency = meter
            .f64_histogram("urna.rpc.duration")
            .with_unit("s")
            .with_boundaries(vec![0.01, 0.1])
            .build();
        // Binary fractions, so the sum is exact.
        for v in [0.007_812_5, 0.0625, 0.0625, 2.0] {
            latency.record(v, &[KeyValue::new("method", "Cast\"x\"")]);
        }
        let text = metrics.render().unwrap();
        let expected = [
            "# HELP urna_casting_ballots_total Ballots by outcome",
            "# TYPE urna_casting_ballots_total counter",
            "urna_casting_ballots_total{outcome=\"accepted\"} 3",
            "urna_casting_ballots_total{outcome=\"invalid_proof\"} 1",
            "# TYPE urna_queue gauge",
            "urna_queue 3",
            "# TYPE urna_rpc_duration_seconds histogram",
            "urna_rpc_duration_seconds_bucket{method=\"Cast\\\"x\\\"\",le=\"0.01\"} 1",
            "urna_rpc_duration_seconds_bucket{method=\"Cast\\\"x\\\"\",le=\"0.1\"} 3",
            "urna_rpc_duration_seconds_bucket{method=\"Cast\\\"x\\\"\",le=\"+Inf\"} 4",
            "urna_rpc_duration_seconds_sum{method=\"Cast\\\"x\\\"\"} 2.1328125",
            "urna_rpc_duration_seconds_count{method=\"Cast\\\"x\\\"\"} 4",
        ];
        for line in expected {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        // Counters are cumulative: a second scrape adds to the first.
        ballots.add(2, &[KeyValue::new("outcome", "accepted")]);
        let again = metrics.render().unwrap();
        assert!(
            again
                .lines()
                .any(|l| l == "urna_casting_ballots_total{outcome=\"accepted\"} 5")
        );
    }

    #[test]
    fn names_keep_only_prometheus_characters() {
        let metrics = Metrics::new();
        let meter = metrics.provider().meter("test");
        meter
            .u64_counter("urna.pool-waits")
            .build()
            .add(1, &[KeyValue::new("a.b", "1")]);
        let text = metrics.render().unwrap();
        assert!(
            text.lines()
                .any(|l| l == "urna_pool_waits_total{a_b=\"1\"} 1"),
            "{text}"
        );
    }
}
