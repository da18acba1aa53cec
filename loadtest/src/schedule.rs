//! The open loop's schedule: when each request is due, fixed before the run and
//! independent of the server's answers (so a slow server cannot slow the arrivals
//! down and hide its latency: no coordinated omission).
//!
//! The rate rises linearly from 0 to `rate` over the ramp, then holds at `rate`. The
//! i-th request (from 0) is due when the integral of the rate reaches i + 1: in the
//! ramp, `rate * t² / (2 * ramp) = i + 1`; in the hold, one every `1 / rate` seconds
//! from the end of the ramp.

use std::time::Duration;

use anyhow::{Result, bail};

/// Which part of the run a request belongs to: only the hold is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The linear ramp (warms connections and caches; not in the histogram).
    Ramp,
    /// The constant-rate hold (what the report measures).
    Hold,
}

/// A linear ramp to a fixed arrival rate, then a hold at that rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    rate: f64,
    ramp: f64,
    hold: f64,
}

impl Schedule {
    /// `rate` requests per second after a linear ramp of `ramp_secs` from 0, held for
    /// `hold_secs`.
    ///
    /// # Errors
    /// If the rate is not positive, a duration is negative, the hold is empty or a
    /// value is not finite.
    pub fn new(rate: f64, ramp_secs: f64, hold_secs: f64) -> Result<Self> {
        if !(rate.is_finite() && rate > 0.0) {
            bail!("the rate must be a positive number of requests per second");
        }
        if !(ramp_secs.is_finite() && ramp_secs >= 0.0) {
            bail!("the ramp must be zero or more seconds");
        }
        if !(hold_secs.is_finite() && hold_secs > 0.0) || rate * hold_secs < 1.0 {
            bail!("the hold must last long enough for at least one request");
        }
        Ok(Self {
            rate,
            ramp: ramp_secs,
            hold: hold_secs,
        })
    }

    /// The arrival rate of the hold, per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The ramp's length.
    pub fn ramp(&self) -> Duration {
        Duration::from_secs_f64(self.ramp)
    }

    /// The hold's length.
    pub fn hold(&self) -> Duration {
        Duration::from_secs_f64(self.hold)
    }

    /// Requests due in the ramp: the rate's integral over it, `rate * ramp / 2`.
    pub fn ramp_count(&self) -> u64 {
        whole(self.rate * self.ramp / 2.0)
    }

    /// Requests due in the hold: `rate * hold`.
    pub fn hold_count(&self) -> u64 {
        whole(self.rate * self.hold)
    }

    /// Every request of the run.
    pub fn len(&self) -> u64 {
        self.ramp_count() + self.hold_count()
    }

    /// The phase request `i` belongs to.
    pub fn phase(&self, i: u64) -> Phase {
        if i < self.ramp_count() {
            Phase::Ramp
        } else {
            Phase::Hold
        }
    }

    /// When request `i` (from 0) is due, counted from the start of the run.
    pub fn due(&self, i: u64) -> Duration {
        let ramp = self.ramp_count();
        let secs = if i < ramp {
            (2.0 * (i as f64 + 1.0) * self.ramp / self.rate).sqrt()
        } else {
            self.ramp + (i - ramp) as f64 / self.rate
        };
        Duration::from_secs_f64(secs)
    }
}

/// `x` rounded down to a whole count (`x` is finite and non-negative).
fn whole(x: f64) -> u64 {
    // A fraction of a request is not sent; `as` saturates, and x is far below 2^64.
    x.floor() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_the_integral_of_the_rate() {
        let s = Schedule::new(100.0, 10.0, 20.0).unwrap();
        assert_eq!(s.ramp_count(), 500);
        assert_eq!(s.hold_count(), 2000);
        assert_eq!(s.len(), 2500);
        assert_eq!(s.phase(0), Phase::Ramp);
        assert_eq!(s.phase(499), Phase::Ramp);
        assert_eq!(s.phase(500), Phase::Hold);
        assert_eq!(s.phase(2499), Phase::Hold);
    }

    #[test]
    fn arrivals_never_go_back_and_each_phase_stays_in_its_window() {
        let s = Schedule::new(250.0, 4.0, 6.0).unwrap();
        let mut last = Duration::ZERO;
        for i in 0..s.len() {
            let due = s.due(i);
            assert!(due >= last, "request {i} due before request {}", i - 1);
            match s.phase(i) {
                Phase::Ramp => assert!(due <= s.ramp(), "ramp request {i} at {due:?}"),
                Phase::Hold => {
                    assert!(due >= s.ramp() && due < s.ramp() + s.hold(), "{i}: {due:?}");
                }
            }
            last = due;
        }
    }

    #[test]
    fn the_hold_is_evenly_spaced_at_the_rate() {
        let s = Schedule::new(2000.0, 5.0, 20.0).unwrap();
        let first = s.ramp_count();
        assert_eq!(s.due(first), s.ramp());
        for i in first..first + 100 {
            let gap = s.due(i + 1) - s.due(i);
            let micros = gap.as_secs_f64() * 1e6;
            assert!((micros - 500.0).abs() < 0.01, "gap {micros} µs after {i}");
        }
        let last = s.due(s.len() - 1).as_secs_f64();
        assert!((last - (25.0 - 1.0 / 2000.0)).abs() < 1e-6, "{last}");
    }

    #[test]
    fn the_ramp_rises_linearly() {
        // With a linear ramp a quarter of its requests fall in its first half, and
        // the rate at its end approaches the hold's.
        let s = Schedule::new(1000.0, 10.0, 1.0).unwrap();
        let half = (0..s.ramp_count())
            .filter(|&i| s.due(i) <= Duration::from_secs(5))
            .count();
        assert_eq!(half, 1250);
        let n = s.ramp_count();
        let end_gap = (s.due(n - 1) - s.due(n - 2)).as_secs_f64();
        assert!((end_gap - 1.0 / 1000.0).abs() < 1e-5, "{end_gap}");
    }

    #[test]
    fn no_ramp_starts_at_the_rate() {
        let s = Schedule::new(10.0, 0.0, 3.0).unwrap();
        assert_eq!(s.ramp_count(), 0);
        assert_eq!(s.len(), 30);
        assert_eq!(s.phase(0), Phase::Hold);
        assert_eq!(s.due(0), Duration::ZERO);
        assert_eq!(s.due(10), Duration::from_secs(1));
    }

    #[test]
    fn nonsense_is_refused() {
        assert!(Schedule::new(0.0, 1.0, 1.0).is_err());
        assert!(Schedule::new(-5.0, 1.0, 1.0).is_err());
        assert!(Schedule::new(f64::NAN, 1.0, 1.0).is_err());
        assert!(Schedule::new(10.0, -1.0, 1.0).is_err());
        assert!(Schedule::new(10.0, 1.0, 0.0).is_err());
        assert!(Schedule::new(10.0, 1.0, 0.05).is_err());
        assert!(Schedule::new(10.0, f64::INFINITY, 1.0).is_err());
    }
}
