//! The file result cache of `check`, in the disk tier, as ruff's cache:
//! a file whose text and findings-relevant configuration did not change is
//! not parsed again; its findings come from the cache.
//!
//! - `result-cache` takes files: a file with a cached result leaves on `hit`
//!   as units rebuilt from the cache (what a report reads: the name, kind,
//!   line, whether it is documented, whether an ignore option left it out,
//!   and its findings); the others leave on `miss`, on to the extractor.
//!   `hit` is optional: in a pipeline where nothing takes it (`generate` and
//!   `docs` share the extractor with `check` but need the code itself),
//!   every file leaves on `miss` and nothing is looked up.
//! - `result-store` takes the analyzer's units, passes them on at once, and
//!   stores each file's result once all its units went through.
//!
//! The key of a file is a blake3 hash of its path (relative to the project),
//! its content hash, docpipe's version and everything in the configuration
//! that changes findings: the `[style]` and `[python]` sections and the
//! options of every extractor and analyzer stage. A file that does not
//! parse has no units; its finding (`DP003`) is kept instead, so a warm
//! `check` of an unchanged tree parses no file at all.
//!
//! Units rebuilt from the cache carry no source text and no docstring span:
//! they are for a report, never for a writer.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use docpipe_core::cache_store::CacheEntry;
use docpipe_core::executor::Emitter;
use docpipe_core::model::{
    CodeUnit, Docstring, Envelope, Finding, Insertion, Item, ItemKind, QuoteStyle, SourceFile,
    UnitKind, UnitState,
};
use docpipe_core::registry::{
    BuildContext, BuildError, DefaultConcurrency, NoOptions, PortDoc, Registry, StageRole,
    StageSpec,
};
use docpipe_core::report::RunStats;
use docpipe_core::stage::{BuiltStage, RunFlag, StageContext, StageError, Transform};
use serde::{Deserialize, Serialize};

use super::stack::{TierStack, Wanted};

/// Version of the stored layout.
pub const RESULT_VERSION: &str = "docpipe-check-1";

/// Stage types whose options change findings.
const FINDING_STAGES: [&str; 2] = ["python-extract", "docstring-analyze"];

/// Entries per store request.
const BATCH: usize = 64;

pub(crate) fn register(registry: &mut Registry) {
    registry
        .add_stage::<NoOptions, _>(
            StageSpec {
                type_name: "result-cache",
                role: StageRole::Transform,
                summary: "Answers `check` for files that did not change from the disk tier's file results, without parsing them",
                input: Some(ItemKind::File),
                ports: vec![
                    PortDoc {
                        name: "hit",
                        kind: ItemKind::Unit,
                        doc: "the units of files with a cached result, rebuilt for a report (no source text: never for a writer)",
                    },
                    PortDoc {
                        name: "miss",
                        kind: ItemKind::File,
                        doc: "files to parse and analyze",
                    },
                ],
                default_concurrency: DefaultConcurrency::Jobs,
                sections: vec!["cache", "style", "python"],
            },
            |_options, ctx| Ok(BuiltStage::Transform(Arc::new(ResultCache::build(ctx)?))),
        )
        .reads(&[RunFlag::NoCache])
        .optional(&["hit"]);
    registry
        .add_stage::<NoOptions, _>(
            StageSpec {
                type_name: "result-store",
                role: StageRole::Transform,
                summary: "Stores each file's analysis in the disk tier for `result-cache`; units pass on unchanged",
                input: Some(ItemKind::Unit),
                ports: vec![PortDoc {
                    name: "out",
                    kind: ItemKind::Unit,
                    doc: "every unit, unchanged",
                }],
                default_concurrency: DefaultConcurrency::One,
                sections: vec!["cache", "style", "python"],
            },
            |_options, ctx| Ok(BuiltStage::Transform(Arc::new(ResultStore::build(ctx)?))),
        )
        .reads(&[RunFlag::NoCache]);
}

