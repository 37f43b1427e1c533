//! The `llm-generate` and `reply-parse` stages: docstrings from the model.
//!
//! ## The bounded retry path
//!
//! pipeline.toml stays acyclic, so a reply that fails validation cannot be
//! sent back along an edge. Instead `llm-generate` validates every answer
//! with the parser's own code ([`parse::interpret`]: JSON extraction, schema,
//! signature check) before a unit leaves it. Units whose entry fails go back
//! to the model in the same task, with the errors in the prompt, until they
//! pass or `[model] max_attempts` answers were tried; then they end
//! `Failed` with the last reason. A unit that passes leaves with the answer
//! attached (`extra.llm_reply`), still `Pending`; `reply-parse` only
//! finalises it: it parses the attached answer again (cheap, deterministic,
//! and the same check, so a generator plugin that skips validation is still
//! caught), sets the draft and `Generated`, or ends the unit `Failed`.
//!
//! ## Concurrency and batching
//!
//! `process` hands each request to a task and returns, waiting only for one
//! of `[model] concurrency` slots: the stage's own `concurrency` does not
//! limit requests. With `batch_size > 1`, units of one file are held until
//! the batch is full, the file's units have all arrived, or the input ends.
//! Model errors after the backend's transport retries end the units of the
//! request `Failed`; the run goes on. A 401/403 stops every later request.
//!
//! ## Order
//!
//! With `order = "callees-first"` (the default), a unit whose callees in the
//! repository are being generated in this run waits for them, bounded by
//! `max_wait_ms`, and its prompt shows their summaries ([`order`]). A unit
//! that waits holds no slot; the units that are ready are sent meanwhile,
//! and with `batch_size > 1` the units of a file that become ready together
//! share a request.

pub mod order;
pub mod parse;
pub mod prompt;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use docpipe_core::chat::{ChatMessage, ChatRequest, FinishReason, Model, ModelError};
use docpipe_core::executor::Emitter;
use docpipe_core::model::{Envelope, Item, ItemKind, TokenUsage, UnitState};
use docpipe_core::registry::{
    BuildContext, BuildError, DefaultConcurrency, NoOptions, PortDoc, Registry, StageRole,
    StageSpec,
};
use docpipe_core::report::RunStats;
use docpipe_core::stage::{BuiltStage, StageContext, StageError, Transform};
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::{AbortHandle, JoinSet};

use crate::budget::prices::{Price, PriceTable};
use crate::budget::tokens::{ModelLimits, TokenCounter, shorten_source};
use crate::llm::section::{BudgetSection, ModelSection};
use crate::reply::{SCHEMA_NAME, schema};
use order::{Board, FILE_MISSES_KEY, GenerateOptions, Offer, Order, Resolver};
use parse::{AttachedReply, REPLY_KEY};
use prompt::{PromptTemplates, PromptUnit};

/// Key of `Envelope::extra` holding the prompt version (part of cache keys).
pub const PROMPT_VERSION_KEY: &str = "prompt_version";
/// Key of `Envelope::extra` holding a source shortened to fit the context
/// window (set by `token-budget`, read by the prompt).
pub const PROMPT_SOURCE_KEY: &str = "prompt_source";
/// Completion tokens asked for per unit of a request, before doubling on truncation.
pub const COMPLETION_TOKENS_PER_UNIT: u64 = 1024;

pub(crate) fn register(registry: &mut Registry) {
    registry.add_stage::<GenerateOptions, _>(
        StageSpec {
            type_name: "llm-generate",
            role: StageRole::Transform,
            summary: "Asks the `[model]` backend for docstrings, validates each answer and asks again with the errors, up to `max_attempts`",
            input: Some(ItemKind::Unit),
            ports: vec![PortDoc {
                name: "out",
                kind: ItemKind::Unit,
                doc: "every unit: with a validated answer attached, or failed/skipped with the reason",
            }],
            default_concurrency: DefaultConcurrency::One,
            sections: vec!["model", "budget", "style"],
        },
        |options, ctx| {
            Ok(BuiltStage::Transform(Arc::new(GenerateStage::build(
                &options, ctx,
            )?)))
        },
    )
    .reads(&[docpipe_core::stage::RunFlag::Estimate]);
    registry.add_stage::<NoOptions, _>(
        StageSpec {
            type_name: "reply-parse",
            role: StageRole::Transform,
            summary: "Turns the model answer attached by `llm-generate` into the unit's draft docstring, checked against the signature",
            input: Some(ItemKind::Unit),
            ports: vec![PortDoc {
                name: "out",
                kind: ItemKind::Unit,
                doc: "every unit: generated with a draft, or failed with the reason",
            }],
            default_concurrency: DefaultConcurrency::Jobs,
            sections: vec![],
        },
        |_options, _ctx| Ok(BuiltStage::Transform(Arc::new(parse::ReplyParseStage))),
    );
}

