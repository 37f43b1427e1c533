//! Merging a generated docstring into the one a person wrote: what the person
//! wrote wins, what is missing is added, parameters that left the signature go.
//!
//! What the person wrote is kept as they wrote it where the style can tell
//! ([`Style::parse_written`]): their summary and description (everything
//! before the first section) line for line, and the descriptions of the items
//! they documented with their line breaks. Only the sections are rendered.

use std::borrow::Cow;

use docpipe_core::model::{CodeUnit, DocModel, DocParam, DocRaise, DocReturn, ParamKind};
use docpipe_core::style::{RenderOptions, Style};

use crate::python::signature::{params_allowed, params_to_document};

/// The docstring body to write for `unit`, whose docstring a person wrote
/// (`value`, as Python reads it; `existing` is its parse), completed with the
/// generated `draft`.
///
/// When `style` splits the docstring as written, the person's head (summary
/// and description) is kept exactly, lines, wording and indentation, followed
/// by the sections of the [`merge`]d model rendered by `style`, in which the
/// person's item descriptions keep their line breaks. A person's free text
/// after a section follows the head; without a description of their own, the
/// draft's follows it. A docstring that starts with a section (no summary)
/// and a style that cannot split get the whole merged model rendered.
pub fn render_merged(
    style: &dyn Style,
    unit: &CodeUnit,
    value: &str,
    existing: &DocModel,
    draft: &DocModel,
    options: &RenderOptions,
) -> String {
    let Some(written) = style.parse_written(value) else {
        return style.render(&merge(unit, existing, draft), options);
    };
    let merged = merge(unit, &written.doc, draft);
    if written.head.trim().is_empty() || written.doc.summary.trim().is_empty() {
        return style.render(&merged, options);
    }
    let description = if written.doc.description.trim().is_empty() {
        merged.description
    } else {
        written.rest
    };
    let sections = DocModel {
        summary: String::new(),
        description,
        ..merged
    };
    let rendered = style.render(&sections, options);
    // Without a summary a style may start with the blank line it puts before
    // the description.
    let rendered = rendered.trim_start_matches(['\n', '\r']);
    if rendered.trim().is_empty() {
        written.head
    } else {
        format!("{}\n\n{rendered}", written.head)
    }
}

/// The docstring to write for `unit` when it already has `existing` and the
/// generator proposed `draft`.
///
/// Kept from `existing`: the summary, the description, examples, notes, extra
/// sections, and the descriptions (and types) of parameters, return, yields
/// and exceptions it documents. Taken from `draft`: whatever `existing` lacks.
/// Parameters follow the signature's order; documented parameters that are no
/// longer in the signature are dropped.
pub fn merge(unit: &CodeUnit, existing: &DocModel, draft: &DocModel) -> DocModel {
    let pick = |mine: &str, theirs: &str| {
        if mine.trim().is_empty() {
            theirs.to_string()
        } else {
            mine.to_string()
        }
    };
    DocModel {
        summary: pick(&existing.summary, &draft.summary),
        description: pick(&existing.description, &draft.description),
        params: merge_params(unit, existing, draft),
        returns: merge_return(existing.returns.as_ref(), draft.returns.as_ref()),
        yields: merge_return(existing.yields.as_ref(), draft.yields.as_ref()),
        raises: merge_raises(&existing.raises, &draft.raises),
        examples: pick(&existing.examples, &draft.examples),
        notes: pick(&existing.notes, &draft.notes),
        sections: if existing.sections.is_empty() {
            draft.sections.clone()
        } else {
            let mut sections = existing.sections.clone();
            for s in &draft.sections {
                if !sections
                    .iter()
                    .any(|e| e.title.eq_ignore_ascii_case(&s.title))
                {
                    sections.push(s.clone());
                }
            }
            sections
        },
    }
}

/// `draft` with the entries of `unit`'s `*args` and `**kwargs` named with
/// their stars, for a style that lists them so
/// ([`Style::stars_variadic_params`]). Names that already have stars stay;
/// a draft with nothing to star is returned as it is, not copied.
pub fn star_variadics<'d>(unit: &CodeUnit, draft: &'d DocModel) -> Cow<'d, DocModel> {
    let stars = |name: &str| match unit.params.iter().find(|p| p.name == name) {
        Some(p) if p.kind == ParamKind::VarPositional => Some("*"),
        Some(p) if p.kind == ParamKind::VarKeyword => Some("**"),
        _ => None,
    };
    if !draft.params.iter().any(|e| stars(&e.name).is_some()) {
        return Cow::Borrowed(draft);
    }
    let mut doc = draft.clone();
    for entry in &mut doc.params {
        if let Some(stars) = stars(&entry.name) {
            entry.name.insert_str(0, stars);
        }
    }
    Cow::Owned(doc)
}

