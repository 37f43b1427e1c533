//! The `python-source` stage: finds Python files under the given paths and
//! emits them decoded.
//!
//! Each file is read once, whatever the number of names it has: a symbolic
//! link whose target lies in the walked tree (for a path named on the
//! command line: in the working directory) is read under the target's path,
//! and a file met again (through a second link, a hard link, or a path
//! given twice) is skipped. A link to a file outside the tree is read under
//! its own name so that `check` sees it; the writer never writes through it.
//! Directories a project never wants checked are excluded by default, as ruff
//! excludes them, even without ignore files.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use docpipe_core::executor::Emitter;
use docpipe_core::model::{Item, SourceFile};
use docpipe_core::registry::{BuildError, OptionDoc, StageOptions};
use docpipe_core::selection::Selection;
use docpipe_core::stage::{RunOptions, Source, StageContext, StageError};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::{DecodeError, file_finding, read_source_detailed};

/// Options of `python-source`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceOptions {
    /// Files and directories to walk; paths given on the command line replace them.
    pub paths: Vec<String>,
    /// Globs a file must match, relative to the walked directory.
    pub include: Vec<String>,
    /// Globs of files and directories to leave out (replaces the defaults).
    pub exclude: Vec<String>,
    /// Globs to leave out on top of `exclude`.
    pub extend_exclude: Vec<String>,
    /// Honour `.gitignore`, `.git/info/exclude` and `.ignore` files.
    pub follow_gitignore: bool,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            paths: vec![".".into()],
            include: vec!["**/*.py".into()],
            exclude: DEFAULT_EXCLUDE.iter().map(|s| s.to_string()).collect(),
            extend_exclude: Vec::new(),
            follow_gitignore: true,
        }
    }
}

/// What `exclude` is unless set: ruff's default excludes, as names of a
/// file or directory at any depth.
pub const DEFAULT_EXCLUDE: [&str; 15] = [
    ".venv",
    "venv",
    "site-packages",
    "__pycache__",
    "build",
    "dist",
    ".tox",
    ".nox",
    ".eggs",
    "node_modules",
    ".git",
    ".hg",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
];

impl StageOptions for SourceOptions {
    fn describe() -> Vec<OptionDoc> {
        vec![
            OptionDoc {
                name: "paths",
                ty: "[string]",
                default: Some("[\".\"]"),
                doc: "Files and directories to walk, relative to the working directory; paths given on the command line replace them. A file named here is read even if an ignore file or `exclude` would skip it.",
            },
            OptionDoc {
                name: "include",
                ty: "[string]",
                default: Some("[\"**/*.py\"]"),
                doc: "Globs (relative to each walked directory) a file must match. Stubs are left out like interrogate does; add \"**/*.pyi\" to check them.",
            },
            OptionDoc {
                name: "exclude",
                ty: "[string]",
                default: Some(
                    "[\".venv\", \"venv\", \"site-packages\", \"__pycache__\", \"build\", \"dist\", \".tox\", \".nox\", \".eggs\", \"node_modules\", \".git\", \".hg\", \".mypy_cache\", \".ruff_cache\", \".pytest_cache\"]",
                ),
                doc: "Globs of files or directories to skip, matched against each name in a path and against the path relative to the walked directory (\"tests/**\", \"**/_vendor\"). Setting it replaces the defaults, as in ruff; use `extend_exclude` to add to them. A directory holding `pyvenv.cfg` (a virtual environment of any name) is always skipped. Paths named on the command line are read anyway unless `--force-exclude` is given.",
            },
            OptionDoc {
                name: "extend_exclude",
                ty: "[string]",
                default: Some("[]"),
                doc: "Globs to skip in addition to `exclude`.",
            },
            OptionDoc {
                name: "follow_gitignore",
                ty: "bool",
                default: Some("true"),
                doc: "Skip what .gitignore, .git/info/exclude and .ignore files exclude. Hidden files and directories are always skipped.",
            },
        ]
    }
}

