//! Wrapping the job container: its command, its environment, and in binary mode the
//! init container and volume that bring the daprjob binary into the pod.

use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, EnvVar, EnvVarSource, PodSpec, SeccompProfile,
    SecretKeySelector, SecurityContext, Volume, VolumeMount,
};

use crate::api::{ShutdownPolicy, WrapperMode};
use crate::wrapper::contract;

use super::Diagnostics;

/// Name of the init container that installs the binary (binary mode).
pub const INSTALL_CONTAINER: &str = "daprjob-install";
/// Name of the `emptyDir` volume holding the binary (binary mode).
pub const BIN_VOLUME: &str = "daprjob-bin";
/// Where the binary is mounted in the job container (binary mode).
pub const BIN_DIR: &str = "/.daprjob";
/// The binary's path in the job container (binary mode).
pub const BIN_PATH: &str = "/.daprjob/daprjob";
/// UID the install init container runs as (the distroless `nonroot` user).
pub const INSTALL_UID: i64 = 65532;

/// The wrapper settings, resolved with their defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct WrapperSettings {
    /// Shell, binary or none.
    pub mode: WrapperMode,
    /// Readiness wait bound in seconds.
    pub wait_seconds: i32,
    /// Shutdown policy.
    pub shutdown: ShutdownPolicy,
    /// Shutdown phase bound in seconds.
    pub shutdown_seconds: i32,
    /// Force shutdown as a last resort.
    pub force_shutdown: bool,
    /// Image of the install init container (binary mode).
    pub image: Option<String>,
    /// Secret of the Dapr API token, if any.
    pub api_token_secret: Option<String>,
}

/// Pick the job container: the named one, or the only one.
pub fn job_container_index(
    spec: &PodSpec,
    name: Option<&str>,
    diags: &mut Diagnostics,
) -> Option<usize> {
    let names: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    match name {
        Some(name) => {
            let found = names.iter().position(|n| *n == name);
            if found.is_none() {
                diags.error(
                    "spec.wrapper.container",
                    format!(
                        "no container named {name:?} in spec.template.spec.containers (found: {})",
                        names.join(", ")
                    ),
                );
            }
            found
        }
        None if names.len() == 1 => Some(0),
        None if names.is_empty() => {
            diags.error("spec.template.spec.containers", "the pod has no containers");
            None
        }
        None => {
            diags.error(
                "spec.wrapper.container",
                format!(
                    "the pod has {} containers ({}): name the job container here",
                    names.len(),
                    names.join(", ")
                ),
            );
            None
        }
    }
}

fn env(name: &str, value: String) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: Some(value),
        value_from: None,
    }
}

/// Add `vars` to the container's environment; a variable the user already set is an
/// error naming the field that owns it.
fn add_env(
    container: &mut Container,
    field: &str,
    vars: Vec<(EnvVar, &str)>,
    diags: &mut Diagnostics,
) {
    let list = container.env.get_or_insert_with(Vec::new);
    for (var, owner) in vars {
        if let Some(i) = list.iter().position(|e| e.name == var.name) {
            diags.error(
                format!("{field}.env[{i}]"),
                format!(
                    "{} is set by daprjob from {owner}; remove it here",
                    var.name
                ),
            );
        } else {
            list.push(var);
        }
    }
}

