//! DaprJob → `batch/v1` Job, or CronJob when `spec.cron` is present.
//!
//! Objects are built as typed k8s-openapi structs; nothing here produces YAML text.

mod annotations;
mod container;
mod diagnostic;
pub mod names;

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::{DaprJob, DaprJobSpec, ShutdownPolicy, WrapperMode};
use crate::wrapper::contract;

pub use container::{
    BIN_DIR, BIN_PATH, BIN_VOLUME, INSTALL_CONTAINER, WrapperSettings, job_container_index,
};
pub use diagnostic::{Diagnostic, Diagnostics, Severity};

/// Annotation on rendered objects naming the DaprJob they came from.
pub const GENERATED_FROM_ANNOTATION: &str = "daprjob.dev/generated-from";
/// Label on rendered objects: `app.kubernetes.io/created-by: daprjob` (never
/// `managed-by`, which Helm overwrites).
pub const CREATED_BY_LABEL: &str = "app.kubernetes.io/created-by";
/// kubectl's client-side apply record, never copied onto rendered objects.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Options of a render that do not come from the DaprJob itself.
#[derive(Clone, Debug, Default)]
pub struct RenderOptions {
    /// Default `spec.wrapper.image` for binary mode (`--wrapper-image`).
    pub wrapper_image: Option<String>,
}

/// What a DaprJob renders into.
#[derive(Clone, Debug, PartialEq)]
pub enum Rendered {
    /// A one-off `batch/v1` Job.
    Job(Box<Job>),
    /// A `batch/v1` CronJob.
    CronJob(Box<CronJob>),
}

/// The result of rendering one DaprJob: the object (if there was no error) and every
/// diagnostic, warnings included.
#[derive(Debug)]
pub struct Outcome {
    /// The rendered object; `None` when a diagnostic is an error.
    pub rendered: Option<Rendered>,
    /// Errors and warnings, in the order they were found.
    pub diagnostics: Vec<Diagnostic>,
}

/// Render a DaprJob.
pub fn render(daprjob: &DaprJob, options: &RenderOptions) -> Outcome {
    let mut diags = Diagnostics::default();
    let rendered = render_inner(daprjob, options, &mut diags);
    Outcome {
        rendered: rendered.filter(|_| !diags.has_errors()),
        diagnostics: diags.0,
    }
}

fn render_inner(
    daprjob: &DaprJob,
    options: &RenderOptions,
    diags: &mut Diagnostics,
) -> Option<Rendered> {
    let spec = &daprjob.spec;
    let Some(name) = daprjob.metadata.name.as_deref().filter(|n| !n.is_empty()) else {
        diags.error(
            "metadata.name",
            "is required (generateName is not supported: a Job needs a stable name)",
        );
        return None;
    };
    check_name(name, spec.cron.is_some(), diags);

    let dapr = spec.dapr.clone().unwrap_or_default();
    let wrapper = spec.wrapper.clone().unwrap_or_default();
    let native = dapr.native_sidecar == Some(true);
    let shutdown = match (wrapper.shutdown, native) {
        (Some(ShutdownPolicy::Never) | None, true) => ShutdownPolicy::Never,
        (Some(policy), true) => {
            diags.error(
                "spec.wrapper.shutdown",
                format!(
                    "must be never with spec.dapr.nativeSidecar: true, not {}: Kubernetes stops a native sidecar itself and restarts one that exits",
                    policy.as_str()
                ),
            );
            policy
        }
        (policy, false) => policy.unwrap_or(ShutdownPolicy::Always),
    };
    let settings = WrapperSettings {
        mode: wrapper.mode.unwrap_or(WrapperMode::Shell),
        wait_seconds: wrapper
            .wait_seconds
            .unwrap_or(contract::DEFAULT_WAIT_SECONDS as i32),
        shutdown,
        shutdown_seconds: wrapper
            .shutdown_seconds
            .unwrap_or(contract::DEFAULT_SHUTDOWN_SECONDS as i32),
        force_shutdown: wrapper.force_shutdown.unwrap_or(false),
        image: wrapper
            .image
            .clone()
            .or_else(|| options.wrapper_image.clone()),
        api_token_secret: dapr.api_token_secret.clone(),
    };
    check_wrapper_numbers(&settings, diags);
    if settings.mode == WrapperMode::None && !native {
        diags.warning(
            "spec.wrapper.mode",
            "none: nothing shuts the sidecar down; the job itself must call POST /v1.0/shutdown (also when it fails), or the pod never completes",
        );
    }
    if wrapper.image.is_some() && settings.mode != WrapperMode::Binary {
        diags.warning(
            "spec.wrapper.image",
            "only used with spec.wrapper.mode: binary; ignored",
        );
    }

    let mut template = spec.template.clone();
    let dapr_annotations = annotations::dapr_annotations(name, &dapr, diags);
    let template_annotations = template
        .metadata
        .get_or_insert_with(ObjectMeta::default)
        .annotations
        .get_or_insert_with(BTreeMap::new);
    for (key, value) in dapr_annotations {
        if template_annotations.contains_key(&key) {
            diags.error(
                format!("spec.template.metadata.annotations[{key:?}]"),
                "set by daprjob from spec.dapr; remove it here",
            );
        }
        template_annotations.insert(key, value);
    }

    let Some(pod) = template.spec.as_mut() else {
        diags.error("spec.template.spec", "is required");
        return None;
    };
    match pod.restart_policy.as_deref() {
        None | Some("Never") => pod.restart_policy = Some("Never".to_string()),
        Some(other) => diags.error(
            "spec.template.spec.restartPolicy",
            format!(
                "must be Never (or unset), not {other}: with OnFailure a restarted job container runs after its sidecar was shut down, and a daprd that exits non-zero is restarted in place, so the pod may never complete; with Never every retry is a fresh pod with a fresh sidecar, counted by backoffLimit"
            ),
        ),
    }
    if let Some(i) = pod.containers.iter().position(|c| c.name == "daprd") {
        diags.error(
            format!("spec.template.spec.containers[{i}].name"),
            "daprd is the name of the container Dapr injects; rename this one",
        );
    }
    let needs_container = settings.mode != WrapperMode::None
        || settings.api_token_secret.is_some()
        || wrapper.container.is_some();
    if needs_container
        && let Some(index) = job_container_index(pod, wrapper.container.as_deref(), diags)
    {
        container::wrap(pod, index, &settings, diags);
    }
    if let Some(grace) = pod.termination_grace_period_seconds
        && settings.mode != WrapperMode::None
        && i64::from(settings.shutdown_seconds) > grace
    {
        diags.warning(
            "spec.wrapper.shutdownSeconds",
            format!(
                "{} is longer than spec.template.spec.terminationGracePeriodSeconds ({grace}): when the pod is terminated, the kubelet kills the wrapper before its shutdown phase can end",
                settings.shutdown_seconds
            ),
        );
    }
    if spec.active_deadline_seconds.is_none() {
        diags.warning(
            "spec.activeDeadlineSeconds",
            "not set: if the sidecar is ever left running (the wrapper killed, a shutdown refused), the pod runs forever and a CronJob with concurrencyPolicy: Forbid never runs again; set it as a backstop",
        );
    }

    let job_spec = job_spec(spec, template);
    let metadata = object_meta(daprjob, name);
    Some(match &spec.cron {
        None => Rendered::Job(Box::new(Job {
            metadata,
            spec: Some(job_spec),
            status: None,
        })),
        Some(cron) => Rendered::CronJob(Box::new(CronJob {
            metadata,
            spec: Some(CronJobSpec {
                schedule: cron.schedule.clone(),
                time_zone: cron.time_zone.clone(),
                concurrency_policy: cron.concurrency_policy.map(|p| p.as_str().to_string()),
                starting_deadline_seconds: cron.starting_deadline_seconds,
                successful_jobs_history_limit: cron.successful_jobs_history_limit,
                failed_jobs_history_limit: cron.failed_jobs_history_limit,
                suspend: cron.suspend,
                job_template: JobTemplateSpec {
                    metadata: None,
                    spec: Some(job_spec),
                },
            }),
            status: None,
        })),
    })
}

