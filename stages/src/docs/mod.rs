//! The `docs-markdown` sink: Markdown API documentation from the units of a
//! run, one page per module (classes with their methods, functions, their
//! signatures and docstrings) plus an `index.md` listing the modules.
//!
//! Units pass through unchanged (kept); the pages are written when the input
//! ends. With `--check` nothing is written and the run fails when a page
//! would change; with `--diff` the changes are printed instead.

pub mod markdown;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use docpipe_core::model::{CodeUnit, DocModel, Envelope, ItemKind, UnitState};
use docpipe_core::printable;
use docpipe_core::registry::{
    BuildContext, BuildError, DefaultConcurrency, OptionDoc, Registry, StageOptions, StageRole,
    StageSpec,
};
use docpipe_core::stage::{
    BuiltStage, RunFlag, Sink, SinkFinish, SinkSummary, StageContext, StageError, WriteMode,
};
use docpipe_core::style::Style;
use serde::Deserialize;

pub use markdown::{ModulePage, clean_docstring, github_anchor, render_index, render_module};

/// The stage type name.
pub const STAGE_TYPE: &str = "docs-markdown";

/// Options of `docs-markdown`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocsOptions {
    /// Directory the pages go to, relative to the working directory.
    pub out_dir: PathBuf,
    /// Also document names starting with an underscore.
    #[serde(default)]
    pub private: bool,
}

impl StageOptions for DocsOptions {
    fn describe() -> Vec<OptionDoc> {
        vec![
            OptionDoc {
                name: "out_dir",
                ty: "string",
                default: None,
                doc: "Directory the Markdown pages go to (relative to the working directory); created when missing",
            },
            OptionDoc {
                name: "private",
                ty: "bool",
                default: Some("false"),
                doc: "Also document classes and functions whose names start with `_` (special methods such as `__init__` are always documented)",
            },
        ]
    }
}

pub(crate) fn register(registry: &mut Registry) {
    registry
        .add_stage::<DocsOptions, _>(
            StageSpec {
                type_name: STAGE_TYPE,
                role: StageRole::Sink,
                summary: "Writes Markdown API documentation, one page per module plus an index",
                input: Some(ItemKind::Unit),
                ports: Vec::new(),
                default_concurrency: DefaultConcurrency::One,
                sections: vec!["style"],
            },
            build,
        )
        .reads(&[RunFlag::Check, RunFlag::Diff]);
}

fn build(options: DocsOptions, ctx: &BuildContext<'_>) -> Result<BuiltStage, BuildError> {
    if options.out_dir.as_os_str().is_empty() {
        return Err(BuildError::option("out_dir", "`out_dir` is empty")
            .with_help("name the directory the pages go to, such as `out_dir = \"docs/api\"`"));
    }
    // The pages' paths and the index are made from every module of the run:
    // a run narrowed to some files would drop the others from the index.
    if let Some(flag) = ctx.run.selection.as_ref().and_then(|s| s.flags().first()) {
        return Err(BuildError::flag(
            *flag,
            format!(
                "`{STAGE_TYPE}` writes an index of every module, and `{flag}` would leave the modules it does not select out of it"
            ),
        )
        .with_help("run the docs pipeline over the whole project, without --changed-since, --shard or --only-failed"));
    }
    let (style, _) = crate::writer::style_from_context(ctx)?;
    Ok(BuiltStage::Sink(Box::new(
        MarkdownDocs::new(options, style).with_mode(ctx.run.write_mode),
    )))
}

/// One documented unit, as the pages need it.
#[derive(Debug, Clone)]
struct Entry {
    unit: Arc<CodeUnit>,
    doc: Option<DocModel>,
}

/// The `docs-markdown` sink. See the module documentation.
pub struct MarkdownDocs {
    options: DocsOptions,
    style: Arc<dyn Style>,
    modules: BTreeMap<PathBuf, Vec<Entry>>,
    mode: WriteMode,
}

impl MarkdownDocs {
    /// A sink writing to `options.out_dir`, parsing docstrings with `style`.
    pub fn new(options: DocsOptions, style: Arc<dyn Style>) -> MarkdownDocs {
        MarkdownDocs {
            options,
            style,
            modules: BTreeMap::new(),
            mode: WriteMode::InPlace,
        }
    }