fn merge_params(unit: &CodeUnit, existing: &DocModel, draft: &DocModel) -> Vec<DocParam> {
    let bare = |p: &DocParam| p.name.trim_start_matches('*').to_string();
    let names: Vec<String> = match params_allowed(unit) {
        // The signature's order: the parameters to document, and those the
        // person documented although they need not be (a constructor's
        // parameters on `__init__` when the class documents them).
        Some(allowed) => {
            let required = params_to_document(unit);
            allowed
                .iter()
                .filter(|p| {
                    required.iter().any(|r| r.name == p.name) || existing.param(&p.name).is_some()
                })
                .map(|p| p.name.clone())
                .collect()
        }
        // Any name goes (a class without its own `__init__`): the person's
        // entries, then the draft's.
        None => {
            let mut names: Vec<String> = existing.params.iter().map(bare).collect();
            for p in &draft.params {
                let name = bare(p);
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            names
        }
    };
    let mut out = Vec::with_capacity(names.len());
    for name in &names {
        let mine = existing.param(name);
        let theirs = draft.param(name);
        let merged = match (mine, theirs) {
            (Some(m), Some(t)) => DocParam {
                name: m.name.clone(),
                ty: m.ty.clone().or_else(|| t.ty.clone()),
                description: if m.description.trim().is_empty() {
                    t.description.clone()
                } else {
                    m.description.clone()
                },
                section: m.section.clone(),
            },
            (Some(m), None) => m.clone(),
            (None, Some(t)) => t.clone(),
            (None, None) => continue,
        };
        out.push(merged);
    }
    out
}

fn merge_return(mine: Option<&DocReturn>, theirs: Option<&DocReturn>) -> Option<DocReturn> {
    match (mine, theirs) {
        (Some(m), Some(t)) => Some(DocReturn {
            ty: m.ty.clone().or_else(|| t.ty.clone()),
            description: if m.description.trim().is_empty() {
                t.description.clone()
            } else {
                m.description.clone()
            },
        }),
        (Some(m), None) => Some(m.clone()),
        (None, t) => t.cloned(),
    }
}

fn merge_raises(mine: &[DocRaise], theirs: &[DocRaise]) -> Vec<DocRaise> {
    let mut out = mine.to_vec();
    for t in theirs {
        match out.iter_mut().find(|m| m.exception == t.exception) {
            Some(m) if m.description.trim().is_empty() => m.description = t.description.clone(),
            Some(_) => {}
            None => out.push(t.clone()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use docpipe_core::model::{Insertion, Param, UnitKind};

    fn unit(params: &[&str]) -> CodeUnit {
        CodeUnit {
            path: "m.py".into(),
            qualname: "f".into(),
            name: "f".into(),
            kind: UnitKind::Function,
            is_async: false,
            nested: false,
            class_name: None,
            decorators: vec![],
            params: params
                .iter()
                .map(|n| Param {
                    name: (*n).into(),
                    kind: ParamKind::Normal,
                    annotation: None,
                    default: None,
                })
                .collect(),
            returns: None,
            raises: vec![],
            yields: false,
            returns_value: false,
            raise_messages: Vec::new(),
            returns_none: false,
            reraises: false,
            complexity: 1,
            docstring: None,
            insertion: Insertion {
                offset: 0,
                indent: "    ".into(),
                inline_body: None,
            },
            line: 1,
            column: 1,
            span: 0..0,
            signature: String::new(),
            source: Default::default(),
            context: String::new(),
            constructor: None,
        }
    }

    fn param(name: &str, description: &str) -> DocParam {
        DocParam {
            name: name.into(),
            ty: None,
            description: description.into(),
            section: None,
        }
    }

    #[test]
    fn variadic_entries_get_their_stars_and_others_stay() {
        let mut u = unit(&["a", "args", "kwargs", "rest"]);
        u.params[1].kind = ParamKind::VarPositional;
        u.params[2].kind = ParamKind::VarKeyword;
        u.params[3].kind = ParamKind::VarKeyword;
        let draft = DocModel {
            params: vec![
                param("a", "A."),
                param("args", "More."),
                param("kwargs", "Options."),
                param("**rest", "Already starred."),
                param("unknown", "Not in the signature."),
            ],
            ..DocModel::default()
        };
        let starred = star_variadics(&u, &draft);
        let names: Vec<&str> = starred.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "*args", "**kwargs", "**rest", "unknown"]);
        assert_eq!(starred.params[1].description, "More.");
        // Lookups still find them by their bare names.
        assert!(starred.param("kwargs").is_some());
        // Nothing to star: the draft itself, not a copy.
        let plain = unit(&["a", "args"]);
        assert!(matches!(star_variadics(&plain, &draft), Cow::Borrowed(_)));
    }

    #[test]
    fn keeps_what_the_person_wrote_and_adds_what_is_missing() {
        let existing = DocModel {
            summary: "Mine.".into(),
            params: vec![param("a", "My a."), param("gone", "Old.")],
            examples: ">>> f(1, 2)".into(),
            ..DocModel::default()
        };
        let draft = DocModel {
            summary: "Theirs.".into(),
            description: "Generated text.".into(),
            params: vec![param("a", "Their a."), param("b", "Their b.")],
            returns: Some(DocReturn {
                ty: Some("int".into()),
                description: "The sum.".into(),
            }),
            ..DocModel::default()
        };
        let merged = merge(&unit(&["a", "b"]), &existing, &draft);
        assert_eq!(merged.summary, "Mine.");
        assert_eq!(merged.description, "Generated text.");
        assert_eq!(
            merged.params,
            vec![param("a", "My a."), param("b", "Their b.")]
        );
        assert_eq!(merged.examples, ">>> f(1, 2)");
        assert_eq!(
            merged.returns.map(|r| r.description),
            Some("The sum.".into())
        );
    }

    fn draft() -> DocModel {
        DocModel {
            summary: "Theirs.".into(),
            description: "Generated text.".into(),
            params: vec![param("a", "Their a."), param("b", "Their b.")],
            returns: Some(DocReturn {
                ty: None,
                description: "The sum.".into(),
            }),
            ..DocModel::default()
        }
    }

    fn render_google(value: &str) -> String {
        let style = crate::style::GoogleStyle;
        render_merged(
            &style,
            &unit(&["a", "b"]),
            value,
            &style.parse(value),
            &draft(),
            &RenderOptions::default(),
        )
    }

    #[test]
    fn keeps_the_head_and_item_line_breaks_as_written() {
        let value = "phrase = 1*word / obs-phrase\n        obs-phrase = word *(word)\n\n    One line,\n    and a deliberate break.\n\n    Args:\n        a: My a,\n            on two lines.\n        gone: Old.\n    ";
        assert_eq!(
            render_google(value),
            "phrase = 1*word / obs-phrase\n    obs-phrase = word *(word)\n\nOne line,\nand a deliberate break.\n\nArgs:\n    a: My a,\n        on two lines.\n    b: Their b.\n\nReturns:\n    The sum."
        );
    }

    #[test]
    fn a_summary_alone_gets_the_generated_description() {
        assert_eq!(
            render_google("+\n    Mine,\n    as written.\n    "),
            "+\nMine,\nas written.\n\nGenerated text.\n\nArgs:\n    a: Their a.\n    b: Their b.\n\nReturns:\n    The sum."
        );
    }

    #[test]
    fn text_after_a_section_follows_the_head() {
        assert_eq!(
            render_google("Mine.\n\nArgs:\n    a: My a.\nLater text,\nkept.\n"),
            "Mine.\n\nLater text,\nkept.\n\nArgs:\n    a: My a.\n    b: Their b.\n\nReturns:\n    The sum."
        );
    }

    #[test]
    fn a_docstring_without_summary_gets_the_generated_one() {
        assert_eq!(
            render_google("\n    Args:\n        a: My a.\n    "),
            "Theirs.\n\nGenerated text.\n\nArgs:\n    a: My a.\n    b: Their b.\n\nReturns:\n    The sum."
        );
    }

    #[test]
    fn a_title_over_unindented_text_stays_in_the_head() {
        assert_eq!(
            render_google("Mine.\n\nExamples:\n\nf(1, 2)\n"),
            "Mine.\n\nExamples:\n\nf(1, 2)\n\nArgs:\n    a: Their a.\n    b: Their b.\n\nReturns:\n    The sum."
        );
    }
}
