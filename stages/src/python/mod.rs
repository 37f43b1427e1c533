//! Python understanding: reading source files ([`read_source`]), finding
//! their definitions ([`extract`]), and the two stages built on them:
//!
//! - `python-source` walks paths (honouring `.gitignore` and `.ignore`) and
//!   emits decoded files;
//! - `python-extract` turns each file into one unit per module, class,
//!   function and method.
//!
//! Files that cannot be read, decoded or parsed never reach a writer: they are
//! reported as file-level findings (`DP001`..`DP003`) in the run's diagnostics.

mod alloc;
pub(crate) mod brackets;
pub mod calls;
pub(crate) mod decode;
mod discover;
mod extract;
pub(crate) mod literal;
pub(crate) mod rejections;
pub mod signature;
pub mod tokenize;
pub mod verdict;

use std::sync::Arc;

use async_trait::async_trait;
use docpipe_core::executor::Emitter;
use docpipe_core::model::{Envelope, Finding, Item, ItemKind, Severity};
use docpipe_core::registry::{
    DefaultConcurrency, NoOptions, PortDoc, Registry, StageRole, StageSpec,
};
use docpipe_core::stage::{BuiltStage, RunFlag, StageContext, StageError, Transform};

pub use alloc::use_mimalloc_for_tree_sitter;
pub use decode::{DecodeError, decode_source, read_source, read_source_detailed};
pub use discover::{Found, PythonSource, SourceOptions};
pub use extract::{
    extract, extract_in_pieces, extract_path, extract_shared, for_parsing, parse_tree, reparse_tree,
};

/// Stable codes of file-level findings: docpipe's own (`DP`), as pydoclint's
/// `DOC0xx` mean other things.
pub mod codes {
    /// The file could not be read (permissions, a broken link, a vanished file).
    pub const UNREADABLE: &str = "DP001";
    /// The file's bytes could not be decoded (invalid UTF-8, an unsupported PEP 263 coding).
    pub const UNDECODABLE: &str = "DP002";
    /// The file is not valid Python 3 syntax (docpipe's check, or the Python it asked).
    pub const SYNTAX_ERROR: &str = "DP003";
    /// The file was not written: its mode forbids writing by its owner (`--force` writes it).
    pub const READ_ONLY: &str = "DP004";
    /// The file was not written: it is a symbolic link out of the tree, or not a regular file.
    pub const NOT_A_PLAIN_FILE: &str = "DP005";
    /// Every file-level code.
    pub const ALL: [&str; 5] = [
        UNREADABLE,
        UNDECODABLE,
        SYNTAX_ERROR,
        READ_ONLY,
        NOT_A_PLAIN_FILE,
    ];
}

pub(crate) fn register(registry: &mut Registry) {
    registry.add_section::<verdict::PythonSection>(
        "python",
        "The Python interpreter that decides whether a file compiles before it is rewritten",
        verdict::PythonSection::describe(),
    );
    registry.add_stage::<SourceOptions, _>(
        StageSpec {
            type_name: "python-source",
            role: StageRole::Source,
            summary: "Walks paths (honouring .gitignore and .ignore) and emits decoded Python files",
            input: None,
            ports: vec![PortDoc {
                name: "out",
                kind: ItemKind::File,
                doc: "every Python file that was read and decoded",
            }],
            default_concurrency: DefaultConcurrency::One,
            sections: Vec::new(),
        },
        |options, ctx| Ok(BuiltStage::Source(Box::new(PythonSource::new(options, &ctx.run)?))),
    )
    .reads(&[
        RunFlag::ForceExclude,
        RunFlag::ChangedSince,
        RunFlag::Shard,
        RunFlag::OnlyFailed,
    ]);
    registry.add_stage::<NoOptions, _>(
        StageSpec {
            type_name: "python-extract",
            role: StageRole::Transform,
            summary: "Parses each file with tree-sitter and emits one unit per module, class, function and method",
            input: Some(ItemKind::File),
            ports: vec![PortDoc {
                name: "out",
                kind: ItemKind::Unit,
                doc: "every definition of every file that parses, the module first",
            }],
            default_concurrency: DefaultConcurrency::Jobs,
            sections: Vec::new(),
        },
        |_, _| Ok(BuiltStage::Transform(Arc::new(PythonExtract))),
    )
    .reads(&[RunFlag::OnlyFailed]);
}

/// The `python-extract` stage: a file in, its units out. A file with a syntax
/// error yields a `DP003` diagnostic and no units. When the run is narrowed
/// to some units (`--only-failed`), only those of the file go out.
#[derive(Debug, Default, Clone, Copy)]
pub struct PythonExtract;

#[async_trait]
impl Transform for PythonExtract {
    async fn process(
        &self,
        item: Item,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        let file = match item {
            Item::File(file) => file,
            Item::Unit(env) => {
                return Err(StageError::fatal(format!(
                    "stage `{}` (python-extract) received the unit `{}`; connect it to a source of files",
                    ctx.name,
                    env.unit.display_name()
                )));
            }
        };
        // Parsed on the runtime's own worker thread (there are `--jobs` of
        // them, one per core) rather than on the blocking pool: more threads
        // than cores made tree-sitter slower, and the extra threads' malloc
        // arenas raised peak memory by half (BENCHMARKS.md, check).
        let parsed = extract_shared(&file);
        match parsed {
            Ok(mut units) => {
                // `--only-failed`: the other units of the file never enter the graph.
                if let Some(selection) = ctx.run.selection.as_ref().filter(|s| s.narrows_units()) {
                    units.retain(|u| selection.admits_unit(&file.path, &u.display_name()));
                }
                let n = units.len();
                for unit in crate::drain_shrinking(units) {
                    out.send(Item::Unit(Box::new(Envelope::new(file.clone(), n, unit))))
                        .await?;
                }
            }
            Err(finding) => ctx.diagnostics.push(file.path.clone(), finding),
        }
        Ok(())
    }
}

/// A file-level finding with `code` at `line` (column 1).
pub(crate) fn file_finding(
    code: &'static str,
    message: String,
    line: usize,
    fix: &'static str,
) -> Finding {
    Finding {
        code: code.into(),
        message,
        line,
        column: 1,
        fix: Some(fix.into()),
        severity: Severity::Error,
    }
}
