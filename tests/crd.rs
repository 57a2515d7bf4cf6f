//! The CRD is structural, fits a client-side `kubectl apply`, keeps our descriptions
//! and keeps the pod template typed.

use serde_json::Value;

fn schema() -> Value {
    let crd = serde_json::to_value(daprjob::crd::crd()).unwrap();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

/// Walk every schema node with its path.
fn walk<'a>(node: &'a Value, path: String, visit: &mut dyn FnMut(&str, &'a Value)) {
    visit(&path, node);
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (name, child) in props {
            walk(child, format!("{path}.{name}"), visit);
        }
    }
    if let Some(items) = node.get("items") {
        walk(items, format!("{path}[]"), visit);
    }
    if let Some(extra) = node.get("additionalProperties").filter(|v| v.is_object()) {
        walk(extra, format!("{path}{{}}"), visit);
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        for (i, sub) in node
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            walk(sub, format!("{path}/{key}[{i}]"), visit);
        }
    }
}

#[test]
fn fits_client_side_apply() {
    let crd = serde_json::to_string(&daprjob::crd::crd()).unwrap();
    assert!(crd.len() < 262_144, "CRD is {} bytes as JSON", crd.len());
    assert!(
        crd.len() < 100_000,
        "CRD grew to {} bytes; check descriptions",
        crd.len()
    );
}

#[test]
fn is_structural() {
    let schema = schema();
    let mut problems = Vec::new();
    walk(&schema, "$".into(), &mut |path, node| {
        let typed = node.get("type").is_some()
            || node.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true))
            || node.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
        let in_junctor =
            path.contains("/anyOf") || path.contains("/oneOf") || path.contains("/allOf");
        if !typed && !in_junctor {
            problems.push(format!("{path}: no type"));
        }
        if in_junctor {
            for forbidden in [
                "type",
                "description",
                "default",
                "nullable",
                "additionalProperties",
            ] {
                if node.get(forbidden).is_some() {
                    problems.push(format!("{path}: {forbidden} inside a junctor"));
                }
            }
        }
        if node.get("additionalProperties").is_some() && node.get("properties").is_some() {
            problems.push(format!("{path}: properties and additionalProperties"));
        }
        if node.get("$ref").is_some() {
            problems.push(format!("{path}: $ref"));
        }
        if node.get("uniqueItems").is_some() {
            problems.push(format!("{path}: uniqueItems"));
        }
        const FORMATS: &[&str] = &["int32", "int64", "double", "float", "date-time", "byte"];
        if let Some(format) = node.get("format").and_then(Value::as_str)
            && !FORMATS.contains(&format)
        {
            problems.push(format!("{path}: format {format}"));
        }
    });
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn our_fields_are_described() {
    let schema = schema();
    let spec = &schema["properties"]["spec"]["properties"];
    for block in ["dapr", "wrapper", "cron"] {
        let props = spec[block]["properties"].as_object().unwrap();
        for (name, field) in props {
            let description = field["description"].as_str().unwrap_or("");
            assert!(
                description.len() > 10,
                "spec.{block}.{name} has no description"
            );
        }
    }
    for (name, field) in spec.as_object().unwrap() {
        assert!(
            field["description"].as_str().is_some(),
            "spec.{name} has no description"
        );
    }
    // The field's own words, not its enum type's.
    assert!(
        spec["completionMode"]["description"]
            .as_str()
            .unwrap()
            .contains("JOB_COMPLETION_INDEX")
    );
    assert!(
        spec["wrapper"]["properties"]["shutdown"]["description"]
            .as_str()
            .unwrap()
            .contains("on-success")
    );
}

#[test]
fn pod_template_keeps_typed_validation() {
    let schema = schema();
    let container = &schema["properties"]["spec"]["properties"]["template"]["properties"]["spec"]["properties"]
        ["containers"]["items"];
    assert_eq!(container["type"], "object");
    assert_eq!(container["properties"]["command"]["type"], "array");
    assert_eq!(container["properties"]["image"]["type"], "string");
    assert!(
        container["required"]
            .as_array()
            .unwrap()
            .contains(&Value::from("name"))
    );
    assert!(
        container
            .get("x-kubernetes-preserve-unknown-fields")
            .is_none()
    );
}

#[test]
fn names_and_printer_columns() {
    let crd = daprjob::crd::crd();
    assert_eq!(crd.metadata.name.as_deref(), Some("daprjobs.daprjob.dev"));
    assert_eq!(crd.spec.names.short_names, Some(vec!["dj".to_string()]));
    assert_eq!(crd.spec.names.categories, Some(vec!["dapr".to_string()]));
    assert_eq!(crd.spec.scope, "Namespaced");
    let columns: Vec<_> = crd.spec.versions[0]
        .additional_printer_columns
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(columns, ["App ID", "Schedule", "Wrapper", "Age"]);
}
