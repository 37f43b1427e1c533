//! Checks a configuration against the registry before anything runs, and turns
//! a pipeline into a [`Plan`]: its stages, their options and the edges between
//! their ports.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use toml::Table;

use super::{Config, ConfigError, Diagnostic, InputRef, StageConfig, backticks, closest};
use crate::model::ItemKind;
use crate::registry::{BuildContext, DefaultConcurrency, Registry, StageDescriptor, StageRole};
use crate::stage::RunOptions;

/// One stage of a plan.
#[derive(Debug, Clone)]
pub struct PlannedStage {
    /// Name in the file.
    pub name: String,
    /// Its registration.
    pub descriptor: StageDescriptor,
    /// Workers.
    pub concurrency: Workers,
    /// Its option table.
    pub options: Table,
}

/// How many workers a stage runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workers {
    /// Exactly this many.
    Fixed(usize),
    /// This many times `-j/--jobs`.
    PerJob(usize),
}

impl Workers {
    /// The number of workers for a run with `jobs` jobs.
    pub fn resolve(self, jobs: usize) -> usize {
        match self {
            Workers::Fixed(n) => n.max(1),
            Workers::PerJob(n) => (n * jobs).max(1),
        }
    }
}

/// One `inputs` entry: units leave `from` on `port` and enter `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// Upstream stage (index in [`Plan::stages`]).
    pub from: usize,
    /// Port of the upstream stage.
    pub port: String,
    /// Downstream stage.
    pub to: usize,
    /// The reference as written, for messages and graph labels.
    pub written: String,
}

/// A validated pipeline ready to build.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Pipeline name (`None`: every stage of a file without `[pipelines]`).
    pub pipeline: Option<String>,
    /// Stages in file order.
    pub stages: Vec<PlannedStage>,
    /// One edge per `inputs` entry.
    pub edges: Vec<Edge>,
}

impl Plan {
    /// Index of stage `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.name == name)
    }

    /// For each stage, the indices (into [`Plan::edges`]) of the edges leaving it.
    pub fn edges_from(&self) -> Vec<Vec<usize>> {
        let mut from = vec![Vec::new(); self.stages.len()];
        for (i, e) in self.edges.iter().enumerate() {
            from[e.from].push(i);
        }
        from
    }

    /// For each stage, the indices (into [`Plan::edges`]) of the edges entering it.
    pub fn edges_into(&self) -> Vec<Vec<usize>> {
        let mut into = vec![Vec::new(); self.stages.len()];
        for (i, e) in self.edges.iter().enumerate() {
            into[e.to].push(i);
        }
        into
    }

    /// Stage indices, each after every stage that feeds it (Kahn's algorithm:
    /// linear in stages and edges, no recursion however long the chain). A
    /// validated plan has no cycle; stages on one, were there any, come last
    /// in file order.
    pub fn topological_order(&self) -> Vec<usize> {
        let n = self.stages.len();
        let from = self.edges_from();
        let mut waiting: Vec<usize> = vec![0; n];
        for e in &self.edges {
            waiting[e.to] += 1;
        }
        let mut ready: VecDeque<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        let mut placed = vec![false; n];
        while let Some(i) = ready.pop_front() {
            order.push(i);
            placed[i] = true;
            for &e in &from[i] {
                let to = self.edges[e].to;
                waiting[to] -= 1;
                if waiting[to] == 0 {
                    ready.push_back(to);
                }
            }
        }
        order.extend((0..n).filter(|&i| !placed[i]));
        order
    }

    /// Graphviz DOT: one node per stage, one edge per `inputs` entry.
    pub fn to_dot(&self) -> String {
        let title = self.pipeline.as_deref().unwrap_or("docpipe");
        let mut out = format!("digraph \"{}\" {{\n  rankdir=LR;\n", escape_dot(title));
        for s in &self.stages {
            let shape = match s.descriptor.role {
                StageRole::Source => "invhouse",
                StageRole::Transform => "box",
                StageRole::Sink => "house",
            };
            out.push_str(&format!(
                "  \"{}\" [shape={shape}, label=\"{}\\n({})\"];\n",
                escape_dot(&s.name),
                escape_dot(&s.name),
                escape_dot(&s.descriptor.type_name)
            ));
        }
        for e in &self.edges {
            let from = &self.stages[e.from];
            let label = if from.descriptor.ports.len() > 1 {
                format!(" [label=\"{}\"]", escape_dot(&e.port))
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  \"{}\" -> \"{}\"{label};\n",
                escape_dot(&from.name),
                escape_dot(&self.stages[e.to].name)
            ));
        }
        out.push_str("}\n");
        out
    }

    /// Mermaid flowchart: one node per stage, one edge per `inputs` entry.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        let id = |i: usize| format!("s{i}");
        for (i, s) in self.stages.iter().enumerate() {
            let (open, close) = match s.descriptor.role {
                StageRole::Source => ("([", "])"),
                StageRole::Transform => ("[", "]"),
                StageRole::Sink => ("[(", ")]"),
            };
            out.push_str(&format!(
                "  {}{open}\"{}<br/><small>{}</small>\"{close}\n",
                id(i),
                s.name.replace('"', "#quot;"),
                s.descriptor.type_name
            ));
        }
        for e in &self.edges {
            if self.stages[e.from].descriptor.ports.len() > 1 {
                out.push_str(&format!("  {} -->|{}| {}\n", id(e.from), e.port, id(e.to)));
            } else {
                out.push_str(&format!("  {} --> {}\n", id(e.from), id(e.to)));
            }
        }
        out
    }
}

