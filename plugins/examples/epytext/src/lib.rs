//! The Epytext docstring style (`[style] name = "epytext"`), as Epydoc
//! reads it:
//!
//! ```text
//! Connect to the server.
//!
//! @param host: Where to connect.
//! @type host: str
//! @return: The open session.
//! @rtype: Session
//! @raise ValueError: When the host is empty.
//! ```
//!
//! A plain implementation of docpipe's `Style` trait: a new style needs no
//! change to docpipe itself. Yielded values, which Epytext has no field
//! for, are written `@yield:` / `@ytype:`, as Epydoc's extensions do.

use docpipe_plugin::docpipe_core::style::{RenderOptions, Style};
use docpipe_plugin::{DocModel, DocParam, DocRaise, DocReturn, Plugin, export_plugin};

/// The style.
pub struct Epytext;

/// Greedy word wrap of `text` into lines of at most `width` columns, the
/// first prefixed with `first`, the rest with `rest`.
fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    // A field's tag is followed by a space before its text.
    let mut empty = first.is_empty();
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    lines.push(line.trim_end().to_string());
    lines
}

impl Style for Epytext {
    fn name(&self) -> &str {
        "epytext"
    }

    fn render(&self, doc: &DocModel, options: &RenderOptions) -> String {
        let width = options
            .width
            .saturating_sub(options.indent.chars().count())
            .max(20);
        let mut out: Vec<String> = Vec::new();
        out.extend(wrap(&doc.summary, width, "", ""));
        for paragraph in doc
            .description
            .split("\n\n")
            .filter(|p| !p.trim().is_empty())
        {
            out.push(String::new());
            out.extend(wrap(paragraph, width, "", ""));
        }
        let mut fields: Vec<String> = Vec::new();
        for p in &doc.params {
            fields.extend(wrap(
                &p.description,
                width,
                &format!("@param {}:", p.name),
                "    ",
            ));
            if let Some(ty) = &p.ty {
                fields.push(format!("@type {}: {ty}", p.name));
            }
        }
        for (value, field, type_field) in [
            (&doc.returns, "@return:", "@rtype:"),
            (&doc.yields, "@yield:", "@ytype:"),
        ] {
            if let Some(r) = value {
                fields.extend(wrap(&r.description, width, field, "    "));
                if let Some(ty) = &r.ty {
                    fields.push(format!("{type_field} {ty}"));
                }
            }
        }
        for r in &doc.raises {
            fields.extend(wrap(
                &r.description,
                width,
                &format!("@raise {}:", r.exception),
                "    ",
            ));
        }
        if !fields.is_empty() {
            out.push(String::new());
            out.extend(fields);
        }
        out.join("\n")
    }

    fn parse(&self, text: &str) -> DocModel {
        let mut doc = DocModel::default();
        let mut head: Vec<&str> = Vec::new();
        // Fields with their continuation lines joined.
        let mut fields: Vec<String> = Vec::new();
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with('@') {
                fields.push(trimmed.to_string());
            } else if let Some(last) = fields.last_mut() {
                if !trimmed.is_empty() {
                    last.push(' ');
                    last.push_str(trimmed);
                }
            } else {
                head.push(trimmed);
            }
        }
        let head = head.join("\n");
        let mut paragraphs = head.trim().split("\n\n");
        doc.summary = paragraphs
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        doc.description = paragraphs
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n");
        for field in fields {
            let Some((tag, body)) = field[1..].split_once(':') else {
                continue;
            };
            let body = body.trim().to_string();
            let mut words = tag.split_whitespace();
            let kind = words.next().unwrap_or("");
            let arg = words.collect::<Vec<_>>().join(" ");
            match kind {
                "param" | "parameter" | "arg" | "argument" | "keyword" | "kwarg" => {
                    match doc.params.iter_mut().find(|p| p.name == arg) {
                        Some(p) => p.description = body,
                        None => doc.params.push(DocParam {
                            name: arg,
                            description: body,
                            ..DocParam::default()
                        }),
                    }
                }
                "type" => match doc.params.iter_mut().find(|p| p.name == arg) {
                    Some(p) => p.ty = Some(body),
                    None => doc.params.push(DocParam {
                        name: arg,
                        ty: Some(body),
                        ..DocParam::default()
                    }),
                },
                "return" | "returns" => {
                    doc.returns
                        .get_or_insert_with(DocReturn::default)
                        .description = body
                }
                "rtype" => doc.returns.get_or_insert_with(DocReturn::default).ty = Some(body),
                "yield" | "yields" => {
                    doc.yields
                        .get_or_insert_with(DocReturn::default)
                        .description = body
                }
                "ytype" => doc.yields.get_or_insert_with(DocReturn::default).ty = Some(body),
                "raise" | "raises" | "except" | "exception" => doc.raises.push(DocRaise {
                    exception: arg,
                    description: body,
                }),
                _ => {
                    if !doc.description.is_empty() {
                        doc.description.push_str("\n\n");
                    }
                    doc.description.push_str(&field);
                }
            }
        }
        doc
    }

    fn recognizes(&self, text: &str) -> bool {
        text.lines().any(|l| {
            let l = l.trim_start();
            [
                "@param ",
                "@type ",
                "@return:",
                "@rtype:",
                "@raise ",
                "@returns:",
            ]
            .iter()
            .any(|f| l.starts_with(f))
        })
    }
}

fn register(plugin: &mut Plugin) {
    plugin.style(Epytext);
}

export_plugin!(register);

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DocModel {
        DocModel {
            summary: "Connect to the server.".into(),
            description: "Opens a session that stays open until closed.".into(),
            params: vec![DocParam {
                name: "host".into(),
                ty: Some("str".into()),
                description: "Where to connect.".into(),
                section: None,
            }],
            returns: Some(DocReturn {
                ty: Some("Session".into()),
                description: "The open session.".into(),
            }),
            raises: vec![DocRaise {
                exception: "ValueError".into(),
                description: "When the host is empty.".into(),
            }],
            ..DocModel::default()
        }
    }

    #[test]
    fn renders_epytext_fields() {
        let text = Epytext.render(&sample(), &RenderOptions::default());
        assert_eq!(
            text,
            "Connect to the server.\n\nOpens a session that stays open until closed.\n\n\
             @param host: Where to connect.\n@type host: str\n@return: The open session.\n\
             @rtype: Session\n@raise ValueError: When the host is empty."
        );
    }

    #[test]
    fn parses_what_it_renders() {
        let doc = sample();
        let text = Epytext.render(&doc, &RenderOptions::default());
        assert_eq!(Epytext.parse(&text), doc);
        assert!(Epytext.recognizes(&text));
        assert!(!Epytext.recognizes("Just prose."));
    }
}
