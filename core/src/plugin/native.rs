//! Loading native plugins (`[plugins] native = ["libfoo.so"]`) and the
//! adapters that make what they provide look like built-in stages, styles,
//! models and cache tiers.
//!
//! A plugin stays loaded for the rest of the process: every adapter holds
//! an `Arc` of it, and the strings its manifest describes itself with are
//! kept for the registry (a few hundred bytes per plugin, once).

use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::abi::{ABI_VERSION, ENTRY_SYMBOL, Entry, PluginHeader};
use super::protocol::{Emitted, Manifest, Released, Request, StageManifest, WireItem};
use super::wire::WireEnvelope;
use crate::cache_store::{CacheError, CacheStore};
use crate::chat::{ChatRequest, ChatResponse, Model, ModelError};
use crate::executor::Emitter;
use crate::model::{DocModel, Envelope, Finding, Item, SourceFile, UnitId};
use crate::registry::{
    BuildContext, BuildError, DefaultConcurrency, OptionDoc, PortDoc, Registry, StageRole,
    StageSpec,
};
use crate::stage::{
    BuiltStage, Sink, SinkFinish, SinkSummary, Source, StageContext, StageError, Transform,
};
use crate::style::{RenderOptions, Style};

/// A plugin could not be loaded. Each says which library and what to do.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// No file at the path.
    #[error(
        "plugin {path}: no such file; build the plugin (`cargo build -p NAME`) or fix the path in `[plugins] native` (relative paths start at the pipeline.toml's directory)"
    )]
    Missing {
        /// The library.
        path: String,
    },
    /// The dynamic loader refused it.
    #[error(
        "plugin {path}: cannot be loaded: {reason}; it must be a shared library built for this platform (a Rust `cdylib`)"
    )]
    NotLoadable {
        /// The library.
        path: String,
        /// The loader's reason.
        reason: String,
    },
    /// It has no entry point: not a docpipe plugin.
    #[error(
        "plugin {path}: not a docpipe plugin (it exports no `docpipe_plugin_entry`); build plugins with the docpipe-plugin SDK and its `export_plugin!` line, or remove the path from `[plugins] native`"
    )]
    NotAPlugin {
        /// The library.
        path: String,
    },
    /// Built for another ABI version.
    #[error(
        "plugin {path}: built for plugin ABI version {plugin} (docpipe-plugin {sdk}), but this docpipe speaks ABI version {host}; rebuild the plugin against a docpipe-plugin of ABI version {host}"
    )]
    AbiMismatch {
        /// The library.
        path: String,
        /// The plugin's ABI version.
        plugin: u32,
        /// This docpipe's.
        host: u32,
        /// The SDK version the plugin names.
        sdk: String,
    },
    /// It answered its manifest request wrongly.
    #[error("plugin {path}: {reason}; fix the plugin and rebuild it")]
    Broken {
        /// The library.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

impl PluginError {
    /// What went wrong, and what to do, apart (for a located diagnostic).
    pub fn message_and_help(&self) -> (String, String) {
        let text = self.to_string();
        // Every message is "what; what to do": the help starts after the last "; ".
        match text.rsplit_once("; ") {
            Some((what, help)) => (what.to_string(), help.to_string()),
            None => (text, String::new()),
        }
    }
}

/// A loaded plugin.
pub struct NativePlugin {
    path: PathBuf,
    manifest: Manifest,
    header: &'static PluginHeader,
    // Last, so that it is unloaded after everything that points into it.
    _library: libloading::Library,
}

impl std::fmt::Debug for NativePlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativePlugin")
            .field("path", &self.path)
            .field("name", &self.manifest.name)
            .finish_non_exhaustive()
    }
}

/// A call into a plugin failed.
#[derive(Debug, Clone)]
pub enum CallError {
    /// The plugin said so.
    Failed(String),
    /// The plugin panicked; the panic's message.
    Panicked(String),
    /// The answer is not what the request asks for.
    Garbled(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Failed(m) => f.write_str(m),
            CallError::Panicked(m) => write!(f, "panicked: {m}"),
            CallError::Garbled(m) => write!(f, "answered with something docpipe cannot read: {m}"),
        }
    }
}

