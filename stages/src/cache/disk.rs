//! The `disk` tier: one SQLite database (`cache.db`) in `.docpipe/cache`
//! next to the pipeline.toml in use, through rusqlite with SQLite bundled.
//!
//! Why SQLite and not a file per entry (cacache) or redb:
//! - **Two processes at once.** SQLite in WAL mode lets readers and one
//!   writer of several processes share the file, with a busy timeout
//!   instead of errors; redb takes an exclusive lock, so a second docpipe
//!   (two CI jobs on one runner, an editor hook during a run) could not open
//!   the cache at all.
//! - **Many small entries.** The standard library has 73,000 definitions:
//!   cacache would write two files per entry (content and index bucket),
//!   four kilobytes of disk each for a few hundred bytes of JSON, and read
//!   two per lookup. One database answers a file's lookups in one query.
//! - **Size bound, tags, counters.** `max_mb` (the oldest entries go first),
//!   invalidation by tag and the hit and miss counters of `docpipe cache
//!   stats` are an index and a `DELETE` each, in the same transactions.
//!
//! The database is opened on first use, not when the stage is built: a
//! directory that cannot be created or written (a read-only checkout, a full
//! disk) is an error of the tier, which the tier stack turns into one
//! warning and a run without it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use docpipe_core::cache_store::{CacheEntry, CacheError, CacheStore, TierStats};
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde::{Deserialize, Serialize};

/// `[cache.disk]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiskSettings {
    /// Directory, relative to the pipeline.toml in use.
    pub dir: String,
    /// Size bound in MB; past it the oldest entries are evicted.
    pub max_mb: u64,
}

impl Default for DiskSettings {
    fn default() -> Self {
        DiskSettings {
            dir: ".docpipe/cache".into(),
            max_mb: 512,
        }
    }
}

/// The database file inside the cache directory.
pub const DB_FILE: &str = "cache.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entries(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    value BLOB NOT NULL,
    size INTEGER NOT NULL,
    stored INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_stored ON entries(stored);
CREATE TABLE IF NOT EXISTS entry_tags(
    tag TEXT NOT NULL,
    entry INTEGER NOT NULL,
    PRIMARY KEY(tag, entry)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entry_tags_entry ON entry_tags(entry);
CREATE TABLE IF NOT EXISTS counters(
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
";

// Why tags name an entry by its rowid, not its key: keys are hashes, so a
// row keyed by one lands at a random place of its B-tree, and every store
// wrote a random page for each of an entry's three tags and three more for
// their index (seven pages an entry: a cold `generate` of the standard
// library took 14 s, 7.5 s without tags). Rowids grow, so a tag's rows and
// their index are appended to; only the key's own index is random. The
// rowid is a declared `INTEGER PRIMARY KEY`, which VACUUM keeps (it may
// renumber an undeclared one), and AUTOINCREMENT, so that an id is never
// given twice: a tag of a deleted entry can never name a new one.

/// The tags table of the first layout (`tags(tag, key)`), moved into
/// `entry_tags` when a database of that layout is opened.
const OLD_TAGS: &str = "tags";

/// The first layout's `entries`, keyed by `key` with an undeclared rowid,
/// rebuilt with its `id` (the rows keep their rowids as ids).
const REBUILD_ENTRIES: &str = "
CREATE TABLE entries_with_id(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    value BLOB NOT NULL,
    size INTEGER NOT NULL,
    stored INTEGER NOT NULL
);
INSERT INTO entries_with_id(id, key, value, size, stored)
    SELECT rowid, key, value, size, stored FROM entries;
DROP TABLE entries;
ALTER TABLE entries_with_id RENAME TO entries;
CREATE INDEX entries_stored ON entries(stored);
";

/// Lookups per statement: SQLite's default limit on parameters is 32,766.
const KEYS_PER_QUERY: usize = 500;

/// The `disk` tier.
pub struct DiskStore {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    max_bytes: u64,
    conn: Mutex<Option<Connection>>,
    /// Lookups not yet added to the `counters` table (written by `flush`).
    hits: AtomicU64,
    misses: AtomicU64,
    /// Bytes stored since the size was last measured.
    since_check: AtomicU64,
}

fn err(e: impl std::fmt::Display) -> CacheError {
    CacheError::new("disk", e)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

impl DiskStore {
    /// A disk tier in `dir` (created on first use).
    pub fn new(dir: PathBuf, settings: &DiskSettings) -> DiskStore {
        DiskStore {
            inner: Arc::new(Inner {
                dir,
                max_bytes: settings.max_mb.saturating_mul(1024 * 1024),
                conn: Mutex::new(None),
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                since_check: AtomicU64::new(0),
            }),
        }
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Runs `f` on the database, opened (and, when `create`, created) on
    /// first use. `None` when the database does not exist and `create` is
    /// false: reading an absent cache writes nothing (`--estimate`, a
    /// `check` whose every file fails to parse, `docpipe cache stats`).
    async fn with<T, F>(&self, create: bool, f: F) -> Result<Option<T>, CacheError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner, &mut Connection) -> Result<T, CacheError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut slot = inner.conn.lock().unwrap_or_else(|p| p.into_inner());
            if slot.is_none() {
                if !create && !inner.dir.join(DB_FILE).is_file() {
                    return Ok(None);
                }
                *slot = Some(inner.open()?);
            }
            match slot.as_mut() {
                Some(conn) => f(&inner, conn).map(Some),
                None => Err(err("the cache database is not open")),
            }
        })
        .await
        .map_err(|e| err(format!("a cache task failed: {e}")))?
    }
}