fn escape_dot(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A configuration that passed validation.
#[derive(Debug, Clone)]
pub struct Validated {
    /// The configuration.
    pub config: Config,
    /// Every pipeline's plan, by name (`""` for the implicit one).
    pub plans: Vec<Plan>,
}

impl Validated {
    /// The plan of pipeline `name` (`None`: the default pipeline).
    pub fn plan(&self, name: Option<&str>) -> Result<&Plan, String> {
        if self.config.pipelines.is_empty() {
            return match name {
                None => self
                    .plans
                    .first()
                    .ok_or_else(|| "the configuration has no stages".to_string()),
                Some(n) => Err(format!(
                    "no pipeline named `{n}`: the configuration declares no [pipelines], run it without a name"
                )),
            };
        }
        let wanted = name.unwrap_or(super::DEFAULT_PIPELINE);
        self.plans
            .iter()
            .find(|p| p.pipeline.as_deref() == Some(wanted))
            .ok_or_else(|| {
                let names: Vec<&String> = self.config.pipelines.keys().collect();
                let hint = closest(wanted, names.iter().map(|s| s.as_str()))
                    .map(|c| format!("did you mean `{c}`? "))
                    .unwrap_or_default();
                format!(
                    "no pipeline named `{wanted}`; {hint}the configuration has {}",
                    backticks(&names)
                )
            })
    }
}

impl Validated {
    /// Every stage of the file and every `inputs` edge, whatever pipeline
    /// they belong to (for `docpipe graph` without a pipeline name).
    pub fn whole_graph(&self, registry: &Registry) -> Plan {
        let config = &self.config;
        let mut stages = Vec::new();
        for sc in config.stages.values() {
            if let Some(desc) = registry.stage(&sc.type_name) {
                stages.push(PlannedStage {
                    name: sc.name.clone(),
                    descriptor: desc.clone(),
                    concurrency: Workers::Fixed(sc.concurrency.unwrap_or(1)),
                    options: sc.options.clone(),
                });
            }
        }
        let index: HashMap<&str, usize> = stages
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), i))
            .collect();
        let mut edges = Vec::new();
        for (to, s) in stages.iter().enumerate() {
            let Some(sc) = config.stages.get(&s.name) else {
                continue;
            };
            for input in &sc.inputs {
                if let Some(&from) = index.get(input.stage.as_str()) {
                    let port = input
                        .port
                        .clone()
                        .or_else(|| {
                            stages[from]
                                .descriptor
                                .ports
                                .first()
                                .map(|p| p.name.to_string())
                        })
                        .unwrap_or_default();
                    edges.push(Edge {
                        from,
                        port,
                        to,
                        written: input.to_string(),
                    });
                }
            }
        }
        Plan {
            pipeline: None,
            stages,
            edges,
        }
    }
}

