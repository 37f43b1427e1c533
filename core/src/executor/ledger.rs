//! The unit ledger: checks that every unit entering the graph is released by a
//! sink exactly once, and names the stage (and units) when one is not.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::model::{CodeUnit, UnitId};

/// Outstanding copies per unit. A copy is created when a unit enters the
/// graph, multiplied by fan-out, and retired when a sink releases it.
#[derive(Debug, Default)]
pub struct Ledger {
    next_id: AtomicU64,
    outstanding: Mutex<HashMap<UnitId, (i64, Arc<CodeUnit>)>>,
    entered: AtomicU64,
    /// Units released after their last copy was: id -> extra releases.
    over_released: Mutex<HashMap<UnitId, i64>>,
}

impl Ledger {
    /// A new unit entered the graph (emitted with id 0) and goes to `copies` consumers.
    pub fn enter(&self, unit: &Arc<CodeUnit>, copies: usize) -> UnitId {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        self.entered.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut map) = self.outstanding.lock() {
            map.insert(id, (copies as i64, unit.clone()));
        }
        id
    }

    /// A known unit was re-emitted to `copies` consumers (one copy in, `copies` out).
    pub fn forward(&self, id: UnitId, copies: usize) {
        if copies == 1 {
            return;
        }
        if let Ok(mut map) = self.outstanding.lock()
            && let Some(entry) = map.get_mut(&id)
        {
            entry.0 += copies as i64 - 1;
        }
    }

    /// A sink released one copy. A unit whose copies are all released leaves
    /// the ledger, so the ledger holds only units in flight; releasing a unit
    /// that already left is recorded as one release too many.
    pub fn release(&self, id: UnitId) {
        let Ok(mut map) = self.outstanding.lock() else {
            return;
        };
        match map.get_mut(&id) {
            Some(entry) if entry.0 == 1 => {
                map.remove(&id);
            }
            Some(entry) => entry.0 -= 1,
            None => {
                drop(map);
                if let Ok(mut extra) = self.over_released.lock() {
                    *extra.entry(id).or_insert(0) += 1;
                }
            }
        }
    }

    /// Units that entered the graph.
    pub fn entered(&self) -> u64 {
        self.entered.load(Ordering::Relaxed)
    }

    /// Units whose copies were not all released exactly once: (name, outstanding).
    pub fn imbalanced(&self) -> Vec<(String, i64)> {
        let Ok(map) = self.outstanding.lock() else {
            return Vec::new();
        };
        let mut v: Vec<(String, i64)> = map
            .values()
            .filter(|(n, _)| *n != 0)
            .map(|(n, unit)| {
                (
                    format!(
                        "{}:{} {}",
                        unit.path.display(),
                        unit.line,
                        unit.display_name()
                    ),
                    *n,
                )
            })
            .collect();
        if let Ok(extra) = self.over_released.lock() {
            v.extend(extra.iter().map(|(id, n)| (format!("unit #{id}"), -n)));
        }
        v.sort();
        v
    }
}
