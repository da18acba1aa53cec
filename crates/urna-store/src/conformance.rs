//! The conformance suite every backend passes, written once against the traits.
//!
//! Each check is an `async fn` that takes a fresh, empty store and returns `Ok(())`
//! if the backend behaves; a store error the check did not expect is returned, and a
//! wrong answer fails an assertion. A backend's tests call each check on a store of
//! its own (see `tests/sqlite.rs` and `tests/postgres.rs`); [`restart_keeps_everything`]
//! and [`board_survives_restart`] also need a way to reopen the same storage. Each
//! check asks only for the concern traits it exercises, so a backend runs the checks
//! of every concern it implements. The concurrent checks need a multi-threaded runtime.

mod ballots;
mod elections;
mod keys;
mod mix;
mod outbox;
mod persistence;
mod roll;
mod tally;

pub use ballots::{
    board_index_is_write_once, board_indexes_in_one_batch, cast_last_counts, cast_once,
    concurrent_casts_once, concurrent_retries_are_idempotent, spoiled_ballots,
    test_ballots_are_discarded_on_opening, tracking_code_lookup,
};
pub use elections::{lifecycle_transitions, manifest_idempotence, results_are_write_once};
pub use keys::{joint_key_is_set_once_in_draft, secrets_are_write_once};
pub use mix::mix_steps_in_order_once_per_trustee;
pub use outbox::{concurrent_enqueues_keep_one, entry_outbox};
pub use persistence::{board_logs, board_survives_restart, restart_keeps_everything};
pub use roll::{concurrent_issuance_once, credential_issuance, roll_and_codes};
pub use tally::{
    ceremony_phase_compare_and_set, dealings_and_records_are_write_once,
    tally_config_is_write_once_in_draft, tally_task_and_partials, trustees_register_once_in_draft,
};

use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use sha2::{Digest, Sha256};
use urna_crypto::Nullifier;
use urna_election::{Manifest, Revoting};

use crate::code::{CodeHash, CodeParams, VotingCode};
use crate::election::{ElectionState, ElectionStore};
use crate::error::{Error, Result};
use crate::roll::RollEntry;
use crate::{BallotStore, NewBallot, RollStore};

/// A valid manifest for election `id` and its YAML; `juniors` adds a second style,
/// `title` changes the fingerprint.
pub fn manifest(
    id: &str,
    revoting: Revoting,
    title: &str,
    juniors: bool,
) -> Result<(Manifest, String)> {
    let mut yaml = format!(
        "id: {id}
title: {title}
start: 2026-03-01T09:00:00Z
end: 2026-03-08T18:00:00Z
revoting: {}
contests:
  - id: chair
    title: Chair
    method: plurality
    options:
      - {{ id: ada, name: Ada Lovelace }}
      - {{ id: grace, name: Grace Hopper }}
ballot_styles:
  - id: members
    title: Members
    contests: [chair]
",
        revoting.name()
    );
    if juniors {
        yaml.push_str("  - id: juniors\n    title: Juniors\n    contests: [chair]\n");
    }
    let manifest =
        Manifest::from_yaml(&yaml).map_err(|_| Error::InvalidInput("fixture manifest"))?;
    Ok((manifest, yaml))
}

/// Creates election `id` and walks it to `state`.
pub async fn election_in<S: ElectionStore>(
    store: &S,
    id: &str,
    revoting: Revoting,
    state: ElectionState,
) -> Result<Manifest> {
    let (m, yaml) = manifest(id, revoting, "Club election", true)?;
    store.apply_manifest(&m, &yaml).await?;
    let path = [
        ElectionState::Draft,
        ElectionState::Test,
        ElectionState::Open,
        ElectionState::Closed,
    ];
    for pair in path.windows(2) {
        if pair[0] == state {
            break;
        }
        store.transition(id, pair[0], pair[1]).await?;
    }
    Ok(m)
}

/// Cheap Argon2id parameters for tests (the minimum memory).
pub fn test_params() -> Result<CodeParams> {
    CodeParams::new(8, 1, 1)
}

/// A deterministic generator for codes and salts.
pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// Imports `voters` with style `style` and fresh codes; returns the codes.
pub async fn import<S: RollStore>(
    store: &S,
    election: &str,
    voters: &[&str],
    style: &str,
    seed: u64,
) -> Result<Vec<VotingCode>> {
    let mut rng = rng(seed);
    let mut codes = Vec::new();
    let mut entries = Vec::new();
    for voter in voters {
        let code = VotingCode::generate(&mut rng);
        entries.push(RollEntry {
            voter: (*voter).to_owned(),
            style: style.to_owned(),
            code: CodeHash::new(&code, test_params()?, &mut rng)?,
        });
        codes.push(code);
    }
    store.import_roll(election, entries).await?;
    Ok(codes)
}

/// A ballot for the credential numbered `credential`; `variant` makes different
/// bytes for the same credential. The tracking code hashes the bytes.
pub fn ballot(credential: u8, variant: u32) -> NewBallot {
    let mut bytes = vec![credential; 48];
    bytes.extend_from_slice(&variant.to_be_bytes());
    NewBallot {
        nullifier: Nullifier::from_bytes([credential; 32]),
        tracking_code: Sha256::digest(&bytes).into(),
        ballot: bytes,
    }
}

/// Casts and expects acceptance; returns the record's `seq`.
pub async fn accepted<S: BallotStore>(store: &S, election: &str, b: NewBallot) -> Result<u64> {
    match store.cast(election, b).await? {
        crate::CastOutcome::Accepted(r) => Ok(r.seq),
        crate::CastOutcome::Repeat(_) => Err(Error::InvalidInput("expected a new ballot")),
    }
}
