//! `urna.v1.Casting` over [`Casting`]: thin handlers and the one mapping from
//! [`CastingError`] to [`Status`].

use tonic::{Request, Response, Status};
use urna_proto::v1;
use urna_proto::v1::casting_server::{self, CastingServer};
use urna_service::Clock;
use urna_service::board_grpc::{checkpoint_message, entry_message, inclusion_message};
use urna_store::Store;

use crate::casting::Casting;
use crate::error::CastingError;
use crate::opening::Opening;
use crate::receipt::Receipt;

/// The tonic server of the Casting service.
pub fn service<S: Store, C: Clock>(casting: Casting<S, C>) -> CastingServer<Casting<S, C>> {
    CastingServer::new(casting)
}

impl From<CastingError> for Status {
    fn from(e: CastingError) -> Self {
        match e {
            CastingError::TooLarge => Status::resource_exhausted("ballot too large"),
            CastingError::Malformed | CastingError::WrongElection => {
                Status::invalid_argument("malformed ballot")
            }
            CastingError::InvalidCredential => Status::invalid_argument("invalid credential"),
            CastingError::InvalidProof => Status::invalid_argument("invalid ballot proof"),
            CastingError::InvalidOpening => Status::invalid_argument("invalid ballot opening"),
            CastingError::UnknownElection => Status::not_found("unknown election"),
            CastingError::UnknownBallot => Status::not_found("no ballot with this tracking code"),
            CastingError::NotOpen => Status::failed_precondition("election not open"),
            CastingError::Closed => Status::failed_precondition("election closed"),
            CastingError::CredentialUsed => Status::already_exists("credential already used"),
            CastingError::AlreadyCast => Status::failed_precondition("ballot already cast"),
            CastingError::Spoiled => Status::failed_precondition("ballot was spoiled"),
            CastingError::Unavailable => Status::unavailable("casting busy, retry"),
            CastingError::StorageUnavailable(error) => {
                tracing::warn!(%error, "casting: storage unavailable");
                Status::unavailable("storage unavailable")
            }
            CastingError::Internal(error) => {
                tracing::error!(%error, "casting failure");
                Status::internal("internal error")
            }
            CastingError::Redis(error) => {
                tracing::error!(%error, "casting's Redis configuration");
                Status::internal("internal error")
            }
        }
    }
}

impl From<Receipt> for v1::Receipt {
    fn from(r: Receipt) -> Self {
        let size = r.checkpoint.checkpoint().size();
        v1::Receipt {
            election_id: r.election_id,
            tracking_code: r.tracking_code.to_vec(),
            short_code: r.short_code,
            inclusion_proof: Some(inclusion_message(r.index, size, &r.inclusion_proof)),
            entry: Some(entry_message(r.index, r.entry)),
            checkpoint: Some(checkpoint_message(&r.checkpoint)),
            supersedes_previous: r.supersedes_previous,
            spoiled: r.spoiled,
        }
    }
}

impl TryFrom<v1::ContestOpening> for Opening {
    type Error = CastingError;

    fn try_from(o: v1::ContestOpening) -> Result<Self, CastingError> {
        let nonces = o
            .nonces
            .iter()
            .map(|n| <[u8; 32]>::try_from(n.as_slice()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| CastingError::InvalidOpening)?;
        Ok(Opening {
            contest_id: o.contest_id,
            values: o.values,
            nonces,
        })
    }
}

#[tonic::async_trait]
impl<S: Store, C: Clock> casting_server::Casting for Casting<S, C> {
    async fn cast_ballot(
        &self,
        request: Request<v1::CastBallotRequest>,
    ) -> Result<Response<v1::CastBallotResponse>, Status> {
        let request = request.into_inner();
        let receipt = self.cast(&request.election_id, &request.ballot).await?;
        Ok(Response::new(v1::CastBallotResponse {
            receipt: Some(receipt.into()),
        }))
    }

    async fn spoil_ballot(
        &self,
        request: Request<v1::SpoilBallotRequest>,
    ) -> Result<Response<v1::SpoilBallotResponse>, Status> {
        let request = request.into_inner();
        let openings = request
            .openings
            .into_iter()
            .map(Opening::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let receipt = self
            .spoil(&request.election_id, &request.ballot, &openings)
            .await?;
        Ok(Response::new(v1::SpoilBallotResponse {
            receipt: Some(receipt.into()),
        }))
    }

    async fn get_receipt(
        &self,
        request: Request<v1::GetReceiptRequest>,
    ) -> Result<Response<v1::GetReceiptResponse>, Status> {
        let request = request.into_inner();
        let code = <[u8; 32]>::try_from(request.tracking_code.as_slice())
            .map_err(|_| Status::invalid_argument("a tracking code is 32 bytes"))?;
        let receipt = self.receipt(&request.election_id, code).await?;
        Ok(Response::new(v1::GetReceiptResponse {
            receipt: Some(receipt.into()),
        }))
    }
}
