//! What a timed request does, and preparing each scenario's requests before the clock
//! starts:
//!
//! - `cast`: one pre-encrypted reference ballot per request, to the casting
//!   endpoints round-robin (each voter logged in and credentialed beforehand);
//! - `auth`: a voter's login and blind-signed credential per request, through the
//!   SDK, so the client's own RSA blinding and unblinding (about 1 ms, see
//!   docs/performance.md) is inside each latency and the generator's CPU;
//! - `read`: the board's public reads, alternately the latest checkpoint and a bundle
//!   of 16 entries spread over the board, to the board endpoint.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use tonic::transport::Channel;
use urna_proto::v1::board_client::BoardClient;
use urna_proto::v1::casting_client::CastingClient;
use urna_proto::v1::{CastBallotRequest, GetCheckpointRequest, GetEntriesRequest};
use urna_sdk::{Election, Voter};

use crate::prepare;
use crate::report::Outcome;
use crate::run::{Request, outcome, request};
use crate::target::{self, Target};

/// Entries per read of the `read` scenario.
const READ_COUNT: u32 = 16;

/// The scenario a run drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Cast pre-encrypted reference ballots.
    Cast,
    /// Log voters in and get their credentials blind-signed.
    Auth,
    /// Read the board: checkpoints and entry bundles.
    Read,
}

impl Scenario {
    /// Its name in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Scenario::Cast => "cast",
            Scenario::Auth => "auth",
            Scenario::Read => "read",
        }
    }

    /// Whether each request uses up a voter of the roll.
    pub const fn needs_voters(self) -> bool {
        !matches!(self, Scenario::Read)
    }
}

/// What [`prepare`] needs besides the target.
pub struct Inputs<'a> {
    pub voter: &'a Voter,
    pub election: &'a Election,
    /// `(voter_id, voting_code)`, one per request (empty for `read`).
    pub voters: Vec<(String, String)>,
    /// Requests the schedule sends.
    pub count: usize,
    /// HTTP/2 connections per endpoint.
    pub connections: usize,
    /// Voters prepared at a time (`cast`).
    pub concurrency: usize,
}

/// The requests of `scenario` and the endpoints they go to.
///
/// # Errors
/// A failed preparation (login, credential, encryption, the board's checkpoint) or
/// an endpoint that cannot be reached.
pub async fn prepare(
    scenario: Scenario,
    target: &Target,
    inputs: Inputs<'_>,
) -> Result<(Vec<Request>, Vec<String>)> {
    match scenario {
        Scenario::Cast => {
            let ballots = prepare::ballots(
                inputs.voter,
                inputs.election,
                inputs.voters,
                inputs.concurrency,
            )
            .await?;
            let clients: Vec<_> = round_robin(&target.casting, target, inputs.connections)?
                .into_iter()
                .map(CastingClient::new)
                .collect();
            let election: Arc<str> = target.election.as_str().into();
            let requests = ballots
                .into_iter()
                .enumerate()
                .map(|(i, ballot)| {
                    let mut client = clients[i % clients.len()].clone();
                    let election = Arc::clone(&election);
                    request(move |timeout| async move {
                        let mut call = tonic::Request::new(CastBallotRequest {
                            election_id: election.to_string(),
                            ballot,
                        });
                        call.set_timeout(timeout);
                        match client.cast_ballot(call).await {
                            Ok(answer) if answer.get_ref().receipt.is_none() => {
                                Outcome::Failed("NoReceipt".into())
                            }
                            answer => outcome(answer),
                        }
                    })
                })
                .collect();
            Ok((
                requests,
                target.casting.iter().map(ToString::to_string).collect(),
            ))
        }
        Scenario::Auth => {
            let requests = inputs
                .voters
                .into_iter()
                .map(|(id, code)| {
                    let (voter, election) = (inputs.voter.clone(), inputs.election.clone());
                    request(move |_timeout| async move {
                        let credential = async {
                            let session = voter.login(&id, &code).await?;
                            voter.credential(&election, &session).await
                        };
                        match credential.await {
                            Ok(_) => Outcome::Ok,
                            Err(e) => Outcome::Failed(error_name(&e)),
                        }
                    })
                })
                .collect();
            Ok((requests, vec![target.endpoints.auth.to_string()]))
        }
        Scenario::Read => {
            let board = std::slice::from_ref(&target.endpoints.board);
            let clients: Vec<_> = round_robin(board, target, inputs.connections)?
                .into_iter()
                .map(BoardClient::new)
                .collect();
            let size = clients[0]
                .clone()
                .get_checkpoint(GetCheckpointRequest {
                    election_id: target.election.clone(),
                })
                .await
                .context("reading the board's checkpoint")?
                .into_inner()
                .checkpoint
                .map_or(0, |c| c.tree_size)
                .max(1);
            let election: Arc<str> = target.election.as_str().into();
            let requests = (0..inputs.count)
                .map(|i| {
                    let mut client = clients[i % clients.len()].clone();
                    let election = election.to_string();
                    // Spread over the board: a stride prime to any board size that
                    // matters here.
                    let start = (i as u64).wrapping_mul(7919) % size;
                    request(move |timeout| async move {
                        if i % 2 == 0 {
                            let mut call = tonic::Request::new(GetCheckpointRequest {
                                election_id: election,
                            });
                            call.set_timeout(timeout);
                            outcome(client.get_checkpoint(call).await)
                        } else {
                            let mut call = tonic::Request::new(GetEntriesRequest {
                                election_id: election,
                                start,
                                count: READ_COUNT,
                            });
                            call.set_timeout(timeout);
                            outcome(client.get_entries(call).await)
                        }
                    })
                })
                .collect();
            Ok((requests, vec![target.endpoints.board.to_string()]))
        }
    }
}

/// `connections` channels to each of `endpoints`, ordered endpoint after endpoint
/// for each connection, so that consecutive requests go to different endpoints.
fn round_robin(
    endpoints: &[urna_sdk::Uri],
    target: &Target,
    connections: usize,
) -> Result<Vec<Channel>> {
    let connections = connections.max(1);
    let per_endpoint = endpoints
        .iter()
        .map(|uri| target::channels(uri, &target.tls, connections))
        .collect::<Result<Vec<_>>>()?;
    anyhow::ensure!(!per_endpoint.is_empty(), "no endpoint to drive");
    Ok((0..connections)
        .flat_map(|c| per_endpoint.iter().map(move |channels| channels[c].clone()))
        .collect())
}

/// A short name of an SDK error, for the report's error counts (`RateLimited`,
/// `Unavailable`, ...).
fn error_name(e: &urna_sdk::Error) -> String {
    let debug = format!("{e:?}");
    debug
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or("Error")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_errors_are_named_by_their_variant() {
        assert_eq!(
            error_name(&urna_sdk::Error::RateLimited("slow down".into())),
            "RateLimited"
        );
        assert_eq!(
            error_name(&urna_sdk::Error::Config("no endpoint")),
            "Config"
        );
    }
}
