//! Helpers shared by the writer tests: a small fixed docstring style (so the
//! snapshots pin the writer, not a style that evolves elsewhere), a stage
//! context, and running the writer over one file.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use docpipe_core::model::{DocModel, Envelope, SourceFile, UnitState};
use docpipe_core::report::{Diagnostics, RunStats};
use docpipe_core::stage::{RunOptions, Sink, SinkSummary, StageContext, WriteMode};
use docpipe_core::style::{RenderOptions, Style};
use docpipe_stages::writer::PythonWriter;
use tokio_util::sync::CancellationToken;

/// A Google-like style with a fixed layout.
pub struct PlainStyle;

impl Style for PlainStyle {
    fn name(&self) -> &str {
        "plain"
    }

    fn render(&self, doc: &DocModel, _options: &RenderOptions) -> String {
        let mut out = doc.summary.clone();
        if !doc.description.is_empty() {
            out.push_str("\n\n");
            out.push_str(&doc.description);
        }
        if !doc.params.is_empty() {
            out.push_str("\n\nArgs:");
            for p in &doc.params {
                match &p.ty {
                    Some(t) => out.push_str(&format!("\n    {} ({t}): {}", p.name, p.description)),
                    None => out.push_str(&format!("\n    {}: {}", p.name, p.description)),
                }
            }
        }
        for (title, r) in [("Returns", &doc.returns), ("Yields", &doc.yields)] {
            if let Some(r) = r {
                out.push_str(&format!("\n\n{title}:\n    "));
                if let Some(t) = &r.ty {
                    out.push_str(&format!("{t}: "));
                }
                out.push_str(&r.description);
            }
        }
        if !doc.raises.is_empty() {
            out.push_str("\n\nRaises:");
            for r in &doc.raises {
                out.push_str(&format!("\n    {}: {}", r.exception, r.description));
            }
        }
        if !doc.examples.is_empty() {
            out.push_str("\n\nExamples:\n");
            out.push_str(&indent(&doc.examples));
        }
        if !doc.notes.is_empty() {
            out.push_str("\n\nNotes:\n");
            out.push_str(&indent(&doc.notes));
        }
        for s in &doc.sections {
            out.push_str(&format!("\n\n{}:\n{}", s.title, indent(&s.body)));
        }
        out
    }

    fn parse(&self, text: &str) -> DocModel {
        // Enough for the fixtures: the summary, free text, and `name: text` args.
        let mut doc = DocModel::default();
        let mut section = "";
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if i == 0 {
                doc.summary = t.to_string();
                continue;
            }
            if t.ends_with(':') && !line.starts_with(' ') {
                section = match t {
                    "Args:" => "args",
                    "Examples:" => "examples",
                    _ => "other",
                };
                continue;
            }
            match section {
                "args" if !t.is_empty() => {
                    let (name, desc) = t.split_once(':').unwrap_or((t, ""));
                    doc.params.push(docpipe_core::model::DocParam {
                        name: name.split(' ').next().unwrap_or(name).to_string(),
                        ty: None,
                        description: desc.trim().to_string(),
                        section: None,
                    });
                }
                "examples" if !t.is_empty() => {
                    if !doc.examples.is_empty() {
                        doc.examples.push('\n');
                    }
                    doc.examples.push_str(t);
                }
                "" if !t.is_empty() => {
                    if !doc.description.is_empty() {
                        doc.description.push(' ');
                    }
                    doc.description.push_str(t);
                }
                _ => {}
            }
        }
        doc
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("    {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A context for calling a sink directly.
pub fn context(mode: WriteMode) -> StageContext {
    StageContext {
        name: Arc::from("write"),
        cancel: CancellationToken::new(),
        run: Arc::new(RunOptions {
            write_mode: mode,
            ..RunOptions::default()
        }),
        diagnostics: Arc::new(Diagnostics::default()),
        stats: Arc::new(RunStats::default()),
    }
}

/// Envelopes for every unit of `file`, each with the template's docstring as
/// its draft and (for units that have a docstring) the existing one parsed.
pub fn drafted(file: &Arc<SourceFile>) -> Vec<Envelope> {
    let units = docpipe_stages::python::extract(file)
        .unwrap_or_else(|f| panic!("fixture does not extract: {f:?}"));
    let n = units.len();
    units
        .into_iter()
        .map(|unit| {
            let draft = docpipe_stages::template::document(&unit);
            let existing = unit
                .docstring
                .as_ref()
                .map(|d| PlainStyle.parse(&docpipe_stages::docs::clean_docstring(&d.value)));
            let mut env = Envelope::new(file.clone(), n, unit);
            env.draft = Some(Box::new(draft));
            env.existing = existing.map(Box::new);
            env.state = UnitState::Generated;
            env
        })
        .collect()
}

/// Runs the writer in `mode` over `envelopes`; returns what it released and its summary.
pub fn run_writer(mode: WriteMode, envelopes: Vec<Envelope>) -> (Vec<Envelope>, SinkSummary) {
    run_writer_early(mode, envelopes, docpipe_stages::writer::EARLY_RENDER_UNITS)
}

/// [`run_writer`] with files of `early` units or more rendered as their
/// units arrive.
pub fn run_writer_early(
    mode: WriteMode,
    envelopes: Vec<Envelope>,
    early: usize,
) -> (Vec<Envelope>, SinkSummary) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    rt.block_on(async move {
        let ctx = context(mode);
        let mut writer = PythonWriter::new(Arc::new(PlainStyle), 88, mode).with_early_render(early);
        let mut released = Vec::new();
        for env in envelopes {
            released.extend(
                writer
                    .consume(env, &ctx)
                    .await
                    .unwrap_or_else(|e| panic!("consume: {e}")),
            );
        }
        let finish = writer
            .finish(&ctx, false)
            .await
            .unwrap_or_else(|e| panic!("finish: {e}"));
        released.extend(finish.released);
        (released, finish.summary)
    })
}

/// Copies fixture `name` into a new temporary directory.
pub fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/writer")
        .join(name);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let dst = dir.path().join(name);
    std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
    (dir, dst)
}

/// Bytes shown for a snapshot: a BOM, carriage returns and a missing final
/// newline made visible, non-UTF-8 bytes shown as Latin-1.
pub fn show(bytes: &[u8]) -> String {
    let (bom, rest) = match bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some(r) => ("<BOM>", r),
        None => ("", bytes),
    };
    let text = match std::str::from_utf8(rest) {
        Ok(t) => t.to_string(),
        Err(_) => format!(
            "<latin-1>{}",
            rest.iter().map(|&b| b as char).collect::<String>()
        ),
    };
    let mut shown = format!("{bom}{}", text.replace('\r', "␍"));
    if !bytes.is_empty() && !bytes.ends_with(b"\n") && !bytes.ends_with(b"\r") {
        shown.push_str("<no newline at end>");
    }
    shown
}
