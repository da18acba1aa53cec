//! Stateless session tokens: the election, the voter and the expiry, MAC'd by auth.
//!
//! ```text
//! claims = u8(1) ‖ u64be(expires_at) ‖ lp(election) ‖ lp(voter)
//! tag    = HMAC-SHA256(session key, lp("urna/v1/auth/session") ‖ claims)
//! token  = base64url-nopad(claims ‖ tag)
//! ```
//!
//! Nothing is stored per session: any auth replica holding the key checks a token.
//! A token is a bearer secret until it expires; it is never logged.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use rand::Rng;
use sha2::Sha256;
use urna_crypto::encoding::{Decoder, Encoder};
use zeroize::Zeroizing;

/// Domain tag of the session MAC.
pub const SESSION_TAG: &str = "urna/v1/auth/session";
/// The claims' format version.
const VERSION: u8 = 1;
/// HMAC-SHA256 output length.
const TAG_LEN: usize = 32;
/// The longest election or voter id a token carries (and a login accepts), in bytes.
pub const MAX_ID_LEN: usize = 1024;
/// The longest token accepted, in characters (the base64 of the longest claims).
const MAX_TOKEN_LEN: usize = 4096;

/// The key that MACs session tokens (secret): redacted `Debug`, zeroized on drop.
#[derive(Clone)]
pub struct SessionKey(Zeroizing<[u8; 32]>);

impl SessionKey {
    /// A key from 32 bytes (configured, so that every replica accepts the tokens of
    /// the others and sessions survive restarts).
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A fresh random key: sessions signed with it end with the process.
    #[must_use]
    pub fn random() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    fn mac(&self, claims: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.tagged(SESSION_TAG);
        mac.update(claims);
        mac
    }

    /// HMAC-SHA256 under this key, started with `lp(tag)`.
    fn tagged(&self, tag: &str) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.0.as_ref())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        let mut prefix = Encoder::new();
        prefix.str(tag);
        mac.update(prefix.as_slice());
        mac
    }

    /// `HMAC-SHA256(key, lp(tag) ‖ lp(field)…)`: a pseudonym of the fields that only
    /// holders of the key can compute (e.g. for keys in a shared cache).
    pub(crate) fn pseudonym(&self, tag: &str, fields: &[&[u8]]) -> [u8; 32] {
        let mut mac = self.tagged(tag);
        let mut enc = Encoder::new();
        for field in fields {
            enc.bytes(field);
        }
        mac.update(enc.as_slice());
        mac.finalize().into_bytes().into()
    }

    /// Seals claims into a token.
    pub(crate) fn seal(&self, claims: &Claims) -> SessionToken {
        let mut enc = Encoder::new();
        enc.u8(VERSION)
            .u64(claims.expires_at)
            .str(&claims.election)
            .str(&claims.voter);
        let mut bytes = enc.finish();
        let tag = self.mac(&bytes).finalize().into_bytes();
        bytes.extend_from_slice(&tag);
        SessionToken(Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The claims of a token this key sealed and that has not expired at `now`;
    /// `None` for anything else (malformed, forged, expired).
    pub(crate) fn open(&self, token: &str, now: u64) -> Option<Claims> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let bytes = Zeroizing::new(URL_SAFE_NO_PAD.decode(token).ok()?);
        let split = bytes.len().checked_sub(TAG_LEN)?;
        let (claims, tag) = bytes.split_at(split);
        self.mac(claims).verify_slice(tag).ok()?;
        let mut dec = Decoder::new(claims);
        if dec.u8().ok()? != VERSION {
            return None;
        }
        let expires_at = dec.u64().ok()?;
        let election = dec.str(MAX_ID_LEN).ok()?.to_owned();
        let voter = dec.str(MAX_ID_LEN).ok()?.to_owned();
        dec.finish().ok()?;
        (now < expires_at).then_some(Claims {
            election,
            voter,
            expires_at,
        })
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionKey").finish_non_exhaustive()
    }
}

/// What a session token vouches for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Claims {
    /// The election the voter logged in to.
    pub(crate) election: String,
    /// The voter's id in the roll.
    pub(crate) voter: String,
    /// Unix seconds after which the token is refused.
    pub(crate) expires_at: u64,
}

/// A session token (a bearer secret): redacted `Debug`, zeroized on drop.
pub struct SessionToken(Zeroizing<String>);

impl SessionToken {
    /// Wraps a token received from a client; it is checked when used.
    #[must_use]
    pub fn new(token: String) -> Self {
        Self(Zeroizing::new(token))
    }

    /// The token's text, to send to the voter.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionToken").finish_non_exhaustive()
    }
}

/// A successful login.
#[derive(Debug)]
pub struct Session {
    /// The bearer token for [`Auth::issue`](crate::Auth::issue).
    pub token: SessionToken,
    /// Unix seconds when the token expires.
    pub expires_at: u64,
    /// The voter's ballot style id (the credential message binds it).
    pub ballot_style: String,
    /// The election fingerprint (the credential message binds it too).
    pub fingerprint: [u8; 32],
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            election: "club-agm-2026".into(),
            voter: "alice".into(),
            expires_at: 1_000,
        }
    }

    #[test]
    fn a_token_opens_with_its_key_until_it_expires() {
        let key = SessionKey::random();
        let token = key.seal(&claims());
        assert_eq!(key.open(token.as_str(), 999), Some(claims()));
        assert_eq!(key.open(token.as_str(), 1_000), None);
        assert_eq!(SessionKey::random().open(token.as_str(), 0), None);
        assert_eq!(format!("{token:?}"), "SessionToken { .. }");
        let longest = Claims {
            election: "e".repeat(MAX_ID_LEN),
            voter: "v".repeat(MAX_ID_LEN),
            expires_at: 1,
        };
        assert_eq!(key.open(key.seal(&longest).as_str(), 0), Some(longest));
        assert_eq!(format!("{key:?}"), "SessionKey { .. }");
    }

    #[test]
    fn every_altered_token_is_refused() {
        let key = SessionKey::from_bytes([7; 32]);
        let bytes = URL_SAFE_NO_PAD
            .decode(key.seal(&claims()).as_str())
            .unwrap();
        for i in 0..bytes.len() {
            let mut altered = bytes.clone();
            altered[i] ^= 1;
            assert_eq!(key.open(&URL_SAFE_NO_PAD.encode(&altered), 0), None, "{i}");
        }
        assert_eq!(key.open(&URL_SAFE_NO_PAD.encode(&bytes[1..]), 0), None);
        for bad in ["", "!!!!", &"A".repeat(MAX_TOKEN_LEN + 1)] {
            assert_eq!(key.open(bad, 0), None);
        }
    }
}
