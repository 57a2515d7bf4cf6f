//! What only the binary wrapper (`daprjob exec`, `daprjob install`) has, beyond the shared
//! behaviour matrix (`tests/wrapper_matrix.rs`): PID-1 duties, flags and their precedence over
//! the environment, signal handling in the phases where the shell cannot, the child's signal
//! state, and `install`.

mod support;

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use std::thread;
use std::time::{Duration, Instant};

use support::fake_daprd::{Behaviour, FakeDaprd};
use support::process::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_daprjob");
const SH: &str = "/bin/sh";

/// `daprjob ARGS` with exactly `env` (plus a PATH), stdin closed.
fn daprjob(args: &[&str], env: &[(&str, String)]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    c
}

/// Settings for a supervised run with no HTTP at all: a port, no wait, no shutdown.
fn no_http() -> Vec<(&'static str, String)> {
    vec![
        ("DAPR_HTTP_PORT", "1".into()),
        ("DAPRJOB_WAIT_SECONDS", "0".into()),
        ("DAPRJOB_SHUTDOWN", "never".into()),
    ]
}

/// Runs to completion, bounded: a wrapper that hangs fails the test instead of the suite.
fn output(mut cmd: Command) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn daprjob");
    finish(child, Duration::from_secs(30))
}

fn finish(mut child: Child, bound: Duration) -> Output {
    let start = Instant::now();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let o = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let e = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > bound {
            let _ = child.kill();
            let _ = child.wait();
            panic!("daprjob did not finish within {bound:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    let output = Output {
        status,
        stdout: o.join().unwrap(),
        stderr: e.join().unwrap(),
    };
    eprintln!(
        "exit {:?}; stderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{path:?} never appeared"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

fn kill(pid: u32, sig: libc::c_int) {
    // SAFETY: plain kill(2).
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, sig) }, 0);
}

// ---- PID 1 ----------------------------------------------------------------------------------

/// `unshare --pid --fork --mount-proc`: the wrapper becomes PID 1 of a new PID namespace.
fn as_pid1(args: &[&str], env: &[(&str, String)]) -> Command {
    let probe = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .status();
    assert!(
        matches!(probe, Ok(s) if s.success()),
        "this test needs `unshare --pid --fork --mount-proc` (util-linux, as root)"
    );
    let mut c = Command::new("unshare");
    c.args(["--pid", "--fork", "--mount-proc", "--", BIN])
        .args(args)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    c
}

/// A job that leaves an orphan behind: a subshell starts `sleep 0.2` in the background and
/// exits, so the sleep is reparented to PID 1 and becomes a zombie when it ends, unless PID 1
/// reaps it. After a second the job writes how many zombies the namespace holds, and its own
/// PID.
const ORPHAN_JOB: &str = r#"
echo "$$" > "$OUT/pid"
( /bin/sleep 0.2 & )
/bin/sleep 1
n=0
for f in /proc/[0-9]*/status; do
  if grep -q '^State:[[:space:]]*Z' "$f" 2>/dev/null; then n=$((n+1)); fi
done
echo "$n" > "$OUT/zombies"
exit 5
"#;

fn reaps_orphans(env: Vec<(&str, String)>) {
    let dir = TempDir::new("exec").unwrap();
    let mut env = env;
    env.push(("OUT", dir.path().display().to_string()));
    let out = output(as_pid1(&["exec", "--", SH, "-c", ORPHAN_JOB], &env));
    assert_eq!(
        out.status.code(),
        Some(5),
        "the job's own code through PID 1"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("pid")).unwrap().trim(),
        "2",
        "the job was PID 2, so the wrapper was PID 1"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("zombies")).unwrap().trim(),
        "0",
        "an orphan was left a zombie"
    );
}

#[test]
fn pid1_reaps_orphans_with_a_sidecar() {
    reaps_orphans(no_http())
}

#[test]
fn pid1_reaps_orphans_without_a_sidecar() {
    // Plain mode: as PID 1 the wrapper supervises instead of exec'ing, to keep reaping.
    reaps_orphans(vec![])
}

