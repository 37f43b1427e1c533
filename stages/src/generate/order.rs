//! Dependency-ordered generation: callees are documented before their
//! callers, and the callees' summaries go into the caller's prompt.
//!
//! ## The call graph
//!
//! [`Resolver`] turns the dotted names a function calls
//! ([`ModuleIndex`](crate::python::calls::ModuleIndex): `f(`, `self.m(`,
//! `Class.m(`, `module.f(`) into definitions of the repository: by name in
//! the enclosing functions and the module, by class for `self`/`cls` and a
//! class of the module, and by import (`import m`, `from m import f`,
//! relative imports) into another file of the project directory. A module is
//! looked for beside the importing file (relative imports) or in the
//! importing file's directory and its parents up to the project directory
//! (`pkg/mod.py`, `pkg/mod/__init__.py`); nothing outside the project is
//! read. What does not resolve (the standard library of the interpreter,
//! attributes of objects, builtins) is not a callee.
//!
//! ## Waiting, bounded
//!
//! [`Board`] holds the units that wait. A unit waits only for callees that
//! have no docstring summary yet and are on their way to this generator in
//! this run: units of the same file that the cache sent to the model (the
//! `cache-lookup` stage stamps each of a file's misses with their number,
//! [`FILE_MISSES_KEY`], so the generator knows when a file's pending units
//! are all there), units already waiting or sent, and units of another file
//! of the run's paths that has not reached the generator yet (until it does,
//! or the input ends). It waits at most `max_wait_ms`; past the bound it goes
//! without the missing summaries. Calls that form a cycle inside a file fall
//! back to source order (each unit of the cycle gets the summaries of the
//! ones above it); a wait that would close a cycle across files is not taken.
//! A unit that waits holds no model slot: the units behind it go on.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use docpipe_core::model::{CodeUnit, Envelope, SourceFile, UnitId, UnitKind};
use docpipe_core::registry::{OptionDoc, StageOptions};
use serde::Deserialize;

use crate::python::calls::{DefKind, Definition, ModuleIndex};

/// Key of `Envelope::extra` with the number of a file's units that
/// `cache-lookup` sent to the model (set on each of them).
pub const FILE_MISSES_KEY: &str = "file_misses";

/// At most this many callees are shown in a prompt.
pub const MAX_PROMPT_CALLEES: usize = 12;

/// At most this many callees are resolved per unit.
const MAX_CALLEES: usize = 32;

/// In which order `llm-generate` asks for docstrings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Order {
    /// Callees before callers, their summaries in the callers' prompts.
    #[default]
    CalleesFirst,
    /// As the units arrive, with no callee in the prompt.
    Source,
}

/// Options of `llm-generate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateOptions {
    /// `callees-first` or `source`.
    #[serde(default)]
    pub order: Order,
    /// The longest a unit waits for its callees, in milliseconds.
    #[serde(default = "default_max_wait_ms")]
    pub max_wait_ms: u64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            order: Order::default(),
            max_wait_ms: default_max_wait_ms(),
        }
    }
}

fn default_max_wait_ms() -> u64 {
    30_000
}

impl StageOptions for GenerateOptions {
    fn describe() -> Vec<OptionDoc> {
        vec![
            OptionDoc {
                name: "order",
                ty: "string",
                default: Some("\"callees-first\""),
                doc: "`callees-first`: a function is documented after the functions of the repository it calls, whose summaries (existing or just generated) its prompt shows; cycles fall back to source order. `source`: as the units arrive, no callees in the prompt",
            },
            OptionDoc {
                name: "max_wait_ms",
                ty: "integer",
                default: Some("30000"),
                doc: "With `callees-first`, the longest a unit waits for its callees' docstrings; past it, it is sent without them. A waiting unit holds no model slot",
            },
        ]
    }
}

/// A definition of a file: the key of a unit in the call graph.
pub type UnitKey = (Arc<Path>, String);

/// One callee of a unit, resolved within the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callee {
    /// The callee's file (absolute, normalised) and qualified name.
    pub key: UnitKey,
    /// The name the prompt shows: the qualified name, prefixed with the
    /// module for another file's definition.
    pub name: String,
    /// The summary of its existing docstring.
    pub summary: Option<String>,
    /// A function or method (not a class).
    pub is_function: bool,
}

