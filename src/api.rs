//! The `DaprJob` resource (`daprjob.dev/v1alpha1`): the Rust types are the source of
//! the CRD, its `kubectl explain` text and the chart's values schema.
//!
//! Doc comments on fields are user documentation: they become the CRD's descriptions.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{PodFailurePolicy, SuccessPolicy};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::schema::embedded;

/// API group of the DaprJob resource.
pub const GROUP: &str = "daprjob.dev";
/// API version of the DaprJob resource.
pub const VERSION: &str = "v1alpha1";
/// Kind of the DaprJob resource.
pub const KIND: &str = "DaprJob";
/// `apiVersion` of a DaprJob document.
pub const API_VERSION: &str = "daprjob.dev/v1alpha1";

/// A batch Job (or, with `cron`, a CronJob) whose pod runs with a Dapr sidecar and
/// completes: daprjob renders it into a `batch/v1` Job whose job container waits for
/// the `daprd` sidecar, runs the command, always shuts the sidecar down, and exits with
/// the command's own exit code.
///
/// Every field but `dapr`, `wrapper` and `cron` is a `batch/v1` JobSpec field with its
/// usual meaning.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "daprjob.dev",
    version = "v1alpha1",
    kind = "DaprJob",
    namespaced,
    shortname = "dj",
    category = "dapr",
    doc = "A Kubernetes Job or CronJob that runs with a Dapr sidecar and completes. Render it into batch/v1 objects with `daprjob render`.",
    printcolumn(
        name = "App ID",
        type_ = "string",
        json_path = ".spec.dapr.appId",
        description = "The Dapr app id (empty: the DaprJob's name)"
    ),
    printcolumn(
        name = "Schedule",
        type_ = "string",
        json_path = ".spec.cron.schedule",
        description = "Cron schedule; empty for a one-off Job"
    ),
    printcolumn(
        name = "Wrapper",
        type_ = "string",
        json_path = ".spec.wrapper.mode",
        description = "How the job container treats the sidecar (empty: shell)"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    validation = Rule::new("size(self.metadata.name) <= (has(self.spec.cron) ? 52 : 63)")
        .message("metadata.name must be at most 63 characters for a Job and 52 for a CronJob (the API server rejects longer job-name labels and generated Job names)")
)]
#[x_kube(
    validation = Rule::new("!(has(self.dapr) && has(self.dapr.nativeSidecar) && self.dapr.nativeSidecar && has(self.wrapper) && has(self.wrapper.shutdown) && self.wrapper.shutdown != 'never')")
        .message("dapr.nativeSidecar: true requires wrapper.shutdown: never (Kubernetes stops a native sidecar itself and restarts one that exits)")
)]
#[serde(rename_all = "camelCase")]
pub struct DaprJobSpec {
    /// The Dapr sidecar of the job's pod. Each field becomes a `dapr.io/*` annotation on
    /// the pod template; `dapr.io/enabled: "true"` and `dapr.io/app-id` are always set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dapr: Option<DaprSidecar>,

    /// How the job container treats the sidecar: wait for it before the command starts,
    /// shut it down after the command ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapper: Option<Wrapper>,

    /// Present: render a `batch/v1` CronJob that runs this job on a schedule. Absent: a
    /// one-off `batch/v1` Job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<Cron>,

    /// The pod that runs the job (a Job's `spec.template`). Its `restartPolicy` must be
    /// `Never` or unset (it becomes `Never`): with `OnFailure` a restarted container
    /// finds its sidecar gone or restarting, and the pod may never complete. The job
    /// container must set `command`; daprjob wraps it and keeps `command` and `args`.
    #[schemars(schema_with = "embedded::<PodTemplateSpec>")]
    pub template: PodTemplateSpec,

    /// Number of retries before the Job is marked failed (Job `backoffLimit`; Kubernetes
    /// default 6). Each retry is a fresh pod with a fresh sidecar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub backoff_limit: Option<i32>,

    /// Seconds the Job may run before it is terminated (Job `activeDeadlineSeconds`).
    /// Strongly recommended: it is the backstop if the sidecar is never shut down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub active_deadline_seconds: Option<i64>,

    /// Seconds after the Job finishes before Kubernetes deletes it (Job
    /// `ttlSecondsAfterFinished`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub ttl_seconds_after_finished: Option<i32>,

    /// Maximum number of pods running at once (Job `parallelism`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub parallelism: Option<i32>,

    /// Number of successful pods the Job needs (Job `completions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub completions: Option<i32>,

    /// `NonIndexed` (default) or `Indexed`: with `Indexed` each pod gets a completion
    /// index in `JOB_COMPLETION_INDEX` (Job `completionMode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_mode: Option<CompletionMode>,

    /// Retries allowed per index of an Indexed Job (Job `backoffLimitPerIndex`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub backoff_limit_per_index: Option<i32>,

    /// Failed indexes tolerated before an Indexed Job fails (Job `maxFailedIndexes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub max_failed_indexes: Option<i32>,

