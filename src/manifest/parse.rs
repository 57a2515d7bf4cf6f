//! Splitting a YAML stream into documents and parsing DaprJobs strictly.

use serde_json::Value;

use crate::api::{self, DaprJob};
use crate::render::Diagnostic;

use super::{Position, Source};

/// One non-empty YAML document of an input.
#[derive(Clone, Debug)]
pub struct Document {
    /// Where it came from.
    pub position: Position,
    /// Its text, without the `---` line.
    pub text: String,
    /// Its parsed value.
    pub value: Value,
}

/// A document that is not valid YAML or not an object.
#[derive(Debug, thiserror::Error)]
#[error("{file}: document {document}: {message}")]
pub struct DocumentError {
    /// File name.
    pub file: String,
    /// 1-based document index.
    pub document: usize,
    /// What is wrong, with the line in the file where known.
    pub message: String,
}

/// Is `line` a YAML document marker (`---` or `...` at column 0, alone or followed by
/// white space)? Returns the text after a `---` marker.
fn marker(line: &str) -> Option<&str> {
    for mark in ["---", "..."] {
        if let Some(rest) = line.strip_prefix(mark)
            && (rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
        {
            return Some(if mark == "---" { rest.trim_start() } else { "" });
        }
    }
    None
}

/// Does `text` hold anything but blank lines, comments and directives?
fn has_content(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && !l.starts_with('%')
    })
}

/// Split `source` into its non-empty documents (numbered from 1) and parse each.
pub fn split_documents(source: &Source) -> Result<Vec<Document>, DocumentError> {
    // (first line number, text) of each document.
    let mut chunks: Vec<(usize, String)> = vec![(1, String::new())];
    for (i, line) in source.text.split_inclusive('\n').enumerate() {
        match marker(line.trim_end_matches('\n')) {
            Some(rest) => {
                let mut text = String::new();
                if !rest.is_empty() {
                    text.push_str(rest);
                    text.push('\n');
                }
                chunks.push((i + 1, text));
            }
            None => chunks
                .last_mut()
                .expect("there is always a chunk")
                .1
                .push_str(line),
        }
    }
    let mut documents = Vec::new();
    for (first_line, text) in chunks.into_iter().filter(|(_, t)| has_content(t)) {
        let index = documents.len() + 1;
        let error = |message: String| DocumentError {
            file: source.name.clone(),
            document: index,
            message,
        };
        let value: Value = serde_saphyr::from_str(&text).map_err(|e| {
            let plain = e.without_snippet();
            let message = plain.to_string();
            let message = message.lines().next().unwrap_or_default();
            match plain.location() {
                Some(at) if at.line() > 0 => {
                    // The marker line counts when it carried no content.
                    let offset = first_line - usize::from(first_line == 1);
                    let detail = strip_location(message);
                    error(format!(
                        "line {}, column {}: {detail}",
                        at.line() as usize + offset,
                        at.column()
                    ))
                }
                _ => error(format!("invalid YAML: {message}")),
            }
        })?;
        if !value.is_object() {
            return Err(error(format!(
                "expected a Kubernetes object (a mapping with apiVersion and kind), found {}",
                kind_name(&value)
            )));
        }
        documents.push(Document {
            position: Position {
                file: source.name.clone(),
                document: index,
                item: None,
                object: None,
            },
            text,
            value,
        });
    }
    Ok(documents)
}

/// `error: line 3 column 4: unclosed bracket` → `unclosed bracket`; also drops a
/// trailing `at line 3, column 4 ...` (the caller reports the line in the file).
fn strip_location(message: &str) -> &str {
    let message = message.strip_prefix("error: ").unwrap_or(message);
    let message = match message.strip_prefix("line ") {
        Some(rest) => rest.split_once(": ").map_or(message, |(_, m)| m),
        None => message,
    };
    message.split(" at line ").next().unwrap_or(message)
}

fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "an empty value",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Is this object a DaprJob (any version of our group)?
pub fn is_daprjob(value: &Value) -> bool {
    let group = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .and_then(|v| v.split_once('/'))
        .map(|(group, _)| group);
    value.get("kind").and_then(Value::as_str) == Some(api::KIND) && group == Some(api::GROUP)
}