/// The callees' part of a caller's cache key: each callee's name and the
/// summary of its existing docstring. A summary generated in the same run is
/// not known when the cache is asked (before the model runs), so it is not
/// part of the key.
pub fn callees_fingerprint(callees: &[Callee]) -> String {
    let mut out = String::new();
    for c in callees {
        out.push_str(&c.name);
        out.push('\u{1f}');
        out.push_str(c.summary.as_deref().unwrap_or(""));
        out.push('\n');
    }
    out
}

/// The file a module was found in, or `None` outside the project.
type ModuleFile = Option<Arc<Path>>;

/// Resolves calls into definitions of the repository, reading (once) the
/// other files it needs.
pub struct Resolver {
    base: PathBuf,
    project: PathBuf,
    indexes: Mutex<HashMap<Arc<Path>, Option<Arc<ModuleIndex>>>>,
    /// The file of each module, by importing directory and module name.
    modules: Mutex<HashMap<(PathBuf, String), ModuleFile>>,
}

impl Resolver {
    /// A resolver for paths relative to `base`, reading only files under `project`.
    pub fn new(base: &Path, project: &Path) -> Resolver {
        let base = normalize(base);
        let project = normalize(&base.join(project));
        Resolver {
            base,
            project,
            indexes: Mutex::new(HashMap::new()),
            modules: Mutex::new(HashMap::new()),
        }
    }

    /// `path` made absolute against the base directory, `.` and `..` resolved by name.
    pub fn absolute(&self, path: &Path) -> PathBuf {
        normalize(&self.base.join(path))
    }

    /// The key of `unit`.
    pub fn key(&self, unit: &CodeUnit) -> UnitKey {
        (Arc::from(self.absolute(&unit.path)), unit.qualname.clone())
    }

    /// The index of a file the run read.
    pub fn index_of_file(&self, file: &SourceFile) -> Arc<ModuleIndex> {
        let path: Arc<Path> = Arc::from(self.absolute(&file.path));
        let mut indexes = self.indexes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(Some(index)) = indexes.get(&path) {
            return index.clone();
        }
        let index = Arc::new(ModuleIndex::scan(&file.text));
        indexes.insert(path, Some(index.clone()));
        index
    }

    /// The index of another file of the project, read from disk once.
    fn index_on_disk(&self, path: &Arc<Path>) -> Option<Arc<ModuleIndex>> {
        if let Some(found) = self
            .indexes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(path)
        {
            return found.clone();
        }
        // Read outside the lock; a file that is not UTF-8 gives no callees.
        let index = std::fs::read_to_string(path)
            .ok()
            .map(|text| Arc::new(ModuleIndex::scan(&text)));
        self.indexes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(path.clone())
            .or_insert(index)
            .clone()
    }

    /// The callees of `unit` (a function or method of `file`), each once, in
    /// order of their first call.
    pub fn callees(&self, unit: &CodeUnit, file: &SourceFile) -> Vec<Callee> {
        if !matches!(unit.kind, UnitKind::Function | UnitKind::Method) {
            return Vec::new();
        }
        let index = self.index_of_file(file);
        let Some(def) = index.get(&unit.qualname) else {
            return Vec::new();
        };
        let here: Arc<Path> = Arc::from(self.absolute(&unit.path));
        let mut out: Vec<Callee> = Vec::new();
        for call in &def.calls {
            if out.len() >= MAX_CALLEES {
                break;
            }
            if let Some(c) = self.resolve(&here, &index, unit, call)
                && c.key.1 != unit.qualname
                && !out.iter().any(|o| o.key == c.key)
            {
                out.push(c);
            }
        }
        out
    }

