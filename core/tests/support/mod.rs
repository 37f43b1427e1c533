//! Test stages for the engine: a unit source, pass-through and splitting
//! transforms (one can drop units on purpose), and a recording sink.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use docpipe_core::async_trait;
use docpipe_core::config::validate::{Validated, validate};
use docpipe_core::config::{ConfigError, EnvVars, LoadOptions, load};
use docpipe_core::executor::{Emitter, ExecOptions, RunHandles, RunOutcome, build_stages, execute};
use docpipe_core::model::{
    CodeUnit, Envelope, Insertion, Item, ItemKind, SourceFile, UnitKind, UnitState,
};
use docpipe_core::registry::{
    DefaultConcurrency, OptionDoc, PortDoc, Registry, StageOptions, StageRole, StageSpec,
};
use docpipe_core::stage::{
    BuiltStage, RunOptions, Sink, SinkFinish, SinkSummary, Source, StageContext, StageError,
    Transform,
};
use serde::Deserialize;

/// Units created by sources and not yet consumed by a sink, and the peak of that.
#[derive(Default)]
pub struct Gauge {
    pub now: AtomicI64,
    pub peak: AtomicI64,
    pub sink_finished_cancelled: AtomicU64,
}

impl Gauge {
    fn up(&self) {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(n, Ordering::SeqCst);
    }
    fn down(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceOptions {
    #[serde(default = "one")]
    files: usize,
    units_per_file: usize,
}

fn one() -> usize {
    1
}

impl StageOptions for SourceOptions {
    fn describe() -> Vec<OptionDoc> {
        vec![
            OptionDoc {
                name: "files",
                ty: "integer",
                default: Some("1"),
                doc: "files to make",
            },
            OptionDoc {
                name: "units_per_file",
                ty: "integer",
                default: None,
                doc: "units per file",
            },
        ]
    }
}

struct UnitSource {
    files: usize,
    per_file: usize,
    gauge: Arc<Gauge>,
}

pub fn unit(path: &str, i: usize) -> CodeUnit {
    CodeUnit {
        path: path.into(),
        qualname: format!("f{i}"),
        name: format!("f{i}"),
        kind: UnitKind::Function,
        is_async: false,
        nested: false,
        class_name: None,
        decorators: vec![],
        params: vec![],
        returns: None,
        raises: vec![],
        yields: false,
        returns_value: false,
        raise_messages: Vec::new(),
        returns_none: false,
        reraises: false,
        complexity: 1,
        docstring: None,
        insertion: Insertion {
            offset: 0,
            indent: "    ".into(),
            inline_body: None,
        },
        line: i + 1,
        column: 1,
        span: 0..0,
        signature: format!("def f{i}():"),
        source: Default::default(),
        context: String::new(),
        constructor: None,
    }
}

#[async_trait]
impl Source for UnitSource {
    async fn run(&mut self, ctx: &StageContext, out: &Emitter) -> Result<(), StageError> {
        for f in 0..self.files {
            let path = format!("file{f}.py");
            let file = Arc::new(SourceFile::from_text(path.clone(), "pass\n"));
            for i in 0..self.per_file {
                if ctx.cancel.is_cancelled() {
                    return Ok(());
                }
                self.gauge.up();
                let env = Envelope::new(file.clone(), self.per_file, unit(&path, i));
                out.send(Item::Unit(Box::new(env))).await?;
            }
        }
        Ok(())
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PassOptions {
    #[serde(default)]
    delay_ms: u64,
    /// Drop every n-th unit (to test the ledger).
    #[serde(default)]
    drop_every: usize,
    /// Emit every n-th unit twice.
    #[serde(default)]
    duplicate_every: usize,
    /// Cancel the run after this many units.
    #[serde(default)]
    cancel_after: usize,
    /// Fail fatally after this many units.
    #[serde(default)]
    fail_after: usize,
    /// Hold every item and emit them all from `finish` (like a batching stage).
    #[serde(default)]
    hold: bool,
}

impl StageOptions for PassOptions {
    fn describe() -> Vec<OptionDoc> {
        vec![OptionDoc {
            name: "delay_ms",
            ty: "integer",
            default: Some("0"),
            doc: "sleep per item",
        }]
    }
}

struct Pass {
    options: PassOptions,
    seen: AtomicU64,
    held: Mutex<Vec<Item>>,
}

#[async_trait]
impl Transform for Pass {
    async fn process(
        &self,
        item: Item,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        let n = self.seen.fetch_add(1, Ordering::SeqCst) as usize + 1;
        if self.options.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.options.delay_ms)).await;
        }
        if self.options.fail_after > 0 && n == self.options.fail_after {
            return Err(StageError::fatal("disk full while testing"));
        }
        if self.options.cancel_after > 0 && n == self.options.cancel_after {
            ctx.cancel.cancel();
        }
        if self.options.drop_every > 0 && n.is_multiple_of(self.options.drop_every) {
            return Ok(());
        }
        if self.options.duplicate_every > 0 && n.is_multiple_of(self.options.duplicate_every) {
            out.send(item.clone()).await?;
        }
        if self.options.hold {
            if let Ok(mut held) = self.held.lock() {
                held.push(item);
            }
            return Ok(());
        }
        out.send(item).await
    }

    async fn finish(&self, _ctx: &StageContext, out: &Emitter) -> Result<(), StageError> {
        let held = match self.held.lock() {
            Ok(mut held) => std::mem::take(&mut *held),
            Err(_) => Vec::new(),
        };
        for item in held {
            out.send(item).await?;
        }
        Ok(())
    }
}

struct Split;

#[async_trait]
impl Transform for Split {
    async fn process(
        &self,
        item: Item,
        _ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        let even = match &item {
            Item::Unit(env) => env.unit.line % 2 == 0,
            Item::File(_) => true,
        };
        out.emit(if even { "even" } else { "odd" }, item).await
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SinkOptions {
    #[serde(default)]
    delay_us: u64,
    /// Hold units per file and release them when the file is whole.
    #[serde(default)]
    whole_files: bool,
}

impl StageOptions for SinkOptions {
    fn describe() -> Vec<OptionDoc> {
        vec![OptionDoc {
            name: "delay_us",
            ty: "integer",
            default: Some("0"),
            doc: "sleep per unit",
        }]
    }
}

/// What recording sinks saw, by sink name.
#[derive(Default)]
pub struct Seen {
    pub by_sink: Mutex<HashMap<String, u64>>,
    pub files_done: Mutex<Vec<String>>,
}

struct RecordingSink {
    options: SinkOptions,
    gauge: Arc<Gauge>,
    seen: Arc<Seen>,
    held: HashMap<String, Vec<Envelope>>,
}

#[async_trait]
impl Sink for RecordingSink {
    async fn consume(
        &mut self,
        mut env: Envelope,
        ctx: &StageContext,
    ) -> Result<Vec<Envelope>, StageError> {
        if self.options.delay_us > 0 {
            tokio::time::sleep(Duration::from_micros(self.options.delay_us)).await;
        }
        self.gauge.down();
        if let Ok(mut m) = self.seen.by_sink.lock() {
            *m.entry(ctx.name.to_string()).or_default() += 1;
        }
        if env.state == UnitState::Pending {
            env.state = UnitState::Generated;
        }
        if !self.options.whole_files {
            return Ok(vec![env]);
        }
        let path = env.file.path.display().to_string();
        let held = self.held.entry(path.clone()).or_default();
        held.push(env);
        if held.len() == held[0].file_units {
            if let Ok(mut f) = self.seen.files_done.lock() {
                f.push(path.clone());
            }
            return Ok(self.held.remove(&path).unwrap_or_default());
        }
        Ok(Vec::new())
    }

    async fn finish(
        &mut self,
        _ctx: &StageContext,
        cancelled: bool,
    ) -> Result<SinkFinish, StageError> {
        if cancelled {
            self.gauge
                .sink_finished_cancelled
                .fetch_add(1, Ordering::SeqCst);
        }
        let mut released = Vec::new();
        for (_, units) in self.held.drain() {
            for mut env in units {
                env.state = UnitState::Cancelled;
                released.push(env);
            }
        }
        Ok(SinkFinish {
            summary: SinkSummary::default(),
            released,
        })
    }
}

/// A registry with the test stages, sharing `gauge` and `seen`.
pub fn registry(gauge: Arc<Gauge>, seen: Arc<Seen>) -> Registry {
    let mut r = Registry::new();
    let g = gauge.clone();
    r.add_stage::<SourceOptions, _>(
        StageSpec {
            type_name: "test-source",
            role: StageRole::Source,
            summary: "makes units",
            input: None,
            ports: vec![PortDoc {
                name: "out",
                kind: ItemKind::Unit,
                doc: "every unit",
            }],
            default_concurrency: DefaultConcurrency::One,
            sections: vec![],
        },
        move |o, _| {
            Ok(BuiltStage::Source(Box::new(UnitSource {
                files: o.files,
                per_file: o.units_per_file,
                gauge: g.clone(),
            })))
        },
    );
    r.add_stage::<PassOptions, _>(
        StageSpec {
            type_name: "test-pass",
            role: StageRole::Transform,
            summary: "passes units on",
            input: Some(ItemKind::Unit),
            ports: vec![PortDoc {
                name: "out",
                kind: ItemKind::Unit,
                doc: "every unit",
            }],
            default_concurrency: DefaultConcurrency::One,
            sections: vec![],
        },
        |o, _| {
            Ok(BuiltStage::Transform(Arc::new(Pass {
                options: o,
                seen: AtomicU64::new(0),
                held: Mutex::new(Vec::new()),
            })))
        },
    );
    r.add_stage::<docpipe_core::registry::NoOptions, _>(
        StageSpec {
            type_name: "test-split",
            role: StageRole::Transform,
            summary: "even and odd lines",
            input: Some(ItemKind::Unit),
            ports: vec![
                PortDoc {
                    name: "even",
                    kind: ItemKind::Unit,
                    doc: "units on even lines",
                },
                PortDoc {
                    name: "odd",
                    kind: ItemKind::Unit,
                    doc: "units on odd lines",
                },
            ],
            default_concurrency: DefaultConcurrency::Jobs,
            sections: vec![],
        },
        |_, _| Ok(BuiltStage::Transform(Arc::new(Split))),
    );
    r.add_stage::<docpipe_core::registry::NoOptions, _>(
        StageSpec {
            type_name: "test-files",
            role: StageRole::Source,
            summary: "emits files",
            input: None,
            ports: vec![PortDoc {
                name: "out",
                kind: ItemKind::File,
                doc: "files",
            }],
            default_concurrency: DefaultConcurrency::One,
            sections: vec![],
        },
        |_, _| {
            Ok(BuiltStage::Source(Box::new(UnitSource {
                files: 0,
                per_file: 0,
                gauge: Arc::new(Gauge::default()),
            })))
        },
    );
    let g = gauge;
    r.add_stage::<SinkOptions, _>(
        StageSpec {
            type_name: "test-sink",
            role: StageRole::Sink,
            summary: "records units",
            input: Some(ItemKind::Unit),
            ports: vec![],
            default_concurrency: DefaultConcurrency::One,
            sections: vec![],
        },
        move |o, _| {
            Ok(BuiltStage::Sink(Box::new(RecordingSink {
                options: o,
                gauge: g.clone(),
                seen: seen.clone(),
                held: HashMap::new(),
            })))
        },
    );
    r.add_section::<ModelSection>("model", "test model section", vec![]);
    r
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ModelSection {
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    timeout_s: Option<u64>,
}

/// Loads and validates `text` with `overrides`, with a fixed environment.
pub fn check(
    text: &str,
    overrides: &[&str],
    registry: &Registry,
) -> Result<Validated, ConfigError> {
    let dir = std::env::temp_dir();
    let path = dir.join(format!("docpipe-test-{}.toml", std::process::id()));
    let options = LoadOptions {
        explicit: None,
        cwd: dir.join("docpipe-no-config-here"),
        overrides: overrides.iter().map(|s| s.to_string()).collect(),
        embedded: text,
        sections: registry.section_names(),
        env: Some(EnvVars::from_map(HashMap::from([(
            "DOCPIPE_TEST_HOST".to_string(),
            "localhost".to_string(),
        )]))),
    };
    let _ = path;
    let (config, _) = load(&options)?;
    validate(config, registry, Arc::new(RunOptions::default()))
}

/// Runs pipeline `name` of `text`.
pub async fn run(
    text: &str,
    name: Option<&str>,
    registry: &Registry,
    capacity: usize,
) -> (RunOutcome, RunHandles) {
    run_with(text, name, registry, capacity, true).await
}

/// [`run`], with stage fusion on or off.
pub async fn run_with(
    text: &str,
    name: Option<&str>,
    registry: &Registry,
    capacity: usize,
    fuse: bool,
) -> (RunOutcome, RunHandles) {
    let validated = check(text, &[], registry).unwrap_or_else(|e| panic!("{}", e.render(false)));
    let plan = validated
        .plan(name)
        .unwrap_or_else(|e| panic!("{e}"))
        .clone();
    let run = Arc::new(RunOptions::default());
    let stages = build_stages(&validated, &plan, registry, run.clone())
        .unwrap_or_else(|e| panic!("{}", e.render(false)));
    let handles = RunHandles::new(run);
    let outcome = execute(
        &plan,
        stages,
        handles.clone(),
        ExecOptions {
            channel_capacity: capacity,
            jobs: 2,
            fuse,
        },
    )
    .await;
    (outcome, handles)
}
