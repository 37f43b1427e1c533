//! The `cache-lookup` stage: units whose docstring is cached skip the token
//! budget and the model.
//!
//! It takes both ports of the analyzer, so that it sees every unit of a file
//! (`file_units` of them) and asks the tiers for a file's incomplete units
//! together: one round trip to Redis per file (per [`LOOKUP_GROUP`] units of
//! a big one, below). Complete units go on at
//! once on `kept`; each incomplete one leaves on `hit` (state `cached`, its
//! draft from the cache) or `miss` (on to the model). A cached value is
//! checked as a model's answer is (the reply schema, then the signature);
//! one that fails is evicted from every tier, counted, and the unit goes to
//! the model.
//!
//! For a model that reads its prompt, each miss carries the number of its
//! file's misses ([`FILE_MISSES_KEY`]), so that `llm-generate` knows when a
//! file's units for the model are all there and can order them callees
//! first.
//!
//! The order serves the callees' summaries in the prompt. For a model that
//! reads none (the template), nothing waits for a whole file: the units are
//! looked up in groups of at most [`LOOKUP_GROUP`] as they come, and each
//! goes straight on when there is no tier to ask (`--no-cache`, or
//! `tiers = []`). Holding a file whole held every unit of a 20 MB module,
//! with its findings and parameters, at once: most of the peak memory of
//! `generate` on it.
//!
//! Given only some of a file's units (only `analyze.incomplete`), it cannot
//! know when a file is whole and holds the units to the end of its input:
//! correct, but nothing reaches the writer before then.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use docpipe_core::executor::Emitter;
use docpipe_core::model::{Envelope, Item, ItemKind, UnitState};
use docpipe_core::registry::{
    BuildContext, BuildError, DefaultConcurrency, NoOptions, PortDoc, Registry, StageRole,
    StageSpec,
};
use docpipe_core::report::RunStats;
use docpipe_core::stage::{BuiltStage, RunFlag, StageContext, StageError, Transform};

use super::key::KeyContext;
use super::stack::{TierStack, Wanted};
use crate::generate::order::{FILE_MISSES_KEY, Resolver};
use crate::generate::parse::{entry_doc, validate_reply};
use crate::llm::section::ModelSection;

pub(crate) fn register(registry: &mut Registry) {
    registry
        .add_stage::<NoOptions, _>(
            StageSpec {
                type_name: "cache-lookup",
                role: StageRole::Transform,
                summary: "Looks up cached docstrings in the `[cache] tiers`, a file's units in one request (1,024 at a time for a model that reads no prompt); hits skip the budget and the model",
                input: Some(ItemKind::Unit),
                ports: vec![
                    PortDoc {
                        name: "hit",
                        kind: ItemKind::Unit,
                        doc: "units whose docstring came from the cache, validated (state cached)",
                    },
                    PortDoc {
                        name: "miss",
                        kind: ItemKind::Unit,
                        doc: "units the cache could not answer (or whose cached value failed validation): on to the model",
                    },
                    PortDoc {
                        name: "kept",
                        kind: ItemKind::Unit,
                        doc: "units that needed no docstring (the analyzer's `complete`), untouched",
                    },
                ],
                default_concurrency: DefaultConcurrency::Fixed(4),
                sections: vec!["cache", "model", "style"],
            },
            |_options, ctx| Ok(BuiltStage::Transform(Arc::new(CacheLookup::build(ctx)?))),
        )
        .reads(&[RunFlag::NoCache, RunFlag::Estimate]);
}

/// The model identity in keys and tags: `provider/name`, Azure's deployment
/// for its name.
pub fn model_identity(section: &ModelSection) -> String {
    match section.provider.as_str() {
        "template" => "template".to_string(),
        "azure" => format!(
            "azure/{}",
            section.deployment.as_deref().unwrap_or(&section.name)
        ),
        p => format!("{p}/{}", section.name),
    }
}

/// The key context of a run's `[model]` and `[style]`. Whether the model
/// reads its prompt is asked of the model built as validation builds it (no
/// key needed, no request sent).
pub fn key_context(ctx: &BuildContext<'_>) -> Result<KeyContext, BuildError> {
    let section: ModelSection = ctx.section("model")?;
    let prompts = crate::generate::prompt_templates(&section, ctx)?;
    let model = ctx
        .registry
        .model(&section.provider, &ctx.validating(true))?;
    Ok(KeyContext {
        style: crate::generate::style_name(ctx),
        model: model_identity(&section),
        prompt_version: prompts.version().to_string(),
        reads_prompt: model.reads_prompt(),
    })
}

/// The most units of one file looked up together when no count is owed to
/// `llm-generate`: a file of fewer incomplete units is still one request.
pub const LOOKUP_GROUP: usize = 1024;

#[derive(Default)]
struct Held {
    seen: usize,
    pending: Vec<Envelope>,
}

/// The `cache-lookup` stage.
pub struct CacheLookup {
    stack: Arc<TierStack>,
    keys: KeyContext,
    held: Mutex<HashMap<PathBuf, Held>>,
    /// Finds each unit's callees, whose summaries are part of its key.
    resolver: Resolver,
}

impl CacheLookup {
    /// Builds the stage from `[cache]`, `[model]` and `[style]`.
    pub fn build(ctx: &BuildContext<'_>) -> Result<CacheLookup, BuildError> {
        Ok(CacheLookup {
            stack: super::shared_stack(ctx)?,
            keys: key_context(ctx)?,
            held: Mutex::new(HashMap::new()),
            resolver: Resolver::new(&ctx.run.base_dir, &ctx.run.project_dir()),
        })
    }

