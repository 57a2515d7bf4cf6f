//! `daprjob exec`: the in-pod wrapper as a binary, for images without a shell.
//!
//! It implements `docs/wrapper-contract.md` with std and `libc` only, so that a build with
//! `--no-default-features` stays small and fully static. The flow:
//! 1. parse flags and `DAPRJOB_*` variables ([`config`]); a bad value is exit 78;
//! 2. without `DAPR_HTTP_PORT`, or with `DAPRJOB_DISABLED=true`, replace the process with the
//!    command (as PID 1, supervise it instead, to keep reaping orphans);
//! 3. otherwise block the forwarded signals and `SIGCHLD` ([`signals`]), wait for daprd
//!    ([`sidecar::wait_ready`]), run the job forwarding signals to it, shut daprd down per
//!    policy ([`sidecar::Shutdown`]) and exit with the job's code.
//!
//! `daprjob install DEST` ([`install`]) copies the binary for binary mode's init container.

pub mod config;
pub mod http;
pub mod install;
pub mod sidecar;
pub mod signals;

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use crate::wrapper::contract::{
    EXIT_CONFIG, EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, EXIT_SIDECAR_NOT_READY,
};
use config::{Config, Invocation};
use sidecar::{Phase, Ready, Shutdown};
use signals::Signals;

/// Writes one `daprjob: ` line to stderr. A closed or broken stderr is ignored: logging must
/// never change the outcome (a failed `eprintln!` would abort the wrapper).
pub fn log(args: std::fmt::Arguments) {
    let _ = writeln!(io::stderr().lock(), "daprjob: {args}");
}

macro_rules! say {
    ($($t:tt)*) => { $crate::exec::log(format_args!($($t)*)) };
}
pub(crate) use say;

/// Usage of the binary when built without the renderer (feature `render`).
pub const USAGE: &str = "\
Usage: daprjob <COMMAND>

