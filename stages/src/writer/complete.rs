//! Completing a docstring a person wrote by adding and removing lines, so
//! that everything else in the literal stays byte for byte: their wording,
//! line breaks, section titles and field markers, types or their absence,
//! escapes (`\N{BULLET}` stays `\N{BULLET}`), prefix and quotes.
//!
//! What changes is what `check` reports about the docstring, as the
//! analyzer's findings for the unit say: missing parameters, a missing
//! Returns, Yields or Raises entry and a missing summary are added from the
//! generated draft; entries of parameters the signature no longer has, a
//! Returns or Yields section the code contradicts and (when `DOC502` is on)
//! exceptions never raised are removed; a documented type that contradicts
//! the annotation is corrected. New entries go into the section of their
//! kind, in signature order; a new section goes where its convention puts
//! it, rendered by the docstring's own style.
//!
//! This needs the style's [`Style::outline`] and a literal whose source
//! lines are its value's lines (no escaped line breaks, no line
//! continuation): [`complete`] answers `None` otherwise, and the writer
//! renders the merged docstring instead.

use std::collections::{BTreeMap, BTreeSet};

use docpipe_core::model::{CodeUnit, DocModel, DocParam, DocReturn, Finding, SourceFile};
use docpipe_core::style::{Outline, OutlineSection, RenderOptions, SectionRole, Style};

use crate::analyze::verdict;
use crate::python::literal;
use crate::python::signature::signature_and_constructor_params;
use crate::style::TypesPolicy;

/// What [`complete`] works with.
pub struct Completion<'a> {
    /// The file the unit is in.
    pub file: &'a SourceFile,
    /// The unit, with the docstring a person wrote.
    pub unit: &'a CodeUnit,
    /// The convention the docstring is written in.
    pub style: &'a dyn Style,
    /// The generated docstring (variadic entries already starred if the style wants it).
    pub draft: &'a DocModel,
    /// The analyzer's findings for the unit: what to repair.
    pub findings: &'a [Finding],
    /// Width and the docstring's indentation.
    pub options: &'a RenderOptions,
    /// Which types new entries carry.
    pub types: TypesPolicy,
    /// The marker of text a person must still write (`[style] placeholder`).
    pub placeholder: &'a str,
}

/// The docstring literal of `c.unit` completed (possibly exactly as it was),
/// or `None` when it cannot be completed line by line.
pub fn complete(c: &Completion<'_>) -> Option<String> {
    let ds = c.unit.docstring.as_ref()?;
    let literal_text = c.file.text.get(ds.span.clone())?;
    let opening = format!("{}{}", ds.prefix, ds.quote.as_str());
    let quote = ds.quote.as_str();
    let body = literal_text
        .strip_prefix(opening.as_str())?
        .strip_suffix(quote)?;
    let lines = split_source_lines(body);
    // The source lines must hold the value, one literal: a line may end in
    // a backslash continuation (the value joins it to the next line) or hold
    // an escaped line break; the outline is then made of the source lines
    // as they read, so that its line numbers are the source's.
    let is_raw = ds.prefix.contains(['r', 'R']);
    let mut decoded: Vec<String> = Vec::with_capacity(lines.len());
    let mut continued: Vec<bool> = Vec::with_capacity(lines.len());
    let mut rebuilt = String::with_capacity(ds.value.len());
    for (i, l) in lines.iter().enumerate() {
        let mut out = String::new();
        literal::value(l, &ds.prefix, &mut out);
        let trailing = l.len() - l.trim_end_matches('\\').len();
        let cont = !is_raw && trailing % 2 == 1 && i + 1 < lines.len();
        if cont {
            out.pop();
        }
        rebuilt.push_str(&out);
        if i + 1 < lines.len() && !cont {
            rebuilt.push('\n');
        }
        decoded.push(out);
        continued.push(cont);
    }
    if rebuilt != ds.value {
        return None;
    }
    let outline = if continued.contains(&true) || decoded.iter().any(|d| d.contains('\n')) {
        let one_per_line: Vec<String> = decoded.iter().map(|d| d.replace('\n', " ")).collect();
        c.style.outline(&one_per_line.join("\n"))?
    } else {
        c.style.outline(&ds.value)?
    };
    let existing = c.style.parse(&ds.value);
    let mut edit = LineEdit::new(lines, c, &outline, &existing)?;
    edit.repair()?;
    // Nothing may go between a line and the line its backslash continues it
    // on, nor replace either of them.
    let splits = |i: usize| i > 0 && continued.get(i - 1).copied().unwrap_or(false);
    if edit.inserted.keys().any(|&i| splits(i))
        || edit
            .removed
            .iter()
            .any(|&i| splits(i) || continued.get(i).copied().unwrap_or(false))
        || (edit.first_line.is_some() && continued.first().copied().unwrap_or(false))
    {
        return None;
    }
    // A `"` or `'` literal cannot take more lines: it is written anew as `"""`.
    if quote.len() == 1 && !edit.inserted.is_empty() {
        return None;
    }
    Some(edit.finish(&opening, quote))
}