/// Checks everything that can be checked without running: stage types,
/// options, sections, inputs and ports, item kinds, cycles, reachability of a
/// sink, unconsumed ports and pipeline membership, and reports every problem
/// (the ones [`load`](super::load) met too) in one pass, each once.
pub fn validate(
    config: Config,
    registry: &Registry,
    run: Arc<RunOptions>,
) -> Result<Validated, ConfigError> {
    let doc = config.doc.clone();
    let mut errors: Vec<Diagnostic> = config.problems.clone();
    let mut unreadable_sections = Vec::new();
    for (section, mut problems) in registry.check_sections(&config) {
        unreadable_sections.push(section);
        errors.append(&mut problems);
    }
    if config.stages.is_empty() {
        errors.push(
            Diagnostic::new(format!("{} declares no stages", doc.source.name), None).with_help(
                "add [stages.NAME] tables (`docpipe init` writes a starter file), or leave out --config to use the built-in pipelines",
            ),
        );
    }
    let mut descriptors: HashMap<String, StageDescriptor> = HashMap::new();
    // Stages whose place in the graph cannot be judged (unknown type, an
    // input that names nothing): the shape checks of their pipelines would
    // only repeat that problem in other words.
    let mut broken: HashSet<&str> = HashSet::new();

    // Stage types and options.
    for sc in config.stages.values() {
        match check_stage(&config, registry, &run, sc, &unreadable_sections) {
            Ok(checked) => {
                if !checked.wired {
                    broken.insert(sc.name.as_str());
                }
                errors.extend(checked.problems);
                descriptors.insert(sc.name.clone(), checked.descriptor);
            }
            Err(d) => {
                errors.push(d);
                broken.insert(sc.name.as_str());
            }
        }
    }

    // Inputs: stage exists, port exists, kinds fit.
    for sc in config.stages.values() {
        let Some(desc) = descriptors.get(&sc.name) else {
            continue;
        };
        for input in &sc.inputs {
            if let Err(d) = check_input(&config, &descriptors, sc.name.as_str(), desc, input) {
                errors.push(d);
                broken.insert(sc.name.as_str());
            }
        }
    }

    // Cycles over the whole file (a cycle is wrong in every pipeline).
    if let Some(d) = find_cycle(&config) {
        errors.push(d);
        broken.extend(config.stages.keys().map(String::as_str));
    }

    // Pipelines.
    let mut plans = Vec::new();
    let pipelines: Vec<(Option<String>, Vec<String>)> = if config.pipelines.is_empty() {
        vec![(None, config.stages.keys().cloned().collect())]
    } else {
        config
            .pipelines
            .values()
            .map(|p| (Some(p.name.clone()), p.stages.clone()))
            .collect()
    };
    for (name, members) in pipelines {
        match plan_pipeline(&config, &descriptors, &broken, name.as_deref(), &members) {
            Ok(plan) => plans.push(plan),
            Err(mut ds) => errors.append(&mut ds),
        }
    }
    if !errors.is_empty() {
        return Err(ConfigError::many(&doc.source, errors));
    }
    Ok(Validated { config, plans })
}

/// What [`check_stage`] found about a stage of known type.
struct CheckedStage {
    descriptor: StageDescriptor,
    problems: Vec<Diagnostic>,
    /// Its inputs fit its role (a source has none, the others have some).
    wired: bool,
}