    /// Writes the pages (`InPlace`), prints their diffs, or only says which would change.
    pub fn with_mode(mut self, mode: WriteMode) -> MarkdownDocs {
        self.mode = mode;
        self
    }

    fn doc_of(&self, env: &Envelope) -> Option<DocModel> {
        if let Some(d) = &env.draft {
            return Some((**d).clone());
        }
        if let Some(d) = &env.existing {
            return Some((**d).clone());
        }
        env.unit
            .docstring
            .as_ref()
            .map(|d| self.style.parse(&clean_docstring(&d.value)))
    }
}

#[async_trait]
impl Sink for MarkdownDocs {
    async fn consume(
        &mut self,
        mut env: Envelope,
        _ctx: &StageContext,
    ) -> Result<Vec<Envelope>, StageError> {
        let doc = self.doc_of(&env);
        self.modules
            .entry(env.unit.path.clone())
            .or_default()
            .push(Entry {
                unit: env.unit.clone(),
                doc,
            });
        if env.state == UnitState::Pending {
            env.state = UnitState::Kept;
        }
        Ok(vec![env])
    }

    async fn finish(
        &mut self,
        _ctx: &StageContext,
        cancelled: bool,
    ) -> Result<SinkFinish, StageError> {
        if cancelled {
            return Ok(SinkFinish::default());
        }
        let modules = std::mem::take(&mut self.modules);
        let options = self.options.clone();
        let mode = self.mode;
        let out_dir = options.out_dir.clone();
        let summary = tokio::task::spawn_blocking(move || {
            let pages = render_pages(&options, modules);
            match mode {
                WriteMode::InPlace => write_pages(&pages).map(|written| SinkSummary {
                    problems: 0,
                    files_written: written,
                    headline: Some(format!(
                        "{} written to {}",
                        printable::count(written, "page", "pages"),
                        printable::path(&out_dir)
                    )),
                }),
                // As for the writer: `--check` fails when a page would change, `--diff` only shows it.
                WriteMode::Check | WriteMode::Diff => {
                    let changed = compare_pages(&pages, mode);
                    Ok(SinkSummary {
                        problems: changed * u64::from(mode == WriteMode::Check),
                        files_written: 0,
                        headline: Some(format!(
                            "{} would change in {}",
                            printable::count(changed, "page", "pages"),
                            printable::path(&out_dir)
                        )),
                    })
                }
            }
        })
        .await
        .map_err(|e| {
            StageError::fatal(format!(
                "writing the Markdown pages stopped unexpectedly: {e}"
            ))
        })??;
        Ok(SinkFinish {
            summary,
            released: Vec::new(),
        })
    }
}

/// Every page with the file it goes to: one per module, then the index.
fn render_pages(
    options: &DocsOptions,
    modules: BTreeMap<PathBuf, Vec<Entry>>,
) -> Vec<(PathBuf, String)> {
    let rel_paths = page_paths(modules.keys().map(PathBuf::as_path));
    let mut pages = Vec::with_capacity(modules.len());
    for ((path, mut entries), rel) in modules.into_iter().zip(rel_paths) {
        entries.sort_by_key(|e| e.unit.span.start);
        let units: Vec<(&CodeUnit, Option<&DocModel>)> = entries
            .iter()
            .filter(|e| options.private || !is_private(&e.unit))
            .filter(|e| !e.unit.nested)
            .map(|e| (e.unit.as_ref(), e.doc.as_ref()))
            .collect();
        let page = ModulePage::new(&path, &rel, &units);
        pages.push((rel, page));
    }
    let mut out: Vec<(PathBuf, String)> = pages
        .iter()
        .map(|(rel, page)| {
            (
                options.out_dir.join(rel.with_extension("md")),
                render_module(page),
            )
        })
        .collect();
    let index: Vec<&ModulePage> = pages.iter().map(|(_, p)| p).collect();
    out.push((options.out_dir.join("index.md"), render_index(&index)));
    out
}

/// Writes every page; returns how many files were written.
fn write_pages(pages: &[(PathBuf, String)]) -> Result<u64, StageError> {
    for (target, text) in pages {
        write_file(target, text)?;
    }
    Ok(pages.len() as u64)
}

