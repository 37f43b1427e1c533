//! Summaries from names: `get_user_name` -> "Get the user name.",
//! `is_valid` -> "Return whether valid.", `__init__` -> "Initialize the
//! `<class>`.", `HttpClient` -> "Http client class.", `utils` -> "Utils module.".

use docpipe_core::model::{CodeUnit, UnitKind};

/// The words of a Python name, lower-case: snake_case and CamelCase split,
/// leading and trailing underscores dropped (`HTTPServer_v2` -> `http server v2`).
pub fn split_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    for part in name.split('_').filter(|p| !p.is_empty()) {
        let chars: Vec<char> = part.chars().collect();
        let mut current = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1).copied();
            let boundary = c.is_uppercase()
                && prev.is_some_and(|p| {
                    p.is_lowercase()
                        || p.is_ascii_digit()
                        || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
                });
            if boundary && !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            current.extend(c.to_lowercase());
        }
        if !current.is_empty() {
            words.push(current);
        }
    }
    words
}

/// Verbs a function name may start with; the summary keeps them as the
/// imperative ("Load the config.").
const VERBS: &[&str] = &[
    "accept",
    "add",
    "apply",
    "append",
    "assert",
    "build",
    "calculate",
    "call",
    "cancel",
    "check",
    "clean",
    "clear",
    "close",
    "collect",
    "compare",
    "compile",
    "compute",
    "configure",
    "connect",
    "convert",
    "copy",
    "count",
    "create",
    "decode",
    "delete",
    "detect",
    "disable",
    "dispatch",
    "download",
    "draw",
    "drop",
    "dump",
    "emit",
    "enable",
    "encode",
    "ensure",
    "enter",
    "evaluate",
    "execute",
    "exit",
    "expand",
    "export",
    "extend",
    "extract",
    "fetch",
    "fill",
    "filter",
    "find",
    "finish",
    "fix",
    "flush",
    "format",
    "generate",
    "get",
    "handle",
    "hash",
    "import",
    "init",
    "initialize",
    "insert",
    "install",
    "invoke",
    "iterate",
    "join",
    "list",
    "load",
    "lock",
    "log",
    "lookup",
    "make",
    "map",
    "mark",
    "match",
    "merge",
    "move",
    "normalize",
    "notify",
    "open",
    "parse",
    "patch",
    "pop",
    "prepare",
    "print",
    "process",
    "publish",
    "push",
    "put",
    "query",
    "raise",
    "read",
    "receive",
    "record",
    "refresh",
    "register",
    "reload",
    "remove",
    "render",
    "reset",
    "resolve",
    "restore",
    "retry",
    "run",
    "save",
    "scan",
    "search",
    "select",
    "send",
    "serialize",
    "set",
    "setup",
    "show",
    "skip",
    "sort",
    "split",
    "start",
    "stop",
    "store",
    "strip",
    "submit",
    "sync",
    "test",
    "track",
    "transform",
    "translate",
    "trim",
    "unlock",
    "unregister",
    "update",
    "upload",
    "validate",
    "verify",
    "visit",
    "wait",
    "walk",
    "wrap",
    "write",
];

