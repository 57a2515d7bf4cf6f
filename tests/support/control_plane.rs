//! A real Kubernetes control plane for tests: etcd and kube-apiserver from
//! `KUBEBUILDER_ASSETS`, started the way envtest starts them (loopback only, a fresh data
//! directory per run, a self-signed serving certificate, a static admin token), with no
//! controller-manager, scheduler or kubelet. Objects are stored and validated for real
//! (schemas, CEL rules, defaulting, admission), but nothing reconciles them: a Job is created,
//! never run.
//!
//! ```ignore
//! let cp = ControlPlane::shared();
//! let out = cp.kubectl_ok(&["apply", "-f", "crd/daprjob.yaml"]);
//! let out = cp.kubectl_stdin(&["apply", "--server-side", "--dry-run=server", "-f", "-"], yaml);
//! ```

use super::process::{TempDir, die_with_parent, free_port, kill_and_reap, log_tail};
use super::tools::{KUBECTL, kubebuilder_asset, tool};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

const START_TIMEOUT: Duration = Duration::from_secs(90);
const ADMIN_USER: &str = "daprjob-test-admin";

/// A running etcd + kube-apiserver pair. Dropping it (or [`ControlPlane::stop`]) kills both
/// and removes the data directory.
#[derive(Debug)]
pub struct ControlPlane {
    dir: TempDir,
    kubeconfig: PathBuf,
    server: String,
    token: String,
    kubectl: PathBuf,
    processes: Mutex<Vec<Child>>,
}

static SHARED: OnceLock<Result<ControlPlane, String>> = OnceLock::new();

unsafe extern "C" {
    fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
}

