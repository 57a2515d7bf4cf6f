//! The shell wrapper: a POSIX sh entrypoint rendered from `templates/entrypoint.sh.hbs`.
//!
//! The script is constant for a given daprjob version: the only template substitutions
//! are the version, the default settings and the exit codes of [`super::contract`].
//! Settings reach it through `DAPR_*` / `DAPRJOB_*` environment variables and the job's
//! argv follows it as positional parameters, so no user data is ever spliced into
//! shell text.

use std::sync::OnceLock;

use handlebars::Handlebars;
use serde_json::json;

use super::contract;

/// The entrypoint template, embedded at compile time.
const TEMPLATE: &str = include_str!("../../templates/entrypoint.sh.hbs");

/// `$0` of the script: what `sh` shows in its own error messages.
pub const SCRIPT_NAME: &str = "daprjob";

/// Errors from rendering the entrypoint template.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    /// The embedded template failed to render (a bug in daprjob, caught by the tests).
    #[error("rendering the entrypoint template: {0}")]
    Render(#[from] handlebars::RenderError),
}

/// Render the entrypoint script. Prefer [`entrypoint_script`], which caches the result.
pub fn render_entrypoint() -> Result<String, ShellError> {
    let mut hb = Handlebars::new();
    hb.register_escape_fn(handlebars::no_escape);
    hb.set_strict_mode(true);
    let data = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "default_wait_seconds": contract::DEFAULT_WAIT_SECONDS,
        "default_shutdown_seconds": contract::DEFAULT_SHUTDOWN_SECONDS,
        "exit_not_ready": contract::EXIT_SIDECAR_NOT_READY,
        "exit_config": contract::EXIT_CONFIG,
        "exit_not_executable": contract::EXIT_NOT_EXECUTABLE,
        "exit_not_found": contract::EXIT_NOT_FOUND,
    });
    Ok(hb.render_template(TEMPLATE, &data)?)
}

/// The entrypoint script for this daprjob version (rendered once, then cached).
pub fn entrypoint_script() -> &'static str {
    static SCRIPT: OnceLock<String> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        render_entrypoint().expect("the embedded entrypoint template renders (tested)")
    })
}

/// The container command that wraps `original_argv`:
/// `["/bin/sh", "-c", SCRIPT, "daprjob", ORIGINAL_ARGV...]`.
pub fn container_command(original_argv: &[String]) -> Vec<String> {
    let mut cmd = Vec::with_capacity(original_argv.len() + 4);
    cmd.push("/bin/sh".to_string());
    cmd.push("-c".to_string());
    cmd.push(entrypoint_script().to_string());
    cmd.push(SCRIPT_NAME.to_string());
    cmd.extend(original_argv.iter().cloned());
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_constants_without_leftovers() {
        let s = render_entrypoint().unwrap();
        assert!(!s.contains("{{"), "unrendered handlebars expression");
        assert!(s.contains("exit 78"));
        assert!(s.contains(env!("CARGO_PKG_VERSION")));
        assert_eq!(s, entrypoint_script());
    }

    #[test]
    fn command_vector() {
        let argv = vec!["echo".to_string(), "a b".to_string()];
        let c = container_command(&argv);
        assert_eq!(&c[..2], ["/bin/sh", "-c"]);
        assert_eq!(c[2], entrypoint_script());
        assert_eq!(&c[3..], ["daprjob", "echo", "a b"]);
    }
}