    /// How many of a file's incomplete units are looked up together: all of
    /// them when they are counted for `llm-generate` (a model that reads its
    /// prompt may have them ordered callees first, and a file's units are
    /// held until it is whole), one at a time when there is nothing to ask,
    /// else up to [`LOOKUP_GROUP`].
    fn group(&self, ctx: &StageContext) -> usize {
        if self.keys.reads_prompt {
            usize::MAX
        } else if ctx.run.no_cache || self.stack.is_empty() {
            1
        } else {
            LOOKUP_GROUP
        }
    }

    /// Looks `batch` up and sends each unit on `hit` or `miss`.
    async fn resolve(
        &self,
        mut batch: Vec<Envelope>,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        if batch.is_empty() {
            return Ok(());
        }
        if ctx.run.no_cache || self.stack.is_empty() {
            return self.emit_misses(batch, out).await;
        }
        let base = &ctx.run.base_dir;
        let project = ctx.run.project_dir();
        let wanted: Vec<Wanted> = batch
            .iter_mut()
            .map(|env| {
                let key = self.keys.key_of(&self.resolver, env);
                env.cache_key = Some(key.clone());
                Wanted {
                    key,
                    tags: self.keys.tags(&env.unit, base, &project),
                }
            })
            .collect();
        let found = self.stack.get_many(&wanted, &ctx.stats).await;
        let mut misses = Vec::new();
        for ((mut env, found), w) in batch.into_iter().zip(found).zip(&wanted) {
            let Some(found) = found else {
                RunStats::add(&ctx.stats.cache_misses, 1);
                misses.push(env);
                continue;
            };
            match cached_doc(&env, &found.value) {
                Ok(doc) => {
                    RunStats::add(&ctx.stats.cache_hits, 1);
                    if ctx.run.estimate {
                        // `--estimate` writes nothing: the unit is counted, not drafted.
                        env.skip("estimate only: cached, no model request needed");
                    } else {
                        env.draft = Some(Box::new(doc));
                        env.state = UnitState::Cached;
                    }
                    out.emit("hit", Item::Unit(Box::new(env))).await?;
                }
                Err(reason) => {
                    tracing::info!(
                        "cached docstring of `{}` evicted: {reason}",
                        env.unit.display_name()
                    );
                    self.stack.evict(&w.key, found.tier, &ctx.stats).await;
                    RunStats::add(&ctx.stats.cache_misses, 1);
                    misses.push(env);
                }
            }
        }
        self.emit_misses(misses, out).await
    }

    /// Sends misses on `miss` (from a vector that shrinks as they leave:
    /// [`crate::drain_shrinking`]); a whole file's, when they are counted,
    /// each stamped with their number.
    async fn emit_misses(&self, misses: Vec<Envelope>, out: &Emitter) -> Result<(), StageError> {
        let count = misses.len() as u64;
        for mut env in crate::drain_shrinking(misses) {
            if self.keys.reads_prompt {
                env.extra
                    .insert(FILE_MISSES_KEY.into(), serde_json::Value::from(count));
            }
            out.emit("miss", Item::Unit(Box::new(env))).await?;
        }
        Ok(())
    }
}

/// The docstring of `env`'s unit in a cached value, checked as a model's
/// answer is: JSON, the reply schema, then the signature.
pub fn cached_doc(env: &Envelope, value: &[u8]) -> Result<docpipe_core::model::DocModel, String> {
    let entry: serde_json::Value =
        serde_json::from_slice(value).map_err(|e| format!("not JSON: {e}"))?;
    let reply = validate_reply(&serde_json::json!({ "docstrings": [entry] }))?;
    entry_doc(&env.unit, reply.docstrings.first())
}

#[async_trait]
impl Transform for CacheLookup {
    async fn process(
        &self,
        item: Item,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        let Item::Unit(env) = item else {
            return Err(StageError::fatal(format!(
                "stage `{}` (cache-lookup) received a file; give it the analyzer's ports",
                ctx.name
            )));
        };
        let env = *env;
        let path = env.file.path.clone();
        let file_units = env.file_units;
        let group = self.group(ctx);
        let (kept, ready) = {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            // Room for as many as can be held: a big file's vector would
            // otherwise double its way there, copying as it goes.
            let entry = held.entry(path.clone()).or_insert_with(|| Held {
                seen: 0,
                pending: Vec::with_capacity(file_units.min(group)),
            });
            entry.seen += 1;
            let kept = if env.state == UnitState::Pending {
                entry.pending.push(env);
                None
            } else {
                Some(env)
            };
            let ready = if entry.seen >= file_units {
                held.remove(&path).map(|h| h.pending).unwrap_or_default()
            } else if entry.pending.len() >= group {
                let left = file_units - entry.seen;
                std::mem::replace(&mut entry.pending, Vec::with_capacity(left.min(group)))
            } else {
                Vec::new()
            };
            (kept, ready)
        };
        if let Some(env) = kept {
            out.emit("kept", Item::Unit(Box::new(env))).await?;
        }
        self.resolve(ready, ctx, out).await
    }

    async fn finish(&self, ctx: &StageContext, out: &Emitter) -> Result<(), StageError> {
        let held: Vec<Held> = {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            held.drain().map(|(_, h)| h).collect()
        };
        for h in held {
            self.resolve(h.pending, ctx, out).await?;
        }
        if !ctx.run.no_cache {
            self.stack.flush(&ctx.stats).await;
        }
        Ok(())
    }
}