/// A PID 1 with no handler would never see a signal sent from inside its namespace; blocked
/// signals are still queued, so the wrapper forwards them.
#[test]
fn pid1_forwards_signals_sent_from_inside() {
    let job = r#"trap 'exit 44' USR1; kill -USR1 1; i=0; while [ $i -lt 100 ]; do /bin/sleep 0.05; i=$((i+1)); done; exit 3"#;
    let out = output(as_pid1(&["exec", "--", SH, "-c", job], &no_http()));
    assert_eq!(out.status.code(), Some(44));
}

// ---- signals ----------------------------------------------------------------------------------

#[test]
fn sigkill_of_the_job_is_137() {
    let dir = TempDir::new("exec").unwrap();
    let pidfile = dir.join("pid");
    let mut env = no_http();
    env.push(("PIDFILE", pidfile.display().to_string()));
    let mut cmd = daprjob(
        &[
            "exec",
            "--",
            SH,
            "-c",
            r#"echo $$ > "$PIDFILE.tmp"; mv "$PIDFILE.tmp" "$PIDFILE"; exec /bin/sleep 30"#,
        ],
        &env,
    );
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    wait_for(&pidfile);
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    kill(pid, libc::SIGKILL);
    let out = finish(child, Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(137));
    assert!(stderr(&out).contains("daprjob: job killed by signal 9"));
}

/// Every forwarded signal reaches the job and none of them kills the wrapper.
#[test]
fn every_forwarded_signal_reaches_the_job() {
    for (name, sig) in [
        ("TERM", libc::SIGTERM),
        ("INT", libc::SIGINT),
        ("HUP", libc::SIGHUP),
        ("QUIT", libc::SIGQUIT),
        ("USR1", libc::SIGUSR1),
        ("USR2", libc::SIGUSR2),
    ] {
        let dir = TempDir::new("exec").unwrap();
        let ready = dir.join("ready");
        let mut env = no_http();
        env.push(("READY", ready.display().to_string()));
        let job = format!(
            r#"trap 'exit {sig}' {name}; : > "$READY"; i=0; while [ $i -lt 200 ]; do /bin/sleep 0.05; i=$((i+1)); done; exit 3"#
        );
        let mut cmd = daprjob(&["exec", "--", "bash", "-c", &job], &env);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = cmd.spawn().unwrap();
        wait_for(&ready);
        kill(child.id(), sig);
        let out = finish(child, Duration::from_secs(15));
        assert_eq!(
            out.status.code(),
            Some(sig),
            "SIG{name}: the job's trap decides"
        );
    }
}

/// The job starts with an empty signal mask and nothing ignored, although the wrapper blocks
/// signals (and its own parent may have blocked or ignored some).
#[test]
fn the_job_starts_with_clean_signal_state() {
    for env in [no_http(), vec![]] {
        let mut cmd = daprjob(
            &[
                "exec",
                "--",
                "grep",
                "-E",
                "^Sig(Blk|Ign)",
                "/proc/self/status",
            ],
            &env,
        );
        // SAFETY: async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGUSR2);
                libc::sigaddset(&mut set, libc::SIGTERM);
                libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
                libc::signal(libc::SIGINT, libc::SIG_IGN);
                libc::signal(libc::SIGPIPE, libc::SIG_IGN);
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                libc::signal(40, libc::SIG_IGN);
                Ok(())
            });
        }
        let out = output(cmd);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            text, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n",
            "with env {env:?}"
        );
    }
}

/// SIGUSR1/SIGUSR2 while waiting neither kill the wrapper nor end the wait.
#[test]
fn usr1_during_the_wait_is_ignored() {
    let fake = FakeDaprd::start(Behaviour::default().never_ready());
    let env = vec![("DAPR_HTTP_PORT", fake.port().to_string())];
    let mut cmd = daprjob(
        &[
            "exec",
            "--wait-seconds",
            "2",
            "--shutdown-seconds",
            "1",
            "--",
            "true",
        ],
        &env,
    );
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    while fake.healthz_calls() < 2 {
        thread::sleep(Duration::from_millis(10));
    }
    kill(child.id(), libc::SIGUSR1);
    kill(child.id(), libc::SIGUSR2);
    kill(child.id(), libc::SIGHUP);
    let out = finish(child, Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(69));
    assert!(stderr(&out).contains("not ready after 2s"));
}