impl NativePlugin {
    /// Loads the library at `path`, checks its ABI version and asks what it provides.
    pub fn load(path: &Path) -> Result<Arc<NativePlugin>, PluginError> {
        let shown = path.display().to_string();
        if !path.is_file() {
            return Err(PluginError::Missing { path: shown });
        }
        // SAFETY: loading a library runs its initialisers. The user named
        // this library as a docpipe plugin in their pipeline.toml, which is
        // the trust a plugin system asks for; nothing else of it is touched
        // before the ABI handshake.
        let library =
            unsafe { libloading::Library::new(path) }.map_err(|e| PluginError::NotLoadable {
                path: shown.clone(),
                reason: error_chain(&e),
            })?;
        // SAFETY: the symbol's type is `Entry` for every ABI version.
        let entry: Entry = match unsafe { library.get::<Entry>(ENTRY_SYMBOL) } {
            Ok(symbol) => *symbol,
            Err(_) => return Err(PluginError::NotAPlugin { path: shown }),
        };
        // SAFETY: the entry point takes nothing and returns a pointer to
        // static data; the first two fields keep their place in every version.
        let header = unsafe { entry() };
        if header.is_null() {
            return Err(PluginError::Broken {
                path: shown,
                reason: "its entry point returned no header".into(),
            });
        }
        // SAFETY: non-null, points to a static header (see above); only the
        // fixed prefix is read before the version is known to match.
        let (abi, sdk_ptr) = unsafe { ((*header).abi_version, (*header).sdk_version) };
        let sdk = if sdk_ptr.is_null() {
            "unknown".to_string()
        } else {
            // SAFETY: a NUL-terminated static string, by the ABI's contract.
            unsafe { CStr::from_ptr(sdk_ptr) }
                .to_string_lossy()
                .into_owned()
        };
        if abi != ABI_VERSION {
            return Err(PluginError::AbiMismatch {
                path: shown,
                plugin: abi,
                host: ABI_VERSION,
                sdk,
            });
        }
        // SAFETY: the version matches, so the header has this layout, and
        // it is static data of the library, which lives as long as `self`.
        let header: &'static PluginHeader = unsafe { &*header };
        let mut plugin = NativePlugin {
            path: path.to_path_buf(),
            manifest: Manifest::default(),
            header,
            _library: library,
        };
        plugin.manifest =
            plugin
                .call::<Manifest>(&Request::Manifest)
                .map_err(|e| PluginError::Broken {
                    path: shown.clone(),
                    reason: format!("its manifest request failed: {e}"),
                })?;
        tracing::debug!(plugin = %plugin.manifest.name, "loaded {shown}");
        Ok(Arc::new(plugin))
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// The library's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What it provides.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Sends `request` and reads the answer as `T`.
    pub fn call<T: DeserializeOwned>(&self, request: &Request<'_>) -> Result<T, CallError> {
        let bytes = serde_json::to_vec(request).map_err(|e| CallError::Garbled(e.to_string()))?;
        self.call_bytes(&bytes)
    }

    /// Sends a serialized request and reads the answer as `T`.
    fn call_bytes<T: DeserializeOwned>(&self, request: &[u8]) -> Result<T, CallError> {
        // SAFETY: `call` is the plugin's, of the ABI version checked at load;
        // the request buffer outlives the call; the answer is copied before
        // being handed back to the plugin's `free`.
        let answer = unsafe {
            let buffer = (self.header.call)(request.as_ptr(), request.len());
            let copied = if buffer.ptr.is_null() {
                Vec::new()
            } else {
                std::slice::from_raw_parts(buffer.ptr, buffer.len).to_vec()
            };
            (self.header.free)(buffer);
            copied
        };
        let answer: AnswerOf<T> = serde_json::from_slice(&answer).map_err(|e| {
            CallError::Garbled(format!(
                "{e} in `{}`",
                String::from_utf8_lossy(&answer[..answer.len().min(200)])
            ))
        })?;
        match answer {
            AnswerOf { panic: Some(m), .. } => Err(CallError::Panicked(m)),
            AnswerOf { error: Some(m), .. } => Err(CallError::Failed(m)),
            AnswerOf { ok: Some(v), .. } => Ok(v),
            AnswerOf { ok: None, .. } => serde_json::from_value(Value::Null)
                .map_err(|_| CallError::Garbled("an answer with neither `ok` nor `error`".into())),
        }
    }

    /// [`call`](Self::call) off the async workers, where a plugin may block.
    async fn call_blocking<T: DeserializeOwned + Send + 'static>(
        self: &Arc<Self>,
        request: &Request<'_>,
    ) -> Result<T, CallError> {
        let bytes = serde_json::to_vec(request).map_err(|e| CallError::Garbled(e.to_string()))?;
        let plugin = self.clone();
        tokio::task::spawn_blocking(move || plugin.call_bytes::<T>(&bytes))
            .await
            .map_err(|e| CallError::Panicked(e.to_string()))?
    }