    fn resolve(
        &self,
        here: &Arc<Path>,
        index: &ModuleIndex,
        unit: &CodeUnit,
        call: &str,
    ) -> Option<Callee> {
        let parts: Vec<&str> = call.split('.').collect();
        let local = |qualname: &str| {
            index
                .get(qualname)
                .map(|d| callee(here.clone(), d, d.qualname.clone()))
        };
        match parts.as_slice() {
            [name] => {
                // Enclosing functions' nested definitions, then the module's.
                let scopes: Vec<&str> = unit.qualname.split('.').collect();
                for k in (1..=scopes.len()).rev() {
                    let scope = scopes[..k].join(".");
                    if index
                        .get(&scope)
                        .is_some_and(|d| d.kind == DefKind::Function)
                        && let Some(c) = local(&format!("{scope}.{name}"))
                    {
                        return Some(c);
                    }
                }
                if let Some(c) = local(name) {
                    return Some(c);
                }
                let import = index.binding(name)?;
                let imported = import.name.as_deref()?;
                self.in_module(here, &import.module, imported, &[])
            }
            ["self" | "cls", method] => {
                let class = unit.class_name.as_deref()?;
                local(&format!("{class}.{method}"))
            }
            [first, rest @ ..] => {
                if index.get(first).is_some_and(|d| d.kind == DefKind::Class) {
                    return local(call);
                }
                let import = index.binding(first)?;
                match import.name.as_deref() {
                    // `import a` then `a.b.f()`: module `a.b`, function `f`, or module `a`, `b.f`.
                    None => (0..rest.len()).rev().find_map(|k| {
                        let module = std::iter::once(import.module.as_str())
                            .chain(rest[..k].iter().copied())
                            .collect::<Vec<_>>()
                            .join(".");
                        self.in_module(here, &module, rest[k], &rest[k + 1..])
                    }),
                    // `from m import X` then `X.f()`: X a submodule or a class of m.
                    Some(imported) => {
                        let submodule = if import.module.chars().all(|c| c == '.') {
                            format!("{}{imported}", import.module)
                        } else {
                            format!("{}.{imported}", import.module)
                        };
                        self.in_module(here, &submodule, rest[0], &rest[1..])
                            .or_else(|| self.in_module(here, &import.module, imported, rest))
                    }
                }
            }
            [] => None,
        }
    }

    /// The definition `first.rest...` of `module` as imported from `here`.
    fn in_module(
        &self,
        here: &Arc<Path>,
        module: &str,
        first: &str,
        rest: &[&str],
    ) -> Option<Callee> {
        let path = self.module_path(here, module)?;
        let index = self.index_on_disk(&path)?;
        let qualname = std::iter::once(first)
            .chain(rest.iter().copied())
            .collect::<Vec<_>>()
            .join(".");
        let def = index.get(&qualname)?;
        let shown = module.trim_start_matches('.');
        let name = if shown.is_empty() {
            qualname.clone()
        } else {
            format!("{shown}.{qualname}")
        };
        Some(callee(path, def, name))
    }

    /// The file of `module` imported from the file `here`, within the project.
    fn module_path(&self, here: &Path, module: &str) -> Option<Arc<Path>> {
        let dir = here.parent()?.to_path_buf();
        let cache_key = (dir.clone(), module.to_string());
        if let Some(found) = self
            .modules
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&cache_key)
        {
            return found.clone();
        }
        let dots = module.chars().take_while(|&c| c == '.').count();
        let rel: PathBuf = module[dots..]
            .split('.')
            .filter(|s| !s.is_empty())
            .collect();
        let roots: Vec<PathBuf> = if dots > 0 {
            let mut d = dir.clone();
            for _ in 1..dots {
                d = d.parent()?.to_path_buf();
            }
            vec![d]
        } else {
            dir.ancestors()
                .take_while(|a| a.starts_with(&self.project))
                .map(Path::to_path_buf)
                .collect()
        };
        let found = roots.iter().find_map(|root| {
            let base = root.join(&rel);
            let mut candidates = vec![base.join("__init__.py")];
            if !rel.as_os_str().is_empty() {
                candidates.insert(0, base.with_extension("py"));
            }
            candidates
                .into_iter()
                .find(|c| c.starts_with(&self.project) && c.is_file())
                .map(|c| Arc::from(c.as_path()))
        });
        self.modules
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(cache_key, found.clone());
        found
    }
}

