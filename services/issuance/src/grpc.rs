//! The `urna.v1.Issuance` gRPC service: convert, call [`Issuance`], convert back,
//! with one mapping from [`IssuanceError`] to [`Status`].

use tonic::{Request, Response, Status};
use urna_election::{Method, StyleContest, TallyKind};
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
    let d = &signed.document;
    v1::GetBallotStyleResponse {
        election_id: d.election_id.clone(),
        election_fingerprint: d.fingerprint.to_vec(),
        style_id: d.style_id.clone(),
        title: d.title.clone(),
        contests: d.contests.iter().map(contest).collect(),
        election_public_key: d.election_key.to_vec(),
        canonical_style: signed.canonical.clone(),
        signing_key: signed.signing_key.to_vec(),
        signature: signed.signature.to_vec(),
    }
}

fn contest(c: &StyleContest) -> v1::Contest {
    v1::Contest {
        id: c.id.clone(),
        title: c.title.clone(),
        description: c.description.clone(),
        method: method(c.method).into(),
        tally: match c.tally {
            TallyKind::Homomorphic => v1::TallyKind::Homomorphic,
            TallyKind::Mixnet => v1::TallyKind::Mixnet,
        }
        .into(),
        seats: c.seats,
        options: c
            .options
            .iter()
            .map(|o| v1::ContestOption {
                id: o.id.clone(),
                name: o.name.clone(),
                party: o.party.clone(),
                description: o.description.clone(),
            })
            .collect(),
        shape: Some(v1::ContestShape {
            options: u32::try_from(c.shape.options).unwrap_or(u32::MAX),
            max_value: c.shape.max_value,
            min_total: c.shape.min_sum,
            max_total: c.shape.max_sum,
        }),
        score_min: c.score_min,
    }
}

fn method(m: Method) -> v1::CountingMethod {
    match m {
        Method::Plurality => v1::CountingMethod::Plurality,
        Method::Approval => v1::CountingMethod::Approval,
        Method::Referendum => v1::CountingMethod::Referendum,
        Method::Score => v1::CountingMethod::Score,
        Method::Star => v1::CountingMethod::Star,
        Method::Borda => v1::CountingMethod::Borda,
        Method::Irv => v1::CountingMethod::Irv,
        Method::ScottishStv => v1::CountingMethod::ScottishStv,
        Method::MeekStv => v1::CountingMethod::MeekStv,
        Method::WigmStv => v1::CountingMethod::WigmStv,
        Method::Schulze => v1::CountingMethod::Schulze,
        Method::RankedPairs => v1::CountingMethod::RankedPairs,
    }
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
