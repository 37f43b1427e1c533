//! docpipe-plugin: write a docpipe plugin as ordinary Rust.
//!
//! A plugin is a `cdylib` crate that implements docpipe's traits and exports
//! them with one line:
//!
//! ```ignore
//! use docpipe_plugin::{Plugin, export_plugin};
//!
//! fn register(plugin: &mut Plugin) {
//!     plugin.transform::<MyStage>();     // a stage type (TransformStage)
//!     plugin.style(MyStyle);             // a docpipe_core::style::Style
//! }
//!
//! export_plugin!(register);
//! ```
//!
//! Styles, models and cache tiers are the core's own traits
//! ([`Style`](docpipe_core::style::Style), [`Model`](docpipe_core::chat::Model),
//! [`CacheStore`](docpipe_core::cache_store::CacheStore)). Stages implement
//! [`TransformStage`], [`SourceStage`] or [`SinkStage`]: the core's stage
//! traits hand a stage the host's channels and run context, which cannot
//! cross a library boundary, so the SDK's are their synchronous, data-only
//! form (an item in, items out on named ports).
//!
//! The SDK hides the boundary: the C entry point and its ABI version
//! ([`docpipe_core::plugin::abi`]), the JSON of every call, and panics,
//! which it catches and turns into the failure of the unit at hand.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

pub use docpipe_core;
pub use docpipe_core::async_trait;
use docpipe_core::cache_store::CacheStore;
use docpipe_core::chat::Model;
pub use docpipe_core::model::{
    CodeUnit, DocModel, DocParam, DocRaise, DocReturn, Envelope, Finding, Item, ItemKind, Severity,
    SourceFile, UnitKind, UnitState,
};
use docpipe_core::plugin::abi::{ABI_VERSION, Buffer, PluginHeader};
use docpipe_core::plugin::protocol::{
    Emit, Emitted, Manifest, OptionManifest, PortManifest, Released, Request, StageManifest,
    StyleManifest, WireItem,
};
use docpipe_core::plugin::wire::WireEnvelope;
pub use docpipe_core::registry::{OptionDoc, PortDoc, StageRole};
pub use docpipe_core::stage::{SinkFinish, SinkSummary};
use docpipe_core::style::{RenderOptions, Style};
/// Runs a future to completion (for tests of async `Model` and `CacheStore` impls).
pub use futures::executor::block_on;
use serde::de::DeserializeOwned;
use serde_json::json;
use serde_json::value::{RawValue, to_raw_value};
pub use serde_json::{self, Value};

/// Items a stage sends on its ports.
#[derive(Debug, Default)]
pub struct Outputs {
    items: Vec<(String, Item)>,
    first_port: String,
}

impl Outputs {
    /// Sends `item` on the stage's first port.
    pub fn send(&mut self, item: Item) {
        let port = self.first_port.clone();
        self.items.push((port, item));
    }

    /// Sends `item` on port `port`.
    pub fn emit(&mut self, port: &str, item: Item) {
        self.items.push((port.to_string(), item));
    }

    /// What was sent, by port, in order (for a plugin's own tests).
    pub fn into_items(self) -> Vec<(String, Item)> {
        self.items
    }
}

/// A stage that turns items into items (the core's
/// [`Transform`](docpipe_core::stage::Transform), synchronous). Every unit
/// that comes in must go out once; a unit whose `process` returns an error
/// or panics leaves on the first port, failed with the message.
pub trait TransformStage: Send + Sync + Sized + 'static {
    /// The `type` name in pipeline.toml.
    const TYPE: &'static str;
    /// One line on what it does, for `docpipe stages`.
    const SUMMARY: &'static str;
    /// Its options, read from the stage's table (use `#[serde(deny_unknown_fields)]`).
    type Options: DeserializeOwned;

    /// Its options, described for `docpipe stages` (and checked by name).
    fn options() -> Vec<OptionDoc> {
        Vec::new()
    }

    /// What it takes.
    fn input() -> ItemKind {
        ItemKind::Unit
    }

    /// Its output ports.
    fn ports() -> Vec<PortDoc> {
        vec![PortDoc {
            name: "out",
            kind: ItemKind::Unit,
            doc: "every unit",
        }]
    }

    /// Workers by default: `None` one, `Some(0)` one per `-j`, `Some(n)` n.
    fn concurrency() -> Option<usize> {
        Some(0)
    }

    /// Builds the stage called `stage` in pipeline.toml.
    fn new(options: Self::Options, stage: &str) -> Result<Self, String>;

    /// Handles one item.
    fn process(&self, item: Item, out: &mut Outputs) -> Result<(), String>;

    /// The input ended.
    fn finish(&self, out: &mut Outputs) -> Result<(), String> {
        let _ = out;
        Ok(())
    }
}