/// One unit as the cache keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CachedUnit {
    qualname: String,
    name: String,
    kind: UnitKind,
    line: usize,
    column: usize,
    documented: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ignored: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    findings: Vec<Finding>,
}

/// A file's result: its units, or the findings that kept it from having
/// any (it does not parse).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct FileResult {
    units: Vec<CachedUnit>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    diagnostics: Vec<Finding>,
}

/// What both stages share: the disk tier, the configuration's hash, and the
/// files `result-cache` sent on (by path, with their key), so that
/// `result-store` can keep the findings of those that gave no unit.
struct Results {
    stack: Arc<TierStack>,
    config_hash: String,
    missed: Mutex<HashMap<PathBuf, String>>,
}

impl Results {
    fn build(ctx: &BuildContext<'_>) -> Result<Results, BuildError> {
        let all = super::shared_stack(ctx)?;
        // Only the disk tier keeps file results: memory would not outlive
        // the run, and Redis is for what is worth sharing between machines.
        let stack = Arc::new(TierStack::new(all.tier("disk").into_iter().collect()));
        Ok(Results {
            stack,
            config_hash: config_hash(ctx),
            missed: Mutex::new(HashMap::new()),
        })
    }

    fn key(&self, file: &SourceFile, ctx: &StageContext) -> String {
        let rel = super::key::relative(&file.path, &ctx.run.base_dir, &ctx.run.project_dir());
        let mut h = blake3::Hasher::new();
        for part in [
            RESULT_VERSION,
            env!("CARGO_PKG_VERSION"),
            &self.config_hash,
            &rel,
            &file.hash,
        ] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        format!("check:{}", h.finalize().to_hex())
    }

    /// Whether results are looked up and stored in this run: not with
    /// `--no-cache`, and not when the run looks at only some units of a
    /// file (a file's findings would then stand for units nobody checked).
    fn active(&self, ctx: &StageContext) -> bool {
        !ctx.run.no_cache
            && !self.stack.is_empty()
            && !ctx
                .run
                .selection
                .as_ref()
                .is_some_and(|s| s.narrows_units())
    }
}

/// A hash of what in the configuration changes findings.
fn config_hash(ctx: &BuildContext<'_>) -> String {
    let mut h = blake3::Hasher::new();
    // `--warn-unused-ignores` adds findings (DP130).
    h.update(&[u8::from(ctx.run.warn_unused_ignores)]);
    for section in ["style", "python"] {
        let text = toml::to_string(&ctx.config.section(section)).unwrap_or_default();
        h.update(section.as_bytes());
        h.update(text.as_bytes());
    }
    let mut stages: Vec<(&String, String)> = ctx
        .config
        .stages
        .values()
        .filter(|s| FINDING_STAGES.contains(&s.type_name.as_str()))
        .map(|s| {
            (
                &s.type_name,
                toml::to_string(&s.options).unwrap_or_default(),
            )
        })
        .collect();
    stages.sort();
    for (ty, options) in stages {
        h.update(ty.as_bytes());
        h.update(options.as_bytes());
    }
    h.finalize().to_hex().to_string()
}

fn shared(ctx: &BuildContext<'_>) -> Result<Arc<Results>, BuildError> {
    type Memo = Mutex<Vec<(String, std::sync::Weak<Results>)>>;
    static MEMO: Memo = Mutex::new(Vec::new());
    if ctx.validate_only {
        return Ok(Arc::new(Results::build(ctx)?));
    }
    // Both stages of a run share one disk tier.
    let section: super::CacheSection = ctx.section("cache")?;
    let print = super::fingerprint(&section, ctx);
    let mut memo = MEMO.lock().unwrap_or_else(|p| p.into_inner());
    memo.retain(|(_, w)| w.strong_count() > 0);
    if let Some(r) = memo
        .iter()
        .find(|(p, _)| *p == print)
        .and_then(|(_, w)| w.upgrade())
    {
        return Ok(r);
    }
    let results = Arc::new(Results::build(ctx)?);
    memo.push((print, Arc::downgrade(&results)));
    Ok(results)
}

