//! Wiring: flags -> configuration -> validation -> executor -> report and exit code.

mod args;
mod cache;
mod checkout;
mod external;
mod git;
mod output;
mod preflight;
mod progress;
mod scaffold;
mod select;
mod signals;
mod translate;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use docpipe_core::config::validate::{Validated, validate};
use docpipe_core::config::{ConfigError, LoadOptions, load};
use docpipe_core::executor::{ExecOptions, RunHandles, build_stages, execute};
use docpipe_core::printable;
use docpipe_core::registry::Registry;
use docpipe_core::stage::RunOptions;

use args::{Cli, ColorChoice, Command, GraphFormat, RunArgs};

/// The repository's pipeline.toml, used when no pipeline.toml is found.
pub const EMBEDDED_PIPELINE: &str = include_str!("../../pipeline.toml");

/// Exit statuses, as DESIGN.md fixes them.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// The pipeline found problems (check failed, units failed) or a stage failed.
    pub const PROBLEMS: u8 = 1;
    /// Usage or configuration error.
    pub const USAGE: u8 = 2;
    /// Interrupted by Ctrl+C or SIGTERM.
    pub const INTERRUPTED: u8 = 130;
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    progress::install_console_hook();
    output::init_logging(cli.global.verbose, cli.global.quiet, color);
    let code = match dispatch(&cli, color) {
        Ok(code) => code,
        Err(Failure::Config(e)) => {
            eprint!("{}", e.render(color));
            exit::USAGE
        }
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            exit::USAGE
        }
        Err(Failure::Runtime(message)) => {
            eprintln!("error: {message}");
            exit::PROBLEMS
        }
    };
    ExitCode::from(code)
}

enum Failure {
    Config(ConfigError),
    Usage(String),
    Runtime(String),
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::Config(e)
    }
}

fn dispatch(cli: &Cli, color: bool) -> Result<u8, Failure> {
    match &cli.command {
        Command::Init(a) if a.pyproject || a.from_interrogate || a.from_pydoclint => {
            let tools: Vec<translate::Tool> = [
                (a.from_interrogate, translate::Tool::Interrogate),
                (a.from_pydoclint, translate::Tool::Pydoclint),
            ]
            .into_iter()
            .filter_map(|(given, tool)| given.then_some(tool))
            .collect();
            init_pyproject(
                a.path
                    .as_deref()
                    .unwrap_or(Path::new(docpipe_core::config::PYPROJECT_FILE_NAME)),
                &tools,
            )
        }
        Command::Init(a) => init(
            a.path
                .as_deref()
                .unwrap_or(Path::new(docpipe_core::config::CONFIG_FILE_NAME)),
        ),
        Command::Stages(a) => {
            let mut registry = docpipe_stages::builtin_registry();
            load_plugins(cli, &mut registry)?;
            print!("{}", output::describe_stages(&registry, a.json));
            Ok(exit::OK)
        }
        Command::Plugin(a) => match &a.command {
            args::PluginCommand::New(n) => scaffold::new_plugin(n).map_err(Failure::Usage),
        },
        Command::External(argv) => external::run(argv).map_err(Failure::Usage),
        Command::Validate => {
            let mut registry = docpipe_stages::builtin_registry();
            let (validated, location) =
                load_and_validate(cli, &mut registry, RunOptions::default())?;
            let names: Vec<&String> = validated.config.pipelines.keys().collect();
            if !cli.global.quiet {
                eprintln!(
                    "{} is valid: {}, pipelines {}",
                    location,
                    printable::count(validated.config.stages.len() as u64, "stage", "stages"),
                    if names.is_empty() {
                        "(none: every stage runs)".to_string()
                    } else {
                        docpipe_core::config::backticks(&names)
                    }
                );
            }
            Ok(exit::OK)
        }
        Command::Graph(a) => {
            let mut registry = docpipe_stages::builtin_registry();
            let (validated, _) = load_and_validate(cli, &mut registry, RunOptions::default())?;
            let plan = match &a.pipeline {
                Some(name) => validated.plan(Some(name)).map_err(Failure::Usage)?.clone(),
                None => validated.whole_graph(&registry),
            };
            match a.format {
                GraphFormat::Dot => print!("{}", plan.to_dot()),
                GraphFormat::Mermaid => print!("{}", plan.to_mermaid()),
            }
            Ok(exit::OK)
        }
        Command::Run(a) => run(cli, a, color),
        Command::Cache(c) => cache::run(cli, c),
    }
}

