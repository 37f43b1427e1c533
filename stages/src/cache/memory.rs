//! The `memory` tier: moka's async cache, in this process only. It spares
//! the tiers below it a second read of the same key within a run (a unit
//! retried, a file named twice) and is filled from them on a hit.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use docpipe_core::cache_store::{CacheEntry, CacheError, CacheStore, TierStats};
use moka::future::Cache;
use serde::{Deserialize, Serialize};

/// `[cache.memory]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemorySettings {
    /// Entries held; the least used go first.
    pub capacity: u64,
    /// Seconds an entry lives; 0: the whole run.
    pub ttl_s: u64,
}

impl Default for MemorySettings {
    fn default() -> Self {
        MemorySettings {
            // A run reads a key once, but for a retried unit or the same
            // code twice: the tier needs few entries, and each costs about
            // half a kilobyte beyond its value. A hundred thousand made it
            // the largest part of a big run's memory.
            capacity: 10_000,
            ttl_s: 0,
        }
    }
}

#[derive(Clone)]
struct Value {
    bytes: Arc<[u8]>,
    tags: Arc<[String]>,
}

/// The `memory` tier.
pub struct MemoryStore {
    cache: Cache<String, Value>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl MemoryStore {
    /// A memory tier of `settings.capacity` entries.
    pub fn new(settings: &MemorySettings) -> MemoryStore {
        let mut builder = Cache::builder()
            .max_capacity(settings.capacity)
            .support_invalidation_closures();
        if settings.ttl_s > 0 {
            builder = builder.time_to_live(Duration::from_secs(settings.ttl_s));
        }
        MemoryStore {
            cache: builder.build(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
}

#[async_trait]
impl CacheStore for MemoryStore {
    fn name(&self) -> &str {
        "memory"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let found = self.cache.get(key).await.map(|v| v.bytes.to_vec());
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(found)
    }

    async fn put(&self, key: &str, value: &[u8], tags: &[String]) -> Result<(), CacheError> {
        self.cache
            .insert(
                key.to_string(),
                Value {
                    bytes: value.into(),
                    tags: tags.into(),
                },
            )
            .await;
        Ok(())
    }

    async fn put_many(&self, entries: &[CacheEntry]) -> Result<(), CacheError> {
        for e in entries {
            self.put(&e.key, &e.value, &e.tags).await?;
        }
        Ok(())
    }

    async fn remove(&self, key: &str) -> Result<(), CacheError> {
        self.cache.invalidate(key).await;
        Ok(())
    }

    async fn invalidate_tag(&self, tag: &str) -> Result<u64, CacheError> {
        self.cache.run_pending_tasks().await;
        let before = self.cache.entry_count();
        let tag = tag.to_string();
        self.cache
            .invalidate_entries_if(move |_, v| v.tags.contains(&tag))
            .map_err(|e| CacheError::new("memory", e))?;
        self.cache.run_pending_tasks().await;
        Ok(before.saturating_sub(self.cache.entry_count()))
    }

    async fn clear(&self) -> Result<u64, CacheError> {
        self.cache.run_pending_tasks().await;
        let n = self.cache.entry_count();
        self.cache.invalidate_all();
        self.cache.run_pending_tasks().await;
        self.hits.store(0, Ordering::Relaxed);
        self.misses.store(0, Ordering::Relaxed);
        Ok(n)
    }

    async fn stats(&self) -> Result<TierStats, CacheError> {
        self.cache.run_pending_tasks().await;
        Ok(TierStats {
            tier: "memory".into(),
            entries: self.cache.entry_count(),
            bytes: self.cache.weighted_size(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            location: "this process".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_reads_and_invalidates_by_tag() {
        let store = MemoryStore::new(&MemorySettings::default());
        store
            .put("a", b"1", &["path:a.py".into()])
            .await
            .expect("put");
        store
            .put("b", b"2", &["path:b.py".into()])
            .await
            .expect("put");
        assert_eq!(store.get("a").await.expect("get"), Some(b"1".to_vec()));
        assert_eq!(store.invalidate_tag("path:a.py").await.expect("tag"), 1);
        assert_eq!(store.get("a").await.expect("get"), None);
        assert_eq!(store.get("b").await.expect("get"), Some(b"2".to_vec()));
        let stats = store.stats().await.expect("stats");
        assert_eq!((stats.entries, stats.hits, stats.misses), (1, 2, 1));
    }
}