/// A stage's type, role, `concurrency` and options. `Err` when its type is
/// unknown.
fn check_stage(
    config: &Config,
    registry: &Registry,
    run: &Arc<RunOptions>,
    sc: &StageConfig,
    unreadable_sections: &[String],
) -> Result<CheckedStage, Diagnostic> {
    let doc = &config.doc;
    let Some(desc) = registry.stage(&sc.type_name) else {
        let names: Vec<&str> = registry.stages().map(|d| d.type_name.as_str()).collect();
        let help = match closest(&sc.type_name, names.iter().copied()) {
            Some(c) => format!("did you mean `{c}`? `docpipe stages` lists every type"),
            None => format!(
                "use one of {}; `docpipe stages` describes them",
                backticks(&names)
            ),
        };
        return Err(Diagnostic::new(
            format!("stage `{}`: unknown stage type `{}`", sc.name, sc.type_name),
            doc.value_origin(&["stages", &sc.name, "type"]),
        )
        .with_label("no stage of this type is registered")
        .with_help(help));
    };
    let mut errors = Vec::new();
    match (desc.role, sc.inputs.is_empty()) {
        (StageRole::Source, false) => errors.push(
            Diagnostic::new(
                format!(
                    "stage `{}` is a source ({}) and takes no inputs",
                    sc.name, desc.type_name
                ),
                doc.key_origin(&["stages", &sc.name, "inputs"]),
            )
            .with_help("remove `inputs` from this stage"),
        ),
        (StageRole::Transform | StageRole::Sink, true) => errors.push(
            Diagnostic::new(
                format!("stage `{}` ({}) has no inputs", sc.name, desc.type_name),
                doc.table_origin(&["stages", &sc.name]),
            )
            .with_label("`inputs` missing")
            .with_help(format!(
                "add `inputs = [\"...\"]` naming the stages whose {} it takes",
                desc.input.map_or("items", ItemKind::noun)
            )),
        ),
        _ => {}
    }
    let wired = errors.is_empty();
    if desc.role != StageRole::Transform && sc.concurrency.is_some_and(|c| c > 1) {
        errors.push(
            Diagnostic::new(
                format!(
                    "stage `{}` is a {} ({}) and runs as one task; `concurrency` applies to transforms",
                    sc.name,
                    if desc.role == StageRole::Source { "source" } else { "sink" },
                    desc.type_name
                ),
                doc.key_origin(&["stages", &sc.name, "concurrency"]),
            )
            .with_help("remove `concurrency` from this stage"),
        );
    }
    let ctx = BuildContext {
        stage: &sc.name,
        config,
        registry,
        run: run.clone(),
        validate_only: true,
    };
    if let Err(e) = desc.build(&sc.options, &ctx) {
        errors.extend(e.into_diagnostics(config, &sc.name, unreadable_sections));
    }
    Ok(CheckedStage {
        descriptor: desc.clone(),
        problems: errors,
        wired,
    })
}

