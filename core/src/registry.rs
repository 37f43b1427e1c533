//! The stage registry: stage `type` names mapped to factories, plus the swap
//! points (styles, models, cache tiers) and the shared sections stages read.
//! Built-in stages and plugins register here alike, at run time.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use toml::Table;

use crate::cache_store::CacheStore;
use crate::chat::Model;
use crate::config::{Config, Diagnostic, Origin, Subject, wording};
use crate::model::ItemKind;
use crate::stage::{BuiltStage, RunFlag, RunOptions};
use crate::style::Style;

/// The three roles a stage can play in the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageRole {
    /// Produces items; has no inputs.
    Source,
    /// Turns items into items.
    Transform,
    /// Consumes units at the end of the graph.
    Sink,
}

/// One option a stage accepts, for `docpipe stages` and the README.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OptionDoc {
    /// Key in the stage's table.
    pub name: &'static str,
    /// Type as a user writes it (`string`, `[string]`, `integer`, `bool`).
    pub ty: &'static str,
    /// Default as TOML text; `None` when required.
    pub default: Option<&'static str>,
    /// What it does.
    pub doc: &'static str,
}

/// The options of a stage: deserialized from its table (unknown keys rejected)
/// and described for users.
pub trait StageOptions: DeserializeOwned + Send + 'static {
    /// Every option, in the order a user would read them.
    fn describe() -> Vec<OptionDoc>;
}

/// A stage that takes no options.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoOptions {}

impl StageOptions for NoOptions {
    fn describe() -> Vec<OptionDoc> {
        Vec::new()
    }
}

/// One output port.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PortDoc {
    /// Name used in `"stage.port"`; `out` for a stage's only port.
    pub name: &'static str,
    /// What travels on it.
    pub kind: ItemKind,
    /// Which items go there.
    pub doc: &'static str,
}

/// How many workers a stage gets when its table sets no `concurrency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DefaultConcurrency {
    /// One worker.
    One,
    /// `-j/--jobs` workers (CPU-bound stages).
    Jobs,

    /// A fixed number (I/O-bound stages).
    Fixed(usize),
}

/// A stage could not be built from its options.
#[derive(Debug, Clone)]
pub struct BuildError {
    /// What is wrong.
    pub message: String,
    /// The option key at fault, to point at (`None`: the stage header); or
    /// the command-line flag at fault, as given (`--format xml`: it starts
    /// with `--`, which no option does), to point at the command line.
    pub option: Option<String>,
    /// A key of a shared section at fault (`["style", "name"]`): the error is
    /// about the section, not the stage, and is reported once. An empty key
    /// means the section as a whole, whose own check already reported why.
    pub section_key: Option<(String, String)>,
    /// What to do.
    pub help: Option<String>,
}

impl BuildError {
    /// An error about the stage as a whole.
    pub fn new(message: impl Into<String>) -> BuildError {
        BuildError {
            message: message.into(),
            option: None,
            section_key: None,
            help: None,
        }
    }

    /// An error about option `key`.
    pub fn option(key: impl Into<String>, message: impl Into<String>) -> BuildError {
        BuildError {
            option: Some(key.into()),
            ..BuildError::new(message)
        }
    }

    /// An error about the command-line flag `flag`, as given (`--format xml`).
    pub fn flag(flag: impl Into<String>, message: impl Into<String>) -> BuildError {
        let flag = flag.into();
        debug_assert!(flag.starts_with("--"), "a flag starts with `--`");
        BuildError {
            option: Some(flag),
            ..BuildError::new(message)
        }
    }

