//! Language model backends: OpenAI and any OpenAI-compatible server
//! ([`openai`]), Azure OpenAI ([`azure`]), their HTTP transport with retries
//! ([`transport`]), client-side limits ([`ratelimit`]), key handling
//! ([`secrets`]) and the shared `[model]` section ([`section`]).
//!
//! Providers register with `registry.add_model`; stages build the configured
//! one with `registry.model(provider, ctx)`, the offline `template` model the
//! same way as these.

pub mod azure;
pub mod openai;
pub mod ratelimit;
pub mod secrets;
pub mod section;
pub mod transport;

use docpipe_core::registry::Registry;

use section::ModelSection;

pub(crate) fn register(registry: &mut Registry) {
    registry.add_section::<ModelSection>(
        "model",
        "The model backend (`template`, `openai`, `azure`), how to reach it and the limits it runs under.",
        ModelSection::describe(),
    );
    registry.add_model("openai", openai::build);
    registry.add_model("azure", azure::build);
}