fn callee(path: Arc<Path>, def: &Definition, name: String) -> Callee {
    Callee {
        key: (path, def.qualname.clone()),
        name,
        summary: def.summary.clone(),
        is_function: def.kind == DefKind::Function,
    }
}

/// `.` and `..` resolved by name, without touching the disk.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// How waiting went in a run, for the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaitStats {
    /// Units that waited for at least one callee.
    pub waited: u64,
    /// The longest a unit waited.
    pub longest: Duration,
    /// Units sent without some callee's summary because the bound passed.
    pub timed_out: u64,
    /// Waits not taken because they would have closed a cycle.
    pub cycles: u64,
}

struct Waiter {
    env: Envelope,
    key: UnitKey,
    deps: HashSet<UnitKey>,
    since: Instant,
}

/// The state of the units that reached the generator: which wait, for whom,
/// and the summaries generated so far. Pure bookkeeping: the stage sends
/// what it releases.
#[derive(Default)]
pub struct Board {
    /// Units that arrived and are not finished: waiting or sent.
    active: HashSet<UnitKey>,
    /// Summaries generated in this run (`None`: the unit failed or was skipped).
    done: HashMap<UnitKey, Option<String>>,
    waiters: HashMap<UnitId, Waiter>,
    /// Waiting units by their own key.
    waiting_keys: HashMap<UnitKey, UnitId>,
    /// Waiting units by the key they wait for.
    dependents: HashMap<UnitKey, Vec<UnitId>>,
    /// Files whose pending units all reached the generator.
    arrived: HashSet<Arc<Path>>,
    /// Each unit's callees, until it is finished.
    callees: HashMap<UnitId, Vec<Callee>>,
    input_ended: bool,
    stats: WaitStats,
}

/// One unit offered to the board, with its callees.
pub struct Offer {
    /// The unit.
    pub env: Envelope,
    /// Its key.
    pub key: UnitKey,
    /// Its callees in the repository.
    pub callees: Vec<Callee>,
}

impl Board {
    /// Takes the units of one file (`whole`: all of its pending units) and
    /// returns those that can be sent now; the others wait.
    /// `in_run` says whether a file is among the run's paths.
    pub fn admit(
        &mut self,
        mut offers: Vec<Offer>,
        whole: bool,
        in_run: impl Fn(&Path) -> bool,
        now: Instant,
    ) -> Vec<Envelope> {
        offers.sort_by_key(|o| (o.env.unit.span.start, o.env.unit.line));
        for o in &offers {
            self.active.insert(o.key.clone());
        }
        let file = offers.first().map(|o| o.key.0.clone());
        // Inside the group, units that call each other in a cycle go in source order.
        let position: HashMap<&UnitKey, usize> = offers
            .iter()
            .enumerate()
            .map(|(i, o)| (&o.key, i))
            .collect();
        let edges: Vec<Vec<usize>> = offers
            .iter()
            .map(|o| {
                o.callees
                    .iter()
                    .filter(|c| c.summary.is_none())
                    .filter_map(|c| position.get(&c.key).copied())
                    .collect()
            })
            .collect();
        let component = strongly_connected(&edges);
        let mut ready = Vec::new();
        let mut deps_of: Vec<HashSet<UnitKey>> = Vec::new();
        for (i, o) in offers.iter().enumerate() {
            let mut deps = HashSet::new();
            for c in o.callees.iter().filter(|c| c.summary.is_none()) {
                if self.done.contains_key(&c.key) {
                    continue;
                }
                if let Some(&j) = position.get(&c.key) {
                    if component[j] != component[i] || j < i {
                        deps.insert(c.key.clone());
                    } else if j > i {
                        self.stats.cycles += 1;
                    }
                    continue;
                }
                if self.active.contains(&c.key) {
                    if self.reaches(&c.key, &o.key) {
                        self.stats.cycles += 1;
                    } else {
                        deps.insert(c.key.clone());
                    }
                    continue;
                }
                let same_file = file.as_ref() == Some(&c.key.0);
                let may_come = if same_file {
                    !whole
                } else {
                    !self.arrived.contains(&c.key.0) && in_run(&c.key.0)
                };
                if may_come && !self.input_ended {
                    deps.insert(c.key.clone());
                }
            }
            deps_of.push(deps);
        }
        if whole && let Some(file) = &file {
            self.arrived.insert(file.clone());
        }
        let mut released = Vec::new();
        for (o, deps) in offers.into_iter().zip(deps_of) {
            self.callees.insert(o.env.id, o.callees);
            if deps.is_empty() {
                ready.push(o.env);
                continue;
            }
            for d in &deps {
                self.dependents.entry(d.clone()).or_default().push(o.env.id);
            }
            self.waiting_keys.insert(o.key.clone(), o.env.id);
            self.waiters.insert(
                o.env.id,
                Waiter {
                    env: o.env,
                    key: o.key,
                    deps,
                    since: now,
                },
            );
        }
        // Units of this file that others waited for and that will not come.
        if whole && let Some(file) = &file {
            let gone: Vec<UnitKey> = self
                .dependents
                .keys()
                .filter(|k| &k.0 == file && !self.active.contains(*k))
                .cloned()
                .collect();
            for k in gone {
                released.extend(self.resolved(&k, now));
            }
        }
        ready.extend(released);
        ready
    }

