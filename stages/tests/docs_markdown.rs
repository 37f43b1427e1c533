//! The docs pipeline (`python-source` -> `python-extract` -> `docs-markdown`)
//! over a small package: one page per module with a table of contents,
//! classes with their methods, functions, signatures and docstrings, and an
//! index. The pages are pinned by snapshots.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use docpipe_core::config::validate::validate;
use docpipe_core::config::{EnvVars, LoadOptions, load};
use docpipe_core::executor::{ExecOptions, RunHandles, build_stages, execute};
use docpipe_core::stage::RunOptions;

fn pipeline(out_dir: &Path) -> String {
    format!(
        r#"
[style]
name = "google"

[stages.source]
type = "python-source"

[stages.extract]
type = "python-extract"
inputs = ["source"]

[stages.docs]
type = "docs-markdown"
inputs = ["extract"]
out_dir = "{}"
"#,
        out_dir.display().to_string().replace('\\', "/")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_one_page_per_module_and_an_index() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docs/src");
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let text = pipeline(out.path());
    let registry = docpipe_stages::builtin_registry();
    let options = LoadOptions {
        explicit: None,
        cwd: std::env::temp_dir().join("docpipe-docs-test-no-config"),
        overrides: Vec::new(),
        embedded: &text,
        sections: registry.section_names(),
        env: Some(EnvVars::from_map(HashMap::new())),
    };
    let (config, _) = load(&options).unwrap_or_else(|e| panic!("{}", e.render(false)));
    let run = Arc::new(RunOptions {
        paths: vec![fixture.clone()],
        ..RunOptions::default()
    });
    let validated =
        validate(config, &registry, run.clone()).unwrap_or_else(|e| panic!("{}", e.render(false)));
    let plan = validated
        .plan(None)
        .unwrap_or_else(|e| panic!("{e}"))
        .clone();
    let stages = build_stages(&validated, &plan, &registry, run.clone())
        .unwrap_or_else(|e| panic!("{}", e.render(false)));
    let outcome = execute(&plan, stages, RunHandles::new(run), ExecOptions::default()).await;
    assert!(outcome.fatal.is_none(), "{:?}", outcome.fatal);
    assert!(outcome.invariant.is_none(), "{:?}", outcome.invariant);
    assert_eq!(
        outcome.report.by_state.kept, outcome.report.units,
        "docs leave every unit kept"
    );
    assert_eq!(
        outcome.report.files_written, 3,
        "two module pages and the index"
    );

    let read = |rel: &str| {
        let p: PathBuf = out.path().join(rel);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    // Pages follow the import path: `pkg/shapes.py` is `pkg.shapes`.
    insta::assert_snapshot!("docs_index", read("index.md"));
    insta::assert_snapshot!(
        "docs_shapes",
        read("pkg/shapes.md").replace(&fixture.display().to_string(), "<fixture>")
    );
    insta::assert_snapshot!(
        "docs_package",
        read("pkg/__init__.md").replace(&fixture.display().to_string(), "<fixture>")
    );
}
