//! Names and numbers of the in-pod contract: the environment variables the renderer
//! sets and both wrappers read, and the wrapper's own exit codes.

/// Port of daprd's HTTP API, injected by Dapr into every app container.
pub const ENV_DAPR_HTTP_PORT: &str = "DAPR_HTTP_PORT";
/// API token; sent as the `dapr-api-token` header on the shutdown call.
pub const ENV_DAPR_API_TOKEN: &str = "DAPR_API_TOKEN";
/// Bound on the readiness wait in seconds; `0` disables the wait.
pub const ENV_WAIT_SECONDS: &str = "DAPRJOB_WAIT_SECONDS";
/// Shutdown policy: `always`, `on-success` or `never`.
pub const ENV_SHUTDOWN: &str = "DAPRJOB_SHUTDOWN";
/// Bound on the whole shutdown phase in seconds.
pub const ENV_SHUTDOWN_SECONDS: &str = "DAPRJOB_SHUTDOWN_SECONDS";
/// `true`: end an unsuccessful graceful shutdown with `Dapr-Force-Shutdown: true`.
pub const ENV_FORCE_SHUTDOWN: &str = "DAPRJOB_FORCE_SHUTDOWN";
/// `true`: global off switch, run the command plainly.
pub const ENV_DISABLED: &str = "DAPRJOB_DISABLED";

/// Default readiness wait in seconds.
pub const DEFAULT_WAIT_SECONDS: u32 = 60;
/// Default bound on the shutdown phase in seconds.
pub const DEFAULT_SHUTDOWN_SECONDS: u32 = 30;

/// Exit code: the sidecar was not ready in time; the job did not run.
pub const EXIT_SIDECAR_NOT_READY: i32 = 69;
/// Exit code: a configuration error (bad `DAPRJOB_*` value, no HTTP client in shell mode).
pub const EXIT_CONFIG: i32 = 78;
/// Exit code: the command exists but cannot be executed.
pub const EXIT_NOT_EXECUTABLE: i32 = 126;
/// Exit code: the command was not found.
pub const EXIT_NOT_FOUND: i32 = 127;
