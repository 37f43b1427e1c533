//! The [`Emitter`]: how a stage sends items on its output ports. A port
//! consumed by several stages gets a clone per consumer (fan-out).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc::Sender;
use tokio_util::sync::CancellationToken;

use super::fuse::FusedStage;
use super::ledger::Ledger;
use crate::model::Item;
use crate::stage::StageError;

pub(crate) struct Port {
    pub(crate) name: String,
    pub(crate) consumers: Vec<Consumer>,
    pub(crate) emitted: Arc<AtomicU64>,
}

/// Where a port's items go.
pub(crate) enum Consumer {
    /// The input channel of a stage with its own task.
    Channel(Sender<Item>),
    /// A stage fused into this one (see [`super::fuse`]).
    Fused(Arc<FusedStage>),
}

/// Sends a stage's output. Cloned into each of the stage's workers; the
/// downstream channels close when the last clone is dropped.
pub struct Emitter {
    pub(crate) stage: Arc<str>,
    pub(crate) ports: Arc<Vec<Port>>,
    pub(crate) ledger: Arc<Ledger>,
    pub(crate) cancel: CancellationToken,
    pub(crate) units_out: Arc<AtomicU64>,
    pub(crate) files_out: Arc<AtomicU64>,
}

impl Clone for Emitter {
    fn clone(&self) -> Self {
        Emitter {
            stage: self.stage.clone(),
            ports: self.ports.clone(),
            ledger: self.ledger.clone(),
            cancel: self.cancel.clone(),
            units_out: self.units_out.clone(),
            files_out: self.files_out.clone(),
        }
    }
}

impl Emitter {
    /// Sends `item` on the stage's only port.
    pub async fn send(&self, item: Item) -> Result<(), StageError> {
        match self.ports.len() {
            1 => self.emit_to(0, item).await,
            _ => Err(StageError::fatal(format!(
                "stage `{}` has several ports; it must name one with `emit`",
                self.stage
            ))),
        }
    }

    /// Sends `item` on port `port`.
    pub async fn emit(&self, port: &str, item: Item) -> Result<(), StageError> {
        match self.ports.iter().position(|p| p.name == port) {
            Some(i) => self.emit_to(i, item).await,
            None => Err(StageError::fatal(format!(
                "stage `{}` emitted on an undeclared port `{port}`",
                self.stage
            ))),
        }
    }

    async fn emit_to(&self, index: usize, mut item: Item) -> Result<(), StageError> {
        let port = &self.ports[index];
        port.emitted.fetch_add(1, Ordering::Relaxed);
        let copies = port.consumers.len();
        match &mut item {
            Item::Unit(env) => {
                self.units_out.fetch_add(1, Ordering::Relaxed);
                if env.id == 0 {
                    env.id = self.ledger.enter(env, copies);
                } else {
                    self.ledger.forward(env.id, copies);
                }
            }
            Item::File(_) => {
                self.files_out.fetch_add(1, Ordering::Relaxed);
            }
        }
        let Some((last, rest)) = port.consumers.split_last() else {
            // Validation forbids unconsumed ports; the ledger reports the unit if it happens anyway.
            return Ok(());
        };
        for tx in rest {
            self.send_one(tx, item.clone()).await?;
        }
        self.send_one(last, item).await
    }

    async fn send_one(&self, to: &Consumer, item: Item) -> Result<(), StageError> {
        match to {
            Consumer::Channel(tx) => tokio::select! {
                r = tx.send(item) => r.map_err(|_| StageError::Closed),
                _ = self.cancel.cancelled() => Err(StageError::Closed),
            },
            Consumer::Fused(stage) => stage.deliver(item).await,
        }
    }

    /// Whether any stage of the running pipeline takes port `port`'s
    /// items (a port the stage type declared optional may have none).
    pub fn is_consumed(&self, port: &str) -> bool {
        self.ports
            .iter()
            .any(|p| p.name == port && !p.consumers.is_empty())
    }

    /// Items emitted per port so far.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.ports
            .iter()
            .map(|p| (p.name.clone(), p.emitted.load(Ordering::Relaxed)))
            .collect()
    }
}
