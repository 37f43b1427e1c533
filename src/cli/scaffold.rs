//! `docpipe plugin new NAME --kind stage|style|model|cache`: a plugin crate
//! that builds as it is, with a test, for an author to start from.

use std::path::{Path, PathBuf};

use super::args::{PluginKind, PluginNewArgs};

/// The SDK of the source tree this docpipe was built from.
const BUILT_FROM_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/plugins/sdk");

/// Writes the crate; the message says what was written and what to do next.
pub fn new_plugin(args: &PluginNewArgs) -> Result<u8, String> {
    let name = &args.name;
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if !valid {
        return Err(format!(
            "`{name}` is not a crate name: use letters, digits, `-` and `_`, starting with a letter"
        ));
    }
    let dir = args.path.clone().unwrap_or_else(|| PathBuf::from(name));
    if dir.exists() {
        return Err(format!(
            "{} already exists; docpipe plugin new never overwrites. Choose another NAME or --path",
            dir.display()
        ));
    }
    let sdk = match &args.sdk {
        Some(p) => Some(std::fs::canonicalize(p).map_err(|e| {
            format!(
                "--sdk {}: {e}; give the path of docpipe's plugins/sdk",
                p.display()
            )
        })?),
        None => Path::new(BUILT_FROM_SDK)
            .join("Cargo.toml")
            .is_file()
            .then(|| PathBuf::from(BUILT_FROM_SDK)),
    };
    let dependency = match &sdk {
        Some(p) => format!(
            "docpipe-plugin = {{ path = {:?} }}",
            p.display().to_string()
        ),
        None => format!("docpipe-plugin = \"{}\"", env!("CARGO_PKG_VERSION")),
    };
    let lib = name.replace('-', "_");
    let cargo_toml = format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
# A cdylib is what docpipe loads; `[plugins] native` names the built file.
crate-type = ["cdylib"]

[dependencies]
{dependency}
serde = {{ version = "1", features = ["derive"] }}

# A crate of its own, not a member of an enclosing workspace.
[workspace]
"#
    );
    let source = match args.kind {
        PluginKind::Stage => stage_template(name),
        PluginKind::Style => style_template(name),
        PluginKind::Model => model_template(name),
        PluginKind::Cache => cache_template(name),
    };
    let kind = match args.kind {
        PluginKind::Stage => "stage",
        PluginKind::Style => "style",
        PluginKind::Model => "model",
        PluginKind::Cache => "cache",
    };
    let so = format!(
        "{}{lib}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let readme = format!(
        "# {name}\n\nA docpipe plugin ({kind}). Build it, test it, load it:\n\n\
         ```sh\ncargo test\ncargo build --release\n```\n\n\
         ```toml\n# pipeline.toml\n[plugins]\nnative = [\"{name}/target/release/{so}\"]\n```\n\n\
         `docpipe stages` then lists what it provides. docpipe's docs/plugins.md\n\
         describes the traits, the ABI and how plugins are tested.\n"
    );
    let write = |path: PathBuf, text: &str| {
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir.join("src"))
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    write(dir.join("Cargo.toml"), &cargo_toml)?;
    write(dir.join("src/lib.rs"), &source)?;
    write(dir.join("README.md"), &readme)?;
    write(dir.join(".gitignore"), "/target\n")?;
    eprintln!(
        "wrote the {kind} plugin `{name}` in {}: `cd {} && cargo test` builds and tests it; \
         `[plugins] native = [\"{}/target/debug/{so}\"]` loads it",
        dir.display(),
        dir.display(),
        dir.display()
    );
    if sdk.is_none() {
        eprintln!(
            "note: the docpipe-plugin SDK this docpipe was built from is not on this machine; \
             the crate depends on version {}; point it at a checkout with \
             `docpipe-plugin = {{ path = \"DOCPIPE/plugins/sdk\" }}`",
            env!("CARGO_PKG_VERSION")
        );
    }
    Ok(super::exit::OK)
}

