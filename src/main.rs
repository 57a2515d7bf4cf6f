//! The `daprjob` binary. The in-pod subcommands (`exec`, `install`) are dispatched first, with
//! no CLI framework in their path; the renderer's CLI (feature `render`) handles the rest.

use std::ffi::OsString;

fn main() {
    let args: Vec<OsString> = std::env::args_os().collect();
    if daprjob::exec::is_wrapper_command(&args) {
        std::process::exit(daprjob::exec::main_from_args(args));
    }
    // The renderer's CLI (feature `render`) takes over here once it exists; until then, and in
    // `--no-default-features` builds, the wrapper's entry point also serves --help/--version.
    std::process::exit(daprjob::exec::main_from_args(args));
}