fn check_input(
    config: &Config,
    descriptors: &HashMap<String, StageDescriptor>,
    stage: &str,
    desc: &StageDescriptor,
    input: &InputRef,
) -> Result<(), Diagnostic> {
    let doc = &config.doc;
    let at = doc
        .value_origin(&["stages", stage, "inputs", &input.index.to_string()])
        .or_else(|| doc.value_origin(&["stages", stage, "inputs"]));
    let Some(up) = descriptors.get(&input.stage) else {
        if config.stages.contains_key(&input.stage) {
            // Its type is unknown; already reported.
            return Ok(());
        }
        let help = match closest(&input.stage, config.stages.keys().map(String::as_str)) {
            Some(c) => format!("did you mean `{c}`?"),
            None => format!(
                "stages in this file: {}",
                backticks(&config.stages.keys().collect::<Vec<_>>())
            ),
        };
        return Err(Diagnostic::new(
            format!(
                "stage `{stage}`: input `{input}` names an unknown stage `{}`",
                input.stage
            ),
            at,
        )
        .with_label("no [stages] table has this name")
        .with_help(help));
    };
    if input.stage == stage {
        return Err(
            Diagnostic::new(format!("stage `{stage}` takes its own output as input"), at)
                .with_label("cycle")
                .with_help(format!("cycle: {stage} -> {stage}; remove this input")),
        );
    }
    if up.role == StageRole::Sink {
        return Err(Diagnostic::new(
            format!(
                "stage `{stage}`: input `{}` is a sink ({}) and has no output",
                input.stage, up.type_name
            ),
            at,
        )
        .with_help("take input from a source or transform"));
    }
    let port = match &input.port {
        Some(p) => match up.port(p) {
            Some(port) => port,
            None => {
                let names: Vec<&str> = up.ports.iter().map(|p| p.name).collect();
                let ports = backticks(
                    &names
                        .iter()
                        .map(|n| format!("{}.{n}", input.stage))
                        .collect::<Vec<_>>(),
                );
                let help = match closest(p, names.iter().copied()) {
                    Some(c) => format!(
                        "did you mean `{}.{c}`? {} ({}) has {ports}",
                        input.stage, input.stage, up.type_name
                    ),
                    None => format!("{} ({}) has {ports}", input.stage, up.type_name),
                };
                return Err(Diagnostic::new(
                    format!(
                        "stage `{stage}`: `{}` has no output port `{p}`",
                        input.stage
                    ),
                    at,
                )
                .with_label("unknown port")
                .with_help(help));
            }
        },
        None if up.ports.len() == 1 => &up.ports[0],
        None => {
            let names: Vec<String> = up
                .ports
                .iter()
                .map(|p| format!("{}.{}", input.stage, p.name))
                .collect();
            return Err(Diagnostic::new(
                format!(
                    "stage `{stage}`: `{}` has several output ports; name one",
                    input.stage
                ),
                at,
            )
            .with_help(format!("write one of {}", backticks(&names))));
        }
    };
    if let Some(accepts) = desc.input
        && accepts != port.kind
    {
        return Err(Diagnostic::new(
            format!(
                "stage `{stage}` ({}) takes {} but `{input}` carries {}",
                desc.type_name,
                accepts.noun(),
                port.kind.noun()
            ),
            at,
        )
        .with_help(match accepts {
            ItemKind::Unit => "put an extractor between the source and this stage",
            ItemKind::File => "take input from a source stage",
        }));
    }
    Ok(())
}

fn find_cycle(config: &Config) -> Option<Diagnostic> {
    // Depth-first search with colours over stage -> consumer edges.
    let names: Vec<&String> = config.stages.keys().collect();
    let index: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut consumers: Vec<Vec<(usize, usize)>> = vec![Vec::new(); names.len()];
    for (to, sc) in config.stages.values().enumerate() {
        for input in &sc.inputs {
            if let Some(&from) = index.get(input.stage.as_str())
                && from != to
            {
                consumers[from].push((to, input.index));
            }
        }
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        White,
        Grey,
        Black,
    }
    let mut colour = vec![Colour::White; names.len()];
    // Depth-first with an explicit stack of (stage, next consumer to try), so
    // that a chain of any length cannot overflow the thread's stack.
    let visit = |root: usize, colour: &mut [Colour]| -> Option<(Vec<usize>, usize)> {
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        colour[root] = Colour::Grey;
        while let Some(&mut (n, ref mut next)) = stack.last_mut() {
            let Some(&(m, input_index)) = consumers[n].get(*next) else {
                colour[n] = Colour::Black;
                stack.pop();
                continue;
            };
            *next += 1;
            match colour[m] {
                Colour::Grey => {
                    let start = stack.iter().position(|&(s, _)| s == m).unwrap_or(0);
                    let mut cycle: Vec<usize> = stack[start..].iter().map(|&(s, _)| s).collect();
                    cycle.push(m);
                    return Some((cycle, input_index));
                }
                Colour::White => {
                    colour[m] = Colour::Grey;
                    stack.push((m, 0));
                }
                Colour::Black => {}
            }
        }
        None
    };
    for n in 0..names.len() {
        if colour[n] == Colour::White
            && let Some((cycle, input_index)) = visit(n, &mut colour)
        {
            let text = cycle
                .iter()
                .map(|&i| names[i].as_str())
                .collect::<Vec<_>>()
                .join(" -> ");
            // Point at the input that closes the cycle: the last edge's consumer.
            let closer = names[cycle[cycle.len() - 1]];
            let at = config
                .doc
                .value_origin(&["stages", closer, "inputs", &input_index.to_string()])
                .or_else(|| config.doc.table_origin(&["stages", closer]));
            return Some(
                Diagnostic::new(format!("the stages form a cycle: {text}"), at)
                    .with_label("this input closes the cycle")
                    .with_help(format!(
                        "a pipeline is a DAG: remove one input of the cycle {text}"
                    )),
            );
        }
    }
    None
}