    fn drop_instance(&self, instance: u64) {
        if let Err(e) = self.call::<Value>(&Request::Drop { instance }) {
            tracing::debug!(plugin = %self.name(), "dropping instance {instance}: {e}");
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// An answer whose `ok` is a `T` (see [`Answer`](super::protocol::Answer)).
#[derive(serde::Deserialize)]
struct AnswerOf<T> {
    #[serde(default = "none")]
    ok: Option<T>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    panic: Option<String>,
}

fn none<T>() -> Option<T> {
    None
}

/// Kept for the registry's `&'static str` descriptions: see the module docs.
fn keep(text: &str) -> &'static str {
    Box::leak(text.to_string().into_boxed_str())
}

/// Loads every library of `paths` and registers what each provides. The
/// first library that fails stops the loading with its error.
pub fn load_all(
    paths: &[PathBuf],
    registry: &mut Registry,
) -> Result<Vec<Arc<NativePlugin>>, PluginError> {
    let mut loaded = Vec::new();
    for path in paths {
        let plugin = NativePlugin::load(path)?;
        register(&plugin, registry);
        loaded.push(plugin);
    }
    Ok(loaded)
}

/// Registers the stage types, styles, models and cache tiers of `plugin`.
pub fn register(plugin: &Arc<NativePlugin>, registry: &mut Registry) {
    let manifest = plugin.manifest.clone();
    for stage in &manifest.stages {
        register_stage(plugin, stage, registry);
    }
    for style in &manifest.styles {
        registry.add_style(Arc::new(PluginStyle {
            plugin: plugin.clone(),
            name: style.name.clone(),
            stars: style.stars_variadic_params,
        }));
    }
    for name in &manifest.models {
        let plugin = plugin.clone();
        let provider = name.clone();
        registry.add_model(name, move |ctx: &BuildContext<'_>| {
            let config = serde_json::to_value(ctx.config.section("model")).unwrap_or(Value::Null);
            let answer: Value = plugin
                .call(&Request::ModelNew {
                    provider: provider.clone(),
                    config,
                })
                .map_err(|e| {
                    BuildError::section(
                        "model",
                        "provider",
                        format!(
                            "plugin `{}`: model provider `{provider}`: {e}",
                            plugin.name()
                        ),
                    )
                })?;
            let instance = answer.get("instance").and_then(Value::as_u64).unwrap_or(0);
            let id = answer
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or(&provider)
                .to_string();
            Ok(Arc::new(PluginModel {
                plugin: plugin.clone(),
                instance,
                id,
            }) as Arc<dyn Model>)
        });
    }
    for name in &manifest.caches {
        let plugin = plugin.clone();
        let tier = name.clone();
        registry.add_cache(name, move |ctx: &BuildContext<'_>| {
            let config = serde_json::to_value(ctx.config.section("cache")).unwrap_or(Value::Null);
            let instance: u64 = plugin
                .call(&Request::CacheNew {
                    tier: tier.clone(),
                    config,
                })
                .map_err(|e| {
                    BuildError::new(format!(
                        "plugin `{}`: cache tier `{tier}`: {e}",
                        plugin.name()
                    ))
                })?;
            Ok(Arc::new(PluginCache {
                plugin: plugin.clone(),
                instance,
                tier: tier.clone(),
            }) as Arc<dyn CacheStore>)
        });
    }
}

