//! Every kind of configuration error, as a user sees it: the rendered
//! message names the file, line and column and says what to do.

mod support;

use std::sync::Arc;

use support::{Gauge, Seen};

fn registry() -> docpipe_core::registry::Registry {
    support::registry(Arc::new(Gauge::default()), Arc::new(Seen::default()))
}

const GOOD: &str = r#"
[model]
provider = "template"

[stages.src]
type = "test-source"
units_per_file = 3

[stages.split]
type = "test-split"
inputs = ["src"]

[stages.sink]
type = "test-sink"
inputs = ["split.even", "split.odd"]

[pipelines.main]
stages = ["src", "split", "sink"]
"#;

fn error_of(text: &str, overrides: &[&str]) -> String {
    match support::check(text, overrides, &registry()) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.render(false),
    }
}

#[test]
fn a_good_configuration_validates() {
    let v =
        support::check(GOOD, &[], &registry()).unwrap_or_else(|e| panic!("{}", e.render(false)));
    let plan = v.plan(Some("main")).unwrap();
    assert_eq!(plan.stages.len(), 3);
    assert_eq!(plan.edges.len(), 3);
}

#[test]
fn toml_syntax() {
    insta::assert_snapshot!(error_of(
        "[stages.src]\ntype = \"test-source\nunits_per_file = 3\n",
        &[]
    ));
}

#[test]
fn unknown_stage_type_suggests_the_closest() {
    insta::assert_snapshot!(error_of(
        &GOOD.replace("type = \"test-split\"", "type = \"test-splti\""),
        &[]
    ));
}

#[test]
fn unknown_option() {
    insta::assert_snapshot!(error_of(
        &GOOD.replace(
            "units_per_file = 3",
            "units_per_file = 3\nunits_per_flie = 4"
        ),
        &[]
    ));
}

#[test]
fn missing_option() {
    insta::assert_snapshot!(error_of(&GOOD.replace("units_per_file = 3", ""), &[]));
}

#[test]
fn option_of_the_wrong_type() {
    insta::assert_snapshot!(error_of(
        &GOOD.replace("units_per_file = 3", "units_per_file = \"three\""),
        &[]
    ));
}

#[test]
fn unknown_input_stage() {
    insta::assert_snapshot!(error_of(
        &GOOD.replace("inputs = [\"src\"]", "inputs = [\"scr\"]"),
        &[]
    ));
}

#[test]
fn unknown_input_port() {
    insta::assert_snapshot!(error_of(
        &GOOD.replace("\"split.odd\"]", "\"split.odds\"]"),
        &[]
    ));
}

#[test]
fn port_must_be_named_when_a_stage_has_several() {
    insta::assert_snapshot!(error_of(
        &GOOD.replace(
            "inputs = [\"split.even\", \"split.odd\"]",
            "inputs = [\"split\"]"
        ),
        &[]
    ));
}

#[test]
fn cycle_is_printed() {
    let text = r#"
[stages.src]
type = "test-source"
units_per_file = 1

[stages.a]
type = "test-pass"
inputs = ["src", "c"]

[stages.b]
type = "test-pass"
inputs = ["a"]

[stages.c]
type = "test-pass"
inputs = ["b"]

[stages.sink]
type = "test-sink"
inputs = ["c"]
"#;
    let rendered = error_of(text, &[]);
    assert!(rendered.contains("a -> b -> c -> a"), "{rendered}");
    insta::assert_snapshot!(rendered);
}

#[test]
fn a_stage_that_reaches_no_sink() {
    let text =
        format!("{GOOD}\n[stages.dead_end]\ntype = \"test-pass\"\ninputs = [\"split.odd\"]\n")
            .replace(
                "stages = [\"src\", \"split\", \"sink\"]",
                "stages = [\"src\", \"split\", \"sink\", \"dead_end\"]",
            );
    insta::assert_snapshot!(error_of(&text, &[]));
}