/// The `python-source` stage, built with validated globs.
#[derive(Clone)]
pub struct PythonSource {
    paths: Vec<PathBuf>,
    /// Whether `paths` came from the command line (then excludes apply only with `force_exclude`).
    explicit: bool,
    include: GlobSet,
    exclude: GlobSet,
    follow_gitignore: bool,
    force_exclude: bool,
    /// The working directory: the tree of a path named on the command line.
    base_dir: PathBuf,
    /// What the command line narrowed the run to, applied to what the walk
    /// found (so that excludes and ignore files still apply): never widens.
    selection: Option<Arc<Selection>>,
}

fn globset(key: &str, globs: &[String]) -> Result<GlobSet, BuildError> {
    let mut builder = GlobSetBuilder::new();
    for g in globs {
        let glob = Glob::new(g).map_err(|e| {
            BuildError::option(key, format!("invalid glob `{g}`: {e}"))
                .with_help("use globs such as \"**/*.py\" or \"tests/**\"")
        })?;
        builder.add(glob);
    }
    builder
        .build()
        .map_err(|e| BuildError::option(key, format!("invalid globs: {e}")))
}

impl PythonSource {
    /// Builds the stage; the command line's paths (in `run`) replace the option's.
    pub fn new(options: SourceOptions, run: &RunOptions) -> Result<PythonSource, BuildError> {
        let explicit = !run.paths.is_empty();
        let paths = if explicit {
            run.paths.clone()
        } else {
            options.paths.iter().map(PathBuf::from).collect()
        };
        let mut exclude = options.exclude.clone();
        exclude.extend(options.extend_exclude.iter().cloned());
        let key = if options.extend_exclude.is_empty() {
            "exclude"
        } else {
            "extend_exclude"
        };
        let base_dir = if run.base_dir.as_os_str().is_empty() {
            std::env::current_dir().unwrap_or_default()
        } else {
            run.base_dir.clone()
        };
        Ok(PythonSource {
            paths,
            explicit,
            include: globset("include", &options.include)?,
            exclude: globset(key, &exclude)?,
            follow_gitignore: options.follow_gitignore,
            force_exclude: run.force_exclude,
            base_dir,
            selection: run.selection.clone(),
        })
    }