extern "C" fn stop_shared() {
    if let Some(Ok(cp)) = SHARED.get() {
        cp.stop();
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else {
        "panic while starting".to_string()
    }
}

impl ControlPlane {
    /// The control plane shared by all tests of this test binary, started on first use and
    /// stopped when the binary exits. Tests that share it should use their own namespaces or
    /// object names. If it fails to start, every test that asks for it fails with the reason.
    pub fn shared() -> &'static ControlPlane {
        let started = SHARED.get_or_init(|| {
            // The processes die with the thread that spawned them (see `die_with_parent`), so
            // spawn them from a thread that lives as long as the test binary.
            let (tx, rx) = mpsc::channel();
            std::thread::Builder::new()
                .name("daprjob-control-plane".into())
                .spawn(move || {
                    let started = std::panic::catch_unwind(ControlPlane::try_start)
                        .unwrap_or_else(|panic| Err(panic_message(panic.as_ref())));
                    let _ = tx.send(started);
                    loop {
                        std::thread::park();
                    }
                })
                .map_err(|e| format!("cannot spawn the control-plane thread: {e}"))?;
            let cp = rx
                .recv()
                .map_err(|_| "the control-plane thread died while starting".to_string())??;
            // SAFETY: registering a plain extern "C" function with libc's atexit.
            unsafe {
                atexit(stop_shared);
            }
            Ok(cp)
        });
        match started {
            Ok(cp) => cp,
            Err(e) => panic!("the shared control plane did not start: {e}"),
        }
    }

    /// Start a control plane of one's own (for a test that must not share one). Panics with
    /// the processes' logs if it does not become ready.
    pub fn start() -> ControlPlane {
        Self::try_start().unwrap_or_else(|e| panic!("the control plane did not start: {e}"))
    }

    pub fn try_start() -> Result<ControlPlane, String> {
        let etcd_bin = kubebuilder_asset("etcd");
        let apiserver_bin = kubebuilder_asset("kube-apiserver");
        let kubectl = tool(KUBECTL);
        let dir = TempDir::new("control-plane").map_err(|e| format!("temp dir: {e}"))?;
        let root = dir.path().to_path_buf();
        let token = format!("daprjob-test-{}-{}", std::process::id(), free_port());
        let mut cp = ControlPlane {
            kubeconfig: root.join("kubeconfig"),
            server: String::new(),
            token,
            kubectl,
            processes: Mutex::new(Vec::new()),
            dir,
        };

        // etcd on loopback with its own client and peer ports.
        let etcd_client = format!("http://127.0.0.1:{}", free_port());
        let etcd_peer = format!("http://127.0.0.1:{}", free_port());
        let mut etcd = Command::new(&etcd_bin);
        etcd.args(["--name", "default", "--data-dir"])
            .arg(root.join("etcd"))
            .args(["--listen-client-urls", &etcd_client])
            .args(["--advertise-client-urls", &etcd_client])
            .args(["--listen-peer-urls", &etcd_peer])
            .args(["--initial-advertise-peer-urls", &etcd_peer])
            .args(["--initial-cluster", &format!("default={etcd_peer}")])
            .args(["--unsafe-no-fsync", "--log-level", "warn"]);
        cp.spawn(etcd, &root.join("etcd.log"))?;

        // Credentials: a static admin token, and a service-account signing key.
        let tokens = root.join("tokens.csv");
        std::fs::write(
            &tokens,
            format!("{},{ADMIN_USER},{ADMIN_USER},system:masters\n", cp.token),
        )
        .map_err(|e| format!("write {}: {e}", tokens.display()))?;
        let sa_key = root.join("sa.key");
        let openssl = Command::new("openssl")
            .args([
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
            ])
            .arg(&sa_key)
            .output()
            .map_err(|e| format!("cannot run openssl to make a service-account key: {e}"))?;
        if !openssl.status.success() {
            return Err(format!(
                "openssl ecparam failed: {}",
                String::from_utf8_lossy(&openssl.stderr)
            ));
        }

        let port = free_port();
        cp.server = format!("https://127.0.0.1:{port}");
        let mut apiserver = Command::new(&apiserver_bin);
        apiserver
            .args(["--etcd-servers", &etcd_client])
            .args([
                "--bind-address",
                "127.0.0.1",
                "--advertise-address",
                "127.0.0.1",
            ])
            .args(["--secure-port", &port.to_string()])
            .arg("--cert-dir")
            .arg(root.join("certs"))
            .arg("--token-auth-file")
            .arg(&tokens)
            .args(["--authorization-mode", "RBAC"])
            .args(["--service-account-issuer", "https://kubernetes.default.svc"])
            .arg("--service-account-key-file")
            .arg(&sa_key)
            .arg("--service-account-signing-key-file")
            .arg(&sa_key)
            .args(["--service-cluster-ip-range", "10.0.0.0/24"])
            .args(["--allow-privileged=true", "--v=1"]);
        cp.spawn(apiserver, &root.join("kube-apiserver.log"))?;

        cp.write_kubeconfig()?;
        cp.wait_ready()?;
        Ok(cp)
    }

    fn spawn(&mut self, mut cmd: Command, log: &Path) -> Result<(), String> {
        let file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = file.try_clone().map_err(|e| e.to_string())?;
        cmd.stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .current_dir(self.dir.path());
        die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
        self.processes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(child);
        Ok(())
    }

    fn write_kubeconfig(&self) -> Result<(), String> {
        // The serving certificate is self-signed by kube-apiserver at start, so the client
        // skips verification; the server is on loopback and lives only for this test run.
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {}\n    insecure-skip-tls-verify: true\nusers:\n- name: admin\n  user:\n    token: {}\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: admin\n    namespace: default\ncurrent-context: test\n",
            self.server, self.token
        );
        std::fs::write(&self.kubeconfig, text)
            .map_err(|e| format!("write {}: {e}", self.kubeconfig.display()))
    }

    fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Some(dead) = self.exited() {
                return Err(format!("{dead}\n{}", self.logs()));
            }
            match self.kubectl_command(&["get", "--raw", "/readyz"]).output() {
                Ok(out) if out.status.success() => return Ok(()),
                Ok(out) => last = String::from_utf8_lossy(&out.stderr).into_owned(),
                Err(e) => return Err(format!("cannot run kubectl: {e}")),
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Err(format!(
            "not ready after {START_TIMEOUT:?}; last kubectl error: {last}\n{}",
            self.logs()
        ))
    }

    /// A description of the first process that has exited, if any.
    fn exited(&self) -> Option<String> {
        let mut procs = self.processes.lock().unwrap_or_else(|e| e.into_inner());
        procs.iter_mut().find_map(|child| match child.try_wait() {
            Ok(Some(status)) => Some(format!("process {} exited with {status}", child.id())),
            _ => None,
        })
    }

    /// The tails of the etcd and kube-apiserver logs, for failure messages.
    pub fn logs(&self) -> String {
        let root = self.dir.path();
        format!(
            "--- etcd log (tail) ---\n{}\n--- kube-apiserver log (tail) ---\n{}",
            log_tail(&root.join("etcd.log"), 20),
            log_tail(&root.join("kube-apiserver.log"), 40)
        )
    }

    /// Kill both processes and remove the data directory. Idempotent.
    pub fn stop(&self) {
        let mut procs = self.processes.lock().unwrap_or_else(|e| e.into_inner());
        // kube-apiserver first, then etcd.
        while let Some(mut child) = procs.pop() {
            kill_and_reap(&mut child);
        }
        self.dir.remove();
    }

    /// The kubeconfig file (admin, `system:masters`), for tools other than kubectl.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The API server URL, `https://127.0.0.1:PORT`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The admin bearer token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A scratch directory that lives as long as the control plane.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `kubectl --kubeconfig ... <args>` as a Command, to add env, stdin, or a working dir.
    pub fn kubectl_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.kubectl);
        cmd.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.path().join("kubectl-cache"))
            .args(args)
            .stdin(Stdio::null())
            .env_remove("KUBECONFIG");
        cmd
    }

    /// Run kubectl against this control plane and capture its output (whatever the exit code).
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_command(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run kubectl: {e}"))
    }

    /// Run kubectl with `input` on stdin (for `-f -`) and capture its output.
    pub fn kubectl_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .kubectl_command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run kubectl: {e}"));
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("kubectl: {e}"));
        let _ = writer.join();
        out
    }

    /// Run kubectl and panic with its output unless it exits 0; returns stdout.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        if !out.status.success() {
            panic!(
                "kubectl {} failed ({}):\n{}{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Create a namespace with a unique name for one test and return the name.
    pub fn create_namespace(&self, prefix: &str) -> String {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("{prefix}-{n}");
        self.kubectl_ok(&["create", "namespace", &name]);
        name
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.stop();
    }
}
