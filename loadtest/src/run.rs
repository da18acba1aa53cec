//! The timed run, open loop: each prepared request is sent when its schedule says,
//! whatever is still outstanding (one task per request, up to a large cap; requests
//! due while the cap is reached are counted as dropped). Latency runs from the time a
//! request was due, so a server, or a generator, that falls behind shows up in it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use tokio::time::Instant;

use crate::report::{Outcome, Recorder};
use crate::schedule::{Phase, Schedule};

/// One prepared request: sent when called, given its deadline; resolves to how it
/// ended (a request that outlives its deadline is `DeadlineExceeded`).
pub type Request =
    Box<dyn FnOnce(Duration) -> Pin<Box<dyn Future<Output = Outcome> + Send>> + Send>;

/// A [`Request`] from an async closure.
pub fn request<F, Fut>(send: F) -> Request
where
    F: FnOnce(Duration) -> Fut + Send + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    Box::new(move |timeout| Box::pin(send(timeout)))
}

/// The outcome of a gRPC answer: OK, or the status code's name.
pub fn outcome<T>(answer: Result<T, tonic::Status>) -> Outcome {
    match answer {
        Ok(_) => Outcome::Ok,
        Err(status) => Outcome::Failed(format!("{:?}", status.code())),
    }
}

/// How the run sends its requests.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Most requests outstanding at once.
    pub max_in_flight: usize,
    /// Each request's deadline (a late answer counts as `DeadlineExceeded`).
    pub timeout: Duration,
}

/// Sends `requests[i]` when request `i` is due; returns what was recorded.
///
/// # Errors
/// If there are fewer requests than the schedule has.
pub async fn run(
    schedule: &Schedule,
    requests: Vec<Request>,
    settings: Settings,
) -> Result<Recorder> {
    let total = usize::try_from(schedule.len())?;
    if requests.len() < total {
        bail!(
            "the schedule sends {total} requests but {} were prepared",
            requests.len()
        );
    }
    let recorder = Arc::new(Mutex::new(Recorder::new()?));
    let in_flight = Arc::new(AtomicUsize::new(0));
    // A short pause so that the first requests are not already late.
    let start = Instant::now() + Duration::from_millis(50);
    for (i, request) in (0..schedule.len()).zip(requests) {
        let due = start + schedule.due(i);
        tokio::time::sleep_until(due).await;
        let phase = schedule.phase(i);
        if in_flight.load(Ordering::Relaxed) >= settings.max_in_flight {
            let now = Instant::now();
            record(
                &recorder,
                phase,
                Outcome::Dropped,
                now - due,
                now - due,
                now - start,
            )?;
            continue;
        }
        in_flight.fetch_add(1, Ordering::Relaxed);
        let (recorder, in_flight) = (recorder.clone(), in_flight.clone());
        let timeout = settings.timeout;
        tokio::spawn(async move {
            let sent = Instant::now();
            let outcome = tokio::time::timeout(timeout, request(timeout))
                .await
                .unwrap_or_else(|_| Outcome::Failed("DeadlineExceeded".into()));
            let now = Instant::now();
            // A poisoned recorder means another task panicked; that one's report says so.
            let _ = record(
                &recorder,
                phase,
                outcome,
                now - due,
                sent - due,
                now - start,
            );
            // Let go of the recorder before the count says this request is done.
            drop(recorder);
            in_flight.fetch_sub(1, Ordering::Relaxed);
        });
    }
    // The loop is done sending; wait for the outstanding answers (each has a deadline).
    let drain_until = Instant::now() + settings.timeout + Duration::from_secs(5);
    while in_flight.load(Ordering::Relaxed) > 0 && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let outstanding = in_flight.load(Ordering::Relaxed);
    if outstanding > 0 {
        bail!("{outstanding} requests never finished, not even by their deadline");
    }
    Arc::try_unwrap(recorder)
        .map_err(|_| anyhow!("a request task still holds the recorder"))?
        .into_inner()
        .map_err(|_| anyhow!("a request task panicked while recording"))
}

fn record(
    recorder: &Mutex<Recorder>,
    phase: Phase,
    outcome: Outcome,
    latency: Duration,
    lag: Duration,
    finished: Duration,
) -> Result<()> {
    recorder
        .lock()
        .map_err(|_| anyhow!("a request task panicked while recording"))?
        .record(phase, outcome, latency, lag, finished);
    Ok(())
}