/// The `result-cache` stage.
pub struct ResultCache {
    results: Arc<Results>,
}

impl ResultCache {
    /// Builds the stage from `[cache]` and the findings-relevant configuration.
    pub fn build(ctx: &BuildContext<'_>) -> Result<ResultCache, BuildError> {
        Ok(ResultCache {
            results: shared(ctx)?,
        })
    }
}

/// A unit rebuilt from the cache for a report.
fn rebuilt(file: &Arc<SourceFile>, n: usize, cached: CachedUnit) -> Envelope {
    let unit = CodeUnit {
        path: file.path.clone(),
        qualname: cached.qualname,
        name: cached.name,
        kind: cached.kind,
        is_async: false,
        nested: false,
        class_name: None,
        decorators: Vec::new(),
        params: Vec::new(),
        returns: None,
        raises: Vec::new(),
        yields: false,
        returns_value: false,
        raise_messages: Vec::new(),
        returns_none: false,
        reraises: false,
        complexity: 0,
        // Only whether there is one: a report counts documented units.
        docstring: cached.documented.then(|| {
            Box::new(Docstring {
                value: "(cached)".into(),
                span: 0..0,
                prefix: String::new(),
                quote: QuoteStyle::TripleDouble,
                indent: String::new(),
                line: cached.line,
            })
        }),
        insertion: Insertion {
            offset: 0,
            indent: String::new(),
            inline_body: None,
        },
        line: cached.line,
        column: cached.column,
        span: 0..0,
        signature: String::new(),
        source: Default::default(),
        context: String::new(),
        constructor: None,
    };
    let mut env = Envelope::new(file.clone(), n, unit);
    env.findings = cached.findings;
    if let Some(ignored) = cached.ignored {
        env.extra.insert(crate::analyze::EXTRA_KEY.into(), ignored);
    }
    env.state = UnitState::Kept;
    env
}

