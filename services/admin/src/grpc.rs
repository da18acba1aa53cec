//! The `urna.v1.Admin` gRPC service: thin handlers that check the request's shape,
//! call [`Admin`] and convert back, and the one mapping from [`AdminError`] to
//! [`Status`].

use tonic::service::interceptor::InterceptedService;
use tonic::{Request, Response, Status};
use urna_election::Revoting;
use urna_proto::v1 as pb;
use urna_proto::v1::admin_server::{self, AdminServer};
use urna_store::{Applied, ElectionState, Store};

use crate::admin::Admin;
use crate::error::{AdminError, RollProblem};
use crate::token::{AdminToken, interceptor};

/// The longest election id a request may carry.
const MAX_ID_LEN: usize = 64;

/// The largest request the service decodes: a roll of some 300,000 voters. The
/// token is checked before the body is read, so only the admin can send this much.
/// (A client reading the codes of a large roll must raise its own decoding limit
/// likewise.)
pub const MAX_REQUEST_BYTES: usize = 16 << 20;

/// The admin service, ready for a tonic server: every call must carry the admin
/// token.
pub fn service<S: Store>(
    admin: Admin<S>,
    token: AdminToken,
) -> InterceptedService<AdminServer<AdminService<S>>, impl tonic::service::Interceptor + Clone> {
    let server =
        AdminServer::new(AdminService { admin }).max_decoding_message_size(MAX_REQUEST_BYTES);
    InterceptedService::new(server, interceptor(token))
}

/// The generated `Admin` trait over the domain.
pub struct AdminService<S> {
    admin: Admin<S>,
}

#[tonic::async_trait]
impl<S: Store> admin_server::Admin for AdminService<S> {
    async fn create_election(
        &self,
        request: Request<pb::CreateElectionRequest>,
    ) -> Result<Response<pb::CreateElectionResponse>, Status> {
        let created = self
            .admin
            .create(&request.into_inner().manifest_yaml)
            .await?;
        Ok(Response::new(pb::CreateElectionResponse {
            election_id: created.election_id,
            election_fingerprint: created.fingerprint.to_vec(),
            outcome: outcome(created.outcome).into(),
            state: state(created.state).into(),
        }))
    }

    async fn import_roll(
        &self,
        request: Request<pb::ImportRollRequest>,
    ) -> Result<Response<pb::ImportRollResponse>, Status> {
        let request = request.into_inner();
        let imported = self
            .admin
            .import_roll(election_id(&request.election_id)?, &request.csv)
            .await?;
        Ok(Response::new(pb::ImportRollResponse {
            imported: imported.imported,
            total: imported.total,
            codes: imported
                .codes
                .into_iter()
                .map(|c| pb::VotingCode {
                    voting_code: c.code.display().to_string(),
                    voter_id: c.voter,
                })
                .collect(),
        }))
    }

    async fn open_election(
        &self,
        request: Request<pb::OpenElectionRequest>,
    ) -> Result<Response<pb::OpenElectionResponse>, Status> {
        let request = request.into_inner();
        let opened = self
            .admin
            .open(election_id(&request.election_id)?, request.test)
            .await?;
        Ok(Response::new(pb::OpenElectionResponse {
            state: state(opened.state).into(),
            discarded_test_ballots: opened.discarded_test_ballots,
        }))
    }

    async fn close_election(
        &self,
        request: Request<pb::CloseElectionRequest>,
    ) -> Result<Response<pb::CloseElectionResponse>, Status> {
        let request = request.into_inner();
        let index = self.admin.close(election_id(&request.election_id)?).await?;
        Ok(Response::new(pb::CloseElectionResponse {
            state: pb::ElectionState::Closed.into(),
            polls_closed_index: index,
        }))
    }

    async fn get_election_status(
        &self,
        request: Request<pb::GetElectionStatusRequest>,
    ) -> Result<Response<pb::GetElectionStatusResponse>, Status> {
        let request = request.into_inner();
        let status = self
            .admin
            .status(election_id(&request.election_id)?)
            .await?;
        Ok(Response::new(pb::GetElectionStatusResponse {
            election_id: status.election_id,
            election_fingerprint: status.fingerprint.to_vec(),
            title: status.title,
            state: state(status.state).into(),
            revoting: match status.revoting {
                Revoting::Once => pb::RevotingPolicy::Once,
                Revoting::LastCounts => pb::RevotingPolicy::LastCounts,
            }
            .into(),
            start: status.start,
            end: status.end,
            voters: status.voters,
            credentials_issued: status.credentials_issued,
            ballots_cast: status.ballots_cast,
            ballots_spoiled: status.ballots_spoiled,
            board_size: status.board_size,
        }))
    }
}

/// An election id of 1 to 64 bytes.
fn election_id(id: &str) -> Result<&str, Status> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(Status::invalid_argument("malformed election id"));
    }
    Ok(id)
}

fn state(s: ElectionState) -> pb::ElectionState {
    match s {
        ElectionState::Draft => pb::ElectionState::Draft,
        ElectionState::Test => pb::ElectionState::Test,
        ElectionState::Open => pb::ElectionState::Open,
        ElectionState::Closed => pb::ElectionState::Closed,
    }
}

fn outcome(a: Applied) -> pb::ManifestOutcome {
    match a {
        Applied::Created => pb::ManifestOutcome::Created,
        Applied::Unchanged => pb::ManifestOutcome::Unchanged,
        Applied::Replaced => pb::ManifestOutcome::Updated,
    }
}

impl From<AdminError> for Status {
    /// The admin is trusted, so refusals carry their details (the manifest's line,
    /// the CSV line, the state); faults get "internal error" and go to tracing.
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Roll(ref r) if matches!(r.problem, RollProblem::AlreadyOnRoll(_)) => {
                Status::already_exists(e.to_string())
            }
            AdminError::ConcurrentImport => Status::already_exists(e.to_string()),
            AdminError::Manifest(_) | AdminError::Roll(_) => {
                Status::invalid_argument(e.to_string())
            }
            AdminError::UnknownElection => Status::not_found("unknown election"),
            AdminError::ManifestChanged
            | AdminError::StyleInUse
            | AdminError::KeyCeremonyNotDone
            | AdminError::EmptyRoll
            | AdminError::WrongState { .. } => Status::failed_precondition(e.to_string()),
            AdminError::Board(urna_service::Error::Unavailable) => {
                Status::unavailable("service busy, retry")
            }
            AdminError::Store(_)
            | AdminError::Board(_)
            | AdminError::Corrupt(_)
            | AdminError::KeyGeneration
            | AdminError::Task(_) => {
                tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "admin call failed");
                Status::internal("internal error")
            }
        }
    }
}