/// `docpipe init [PATH]`. A directory (one that exists, or a name without
/// the `.toml` extension, created as `git init DIR` does) gets
/// `DIR/pipeline.toml`; a missing parent directory is a usage error.
fn init(path: &Path) -> Result<u8, Failure> {
    let names_a_directory =
        path.is_dir() || (!path.exists() && path.extension().is_none_or(|e| e != "toml"));
    let target = if names_a_directory {
        path.join(docpipe_core::config::CONFIG_FILE_NAME)
    } else {
        path.to_path_buf()
    };
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let grandparent = match parent.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Only the directory named on the command line is created, not its parents.
    if !parent.is_dir() && (!names_a_directory || !grandparent.is_dir()) {
        let missing = if names_a_directory {
            grandparent
        } else {
            parent
        };
        return Err(Failure::Usage(format!(
            "cannot write {}: the directory {} does not exist; create it first (`mkdir -p {}`)",
            printable::path(&target),
            printable::path(missing),
            printable::path(missing)
        )));
    }
    if target.exists() {
        return Err(Failure::Usage(format!(
            "{} already exists; docpipe init never overwrites. Move it away or edit it",
            printable::path(&target)
        )));
    }
    if names_a_directory && !parent.is_dir() {
        std::fs::create_dir(parent).map_err(|e| {
            Failure::Runtime(format!("cannot create {}: {e}", printable::path(parent)))
        })?;
    }
    std::fs::write(&target, EMBEDDED_PIPELINE)
        .map_err(|e| Failure::Runtime(format!("cannot write {}: {e}", printable::path(&target))))?;
    eprintln!(
        "wrote {}: check it with `docpipe validate`, run it with `docpipe run`",
        printable::path(&target)
    );
    Ok(exit::OK)
}

/// The starter `[tool.docpipe]` table `docpipe init --pyproject` appends:
/// five settings over the built-in pipelines, the rest commented.
pub const PYPROJECT_STARTER: &str = r#"
[tool.docpipe]
# docpipe's settings, layered over its built-in pipelines: `docpipe validate`
# checks them, `docpipe graph check` draws the result. Every key of a
# pipeline.toml works here too ([tool.docpipe.model], [tool.docpipe.stages.NAME]).
style = "auto"            # new docstrings: "auto" (the project's own), "google", "numpy", "sphinx"
fail_under = 0            # `docpipe run check` fails under this docstring coverage (%)
extend_exclude = []       # globs left out besides .venv, build, dist, ... (`exclude` replaces those)
ignore = []               # finding codes or prefixes not reported, such as "DOC202" or "DP1"
model = "template"        # offline skeletons; "openai/gpt-4o-mini", "azure/gpt-4o" call a model
"#;

