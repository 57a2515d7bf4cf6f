//! The rendered wrapper against a REAL daprd (standalone, on loopback), not the stand-in.
//!
//! Each test renders a `DaprJob` with the real CLI (`daprjob render -f -`), takes the job
//! container's `command` and `env` (the `secretKeyRef` of the API token resolved here, as the
//! kubelet would), sets `DAPR_HTTP_PORT`/`DAPR_GRPC_PORT` the way Dapr's injector would, and runs
//! it: shell mode under dash and under busybox sh (in place of `/bin/sh`), binary mode with the
//! built binary in place of `/.daprjob/daprjob`. Every case runs for the three wrappers (see
//! `each_wrapper!` at the end).
//!
//! The job is a small sh script: it records when it starts, asks daprd's
//! `/v1.0/healthz/outbound` itself (it must already be 204), records when it ends, and exits
//! with the code it is given. The test watches the wrapper and daprd together (5 ms polling) and
//! prints, with `--nocapture`, the time from wrapper start to job start and from job end to
//! daprd exit.
//!
//! Needs the test bed (`scripts/testbed install`): a missing daprd, dash or busybox fails.

mod support;

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use support::cli::{JobContainer, render_job_container};
use support::daprd::{Daprd, DaprdOptions, Release};
use support::process::{TempDir, die_with_parent};
use support::tools::on_path;

/// The content of the Secret named by `dapr.apiTokenSecret` (key `token`).
const TOKEN: &str = "real-daprd s3cr3t token";
const SECRET_NAME: &str = "dapr-api-token";
/// `wrapper.waitSeconds` and `wrapper.shutdownSeconds` of every rendered Job.
const WAIT_SECONDS: u64 = 20;
const SHUTDOWN_SECONDS: u64 = 10;
/// How long daprd may take to exit after the job ended.
const DAPRD_EXIT_BOUND: Duration = Duration::from_secs(20);
/// How long daprd is watched after the wrapper exits when it must stay up.
const STAYS_UP_SETTLE: Duration = Duration::from_secs(2);
/// Slack on top of the wrapper's own bounds before the test gives up on it.
const SLACK: Duration = Duration::from_secs(30);

/// The job: record the start, ask daprd whether it is ready, record the end, exit with `$1`.
const JOB_SCRIPT: &str = r#"date +%s%N > "$OUT/job-start"
curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 5 \
  "http://127.0.0.1:$DAPR_HTTP_PORT/v1.0/healthz/outbound" > "$OUT/healthz"
date +%s%N > "$OUT/job-end"
exit "$1""#;

#[derive(Debug, Clone, Copy)]
enum Wrapper {
    Dash,
    BusyboxSh,
    Binary,
}

impl Wrapper {
    fn mode(self) -> &'static str {
        match self {
            Wrapper::Dash | Wrapper::BusyboxSh => "shell",
            Wrapper::Binary => "binary",
        }
    }

    /// What the renderer puts in `command[0]`.
    fn rendered_program(self) -> &'static str {
        match self {
            Wrapper::Dash | Wrapper::BusyboxSh => "/bin/sh",
            Wrapper::Binary => "/.daprjob/daprjob",
        }
    }

    /// What runs in its place here.
    fn program(self) -> Vec<String> {
        let path = |p: std::path::PathBuf| p.to_string_lossy().into_owned();
        match self {
            Wrapper::Dash => vec![path(on_path("dash"))],
            Wrapper::BusyboxSh => vec![path(on_path("busybox")), "sh".to_string()],
            Wrapper::Binary => vec![env!("CARGO_BIN_EXE_daprjob").to_string()],
        }
    }
}

/// One run of a rendered job container against a real daprd.
#[derive(Debug, Clone)]
struct Case {
    name: &'static str,
    wrapper: Wrapper,
    release: Release,
    /// `dapr.nativeSidecar: true` (the renderer then sets `DAPRJOB_SHUTDOWN=never`).
    native: bool,
    /// daprd runs with `DAPR_API_TOKEN` and the DaprJob has `dapr.apiTokenSecret`.
    token: bool,
    /// Remove `DAPR_API_TOKEN` from the job container's environment.
    strip_token: bool,
    job_exit: i32,
    /// Start daprd and the wrapper at the same moment (else daprd is ready first).
    start_together: bool,
    /// daprd must exit after the job (else it must still be running).
    expect_daprd_exit: bool,
}

impl Case {
    fn new(name: &'static str, wrapper: Wrapper) -> Case {
        Case {
            name,
            wrapper,
            release: Release::Current,
            native: false,
            token: false,
            strip_token: false,
            job_exit: 0,
            start_together: false,
            expect_daprd_exit: true,
        }
    }

