//! The `redis` tier: shared between machines (CI runners, a team), through
//! the redis crate's async connection manager, which reconnects by itself
//! when Redis comes back.
//!
//! Layout under `[cache.redis] namespace` (`docpipe` by default):
//! - `NS:v:KEY`: a value, with the tier's `ttl_s`;
//! - `NS:tag:TAG`: a set of the keys carrying the tag, so that `docpipe cache
//!   invalidate --tag T` reads one set and deletes what it names, with no
//!   SCAN of the keyspace;
//! - `NS:stats`: a hash of the hits and misses since the last clear.
//!
//! A file's lookups are one pipeline (the counters of the previous lookups
//! and one `MGET`), a batch of stores another: one round trip each.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use docpipe_core::cache_store::{CacheEntry, CacheError, CacheStore, TierStats};
use docpipe_core::registry::BuildError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

/// `[cache.redis]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisSettings {
    /// `redis://[:password@]host:port[/db]`.
    pub redis_url: String,
    /// Prefix of every key.
    pub namespace: String,
    /// Seconds an entry lives; 0: no expiry.
    pub ttl_s: u64,
    /// Time to connect.
    pub connect_timeout_ms: u64,
    /// Time one round trip may take.
    pub command_timeout_ms: u64,
}

impl Default for RedisSettings {
    fn default() -> Self {
        RedisSettings {
            redis_url: "redis://127.0.0.1:6379".into(),
            namespace: "docpipe".into(),
            ttl_s: 30 * 24 * 3600,
            connect_timeout_ms: 1000,
            command_timeout_ms: 2000,
        }
    }
}

/// The `redis` tier.
pub struct RedisStore {
    client: redis::Client,
    settings: RedisSettings,
    conn: OnceCell<ConnectionManager>,
    /// Lookups not yet added to `NS:stats` (sent with the next round trip).
    hits: AtomicU64,
    misses: AtomicU64,
    /// Round trips made, for the report.
    round_trips: AtomicU64,
    shown: String,
    connect_error: Mutex<Option<String>>,
}

fn err(e: impl std::fmt::Display) -> CacheError {
    CacheError::new("redis", e)
}

