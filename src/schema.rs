//! Schema helpers for embedding Kubernetes types into the CRD.
//!
//! A fully described `PodTemplateSpec` makes the CRD about 337 KB, over the 262,144
//! bytes a client-side `kubectl apply` can store. The embedded Kubernetes types keep
//! their full, typed structure (so the API server validates the pod template), but
//! lose their own descriptions; our fields keep theirs.

use schemars::{JsonSchema, Schema, SchemaGenerator};

/// Remove every `description` in `value`, the top level included.
pub fn strip_descriptions(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove("description");
            for (key, child) in map.iter_mut() {
                match (key.as_str(), child) {
                    // A property may be named `description`: only recurse into the values.
                    ("properties", serde_json::Value::Object(props)) => {
                        props.values_mut().for_each(strip_descriptions)
                    }
                    (_, child) => strip_descriptions(child),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_descriptions),
        _ => {}
    }
}

/// The schema of `T` without descriptions, for `#[schemars(schema_with = ...)]`.
pub fn embedded<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    let mut value = generator.subschema_for::<T>().to_value();
    strip_descriptions(&mut value);
    Schema::try_from(value).expect("a generated schema is a JSON object")
}

/// Drop the type-level description of an enum's schema (`#[schemars(transform = ...)]`).
///
/// kube's `Option<Enum>` rewrite hoists the enum's schema over the field's, so the
/// enum's own description would replace the field's doc comment in the CRD.
pub fn drop_description(schema: &mut Schema) {
    schema.remove("description");
}
