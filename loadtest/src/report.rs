//! What a run measured: outcomes per phase, the hold's latencies in an HDR histogram,
//! and the report made from them (text for people, JSON for scripts).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use anyhow::{Context as _, Result};
use hdrhistogram::Histogram;
use serde::Serialize;

use crate::schedule::{Phase, Schedule};

/// Highest latency the histograms hold, in microseconds (longer ones are clamped).
const MAX_MICROS: u64 = 300_000_000;

/// How one request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The request succeeded: a ballot's receipt, a credential, a board answer.
    Ok,
    /// A gRPC status other than OK, by its code's name (`Unavailable`, ...), or
    /// `NoReceipt` for an OK answer without a receipt.
    Failed(String),
    /// Never sent: the in-flight cap was reached when it was due.
    Dropped,
}

/// Counts of one phase.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PhaseCounts {
    /// Requests due in the phase.
    pub scheduled: u64,
    /// Requests that succeeded.
    pub ok: u64,
    /// Failed requests, by gRPC status code.
    pub errors: BTreeMap<String, u64>,
    /// Requests not sent because the in-flight cap was reached.
    pub dropped: u64,
}

impl PhaseCounts {
    /// Every failed request.
    pub fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Collects outcomes as they arrive.
#[derive(Debug)]
pub struct Recorder {
    ramp: PhaseCounts,
    hold: PhaseCounts,
    latency: Histogram<u64>,
    lag: Histogram<u64>,
    /// When the last hold request finished, from the start of the run.
    hold_end: Duration,
}

impl Recorder {
    /// An empty recorder.
    ///
    /// # Errors
    /// Never in practice: the histogram bounds are constants hdrhistogram accepts.
    pub fn new() -> Result<Self> {
        let histogram = || Histogram::new_with_bounds(1, MAX_MICROS, 3).context("histogram bounds");
        Ok(Self {
            ramp: PhaseCounts::default(),
            hold: PhaseCounts::default(),
            latency: histogram()?,
            lag: histogram()?,
            hold_end: Duration::ZERO,
        })
    }

    /// Records one request of `phase`: how it ended, its latency from the time it
    /// was due, how late it was sent after that time (`lag`, the generator's own
    /// delay, part of the latency) and when it finished, from the run's start.
    pub fn record(
        &mut self,
        phase: Phase,
        outcome: Outcome,
        latency: Duration,
        lag: Duration,
        finished: Duration,
    ) {
        let counts = match phase {
            Phase::Ramp => &mut self.ramp,
            Phase::Hold => &mut self.hold,
        };
        counts.scheduled += 1;
        let ok = outcome == Outcome::Ok;
        match outcome {
            Outcome::Ok => counts.ok += 1,
            Outcome::Failed(code) => *counts.errors.entry(code).or_default() += 1,
            Outcome::Dropped => counts.dropped += 1,
        }
        if phase == Phase::Hold {
            self.hold_end = self.hold_end.max(finished);
            if ok {
                self.latency.saturating_record(micros(latency));
            }
            self.lag.saturating_record(micros(lag));
        }
    }

