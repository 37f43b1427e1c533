//! The requests docpipe sends a native plugin through [`abi::PluginHeader::call`](super::abi::PluginHeader::call),
//! and their answers: JSON of the types here. Shared by the host
//! ([`native`](super::native)) and the SDK (`docpipe-plugin`).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::wire::WireEnvelope;
use crate::model::{Item, ItemKind, SourceFile};
use crate::registry::StageRole;

/// One request. Instances (`instance`) are numbers the plugin gave in answer
/// to a `*_new` request.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request<'a> {
    /// What the plugin provides: answered with a [`Manifest`].
    Manifest,
    /// Builds a stage of type `type_name` from its options (JSON of the TOML
    /// table): answered with an instance number.
    StageNew {
        /// The stage type.
        type_name: String,
        /// The stage's name in pipeline.toml.
        stage: String,
        /// Its options.
        options: serde_json::Value,
    },
    /// A transform handles one item: answered with [`Emitted`].
    StageProcess {
        /// The stage instance.
        instance: u64,
        /// The item.
        item: WireItem<'a>,
    },
    /// A transform's input ended: answered with [`Emitted`].
    StageFinish {
        /// The stage instance.
        instance: u64,
    },
    /// A source's next items: answered with [`Emitted`] (`done` when it has no more).
    SourceNext {
        /// The stage instance.
        instance: u64,
    },
    /// A sink takes a unit: answered with [`Released`].
    SinkConsume {
        /// The stage instance.
        instance: u64,
        /// The unit.
        envelope: WireEnvelope<'a>,
    },
    /// A sink's input ended: answered with [`Released`].
    SinkFinish {
        /// The stage instance.
        instance: u64,
        /// The run was interrupted.
        cancelled: bool,
    },
    /// An instance (stage, model, cache) is no longer needed.
    Drop {
        /// The instance.
        instance: u64,
    },
    /// Renders `doc` in style `style`: answered with a string.
    StyleRender {
        /// The style's name.
        style: String,
        /// The docstring.
        doc: crate::model::DocModel,
        /// Wrap width.
        width: usize,
        /// Indentation of the docstring's lines.
        indent: String,
    },
    /// Parses a docstring in style `style`: answered with a `DocModel`.
    StyleParse {
        /// The style's name.
        style: String,
        /// The docstring's value.
        text: String,
    },
    /// Whether `text` is written in style `style`: answered with a bool.
    StyleRecognizes {
        /// The style's name.
        style: String,
        /// The docstring's value.
        text: String,
    },
    /// Builds model provider `provider` from the `[model]` section (JSON):
    /// answered with `{"instance": N, "id": "..."}`.
    ModelNew {
        /// The provider's name.
        provider: String,
        /// The `[model]` table.
        config: serde_json::Value,
    },
    /// One completion: answered with a `ChatResponse`.
    ModelComplete {
        /// The model instance.
        instance: u64,
        /// The request.
        request: crate::chat::ChatRequest,
    },
    /// Builds cache tier `tier` from the `[cache]` section: answered with an instance number.
    CacheNew {
        /// The tier's name.
        tier: String,
        /// The `[cache]` table.
        config: serde_json::Value,
    },
    /// The value under `key`: answered with bytes or `null`.
    CacheGet {
        /// The cache instance.
        instance: u64,
        /// The key.
        key: String,
    },
    /// Stores `value` under `key`: answered with `null`.
    CachePut {
        /// The cache instance.
        instance: u64,
        /// The key.
        key: String,
        /// The value.
        value: Vec<u8>,
        /// Invalidation tags.
        tags: Vec<String>,
    },
    /// Removes every entry tagged `tag`: answered with how many.
    CacheInvalidate {
        /// The cache instance.
        instance: u64,
        /// The tag.
        tag: String,
    },
}

/// An answer: exactly one of the three fields.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Answer {
    /// The result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok: Option<serde_json::Value>,
    /// The request failed; the message says why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The plugin panicked; the panic's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panic: Option<String>,
}

