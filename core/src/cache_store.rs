//! The `CacheStore` swap point: a key-value tier (memory, disk, Redis, plugin).
//!
//! A tier stores opaque bytes under string keys, tagged for invalidation.
//! Lookups and stores come in batches (one file's units at a time) so that a
//! tier across the network pays one round trip per file, not per unit. The
//! caller (docpipe-stages' tier stack) reads down the tiers, fills the upper
//! ones on a hit and writes through on a store; a tier never knows of the
//! others.

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

impl CacheError {
    /// An error of tier `tier`.
    pub fn new(tier: impl Into<String>, message: impl std::fmt::Display) -> CacheError {
        CacheError {
            tier: tier.into(),
            message: message.to_string(),
        }
    }
}

/// One value to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// The key.
    pub key: String,
    /// The value's bytes.
    pub value: Vec<u8>,
    /// Tags for [`CacheStore::invalidate_tag`] (`path:src/a.py`, `model:openai/gpt-4o`).
    pub tags: Vec<String>,
}

/// What a tier holds, for `docpipe cache stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TierStats {
    /// The tier's name.
    pub tier: String,
    /// Entries held (approximate for some tiers).
    pub entries: u64,
    /// Bytes held (values and keys; approximate).
    pub bytes: u64,
    /// Lookups answered since the last clear (kept by the tier itself; a
    /// memory tier forgets them when the process ends).
    pub hits: u64,
    /// Lookups not answered since the last clear.
    pub misses: u64,
    /// Where the tier keeps its data (a directory, a Redis URL without its
    /// password and namespace), for people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub location: String,
}

/// A key-value cache tier. Values are opaque bytes (JSON of a cached docstring).
#[async_trait]
pub trait CacheStore: Send + Sync {
    /// Tier name for logs (`memory`, `disk`, `redis`).
    fn name(&self) -> &str;

    /// The value stored under `key`.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;

    /// The values stored under `keys`, in order. A tier should answer in one
    /// round trip (Redis `MGET`, one disk transaction) and count the hits and
    /// misses for [`CacheStore::stats`].
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(self.get(key).await?);
        }
        Ok(out)
    }

    /// Stores `value` under `key`, tagged for invalidation.
    async fn put(&self, key: &str, value: &[u8], tags: &[String]) -> Result<(), CacheError>;

    /// Stores every entry, in one round trip where the tier can.
    async fn put_many(&self, entries: &[CacheEntry]) -> Result<(), CacheError> {
        for e in entries {
            self.put(&e.key, &e.value, &e.tags).await?;
        }
        Ok(())
    }

    /// Removes the entry under `key` (a value that failed validation).
    async fn remove(&self, key: &str) -> Result<(), CacheError> {
        let _ = key;
        Ok(())
    }

    /// Removes every entry carrying `tag`; returns how many went.
    async fn invalidate_tag(&self, tag: &str) -> Result<u64, CacheError> {
        let _ = tag;
        Ok(0)
    }

    /// Removes every entry and resets the counters; returns how many entries went.
    async fn clear(&self) -> Result<u64, CacheError> {
        Ok(0)
    }

    /// Writes what the tier keeps for later (its hit and miss counters);
    /// called at the end of a run.
    async fn flush(&self) -> Result<(), CacheError> {
        Ok(())
    }

    /// Entries, size, and hits and misses since the last clear.
    async fn stats(&self) -> Result<TierStats, CacheError> {
        Ok(TierStats {
            tier: self.name().to_string(),
            ..TierStats::default()
        })
    }
}