/// A stage that produces items (the core's [`Source`](docpipe_core::stage::Source)).
pub trait SourceStage: Send + Sized + 'static {
    /// The `type` name.
    const TYPE: &'static str;
    /// One line on what it does.
    const SUMMARY: &'static str;
    /// Its options.
    type Options: DeserializeOwned;

    /// Its options, described.
    fn options() -> Vec<OptionDoc> {
        Vec::new()
    }

    /// Its output ports.
    fn ports() -> Vec<PortDoc> {
        vec![PortDoc {
            name: "out",
            kind: ItemKind::File,
            doc: "every file",
        }]
    }

    /// Builds the stage.
    fn new(options: Self::Options, stage: &str) -> Result<Self, String>;

    /// Sends the next items; returns `false` when there are no more.
    fn next(&mut self, out: &mut Outputs) -> Result<bool, String>;
}

/// A stage that consumes units at the end of the graph (the core's
/// [`Sink`](docpipe_core::stage::Sink)): it releases every unit it took,
/// from `consume` or `finish`, with its final state.
pub trait SinkStage: Send + Sized + 'static {
    /// The `type` name.
    const TYPE: &'static str;
    /// One line on what it does.
    const SUMMARY: &'static str;
    /// Its options.
    type Options: DeserializeOwned;

    /// Its options, described.
    fn options() -> Vec<OptionDoc> {
        Vec::new()
    }

    /// Builds the stage.
    fn new(options: Self::Options, stage: &str) -> Result<Self, String>;

    /// Takes one unit; returns the units it is done with.
    fn consume(&mut self, env: Envelope) -> Result<Vec<Envelope>, String>;

    /// The input ended (or the run was cancelled): releases every unit still held.
    fn finish(&mut self, cancelled: bool) -> Result<SinkFinish, String>;
}

type StageMaker = Box<dyn Fn(Value, &str) -> Result<Instance, String> + Send + Sync>;
type ModelMaker = Box<dyn Fn(&Value) -> Result<Arc<dyn Model>, String> + Send + Sync>;
type CacheMaker = Box<dyn Fn(&Value) -> Result<Arc<dyn CacheStore>, String> + Send + Sync>;

trait ErasedTransform: Send + Sync {
    fn process(&self, item: Item, out: &mut Outputs) -> Result<(), String>;
    fn finish(&self, out: &mut Outputs) -> Result<(), String>;
}

impl<T: TransformStage> ErasedTransform for T {
    fn process(&self, item: Item, out: &mut Outputs) -> Result<(), String> {
        TransformStage::process(self, item, out)
    }
    fn finish(&self, out: &mut Outputs) -> Result<(), String> {
        TransformStage::finish(self, out)
    }
}

trait ErasedSource: Send {
    fn next(&mut self, out: &mut Outputs) -> Result<bool, String>;
}

impl<T: SourceStage> ErasedSource for T {
    fn next(&mut self, out: &mut Outputs) -> Result<bool, String> {
        SourceStage::next(self, out)
    }
}

trait ErasedSink: Send {
    fn consume(&mut self, env: Envelope) -> Result<Vec<Envelope>, String>;
    fn finish(&mut self, cancelled: bool) -> Result<SinkFinish, String>;
}

impl<T: SinkStage> ErasedSink for T {
    fn consume(&mut self, env: Envelope) -> Result<Vec<Envelope>, String> {
        SinkStage::consume(self, env)
    }
    fn finish(&mut self, cancelled: bool) -> Result<SinkFinish, String> {
        SinkStage::finish(self, cancelled)
    }
}

enum Instance {
    Transform(Arc<dyn ErasedTransform>, String),
    Source(Arc<Mutex<dyn ErasedSource>>, String),
    Sink(Arc<Mutex<dyn ErasedSink>>),
    Model(Arc<dyn Model>),
    Cache(Arc<dyn CacheStore>),
}

