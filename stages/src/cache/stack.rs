//! The tiers of `[cache] tiers` as one cache: reads go down the tiers and
//! fill the ones above a hit, stores write through to every tier, and a
//! failing tier costs one warning and a count, never the run.
//!
//! A tier that fails is left alone for [`DOWN_FOR`], so a Redis that went
//! away costs one timeout now and then, not one per file; after that it is
//! tried again (a Redis restarted during a run is used again).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use docpipe_core::cache_store::{CacheEntry, CacheError, CacheStore};
use docpipe_core::report::{CacheTierReport, RunStats};

/// How long a tier that failed is skipped before it is tried again.
pub const DOWN_FOR: Duration = Duration::from_secs(3);

struct Tier {
    store: Arc<dyn CacheStore>,
    warned: AtomicBool,
    down_until: Mutex<Option<Instant>>,
}

/// A value found in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The value.
    pub value: Vec<u8>,
    /// The tier that had it (index in the stack).
    pub tier: usize,
}

/// What to look up: a key and the tags to give it when an upper tier is filled.
#[derive(Debug, Clone)]
pub struct Wanted {
    /// The key.
    pub key: String,
    /// Its tags.
    pub tags: Vec<String>,
}

/// The tiers of a run, in reading order.
pub struct TierStack {
    tiers: Vec<Tier>,
}

impl TierStack {
    /// A stack of `stores`, read in this order.
    pub fn new(stores: Vec<Arc<dyn CacheStore>>) -> TierStack {
        TierStack {
            tiers: stores
                .into_iter()
                .map(|store| Tier {
                    store,
                    warned: AtomicBool::new(false),
                    down_until: Mutex::new(None),
                })
                .collect(),
        }
    }

    /// Whether there is no tier at all.
    pub fn is_empty(&self) -> bool {
        self.tiers.is_empty()
    }

    /// The tiers' names, in order.
    pub fn names(&self) -> Vec<String> {
        self.tiers
            .iter()
            .map(|t| t.store.name().to_string())
            .collect()
    }

    /// The tier called `name`.
    pub fn tier(&self, name: &str) -> Option<Arc<dyn CacheStore>> {
        self.tiers
            .iter()
            .find(|t| t.store.name() == name)
            .map(|t| t.store.clone())
    }

    fn usable(&self, i: usize, stats: &RunStats) -> bool {
        let tier = &self.tiers[i];
        let mut down = tier.down_until.lock().unwrap_or_else(|p| p.into_inner());
        match *down {
            Some(until) if Instant::now() < until => {
                RunStats::add(&stats.cache_errors, 1);
                stats.cache_tier(
                    tier.store.name(),
                    CacheTierReport {
                        errors: 1,
                        ..CacheTierReport::default()
                    },
                );
                false
            }
            Some(_) => {
                *down = None;
                true
            }
            None => true,
        }
    }

