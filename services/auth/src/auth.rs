//! The auth domain: login with a voting code, blind issuance of one credential per
//! voter per election, and the public figures (issued count, signing key).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Semaphore;
use urna_crypto::{BlindSignature, BlindSigningKey, BlindedMessage};
use urna_service::Clock;
use urna_store::{
    CodeHash, Conflict, ElectionRecord, ElectionState, Error as StoreError, Store, VotingCode,
    blinded_hash,
};

use crate::config::AuthConfig;
use crate::error::AuthError;
use crate::limit::{LoginLimiter, MemoryLimiter};
use crate::session::{Claims, MAX_ID_LEN, Session, SessionKey, SessionToken};

/// An election's blind-signing public key, as published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthKey {
    /// SubjectPublicKeyInfo DER (rsaEncryption), for RFC 9474
    /// RSABSSA-SHA384-PSS-Randomized.
    pub spki: Vec<u8>,
    /// The modulus length in bits.
    pub modulus_bits: u32,
}

/// The auth tier over a store; cheap to clone (the clones share state).
pub struct Auth<S, L = MemoryLimiter> {
    inner: Arc<Inner<S, L>>,
}

impl<S, L> Clone for Auth<S, L> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner<S, L> {
    store: S,
    limiter: L,
    clock: Arc<dyn Clock>,
    session_key: SessionKey,
    session_ttl: u64,
    work: Arc<Semaphore>,
    dummy: CodeHash,
    keys: Mutex<HashMap<String, Arc<ElectionKey>>>,
}

/// An election's parsed signing key and its public form.
struct ElectionKey {
    signing: BlindSigningKey,
    public: AuthKey,
    modulus_len: usize,
}

impl<S: Store> Auth<S> {
    /// Auth with the in-memory rate limiter of `config.limits`.
    pub fn new(store: S, config: AuthConfig, clock: Arc<dyn Clock>) -> Self {
        let limiter = MemoryLimiter::new(config.limits);
        Self::with_limiter(store, config, clock, limiter)
    }
}