/// Why a person's docstring cannot be completed so that it reads back: a
/// line break written as an escape (`"""q(uit)\nexit`) that starts a line of
/// the value at a smaller indentation than the source lines have, so every
/// reader (`inspect.cleandoc`, Sphinx, docpipe) takes the docstring's margin
/// from it and sees the sections indented, that is as no sections at all.
pub fn escaped_break(file: &SourceFile, unit: &CodeUnit) -> Option<String> {
    let ds = unit.docstring.as_ref()?;
    let literal_text = file.text.get(ds.span.clone())?;
    let body = literal_text
        .strip_prefix(format!("{}{}", ds.prefix, ds.quote.as_str()).as_str())?
        .strip_suffix(ds.quote.as_str())?;
    let margin = |lines: &mut dyn Iterator<Item = &str>| {
        lines
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start().len())
            .min()
    };
    // A one-line literal has no lines of its own after the first: the lines
    // completion adds go at the indentation of the line it starts on.
    let source =
        margin(&mut split_source_lines(body).into_iter().skip(1)).or(Some(ds.indent.len()));
    let value = margin(&mut ds.value.split('\n').skip(1));
    match (source, value) {
        (Some(s), Some(v)) if v < s => {
            let line = ds.line
                + split_source_lines(body)
                    .iter()
                    .position(|l| {
                        let mut out = String::new();
                        literal::value(l, &ds.prefix, &mut out);
                        out.contains('\n')
                    })
                    .unwrap_or(0);
            Some(format!(
                "the docstring of `{}` has a line break written as `\\n` on line {line}, which \
                 starts a line at column 0 of the docstring's value, so help(), Sphinx and \
                 docpipe read its sections as indented text; write `\\\\n` (or use a raw \
                 docstring) and run again",
                unit.display_name()
            ))
        }
        _ => None,
    }
}

/// `text` split at `\r\n`, `\n` or a lone `\r`, as Python splits lines.
fn split_source_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let bytes = text.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&text[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    lines.push(&text[start..]);
    lines
}

/// Rank of a section in the order the conventions give them.
fn rank(role: SectionRole) -> u8 {
    match role {
        SectionRole::Params => 1,
        SectionRole::Returns => 2,
        SectionRole::Yields => 3,
        SectionRole::Raises => 4,
        SectionRole::Other => 5,
    }
}

/// The source lines of a literal being completed: lines removed, and new
/// lines (text relative to the docstring's margin) inserted before a line.
struct LineEdit<'a, 'c> {
    lines: Vec<&'a str>,
    removed: BTreeSet<usize>,
    /// New lines to insert before line `k` (`k == lines.len()`: at the end).
    inserted: BTreeMap<usize, Vec<String>>,
    c: &'c Completion<'c>,
    outline: &'c Outline,
    existing: &'c DocModel,
    /// The codes the analyzer reported for the unit.
    codes: BTreeSet<&'c str>,
    /// The docstring's margin as written in the file (spaces or tabs).
    margin: String,
    /// Sphinx-like fields (sections without a header) were added.
    added_fields: bool,
    /// A new text for the first line (the summary after the opening quotes).
    first_line: Option<String>,
}

