//! The public HTTP API as a verifier source: the board's checkpoint and tiles read with
//! plain HTTP/1.1 GETs (over TLS for `https://`, trusting exactly the given CA), and
//! the manifest document from a file (the admins' git repository publishes it).
//!
//! The API serves only the latest checkpoint, so earlier ones are not checked.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use urna_board::{TileId, TileKind};
use urna_verify::{Error, Source};

/// The largest response read (a full entry bundle is at most 16 MiB).
const MAX_RESPONSE: u64 = 17 << 20;

/// A board behind the public HTTP API.
pub struct HttpSource {
    runtime: tokio::runtime::Runtime,
    host: String,
    port: u16,
    prefix: String,
    tls: Option<tokio_rustls::TlsConnector>,
    manifest: String,
}

impl HttpSource {
    /// The board below `url` (`…/api/v1/elections/<id>/board/`), with the manifest
    /// document in `manifest`; `https` needs the CA to trust.
    pub fn new(url: &str, ca: Option<&Path>, manifest: &Path) -> anyhow::Result<Self> {
        let uri: http::Uri = url.parse().context("not a URL")?;
        let host = uri.host().context("the URL has no host")?.to_owned();
        let tls = match uri.scheme_str() {
            Some("https") => {
                let ca = ca.context("an https board needs --ca")?;
                let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(&pem) {
                    roots.add(cert.context("a certificate in --ca")?)?;
                }
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                Some(tokio_rustls::TlsConnector::from(Arc::new(config)))
            }
            Some("http") => None,
            _ => anyhow::bail!("the board URL must be http:// or https://"),
        };
        let port = uri
            .port_u16()
            .unwrap_or(if tls.is_some() { 443 } else { 80 });
        let path = uri.path();
        let prefix = if path.ends_with('/') {
            path.to_owned()
        } else {
            format!("{path}/")
        };
        let manifest = std::fs::read_to_string(manifest)
            .with_context(|| format!("reading {}", manifest.display()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Self {
            runtime,
            host,
            port,
            prefix,
            tls,
            manifest,
        })
    }

    /// GETs `<prefix><path>`; anything but a 200 is an error.
    fn get(&self, path: &str) -> Result<Vec<u8>, Error> {
        let full = format!("{}{path}", self.prefix);
        self.runtime
            .block_on(self.fetch(&full))
            .map_err(|source| Error::Read {
                path: PathBuf::from(format!("{}:{}{full}", self.host, self.port)),
                source,
            })
    }

    async fn fetch(&self, path: &str) -> std::io::Result<Vec<u8>> {
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port)).await?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\n\r\n",
            self.host, self.port
        );
        let mut response = Vec::new();
        match &self.tls {
            Some(tls) => {
                let name = ServerName::try_from(self.host.clone()).map_err(invalid)?;
                let mut stream = tls.connect(name, tcp).await?;
                stream.write_all(request.as_bytes()).await?;
                // The server may close without a TLS close_notify once the body is sent.
                let _ = (&mut stream)
                    .take(MAX_RESPONSE)
                    .read_to_end(&mut response)
                    .await;
            }
            None => {
                let mut stream = tcp;
                stream.write_all(request.as_bytes()).await?;
                (&mut stream)
                    .take(MAX_RESPONSE)
                    .read_to_end(&mut response)
                    .await?;
            }
        }
        body(&response)
    }
}

fn invalid(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
}

/// The body of a complete HTTP/1.1 response, if its status is 200.
fn body(response: &[u8]) -> std::io::Result<Vec<u8>> {
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| invalid("incomplete response"))?;
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let body = &response[split + 4..];
    if !head.starts_with("http/1.1 200") {
        return Err(invalid(head.lines().next().unwrap_or_default()));
    }
    if !head.contains("transfer-encoding: chunked") {
        return Ok(body.to_vec());
    }
    let mut out = Vec::new();
    let mut rest = body;
    loop {
        let line = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| invalid("bad chunk"))?;
        let size = std::str::from_utf8(&rest[..line])
            .ok()
            .and_then(|s| {
                usize::from_str_radix(s.split(';').next().unwrap_or_default().trim(), 16).ok()
            })
            .ok_or_else(|| invalid("bad chunk size"))?;
        if size == 0 {
            return Ok(out);
        }
        let chunk = rest
            .get(line + 2..line + 2 + size)
            .ok_or_else(|| invalid("truncated chunk"))?;
        out.extend_from_slice(chunk);
        rest = rest
            .get(line + 4 + size..)
            .ok_or_else(|| invalid("truncated chunk"))?;
    }
}

impl Source for HttpSource {
    fn checkpoint(&self) -> Result<Vec<u8>, Error> {
        self.get("checkpoint")
    }

    fn checkpoints(&self) -> Result<Vec<(u64, Vec<u8>)>, Error> {
        Ok(Vec::new())
    }

    fn entry_bundle(&self, index: u64, width: Option<u8>) -> Result<Vec<u8>, Error> {
        self.get(
            &TileId {
                kind: TileKind::Entries,
                index,
                width,
            }
            .to_string(),
        )
    }

    fn hash_tile(&self, level: u8, index: u64, width: Option<u8>) -> Result<Vec<u8>, Error> {
        self.get(
            &TileId {
                kind: TileKind::Hash(level),
                index,
                width,
            }
            .to_string(),
        )
    }

    fn manifest_yaml(&self) -> Result<String, Error> {
        Ok(self.manifest.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_read_plain_or_chunked_and_other_statuses_refused() {
        assert_eq!(
            body(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc").unwrap(),
            b"abc"
        );
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(body(chunked).unwrap(), b"abcde");
        assert!(body(b"HTTP/1.1 404 Not Found\r\n\r\n").is_err());
        assert!(body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nab").is_err());
        assert!(body(b"HTTP/1.1 200 OK").is_err());
    }
}
