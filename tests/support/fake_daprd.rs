//! `FakeDaprd`: a STAND-IN for Dapr's `daprd` sidecar, for the wrapper tests.
//!
//! This is not daprd. It is a loopback HTTP/1.1 server (std only, one thread per
//! connection) that plays the two endpoints of daprd's documented API that the in-pod
//! wrapper uses (see `shared/reference/dapr.md`):
//!
//! - `GET /v1.0/healthz/outbound`: `500` until "ready", then `204`;
//! - `POST /v1.0/shutdown`: `204`, after which the server stops listening (the listener
//!   is dropped, so further connections are refused), the way daprd goes away.
//!
//! Misbehaviours are configurable with [`Behaviour`]: never ready, shutdown answered
//! 500, accepted but ignored (204 yet still running, like Dapr 1.12 to 1.17.6), never
//! answered, token required (401), route not allowed (404). Every request is recorded
//! (method, path, headers) so tests can assert on what the wrapper sent.
//!
//! The real daprd replaces this stand-in once it is in the test bed (another issue).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Readiness path polled by the wrappers.
pub const HEALTHZ_OUTBOUND: &str = "/v1.0/healthz/outbound";
/// Shutdown path.
pub const SHUTDOWN: &str = "/v1.0/shutdown";

/// How the fake answers `POST /v1.0/shutdown` (checked in this order: token, 404, hang,
/// 500, ignore, then a real shutdown).
#[derive(Clone, Debug)]
pub struct Behaviour {
    /// `Some(d)`: healthz answers 204 from `d` after start; `None`: never ready.
    pub ready_after: Option<Duration>,
    /// Answer the first N shutdown calls with 500 (`u32::MAX`: always).
    pub shutdown_500: u32,
    /// Answer 204 to the first K (non-500) shutdown calls but keep running
    /// (`u32::MAX`: always). A call with `Dapr-Force-Shutdown: true` is never ignored.
    pub shutdown_ignored: u32,
    /// Never answer a shutdown call (hold the connection open).
    pub shutdown_hangs: bool,
    /// `Some(token)`: shutdown requires `dapr-api-token: token`, else 401.
    pub require_token: Option<String>,
    /// The shutdown route is not registered (API allow-list): 404.
    pub shutdown_404: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            ready_after: Some(Duration::ZERO),
            shutdown_500: 0,
            shutdown_ignored: 0,
            shutdown_hangs: false,
            require_token: None,
            shutdown_404: false,
        }
    }
}

impl Behaviour {
    /// Ready after `ms` milliseconds.
    pub fn ready_after_ms(mut self, ms: u64) -> Self {
        self.ready_after = Some(Duration::from_millis(ms));
        self
    }
    /// Never ready.
    pub fn never_ready(mut self) -> Self {
        self.ready_after = None;
        self
    }
    /// First `n` shutdown calls answer 500.
    pub fn shutdown_500(mut self, n: u32) -> Self {
        self.shutdown_500 = n;
        self
    }
    /// First `k` shutdown calls answer 204 but the fake keeps running.
    pub fn shutdown_ignored(mut self, k: u32) -> Self {
        self.shutdown_ignored = k;
        self
    }
    /// Shutdown calls never get an answer.
    pub fn shutdown_hangs(mut self) -> Self {
        self.shutdown_hangs = true;
        self
    }
    /// Shutdown requires this API token.
    pub fn require_token(mut self, token: &str) -> Self {
        self.require_token = Some(token.to_string());
        self
    }
    /// Shutdown route not allowed: 404.
    pub fn shutdown_404(mut self) -> Self {
        self.shutdown_404 = true;
        self
    }
}

/// One request as the fake received it.
#[derive(Clone, Debug)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target, e.g. `/v1.0/shutdown`.
    pub path: String,
    /// Header names lower-cased, values trimmed, in arrival order.
    pub headers: Vec<(String, String)>,
    /// When it arrived, relative to the fake's start.
    pub at: Duration,
    /// The status the fake answered (`None`: never answered).
    pub status: Option<u16>,
}

impl Request {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
    /// A shutdown call?
    pub fn is_shutdown(&self) -> bool {
        self.method == "POST" && self.path == SHUTDOWN
    }
}

struct State {
    requests: Vec<Request>,
    shutdown_calls: u32,
    accepted_calls: u32,
    stopped_at: Option<Duration>,
}

struct Shared {
    behaviour: Behaviour,
    start: Instant,
    state: Mutex<State>,
    changed: Condvar,
    /// Set when the fake decides to go away; the accept loop then drops the listener.
    stop: AtomicBool,
    /// Set when the `FakeDaprd` is dropped: hanging handlers give up.
    closing: AtomicBool,
}

/// The stand-in daprd. Listening on `127.0.0.1:{port()}` from `start` until it shuts
/// down or is dropped.
pub struct FakeDaprd {
    port: u16,
    shared: Arc<Shared>,
}

