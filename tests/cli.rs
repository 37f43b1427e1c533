//! The `docpipe` binary as users and CI run it.

mod support;

use std::process::Command;

use support::{docpipe, repo, sample_copy};

/// Runs `docpipe --config FILE validate` on `text` and returns (status, stderr).
fn validate_text(text: &str) -> (i32, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("pipeline.toml"), text).expect("write");
    let out = docpipe(dir.path()).arg("validate").output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn repository_pipeline() -> String {
    std::fs::read_to_string(repo().join("pipeline.toml")).expect("pipeline.toml")
}

#[test]
fn validate_accepts_the_repository_pipeline() {
    let out = docpipe(&repo()).arg("validate").output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`generate`, `check`, `docs`"), "{stderr}");
}

#[test]
fn broken_configurations_exit_2_and_name_the_line() {
    let good = repository_pipeline();
    let cases: Vec<(&str, String)> = vec![
        (
            "toml_syntax",
            good.replacen("[stages.extract]", "[stages.extract", 1),
        ),
        (
            "unknown_stage_type",
            good.replacen("type = \"python-extract\"", "type = \"python-extarct\"", 1),
        ),
        (
            "unknown_option",
            good.replacen(
                "type = \"python-extract\"",
                "type = \"python-extract\"\nthreads = 4",
                1,
            ),
        ),
        (
            "unknown_input",
            good.replacen("inputs = [\"extract\"]", "inputs = [\"extracts\"]", 1),
        ),
        (
            "unknown_port",
            good.replacen(
                "inputs = [\"analyze.complete\", \"analyze.incomplete\"]",
                "inputs = [\"analyze.complete\", \"analyze.incomplet\"]",
                1,
            ),
        ),
        (
            "cycle",
            good.replacen(
                "inputs = [\"extract\"]",
                "inputs = [\"extract\", \"parse\"]",
                1,
            ),
        ),
        (
            "no_sink_reachable",
            good.replacen(
                "stages = [\"source\", \"results\", \"extract\", \"analyze\", \"remember\", \"report\"]",
                "stages = [\"source\", \"results\", \"extract\", \"analyze\", \"remember\", \"report\", \"cache\"]",
                1,
            ),
        ),
        (
            "pipeline_names_unknown_stage",
            good.replacen(
                "stages = [\"source\", \"results\", \"extract\", \"docs\"]",
                "stages = [\"source\", \"results\", \"extract\", \"doc\"]",
                1,
            ),
        ),
        (
            "unset_environment_variable",
            good.replacen(
                "${DOCPIPE_DOCS_DIR:-docs/api}",
                "${DOCPIPE_TEST_SURELY_UNSET_VAR}",
                1,
            ),
        ),
    ];
    for (name, text) in cases {
        assert_ne!(text, good, "case {name} did not change the file");
        let (status, stderr) = validate_text(&text);
        assert_eq!(status, 2, "case {name}: {stderr}");
        assert!(
            stderr.contains("--> pipeline.toml:"),
            "case {name} names no line: {stderr}"
        );
        insta::assert_snapshot!(name, stderr);
    }
}

