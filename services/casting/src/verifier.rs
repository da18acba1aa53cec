//! Proof verification batched across concurrent submissions: a task gathers the
//! ballots that arrive within a short window (up to [`MAX_BATCH`] or [`WINDOW`]),
//! and checks them on a blocking thread: each ballot's blind signature and credential
//! signature, then every proof of every ballot of one election with one batch (one
//! multiscalar multiplication); if the batch fails, its fallback names the bad
//! ballots. At most one batch per core runs at a time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::time::Instant;
use urna_crypto::{BatchVerifier, EncryptedBallot};
use urna_service::ElectionContext;

use crate::error::CastingError;
use crate::metrics::CastingMetrics;

/// The most ballots in one batch.
pub const MAX_BATCH: usize = 64;

/// How long a batch waits for more ballots after its first.
pub const WINDOW: Duration = Duration::from_millis(5);

/// Ballots waiting for a verifier before submissions are refused as back-pressure.
const QUEUE: usize = 4096;

/// A ballot to check, with the election it claims.
struct Job {
    context: Arc<ElectionContext>,
    ballot: Arc<EncryptedBallot>,
    reply: oneshot::Sender<Result<(), CastingError>>,
}

/// The handle casting submits ballots through; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Verifier {
    queue: mpsc::Sender<Job>,
}

impl Verifier {
    /// Starts the gathering task (needs a tokio runtime).
    /// Batch sizes are recorded in `metrics`.
    pub(crate) fn start(metrics: CastingMetrics) -> Self {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tokio::spawn(gather(jobs, Arc::new(Semaphore::new(cores)), metrics));
        Self { queue }
    }

    /// Checks the ballot's signatures and proofs under its election's keys and layout.
    pub(crate) async fn verify(
        &self,
        context: Arc<ElectionContext>,
        ballot: Arc<EncryptedBallot>,
    ) -> Result<(), CastingError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .try_send(Job {
                context,
                ballot,
                reply,
            })
            .map_err(|_| CastingError::Unavailable)?;
        answer.await.map_err(|_| CastingError::Unavailable)?
    }
}

/// Gathers jobs into batches and hands each to a blocking thread.
async fn gather(mut jobs: mpsc::Receiver<Job>, cores: Arc<Semaphore>, metrics: CastingMetrics) {
    while let Some(first) = jobs.recv().await {
        let deadline = Instant::now() + WINDOW;
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match tokio::time::timeout_at(deadline, jobs.recv()).await {
                Ok(Some(job)) => batch.push(job),
                Ok(None) | Err(_) => break,
            }
        }
        let Ok(permit) = Arc::clone(&cores).acquire_owned().await else {
            return;
        };
        metrics.verify_batch(batch.len());
        tokio::task::spawn_blocking(move || {
            check(batch);
            drop(permit);
        });
    }
}

/// Checks a batch and answers every job.
fn check(batch: Vec<Job>) {
    let mut by_election: HashMap<[u8; 32], Vec<Job>> = HashMap::new();
    for job in batch {
        if job
            .ballot
            .verify_signatures(job.context.auth_key())
            .is_err()
        {
            // A caller that gave up is no reason to stop.
            let _ = job.reply.send(Err(CastingError::InvalidCredential));
            continue;
        }
        by_election
            .entry(*job.context.fingerprint())
            .or_default()
            .push(job);
    }
    for jobs in by_election.into_values() {
        check_proofs(jobs);
    }
}

/// Verifies the proofs of ballots of one election with one batch.
fn check_proofs(jobs: Vec<Job>) {
    let Some(first) = jobs.first() else {
        return;
    };
    let key = *first.context.joint_key().public_key();
    let mut rng = rand::rng();
    let mut batch = BatchVerifier::new(key, &mut rng);
    let mut ok = vec![true; jobs.len()];
    for (i, job) in jobs.iter().enumerate() {
        match job.context.layout(job.ballot.style()) {
            Some(layout) => job.ballot.add_to_batch(&mut batch, i, layout),
            None => ok[i] = false,
        }
    }
    if let Err(failed) = batch.verify() {
        for (i, _) in failed {
            if let Some(flag) = ok.get_mut(i) {
                *flag = false;
            }
        }
    }
    for (job, ok) in jobs.into_iter().zip(ok) {
        let answer = if ok {
            Ok(())
        } else {
            Err(CastingError::InvalidProof)
        };
        let _ = job.reply.send(answer);
    }
}
