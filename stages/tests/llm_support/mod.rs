//! Shared by the model, generator and budget tests: the fake server, units
//! built by hand, and a harness that runs a pipeline.toml with a test source
//! and a collecting sink through the real loader, validator and executor.

#![allow(dead_code)]

pub mod fake_openai;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use docpipe_core::config::validate::validate;
use docpipe_core::config::{EnvVars, LoadOptions, load};
use docpipe_core::executor::{Emitter, ExecOptions, RunHandles, RunOutcome, build_stages, execute};
use docpipe_core::model::{
    CodeUnit, Envelope, Insertion, Item, ItemKind, Param, ParamKind, SourceFile, UnitKind,
};
use docpipe_core::registry::{
    DefaultConcurrency, NoOptions, PortDoc, Registry, StageRole, StageSpec,
};
use docpipe_core::stage::{
    BuiltStage, RunOptions, Sink, SinkFinish, Source, StageContext, StageError,
};

/// A function unit of `path` with `params` (`self` first makes it a method).
pub fn function(path: &str, qualname: &str, params: &[&str]) -> CodeUnit {
    let name = qualname.rsplit('.').next().unwrap_or(qualname).to_string();
    let is_method = params.first() == Some(&"self");
    let signature = format!("def {name}({}):", params.join(", "));
    CodeUnit {
        path: PathBuf::from(path),
        qualname: qualname.to_string(),
        name,
        kind: if is_method {
            UnitKind::Method
        } else {
            UnitKind::Function
        },
        is_async: false,
        nested: false,
        class_name: None,
        decorators: Vec::new(),
        params: params
            .iter()
            .map(|p| Param {
                name: p.trim_start_matches('*').to_string(),
                kind: if p.starts_with("**") {
                    ParamKind::VarKeyword
                } else if p.starts_with('*') {
                    ParamKind::VarPositional
                } else {
                    ParamKind::Normal
                },
                annotation: None,
                default: None,
            })
            .collect(),
        returns: None,
        raises: Vec::new(),
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
        line: 1,
        column: 1,
        span: 0..0,
        signature: signature.clone(),
        source: format!(
            "{signature}\n    return {}\n",
            params.last().unwrap_or(&"None")
        )
        .into(),
        context: String::new(),
        constructor: None,
    }
}

/// `n` files of `per_file` two-parameter functions each.
pub fn units(n_files: usize, per_file: usize) -> Vec<(Arc<SourceFile>, usize, CodeUnit)> {
    let mut out = Vec::new();
    for f in 0..n_files {
        let path = format!("pkg/mod{f}.py");
        let file = Arc::new(SourceFile::from_text(path.clone(), "pass\n"));
        for i in 0..per_file {
            let mut u = function(&path, &format!("func_{i}"), &["alpha", "beta"]);
            u.returns_value = true;
            u.line = i + 1;
            out.push((file.clone(), per_file, u));
        }
    }
    out
}

struct UnitSource(Vec<(Arc<SourceFile>, usize, CodeUnit)>);

#[async_trait]
impl Source for UnitSource {
    async fn run(&mut self, ctx: &StageContext, out: &Emitter) -> Result<(), StageError> {
        for (file, n, unit) in self.0.drain(..) {
            if ctx.cancel.is_cancelled() {
                break;
            }
            out.send(Item::Unit(Box::new(Envelope::new(file, n, unit))))
                .await?;
        }
        Ok(())
    }
}

/// Units released at the sink.
pub type Collected = Arc<Mutex<Vec<Envelope>>>;

struct Collect(Collected);

#[async_trait]
impl Sink for Collect {
    async fn consume(
        &mut self,
        env: Envelope,
        _ctx: &StageContext,
    ) -> Result<Vec<Envelope>, StageError> {
        if let Ok(mut v) = self.0.lock() {
            v.push(env.clone());
        }
        Ok(vec![env])
    }

    async fn finish(
        &mut self,
        _ctx: &StageContext,
        _cancelled: bool,
    ) -> Result<SinkFinish, StageError> {
        Ok(SinkFinish::default())
    }
}