impl Clone for Instance {
    fn clone(&self) -> Self {
        match self {
            Instance::Transform(t, p) => Instance::Transform(t.clone(), p.clone()),
            Instance::Source(s, p) => Instance::Source(s.clone(), p.clone()),
            Instance::Sink(s) => Instance::Sink(s.clone()),
            Instance::Model(m) => Instance::Model(m.clone()),
            Instance::Cache(c) => Instance::Cache(c.clone()),
        }
    }
}

/// What a plugin provides; filled by the function given to [`export_plugin!`].
pub struct Plugin {
    manifest: Manifest,
    stages: BTreeMap<String, StageMaker>,
    styles: BTreeMap<String, Arc<dyn Style>>,
    models: BTreeMap<String, ModelMaker>,
    caches: BTreeMap<String, CacheMaker>,
    instances: Mutex<HashMap<u64, Instance>>,
    next: AtomicU64,
}

fn describe_options(options: Vec<OptionDoc>) -> Vec<OptionManifest> {
    options
        .into_iter()
        .map(|o| OptionManifest {
            name: o.name.into(),
            ty: o.ty.into(),
            default: o.default.map(Into::into),
            doc: o.doc.into(),
        })
        .collect()
}

fn describe_ports(ports: Vec<PortDoc>) -> Vec<PortManifest> {
    ports
        .into_iter()
        .map(|p| PortManifest {
            name: p.name.into(),
            kind: p.kind,
            doc: p.doc.into(),
        })
        .collect()
}

fn read_options<O: DeserializeOwned>(options: Value, type_name: &str) -> Result<O, String> {
    serde_json::from_value(options).map_err(|e| format!("`{type_name}` options: {e}"))
}

impl Plugin {
    /// An empty plugin called `name` (the macro passes the crate's name and version).
    pub fn new(name: &str, version: &str) -> Plugin {
        Plugin {
            manifest: Manifest {
                name: name.to_string(),
                version: version.to_string(),
                ..Manifest::default()
            },
            stages: BTreeMap::new(),
            styles: BTreeMap::new(),
            models: BTreeMap::new(),
            caches: BTreeMap::new(),
            instances: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
        }
    }

    /// Adds the transform stage type `T`.
    pub fn transform<T: TransformStage>(&mut self) -> &mut Plugin {
        let ports = T::ports();
        let first = ports
            .first()
            .map(|p| p.name.to_string())
            .unwrap_or_default();
        self.manifest.stages.push(StageManifest {
            type_name: T::TYPE.into(),
            role: StageRole::Transform,
            summary: T::SUMMARY.into(),
            input: Some(T::input()),
            ports: describe_ports(ports),
            options: describe_options(T::options()),
            concurrency: T::concurrency(),
        });
        self.stages.insert(
            T::TYPE.into(),
            Box::new(move |options, stage| {
                let stage = T::new(read_options(options, T::TYPE)?, stage)?;
                Ok(Instance::Transform(Arc::new(stage), first.clone()))
            }),
        );
        self
    }

    /// Adds the source stage type `T`.
    pub fn source<T: SourceStage>(&mut self) -> &mut Plugin {
        let ports = T::ports();
        let first = ports
            .first()
            .map(|p| p.name.to_string())
            .unwrap_or_default();
        self.manifest.stages.push(StageManifest {
            type_name: T::TYPE.into(),
            role: StageRole::Source,
            summary: T::SUMMARY.into(),
            input: None,
            ports: describe_ports(ports),
            options: describe_options(T::options()),
            concurrency: None,
        });
        self.stages.insert(
            T::TYPE.into(),
            Box::new(move |options, stage| {
                let stage = T::new(read_options(options, T::TYPE)?, stage)?;
                Ok(Instance::Source(Arc::new(Mutex::new(stage)), first.clone()))
            }),
        );
        self
    }

    /// Adds the sink stage type `T`.
    pub fn sink<T: SinkStage>(&mut self) -> &mut Plugin {
        self.manifest.stages.push(StageManifest {
            type_name: T::TYPE.into(),
            role: StageRole::Sink,
            summary: T::SUMMARY.into(),
            input: Some(ItemKind::Unit),
            ports: Vec::new(),
            options: describe_options(T::options()),
            concurrency: None,
        });
        self.stages.insert(
            T::TYPE.into(),
            Box::new(|options, stage| {
                let stage = T::new(read_options(options, T::TYPE)?, stage)?;
                Ok(Instance::Sink(Arc::new(Mutex::new(stage))))
            }),
        );
        self
    }