impl FakeDaprd {
    /// Start a fake with the given behaviour on an ephemeral loopback port.
    pub fn start(behaviour: Behaviour) -> FakeDaprd {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            behaviour,
            start: Instant::now(),
            state: Mutex::new(State {
                requests: Vec::new(),
                shutdown_calls: 0,
                accepted_calls: 0,
                stopped_at: None,
            }),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
            closing: AtomicBool::new(false),
        });
        let s = Arc::clone(&shared);
        thread::spawn(move || accept_loop(listener, s));
        FakeDaprd { port, shared }
    }

    /// The port to put in `DAPR_HTTP_PORT`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.state.lock().unwrap().requests.clone()
    }

    /// The shutdown calls received so far.
    pub fn shutdown_calls(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(Request::is_shutdown)
            .collect()
    }

    /// The healthz calls received so far.
    pub fn healthz_calls(&self) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.path == HEALTHZ_OUTBOUND)
            .count()
    }

    /// Has the fake shut down (stopped listening)?
    pub fn is_stopped(&self) -> bool {
        self.shared.state.lock().unwrap().stopped_at.is_some()
    }

    /// Time since the fake started (the clock of [`Request::at`] and `ready_after`).
    pub fn elapsed(&self) -> Duration {
        self.shared.start.elapsed()
    }

    /// When readiness began, relative to start (`None`: never).
    pub fn ready_after(&self) -> Option<Duration> {
        self.shared.behaviour.ready_after
    }

    /// Wait up to `timeout` for the fake to shut down; true if it did.
    pub fn wait_stopped(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.state.lock().unwrap();
        while st.stopped_at.is_none() {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = self
                .shared
                .changed
                .wait_timeout(st, deadline - now)
                .unwrap()
                .0;
        }
        true
    }
}

impl Drop for FakeDaprd {
    fn drop(&mut self) {
        self.shared.closing.store(true, Ordering::SeqCst);
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        match listener.accept() {
            Ok((stream, _)) => {
                let s = Arc::clone(&shared);
                thread::spawn(move || handle(stream, s));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
    // Dropping the listener here: from now on connections are refused.
    drop(listener);
    let mut st = shared.state.lock().unwrap();
    if st.stopped_at.is_none() && !shared.closing.load(Ordering::SeqCst) {
        st.stopped_at = Some(shared.start.elapsed());
    }
    shared.changed.notify_all();
}

/// Read one request head (and discard a Content-Length body).
/// Header names (lower-cased) and values.
type Headers = Vec<(String, String)>;

fn read_request(stream: &TcpStream) -> Option<(String, String, Headers)> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            break;
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    if len > 0 {
        let mut body = vec![0u8; len.min(1 << 20)];
        let _ = reader.read_exact(&mut body);
    }
    Some((method, path, headers))
}

fn respond(mut stream: &TcpStream, status: u16, body: &str) {
    let reason = match status {
        204 => "No Content",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        _ => "Unknown",
    };
    let msg = if status == 204 {
        format!("HTTP/1.1 204 {reason}\r\nConnection: close\r\n\r\n")
    } else {
        format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let _ = stream.write_all(msg.as_bytes());
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
}

fn handle(stream: TcpStream, shared: Arc<Shared>) {
    let Some((method, path, headers)) = read_request(&stream) else {
        return;
    };
    let at = shared.start.elapsed();
    let b = &shared.behaviour;
    let mut req = Request {
        method,
        path,
        headers,
        at,
        status: None,
    };

    // Decide the answer (and whether to go away) under the lock, answer outside it.
    let mut go_away = false;
    let status: Option<u16> = if req.path == HEALTHZ_OUTBOUND && req.method == "GET" {
        match b.ready_after {
            Some(d) if at >= d => Some(204),
            _ => Some(500),
        }
    } else if req.path == SHUTDOWN {
        if req.method != "POST" {
            Some(405)
        } else if b
            .require_token
            .as_deref()
            .is_some_and(|t| req.header("dapr-api-token") != Some(t))
        {
            Some(401)
        } else if b.shutdown_404 {
            Some(404)
        } else if b.shutdown_hangs {
            None
        } else {
            let force = req
                .header("dapr-force-shutdown")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            let mut st = shared.state.lock().unwrap();
            st.shutdown_calls += 1;
            if st.shutdown_calls <= b.shutdown_500 && !force {
                Some(500)
            } else {
                st.accepted_calls += 1;
                if !force && st.accepted_calls <= b.shutdown_ignored {
                    Some(204)
                } else {
                    go_away = true;
                    Some(204)
                }
            }
        }
    } else {
        Some(404)
    };
    req.status = status;
    {
        let mut st = shared.state.lock().unwrap();
        st.requests.push(req);
        shared.changed.notify_all();
    }
    match status {
        Some(code) => {
            let body = match code {
                500 => r#"{"errorCode":"ERR_HEALTH_NOT_READY","message":"stand-in daprd"}"#,
                401 => r#"{"errorCode":"ERR_UNAUTHORIZED","message":"invalid api token"}"#,
                _ => "",
            };
            respond(&stream, code, body);
            if go_away {
                // Like daprd: answer 204, then shut down in the background.
                shared.stop.store(true, Ordering::SeqCst);
            }
        }
        None => {
            // Never answer: hold the connection until the fake is dropped (or 60 s).
            let until = Instant::now() + Duration::from_secs(60);
            while !shared.closing.load(Ordering::SeqCst) && Instant::now() < until {
                thread::sleep(Duration::from_millis(20));
            }
        }
    }
}
