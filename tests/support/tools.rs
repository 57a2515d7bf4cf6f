//! Where the real components are: environment variables set by
//! `eval "$(scripts/testbed env)"`, or else the cache locations that `scripts/testbed env`
//! reports. A component that cannot be found fails the test with a message naming the fix.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub const KUBEBUILDER_ASSETS: &str = "KUBEBUILDER_ASSETS";
pub const DAPRD: &str = "DAPRJOB_DAPRD";
pub const DAPRD_OLD: &str = "DAPRJOB_DAPRD_OLD";
pub const KUSTOMIZE: &str = "DAPRJOB_KUSTOMIZE";
pub const HELM3: &str = "DAPRJOB_HELM3";
pub const HELM4: &str = "DAPRJOB_HELM4";
pub const KUBECTL: &str = "DAPRJOB_KUBECTL";
pub const KPT: &str = "DAPRJOB_KPT";
pub const KUBERNETES_VALIDATE: &str = "DAPRJOB_KUBERNETES_VALIDATE";

const FIX: &str = "the real-parts test bed is not installed: run `scripts/testbed install` \
                   (slow the first time, cached afterwards), optionally followed by \
                   `eval \"$(scripts/testbed env)\"`";

/// The repository root (where `scripts/testbed` lives).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `export VAR=value` lines of `scripts/testbed env`, parsed once.
fn testbed_defaults() -> &'static Result<HashMap<String, String>, String> {
    static DEFAULTS: OnceLock<Result<HashMap<String, String>, String>> = OnceLock::new();
    DEFAULTS.get_or_init(|| {
        let script = repo_root().join("scripts/testbed");
        let out = Command::new("bash")
            .arg(&script)
            .arg("env")
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} env failed ({}): {}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| line.strip_prefix("export "))
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.to_string(), unquote(v)))
            .collect())
    })
}

/// Undo bash's `printf %q` for the plain paths the script prints (backslash escapes only).
fn unquote(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The path a test-bed variable names: from the environment, else from `scripts/testbed env`.
/// Panics (fails the test) if it names nothing that exists.
pub fn path_of(var: &str) -> PathBuf {
    let (path, origin) = match std::env::var_os(var) {
        Some(v) if !v.is_empty() => (PathBuf::from(v), "from the environment"),
        _ => match testbed_defaults() {
            Ok(map) => match map.get(var) {
                Some(v) => (PathBuf::from(v), "the default of `scripts/testbed env`"),
                None => {
                    panic!("{var} is not set and `scripts/testbed env` does not name it; {FIX}")
                }
            },
            Err(e) => panic!("{var} is not set and {e}; {FIX}"),
        },
    };
    if !path.exists() {
        panic!("{var}={} ({origin}) does not exist; {FIX}", path.display());
    }
    path
}

/// An executable the test bed provides (`DAPRJOB_*` variables).
pub fn tool(var: &str) -> PathBuf {
    let path = path_of(var);
    if !is_executable(&path) {
        panic!("{var}={} is not an executable file; {FIX}", path.display());
    }
    path
}

/// `kube-apiserver` and `etcd` from `KUBEBUILDER_ASSETS`.
pub fn kubebuilder_asset(name: &str) -> PathBuf {
    let dir = path_of(KUBEBUILDER_ASSETS);
    let path = dir.join(name);
    if !is_executable(&path) {
        panic!(
            "{KUBEBUILDER_ASSETS}={} holds no executable {name}; {FIX}",
            dir.display()
        );
    }
    path
}

/// A program that must be on PATH (shellcheck, busybox, ...), installed by the test bed.
pub fn on_path(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
        .unwrap_or_else(|| panic!("{name} is not on PATH; {FIX}"))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Run `program args...`, panicking with its output unless it exits 0.
pub fn run_ok(program: &Path, args: &[&str]) -> Output {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    if !out.status.success() {
        panic!(
            "{} {} exited with {}\nstdout:\n{}\nstderr:\n{}",
            program.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// stdout and stderr of a finished command as one string.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