    /// How pod failures count against `backoffLimit` (Job `podFailurePolicy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "embedded::<Option<PodFailurePolicy>>")]
    pub pod_failure_policy: Option<PodFailurePolicy>,

    /// When replacement pods are created: `TerminatingOrFailed` or `Failed` (Job
    /// `podReplacementPolicy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_replacement_policy: Option<PodReplacementPolicy>,

    /// When an Indexed Job counts as succeeded before all indexes finish (Job
    /// `successPolicy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "embedded::<Option<SuccessPolicy>>")]
    pub success_policy: Option<SuccessPolicy>,

    /// Create the Job suspended: no pods start until it is resumed (Job `suspend`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

/// The Dapr sidecar: each field becomes a `dapr.io/*` annotation on the pod template.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DaprSidecar {
    /// The Dapr app id (`dapr.io/app-id`); a DNS-1123 label. Default: the DaprJob's
    /// `metadata.name`. Always set, since a Job pod's own name is random.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub app_id: Option<String>,

    /// Name of the Dapr Configuration resource to use (`dapr.io/config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,

    /// daprd's log level (`dapr.io/log-level`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_level: Option<LogLevel>,

    /// Log in JSON (`dapr.io/log-as-json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_as_json: Option<bool>,

    /// Secret holding the Dapr API token under the key `token`
    /// (`dapr.io/api-token-secret`). daprj also puts it into the job container as
    /// `DAPR_API_TOKEN` (Dapr injects it only into daprd), so the wrapper and the Dapr
    /// SDKs can authenticate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub api_token_secret: Option<String>,

    /// Port the job listens on for calls from Dapr (`dapr.io/app-port`). Rarely right for
    /// a job: daprd then waits for the job to listen before it reports healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub app_port: Option<i32>,

    /// Protocol daprd uses to call the app (`dapr.io/app-protocol`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<AppProtocol>,

    /// Seconds daprd waits for in-flight work when it shuts down
    /// (`dapr.io/graceful-shutdown-seconds`; Dapr's default is 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub graceful_shutdown_seconds: Option<i32>,

    /// Run daprd as a Kubernetes native sidecar (`dapr.io/enable-native-sidecar`; Dapr
    /// 1.18 or later on Kubernetes 1.29 or later). Kubernetes then stops the sidecar when
    /// the job ends, so the wrapper only waits and never calls shutdown
    /// (`wrapper.shutdown` defaults to, and must be, `never`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native_sidecar: Option<bool>,

    /// CPU and memory of the daprd container
    /// (`dapr.io/sidecar-{cpu,memory}-{request,limit}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecar_resources: Option<SidecarResources>,

    /// Any other `dapr.io/*` pod annotation, copied verbatim. Values are strings (quote
    /// `"true"` and numbers). Keys must start with `dapr.io/` and must not repeat a typed
    /// field above, `dapr.io/enabled` or `dapr.io/app-id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(
        validation = Rule::new("self.all(k, k.startsWith('dapr.io/'))")
            .message("keys must start with dapr.io/"),
        validation = Rule::new("!('dapr.io/enabled' in self) && !('dapr.io/app-id' in self)")
            .message("dapr.io/enabled and dapr.io/app-id are set by daprjob (use appId)")
    )]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// daprd's log level.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Everything, for debugging.
    Debug,
    /// Dapr's default.
    Info,
    /// Warnings and errors.
    Warn,
    /// Errors only.
    Error,
}

impl LogLevel {
    /// The `dapr.io/log-level` value.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// The protocol daprd uses to call the app.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum AppProtocol {
    /// Plain HTTP.
    Http,
    /// gRPC.
    Grpc,
    /// HTTP over TLS.
    Https,
    /// gRPC over TLS.
    Grpcs,
    /// HTTP/2 cleartext.
    H2c,
}

impl AppProtocol {
    /// The `dapr.io/app-protocol` value.
    pub fn as_str(self) -> &'static str {
        match self {
            AppProtocol::Http => "http",
            AppProtocol::Grpc => "grpc",
            AppProtocol::Https => "https",
            AppProtocol::Grpcs => "grpcs",
            AppProtocol::H2c => "h2c",
        }
    }
}

/// CPU and memory of the daprd container.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SidecarResources {
    /// Requests (`dapr.io/sidecar-cpu-request`, `dapr.io/sidecar-memory-request`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<CpuMemory>,
    /// Limits (`dapr.io/sidecar-cpu-limit`, `dapr.io/sidecar-memory-limit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<CpuMemory>,
}

/// A CPU and a memory quantity.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CpuMemory {
    /// CPU, a Kubernetes quantity such as `100m` or `1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Quantity>,
    /// Memory, a Kubernetes quantity such as `64Mi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Quantity>,
}