fn check_name(name: &str, cron: bool, diags: &mut Diagnostics) {
    let (limit, kind, why) = if cron {
        (
            names::MAX_CRONJOB_NAME,
            "CronJob",
            "the CronJob controller appends an 11-character suffix to name its Jobs",
        )
    } else {
        (
            names::MAX_JOB_NAME,
            "Job",
            "the API server puts it in the job-name pod label, which is limited to 63",
        )
    };
    if name.len() > limit {
        diags.error(
            "metadata.name",
            format!(
                "{name:?} is {} characters; a {kind} name may have at most {limit} ({why})",
                name.len()
            ),
        );
    } else if !names::is_dns1123_subdomain(name) {
        diags.error(
            "metadata.name",
            format!("{name:?} is not a valid name: use lowercase letters, digits, '-' and '.'"),
        );
    }
}

fn check_wrapper_numbers(settings: &WrapperSettings, diags: &mut Diagnostics) {
    if settings.wait_seconds < 0 {
        diags.error(
            "spec.wrapper.waitSeconds",
            "must not be negative (0 disables the wait)",
        );
    }
    if settings.shutdown_seconds < 1 {
        diags.error("spec.wrapper.shutdownSeconds", "must be at least 1");
    }
}

fn object_meta(daprjob: &DaprJob, name: &str) -> ObjectMeta {
    let source = &daprjob.metadata;
    let mut labels = source.labels.clone().unwrap_or_default();
    labels.insert(CREATED_BY_LABEL.to_string(), "daprjob".to_string());
    let mut annotations = source.annotations.clone().unwrap_or_default();
    annotations.remove(LAST_APPLIED);
    annotations.insert(
        GENERATED_FROM_ANNOTATION.to_string(),
        format!("DaprJob/{name}"),
    );
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: source.namespace.clone(),
        labels: Some(labels),
        annotations: Some(annotations),
        ..ObjectMeta::default()
    }
}

fn job_spec(spec: &DaprJobSpec, template: k8s_openapi::api::core::v1::PodTemplateSpec) -> JobSpec {
    JobSpec {
        template,
        backoff_limit: spec.backoff_limit,
        active_deadline_seconds: spec.active_deadline_seconds,
        ttl_seconds_after_finished: spec.ttl_seconds_after_finished,
        parallelism: spec.parallelism,
        completions: spec.completions,
        completion_mode: spec.completion_mode.map(|m| m.as_str().to_string()),
        backoff_limit_per_index: spec.backoff_limit_per_index,
        max_failed_indexes: spec.max_failed_indexes,
        pod_failure_policy: spec.pod_failure_policy.clone(),
        pod_replacement_policy: spec.pod_replacement_policy.map(|p| p.as_str().to_string()),
        success_policy: spec.success_policy.clone(),
        suspend: spec.suspend,
        ..JobSpec::default()
    }
}
