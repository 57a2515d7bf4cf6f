//! A real daprd in standalone mode on loopback, with no components, no placement and no
//! scheduler: just the Dapr HTTP/gRPC API, its health endpoints and `/v1.0/shutdown`.
//!
//! ```ignore
//! let daprd = Daprd::start(DaprdOptions::default());
//! let resp = daprd.post("/v1.0/shutdown", &[]);
//! assert_eq!(resp.status, 204);
//! assert!(daprd.wait_exit(Duration::from_secs(10)).expect("exits").success());
//! ```

use super::http::{self, Response};
use super::process::{TempDir, die_with_parent, free_port, kill_and_reap, log_tail, wait_timeout};
use super::tools::{DAPRD, DAPRD_OLD, tool};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Which daprd build to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Release {
    /// `DAPRJOB_DAPRD`: a 1.18.x release, where `/v1.0/shutdown` is reliable.
    Current,
    /// `DAPRJOB_DAPRD_OLD`: a release in 1.12.0..=1.17.6, where the shutdown call may be a
    /// no-op (dapr/dapr#9949).
    Old,
    /// Any other binary.
    Path(PathBuf),
}

impl Release {
    pub fn binary(&self) -> PathBuf {
        match self {
            Release::Current => tool(DAPRD),
            Release::Old => tool(DAPRD_OLD),
            Release::Path(p) => p.clone(),
        }
    }
}

/// How to start daprd. `Default` is the current release, app-id `daprjob-test`, no token.
#[derive(Debug, Clone)]
pub struct DaprdOptions {
    pub release: Release,
    pub app_id: String,
    /// Sets `DAPR_API_TOKEN` in daprd's environment: every API call but the health checks then
    /// needs the `dapr-api-token` header.
    pub api_token: Option<String>,
    /// `--dapr-graceful-shutdown-seconds`.
    pub graceful_shutdown_seconds: Option<u32>,
    /// Wait until `GET /v1.0/healthz/outbound` answers 204 before returning from `start`.
    pub wait_ready: bool,
    /// More daprd flags.
    pub extra_args: Vec<String>,
    /// More environment variables for daprd.
    pub env: Vec<(String, String)>,
    /// Reserve the ports now but let daprd start only after this long (through
    /// `sh -c 'sleep; exec daprd'`, so the process is still daprd's): a client started
    /// right after `start` then certainly meets a daprd that is not ready yet.
    pub start_delay: Option<std::time::Duration>,
}

impl Default for DaprdOptions {
    fn default() -> Self {
        DaprdOptions {
            release: Release::Current,
            app_id: "daprjob-test".to_string(),
            api_token: None,
            graceful_shutdown_seconds: None,
            wait_ready: true,
            extra_args: Vec::new(),
            env: Vec::new(),
            start_delay: None,
        }
    }
}

/// A running daprd. Dropping it kills the process if it is still running.
#[derive(Debug)]
pub struct Daprd {
    child: Mutex<Child>,
    http_port: u16,
    grpc_port: u16,
    api_token: Option<String>,
    log: PathBuf,
    dir: TempDir,
}

const READY_TIMEOUT: Duration = Duration::from_secs(30);