impl<'a, 'c> LineEdit<'a, 'c> {
    fn new(
        lines: Vec<&'a str>,
        c: &'c Completion<'c>,
        outline: &'c Outline,
        existing: &'c DocModel,
    ) -> Option<LineEdit<'a, 'c>> {
        // The margin: the indentation of the least indented line after the
        // first, as written; for a one-line docstring, the body's.
        let margin = lines
            .iter()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| &l[..l.len() - l.trim_start_matches([' ', '\t']).len()])
            .min_by_key(|m| crate::style::text::columns(m))
            .map_or_else(|| super::body_indent(c.unit).to_string(), str::to_string);
        Some(LineEdit {
            lines,
            removed: BTreeSet::new(),
            inserted: BTreeMap::new(),
            c,
            outline,
            existing,
            codes: c.findings.iter().map(|f| f.code.as_ref()).collect(),
            margin,
            added_fields: false,
            first_line: None,
        })
    }

    fn has(&self, code: &str) -> bool {
        self.codes.contains(code)
    }

    /// Makes the repairs the findings ask for; `None` when one cannot be made
    /// line by line.
    fn repair(&mut self) -> Option<()> {
        let v = verdict(self.c.unit, self.existing, true);
        if self.has("DP110") && self.existing.summary.trim().is_empty() {
            self.add_summary()?;
        }
        if self.has("DOC102") {
            // A section whose last stale entry goes keeps its header when
            // entries are about to be added to it.
            let adding = self.has("DOC101") && !v.missing_params.is_empty();
            for name in &v.extra_params {
                self.remove_entry(SectionRole::Params, name, adding);
            }
        }
        if self.has("DOC105") {
            for m in &v.mistyped_params {
                self.retype_param(&m.name)?;
            }
        }
        if self.has("DOC101") && !v.missing_params.is_empty() {
            let names: Vec<&str> = v.missing_params.iter().map(|p| p.name.as_str()).collect();
            self.add_params(&names)?;
        }
        self.replace_placeholder_params()?;
        self.replace_placeholder_summary();
        for (role, extra, mistyped, missing) in [
            (
                SectionRole::Returns,
                self.has("DOC202") && v.extra_returns,
                self.has("DOC203") && v.mistyped_returns.is_some(),
                self.has("DOC201") && v.missing_returns,
            ),
            (
                SectionRole::Yields,
                self.has("DOC403") && v.extra_yields,
                self.has("DOC404") && v.mistyped_yields.is_some(),
                self.has("DOC402") && v.missing_yields,
            ),
        ] {
            if extra {
                self.remove_sections(role);
            } else if mistyped {
                self.replace_value_section(role)?;
            } else if missing {
                self.add_value_section(role)?;
            } else if let Some(value) = self.placeholder_value(role) {
                self.write_value_section(role, value)?;
            }
        }
        if self.has("DOC502") {
            let adding = self.has("DOC501") && !v.missing_raises.is_empty();
            for exc in &v.extra_raises {
                self.remove_entry(SectionRole::Raises, exc, adding);
            }
        }
        if self.has("DOC501") && !v.missing_raises.is_empty() {
            self.add_raises(&v.missing_raises)?;
        }
        self.replace_placeholder_raises()?;
        Some(())
    }

    // --- what to write ----------------------------------------------------

    /// The draft's entry for parameter `name`, with the type the policy
    /// allows for this style.
    fn draft_param(&self, name: &str) -> Option<DocParam> {
        let mut entry = self.c.draft.param(name)?.clone();
        let annotated = signature_and_constructor_params(self.c.unit)
            .any(|p| p.name == name.trim_start_matches('*') && p.annotation.is_some());
        if !self.c.types.keeps(self.c.style.name(), annotated) {
            entry.ty = None;
        }
        entry.section = None;
        Some(entry)
    }

    fn draft_value(&self, role: SectionRole) -> Option<DocReturn> {
        let mut value = match role {
            SectionRole::Returns => self.c.draft.returns.clone()?,
            SectionRole::Yields => self.c.draft.yields.clone()?,
            _ => return None,
        };
        if !self
            .c
            .types
            .keeps(self.c.style.name(), self.c.unit.returns.is_some())
        {
            value.ty = None;
        }
        Some(value)
    }

    /// The lines of the section of `role` in `doc` rendered by the style,
    /// relative to the docstring's margin: the header (when `with_header`)
    /// and the entries (all, or those documenting `names`).
    fn rendered(
        &self,
        doc: &DocModel,
        role: SectionRole,
        with_header: bool,
    ) -> Option<Vec<String>> {
        let full = DocModel {
            summary: "S.".into(),
            ..doc.clone()
        };
        let text = self.c.style.render(&full, self.c.options);
        let outline = self.c.style.outline(&text)?;
        let section = outline.sections.iter().find(|s| s.role == role)?;
        let lines: Vec<&str> = text.split('\n').collect();
        let range = if with_header {
            section.lines.clone()
        } else {
            let first = section.entries.first()?.lines.first()?.start;
            first..section.lines.end
        };
        Some(lines.get(range)?.iter().map(|l| l.to_string()).collect())
    }

    // --- edits --------------------------------------------------------------

    fn insert(&mut self, before: usize, lines: Vec<String>) {
        self.inserted.entry(before).or_default().extend(lines);
    }

    fn remove(&mut self, range: std::ops::Range<usize>) {
        self.removed.extend(range);
    }

    /// Removes a whole section with the blank line that separated it.
    fn remove_section(&mut self, section: &OutlineSection) {
        let mut range = section.lines.clone();
        if range.start > 0 && self.blank(range.start - 1) {
            range.start -= 1;
        } else if self.blank(range.end) {
            range.end += 1;
        }
        self.remove(range);
    }

    fn remove_sections(&mut self, role: SectionRole) {
        let sections: Vec<OutlineSection> = self
            .outline
            .sections
            .iter()
            .filter(|s| s.role == role)
            .cloned()
            .collect();
        for s in &sections {
            self.remove_section(s);
        }
    }

    fn blank(&self, i: usize) -> bool {
        self.lines.get(i).is_some_and(|l| l.trim().is_empty())
    }

    /// Removes the entry of `role` documenting `name`; a section left
    /// without entries goes with it, unless `keep_header` (entries will be
    /// added to it).
    fn remove_entry(&mut self, role: SectionRole, name: &str, keep_header: bool) {
        let bare = |n: &str| n.trim_start_matches(['*', '\\']).to_string();
        let outline = self.outline;
        for section in outline.sections.iter().filter(|s| s.role == role) {
            let Some(k) = section.entries.iter().position(|e| {
                e.names.iter().any(|n| bare(n) == bare(name)) || e.names.join(", ") == name
            }) else {
                continue;
            };
            let entry = &section.entries[k];
            if entry.names.len() > 1 {
                // `x, y : int` documents a parameter still in the signature too.
                continue;
            }
            let left = section
                .entries
                .iter()
                .enumerate()
                .filter(|(j, e)| {
                    *j != k
                        && !e
                            .lines
                            .iter()
                            .all(|r| r.clone().all(|i| self.removed.contains(&i)))
                })
                .count();
            if left == 0 && !keep_header {
                self.remove_section(section);
            } else {
                for r in &entry.lines {
                    self.remove(r.clone());
                }
            }
            return;
        }
    }

    /// Where a new section of `role` goes: before the first section that
    /// comes later in the convention's order, else after the last line.
    fn section_slot(&self, role: SectionRole) -> usize {
        self.outline
            .sections
            .iter()
            .find(|s| rank(s.role) > rank(role))
            .map_or(self.outline.end, |s| s.lines.start)
    }

    /// Inserts a whole new section (header included) at its slot, with a
    /// blank line on either side where a section needs one (Sphinx fields
    /// follow other fields without one).
    fn add_section(&mut self, role: SectionRole, lines: Vec<String>) {
        let at = self.section_slot(role);
        let is_fields = lines.first().is_some_and(|l| l.starts_with(':'));
        let among_fields = is_fields
            && (self.added_fields || self.outline.sections.iter().any(|s| s.header.is_empty()));
        self.added_fields |= is_fields;
        let mut block = Vec::with_capacity(lines.len() + 2);
        if !among_fields && at > 0 && !self.blank(at - 1) {
            block.push(String::new());
        }
        block.extend(lines);
        if !among_fields && at < self.outline.end && !self.blank(at) {
            block.push(String::new());
        }
        self.insert(at, block);
    }

    fn add_summary(&mut self) -> Option<()> {
        let summary = self.c.draft.summary.trim();
        if summary.is_empty() {
            return Some(());
        }
        if self.lines.first().is_some_and(|l| l.trim().is_empty()) && self.lines.len() > 1 {
            // `"""` alone on its line: the summary goes on the next one.
            self.insert(1, vec![summary.to_string(), String::new()]);
        } else {
            return None;
        }
        Some(())
    }

    /// Adds entries for parameters `names` (signature order) to the
    /// docstring's main parameters section, or a new section.
    fn add_params(&mut self, names: &[&str]) -> Option<()> {
        let entries: Vec<DocParam> = names.iter().filter_map(|n| self.draft_param(n)).collect();
        if entries.is_empty() {
            return Some(());
        }
        let doc = DocModel {
            params: entries.clone(),
            ..DocModel::default()
        };
        let section = self
            .outline
            .sections
            .iter()
            .find(|s| s.role == SectionRole::Params && !s.entries.is_empty());
        let Some(section) = section.cloned() else {
            let lines = self.rendered(&doc, SectionRole::Params, true)?;
            self.add_section(SectionRole::Params, lines);
            return Some(());
        };
        let order: Vec<&str> = signature_and_constructor_params(self.c.unit)
            .map(|p| p.name.as_str())
            .collect();
        let position = |name: &str| {
            order
                .iter()
                .position(|n| *n == name.trim_start_matches(['*', '\\']))
                .unwrap_or(usize::MAX)
        };
        for entry in entries {
            let one = DocModel {
                params: vec![entry.clone()],
                ..DocModel::default()
            };
            let lines = self.rendered(&one, SectionRole::Params, false)?;
            let lines = reindent(&lines, section.entries[0].indent);
            // Before the first entry of a parameter that comes later.
            let mine = position(&entry.name);
            let at = section
                .entries
                .iter()
                .find(|e| e.names.first().is_some_and(|n| position(n) > mine))
                .and_then(|e| e.lines.first())
                .map_or(section.lines.end, |r| r.start);
            self.insert(at, lines);
        }
        Some(())
    }

    /// Replaces entries whose description still holds the placeholder with
    /// the draft's, when the draft has real text for them.
    /// Replaces a one-line summary that still holds the placeholder with
    /// the draft's, when the draft has real text.
    fn replace_placeholder_summary(&mut self) {
        let marker = self.c.placeholder;
        let draft = self.c.draft.summary.trim();
        let one_line = self.lines.len() == 1 || self.blank(1);
        if marker.is_empty()
            || draft.is_empty()
            || holds_marker(draft, marker)
            || !one_line
            || !self.lines.first().is_some_and(|l| holds_marker(l, marker))
        {
            return;
        }
        self.first_line = Some(draft.to_string());
    }

    /// Replaces Raises entries whose text still holds the placeholder with
    /// the draft's, when the draft has real text.
    fn replace_placeholder_raises(&mut self) -> Option<()> {
        let marker = self.c.placeholder;
        if marker.is_empty() {
            return Some(());
        }
        let outline = self.outline;
        for section in outline
            .sections
            .iter()
            .filter(|s| s.role == SectionRole::Raises)
        {
            for entry in &section.entries {
                let Some(name) = entry.names.first() else {
                    continue;
                };
                let Some(mine) = self.existing.raises.iter().find(|r| r.exception == *name) else {
                    continue;
                };
                let Some(theirs) = self.c.draft.raises.iter().find(|r| r.exception == *name) else {
                    continue;
                };
                if !holds_marker(&mine.description, marker)
                    || holds_marker(&theirs.description, marker)
                {
                    continue;
                }
                if entry
                    .lines
                    .iter()
                    .any(|r| r.clone().any(|i| self.removed.contains(&i)))
                {
                    continue;
                }
                let doc = DocModel {
                    raises: vec![theirs.clone()],
                    ..DocModel::default()
                };
                let lines = self.rendered(&doc, SectionRole::Raises, false)?;
                let lines = reindent(&lines, entry.indent);
                let first = entry.lines.first()?.start;
                for r in &entry.lines {
                    self.remove(r.clone());
                }
                self.insert(first, lines);
            }
        }
        Some(())
    }

    fn replace_placeholder_params(&mut self) -> Option<()> {
        let marker = self.c.placeholder;
        if marker.is_empty() {
            return Some(());
        }
        let stale: Vec<String> = self
            .existing
            .params
            .iter()
            .filter(|p| holds_marker(&p.description, marker))
            .filter(|p| {
                self.c
                    .draft
                    .param(p.name.trim_start_matches('*'))
                    .is_some_and(|d| !holds_marker(&d.description, marker))
            })
            .map(|p| p.name.clone())
            .collect();
        for name in stale {
            self.retype_param_with(&name, false)?;
        }
        Some(())
    }

    /// Rewrites the entry of parameter `name` with the type the annotation
    /// gives (or none, as the policy says), keeping its description.
    fn retype_param(&mut self, name: &str) -> Option<()> {
        self.retype_param_with(name, true)
    }

    fn retype_param_with(&mut self, name: &str, keep_description: bool) -> Option<()> {
        let bare = name.trim_start_matches(['*', '\\']);
        let outline = self.outline;
        let (section, entry) = outline
            .sections
            .iter()
            .filter(|s| s.role == SectionRole::Params)
            .find_map(|s| {
                s.entries
                    .iter()
                    .find(|e| {
                        e.names.len() == 1 && e.names[0].trim_start_matches(['*', '\\']) == bare
                    })
                    .map(|e| (s, e))
            })?;
        let written = self
            .c
            .style
            .parse_written(&self.c.unit.docstring.as_ref()?.value)?;
        let mine = written.doc.param(bare)?;
        let annotation = signature_and_constructor_params(self.c.unit)
            .find(|p| p.name == bare)
            .and_then(|p| p.annotation.clone());
        let draft = self.draft_param(bare);
        let entry_doc = DocParam {
            name: mine.name.clone(),
            ty: if self
                .c
                .types
                .keeps(self.c.style.name(), annotation.is_some())
            {
                annotation
                    .as_deref()
                    .map(crate::template::one_line_annotation)
                    .or_else(|| draft.as_ref().and_then(|d| d.ty.clone()))
            } else {
                None
            },
            description: if keep_description {
                mine.description.clone()
            } else {
                draft?.description
            },
            section: mine.section.clone(),
        };
        let one = DocModel {
            params: vec![entry_doc],
            ..DocModel::default()
        };
        let lines = self.rendered(&one, SectionRole::Params, false)?;
        let lines = reindent(&lines, entry.indent);
        let first = entry.lines.first()?.start;
        for r in &entry.lines {
            self.remove(r.clone());
        }
        let _ = section;
        self.insert(first, lines);
        Some(())
    }

    fn add_value_section(&mut self, role: SectionRole) -> Option<()> {
        let value = self.draft_value(role)?;
        let doc = match role {
            SectionRole::Returns => DocModel {
                returns: Some(value),
                ..DocModel::default()
            },
            _ => DocModel {
                yields: Some(value),
                ..DocModel::default()
            },
        };
        let lines = self.rendered(&doc, role, true)?;
        self.add_section(role, lines);
        Some(())
    }

    /// A Returns or Yields section whose type contradicts the annotation:
    /// re-rendered with the person's description and the annotation's type
    /// (or none, as the policy says).
    fn replace_value_section(&mut self, role: SectionRole) -> Option<()> {
        let written = self
            .c
            .style
            .parse_written(&self.c.unit.docstring.as_ref()?.value)?;
        let mine = match role {
            SectionRole::Returns => written.doc.returns.clone()?,
            _ => written.doc.yields.clone()?,
        };
        let annotation = match role {
            SectionRole::Returns => self.c.unit.returns.clone(),
            _ => self
                .c
                .unit
                .returns
                .as_deref()
                .and_then(crate::analyze::types::yielded_type),
        };
        let value = DocReturn {
            ty: if self
                .c
                .types
                .keeps(self.c.style.name(), annotation.is_some())
            {
                annotation
                    .as_deref()
                    .map(crate::template::one_line_annotation)
            } else {
                None
            },
            description: mine.description,
        };
        self.write_value_section(role, value)
    }

    /// The draft's Returns or Yields for a section whose text still holds
    /// the placeholder, when the draft has real text.
    fn placeholder_value(&self, role: SectionRole) -> Option<DocReturn> {
        let marker = self.c.placeholder;
        let (mine, theirs) = match role {
            SectionRole::Returns => (
                self.existing.returns.as_ref()?,
                self.c.draft.returns.as_ref()?,
            ),
            SectionRole::Yields => (
                self.existing.yields.as_ref()?,
                self.c.draft.yields.as_ref()?,
            ),
            _ => return None,
        };
        let marked = holds_marker(&mine.description, marker)
            || mine.ty.as_deref().is_some_and(|t| holds_marker(t, marker));
        if marker.is_empty() || !marked || holds_marker(&theirs.description, marker) {
            return None;
        }
        let mut value = self.draft_value(role)?;
        if value.ty.as_deref().is_some_and(|t| holds_marker(t, marker)) {
            value.ty = None;
        }
        Some(value)
    }

    /// Writes `value` as the body of the docstring's section of `role`,
    /// keeping the person's title line(s).
    fn write_value_section(&mut self, role: SectionRole, value: DocReturn) -> Option<()> {
        let doc = match role {
            SectionRole::Returns => DocModel {
                returns: Some(value),
                ..DocModel::default()
            },
            _ => DocModel {
                yields: Some(value),
                ..DocModel::default()
            },
        };
        let section = self
            .outline
            .sections
            .iter()
            .find(|s| s.role == role)?
            .clone();
        let header = &self.lines[section.header.clone()];
        let lines = if section.header.is_empty() {
            self.rendered(&doc, role, true)?
        } else {
            // Keep the person's title line(s), replace the body.
            let mut body = self.rendered(&doc, role, false)?;
            let indent = section.entries.first().map_or(0, |e| e.indent);
            body = reindent(&body, indent);
            let _ = header;
            self.remove(section.header.end..section.lines.end);
            self.insert(section.header.end, body);
            return Some(());
        };
        self.remove(section.lines.clone());
        self.insert(section.lines.start, lines);
        Some(())
    }

    fn add_raises(&mut self, missing: &[String]) -> Option<()> {
        let entries: Vec<_> = missing
            .iter()
            .filter_map(|exc| {
                let last = exc.rsplit('.').next().unwrap_or(exc);
                self.c
                    .draft
                    .raises
                    .iter()
                    .find(|r| r.exception == *exc || r.exception.rsplit('.').next() == Some(last))
                    .cloned()
            })
            .collect();
        if entries.is_empty() {
            return Some(());
        }
        let doc = DocModel {
            raises: entries,
            ..DocModel::default()
        };
        let section = self
            .outline
            .sections
            .iter()
            .find(|s| s.role == SectionRole::Raises && !s.entries.is_empty())
            .cloned();
        match section {
            Some(section) => {
                let lines = self.rendered(&doc, SectionRole::Raises, false)?;
                let lines = reindent(&lines, section.entries[0].indent);
                self.insert(section.lines.end, lines);
            }
            None => {
                let lines = self.rendered(&doc, SectionRole::Raises, true)?;
                self.add_section(SectionRole::Raises, lines);
            }
        }
        Some(())
    }

    // --- the new literal ------------------------------------------------------

    fn finish(self, opening: &str, quote: &str) -> String {
        let newline = self.c.file.newline.as_str();
        let prefix = self
            .c
            .unit
            .docstring
            .as_ref()
            .map_or("", |d| d.prefix.as_str());
        let render = |l: &String| -> String {
            if l.is_empty() {
                String::new()
            } else {
                format!("{}{}", self.margin, escape_for(l, prefix, quote))
            }
        };
        let n = self.lines.len();
        // A last line of indentation alone holds the closing quotes: what is
        // added at the end goes before it.
        let closing_line = n > 1 && self.blank(n - 1);
        let end_slot = if closing_line { n - 1 } else { n };
        let mut out: Vec<String> = Vec::with_capacity(n + 8);
        for i in 0..n {
            if i == end_slot
                && let Some(new) = self.inserted.get(&n)
            {
                out.extend(new.iter().map(render));
            }
            if let Some(new) = self.inserted.get(&i) {
                out.extend(new.iter().map(render));
            }
            if i == 0
                && let Some(first) = &self.first_line
            {
                out.push(escape_for(first, prefix, quote));
            } else if !self.removed.contains(&i) {
                out.push(self.lines[i].to_string());
            }
        }
        if end_slot == n
            && let Some(new) = self.inserted.get(&n)
        {
            out.extend(new.iter().map(render));
            // Text now on the last line: the closing quotes get their own.
            out.push(self.margin.clone());
        }
        format!("{opening}{}{quote}", out.join(newline))
    }
}