fn stage_template(name: &str) -> String {
    r#"//! NAME: a docpipe plugin with the stage type `NAME`.
//!
//! A transform: it gets each unit (a function, class, method or module, with
//! its findings and docstring) and hands it on, here with a finding added
//! when a public function takes no parameters. Replace `process` with what
//! your stage does.

use docpipe_plugin::{Finding, Item, OptionDoc, Outputs, Plugin, Severity, TransformStage, UnitKind, export_plugin};
use serde::Deserialize;

/// Options of `NAME` (its `[stages.X]` table, minus `type`, `inputs` and `concurrency`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// The code of the finding.
    #[serde(default = "default_code")]
    pub code: String,
}

fn default_code() -> String {
    "X001".into()
}

/// The stage.
pub struct Stage {
    code: String,
}

impl TransformStage for Stage {
    const TYPE: &'static str = "NAME";
    const SUMMARY: &'static str = "Flags public functions that take no parameters";
    type Options = Options;

    fn options() -> Vec<OptionDoc> {
        vec![OptionDoc {
            name: "code",
            ty: "string",
            default: Some("\"X001\""),
            doc: "The code of the finding",
        }]
    }

    fn new(options: Options, _stage: &str) -> Result<Stage, String> {
        Ok(Stage { code: options.code })
    }

    fn process(&self, item: Item, out: &mut Outputs) -> Result<(), String> {
        let Item::Unit(mut env) = item else {
            return Err("`NAME` takes units".into());
        };
        let unit = &env.unit;
        if unit.kind == UnitKind::Function && !unit.name.starts_with('_') && unit.params.is_empty() {
            let finding = Finding {
                code: self.code.clone().into(),
                message: format!("`{}` takes no parameters", unit.name),
                line: unit.line,
                column: unit.column,
                fix: None,
                severity: Severity::Warning,
            };
            env.findings.push(finding);
        }
        out.send(Item::Unit(env));
        Ok(())
    }
}

fn register(plugin: &mut Plugin) {
    plugin.transform::<Stage>();
}

export_plugin!(register);

#[cfg(test)]
mod tests {
    use super::*;
    use docpipe_plugin::testing::function_unit;

    fn run(stage: &Stage, env: docpipe_plugin::Envelope) -> docpipe_plugin::Envelope {
        let mut out = Outputs::default();
        stage.process(Item::Unit(Box::new(env)), &mut out).expect("process");
        match out.into_items().pop() {
            Some((_, Item::Unit(env))) => *env,
            _ => panic!("the unit did not come out"),
        }
    }

    #[test]
    fn flags_a_function_without_parameters_only() {
        let stage = Stage::new(Options { code: default_code() }, "NAME").expect("new");
        let flagged = run(&stage, function_unit("now", &[], "def now():\n    return 1\n"));
        assert_eq!(flagged.findings.len(), 1);
        assert_eq!(flagged.findings[0].code, "X001");
        let clean = run(&stage, function_unit("add", &["a", "b"], "def add(a, b):\n    return a + b\n"));
        assert!(clean.findings.is_empty());
    }
}
"#
    .replace("NAME", name)
}

