//! `--changed-since`, `--shard` and `--only-failed`: what the command line
//! narrows a run to, resolved into a [`Selection`] that the source and the
//! extractor apply (see `docpipe_core::selection`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use docpipe_core::printable;
use docpipe_core::selection::{Selection, Shard};

use super::git;

/// What the flags ask for.
pub struct Wanted<'a> {
    /// `--changed-since REV`.
    pub changed_since: Option<&'a str>,
    /// `--shard I/N`.
    pub shard: Option<Shard>,
    /// `--only-failed REPORT`, already absolute.
    pub only_failed: Option<&'a Path>,
}

/// The selection the flags ask for (`None` when none is given). `paths` are
/// the paths of the run (empty: the working directory) and `shard_root` the
/// directory shard paths are relative to. Errors are usage errors.
pub fn resolve(
    wanted: &Wanted<'_>,
    paths: &[PathBuf],
    shard_root: &Path,
) -> Result<Option<Selection>, String> {
    if wanted.changed_since.is_none() && wanted.shard.is_none() && wanted.only_failed.is_none() {
        return Ok(None);
    }
    let mut selection = Selection::new(shard_root);
    if let Some(rev) = wanted.changed_since {
        let flag = format!("--changed-since {}", printable::text(rev));
        let here = [PathBuf::from(".")];
        let roots = if paths.is_empty() { &here[..] } else { paths };
        let mut trees = BTreeSet::new();
        for root in roots {
            trees.insert(git::work_tree_root(root, &flag)?);
        }
        let mut changed = Vec::new();
        for tree in &trees {
            changed.extend(git::changed_since(tree, rev)?);
        }
        tracing::info!(
            "{} changed since {} (untracked ones included)",
            printable::count(changed.len() as u64, "file", "files"),
            printable::text(rev)
        );
        selection = selection.only_files(
            changed,
            "--changed-since",
            format!("files changed since {}", printable::text(rev)),
        );
    }
    if let Some(shard) = wanted.shard {
        selection = selection.only_shard(shard);
    }
    if let Some(report) = wanted.only_failed {
        let units = failed_units(report)?;
        tracing::info!(
            "{} listed as failed in {}",
            printable::count(units.len() as u64, "unit", "units"),
            printable::path(report)
        );
        selection = selection.only_units(
            units,
            "--only-failed",
            format!("units failed in {}", printable::path(report)),
        );
    }
    Ok(Some(selection))
}

/// The (file, qualified name) of every unit the run report at `report`
/// lists under `failures`; relative paths are taken from the working
/// directory, as the run that wrote the report named them.
pub fn failed_units(report: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    let shown = printable::path(report);
    let text = std::fs::read_to_string(report).map_err(|e| {
        format!("--only-failed {shown}: cannot read it ({e}); give a file that `--report` wrote")
    })?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!("--only-failed {shown}: not JSON ({e}); give a file that `--report` wrote")
    })?;
    let Some(failures) = json.get("failures").and_then(|f| f.as_array()) else {
        return Err(format!(
            "--only-failed {shown}: not a docpipe run report (it has no `failures` list); give a file that `--report` wrote"
        ));
    };
    failures
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let path = f.get("path").and_then(|p| p.as_str());
            let qualname = f.get("qualname").and_then(|q| q.as_str());
            match (path, qualname) {
                (Some(p), Some(q)) => Ok((PathBuf::from(p), q.to_string())),
                _ => Err(format!(
                    "--only-failed {shown}: `failures[{i}]` has no `path` or no `qualname`; give a file that `--report` wrote"
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_units_are_read_from_a_report_and_bad_reports_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let report = dir.path().join("report.json");
        std::fs::write(
            &report,
            r#"{"pipeline":"generate","failures":[
                {"path":"src/a.py","line":3,"qualname":"Shop.buy","reason":"model: timeout"},
                {"path":"b.py","line":1,"qualname":"f","reason":"x"}]}"#,
        )
        .expect("write");
        assert_eq!(
            failed_units(&report).expect("read"),
            vec![
                (PathBuf::from("src/a.py"), "Shop.buy".to_string()),
                (PathBuf::from("b.py"), "f".to_string())
            ]
        );
        for (text, says) in [
            ("{", "not JSON"),
            ("{\"units\": 3}", "no `failures` list"),
            ("{\"failures\": [{\"path\": \"a.py\"}]}", "`failures[0]`"),
        ] {
            std::fs::write(&report, text).expect("write");
            let e = failed_units(&report).expect_err(text);
            assert!(e.contains(says) && e.contains("--only-failed"), "{e}");
        }
        let e = failed_units(&dir.path().join("missing.json")).expect_err("missing");
        assert!(e.contains("cannot read"), "{e}");
    }
}
