//! The Markdown of one module page and of the index.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use docpipe_core::model::{CodeUnit, DocModel, DocReturn, UnitKind};

/// One definition on a page.
#[derive(Debug, Clone)]
pub struct PageItem {
    /// Heading text (the qualified name).
    pub title: String,
    /// The signature block (decorators, `def`/`class` line), empty for none.
    pub signature: String,
    /// The parsed docstring.
    pub doc: Option<DocModel>,
}

/// A class and the methods defined directly in it.
#[derive(Debug, Clone)]
pub struct PageClass {
    /// The class itself.
    pub item: PageItem,
    /// Its methods in source order.
    pub methods: Vec<PageItem>,
}

/// Everything one module page shows.
#[derive(Debug, Clone)]
pub struct ModulePage {
    /// Dotted module name (`pkg.mod`).
    pub module: String,
    /// The source file.
    pub source: PathBuf,
    /// The page's path relative to the output directory, with `/`.
    pub link: String,
    /// The module docstring.
    pub doc: Option<DocModel>,
    /// Classes in source order.
    pub classes: Vec<PageClass>,
    /// Module-level functions in source order.
    pub functions: Vec<PageItem>,
}

impl ModulePage {
    /// The page of the module at `source`, written to `rel` (relative to the
    /// output directory, `.py` path), from its units in source order.
    pub fn new(source: &Path, rel: &Path, units: &[(&CodeUnit, Option<&DocModel>)]) -> ModulePage {
        let link = rel
            .with_extension("md")
            .to_string_lossy()
            .replace('\\', "/");
        let mut module_parts: Vec<String> = rel
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if module_parts.len() > 1 && module_parts.last().is_some_and(|p| p == "__init__") {
            module_parts.pop();
        }
        let mut page = ModulePage {
            module: module_parts.join("."),
            source: source.to_path_buf(),
            link,
            doc: None,
            classes: Vec::new(),
            functions: Vec::new(),
        };
        let mut class_index: HashMap<String, usize> = HashMap::new();
        for (unit, doc) in units {
            let item = || PageItem {
                title: unit.display_name(),
                signature: signature_block(unit),
                doc: doc.cloned(),
            };
            match unit.kind {
                UnitKind::Module => page.doc = doc.cloned(),
                UnitKind::Class => {
                    class_index.insert(unit.qualname.clone(), page.classes.len());
                    page.classes.push(PageClass {
                        item: item(),
                        methods: Vec::new(),
                    });
                }
                UnitKind::Method => {
                    let class = unit.class_name.as_ref().and_then(|c| class_index.get(c));
                    match class {
                        Some(&i) => page.classes[i].methods.push(item()),
                        None => page.functions.push(item()),
                    }
                }
                UnitKind::Function => page.functions.push(item()),
            }
        }
        page
    }
}

