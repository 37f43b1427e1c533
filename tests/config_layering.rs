//! Configuration layered over the built-in default, in a pipeline.toml or
//! the `[tool.docpipe]` table of a pyproject.toml: discovery, precedence,
//! shorthand keys and located errors.

mod support;

use std::path::Path;

use support::{run, sample_copy};

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

#[test]
fn a_pipeline_toml_holding_only_model_keeps_the_built_in_pipelines() {
    let dir = sample_copy();
    write(
        &dir.path().join("pipeline.toml"),
        "[model]\nprovider = \"template\"\n",
    );
    let ran = run(dir.path(), &["run", "check", "sample"]);
    assert_eq!(ran.status, 1, "{}", ran.stderr);
    assert!(
        ran.stdout.contains("DP102"),
        "the built-in check ran: {}",
        ran.stdout
    );
    let valid = run(dir.path(), &["validate"]);
    assert_eq!(valid.status, 0, "{}", valid.stderr);
    assert!(
        valid
            .stderr
            .contains("pipeline.toml over the built-in default is valid"),
        "{}",
        valid.stderr
    );
    assert!(
        valid.stderr.contains("`generate`, `check`, `docs`"),
        "{}",
        valid.stderr
    );
}

#[test]
fn a_five_line_tool_docpipe_table_is_a_complete_configuration() {
    let dir = sample_copy();
    write(
        &dir.path().join("pyproject.toml"),
        "[project]\nname = \"x\"\n\n[tool.docpipe]\nstyle = \"numpy\"\nfail_under = 100\nignore = [\"DOC1\", \"DOC2\", \"DOC4\", \"DOC5\"]\nexclude = [\"store.py\"]\nmodel = \"template\"\n",
    );
    let ran = run(dir.path(), &["run", "check", "sample"]);
    assert_eq!(ran.status, 1, "{}", ran.stderr);
    assert!(
        !ran.stdout.contains("store.py"),
        "`exclude` reached the source stage: {}",
        ran.stdout
    );
    assert!(
        !ran.stdout.contains(" DOC"),
        "`ignore` reached the analyzer: {}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("under fail_under = 100%"),
        "`fail_under` reached the report: {}",
        ran.stdout
    );
    let valid = run(dir.path(), &["validate"]);
    assert!(
        valid
            .stderr
            .contains("pyproject.toml [tool.docpipe] over the built-in default is valid"),
        "{}",
        valid.stderr
    );
    // `style` merged into the built-in [style]: its `width` is still there.
    let graph = run(dir.path(), &["graph", "check"]);
    assert_eq!(graph.status, 0, "{}", graph.stderr);
    assert!(graph.stdout.contains("report"), "{}", graph.stdout);
}

#[test]
fn discovery_takes_the_nearest_directory_and_pipeline_toml_first() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let table = "[tool.docpipe]\nfail_under = 10\n";
    write(&root.join("pipeline.toml"), "[style]\nname = \"google\"\n");
    write(&root.join("pyproject.toml"), table);
    // Same directory: pipeline.toml wins.
    let ran = run(root, &["validate"]);
    assert!(
        ran.stderr.starts_with("pipeline.toml over"),
        "{}",
        ran.stderr
    );
    // A nearer pyproject.toml with the table wins over a farther pipeline.toml.
    write(&root.join("sub/pyproject.toml"), table);
    let ran = run(&root.join("sub"), &["validate"]);
    assert!(
        ran.stderr.starts_with("pyproject.toml [tool.docpipe] over"),
        "{}",
        ran.stderr
    );
    // A pyproject.toml without the table is passed over.
    write(
        &root.join("other/pyproject.toml"),
        "[tool.ruff]\nline-length = 100\n",
    );
    let ran = run(&root.join("other"), &["validate"]);
    assert!(
        ran.stderr.contains("pipeline.toml over") && !ran.stderr.contains("pyproject"),
        "{}",
        ran.stderr
    );
    // --config takes either kind.
    let ran = run(root, &["--config", "sub/pyproject.toml", "validate"]);
    assert!(ran.stderr.contains("[tool.docpipe] over"), "{}", ran.stderr);
    let ran = run(root, &["--config", "other/pyproject.toml", "validate"]);
    assert_eq!(ran.status, 2);
    assert!(
        ran.stderr.contains("has no [tool.docpipe] table")
            && ran.stderr.contains("docpipe init --pyproject"),
        "{}",
        ran.stderr
    );
}