    /// Adds a docstring style (`[style] name = style.name()`).
    pub fn style<S: Style + 'static>(&mut self, style: S) -> &mut Plugin {
        self.manifest.styles.push(StyleManifest {
            name: style.name().to_string(),
            stars_variadic_params: style.stars_variadic_params(),
        });
        self.styles
            .insert(style.name().to_string(), Arc::new(style));
        self
    }

    /// Adds a model provider (`[model] provider = name`), built from the
    /// `[model]` table (as JSON).
    pub fn model<F>(&mut self, name: &str, factory: F) -> &mut Plugin
    where
        F: Fn(&Value) -> Result<Arc<dyn Model>, String> + Send + Sync + 'static,
    {
        self.manifest.models.push(name.to_string());
        self.models.insert(name.to_string(), Box::new(factory));
        self
    }

    /// Adds a cache tier (`[cache] tiers = [name]`), built from the `[cache]` table.
    pub fn cache<F>(&mut self, name: &str, factory: F) -> &mut Plugin
    where
        F: Fn(&Value) -> Result<Arc<dyn CacheStore>, String> + Send + Sync + 'static,
    {
        self.manifest.caches.push(name.to_string());
        self.caches.insert(name.to_string(), Box::new(factory));
        self
    }

    fn keep(&self, instance: Instance) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut map) = self.instances.lock() {
            map.insert(id, instance);
        }
        id
    }

    fn instance(&self, id: u64) -> Result<Instance, String> {
        self.instances
            .lock()
            .map_err(|_| "the plugin's instance table is poisoned".to_string())?
            .get(&id)
            .cloned()
            .ok_or_else(|| format!("no instance {id}"))
    }

    /// Answers one request (the `ok` value, as JSON text: units are
    /// serialized once, straight to text, not through a `Value`).
    fn answer(&self, request: Request<'_>) -> Result<Box<RawValue>, String> {
        let json = |v: Result<Value, serde_json::Error>| raw(v.map_err(|e| e.to_string())?);
        match request {
            Request::Manifest => json(serde_json::to_value(&self.manifest)),
            Request::StageNew {
                type_name,
                stage,
                options,
            } => {
                let maker = self
                    .stages
                    .get(&type_name)
                    .ok_or_else(|| format!("no stage type `{type_name}`"))?;
                let instance = maker(options, &stage)?;
                raw(json!(self.keep(instance)))
            }
            Request::StageProcess { instance, item } => match self.instance(instance)? {
                Instance::Transform(stage, first_port) => {
                    let mut out = Outputs {
                        items: Vec::new(),
                        first_port,
                    };
                    stage.process(item.into_item(None), &mut out)?;
                    emitted(out, false)
                }
                _ => Err(format!("instance {instance} is not a transform")),
            },
            Request::StageFinish { instance } => match self.instance(instance)? {
                Instance::Transform(stage, first_port) => {
                    let mut out = Outputs {
                        items: Vec::new(),
                        first_port,
                    };
                    stage.finish(&mut out)?;
                    emitted(out, false)
                }
                _ => Err(format!("instance {instance} is not a transform")),
            },
            Request::SourceNext { instance } => match self.instance(instance)? {
                Instance::Source(stage, first_port) => {
                    let mut out = Outputs {
                        items: Vec::new(),
                        first_port,
                    };
                    let more = stage
                        .lock()
                        .map_err(|_| "the source panicked before".to_string())?
                        .next(&mut out)?;
                    emitted(out, !more)
                }
                _ => Err(format!("instance {instance} is not a source")),
            },
            Request::SinkConsume { instance, envelope } => match self.instance(instance)? {
                Instance::Sink(sink) => {
                    let released = sink
                        .lock()
                        .map_err(|_| "the sink panicked before".to_string())?
                        .consume(envelope.into_detached())?;
                    released_value(released, SinkSummary::default())
                }
                _ => Err(format!("instance {instance} is not a sink")),
            },
            Request::SinkFinish {
                instance,
                cancelled,
            } => match self.instance(instance)? {
                Instance::Sink(sink) => {
                    let finish = sink
                        .lock()
                        .map_err(|_| "the sink panicked before".to_string())?
                        .finish(cancelled)?;
                    released_value(finish.released, finish.summary)
                }
                _ => Err(format!("instance {instance} is not a sink")),
            },
            Request::Drop { instance } => {
                if let Ok(mut map) = self.instances.lock() {
                    map.remove(&instance);
                }
                raw(Value::Null)
            }
            Request::StyleRender {
                style,
                doc,
                width,
                indent,
            } => {
                let style = self.style_named(&style)?;
                raw(Value::String(
                    style.render(&doc, &RenderOptions { width, indent }),
                ))
            }
            Request::StyleParse { style, text } => {
                json(serde_json::to_value(self.style_named(&style)?.parse(&text)))
            }
            Request::StyleRecognizes { style, text } => {
                raw(Value::Bool(self.style_named(&style)?.recognizes(&text)))
            }
            Request::ModelNew { provider, config } => {
                let maker = self
                    .models
                    .get(&provider)
                    .ok_or_else(|| format!("no model provider `{provider}`"))?;
                let model = maker(&config)?;
                let id = model.id();
                raw(json!({"instance": self.keep(Instance::Model(model)), "id": id}))
            }
            Request::ModelComplete { instance, request } => match self.instance(instance)? {
                Instance::Model(model) => {
                    let response = futures::executor::block_on(model.complete(request))
                        .map_err(|e| e.to_string())?;
                    json(serde_json::to_value(response))
                }
                _ => Err(format!("instance {instance} is not a model")),
            },
            Request::CacheNew { tier, config } => {
                let maker = self
                    .caches
                    .get(&tier)
                    .ok_or_else(|| format!("no cache tier `{tier}`"))?;
                let cache = maker(&config)?;
                raw(json!(self.keep(Instance::Cache(cache))))
            }
            Request::CacheGet { instance, key } => {
                let cache = self.cache_instance(instance)?;
                let value =
                    futures::executor::block_on(cache.get(&key)).map_err(|e| e.to_string())?;
                json(serde_json::to_value(value))
            }
            Request::CachePut {
                instance,
                key,
                value,
                tags,
            } => {
                let cache = self.cache_instance(instance)?;
                futures::executor::block_on(cache.put(&key, &value, &tags))
                    .map_err(|e| e.to_string())?;
                raw(Value::Null)
            }
            Request::CacheInvalidate { instance, tag } => {
                let cache = self.cache_instance(instance)?;
                let n = futures::executor::block_on(cache.invalidate_tag(&tag))
                    .map_err(|e| e.to_string())?;
                raw(json!(n))
            }
        }
    }

    fn style_named(&self, name: &str) -> Result<&Arc<dyn Style>, String> {
        self.styles
            .get(name)
            .ok_or_else(|| format!("no style `{name}`"))
    }

    fn cache_instance(&self, id: u64) -> Result<Arc<dyn CacheStore>, String> {
        match self.instance(id)? {
            Instance::Cache(c) => Ok(c),
            _ => Err(format!("instance {id} is not a cache tier")),
        }
    }
}

