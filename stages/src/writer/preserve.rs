//! Rewriting a file so that it stays the same file: the same owner and
//! group, mode, hard links and extended attributes, and never a symbolic
//! link replaced by a copy.
//!
//! A rewrite normally goes through a temporary file in the same directory
//! that is given the original's owner, group, mode and extended attributes
//! and then renamed over it, so a crash leaves the old or the new content,
//! never half of each. A new file cannot always be made identical: a file
//! with several hard links would be split from its other names, and a user
//! who is not root cannot give a file to someone else (nor set some
//! attributes). Those files are written in place instead, through the same
//! inode, after the same check that they did not change since they were
//! read; that write is not atomic against a crash.
//!
//! Before any of this, [`check_writable`] refuses what docpipe must not
//! write at all: a symbolic link (the source reads a link inside the tree
//! under its target's path, so a link that reaches the writer points out of
//! the tree), anything but a regular file, and a file whose mode forbids
//! writing by its owner (unless forced).

use std::fs::{File, Metadata, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Why a file must not be rewritten.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The path is a symbolic link; docpipe never writes through one.
    #[error(
        "not written: it is a symbolic link to {}, outside the tree docpipe walked; docpipe never writes through a link (run it on the target itself)",
        target.display()
    )]
    Symlink {
        /// Where the link points.
        target: PathBuf,
    },
    /// The path is not a regular file.
    #[error("not written: it is not a regular file")]
    NotRegular,
    /// The file's mode forbids writing by its owner.
    #[error(
        "not written: the file is read-only (mode {mode:04o}); `--force` writes it anyway, or make it writable (chmod u+w)"
    )]
    ReadOnly {
        /// The permission bits.
        mode: u32,
    },
    /// The file could not be examined.
    #[error("not written: cannot examine the file: {0}")]
    Io(String),
}

/// Whether docpipe may rewrite `path` (see the module documentation);
/// `force` lifts the read-only refusal only.
pub fn check_writable(path: &Path, force: bool) -> Result<(), Refusal> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| Refusal::Io(e.to_string()))?;
    if meta.file_type().is_symlink() {
        let target = std::fs::canonicalize(path)
            .or_else(|_| std::fs::read_link(path))
            .unwrap_or_default();
        return Err(Refusal::Symlink { target });
    }
    if !meta.is_file() {
        return Err(Refusal::NotRegular);
    }
    let mode = permission_bits(&meta);
    if !force && owner_may_not_write(&meta) {
        return Err(Refusal::ReadOnly { mode });
    }
    Ok(())
}

#[cfg(unix)]
fn permission_bits(meta: &Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn permission_bits(meta: &Metadata) -> u32 {
    if meta.permissions().readonly() {
        0o444
    } else {
        0o644
    }
}

/// The owner's write bit, not `access(2)`: root may write anything, and a
/// read-only file is a person's decision that root should respect too.
#[cfg(unix)]
fn owner_may_not_write(meta: &Metadata) -> bool {
    permission_bits(meta) & 0o200 == 0
}

#[cfg(not(unix))]
fn owner_may_not_write(meta: &Metadata) -> bool {
    meta.permissions().readonly()
}

/// How a file was rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// A temporary file with the original's owner, mode and attributes, renamed over it.
    Renamed,
    /// Written through the original inode, for this reason.
    InPlace(InPlaceReason),
}

/// Why a file was written in place rather than replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InPlaceReason {
    /// The file has this many hard links; a new file would split them.
    HardLinks(u64),
    /// A new file could not be given the original's owner and group.
    Owner,
    /// A new file could not be given this extended attribute.
    Attribute(String),
}

/// Why a rewrite did not happen.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file on disk is no longer what was read.
    #[error("file changed since it was read; run docpipe again on the new content")]
    Changed,
    /// An operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> WriteError {
    let what = what.into();
    move |source| WriteError::Io { what, source }
}

/// Replaces the content of `path` with `bytes`, keeping what the file is
/// (see the module documentation), provided its content still hashes to
/// `expected` (blake3, hex) just before the switch.
pub fn replace(path: &Path, bytes: &[u8], expected: &str) -> Result<Method, WriteError> {
    let original = File::open(path).map_err(io("cannot open the file"))?;
    let meta = original
        .metadata()
        .map_err(io("cannot read the file's metadata"))?;
    let links = hard_links(&meta);
    if links > 1 {
        return write_in_place(path, bytes, expected, InPlaceReason::HardLinks(links));
    }
    let attributes = xattr::read_all(&original).map_err(io("cannot list extended attributes"))?;
    drop(original);

    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".docpipe-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io(format!(
            "cannot create a temporary file in {}",
            dir.display()
        )))?;
    tmp.write_all(bytes)
        .map_err(io("cannot write the temporary file"))?;
    if let Err(reason) = give_identity(tmp.as_file(), &meta, &attributes) {
        // The temporary file is removed when `tmp` drops.
        return write_in_place(path, bytes, expected, reason);
    }
    tmp.as_file()
        .sync_all()
        .map_err(io("cannot flush the temporary file"))?;
    if !unchanged_since_read(path, expected).map_err(io("cannot read the file again"))? {
        return Err(WriteError::Changed);
    }
    tmp.persist(path)
        .map_err(|e| io("cannot rename the temporary file over the original")(e.error))?;
    Ok(Method::Renamed)
}

