//! What casting counts, through the OpenTelemetry metrics API (a no-op until the
//! process installs a meter provider, as `urna serve` does). Outcomes and sizes
//! only: nothing that identifies a voter or a ballot.

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram};

use crate::error::CastingError;

/// Bounds of the verification batch sizes (up to the verifier's largest batch).
const BATCH_BOUNDS: [f64; 7] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

/// Casting's instruments; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct CastingMetrics {
    ballots: Counter<u64>,
    verify_batch: Histogram<u64>,
}

impl CastingMetrics {
    /// The instruments, from the global meter provider as it is now.
    pub(crate) fn new() -> Self {
        let meter = opentelemetry::global::meter("urna-casting");
        Self {
            ballots: meter
                .u64_counter("urna.casting.ballots")
                .with_description(
                    "Cast requests by outcome: accepted, repeat (an identical retry, given \
                     its original receipt) or the reason of the refusal",
                )
                .build(),
            verify_batch: meter
                .u64_histogram("urna.casting.verify.batch")
                .with_description("Ballots per proof-verification batch")
                .with_boundaries(BATCH_BOUNDS.to_vec())
                .build(),
        }
    }

    /// Counts a cast's outcome (`Ok(repeat)` for a receipt).
    pub(crate) fn cast(&self, outcome: Result<bool, &CastingError>) {
        let name = match outcome {
            Ok(false) => "accepted",
            Ok(true) => "repeat",
            Err(e) => e.reason(),
        };
        self.ballots.add(1, &[KeyValue::new("outcome", name)]);
    }

    /// Records the size of a verification batch.
    pub(crate) fn verify_batch(&self, ballots: usize) {
        self.verify_batch
            .record(u64::try_from(ballots).unwrap_or(u64::MAX), &[]);
    }
}
