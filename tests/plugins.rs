//! Plugins through the `docpipe` binary: native libraries built by this
//! workspace (the examples under plugins/examples and the fixtures under
//! plugins/fixtures, which `cargo build --workspace` builds once) and
//! subprocess stages (`type = "exec"`) in Python.
//!
//! Every failure case must end with a message naming the plugin and saying
//! what to do; a unit a plugin fails on ends failed with the reason, and the
//! other units go on.

#[allow(dead_code)]
#[path = "../stages/tests/llm_support/fake_openai.rs"]
mod fake_openai;
mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{Ran, run};

/// The shared library of workspace crate `krate`, built next to the binary.
fn plugin_lib(krate: &str) -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_docpipe"));
    let dir = bin.parent().expect("the binary's directory");
    let file = format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        krate.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    );
    let path = dir.join(&file);
    assert!(
        path.is_file(),
        "{} is not built: the plugin crates are workspace members; run `cargo build --workspace` \
         (CI builds them once) before `cargo test`",
        path.display()
    );
    path
}

/// A Python 3 interpreter, or a failure that says how to get one.
fn python3() -> &'static str {
    let ok = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "python3 is needed for the exec stage tests: install it (`apt-get install python3`)"
    );
    "python3"
}

const SAMPLE: &str = r#""""A module."""


def good(a):
    """Add one.

    Args:
        a: A number.

    Returns:
        The number plus one.
    """
    return a + 1


def bad(a):
    """Add two

    Args:
        a: A number.

    Returns:
        The number plus two.
    """
    return a + 2


def crash(a):
    """Crash the plugin.

    Args:
        a: A number.

    Returns:
        The number.
    """
    return a


def later(a):
    """Come after the crash.

    Args:
        a: A number.

    Returns:
        The number.
    """
    return a
"#;

/// A project directory with `code.py` and `pipeline.toml`.
fn project(pipeline: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("code.py"), SAMPLE).expect("write code.py");
    std::fs::write(dir.path().join("pipeline.toml"), pipeline).expect("write pipeline.toml");
    dir
}

fn toml_path(p: &Path) -> String {
    p.display().to_string().replace('\\', "/")
}

/// source -> extract -> STAGE -> analyze -> report, with `plugins` loaded.
fn check_with(plugins: &[PathBuf], stage: &str) -> String {
    let native: Vec<String> = plugins
        .iter()
        .map(|p| format!("\"{}\"", toml_path(p)))
        .collect();
    // The whole graph is here: not layered over the built-in pipelines.
    format!(
        r#"extends = false

[plugins]
native = [{}]

[stages.source]
type = "python-source"

[stages.extract]
type = "python-extract"
inputs = ["source"]

[stages.plugin]
inputs = ["extract"]
{stage}

[stages.analyze]
type = "docstring-analyze"
inputs = ["plugin"]

[stages.report]
type = "check-report"
inputs = ["analyze.complete", "analyze.incomplete"]
"#,
        native.join(", ")
    )
}

