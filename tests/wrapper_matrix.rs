//! The behaviour matrix of the in-pod wrapper contract (`docs/wrapper-contract.md`).
//!
//! Every case runs against every wrapper variant: the shell entrypoint under dash, bash and
//! busybox sh, each with curl and with only busybox wget on PATH, and the binary wrapper
//! (`daprjob exec`). A macro generates one `#[test]` per (variant, case), named
//! `<variant>::<case>`, so `cargo test --test wrapper_matrix binary` selects one variant.
//! The wrapper is executed the way the kubelet does it: an argv vector and an environment,
//! no shell re-parsing by the test. The sidecar is `FakeDaprd`, a stand-in for daprd.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};
use support::fake_daprd::{Behaviour, FakeDaprd};
use support::process::TempDir;

use daprjob::wrapper::shell;

const DASH: &str = "/usr/bin/dash";
const BASH: &str = "/usr/bin/bash";
const BUSYBOX: &str = "/usr/bin/busybox";
/// Hard bound on one wrapper run: past it the test kills the wrapper and fails.
const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// One way of running the wrapper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The shell entrypoint under `shell`, with curl on PATH (`false`: only busybox wget).
    Shell { shell: &'static str, curl: bool },
    /// `daprjob exec -- ARGV`.
    Binary,
}

/// PATH for the wget-only variants: a directory of symlinks to busybox applets, no curl.
fn wget_only_path() -> &'static str {
    static DIR: OnceLock<String> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("daprjob-matrix-wget-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for applet in [
            "wget", "sleep", "kill", "env", "date", "cat", "true", "printf", "sh",
        ] {
            let link = dir.join(applet);
            if !link.exists() {
                std::os::unix::fs::symlink(BUSYBOX, &link).unwrap();
            }
        }
        dir.to_str().unwrap().to_string()
    })
}

/// What one run of the wrapper did.
#[derive(Debug)]
struct Outcome {
    code: Option<i32>,
    stderr: String,
    elapsed: Duration,
}

/// Polled while the wrapper runs; true: send the signal now.
type Trigger = Box<dyn Fn() -> bool>;

/// One run: the job's argv, extra environment, stdin bytes, an optional signal.
struct Run {
    argv: Vec<String>,
    env: Vec<(String, String)>,
    path: Option<String>,
    stdin: Option<Vec<u8>>,
    cwd: Option<PathBuf>,
    /// Send this signal (by name) to the wrapper once `when` returns true.
    signal: Option<(&'static str, Trigger)>,
}

impl Run {
    fn new(argv: &[&str]) -> Run {
        Run {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
            path: None,
            stdin: None,
            cwd: None,
            signal: None,
        }
    }
    fn env(mut self, k: &str, v: impl ToString) -> Run {
        self.env.push((k.to_string(), v.to_string()));
        self
    }
    /// The usual settings for a run against `fake`, with small budgets.
    fn sidecar(self, fake: &FakeDaprd) -> Run {
        self.env("DAPR_HTTP_PORT", fake.port())
            .env("DAPRJOB_WAIT_SECONDS", 5)
            .env("DAPRJOB_SHUTDOWN_SECONDS", 3)
    }