/// The convention named in the prompt: `[style] name`, or for `auto` the
/// words that say what it means. (The model answers with structure; the
/// writer renders each docstring in its own convention whatever this says.)
pub fn style_name(ctx: &BuildContext<'_>) -> String {
    let name = ctx
        .config
        .section("style")
        .get("name")
        .and_then(|v| v.as_str())
        .unwrap_or(crate::style::AUTO)
        .to_string();
    if name == crate::style::AUTO {
        "project's own (Google, NumPy or Sphinx, as its docstrings are written)".to_string()
    } else {
        name
    }
}

/// The prompt templates of `[model] prompt_file`, or the built-in ones.
pub fn prompt_templates(
    section: &ModelSection,
    ctx: &BuildContext<'_>,
) -> Result<PromptTemplates, BuildError> {
    let placeholder = ctx
        .section::<crate::style::StyleSection>("style")?
        .placeholder;
    let templates = match &section.prompt_file {
        None => Ok(PromptTemplates::default()),
        Some(file) => {
            let path = ctx.run.base_dir.join(file);
            PromptTemplates::from_file(&path).map_err(|e| {
                BuildError::new(format!("`[model] prompt_file`: {e}"))
                    .with_help("write a TOML file with `system`, `user` and `unit` strings; see `docpipe stages`")
            })
        }
    }?;
    Ok(templates.with_placeholder(&placeholder))
}

/// What every request task of the stage shares.
struct Shared {
    model: Arc<dyn Model>,
    model_id: String,
    prompts: PromptTemplates,
    style: String,
    section: ModelSection,
    budget: BudgetSection,
    limits: ModelLimits,
    counter: TokenCounter,
    price: Option<Price>,
    slots: Arc<Semaphore>,
    requests: AtomicU64,
    cost_micro_usd: AtomicU64,
    auth_failure: OnceLock<String>,
    tasks: Mutex<JoinSet<Result<(), StageError>>>,
    /// With `order = "callees-first"`.
    ordering: Option<CallOrder>,
}

/// The state of dependency-ordered generation.
struct CallOrder {
    board: Mutex<Board>,
    resolver: Resolver,
    max_wait: Duration,
    /// The run's paths, absolute: a callee's file outside them never comes.
    run_paths: Vec<PathBuf>,
    /// The timer of each waiting unit.
    timers: Mutex<HashMap<docpipe_core::model::UnitId, AbortHandle>>,
    /// The summary generated for each unit, until its request ends.
    generated: Mutex<HashMap<docpipe_core::model::UnitId, String>>,
}

impl CallOrder {
    fn in_run(&self, path: &std::path::Path) -> bool {
        self.run_paths.iter().any(|p| path.starts_with(p))
    }

    fn board(&self) -> std::sync::MutexGuard<'_, Board> {
        self.board.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops the timers of units that no longer wait.
    fn stop_timers(&self, released: &[Envelope]) {
        let mut timers = self.timers.lock().unwrap_or_else(|p| p.into_inner());
        for env in released {
            if let Some(t) = timers.remove(&env.id) {
                t.abort();
            }
        }
    }
}

#[derive(Default)]
struct Held {
    envs: Vec<Envelope>,
    seen: usize,
}

/// The `llm-generate` stage.
pub struct GenerateStage {
    shared: Arc<Shared>,
    held: Mutex<HashMap<PathBuf, Held>>,
}

