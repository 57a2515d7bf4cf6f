//! Manifest I/O: multi-document YAML (and JSON) in, `v1 List` and `ResourceList`
//! expansion, strict DaprJob parsing, and YAML or JSON out.
//!
//! Documents that are not DaprJobs pass through untouched: in YAML output their
//! original text (comments included) is copied byte for byte.

mod input;
mod parse;

use std::fmt;

use serde::Serialize;

use crate::render::{self, Diagnostic, RenderOptions, Rendered, Severity};

pub use input::{InputError, Source, read_paths};
pub use parse::{Document, DocumentError, split_documents};

/// Serialize to YAML (serde-saphyr: strings that YAML 1.1 would read as booleans,
/// numbers or dates stay quoted).
pub fn to_yaml<T: Serialize>(value: &T) -> Result<String, serde_saphyr::ser_error::Error> {
    serde_saphyr::to_string(value)
}

/// Where a document came from: file and 1-based document index, plus the item index
/// inside a `List` or `ResourceList`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// File name as given (`-` is shown as `<stdin>`).
    pub file: String,
    /// 1-based index of the YAML document in the file.
    pub document: usize,
    /// 0-based index in the `items` of a List, if the object came from one.
    pub item: Option<usize>,
    /// `Kind name` of the object, when known.
    pub object: Option<String>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: document {}", self.file, self.document)?;
        if let Some(item) = self.item {
            write!(f, ", items[{item}]")?;
        }
        if let Some(object) = &self.object {
            write!(f, " ({object})")?;
        }
        Ok(())
    }
}

/// A diagnostic with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// Where.
    pub position: Position,
    /// What.
    pub diagnostic: Diagnostic,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.position, self.diagnostic)
    }
}

/// Everything that can stop a render.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A document is not valid YAML, or not a valid object.
    #[error(transparent)]
    Document(#[from] DocumentError),
    /// A DaprJob broke a rule (the first of possibly several).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Located>),
    /// Output could not be serialized.
    #[error("cannot serialize the output: {0}")]
    Serialize(String),
}

/// One output object.
#[derive(Clone, Debug)]
pub enum Item {
    /// A document passed through: its original text and its parsed value.
    Passthrough {
        /// The document's text, without the `---` separator.
        text: String,
        /// The parsed value (for JSON output).
        value: serde_json::Value,
    },
    /// A rendered Job or CronJob.
    Rendered(Rendered),
}

/// The result of expanding a set of documents.
#[derive(Debug, Default)]
pub struct Expansion {
    /// Output objects in input order.
    pub items: Vec<Item>,
    /// Warnings (errors stop the expansion instead).
    pub warnings: Vec<Located>,
}

/// Expand every DaprJob in `documents`; pass everything else through.
pub fn expand(documents: Vec<Document>, options: &RenderOptions) -> Result<Expansion, Error> {
    let mut expansion = Expansion::default();
    let mut errors = Vec::new();
    for document in documents {
        if let Some(items) = parse::list_items(&document.value)
            && items.iter().any(parse::is_daprjob)
        {
            for (i, item) in items.iter().enumerate() {
                let mut position = document.position.clone();
                position.item = Some(i);
                expand_one(
                    position,
                    None,
                    item.clone(),
                    options,
                    &mut expansion,
                    &mut errors,
                )?;
            }
            continue;
        }
        let text = Some(document.text);
        expand_one(
            document.position,
            text,
            document.value,
            options,
            &mut expansion,
            &mut errors,
        )?;
    }
    if errors.is_empty() {
        Ok(expansion)
    } else {
        Err(Error::Invalid(errors))
    }
}

fn expand_one(
    mut position: Position,
    text: Option<String>,
    value: serde_json::Value,
    options: &RenderOptions,
    expansion: &mut Expansion,
    errors: &mut Vec<Located>,
) -> Result<(), Error> {
    if !parse::is_daprjob(&value) {
        let text = match text {
            Some(text) => text,
            None => to_yaml(&value).map_err(|e| Error::Serialize(e.to_string()))?,
        };
        expansion.items.push(Item::Passthrough { text, value });
        return Ok(());
    }
    position.object = value
        .pointer("/metadata/name")
        .and_then(|n| n.as_str())
        .map(|n| format!("DaprJob {n}"));
    let daprjob = match parse::daprjob(value) {
        Ok(daprjob) => daprjob,
        Err(diagnostic) => {
            errors.push(Located {
                position,
                diagnostic,
            });
            return Ok(());
        }
    };
    let outcome = render::render(&daprjob, options);
    for diagnostic in outcome.diagnostics {
        let located = Located {
            position: position.clone(),
            diagnostic,
        };
        match located.diagnostic.severity {
            Severity::Error => errors.push(located),
            Severity::Warning => expansion.warnings.push(located),
        }
    }
    if let Some(rendered) = outcome.rendered {
        expansion.items.push(Item::Rendered(rendered));
    }
    Ok(())
}

/// Output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Multi-document YAML separated by `---`.
    #[default]
    Yaml,
    /// One `v1 List`, pretty-printed JSON.
    Json,
}

fn rendered_value(rendered: &Rendered) -> Result<serde_json::Value, Error> {
    match rendered {
        Rendered::Job(job) => serde_json::to_value(job),
        Rendered::CronJob(cron) => serde_json::to_value(cron),
    }
    .map_err(|e| Error::Serialize(e.to_string()))
}

fn rendered_yaml(rendered: &Rendered) -> Result<String, Error> {
    match rendered {
        Rendered::Job(job) => to_yaml(job),
        Rendered::CronJob(cron) => to_yaml(cron),
    }
    .map_err(|e| Error::Serialize(e.to_string()))
}

/// Write `items` in `format`. The whole output is built in memory first, so that a
/// failure never leaves half a stream on stdout.
pub fn write_output(items: &[Item], format: Format) -> Result<String, Error> {
    match format {
        Format::Yaml => {
            let mut out = String::new();
            for item in items {
                out.push_str("---\n");
                let text = match item {
                    Item::Passthrough { text, .. } => text.clone(),
                    Item::Rendered(rendered) => rendered_yaml(rendered)?,
                };
                out.push_str(&text);
                if !text.ends_with('\n') {
                    out.push('\n');
                }
            }
            Ok(out)
        }
        Format::Json => {
            let values = items
                .iter()
                .map(|item| match item {
                    Item::Passthrough { value, .. } => Ok(value.clone()),
                    Item::Rendered(rendered) => rendered_value(rendered),
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let list = serde_json::json!({
                "apiVersion": "v1",
                "kind": "List",
                "items": values,
            });
            let mut out =
                serde_json::to_string_pretty(&list).map_err(|e| Error::Serialize(e.to_string()))?;
            out.push('\n');
            Ok(out)
        }
    }
}

/// A warning line for stderr.
pub fn warning_line(warning: &Located) -> String {
    format!("daprjob: warning: {warning}")
}

/// Error lines for stderr, one per problem.
pub fn error_lines(error: &Error) -> Vec<String> {
    match error {
        Error::Invalid(problems) => problems
            .iter()
            .map(|p| format!("daprjob: error: {p}"))
            .collect(),
        other => vec![format!("daprjob: error: {other}")],
    }
}