    /// Execute like the kubelet: argv vector + environment (nothing else inherited).
    fn exec(self, v: Variant) -> Outcome {
        let mut cmd = match v {
            Variant::Shell { shell: sh, .. } => {
                let full = shell::container_command(&self.argv);
                assert_eq!(full[0], "/bin/sh");
                let mut c = if sh == BUSYBOX {
                    let mut c = Command::new(BUSYBOX);
                    c.arg("sh");
                    c
                } else {
                    Command::new(sh)
                };
                c.args(&full[1..]);
                c
            }
            Variant::Binary => {
                let mut c = Command::new(env!("CARGO_BIN_EXE_daprjob"));
                c.arg("exec").arg("--").args(&self.argv);
                c
            }
        };
        let path = self.path.clone().unwrap_or_else(|| match v {
            Variant::Shell { curl: false, .. } => wget_only_path().to_string(),
            _ => "/usr/local/bin:/usr/bin:/bin".to_string(),
        });
        cmd.env_clear()
            .env("PATH", path)
            .envs(self.env.iter().cloned());
        if let Some(d) = &self.cwd {
            cmd.current_dir(d);
        }
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        let start = Instant::now();
        let mut child = cmd.spawn().expect("spawn the wrapper");
        if let Some(bytes) = self.stdin.clone() {
            let mut stdin = child.stdin.take().unwrap();
            thread::spawn(move || {
                let _ = stdin.write_all(&bytes);
            });
        }
        // Read stderr on a thread: orphans may hold the pipe, so never block on its EOF.
        let err = Arc::new(Mutex::new(Vec::new()));
        let mut pipe = child.stderr.take().unwrap();
        let err2 = Arc::clone(&err);
        let reader = thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                err2.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let mut signal = self.signal;
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if start.elapsed() > RUN_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{v:?}: the wrapper did not finish within {RUN_TIMEOUT:?}; stderr:\n{}",
                    String::from_utf8_lossy(&err.lock().unwrap())
                );
            }
            if signal.as_ref().is_some_and(|(_, when)| when()) {
                let (name, _) = signal.take().unwrap();
                let ok = Command::new("/usr/bin/kill")
                    .args([&format!("-{name}"), &child.id().to_string()])
                    .status()
                    .unwrap();
                assert!(ok.success(), "kill -{name}");
            }
            thread::sleep(Duration::from_millis(10));
        };
        let elapsed = start.elapsed();
        let until = Instant::now() + Duration::from_secs(3);
        while !reader.is_finished() && Instant::now() < until {
            thread::sleep(Duration::from_millis(10));
        }
        let stderr = String::from_utf8_lossy(&err.lock().unwrap()).into_owned();
        eprintln!(
            "{v:?} exit {:?} in {elapsed:?}; stderr:\n{stderr}",
            status.code()
        );
        Outcome {
            code: status.code(),
            stderr,
            elapsed,
        }
    }
}

/// A job: `dash -c SCRIPT job ARGS...` (absolute path, so it does not depend on PATH).
fn job(script: &str, args: &[&str]) -> Vec<String> {
    let mut v = vec![DASH.to_string(), "-c".into(), script.into(), "job".into()];
    v.extend(args.iter().map(|s| s.to_string()));
    v
}

fn run_job(script: &str) -> Run {
    let argv = job(script, &[]);
    Run {
        argv,
        ..Run::new(&[])
    }
}

/// The wrapper shut the fake down (verified: it stopped listening).
fn assert_shut_down(fake: &FakeDaprd, out: &Outcome) {
    assert!(
        fake.is_stopped(),
        "sidecar still running; stderr:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("daprjob: sidecar shut down"),
        "no shutdown line:\n{}",
        out.stderr
    );
}

fn assert_log(out: &Outcome, needle: &str) {
    assert!(
        out.stderr.contains(needle),
        "stderr lacks {needle:?}:\n{}",
        out.stderr
    );
}

/// Minimal raw HTTP client for the stand-in's own tests: the status code, or `None`
/// when the connection fails.
fn raw(port: u16, method: &str, path: &str, headers: &[&str]) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n");
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_whitespace().nth(1)?.parse().ok()
}

mod fake_selftest {
    use super::*;

