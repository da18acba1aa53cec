//! Casting's settings, parsed once by the binary and handed to
//! [`Casting::with_config`](crate::Casting::with_config).

use crate::gate::RedisConfig;

/// Casting's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CastingConfig {
    /// The Redis of the nullifier gate shared by casting replicas; `None` (the
    /// embedded default) casts through the store alone.
    pub redis: Option<RedisConfig>,
}