impl RedisStore {
    /// A tier for `settings`; connects on first use.
    pub fn new(settings: &RedisSettings) -> Result<RedisStore, BuildError> {
        let client = redis::Client::open(settings.redis_url.as_str()).map_err(|e| {
            BuildError::section(
                "cache",
                "redis.redis_url",
                format!("not a Redis URL: {e}"),
            )
            .with_help("write `redis://host:port` (or `rediss://` for TLS), or `\"${REDIS_URL}\"` to take it from the environment")
        })?;
        let shown = format!(
            "redis://{}/{} (namespace `{}`)",
            client.get_connection_info().addr(),
            client.get_connection_info().redis_settings().db(),
            settings.namespace
        );
        Ok(RedisStore {
            client,
            settings: settings.clone(),
            conn: OnceCell::new(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            round_trips: AtomicU64::new(0),
            shown,
            connect_error: Mutex::new(None),
        })
    }

    /// The Redis this tier talks to, without its password.
    pub fn location(&self) -> &str {
        &self.shown
    }

    /// Round trips made so far.
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    fn key(&self, key: &str) -> String {
        format!("{}:v:{key}", self.settings.namespace)
    }

    fn tag(&self, tag: &str) -> String {
        format!("{}:tag:{tag}", self.settings.namespace)
    }

    fn stats_key(&self) -> String {
        format!("{}:stats", self.settings.namespace)
    }

    async fn connection(&self) -> Result<ConnectionManager, CacheError> {
        let connect = Duration::from_millis(self.settings.connect_timeout_ms.max(1));
        let command = Duration::from_millis(self.settings.command_timeout_ms.max(1));
        let conn = self
            .conn
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(connect))
                    .set_response_timeout(Some(command))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(200));
                match tokio::time::timeout(
                    connect * 3,
                    self.client.get_connection_manager_with_config(config),
                )
                .await
                {
                    Ok(Ok(c)) => Ok(c),
                    Ok(Err(e)) => Err(err(format!("cannot connect to {}: {e}", self.shown))),
                    Err(_) => Err(err(format!(
                        "cannot connect to {}: no answer in {} ms",
                        self.shown,
                        connect.as_millis() * 3
                    ))),
                }
            })
            .await;
        match conn {
            Ok(c) => Ok(c.clone()),
            Err(e) => {
                if let Ok(mut slot) = self.connect_error.lock() {
                    *slot = Some(e.message.clone());
                }
                Err(e)
            }
        }
    }

    /// Runs `pipe` in one round trip, within the command timeout.
    async fn run<T: redis::FromRedisValue>(&self, pipe: &redis::Pipeline) -> Result<T, CacheError> {
        let mut conn = self.connection().await?;
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let limit = Duration::from_millis(self.settings.command_timeout_ms.max(1));
        match tokio::time::timeout(limit, pipe.query_async::<T>(&mut conn)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(err(format!("{}: {e}", self.shown))),
            Err(_) => Err(err(format!(
                "{}: no answer in {} ms",
                self.shown,
                limit.as_millis()
            ))),
        }
    }

    /// Adds the pending counters to `pipe` (answers ignored).
    fn count_into(&self, pipe: &mut redis::Pipeline) -> (u64, u64) {
        let hits = self.hits.swap(0, Ordering::Relaxed);
        let misses = self.misses.swap(0, Ordering::Relaxed);
        let stats = self.stats_key();
        if hits > 0 {
            pipe.cmd("HINCRBY")
                .arg(&stats)
                .arg("hits")
                .arg(hits)
                .ignore();
        }
        if misses > 0 {
            pipe.cmd("HINCRBY")
                .arg(&stats)
                .arg("misses")
                .arg(misses)
                .ignore();
        }
        (hits, misses)
    }

    /// Gives back counters a failed round trip did not deliver.
    fn recount(&self, (hits, misses): (u64, u64)) {
        self.hits.fetch_add(hits, Ordering::Relaxed);
        self.misses.fetch_add(misses, Ordering::Relaxed);
    }
}