/// Gives `file` the owner, group, mode and extended attributes of `meta`
/// and `attributes`; says why when it cannot.
fn give_identity(
    file: &File,
    meta: &Metadata,
    attributes: &[(std::ffi::OsString, Vec<u8>)],
) -> Result<(), InPlaceReason> {
    owner::copy(file, meta).map_err(|_| InPlaceReason::Owner)?;
    // After the owner: changing the owner clears the set-user-ID bit.
    file.set_permissions(meta.permissions())
        .map_err(|_| InPlaceReason::Owner)?;
    for (name, value) in attributes {
        xattr::set(file, name, value)
            .map_err(|_| InPlaceReason::Attribute(name.to_string_lossy().into_owned()))?;
    }
    Ok(())
}

/// Writes `bytes` through the inode of `path`, after checking through the
/// same handle that its content still hashes to `expected`.
fn write_in_place(
    path: &Path,
    bytes: &[u8],
    expected: &str,
    reason: InPlaceReason,
) -> Result<Method, WriteError> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io("cannot open the file for writing in place"))?;
    let mut current = Vec::new();
    file.read_to_end(&mut current)
        .map_err(io("cannot read the file again"))?;
    if blake3::hash(&current).to_hex().as_str() != expected {
        return Err(WriteError::Changed);
    }
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.write_all(bytes))
        .and_then(|()| file.set_len(bytes.len() as u64))
        .and_then(|()| file.sync_all())
        .map_err(io("cannot write the file in place"))?;
    Ok(Method::InPlace(reason))
}

/// Whether the file at `path` still has the blake3 hash `expected` (hex).
/// The file is hashed as it is read, never held whole: the writer holds a
/// big file's old and new texts already.
pub fn unchanged_since_read(path: &Path, expected: &str) -> std::io::Result<bool> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(std::fs::File::open(path)?)?;
    Ok(hasher.finalize().to_hex().as_str() == expected)
}

#[cfg(unix)]
fn hard_links(meta: &Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::nlink(meta)
}

#[cfg(not(unix))]
fn hard_links(_meta: &Metadata) -> u64 {
    1
}

#[cfg(unix)]
mod owner {
    use std::fs::{File, Metadata};
    use std::os::unix::fs::MetadataExt;

    /// Gives `file` the owner and group of `meta` when they differ; fails
    /// when the user may not (only root gives files away).
    pub(super) fn copy(file: &File, meta: &Metadata) -> std::io::Result<()> {
        let now = file.metadata()?;
        if now.uid() == meta.uid() && now.gid() == meta.gid() {
            return Ok(());
        }
        std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()))
    }
}

#[cfg(not(unix))]
mod owner {
    use std::fs::{File, Metadata};

    pub(super) fn copy(_file: &File, _meta: &Metadata) -> std::io::Result<()> {
        Ok(())
    }
}

/// Extended attributes (Linux and macOS; ACLs and SELinux labels are among
/// them). A rename drops them with the old inode, so they are copied.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "macos"))]
mod xattr {
    use std::ffi::{OsStr, OsString};
    use std::fs::File;
    use std::os::unix::ffi::{OsStrExt, OsStringExt};

    /// Every attribute of `file`, or none where the file system keeps none.
    pub(super) fn read_all(file: &File) -> std::io::Result<Vec<(OsString, Vec<u8>)>> {
        let names = match sized(
            || rustix::fs::flistxattr_query(file),
            |buf| rustix::fs::flistxattr(file, buf),
        ) {
            Ok(n) => n,
            Err(e) if unsupported(&e) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for name in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
            let value = get(file, name)?;
            out.push((OsString::from_vec(name.to_vec()), value));
        }
        Ok(out)
    }

    /// Sets `name` on `file` unless it already has exactly that value
    /// (a new file may be labelled by policy already).
    pub(super) fn set(file: &File, name: &OsStr, value: &[u8]) -> std::io::Result<()> {
        if get(file, name.as_bytes()).is_ok_and(|v| v == value) {
            return Ok(());
        }
        rustix::fs::fsetxattr(
            file,
            name.as_bytes(),
            value,
            rustix::fs::XattrFlags::empty(),
        )
        .map_err(std::io::Error::from)
    }

    fn get(file: &File, name: &[u8]) -> std::io::Result<Vec<u8>> {
        sized(
            || rustix::fs::fgetxattr_query(file, name),
            |buf| rustix::fs::fgetxattr(file, name, buf),
        )
    }

    /// Calls `get` with a buffer of the size `query` gives (asking again if
    /// the answer grew in between).
    fn sized(
        query: impl Fn() -> rustix::io::Result<usize>,
        mut get: impl FnMut(&mut [u8]) -> rustix::io::Result<usize>,
    ) -> std::io::Result<Vec<u8>> {
        for _ in 0..4 {
            let size = query()?;
            let mut buf = vec![0u8; size];
            match get(&mut buf) {
                Ok(n) => {
                    buf.truncate(n);
                    return Ok(buf);
                }
                Err(rustix::io::Errno::RANGE) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(std::io::Error::other("extended attributes kept changing"))
    }

    fn unsupported(e: &std::io::Error) -> bool {
        e.raw_os_error() == Some(rustix::io::Errno::NOTSUP.raw_os_error())
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
mod xattr {
    use std::ffi::{OsStr, OsString};
    use std::fs::File;

    pub(super) fn read_all(_file: &File) -> std::io::Result<Vec<(OsString, Vec<u8>)>> {
        Ok(Vec::new())
    }

    pub(super) fn set(_file: &File, _name: &OsStr, _value: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
}