    fn label(&self) -> String {
        let release = match self.release {
            Release::Current => "daprd 1.18.2",
            Release::Old => "daprd 1.16.5",
            Release::Path(_) => "daprd (other)",
        };
        format!("{} [{:?}, {release}]", self.name, self.wrapper)
    }

    fn daprjob(&self, out: &Path) -> Value {
        let mut dapr = json!({ "appId": "real-daprd" });
        if self.token {
            dapr["apiTokenSecret"] = json!(SECRET_NAME);
        }
        if self.native {
            dapr["nativeSidecar"] = json!(true);
        }
        let mut wrapper = json!({
            "mode": self.wrapper.mode(),
            "waitSeconds": WAIT_SECONDS,
            "shutdownSeconds": SHUTDOWN_SECONDS,
        });
        if self.wrapper.mode() == "binary" {
            // The init container's image; here the built binary stands in for its copy.
            wrapper["image"] = json!("registry.example.com/daprjob:0.1.0");
        }
        json!({
            "apiVersion": "daprjob.dev/v1alpha1",
            "kind": "DaprJob",
            "metadata": { "name": "real-daprd" },
            "spec": {
                "dapr": dapr,
                "wrapper": wrapper,
                "activeDeadlineSeconds": 120,
                "template": { "spec": { "containers": [{
                    "name": "job",
                    "image": "any",
                    "command": ["/bin/sh", "-c", JOB_SCRIPT, "job"],
                    "args": [self.job_exit.to_string()],
                    "env": [{ "name": "OUT", "value": out.to_str().expect("utf-8 temp dir") }],
                }]}},
            },
        })
    }

    /// `daprjob render -f -`, then the job container's command and env, the Secret resolved.
    fn render(&self, out: &Path) -> (Vec<String>, Vec<(String, String)>) {
        let input = serde_json::to_string_pretty(&self.daprjob(out)).unwrap();
        let JobContainer { job, command, env } =
            render_job_container(&input, &[], "job", |name, key| {
                assert_eq!((name, key), (SECRET_NAME, "token"));
                TOKEN.to_string()
            });
        if self.native {
            assert_eq!(
                job["spec"]["template"]["metadata"]["annotations"]["dapr.io/enable-native-sidecar"],
                "true"
            );
        }
        assert_eq!(command[0], self.wrapper.rendered_program(), "{command:?}");
        let has_token = env.iter().any(|(k, _)| k == "DAPR_API_TOKEN");
        assert_eq!(has_token, self.token, "DAPR_API_TOKEN in {env:?}");
        let policy = env.iter().find(|(k, _)| k == "DAPRJOB_SHUTDOWN");
        let want = if self.native { "never" } else { "always" };
        assert_eq!(policy.map(|(_, v)| v.as_str()), Some(want), "{env:?}");
        (command, env)
    }

    fn start_daprd(&self, wait_ready: bool) -> Daprd {
        Daprd::start(DaprdOptions {
            release: self.release.clone(),
            app_id: "real-daprd".to_string(),
            api_token: self.token.then(|| TOKEN.to_string()),
            wait_ready,
            // Started together with the wrapper: daprd begins 1 s later, so the wrapper
            // certainly meets a sidecar that is not ready yet, even on a loaded machine.
            start_delay: (!wait_ready).then(|| Duration::from_secs(1)),
            ..DaprdOptions::default()
        })
    }