impl Daprd {
    /// Start daprd; panics (with its log) if it cannot start or does not become ready.
    pub fn start(opts: DaprdOptions) -> Daprd {
        let binary = opts.release.binary();
        let dir = TempDir::new("daprd").unwrap_or_else(|e| panic!("temp dir: {e}"));
        let http_port = free_port();
        let grpc_port = free_port();
        let internal_grpc_port = free_port();
        let log = dir.path().join("daprd.log");
        let out = std::fs::File::create(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let err = out.try_clone().expect("clone log file");

        let mut cmd = match opts.start_delay {
            None => Command::new(&binary),
            Some(delay) => {
                let mut sh = Command::new("/bin/sh");
                sh.args(["-c", "sleep \"$0\" && exec \"$@\""])
                    .arg(format!("{:.3}", delay.as_secs_f64()))
                    .arg(&binary);
                sh
            }
        };
        cmd.args(["--mode", "standalone", "--app-id", &opts.app_id])
            .args(["--dapr-http-port", &http_port.to_string()])
            .args(["--dapr-grpc-port", &grpc_port.to_string()])
            .args(["--dapr-internal-grpc-port", &internal_grpc_port.to_string()])
            .args(["--dapr-listen-addresses", "127.0.0.1"])
            .args(["--dapr-internal-grpc-listen-address", "127.0.0.1"])
            .arg("--enable-metrics=false")
            // Empty addresses: no placement (actors) and no scheduler connection.
            .args(["--placement-host-address", ""])
            .args(["--scheduler-host-address", ""]);
        if let Some(secs) = opts.graceful_shutdown_seconds {
            cmd.args(["--dapr-graceful-shutdown-seconds", &secs.to_string()]);
        }
        cmd.args(&opts.extra_args)
            .env_remove("DAPR_API_TOKEN")
            .env_remove("APP_API_TOKEN")
            // daprd reads defaults from $HOME/.dapr in standalone mode: keep it empty.
            .env("HOME", dir.path())
            .envs(opts.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        if let Some(token) = &opts.api_token {
            cmd.env("DAPR_API_TOKEN", token);
        }
        die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let daprd = Daprd {
            child: Mutex::new(child),
            http_port,
            grpc_port,
            api_token: opts.api_token,
            log,
            dir,
        };
        if opts.wait_ready {
            daprd.wait_ready(READY_TIMEOUT);
        }
        daprd
    }

    /// Wait until `/v1.0/healthz/outbound` answers 204; panics with the log otherwise.
    pub fn wait_ready(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.try_status() {
                panic!(
                    "daprd exited with {status} before it was ready\n{}",
                    self.log_text()
                );
            }
            if let Ok(resp) = self.get("/v1.0/healthz/outbound")
                && resp.status == 204
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("daprd not ready after {timeout:?}\n{}", self.log_text());
    }

    /// The Dapr HTTP API port (what `DAPR_HTTP_PORT` would be in a pod).
    pub fn http_port(&self) -> u16 {
        self.http_port
    }

    /// The Dapr gRPC API port (what `DAPR_GRPC_PORT` would be in a pod).
    pub fn grpc_port(&self) -> u16 {
        self.grpc_port
    }

    /// The API token daprd was started with, if any.
    pub fn api_token(&self) -> Option<&str> {
        self.api_token.as_deref()
    }

    /// `DAPR_HTTP_PORT`, `DAPR_GRPC_PORT` and, with a token, `DAPR_API_TOKEN`, as a pod's app
    /// container would see them: the environment for a wrapper run against this daprd.
    pub fn app_env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("DAPR_HTTP_PORT".to_string(), self.http_port.to_string()),
            ("DAPR_GRPC_PORT".to_string(), self.grpc_port.to_string()),
        ];
        if let Some(token) = &self.api_token {
            env.push(("DAPR_API_TOKEN".to_string(), token.clone()));
        }
        env
    }

    pub fn pid(&self) -> u32 {
        self.child.lock().unwrap_or_else(|e| e.into_inner()).id()
    }

    /// The exit status if daprd has exited, without waiting.
    pub fn try_status(&self) -> Option<ExitStatus> {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        child.try_wait().ok().flatten()
    }

    pub fn is_running(&self) -> bool {
        self.try_status().is_none()
    }

    /// Wait at most `timeout` for daprd to exit by itself; `None` if it is still running.
    pub fn wait_exit(&self, timeout: Duration) -> Option<ExitStatus> {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        wait_timeout(&mut child, timeout).unwrap_or_else(|e| panic!("waiting for daprd: {e}"))
    }

    /// Kill daprd (SIGKILL) if it is still running.
    pub fn kill(&self) {
        kill_and_reap(&mut self.child.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// A request to daprd's HTTP API, without any token.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> std::io::Result<Response> {
        http::request(self.http_port, method, path, headers, b"")
    }

    pub fn get(&self, path: &str) -> std::io::Result<Response> {
        self.request("GET", path, &[])
    }

    /// POST with the `dapr-api-token` header if daprd has a token, plus `headers`.
    pub fn post(&self, path: &str, headers: &[(&str, &str)]) -> std::io::Result<Response> {
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(token) = &self.api_token {
            all.push(("dapr-api-token", token));
        }
        self.request("POST", path, &all)
    }

    /// daprd's combined stdout and stderr so far.
    pub fn log_text(&self) -> String {
        format!("--- daprd log (tail) ---\n{}", log_tail(&self.log, 60))
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// A scratch directory that lives as long as this daprd.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Daprd {
    fn drop(&mut self) {
        self.kill();
    }
}
