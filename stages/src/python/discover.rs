//! The `python-source` stage: finds Python files under the given paths and
//! emits them decoded.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use docpipe_core::executor::Emitter;
use docpipe_core::model::{Item, SourceFile};
use docpipe_core::registry::{BuildError, OptionDoc, StageOptions};
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
    /// Globs of files and directories to leave out, relative to the walked directory.
    pub exclude: Vec<String>,
    /// Honour `.gitignore`, `.git/info/exclude` and `.ignore` files.
    pub follow_gitignore: bool,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            paths: vec![".".into()],
            include: vec!["**/*.py".into()],
            exclude: Vec::new(),
            follow_gitignore: true,
        }
    }
}

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
                default: Some("[]"),
                doc: "Globs of files or directories to skip, relative to each walked directory (\"tests/**\", \"**/_vendor\").",
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
pub struct PythonSource {
    paths: Vec<PathBuf>,
    include: GlobSet,
    exclude: GlobSet,
    follow_gitignore: bool,
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
        let paths = if run.paths.is_empty() {
            options.paths.iter().map(PathBuf::from).collect()
        } else {
            run.paths.clone()
        };
        Ok(PythonSource {
            paths,
            include: globset("include", &options.include)?,
            exclude: globset("exclude", &options.exclude)?,
            follow_gitignore: options.follow_gitignore,
        })
    }

    /// Every file this source would read, in walk order (sorted by name), and
    /// the problems met on the way. Blocking.
    pub fn discover(&self, cancel: &CancellationToken, mut found: impl FnMut(Found) -> bool) {
        for root in &self.paths {
            if cancel.is_cancelled() {
                return;
            }
            match std::fs::metadata(root) {
                Err(e) => {
                    if !found(Found::Problem(
                        root.clone(),
                        DecodeError::Io(format!("cannot open `{}`: {e}", root.display())),
                    )) {
                        return;
                    }
                    continue;
                }
                Ok(m) if m.is_file() => {
                    if !found(Found::File(root.clone())) {
                        return;
                    }
                    continue;
                }
                Ok(_) => {}
            }
            let canonical_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.clone());
            let exclude = self.exclude.clone();
            let filter_root = root.clone();
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
                    rel.as_os_str().is_empty() || !exclude.is_match(rel)
                })
                .build();
            for entry in walk {
                if cancel.is_cancelled() {
                    return;
                }
                let entry = match entry {
                    Ok(e) => e,
                    Err(e) => {
                        let path = error_path(&e).unwrap_or_else(|| root.clone());
                        if !found(Found::Problem(path, DecodeError::Io(e.to_string()))) {
                            return;
                        }
                        continue;
                    }
                };
                let path = entry.path();
                let rel = path.strip_prefix(root).unwrap_or(path);
                if !self.include.is_match(rel) {
                    continue;
                }
                let is_file = match entry.file_type() {
                    Some(t) if t.is_file() => true,
                    Some(t) if t.is_symlink() => symlink_stays_inside(path, &canonical_root),
                    _ => false,
                };
                if is_file && !found(Found::File(path.to_path_buf())) {
                    return;
                }
            }
        }
    }
}

/// A symlink is read only when it points at a file inside the walked tree.
fn symlink_stays_inside(path: &Path, canonical_root: &Path) -> bool {
    match std::fs::canonicalize(path) {
        Ok(target) => target.starts_with(canonical_root) && target.is_file(),
        Err(_) => false,
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
        let walker = PythonSource {
            paths: self.paths.clone(),
            include: self.include.clone(),
            exclude: self.exclude.clone(),
            follow_gitignore: self.follow_gitignore,
        };
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
            stats.files_listed(&stage, listed.len() as u64);
            if listed.is_empty() && !cancel.is_cancelled() {
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