    /// Render, start daprd (ready first, or together with the wrapper), run the job container,
    /// watch both until the wrapper has exited and daprd has exited or had its chance to.
    fn run(&self) -> Run {
        let dir = TempDir::new("real-daprd").expect("temp dir");
        let (command, mut env) = self.render(dir.path());
        if self.strip_token {
            env.retain(|(k, _)| k != "DAPR_API_TOKEN");
        }

        let daprd = self.start_daprd(!self.start_together);
        // What Dapr's injector gives the app container, minus the token: that comes from the
        // rendered env (the Secret), or not at all.
        let injected: Vec<(String, String)> = daprd
            .app_env()
            .into_iter()
            .filter(|(k, _)| k != "DAPR_API_TOKEN")
            .collect();

        let mut argv = self.wrapper.program();
        argv.extend(command[1..].iter().cloned());
        let stderr_path = dir.path().join("wrapper.stderr");
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .envs(injected)
            .envs(env)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.path().join("wrapper.stdout")).unwrap())
            .stderr(std::fs::File::create(&stderr_path).unwrap());
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        die_with_parent(&mut cmd);

        let wrapper_start = SystemTime::now();
        let started = Instant::now();
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {argv:?}: {e}"));
        let mut wrapper = Guard(Some(child));

        // With both started together the test only proves something if daprd was not ready
        // yet when the wrapper started: ask now (after both spawns).
        let ready_at_spawn = self.start_together
            && daprd
                .get("/v1.0/healthz/outbound")
                .is_ok_and(|r| r.status == 204);

        // Watch both; the wrapper is bounded by its own budgets plus slack.
        let wrapper_limit = Duration::from_secs(WAIT_SECONDS + SHUTDOWN_SECONDS) + SLACK;
        let mut daprd_exit: Option<(SystemTime, ExitStatus)> = None;
        let (status, wrapper_exit) = loop {
            if daprd_exit.is_none()
                && let Some(s) = daprd.try_status()
            {
                daprd_exit = Some((SystemTime::now(), s));
            }
            if let Some(s) = wrapper.try_wait() {
                break (s, SystemTime::now());
            }
            if started.elapsed() > wrapper_limit {
                wrapper.kill();
                panic!(
                    "{}: the wrapper did not finish within {wrapper_limit:?}\n{}\n{}",
                    self.label(),
                    read(&stderr_path),
                    daprd.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let stderr = read(&stderr_path);
        let timestamp = |name: &str| -> Option<SystemTime> {
            let text = std::fs::read_to_string(dir.path().join(name)).ok()?;
            let ns: u64 = text.trim().parse().ok()?;
            Some(UNIX_EPOCH + Duration::from_nanos(ns))
        };
        let job_start = timestamp("job-start");
        let job_end = timestamp("job-end");
        let healthz = std::fs::read_to_string(dir.path().join("healthz")).ok();

        // Then daprd: it must go away within the bound after the job ended, or stay up.
        let watch_until = if self.expect_daprd_exit {
            let from = job_end.unwrap_or(wrapper_exit);
            let waited = SystemTime::now().duration_since(from).unwrap_or_default();
            Instant::now() + DAPRD_EXIT_BOUND.saturating_sub(waited)
        } else {
            Instant::now() + STAYS_UP_SETTLE
        };
        while daprd_exit.is_none() && Instant::now() < watch_until {
            if let Some(s) = daprd.try_status() {
                daprd_exit = Some((SystemTime::now(), s));
            }
            std::thread::sleep(Duration::from_millis(5));
        }

        Run {
            label: self.label(),
            daprd,
            status,
            stderr,
            healthz,
            ready_at_spawn,
            wrapper_start,
            job_start,
            job_end,
            wrapper_exit,
            daprd_exit,
            _dir: dir,
        }
    }
}

/// The wrapper, in its own process group: killed with its job if the test gives up on it.
struct Guard(Option<Child>);

impl Guard {
    fn try_wait(&mut self) -> Option<ExitStatus> {
        let child = self.0.as_mut()?;
        let status = child.try_wait().expect("waiting for the wrapper")?;
        self.0 = None;
        Some(status)
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.0.take() {
            // Still unreaped: the pid (and so the group id) cannot have been reused.
            // SAFETY: kill(2) with a negative pid signals that process group.
            unsafe {
                libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
            }
            let _ = child.wait();
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.kill();
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| format!("(cannot read {}: {e})", path.display()))
}

fn ms(from: SystemTime, to: SystemTime) -> String {
    match to.duration_since(from) {
        Ok(d) => format!("{} ms", d.as_millis()),
        Err(e) => format!("-{} ms", e.duration().as_millis()),
    }
}

struct Run {
    label: String,
    daprd: Daprd,
    status: ExitStatus,
    stderr: String,
    /// What the job itself got from `/v1.0/healthz/outbound` (`000`: no answer).
    healthz: Option<String>,
    ready_at_spawn: bool,
    wrapper_start: SystemTime,
    job_start: Option<SystemTime>,
    job_end: Option<SystemTime>,
    wrapper_exit: SystemTime,
    daprd_exit: Option<(SystemTime, ExitStatus)>,
    _dir: TempDir,
}

impl Run {
    /// The wrapper's stderr and daprd's log, for failure messages.
    fn context(&self) -> String {
        format!(
            "{}: wrapper {}\n--- wrapper stderr ---\n{}{}",
            self.label,
            self.status,
            self.stderr,
            self.daprd.log_text()
        )
    }

    fn job_start(&self) -> SystemTime {
        self.job_start
            .unwrap_or_else(|| panic!("the job did not run\n{}", self.context()))
    }

    fn job_end(&self) -> SystemTime {
        self.job_end
            .unwrap_or_else(|| panic!("the job did not finish\n{}", self.context()))
    }

    /// The job ran after daprd was ready, and the wrapper exited with the job's code.
    fn assert_job_ran(&self, code: i32) {
        let start = self.job_start();
        assert!(start >= self.wrapper_start, "{}", self.context());
        assert_eq!(
            self.healthz.as_deref(),
            Some("204"),
            "the job saw daprd not ready\n{}",
            self.context()
        );
        assert!(
            self.stderr.contains("daprjob: sidecar ready after"),
            "{}",
            self.context()
        );
        assert!(
            self.stderr
                .contains(&format!("daprjob: job exited with code {code}")),
            "{}",
            self.context()
        );
        assert_eq!(
            self.status.code(),
            Some(code),
            "the wrapper's exit code is the job's\n{}",
            self.context()
        );
    }

    /// daprd exited by itself, with code 0, within the bound after the job ended.
    fn assert_daprd_exited_0(&self) {
        let (at, status) = self.daprd_exit.unwrap_or_else(|| {
            panic!(
                "daprd still running {DAPRD_EXIT_BOUND:?} after the job ended\n{}",
                self.context()
            )
        });
        assert!(
            status.success(),
            "daprd exited with {status}\n{}",
            self.context()
        );
        assert!(at >= self.job_end(), "daprd exited before the job ended");
        assert!(
            self.stderr.contains("daprjob: sidecar shut down"),
            "{}",
            self.context()
        );
    }

    /// daprd outlived the wrapper (by `STAYS_UP_SETTLE`) and still answers.
    fn assert_daprd_still_up(&self) {
        assert!(
            self.daprd_exit.is_none() && self.daprd.is_running(),
            "daprd exited: {:?}\n{}",
            self.daprd_exit,
            self.context()
        );
        let health = self.daprd.get("/v1.0/healthz/outbound");
        assert!(
            health.as_ref().is_ok_and(|r| r.status == 204),
            "daprd up but not healthy: {health:?}\n{}",
            self.context()
        );
    }

    /// Stop a daprd the wrapper left running: the shutdown call (with the token, if any), else
    /// a kill on drop.
    fn stop_daprd(&self) {
        let _ = self.daprd.post("/v1.0/shutdown", &[]);
        if self.daprd.wait_exit(Duration::from_secs(10)).is_none() {
            self.daprd.kill();
        }
    }

    /// Print the timings (`--nocapture`).
    fn report(&self) {
        let start = self
            .job_start
            .map_or("-".into(), |t| ms(self.wrapper_start, t));
        let (job_to_daprd, daprd_status) = match (self.job_end, self.daprd_exit) {
            (Some(end), Some((at, s))) => (ms(end, at), s.to_string()),
            (_, None) => ("-".into(), "still running".into()),
            (None, Some((_, s))) => ("-".into(), s.to_string()),
        };
        let job_to_wrapper = self
            .job_end
            .map_or("-".into(), |t| ms(t, self.wrapper_exit));
        // The wrapper's own account of the shutdown phase.
        let shutdown_line = self
            .stderr
            .lines()
            .rfind(|l| l.starts_with("daprjob: s"))
            .unwrap_or("-");
        println!(
            "timing {}: wrapper start -> job start {start}; job end -> daprd exit {job_to_daprd} \
             ({daprd_status}); job end -> wrapper exit {job_to_wrapper}; {shutdown_line:?}",
            self.label
        );
    }
}

// ---- the cases ----

/// Case 1: daprd and the wrapper start at the same moment; the job runs only once daprd is
/// ready (it asks `/v1.0/healthz/outbound` itself and gets 204).
fn job_starts_only_after_daprd_is_ready(wrapper: Wrapper) {
    let run = Case {
        start_together: true,
        ..Case::new("job_starts_only_after_daprd_is_ready", wrapper)
    }
    .run();
    run.report();
    assert!(
        !run.ready_at_spawn,
        "daprd was already ready when the wrapper started: the test proves nothing"
    );
    run.assert_job_ran(0);
    run.assert_daprd_exited_0();
}

/// Case 2: daprd exits by itself, code 0, after a job that succeeds; the exit code survives.
fn daprd_exits_0_after_a_successful_job(wrapper: Wrapper) {
    let run = Case::new("daprd_exits_0_after_a_successful_job", wrapper).run();
    run.report();
    run.assert_job_ran(0);
    run.assert_daprd_exited_0();
}

/// Case 2: the same after a job that fails with 3; the wrapper exits 3.
fn daprd_exits_0_after_a_failed_job(wrapper: Wrapper) {
    let run = Case {
        job_exit: 3,
        ..Case::new("daprd_exits_0_after_a_failed_job", wrapper)
    }
    .run();
    run.report();
    run.assert_job_ran(3);
    run.assert_daprd_exited_0();
}

/// Case 3: daprd requires an API token; the token from `dapr.apiTokenSecret` authorises the
/// shutdown.
fn api_token_from_the_secret_authorises_the_shutdown(wrapper: Wrapper) {
    let run = Case {
        token: true,
        job_exit: 3,
        ..Case::new("api_token_from_the_secret_authorises_the_shutdown", wrapper)
    }
    .run();
    run.report();
    run.assert_job_ran(3);
    run.assert_daprd_exited_0();
}

/// Case 3, negative: the job container lacks the token: 401 reported, daprd stays up, the job's
/// code survives, the wrapper stays within its shutdown budget.
fn without_the_token_the_shutdown_is_refused(wrapper: Wrapper) {
    let run = Case {
        token: true,
        strip_token: true,
        job_exit: 3,
        expect_daprd_exit: false,
        ..Case::new("without_the_token_the_shutdown_is_refused", wrapper)
    }
    .run();
    run.report();
    run.assert_job_ran(3);
    // Shell: `shutdown: HTTP 401: ...`; binary: `shutdown: 401: ...`.
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with("daprjob: shutdown:") && l.contains("401")),
        "no 401 reported\n{}",
        run.context()
    );
    let shutdown_phase = run
        .wrapper_exit
        .duration_since(run.job_end())
        .unwrap_or_default();
    assert!(
        shutdown_phase <= Duration::from_secs(SHUTDOWN_SECONDS + 5),
        "the wrapper took {shutdown_phase:?} after the job\n{}",
        run.context()
    );
    run.assert_daprd_still_up();
    run.stop_daprd();
}

