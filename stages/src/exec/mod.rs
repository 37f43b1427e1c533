//! `type = "exec"`: a stage written in any language, run as a subprocess that
//! speaks JSON lines over its standard input and output.
//!
//! The protocol (version [`PROTOCOL_VERSION`], documented with an example
//! session in docs/plugins.md):
//!
//! 1. docpipe starts the command and writes a handshake line:
//!    `{"type":"hello","protocol":1,"stage":"house","role":"transform","options":{...}}`.
//!    The process answers `{"type":"hello","protocol":1,"name":"house-rules"}`
//!    (it may add `"version"`). A process that answers with another protocol
//!    version, or with anything else, stops the run with a message naming the
//!    command.
//! 2. For each unit, docpipe writes one line `{"type":"unit","id":7,"envelope":{...}}`
//!    (the envelope in the wire form of `docpipe_core::plugin::wire`: every
//!    field of the unit, its file by path only) and waits for one line back:
//!    `{"type":"unit","id":7,"envelope":{...}}` with the unit as the process
//!    leaves it, or `{"type":"error","id":7,"message":"..."}`, which ends
//!    the unit failed with that message. Lines `{"type":"log","level":"warn",
//!    "message":"..."}` may come at any time and are logged.
//! 3. At the end of the input docpipe closes the process's standard input;
//!    the process exits.
//!
//! One unit is in flight per process; `concurrency` processes run at once.
//! A process that does not answer within `timeout_secs`, exits, or writes a
//! line that is not a protocol message is killed; the unit ends failed with
//! what happened and the last lines of its standard error, and the next unit
//! starts a fresh process. No unit is lost: each leaves the stage on `out`,
//! as the process left it or failed with the reason.

mod process;

use std::sync::Arc;
use std::time::Duration;

use docpipe_core::executor::Emitter;
use docpipe_core::model::{Item, ItemKind};
use docpipe_core::registry::{
    BuildError, DefaultConcurrency, OptionDoc, PortDoc, Registry, StageOptions, StageRole,
    StageSpec,
};
use docpipe_core::stage::{BuiltStage, StageContext, StageError, Transform};
use serde::Deserialize;
use tokio::sync::Mutex;

pub use process::{Answer, Worker};

/// The stage type name.
pub const STAGE_TYPE: &str = "exec";

/// The JSON-lines protocol version this docpipe speaks.
pub const PROTOCOL_VERSION: u64 = 1;

/// Options of `exec`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecOptions {
    /// The program and its arguments.
    pub command: Vec<String>,
    /// Seconds one unit may take.
    #[serde(default = "default_timeout")]
    pub timeout_secs: f64,
    /// Passed to the process in the handshake.
    #[serde(default)]
    pub options: toml::Table,
}

fn default_timeout() -> f64 {
    30.0
}

impl StageOptions for ExecOptions {
    fn describe() -> Vec<OptionDoc> {
        vec![
            OptionDoc {
                name: "command",
                ty: "[string]",
                default: None,
                doc: "The program and its arguments (`[\"python3\", \"plugins/house_rules.py\"]`), run in the working directory, one process per `concurrency`",
            },
            OptionDoc {
                name: "timeout_secs",
                ty: "float",
                default: Some("30.0"),
                doc: "Seconds the process may take over one unit (and over the handshake); past it the process is killed, the unit fails and the next unit starts a new process",
            },
            OptionDoc {
                name: "options",
                ty: "table",
                default: Some("{}"),
                doc: "Handed to the process in the handshake, as JSON: the plugin's own settings",
            },
        ]
    }
}

pub(crate) fn register(registry: &mut Registry) {
    registry.add_stage::<ExecOptions, _>(
        StageSpec {
            type_name: STAGE_TYPE,
            role: StageRole::Transform,
            summary: "Runs a subprocess stage in any language that speaks docpipe's JSON-lines protocol (docs/plugins.md)",
            input: Some(ItemKind::Unit),
            ports: vec![PortDoc {
                name: "out",
                kind: ItemKind::Unit,
                doc: "every unit: as the process returned it, or failed with what the process said or did (crash, hang, garbage) and its stderr tail",
            }],
            default_concurrency: DefaultConcurrency::One,
            sections: vec![],
        },
        |options, ctx| {
            let stage = ExecStage::build(options, ctx.stage)?;
            Ok(BuiltStage::Transform(Arc::new(stage)))
        },
    );
}