/// The `items` of a `v1 List` (any `*List` kind) or a KRM `ResourceList`.
pub fn list_items(value: &Value) -> Option<&Vec<Value>> {
    let kind = value.get("kind")?.as_str()?;
    if kind == "List" || kind == "ResourceList" {
        value.get("items")?.as_array()
    } else {
        None
    }
}

/// A serde_ignored path (`spec.?.containers.?.0.comand`) as a field path
/// (`spec.containers[0].comand`).
fn field_path(raw: &str) -> String {
    let mut out = String::new();
    for segment in raw.split('.').filter(|s| *s != "?" && !s.is_empty()) {
        if segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(segment);
        }
    }
    out
}

/// Parse a DaprJob strictly: wrong types and unknown fields anywhere (the pod template
/// included) are errors with the field path, like `kubectl --validate=strict`.
pub fn daprjob(value: Value) -> Result<DaprJob, Diagnostic> {
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    if api_version != api::API_VERSION {
        return Err(Diagnostic::error(
            "apiVersion",
            format!(
                "{api_version} is not supported; this daprjob reads {}",
                api::API_VERSION
            ),
        ));
    }
    let mut unknown = Vec::new();
    let mut record = |path: serde_ignored::Path<'_>| unknown.push(field_path(&path.to_string()));
    let parsed: Result<DaprJob, _> =
        serde_path_to_error::deserialize(serde_ignored::Deserializer::new(value, &mut record));
    let daprjob = parsed.map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        Diagnostic::error(field, e.into_inner().to_string())
    })?;
    // kube-derive checks apiVersion and kind itself; they are never unknown.
    unknown.retain(|p| !matches!(p.as_str(), "apiVersion" | "kind"));
    if let Some(first) = unknown.first() {
        let message = if unknown.len() == 1 {
            "unknown field (check its spelling and indentation)".to_string()
        } else {
            format!("unknown field; also unknown: {}", unknown[1..].join(", "))
        };
        return Err(Diagnostic::error(first.clone(), message));
    }
    Ok(daprjob)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Source {
        Source {
            name: "in.yaml".into(),
            text: text.into(),
        }
    }

    #[test]
    fn documents_are_numbered_skipping_empty_ones() {
        let docs =
            split_documents(&source("---\n# c\n---\na: 1\n---\n\n---\nb: 2\n...\n")).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].position.document, 1);
        assert_eq!(docs[1].position.document, 2);
        assert_eq!(docs[1].text, "b: 2\n");
    }

    #[test]
    fn marker_lines_need_a_separator() {
        let docs = split_documents(&source("a: |\n  ---x\nb: 1\n")).unwrap();
        assert_eq!(docs.len(), 1);
    }

    #[test]
    fn syntax_errors_name_the_line_in_the_file() {
        let err = split_documents(&source("a: 1\n---\nb: 2\nc: [1, 2\n")).unwrap_err();
        assert_eq!(err.document, 2);
        assert!(err.message.starts_with("line 4, column"), "{}", err.message);
    }

    #[test]
    fn syntax_errors_in_the_first_document() {
        let err = split_documents(&source("a: [1\n")).unwrap_err();
        assert!(err.message.starts_with("line 1, column"), "{}", err.message);
    }

    #[test]
    fn nesting_and_alias_bombs_are_errors() {
        let deep = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let err = split_documents(&source(&deep)).unwrap_err();
        assert!(err.message.starts_with("line 1, column"), "{}", err.message);
        assert!(!err.message.contains(" at line "), "{}", err.message);
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            };
            bomb.push_str(&format!(
                "b{i}: &b{i} [{}]\n",
                vec![format!("*{prev}"); 10].join(", ")
            ));
        }
        assert!(split_documents(&source(&bomb)).is_err());
    }

    #[test]
    fn scalars_are_not_objects() {
        let err = split_documents(&source("just text\n")).unwrap_err();
        assert!(err.message.contains("found a string"), "{}", err.message);
    }

    #[test]
    fn field_paths() {
        assert_eq!(
            field_path("spec.template.?.spec.?.containers.?.0.comand"),
            "spec.template.spec.containers[0].comand"
        );
    }
}
