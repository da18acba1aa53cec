//! TLS for every listener: certificates from files in production, a throwaway
//! certificate authority for `urna dev` and the tests.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

/// A server certificate chain and its private key, PEM.
#[derive(Clone)]
pub struct TlsIdentity {
    cert: String,
    key: String,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// Reads the certificate chain and key files.
    pub fn from_files(cert: &Path, key: &Path) -> Result<Self> {
        Ok(Self {
            cert: std::fs::read_to_string(cert)
                .with_context(|| format!("reading TLS certificate {}", cert.display()))?,
            key: std::fs::read_to_string(key)
                .with_context(|| format!("reading TLS key {}", key.display()))?,
        })
    }

    /// The tonic server configuration.
    pub fn grpc(&self) -> ServerTlsConfig {
        ServerTlsConfig::new().identity(Identity::from_pem(&self.cert, &self.key))
    }

    /// The rustls configuration of the HTTP listener (HTTP/1.1 and HTTP/2 by ALPN).
    pub fn http(&self) -> Result<Arc<rustls::ServerConfig>> {
        let certs = CertificateDer::pem_slice_iter(self.cert.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .context("parsing the TLS certificate chain")?;
        let key =
            PrivateKeyDer::from_pem_slice(self.key.as_bytes()).context("parsing the TLS key")?;
        let mut config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .context("the TLS certificate does not match its key")?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// A throwaway certificate authority and a server certificate it issued for
/// `localhost` and 127.0.0.1, written to a directory (`ca.pem`, `server.pem`,
/// `server.key`, the key readable by the owner only).
pub struct DevCertificates {
    /// The CA certificate clients trust.
    pub ca: PathBuf,
    /// The server's identity.
    pub identity: TlsIdentity,
}

impl DevCertificates {
    /// Makes the CA and the server certificate, or reuses those already in `dir`.
    pub fn in_dir(dir: &Path) -> Result<Self> {
        let (ca, cert, key) = (
            dir.join("ca.pem"),
            dir.join("server.pem"),
            dir.join("server.key"),
        );
        if !(ca.exists() && cert.exists() && key.exists()) {
            let (ca_pem, cert_pem, key_pem) = generate()?;
            std::fs::create_dir_all(dir)?;
            std::fs::write(&ca, ca_pem)?;
            std::fs::write(&cert, cert_pem)?;
            crate::files::write_private(&key, key_pem.as_bytes())?;
        }
        Ok(Self {
            identity: TlsIdentity::from_files(&cert, &key)?,
            ca,
        })
    }
}

/// A fresh CA (PEM), and a server certificate and key (PEM) it issued.
fn generate() -> Result<(String, String, String)> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "urna dev throwaway CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);
    let server_key = KeyPair::generate()?;
    let mut server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    server
        .distinguished_name
        .push(DnType::CommonName, "urna dev server");
    let server_cert = server.signed_by(&server_key, &issuer)?;
    Ok((ca_cert.pem(), server_cert.pem(), server_key.serialize_pem()))
}

/// The tonic client configuration: trusts `ca` (a PEM file) if given, else the
/// platform's roots are not loaded and only `ca` can be trusted, so a CA is required
/// for `https` endpoints.
pub fn client(ca: &Path) -> Result<ClientTlsConfig> {
    let pem = std::fs::read_to_string(ca)
        .with_context(|| format!("reading CA certificate {}", ca.display()))?;
    Ok(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))
}
