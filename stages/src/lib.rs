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

/// `items` one at a time, in order, from a vector that shrinks as they
/// leave. A stage that sends a big file's units one by one, while the
/// stages after it take them in, would otherwise hold the room of all of
/// them until the last one is sent.
pub(crate) fn drain_shrinking<T>(mut items: Vec<T>) -> impl Iterator<Item = T> {
    items.reverse();
    std::iter::from_fn(move || {
        let item = items.pop()?;
        // Under half, so that the allocator really moves it (mimalloc keeps
        // a block in place when it shrinks to half or more).
        if items.len() < items.capacity() / 2 {
            items.shrink_to_fit();
        }
        Some(item)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn drain_shrinking_yields_every_item_in_order() {
        let items: Vec<usize> = (0..1000).collect();
        assert_eq!(
            super::drain_shrinking(items).collect::<Vec<_>>(),
            (0..1000).collect::<Vec<_>>()
        );
        assert_eq!(super::drain_shrinking(Vec::<u8>::new()).count(), 0);
    }
}