/// `docpipe init --pyproject [PATH]`: appends [`PYPROJECT_STARTER`] to the
/// pyproject.toml at `path` (created when missing), or with `tools` the
/// translation of their tables in that file. A file that already has a
/// `[tool.docpipe]` table, or that is not TOML, is left alone.
fn init_pyproject(path: &Path, tools: &[translate::Tool]) -> Result<u8, Failure> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(Failure::Usage(format!(
                "cannot read {}: {e}",
                printable::path(path)
            )));
        }
    };
    if !tools.is_empty() && existing.is_none() {
        return Err(Failure::Usage(format!(
            "{} does not exist: there are no settings to translate; give the path of the project's pyproject.toml",
            printable::path(path)
        )));
    }
    let mut text = existing.clone().unwrap_or_default();
    let mut appended = PYPROJECT_STARTER.to_string();
    if let Some(old) = &existing {
        let table: toml::Table = old.parse().map_err(|e: toml::de::Error| {
            Failure::Usage(format!(
                "{} is not valid TOML, so nothing was appended: {}; fix it first",
                printable::path(path),
                e.message()
            ))
        })?;
        let has_table = table
            .get("tool")
            .and_then(toml::Value::as_table)
            .is_some_and(|t| t.contains_key("docpipe"));
        if has_table {
            return Err(Failure::Usage(format!(
                "{} already has a [tool.docpipe] table; docpipe init never overwrites. Edit it, or check it with `docpipe validate`",
                printable::path(path)
            )));
        }
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        if !tools.is_empty() {
            let translation = translate::translate(&table, tools);
            if translation.missing.len() == tools.len() {
                return Err(Failure::Usage(format!(
                    "{} has no {} table: nothing to translate",
                    printable::path(path),
                    translation
                        .missing
                        .iter()
                        .map(|t| format!("[tool.{t}]"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                )));
            }
            for t in &translation.missing {
                eprintln!("note: {} has no [tool.{t}] table", printable::path(path));
            }
            for line in &translation.untranslated {
                eprintln!("not translated: {line}");
            }
            appended = translation.to_toml(tools);
        }
    }
    text.push_str(if existing.as_deref().is_none_or(str::is_empty) {
        appended.trim_start()
    } else {
        &appended
    });
    std::fs::write(path, text)
        .map_err(|e| Failure::Runtime(format!("cannot write {}: {e}", printable::path(path))))?;
    eprintln!(
        "{} {}: a [tool.docpipe] table; check it with `docpipe validate`, run it with `docpipe run`",
        if existing.is_some() {
            "appended to"
        } else {
            "wrote"
        },
        printable::path(path)
    );
    Ok(exit::OK)
}

struct Location(String, Option<PathBuf>);

impl Location {
    /// The directory of the pipeline.toml in use (`None`: the built-in one).
    fn dir(&self) -> Option<PathBuf> {
        self.1.clone()
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads the configuration and loads the native plugins it names into
/// `registry` (their stage types must be known before it is validated).
fn load_with_plugins(
    cli: &Cli,
    registry: &mut Registry,
) -> Result<
    (
        docpipe_core::config::Config,
        docpipe_core::config::ConfigLocation,
    ),
    Failure,
> {
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::Runtime(format!("no working directory: {e}")))?;
    let options = LoadOptions {
        explicit: cli.global.config.clone(),
        cwd: cwd.clone(),
        overrides: cli.global.set.clone(),
        embedded: EMBEDDED_PIPELINE,
        sections: registry.section_names(),
        env: None,
    };
    let (config, location) = load(&options)?;
    let base = match &location {
        docpipe_core::config::ConfigLocation::File(p) => match p.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => cwd,
        },
        docpipe_core::config::ConfigLocation::Embedded => cwd,
    };
    docpipe_core::plugin::load_native(&config, &base, registry)?;
    Ok((config, location))
}

/// `docpipe stages`: the plugins of the pipeline.toml in effect, if any.
fn load_plugins(cli: &Cli, registry: &mut Registry) -> Result<(), Failure> {
    load_with_plugins(cli, registry).map(|_| ())
}

fn load_and_validate(
    cli: &Cli,
    registry: &mut Registry,
    run: RunOptions,
) -> Result<(Validated, Location), Failure> {
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::Runtime(format!("no working directory: {e}")))?;
    let (config, location) = load_with_plugins(cli, registry)?;
    let (shown, dir) = match &location {
        docpipe_core::config::ConfigLocation::File(p) => {
            let absolute = cwd.join(p);
            let dir = absolute.parent().map(Path::to_path_buf);
            let relative = absolute.strip_prefix(&cwd).unwrap_or(&absolute);
            let mut shown = printable::path(relative).into_owned();
            if docpipe_core::config::is_pyproject(p) {
                shown.push_str(" [tool.docpipe]");
            }
            if config.doc.source.layered_over.is_some() {
                shown.push_str(" over the built-in default");
            }
            (shown, dir)
        }
        docpipe_core::config::ConfigLocation::Embedded => {
            ("the built-in pipeline.toml".to_string(), None)
        }
    };
    let mut run = run;
    run.config_dir = dir.clone();
    if run.base_dir.as_os_str().is_empty() {
        run.base_dir = cwd;
    }
    let validated = validate(config, &*registry, Arc::new(run))?;
    Ok((validated, Location(shown, dir)))
}

