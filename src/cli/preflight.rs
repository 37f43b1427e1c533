//! What `docpipe run` checks before anything runs, so that a mistake costs
//! nothing: the paths it was given, the flags against the stages of the
//! chosen pipeline, and the files it will write its own output to.

use std::path::Path;

use docpipe_core::config::validate::Plan;
use docpipe_core::printable;
use docpipe_core::stage::{RunFlag, WriteMode};

use super::args::RunArgs;
use super::checkout::GitSource;

/// Every path must be a regular file or a directory (reading a FIFO or a
/// device would block or never end).
pub fn check_paths(paths: &[std::path::PathBuf]) -> Result<(), String> {
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| {
            format!(
                "{} does not exist or cannot be read ({e}); give existing files or directories to `docpipe run`",
                p.display()
            )
        })?;
        if !meta.is_file() && !meta.is_dir() {
            return Err(format!(
                "{} is not a regular file or a directory ({}); give Python files or directories to `docpipe run`",
                p.display(),
                special_kind(&meta)
            ));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn special_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_meta: &std::fs::Metadata) -> &'static str {
    "a special file"
}

/// Every flag given must be read by a stage of the pipeline: a flag nothing
/// reads would be silently ignored (`check --diff` would "diff" nothing).
pub fn check_flags(given: &[RunFlag], plan: &Plan) -> Result<(), String> {
    let pipeline = plan.pipeline.as_deref().map_or_else(
        || "the configuration's stages".to_string(),
        |p| format!("pipeline `{p}`"),
    );
    for flag in given {
        if plan
            .stages
            .iter()
            .any(|s| s.descriptor.flags.contains(flag))
        {
            continue;
        }
        let stages: Vec<String> = plan
            .stages
            .iter()
            .map(|s| format!("{} ({})", s.name, s.descriptor.type_name))
            .collect();
        return Err(format!(
            "`{flag}` does nothing in {pipeline}: none of its stages reads it ({}); {}",
            stages.join(", "),
            match flag {
                RunFlag::Check | RunFlag::Diff | RunFlag::Force => {
                    "it concerns pipelines that write files, such as `generate` or `docs`"
                }
                RunFlag::Estimate => "it concerns pipelines that call a model, such as `generate`",
                RunFlag::Format | RunFlag::Statistics | RunFlag::OutputFile => {
                    "it concerns pipelines that report findings, such as `check`"
                }
                RunFlag::WarnUnusedIgnores => {
                    "it concerns pipelines that check docstrings, such as `check` and `generate`"
                }
                RunFlag::ForceExclude => "it concerns pipelines that read Python files",
                RunFlag::NoCache => {
                    "it concerns pipelines with a cache stage, such as `generate` and `check`"
                }
                RunFlag::ChangedSince | RunFlag::Shard => {
                    "it concerns pipelines whose source is `python-source`"
                }
                RunFlag::OnlyFailed => {
                    "it concerns pipelines with `python-source` and `python-extract` stages"
                }
            }
        ));
    }
    Ok(())
}

/// A git URL source is cloned into a temporary directory that is removed
/// afterwards: a pipeline that writes files may only show (`--diff`) or
/// judge (`--check`) what it would write; other paths name files inside the
/// repository; there is no history to compare with `--changed-since`.
pub fn check_remote(
    source: &GitSource,
    paths: &[std::path::PathBuf],
    args: &RunArgs,
    plan: &Plan,
) -> Result<(), String> {
    if let Some(path) = paths.iter().find(|p| p.is_absolute()) {
        return Err(format!(
            "{} is absolute, but paths given with the git URL {source} name files inside the repository; give them relative to its root",
            printable::path(path)
        ));
    }
    if args.changed_since.is_some() {
        return Err(format!(
            "`--changed-since` cannot be used with the git URL {source}: the clone is one commit deep and has no history to compare with; run it in a checkout instead"
        ));
    }
    let writes = plan
        .stages
        .iter()
        .any(|s| s.descriptor.flags.contains(&RunFlag::Diff));
    if writes && write_mode(args) == WriteMode::InPlace {
        let pipeline = plan.pipeline.as_deref().unwrap_or("run");
        return Err(format!(
            "`{pipeline}` writes files, and {source} is cloned into a temporary directory that is removed afterwards: add `--diff` to see what it would change, or `--check` to fail when it would change anything"
        ));
    }
    Ok(())
}

/// How the flags ask writers to treat files.
pub fn write_mode(args: &RunArgs) -> WriteMode {
    if args.diff {
        WriteMode::Diff
    } else if args.check {
        WriteMode::Check
    } else {
        WriteMode::InPlace
    }
}

/// An output file (`--report`) must be writable before the run starts, so
/// that a run that wrote files does not end in an error about its report.
/// Nothing is created: an existing file is opened for appending, a new one
/// is probed with a temporary file in its directory.
pub fn check_output_file(flag: &str, path: &Path) -> Result<(), String> {
    let fail = |why: String| {
        format!(
            "{flag} {}: {why}; give a path in a writable directory",
            path.display()
        )
    };
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => return Err(fail("it is a directory".into())),
        Ok(_) => {
            return std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .map(drop)
                .map_err(|e| fail(format!("cannot be written ({e})")));
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(fail(format!("cannot be examined ({e})")));
        }
        Err(_) => {}
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(fail(format!(
            "the directory {} does not exist",
            dir.display()
        )));
    }
    tempfile::Builder::new()
        .prefix(".docpipe-probe-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| fail(format!("cannot create a file in {} ({e})", dir.display())))
}