fn raw(value: Value) -> Result<Box<RawValue>, String> {
    to_raw_value(&value).map_err(|e| e.to_string())
}

fn emitted(out: Outputs, done: bool) -> Result<Box<RawValue>, String> {
    let emit: Vec<Emit<'_>> = out
        .items
        .iter()
        .map(|(port, item)| Emit {
            port: port.clone(),
            item: WireItem::from_item(item),
        })
        .collect();
    to_raw_value(&Emitted { emit, done }).map_err(|e| e.to_string())
}

fn released_value(released: Vec<Envelope>, summary: SinkSummary) -> Result<Box<RawValue>, String> {
    let released: Vec<WireEnvelope<'_>> =
        released.iter().map(WireEnvelope::from_envelope).collect();
    to_raw_value(&Released {
        released,
        problems: summary.problems,
        files_written: summary.files_written,
        headline: summary.headline,
    })
    .map_err(|e| e.to_string())
}

// --- the boundary ----------------------------------------------------------

/// The plugin, built on first use from the function given to [`export_plugin!`].
static PLUGIN: OnceLock<Result<Plugin, String>> = OnceLock::new();
static REGISTER: OnceLock<fn() -> Plugin> = OnceLock::new();

const SDK_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

static HEADER: PluginHeader = PluginHeader {
    abi_version: ABI_VERSION,
    sdk_version: SDK_VERSION.as_ptr() as *const c_char,
    call,
    free,
};

/// Used by [`export_plugin!`]; not for direct use.
#[doc(hidden)]
pub fn __entry(build: fn() -> Plugin) -> *const PluginHeader {
    let _ = REGISTER.set(build);
    &HEADER
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}