/// How the job container treats the sidecar.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Wrapper {
    /// `shell` (default): a POSIX sh entrypoint that needs `/bin/sh` and `curl` or `wget`
    /// in the image. `binary`: an init container copies the static daprjob binary into
    /// the pod (for images with no shell). `none`: no wrapping; only the annotations and
    /// `restartPolicy` are set and the job must shut the sidecar down itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<WrapperMode>,

    /// Name of the job container to wrap. Default: the pod's only container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,

    /// Seconds to wait for the sidecar (`GET /v1.0/healthz/outbound`) before the command
    /// starts; `0` does not wait. If it is not ready in time the command does not run
    /// and the container exits 69. Default 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 86400))]
    pub wait_seconds: Option<i32>,

    /// When to shut the sidecar down after the command: `always` (default),
    /// `on-success` (exit code 0 only; a failed pod then stays Running until
    /// `activeDeadlineSeconds`, for debugging), or `never`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown: Option<ShutdownPolicy>,

    /// Bound in seconds on the whole shutdown phase (calls, retries, verification).
    /// Keep it below the pod's `terminationGracePeriodSeconds`. Default 30.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3600))]
    pub shutdown_seconds: Option<i32>,

    /// Last resort: if the sidecar is still running late in the shutdown phase, call
    /// shutdown with `Dapr-Force-Shutdown: true` (Dapr 1.17.7 or later). daprd then
    /// exits 1 after 100 ms. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_shutdown: Option<bool>,

    /// `binary` mode only: the image the init container copies the daprjob binary from
    /// (built from daprjob's Dockerfile). `daprjob render --wrapper-image` sets a default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

/// How the job container is wrapped.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum WrapperMode {
    /// A POSIX sh entrypoint (needs `/bin/sh` and `curl` or `wget`).
    Shell,
    /// The static `daprjob exec` binary, copied in by an init container.
    Binary,
    /// No wrapping.
    None,
}

/// When to shut the sidecar down.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "kebab-case")]
pub enum ShutdownPolicy {
    /// After every run, successful or not.
    Always,
    /// Only after the command exits 0.
    OnSuccess,
    /// Never (native sidecars, or jobs that shut the sidecar down themselves).
    Never,
}

impl ShutdownPolicy {
    /// The value of `DAPRJOB_SHUTDOWN` for this policy.
    pub fn as_str(self) -> &'static str {
        match self {
            ShutdownPolicy::Always => "always",
            ShutdownPolicy::OnSuccess => "on-success",
            ShutdownPolicy::Never => "never",
        }
    }
}

/// Schedule settings: present, the DaprJob renders into a `batch/v1` CronJob.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Cron {
    /// Cron schedule, for example `0 3 * * *` (CronJob `schedule`).
    #[schemars(length(min = 1))]
    pub schedule: String,

    /// IANA time zone of the schedule, for example `Europe/Berlin` (CronJob `timeZone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,

    /// `Allow`, `Forbid` or `Replace` (CronJob `concurrencyPolicy`). With `Forbid`, a pod
    /// whose sidecar never stops blocks every later run: the reason daprjob exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency_policy: Option<ConcurrencyPolicy>,

    /// Seconds after a missed schedule during which the run may still start (CronJob
    /// `startingDeadlineSeconds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub starting_deadline_seconds: Option<i64>,

    /// Successful Jobs to keep (CronJob `successfulJobsHistoryLimit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub successful_jobs_history_limit: Option<i32>,

    /// Failed Jobs to keep (CronJob `failedJobsHistoryLimit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub failed_jobs_history_limit: Option<i32>,

    /// Suspend the schedule: no new runs start (CronJob `suspend`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

/// A CronJob's concurrency policy.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[schemars(transform = crate::schema::drop_description)]
pub enum ConcurrencyPolicy {
    /// Runs may overlap.
    Allow,
    /// Skip a run while the previous one is still running.
    Forbid,
    /// Replace the running one with the new one.
    Replace,
}

impl ConcurrencyPolicy {
    /// The CronJob field value.
    pub fn as_str(self) -> &'static str {
        match self {
            ConcurrencyPolicy::Allow => "Allow",
            ConcurrencyPolicy::Forbid => "Forbid",
            ConcurrencyPolicy::Replace => "Replace",
        }
    }
}

/// A Job's completion mode.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[schemars(transform = crate::schema::drop_description)]
pub enum CompletionMode {
    /// Pods are interchangeable.
    NonIndexed,
    /// Each pod gets a completion index.
    Indexed,
}

impl CompletionMode {
    /// The Job field value.
    pub fn as_str(self) -> &'static str {
        match self {
            CompletionMode::NonIndexed => "NonIndexed",
            CompletionMode::Indexed => "Indexed",
        }
    }
}

/// A Job's pod replacement policy.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[schemars(transform = crate::schema::drop_description)]
pub enum PodReplacementPolicy {
    /// Replace a pod as soon as it is terminating or failed.
    TerminatingOrFailed,
    /// Replace a pod only once it has fully failed.
    Failed,
}

impl PodReplacementPolicy {
    /// The Job field value.
    pub fn as_str(self) -> &'static str {
        match self {
            PodReplacementPolicy::TerminatingOrFailed => "TerminatingOrFailed",
            PodReplacementPolicy::Failed => "Failed",
        }
    }
}