#[test]
fn every_tool_docpipe_error_points_at_its_pyproject_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "[project]\nname = \"x\"\n\n[tool.docpipe]\nstyle = 3\nfail_under = \"high\"\nmodle = \"openai\"\nextends = \"yes\"\n\n[tool.docpipe.model]\nrpm = \"60\"\n\n[tool.docpipe.stages.extract]\ntype = \"python-extarct\"\ninputs = [\"results.miss\"]\n\n[tool.docpipe.pipelines.check]\nstages = [\"source\", \"nope\"]\n";
    write(&dir.path().join("pyproject.toml"), text);
    let ran = run(dir.path(), &["validate"]);
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    for (line, what) in [
        (5, "style"),
        (6, "fail_under"),
        (7, "modle"),
        (8, "extends"),
        (11, "rpm"),
        (14, "python-extarct"),
        (18, "nope"),
    ] {
        assert!(
            ran.stderr.contains(&format!("--> pyproject.toml:{line}:")),
            "no error at line {line} ({what}):\n{}",
            ran.stderr
        );
    }
    insta::assert_snapshot!("pyproject_errors", ran.stderr);
}

#[test]
fn a_replaced_stage_that_breaks_a_built_in_pipeline_is_shown_in_the_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    // `extract` no longer reads `results.miss`: the built-in `check` has
    // nothing consuming that port any more.
    write(
        &dir.path().join("pipeline.toml"),
        "[stages.extract]\ntype = \"python-extract\"\ninputs = [\"source\"]\n",
    );
    let ran = run(dir.path(), &["validate"]);
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("--> <built-in pipeline.toml>:")
            && ran.stderr.contains("`extends = false`"),
        "{}",
        ran.stderr
    );
    // `extends = false` starts from nothing: the file's one stage, which
    // reaches no sink, and nothing of the default.
    write(
        &dir.path().join("pipeline.toml"),
        "extends = false\n\n[stages.source]\ntype = \"python-source\"\n",
    );
    let ran = run(dir.path(), &["validate"]);
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("no sink can be reached from stage `source`")
            && !ran.stderr.contains("built-in"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_shorthand_with_no_stage_to_set_is_an_error_at_its_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        &dir.path().join("pipeline.toml"),
        "extends = false\nfail_under = 90\n\n[stages.source]\ntype = \"python-source\"\n",
    );
    let ran = run(dir.path(), &["validate"]);
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("--> pipeline.toml:2:1")
            && ran.stderr.contains("`check-report` stages"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_stage_option_set_in_the_file_wins_over_the_shorthand() {
    let dir = sample_copy();
    write(
        &dir.path().join("pipeline.toml"),
        "fail_under = 100\n\n[stages.report]\ntype = \"check-report\"\ninputs = [\"remember\", \"results.hit\"]\nfail_under = 0\n",
    );
    let ran = run(dir.path(), &["run", "check", "sample"]);
    assert!(!ran.stdout.contains("under fail_under"), "{}", ran.stdout);
}

#[test]
fn init_pyproject_appends_a_table_that_validates_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pyproject.toml");
    write(&path, "[project]\nname = \"x\"");
    let ran = run(dir.path(), &["init", "--pyproject"]);
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.starts_with("[project]\nname = \"x\"\n\n[tool.docpipe]\n"),
        "{text}"
    );
    let valid = run(dir.path(), &["validate"]);
    assert_eq!(valid.status, 0, "{}", valid.stderr);
    let again = run(dir.path(), &["init", "--pyproject"]);
    assert_eq!(again.status, 2);
    assert!(
        again.stderr.contains("already has a [tool.docpipe] table"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
}

#[test]
fn init_translates_interrogate_and_pydoclint_settings_and_names_the_rest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pyproject.toml");
    write(
        &path,
        "[project]\nname = \"x\"\n\n[tool.interrogate]\nfail-under = 95\nignore-init-method = true\nignore-magic = false\nignore-regex = [\"^get_\"]\nexclude = [\"docs\"]\n\n[tool.pydoclint]\nstyle = \"numpy\"\ncheck-return-types = false\nallow-init-docstring = true\n",
    );
    let ran = run(
        dir.path(),
        &["init", "--from-interrogate", "--from-pydoclint"],
    );
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    for untranslated in ["ignore-regex", "allow-init-docstring"] {
        assert!(
            ran.stderr
                .lines()
                .any(|l| l.starts_with("not translated: ") && l.contains(untranslated)),
            "{}",
            ran.stderr
        );
    }
    let text = std::fs::read_to_string(&path).expect("read");
    for expected in [
        "fail_under = 95",
        "extend_exclude = [\"docs\"]",
        "style = \"numpy\"",
        "ignore = [\"DOC203\"]",
        "ignore_init = true",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    assert!(!text.contains("ignore_magic"), "{text}");
    let valid = run(dir.path(), &["validate"]);
    assert_eq!(valid.status, 0, "{}", valid.stderr);
    // Nothing to translate: exit 2, the file unchanged.
    let other = dir.path().join("other");
    write(&other.join("pyproject.toml"), "[project]\nname = \"y\"\n");
    let ran = run(&other, &["init", "--from-pydoclint"]);
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("has no [tool.pydoclint] table"),
        "{}",
        ran.stderr
    );
}