    /// Whether an exclude glob matches `path` (relative to a walked
    /// directory) or the name of any of its components.
    fn excluded(&self, path: &Path) -> bool {
        self.exclude.is_match(path)
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::Normal(n) if self.exclude.is_match(n)))
    }

    /// Every file this source would read, in walk order (sorted by name), and
    /// the problems met on the way. Blocking.
    pub fn discover(&self, cancel: &CancellationToken, mut found: impl FnMut(Found) -> bool) {
        let mut seen = Seen::default();
        for root in &self.paths {
            if cancel.is_cancelled() {
                return;
            }
            let meta = match std::fs::metadata(root) {
                Ok(m) => m,
                Err(e) => {
                    if !found(Found::Problem(
                        root.clone(),
                        DecodeError::Io(format!("cannot open `{}`: {e}", root.display())),
                    )) {
                        return;
                    }
                    continue;
                }
            };
            if !meta.is_dir() {
                if self.explicit
                    && self.force_exclude
                    && self.excluded(&self.relative_to_base(root))
                {
                    continue;
                }
                let item = if meta.is_file() {
                    self.named_file(root, &mut seen)
                } else {
                    Some(Found::Problem(
                        root.clone(),
                        DecodeError::Io(format!(
                            "`{}` is not a regular file or a directory ({})",
                            root.display(),
                            file_kind(&meta)
                        )),
                    ))
                };
                if let Some(item) = item
                    && !found(item)
                {
                    return;
                }
                continue;
            }
            if self.explicit && self.force_exclude && self.excluded(&self.relative_to_base(root)) {
                continue;
            }
            if !self.walk(root, cancel, &mut seen, &mut found) {
                return;
            }
        }
    }

    /// Walks the directory `root`; `false` when `found` asked to stop.
    fn walk(
        &self,
        root: &Path,
        cancel: &CancellationToken,
        seen: &mut Seen,
        found: &mut impl FnMut(Found) -> bool,
    ) -> bool {
        let canonical_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let source = self.clone();
        let filter_root = root.to_path_buf();
        let walk = ignore::WalkBuilder::new(root)
            .hidden(true)
            .git_ignore(self.follow_gitignore)
            .git_exclude(self.follow_gitignore)
            .git_global(false)
            .ignore(self.follow_gitignore)
            .require_git(false)
            .parents(self.follow_gitignore)
            .follow_links(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .filter_entry(move |e| {
                let rel = e.path().strip_prefix(&filter_root).unwrap_or(e.path());
                if rel.as_os_str().is_empty() {
                    return true;
                }
                // A virtual environment of any name.
                let venv = e.file_type().is_some_and(|t| t.is_dir())
                    && e.path().join("pyvenv.cfg").is_file();
                !venv && !source.excluded(rel)
            })
            .build();
        for entry in walk {
            if cancel.is_cancelled() {
                return false;
            }
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let path = error_path(&e).unwrap_or_else(|| root.to_path_buf());
                    if !found(Found::Problem(path, DecodeError::Io(e.to_string()))) {
                        return false;
                    }
                    continue;
                }
            };
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap_or(path);
            if !self.include.is_match(rel) {
                continue;
            }
            let item = match entry.file_type() {
                Some(t) if t.is_dir() => None,
                Some(t) if t.is_symlink() => {
                    let inside = Some((root, canonical_root.as_path()));
                    self.link(path, inside, seen)
                }
                _ => match entry.metadata() {
                    Ok(m) if m.is_file() => seen.first(&m).then(|| Found::File(path.to_path_buf())),
                    Ok(m) => Some(Found::Problem(
                        path.to_path_buf(),
                        DecodeError::Io(format!("not a regular file ({})", file_kind(&m))),
                    )),
                    Err(e) => Some(Found::Problem(
                        path.to_path_buf(),
                        DecodeError::Io(e.to_string()),
                    )),
                },
            };
            if let Some(item) = item
                && !found(item)
            {
                return false;
            }
        }
        true
    }

    /// A file named on the command line (or in `paths`): a link into the
    /// working directory is read under its target's path.
    fn named_file(&self, path: &Path, seen: &mut Seen) -> Option<Found> {
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        if !is_link {
            let meta = std::fs::metadata(path).ok()?;
            return seen.first(&meta).then(|| Found::File(path.to_path_buf()));
        }
        let base = std::fs::canonicalize(&self.base_dir).unwrap_or_else(|_| self.base_dir.clone());
        let tree = if path.is_absolute() {
            (base.as_path(), base.as_path())
        } else {
            (Path::new(""), base.as_path())
        };
        self.link(path, Some(tree), seen)
    }

    /// A symbolic link at `path`: its target's path when the target is a
    /// regular file inside `tree` (the tree as named, and its canonical
    /// path), the link's own path when the target lies outside (the writer
    /// will not write through it), a problem when it leads nowhere readable.
    fn link(&self, path: &Path, tree: Option<(&Path, &Path)>, seen: &mut Seen) -> Option<Found> {
        let target = match std::fs::canonicalize(path) {
            Ok(t) => t,
            Err(e) => {
                return Some(Found::Problem(
                    path.to_path_buf(),
                    DecodeError::Io(format!("a symbolic link that leads nowhere: {e}")),
                ));
            }
        };
        let meta = match std::fs::metadata(&target) {
            Ok(m) if m.is_file() => m,
            Ok(m) if m.is_dir() => return None,
            Ok(m) => {
                return Some(Found::Problem(
                    path.to_path_buf(),
                    DecodeError::Io(format!(
                        "a symbolic link to {}, which is not a regular file ({})",
                        target.display(),
                        file_kind(&m)
                    )),
                ));
            }
            Err(e) => {
                return Some(Found::Problem(
                    path.to_path_buf(),
                    DecodeError::Io(e.to_string()),
                ));
            }
        };
        if !seen.first(&meta) {
            return None;
        }
        let inside = tree.and_then(|(named, canonical)| {
            target
                .strip_prefix(canonical)
                .ok()
                .map(|rel| named.join(rel))
        });
        Some(Found::File(inside.unwrap_or_else(|| path.to_path_buf())))
    }

    /// `path` relative to the working directory when it lies inside it.
    fn relative_to_base(&self, path: &Path) -> PathBuf {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        absolute
            .strip_prefix(&self.base_dir)
            .map(Path::to_path_buf)
            .unwrap_or(absolute)
    }
}