/// The run report: how many units, and the failed ones as (qualified name, reason).
fn outcome(dir: &Path) -> (u64, Vec<(String, String)>) {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json");
    let report: Value = serde_json::from_str(&text).expect("report JSON");
    let failures = report["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .map(|f| {
            (
                f["qualname"].as_str().unwrap_or_default().to_string(),
                f["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    (report["units"].as_u64().expect("units"), failures)
}

fn run_check(dir: &Path) -> Ran {
    run(dir, &["--report", "report.json", "run"])
}

// --- native plugins ----------------------------------------------------------

#[test]
fn stages_lists_the_types_and_styles_of_the_example_plugins() {
    let libs = [
        plugin_lib("docpipe-redact"),
        plugin_lib("docpipe-epytext"),
        plugin_lib("docpipe-plugin-testkit"),
    ];
    let dir = project(&check_with(&libs, "type = \"passthrough\""));
    let ran = run(dir.path(), &["stages"]);
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    for expected in [
        "redact (transform)",
        "(plugin `docpipe-redact`)",
        "passthrough (transform)",
        "panic-on (transform)",
        "option name (string, required): Qualified name of the unit to panic on",
    ] {
        assert!(
            ran.stdout.contains(expected),
            "`{expected}` missing from:\n{}",
            ran.stdout
        );
    }
    let styles = ran
        .stdout
        .lines()
        .find(|l| l.starts_with("styles:"))
        .unwrap_or_default();
    assert!(styles.contains("epytext"), "{styles}");

    let json = run(dir.path(), &["stages", "--json"]);
    let value: Value = serde_json::from_str(&json.stdout).expect("stages --json");
    let types: Vec<&str> = value["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .filter_map(|s| s["type_name"].as_str())
        .collect();
    assert!(
        types.contains(&"redact") && types.contains(&"passthrough"),
        "{types:?}"
    );
}

#[test]
fn a_pass_through_plugin_stage_changes_nothing_in_the_report() {
    let with = project(&check_with(
        &[plugin_lib("docpipe-plugin-testkit")],
        "type = \"passthrough\"",
    ));
    let ran = run_check(with.path());
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    let without = project(
        &check_with(&[], "type = \"passthrough\"")
            .replace(
                "[stages.plugin]\ninputs = [\"extract\"]\ntype = \"passthrough\"\n",
                "",
            )
            .replace("inputs = [\"plugin\"]", "inputs = [\"extract\"]"),
    );
    let plain = run_check(without.path());
    assert_eq!(plain.status, 0, "{}", plain.stderr);
    assert_eq!(ran.stdout, plain.stdout);
    assert_eq!(outcome(with.path()), (5, vec![]));
    assert_eq!(outcome(without.path()), (5, vec![]));
}

#[test]
fn a_missing_library_is_a_configuration_error_pointing_at_it() {
    let dir = project(&check_with(
        &[PathBuf::from("plugins/libmissing.so")],
        "type = \"passthrough\"",
    ));
    let ran = run_check(dir.path());
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("libmissing.so: no such file"),
        "{}",
        ran.stderr
    );
    // `native = [...]` is on line 4, under `extends = false`.
    assert!(ran.stderr.contains("pipeline.toml:4:"), "{}", ran.stderr);
    assert!(ran.stderr.contains("build the plugin"), "{}", ran.stderr);
}

#[test]
fn a_library_that_is_not_a_docpipe_plugin_is_refused() {
    let lib = plugin_lib("docpipe-plugin-not-a-plugin");
    let dir = project(&check_with(
        std::slice::from_ref(&lib),
        "type = \"passthrough\"",
    ));
    let ran = run_check(dir.path());
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains(&format!("plugin {}: not a docpipe plugin", lib.display())),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("export_plugin!"), "{}", ran.stderr);

    // Nor is a file that is no library at all.
    std::fs::write(dir.path().join("libfake.so"), "not an ELF file").expect("write");
    std::fs::write(
        dir.path().join("pipeline.toml"),
        check_with(&[PathBuf::from("libfake.so")], "type = \"passthrough\""),
    )
    .expect("write");
    let ran = run_check(dir.path());
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("libfake.so: cannot be loaded"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("a Rust `cdylib`"), "{}", ran.stderr);
}

#[test]
fn a_plugin_of_another_abi_version_is_refused_naming_both_versions() {
    let lib = plugin_lib("docpipe-plugin-wrong-abi");
    let dir = project(&check_with(
        std::slice::from_ref(&lib),
        "type = \"passthrough\"",
    ));
    let ran = run_check(dir.path());
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("built for plugin ABI version 999 (docpipe-plugin 9.9.9), but this docpipe speaks ABI version 1"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("rebuild the plugin"), "{}", ran.stderr);
    assert!(ran.stderr.contains("wrong_abi"), "{}", ran.stderr);
}

#[test]
fn a_panic_in_a_plugin_fails_that_unit_only_with_the_panic_message() {
    let dir = project(&check_with(
        &[plugin_lib("docpipe-plugin-testkit")],
        "type = \"panic-on\"\nname = \"bad\"",
    ));
    let ran = run_check(dir.path());
    assert_eq!(ran.status, 1, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(
            "stage `plugin` (plugin `docpipe-plugin-testkit`) panicked: planted panic on `bad`"
        ),
        "{}",
        ran.stderr
    );
    let (units, failures) = outcome(dir.path());
    assert_eq!(units, 5);
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].0, "bad");
    assert!(
        failures[0].1.contains("panicked: planted panic on `bad`"),
        "{failures:?}"
    );
}

