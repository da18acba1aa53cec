//! Where the services are and how to reach them: TLS trusting one CA certificate, or
//! plaintext for `http://` endpoints.

pub use tonic::transport::Uri;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use urna_proto::v1::auth_client::AuthClient;
use urna_proto::v1::board_client::BoardClient;
use urna_proto::v1::casting_client::CastingClient;
use urna_proto::v1::issuance_client::IssuanceClient;

use crate::error::{Error, Result};

/// The four public services a voter talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// auth: login and credential issuance.
    pub auth: Uri,
    /// issuance: the signed ballot styles.
    pub issuance: Uri,
    /// casting: casting and spoiling ballots.
    pub casting: Uri,
    /// The bulletin board's read API.
    pub board: Uri,
}

/// How `https://` endpoints are authenticated.
#[derive(Clone, Default)]
pub enum Tls {
    /// Only `http://` endpoints (plaintext); an `https://` endpoint is refused.
    #[default]
    Plaintext,
    /// Trust exactly this CA certificate (PEM), for example the throwaway CA `urna dev`
    /// makes. `http://` endpoints stay plaintext.
    Ca(Vec<u8>),
}

impl core::fmt::Debug for Tls {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Tls::Plaintext => f.write_str("Plaintext"),
            Tls::Ca(pem) => f.debug_tuple("Ca").field(&pem.len()).finish(),
        }
    }
}

/// Connected gRPC clients of the four services. Connections are made lazily, on the
/// first call, so an unreachable service shows up as [`Error::Unavailable`] then.
#[derive(Debug, Clone)]
pub(crate) struct Clients {
    pub(crate) auth: AuthClient<Channel>,
    pub(crate) issuance: IssuanceClient<Channel>,
    pub(crate) casting: CastingClient<Channel>,
    pub(crate) board: BoardClient<Channel>,
}

impl Clients {
    /// Clients of `endpoints`. Needs a Tokio runtime.
    pub(crate) fn connect(endpoints: &Endpoints, tls: &Tls) -> Result<Self> {
        Ok(Self {
            auth: AuthClient::new(channel(&endpoints.auth, tls)?),
            issuance: IssuanceClient::new(channel(&endpoints.issuance, tls)?),
            casting: CastingClient::new(channel(&endpoints.casting, tls)?),
            board: BoardClient::new(channel(&endpoints.board, tls)?),
        })
    }
}

fn channel(uri: &Uri, tls: &Tls) -> Result<Channel> {
    let endpoint = Endpoint::from(uri.clone());
    let endpoint = match (uri.scheme_str(), tls) {
        (Some("http"), _) => endpoint,
        (Some("https"), Tls::Ca(pem)) => {
            let host = uri.host().ok_or(Error::Config("endpoint without a host"))?;
            let config = ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(pem))
                .domain_name(host.trim_start_matches('[').trim_end_matches(']'));
            endpoint
                .tls_config(config)
                .map_err(|_| Error::Config("bad TLS configuration or CA certificate"))?
        }
        (Some("https"), Tls::Plaintext) => {
            return Err(Error::Config("an https endpoint needs a CA certificate"));
        }
        _ => return Err(Error::Config("endpoints must be http:// or https:// URIs")),
    };
    Ok(endpoint.connect_lazy())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints(scheme: &str) -> Endpoints {
        let uri = |port: u16| -> Uri { format!("{scheme}://127.0.0.1:{port}").parse().unwrap() };
        Endpoints {
            auth: uri(1),
            issuance: uri(2),
            casting: uri(3),
            board: uri(4),
        }
    }

    #[tokio::test]
    async fn https_needs_a_ca_and_other_schemes_are_refused() {
        assert!(Clients::connect(&endpoints("http"), &Tls::Plaintext).is_ok());
        assert!(matches!(
            Clients::connect(&endpoints("https"), &Tls::Plaintext),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            Clients::connect(&endpoints("ftp"), &Tls::Plaintext),
            Err(Error::Config(_))
        ));
    }

    #[tokio::test]
    async fn an_unreachable_service_is_unavailable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let uri: Uri = format!("http://127.0.0.1:{port}").parse().unwrap();
        let all = Endpoints {
            auth: uri.clone(),
            issuance: uri.clone(),
            casting: uri.clone(),
            board: uri,
        };
        let mut clients = Clients::connect(&all, &Tls::Plaintext).unwrap();
        let status = clients
            .board
            .get_checkpoint(urna_proto::v1::GetCheckpointRequest {
                election_id: "e".into(),
            })
            .await
            .unwrap_err();
        assert!(matches!(Error::from(status), Error::Unavailable(_)));
    }
}