    /// Whether `from` waits, directly or through other waiting units, for `to`.
    fn reaches(&self, from: &UnitKey, to: &UnitKey) -> bool {
        let mut seen = HashSet::new();
        let mut stack = vec![from];
        while let Some(k) = stack.pop() {
            if k == to {
                return true;
            }
            if !seen.insert(k) {
                continue;
            }
            if let Some(w) = self.waiting_keys.get(k).and_then(|id| self.waiters.get(id)) {
                stack.extend(w.deps.iter());
            }
        }
        false
    }

    /// Marks `key` finished, with the summary generated for it, and returns
    /// the units that no longer wait.
    pub fn finished(
        &mut self,
        key: &UnitKey,
        id: UnitId,
        summary: Option<String>,
        now: Instant,
    ) -> Vec<Envelope> {
        self.active.remove(key);
        self.callees.remove(&id);
        self.done.insert(key.clone(), summary);
        self.resolved(key, now)
    }

    /// `key` will not be waited for any more.
    fn resolved(&mut self, key: &UnitKey, now: Instant) -> Vec<Envelope> {
        let mut out = Vec::new();
        for id in self.dependents.remove(key).unwrap_or_default() {
            let empty = match self.waiters.get_mut(&id) {
                Some(w) => {
                    w.deps.remove(key);
                    w.deps.is_empty()
                }
                None => false,
            };
            if empty && let Some(env) = self.release(id, now) {
                out.push(env);
            }
        }
        out
    }

    fn release(&mut self, id: UnitId, now: Instant) -> Option<Envelope> {
        let w = self.waiters.remove(&id)?;
        self.waiting_keys.remove(&w.key);
        for d in &w.deps {
            if let Some(ids) = self.dependents.get_mut(d) {
                ids.retain(|&i| i != id);
            }
        }
        self.stats.waited += 1;
        self.stats.longest = self
            .stats
            .longest
            .max(now.saturating_duration_since(w.since));
        Some(w.env)
    }

    /// The bound passed for unit `id`: it goes without what it waits for.
    pub fn expire(&mut self, id: UnitId, now: Instant) -> Option<Envelope> {
        let env = self.release(id, now)?;
        self.stats.timed_out += 1;
        Some(env)
    }

    /// The input ended: nothing more arrives, so only units already waiting
    /// or sent are waited for.
    pub fn input_ended(&mut self, now: Instant) -> Vec<Envelope> {
        self.input_ended = true;
        let gone: Vec<UnitKey> = self
            .dependents
            .keys()
            .filter(|k| !self.active.contains(*k))
            .cloned()
            .collect();
        let mut out = Vec::new();
        for k in gone {
            out.extend(self.resolved(&k, now));
        }
        out
    }

    /// Every waiting unit, released (nothing is left to wait for).
    pub fn release_all(&mut self, now: Instant) -> Vec<Envelope> {
        let ids: Vec<UnitId> = self.waiters.keys().copied().collect();
        ids.into_iter()
            .filter_map(|id| self.release(id, now))
            .collect()
    }