impl Inner {
    fn open(&self) -> Result<Connection, CacheError> {
        let shown = self.dir.display();
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| err(format!("cannot create {shown}: {e}")))?;
        // Like ruff's cache directory: never committed, marked as a cache.
        let ignore = self.dir.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(&ignore, "*\n")
                .map_err(|e| err(format!("cannot write {}: {e}", ignore.display())))?;
        }
        let tag = self.dir.join("CACHEDIR.TAG");
        if !tag.exists() {
            let _ = std::fs::write(
                &tag,
                "Signature: 8a477f597d28d172789f06886806bc55\n# This directory is docpipe's cache; see https://bford.info/cachedir/\n",
            );
        }
        let path = self.dir.join(DB_FILE);
        let mut conn = Connection::open(&path)
            .map_err(|e| err(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
        // WAL: readers never wait for the writer of another process.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| err(format!("{}: {e}", path.display())))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.execute_batch(SCHEMA)
            .map_err(|e| err(format!("{}: {e}", path.display())))?;
        migrate(&mut conn).map_err(|e| err(format!("{}: {e}", path.display())))?;
        Ok(conn)
    }

    /// Evicts the oldest entries when the database holds more than `max_bytes`.
    fn evict(&self, conn: &mut Connection) -> Result<u64, CacheError> {
        let page_size = number(conn, "PRAGMA page_size").map_err(err)?;
        let pages = number(conn, "PRAGMA page_count").map_err(err)?;
        let free = number(conn, "PRAGMA freelist_count").map_err(err)?;
        let used = ((pages - free).max(0) * page_size) as u64;
        if used <= self.max_bytes {
            return Ok(0);
        }
        let count = number(conn, "SELECT COUNT(*) FROM entries").map_err(err)?;
        // Down to 90 % of the bound, in proportion to the entries' share.
        let target = self.max_bytes / 10 * 9;
        let share = (used - target) as f64 / used as f64;
        let n = ((count as f64 * share).ceil() as i64).max(1);
        let tx = conn.transaction().map_err(err)?;
        tx.execute(
            "DELETE FROM entry_tags WHERE entry IN (SELECT id FROM entries ORDER BY stored LIMIT ?1)",
            [n],
        )
        .map_err(err)?;
        let gone = tx
            .execute(
                "DELETE FROM entries WHERE key IN (SELECT key FROM entries ORDER BY stored LIMIT ?1)",
                [n],
            )
            .map_err(err)?;
        tx.commit().map_err(err)?;
        tracing::info!(
            "disk cache: {} evicted, the cache was over `[cache.disk] max_mb`",
            docpipe_core::printable::count(gone as u64, "entry", "entries")
        );
        Ok(gone as u64)
    }

    fn write_counters(&self, conn: &mut Connection) -> Result<(), CacheError> {
        let hits = self.hits.swap(0, Ordering::Relaxed);
        let misses = self.misses.swap(0, Ordering::Relaxed);
        if hits == 0 && misses == 0 {
            return Ok(());
        }
        let tx = conn.transaction().map_err(err)?;
        for (name, n) in [("hits", hits), ("misses", misses)] {
            tx.execute(
                "INSERT INTO counters(name, value) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                rusqlite::params![name, n as i64],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }
}

/// Brings a database of the first layout (`entries` keyed by `key`, tags in
/// `tags(tag, key)`) to this one, keeping every entry: a cache filled by a
/// paid model is worth its money. One process does it, in one transaction;
/// another that opened the file at the same time finds it done. An older
/// docpipe sharing the cache makes `tags` again: its tags are moved on the
/// next opening, and the tags of entries it deleted are dropped.
fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let count = |conn: &Connection, sql: &str| number(conn, sql).map(|n| n > 0);
    let old_tags =
        format!("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{OLD_TAGS}'");
    let old_entries = "SELECT COUNT(*) = 0 FROM pragma_table_info('entries') WHERE name = 'id'";
    let old = |conn: &Connection| -> rusqlite::Result<(bool, bool)> {
        Ok((count(conn, &old_tags)?, count(conn, old_entries)?))
    };
    if old(conn)? == (false, false) {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (tags, entries) = old(&tx)?;
    if entries {
        tx.execute_batch(REBUILD_ENTRIES)?;
    }
    if tags {
        tx.execute_batch(
            "INSERT OR IGNORE INTO entry_tags(tag, entry)
                 SELECT t.tag, e.id FROM tags t JOIN entries e ON e.key = t.key;
             DROP TABLE tags;
             DELETE FROM entry_tags WHERE entry NOT IN (SELECT id FROM entries);",
        )?;
    }
    tx.commit()
}

/// The number a query of one number (`SELECT COUNT(*) ...`) gives.
fn number(conn: &Connection, sql: &str) -> rusqlite::Result<i64> {
    conn.query_row(sql, [], |r| r.get(0))
}

#[async_trait]
impl CacheStore for DiskStore {
    fn name(&self) -> &str {
        "disk"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.get_many(&[key.to_string()]).await?.pop().flatten())
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys = keys.to_vec();
        let wanted = keys.len() as u64;
        let found = self
            .with(false, move |inner, conn| {
                let mut found: std::collections::HashMap<String, Vec<u8>> =
                    std::collections::HashMap::with_capacity(keys.len());
                for chunk in keys.chunks(KEYS_PER_QUERY) {
                    let marks = vec!["?"; chunk.len()].join(",");
                    let mut stmt = conn
                        .prepare_cached(&format!(
                            "SELECT key, value FROM entries WHERE key IN ({marks})"
                        ))
                        .map_err(err)?;
                    let rows = stmt
                        .query_map(params_from_iter(chunk.iter()), |r| {
                            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
                        })
                        .map_err(err)?;
                    for row in rows {
                        let (k, v) = row.map_err(err)?;
                        found.insert(k, v);
                    }
                }
                // `get`, not `remove`: a key asked twice (two identical definitions) is a hit twice.
                let out: Vec<Option<Vec<u8>>> =
                    keys.iter().map(|k| found.get(k).cloned()).collect();
                let hits = out.iter().filter(|v| v.is_some()).count() as u64;
                inner.hits.fetch_add(hits, Ordering::Relaxed);
                inner
                    .misses
                    .fetch_add(out.len() as u64 - hits, Ordering::Relaxed);
                Ok(out)
            })
            .await?;
        Ok(found.unwrap_or_else(|| {
            self.inner.misses.fetch_add(wanted, Ordering::Relaxed);
            vec![None; wanted as usize]
        }))
    }

    async fn put(&self, key: &str, value: &[u8], tags: &[String]) -> Result<(), CacheError> {
        self.put_many(&[CacheEntry {
            key: key.to_string(),
            value: value.to_vec(),
            tags: tags.to_vec(),
        }])
        .await
    }

    async fn put_many(&self, entries: &[CacheEntry]) -> Result<(), CacheError> {
        if entries.is_empty() {
            return Ok(());
        }
        let entries = entries.to_vec();
        self.with(true, move |inner, conn| {
            let stamp = now();
            let mut bytes = 0u64;
            {
                let tx = conn.transaction().map_err(err)?;
                {
                    // An entry stored again keeps its id, and so its tags.
                    let mut put = tx
                        .prepare_cached(
                            "INSERT INTO entries(key, value, size, stored) VALUES (?1, ?2, ?3, ?4)
                             ON CONFLICT(key) DO UPDATE SET value = excluded.value,
                                 size = excluded.size, stored = excluded.stored
                             RETURNING id",
                        )
                        .map_err(err)?;
                    let mut tag = tx
                        .prepare_cached(
                            "INSERT OR IGNORE INTO entry_tags(tag, entry) VALUES (?1, ?2)",
                        )
                        .map_err(err)?;
                    for e in &entries {
                        let size = (e.key.len() + e.value.len()) as i64;
                        bytes += size as u64;
                        let entry: i64 = put
                            .query_row(rusqlite::params![e.key, e.value, size, stamp], |r| r.get(0))
                            .map_err(err)?;
                        for t in &e.tags {
                            tag.execute(rusqlite::params![t, entry]).map_err(err)?;
                        }
                    }
                }
                tx.commit().map_err(err)?;
            }
            // Measure the size now and then, not on every store.
            let since = inner.since_check.fetch_add(bytes, Ordering::Relaxed) + bytes;
            if since > inner.max_bytes / 20 {
                inner.since_check.store(0, Ordering::Relaxed);
                inner.evict(conn)?;
            }
            Ok(())
        })
        .await
        .map(|_| ())
    }

    async fn remove(&self, key: &str) -> Result<(), CacheError> {
        let key = key.to_string();
        self.with(false, move |_, conn| {
            let tx = conn.transaction().map_err(err)?;
            tx.execute(
                "DELETE FROM entry_tags WHERE entry IN (SELECT id FROM entries WHERE key = ?1)",
                [&key],
            )
            .map_err(err)?;
            tx.execute("DELETE FROM entries WHERE key = ?1", [&key])
                .map_err(err)?;
            tx.commit().map_err(err)
        })
        .await
        .map(|_| ())
    }

    async fn invalidate_tag(&self, tag: &str) -> Result<u64, CacheError> {
        let tag = tag.to_string();
        self.with(false, move |_, conn| {
            let tx = conn.transaction().map_err(err)?;
            let gone = tx
                .execute(
                    "DELETE FROM entries WHERE id IN (SELECT entry FROM entry_tags WHERE tag = ?1)",
                    [&tag],
                )
                .map_err(err)?;
            tx.execute(
                "DELETE FROM entry_tags WHERE entry IN (SELECT entry FROM entry_tags WHERE tag = ?1)",
                [&tag],
            )
            .map_err(err)?;
            tx.commit().map_err(err)?;
            Ok(gone as u64)
        })
        .await
        .map(Option::unwrap_or_default)
    }

    async fn clear(&self) -> Result<u64, CacheError> {
        self.with(false, |inner, conn| {
            inner.hits.store(0, Ordering::Relaxed);
            inner.misses.store(0, Ordering::Relaxed);
            let tx = conn.transaction().map_err(err)?;
            let gone = tx.execute("DELETE FROM entries", []).map_err(err)?;
            tx.execute("DELETE FROM entry_tags", []).map_err(err)?;
            tx.execute("DELETE FROM counters", []).map_err(err)?;
            tx.commit().map_err(err)?;
            // Give the space back.
            conn.execute_batch("VACUUM").map_err(err)?;
            Ok(gone as u64)
        })
        .await
        .map(Option::unwrap_or_default)
    }

    /// Adds this process's hits and misses to the database's counters.
    async fn flush(&self) -> Result<(), CacheError> {
        if self.inner.hits.load(Ordering::Relaxed) == 0
            && self.inner.misses.load(Ordering::Relaxed) == 0
        {
            return Ok(());
        }
        self.with(false, |inner, conn| inner.write_counters(conn))
            .await
            .map(|_| ())
    }

    async fn stats(&self) -> Result<TierStats, CacheError> {
        let dir = self.inner.dir.display().to_string();
        let shown = dir.clone();
        let stats = self
            .with(false, move |inner, conn| {
                inner.write_counters(conn)?;
                let (entries, bytes): (i64, i64) = conn
                    .query_row(
                        "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM entries",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .map_err(err)?;
                let counter = |name: &str| -> Result<u64, CacheError> {
                    let v: Option<i64> = conn
                        .query_row("SELECT value FROM counters WHERE name = ?1", [name], |r| {
                            r.get(0)
                        })
                        .optional()
                        .map_err(err)?;
                    Ok(v.unwrap_or(0) as u64)
                };
                Ok(TierStats {
                    tier: "disk".into(),
                    entries: entries as u64,
                    bytes: bytes as u64,
                    hits: counter("hits")?,
                    misses: counter("misses")?,
                    location: dir,
                })
            })
            .await?;
        Ok(stats.unwrap_or(TierStats {
            tier: "disk".into(),
            location: shown,
            ..TierStats::default()
        }))
    }
}

impl Drop for DiskStore {
    fn drop(&mut self) {
        // The counters of `docpipe cache stats`; losing them loses no entry.
        if let Ok(mut slot) = self.inner.conn.lock()
            && let Some(conn) = slot.as_mut()
        {
            let _ = self.inner.write_counters(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, value: &[u8], tag: &str) -> CacheEntry {
        CacheEntry {
            key: key.into(),
            value: value.to_vec(),
            tags: vec![tag.into()],
        }
    }

    #[tokio::test]
    async fn stores_reads_invalidates_and_counts() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = dir.path().join(".docpipe/cache");
        let store = DiskStore::new(cache.clone(), &DiskSettings::default());
        store
            .put_many(&[entry("a", b"1", "path:a.py"), entry("b", b"2", "path:b.py")])
            .await
            .expect("put");
        let got = store
            .get_many(&["a".into(), "x".into(), "b".into(), "a".into()])
            .await
            .expect("get");
        assert_eq!(
            got,
            vec![
                Some(b"1".to_vec()),
                None,
                Some(b"2".to_vec()),
                Some(b"1".to_vec())
            ]
        );
        assert_eq!(
            std::fs::read_to_string(cache.join(".gitignore")).expect("gitignore"),
            "*\n"
        );
        assert_eq!(store.invalidate_tag("path:a.py").await.expect("tag"), 1);
        assert_eq!(store.get("a").await.expect("get"), None);
        let stats = store.stats().await.expect("stats");
        assert_eq!((stats.entries, stats.hits, stats.misses), (1, 3, 2));
        drop(store);
        // A second opening sees the entries and the counters.
        let again = DiskStore::new(cache, &DiskSettings::default());
        assert_eq!(again.get("b").await.expect("get"), Some(b"2".to_vec()));
        let stats = again.stats().await.expect("stats");
        assert_eq!((stats.hits, stats.misses), (4, 2));
        assert_eq!(again.clear().await.expect("clear"), 1);
        assert_eq!(again.stats().await.expect("stats").entries, 0);
    }

    #[tokio::test]
    async fn a_cache_of_the_first_layout_keeps_its_entries_and_tags() {
        let dir = tempfile::tempdir().expect("temp dir");
        {
            // The first layout: tags by key.
            let conn = Connection::open(dir.path().join(DB_FILE)).expect("open");
            conn.execute_batch(
                "CREATE TABLE entries(key TEXT PRIMARY KEY, value BLOB NOT NULL,
                     size INTEGER NOT NULL, stored INTEGER NOT NULL);
                 CREATE INDEX entries_stored ON entries(stored);
                 CREATE TABLE tags(tag TEXT NOT NULL, key TEXT NOT NULL,
                     PRIMARY KEY(tag, key)) WITHOUT ROWID;
                 CREATE INDEX tags_key ON tags(key);
                 INSERT INTO entries VALUES ('a', x'31', 2, 1), ('b', x'32', 2, 2);
                 INSERT INTO tags VALUES ('path:a.py', 'a'), ('model:m', 'a'),
                     ('path:b.py', 'b'), ('model:m', 'b');",
            )
            .expect("first layout");
        }
        let store = DiskStore::new(dir.path().to_path_buf(), &DiskSettings::default());
        assert_eq!(store.get("a").await.expect("get"), Some(b"1".to_vec()));
        assert_eq!(store.invalidate_tag("path:a.py").await.expect("tag"), 1);
        assert_eq!(store.get("a").await.expect("get"), None);
        assert_eq!(store.get("b").await.expect("get"), Some(b"2".to_vec()));
        // New entries are tagged as the moved ones are.
        store
            .put_many(&[entry("c", b"3", "model:m")])
            .await
            .expect("put");
        assert_eq!(store.invalidate_tag("model:m").await.expect("tag"), 2);
        assert_eq!(store.stats().await.expect("stats").entries, 0);
        drop(store);
        let conn = Connection::open(dir.path().join(DB_FILE)).expect("open");
        let old = number(
            &conn,
            "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('tags', 'tags_key')",
        );
        assert_eq!(old, Ok(0), "the first layout's tables are gone");
        let ids = number(
            &conn,
            "SELECT COUNT(*) FROM pragma_table_info('entries') WHERE name = 'id' AND pk = 1",
        );
        assert_eq!(ids, Ok(1), "entries has its declared id");
    }

    #[tokio::test]
    async fn tags_an_older_docpipe_wrote_to_a_shared_cache_are_moved() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = DiskStore::new(dir.path().to_path_buf(), &DiskSettings::default());
        store
            .put_many(&[entry("a", b"1", "path:a.py"), entry("b", b"2", "path:b.py")])
            .await
            .expect("put");
        drop(store);
        {
            // What the first layout's docpipe does when it opens the file
            // and stores `b` again: its schema, then a replace and a tag.
            let conn = Connection::open(dir.path().join(DB_FILE)).expect("open");
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS tags(tag TEXT NOT NULL, key TEXT NOT NULL,
                     PRIMARY KEY(tag, key)) WITHOUT ROWID;
                 INSERT OR REPLACE INTO entries(key, value, size, stored) VALUES ('b', x'33', 2, 9);
                 INSERT OR IGNORE INTO tags VALUES ('path:b.py', 'b');",
            )
            .expect("older docpipe");
        }
        let store = DiskStore::new(dir.path().to_path_buf(), &DiskSettings::default());
        assert_eq!(store.get("b").await.expect("get"), Some(b"3".to_vec()));
        assert_eq!(store.invalidate_tag("path:b.py").await.expect("tag"), 1);
        assert_eq!(store.get("b").await.expect("get"), None);
        assert_eq!(store.get("a").await.expect("get"), Some(b"1".to_vec()));
        drop(store);
        let conn = Connection::open(dir.path().join(DB_FILE)).expect("open");
        let orphans = number(
            &conn,
            "SELECT COUNT(*) FROM entry_tags WHERE entry NOT IN (SELECT id FROM entries)",
        );
        assert_eq!(orphans, Ok(0));
    }

    #[tokio::test]
    async fn an_entry_stored_again_keeps_its_tags() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = DiskStore::new(dir.path().to_path_buf(), &DiskSettings::default());
        store
            .put_many(&[entry("a", b"1", "path:a.py")])
            .await
            .expect("put");
        store
            .put_many(&[entry("a", b"2", "model:m")])
            .await
            .expect("put");
        assert_eq!(store.get("a").await.expect("get"), Some(b"2".to_vec()));
        assert_eq!(store.invalidate_tag("path:a.py").await.expect("tag"), 1);
        assert_eq!(store.stats().await.expect("stats").entries, 0);
        store.remove("a").await.expect("remove");
    }

    #[tokio::test]
    async fn the_oldest_entries_go_past_max_mb() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = DiskStore::new(
            dir.path().to_path_buf(),
            &DiskSettings {
                dir: String::new(),
                max_mb: 1,
            },
        );
        let value = vec![7u8; 10_000];
        for i in 0..300 {
            store.put(&format!("k{i}"), &value, &[]).await.expect("put");
        }
        let stats = store.stats().await.expect("stats");
        // Measured every 1/20 of the bound: at most that much over it.
        assert!(stats.bytes <= 1024 * 1024 * 21 / 20, "{stats:?}");
        assert!(stats.entries < 300 && stats.entries > 50, "{stats:?}");
        // The newest survive, the oldest went.
        assert!(store.get("k299").await.expect("get").is_some());
        assert!(store.get("k0").await.expect("get").is_none());
    }

    #[tokio::test]
    async fn a_directory_that_cannot_be_created_is_an_error_of_the_tier() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("file");
        std::fs::write(&file, "x").expect("write");
        let store = DiskStore::new(file.join("cache"), &DiskSettings::default());
        // Reading an absent cache creates nothing and finds nothing.
        assert_eq!(store.get("a").await.expect("get"), None);
        let e = store.put("a", b"1", &[]).await.expect_err("no directory");
        assert_eq!(e.tier, "disk");
        assert!(e.message.contains("cannot create"), "{e}");
    }
}