#[test]
fn graph_dot_prints_one_edge_per_inputs_entry() {
    let text = repository_pipeline();
    let table: toml::Table = toml::from_str(&text).expect("toml");
    for pipeline in ["generate", "check", "docs"] {
        let members: Vec<String> = table["pipelines"][pipeline]["stages"]
            .as_array()
            .expect("stages")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let inputs: usize = members
            .iter()
            .map(|m| {
                table["stages"][m.as_str()]
                    .get("inputs")
                    .and_then(|i| i.as_array())
                    .map_or(0, Vec::len)
            })
            .sum();
        let out = docpipe(&repo())
            .args(["graph", pipeline, "--format", "dot"])
            .output()
            .expect("run");
        assert!(out.status.success());
        let dot = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            dot.lines().filter(|l| l.contains(" -> ")).count(),
            inputs,
            "{pipeline}:\n{dot}"
        );
    }
    let out = docpipe(&repo())
        .args(["graph", "check", "--format", "mermaid"])
        .output()
        .expect("run");
    insta::assert_snapshot!("graph_check_mermaid", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn stages_lists_every_type_with_options_and_ports() {
    let out = docpipe(&repo()).arg("stages").output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for t in [
        "python-source",
        "python-extract",
        "docstring-analyze",
        "check-report",
        "token-budget",
        "llm-generate",
        "reply-parse",
        "python-writer",
        "docs-markdown",
    ] {
        assert!(text.contains(&format!("{t} (")), "{t} missing:\n{text}");
    }
    assert!(text.contains("port complete (units)"), "{text}");
    assert!(text.contains("[model] (shared section)"), "{text}");
    let out = docpipe(&repo())
        .args(["stages", "--json"])
        .output()
        .expect("run");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(json["stages"].as_array().is_some_and(|a| a.len() >= 9));
}

#[test]
fn init_writes_a_starter_file_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().expect("temp dir");
    docpipe(dir.path()).arg("init").assert().success();
    let written = std::fs::read_to_string(dir.path().join("pipeline.toml")).expect("written");
    assert!(written.starts_with('#'), "the starter file is commented");
    docpipe(dir.path()).arg("validate").assert().success();
    let out = docpipe(dir.path()).arg("init").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pipeline.toml")).expect("still there"),
        written
    );
}

#[test]
fn check_fails_then_generate_documents_then_everything_is_kept() {
    let dir = sample_copy();
    let report = dir.path().join("report.json");
    docpipe(dir.path())
        .args(["run", "check", "sample"])
        .assert()
        .code(1);
    docpipe(dir.path())
        .args(["run", "generate", "sample", "--check"])
        .assert()
        .code(1);
    docpipe(dir.path())
        .args(["run", "generate", "sample", "--report"])
        .arg(&report)
        .assert()
        .success();
    let first: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    for key in [
        "units",
        "by_state",
        "files_written",
        "failures",
        "stages",
        "duration_ms",
        "model",
        "cache",
    ] {
        assert!(first.get(key).is_some(), "report lacks `{key}`");
    }
    for key in ["kept", "cached", "generated", "failed", "skipped"] {
        assert!(
            first["by_state"].get(key).is_some(),
            "by_state lacks `{key}`"
        );
    }
    for key in [
        "requests",
        "retries",
        "prompt_tokens",
        "completion_tokens",
        "cost_usd",
    ] {
        assert!(first["model"].get(key).is_some(), "model lacks `{key}`");
    }
    for key in ["hits", "misses", "errors"] {
        assert!(first["cache"].get(key).is_some(), "cache lacks `{key}`");
    }
    // `--check` generated them already and kept them in the cache.
    assert!(
        first["by_state"]["generated"].as_u64().unwrap_or(0)
            + first["by_state"]["cached"].as_u64().unwrap_or(0)
            > 0,
        "{first}"
    );
    assert_eq!(first["by_state"]["failed"], 0, "{first}");
    assert!(first["files_written"].as_u64().unwrap_or(0) >= 2, "{first}");

    // Nothing is left but the placeholders a person must fill in.
    let checked = docpipe(dir.path())
        .args(["run", "check", "sample", "--format", "json"])
        .output()
        .expect("run");
    let findings: serde_json::Value =
        serde_json::from_slice(&checked.stdout).expect("json findings");
    let codes: Vec<&str> = findings["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(
        !codes.is_empty() && codes.iter().all(|c| *c == "DP120"),
        "{codes:?}"
    );
    docpipe(dir.path())
        .args([
            "run",
            "check",
            "sample",
            "--set",
            "stages.analyze.ignore=[\"DP120\"]",
        ])
        .assert()
        .success();
    docpipe(dir.path())
        .args(["run", "generate", "sample", "--check"])
        .assert()
        .success();
    docpipe(dir.path())
        .args(["run", "generate", "sample", "--report"])
        .arg(&report)
        .assert()
        .success();
    let second: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    assert_eq!(second["by_state"]["kept"], second["units"], "{second}");
    assert_eq!(second["files_written"], 0, "{second}");
}