    /// Whether unit `id` waits.
    pub fn waits(&self, id: UnitId) -> bool {
        self.waiters.contains_key(&id)
    }

    /// The callees of unit `id` with their summaries (existing, or generated
    /// in this run), as `name: summary` lines for the prompt; callees without
    /// one are left out, and at most [`MAX_PROMPT_CALLEES`] are shown.
    pub fn prompt_callees(&self, id: UnitId) -> Vec<(String, String)> {
        let Some(callees) = self.callees.get(&id) else {
            return Vec::new();
        };
        callees
            .iter()
            .filter_map(|c| {
                let summary = c
                    .summary
                    .clone()
                    .or_else(|| self.done.get(&c.key).cloned().flatten())?;
                Some((c.name.clone(), summary))
            })
            .take(MAX_PROMPT_CALLEES)
            .collect()
    }

    /// How waiting went so far.
    pub fn stats(&self) -> WaitStats {
        self.stats
    }
}

/// The strongly connected component of each node of `edges` (Tarjan's
/// algorithm, iterative).
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<usize> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut component = vec![usize::MAX; n];
    let mut next_index = 0;
    let mut next_component = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut call: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&mut (v, ref mut child)) = call.last_mut() {
            if *child == 0 && index[v] == usize::MAX {
                index[v] = next_index;
                low[v] = next_index;
                next_index += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = edges[v].get(*child) {
                *child += 1;
                if index[w] == usize::MAX {
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            call.pop();
            if let Some(&(parent, _)) = call.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = next_component;
                    if w == v {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "from util import helper\n\n\ndef a(x):\n    return b(x) + helper(x) + c(x) + e()\n\n\ndef b(x):\n    return x\n\n\ndef c(x):\n    return d(x)\n\n\ndef d(x):\n    return c(x)\n\n\ndef e():\n    \"\"\"Compute e.\"\"\"\n    return 1\n";

    fn envs(path: &str, text: &str) -> Vec<Envelope> {
        let file = Arc::new(SourceFile::from_text(path, text));
        let units = crate::python::extract(&file).unwrap_or_default();
        let n = units.len();
        units
            .into_iter()
            .enumerate()
            .map(|(i, u)| {
                let mut env = Envelope::new(file.clone(), n, u);
                env.id = i as UnitId + 1000 * path.len() as UnitId;
                env
            })
            .filter(|e| e.unit.kind == UnitKind::Function)
            .collect()
    }

    fn offers(resolver: &Resolver, envs: Vec<Envelope>) -> Vec<Offer> {
        envs.into_iter()
            .map(|env| Offer {
                key: resolver.key(&env.unit),
                callees: resolver.callees(&env.unit, &env.file),
                env,
            })
            .collect()
    }

    fn names(envs: &[Envelope]) -> Vec<&str> {
        envs.iter().map(|e| e.unit.qualname.as_str()).collect()
    }

    fn project() -> (tempfile::TempDir, Resolver) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("a temporary directory: {e}"));
        std::fs::write(dir.path().join("util.py"), "def helper(x):\n    return x\n")
            .unwrap_or_else(|e| panic!("write util.py: {e}"));
        std::fs::write(dir.path().join("a.py"), A).unwrap_or_else(|e| panic!("write a.py: {e}"));
        let resolver = Resolver::new(dir.path(), dir.path());
        (dir, resolver)
    }

    #[test]
    fn resolves_calls_by_name_import_and_class() {
        let (_dir, resolver) = project();
        let a = envs("a.py", A);
        let callees = resolver.callees(&a[0].unit, &a[0].file);
        let shown: Vec<(&str, Option<&str>)> = callees
            .iter()
            .map(|c| (c.name.as_str(), c.summary.as_deref()))
            .collect();
        assert_eq!(
            shown,
            [
                ("b", None),
                ("util.helper", None),
                ("c", None),
                ("e", Some("Compute e."))
            ]
        );
        assert!(callees[1].key.0.ends_with("util.py"));
        let method = "class K:\n    def m(self):\n        return self.n() + K.n(self)\n\n    def n(self):\n        pass\n";
        let file = SourceFile::from_text("k.py", method);
        let units = crate::python::extract(&file).unwrap_or_default();
        let m = units
            .iter()
            .find(|u| u.qualname == "K.m")
            .map(|u| resolver.callees(u, &file));
        assert_eq!(
            m.map(|c| c.iter().map(|c| c.name.clone()).collect::<Vec<_>>()),
            Some(vec!["K.n".to_string()])
        );
    }

    #[test]
    fn a_caller_waits_for_its_callees_and_sees_their_summaries() {
        let (_dir, resolver) = project();
        let mut board = Board::default();
        let now = Instant::now();
        let a = envs("a.py", A);
        let a_id = a[0].id;
        let ready = board.admit(offers(&resolver, a), true, |_| true, now);
        // b and e call nothing; c waits for nothing (d comes after it, in a
        // cycle); a waits for b, c and util.helper; d waits for c.
        assert_eq!(names(&ready), ["b", "c", "e"]);
        assert_eq!(board.stats().cycles, 1);
        let key = |q: &str| {
            (
                Arc::from(resolver.absolute(Path::new("a.py"))),
                q.to_string(),
            )
        };
        let released = board.finished(&key("b"), 0, Some("Echo x.".into()), now);
        assert!(released.is_empty(), "a still waits for util.helper");
        let released = board.finished(&key("c"), 0, Some("Return x.".into()), now);
        assert_eq!(names(&released), ["d"]);
        // util.py never reaches the generator: the input's end releases a.
        let released = board.input_ended(now);
        assert_eq!(names(&released), ["a"]);
        assert_eq!(
            board.prompt_callees(a_id),
            [
                ("b".to_string(), "Echo x.".to_string()),
                ("c".to_string(), "Return x.".to_string()),
                ("e".to_string(), "Compute e.".to_string())
            ]
        );
        assert_eq!(board.stats().waited, 2);
        assert!(!board.waits(a_id));
    }

    #[test]
    fn no_wait_for_files_outside_the_run_nor_past_the_bound() {
        let (_dir, resolver) = project();
        let mut board = Board::default();
        let now = Instant::now();
        let mut a = envs("a.py", A);
        a.truncate(1);
        let id = a[0].id;
        // Alone (not the whole file) and util.py outside the run: a waits
        // for b and c, which may still come.
        let ready = board.admit(
            offers(&resolver, a),
            false,
            |p| !p.ends_with("util.py"),
            now,
        );
        assert!(ready.is_empty());
        assert!(board.waits(id));
        let expired = board.expire(id, now + Duration::from_millis(5));
        assert_eq!(names(&expired.into_iter().collect::<Vec<_>>()), ["a"]);
        assert_eq!(board.stats().timed_out, 1);
        assert_eq!(board.stats().longest, Duration::from_millis(5));
    }

    #[test]
    fn a_wait_that_would_close_a_cycle_across_files_is_not_taken() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("a temporary directory: {e}"));
        let x = "from y import g\n\ndef f():\n    return g()\n";
        let y = "from x import f\n\ndef g():\n    return f()\n";
        std::fs::write(dir.path().join("x.py"), x).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("y.py"), y).unwrap_or_else(|e| panic!("{e}"));
        let resolver = Resolver::new(dir.path(), dir.path());
        let mut board = Board::default();
        let now = Instant::now();
        assert!(
            board
                .admit(offers(&resolver, envs("x.py", x)), true, |_| true, now)
                .is_empty()
        );
        let ready = board.admit(offers(&resolver, envs("y.py", y)), true, |_| true, now);
        assert_eq!(names(&ready), ["g"]);
        assert_eq!(board.stats().cycles, 1);
    }

    #[test]
    fn strongly_connected_components() {
        let c = strongly_connected(&[vec![1], vec![0, 2], vec![], vec![3]]);
        assert_eq!(c[0], c[1]);
        assert_ne!(c[0], c[2]);
        assert_ne!(c[2], c[3]);
    }
}
