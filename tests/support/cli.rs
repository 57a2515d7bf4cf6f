//! Running the built `daprjob` binary in tests.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The daprjob binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_daprjob")
}

/// Result of one run.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Run daprjob with `args` and `stdin`.
pub fn daprjob(args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("daprjob runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap().into()
}

/// Render `path` (relative to the root).
pub fn render_file(path: &Path) -> Run {
    daprjob(&["render", "-f", path.to_str().unwrap()], "")
}

/// What the kubelet would run for the job container of the one Job that
/// `daprjob render -f - EXTRA_ARGS...` makes of `input`.
pub struct JobContainer {
    /// The rendered Job.
    pub job: serde_json::Value,
    /// The container's `command` (daprjob folds `args` into it).
    pub command: Vec<String>,
    /// The container's `env`, each `secretKeyRef` resolved by the caller's function.
    pub env: Vec<(String, String)>,
}

/// Render `input` and take the container named `container` from the Job, resolving
/// `valueFrom.secretKeyRef` with `secret(name, key)`.
pub fn render_job_container(
    input: &str,
    extra_args: &[&str],
    container: &str,
    secret: impl Fn(&str, &str) -> String,
) -> JobContainer {
    let mut args = vec!["render", "-f", "-"];
    args.extend_from_slice(extra_args);
    let run = daprjob(&args, input);
    assert_eq!(run.code, Some(0), "render failed: {}\n{input}", run.stderr);
    let job: serde_json::Value = serde_saphyr::from_str(&run.stdout).expect("rendered YAML");
    assert_eq!(job["kind"], "Job");
    let found = job["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .find(|c| c["name"] == container)
        .unwrap_or_else(|| panic!("no container {container:?}"))
        .clone();
    assert!(found.get("args").is_none(), "args are folded into command");
    let strings = |v: &serde_json::Value| v.as_str().expect("a string").to_string();
    let command = found["command"]
        .as_array()
        .expect("command")
        .iter()
        .map(strings)
        .collect();
    let env = found["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let value = match e.get("value") {
                Some(v) => strings(v),
                None => {
                    let key_ref = &e["valueFrom"]["secretKeyRef"];
                    secret(&strings(&key_ref["name"]), &strings(&key_ref["key"]))
                }
            };
            (strings(&e["name"]), value)
        })
        .collect();
    JobContainer { job, command, env }
}
