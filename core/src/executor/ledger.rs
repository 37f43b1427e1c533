//! The unit ledger: checks that every unit entering the graph is released by a
//! sink exactly once, and names the stage (and units) when one is not. It
//! also settles each unit once, in one final state, so that the run's counts
//! add up whatever the fan-out, and knows when all units of a file are done.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::model::{CodeUnit, Envelope, UnitId, UnitState};

/// A unit in flight.
#[derive(Debug)]
struct Entry {
    /// Copies not yet released.
    copies: i64,
    unit: UnitName,
    /// The strongest state of the copies released so far.
    state: Option<UnitState>,
}

/// Units of one file: how many there are, how many have settled.
#[derive(Debug)]
struct FileTally {
    /// The path, shared by the names of the file's units in flight.
    path: Arc<Path>,
    expected: usize,
    settled: usize,
}

/// Outstanding copies per unit. A copy is created when a unit enters the
/// graph, multiplied by fan-out, and retired when a sink releases it.
#[derive(Debug, Default)]
pub struct Ledger {
    next_id: AtomicU64,
    outstanding: Mutex<HashMap<UnitId, Entry>>,
    entered: AtomicU64,
    /// Units released after their last copy was: id -> extra releases.
    over_released: Mutex<HashMap<UnitId, i64>>,
    /// Files with units still in flight.
    files: Mutex<HashMap<PathBuf, FileTally>>,
    files_settled: AtomicU64,
}

/// What the ledger keeps of a unit in flight: what names it in the run's
/// report. (Not the unit itself: a stage may let a big file's units go, or
/// slim them, before they settle, and the ledger would keep them whole.)
/// Every unit of a big file is in flight at once, so it is kept small: the
/// path is the file's, shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitName {
    /// The file.
    pub path: Arc<Path>,
    /// The line of the definition.
    pub line: usize,
    /// [`CodeUnit::display_name`].
    pub name: Box<str>,
}

impl UnitName {
    /// The name of `unit`, of the file at `path`.
    fn in_file(path: Arc<Path>, unit: &CodeUnit) -> UnitName {
        UnitName {
            path,
            line: unit.line,
            name: unit.display_str().into(),
        }
    }
}

/// A unit whose last copy was released: it counts once, in `state`.
#[derive(Debug)]
pub struct Settled {
    /// The unit.
    pub unit: UnitName,
    /// Its final state: the strongest of its copies' (failed over cancelled
    /// over skipped over generated over cached over kept).
    pub state: UnitState,
}

impl Ledger {
    /// A new unit entered the graph (emitted with id 0) and goes to `copies` consumers.
    pub fn enter(&self, env: &Envelope, copies: usize) -> UnitId {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        self.entered.fetch_add(1, Ordering::Relaxed);
        let path = match self.files.lock() {
            Ok(mut files) => match files.get(env.unit.path.as_path()) {
                Some(tally) => tally.path.clone(),
                None => {
                    let path: Arc<Path> = Arc::from(env.unit.path.as_path());
                    files.insert(
                        env.unit.path.clone(),
                        FileTally {
                            path: path.clone(),
                            expected: env.file_units.max(1),
                            settled: 0,
                        },
                    );
                    path
                }
            },
            Err(_) => Arc::from(env.unit.path.as_path()),
        };
        if let Ok(mut map) = self.outstanding.lock() {
            map.insert(
                id,
                Entry {
                    copies: copies as i64,
                    unit: UnitName::in_file(path, &env.unit),
                    state: None,
                },
            );
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
            entry.copies += copies as i64 - 1;
        }
    }

    /// A sink released one copy in `state`. A unit whose copies are all
    /// released leaves the ledger, settled, so the ledger holds only units in
    /// flight; releasing a unit that already left is recorded as one release
    /// too many.
    pub fn release(&self, id: UnitId, state: &UnitState) -> Option<Settled> {
        let settled = {
            let Ok(mut map) = self.outstanding.lock() else {
                return None;
            };
            let Some(entry) = map.get_mut(&id) else {
                drop(map);
                if let Ok(mut extra) = self.over_released.lock() {
                    *extra.entry(id).or_insert(0) += 1;
                }
                return None;
            };
            if entry
                .state
                .as_ref()
                .is_none_or(|s| state.weight() > s.weight())
            {
                entry.state = Some(state.clone());
            }
            entry.copies -= 1;
            if entry.copies > 0 {
                return None;
            }
            let entry = map.remove(&id)?;
            Settled {
                unit: entry.unit,
                state: entry.state.unwrap_or(UnitState::Kept),
            }
        };
        self.settle_file(&settled.unit.path);
        Some(settled)
    }

    fn settle_file(&self, path: &Path) {
        let Ok(mut files) = self.files.lock() else {
            return;
        };
        let done = match files.get_mut(path) {
            Some(tally) => {
                tally.settled += 1;
                tally.settled >= tally.expected
            }
            None => false,
        };
        if done {
            files.remove(path);
            self.files_settled.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Units that entered the graph.
    pub fn entered(&self) -> u64 {
        self.entered.load(Ordering::Relaxed)
    }

    /// Files all of whose units have settled.
    pub fn files_settled(&self) -> u64 {
        self.files_settled.load(Ordering::Relaxed)
    }

    /// Takes every unit still in flight out of the ledger, settled in
    /// `state` (the run is over: they will never reach a sink).
    pub fn settle_rest(&self, state: &UnitState) -> Vec<Settled> {
        let Ok(mut map) = self.outstanding.lock() else {
            return Vec::new();
        };
        let mut rest: Vec<(UnitId, Entry)> = map.drain().collect();
        rest.sort_by_key(|(id, _)| *id);
        rest.into_iter()
            .map(|(_, e)| Settled {
                unit: e.unit,
                state: state.clone(),
            })
            .collect()
    }

    /// Units whose copies were not all released exactly once: (name, outstanding).
    pub fn imbalanced(&self) -> Vec<(String, i64)> {
        let Ok(map) = self.outstanding.lock() else {
            return Vec::new();
        };
        let mut v: Vec<(String, i64)> = map
            .values()
            .filter(|e| e.copies != 0)
            .map(|e| {
                (
                    format!(
                        "{}:{} {}",
                        crate::printable::path(&e.unit.path),
                        e.unit.line,
                        e.unit.name
                    ),
                    e.copies,
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