/// Summaries of the special methods a person would not write out by name.
fn dunder_summary(name: &str, class: &str) -> Option<String> {
    let s = match name {
        "__init__" => format!("Initialize the {class}."),
        "__new__" => format!("Create a new {class}."),
        "__repr__" => format!("Return the representation of the {class}."),
        "__str__" => format!("Return the {class} as text."),
        "__eq__" => format!("Return whether the {class} equals another object."),
        "__ne__" => format!("Return whether the {class} differs from another object."),
        "__lt__" | "__le__" | "__gt__" | "__ge__" => {
            format!("Compare the {class} with another object.")
        }
        "__hash__" => format!("Return the hash of the {class}."),
        "__len__" => format!("Return the number of items in the {class}."),
        "__iter__" => format!("Iterate over the {class}."),
        "__next__" => "Return the next item.".to_string(),
        "__contains__" => format!("Return whether the {class} contains an item."),
        "__getitem__" => "Return the item at a key.".to_string(),
        "__setitem__" => "Set the item at a key.".to_string(),
        "__delitem__" => "Delete the item at a key.".to_string(),
        "__getattr__" | "__getattribute__" => "Return an attribute.".to_string(),
        "__setattr__" => "Set an attribute.".to_string(),
        "__delattr__" => "Delete an attribute.".to_string(),
        "__call__" => format!("Call the {class}."),
        "__enter__" | "__aenter__" => "Enter the context.".to_string(),
        "__exit__" | "__aexit__" => "Exit the context.".to_string(),
        "__bool__" => format!("Return whether the {class} is true."),
        "__del__" => format!("Finalize the {class}."),
        "__post_init__" => format!("Finish initializing the {class}."),
        _ => return None,
    };
    Some(s)
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn sentence(text: &str) -> String {
    let mut s = capitalize(text.trim());
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// The summary line the template gives `unit`.
pub fn summary_for(unit: &CodeUnit) -> String {
    match unit.kind {
        UnitKind::Module => module_summary(unit),
        UnitKind::Class => {
            let words = split_words(&unit.name).join(" ");
            if words.is_empty() {
                return "A class.".to_string();
            }
            if ["error", "exception", "warning"]
                .iter()
                .any(|w| words.ends_with(w))
            {
                return sentence(&words);
            }
            sentence(&format!("{words} class"))
        }
        UnitKind::Function | UnitKind::Method => function_summary(unit),
    }
}

fn module_summary(unit: &CodeUnit) -> String {
    let parent = unit
        .path
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| split_words(&n.to_string_lossy()).join(" "))
        .filter(|w| !w.is_empty());
    match (unit.name.as_str(), parent) {
        ("__init__", Some(p)) => sentence(&format!("{p} package")),
        ("__main__", Some(p)) => sentence(&format!("run the {p} package as a program")),
        (name, _) => {
            let words = split_words(name).join(" ");
            if words.is_empty() {
                "A module.".to_string()
            } else {
                sentence(&format!("{words} module"))
            }
        }
    }
}

fn function_summary(unit: &CodeUnit) -> String {
    let class = unit
        .class_name
        .as_deref()
        .map(|c| c.rsplit('.').next().unwrap_or(c))
        .map(|c| split_words(c).join(" "))
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "object".to_string());
    let name = unit.name.as_str();
    if name.starts_with("__") && name.ends_with("__") && name.len() > 4 {
        return dunder_summary(name, &class).unwrap_or_else(|| format!("Implement `{name}`."));
    }
    let words = split_words(name);
    let Some((first, rest)) = words.split_first() else {
        return "Run the function.".to_string();
    };
    let rest = rest.join(" ");
    let with_rest = |lead: &str| {
        if rest.is_empty() {
            sentence(lead)
        } else {
            sentence(&format!("{lead} {rest}"))
        }
    };
    match first.as_str() {
        "is" => with_rest("return whether"),
        "has" => with_rest("return whether it has"),
        "can" => with_rest("return whether it can"),
        "should" => with_rest("return whether it should"),
        "to" => with_rest("convert to"),
        "from" => with_rest("create from"),
        "as" => with_rest("return as"),
        "on" => with_rest("handle"),
        "iter" => with_rest("iterate over the"),
        v if VERBS.contains(&v) => {
            if rest.is_empty() {
                sentence(v)
            } else {
                sentence(&format!("{v} the {rest}"))
            }
        }
        _ => {
            let all = words.join(" ");
            if unit.yields {
                sentence(&format!("yield the {all}"))
            } else if unit.returns_value || unit.has_decorator("property") {
                sentence(&format!("return the {all}"))
            } else {
                sentence(&format!("run {all}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_snake_and_camel_case() {
        assert_eq!(split_words("get_user_name"), ["get", "user", "name"]);
        assert_eq!(split_words("HTTPServer"), ["http", "server"]);
        assert_eq!(split_words("parseJSONValue2"), ["parse", "json", "value2"]);
        assert_eq!(split_words("__init__"), ["init"]);
    }
}