#[test]
fn an_unconsumed_port_would_lose_units() {
    insta::assert_snapshot!(error_of(
        &GOOD.replace(
            "inputs = [\"split.even\", \"split.odd\"]",
            "inputs = [\"split.even\"]"
        ),
        &[]
    ));
}

#[test]
fn a_pipeline_that_names_an_unknown_stage() {
    insta::assert_snapshot!(error_of(
        &GOOD.replace(
            "stages = [\"src\", \"split\", \"sink\"]",
            "stages = [\"src\", \"split\", \"snik\"]"
        ),
        &[]
    ));
}

#[test]
fn a_pipeline_missing_an_upstream_stage() {
    insta::assert_snapshot!(error_of(
        &GOOD.replace(
            "stages = [\"src\", \"split\", \"sink\"]",
            "stages = [\"src\", \"sink\"]"
        ),
        &[]
    ));
}

#[test]
fn unset_environment_variable_without_default() {
    let text = GOOD.replace(
        "provider = \"template\"",
        "provider = \"${DOCPIPE_TEST_PROVIDER}\"",
    );
    insta::assert_snapshot!(error_of(&text, &[]));
}

#[test]
fn environment_variables_and_defaults_are_interpolated() {
    let text = GOOD.replace(
        "provider = \"template\"",
        "provider = \"${DOCPIPE_TEST_HOST}-${DOCPIPE_TEST_UNSET:-x}\"",
    );
    let v =
        support::check(&text, &[], &registry()).unwrap_or_else(|e| panic!("{}", e.render(false)));
    assert_eq!(
        v.config.section("model")["provider"].as_str(),
        Some("localhost-x")
    );
}

#[test]
fn unknown_key_in_a_shared_section() {
    insta::assert_snapshot!(error_of(
        &GOOD.replace(
            "provider = \"template\"",
            "provider = \"template\"\nprovdier = \"x\""
        ),
        &[]
    ));
}

#[test]
fn unknown_top_level_table() {
    insta::assert_snapshot!(error_of(&format!("[modle]\nprovider = \"x\"\n{GOOD}"), &[]));
}

#[test]
fn a_transform_without_inputs() {
    insta::assert_snapshot!(error_of(&GOOD.replace("inputs = [\"src\"]\n", ""), &[]));
}

#[test]
fn set_overrides_are_typed_like_the_file() {
    let v = support::check(
        GOOD,
        &["model.timeout_s=30", "stages.src.units_per_file=7"],
        &registry(),
    )
    .unwrap_or_else(|e| panic!("{}", e.render(false)));
    assert_eq!(
        v.config.section("model")["timeout_s"].as_integer(),
        Some(30)
    );
    assert_eq!(
        v.config.stages.get("src").unwrap().options["units_per_file"].as_integer(),
        Some(7)
    );
}

#[test]
fn a_bad_set_override_points_at_the_command_line() {
    insta::assert_snapshot!(error_of(GOOD, &["model.timeout_s=soon"]));
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = GOOD
        .replace("type = \"test-split\"", "type = \"test-splti\"")
        .replace("units_per_file = 3", "units_per_file = 3\nbogus = 1");
    let rendered = error_of(&text, &[]);
    assert!(
        rendered.contains("unknown stage type `test-splti`"),
        "{rendered}"
    );
    assert!(rendered.contains("has no option `bogus`"), "{rendered}");
    assert!(rendered.contains("2 problems"), "{rendered}");
}

#[test]
fn concurrency_on_a_sink_is_rejected() {
    let rendered = error_of(
        &GOOD.replace(
            "type = \"test-sink\"",
            "type = \"test-sink\"\nconcurrency = 4",
        ),
        &[],
    );
    assert!(
        rendered.contains("stage `sink` is a sink (test-sink) and runs as one task"),
        "{rendered}"
    );
    assert!(
        rendered.contains("--> <built-in pipeline.toml>:15:1"),
        "{rendered}"
    );
}
