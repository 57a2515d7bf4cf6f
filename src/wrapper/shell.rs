//! The shell wrapper: a POSIX sh entrypoint rendered from `templates/entrypoint.sh.hbs`.
//! (Placeholder on main until the `shell` branch lands.)

/// The container command that runs `original_argv` under the shell wrapper.
pub fn container_command(original_argv: &[String]) -> Vec<String> {
    let mut argv = vec![
        "/bin/sh".to_string(),
        "-c".to_string(),
        "exec \"$@\"".to_string(),
        "daprjob".to_string(),
    ];
    argv.extend(original_argv.iter().cloned());
    argv
}
