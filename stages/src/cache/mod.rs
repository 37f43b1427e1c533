//! The cache: tiers behind [`CacheStore`], the stages that read and fill
//! them, and the file result cache of `check`.
//!
//! - [`memory`], [`disk`] and [`redis`] are the built-in tiers, chosen in
//!   `[cache] tiers` (in that order of reading).
//! - [`stack::TierStack`] reads down the tiers, fills the upper ones on a
//!   hit, writes through on a store, and turns a failing tier into one
//!   warning and a count: the cache never fails a run.
//! - `cache-lookup` ([`lookup`]) and `cache-store` ([`store`]) put cached
//!   docstrings into the `generate` pipeline; [`key`] says what a key covers.
//! - `result-cache` and `result-store` ([`results`]) let `check` skip the
//!   files that did not change, as ruff's cache does.

pub mod disk;
pub mod key;
pub mod lookup;
pub mod memory;
pub mod redis;
pub mod results;
pub mod stack;
pub mod store;

use std::sync::{Arc, Mutex, Weak};

use docpipe_core::cache_store::CacheStore;
use docpipe_core::registry::{BuildContext, BuildError, OptionDoc, Registry};
use serde::{Deserialize, Serialize};

use stack::TierStack;

/// The tiers `[cache] tiers` names when the file does not say.
pub const DEFAULT_TIERS: [&str; 2] = ["memory", "disk"];

/// `[cache]`: which tiers hold cached docstrings and check results, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheSection {
    /// Tiers in reading order (`memory`, `disk`, `redis`, or a plugin's).
    pub tiers: Vec<String>,
    /// `[cache.memory]`.
    pub memory: memory::MemorySettings,
    /// `[cache.disk]`.
    pub disk: disk::DiskSettings,
    /// `[cache.redis]`.
    pub redis: redis::RedisSettings,
}

impl Default for CacheSection {
    fn default() -> Self {
        CacheSection {
            tiers: DEFAULT_TIERS.iter().map(|t| t.to_string()).collect(),
            memory: memory::MemorySettings::default(),
            disk: disk::DiskSettings::default(),
            redis: redis::RedisSettings::default(),
        }
    }
}

impl CacheSection {
    /// The keys of `[cache]`, for `docpipe stages`.
    pub fn describe() -> Vec<OptionDoc> {
        vec![
            OptionDoc {
                name: "tiers",
                ty: "[string]",
                default: Some("[\"memory\", \"disk\"]"),
                doc: "Cache tiers in reading order: `memory` (this process), `disk` (`.docpipe/cache` next to the pipeline.toml), `redis` (shared between machines). A hit fills the tiers above it; a store writes to all.",
            },
            OptionDoc {
                name: "memory.capacity",
                ty: "integer",
                default: Some("10000"),
                doc: "Entries the memory tier holds; the least used go first.",
            },
            OptionDoc {
                name: "memory.ttl_s",
                ty: "integer",
                default: Some("0"),
                doc: "Seconds an entry lives in memory; 0: for the whole run.",
            },
            OptionDoc {
                name: "disk.dir",
                ty: "string",
                default: Some("\".docpipe/cache\""),
                doc: "Directory of the disk tier, relative to the pipeline.toml in use (the working directory for the built-in one). A `.gitignore` of `*` is written into it.",
            },
            OptionDoc {
                name: "disk.max_mb",
                ty: "integer",
                default: Some("512"),
                doc: "Size the disk tier may reach, in MB; past it the oldest entries are evicted.",
            },
            OptionDoc {
                name: "redis.redis_url",
                ty: "string",
                default: Some("\"${REDIS_URL:-redis://127.0.0.1:6379}\""),
                doc: "Redis to connect to (`redis://[:password@]host:port[/db]`, `rediss://` for TLS). Write `\"${REDIS_URL}\"` to take it from the environment.",
            },
            OptionDoc {
                name: "redis.namespace",
                ty: "string",
                default: Some("\"docpipe\""),
                doc: "Prefix of every key docpipe writes, so that several projects can share one Redis.",
            },
            OptionDoc {
                name: "redis.ttl_s",
                ty: "integer",
                default: Some("2592000"),
                doc: "Seconds an entry lives in Redis (30 days); 0: no expiry.",
            },
            OptionDoc {
                name: "redis.connect_timeout_ms",
                ty: "integer",
                default: Some("1000"),
                doc: "Time to connect before the tier counts as down for a while.",
            },
            OptionDoc {
                name: "redis.command_timeout_ms",
                ty: "integer",
                default: Some("2000"),
                doc: "Time one round trip may take before it counts as an error.",
            },
        ]
    }
}