impl GenerateStage {
    /// Builds the stage from its options, `[model]`, `[budget]` and `[style]`.
    pub fn build(
        options: &GenerateOptions,
        ctx: &BuildContext<'_>,
    ) -> Result<GenerateStage, BuildError> {
        let section: ModelSection = ctx.section("model")?;
        let budget: BudgetSection = ctx.section("budget")?;
        // With --estimate no request goes out: build the model as validation
        // does, needing no key.
        let estimate_ctx = ctx.validating(ctx.run.estimate);
        let model = ctx.registry.model(&section.provider, &estimate_ctx)?;
        let prompts = prompt_templates(&section, ctx)?;
        let prices = PriceTable::new(&section.prices);
        // Callees first is for the callees' summaries in a caller's prompt:
        // a model that reads no prompt (the template) gains nothing from the
        // order, and the wait board costs memory per unit.
        let ordering = (options.order == Order::CalleesFirst && model.reads_prompt()).then(|| {
            let resolver = Resolver::new(&ctx.run.base_dir, &ctx.run.project_dir());
            let run_paths = if ctx.run.paths.is_empty() {
                vec![resolver.absolute(std::path::Path::new("."))]
            } else {
                ctx.run.paths.iter().map(|p| resolver.absolute(p)).collect()
            };
            CallOrder {
                board: Mutex::new(Board::default()),
                resolver,
                max_wait: Duration::from_millis(options.max_wait_ms),
                run_paths,
                timers: Mutex::new(HashMap::new()),
                generated: Mutex::new(HashMap::new()),
            }
        });
        Ok(GenerateStage {
            shared: Arc::new(Shared {
                model_id: model.id(),
                model,
                prompts,
                style: style_name(ctx),
                limits: ModelLimits::of(&section),
                counter: TokenCounter::for_model(&section.name),
                price: prices.price(&section.name),
                slots: Arc::new(Semaphore::new(section.concurrency())),
                budget,
                section,
                requests: AtomicU64::new(0),
                cost_micro_usd: AtomicU64::new(0),
                auth_failure: OnceLock::new(),
                tasks: Mutex::new(JoinSet::new()),
                ordering,
            }),
            held: Mutex::new(HashMap::new()),
        })
    }

    /// Starts a request for `batch` once a slot is free (waiting here, so
    /// that the input is not read further while every slot is busy).
    async fn dispatch(
        &self,
        batch: Vec<Envelope>,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        if batch.is_empty() {
            return Ok(());
        }
        let permit = tokio::select! {
            p = self.shared.slots.clone().acquire_owned() => p.map_err(|_| StageError::Closed)?,
            _ = ctx.cancel.cancelled() => return Err(StageError::Closed),
        };
        Shared::spawn_batch(&self.shared, batch, Some(permit), ctx, out)
    }

    /// Sends `ready` (units of any files) in requests of at most
    /// `batch_size` units of one file each.
    async fn dispatch_ready(
        &self,
        ready: Vec<Envelope>,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        for batch in by_file(ready, self.shared.section.batch_size()) {
            self.dispatch(batch, ctx, out).await?;
        }
        Ok(())
    }

    /// The callees-first path of [`Transform::process`].
    async fn process_ordered(
        &self,
        ordering: &CallOrder,
        mut env: Envelope,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        let stamp = env
            .extra
            .get(FILE_MISSES_KEY)
            .and_then(Value::as_u64)
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        if env.state != UnitState::Pending || ctx.run.estimate {
            if env.state == UnitState::Pending {
                env.skip("estimate only");
            }
            // It still counts among its file's units for the generator.
            let whole = stamp.and_then(|n| self.hold(None, &env.file.path, n));
            out.send(Item::Unit(Box::new(env))).await?;
            if let Some(group) = whole {
                self.admit(ordering, group, true, ctx, out).await?;
            }
            return Ok(());
        }
        let batch_size = self.shared.section.batch_size();
        let path = env.file.path.clone();
        let (group, whole) = match stamp {
            Some(n) => match self.hold(Some(env), &path, n) {
                Some(group) => (group, true),
                None => return Ok(()),
            },
            None if batch_size == 1 => (vec![env], false),
            None => {
                let file_units = env.file_units;
                match self.hold(Some(env), &path, file_units) {
                    Some(group) => (group, true),
                    None => {
                        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
                        match held.get_mut(&path) {
                            Some(h) if h.envs.len() >= batch_size => {
                                (std::mem::take(&mut h.envs), false)
                            }
                            _ => return Ok(()),
                        }
                    }
                }
            }
        };
        self.admit(ordering, group, whole, ctx, out).await
    }