/// Whether `text` holds the placeholder `marker` as a word.
pub fn holds_marker(text: &str, marker: &str) -> bool {
    !marker.is_empty()
        && text.match_indices(marker).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + marker.len()..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
}

/// Lines rendered at indentation 0 moved to `indent` columns.
fn reindent(lines: &[String], indent: usize) -> Vec<String> {
    let least = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                format!("{}{}", " ".repeat(indent), &l[least..])
            }
        })
        .collect()
}

/// `text` written for a literal with `prefix` and `quote`: backslashes,
/// control characters and quotes that could close it escaped (a raw literal
/// cannot escape: a backslash stays as it is, and text that would end it is
/// refused by the safety check of the rewrite).
fn escape_for(text: &str, prefix: &str, quote: &str) -> String {
    let raw = prefix.contains(['r', 'R']);
    let q = quote.chars().next().unwrap_or('"');
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if !raw => out.push_str("\\\\"),
            c if c == q && !raw && chars.peek() == Some(&q) => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() && c != '\t' && !raw => {
                out.push_str(&format!("\\x{:02x}", c as u32 & 0xff));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_whole_words() {
        assert!(holds_marker("TODO.", "TODO"));
        assert!(holds_marker("The x. TODO: more", "TODO"));
        assert!(!holds_marker("TODOS are done", "TODO"));
        assert!(!holds_marker("anything", ""));
    }

    #[test]
    fn source_lines_split_as_python_does() {
        assert_eq!(split_source_lines("a\r\nb\rc\nd"), ["a", "b", "c", "d"]);
        assert_eq!(split_source_lines("one"), ["one"]);
    }

    #[test]
    fn an_escaped_break_in_a_one_line_docstring_is_refused_where_lines_would_be_added() {
        let text = "class K:\n    def spam(self, a):\n        \"\"\"Spam\\n\\nSpam spam.\"\"\"\n\n\ndef top(a):\n    \"\"\"Top.\"\"\"\n";
        let file = SourceFile::from_text("k.py", text);
        let units = crate::python::extract(&file).unwrap_or_default();
        let unit = |name: &str| units.iter().find(|u| u.qualname == name).cloned();
        let spam = unit("K.spam").unwrap_or_else(|| panic!("no K.spam in {units:?}"));
        let why = escaped_break(&file, &spam).unwrap_or_default();
        assert!(why.contains("line 3"), "{why}");
        let top = unit("top").unwrap_or_else(|| panic!("no top"));
        assert_eq!(escaped_break(&file, &top), None);
    }
}