fn register_stage(plugin: &Arc<NativePlugin>, stage: &StageManifest, registry: &mut Registry) {
    let spec = StageSpec {
        type_name: keep(&stage.type_name),
        role: stage.role,
        summary: keep(&format!("{} (plugin `{}`)", stage.summary, plugin.name())),
        input: stage.input,
        ports: stage
            .ports
            .iter()
            .map(|p| PortDoc {
                name: keep(&p.name),
                kind: p.kind,
                doc: keep(&p.doc),
            })
            .collect(),
        default_concurrency: match stage.concurrency {
            None => DefaultConcurrency::One,
            Some(0) => DefaultConcurrency::Jobs,
            Some(n) => DefaultConcurrency::Fixed(n),
        },
        sections: Vec::new(),
    };
    let options = stage
        .options
        .iter()
        .map(|o| OptionDoc {
            name: keep(&o.name),
            ty: keep(&o.ty),
            default: o.default.as_deref().map(keep),
            doc: keep(&o.doc),
        })
        .collect();
    let plugin = plugin.clone();
    let role = stage.role;
    let type_name = stage.type_name.clone();
    let first_port = stage.ports.first().map(|p| p.name.clone());
    registry.add_dynamic_stage(spec, options, move |table, ctx| {
        let options = serde_json::to_value(table).unwrap_or(Value::Null);
        let instance: u64 = plugin
            .call(&Request::StageNew {
                type_name: type_name.clone(),
                stage: ctx.stage.to_string(),
                options,
            })
            .map_err(|e| BuildError::new(format!("plugin `{}`: {e}", plugin.name())))?;
        let handle = Instance {
            plugin: plugin.clone(),
            instance,
            stage: ctx.stage.to_string(),
        };
        Ok(match role {
            StageRole::Source => BuiltStage::Source(Box::new(PluginSource { handle })),
            StageRole::Transform => BuiltStage::Transform(Arc::new(PluginTransform {
                handle,
                first_port: first_port.clone(),
            })),
            StageRole::Sink => BuiltStage::Sink(Box::new(PluginSink {
                handle,
                held: HashMap::new(),
            })),
        })
    });
}

/// A plugin-side object; dropped on the plugin's side with it.
struct Instance {
    plugin: Arc<NativePlugin>,
    instance: u64,
    stage: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.plugin.drop_instance(self.instance);
    }
}

impl Instance {
    fn fatal(&self, e: CallError) -> StageError {
        StageError::fatal(format!(
            "plugin `{}` ({}): {e}; fix the plugin, or remove stage `{}` from the pipeline",
            self.plugin.name(),
            self.plugin.path.display(),
            self.stage
        ))
    }

    fn unit_failure(&self, e: &CallError) -> String {
        format!(
            "stage `{}` (plugin `{}`) {}",
            self.stage,
            self.plugin.name(),
            match e {
                CallError::Failed(m) => format!("failed the unit: {m}"),
                other => other.to_string(),
            }
        )
    }

    async fn emit(
        &self,
        emitted: Emitted<'static>,
        file: Option<&Arc<SourceFile>>,
        out: &Emitter,
    ) -> Result<(), StageError> {
        for e in emitted.emit {
            out.emit(&e.port, e.item.into_item(file)).await?;
        }
        Ok(())
    }
}

struct PluginTransform {
    handle: Instance,
    first_port: Option<String>,
}

