//! The cache through the real binary: two checkouts sharing one Redis, a
//! Redis that is down or killed during a run, two processes sharing the
//! disk tier, a cached value that fails validation, and the check result
//! cache. Model calls go over HTTP to the in-process fake OpenAI server;
//! Redis is a real `redis-server` each test starts on a free port.

mod support;

#[allow(dead_code)]
#[path = "../stages/tests/llm_support/fake_openai.rs"]
mod fake_openai;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use fake_openai::{Auth, FakeServer, good_reply, well_behaved};
use serde_json::Value;
use support::{RedisServer, copy_dir, docpipe, repo};

/// Every file under `dir` (the cache directory left out) with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.file_name().is_some_and(|n| n == ".docpipe") {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "py") {
                let rel = path.strip_prefix(root).expect("prefix").to_path_buf();
                let bytes = std::fs::read(&path).expect("read");
                out.insert(rel, String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A checkout: a directory holding a copy of examples/sample.
fn checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&repo().join("examples/sample"), &dir.path().join("sample"));
    dir
}

/// `docpipe --set ... run generate sample` in `dir` against `server`, with
/// the tiers given; `extra` holds more `--set` values, and flags (`--estimate`).
/// Returns (status, stderr, report).
async fn generate(
    dir: &Path,
    server: &FakeServer,
    tiers: &str,
    extra: &[String],
) -> (i32, String, Value) {
    let mut cmd = docpipe(dir);
    let report = dir.join("report.json");
    let (flags, sets): (Vec<&String>, Vec<&String>) =
        extra.iter().partition(|e| e.starts_with("--"));
    for s in [
        "model.provider=openai".to_string(),
        format!("model.base_url={}/v1", server.url),
        "model.name=gpt-4o-mini".into(),
        "model.concurrency=2".into(),
        format!("cache.tiers={tiers}"),
    ]
    .iter()
    .chain(sets)
    {
        cmd.args(["--set", s]);
    }
    cmd.arg("--report")
        .arg(&report)
        .args(["run", "generate", "sample"])
        .args(flags);
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run docpipe"))
        .await
        .expect("join");
    let report: Value = std::fs::read_to_string(dir.join("report.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        report,
    )
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_checkout_sharing_redis_makes_no_model_request_and_writes_the_same_files() {
    let redis = RedisServer::start();
    let server = FakeServer::start(Auth::OpenAi(None), well_behaved()).await;
    let url = format!("cache.redis.redis_url={}", redis.url());
    let tiers = r#"["memory", "disk", "redis"]"#;
    let (tiers_set, redis_set) = (format!("cache.tiers={tiers}"), url.clone());

    let first = checkout();
    let (status, stderr, report) =
        generate(first.path(), &server, tiers, std::slice::from_ref(&url)).await;
    assert_eq!(status, 0, "{stderr}");
    let generated = n(&report["by_state"]["generated"]);
    assert!(generated > 0, "{report}");
    let asked = server.requests().len();
    assert!(asked > 0);
    assert_eq!(
        n(&report["cache"]["tiers"]["redis"]["errors"]),
        0,
        "{report}"
    );

    // Another runner: another directory, an empty disk tier, the same Redis.
    let second = checkout();
    let (status, stderr, report) = generate(second.path(), &server, tiers, &[url]).await;
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(
        server.requests().len(),
        asked,
        "the second checkout asked the model"
    );
    assert_eq!(n(&report["model"]["requests"]), 0, "{report}");
    assert_eq!(n(&report["by_state"]["cached"]), generated, "{report}");
    assert_eq!(n(&report["by_state"]["generated"]), 0, "{report}");
    assert_eq!(n(&report["cache"]["tiers"]["redis"]["hits"]), generated);
    // One round trip per file with units to look up, plus the stores (none here).
    let files = n(&report["files_written"]);
    assert!(
        n(&report["cache"]["tiers"]["redis"]["requests"]) <= files + 1,
        "{report}"
    );
    assert_eq!(tree(first.path()), tree(second.path()));

    // Invalidation by path reaches Redis (a tag set, no scan), and stats see it.
    let cache_cmd = |args: &[&str]| {
        let out = docpipe(second.path())
            .args(["--set", tiers_set.as_str(), "--set", redis_set.as_str()])
            .arg("cache")
            .args(args)
            .output()
            .expect("run docpipe");
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (_, said) = cache_cmd(&["invalidate", "--path", "sample/inventory/pricing.py"]);
    let gone: u64 = said
        .lines()
        .find_map(|l| l.strip_prefix("redis: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no redis line: {said}"));
    assert!(gone > 0, "{said}");
    let (stats, _) = cache_cmd(&["stats"]);
    let redis_row: Vec<&str> = stats
        .lines()
        .find(|l| l.starts_with("redis"))
        .unwrap_or_else(|| panic!("no redis row: {stats}"))
        .split_whitespace()
        .collect();
    let entries: u64 = redis_row[1].parse().expect("entries");
    assert_eq!(entries, generated - gone, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_is_down_costs_one_warning_and_no_unit() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let server = FakeServer::start(Auth::OpenAi(None), well_behaved()).await;
    let dir = checkout();
    let (status, stderr, report) = generate(
        dir.path(),
        &server,
        r#"["memory", "redis"]"#,
        &[format!("cache.redis.redis_url=redis://127.0.0.1:{port}")],
    )
    .await;
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(stderr.matches("redis cache:").count(), 1, "{stderr}");
    assert!(stderr.contains("start Redis"), "{stderr}");
    assert!(
        n(&report["cache"]["tiers"]["redis"]["errors"]) > 0,
        "{report}"
    );
    assert_eq!(n(&report["by_state"]["failed"]), 0, "{report}");
    assert!(n(&report["by_state"]["generated"]) > 0, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_tier_that_cannot_be_written_costs_one_warning_and_no_unit() {
    // The tier's directory would be inside a regular file: nothing can be
    // created there, by root either (a read-only mode would not stop root).
    let server = FakeServer::start(Auth::OpenAi(None), well_behaved()).await;
    let dir = checkout();
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "not a directory").expect("write");
    let unwritable = blocker.join("cache").display().to_string();
    let (status, stderr, report) = generate(
        dir.path(),
        &server,
        r#"["memory", "disk"]"#,
        &[format!("cache.disk.dir={unwritable:?}")],
    )
    .await;
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(
        stderr.matches("without the disk cache tier").count(),
        1,
        "{stderr}"
    );
    assert!(
        n(&report["cache"]["tiers"]["disk"]["errors"]) > 0,
        "{report}"
    );
    assert_eq!(n(&report["by_state"]["failed"]), 0, "{report}");
    let generated = n(&report["by_state"]["generated"]);
    assert!(generated > 0, "{report}");
    // Every unit went to the model once: the memory tier still worked.
    assert_eq!(server.requests().len() as u64, generated, "{report}");
    assert_eq!(
        std::fs::read_to_string(&blocker).expect("read"),
        "not a directory"
    );
}

/// A tmpfs of `size` mounted at `dir`, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).expect("mount point");
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test mounts a {size} tmpfs to fill the disk tier, which needs root \
             (CAP_SYS_ADMIN), as the CI has: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_disk_that_fills_up_during_a_run_costs_one_warning_and_no_unit() {
    let dir = checkout();
    // Enough definitions that the stores outgrow a 160 KiB disk mid-run.
    let many: String = (0..400)
        .map(|i| format!("def f{i}(a, b):\n    return a + b * {i}\n\n\n"))
        .collect();
    std::fs::write(dir.path().join("sample/many.py"), many).expect("write");
    let cache = dir.path().join("cache");
    let _disk = Tmpfs::mount(&cache, "160k");
    let out = docpipe(dir.path())
        .args(["--set", r#"cache.tiers=["memory", "disk"]"#])
        .args([
            "--set",
            &format!("cache.disk.dir={:?}", cache.display().to_string()),
        ])
        .args(["--report", "report.json", "run", "generate", "sample"])
        .output()
        .expect("run docpipe");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.matches("disk cache:").count(), 1, "{stderr}");
    assert!(stderr.contains("disk is full"), "{stderr}");
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("report.json")).expect("report"),
    )
    .expect("json");
    let disk = &report["cache"]["tiers"]["disk"];
    // The tier worked (its lookups were answered), then the disk filled.
    assert!(
        n(&disk["requests"]) > 0 && n(&disk["errors"]) > 0,
        "{report}"
    );
    assert!(cache.join("cache.db").is_file());
    assert_eq!(n(&report["by_state"]["failed"]), 0, "{report}");
    assert!(n(&report["by_state"]["generated"]) >= 400, "{report}");
    let written = std::fs::read_to_string(dir.path().join("sample/many.py")).expect("read");
    assert_eq!(
        written.matches("\"\"\"").count(),
        2 * 400 + 2,
        "every unit written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_redis_during_a_run_ends_with_a_warning_and_every_unit_accounted() {
    let redis = RedisServer::start();
    // Slow answers, so the run is still going when Redis dies.
    let slow: fake_openai::Script = Arc::new(|r| good_reply(r).after(Duration::from_millis(30)));
    let server = FakeServer::start(Auth::OpenAi(None), slow).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let sample = dir.path().join("sample");
    std::fs::create_dir_all(&sample).expect("mkdir");
    for f in 0..40 {
        let mut text = String::new();
        for i in 0..5 {
            text.push_str(&format!(
                "def f{f}_{i}(a, b):\n    return a + b * {i}\n\n\n"
            ));
        }
        std::fs::write(sample.join(format!("m{f}.py")), text).expect("write");
    }
    let url = [format!("cache.redis.redis_url={}", redis.url())];
    let killer = {
        let redis = &redis;
        async move {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            redis.kill();
        }
    };
    let ((status, stderr, report), ()) = tokio::join!(
        generate(dir.path(), &server, r#"["memory", "redis"]"#, &url),
        killer
    );
    assert!(status == 0 || status == 1, "exit {status}: {stderr}");
    let redis_report = &report["cache"]["tiers"]["redis"];
    assert!(
        n(&redis_report["requests"]) > 0,
        "Redis was never used: {report}"
    );
    assert!(
        n(&redis_report["errors"]) > 0,
        "Redis outlived the run: {report}"
    );
    assert_eq!(stderr.matches("redis cache:").count(), 1, "{stderr}");
    let units = n(&report["units"]);
    assert_eq!(units, 40 * 6);
    let by_state = &report["by_state"];
    let total: u64 = [
        "kept",
        "cached",
        "generated",
        "failed",
        "skipped",
        "cancelled",
    ]
    .iter()
    .map(|k| n(&by_state[k]))
    .sum();
    assert_eq!(total, units, "{report}");
    assert_eq!(n(&by_state["failed"]), 0, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_the_disk_tier() {
    let slow: fake_openai::Script = Arc::new(|r| good_reply(r).after(Duration::from_millis(10)));
    let server = FakeServer::start(Auth::OpenAi(None), slow).await;
    // One project (the disk tier next to its pipeline.toml), two trees.
    let project = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        project.path().join("pipeline.toml"),
        std::fs::read_to_string(repo().join("pipeline.toml")).expect("pipeline.toml"),
    )
    .expect("write");
    let a = project.path().join("a");
    let b = project.path().join("b");
    copy_dir(&repo().join("examples/sample"), &a.join("sample"));
    copy_dir(&repo().join("examples/sample"), &b.join("sample"));
    let tiers = r#"["disk"]"#;
    let (ra, rb) = tokio::join!(
        generate(&a, &server, tiers, &[]),
        generate(&b, &server, tiers, &[])
    );
    for (status, stderr, report) in [&ra, &rb] {
        assert_eq!(*status, 0, "{stderr}");
        assert_eq!(n(&report["cache"]["errors"]), 0, "{report}");
        assert_eq!(n(&report["by_state"]["failed"]), 0, "{report}");
    }
    assert!(project.path().join(".docpipe/cache/cache.db").is_file());
    assert_eq!(
        std::fs::read_to_string(project.path().join(".docpipe/cache/.gitignore"))
            .expect(".gitignore"),
        "*\n"
    );
    // What either wrote, a third run finds.
    let asked = server.requests().len();
    let c = project.path().join("c");
    copy_dir(&repo().join("examples/sample"), &c.join("sample"));
    let (status, stderr, report) = generate(&c, &server, tiers, &[]).await;
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(server.requests().len(), asked, "{report}");
    assert!(n(&report["by_state"]["cached"]) > 0, "{report}");
    assert_eq!(n(&report["by_state"]["generated"]), 0, "{report}");
    assert_eq!(tree(&a), tree(&c));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_value_that_fails_validation_is_evicted_and_regenerated() {
    let server = FakeServer::start(Auth::OpenAi(None), well_behaved()).await;
    let project = tempfile::tempdir().expect("temp dir");
    let first = project.path().join("first");
    copy_dir(&repo().join("examples/sample"), &first.join("sample"));
    let tiers = r#"["memory", "disk"]"#;
    let (status, stderr, report) = generate(&first, &server, tiers, &[]).await;
    assert_eq!(status, 0, "{stderr}");
    let generated = n(&report["by_state"]["generated"]);
    assert!(generated > 0);

    // Every cached docstring replaced: some break the schema, some its rules.
    let db = first.join(".docpipe/cache/cache.db");
    let conn = rusqlite::Connection::open(&db).expect("open the disk tier");
    let keys: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT key FROM entries WHERE key LIKE 'unit:%' ORDER BY key")
            .expect("prepare");
        stmt.query_map([], |r| r.get(0))
            .expect("query")
            .map(|k| k.expect("key"))
            .collect()
    };
    assert_eq!(keys.len() as u64, generated);
    for (i, key) in keys.iter().enumerate() {
        let bad = if i % 2 == 0 {
            r#"{"qualname": "x", "summary": 3}"#.to_string()
        } else {
            // Follows the schema, but a summary of two lines would change
            // the docstring's structure: refused as a model's answer is.
            serde_json::json!({
                "qualname": "x", "summary": "Two\nlines.", "description": "",
                "params": [], "returns": null, "yields": null, "raises": [],
                "examples": "", "notes": ""
            })
            .to_string()
        };
        conn.execute(
            "UPDATE entries SET value = ?1 WHERE key = ?2",
            rusqlite::params![bad.as_bytes(), key],
        )
        .expect("update");
    }
    drop(conn);

    let before = server.requests().len();
    let again = tempfile::tempdir().expect("temp dir");
    copy_dir(
        &repo().join("examples/sample"),
        &again.path().join("sample"),
    );
    // The same project directory: the same disk tier.
    let mut extra = vec![format!(
        "cache.disk.dir={}",
        first.join(".docpipe/cache").display()
    )];
    let (status, stderr, report) = generate(again.path(), &server, tiers, &extra).await;
    assert_eq!(status, 0, "{stderr}");
    assert!(
        server.requests().len() > before,
        "nothing went to the model"
    );
    let evicted = n(&report["cache"]["evictions"]);
    let cached = n(&report["by_state"]["cached"]);
    assert_eq!(cached + evicted, generated, "{report}");
    assert!(evicted >= generated / 2, "{report}");
    assert_eq!(n(&report["cache"]["tiers"]["disk"]["evictions"]), evicted);
    assert_eq!(n(&report["by_state"]["generated"]), evicted, "{report}");
    assert_eq!(n(&report["by_state"]["failed"]), 0, "{report}");
    assert_eq!(tree(&first), tree(again.path()));

    // The regenerated values replaced the bad ones: the next run is all cached.
    let third = tempfile::tempdir().expect("temp dir");
    copy_dir(
        &repo().join("examples/sample"),
        &third.path().join("sample"),
    );
    extra.push("model.max_attempts=1".into());
    let (status, stderr, report) = generate(third.path(), &server, tiers, &extra).await;
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(n(&report["by_state"]["cached"]), generated, "{report}");
    assert_eq!(n(&report["cache"]["evictions"]), 0, "{report}");
}

/// `docpipe run check sample --format json` in `dir`: (stdout, report).
fn check(dir: &Path, extra: &[&str]) -> (String, Value) {
    let report = dir.join("check-report.json");
    let out = docpipe(dir)
        .arg("--report")
        .arg(&report)
        .args(["run", "check", "sample", "--format", "json"])
        .args(extra)
        .output()
        .expect("run docpipe");
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    (String::from_utf8_lossy(&out.stdout).into_owned(), report)
}

fn received(report: &Value, stage: &str) -> u64 {
    report["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == stage))
        .map_or(0, |s| n(&s["received"]))
}

#[test]
fn check_parses_only_the_files_that_changed() {
    let dir = checkout();
    // A file that does not parse: its finding is kept too.
    std::fs::write(
        dir.path().join("sample/broken.py"),
        "def broken(:\n    pass\n",
    )
    .expect("write");
    let (cold, report) = check(dir.path(), &[]);
    assert!(cold.contains("DP003"), "{cold}");
    let files = received(&report, "extract");
    assert!(files >= 4, "{report}");
    assert_eq!(n(&report["cache"]["misses"]), files);

    let (warm, report) = check(dir.path(), &[]);
    assert_eq!(received(&report, "extract"), 0, "parsed again: {report}");
    assert_eq!(n(&report["cache"]["hits"]), files);
    assert_eq!(warm, cold);

    // One file edited: only it is parsed, and its new finding shows.
    let edited = dir.path().join("sample/inventory/pricing.py");
    let mut text = std::fs::read_to_string(&edited).expect("read");
    text.push_str("\n\ndef added(x):\n    return x\n");
    std::fs::write(&edited, text).expect("write");
    let (after, report) = check(dir.path(), &[]);
    assert_eq!(received(&report, "extract"), 1, "{report}");
    assert_eq!(n(&report["cache"]["hits"]), files - 1);
    assert!(after.contains("added"), "{after}");
    let (uncached, report) = check(dir.path(), &["--no-cache"]);
    assert_eq!(received(&report, "extract"), files, "{report}");
    assert_eq!(after, uncached);

    // A change to the analyzer's options is a miss for every file.
    let (_, report) = check(dir.path(), &["--set", "stages.analyze.ignore=[\"DP120\"]"]);
    assert_eq!(received(&report, "extract"), files, "{report}");
}

#[test]
fn cache_commands_show_clear_and_invalidate_the_disk_tier() {
    let dir = checkout();
    check(dir.path(), &[]);
    let stats = docpipe(dir.path())
        .args(["cache", "stats"])
        .output()
        .expect("run");
    assert_eq!(stats.status.code(), Some(0));
    let text = String::from_utf8_lossy(&stats.stdout).into_owned();
    let disk = text
        .lines()
        .find(|l| l.starts_with("disk"))
        .unwrap_or_else(|| panic!("no disk line: {text}"));
    let columns: Vec<&str> = disk.split_whitespace().collect();
    assert_eq!(columns[1], "3", "{text}");

    let out = docpipe(dir.path())
        .args([
            "cache",
            "invalidate",
            "--path",
            "sample/inventory/pricing.py",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("disk: 1 entry"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, report) = check(dir.path(), &[]);
    assert_eq!(received(&report, "extract"), 1, "{report}");

    let out = docpipe(dir.path())
        .args(["cache", "clear", "--tier", "disk"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let (_, report) = check(dir.path(), &[]);
    assert_eq!(received(&report, "extract"), 3, "{report}");

    let out = docpipe(dir.path())
        .args(["cache", "clear", "--tier", "dsk"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`disk`"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn estimate_counts_cached_units_and_writes_nothing() {
    let server = FakeServer::start(Auth::OpenAi(None), well_behaved()).await;
    let dir = checkout();
    let tiers = r#"["memory", "disk"]"#;
    let (status, stderr, report) = generate(dir.path(), &server, tiers, &[]).await;
    assert_eq!(status, 0, "{stderr}");
    let generated = n(&report["by_state"]["generated"]);

    // The same code again, undocumented: everything is in the cache.
    std::fs::remove_dir_all(dir.path().join("sample")).expect("rm");
    copy_dir(&repo().join("examples/sample"), &dir.path().join("sample"));
    let before = tree(dir.path());
    let asked = server.requests().len();
    let (status, stderr, report) =
        generate(dir.path(), &server, tiers, &["--estimate".to_string()]).await;
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(server.requests().len(), asked);
    assert_eq!(n(&report["cache"]["hits"]), generated, "{report}");
    assert_eq!(n(&report["by_state"]["skipped"]), generated, "{report}");
    assert_eq!(tree(dir.path()), before, "--estimate wrote a file");
}

/// `docpipe --set cache.tiers=... --report report.json run generate TARGET`
/// with the template model in `dir`; returns the report.
fn generate_template(dir: &Path, tiers: &str, target: &str, extra: &[&str]) -> Value {
    let out = docpipe(dir)
        .args(["--set", &format!("cache.tiers={tiers}")])
        .args(["--report", "report.json", "run", "generate", target])
        .args(extra)
        .output()
        .expect("run docpipe");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).expect("report"))
        .expect("report JSON")
}

#[test]
fn a_module_of_more_units_than_one_lookup_holds_is_cached_whole() {
    // With the template model a file's units are looked up 1,024 at a
    // time as they come, not held until the file is whole: every group,
    // the last and shorter one included, must be stored and found again.
    let functions = 2 * 1024 + 300;
    let mut code = String::from("\"\"\"Many functions.\"\"\"\n");
    for i in 0..functions {
        code.push_str(&format!("\n\ndef f{i}(x):\n    return x + {i}\n"));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let tiers = r#"["memory", "disk"]"#;
    std::fs::write(dir.path().join("big.py"), &code).expect("write");
    let first = generate_template(dir.path(), tiers, "big.py", &[]);
    assert_eq!(
        n(&first["by_state"]["generated"]),
        functions as u64,
        "{first}"
    );
    assert_eq!(n(&first["cache"]["hits"]), 0, "{first}");
    let written = std::fs::read_to_string(dir.path().join("big.py")).expect("read");

    std::fs::write(dir.path().join("big.py"), &code).expect("write");
    let second = generate_template(dir.path(), tiers, "big.py", &[]);
    assert_eq!(
        n(&second["by_state"]["cached"]),
        functions as u64,
        "{second}"
    );
    assert_eq!(n(&second["by_state"]["generated"]), 0, "{second}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("big.py")).expect("read"),
        written
    );

    // No tier to ask: each unit goes straight on, and the file is the same.
    std::fs::write(dir.path().join("big.py"), &code).expect("write");
    let third = generate_template(dir.path(), tiers, "big.py", &["--no-cache"]);
    assert_eq!(
        n(&third["by_state"]["generated"]),
        functions as u64,
        "{third}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("big.py")).expect("read"),
        written
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callees_summary_is_part_of_the_key_only_for_a_model_that_reads_the_prompt() {
    // `a` calls `b`: a model's prompt for `a` shows `b`'s summary, so a new
    // summary is a new key; the template reads no prompt, and its entry
    // for `a` still holds.
    let code = |summary: &str| {
        format!(
            "\"\"\"Greetings.\"\"\"\n\n\ndef b():\n    \"\"\"{summary}\"\"\"\n    print(\"hi\")\n\n\ndef a():\n    b()\n"
        )
    };
    let server = FakeServer::start(Auth::OpenAi(None), well_behaved()).await;
    let tiers = r#"["disk"]"#;
    let dir = tempfile::tempdir().expect("temp dir");
    let module = dir.path().join("sample/m.py");
    std::fs::create_dir_all(dir.path().join("sample")).expect("mkdir");

    std::fs::write(&module, code("Say hello.")).expect("write");
    let (status, stderr, report) = generate(dir.path(), &server, tiers, &[]).await;
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(n(&report["by_state"]["generated"]), 1, "{report}");
    std::fs::write(&module, code("Say hello.")).expect("write");
    let (status, stderr, report) = generate(dir.path(), &server, tiers, &[]).await;
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(n(&report["by_state"]["cached"]), 1, "{report}");
    std::fs::write(&module, code("Say goodbye.")).expect("write");
    let (status, stderr, report) = generate(dir.path(), &server, tiers, &[]).await;
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(n(&report["by_state"]["generated"]), 1, "{report}");
    assert_eq!(n(&report["by_state"]["cached"]), 0, "{report}");

    for (summary, state) in [
        ("Say hello.", "generated"),
        ("Say hello.", "cached"),
        ("Say goodbye.", "cached"),
    ] {
        std::fs::write(&module, code(summary)).expect("write");
        let report = generate_template(dir.path(), tiers, "sample", &[]);
        assert_eq!(n(&report["by_state"][state]), 1, "{summary}: {report}");
    }
}