fn style_template(name: &str) -> String {
    r#"//! NAME: a docpipe plugin with the docstring style `NAME`
//! (`[style] name = "NAME"`): a summary, a description, then one line per
//! parameter, `name -- description`, and `returns -- description`.

use docpipe_plugin::docpipe_core::style::{RenderOptions, Style};
use docpipe_plugin::{DocModel, DocParam, DocReturn, Plugin, export_plugin};

/// The style.
pub struct NameStyle;

impl Style for NameStyle {
    fn name(&self) -> &str {
        "NAME"
    }

    fn render(&self, doc: &DocModel, _options: &RenderOptions) -> String {
        let mut lines = vec![doc.summary.clone()];
        if !doc.description.is_empty() {
            lines.push(String::new());
            lines.push(doc.description.clone());
        }
        let fields: Vec<String> = doc
            .params
            .iter()
            .map(|p| format!("{} -- {}", p.name, p.description))
            .chain(doc.returns.iter().map(|r| format!("returns -- {}", r.description)))
            .collect();
        if !fields.is_empty() {
            lines.push(String::new());
            lines.extend(fields);
        }
        lines.join("\n")
    }

    fn parse(&self, text: &str) -> DocModel {
        let mut doc = DocModel::default();
        let mut prose: Vec<&str> = Vec::new();
        for line in text.lines().map(str::trim) {
            match line.split_once(" -- ") {
                Some(("returns", d)) => {
                    doc.returns = Some(DocReturn { ty: None, description: d.into() })
                }
                Some((n, d)) if !n.contains(' ') => doc.params.push(DocParam {
                    name: n.into(),
                    description: d.into(),
                    ..DocParam::default()
                }),
                _ => prose.push(line),
            }
        }
        let prose = prose.join("\n");
        let mut parts = prose.trim().splitn(2, "\n\n");
        doc.summary = parts.next().unwrap_or_default().trim().into();
        doc.description = parts.next().unwrap_or_default().trim().into();
        doc
    }

    fn recognizes(&self, text: &str) -> bool {
        text.lines().any(|l| l.trim().starts_with("returns -- "))
    }
}

fn register(plugin: &mut Plugin) {
    plugin.style(NameStyle);
}

export_plugin!(register);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_it_renders() {
        let doc = DocModel {
            summary: "Add two numbers.".into(),
            description: "Exactly.".into(),
            params: vec![DocParam { name: "a".into(), description: "The first.".into(), ..DocParam::default() }],
            returns: Some(DocReturn { ty: None, description: "The sum.".into() }),
            ..DocModel::default()
        };
        let text = NameStyle.render(&doc, &RenderOptions::default());
        assert_eq!(text, "Add two numbers.\n\nExactly.\n\na -- The first.\nreturns -- The sum.");
        assert_eq!(NameStyle.parse(&text), doc);
    }
}
"#
    .replace("NAME", name)
}

fn model_template(name: &str) -> String {
    r#"//! NAME: a docpipe plugin with the model provider `NAME`
//! (`[model] provider = "NAME"`). This one answers offline with a summary
//! per unit; replace `complete` with a call to your model.

use std::sync::Arc;

use docpipe_plugin::docpipe_core::chat::{ChatRequest, ChatResponse, FinishReason, Model, ModelError};
use docpipe_plugin::serde_json::json;
use docpipe_plugin::{Plugin, Value, async_trait, export_plugin};

/// The model.
pub struct NameModel {
    /// `[model] name`, when set.
    model: String,
}

#[async_trait]
impl Model for NameModel {
    fn id(&self) -> String {
        format!("NAME:{}", self.model)
    }

    async fn complete(&self, request: ChatRequest) -> Result<ChatResponse, ModelError> {
        // One docstring per unit, in the shape docpipe's reply schema asks
        // for (`request.schema`): every parameter, the return and yielded
        // values and the exceptions the code shows.
        let docstrings: Vec<Value> = request
            .units
            .iter()
            .map(|u| {
                let bound = u.class_name.is_some() && !u.has_decorator("staticmethod");
                let params: Vec<Value> = u
                    .params
                    .iter()
                    .skip(usize::from(bound))
                    .map(|p| json!({"name": p.name, "ty": null, "description": format!("The {}.", p.name)}))
                    .collect();
                let value = |yes: bool, text: &str| if yes { json!({"ty": null, "description": text}) } else { Value::Null };
                json!({
                    "qualname": u.qualname,
                    "summary": format!("Do what `{}` does.", u.name),
                    "description": "",
                    "params": params,
                    "returns": value(u.returns_value, "The result."),
                    "yields": value(u.yields, "Each item."),
                    "raises": u.raises.iter().map(|e| json!({"exception": e, "description": "On error."})).collect::<Vec<_>>(),
                    "examples": "",
                    "notes": "",
                })
            })
            .collect();
        Ok(ChatResponse {
            content: Some(json!({ "docstrings": docstrings }).to_string()),
            finish_reason: FinishReason::Stop,
            ..ChatResponse::default()
        })
    }
}

fn register(plugin: &mut Plugin) {
    plugin.model("NAME", |config: &Value| {
        let model = config.get("name").and_then(Value::as_str).unwrap_or("default").to_string();
        Ok(Arc::new(NameModel { model }) as Arc<dyn Model>)
    });
}

export_plugin!(register);

#[cfg(test)]
mod tests {
    use super::*;
    use docpipe_plugin::testing::function_unit;

    #[test]
    fn answers_for_every_unit() {
        let model = NameModel { model: "test".into() };
        let unit = function_unit("add", &["a", "b"], "def add(a, b):\n    return a + b\n");
        let request = ChatRequest { units: vec![unit.unit.clone()], ..ChatRequest::default() };
        let answer = docpipe_plugin::block_on(model.complete(request)).expect("complete");
        let content = answer.content.expect("content");
        assert!(content.contains("\"qualname\":\"add\""), "{content}");
        assert_eq!(model.id(), "NAME:test");
    }
}
"#
    .replace("NAME", name)
}

