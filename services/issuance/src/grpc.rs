//! The `urna.v1.Issuance` gRPC service: convert, call [`Issuance`], convert back,
//! with one mapping from [`IssuanceError`] to [`Status`].

use tonic::{Request, Response, Status};
use urna_proto::v1;
use urna_proto::v1::issuance_server::IssuanceServer;
use urna_store::Store;

use crate::error::IssuanceError;
use crate::issuance::{Issuance, SignedStyle};

/// The tonic server of the Issuance service over `issuance`.
pub fn service<S: Store>(issuance: Issuance<S>) -> IssuanceServer<Issuance<S>> {
    IssuanceServer::new(issuance)
}

#[tonic::async_trait]
impl<S: Store> v1::issuance_server::Issuance for Issuance<S> {
    async fn get_ballot_style(
        &self,
        request: Request<v1::GetBallotStyleRequest>,
    ) -> Result<Response<v1::GetBallotStyleResponse>, Status> {
        let r = request.into_inner();
        let signed = self.style(&r.election_id, &r.style_id).await?;
        Ok(Response::new(response(&signed)))
    }
}

/// The response for a signed style: the structured view, the bytes, key and signature.
#[must_use]
pub fn response(signed: &SignedStyle) -> v1::GetBallotStyleResponse {
    urna_proto::style::style_response(
        &signed.document,
        signed.canonical.clone(),
        signed.signing_key.to_vec(),
        signed.signature.to_vec(),
    )
}

impl From<IssuanceError> for Status {
    fn from(error: IssuanceError) -> Self {
        match error {
            IssuanceError::UnknownElection => Status::not_found("election not found"),
            IssuanceError::UnknownStyle => Status::not_found("ballot style not found"),
            IssuanceError::NotReady(_) => Status::failed_precondition("election is not ready"),
            IssuanceError::Store(urna_store::Error::Backend(e)) => {
                tracing::error!(error = %e, "issuance: store backend failed");
                Status::unavailable("storage unavailable")
            }
            other => {
                tracing::error!(error = %other, "issuance: internal error");
                Status::internal("internal error")
            }
        }
    }
}
