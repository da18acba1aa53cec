//! The `urna.v1.Auth` gRPC service: convert, call [`Auth`], convert back, with one
//! mapping from [`AuthError`] to [`Status`].

use std::net::{IpAddr, Ipv4Addr};

use tonic::{Request, Response, Status};
use urna_proto::v1;
use urna_proto::v1::auth_server::AuthServer;
use urna_store::{Error as StoreError, Missing};

use crate::auth::Auth;
use crate::error::AuthError;
use crate::limit::LoginLimiter;
use crate::session::SessionToken;

/// The address rate limits charge when the transport reports none (a transport
/// other than TCP): all such clients share one budget.
const UNKNOWN_CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

/// The tonic server of the Auth service over `auth`.
pub fn service<S: urna_store::Store, L: LoginLimiter>(auth: Auth<S, L>) -> AuthServer<Auth<S, L>> {
    AuthServer::new(auth)
}

#[tonic::async_trait]
impl<S: urna_store::Store, L: LoginLimiter> v1::auth_server::Auth for Auth<S, L> {
    async fn voter_login(
        &self,
        request: Request<v1::VoterLoginRequest>,
    ) -> Result<Response<v1::VoterLoginResponse>, Status> {
        let client = request.remote_addr().map_or(UNKNOWN_CLIENT, |a| a.ip());
        let r = request.into_inner();
        let session = self
            .login(&r.election_id, &r.voter_id, &r.voting_code, client)
            .await?;
        Ok(Response::new(v1::VoterLoginResponse {
            session_token: session.token.as_str().to_owned(),
            expires_at: session.expires_at,
            ballot_style_id: session.ballot_style,
            election_fingerprint: session.fingerprint.to_vec(),
        }))
    }

    async fn issue_credential(
        &self,
        request: Request<v1::IssueCredentialRequest>,
    ) -> Result<Response<v1::IssueCredentialResponse>, Status> {
        let r = request.into_inner();
        let token = SessionToken::new(r.session_token);
        let blind_signature = self.issue(&token, &r.blinded_message).await?;
        Ok(Response::new(v1::IssueCredentialResponse {
            blind_signature,
        }))
    }

    async fn credentials_issued(
        &self,
        request: Request<v1::CredentialsIssuedRequest>,
    ) -> Result<Response<v1::CredentialsIssuedResponse>, Status> {
        let count = Auth::credentials_issued(self, &request.into_inner().election_id).await?;
        Ok(Response::new(v1::CredentialsIssuedResponse { count }))
    }

    async fn get_auth_key(
        &self,
        request: Request<v1::GetAuthKeyRequest>,
    ) -> Result<Response<v1::GetAuthKeyResponse>, Status> {
        let key = self.auth_key(&request.into_inner().election_id).await?;
        Ok(Response::new(v1::GetAuthKeyResponse {
            public_key_spki: key.spki,
            modulus_bits: key.modulus_bits,
        }))
    }
}

impl From<AuthError> for Status {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::InvalidCredentials => Status::unauthenticated("invalid credentials"),
            AuthError::InvalidSession => Status::unauthenticated("invalid or expired session"),
            AuthError::RateLimited(_) => Status::resource_exhausted("too many login attempts"),
            AuthError::UnknownElection
            | AuthError::Store(StoreError::NotFound(Missing::Election)) => {
                Status::not_found("election not found")
            }
            AuthError::NotIssuing(_) | AuthError::Store(StoreError::WrongState { .. }) => {
                Status::failed_precondition("election is not issuing credentials")
            }
            AuthError::NoKey => Status::failed_precondition("election keys are not set up"),
            AuthError::BlindedLength => {
                Status::invalid_argument("blinded message length does not match the key")
            }
            AuthError::AlreadyIssued => Status::already_exists("credential already issued"),
            AuthError::Store(StoreError::Backend(e)) => {
                tracing::error!(error = %e, "auth: store backend failed");
                Status::unavailable("storage unavailable")
            }
            other => {
                tracing::error!(error = %other, "auth: internal error");
                Status::internal("internal error")
            }
        }
    }
}
