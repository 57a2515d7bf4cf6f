//! The `dapr.io/*` pod annotations the Dapr sidecar injector reads, with the type of
//! each value, so that `dapr.annotations` can be checked at render time.
//!
//! Source: the `SidecarConfig` struct tags in dapr/dapr `pkg/injector/patcher/sidecar.go`
//! (plus `dapr.io/enable-native-sidecar`, new in 1.18). The injector reads booleans with
//! `IsTruthy` (anything else is false) and ignores integers that fail to parse, with only
//! a warning in its own log: both are caught here instead.

/// The type of an annotation's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// `y, yes, true, t, on, 1` or `n, no, false, f, off, 0` (any case).
    Bool,
    /// A decimal integer.
    Int,
    /// Any string.
    Text,
}

/// Every annotation the injector reads, with its value type.
pub const KNOWN: &[(&str, ValueKind)] = &[
    ("dapr.io/enabled", ValueKind::Bool),
    ("dapr.io/app-port", ValueKind::Int),
    ("dapr.io/config", ValueKind::Text),
    ("dapr.io/app-protocol", ValueKind::Text),
    ("dapr.io/app-ssl", ValueKind::Bool),
    ("dapr.io/app-id", ValueKind::Text),
    ("dapr.io/enable-profiling", ValueKind::Bool),
    ("dapr.io/log-level", ValueKind::Text),
    ("dapr.io/api-token-secret", ValueKind::Text),
    ("dapr.io/app-token-secret", ValueKind::Text),
    ("dapr.io/log-as-json", ValueKind::Bool),
    ("dapr.io/app-max-concurrency", ValueKind::Int),
    ("dapr.io/enable-metrics", ValueKind::Bool),
    ("dapr.io/metrics-port", ValueKind::Int),
    ("dapr.io/enable-debug", ValueKind::Bool),
    ("dapr.io/debug-port", ValueKind::Int),
    ("dapr.io/env", ValueKind::Text),
    ("dapr.io/env-from-secret", ValueKind::Text),
    ("dapr.io/grpc-port", ValueKind::Int),
    ("dapr.io/internal-grpc-port", ValueKind::Int),
    ("dapr.io/sidecar-cpu-request", ValueKind::Text),
    ("dapr.io/sidecar-cpu-limit", ValueKind::Text),
    ("dapr.io/sidecar-memory-request", ValueKind::Text),
    ("dapr.io/sidecar-memory-limit", ValueKind::Text),
    ("dapr.io/sidecar-listen-addresses", ValueKind::Text),
    (
        "dapr.io/sidecar-liveness-probe-delay-seconds",
        ValueKind::Int,
    ),
    (
        "dapr.io/sidecar-liveness-probe-timeout-seconds",
        ValueKind::Int,
    ),
    (
        "dapr.io/sidecar-liveness-probe-period-seconds",
        ValueKind::Int,
    ),
    ("dapr.io/sidecar-liveness-probe-threshold", ValueKind::Int),
    (
        "dapr.io/sidecar-readiness-probe-delay-seconds",
        ValueKind::Int,
    ),
    (
        "dapr.io/sidecar-readiness-probe-timeout-seconds",
        ValueKind::Int,
    ),
    (
        "dapr.io/sidecar-readiness-probe-period-seconds",
        ValueKind::Int,
    ),
    ("dapr.io/sidecar-readiness-probe-threshold", ValueKind::Int),
    ("dapr.io/sidecar-image", ValueKind::Text),
    ("dapr.io/sidecar-seccomp-profile-type", ValueKind::Text),
    ("dapr.io/http-max-request-size", ValueKind::Int),
    ("dapr.io/max-body-size", ValueKind::Text),
    ("dapr.io/http-read-buffer-size", ValueKind::Int),
    ("dapr.io/read-buffer-size", ValueKind::Text),
    ("dapr.io/graceful-shutdown-seconds", ValueKind::Int),
    ("dapr.io/block-shutdown-duration", ValueKind::Text),
    ("dapr.io/enable-api-logging", ValueKind::Bool),
    ("dapr.io/unix-domain-socket-path", ValueKind::Text),
    ("dapr.io/volume-mounts", ValueKind::Text),
    ("dapr.io/volume-mounts-rw", ValueKind::Text),
    ("dapr.io/disable-builtin-k8s-secret-store", ValueKind::Bool),
    ("dapr.io/enable-app-health-check", ValueKind::Bool),
    ("dapr.io/app-health-check-path", ValueKind::Text),
    ("dapr.io/app-health-probe-interval", ValueKind::Int),
    ("dapr.io/app-health-probe-timeout", ValueKind::Int),
    ("dapr.io/app-health-threshold", ValueKind::Int),
    ("dapr.io/placement-host-address", ValueKind::Text),
    ("dapr.io/scheduler-host-address", ValueKind::Text),
    ("dapr.io/pluggable-components", ValueKind::Text),
    (
        "dapr.io/pluggable-components-sockets-folder",
        ValueKind::Text,
    ),
    ("dapr.io/component-container", ValueKind::Text),
    ("dapr.io/inject-pluggable-components", ValueKind::Bool),
    ("dapr.io/app-channel-address", ValueKind::Text),
    ("dapr.io/sentry-request-jwt-audiences", ValueKind::Text),
    ("dapr.io/sidecar-svc-annotations", ValueKind::Text),
    ("dapr.io/disable-init-endpoints", ValueKind::Text),
    ("dapr.io/enable-native-sidecar", ValueKind::Bool),
];

/// The value type of a known annotation, or `None` for a key the injector does not read.
pub fn kind_of(key: &str) -> Option<ValueKind> {
    KNOWN.iter().find(|(k, _)| *k == key).map(|(_, kind)| *kind)
}

/// Check `value` against `kind`; `Err` says what was expected.
pub fn check_value(kind: ValueKind, value: &str) -> Result<(), &'static str> {
    const WORDS: &[&str] = &[
        "y", "yes", "true", "t", "on", "1", "n", "no", "false", "f", "off", "0",
    ];
    match kind {
        ValueKind::Bool if WORDS.contains(&value.to_ascii_lowercase().as_str()) => Ok(()),
        ValueKind::Bool => Err("a boolean (\"true\" or \"false\")"),
        ValueKind::Int if value.parse::<i64>().is_ok() => Ok(()),
        ValueKind::Int => Err("a decimal integer"),
        ValueKind::Text => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_accept_the_injectors_words_only() {
        for ok in ["true", "TRUE", "on", "y", "0", "off"] {
            assert!(check_value(ValueKind::Bool, ok).is_ok(), "{ok}");
        }
        for bad in ["ture", "", "2", "enabled"] {
            assert!(check_value(ValueKind::Bool, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn integers_must_parse() {
        assert!(check_value(ValueKind::Int, "9090").is_ok());
        assert!(check_value(ValueKind::Int, "90s").is_err());
    }

    #[test]
    fn table_has_no_duplicates() {
        let mut keys: Vec<_> = KNOWN.iter().map(|(k, _)| *k).collect();
        keys.sort();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len());
    }
}