fn run(cli: &Cli, a: &RunArgs, color: bool) -> Result<u8, Failure> {
    let mut registry = docpipe_stages::builtin_registry();
    let jobs = cli
        .global
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let mut run_options = RunOptions {
        write_mode: preflight::write_mode(a),
        estimate: a.estimate,
        format: a.format.clone(),
        jobs,
        color,
        force: a.force,
        force_exclude: a.force_exclude,
        no_cache: a.no_cache,
        warn_unused_ignores: a.warn_unused_ignores,
        statistics: a.statistics,
        output_file: a.output_file.clone(),
        ..RunOptions::default()
    };
    // The runtime and the signal handlers come first, so that a signal during
    // loading already ends the run with 130 rather than killing the process.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(jobs)
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start the runtime: {e}")))?;
    let cancel = tokio_util::sync::CancellationToken::new();
    {
        let _guard = runtime.enter();
        signals::cancel_on_signal(cancel.clone());
    }
    let (validated, location) = load_and_validate(cli, &mut registry, run_options.clone())?;

    // The first argument is the pipeline unless it names none and is a path
    // (or a git URL).
    let is_path = |arg: &str| Path::new(arg).exists() || checkout::is_url(arg);
    let mut positional = a.args.iter();
    let mut pipeline: Option<String> = None;
    let mut operands: Vec<&String> = Vec::new();
    if let Some(first) = positional.next() {
        let declared = &validated.config.pipelines;
        if declared.contains_key(first) {
            pipeline = Some(first.clone());
        } else if is_path(first) {
            operands.push(first);
        } else if declared.is_empty() {
            return Err(Failure::Usage(format!(
                "`{first}` is neither a pipeline nor a path: {location} declares no [pipelines] \
                 (all its stages run as one; give only paths), and no file or directory `{first}` exists"
            )));
        } else {
            // Not a path either: the plan says which pipelines there are.
            pipeline = Some(first.clone());
        }
    }
    operands.extend(positional);
    let (paths, remote) = split_operands(&operands).map_err(Failure::Usage)?;
    if remote.is_none() {
        preflight::check_paths(&paths).map_err(Failure::Usage)?;
    }
    let plan = validated
        .plan(pipeline.as_deref())
        .map_err(Failure::Usage)?
        .clone();
    preflight::check_flags(&a.flags(), &plan).map_err(Failure::Usage)?;
    if let Some(source) = &remote {
        preflight::check_remote(source, &paths, a, &plan).map_err(Failure::Usage)?;
    } else if a.clone_timeout.is_some() {
        return Err(Failure::Usage(
            "`--clone-timeout` concerns a git URL source (`docpipe run check https://host/org/repo.git`), and none is given; leave it out".into(),
        ));
    }
    // The run may work in a clone: paths of this working directory are made absolute first.
    let report_path = match &cli.global.report {
        Some(report) => {
            preflight::check_output_file("--report", report).map_err(Failure::Usage)?;
            Some(std::path::absolute(report).unwrap_or_else(|_| report.clone()))
        }
        None => None,
    };
    let only_failed = a
        .only_failed
        .as_ref()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()));
    let mut clone = match &remote {
        Some(source) => match clone_source(source, a, &cancel)? {
            Some(clone) => Some(clone),
            None => return Ok(exit::INTERRUPTED),
        },
        None => None,
    };
    if let Some(clone) = &mut clone {
        clone.enter().map_err(Failure::Runtime)?;
        preflight::check_paths(&paths).map_err(Failure::Usage)?;
    }
    if let Some(file) = &a.output_file {
        preflight::check_output_file("--output-file", file).map_err(Failure::Usage)?;
    }
    run_options.paths = paths;
    run_options.base_dir = std::env::current_dir().unwrap_or_default();
    run_options.config_dir = location.dir();
    // Shards split paths relative to the project (for a clone, the
    // repository's root), the same on every runner.
    let shard_root = match &clone {
        Some(clone) => clone.root().to_path_buf(),
        None => run_options.project_dir(),
    };
    let wanted = select::Wanted {
        changed_since: a.changed_since.as_deref(),
        shard: a.shard,
        only_failed: only_failed.as_deref(),
    };
    run_options.selection = select::resolve(&wanted, &run_options.paths, &shard_root)
        .map_err(Failure::Usage)?
        .map(Arc::new);
    let write_mode = run_options.write_mode;
    let run_options = Arc::new(run_options);
    let stages = build_stages(&validated, &plan, &registry, run_options.clone())?;

    let mut handles = RunHandles::new(run_options);
    handles.cancel = cancel;
    let show = match (cli.global.quiet, std::io::stderr().is_terminal()) {
        (true, _) => progress::Show::Nothing,
        (false, true) => progress::Show::Bar,
        (false, false) => progress::Show::StatusLines,
    };
    let outcome = runtime.block_on(async {
        let live = progress::Live::start(show, handles.progress.clone(), handles.stats.clone());
        let outcome = execute(
            &plan,
            stages,
            handles.clone(),
            ExecOptions {
                jobs,
                ..ExecOptions::default()
            },
        )
        .await;
        live.finish();
        outcome
    });
    // Stages may still hold blocking work; do not wait for it after an interrupt.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));

    if let Some(path) = &report_path {
        let json = serde_json::to_string_pretty(&outcome.report)
            .map_err(|e| Failure::Runtime(format!("cannot serialize the report: {e}")))?;
        std::fs::write(path, json + "\n").map_err(|e| {
            Failure::Runtime(format!(
                "cannot write the report to {}: {e}",
                path.display()
            ))
        })?;
    }
    if !cli.global.quiet {
        eprint!("{}", output::summary(&outcome, write_mode, color));
    }
    if let Some((stage, message)) = &outcome.fatal {
        eprintln!("error: stage `{stage}` failed: {message}");
        return Ok(exit::PROBLEMS);
    }
    if outcome.report.interrupted {
        eprintln!("interrupted: whole files were finished, nothing partial was written");
        return Ok(exit::INTERRUPTED);
    }
    if let Some(message) = &outcome.invariant {
        eprintln!("error: {message}");
        return Ok(exit::PROBLEMS);
    }
    if outcome.report.by_state.failed > 0 || outcome.problems() > 0 {
        return Ok(exit::PROBLEMS);
    }
    Ok(exit::OK)
}