#[async_trait]
impl Transform for ResultCache {
    async fn process(
        &self,
        item: Item,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        let Item::File(file) = item else {
            return Err(StageError::fatal(format!(
                "stage `{}` (result-cache) received a unit; connect it to a source of files",
                ctx.name
            )));
        };
        // A pipeline that takes no rebuilt units (`generate`, `docs`: they
        // need the code itself) gets every file.
        if !self.results.active(ctx) || !out.is_consumed("hit") {
            return out.emit("miss", Item::File(file)).await;
        }
        let key = self.results.key(&file, ctx);
        let found = self
            .results
            .stack
            .get_many(
                &[Wanted {
                    key: key.clone(),
                    tags: Vec::new(),
                }],
                &ctx.stats,
            )
            .await
            .pop()
            .flatten();
        let result = found.and_then(|f| {
            serde_json::from_slice::<FileResult>(&f.value)
                .ok()
                .filter(|r| !r.units.is_empty() || !r.diagnostics.is_empty())
        });
        let Some(result) = result else {
            RunStats::add(&ctx.stats.cache_misses, 1);
            self.results
                .missed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(file.path.clone(), key);
            return out.emit("miss", Item::File(file)).await;
        };
        RunStats::add(&ctx.stats.cache_hits, 1);
        // A file that does not parse: its finding, as the extractor gave it.
        for finding in result.diagnostics {
            ctx.diagnostics.push(file.path.clone(), finding);
        }
        let n = result.units.len();
        for cached in result.units {
            out.emit("hit", Item::Unit(Box::new(rebuilt(&file, n, cached))))
                .await?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Collecting {
    units: Vec<CachedUnit>,
}

/// The `result-store` stage.
pub struct ResultStore {
    results: Arc<Results>,
    files: Mutex<HashMap<PathBuf, Collecting>>,
    pending: Mutex<Vec<CacheEntry>>,
}

impl ResultStore {
    /// Builds the stage from `[cache]` and the findings-relevant configuration.
    pub fn build(ctx: &BuildContext<'_>) -> Result<ResultStore, BuildError> {
        Ok(ResultStore {
            results: shared(ctx)?,
            files: Mutex::new(HashMap::new()),
            pending: Mutex::new(Vec::new()),
        })
    }

    fn record(&self, env: &Envelope, ctx: &StageContext) {
        let cached = CachedUnit {
            qualname: env.unit.qualname.clone(),
            name: env.unit.name.clone(),
            kind: env.unit.kind,
            line: env.unit.line,
            column: env.unit.column,
            documented: env.unit.is_documented(),
            ignored: env.extra.get(crate::analyze::EXTRA_KEY).cloned(),
            findings: env.findings.clone(),
        };
        let done = {
            let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
            let entry = files.entry(env.file.path.clone()).or_default();
            entry.units.push(cached);
            if entry.units.len() >= env.file_units {
                self.results
                    .missed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&env.file.path);
                files.remove(&env.file.path)
            } else {
                None
            }
        };
        let Some(done) = done else { return };
        let Ok(value) = serde_json::to_vec(&FileResult {
            units: done.units,
            diagnostics: Vec::new(),
        }) else {
            return;
        };
        let entry = CacheEntry {
            key: self.results.key(&env.file, ctx),
            value,
            tags: vec![super::key::path_tag(
                &env.file.path,
                &ctx.run.base_dir,
                &ctx.run.project_dir(),
            )],
        };
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(entry);
    }

    async fn store(&self, all: bool, ctx: &StageContext) {
        let batch = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            if pending.len() >= BATCH || (all && !pending.is_empty()) {
                std::mem::take(&mut *pending)
            } else {
                return;
            }
        };
        for chunk in batch.chunks(BATCH) {
            self.results.stack.put_many(chunk, &ctx.stats).await;
        }
    }
}

#[async_trait]
impl Transform for ResultStore {
    async fn process(
        &self,
        item: Item,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        let active = self.results.active(ctx);
        if active && let Item::Unit(env) = &item {
            self.record(env, ctx);
        }
        out.send(item).await?;
        if active {
            self.store(false, ctx).await;
        }
        Ok(())
    }

    async fn finish(&self, ctx: &StageContext, _out: &Emitter) -> Result<(), StageError> {
        if self.results.active(ctx) {
            self.keep_diagnostics(ctx);
            self.store(true, ctx).await;
            self.results.stack.flush(&ctx.stats).await;
        }
        Ok(())
    }
}

impl ResultStore {
    /// The findings of the files `result-cache` sent on that gave no unit
    /// (syntax errors): kept too, so that a warm `check` parses nothing.
    /// Every stage upstream has ended when this stage's input has.
    fn keep_diagnostics(&self, ctx: &StageContext) {
        let missed = std::mem::take(
            &mut *self
                .results
                .missed
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        if missed.is_empty() {
            return;
        }
        let mut by_file: HashMap<PathBuf, Vec<Finding>> = HashMap::new();
        for d in ctx.diagnostics.snapshot() {
            if missed.contains_key(&d.path) {
                by_file.entry(d.path).or_default().push(d.finding);
            }
        }
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for (path, diagnostics) in by_file {
            let Some(key) = missed.get(&path) else {
                continue;
            };
            let Ok(value) = serde_json::to_vec(&FileResult {
                units: Vec::new(),
                diagnostics,
            }) else {
                continue;
            };
            pending.push(CacheEntry {
                key: key.clone(),
                value,
                tags: vec![super::key::path_tag(
                    &path,
                    &ctx.run.base_dir,
                    &ctx.run.project_dir(),
                )],
            });
        }
    }
}