/// A signal during the shutdown phase neither kills the wrapper nor changes the exit code;
/// the phase stays bounded.
#[test]
fn sigterm_during_a_hanging_shutdown() {
    let fake = FakeDaprd::start(Behaviour::default().shutdown_hangs());
    let env = vec![("DAPR_HTTP_PORT", fake.port().to_string())];
    let mut cmd = daprjob(
        &["exec", "--shutdown-seconds", "3", "--", SH, "-c", "exit 6"],
        &env,
    );
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let child = cmd.spawn().unwrap();
    while fake.shutdown_calls().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(10));
        thread::sleep(Duration::from_millis(10));
    }
    kill(child.id(), libc::SIGTERM);
    kill(child.id(), libc::SIGINT);
    let out = finish(child, Duration::from_secs(15));
    assert_eq!(out.status.code(), Some(6));
    assert!(stderr(&out).contains("daprjob: shutdown:"));
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
}

/// A broken stderr never changes the outcome (logging cannot abort the wrapper).
#[test]
fn closed_stderr_is_harmless() {
    let mut cmd = daprjob(&["exec", "--", SH, "-c", "exit 9 2>/dev/null"], &no_http());
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    // SAFETY: close(2) between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::close(2);
            Ok(())
        });
    }
    assert_eq!(cmd.status().unwrap().code(), Some(9));
}

// ---- flags --------------------------------------------------------------------------------------

#[test]
fn flags_override_the_environment() {
    // The environment says: a port with nothing on it, wait 30 s, always shut down.
    let fake = FakeDaprd::start(Behaviour::default());
    let env = vec![
        ("DAPR_HTTP_PORT", "1".to_string()),
        ("DAPRJOB_WAIT_SECONDS", "30".into()),
        ("DAPRJOB_SHUTDOWN", "always".into()),
        ("DAPRJOB_DISABLED", "true".into()),
    ];
    let port = fake.port().to_string();
    let out = output(daprjob(
        &[
            "exec",
            "--disabled=false",
            "--dapr-http-port",
            &port,
            "--wait-seconds=3",
            "--shutdown",
            "never",
            "--",
            SH,
            "-c",
            "exit 12",
        ],
        &env,
    ));
    assert_eq!(out.status.code(), Some(12));
    let err = stderr(&out);
    assert!(
        err.contains("daprjob: sidecar ready after"),
        "the flag's port was used"
    );
    assert!(err.contains("shutdown skipped (policy never)"));
    assert!(fake.shutdown_calls().is_empty());

    // And the other way round: flags switch things on that the environment left off.
    let fake = FakeDaprd::start(Behaviour::default().shutdown_ignored(u32::MAX));
    let env = vec![("DAPR_HTTP_PORT", fake.port().to_string())];
    let out = output(daprjob(
        &[
            "exec",
            "--force-shutdown",
            "--shutdown-seconds",
            "2",
            "--",
            "true",
        ],
        &env,
    ));
    assert_eq!(out.status.code(), Some(0));
    let calls = fake.shutdown_calls();
    assert_eq!(
        calls.last().unwrap().header("dapr-force-shutdown"),
        Some("true")
    );
    assert!(fake.is_stopped());

    // --disabled over a sidecar in the environment: no HTTP at all.
    let fake = FakeDaprd::start(Behaviour::default());
    let env = vec![("DAPR_HTTP_PORT", fake.port().to_string())];
    let out = output(daprjob(
        &["exec", "--disabled", "--", SH, "-c", "exit 4"],
        &env,
    ));
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("DAPRJOB_DISABLED=true"));
    assert!(fake.requests().is_empty());
}