    #[test]
    fn ready_then_shutdown_stops_listening() {
        let f = FakeDaprd::start(Behaviour::default().ready_after_ms(300));
        assert_eq!(
            raw(f.port(), "GET", "/v1.0/healthz/outbound", &[]),
            Some(500)
        );
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(
            raw(f.port(), "GET", "/v1.0/healthz/outbound", &[]),
            Some(204)
        );
        assert_eq!(
            raw(f.port(), "POST", "/v1.0/shutdown", &["X-A: b"]),
            Some(204)
        );
        assert!(f.wait_stopped(Duration::from_secs(2)));
        assert_eq!(raw(f.port(), "GET", "/v1.0/healthz/outbound", &[]), None);
        let calls = f.shutdown_calls();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].header("x-a"), Some("b"));
    }

    #[test]
    fn misbehaviours() {
        let f = FakeDaprd::start(Behaviour::default().shutdown_500(1).shutdown_ignored(1));
        let p = f.port();
        assert_eq!(raw(p, "POST", "/v1.0/shutdown", &[]), Some(500));
        assert_eq!(raw(p, "POST", "/v1.0/shutdown", &[]), Some(204));
        assert!(!f.wait_stopped(Duration::from_millis(100)));
        assert_eq!(raw(p, "POST", "/v1.0/shutdown", &[]), Some(204));
        assert!(f.wait_stopped(Duration::from_secs(2)));

        let f = FakeDaprd::start(Behaviour::default().require_token("s3"));
        assert_eq!(raw(f.port(), "POST", "/v1.0/shutdown", &[]), Some(401));
        assert_eq!(
            raw(f.port(), "POST", "/v1.0/shutdown", &["dapr-api-token: s3"]),
            Some(204)
        );

        let f = FakeDaprd::start(Behaviour::default().shutdown_404());
        assert_eq!(raw(f.port(), "POST", "/v1.0/shutdown", &[]), Some(404));

        let f = FakeDaprd::start(Behaviour::default().shutdown_ignored(u32::MAX));
        assert_eq!(raw(f.port(), "POST", "/v1.0/shutdown", &[]), Some(204));
        assert_eq!(
            raw(
                f.port(),
                "POST",
                "/v1.0/shutdown",
                &["Dapr-Force-Shutdown: TRUE"]
            ),
            Some(204)
        );
        assert!(f.wait_stopped(Duration::from_secs(2)));

        let f = FakeDaprd::start(Behaviour::default().never_ready().shutdown_hangs());
        assert_eq!(
            raw(f.port(), "GET", "/v1.0/healthz/outbound", &[]),
            Some(500)
        );
        assert_eq!(raw(f.port(), "POST", "/v1.0/shutdown", &[]), None);
        assert_eq!(f.shutdown_calls()[0].status, None);
    }
}

/// The cases: each takes the variant it runs against.
mod cases {
    use super::*;

    /// Arguments that a shell would mangle if it re-parsed them.
    const NASTY: &[&str] = &[
        "it's",
        "\"double\"",
        "$(touch pwned)",
        "`touch pwned`",
        "line1\nline2",
        "*",
        "{a,b}",
        "",
        "$HOME",
        "${x:-y}",
        "back\\slash",
        " lead",
        "trail ",
        "-n",
        "--",
        ";|&<>",
        "~",
        "ümlaut",
    ];