/// Case 4: native sidecar mode: the wrapper waits (daprd started together with it), runs the
/// job, and never calls shutdown: daprd is still running afterwards.
fn native_mode_never_shuts_daprd_down(wrapper: Wrapper) {
    let run = Case {
        native: true,
        start_together: true,
        expect_daprd_exit: false,
        ..Case::new("native_mode_never_shuts_daprd_down", wrapper)
    }
    .run();
    run.report();
    assert!(!run.ready_at_spawn, "daprd was ready before the wrapper");
    run.assert_job_ran(0);
    assert!(
        run.stderr
            .contains("daprjob: shutdown skipped (policy never)"),
        "{}",
        run.context()
    );
    assert!(
        !run.stderr.contains("sidecar shut down"),
        "{}",
        run.context()
    );
    run.assert_daprd_still_up();
    run.stop_daprd();
}

/// Case 5: daprd 1.16.5, in the range where `/v1.0/shutdown` may be a no-op: the wrapper still
/// gets it to go away.
fn old_release_daprd_is_shut_down(wrapper: Wrapper) {
    let run = Case {
        release: Release::Old,
        job_exit: 3,
        ..Case::new("old_release_daprd_is_shut_down", wrapper)
    }
    .run();
    run.report();
    run.assert_job_ran(3);
    let (_, status) = run.daprd_exit.unwrap_or_else(|| {
        panic!(
            "old daprd still running {DAPRD_EXIT_BOUND:?} after the job\n{}",
            run.context()
        )
    });
    if !status.success() {
        println!("note {}: old daprd exited with {status}", run.label);
    }
    assert!(
        run.stderr.contains("daprjob: sidecar shut down"),
        "{}",
        run.context()
    );
}

/// One test per case and wrapper: `CASE::dash`, `CASE::busybox_sh`, `CASE::binary`.
macro_rules! each_wrapper {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            use super::Wrapper;
            #[test]
            fn dash() {
                super::$case(Wrapper::Dash);
            }
            #[test]
            fn busybox_sh() {
                super::$case(Wrapper::BusyboxSh);
            }
            #[test]
            fn binary() {
                super::$case(Wrapper::Binary);
            }
        }
    )*};
}

each_wrapper!(
    job_starts_only_after_daprd_is_ready,
    daprd_exits_0_after_a_successful_job,
    daprd_exits_0_after_a_failed_job,
    api_token_from_the_secret_authorises_the_shutdown,
    without_the_token_the_shutdown_is_refused,
    native_mode_never_shuts_daprd_down,
    old_release_daprd_is_shut_down,
);