#[test]
fn an_unknown_option_of_a_plugin_stage_is_located() {
    let dir = project(&check_with(
        &[plugin_lib("docpipe-plugin-testkit")],
        "type = \"panic-on\"\nnmae = \"bad\"",
    ));
    let ran = run(dir.path(), &["validate"]);
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("unknown option `nmae`"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("did you mean `name`?"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("missing option `name`"),
        "{}",
        ran.stderr
    );
}

// --- exec stages -------------------------------------------------------------

fn exec_stage(command: &[&str], timeout: f64) -> String {
    let command: Vec<String> = command.iter().map(|c| format!("{c:?}")).collect();
    format!(
        "type = \"exec\"\ncommand = [{}]\ntimeout_secs = {timeout}",
        command.join(", ")
    )
}

#[test]
fn the_python_house_rules_stage_adds_its_finding() {
    let script = support::repo().join("plugins/examples/house-rules/house_rules.py");
    let dir = project(&check_with(
        &[],
        &exec_stage(&[python3(), &toml_path(&script)], 10.0),
    ));
    let ran = run_check(dir.path());
    assert_eq!(ran.status, 1, "{}", ran.stderr);
    let hr: Vec<&str> = ran.stdout.lines().filter(|l| l.contains("HR001")).collect();
    assert_eq!(hr.len(), 1, "{}", ran.stdout);
    assert!(
        hr[0].contains("`bad` does not end with a period"),
        "{}",
        hr[0]
    );
    assert_eq!(outcome(dir.path()), (5, vec![]));
}

/// A protocol-speaking plugin that misbehaves on the unit called `crash`:
/// `how` is Python code run there.
fn misbehaving(dir: &Path, how: &str) -> PathBuf {
    let script = format!(
        r#"import json, sys, time
hello = json.loads(sys.stdin.readline())
print(json.dumps({{"type": "hello", "protocol": 1, "name": "misbehaving"}}), flush=True)
for line in sys.stdin:
    message = json.loads(line)
    if message["envelope"]["unit"]["name"] == "crash":
        print("about to misbehave", file=sys.stderr, flush=True)
        {how}
    print(json.dumps({{"type": "unit", "id": message["id"], "envelope": message["envelope"]}}), flush=True)
"#
    );
    let path = dir.join("misbehaving.py");
    std::fs::write(&path, script).expect("write the plugin");
    path
}

fn assert_only_crash_failed(dir: &Path, expected: &[&str]) {
    let (units, failures) = outcome(dir);
    assert_eq!(units, 5, "nothing lost");
    // Only `crash` failed: `later`, which comes after it, was handled by a new process.
    assert_eq!(failures.len(), 1, "{failures:?}");
    let (name, reason) = &failures[0];
    assert_eq!(name, "crash");
    for e in expected {
        assert!(reason.contains(e), "`{e}` missing from: {reason}");
    }
}

#[test]
fn a_crashing_subprocess_fails_its_unit_with_its_stderr_and_is_restarted() {
    let dir = project("");
    let tools = tempfile::tempdir().expect("temp dir");
    let script = misbehaving(tools.path(), "sys.exit(3)");
    std::fs::write(
        dir.path().join("pipeline.toml"),
        check_with(&[], &exec_stage(&[python3(), &toml_path(&script)], 10.0)),
    )
    .expect("write");
    let ran = run_check(dir.path());
    assert_eq!(ran.status, 1, "{}", ran.stderr);
    assert_only_crash_failed(
        dir.path(),
        &[
            "exec stage `plugin`",
            "misbehaving.py",
            "exited while handling the unit",
            "exit status 3",
            "about to misbehave",
            "the next unit starts a new process",
        ],
    );
}

#[test]
fn a_hanging_subprocess_is_killed_after_the_timeout() {
    let dir = project("");
    let tools = tempfile::tempdir().expect("temp dir");
    let script = misbehaving(tools.path(), "time.sleep(600)");
    std::fs::write(
        dir.path().join("pipeline.toml"),
        check_with(&[], &exec_stage(&[python3(), &toml_path(&script)], 1.0)),
    )
    .expect("write");
    let started = std::time::Instant::now();
    let ran = run_check(dir.path());
    assert_eq!(ran.status, 1, "{}", ran.stderr);
    assert!(
        started.elapsed().as_secs() < 60,
        "the hang was not cut short"
    );
    assert_only_crash_failed(
        dir.path(),
        &[
            "did not answer within 1s",
            "it was killed",
            "about to misbehave",
        ],
    );
}

#[test]
fn a_subprocess_writing_garbage_fails_its_unit_and_is_restarted() {
    let dir = project("");
    let tools = tempfile::tempdir().expect("temp dir");
    let script = misbehaving(
        tools.path(),
        "print('hello from print debugging', flush=True); continue",
    );
    std::fs::write(
        dir.path().join("pipeline.toml"),
        check_with(&[], &exec_stage(&[python3(), &toml_path(&script)], 10.0)),
    )
    .expect("write");
    let ran = run_check(dir.path());
    assert_eq!(ran.status, 1, "{}", ran.stderr);
    assert_only_crash_failed(
        dir.path(),
        &[
            "wrote `hello from print debugging` on its standard output, which is not a protocol message",
        ],
    );
}

#[test]
fn a_subprocess_of_another_protocol_version_stops_the_run_naming_it() {
    let dir = project("");
    let tools = tempfile::tempdir().expect("temp dir");
    let script = tools.path().join("old.py");
    std::fs::write(
        &script,
        "import json, sys\nsys.stdin.readline()\nprint(json.dumps({'type': 'hello', 'protocol': 0}), flush=True)\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("pipeline.toml"),
        check_with(&[], &exec_stage(&[python3(), &toml_path(&script)], 10.0)),
    )
    .expect("write");
    let ran = run_check(dir.path());
    assert_eq!(ran.status, 1, "{}", ran.stderr);
    assert!(ran.stderr.contains("old.py"), "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("speaks protocol version 0, this docpipe speaks version 1"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_missing_exec_program_is_a_located_configuration_error() {
    let dir = project(&check_with(
        &[],
        &exec_stage(&["docpipe-no-such-program-xyz"], 10.0),
    ));
    let ran = run_check(dir.path());
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("the program `docpipe-no-such-program-xyz` is not found"),
        "{}",
        ran.stderr
    );
}

// --- external subcommands ----------------------------------------------------

#[cfg(unix)]
#[test]
fn an_executable_docpipe_name_on_path_runs_as_a_subcommand() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    let tool = bin.join("docpipe-hello");
    std::fs::write(
        &tool,
        "#!/bin/sh\necho \"hello $*\"\ntest -n \"$DOCPIPE\" || exit 9\nexit 7\n",
    )
    .expect("write");
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = support::docpipe(dir.path())
        .env("PATH", &path)
        .args(["hello", "a", "--b"])
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello a --b\n");
    assert_eq!(out.status.code(), Some(7), "its exit status is docpipe's");

    let out = support::docpipe(dir.path())
        .env("PATH", &path)
        .arg("helo")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no such command: `helo`"), "{stderr}");
    assert!(
        stderr.contains("`hello`"),
        "the installed ones are listed: {stderr}"
    );
}

