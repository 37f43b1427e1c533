//! docpipe-stages: the built-in stages and backends of docpipe: the Python
//! source and extractor, the docstring analyzer and styles, the check report,
//! the writer and docs generator, the model backends, token budget, generator
//! and reply parser. Each module registers its stage types with
//! [`register_builtins`].

#![warn(missing_docs)]

pub mod analyze;
pub mod budget;
pub mod cache;
pub mod check;
pub mod docs;
pub mod exec;
pub mod generate;
pub mod llm;
pub mod python;
pub mod reply;
pub mod style;
pub mod template;
pub mod writer;

use docpipe_core::registry::Registry;

/// A registry holding every built-in stage type, style, model provider and section.
pub fn builtin_registry() -> Registry {
    let mut registry = Registry::new();
    register_builtins(&mut registry);
    registry
}

/// Registers every built-in stage type, style, model provider and section.
pub fn register_builtins(registry: &mut Registry) {
    style::register(registry);
    python::register(registry);
    analyze::register(registry);
    check::register(registry);
    writer::register(registry);
    docs::register(registry);
    template::register(registry);
    llm::register(registry);
    budget::register(registry);
    generate::register(registry);
    cache::register(registry);
    exec::register(registry);
    docpipe_core::plugin::register_section(registry);
}