fn plan_pipeline(
    config: &Config,
    descriptors: &HashMap<String, StageDescriptor>,
    broken: &HashSet<&str>,
    pipeline: Option<&str>,
    members: &[String],
) -> Result<Plan, Vec<Diagnostic>> {
    let doc = &config.doc;
    let mut errors = Vec::new();
    let label = pipeline.map_or_else(
        || "the configuration".to_string(),
        |p| format!("pipeline `{p}`"),
    );
    let member_set: BTreeSet<&str> = members.iter().map(String::as_str).collect();
    // The shape of the graph (ports consumed, sinks reached) is judged only
    // when every member and edge is known: otherwise it would restate an
    // error reported already.
    let mut judge_shape = true;

    let mut stages = Vec::new();
    for (i, name) in members.iter().enumerate() {
        let Some(sc) = config.stages.get(name) else {
            let at = pipeline
                .and_then(|p| doc.value_origin(&["pipelines", p, "stages", &i.to_string()]));
            let help = match closest(name, config.stages.keys().map(String::as_str)) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!(
                    "stages in this file: {}",
                    backticks(&config.stages.keys().collect::<Vec<_>>())
                ),
            };
            errors.push(
                Diagnostic::new(format!("{label} names an unknown stage `{name}`"), at)
                    .with_label("no [stages] table has this name")
                    .with_help(help),
            );
            judge_shape = false;
            continue;
        };
        let Some(desc) = descriptors.get(name) else {
            judge_shape = false;
            continue;
        };
        if broken.contains(name.as_str()) {
            judge_shape = false;
        }
        let concurrency =
            sc.concurrency
                .map(Workers::Fixed)
                .unwrap_or(match desc.default_concurrency {
                    DefaultConcurrency::One => Workers::Fixed(1),
                    DefaultConcurrency::Jobs => Workers::PerJob(1),
                    DefaultConcurrency::Fixed(n) => Workers::Fixed(n),
                });
        stages.push(PlannedStage {
            name: name.clone(),
            descriptor: desc.clone(),
            concurrency,
            options: sc.options.clone(),
        });
    }
    let index: HashMap<&str, usize> = stages
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut edges = Vec::new();
    for (to, s) in stages.iter().enumerate() {
        let Some(sc) = config.stages.get(&s.name) else {
            continue;
        };
        for input in &sc.inputs {
            let at = doc.value_origin(&["stages", &s.name, "inputs", &input.index.to_string()]);
            if !member_set.contains(input.stage.as_str()) {
                if config.stages.contains_key(&input.stage) {
                    errors.push(
                        Diagnostic::new(
                            format!(
                                "stage `{}` takes input from `{}`, which {label} does not include",
                                s.name, input.stage
                            ),
                            at,
                        )
                        .with_help(match pipeline {
                            Some(p) => format!(
                                "add `{}` to [pipelines.{p}] stages, or remove this input",
                                input.stage
                            ),
                            None => "remove this input".to_string(),
                        }),
                    );
                }
                judge_shape = false;
                continue;
            }
            let Some(&from) = index.get(input.stage.as_str()) else {
                // A member whose type is unknown: reported already.
                continue;
            };
            let desc = &stages[from].descriptor;
            let Some(port) = input
                .port
                .clone()
                .or_else(|| desc.ports.first().map(|p| p.name.to_string()))
            else {
                continue;
            };
            edges.push(Edge {
                from,
                port,
                to,
                written: input.to_string(),
            });
        }
    }
    if judge_shape {
        errors.extend(shape_problems(config, &label, &stages, &edges));
    }
    if stages
        .iter()
        .all(|s| s.descriptor.role != StageRole::Source)
        && !stages.is_empty()
        && judge_shape
    {
        errors.push(
            Diagnostic::new(
                format!("{label} has no source stage"),
                pipeline.and_then(|p| doc.table_origin(&["pipelines", p])),
            )
            .with_help("add a source stage (such as `python-source`) to it"),
        );
    }
    if errors.is_empty() {
        Ok(Plan {
            pipeline: pipeline.map(str::to_string),
            stages,
            edges,
        })
    } else {
        Err(errors)
    }
}

