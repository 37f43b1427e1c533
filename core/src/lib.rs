//! docpipe-core: the data model, stage traits, configuration, DAG and executor
//! of docpipe. It knows nothing of Python or HTTP: stages (in `docpipe-stages`
//! or plugins) bring those, through the traits and the registry here.

#![warn(missing_docs)]

pub mod cache_store;
pub mod chat;
pub mod config;
pub mod console;
pub mod executor;
pub mod model;
pub mod plugin;
pub mod printable;
pub mod registry;
pub mod report;
pub mod selection;
pub mod stage;
pub mod style;

pub use async_trait::async_trait;
