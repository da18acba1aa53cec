//! The timed run, open loop: each prepared ballot is sent when its schedule says,
//! whatever is still outstanding (one task per request, up to a large cap; requests
//! due while the cap is reached are counted as dropped). Latency runs from the time a
//! request was due, so a server, or a generator, that falls behind shows up in it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use tokio::time::Instant;
use tonic::transport::Channel;
use urna_proto::v1::CastBallotRequest;
use urna_proto::v1::casting_client::CastingClient;

use crate::report::{Outcome, Recorder};
use crate::schedule::{Phase, Schedule};

/// How the run sends its requests.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The election id.
    pub election: String,
    /// The casting connections, used round-robin (endpoint after endpoint).
    pub channels: Vec<Channel>,
    /// Most requests outstanding at once.
    pub max_in_flight: usize,
    /// Each request's deadline (a late answer counts as `DeadlineExceeded`).
    pub timeout: Duration,
}

/// Casts `ballots[i]` when request `i` is due; returns what was recorded.
///
/// # Errors
/// If there are fewer ballots than requests, or no connection.
pub async fn run(
    schedule: &Schedule,
    ballots: Vec<Vec<u8>>,
    settings: Settings,
) -> Result<Recorder> {
    let total = usize::try_from(schedule.len())?;
    if ballots.len() < total {
        bail!(
            "the schedule sends {total} ballots but {} were prepared",
            ballots.len()
        );
    }
    if settings.channels.is_empty() {
        bail!("no casting endpoint");
    }
    let clients: Vec<CastingClient<Channel>> = settings
        .channels
        .into_iter()
        .map(CastingClient::new)
        .collect();
    let recorder = Arc::new(Mutex::new(Recorder::new()?));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let election: Arc<str> = settings.election.into();
    // A short pause so that the first requests are not already late.
    let start = Instant::now() + Duration::from_millis(50);
    for (i, ballot) in (0..schedule.len()).zip(ballots) {
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
        let mut client = clients[usize::try_from(i)? % clients.len()].clone();
        let (recorder, in_flight, election) =
            (recorder.clone(), in_flight.clone(), election.clone());
        let timeout = settings.timeout;
        tokio::spawn(async move {
            let sent = Instant::now();
            let mut request = tonic::Request::new(CastBallotRequest {
                election_id: election.to_string(),
                ballot,
            });
            request.set_timeout(timeout);
            let outcome = match client.cast_ballot(request).await {
                Ok(answer) if answer.get_ref().receipt.is_some() => Outcome::Cast,
                Ok(_) => Outcome::Failed("NoReceipt".into()),
                Err(status) => Outcome::Failed(format!("{:?}", status.code())),
            };
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