/// `--check` and `--diff`: writes nothing; says which pages would change
/// (on stderr) or prints their diffs (on stdout); returns how many would.
fn compare_pages(pages: &[(PathBuf, String)], mode: WriteMode) -> u64 {
    let mut changed = 0;
    for (target, text) in pages {
        let old = std::fs::read_to_string(target).unwrap_or_default();
        if old == *text {
            continue;
        }
        changed += 1;
        if mode == WriteMode::Diff {
            print!("{}", crate::writer::unified_diff(target, &old, text));
        } else {
            eprintln!("would change: {}", target.display());
        }
    }
    changed
}

fn write_file(target: &Path, text: &str) -> Result<(), StageError> {
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            StageError::fatal(format!(
                "cannot create the directory {}: {e}; check `out_dir` and its permissions",
                dir.display()
            ))
        })?;
    }
    std::fs::write(target, text).map_err(|e| {
        StageError::fatal(format!(
            "cannot write {}: {e}; check `out_dir` and its permissions",
            target.display()
        ))
    })
}

/// Whether a unit (or a class or function it sits in) is private by name.
fn is_private(unit: &CodeUnit) -> bool {
    unit.qualname
        .split('.')
        .any(|part| part.starts_with('_') && !(part.starts_with("__") && part.ends_with("__")))
}

/// Where each module's page goes, relative to `out_dir`: its import path
/// (`pkg/sub/mod.py` for `pkg.sub.mod`, found by walking up the directories
/// that hold an `__init__.py`); when two modules would share a page, every
/// module's path below the directory they all share.
fn page_paths<'a>(paths: impl Iterator<Item = &'a Path> + Clone) -> Vec<PathBuf> {
    let by_import: Vec<PathBuf> = paths.clone().map(import_path).collect();
    let mut seen = std::collections::HashSet::new();
    if by_import.iter().all(|p| seen.insert(p.clone())) {
        return by_import;
    }
    shared_root_paths(paths)
}

/// `pkg/sub/mod.py` for a file in package directories `pkg/sub`.
fn import_path(path: &Path) -> PathBuf {
    let mut parts = Vec::new();
    if let Some(name) = path.file_name() {
        parts.push(name.to_os_string());
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        let Some(name) = d.file_name() else { break };
        if !d.join("__init__.py").is_file() {
            break;
        }
        parts.push(name.to_os_string());
        dir = d.parent();
    }
    parts.iter().rev().collect()
}

/// Each path as given when all are plain relative paths, otherwise below the
/// directory they all share.
fn shared_root_paths<'a>(paths: impl Iterator<Item = &'a Path> + Clone) -> Vec<PathBuf> {
    let plain = |p: &Path| {
        p.components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    };
    if paths.clone().all(plain) {
        return paths
            .map(|p| {
                p.components()
                    .filter(|c| matches!(c, Component::Normal(_)))
                    .collect()
            })
            .collect();
    }
    let dirs: Vec<PathBuf> = paths
        .clone()
        .map(|p| p.parent().map(Path::to_path_buf).unwrap_or_default())
        .collect();
    let mut common = dirs.first().cloned().unwrap_or_default();
    for d in &dirs {
        while !d.starts_with(&common) {
            if !common.pop() {
                break;
            }
        }
    }
    paths
        .map(|p| {
            let rel = p.strip_prefix(&common).unwrap_or(p);
            rel.components()
                .filter_map(|c| match c {
                    Component::Normal(n) => Some(n.to_os_string()),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_kept_and_absolute_ones_share_a_root() {
        let rel = [PathBuf::from("./pkg/mod.py"), PathBuf::from("top.py")];
        assert_eq!(
            shared_root_paths(rel.iter().map(PathBuf::as_path)),
            [PathBuf::from("pkg/mod.py"), PathBuf::from("top.py")]
        );
        let abs = [
            PathBuf::from("/x/src/pkg/a.py"),
            PathBuf::from("/x/src/b.py"),
        ];
        assert_eq!(
            shared_root_paths(abs.iter().map(PathBuf::as_path)),
            [PathBuf::from("pkg/a.py"), PathBuf::from("b.py")]
        );
    }
}