    /// Counts one more unit of `path` (holding `env` when given) and returns
    /// the file's held units once `expected` have been counted.
    fn hold(
        &self,
        env: Option<Envelope>,
        path: &std::path::Path,
        expected: usize,
    ) -> Option<Vec<Envelope>> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let entry = held.entry(path.to_path_buf()).or_insert_with(|| Held {
            envs: Vec::with_capacity(expected),
            seen: 0,
        });
        entry.seen += 1;
        entry.envs.extend(env);
        if entry.seen >= expected {
            held.remove(path).map(|h| h.envs)
        } else {
            None
        }
    }

    /// Offers the units of one file to the board, sends those that are
    /// ready and starts the timers of those that wait.
    async fn admit(
        &self,
        ordering: &CallOrder,
        group: Vec<Envelope>,
        whole: bool,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        if group.is_empty() {
            return Ok(());
        }
        let offers: Vec<Offer> = group
            .into_iter()
            .map(|env| Offer {
                key: ordering.resolver.key(&env.unit),
                callees: ordering.resolver.callees(&env.unit, &env.file),
                env,
            })
            .collect();
        let ids: Vec<docpipe_core::model::UnitId> = offers.iter().map(|o| o.env.id).collect();
        let ready = ordering
            .board()
            .admit(offers, whole, |p| ordering.in_run(p), Instant::now());
        ordering.stop_timers(&ready);
        let waiting: Vec<_> = ids
            .into_iter()
            .filter(|id| !ready.iter().any(|e| e.id == *id))
            .collect();
        for id in waiting {
            Shared::start_timer(&self.shared, id, ctx, out);
        }
        self.dispatch_ready(ready, ctx, out).await
    }
}

/// `envs` in batches of at most `size` units of one file each, files in
/// order of first appearance. Each unit is moved once, into a batch of
/// exactly its size: a file can bring a hundred thousand units here at
/// once, and growing vectors of them (or batches of one with room for four)
/// cost several times what the units themselves take.
fn by_file(envs: Vec<Envelope>, size: usize) -> Vec<Vec<Envelope>> {
    let one_file = envs
        .first()
        .is_none_or(|first| envs.iter().all(|e| e.file.path == first.file.path));
    if one_file {
        return chunks(envs, size);
    }
    let mut files: HashMap<&std::path::Path, usize> = HashMap::new();
    let mut counts: Vec<usize> = Vec::new();
    let rank: Vec<usize> = envs
        .iter()
        .map(|e| {
            let r = *files.entry(&e.file.path).or_insert(counts.len());
            if r == counts.len() {
                counts.push(0);
            }
            counts[r] += 1;
            r
        })
        .collect();
    drop(files);
    let mut grouped: Vec<Vec<Envelope>> = counts.into_iter().map(Vec::with_capacity).collect();
    for (env, r) in envs.into_iter().zip(rank) {
        grouped[r].push(env);
    }
    grouped.into_iter().flat_map(|v| chunks(v, size)).collect()
}

fn flatten(
    joined: Result<Result<(), StageError>, tokio::task::JoinError>,
) -> Result<(), StageError> {
    match joined {
        Ok(r) => r,
        Err(e) if e.is_panic() => Err(StageError::fatal(format!(
            "llm-generate: a request task panicked: {e}"
        ))),
        Err(_) => Ok(()),
    }
}

