//! Which files and units a run processes when the command line narrows it:
//! the files changed since a git revision (`--changed-since`), one shard of
//! a split across CI runners (`--shard I/N`), the units a previous report
//! lists as failed (`--only-failed`).
//!
//! A [`Selection`] only narrows: a source applies it to what its own walk
//! found (so excludes, ignore files and `include` globs still decide what is
//! a candidate), and an extractor applies its unit filter to the units of
//! each file. How the sets were found (git, a report) is the caller's
//! business; this module only compares paths.
//!
//! Paths are compared by [`file_key`]: the absolute path with its directory
//! resolved through symbolic links, so that `src/a.py`, `./src/a.py` and the
//! path git prints from the repository root name one file.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

/// One part of a deterministic split of the files across `count` runners
/// (`--shard INDEX/COUNT`, `INDEX` from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which part, from 1 to `count`.
    pub index: u32,
    /// How many parts.
    pub count: u32,
}

impl Shard {
    /// Parses `I/N` (`1/2`, `3/8`): whole numbers with `1 <= I <= N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let usage = "give the shard as I/N, for instance 1/2 and 2/2 for two runners";
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` has no `/`; {usage}"))?;
        let number = |s: &str| s.trim().parse::<u32>().ok();
        match (number(i), number(n)) {
            (Some(_), Some(0)) => Err(format!("`{text}` splits into 0 shards; {usage}")),
            (Some(index), Some(count)) if (1..=count).contains(&index) => {
                Ok(Shard { index, count })
            }
            (Some(_), Some(count)) => Err(format!(
                "`{text}`: the shard number must be from 1 to {count}; {usage}"
            )),
            _ => Err(format!("`{text}` is not two whole numbers; {usage}")),
        }
    }

    /// Whether the file at `relative` (relative to the shard root, with `/`
    /// separators) belongs to this shard.
    pub fn contains(&self, relative: &[u8]) -> bool {
        shard_of(relative, self.count) + 1 == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard (from 0) of the file at `relative` among `count`: the first 8
/// bytes of the BLAKE3 hash of the path, little-endian, modulo `count`.
/// BLAKE3 rather than the standard library's hasher, whose output may change
/// between Rust versions: runners built differently must agree.
pub fn shard_of(relative: &[u8], count: u32) -> u32 {
    let hash = blake3::hash(relative);
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    (u64::from_le_bytes(first) % u64::from(count.max(1))) as u32
}

/// The key under which [`Selection`] compares paths: `path` made absolute
/// (against the working directory), `.` and `..` resolved, and its directory
/// resolved through symbolic links when it exists. The file itself is not
/// resolved: a link is selected under its own name.
pub fn file_key(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut lexical = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                lexical.pop();
            }
            other => lexical.push(other),
        }
    }
    match (lexical.parent(), lexical.file_name()) {
        (Some(dir), Some(name)) => match std::fs::canonicalize(dir) {
            Ok(dir) => dir.join(name),
            Err(_) => lexical,
        },
        _ => lexical,
    }
}

/// `key` relative to `root`, with `/` separators, as bytes (a path need not
/// be UTF-8); the whole path when it lies outside `root`.
fn relative_bytes(key: &Path, root: &Path) -> Vec<u8> {
    let rel = key.strip_prefix(root).unwrap_or(key);
    let mut out = Vec::new();
    for c in rel.components() {
        if let Component::Normal(name) = c {
            if !out.is_empty() {
                out.push(b'/');
            }
            out.extend_from_slice(name.as_encoded_bytes());
        }
    }
    out
}

/// What a run is narrowed to. Every part given must admit a file for it to
/// be processed; a run without a selection processes everything.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these files (by [`file_key`]), when set.
    files: Option<HashSet<PathBuf>>,
    /// Only the files of this shard, relative to `root`.
    shard: Option<Shard>,
    /// The directory shard paths are relative to (resolved through links).
    root: PathBuf,
    /// Only these units, by file key and qualified name, when set.
    units: Option<HashMap<PathBuf, HashSet<String>>>,
    /// What narrowed the run, for logs: `files changed since HEAD`.
    reasons: Vec<String>,
    /// The flags that narrowed it, as typed: `--changed-since`.
    flags: Vec<&'static str>,
}

impl Selection {
    /// A selection that admits everything yet; shard paths are relative to `root`.
    pub fn new(root: &Path) -> Selection {
        Selection {
            root: std::fs::canonicalize(root).unwrap_or_else(|_| file_key(root)),
            ..Selection::default()
        }
    }

    /// Narrows to `files` (paths relative to the working directory, or
    /// absolute), as `flag` asks; `reason` says where they come from, for logs.
    pub fn only_files(
        mut self,
        files: impl IntoIterator<Item = PathBuf>,
        flag: &'static str,
        reason: impl Into<String>,
    ) -> Selection {
        let keys: HashSet<PathBuf> = files.into_iter().map(|p| file_key(&p)).collect();
        self.files = Some(match self.files.take() {
            Some(before) => before.intersection(&keys).cloned().collect(),
            None => keys,
        });
        self.reasons.push(reason.into());
        self.flags.push(flag);
        self
    }

    /// Narrows to one shard.
    pub fn only_shard(mut self, shard: Shard) -> Selection {
        self.shard = Some(shard);
        self.reasons.push(format!("shard {shard}"));
        self.flags.push("--shard");
        self
    }

    /// Narrows to `units`, (file, qualified name) pairs, and to their
    /// files, as `flag` asks.
    pub fn only_units(
        mut self,
        units: impl IntoIterator<Item = (PathBuf, String)>,
        flag: &'static str,
        reason: impl Into<String>,
    ) -> Selection {
        let mut by_file: HashMap<PathBuf, HashSet<String>> = HashMap::new();
        for (path, qualname) in units {
            by_file.entry(file_key(&path)).or_default().insert(qualname);
        }
        let files: Vec<PathBuf> = by_file.keys().cloned().collect();
        self.units = Some(by_file);
        self.only_files(files, flag, reason)
    }

    /// Whether the file at `path` is processed.
    pub fn admits_file(&self, path: &Path) -> bool {
        if self.files.is_none() && self.shard.is_none() {
            return true;
        }
        let key = file_key(path);
        if let Some(files) = &self.files
            && !files.contains(&key)
        {
            return false;
        }
        match &self.shard {
            Some(shard) => shard.contains(&relative_bytes(&key, &self.root)),
            None => true,
        }
    }

    /// Whether units are filtered one by one ([`Selection::admits_unit`]):
    /// then a file's results (its cached findings) stand for more than what
    /// the run looks at.
    pub fn narrows_units(&self) -> bool {
        self.units.is_some()
    }

    /// Whether the unit `qualname` of the file at `path` is processed.
    pub fn admits_unit(&self, path: &Path, qualname: &str) -> bool {
        match &self.units {
            Some(units) => units
                .get(&file_key(path))
                .is_some_and(|names| names.contains(qualname)),
            None => true,
        }
    }

    /// What narrowed the run, in words: `files changed since HEAD, shard 1/2`.
    pub fn describe(&self) -> String {
        self.reasons.join(", ")
    }

    /// The flags that narrowed the run, as typed (`--changed-since`, `--shard`).
    pub fn flags(&self) -> &[&'static str] {
        &self.flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parses_i_of_n_and_refuses_the_rest() {
        assert_eq!(Shard::parse("1/2"), Ok(Shard { index: 1, count: 2 }));
        assert_eq!(Shard::parse("8/8"), Ok(Shard { index: 8, count: 8 }));
        for bad in ["0/2", "3/2", "1/0", "1", "a/b", "1/2/3", "-1/2", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shard_numbers_are_pinned_so_runners_of_any_build_agree() {
        // Changing the hash moves files between runners: these must not change.
        assert_eq!(shard_of(b"src/app.py", 2), 1);
        assert_eq!(shard_of(b"setup.py", 2), 0);
        assert_eq!(shard_of(b"src/app.py", 7), 0);
        assert_eq!(shard_of(b"src/app.py", u32::MAX), 0x52bb_10c5);
        assert_eq!(shard_of(b"src/models/user.py", u32::MAX), 0x2ed2_f8ea);
        assert_eq!(shard_of(b"tests/test_app.py", u32::MAX), 0xa28f_c145);
    }

    #[test]
    fn the_shards_of_n_cover_every_path_exactly_once() {
        let paths: Vec<String> = (0..500).map(|i| format!("pkg{}/m{i}.py", i % 7)).collect();
        for count in [1, 2, 3, 5] {
            let shards: Vec<Shard> = (1..=count).map(|index| Shard { index, count }).collect();
            let mut sizes = vec![0; count as usize];
            for p in &paths {
                let owners: Vec<&Shard> =
                    shards.iter().filter(|s| s.contains(p.as_bytes())).collect();
                assert_eq!(owners.len(), 1, "{p} in {count} shards");
                sizes[owners[0].index as usize - 1] += 1;
            }
            // A hash spreads them: no shard is empty or holds nearly all.
            for size in sizes {
                assert!(size > 500 / count as usize / 2, "{count}: {size}");
            }
        }
    }

    #[test]
    fn paths_compare_whatever_their_spelling() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("src")).expect("mkdir");
        let file = dir.path().join("src/a.py");
        std::fs::write(&file, "x = 1\n").expect("write");
        let selection = Selection::new(dir.path()).only_files(
            [dir.path().join("src/../src/./a.py")],
            "--changed-since",
            "files changed since HEAD",
        );
        assert!(selection.admits_file(&file));
        assert!(!selection.admits_file(&dir.path().join("src/b.py")));
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(dir.path().join("src"), &link).expect("symlink");
            assert!(selection.admits_file(&link.join("a.py")));
        }
    }

    #[test]
    fn parts_combine_as_an_intersection() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        let [a, b, c] = ["a.py", "b.py", "c.py"].map(|n| root.join(n));
        let selection = Selection::new(root)
            .only_files([a.clone(), b.clone()], "--changed-since", "changed")
            .only_units(
                [(b.clone(), "f".to_string()), (c.clone(), "g".into())],
                "--only-failed",
                "failed",
            );
        assert!(!selection.admits_file(&a));
        assert!(selection.admits_file(&b));
        assert!(!selection.admits_file(&c));
        assert!(selection.admits_unit(&b, "f"));
        assert!(!selection.admits_unit(&b, "g"));
        assert!(selection.narrows_units());
        assert_eq!(selection.describe(), "changed, failed");
        assert_eq!(selection.flags(), ["--changed-since", "--only-failed"]);
    }

    #[test]
    fn a_shard_hashes_the_path_relative_to_the_root() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        std::fs::create_dir(root.join("src")).expect("mkdir");
        let count = 2;
        let expected = shard_of(b"src/app.py", count) + 1;
        let mine = Selection::new(root).only_shard(Shard {
            index: expected,
            count,
        });
        let other = Selection::new(root).only_shard(Shard {
            index: 3 - expected,
            count,
        });
        assert!(mine.admits_file(&root.join("src/app.py")));
        assert!(!other.admits_file(&root.join("src/app.py")));
    }
}
