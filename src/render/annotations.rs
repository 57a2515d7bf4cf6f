//! `spec.dapr` → the `dapr.io/*` annotations of the pod template.

use std::collections::BTreeMap;

use crate::annotations::{check_value, kind_of};
use crate::api::DaprSidecar;

use super::Diagnostics;
use super::names::{is_dns1123_label, is_quantity};

/// Annotation keys that typed `spec.dapr` fields own, with the field that owns them.
pub const TYPED_KEYS: &[(&str, &str)] = &[
    ("dapr.io/enabled", "(always set by daprjob)"),
    ("dapr.io/app-id", "spec.dapr.appId"),
    ("dapr.io/config", "spec.dapr.config"),
    ("dapr.io/log-level", "spec.dapr.logLevel"),
    ("dapr.io/log-as-json", "spec.dapr.logAsJson"),
    ("dapr.io/api-token-secret", "spec.dapr.apiTokenSecret"),
    ("dapr.io/app-port", "spec.dapr.appPort"),
    ("dapr.io/app-protocol", "spec.dapr.appProtocol"),
    (
        "dapr.io/graceful-shutdown-seconds",
        "spec.dapr.gracefulShutdownSeconds",
    ),
    ("dapr.io/enable-native-sidecar", "spec.dapr.nativeSidecar"),
    (
        "dapr.io/sidecar-cpu-request",
        "spec.dapr.sidecarResources.requests.cpu",
    ),
    (
        "dapr.io/sidecar-memory-request",
        "spec.dapr.sidecarResources.requests.memory",
    ),
    (
        "dapr.io/sidecar-cpu-limit",
        "spec.dapr.sidecarResources.limits.cpu",
    ),
    (
        "dapr.io/sidecar-memory-limit",
        "spec.dapr.sidecarResources.limits.memory",
    ),
];

/// The Dapr annotations for the pod template of a DaprJob named `name`.
pub fn dapr_annotations(
    name: &str,
    dapr: &DaprSidecar,
    diags: &mut Diagnostics,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut put = |key: &str, value: String| {
        out.insert(key.to_string(), value);
    };
    put("dapr.io/enabled", "true".into());

    match &dapr.app_id {
        Some(id) if !is_dns1123_label(id) => diags.error(
            "spec.dapr.appId",
            format!("{id:?} is not a valid app id: use a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters)"),
        ),
        Some(id) => put("dapr.io/app-id", id.clone()),
        None if !is_dns1123_label(name) => diags.error(
            "spec.dapr.appId",
            format!("the app id defaults to metadata.name, and {name:?} is not a DNS-1123 label: set spec.dapr.appId"),
        ),
        None => put("dapr.io/app-id", name.to_string()),
    }
    if let Some(config) = &dapr.config {
        put("dapr.io/config", config.clone());
    }
    if let Some(level) = dapr.log_level {
        put("dapr.io/log-level", level.as_str().into());
    }
    if let Some(json) = dapr.log_as_json {
        put("dapr.io/log-as-json", json.to_string());
    }
    if let Some(secret) = &dapr.api_token_secret {
        put("dapr.io/api-token-secret", secret.clone());
    }
    if let Some(port) = dapr.app_port {
        if !(1..=65535).contains(&port) {
            diags.error(
                "spec.dapr.appPort",
                format!("{port} is not a port number (1-65535)"),
            );
        }
        put("dapr.io/app-port", port.to_string());
        diags.warning(
            "spec.dapr.appPort",
            "set for a job: daprd then waits for the job to listen on that port and the pod stays NotReady until it does (dapr/dapr#4949); leave it unset unless the job really serves calls from Dapr",
        );
    }
    if let Some(protocol) = dapr.app_protocol {
        put("dapr.io/app-protocol", protocol.as_str().into());
    }
    if let Some(seconds) = dapr.graceful_shutdown_seconds {
        if seconds < 0 {
            diags.error("spec.dapr.gracefulShutdownSeconds", "must not be negative");
        }
        put("dapr.io/graceful-shutdown-seconds", seconds.to_string());
    }
    if let Some(native) = dapr.native_sidecar {
        put("dapr.io/enable-native-sidecar", native.to_string());
    }
    if let Some(resources) = &dapr.sidecar_resources {
        let pairs = [
            (&resources.requests, "requests", "request"),
            (&resources.limits, "limits", "limit"),
        ];
        for (quantities, field, suffix) in pairs {
            let Some(q) = quantities else { continue };
            for (value, resource) in [(&q.cpu, "cpu"), (&q.memory, "memory")] {
                let Some(value) = value else { continue };
                if !is_quantity(&value.0) {
                    diags.error(
                        format!("spec.dapr.sidecarResources.{field}.{resource}"),
                        format!(
                            "{:?} is not a Kubernetes quantity (for example 100m, 1, 64Mi)",
                            value.0
                        ),
                    );
                }
                put(
                    &format!("dapr.io/sidecar-{resource}-{suffix}"),
                    value.0.clone(),
                );
            }
        }
    }

    for (key, value) in dapr.annotations.iter().flatten() {
        let field = format!("spec.dapr.annotations[{key:?}]");
        if !key.starts_with("dapr.io/") {
            diags.error(field, "keys must start with dapr.io/ (put other annotations on spec.template.metadata.annotations)");
        } else if let Some((_, owner)) = TYPED_KEYS.iter().find(|(k, _)| k == key) {
            diags.error(
                field,
                format!("{key} is set by daprjob from {owner}; remove it here"),
            );
        } else {
            match kind_of(key) {
                None => diags.warning(
                    field,
                    format!("{key} is not an annotation the Dapr sidecar injector reads (a typo?); copied as given"),
                ),
                Some(kind) => {
                    if let Err(expected) = check_value(kind, value) {
                        diags.error(
                            field,
                            format!("{value:?} is not {expected}; the injector would silently ignore it"),
                        );
                    }
                }
            }
            out.insert(key.clone(), value.clone());
        }
    }
    out
}
