//! The admin token: a bearer secret in the `authorization` metadata of every admin
//! call, checked in constant time by a tonic interceptor.

use std::fmt;
use std::sync::Arc;

use rand::TryRng;
use rand::rngs::SysRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tonic::service::Interceptor;
use tonic::{Request, Status};
use zeroize::Zeroizing;

/// The shortest token accepted: 128 bits as base-64 text.
pub const MIN_TOKEN_LEN: usize = 22;

/// The message of every refusal, so a client cannot tell a missing token from a
/// wrong one.
const REFUSED: &str = "admin token required";

/// The admin token (secret): redacted `Debug`, zeroized on drop, compared in
/// constant time.
#[derive(Clone)]
pub struct AdminToken(Arc<Zeroizing<String>>);

/// Why a configured token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Shorter than [`MIN_TOKEN_LEN`].
    #[error("the admin token must be at least {MIN_TOKEN_LEN} characters")]
    TooShort,
    /// Holds a character that cannot travel in an HTTP header value unchanged
    /// (anything but visible ASCII).
    #[error("the admin token must be visible ASCII without spaces")]
    Charset,
    /// The system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

impl AdminToken {
    /// A configured token.
    ///
    /// # Errors
    /// [`TokenError`] if it is too short or not visible ASCII.
    pub fn new(token: impl Into<String>) -> Result<Self, TokenError> {
        let token = Zeroizing::new(token.into());
        if token.len() < MIN_TOKEN_LEN {
            return Err(TokenError::TooShort);
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(TokenError::Charset);
        }
        Ok(Self(Arc::new(token)))
    }

    /// A fresh token of 256 random bits from the operating system, as 64 hex digits.
    ///
    /// # Errors
    /// [`TokenError::Random`] if the system's random number generator fails.
    pub fn generate() -> Result<Self, TokenError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        SysRng
            .try_fill_bytes(bytes.as_mut())
            .map_err(|_| TokenError::Random)?;
        Self::new(hex::encode(bytes.as_ref()))
    }

    /// The token's text, for the client that sends it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is this token. Both sides are hashed first, so neither
    /// the content nor the length of the token leaks through timing.
    #[must_use]
    pub fn matches(&self, presented: &[u8]) -> bool {
        let expected = Sha256::digest(self.0.as_bytes());
        let presented = Sha256::digest(presented);
        bool::from(expected.ct_eq(&presented))
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminToken").finish_non_exhaustive()
    }
}

/// The interceptor that admits a call only with `authorization: Bearer <token>`;
/// anything else is `Unauthenticated` ("admin token required").
#[must_use]
pub fn interceptor(token: AdminToken) -> impl Interceptor + Clone + Send + Sync + 'static {
    move |request: Request<()>| -> Result<Request<()>, Status> {
        let presented = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.as_bytes().strip_prefix(b"Bearer "));
        match presented {
            Some(presented) if token.matches(presented) => Ok(request),
            _ => {
                tracing::warn!("admin call refused: missing or wrong admin token");
                Err(Status::unauthenticated(REFUSED))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(token: &AdminToken, header: Option<&str>) -> Result<(), Status> {
        let mut request = Request::new(());
        if let Some(header) = header {
            request
                .metadata_mut()
                .insert("authorization", header.parse().unwrap());
        }
        interceptor(token.clone()).call(request).map(drop)
    }

    #[test]
    fn only_the_exact_bearer_token_is_admitted() {
        let token = AdminToken::generate().unwrap();
        let good = format!("Bearer {}", token.expose());
        assert!(call(&token, Some(&good)).is_ok());
        let last = if good.ends_with('0') { '1' } else { '0' };
        let wrong_last = format!("{}{last}", &good[..good.len() - 1]);
        for bad in [
            None,
            Some(token.expose()),
            Some(&format!("bearer {}", token.expose())),
            Some(&format!("Bearer {}x", token.expose())),
            Some(&good[..good.len() - 1]),
            Some(wrong_last.as_str()),
            Some("Bearer "),
        ] {
            let status = call(&token, bad).unwrap_err();
            assert_eq!(status.code(), tonic::Code::Unauthenticated, "{bad:?}");
            assert_eq!(status.message(), REFUSED);
        }
    }

    #[test]
    fn weak_tokens_are_refused_and_debug_is_redacted() {
        assert_eq!(AdminToken::new("short").unwrap_err(), TokenError::TooShort);
        assert_eq!(
            AdminToken::new("a token with spaces in it").unwrap_err(),
            TokenError::Charset
        );
        let token = AdminToken::new("0123456789abcdef0123456789").unwrap();
        assert!(!format!("{token:?}").contains("0123"));
        assert_eq!(AdminToken::generate().unwrap().expose().len(), 64);
    }
}