    pub fn argv_is_exact(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default());
        let dir = TempDir::new("matrix").unwrap();
        // Files a glob would match, in the working directory.
        std::fs::write(dir.join("a"), "").unwrap();
        std::fs::write(dir.join("b"), "").unwrap();
        let out_file = dir.join("argv");
        let mut run = Run {
            argv: job(r#"printf '%s\0' "$@" > "$OUT""#, NASTY),
            ..Run::new(&[])
        }
        .sidecar(&fake)
        .env("OUT", out_file.display());
        run.cwd = Some(dir.path().to_path_buf());
        let out = run.exec(v);
        assert_eq!(out.code, Some(0));
        let got = std::fs::read(&out_file).expect("the job ran");
        let want: Vec<u8> = NASTY
            .iter()
            .flat_map(|a| [a.as_bytes(), b"\0"].concat())
            .collect();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want)
        );
        assert!(!dir.join("pwned").exists(), "an argument was executed");
        assert_shut_down(&fake, &out);
    }

    pub fn stdin_is_inherited(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default());
        let dir = TempDir::new("matrix").unwrap();
        let mut run = run_job(r#"read -r line; printf '%s' "$line" > "$OUT""#)
            .sidecar(&fake)
            .env("OUT", dir.join("in").display());
        run.stdin = Some(b"hello from stdin\n".to_vec());
        let out = run.exec(v);
        assert_eq!(out.code, Some(0));
        assert_eq!(
            std::fs::read_to_string(dir.join("in")).unwrap(),
            "hello from stdin"
        );
    }

    fn exit_code(v: Variant, code: i32) {
        let fake = FakeDaprd::start(Behaviour::default());
        let out = run_job(&format!("exit {code}")).sidecar(&fake).exec(v);
        assert_eq!(out.code, Some(code));
        assert_log(&out, &format!("daprjob: job exited with code {code}"));
        assert_log(&out, "daprjob: sidecar ready");
        assert_shut_down(&fake, &out);
        assert_eq!(fake.shutdown_calls().len(), 1);
    }
    pub fn exit_0(v: Variant) {
        exit_code(v, 0)
    }
    pub fn exit_1(v: Variant) {
        exit_code(v, 1)
    }
    pub fn exit_42(v: Variant) {
        exit_code(v, 42)
    }
    pub fn exit_255(v: Variant) {
        exit_code(v, 255)
    }

    pub fn not_found_127_still_shuts_down(v: Variant) {
        for cmd in ["/nonexistent/daprjob-cmd", "daprjob-no-such-cmd"] {
            let fake = FakeDaprd::start(Behaviour::default());
            let out = Run::new(&[cmd, "arg"]).sidecar(&fake).exec(v);
            assert_eq!(out.code, Some(127), "{cmd}");
            assert_log(&out, "not found");
            assert_shut_down(&fake, &out);
        }
    }

    pub fn not_executable_126_still_shuts_down(v: Variant) {
        let dir = TempDir::new("matrix").unwrap();
        let file = dir.join("not-executable");
        std::fs::write(&file, "#!/bin/sh\nexit 0\n").unwrap();
        let fake = FakeDaprd::start(Behaviour::default());
        let out = Run::new(&[file.to_str().unwrap()]).sidecar(&fake).exec(v);
        assert_eq!(out.code, Some(126));
        assert_log(&out, "not executable");
        assert_shut_down(&fake, &out);
    }

    pub fn signal_death_is_128_plus_n(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default());
        let out = run_job("kill -s KILL $$").sidecar(&fake).exec(v);
        assert_eq!(out.code, Some(128 + 9));
        assert_log(&out, "killed by signal 9");
        assert_shut_down(&fake, &out);
    }

    pub fn sigterm_is_forwarded_to_the_job(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default());
        let dir = TempDir::new("matrix").unwrap();
        let started = dir.join("started");
        let mut run = run_job(
            r#"trap 'exit 57' TERM; : > "$STARTED"; i=0; while [ $i -lt 200 ]; do /usr/bin/sleep 0.05; i=$((i+1)); done; exit 3"#,
        )
        .sidecar(&fake)
        .env("STARTED", started.display());
        let s = started.clone();
        run.signal = Some(("TERM", Box::new(move || s.exists())));
        let out = run.exec(v);
        assert_eq!(out.code, Some(57), "the job's trap decides the exit code");
        assert_shut_down(&fake, &out);
    }

    pub fn waits_until_ready(v: Variant) {
        let fake = Arc::new(FakeDaprd::start(Behaviour::default().ready_after_ms(1200)));
        let dir = TempDir::new("matrix").unwrap();
        let ran = dir.join("ran");
        // The test notes when the job's file first appears, on the fake's clock.
        let seen: Arc<Mutex<Option<Duration>>> = Arc::default();
        let mut run = run_job(r#": > "$RAN""#)
            .sidecar(&fake)
            .env("RAN", ran.display());
        let (f, s, r) = (Arc::clone(&fake), Arc::clone(&seen), ran.clone());
        // Never fires (returns false): only records the time the job first ran.
        run.signal = Some((
            "0",
            Box::new(move || {
                let mut s = s.lock().unwrap();
                if s.is_none() && r.exists() {
                    *s = Some(f.elapsed());
                }
                false
            }),
        ));
        let out = run.exec(v);
        assert_eq!(out.code, Some(0));
        assert!(ran.exists());
        if let Some(at) = *seen.lock().unwrap() {
            assert!(
                at >= Duration::from_millis(1200),
                "the job ran at {at:?}, before ready"
            );
        }
        let reqs = fake.requests();
        assert!(
            reqs.iter().any(|r| r.status == Some(500)),
            "polled before ready"
        );
        assert_log(&out, "daprjob: sidecar ready after");
        assert_shut_down(&fake, &out);
    }

    pub fn never_ready_is_bounded_69(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default().never_ready());
        let dir = TempDir::new("matrix").unwrap();
        let out = run_job(r#": > "$RAN""#)
            .sidecar(&fake)
            .env("DAPRJOB_WAIT_SECONDS", 1)
            .env("RAN", dir.join("ran").display())
            .exec(v);
        assert_eq!(out.code, Some(69));
        assert!(!dir.join("ran").exists(), "the job ran");
        assert_log(&out, "not ready");
        assert!(!fake.shutdown_calls().is_empty(), "shutdown not attempted");
        assert!(out.elapsed < Duration::from_secs(10), "{:?}", out.elapsed);
    }

    pub fn sigterm_during_wait_ends_it(v: Variant) {
        let fake = Arc::new(FakeDaprd::start(Behaviour::default().never_ready()));
        let dir = TempDir::new("matrix").unwrap();
        let mut run = run_job(r#": > "$RAN""#)
            .sidecar(&fake)
            .env("DAPRJOB_WAIT_SECONDS", 30)
            .env("RAN", dir.join("ran").display());
        let f = Arc::clone(&fake);
        run.signal = Some(("TERM", Box::new(move || f.healthz_calls() >= 2)));
        let out = run.exec(v);
        assert_eq!(out.code, Some(128 + 15));
        assert!(!dir.join("ran").exists(), "the job ran");
        assert!(!fake.shutdown_calls().is_empty(), "shutdown not attempted");
        assert!(out.elapsed < Duration::from_secs(15), "{:?}", out.elapsed);
    }

    pub fn token_header_sent(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default().require_token("s3cr3t 'x'"));
        let out = run_job("exit 0")
            .sidecar(&fake)
            .env("DAPR_API_TOKEN", "s3cr3t 'x'")
            .exec(v);
        assert_eq!(out.code, Some(0));
        let calls = fake.shutdown_calls();
        assert_eq!(calls[0].header("dapr-api-token"), Some("s3cr3t 'x'"));
        assert_shut_down(&fake, &out);
    }

    pub fn token_header_absent_without_token(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default());
        let out = run_job("exit 0").sidecar(&fake).exec(v);
        assert_eq!(out.code, Some(0));
        assert!(
            fake.requests()
                .iter()
                .all(|r| r.header("dapr-api-token").is_none())
        );
        assert_shut_down(&fake, &out);
    }

    pub fn shutdown_500_is_retried(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default().shutdown_500(2));
        let out = run_job("exit 4").sidecar(&fake).exec(v);
        assert_eq!(out.code, Some(4));
        assert_eq!(fake.shutdown_calls().len(), 3);
        assert_shut_down(&fake, &out);
    }

    pub fn shutdown_ignored_is_called_again(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default().shutdown_ignored(1));
        let out = run_job("exit 5")
            .sidecar(&fake)
            .env("DAPRJOB_SHUTDOWN_SECONDS", 10)
            .exec(v);
        assert_eq!(out.code, Some(5));
        let calls = fake.shutdown_calls();
        assert_eq!(calls.len(), 2);
        assert!(
            calls
                .iter()
                .all(|c| c.header("dapr-force-shutdown").is_none())
        );
        assert_shut_down(&fake, &out);
    }

    pub fn shutdown_never_answered_is_bounded(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default().shutdown_hangs());
        let out = run_job("exit 6")
            .sidecar(&fake)
            .env("DAPRJOB_SHUTDOWN_SECONDS", 2)
            .exec(v);
        assert_eq!(
            out.code,
            Some(6),
            "the job's code, whatever the shutdown did"
        );
        assert_log(&out, "daprjob: shutdown:");
        assert!(out.elapsed < Duration::from_secs(10), "{:?}", out.elapsed);
        assert!(!fake.is_stopped());
    }

    pub fn unauthorized_401_reported(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default().require_token("right"));
        let out = run_job("exit 0").sidecar(&fake).exec(v);
        assert_eq!(out.code, Some(0));
        assert_log(&out, "daprjob: shutdown:");
        assert_log(&out, "401");
        assert_log(&out, "token");
        assert_eq!(fake.shutdown_calls().len(), 1, "401 is final");
    }

    pub fn not_allowed_404_reported(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default().shutdown_404());
        let out = run_job("exit 0").sidecar(&fake).exec(v);
        assert_eq!(out.code, Some(0));
        assert_log(&out, "daprjob: shutdown:");
        assert_log(&out, "404");
        assert_log(&out, "allow-list");
        assert_eq!(fake.shutdown_calls().len(), 1, "404 is final");
    }

    pub fn plain_run_without_port(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default());
        let out = run_job("exit 7").exec(v);
        assert_eq!(out.code, Some(7));
        assert_log(&out, "daprjob: no DAPR_HTTP_PORT");
        assert!(fake.requests().is_empty());
    }

    pub fn disabled_runs_plainly(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default());
        let out = run_job("exit 8")
            .sidecar(&fake)
            .env("DAPRJOB_DISABLED", "TRUE")
            .exec(v);
        assert_eq!(out.code, Some(8));
        assert_log(&out, "DAPRJOB_DISABLED=true");
        assert!(fake.requests().is_empty(), "no HTTP when disabled");
    }

    pub fn on_success_shuts_down_after_0(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default());
        let out = run_job("exit 0")
            .sidecar(&fake)
            .env("DAPRJOB_SHUTDOWN", "on-success")
            .exec(v);
        assert_eq!(out.code, Some(0));
        assert_shut_down(&fake, &out);
    }

    pub fn on_success_skips_after_1(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default());
        let out = run_job("exit 1")
            .sidecar(&fake)
            .env("DAPRJOB_SHUTDOWN", "on-success")
            .exec(v);
        assert_eq!(out.code, Some(1));
        assert!(fake.shutdown_calls().is_empty());
        assert_log(&out, "daprjob: shutdown skipped");
    }

    pub fn shutdown_never(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default());
        let out = run_job("exit 0")
            .sidecar(&fake)
            .env("DAPRJOB_SHUTDOWN", "never")
            .exec(v);
        assert_eq!(out.code, Some(0));
        assert!(fake.shutdown_calls().is_empty());
        assert_log(&out, "daprjob: shutdown skipped");
    }

    /// Native sidecar mode renders `DAPRJOB_SHUTDOWN=never`: the wait still happens.
    pub fn native_mode_waits_never_shuts_down(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default().ready_after_ms(500));
        let out = run_job("exit 0")
            .sidecar(&fake)
            .env("DAPRJOB_SHUTDOWN", "never")
            .exec(v);
        assert_eq!(out.code, Some(0));
        assert!(
            fake.requests().iter().any(|r| r.status == Some(204)),
            "waited until ready"
        );
        assert!(fake.shutdown_calls().is_empty());
        assert!(!fake.is_stopped());
    }

    pub fn force_shutdown_when_ignored(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default().shutdown_ignored(u32::MAX));
        let out = run_job("exit 0")
            .sidecar(&fake)
            .env("DAPRJOB_FORCE_SHUTDOWN", "true")
            .env("DAPRJOB_SHUTDOWN_SECONDS", 3)
            .exec(v);
        assert_eq!(out.code, Some(0));
        let calls = fake.shutdown_calls();
        assert!(calls.len() >= 2, "{calls:?}");
        let last = calls.last().unwrap();
        assert_eq!(last.header("dapr-force-shutdown"), Some("true"));
        assert!(
            calls[..calls.len() - 1]
                .iter()
                .all(|c| c.header("dapr-force-shutdown").is_none())
        );
        assert_shut_down(&fake, &out);
    }

    pub fn bad_setting_is_78(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default());
        let dir = TempDir::new("matrix").unwrap();
        let out = run_job(r#": > "$RAN""#)
            .sidecar(&fake)
            .env("DAPRJOB_SHUTDOWN", "sometimes")
            .env("RAN", dir.join("ran").display())
            .exec(v);
        assert_eq!(out.code, Some(78));
        assert!(!dir.join("ran").exists());
        assert!(fake.requests().is_empty());
    }

    /// A token with a line break (a Secret made from a file with a trailing newline) can
    /// never authorise the shutdown: both wrappers stop before the job, with a clear 78.
    pub fn token_with_line_break_is_78(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default());
        let dir = TempDir::new("matrix").unwrap();
        let out = run_job(r#": > "$RAN""#)
            .sidecar(&fake)
            .env("DAPR_API_TOKEN", "s3cret\n")
            .env("RAN", dir.join("ran").display())
            .exec(v);
        assert_eq!(out.code, Some(78), "{}", out.stderr);
        assert_log(&out, "line break");
        assert!(!dir.join("ran").exists());
        assert!(fake.requests().is_empty());
    }

    /// No curl, no wget: the shell wrapper stops before the job (78); the binary wrapper
    /// needs neither and runs the job.
    pub fn no_http_client(v: Variant) {
        let fake = FakeDaprd::start(Behaviour::default());
        let mut run = run_job("exit 9").sidecar(&fake);
        run.path = Some("/nonexistent".into());
        let out = run.exec(v);
        if v == Variant::Binary {
            assert_eq!(out.code, Some(9));
            assert_shut_down(&fake, &out);
        } else {
            assert_eq!(out.code, Some(78));
            assert_log(&out, "curl");
            assert!(fake.requests().is_empty());
        }
    }
}