#[test]
fn a_valid_flag_shadows_a_bad_variable() {
    let env = vec![("DAPRJOB_WAIT_SECONDS", "soon".to_string())];
    let out = output(daprjob(
        &["exec", "--wait-seconds", "0", "--", "true"],
        &env,
    ));
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn bad_flags_and_values_are_78_and_nothing_runs() {
    let dir = TempDir::new("exec").unwrap();
    let ran = dir.join("ran");
    let job = format!(": > {}", ran.display());
    for (args, env) in [
        (vec!["--wait-seconds", "ten"], vec![]),
        (vec!["--wait-seconds", "1234567"], vec![]),
        (vec!["--wait-seconds"], vec![]),
        (vec!["--shutdown", "sometimes"], vec![]),
        (vec!["--shutdown-seconds=-1"], vec![]),
        (vec!["--force-shutdown=yes"], vec![]),
        (vec!["--disabled=2"], vec![]),
        (vec!["--dapr-http-port", "70000"], vec![]),
        (vec!["--no-such-flag"], vec![]),
        (vec![], vec![("DAPRJOB_FORCE_SHUTDOWN", "on")]),
        (vec![], vec![("DAPR_HTTP_PORT", "http")]),
    ] {
        let mut argv = vec!["exec"];
        argv.extend(&args);
        argv.extend(["--", SH, "-c", &job]);
        let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let out = output(daprjob(&argv, &env));
        assert_eq!(out.status.code(), Some(78), "{args:?} {env:?}");
        assert!(stderr(&out).starts_with("daprjob: "), "{args:?}");
        assert!(!ran.exists(), "the job ran with {args:?} {env:?}");
    }
    for argv in [
        vec!["exec"],
        vec!["exec", "--"],
        vec!["exec", "--shutdown", "never"],
    ] {
        let out = output(daprjob(&argv, &[]));
        assert_eq!(out.status.code(), Some(78), "{argv:?}");
        assert!(stderr(&out).contains("no command"), "{argv:?}");
    }
}

#[test]
fn help_and_version() {
    let out = output(daprjob(&["exec", "--help"], &[]));
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--wait-seconds",
        "--shutdown ",
        "--shutdown-seconds",
        "--force-shutdown",
        "--dapr-http-port",
        "--disabled",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
    // After `--`, -h belongs to the job.
    let out = output(daprjob(&["exec", "--", "echo", "-h"], &[]));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "-h\n");

    let out = output(daprjob(&["--version"], &[]));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("daprjob {}\n", env!("CARGO_PKG_VERSION"))
    );
}

// ---- install -------------------------------------------------------------------------------

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn install_into_a_directory() {
    let dir = TempDir::new("exec").unwrap();
    let out = output(daprjob(&["install", dir.path().to_str().unwrap()], &[]));
    assert_eq!(out.status.code(), Some(0));
    let installed = dir.join("daprjob");
    assert!(stderr(&out).contains(&format!("installed {}", installed.display())));
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        std::fs::read(BIN).unwrap()
    );
    assert_eq!(mode(&installed), 0o755);
    // Only the binary: no temporary file left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["daprjob"]);
    // It runs.
    let v = Command::new(&installed).arg("--version").output().unwrap();
    assert!(v.status.success());
}

#[test]
fn install_to_a_file_path_replaces_it() {
    let dir = TempDir::new("exec").unwrap();
    let target = dir.join("wrapper");
    std::fs::write(&target, "old").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = output(daprjob(&["install", target.to_str().unwrap()], &[]));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read(&target).unwrap(), std::fs::read(BIN).unwrap());
    assert_eq!(mode(&target), 0o755);
}

#[test]
fn install_errors() {
    let dir = TempDir::new("exec").unwrap();
    let missing = dir.join("no/such/dir/");
    let out = output(daprjob(&["install", missing.to_str().unwrap()], &[]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("daprjob: install:"),
        "{}",
        stderr(&out)
    );
    let under_missing = dir.join("nodir/daprjob");
    let out = output(daprjob(&["install", under_missing.to_str().unwrap()], &[]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("does not exist"));
    for argv in [
        vec!["install"],
        vec!["install", "a", "b"],
        vec!["install", "--bogus"],
    ] {
        let out = output(daprjob(&argv, &[]));
        assert_eq!(out.status.code(), Some(2), "{argv:?}");
    }
}
