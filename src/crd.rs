//! The DaprJob CustomResourceDefinition, generated from the Rust types.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

use crate::api::DaprJob;

/// The CRD as a typed object.
///
/// Doc comments are wrapped at 90 columns in the source; `kubectl explain` wraps text
/// itself, so descriptions are unwrapped here (paragraph breaks stay).
pub fn crd() -> CustomResourceDefinition {
    let mut value = serde_json::to_value(DaprJob::crd()).expect("the CRD serializes");
    unwrap_descriptions(&mut value);
    serde_json::from_value(value).expect("the CRD round-trips")
}

/// Join the lines of each paragraph of every `description` in `value`.
fn unwrap_descriptions(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    serde_json::Value::String(text) if key == "description" => {
                        *text = unwrap_paragraphs(text);
                    }
                    _ => unwrap_descriptions(child),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(unwrap_descriptions),
        _ => {}
    }
}

fn unwrap_paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(|paragraph| {
            paragraph
                .lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The CRD as YAML, exactly as committed in `crd/daprjob.dev_daprjobs.yaml`.
pub fn crd_yaml() -> String {
    crate::manifest::to_yaml(&crd()).expect("the CRD serializes")
}

/// The JSON schema of a whole DaprJob document (apiVersion, kind, metadata, spec), for
/// editors: the CRD's `openAPIV3Schema` with `apiVersion` and `kind` pinned.
pub fn json_schema() -> String {
    let crd = crd();
    let mut schema = crd
        .spec
        .versions
        .first()
        .and_then(|v| v.schema.as_ref())
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .map(|s| serde_json::to_value(s).expect("a schema serializes"))
        .unwrap_or_default();
    if let Some(props) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        props.insert(
            "apiVersion".into(),
            serde_json::json!({"type": "string", "enum": [crate::api::API_VERSION]}),
        );
        props.insert(
            "kind".into(),
            serde_json::json!({"type": "string", "enum": [crate::api::KIND]}),
        );
        props.insert("metadata".into(), serde_json::json!({"type": "object"}));
    }
    schema["$schema"] = serde_json::json!("http://json-schema.org/draft-07/schema#");
    let mut out = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_are_unwrapped() {
        assert_eq!(unwrap_paragraphs("a\nb\n\nc\nd"), "a b\n\nc d");
    }
}