/// One `#[test]` per case in a module named after the variant.
macro_rules! variant {
    ($name:ident, $v:expr, [$($case:ident),* $(,)?]) => {
        mod $name {
            use super::*;
            $(
                #[test]
                fn $case() {
                    cases::$case($v)
                }
            )*
        }
    };
}

macro_rules! matrix {
    ([$($name:ident => $v:expr),* $(,)?], $cases:tt) => {
        $( variant!($name, $v, $cases); )*
    };
}

matrix!(
    [
        dash_curl => Variant::Shell { shell: DASH, curl: true },
        dash_wget => Variant::Shell { shell: DASH, curl: false },
        bash_curl => Variant::Shell { shell: BASH, curl: true },
        bash_wget => Variant::Shell { shell: BASH, curl: false },
        busybox_curl => Variant::Shell { shell: BUSYBOX, curl: true },
        busybox_wget => Variant::Shell { shell: BUSYBOX, curl: false },
        binary => Variant::Binary,
    ],
    [
        argv_is_exact,
        stdin_is_inherited,
        exit_0,
        exit_1,
        exit_42,
        exit_255,
        not_found_127_still_shuts_down,
        not_executable_126_still_shuts_down,
        signal_death_is_128_plus_n,
        sigterm_is_forwarded_to_the_job,
        waits_until_ready,
        never_ready_is_bounded_69,
        sigterm_during_wait_ends_it,
        token_header_sent,
        token_header_absent_without_token,
        shutdown_500_is_retried,
        shutdown_ignored_is_called_again,
        shutdown_never_answered_is_bounded,
        unauthorized_401_reported,
        not_allowed_404_reported,
        plain_run_without_port,
        disabled_runs_plainly,
        on_success_shuts_down_after_0,
        on_success_skips_after_1,
        shutdown_never,
        native_mode_waits_never_shuts_down,
        force_shutdown_when_ignored,
        bad_setting_is_78,
        token_with_line_break_is_78,
        no_http_client,
    ]
);