/// Splits the operands of `docpipe run` into paths and at most one git URL source.
fn split_operands(
    operands: &[&String],
) -> Result<(Vec<PathBuf>, Option<checkout::GitSource>), String> {
    let mut remote: Option<checkout::GitSource> = None;
    let mut paths: Vec<PathBuf> = Vec::new();
    for operand in operands {
        if !Path::new(operand.as_str()).exists() && checkout::is_url(operand) {
            if let Some(first) = &remote {
                return Err(format!(
                    "two git URL sources ({first} and {operand}); a run reads one repository: run docpipe once per URL"
                ));
            }
            remote = Some(checkout::GitSource::parse(operand)?);
        } else {
            paths.push(PathBuf::from(operand.as_str()));
        }
    }
    Ok((paths, remote))
}

/// Clones a git URL source (`None`: interrupted while cloning, nothing left behind).
fn clone_source(
    source: &checkout::GitSource,
    a: &RunArgs,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<Option<checkout::Checkout>, Failure> {
    let timeout =
        std::time::Duration::from_secs(a.clone_timeout.unwrap_or(checkout::DEFAULT_TIMEOUT_S));
    match checkout::Checkout::clone(source, timeout, cancel) {
        Ok(clone) => Ok(Some(clone)),
        Err(checkout::CheckoutError::Interrupted) => {
            eprintln!("interrupted while cloning {source}; nothing was left behind");
            Ok(None)
        }
        Err(checkout::CheckoutError::Failed(message)) => Err(Failure::Usage(message)),
        Err(checkout::CheckoutError::TimedOut(message)) => Err(Failure::Runtime(message)),
    }
}
