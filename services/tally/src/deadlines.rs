//! Round deadlines: a key ceremony's dealing, complaint and reveal rounds close on
//! their own once they have been open long enough, so a trustee that never answers
//! cannot stall the ceremony. A round's clock starts when this process first sees the
//! round; after a restart it starts again, which only ever extends a deadline.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use urna_service::Clock;
use urna_store::{CeremonyPhase, ElectionState, Store};

use crate::error::TallyError;
use crate::tally::Tally;

/// How long each round stays open, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundDeadlines {
    /// The dealing round (default one hour).
    pub dealing: u64,
    /// The complaint round (default 30 minutes).
    pub complaints: u64,
    /// The reveal round (default 30 minutes).
    pub reveals: u64,
}

impl Default for RoundDeadlines {
    fn default() -> Self {
        Self {
            dealing: 3600,
            complaints: 1800,
            reveals: 1800,
        }
    }
}

/// Closes overdue ceremony rounds of every election in Draft.
pub struct Deadlines<S> {
    tally: Tally<S>,
    limits: RoundDeadlines,
    /// Per election: the round last seen and when it was first seen.
    seen: Mutex<HashMap<String, (CeremonyPhase, u64)>>,
}

impl<S: Store> Deadlines<S> {
    /// Deadlines for the ceremonies `tally` runs.
    pub fn new(tally: Tally<S>, limits: RoundDeadlines) -> Self {
        Self {
            tally,
            limits,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// One pass at time `now` (Unix seconds): closes every round open for at least its
    /// deadline; returns each election whose round it closed with the round that
    /// followed. A failure on one election is logged and the others go on.
    pub async fn tick(&self, now: u64) -> Result<Vec<(String, CeremonyPhase)>, TallyError> {
        let mut closed = Vec::new();
        for record in self.tally.store.elections().await? {
            if record.state != ElectionState::Draft {
                continue;
            }
            let phase = self.tally.store.ceremony_phase(&record.id).await?;
            let limit = match phase {
                CeremonyPhase::Dealing => self.limits.dealing,
                CeremonyPhase::Complaints => self.limits.complaints,
                CeremonyPhase::Reveals => self.limits.reveals,
                CeremonyPhase::Registration | CeremonyPhase::Done | CeremonyPhase::Failed => {
                    continue;
                }
            };
            let since = {
                let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
                let entry = seen.entry(record.id.clone()).or_insert((phase, now));
                if entry.0 != phase {
                    *entry = (phase, now);
                }
                entry.1
            };
            if now < since.saturating_add(limit) {
                continue;
            }
            match self.tally.close_round(&record.id).await {
                Ok(next) => {
                    // The next round opens now.
                    self.seen
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(record.id.clone(), (next, now));
                    tracing::info!(election = %record.id, round = ?next, "ceremony round closed at its deadline");
                    closed.push((record.id, next));
                }
                Err(e) => {
                    tracing::warn!(election = %record.id, error = %e, "closing an overdue ceremony round failed");
                }
            }
        }
        Ok(closed)
    }

    /// Ticks every `interval` by `clock` until `shutdown` completes.
    pub async fn run(
        &self,
        clock: &dyn Clock,
        interval: Duration,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.tick(clock.now()).await {
                tracing::warn!(error = %e, "ceremony deadlines: pass failed");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(interval) => {}
            }
        }
    }
}