// --- done when: redaction and Epytext against a model server -----------------

/// Secrets planted in the project; none may reach the model.
const SECRETS: [&str; 5] = [
    "hunter2-very-secret",
    "sk-live-0123456789abcdefABCDEF",
    "ghp_abcdefghijklmnopqrstuvwxyz0123",
    "tok-3141592653589793",
    "s3cr3t-dict-value",
];

const WITH_SECRETS: &str = r#"import os

DEFAULT_TOKEN = "tok-3141592653589793"


def connect(host, password="hunter2-very-secret"):
    api_key = "sk-live-0123456789abcdefABCDEF"
    if not host:
        raise ValueError("no host")
    return host + api_key


class Client:
    def __init__(self, url):
        self.headers = {"x-secret": "s3cr3t-dict-value"}
        self.url = url

    def fetch(self, path, retries=3):
        note = "ghp_abcdefghijklmnopqrstuvwxyz0123"
        return self.url + path + note
"#;

#[test]
fn redaction_keeps_every_planted_secret_from_the_model_and_epytext_is_written() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(fake_openai::FakeServer::start(
        fake_openai::Auth::OpenAi(None),
        fake_openai::well_behaved(),
    ));
    let libs = [plugin_lib("docpipe-redact"), plugin_lib("docpipe-epytext")];
    let native: Vec<String> = libs
        .iter()
        .map(|p| format!("\"{}\"", toml_path(p)))
        .collect();
    let pipeline = format!(
        r#"extends = false

[plugins]
native = [{}]

[model]
provider = "openai"
base_url = "{}/v1"
name = "gpt-4o-mini"

[style]
name = "epytext"

[stages.source]
type = "python-source"

[stages.extract]
type = "python-extract"
inputs = ["source"]

[stages.analyze]
type = "docstring-analyze"
inputs = ["extract"]

[stages.redact]
type = "redact"
inputs = ["analyze.incomplete"]

[stages.budget]
type = "token-budget"
inputs = ["redact"]

[stages.generate]
type = "llm-generate"
inputs = ["budget"]

[stages.parse]
type = "reply-parse"
inputs = ["generate"]

[stages.write]
type = "python-writer"
inputs = ["analyze.complete", "parse"]
"#,
        native.join(", "),
        server.url
    );
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("pipeline.toml"), pipeline).expect("write");
    std::fs::write(dir.path().join("client.py"), WITH_SECRETS).expect("write");
    let out = support::docpipe(dir.path())
        .args(["run", "client.py"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");

    let requests = server.requests();
    assert!(!requests.is_empty(), "the model was asked nothing");
    let mut prompts = String::new();
    for r in &requests {
        prompts.push_str(&r.body.to_string());
    }
    for secret in SECRETS {
        if let Some(at) = prompts.find(secret) {
            let from = prompts[..at]
                .char_indices()
                .rev()
                .nth(300)
                .map_or(0, |(i, _)| i);
            panic!(
                "`{secret}` reached the model: ...{}",
                &prompts[from..at + secret.len()]
            );
        }
    }
    assert!(
        prompts.contains("<redacted>"),
        "the redaction is visible in the prompts"
    );
    // The code itself is untouched, secrets included; only docstrings were added.
    let written = std::fs::read_to_string(dir.path().join("client.py")).expect("read");
    for secret in SECRETS {
        assert!(
            written.contains(secret),
            "the file lost `{secret}`:\n{written}"
        );
    }
    for field in [
        "@param host:",
        "@param password:",
        "@return:",
        "@raise ValueError:",
        "@param path:",
    ] {
        assert!(written.contains(field), "`{field}` missing:\n{written}");
    }
    assert!(!written.contains("Args:"), "not Google style:\n{written}");
    drop(server);
}

// --- docpipe plugin new ------------------------------------------------------

#[test]
fn a_new_stage_plugin_builds_and_its_test_passes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sdk = support::repo().join("plugins/sdk");
    let ran = run(
        dir.path(),
        &[
            "plugin",
            "new",
            "house-style",
            "--kind",
            "stage",
            "--sdk",
            &sdk.display().to_string(),
        ],
    );
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("wrote the stage plugin `house-style`"),
        "{}",
        ran.stderr
    );
    let krate = dir.path().join("house-style");
    for file in ["Cargo.toml", "src/lib.rs", "README.md", ".gitignore"] {
        assert!(krate.join(file).is_file(), "{file} missing");
    }
    // Writing over it is refused.
    let again = run(dir.path(), &["plugin", "new", "house-style"]);
    assert_eq!(again.status, 2, "{}", again.stderr);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);

    // One build, offline, with the workspace's versions pinned (its lock
    // file), in a target directory of its own under this one.
    std::fs::copy(support::repo().join("Cargo.lock"), krate.join("Cargo.lock")).expect("lock file");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_docpipe"));
    let target = bin
        .parent()
        .and_then(Path::parent)
        .expect("the target directory")
        .join("plugin-new");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["test", "--offline", "--quiet"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the generated crate does not build or pass:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(
        !stderr.contains("warning:"),
        "the generated crate builds with warnings:\n{stderr}"
    );
}