/// The files already found, by device and inode: each file is read once.
#[derive(Default)]
struct Seen(HashSet<(u64, u64)>);

impl Seen {
    /// Whether the file with metadata `meta` is met for the first time.
    #[cfg(unix)]
    fn first(&mut self, meta: &std::fs::Metadata) -> bool {
        use std::os::unix::fs::MetadataExt;
        self.0.insert((meta.dev(), meta.ino()))
    }

    #[cfg(not(unix))]
    fn first(&mut self, _meta: &std::fs::Metadata) -> bool {
        true
    }
}

/// What kind of file `meta` describes, in words.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else if meta.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

fn error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}

/// What the walk met.
#[derive(Debug)]
pub enum Found {
    /// A file to read.
    File(PathBuf),
    /// A path that could not be walked.
    Problem(PathBuf, DecodeError),
}

type Read = Result<SourceFile, (PathBuf, DecodeError)>;

/// Files read ahead of the extractor, at most.
const READ_AHEAD: usize = 64;
/// Files handed over at a time.
const BATCH: usize = 16;

#[async_trait]
impl Source for PythonSource {
    async fn run(&mut self, ctx: &StageContext, out: &Emitter) -> Result<(), StageError> {
        // Files go over in batches: a wake-up per file had the reading thread
        // preempt a parsing worker about once per file.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Read>>(READ_AHEAD / BATCH);
        let walker = self.clone();
        let cancel = ctx.cancel.clone();
        let (stats, stage) = (ctx.stats.clone(), ctx.name.clone());
        // Walking and reading block: they run on a blocking thread feeding the emitter.
        let handle = tokio::task::spawn_blocking(move || {
            // The whole walk first (it takes milliseconds where reading and
            // parsing take seconds), so that the run's size is known before
            // the first file is read: every path found ends up emitted or
            // reported.
            let mut listed = Vec::new();
            walker.discover(&cancel, |found| {
                listed.push(found);
                true
            });
            let walked = listed.len();
            if let Some(selection) = &walker.selection {
                listed.retain(|found| match found {
                    Found::File(path) | Found::Problem(path, _) => selection.admits_file(path),
                });
                tracing::info!(
                    "{} of {} files selected ({})",
                    listed.len(),
                    walked,
                    selection.describe()
                );
            }
            stats.files_listed(&stage, listed.len() as u64);
            if walked == 0 && !cancel.is_cancelled() {
                let roots: Vec<String> = walker
                    .paths
                    .iter()
                    .map(|p| format!("`{}`", docpipe_core::printable::path(p)))
                    .collect();
                tracing::warn!("no Python files found under {}", roots.join(", "));
            }
            let mut batch = Vec::with_capacity(BATCH);
            for found in listed {
                if cancel.is_cancelled() {
                    return;
                }
                batch.push(match found {
                    Found::File(path) => read_source_detailed(&path).map_err(|e| (path, e)),
                    Found::Problem(path, e) => Err((path, e)),
                });
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    if tx.blocking_send(full).is_err() {
                        return;
                    }
                }
            }
            if !batch.is_empty() {
                let _ = tx.blocking_send(batch);
            }
        });
        'batches: loop {
            let next = tokio::select! {
                r = rx.recv() => r,
                _ = ctx.cancel.cancelled() => None,
            };
            let Some(batch) = next else { break };
            for read in batch {
                if ctx.cancel.is_cancelled() {
                    break 'batches;
                }
                match read {
                    Ok(file) => out.send(Item::File(Arc::new(file))).await?,
                    Err((path, e)) => {
                        let fix = match e {
                            DecodeError::Io(_) => "check that the file exists and is readable",
                            _ => "save the file as UTF-8 (or declare its coding on line 1 or 2)",
                        };
                        ctx.diagnostics
                            .push(path, file_finding(e.code(), e.to_string(), e.line(), fix));
                    }
                }
            }
        }
        drop(rx);
        handle
            .await
            .map_err(|e| StageError::fatal(format!("the file walker panicked: {e}")))?;
        Ok(())
    }
}