    /// An error about key `key` of the shared section `[section]`.
    pub fn section(
        section: impl Into<String>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> BuildError {
        BuildError {
            section_key: Some((section.into(), key.into())),
            ..BuildError::new(message)
        }
    }

    /// The section `[section]` cannot be read; its check says why.
    pub fn section_unreadable(section: impl Into<String>) -> BuildError {
        let section = section.into();
        BuildError {
            message: format!("[{section}] cannot be read"),
            section_key: Some((section, String::new())),
            ..BuildError::new("")
        }
    }

    /// Adds advice.
    pub fn with_help(mut self, help: impl Into<String>) -> BuildError {
        self.help = Some(help.into());
        self
    }
}

impl BuildError {
    /// The located diagnostic for this error of stage `stage`.
    pub fn into_diagnostic(self, config: &Config, stage: &str) -> Diagnostic {
        let doc = &config.doc;
        let (message, at) = match (&self.section_key, &self.option) {
            (_, Some(flag)) if flag.starts_with("--") => {
                (self.message.clone(), Some(Origin::Flag(flag.clone())))
            }
            (Some((section, key)), _) if key.is_empty() => (
                format!("[{section}]: {}", self.message),
                doc.table_origin(&[section]),
            ),
            (Some((section, key)), _) => (
                format!("[{section}] {key}: {}", self.message),
                doc.value_origin(&[section, key])
                    .or_else(|| doc.table_origin(&[section])),
            ),
            (None, Some(k)) => (
                format!("stage `{stage}`: {}", self.message),
                doc.value_origin(&["stages", stage, k])
                    .or_else(|| doc.table_origin(&["stages", stage])),
            ),
            (None, None) => (
                format!("stage `{stage}`: {}", self.message),
                doc.table_origin(&["stages", stage]),
            ),
        };
        let mut d = Diagnostic::new(message, at);
        if let Some(h) = self.help {
            d = d.with_help(h);
        }
        d
    }
}

/// What a factory sees when it builds a stage.
pub struct BuildContext<'a> {
    /// The stage's name in the file.
    pub stage: &'a str,
    /// The whole configuration (for shared sections).
    pub config: &'a Config,
    /// The registry (for styles, models, cache tiers).
    pub registry: &'a Registry,
    /// The command line's wishes.
    pub run: Arc<RunOptions>,
    /// Only checking (`docpipe validate`, `graph`): build nothing expensive and
    /// do not require secrets that only a run needs.
    pub validate_only: bool,
}

impl<'a> BuildContext<'a> {
    /// This context, only checking when `validate_only` (or when it already
    /// was): what builds a model to ask it something, or for a run that
    /// sends no request (`--estimate`), so that no key is needed.
    pub fn validating(&self, validate_only: bool) -> BuildContext<'a> {
        BuildContext {
            stage: self.stage,
            config: self.config,
            registry: self.registry,
            run: self.run.clone(),
            validate_only: self.validate_only || validate_only,
        }
    }

    /// The shared section `[name]` as `T`. Its problems are the section's,
    /// reported once by validation, not by each stage that reads it: while
    /// validating, the faulty keys are left out (defaults stand in) so that
    /// the stage can still report its own problems.
    pub fn section<T: DeserializeOwned>(&self, name: &str) -> Result<T, BuildError> {
        let table = self.config.section(name);
        let title = format!("[{name}]");
        let options = self
            .registry
            .sections
            .get(name)
            .map(|s| s.options.as_slice())
            .unwrap_or_default();
        let read = self.config.doc.read_table(
            &[name],
            &table,
            &Subject {
                title: &title,
                key_noun: "key",
                options,
            },
        );
        match read.value {
            Some(v) if read.problems.is_empty() || self.validate_only => Ok(v),
            _ => Err(BuildError::section_unreadable(name)),
        }
    }

    /// An environment (or `.env`) variable.
    pub fn env(&self, name: &str) -> Option<String> {
        self.config.env.get(name)
    }
}

