//! The `daprjob` command: a thin layer over the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    #[cfg(feature = "render")]
    {
        use clap::Parser;
        daprjob::cli::run(daprjob::cli::Cli::parse())
    }
    #[cfg(not(feature = "render"))]
    {
        ExitCode::FAILURE
    }
}
