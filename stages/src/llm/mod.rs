//! Placeholder module, filled by its owner.

use docpipe_core::registry::Registry;

pub(crate) fn register(registry: &mut Registry) {
    let _ = registry;
}