/// Wrap the container at `index` of `spec` per `settings`.
pub fn wrap(spec: &mut PodSpec, index: usize, settings: &WrapperSettings, diags: &mut Diagnostics) {
    let field = format!("spec.template.spec.containers[{index}]");
    let container = &mut spec.containers[index];

    let mut vars = Vec::new();
    if let Some(secret) = &settings.api_token_secret {
        vars.push((
            EnvVar {
                name: contract::ENV_DAPR_API_TOKEN.to_string(),
                value: None,
                value_from: Some(EnvVarSource {
                    secret_key_ref: Some(SecretKeySelector {
                        name: secret.clone(),
                        key: "token".to_string(),
                        optional: None,
                    }),
                    ..EnvVarSource::default()
                }),
            },
            "spec.dapr.apiTokenSecret",
        ));
    }
    if settings.mode != WrapperMode::None {
        vars.extend([
            (
                env(
                    contract::ENV_WAIT_SECONDS,
                    settings.wait_seconds.to_string(),
                ),
                "spec.wrapper.waitSeconds",
            ),
            (
                env(
                    contract::ENV_SHUTDOWN,
                    settings.shutdown.as_str().to_string(),
                ),
                "spec.wrapper.shutdown",
            ),
            (
                env(
                    contract::ENV_SHUTDOWN_SECONDS,
                    settings.shutdown_seconds.to_string(),
                ),
                "spec.wrapper.shutdownSeconds",
            ),
            (
                env(
                    contract::ENV_FORCE_SHUTDOWN,
                    settings.force_shutdown.to_string(),
                ),
                "spec.wrapper.forceShutdown",
            ),
        ]);
    }
    if !vars.is_empty() {
        add_env(container, &field, vars, diags);
    }

    if settings.mode == WrapperMode::None {
        return;
    }
    let Some(command) = container.command.take().filter(|c| !c.is_empty()) else {
        diags.error(
            format!("{field}.command"),
            "the job container must set command: daprjob wraps it and cannot know the image's ENTRYPOINT (copy it from the image, then keep args as they are)",
        );
        return;
    };
    let mut argv = command;
    argv.extend(container.args.take().unwrap_or_default());

    match settings.mode {
        WrapperMode::Shell => {
            container.command = Some(crate::wrapper::shell::container_command(&argv));
        }
        WrapperMode::Binary => {
            let mut command = vec![BIN_PATH.to_string(), "exec".to_string(), "--".to_string()];
            command.extend(argv);
            container.command = Some(command);
            container
                .volume_mounts
                .get_or_insert_with(Vec::new)
                .push(VolumeMount {
                    name: BIN_VOLUME.to_string(),
                    mount_path: BIN_DIR.to_string(),
                    read_only: Some(true),
                    ..VolumeMount::default()
                });
            add_install_init_container(spec, settings, diags);
        }
        WrapperMode::None => {}
    }
}

fn add_install_init_container(
    spec: &mut PodSpec,
    settings: &WrapperSettings,
    diags: &mut Diagnostics,
) {
    let Some(image) = settings.image.clone() else {
        diags.error(
            "spec.wrapper.image",
            "binary mode needs the image to copy the daprjob binary from: set spec.wrapper.image or pass --wrapper-image",
        );
        return;
    };
    if spec.volumes.iter().flatten().any(|v| v.name == BIN_VOLUME) {
        diags.error(
            "spec.template.spec.volumes",
            format!("the volume name {BIN_VOLUME:?} is reserved for the daprjob binary"),
        );
    }
    if spec
        .init_containers
        .iter()
        .flatten()
        .any(|c| c.name == INSTALL_CONTAINER)
    {
        diags.error(
            "spec.template.spec.initContainers",
            format!("the init container name {INSTALL_CONTAINER:?} is reserved"),
        );
    }
    spec.volumes.get_or_insert_with(Vec::new).push(Volume {
        name: BIN_VOLUME.to_string(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    });
    let install = Container {
        name: INSTALL_CONTAINER.to_string(),
        image: Some(image),
        command: Some(vec![
            "/daprjob".to_string(),
            "install".to_string(),
            BIN_DIR.to_string(),
        ]),
        volume_mounts: Some(vec![VolumeMount {
            name: BIN_VOLUME.to_string(),
            mount_path: BIN_DIR.to_string(),
            ..VolumeMount::default()
        }]),
        security_context: Some(SecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(INSTALL_UID),
            run_as_group: Some(INSTALL_UID),
            read_only_root_filesystem: Some(true),
            allow_privilege_escalation: Some(false),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".to_string()]),
                add: None,
            }),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".to_string(),
                localhost_profile: None,
            }),
            ..SecurityContext::default()
        }),
        ..Container::default()
    };
    // The binary must be in place before any other init container could need it.
    spec.init_containers
        .get_or_insert_with(Vec::new)
        .insert(0, install);
}
