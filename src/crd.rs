//! The DaprJob CustomResourceDefinition, generated from the Rust types.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

use crate::api::DaprJob;

/// The CRD as a typed object.
pub fn crd() -> CustomResourceDefinition {
    DaprJob::crd()
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
