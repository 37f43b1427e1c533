//! Plugins: native libraries loaded at run time ([`native`]) behind a C ABI
//! ([`abi`]) that exchanges JSON ([`protocol`]), and the wire form of units
//! ([`wire`]) that native plugins and subprocess stages (`type = "exec"`,
//! in docpipe-stages) share. Both kinds register into the same
//! [`Registry`](crate::registry::Registry) as the built-in stages.

pub mod abi;
pub mod native;
pub mod protocol;
pub mod wire;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{Config, ConfigError, Diagnostic};
use crate::registry::Registry;

/// The `[plugins]` section.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginsSection {
    /// Native plugin libraries, relative to the pipeline.toml's directory.
    #[serde(default)]
    pub native: Vec<String>,
}

/// Registers the `[plugins]` section.
pub fn register_section(registry: &mut Registry) {
    registry.add_section::<PluginsSection>(
        "plugins",
        "Native plugins to load before the pipeline is checked",
        vec![crate::registry::OptionDoc {
            name: "native",
            ty: "[string]",
            default: Some("[]"),
            doc: "Paths of plugin libraries (`.so`, `.dylib`, `.dll`), relative to the directory of pipeline.toml; their stage types, styles, model providers and cache tiers join the built-in ones",
        }],
    );
}

/// Loads the native plugins `config` names (`[plugins] native`, relative to
/// `base`, the directory of its file) into `registry`. A library that cannot
/// be loaded is a configuration error pointing at its entry.
pub fn load_native(
    config: &Config,
    base: &Path,
    registry: &mut Registry,
) -> Result<Vec<Arc<native::NativePlugin>>, ConfigError> {
    let Some(toml::Value::Table(section)) = config.doc.root.get("plugins") else {
        return Ok(Vec::new());
    };
    let Some(toml::Value::Array(entries)) = section.get("native") else {
        // A malformed `native` is reported by the section's check.
        return Ok(Vec::new());
    };
    let mut loaded = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let Some(text) = entry.as_str() else { continue };
        let path = if Path::new(text).is_absolute() {
            PathBuf::from(text)
        } else {
            base.join(text)
        };
        match native::NativePlugin::load(&path) {
            Ok(plugin) => {
                native::register(&plugin, registry);
                loaded.push(plugin);
            }
            Err(e) => {
                let at = config
                    .doc
                    .value_origin(&["plugins", "native", &i.to_string()]);
                let (message, help) = e.message_and_help();
                return Err(ConfigError::one(
                    &config.doc.source,
                    Diagnostic::new(message, at)
                        .with_label("this plugin")
                        .with_help(help),
                ));
            }
        }
    }
    Ok(loaded)
}