/// The built-in registry plus `test-units` (a source of `units`) and `test-collect` (a sink into `collected`).
pub fn registry(units: Vec<(Arc<SourceFile>, usize, CodeUnit)>, collected: Collected) -> Registry {
    let mut registry = docpipe_stages::builtin_registry();
    registry.add_stage::<NoOptions, _>(
        StageSpec {
            type_name: "test-units",
            role: StageRole::Source,
            summary: "test units",
            input: None,
            ports: vec![PortDoc {
                name: "out",
                kind: ItemKind::Unit,
                doc: "units",
            }],
            default_concurrency: DefaultConcurrency::One,
            sections: vec![],
        },
        move |_, _| Ok(BuiltStage::Source(Box::new(UnitSource(units.clone())))),
    );
    registry.add_stage::<NoOptions, _>(
        StageSpec {
            type_name: "test-collect",
            role: StageRole::Sink,
            summary: "collects units",
            input: Some(ItemKind::Unit),
            ports: vec![],
            default_concurrency: DefaultConcurrency::One,
            sections: vec![],
        },
        move |_, _| Ok(BuiltStage::Sink(Box::new(Collect(collected.clone())))),
    );
    registry
}

/// The generate pipeline from the budget stage on, fed by `test-units`.
pub const PIPELINE: &str = r#"
[stages.units]
type = "test-units"

[stages.budget]
type = "token-budget"
inputs = ["units"]

[stages.generate]
type = "llm-generate"
inputs = ["budget"]

[stages.parse]
type = "reply-parse"
inputs = ["generate"]

[stages.collect]
type = "test-collect"
inputs = ["parse"]
"#;

/// What a run gave.
pub struct Ran {
    /// The executor's outcome.
    pub outcome: RunOutcome,
    /// Units at the sink, sorted by file and line.
    pub units: Vec<Envelope>,
}

impl Ran {
    /// Units by final state name.
    pub fn count(&self, state: &str) -> usize {
        self.units
            .iter()
            .filter(|e| e.state.name() == state)
            .count()
    }

    /// Every reason of a failed or skipped unit.
    pub fn reasons(&self) -> Vec<String> {
        self.units
            .iter()
            .filter_map(|e| e.state.reason().map(str::to_string))
            .collect()
    }
}

/// Options of [`run`].
#[derive(Default)]
pub struct RunSpec<'a> {
    /// pipeline.toml text (default: [`PIPELINE`]).
    pub toml: Option<&'a str>,
    /// `--set` arguments.
    pub set: Vec<String>,
    /// Environment variables.
    pub env: Vec<(&'a str, &'a str)>,
    /// `--estimate`.
    pub estimate: bool,
}

/// Loads `spec` the way the CLI does (embedded text, `--set`, environment),
/// validates it, and runs it over `units`.
pub async fn run(
    spec: RunSpec<'_>,
    units: Vec<(Arc<SourceFile>, usize, CodeUnit)>,
) -> Result<Ran, String> {
    let collected: Collected = Arc::new(Mutex::new(Vec::new()));
    let registry = registry(units, collected.clone());
    let dir = std::env::temp_dir();
    let env: HashMap<String, String> = spec
        .env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    // A map that is never empty, so the process environment is not consulted.
    let mut env = env;
    env.entry("DOCPIPE_TEST".into())
        .or_insert_with(|| "1".into());
    let options = LoadOptions {
        explicit: None,
        cwd: dir.join("docpipe-llm-tests-no-config-here"),
        overrides: spec.set.clone(),
        embedded: spec.toml.unwrap_or(PIPELINE),
        sections: registry.section_names(),
        env: Some(EnvVars::from_map(env)),
    };
    let (config, _) = load(&options).map_err(|e| e.render(false))?;
    let run = Arc::new(RunOptions {
        estimate: spec.estimate,
        base_dir: dir,
        jobs: 2,
        ..RunOptions::default()
    });
    let validated = validate(config, &registry, run.clone()).map_err(|e| e.render(false))?;
    let plan = validated.plan(None)?.clone();
    let stages =
        build_stages(&validated, &plan, &registry, run.clone()).map_err(|e| e.render(false))?;
    let handles = RunHandles::new(run);
    let outcome = execute(
        &plan,
        stages,
        handles,
        ExecOptions {
            channel_capacity: 64,
            jobs: 2,
            ..ExecOptions::default()
        },
    )
    .await;
    let mut units = collected.lock().map(|v| v.clone()).unwrap_or_default();
    units.sort_by(|a, b| (&a.unit.path, a.unit.line).cmp(&(&b.unit.path, b.unit.line)));
    Ok(Ran { outcome, units })
}

/// `--set` arguments pointing `[model]` at `server` with the OpenAI protocol.
pub fn openai_settings(url: &str) -> Vec<String> {
    vec![
        "model.provider=openai".into(),
        format!("model.base_url={url}/v1"),
        "model.name=gpt-4o-mini".into(),
        "model.retry_backoff_ms=20".into(),
    ]
}
