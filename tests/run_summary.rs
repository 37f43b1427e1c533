//! What `docpipe run` says about a run: a closing line that fits the
//! pipeline, counts that add up also after an interruption, a warning when
//! there is nothing to check, estimates that need no key, and logs that
//! are docpipe's own.

mod support;

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin_cmd;
use support::sample_copy;

/// (status, stdout, stderr)
fn docpipe(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let ran = support::run(dir, args);
    (ran.status, ran.stdout, ran.stderr)
}

fn closing_line(stderr: &str) -> &str {
    stderr
        .lines()
        .rfind(|l| l.starts_with("docpipe: "))
        .unwrap_or_else(|| panic!("no closing line in:\n{stderr}"))
}

#[test]
fn check_says_findings_files_and_coverage_and_generate_says_units_and_files() {
    let dir = sample_copy();
    let (status, _, stderr) = docpipe(dir.path(), &["run", "check", "sample"]);
    assert_eq!(status, 1, "{stderr}");
    let line = closing_line(&stderr);
    assert!(
        line.contains(" findings in ") && line.contains(" of 3 files checked; docstring coverage "),
        "{line}"
    );
    assert!(
        !line.contains("kept") && !line.contains("written"),
        "{line}"
    );

    let (status, _, stderr) = docpipe(dir.path(), &["run", "generate", "sample"]);
    assert_eq!(status, 0, "{stderr}");
    let line = closing_line(&stderr);
    assert!(
        line.starts_with("docpipe: 15 units: 3 kept, 12 generated; 2 files written ("),
        "{line}"
    );
    let (_, _, stderr) = docpipe(dir.path(), &["run", "generate", "sample"]);
    assert!(
        closing_line(&stderr).starts_with("docpipe: 15 units: 15 kept; no file written ("),
        "{stderr}"
    );
    // Only the template's placeholders are left for people to fill in.
    let (status, _, stderr) = docpipe(
        dir.path(),
        &[
            "run",
            "check",
            "sample",
            "--set",
            "stages.analyze.ignore=[\"DP120\"]",
        ],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(
        closing_line(&stderr).starts_with("docpipe: no findings in 3 files checked;"),
        "{stderr}"
    );
}

#[test]
fn a_directory_without_python_files_warns_and_passes() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
    std::fs::write(dir.path().join("empty/notes.txt"), "no python\n").expect("write");
    let (status, _, stderr) = docpipe(dir.path(), &["run", "check", "empty"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(
        stderr.contains("no Python files found under `empty`"),
        "{stderr}"
    );
    assert!(
        closing_line(&stderr).contains("no file checked"),
        "{stderr}"
    );
    let (_, stdout, _) = docpipe(dir.path(), &["run", "check", "empty"]);
    assert!(stdout.contains("no definitions to measure"), "{stdout}");
    assert!(!stdout.contains("100.0%"), "{stdout}");
    let (_, _, quiet) = docpipe(dir.path(), &["-q", "run", "check", "empty"]);
    assert!(
        !quiet.contains("warning") && !quiet.contains("WARN"),
        "{quiet}"
    );
}

#[test]
fn an_estimate_needs_no_key_and_says_what_the_run_costs() {
    let dir = sample_copy();
    let estimate = |settings: &[&str]| {
        let mut args = vec!["run", "generate", "sample", "--estimate"];
        for s in settings {
            args.extend(["--set", s]);
        }
        docpipe(dir.path(), &args)
    };
    let (status, stdout, stderr) = estimate(&["model.provider=openai"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(
        stdout.contains("estimate for model `gpt-4o-mini` ($0.15 / $0.60 per million"),
        "{stdout}"
    );
    assert!(
        stdout.contains("cost:               under $0.01"),
        "{stdout}"
    );

    let (_, stdout, _) = estimate(&[]);
    assert!(
        stdout.contains("cost:               nothing: the `template` model runs offline"),
        "{stdout}"
    );
    assert!(!stdout.contains("$"), "{stdout}");

    let (_, stdout, _) = estimate(&[
        "model.provider=openai",
        "model.name=llama3.1",
        "model.base_url=http://127.0.0.1:9/v1",
    ]);
    assert!(
        stdout.contains("no price is known for `llama3.1`; add `[model.prices.\"llama3.1\"]`"),
        "{stdout}"
    );
    assert!(!stdout.contains("$0.0000"), "{stdout}");
}

#[test]
fn verbose_logs_are_docpipe_s_own_and_other_crates_speak_through_rust_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("pkg")).expect("mkdir");
    std::fs::write(dir.path().join("pkg/a.py"), "\"\"\"A.\"\"\"\n").expect("write");
    std::fs::write(dir.path().join("pkg/skip.py"), "x = 1\n").expect("write");
    std::fs::write(dir.path().join("pkg/.gitignore"), "skip.py\n").expect("write");
    let (_, _, stderr) = docpipe(dir.path(), &["-vv", "run", "check", "pkg"]);
    assert!(
        stderr.contains("stage `extract` (python-extract) started"),
        "{stderr}"
    );
    assert!(
        stderr.contains("stage `report` (check-report) finished"),
        "{stderr}"
    );
    // The `ignore` crate says why it skips a path at debug level: only RUST_LOG shows it.
    assert!(!stderr.contains("ignoring "), "{stderr}");
    let out = cargo_bin_cmd!("docpipe")
        .current_dir(dir.path())
        .env("RUST_LOG", "debug")
        .args(["run", "check", "pkg"])
        .output()
        .expect("run");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ignoring "),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Parses `docpipe: N units: 3 kept, 2 generated, ...; ...` into (N, sum of states).
fn units_in(line: &str) -> (u64, u64) {
    let rest = line.trim_start_matches("docpipe: ");
    let (units, states) = rest
        .split_once(" units: ")
        .or_else(|| rest.split_once(" unit: "))
        .unwrap_or(("0", ""));
    let states = states.split(';').next().unwrap_or("");
    let sum = states
        .split(", ")
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    (units.parse().unwrap_or(0), sum)
}

#[test]
fn an_interrupted_run_accounts_for_every_unit_in_the_report_and_the_summary() {
    let dir = tempfile::tempdir().expect("temp dir");
    support::big_corpus(dir.path());
    let bin = assert_cmd::cargo::cargo_bin!("docpipe");
    for (round, delay_ms) in [150u64, 600, 1200].into_iter().enumerate() {
        let report = dir.path().join(format!("report{round}.json"));
        let child = Command::new(bin)
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .args(["run", "generate", "corpus", "--diff", "--report"])
            .arg(&report)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(killed.success());
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(130),
            "after {delay_ms} ms: {stderr}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
        assert_eq!(json["interrupted"], true);
        let units = json["units"].as_u64().expect("units");
        let by_state: u64 = json["by_state"]
            .as_object()
            .expect("by_state")
            .values()
            .filter_map(serde_json::Value::as_u64)
            .sum();
        assert_eq!(by_state, units, "after {delay_ms} ms: {json}");
        assert_eq!(
            json["failures"].as_array().map(Vec::len),
            json["by_state"]["failed"].as_u64().map(|n| n as usize)
        );
        let (shown, sum) = units_in(closing_line(&stderr));
        assert_eq!(
            (shown, sum),
            (units, units),
            "after {delay_ms} ms: {stderr}"
        );
    }
}