#[async_trait]
impl Transform for PluginTransform {
    async fn process(
        &self,
        item: Item,
        _ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        let h = &self.handle;
        let request = Request::StageProcess {
            instance: h.instance,
            item: WireItem::from_item(&item),
        };
        // Called on this worker, as a built-in stage's work runs: a hop to
        // the blocking pool per unit cost more than the call itself (system
        // time tripled in bench/plugins). Models and cache tiers, which wait
        // on I/O, do go to the blocking pool.
        let answer: Result<Emitted<'static>, CallError> = h.plugin.call(&request);
        drop(request);
        let file = match &item {
            Item::File(f) => f.clone(),
            Item::Unit(env) => env.file.clone(),
        };
        match (answer, item) {
            (Ok(emitted), _) => h.emit(emitted, Some(&file), out).await,
            // A unit that the plugin failed on, or panicked over, ends failed
            // with the reason; the run goes on.
            (Err(e), Item::Unit(mut env)) => {
                env.fail(h.unit_failure(&e));
                match &self.first_port {
                    Some(port) => out.emit(port, Item::Unit(env)).await,
                    None => Err(h.fatal(e)),
                }
            }
            (Err(e), Item::File(f)) => {
                f_failed(&h.plugin, &h.stage, &f, &e, _ctx);
                Ok(())
            }
        }
    }

    async fn finish(&self, _ctx: &StageContext, out: &Emitter) -> Result<(), StageError> {
        let h = &self.handle;
        let request = Request::StageFinish {
            instance: h.instance,
        };
        let emitted: Emitted<'static> = h
            .plugin
            .call_blocking(&request)
            .await
            .map_err(|e| h.fatal(e))?;
        h.emit(emitted, None, out).await
    }
}

/// A file a plugin transform failed on: reported like an unreadable file.
fn f_failed(
    plugin: &NativePlugin,
    stage: &str,
    file: &SourceFile,
    e: &CallError,
    ctx: &StageContext,
) {
    ctx.diagnostics.push(
        file.path.clone(),
        Finding {
            code: Cow::Borrowed("PLUGIN"),
            message: format!("stage `{stage}` (plugin `{}`) {e}", plugin.name()),
            line: 1,
            column: 1,
            fix: Some(Cow::Borrowed(
                "fix the plugin, or remove the stage from the pipeline",
            )),
            severity: Default::default(),
        },
    );
}

struct PluginSource {
    handle: Instance,
}

#[async_trait]
impl Source for PluginSource {
    async fn run(&mut self, ctx: &StageContext, out: &Emitter) -> Result<(), StageError> {
        let h = &self.handle;
        loop {
            if ctx.cancel.is_cancelled() {
                return Ok(());
            }
            let request = Request::SourceNext {
                instance: h.instance,
            };
            let emitted: Emitted<'static> = h
                .plugin
                .call_blocking(&request)
                .await
                .map_err(|e| h.fatal(e))?;
            let done = emitted.done;
            h.emit(emitted, None, out).await?;
            if done {
                return Ok(());
            }
        }
    }
}

struct PluginSink {
    handle: Instance,
    /// Files of the units the plugin holds, by unit.
    held: HashMap<UnitId, Arc<SourceFile>>,
}

impl PluginSink {
    fn release(&mut self, released: Vec<WireEnvelope<'static>>) -> Vec<Envelope> {
        released
            .into_iter()
            .map(|w| match self.held.remove(&w.id) {
                Some(file) => w.into_envelope(file),
                None => w.into_detached(),
            })
            .collect()
    }
}

#[async_trait]
impl Sink for PluginSink {
    async fn consume(
        &mut self,
        env: Envelope,
        _ctx: &StageContext,
    ) -> Result<Vec<Envelope>, StageError> {
        let request = Request::SinkConsume {
            instance: self.handle.instance,
            envelope: WireEnvelope::from_envelope(&env),
        };
        let answer: Result<Released<'static>, CallError> =
            self.handle.plugin.call_blocking(&request).await;
        drop(request);
        self.held.insert(env.id, env.file.clone());
        match answer {
            Ok(r) => Ok(self.release(r.released)),
            Err(e) => {
                self.held.remove(&env.id);
                let mut env = env;
                env.fail(self.handle.unit_failure(&e));
                Ok(vec![env])
            }
        }
    }