    /// The report of a run of `schedule`.
    pub fn report(&self, schedule: &Schedule, target: Target) -> Report {
        // The hold's throughput: successes due in the hold over the time from its start
        // until the last of them finished (never less than the hold itself), so a
        // server that falls behind shows a lower figure, not the offered rate.
        let window = self
            .hold_end
            .saturating_sub(schedule.ramp())
            .max(schedule.hold())
            .as_secs_f64();
        Report {
            target,
            rate: schedule.rate(),
            ramp_secs: schedule.ramp().as_secs_f64(),
            hold_secs: schedule.hold().as_secs_f64(),
            ramp: self.ramp.clone(),
            hold: self.hold.clone(),
            achieved_per_sec: self.hold.ok as f64 / window,
            measured_secs: window,
            latency_ms: Percentiles::of(&self.latency),
            send_lag_ms: Percentiles::of(&self.lag),
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// What was driven.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// The election id.
    pub election: String,
    /// What each request does: `cast` (a ballot), `auth` (login and a blind-signed
    /// credential) or `read` (the board's checkpoint or a bundle of its entries).
    pub scenario: String,
    /// The endpoints driven round-robin.
    pub endpoints: Vec<String>,
    /// Connections per endpoint.
    pub connections: usize,
    /// The in-flight cap.
    pub max_in_flight: usize,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Percentiles {
    /// Samples recorded.
    pub samples: u64,
    /// The median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p99_9: f64,
    /// The largest sample.
    pub max: f64,
    /// The mean.
    pub mean: f64,
}

impl Percentiles {
    fn of(h: &Histogram<u64>) -> Self {
        let ms = |micros: u64| micros as f64 / 1000.0;
        if h.is_empty() {
            return Self {
                samples: 0,
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                p99_9: 0.0,
                max: 0.0,
                mean: 0.0,
            };
        }
        Self {
            samples: h.len(),
            p50: ms(h.value_at_quantile(0.5)),
            p90: ms(h.value_at_quantile(0.9)),
            p99: ms(h.value_at_quantile(0.99)),
            p99_9: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            mean: h.mean() / 1000.0,
        }
    }
}

/// The report of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// What was driven.
    pub target: Target,
    /// The hold's arrival rate, per second.
    pub rate: f64,
    /// The ramp's length in seconds.
    pub ramp_secs: f64,
    /// The hold's length in seconds.
    pub hold_secs: f64,
    /// Outcomes of the ramp (not in the latency figures).
    pub ramp: PhaseCounts,
    /// Outcomes of the hold.
    pub hold: PhaseCounts,
    /// Successful requests due in the hold per second of `measured_secs`.
    pub achieved_per_sec: f64,
    /// From the hold's start to the last hold request's answer (at least the hold).
    pub measured_secs: f64,
    /// The hold's latencies of successful requests, from each one's due time to its
    /// answer.
    pub latency_ms: Percentiles,
    /// How late the hold's requests were sent after their due time (the generator's
    /// own delay; already inside `latency_ms`).
    pub send_lag_ms: Percentiles,
}

impl Report {
    /// Whether the hold was sustained: every request succeeded (no error, none dropped),
    /// throughput within 5% of the offered rate and p99 under `p99_limit_ms`.
    pub fn sustained(&self, p99_limit_ms: f64) -> bool {
        self.hold.error_total() == 0
            && self.hold.dropped == 0
            && self.hold.ok > 0
            && self.achieved_per_sec >= 0.95 * self.rate
            && self.latency_ms.p99 < p99_limit_ms
    }

    /// The report as pretty JSON, with the verdict for `p99_limit_ms`.
    ///
    /// # Errors
    /// Never in practice (plain data).
    pub fn to_json(&self, p99_limit_ms: f64) -> Result<String> {
        let mut value = serde_json::to_value(self)?;
        if let Some(object) = value.as_object_mut() {
            object.insert("p99_limit_ms".into(), p99_limit_ms.into());
            object.insert("sustained".into(), self.sustained(p99_limit_ms).into());
        }
        Ok(serde_json::to_string_pretty(&value)?)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = |counts: &PhaseCounts| {
            if counts.errors.is_empty() {
                "none".to_owned()
            } else {
                counts
                    .errors
                    .iter()
                    .map(|(code, n)| format!("{code} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let l = &self.latency_ms;
        writeln!(
            f,
            "urna-loadtest: election {}, scenario {} against {} ({} connection(s) each, in-flight cap {})",
            self.target.election,
            self.target.scenario,
            self.target.endpoints.join(" "),
            self.target.connections,
            self.target.max_in_flight
        )?;
        writeln!(
            f,
            "  offered     {:.0}/s after a {:.0} s ramp, held {:.0} s",
            self.rate, self.ramp_secs, self.hold_secs
        )?;
        for (name, counts) in [("ramp", &self.ramp), ("hold", &self.hold)] {
            writeln!(
                f,
                "  {name:<11} {} due, {} ok, {} dropped at the cap, errors: {}",
                counts.scheduled,
                counts.ok,
                counts.dropped,
                errors(counts)
            )?;
        }
        writeln!(
            f,
            "  achieved    {:.1} requests/s in the hold ({:.1} s from its start to its last answer)",
            self.achieved_per_sec, self.measured_secs
        )?;
        writeln!(
            f,
            "  latency ms  p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}  (mean {:.1}, {} samples, from each request's due time)",
            l.p50, l.p90, l.p99, l.p99_9, l.max, l.mean, l.samples
        )?;
        write!(
            f,
            "  send lag ms p50 {:.2}  p99 {:.2}  max {:.2}  (the generator's own delay)",
            self.send_lag_ms.p50, self.send_lag_ms.p99, self.send_lag_ms.max
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            election: "e".into(),
            scenario: "cast".into(),
            endpoints: vec!["http://127.0.0.1:1".into()],
            connections: 1,
            max_in_flight: 10,
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A run of 10/s, 2 s ramp, 100 s hold: 10 ramp requests, 1000 hold requests with
    /// latencies 1..=1000 ms, all answered within the hold.
    fn uniform() -> (Schedule, Recorder) {
        let schedule = Schedule::new(10.0, 2.0, 100.0).unwrap();
        let mut r = Recorder::new().unwrap();
        for _ in 0..10 {
            r.record(Phase::Ramp, Outcome::Ok, ms(5000), ms(0), ms(1000));
        }
        for n in 1..=1000 {
            r.record(Phase::Hold, Outcome::Ok, ms(n), ms(n % 3), ms(50_000));
        }
        (schedule, r)
    }

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= expected * 0.001 + 0.001
    }

    #[test]
    fn percentiles_come_from_the_hold_only() {
        let (schedule, r) = uniform();
        let report = r.report(&schedule, target());
        let l = &report.latency_ms;
        assert_eq!(l.samples, 1000);
        assert!(close(l.p50, 500.0), "{l:?}");
        assert!(close(l.p90, 900.0), "{l:?}");
        assert!(close(l.p99, 990.0), "{l:?}");
        assert!(close(l.p99_9, 999.0), "{l:?}");
        assert!(close(l.max, 1000.0), "{l:?}");
        assert!(close(l.mean, 500.5), "{l:?}");
        // The ramp's 5 s latencies are counted but not measured.
        assert_eq!(report.ramp.ok, 10);
        assert_eq!(report.hold.ok, 1000);
        assert!(close(report.send_lag_ms.max, 2.0));
        assert!(close(report.achieved_per_sec, 10.0));
        assert!(report.sustained(1000.0));
        assert!(!report.sustained(990.0));
    }

    #[test]
    fn errors_and_drops_are_counted_by_code_and_kept_out_of_latency() {
        let schedule = Schedule::new(10.0, 0.0, 10.0).unwrap();
        let mut r = Recorder::new().unwrap();
        for _ in 0..90 {
            r.record(Phase::Hold, Outcome::Ok, ms(10), ms(0), ms(9_000));
        }
        for code in ["Unavailable", "Unavailable", "DeadlineExceeded"] {
            r.record(
                Phase::Hold,
                Outcome::Failed(code.into()),
                ms(30_000),
                ms(0),
                ms(9_000),
            );
        }
        for _ in 0..7 {
            r.record(Phase::Hold, Outcome::Dropped, ms(0), ms(0), ms(0));
        }
        let report = r.report(&schedule, target());
        assert_eq!(report.hold.scheduled, 100);
        assert_eq!(report.hold.ok, 90);
        assert_eq!(report.hold.dropped, 7);
        assert_eq!(report.hold.errors["Unavailable"], 2);
        assert_eq!(report.hold.errors["DeadlineExceeded"], 1);
        assert_eq!(report.hold.error_total(), 3);
        assert_eq!(report.latency_ms.samples, 90);
        assert!(
            close(report.latency_ms.max, 10.0),
            "{:?}",
            report.latency_ms
        );
        assert!(!report.sustained(500.0));
    }

    #[test]
    fn a_server_that_falls_behind_gets_its_real_throughput() {
        // 1000 due in a 10 s hold, the last answered 20 s after the hold began.
        let schedule = Schedule::new(100.0, 5.0, 10.0).unwrap();
        let mut r = Recorder::new().unwrap();
        for _ in 0..1000 {
            r.record(Phase::Hold, Outcome::Ok, ms(100), ms(0), ms(25_000));
        }
        let report = r.report(&schedule, target());
        assert!(
            close(report.measured_secs, 20.0),
            "{}",
            report.measured_secs
        );
        assert!(
            close(report.achieved_per_sec, 50.0),
            "{}",
            report.achieved_per_sec
        );
        assert!(!report.sustained(500.0));
    }

    #[test]
    fn the_json_names_every_figure() {
        let (schedule, r) = uniform();
        let json: serde_json::Value =
            serde_json::from_str(&r.report(&schedule, target()).to_json(500.0).unwrap()).unwrap();
        assert_eq!(json["rate"], 10.0);
        assert_eq!(json["hold"]["ok"], 1000);
        assert_eq!(json["hold"]["dropped"], 0);
        assert_eq!(json["ramp"]["scheduled"], 10);
        assert_eq!(json["target"]["endpoints"][0], "http://127.0.0.1:1");
        assert_eq!(json["p99_limit_ms"], 500.0);
        assert_eq!(json["sustained"], false);
        for key in ["p50", "p90", "p99", "p99_9", "max", "mean", "samples"] {
            assert!(json["latency_ms"][key].is_number(), "{key}: {json}");
        }
        let p99 = json["latency_ms"]["p99"].as_f64().unwrap();
        assert!(close(p99, 990.0), "{p99}");
    }

    #[test]
    fn an_empty_hold_reports_zeros() {
        let schedule = Schedule::new(10.0, 0.0, 1.0).unwrap();
        let report = Recorder::new().unwrap().report(&schedule, target());
        assert_eq!(report.latency_ms.samples, 0);
        assert_eq!(report.achieved_per_sec, 0.0);
        assert!(!report.sustained(500.0));
        assert!(report.to_string().contains("errors: none"));
    }
}