Commands served by every build (the in-pod side):
  exec [FLAGS] -- CMD [ARGS...]   wait for the Dapr sidecar, run CMD, shut the sidecar down
  install DEST                    copy this binary to DEST (binary mode's init container)

  -h, --help       print this help (`daprjob exec --help` for the wrapper's flags)
  -V, --version    print the version
";

/// Whether `args` (a whole argv) names a subcommand served here, not by the renderer's CLI:
/// `exec` or `install`. `main` checks this before anything else.
pub fn is_wrapper_command(args: &[OsString]) -> bool {
    matches!(
        args.get(1).map(|a| a.as_encoded_bytes()),
        Some(b"exec" | b"install")
    )
}

/// Entry point for a whole argv (`argv[0]` included): serves `exec`, `install`, `--version`
/// and `--help`, and reports anything else as unknown. Returns the process exit code.
pub fn main_from_args(args: Vec<OsString>) -> i32 {
    let argv0 = args.first().cloned().unwrap_or_else(|| "daprjob".into());
    match args.get(1).map(|a| a.as_encoded_bytes()) {
        Some(b"exec") => exec_main(&args[2..]),
        Some(b"install") => install::main(&argv0, &args[2..]),
        Some(b"-V" | b"--version") => {
            println!("daprjob {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Some(b"-h" | b"--help" | b"help") => {
            print!("{USAGE}");
            0
        }
        None => {
            let _ = write!(io::stderr(), "{USAGE}");
            2
        }
        Some(_) => {
            say!(
                "unknown command {:?}: this build serves exec and install only",
                args[1].to_string_lossy()
            );
            2
        }
    }
}

/// `daprjob exec` with the arguments after `exec`; returns the exit code.
pub fn exec_main(args: &[OsString]) -> i32 {
    match config::parse(args, |k| std::env::var_os(k)) {
        Err(e) => {
            say!("{e}");
            EXIT_CONFIG
        }
        Ok(Invocation::Help) => {
            print!("{}", config::USAGE);
            0
        }
        Ok(Invocation::Run { config, command }) => run(&config, &command),
    }
}

/// Runs `command` under `config`: the contract's phases 1 to 5.
pub fn run(config: &Config, command: &[OsString]) -> i32 {
    if config.disabled {
        say!("DAPRJOB_DISABLED=true; running without the sidecar protocol");
        return plain(command);
    }
    let Some(port) = config.port else {
        say!("no DAPR_HTTP_PORT; running without a sidecar");
        return plain(command);
    };
    let signals = match Signals::block() {
        Ok(s) => s,
        Err(e) => {
            say!("cannot block signals: {e}");
            return EXIT_CONFIG;
        }
    };
    let pid1 = signals::is_pid1();
    let phase = Phase {
        signals: &signals,
        pid1,
    };

    let mut seen_up = false;
    let mut early: Option<i32> = None;
    if config.wait_seconds > 0 {
        let bound = Duration::from_secs(config.wait_seconds.into());
        match sidecar::wait_ready(port, bound, &phase) {
            Ready::After(d) => {
                seen_up = true;
                say!("sidecar ready after {}ms", d.as_millis());
            }
            Ready::NotReady => {
                say!(
                    "sidecar not ready after {}s; not running the job",
                    config.wait_seconds
                );
                early = Some(EXIT_SIDECAR_NOT_READY);
            }
            Ready::Stopped(sig) => early = Some(stopped_before_job(sig)),
        }
    }
    // A stopping signal that arrived while the wait ended (or with no wait at all) still
    // counts as arriving before the job.
    if early.is_none()
        && let Some(sig) = phase.sleep(Duration::ZERO)
    {
        early = Some(stopped_before_job(sig));
    }

    let code = match early {
        Some(code) => code,
        None => supervise(command, &signals, pid1, true),
    };

    if config.shutdown.applies_to(code) {
        Shutdown {
            port,
            token: config.token.as_deref(),
            budget: Duration::from_secs(config.shutdown_seconds.into()),
            force: config.force_shutdown,
            seen_up,
        }
        .run(&phase);
    } else {
        say!("shutdown skipped (policy {})", config.shutdown.as_str());
    }
    code
}

fn stopped_before_job(sig: libc::c_int) -> i32 {
    say!("got signal {sig} before the job started; not running the job");
    128 + sig
}

/// Exit code and log text for a command that could not be started.
fn cannot_run(cmd: &OsStr, e: &io::Error) -> i32 {
    let (code, why) = match e.kind() {
        io::ErrorKind::NotFound => (EXIT_NOT_FOUND, "not found".to_string()),
        io::ErrorKind::PermissionDenied => (EXIT_NOT_EXECUTABLE, "not executable".to_string()),
        _ => (EXIT_NOT_EXECUTABLE, format!("not executable ({e})")),
    };
    say!("cannot run {}: {why}", cmd.to_string_lossy());
    code
}

/// The job's `Command`, set up so that the job starts with an empty signal mask and default
/// signal dispositions ([`signals::reset_for_exec`] between `fork` and `execve`).
///
/// std does not reset the signal mask of a child (it only restores `SIGPIPE`, which the Rust
/// runtime ignores), and the wrapper blocks the signals it takes with `sigtimedwait`. Having a
/// `pre_exec` hook also makes std fork instead of using `posix_spawn`, whose glibc version
/// sets its internal signals to `SIG_IGN` in the child.
fn job_command(command: &[OsString]) -> Command {
    let mut cmd = Command::new(&command[0]);
    cmd.args(&command[1..]);
    // SAFETY: the hook only makes async-signal-safe system calls and allocates nothing.
    unsafe {
        cmd.pre_exec(signals::reset_for_exec);
    }
    cmd
}

/// Phase 1: run the command with no sidecar protocol. Normally the process becomes the command
/// (`exec`, as the shell's `exec "$@"`); as PID 1 it stays and supervises, so that orphans are
/// still reaped and signals still reach the job.
fn plain(command: &[OsString]) -> i32 {
    if signals::is_pid1() {
        return match Signals::block() {
            Ok(signals) => supervise(command, &signals, true, false),
            Err(e) => {
                say!("cannot block signals: {e}");
                EXIT_CONFIG
            }
        };
    }
    let e = job_command(command).exec();
    cannot_run(&command[0], &e)
}

/// Phase 3: spawns the job, forwards signals to it, reaps orphans when `pid1`, and returns its
/// exit code (128+N for signal N, 127/126 when it cannot start). With `report`, logs the
/// outcome.
fn supervise(command: &[OsString], signals: &Signals, pid1: bool, report: bool) -> i32 {
    let child = match job_command(command).spawn() {
        Ok(c) => c,
        Err(e) => return cannot_run(&command[0], &e),
    };
    let pid = child.id() as libc::pid_t;
    // The status is collected with waitpid below, never through `child`.
    drop(child);
    loop {
        if let Some(status) = signals::reap(pid, pid1) {
            if report {
                match status.signal() {
                    Some(sig) => say!("job killed by signal {sig}"),
                    None => say!("job exited with code {}", status.code()),
                }
            }
            return status.code();
        }
        // SIGCHLD wakes this up; the timeout is only a safety net.
        match signals.wait(Duration::from_secs(1)) {
            None | Some(libc::SIGCHLD) => {}
            Some(sig) => signals::send(pid, sig),
        }
    }
}