    async fn finish(
        &mut self,
        _ctx: &StageContext,
        cancelled: bool,
    ) -> Result<SinkFinish, StageError> {
        let request = Request::SinkFinish {
            instance: self.handle.instance,
            cancelled,
        };
        let r: Released<'static> = self
            .handle
            .plugin
            .call_blocking(&request)
            .await
            .map_err(|e| self.handle.fatal(e))?;
        let summary = SinkSummary {
            problems: r.problems,
            files_written: r.files_written,
            headline: r.headline.clone(),
        };
        Ok(SinkFinish {
            summary,
            released: self.release(r.released),
        })
    }
}

struct PluginStyle {
    plugin: Arc<NativePlugin>,
    name: String,
    stars: bool,
}

impl Style for PluginStyle {
    fn name(&self) -> &str {
        &self.name
    }

    fn render(&self, doc: &DocModel, options: &RenderOptions) -> String {
        let request = Request::StyleRender {
            style: self.name.clone(),
            doc: doc.clone(),
            width: options.width,
            indent: options.indent.clone(),
        };
        match self.plugin.call::<String>(&request) {
            Ok(text) => text,
            Err(e) => {
                // `render` cannot fail; a summary alone is still a docstring.
                tracing::warn!(plugin = %self.plugin.name(), "style `{}` could not render: {e}", self.name);
                doc.summary.clone()
            }
        }
    }

    fn parse(&self, text: &str) -> DocModel {
        let request = Request::StyleParse {
            style: self.name.clone(),
            text: text.to_string(),
        };
        self.plugin.call::<DocModel>(&request).unwrap_or_else(|e| {
            tracing::warn!(plugin = %self.plugin.name(), "style `{}` could not parse: {e}", self.name);
            DocModel {
                description: text.to_string(),
                ..DocModel::default()
            }
        })
    }

    fn recognizes(&self, text: &str) -> bool {
        let request = Request::StyleRecognizes {
            style: self.name.clone(),
            text: text.to_string(),
        };
        self.plugin.call::<bool>(&request).unwrap_or(false)
    }

    fn stars_variadic_params(&self) -> bool {
        self.stars
    }
}

struct PluginModel {
    plugin: Arc<NativePlugin>,
    instance: u64,
    id: String,
}

impl Drop for PluginModel {
    fn drop(&mut self) {
        self.plugin.drop_instance(self.instance);
    }
}

#[async_trait]
impl Model for PluginModel {
    fn id(&self) -> String {
        self.id.clone()
    }

    async fn complete(&self, request: ChatRequest) -> Result<ChatResponse, ModelError> {
        let request = Request::ModelComplete {
            instance: self.instance,
            request,
        };
        self.plugin
            .call_blocking::<ChatResponse>(&request)
            .await
            .map_err(|e| ModelError::Other(format!("plugin `{}`: {e}", self.plugin.name())))
    }
}

struct PluginCache {
    plugin: Arc<NativePlugin>,
    instance: u64,
    tier: String,
}

impl Drop for PluginCache {
    fn drop(&mut self) {
        self.plugin.drop_instance(self.instance);
    }
}

impl PluginCache {
    fn error(&self, e: CallError) -> CacheError {
        CacheError {
            tier: self.tier.clone(),
            message: format!("plugin `{}`: {e}", self.plugin.name()),
        }
    }
}

#[async_trait]
impl CacheStore for PluginCache {
    fn name(&self) -> &str {
        &self.tier
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let request = Request::CacheGet {
            instance: self.instance,
            key: key.to_string(),
        };
        self.plugin
            .call_blocking(&request)
            .await
            .map_err(|e| self.error(e))
    }

    async fn put(&self, key: &str, value: &[u8], tags: &[String]) -> Result<(), CacheError> {
        let request = Request::CachePut {
            instance: self.instance,
            key: key.to_string(),
            value: value.to_vec(),
            tags: tags.to_vec(),
        };
        let _: Value = self
            .plugin
            .call_blocking(&request)
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    async fn invalidate_tag(&self, tag: &str) -> Result<u64, CacheError> {
        let request = Request::CacheInvalidate {
            instance: self.instance,
            tag: tag.to_string(),
        };
        self.plugin
            .call_blocking(&request)
            .await
            .map_err(|e| self.error(e))
    }
}