fn respond(request: &[u8]) -> Vec<u8> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let plugin = PLUGIN.get_or_init(|| {
            let build = REGISTER
                .get()
                .ok_or_else(|| "the entry point was not called".to_string())?;
            catch_unwind(build).map_err(|p| format!("registering panicked: {}", panic_message(&*p)))
        });
        let plugin = plugin.as_ref().map_err(Clone::clone)?;
        let request: Request<'_> =
            serde_json::from_slice(request).map_err(|e| format!("cannot read the request: {e}"))?;
        plugin.answer(request)
    }));
    match outcome {
        Ok(Ok(value)) => {
            let text = value.get();
            let mut bytes = Vec::with_capacity(text.len() + 7);
            bytes.extend_from_slice(b"{\"ok\":");
            bytes.extend_from_slice(text.as_bytes());
            bytes.push(b'}');
            bytes
        }
        Ok(Err(message)) => json!({ "error": message }).to_string().into_bytes(),
        Err(payload) => json!({ "panic": panic_message(&*payload) })
            .to_string()
            .into_bytes(),
    }
}

extern "C" fn call(request: *const u8, len: usize) -> Buffer {
    let bytes: &[u8] = if request.is_null() {
        &[]
    } else {
        // SAFETY: docpipe passes `len` readable bytes that live through the call.
        unsafe { std::slice::from_raw_parts(request, len) }
    };
    // Nothing may unwind across `extern "C"`: `respond` catches every panic
    // of the plugin, and what it does outside `catch_unwind` cannot panic.
    let answer = respond(bytes);
    let mut answer = std::mem::ManuallyDrop::new(answer);
    Buffer {
        ptr: answer.as_mut_ptr(),
        len: answer.len(),
        cap: answer.capacity(),
    }
}

extern "C" fn free(buffer: Buffer) {
    if !buffer.ptr.is_null() {
        // SAFETY: the buffer is one `call` made from a `Vec<u8>` of this
        // allocator, handed back once.
        drop(unsafe { Vec::from_raw_parts(buffer.ptr, buffer.len, buffer.cap) });
    }
}

/// Exports a plugin: `export_plugin!(register);` where `register` is a
/// `fn(&mut Plugin)` that adds the plugin's stages, styles, models and
/// cache tiers. The plugin is named after its crate.
#[macro_export]
macro_rules! export_plugin {
    ($register:path) => {
        /// docpipe's entry point into this plugin.
        #[unsafe(no_mangle)]
        pub extern "C" fn docpipe_plugin_entry()
        -> *const $crate::docpipe_core::plugin::abi::PluginHeader {
            fn build() -> $crate::Plugin {
                let mut plugin =
                    $crate::Plugin::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
                $register(&mut plugin);
                plugin
            }
            $crate::__entry(build)
        }
    };
}

/// Building blocks for a plugin's own tests.
pub mod testing {
    use std::sync::Arc;

    use docpipe_core::model::{Insertion, Param, ParamKind};

    use super::{CodeUnit, Envelope, SourceFile, UnitKind};

    /// An envelope for the function `name` whose whole file is `source`
    /// (a `def` at the top), with parameters `params`, as the extractor
    /// would hand it to a stage (without a docstring).
    pub fn function_unit(name: &str, params: &[&str], source: &str) -> Envelope {
        let file = SourceFile::from_text("example.py", source);
        let unit = CodeUnit {
            path: "example.py".into(),
            qualname: name.into(),
            name: name.into(),
            kind: UnitKind::Function,
            is_async: false,
            nested: false,
            class_name: None,
            decorators: Vec::new(),
            params: params
                .iter()
                .map(|p| Param {
                    name: (*p).into(),
                    kind: ParamKind::Normal,
                    annotation: None,
                    default: None,
                })
                .collect(),
            returns: None,
            raises: Vec::new(),
            yields: false,
            returns_value: false,
            raise_messages: Vec::new(),
            returns_none: false,
            reraises: false,
            complexity: 1,
            docstring: None,
            insertion: Insertion {
                offset: source.find('\n').map_or(source.len(), |i| i + 1),
                indent: "    ".into(),
                inline_body: None,
            },
            line: 1,
            column: 1,
            span: 0..source.len(),
            signature: source.lines().next().unwrap_or_default().to_string(),
            source: source.to_string().into(),
            context: String::new(),
            constructor: None,
        };
        let mut env = Envelope::new(Arc::new(file), 1, unit);
        env.id = 1;
        env
    }
}