impl<S: Store, L: LoginLimiter> Auth<S, L> {
    /// Auth with a given rate limiter (`config.limits` is then the limiter's business).
    pub fn with_limiter(store: S, config: AuthConfig, clock: Arc<dyn Clock>, limiter: L) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                limiter,
                clock,
                session_key: config.session_key.unwrap_or_else(SessionKey::random),
                session_ttl: config.session_ttl,
                work: Arc::new(Semaphore::new(config.max_concurrent_work.max(1))),
                dummy: CodeHash::unmatchable(config.code_params),
                keys: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The login rate limiter (e.g. for [`RedisLimiter`](crate::RedisLimiter)'s
    /// degraded flag and fallback count).
    #[must_use]
    pub fn limiter(&self) -> &L {
        &self.inner.limiter
    }

    /// Logs a voter in with their voting code from `client`.
    ///
    /// # Errors
    /// [`AuthError::RateLimited`] if a limit refuses the attempt;
    /// [`AuthError::InvalidCredentials`] for a wrong election, voter or code (the
    /// same error, after the same Argon2id work, for all three).
    pub async fn login(
        &self,
        election: &str,
        voter: &str,
        code: &str,
        client: IpAddr,
    ) -> Result<Session, AuthError> {
        let inner = &self.inner;
        if election.len() > MAX_ID_LEN || voter.len() > MAX_ID_LEN {
            // No roll holds such an id; refused before it costs a hash or limiter state.
            return Err(AuthError::InvalidCredentials);
        }
        let now = inner.clock.now();
        if let Err(limited) = inner.limiter.admit(election, voter, client, now).await {
            tracing::warn!(?election, ?voter, %client, %limited, "login refused by rate limit");
            return Err(AuthError::RateLimited(limited));
        }
        let record = inner.store.election(election).await?;
        let entry = match &record {
            Some(_) => inner.store.voter(election, voter).await?,
            None => None,
        };
        let hash = entry
            .as_ref()
            .map_or_else(|| inner.dummy.clone(), |(_, hash)| hash.clone());
        let matched = match VotingCode::parse(code) {
            Ok(code) => self.verify_code(hash, code).await?,
            Err(_) => false,
        };
        let (Some(record), Some((entry, _)), true) = (record, entry, matched) else {
            inner.limiter.failed(election, voter, now).await;
            // Debug-formatted: the ids are unchecked input and may hold control characters.
            tracing::info!(?election, ?voter, %client, "login failed");
            return Err(AuthError::InvalidCredentials);
        };
        inner.limiter.succeeded(election, voter).await;
        let expires_at = now.saturating_add(inner.session_ttl);
        let token = inner.session_key.seal(&Claims {
            election: election.to_owned(),
            voter: entry.id,
            expires_at,
        });
        // Successes name no voter: in a log shared with casting, a voter's line next
        // to a tracking code's would link the two by time. The issuance record in the
        // store is the audit trail of who got a credential.
        tracing::info!(election, "voter logged in");
        Ok(Session {
            token,
            expires_at,
            ballot_style: entry.style,
            fingerprint: record.fingerprint,
        })
    }

    /// Blind-signs the voter's blinded credential message, once per voter per
    /// election; the same blinded message again returns the stored signature.
    ///
    /// # Errors
    /// [`AuthError::InvalidSession`], [`AuthError::NotIssuing`] outside Test and
    /// Open, [`AuthError::BlindedLength`], [`AuthError::AlreadyIssued`] for a
    /// different blinded message, [`AuthError::NoKey`].
    pub async fn issue(&self, token: &SessionToken, blinded: &[u8]) -> Result<Vec<u8>, AuthError> {
        let inner = &self.inner;
        let claims = inner
            .session_key
            .open(token.as_str(), inner.clock.now())
            .ok_or(AuthError::InvalidSession)?;
        let (election, voter) = (claims.election.as_str(), claims.voter.as_str());
        let record = self.election(election).await?;
        if !matches!(record.state, ElectionState::Test | ElectionState::Open) {
            return Err(AuthError::NotIssuing(record.state));
        }
        let key = self.key(election).await?;
        if blinded.len() != key.modulus_len {
            return Err(AuthError::BlindedLength);
        }
        if let Some(previous) = inner.store.issuance(election, voter).await? {
            return if previous.blinded_hash == blinded_hash(blinded) {
                tracing::info!(election, "credential issuance repeated");
                Ok(previous.signature)
            } else {
                Err(AuthError::AlreadyIssued)
            };
        }
        let signature = self.sign(key, blinded.to_vec()).await?;
        match inner
            .store
            .record_issuance(election, voter, blinded, signature.as_bytes())
            .await
        {
            Ok(issued) => {
                tracing::info!(election, "credential issued");
                Ok(issued.signature().to_vec())
            }
            Err(StoreError::Conflict(Conflict::CredentialIssued)) => Err(AuthError::AlreadyIssued),
            Err(StoreError::WrongState { actual, .. }) => Err(AuthError::NotIssuing(actual)),
            Err(e) => Err(e.into()),
        }
    }

    /// How many credentials were issued in the election.
    ///
    /// # Errors
    /// [`AuthError::UnknownElection`], or a store failure.
    pub async fn credentials_issued(&self, election: &str) -> Result<u64, AuthError> {
        self.election(election).await?;
        Ok(self.inner.store.credentials_issued(election).await?)
    }

    /// The election's blind-signing public key.
    ///
    /// # Errors
    /// [`AuthError::UnknownElection`], [`AuthError::NoKey`], or a store failure.
    pub async fn auth_key(&self, election: &str) -> Result<AuthKey, AuthError> {
        self.election(election).await?;
        Ok(self.key(election).await?.public.clone())
    }

    async fn election(&self, election: &str) -> Result<ElectionRecord, AuthError> {
        self.inner
            .store
            .election(election)
            .await?
            .ok_or(AuthError::UnknownElection)
    }

    /// Checks a code against its hash on the blocking pool, within the work limit
    /// (the permit lives as long as the hashing, even if the caller goes away; the
    /// semaphore is never closed, so acquiring cannot fail).
    async fn verify_code(&self, hash: CodeHash, code: VotingCode) -> Result<bool, AuthError> {
        let permit = Arc::clone(&self.inner.work).acquire_owned().await;
        Ok(tokio::task::spawn_blocking(move || {
            let _permit = permit;
            hash.verify(&code)
        })
        .await?)
    }

    /// RSA blind signing on the blocking pool, within the work limit.
    async fn sign(
        &self,
        key: Arc<ElectionKey>,
        blinded: Vec<u8>,
    ) -> Result<BlindSignature, AuthError> {
        let permit = Arc::clone(&self.inner.work).acquire_owned().await;
        let signature = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            key.signing
                .blind_sign(&BlindedMessage::from_bytes(blinded), &mut rand::rng())
        })
        .await??;
        Ok(signature)
    }

    /// The election's signing key, parsed once and cached.
    async fn key(&self, election: &str) -> Result<Arc<ElectionKey>, AuthError> {
        let inner = &self.inner;
        if let Some(key) = inner
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(election)
        {
            return Ok(Arc::clone(key));
        }
        let secrets = inner
            .store
            .secrets(election)
            .await?
            .ok_or(AuthError::NoKey)?;
        let der = zeroize::Zeroizing::new(secrets.auth_key_der().to_vec());
        let key = tokio::task::spawn_blocking(move || load_key(&der)).await??;
        let key = Arc::new(key);
        inner
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(election.to_owned(), Arc::clone(&key));
        Ok(key)
    }
}

/// Parses and validates a stored signing key and derives its public form.
fn load_key(der: &[u8]) -> Result<ElectionKey, AuthError> {
    let signing = BlindSigningKey::from_der(der)?;
    let public = signing.verifying_key()?;
    let modulus_len = public.modulus_len();
    Ok(ElectionKey {
        signing,
        public: AuthKey {
            spki: public.to_der()?,
            modulus_bits: u32::try_from(modulus_len * 8).unwrap_or(u32::MAX),
        },
        modulus_len,
    })
}