#[async_trait]
impl Transform for GenerateStage {
    async fn process(
        &self,
        item: Item,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        let Item::Unit(env) = item else {
            return Err(StageError::fatal(
                "llm-generate takes units; its input must be an analyzer or budget stage, not a source",
            ));
        };
        let mut env = *env;
        if let Some(ordering) = &self.shared.ordering {
            return self.process_ordered(ordering, env, ctx, out).await;
        }
        if env.state != UnitState::Pending {
            return out.send(Item::Unit(Box::new(env))).await;
        }
        if ctx.run.estimate {
            env.skip("estimate only");
            return out.send(Item::Unit(Box::new(env))).await;
        }
        let batch_size = self.shared.section.batch_size();
        if batch_size == 1 {
            return self.dispatch(vec![env], ctx, out).await;
        }
        let ready = {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            let path = env.file.path.clone();
            let file_units = env.file_units;
            let entry = held.entry(path.clone()).or_default();
            entry.seen += 1;
            entry.envs.push(env);
            let whole = entry.seen >= file_units;
            if whole {
                held.remove(&path).map(|h| h.envs).unwrap_or_default()
            } else if entry.envs.len() >= batch_size {
                std::mem::take(&mut entry.envs)
            } else {
                Vec::new()
            }
        };
        for chunk in chunks(ready, batch_size) {
            self.dispatch(chunk, ctx, out).await?;
        }
        Ok(())
    }