/// What starts a process and talks to it.
#[derive(Debug, Clone)]
pub struct ExecSpec {
    /// The stage's name in pipeline.toml.
    pub stage: String,
    /// Program and arguments.
    pub command: Vec<String>,
    /// Per-unit (and handshake) timeout.
    pub timeout: Duration,
    /// The `options` table, as JSON.
    pub options: serde_json::Value,
}

impl ExecSpec {
    /// The command as a user reads it in messages.
    pub fn shown(&self) -> String {
        self.command.join(" ")
    }
}

/// The running stage: a pool of processes, at most `concurrency` of them.
pub struct ExecStage {
    spec: Arc<ExecSpec>,
    idle: Mutex<Vec<Worker>>,
}

impl ExecStage {
    /// Checks the options.
    pub fn build(options: ExecOptions, stage: &str) -> Result<ExecStage, BuildError> {
        if options.command.is_empty() || options.command[0].trim().is_empty() {
            return Err(BuildError::option(
                "command",
                "`command` is empty",
            )
            .with_help("name the program and its arguments: `command = [\"python3\", \"my_stage.py\"]`"));
        }
        if !(options.timeout_secs.is_finite() && options.timeout_secs > 0.0) {
            return Err(BuildError::option(
                "timeout_secs",
                format!(
                    "`timeout_secs` must be a positive number of seconds; found {}",
                    options.timeout_secs
                ),
            )
            .with_help("give the longest a unit may take, such as `timeout_secs = 10`"));
        }
        let program = &options.command[0];
        if !program_exists(program) {
            return Err(BuildError::option(
                "command",
                format!("the program `{program}` is not found (not a file, and not on PATH)"),
            )
            .with_help(
                "install it, or give its path (relative paths start from the working directory)",
            ));
        }
        let options_json = serde_json::to_value(&options.options).map_err(|e| {
            BuildError::option("options", format!("cannot pass `options` as JSON: {e}"))
        })?;
        Ok(ExecStage {
            spec: Arc::new(ExecSpec {
                stage: stage.to_string(),
                command: options.command,
                timeout: Duration::from_secs_f64(options.timeout_secs),
                options: options_json,
            }),
            idle: Mutex::new(Vec::new()),
        })
    }
}

/// Whether `program` names a file, or a file on PATH.
fn program_exists(program: &str) -> bool {
    let path = std::path::Path::new(program);
    if path.components().count() > 1 {
        return path.is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

#[docpipe_core::async_trait]
impl Transform for ExecStage {
    async fn process(
        &self,
        item: Item,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        let Item::Unit(mut env) = item else {
            return Err(StageError::fatal(format!(
                "exec stage `{}` takes units; connect it after an extractor",
                self.spec.stage
            )));
        };
        // The executor runs at most `concurrency` calls at once, so the pool
        // never holds more processes than that.
        let idle = self.idle.lock().await.pop();
        let mut worker = match idle {
            Some(w) => w,
            None => Worker::start(self.spec.clone())
                .await
                .map_err(StageError::fatal)?,
        };
        let answer = tokio::select! {
            a = worker.handle(&env) => a,
            _ = ctx.cancel.cancelled() => {
                worker.kill().await;
                return Err(StageError::Closed);
            }
        };
        match answer {
            Answer::Unit(done) => {
                env = done;
                self.idle.lock().await.push(worker);
            }
            Answer::Refused(message) => {
                env.fail(format!(
                    "exec stage `{}` (`{}`) failed the unit: {message}",
                    self.spec.stage,
                    self.spec.shown()
                ));
                self.idle.lock().await.push(worker);
            }
            Answer::Broken(reason) => {
                // The process is gone or out of step; the next unit starts a new one.
                env.fail(reason);
            }
        }
        out.send(Item::Unit(env)).await
    }

    async fn finish(&self, _ctx: &StageContext, _out: &Emitter) -> Result<(), StageError> {
        let workers = std::mem::take(&mut *self.idle.lock().await);
        for w in workers {
            w.close().await;
        }
        Ok(())
    }
}
