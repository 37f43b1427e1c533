//! The `cache-store` stage: docstrings the model wrote go into every tier
//! of `[cache] tiers`, so the next run (or another machine sharing Redis)
//! finds them. Units pass on at once; the stores are batched
//! ([`BATCH`] entries a request, the rest when the input ends) so that a
//! tier across the network pays one round trip per batch.
//!
//! What is stored is the model's answer for the unit (the reply schema's
//! entry: its qualified name and the docstring as structure), which
//! `cache-lookup` validates again before use.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use docpipe_core::cache_store::CacheEntry;
use docpipe_core::executor::Emitter;
use docpipe_core::model::{Envelope, Item, ItemKind, UnitState};
use docpipe_core::registry::{
    BuildContext, BuildError, DefaultConcurrency, NoOptions, PortDoc, Registry, StageRole,
    StageSpec,
};
use docpipe_core::stage::{BuiltStage, RunFlag, StageContext, StageError, Transform};

use super::key::KeyContext;
use super::stack::TierStack;
use crate::generate::order::Resolver;
use crate::reply::entry_value;

/// Entries per store request.
pub const BATCH: usize = 64;

pub(crate) fn register(registry: &mut Registry) {
    registry
        .add_stage::<NoOptions, _>(
            StageSpec {
                type_name: "cache-store",
                role: StageRole::Transform,
                summary: "Stores generated docstrings in every `[cache] tiers` tier (batched); units pass on unchanged",
                input: Some(ItemKind::Unit),
                ports: vec![PortDoc {
                    name: "out",
                    kind: ItemKind::Unit,
                    doc: "every unit, unchanged",
                }],
                default_concurrency: DefaultConcurrency::One,
                sections: vec!["cache", "model", "style"],
            },
            |_options, ctx| Ok(BuiltStage::Transform(Arc::new(CacheStoreStage::build(ctx)?))),
        )
        .reads(&[RunFlag::NoCache]);
}

/// The `cache-store` stage.
pub struct CacheStoreStage {
    stack: Arc<TierStack>,
    keys: KeyContext,
    pending: Mutex<Vec<CacheEntry>>,
    /// Keys units that `cache-lookup` did not key, as it would have.
    resolver: Resolver,
}

impl CacheStoreStage {
    /// Builds the stage from `[cache]`, `[model]` and `[style]`.
    pub fn build(ctx: &BuildContext<'_>) -> Result<CacheStoreStage, BuildError> {
        Ok(CacheStoreStage {
            stack: super::shared_stack(ctx)?,
            keys: super::lookup::key_context(ctx)?,
            pending: Mutex::new(Vec::new()),
            resolver: Resolver::new(&ctx.run.base_dir, &ctx.run.project_dir()),
        })
    }

    /// The entry to store for `env`, when the model wrote its docstring.
    fn entry(&self, env: &Envelope, ctx: &StageContext) -> Option<CacheEntry> {
        if env.state != UnitState::Generated {
            return None;
        }
        let doc = env.draft.as_ref()?;
        let value = serde_json::to_vec(&entry_value(env.unit.display_str(), doc)).ok()?;
        let key = env
            .cache_key
            .clone()
            .unwrap_or_else(|| self.keys.key_of(&self.resolver, env));
        Some(CacheEntry {
            key,
            value,
            tags: self
                .keys
                .tags(&env.unit, &ctx.run.base_dir, &ctx.run.project_dir()),
        })
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
            self.stack.put_many(chunk, &ctx.stats).await;
        }
    }
}

#[async_trait]
impl Transform for CacheStoreStage {
    async fn process(
        &self,
        item: Item,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        if !ctx.run.no_cache
            && !self.stack.is_empty()
            && let Item::Unit(env) = &item
            && let Some(entry) = self.entry(env, ctx)
        {
            self.pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(entry);
        }
        out.send(item).await?;
        if !ctx.run.no_cache {
            self.store(false, ctx).await;
        }
        Ok(())
    }

    async fn finish(&self, ctx: &StageContext, _out: &Emitter) -> Result<(), StageError> {
        if !ctx.run.no_cache {
            self.store(true, ctx).await;
            self.stack.flush(&ctx.stats).await;
        }
        Ok(())
    }
}