    async fn finish(&self, ctx: &StageContext, out: &Emitter) -> Result<(), StageError> {
        let held: Vec<Held> = {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            held.drain().map(|(_, h)| h).collect()
        };
        let batch_size = self.shared.section.batch_size();
        for h in held {
            match &self.shared.ordering {
                Some(ordering) => self.admit(ordering, h.envs, false, ctx, out).await?,
                None => {
                    for chunk in chunks(h.envs, batch_size) {
                        self.dispatch(chunk, ctx, out).await?;
                    }
                }
            }
        }
        if let Some(ordering) = &self.shared.ordering {
            let released = ordering.board().input_ended(Instant::now());
            ordering.stop_timers(&released);
            self.dispatch_ready(released, ctx, out).await?;
        }
        let mut first_error = None;
        loop {
            let mut tasks =
                std::mem::take(&mut *self.shared.tasks.lock().unwrap_or_else(|p| p.into_inner()));
            if tasks.is_empty() {
                // Nothing runs that a waiting unit could wait for: send it.
                let stuck = self
                    .shared
                    .ordering
                    .as_ref()
                    .map(|o| {
                        let released = o.board().release_all(Instant::now());
                        o.stop_timers(&released);
                        released
                    })
                    .unwrap_or_default();
                if stuck.is_empty() {
                    break;
                }
                self.dispatch_ready(stuck, ctx, out).await?;
                continue;
            }
            while let Some(done) = tasks.join_next().await {
                if let Err(e) = flatten(done) {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(ordering) = &self.shared.ordering {
            let stats = ordering.board().stats();
            if stats.waited > 0 || stats.cycles > 0 {
                tracing::info!(
                    "llm-generate: {} waited for callees (longest {} ms, {} at the bound of {} ms); {} wait(s) not taken to break a cycle",
                    docpipe_core::printable::count(stats.waited, "unit", "units"),
                    stats.longest.as_millis(),
                    stats.timed_out,
                    ordering.max_wait.as_millis(),
                    stats.cycles
                );
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// `envs` in batches of at most `size`, each allocated at its size.
fn chunks(envs: Vec<Envelope>, size: usize) -> Vec<Vec<Envelope>> {
    let size = size.max(1);
    let mut out = Vec::with_capacity(envs.len().div_ceil(size));
    let mut left = envs.len();
    let mut current = Vec::new();
    for env in envs {
        if current.is_empty() {
            current.reserve_exact(left.min(size));
        }
        current.push(env);
        left -= 1;
        if current.len() >= size {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// One unit of a request, with the reason its last answer was rejected.
struct Todo {
    env: Envelope,
    last_error: Option<String>,
}

impl Shared {
    /// Runs a request for `batch` in a task: with `permit`, or once a slot
    /// is free. With callees-first order, the units' dependents are released
    /// when it ends.
    fn spawn_batch(
        this: &Arc<Shared>,
        batch: Vec<Envelope>,
        permit: Option<OwnedSemaphorePermit>,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        if batch.is_empty() {
            return Ok(());
        }
        let shared = this.clone();
        let ctx = ctx.clone();
        let out = out.clone();
        let mut tasks = this.tasks.lock().unwrap_or_else(|p| p.into_inner());
        // Collect finished tasks so the set does not grow with the run.
        let mut first_error = None;
        while let Some(done) = tasks.try_join_next() {
            if let Err(e) = flatten(done) {
                first_error.get_or_insert(e);
            }
        }
        tasks.spawn(async move {
            let permit = match permit {
                Some(p) => p,
                None => tokio::select! {
                    p = shared.slots.clone().acquire_owned() => p.map_err(|_| StageError::Closed)?,
                    _ = ctx.cancel.cancelled() => return Ok(()),
                },
            };
            let keys: Vec<_> = match &shared.ordering {
                Some(o) => batch
                    .iter()
                    .map(|e| (e.id, o.resolver.key(&e.unit)))
                    .collect(),
                None => Vec::new(),
            };
            let result = shared.run_batch(batch, permit, &ctx, &out).await;
            Shared::settle(&shared, keys, &ctx, &out);
            result
        });
        first_error.map_or(Ok(()), Err)
    }

    /// The units of a finished request are done: releases their dependents.
    fn settle(
        this: &Arc<Shared>,
        keys: Vec<(docpipe_core::model::UnitId, order::UnitKey)>,
        ctx: &StageContext,
        out: &Emitter,
    ) {
        let Some(ordering) = &this.ordering else {
            return;
        };
        let mut released = Vec::new();
        for (id, key) in keys {
            let summary = ordering
                .generated
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&id);
            released.extend(ordering.board().finished(&key, id, summary, Instant::now()));
        }
        ordering.stop_timers(&released);
        for batch in by_file(released, this.section.batch_size()) {
            // An error here is a closed output: the run is ending anyway.
            let _ = Shared::spawn_batch(this, batch, None, ctx, out);
        }
    }

    /// After `max_wait`, sends unit `id` if it still waits.
    fn start_timer(
        this: &Arc<Shared>,
        id: docpipe_core::model::UnitId,
        ctx: &StageContext,
        out: &Emitter,
    ) {
        let Some(ordering) = &this.ordering else {
            return;
        };
        let shared = this.clone();
        let ctx = ctx.clone();
        let out = out.clone();
        let wait = ordering.max_wait;
        let handle = this
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .spawn(async move {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = ctx.cancel.cancelled() => return Ok(()),
                }
                let Some(ordering) = &shared.ordering else {
                    return Ok(());
                };
                let expired = ordering.board().expire(id, Instant::now());
                ordering
                    .timers
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&id);
                if let Some(env) = expired {
                    Shared::spawn_batch(&shared, vec![env], None, &ctx, &out)?;
                }
                Ok(())
            });
        ordering
            .timers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, handle);
        // Released before its timer was recorded: nothing stopped it.
        if !ordering.board().waits(id)
            && let Some(t) = ordering
                .timers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&id)
        {
            t.abort();
        }
    }

    /// Asks for the docstrings of `batch` until each is valid or out of attempts.
    async fn run_batch(
        &self,
        batch: Vec<Envelope>,
        _permit: OwnedSemaphorePermit,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        let mut todo: Vec<Todo> = batch
            .into_iter()
            .map(|env| Todo {
                env,
                last_error: None,
            })
            .collect();
        let attempts = self.section.max_attempts();
        let mut max_tokens =
            (COMPLETION_TOKENS_PER_UNIT * todo.len() as u64).min(self.limits.max_completion_tokens);
        for _ in 0..attempts {
            if todo.is_empty() {
                break;
            }
            if let Some(reason) = self.auth_failure.get() {
                return self.end_all(todo, |e| e.fail(reason.clone()), out).await;
            }
            if let Some(reason) = self.cap_reached() {
                return self.end_all(todo, |e| e.skip(reason.clone()), out).await;
            }
            let request = self.request(&todo, max_tokens);
            let units: Vec<_> = todo.iter().map(|t| t.env.unit.clone()).collect();
            tracing::debug!(
                model = %self.model_id,
                "asking for {} of {} ({} prompt tokens, attempt {})",
                docpipe_core::printable::count(units.len() as u64, "docstring", "docstrings"),
                units
                    .first()
                    .map(|u| docpipe_core::printable::path(&u.path).into_owned())
                    .unwrap_or_default(),
                request.estimated_prompt_tokens,
                todo.first().map_or(1, |t| t.env.attempts + 1)
            );
            let answer = tokio::select! {
                r = self.model.complete(request) => r,
                _ = ctx.cancel.cancelled() => return Ok(()),
            };
            let response = match answer {
                Ok(r) => r,
                Err(e) => {
                    // Every request sent counts, the retries of a call that gave up too.
                    RunStats::add(&ctx.stats.model_requests, 1 + u64::from(e.retries()));
                    RunStats::add(&ctx.stats.model_retries, u64::from(e.retries()));
                    let reason = self.describe(&e);
                    if matches!(e, ModelError::Auth { .. }) {
                        let _ = self.auth_failure.set(reason.clone());
                    }
                    return self
                        .end_all(todo, |env| env.fail(reason.clone()), out)
                        .await;
                }
            };
            self.account(&response.usage, response.retries, ctx);
            let share = TokenUsage {
                prompt: response.usage.prompt / todo.len() as u64,
                completion: response.usage.completion / todo.len() as u64,
            };
            let unit_refs: Vec<&docpipe_core::model::CodeUnit> =
                units.iter().map(|u| u.as_ref()).collect();
            let results = parse::interpret(&response, &unit_refs);
            let mut next = Vec::new();
            let mut feedback = Vec::new();
            for (mut t, result) in todo.into_iter().zip(results) {
                t.env.attempts += 1;
                t.env.usage.prompt += share.prompt;
                t.env.usage.completion += share.completion;
                match result {
                    Ok((entry, doc)) => {
                        if let Some(o) = &self.ordering {
                            o.generated
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .insert(t.env.id, doc.summary.clone());
                        }
                        let reply = serde_json::to_value(AttachedReply {
                            response: response.clone(),
                            entry: Some(entry),
                        })
                        .unwrap_or(Value::Null);
                        t.env.extra.insert(REPLY_KEY.into(), reply);
                        self.mark(&mut t.env);
                        out.send(Item::Unit(Box::new(t.env))).await?;
                    }
                    Err(reason) => {
                        feedback.push(format!("- {reason}"));
                        t.last_error = Some(reason);
                        next.push(t);
                    }
                }
            }
            if response.finish_reason == FinishReason::Length {
                max_tokens = (max_tokens * 2).min(self.limits.max_completion_tokens);
            }
            todo = next;
            if !todo.is_empty() {
                feedback.dedup();
                let text = feedback.join("\n");
                for t in &mut todo {
                    t.env
                        .extra
                        .insert("llm_feedback".into(), Value::String(text.clone()));
                }
            }
        }
        for mut t in todo {
            t.env.extra.remove("llm_feedback");
            let reason = t.last_error.unwrap_or_else(|| "no answer".into());
            t.env.fail(format!(
                "no valid docstring after {} answer(s): {reason}",
                t.env.attempts
            ));
            self.mark(&mut t.env);
            out.send(Item::Unit(Box::new(t.env))).await?;
        }
        Ok(())
    }

    fn request(&self, todo: &[Todo], max_tokens: u64) -> ChatRequest {
        // A model that reads no prompt (the template) gets none rendered or counted.
        let (messages, estimated) = if self.model.reads_prompt() {
            self.prompt(todo)
        } else {
            (Vec::new(), 0)
        };
        ChatRequest {
            messages,
            schema: Some(schema().clone()),
            schema_name: SCHEMA_NAME.into(),
            max_tokens: Some(u32::try_from(max_tokens).unwrap_or(u32::MAX)),
            temperature: self.section.temperature,
            estimated_prompt_tokens: estimated,
            units: todo.iter().map(|t| t.env.unit.clone()).collect(),
        }
    }

    /// The messages of a request for `todo`, and their tokens.
    fn prompt(&self, todo: &[Todo]) -> (Vec<ChatMessage>, u64) {
        let sources: Vec<String> = todo.iter().map(|t| self.prompt_source(&t.env)).collect();
        let units: Vec<PromptUnit<'_>> = todo
            .iter()
            .zip(&sources)
            .map(|(t, s)| PromptUnit {
                unit: &t.env.unit,
                source: s,
            })
            .collect();
        let feedback = todo
            .first()
            .and_then(|t| t.env.extra.get("llm_feedback"))
            .and_then(Value::as_str);
        let callees: Vec<Vec<(String, String)>> = match &self.ordering {
            Some(o) => {
                let board = o.board();
                todo.iter()
                    .map(|t| board.prompt_callees(t.env.id))
                    .collect()
            }
            None => Vec::new(),
        };
        let messages = self
            .prompts
            .render_with_callees(&units, &callees, &self.style, feedback);
        let estimated = self
            .counter
            .count_chat(messages.iter().map(|m| m.content.as_str()));
        (messages, estimated)
    }

    /// The source the prompt shows: `token-budget`'s shortened one, or the
    /// unit's, shortened here when no budget stage ran and it is too long.
    fn prompt_source(&self, env: &Envelope) -> String {
        if let Some(s) = env.extra.get(PROMPT_SOURCE_KEY).and_then(Value::as_str) {
            return s.to_string();
        }
        let room = self.limits.prompt_room(
            self.limits
                .max_completion_tokens
                .min(4 * COMPLETION_TOKENS_PER_UNIT),
        );
        let room = self
            .budget
            .max_prompt_tokens
            .map_or(room, |m| m.min(room))
            .saturating_sub(600);
        // Cheap bound first: a token is at least one byte.
        if (env.unit.source.len() as u64) <= room {
            return env.unit.source.to_string();
        }
        shorten_source(&self.counter, &env.unit.source, &env.unit.signature, room)
    }

    fn mark(&self, env: &mut Envelope) {
        env.extra.remove("llm_feedback");
        env.extra.insert(
            PROMPT_VERSION_KEY.into(),
            Value::String(self.prompts.version().to_string()),
        );
        env.extra
            .insert("model".into(), Value::String(self.model_id.clone()));
    }

    async fn end_all(
        &self,
        todo: Vec<Todo>,
        end: impl Fn(&mut Envelope),
        out: &Emitter,
    ) -> Result<(), StageError> {
        for mut t in todo {
            end(&mut t.env);
            self.mark(&mut t.env);
            out.send(Item::Unit(Box::new(t.env))).await?;
        }
        Ok(())
    }

    /// Why no more requests may go out, when a `[budget]` cap is reached.
    /// Counts the request it allows.
    fn cap_reached(&self) -> Option<String> {
        if let Some(max) = self.budget.max_cost_usd {
            let spent = self.cost_micro_usd.load(Ordering::Relaxed) as f64 / 1e6;
            if spent >= max {
                return Some(format!(
                    "budget: the run has spent ${spent:.4}, `[budget] max_cost_usd` = {max}"
                ));
            }
        }
        let sent = self.requests.fetch_add(1, Ordering::Relaxed);
        match self.budget.max_requests {
            Some(max) if sent >= max => Some(format!(
                "budget: {max} model request(s) sent, the limit of `[budget] max_requests`"
            )),
            _ => None,
        }
    }

    fn account(&self, usage: &TokenUsage, retries: u32, ctx: &StageContext) {
        let stats = &ctx.stats;
        RunStats::add(&stats.model_requests, 1 + u64::from(retries));
        RunStats::add(&stats.model_retries, u64::from(retries));
        RunStats::add(&stats.prompt_tokens, usage.prompt);
        RunStats::add(&stats.completion_tokens, usage.completion);
        if let Some(price) = &self.price {
            let micro = (price.cost(usage.prompt, usage.completion) * 1e6).round() as u64;
            RunStats::add(&stats.cost_micro_usd, micro);
            self.cost_micro_usd.fetch_add(micro, Ordering::Relaxed);
        }
    }

    fn describe(&self, e: &ModelError) -> String {
        match e {
            ModelError::Auth { status, message } => format!(
                "model `{}` refused the credentials ({status}): {message}; check the API key variable and `[model] api_key_env`",
                self.model_id
            ),
            other => format!("model `{}`: {other}", self.model_id),
        }
    }
}