/// The signature as a reader wants it: decorators, then the header from
/// `def`/`class` to the colon, continuation lines dedented.
fn signature_block(unit: &CodeUnit) -> String {
    let mut out = String::new();
    for d in &unit.decorators {
        let _ = writeln!(out, "@{}", d.trim());
    }
    let sig = unit.signature.trim();
    if unit.is_async && !sig.starts_with("async") {
        out.push_str("async ");
    }
    let strip = unit.column.saturating_sub(1);
    for (i, line) in sig.lines().enumerate() {
        if i > 0 {
            out.push('\n');
            let lead = line.len() - line.trim_start().len();
            out.push_str(&line[lead.min(strip)..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// A docstring's text as `inspect.cleandoc` gives it: the first line
/// stripped, the common indentation of the others removed, blank lines at
/// both ends dropped.
pub fn clean_docstring(value: &str) -> String {
    let lines: Vec<&str> = value.lines().collect();
    let margin = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if i == 0 {
            out.push(line.trim().to_string());
        } else {
            let cut = margin.min(line.len() - line.trim_start().len());
            out.push(line[cut..].trim_end().to_string());
        }
    }
    while out.first().is_some_and(|l| l.is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// The anchor GitHub gives a heading: lower-case, spaces to `-`, other
/// punctuation but `-` and `_` removed.
pub fn github_anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => {
                Some(c.to_lowercase().next().unwrap_or(c))
            }
            _ => None,
        })
        .collect()
}

/// Gives each heading a unique anchor, as GitHub does (`-1`, `-2` suffixes).
#[derive(Default)]
struct Anchors(HashMap<String, usize>);

impl Anchors {
    fn take(&mut self, heading: &str) -> String {
        let base = github_anchor(heading);
        let n = self.0.entry(base.clone()).or_insert(0);
        let anchor = if *n == 0 { base } else { format!("{base}-{n}") };
        *n += 1;
        anchor
    }
}

/// The Markdown of a module page.
pub fn render_module(page: &ModulePage) -> String {
    let mut anchors = Anchors::default();
    let mut out = String::new();
    let title = format!("`{}`", page.module);
    anchors.take(&title);
    let _ = writeln!(out, "# {title}\n");
    let _ = writeln!(
        out,
        "Source: `{}`\n",
        page.source.to_string_lossy().replace('\\', "/")
    );
    if let Some(doc) = &page.doc {
        render_doc(&mut out, doc);
    }

    // Anchors are assigned in the order headings appear below, so compute the
    // table of contents from the same sequence.
    let mut toc_anchors = Anchors::default();
    toc_anchors.take(&title);
    let mut toc = String::new();
    if !page.classes.is_empty() {
        toc_anchors.take("Classes");
    }
    for class in &page.classes {
        let h = format!("`{}`", class.item.title);
        let _ = writeln!(toc, "- [{h}](#{})", toc_anchors.take(&h));
        for m in &class.methods {
            let h = format!("`{}`", m.title);
            let _ = writeln!(toc, "  - [{h}](#{})", toc_anchors.take(&h));
        }
    }
    if !page.functions.is_empty() {
        toc_anchors.take("Functions");
    }
    for f in &page.functions {
        let h = format!("`{}`", f.title);
        let _ = writeln!(toc, "- [{h}](#{})", toc_anchors.take(&h));
    }
    if !toc.is_empty() {
        anchors.take("Contents");
        let _ = writeln!(out, "## Contents\n\n{toc}");
    }

    if !page.classes.is_empty() {
        anchors.take("Classes");
        out.push_str("## Classes\n\n");
        for class in &page.classes {
            render_item(&mut out, &mut anchors, &class.item, "###");
            for m in &class.methods {
                render_item(&mut out, &mut anchors, m, "####");
            }
        }
    }
    if !page.functions.is_empty() {
        anchors.take("Functions");
        out.push_str("## Functions\n\n");
        for f in &page.functions {
            render_item(&mut out, &mut anchors, f, "###");
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn render_item(out: &mut String, anchors: &mut Anchors, item: &PageItem, level: &str) {
    let heading = format!("`{}`", item.title);
    anchors.take(&heading);
    let _ = writeln!(out, "{level} {heading}\n");
    if !item.signature.is_empty() {
        let _ = writeln!(out, "```python\n{}\n```\n", item.signature);
    }
    match &item.doc {
        Some(doc) => render_doc(out, doc),
        None => out.push_str("*Not documented.*\n\n"),
    }
}

/// A docstring as Markdown: summary, description, then parameter, return,
/// yield and exception lists, examples, notes and the other sections.
fn render_doc(out: &mut String, doc: &DocModel) {
    for text in [&doc.summary, &doc.description] {
        if !text.trim().is_empty() {
            let _ = writeln!(out, "{}\n", text.trim());
        }
    }
    if !doc.params.is_empty() {
        out.push_str("**Parameters**\n\n");
        for p in &doc.params {
            let _ = write!(out, "- `{}`", p.name);
            if let Some(ty) = p.ty.as_deref().filter(|t| !t.trim().is_empty()) {
                let _ = write!(out, " (`{}`)", ty.trim());
            }
            list_text(out, &p.description);
        }
        out.push('\n');
    }
    for (title, value) in [("Returns", &doc.returns), ("Yields", &doc.yields)] {
        if let Some(r) = value {
            let _ = writeln!(out, "**{title}**\n");
            render_value(out, r);
            out.push('\n');
        }
    }
    if !doc.raises.is_empty() {
        out.push_str("**Raises**\n\n");
        for r in &doc.raises {
            let _ = write!(out, "- `{}`", r.exception);
            list_text(out, &r.description);
        }
        out.push('\n');
    }
    if !doc.examples.trim().is_empty() {
        let _ = writeln!(
            out,
            "**Examples**\n\n```pycon\n{}\n```\n",
            doc.examples.trim_end()
        );
    }
    if !doc.notes.trim().is_empty() {
        let _ = writeln!(out, "**Notes**\n\n{}\n", doc.notes.trim());
    }
    for s in &doc.sections {
        let _ = writeln!(out, "**{}**\n\n{}\n", s.title.trim(), s.body.trim());
    }
}

fn render_value(out: &mut String, r: &DocReturn) {
    out.push('-');
    if let Some(ty) = r.ty.as_deref().filter(|t| !t.trim().is_empty()) {
        let _ = write!(out, " `{}`", ty.trim());
    }
    if r.description.trim().is_empty() {
        out.push('\n');
    } else if r.ty.is_some() {
        list_text(out, &r.description);
    } else {
        let _ = writeln!(out, " {}", indent_continuation(r.description.trim()));
    }
}

/// `: description` after a list item's name, continuation lines indented.
fn list_text(out: &mut String, text: &str) {
    let text = text.trim();
    if text.is_empty() {
        out.push('\n');
    } else {
        let _ = writeln!(out, ": {}", indent_continuation(text));
    }
}

fn indent_continuation(text: &str) -> String {
    text.lines().collect::<Vec<_>>().join("\n  ")
}

/// The Markdown of `index.md`: every module with a link and its summary.
pub fn render_index(pages: &[&ModulePage]) -> String {
    let mut out = String::from("# API reference\n\n");
    if pages.is_empty() {
        out.push_str("No modules were documented.\n");
        return out;
    }
    out.push_str("| Module | Summary |\n| --- | --- |\n");
    for p in pages {
        let summary = p
            .doc
            .as_ref()
            .map(|d| d.summary.trim().replace('|', "\\|").replace('\n', " "))
            .unwrap_or_default();
        let _ = writeln!(out, "| [`{}`]({}) | {} |", p.module, p.link, summary);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_like_inspect_cleandoc() {
        assert_eq!(
            clean_docstring("Sum.\n\n    Args:\n        x: A.\n    "),
            "Sum.\n\nArgs:\n    x: A."
        );
    }

    #[test]
    fn anchors_follow_github() {
        assert_eq!(github_anchor("`Config.load_file`"), "configload_file");
        assert_eq!(github_anchor("Two words"), "two-words");
    }
}