#[async_trait]
impl CacheStore for RedisStore {
    fn name(&self) -> &str {
        "redis"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.get_many(&[key.to_string()]).await?.pop().flatten())
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        let pending = self.count_into(&mut pipe);
        let mut mget = redis::cmd("MGET");
        for k in keys {
            mget.arg(self.key(k));
        }
        pipe.add_command(mget);
        let (values,): (Vec<Option<Vec<u8>>>,) = match self.run(&pipe).await {
            Ok(v) => v,
            Err(e) => {
                self.recount(pending);
                return Err(e);
            }
        };
        let hits = values.iter().filter(|v| v.is_some()).count() as u64;
        self.hits.fetch_add(hits, Ordering::Relaxed);
        self.misses
            .fetch_add(values.len() as u64 - hits, Ordering::Relaxed);
        Ok(values)
    }

    async fn put(&self, key: &str, value: &[u8], tags: &[String]) -> Result<(), CacheError> {
        self.put_many(&[CacheEntry {
            key: key.to_string(),
            value: value.to_vec(),
            tags: tags.to_vec(),
        }])
        .await
    }

    async fn put_many(&self, entries: &[CacheEntry]) -> Result<(), CacheError> {
        if entries.is_empty() {
            return Ok(());
        }
        let ttl = self.settings.ttl_s;
        let mut pipe = redis::pipe();
        let pending = self.count_into(&mut pipe);
        let mut tags: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
        for e in entries {
            let key = self.key(&e.key);
            let set = pipe.cmd("SET").arg(&key).arg(&e.value[..]);
            if ttl > 0 {
                set.arg("EX").arg(ttl);
            }
            set.ignore();
            for t in &e.tags {
                tags.entry(t).or_default().push(e.key.clone());
            }
        }
        for (tag, keys) in tags {
            let set = self.tag(tag);
            pipe.cmd("SADD").arg(&set).arg(keys).ignore();
            if ttl > 0 {
                // A tag lives as long as its newest entry.
                pipe.cmd("EXPIRE").arg(&set).arg(ttl).ignore();
            }
        }
        self.run::<()>(&pipe).await.inspect_err(|_| {
            self.recount(pending);
        })
    }

    async fn remove(&self, key: &str) -> Result<(), CacheError> {
        let mut pipe = redis::pipe();
        pipe.cmd("DEL").arg(self.key(key)).ignore();
        self.run::<()>(&pipe).await
    }

    async fn invalidate_tag(&self, tag: &str) -> Result<u64, CacheError> {
        let set = self.tag(tag);
        let (keys,): (Vec<String>,) = self.run(redis::pipe().cmd("SMEMBERS").arg(&set)).await?;
        let mut pipe = redis::pipe();
        pipe.cmd("DEL").arg(&set).ignore();
        let mut gone = 0u64;
        for chunk in keys.chunks(500) {
            let mut del = redis::cmd("DEL");
            for k in chunk {
                del.arg(self.key(k));
            }
            pipe.add_command(del);
        }
        let counts: Vec<u64> = self.run(&pipe).await?;
        gone += counts.iter().sum::<u64>();
        Ok(gone)
    }

    async fn clear(&self) -> Result<u64, CacheError> {
        // Clearing is rare and explicit: a SCAN of the namespace is fine here.
        let mut conn = self.connection().await?;
        let pattern = format!("{}:*", self.settings.namespace);
        let mut cursor: u64 = 0;
        let mut gone = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .map_err(|e| err(format!("{}: {e}", self.shown)))?;
            if !keys.is_empty() {
                let values = keys
                    .iter()
                    .filter(|k| k.starts_with(&format!("{}:v:", self.settings.namespace)))
                    .count() as u64;
                let _: u64 = redis::cmd("DEL")
                    .arg(&keys)
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| err(format!("{}: {e}", self.shown)))?;
                gone += values;
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        self.hits.store(0, Ordering::Relaxed);
        self.misses.store(0, Ordering::Relaxed);
        Ok(gone)
    }

    /// Sends the pending hit and miss counters.
    async fn flush(&self) -> Result<(), CacheError> {
        let mut pipe = redis::pipe();
        let pending = self.count_into(&mut pipe);
        if pending == (0, 0) {
            return Ok(());
        }
        self.run::<()>(&pipe).await.inspect_err(|_| {
            self.recount(pending);
        })
    }

    async fn stats(&self) -> Result<TierStats, CacheError> {
        self.flush().await?;
        let mut conn = self.connection().await?;
        let pattern = format!("{}:v:*", self.settings.namespace);
        let mut cursor: u64 = 0;
        let (mut entries, mut bytes) = (0u64, 0u64);
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .map_err(|e| err(format!("{}: {e}", self.shown)))?;
            if !keys.is_empty() {
                let mut pipe = redis::pipe();
                for k in &keys {
                    pipe.cmd("STRLEN").arg(k);
                }
                let lens: Vec<u64> = pipe
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| err(format!("{}: {e}", self.shown)))?;
                entries += keys.len() as u64;
                bytes +=
                    lens.iter().sum::<u64>() + keys.iter().map(|k| k.len() as u64).sum::<u64>();
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        let (hits, misses): (Option<u64>, Option<u64>) = redis::cmd("HMGET")
            .arg(self.stats_key())
            .arg("hits")
            .arg("misses")
            .query_async(&mut conn)
            .await
            .map_err(|e| err(format!("{}: {e}", self.shown)))?;
        Ok(TierStats {
            tier: "redis".into(),
            entries,
            bytes,
            hits: hits.unwrap_or(0),
            misses: misses.unwrap_or(0),
            location: self.shown.clone(),
        })
    }
}
