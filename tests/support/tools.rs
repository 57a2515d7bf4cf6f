//! Finding the real tools the tests run. A missing tool fails the test loudly with
//! the command that installs it; tests never skip silently.

#![allow(dead_code)]

use std::path::PathBuf;

/// The path of a tool: `$VAR` if set, else `name` on PATH. Panics, naming the
/// install command, when it is missing.
pub fn tool(var: &str, name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.exists(),
            "{var}={} does not exist: run `scripts/testbed install`",
            path.display()
        );
        return path;
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "{name} is not installed and {var} is not set: run `scripts/test` (or `scripts/testbed install` and `eval \"$(scripts/testbed env)\"`)"
        )
    })
}
