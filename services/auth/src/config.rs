//! Auth's settings, parsed once by the binary and handed to [`Auth`](crate::Auth).

use std::num::NonZeroUsize;

use urna_store::CodeParams;

use crate::limit::LimitConfig;
use crate::session::SessionKey;

/// Auth's settings.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// The key session tokens are MAC'd with. `None` draws a random key at start:
    /// sessions then end with the process, and replicas do not accept each other's
    /// tokens. Configure one key for every replica in production.
    pub session_key: Option<SessionKey>,
    /// How long a session token is valid, in seconds (default 15 minutes).
    pub session_ttl: u64,
    /// Login rate limits.
    pub limits: LimitConfig,
    /// How many Argon2id hashes (and RSA signatures) run at once; more requests wait.
    /// Each hash takes the code parameters' memory. Default: the CPU count.
    pub max_concurrent_work: usize,
    /// The Argon2id parameters of the dummy hash checked for unknown voters: set them
    /// to the roll's, so an unknown voter costs as much as a known one.
    pub code_params: CodeParams,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_key: None,
            session_ttl: 15 * 60,
            limits: LimitConfig::default(),
            max_concurrent_work: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            code_params: CodeParams::default(),
        }
    }
}