pub(crate) fn register(registry: &mut Registry) {
    registry.add_section::<CacheSection>(
        "cache",
        "The cache tiers (`memory`, `disk`, `redis`) that hold generated docstrings and check results.",
        CacheSection::describe(),
    );
    registry.add_cache("memory", |ctx| {
        let section: CacheSection = ctx.section("cache")?;
        Ok(Arc::new(memory::MemoryStore::new(&section.memory)) as Arc<dyn CacheStore>)
    });
    registry.add_cache("disk", |ctx| {
        let section: CacheSection = ctx.section("cache")?;
        let dir = ctx.run.project_dir().join(&section.disk.dir);
        Ok(Arc::new(disk::DiskStore::new(dir, &section.disk)) as Arc<dyn CacheStore>)
    });
    registry.add_cache("redis", |ctx| {
        let section: CacheSection = ctx.section("cache")?;
        Ok(Arc::new(redis::RedisStore::new(&section.redis)?) as Arc<dyn CacheStore>)
    });
    lookup::register(registry);
    store::register(registry);
    results::register(registry);
}

/// What makes two stages' tier stacks the same one: the `[cache]` section
/// and the directory it is relative to.
pub(crate) fn fingerprint(section: &CacheSection, ctx: &BuildContext<'_>) -> String {
    format!(
        "{}\u{0}{}",
        serde_json::to_string(section).unwrap_or_default(),
        ctx.run.project_dir().display()
    )
}

type Shared = Mutex<Vec<(String, Weak<TierStack>)>>;

/// The tier stack of this run. `cache-lookup` and `cache-store` of one run
/// share it (one memory tier, one Redis connection, one set of counters);
/// it lives as long as a stage holds it.
pub fn shared_stack(ctx: &BuildContext<'_>) -> Result<Arc<TierStack>, BuildError> {
    static SHARED: Shared = Mutex::new(Vec::new());
    let section: CacheSection = ctx.section("cache")?;
    let mut stores = Vec::new();
    for name in &section.tiers {
        if !ctx.registry.cache_names().contains(name) {
            return Err(BuildError::section(
                "cache",
                "tiers",
                format!("unknown cache tier `{name}`"),
            )
            .with_help(docpipe_core::config::wording::did_you_mean(
                name,
                &ctx.registry.cache_names(),
            )));
        }
        if stores.iter().any(|s: &String| s == name) {
            return Err(BuildError::section(
                "cache",
                "tiers",
                format!("the tier `{name}` is named twice"),
            )
            .with_help("name each tier once, in reading order"));
        }
        stores.push(name.clone());
    }
    if ctx.validate_only {
        return Ok(Arc::new(TierStack::new(Vec::new())));
    }
    let print = fingerprint(&section, ctx);
    let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    shared.retain(|(_, w)| w.strong_count() > 0);
    if let Some(stack) = shared
        .iter()
        .find(|(p, _)| *p == print)
        .and_then(|(_, w)| w.upgrade())
    {
        return Ok(stack);
    }
    let mut tiers = Vec::new();
    for name in &stores {
        tiers.push(ctx.registry.cache(name, ctx)?);
    }
    let stack = Arc::new(TierStack::new(tiers));
    shared.push((print, Arc::downgrade(&stack)));
    Ok(stack)
}

/// What to do when tier `tier` fails, for its one warning.
pub fn advice(tier: &str) -> &'static str {
    match tier {
        "redis" => {
            "start Redis or fix `[cache.redis] redis_url`, or remove \"redis\" from `[cache] tiers`"
        }
        "disk" => {
            "make `[cache.disk] dir` writable and give the disk room, or remove \"disk\" from `[cache] tiers`"
        }
        "memory" => "lower `[cache.memory] capacity`, or remove \"memory\" from `[cache] tiers`",
        _ => "check the tier's settings, or remove it from `[cache] tiers`",
    }
}

/// The tiers of `[cache] tiers` (or only `only`), built for `docpipe cache`.
pub fn build_tiers(
    ctx: &BuildContext<'_>,
    only: Option<&str>,
) -> Result<Vec<Arc<dyn CacheStore>>, BuildError> {
    let section: CacheSection = ctx.section("cache")?;
    if let Some(t) = only
        && !section.tiers.iter().any(|n| n == t)
    {
        return Err(BuildError::new(format!(
            "`{t}` is not one of the `[cache] tiers` ({})",
            section
                .tiers
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_help(docpipe_core::config::wording::did_you_mean(
            t,
            &section.tiers,
        )));
    }
    section
        .tiers
        .iter()
        .filter(|n| only.is_none_or(|t| t == n.as_str()))
        .map(|n| ctx.registry.cache(n, ctx))
        .collect()
}