    /// Counts a failure of tier `i`, warns the first time, and rests the tier.
    fn failed(&self, i: usize, e: &CacheError, stats: &RunStats) {
        let tier = &self.tiers[i];
        RunStats::add(&stats.cache_errors, 1);
        stats.cache_tier(
            tier.store.name(),
            CacheTierReport {
                errors: 1,
                requests: 1,
                ..CacheTierReport::default()
            },
        );
        if let Ok(mut down) = tier.down_until.lock() {
            *down = Some(Instant::now() + DOWN_FOR);
        }
        if !tier.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "{}; the run goes on without the {} cache tier while it fails (errors are counted in the report's `cache` section); to fix: {}",
                docpipe_core::printable::text(&e.to_string()),
                tier.store.name(),
                super::advice(tier.store.name())
            );
        } else {
            tracing::debug!("{e}");
        }
    }

    /// The values of `wanted`, in order: each from the first tier that has
    /// it, copied into the tiers above that one.
    pub async fn get_many(&self, wanted: &[Wanted], stats: &RunStats) -> Vec<Option<Found>> {
        let mut found: Vec<Option<Found>> = vec![None; wanted.len()];
        for i in 0..self.tiers.len() {
            let missing: Vec<usize> = (0..wanted.len()).filter(|&j| found[j].is_none()).collect();
            if missing.is_empty() {
                break;
            }
            if !self.usable(i, stats) {
                continue;
            }
            let keys: Vec<String> = missing.iter().map(|&j| wanted[j].key.clone()).collect();
            let store = &self.tiers[i].store;
            match store.get_many(&keys).await {
                Ok(values) => {
                    let mut hits = 0;
                    for (&j, v) in missing.iter().zip(values) {
                        if let Some(value) = v {
                            hits += 1;
                            found[j] = Some(Found { value, tier: i });
                        }
                    }
                    stats.cache_tier(
                        store.name(),
                        CacheTierReport {
                            hits,
                            misses: keys.len() as u64 - hits,
                            requests: 1,
                            ..CacheTierReport::default()
                        },
                    );
                }
                Err(e) => self.failed(i, &e, stats),
            }
        }
        // Fill the tiers above each hit.
        for upper in 0..self.tiers.len() {
            let fill: Vec<CacheEntry> = found
                .iter()
                .zip(wanted)
                .filter_map(|(f, w)| match f {
                    Some(f) if f.tier > upper => Some(CacheEntry {
                        key: w.key.clone(),
                        value: f.value.clone(),
                        tags: w.tags.clone(),
                    }),
                    _ => None,
                })
                .collect();
            if !fill.is_empty() {
                self.put_tier(upper, &fill, stats).await;
            }
        }
        found
    }

    async fn put_tier(&self, i: usize, entries: &[CacheEntry], stats: &RunStats) {
        if !self.usable(i, stats) {
            return;
        }
        let store = &self.tiers[i].store;
        match store.put_many(entries).await {
            Ok(()) => stats.cache_tier(
                store.name(),
                CacheTierReport {
                    requests: 1,
                    ..CacheTierReport::default()
                },
            ),
            Err(e) => self.failed(i, &e, stats),
        }
    }

    /// Stores `entries` in every tier.
    pub async fn put_many(&self, entries: &[CacheEntry], stats: &RunStats) {
        if entries.is_empty() {
            return;
        }
        for i in 0..self.tiers.len() {
            self.put_tier(i, entries, stats).await;
        }
    }

    /// Removes `key` from every tier: its value, found in tier `found_in`,
    /// failed validation. Counted as an eviction of that tier.
    pub async fn evict(&self, key: &str, found_in: usize, stats: &RunStats) {
        RunStats::add(&stats.cache_evictions, 1);
        if let Some(t) = self.tiers.get(found_in) {
            stats.cache_tier(
                t.store.name(),
                CacheTierReport {
                    evictions: 1,
                    ..CacheTierReport::default()
                },
            );
        }
        for i in 0..self.tiers.len() {
            if !self.usable(i, stats) {
                continue;
            }
            if let Err(e) = self.tiers[i].store.remove(key).await {
                self.failed(i, &e, stats);
            }
        }
    }

    /// Lets every tier write what it keeps for later (its counters).
    pub async fn flush(&self, stats: &RunStats) {
        for i in 0..self.tiers.len() {
            if !self.usable(i, stats) {
                continue;
            }
            if let Err(e) = self.tiers[i].store.flush().await {
                self.failed(i, &e, stats);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::memory::{MemorySettings, MemoryStore};
    use async_trait::async_trait;

    /// A tier that always fails, as a Redis that is down does.
    struct Broken;

    #[async_trait]
    impl CacheStore for Broken {
        fn name(&self) -> &str {
            "redis"
        }
        async fn get(&self, _key: &str) -> Result<Option<Vec<u8>>, CacheError> {
            Err(CacheError::new("redis", "connection refused"))
        }
        async fn put(&self, _: &str, _: &[u8], _: &[String]) -> Result<(), CacheError> {
            Err(CacheError::new("redis", "connection refused"))
        }
    }

    fn wanted(key: &str) -> Wanted {
        Wanted {
            key: key.into(),
            tags: vec!["path:a.py".into()],
        }
    }

    #[tokio::test]
    async fn a_hit_below_fills_the_tiers_above() {
        let upper: Arc<dyn CacheStore> = Arc::new(MemoryStore::new(&MemorySettings::default()));
        let lower: Arc<dyn CacheStore> = Arc::new(MemoryStore::new(&MemorySettings::default()));
        lower.put("k", b"v", &[]).await.expect("put");
        let stack = TierStack::new(vec![upper.clone(), lower]);
        let stats = RunStats::default();
        let found = stack.get_many(&[wanted("k"), wanted("x")], &stats).await;
        assert_eq!(found[0].as_ref().map(|f| f.tier), Some(1));
        assert!(found[1].is_none());
        assert_eq!(upper.get("k").await.expect("get"), Some(b"v".to_vec()));
    }

    #[tokio::test]
    async fn a_failing_tier_is_counted_and_the_others_still_answer() {
        let memory: Arc<dyn CacheStore> = Arc::new(MemoryStore::new(&MemorySettings::default()));
        let stack = TierStack::new(vec![Arc::new(Broken), memory.clone()]);
        let stats = RunStats::default();
        let entry = CacheEntry {
            key: "k".into(),
            value: b"v".to_vec(),
            tags: vec![],
        };
        stack.put_many(&[entry], &stats).await;
        let found = stack.get_many(&[wanted("k")], &stats).await;
        assert_eq!(found[0].as_ref().map(|f| f.tier), Some(1));
        assert!(stats.cache_errors.load(Ordering::Relaxed) >= 2);
    }
}