/// Properties of the rendered script itself.
mod script {
    use super::*;

    #[test]
    fn shellcheck_clean() {
        let dir = TempDir::new("matrix").unwrap();
        let file = dir.join("entrypoint.sh");
        std::fs::write(&file, shell::entrypoint_script()).unwrap();
        let out = Command::new("shellcheck")
            .args(["-s", "sh"])
            .arg(&file)
            .output()
            .expect("shellcheck is required for this test (apt-get install shellcheck)");
        assert!(
            out.status.success(),
            "shellcheck -s sh found problems:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn constant_and_not_html_escaped() {
        let s = shell::entrypoint_script();
        for entity in [
            "&amp;", "&lt;", "&gt;", "&quot;", "&#x27;", "&#x60;", "&#x3D;",
        ] {
            assert!(!s.contains(entity), "HTML entity {entity} in the script");
        }
        assert!(!s.contains("{{"), "unrendered template expression");
        assert_eq!(
            s,
            shell::compact(&shell::render_entrypoint().unwrap()),
            "rendering is deterministic"
        );
        // The argv only follows the script: it never changes its text.
        let a = shell::container_command(&["x".into()]);
        let b = shell::container_command(&["$(y)".into(), "'".into()]);
        assert_eq!(a[2], b[2]);
        assert_eq!(a[2], s);
    }
}