#[test]
fn diff_prints_changes_and_writes_nothing() {
    let dir = sample_copy();
    let path = dir.path().join("sample/inventory/pricing.py");
    let before = std::fs::read(&path).expect("read");
    let out = docpipe(dir.path())
        .args(["run", "generate", "--diff", "sample"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(diff.contains("+++ b/sample/inventory/pricing.py"), "{diff}");
    assert_eq!(std::fs::read(&path).expect("read"), before);
}

#[test]
fn set_overrides_reach_the_stages() {
    let dir = sample_copy();
    let out = docpipe(dir.path())
        .args([
            "run",
            "generate",
            "--diff",
            "sample",
            "--set",
            "style.name=numpy",
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(diff.contains("+    Parameters\n+    ----------"), "{diff}");
    let out = docpipe(dir.path())
        .args(["run", "generate", "sample", "--set", "style.name=numpy-ish"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--set style.name=numpy-ish"));
}

#[test]
fn a_path_that_does_not_exist_is_a_usage_error() {
    let dir = sample_copy();
    let out = docpipe(dir.path())
        .args(["run", "check", "nowhere"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere does not exist"));
    let out = docpipe(dir.path())
        .args(["run", "chek"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `check`?"));
}

#[test]
fn sigterm_stops_the_run_with_130_and_leaves_no_partial_file() {
    // A corpus big enough that the run is still going when the signal comes.
    let dir = tempfile::tempdir().expect("temp dir");
    let (corpus, body) = support::big_corpus(dir.path());
    let bin = assert_cmd::cargo::cargo_bin!("docpipe");
    let mut child = Command::new(bin)
        .current_dir(dir.path())
        .args(["-q", "run", "generate", "corpus"])
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(700));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert_eq!(
        status.code(),
        Some(130),
        "the run must still have been going after 700 ms"
    );
    // Every file is either untouched or completely documented, never half.
    let mut written = 0;
    for f in 0..support::CORPUS_FILES {
        let text = std::fs::read_to_string(corpus.join(format!("m{f}.py"))).expect("read");
        if text != body {
            written += 1;
            assert_eq!(
                text.matches("\"\"\"").count(),
                2 * 201,
                "m{f}.py is partly documented"
            );
        }
    }
    assert!(
        written < support::CORPUS_FILES,
        "the run was not interrupted"
    );
}

#[test]
fn dotenv_variables_fill_the_configuration() {
    let dir = sample_copy();
    let text =
        repository_pipeline().replace("${DOCPIPE_DOCS_DIR:-docs/api}", "${DOCPIPE_TEST_DOCS_OUT}");
    std::fs::write(dir.path().join("pipeline.toml"), text).expect("write");
    // Not set anywhere: a located error.
    let out = docpipe(dir.path()).arg("validate").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    // Set in .env next to the configuration: used.
    std::fs::write(
        dir.path().join(".env"),
        "DOCPIPE_TEST_DOCS_OUT=site/reference\n",
    )
    .expect("write");
    docpipe(dir.path())
        .args(["run", "docs", "sample"])
        .assert()
        .success();
    assert!(
        dir.path().join("site/reference").is_dir(),
        "docs written where .env said"
    );
}

#[test]
fn an_explicit_config_that_cannot_be_read_is_a_usage_error() {
    let dir = sample_copy();
    let out = docpipe(dir.path())
        .args(["--config", "missing.toml", "validate"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read missing.toml"), "{stderr}");
    assert!(stderr.contains("docpipe init"), "{stderr}");
}