/// Ports whose units nothing consumes, and stages from which no sink can be
/// reached. Linear in stages and edges.
fn shape_problems(
    config: &Config,
    label: &str,
    stages: &[PlannedStage],
    edges: &[Edge],
) -> Vec<Diagnostic> {
    let doc = &config.doc;
    let mut errors = Vec::new();
    let consumed: HashSet<(usize, &str)> =
        edges.iter().map(|e| (e.from, e.port.as_str())).collect();
    for (i, s) in stages.iter().enumerate() {
        for port in &s.descriptor.ports {
            if !consumed.contains(&(i, port.name))
                && !s.descriptor.optional_ports.contains(&port.name)
            {
                let reference = if s.descriptor.ports.len() == 1 {
                    s.name.clone()
                } else {
                    format!("{}.{}", s.name, port.name)
                };
                errors.push(
                    Diagnostic::new(
                        format!(
                            "in {label}, nothing consumes `{reference}`: its {} would be lost",
                            port.kind.noun()
                        ),
                        doc.table_origin(&["stages", &s.name]),
                    )
                    .with_label(format!("`{reference}` ({}) goes nowhere", port.doc))
                    .with_help(format!(
                        "add \"{reference}\" to the `inputs` of a stage that reaches a sink"
                    )),
                );
            }
        }
    }
    // Every stage must reach a sink: walk the edges backwards from the sinks, once.
    let mut feeders: Vec<Vec<usize>> = vec![Vec::new(); stages.len()];
    for e in edges {
        feeders[e.to].push(e.from);
    }
    let mut reaches = vec![false; stages.len()];
    let mut todo: Vec<usize> = (0..stages.len())
        .filter(|&i| stages[i].descriptor.role == StageRole::Sink)
        .collect();
    while let Some(n) = todo.pop() {
        if std::mem::replace(&mut reaches[n], true) {
            continue;
        }
        todo.extend(feeders[n].iter().copied().filter(|&f| !reaches[f]));
    }
    for (i, s) in stages.iter().enumerate() {
        if !reaches[i] {
            errors.push(
                Diagnostic::new(
                    format!("in {label}, no sink can be reached from stage `{}`", s.name),
                    doc.table_origin(&["stages", &s.name]),
                )
                .with_label("its units would never be written or reported")
                .with_help(format!(
                    "add a sink (such as `python-writer` or `check-report`) downstream of `{}`, or remove it from {label}",
                    s.name
                )),
            );
        }
    }
    errors
}