/// An item as it crosses: a file whole, a unit in its wire form.
// A wire item lives for one call, on the stack of the code serializing it;
// boxing the larger variant would cost an allocation per unit for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireItem<'a> {
    /// A file, text included.
    File(SourceFile),
    /// A unit, its file by path.
    Unit(WireEnvelope<'a>),
}

impl WireItem<'_> {
    /// The wire form of `item`.
    pub fn from_item(item: &Item) -> WireItem<'_> {
        match item {
            Item::File(f) => WireItem::File(SourceFile::clone(f)),
            Item::Unit(env) => WireItem::Unit(WireEnvelope::from_envelope(env)),
        }
    }

    /// The item again; units get `file` (the host's copy of their file).
    pub fn into_item(self, file: Option<&Arc<SourceFile>>) -> Item {
        match (self, file) {
            (WireItem::File(f), _) => Item::File(Arc::new(f)),
            (WireItem::Unit(w), Some(file)) => Item::Unit(Box::new(w.into_envelope(file.clone()))),
            (WireItem::Unit(w), None) => Item::Unit(Box::new(w.into_detached())),
        }
    }
}

/// One item on one port.
#[derive(Debug, Serialize, Deserialize)]
pub struct Emit<'a> {
    /// The port's name.
    pub port: String,
    /// The item.
    pub item: WireItem<'a>,
}

/// Items a stage emitted.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Emitted<'a> {
    /// In order.
    #[serde(default)]
    pub emit: Vec<Emit<'a>>,
    /// A source has no more items.
    #[serde(default)]
    pub done: bool,
}

/// Units a sink is done with.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Released<'a> {
    /// With their final state.
    #[serde(default)]
    pub released: Vec<WireEnvelope<'a>>,
    /// Problems that fail the run (`finish` only).
    #[serde(default)]
    pub problems: u64,
    /// Files written (`finish` only).
    #[serde(default)]
    pub files_written: u64,
    /// The sink's account of the run (`finish` only).
    #[serde(default)]
    pub headline: Option<String>,
}

/// What a plugin provides.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// The plugin's name (its crate's, usually).
    pub name: String,
    /// Its version.
    #[serde(default)]
    pub version: String,
    /// Stage types.
    #[serde(default)]
    pub stages: Vec<StageManifest>,
    /// Docstring styles.
    #[serde(default)]
    pub styles: Vec<StyleManifest>,
    /// Model providers, by name.
    #[serde(default)]
    pub models: Vec<String>,
    /// Cache tiers, by name.
    #[serde(default)]
    pub caches: Vec<String>,
}

/// A stage type of a plugin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageManifest {
    /// The `type` name.
    pub type_name: String,
    /// Source, transform or sink.
    pub role: StageRole,
    /// One line on what it does.
    pub summary: String,
    /// What it takes (`None` for a source).
    #[serde(default)]
    pub input: Option<ItemKind>,
    /// Its output ports.
    #[serde(default)]
    pub ports: Vec<PortManifest>,
    /// Its options.
    #[serde(default)]
    pub options: Vec<OptionManifest>,
    /// Workers by default: `null` for one, `0` for `-j`, N for N.
    #[serde(default)]
    pub concurrency: Option<usize>,
}

/// One output port.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PortManifest {
    /// Its name.
    pub name: String,
    /// What travels on it.
    pub kind: ItemKind,
    /// Which items.
    #[serde(default)]
    pub doc: String,
}

/// One option.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OptionManifest {
    /// Key.
    pub name: String,
    /// Type as a user writes it.
    #[serde(default)]
    pub ty: String,
    /// Default as TOML text; `None` when required.
    #[serde(default)]
    pub default: Option<String>,
    /// What it does.
    #[serde(default)]
    pub doc: String,
}

/// A style of a plugin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StyleManifest {
    /// Its `[style] name`.
    pub name: String,
    /// [`Style::stars_variadic_params`](crate::style::Style::stars_variadic_params).
    #[serde(default)]
    pub stars_variadic_params: bool,
}
