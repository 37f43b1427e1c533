//! The `CacheStore` swap point: a key-value tier (memory, disk, Redis, plugin).

use async_trait::async_trait;

/// A cache tier failed. Callers treat this as a miss and warn; it never stops a run.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{tier} cache: {message}")]
pub struct CacheError {
    /// Which tier (`redis`, `disk`).
    pub tier: String,
    /// What went wrong.
    pub message: String,
}

/// A key-value cache tier. Values are opaque bytes (JSON of a cached docstring).
#[async_trait]
pub trait CacheStore: Send + Sync {
    /// Tier name for logs (`memory`, `disk`, `redis`).
    fn name(&self) -> &str;

    /// The value stored under `key`.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;

    /// Stores `value` under `key`, tagged for invalidation.
    async fn put(&self, key: &str, value: &[u8], tags: &[String]) -> Result<(), CacheError>;

    /// Removes every entry carrying `tag`; returns how many went.
    async fn invalidate_tag(&self, tag: &str) -> Result<u64, CacheError> {
        let _ = tag;
        Ok(0)
    }
}