fn cache_template(name: &str) -> String {
    r#"//! NAME: a docpipe plugin with the cache tier `NAME`
//! (`[cache] tiers = ["NAME"]`). This one keeps entries in memory; replace
//! the map with your store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use docpipe_plugin::docpipe_core::cache_store::{CacheError, CacheStore};
use docpipe_plugin::{Plugin, Value, async_trait, export_plugin};

/// The tier: values and their tags by key.
#[derive(Default)]
pub struct NameCache {
    entries: Mutex<HashMap<String, (Vec<u8>, Vec<String>)>>,
}

impl NameCache {
    fn error(&self, message: &str) -> CacheError {
        CacheError { tier: "NAME".into(), message: message.into() }
    }
}

#[async_trait]
impl CacheStore for NameCache {
    fn name(&self) -> &str {
        "NAME"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let entries = self.entries.lock().map_err(|_| self.error("poisoned"))?;
        Ok(entries.get(key).map(|(v, _)| v.clone()))
    }

    async fn put(&self, key: &str, value: &[u8], tags: &[String]) -> Result<(), CacheError> {
        let mut entries = self.entries.lock().map_err(|_| self.error("poisoned"))?;
        entries.insert(key.to_string(), (value.to_vec(), tags.to_vec()));
        Ok(())
    }

    async fn invalidate_tag(&self, tag: &str) -> Result<u64, CacheError> {
        let mut entries = self.entries.lock().map_err(|_| self.error("poisoned"))?;
        let before = entries.len();
        entries.retain(|_, (_, tags)| !tags.iter().any(|t| t == tag));
        Ok((before - entries.len()) as u64)
    }
}

fn register(plugin: &mut Plugin) {
    plugin.cache("NAME", |_config: &Value| Ok(Arc::new(NameCache::default()) as Arc<dyn CacheStore>));
}

export_plugin!(register);

#[cfg(test)]
mod tests {
    use super::*;
    use docpipe_plugin::block_on;

    #[test]
    fn stores_reads_and_invalidates() {
        let cache = NameCache::default();
        block_on(cache.put("k", b"v", &["t".to_string()])).expect("put");
        assert_eq!(block_on(cache.get("k")).expect("get"), Some(b"v".to_vec()));
        assert_eq!(block_on(cache.invalidate_tag("t")).expect("invalidate"), 1);
        assert_eq!(block_on(cache.get("k")).expect("get"), None);
    }
}
"#
    .replace("NAME", name)
}