type StageFactory =
    Arc<dyn Fn(&Table, &BuildContext<'_>) -> Result<BuiltStage, BuildErrorOrDiag> + Send + Sync>;

/// Either a factory's own error or an option deserialization diagnostic.
pub enum BuildErrorOrDiag {
    /// From the factory.
    Build(BuildError),
    /// From option parsing, already located.
    Diag(Diagnostic),
    /// Every problem of the stage's options, and the factory's own error
    /// when, with the faulty options left out, it had one.
    Several(Vec<Diagnostic>, Option<Box<BuildError>>),
}

impl BuildErrorOrDiag {
    /// The located problems of stage `stage`. A problem of a whole section
    /// in `unreadable_sections` is left out: the section's check reported it.
    pub fn into_diagnostics(
        self,
        config: &Config,
        stage: &str,
        unreadable_sections: &[String],
    ) -> Vec<Diagnostic> {
        let build = |e: BuildError| match &e.section_key {
            Some((section, key)) if key.is_empty() && unreadable_sections.contains(section) => None,
            _ => Some(e.into_diagnostic(config, stage)),
        };
        match self {
            BuildErrorOrDiag::Build(e) => build(e).into_iter().collect(),
            BuildErrorOrDiag::Diag(d) => vec![d],
            BuildErrorOrDiag::Several(mut ds, e) => {
                ds.extend(e.and_then(|e| build(*e)));
                ds
            }
        }
    }
}

/// Everything `docpipe stages` shows about a stage type.
#[derive(Clone, serde::Serialize)]
pub struct StageDescriptor {
    /// The `type` name.
    pub type_name: String,
    /// Source, transform or sink.
    pub role: StageRole,
    /// One line on what it does.
    pub summary: String,
    /// What it accepts (`None` for sources).
    pub input: Option<ItemKind>,
    /// Output ports (empty for sinks).
    pub ports: Vec<PortDoc>,
    /// Its options.
    pub options: Vec<OptionDoc>,
    /// Workers when `concurrency` is not set.
    pub default_concurrency: DefaultConcurrency,
    /// Shared sections it reads.
    pub sections: Vec<&'static str>,
    /// Flags of `docpipe run` it acts on (see [`RunFlag`]).
    pub flags: Vec<RunFlag>,
    /// Ports a pipeline may leave unconsumed: the stage asks
    /// [`Emitter::is_consumed`](crate::executor::Emitter::is_consumed) and
    /// sends nothing there when nothing takes it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub optional_ports: Vec<&'static str>,
    #[serde(skip)]
    factory: StageFactory,
}

impl std::fmt::Debug for StageDescriptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageDescriptor")
            .field("type_name", &self.type_name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// The static part of a stage registration.
#[derive(Debug, Clone)]
pub struct StageSpec {
    /// The `type` name.
    pub type_name: &'static str,
    /// Source, transform or sink.
    pub role: StageRole,
    /// One line on what it does.
    pub summary: &'static str,
    /// What it accepts (`None` for sources).
    pub input: Option<ItemKind>,
    /// Output ports.
    pub ports: Vec<PortDoc>,
    /// Workers when `concurrency` is not set.
    pub default_concurrency: DefaultConcurrency,
    /// Shared sections it reads.
    pub sections: Vec<&'static str>,
}

impl StageDescriptor {
    /// Builds the stage from its option table.
    pub fn build(
        &self,
        options: &Table,
        ctx: &BuildContext<'_>,
    ) -> Result<BuiltStage, BuildErrorOrDiag> {
        (self.factory)(options, ctx)
    }

    /// The port called `name`.
    pub fn port(&self, name: &str) -> Option<&PortDoc> {
        self.ports.iter().find(|p| p.name == name)
    }

    /// Declares the flags of `docpipe run` this stage type acts on.
    pub fn reads(&mut self, flags: &[RunFlag]) -> &mut StageDescriptor {
        self.flags.extend_from_slice(flags);
        self.flags.sort();
        self.flags.dedup();
        self
    }

    /// Declares ports a pipeline may leave unconsumed (see
    /// [`StageDescriptor::optional_ports`]).
    pub fn optional(&mut self, ports: &[&'static str]) -> &mut StageDescriptor {
        self.optional_ports.extend_from_slice(ports);
        self
    }
}

type SectionCheck = Arc<dyn Fn(&Config) -> Vec<Diagnostic> + Send + Sync>;
type ModelFactory =
    Arc<dyn Fn(&BuildContext<'_>) -> Result<Arc<dyn Model>, BuildError> + Send + Sync>;
type CacheFactory =
    Arc<dyn Fn(&BuildContext<'_>) -> Result<Arc<dyn CacheStore>, BuildError> + Send + Sync>;

/// A shared section's registration.
#[derive(Clone)]
pub struct SectionDescriptor {
    /// Table name.
    pub name: String,
    /// What it configures.
    pub summary: String,
    /// Its keys.
    pub options: Vec<OptionDoc>,
    check: SectionCheck,
}

/// Stage types, swap points and sections, by name.
#[derive(Clone, Default)]
pub struct Registry {
    stages: BTreeMap<String, StageDescriptor>,
    sections: BTreeMap<String, SectionDescriptor>,
    styles: BTreeMap<String, Arc<dyn Style>>,
    models: BTreeMap<String, ModelFactory>,
    caches: BTreeMap<String, CacheFactory>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Registers a stage type whose options are `O`. A later registration of
    /// the same name replaces the earlier one (a plugin may override a built-in).
    /// Returns the registration, to declare the flags it reads with
    /// [`StageDescriptor::reads`].
    pub fn add_stage<O, F>(&mut self, spec: StageSpec, factory: F) -> &mut StageDescriptor
    where
        O: StageOptions,
        F: Fn(O, &BuildContext<'_>) -> Result<BuiltStage, BuildError> + Send + Sync + 'static,
    {
        let type_name = spec.type_name;
        let described = O::describe();
        let factory: StageFactory = Arc::new(move |table: &Table, ctx: &BuildContext<'_>| {
            let title = format!("stage `{}` ({type_name})", ctx.stage);
            let read = ctx.config.doc.read_table::<O>(
                &["stages", ctx.stage],
                table,
                &Subject {
                    title: &title,
                    key_noun: "option",
                    options: &described,
                },
            );
            match (read.value, read.problems.is_empty()) {
                (Some(options), true) => factory(options, ctx).map_err(BuildErrorOrDiag::Build),
                // With the faulty options left out, the factory may still
                // find problems of its own: report those in the same pass.
                (Some(options), false) if ctx.validate_only => Err(BuildErrorOrDiag::Several(
                    read.problems,
                    factory(options, ctx).err().map(Box::new),
                )),
                (_, _) => Err(BuildErrorOrDiag::Several(read.problems, None)),
            }
        });
        let descriptor = StageDescriptor {
            type_name: type_name.to_string(),
            role: spec.role,
            summary: spec.summary.to_string(),
            input: spec.input,
            ports: spec.ports,
            options: O::describe(),
            default_concurrency: spec.default_concurrency,
            sections: spec.sections,
            flags: Vec::new(),
            optional_ports: Vec::new(),
            factory,
        };
        match self.stages.entry(type_name.to_string()) {
            std::collections::btree_map::Entry::Occupied(mut e) => {
                e.insert(descriptor);
                e.into_mut()
            }
            std::collections::btree_map::Entry::Vacant(e) => e.insert(descriptor),
        }
    }

    /// Registers a stage type whose options are known only at run time (a
    /// plugin's): `options` describes them, unknown keys are rejected here
    /// with their place in the file, and `factory` gets the table itself.
    pub fn add_dynamic_stage<F>(
        &mut self,
        spec: StageSpec,
        options: Vec<OptionDoc>,
        factory: F,
    ) -> &mut StageDescriptor
    where
        F: Fn(&Table, &BuildContext<'_>) -> Result<BuiltStage, BuildError> + Send + Sync + 'static,
    {
        let type_name = spec.type_name;
        let names: Vec<&'static str> = options.iter().map(|o| o.name).collect();
        let required: Vec<&'static str> = options
            .iter()
            .filter(|o| o.default.is_none())
            .map(|o| o.name)
            .collect();
        let factory: StageFactory = Arc::new(move |table: &Table, ctx: &BuildContext<'_>| {
            let doc = &ctx.config.doc;
            let mut problems = Vec::new();
            for key in table.keys() {
                if !names.contains(&key.as_str()) {
                    let help = if names.is_empty() {
                        format!("`{type_name}` takes no options")
                    } else {
                        wording::did_you_mean(key, &names)
                    };
                    problems.push(
                        Diagnostic::new(
                            format!(
                                "stage `{}` ({type_name}): unknown option `{key}`",
                                ctx.stage
                            ),
                            doc.key_origin(&["stages", ctx.stage, key]),
                        )
                        .with_label("unknown option")
                        .with_help(help),
                    );
                }
            }
            for key in &required {
                if !table.contains_key(*key) {
                    problems.push(
                        Diagnostic::new(
                            format!(
                                "stage `{}` ({type_name}): missing option `{key}`",
                                ctx.stage
                            ),
                            doc.table_origin(&["stages", ctx.stage]),
                        )
                        .with_help(format!("add `{key} = ...`; `docpipe stages` describes it")),
                    );
                }
            }
            if problems.is_empty() {
                factory(table, ctx).map_err(BuildErrorOrDiag::Build)
            } else {
                Err(BuildErrorOrDiag::Several(problems, None))
            }
        });
        let descriptor = StageDescriptor {
            type_name: type_name.to_string(),
            role: spec.role,
            summary: spec.summary.to_string(),
            input: spec.input,
            ports: spec.ports,
            options,
            default_concurrency: spec.default_concurrency,
            sections: spec.sections,
            flags: Vec::new(),
            optional_ports: Vec::new(),
            factory,
        };
        match self.stages.entry(type_name.to_string()) {
            std::collections::btree_map::Entry::Occupied(mut e) => {
                e.insert(descriptor);
                e.into_mut()
            }
            std::collections::btree_map::Entry::Vacant(e) => e.insert(descriptor),
        }
    }

    /// Registers a shared section `[name]` whose keys are `T` (unknown keys rejected).
    pub fn add_section<T>(&mut self, name: &str, summary: &str, options: Vec<OptionDoc>)
    where
        T: DeserializeOwned + 'static,
    {
        let owned = name.to_string();
        let described = options.clone();
        let check: SectionCheck = Arc::new(move |config: &Config| {
            let table = config.section(&owned);
            let title = format!("[{owned}]");
            config
                .doc
                .read_table::<T>(
                    &[owned.as_str()],
                    &table,
                    &Subject {
                        title: &title,
                        key_noun: "key",
                        options: &described,
                    },
                )
                .problems
        });
        self.sections.insert(
            name.to_string(),
            SectionDescriptor {
                name: name.to_string(),
                summary: summary.to_string(),
                options,
                check,
            },
        );
    }

    /// Registers a docstring style under its name.
    pub fn add_style(&mut self, style: Arc<dyn Style>) {
        self.styles.insert(style.name().to_string(), style);
    }

    /// Registers a model provider (`[model] provider = NAME`).
    pub fn add_model<F>(&mut self, name: &str, factory: F)
    where
        F: Fn(&BuildContext<'_>) -> Result<Arc<dyn Model>, BuildError> + Send + Sync + 'static,
    {
        self.models.insert(name.to_string(), Arc::new(factory));
    }

    /// Registers a cache tier (`[cache] tiers = [NAME, ...]`).
    pub fn add_cache<F>(&mut self, name: &str, factory: F)
    where
        F: Fn(&BuildContext<'_>) -> Result<Arc<dyn CacheStore>, BuildError> + Send + Sync + 'static,
    {
        self.caches.insert(name.to_string(), Arc::new(factory));
    }

    /// The stage type `name`.
    pub fn stage(&self, name: &str) -> Option<&StageDescriptor> {
        self.stages.get(name)
    }

    /// Every stage type, by name.
    pub fn stages(&self) -> impl Iterator<Item = &StageDescriptor> {
        self.stages.values()
    }

    /// Every shared section.
    pub fn sections(&self) -> impl Iterator<Item = &SectionDescriptor> {
        self.sections.values()
    }

    /// Names of the shared sections.
    pub fn section_names(&self) -> Vec<String> {
        self.sections.keys().cloned().collect()
    }

    /// Checks every registered section of `config`: every problem, by section.
    pub fn check_sections(&self, config: &Config) -> Vec<(String, Vec<Diagnostic>)> {
        self.sections
            .values()
            .map(|s| (s.name.clone(), (s.check)(config)))
            .filter(|(_, problems)| !problems.is_empty())
            .collect()
    }

    /// The style `name`.
    pub fn style(&self, name: &str) -> Result<Arc<dyn Style>, BuildError> {
        self.styles.get(name).cloned().ok_or_else(|| {
            BuildError::new(format!("unknown docstring style `{name}`")).with_help(
                wording::did_you_mean(name, &self.styles.keys().collect::<Vec<_>>()),
            )
        })
    }

    /// Names of the registered styles.
    pub fn style_names(&self) -> Vec<String> {
        self.styles.keys().cloned().collect()
    }

    /// Builds the model provider `name` (the value of `[model] provider`).
    pub fn model(&self, name: &str, ctx: &BuildContext<'_>) -> Result<Arc<dyn Model>, BuildError> {
        match self.models.get(name) {
            Some(f) => f(ctx),
            None => Err(BuildError::section(
                "model",
                "provider",
                format!("unknown model provider `{name}`"),
            )
            .with_help(wording::did_you_mean(
                name,
                &self.models.keys().collect::<Vec<_>>(),
            ))),
        }
    }

    /// Names of the registered model providers.
    pub fn model_names(&self) -> Vec<String> {
        self.models.keys().cloned().collect()
    }

    /// Builds the cache tier `name`.
    pub fn cache(
        &self,
        name: &str,
        ctx: &BuildContext<'_>,
    ) -> Result<Arc<dyn CacheStore>, BuildError> {
        match self.caches.get(name) {
            Some(f) => f(ctx),
            None => Err(
                BuildError::new(format!("unknown cache tier `{name}`")).with_help(
                    wording::did_you_mean(name, &self.caches.keys().collect::<Vec<_>>()),
                ),
            ),
        }
    }

    /// Names of the registered cache tiers.
    pub fn cache_names(&self) -> Vec<String> {
        self.caches.keys().cloned().collect()
    }
}
