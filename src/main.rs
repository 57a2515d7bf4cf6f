//! The `daprjob` binary. The in-pod subcommands (`exec`, `install`) are dispatched first,
//! with no CLI framework in their path; the renderer's CLI (feature `render`) handles the
//! rest. Without default features (the wrapper image) only the in-pod part is built, and
//! it also serves `--help` and `--version`.

use std::ffi::OsString;

fn main() {
    let args: Vec<OsString> = std::env::args_os().collect();
    if daprjob::exec::is_wrapper_command(&args) {
        std::process::exit(daprjob::exec::main_from_args(args));
    }
    #[cfg(feature = "render")]
    {
        use clap::Parser;
        let code = daprjob::cli::run(daprjob::cli::Cli::parse_from(args));
        std::process::exit(code);
    }
    #[cfg(not(feature = "render"))]
    std::process::exit(daprjob::exec::main_from_args(args));
}
