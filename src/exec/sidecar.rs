//! The two phases that talk to daprd: the readiness wait before the job and the shutdown
//! after it. Both sleep only through [`Phase::sleep`], which is where signals are handled.

use std::time::{Duration, Instant};

use libc::c_int;

use super::http::{self, HttpError};
use super::say;
use super::signals::{self, STOPPING, Signals};

/// daprd's readiness endpoint that does not depend on the app channel.
pub const HEALTHZ_OUTBOUND: &str = "/v1.0/healthz/outbound";
/// daprd's shutdown endpoint (POST only).
pub const SHUTDOWN: &str = "/v1.0/shutdown";

const WAIT_REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
const WAIT_BACKOFF_START: Duration = Duration::from_millis(100);
const WAIT_BACKOFF_CAP: Duration = Duration::from_secs(1);
const POST_TIMEOUT: Duration = Duration::from_secs(2);
const POST_BACKOFF_START: Duration = Duration::from_millis(200);
const POST_BACKOFF_CAP: Duration = Duration::from_secs(2);
const VERIFY_TIMEOUT: Duration = Duration::from_secs(1);
const VERIFY_INTERVAL: Duration = Duration::from_millis(200);
/// After a 2xx, how long the sidecar may keep answering before the POST is repeated.
const REPOST_AFTER: Duration = Duration::from_secs(3);

/// Signal handling while no job runs.
pub struct Phase<'a> {
    /// The blocked signal set to take signals from.
    pub signals: &'a Signals,
    /// Reap every ended child on `SIGCHLD` (the wrapper is PID 1).
    pub pid1: bool,
}

impl Phase<'_> {
    /// Sleeps for `d`, handling signals meanwhile: `SIGCHLD` reaps orphans when PID 1,
    /// `SIGUSR1`/`SIGUSR2` are dropped (no job to forward them to). A stopping signal
    /// (`SIGTERM`, `SIGINT`, `SIGHUP`, `SIGQUIT`) ends the sleep early and is returned.
    pub fn sleep(&self, d: Duration) -> Option<c_int> {
        let deadline = Instant::now() + d;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.signals.wait(left) {
                None => return None,
                Some(libc::SIGCHLD) => {
                    if self.pid1 {
                        signals::reap(-1, true);
                    }
                }
                Some(sig) if STOPPING.contains(&sig) => return Some(sig),
                Some(_) => {}
            }
        }
    }

    /// Sleeps for the whole of `d`; stopping signals do not shorten it (the shutdown phase is
    /// bounded anyway and must not be abandoned half-way).
    fn sleep_through(&self, d: Duration) {
        let deadline = Instant::now() + d;
        while let Some(_sig) = self.sleep(deadline.saturating_duration_since(Instant::now())) {}
    }
}

/// How the readiness wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ready {
    /// `/v1.0/healthz/outbound` answered 204 after this long.
    After(Duration),
    /// The wait's bound passed first.
    NotReady,
    /// A stopping signal arrived first.
    Stopped(c_int),
}

/// Polls `GET /v1.0/healthz/outbound` until it answers 204, for at most `bound`.
pub fn wait_ready(port: u16, bound: Duration, phase: &Phase) -> Ready {
    let start = Instant::now();
    let deadline = start + bound;
    let mut backoff = WAIT_BACKOFF_START;
    loop {
        if let Some(sig) = phase.sleep(Duration::ZERO) {
            return Ready::Stopped(sig);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ready::NotReady;
        }
        let r = http::request(
            port,
            "GET",
            HEALTHZ_OUTBOUND,
            &[],
            left.min(WAIT_REQUEST_TIMEOUT),
        );
        if matches!(r, Ok(204)) {
            return Ready::After(start.elapsed());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ready::NotReady;
        }
        if let Some(sig) = phase.sleep(backoff.min(left)) {
            return Ready::Stopped(sig);
        }
        backoff = (backoff * 2).min(WAIT_BACKOFF_CAP);
    }
}

/// Inputs of the shutdown phase.
pub struct Shutdown<'a> {
    /// daprd's HTTP port.
    pub port: u16,
    /// `dapr-api-token` value, if any.
    pub token: Option<&'a [u8]>,
    /// Bound on the whole phase.
    pub budget: Duration,
    /// End with `Dapr-Force-Shutdown: true` once 2/3 of the budget has passed.
    pub force: bool,
    /// The sidecar answered before (so "connection refused" means it is gone).
    pub seen_up: bool,
}

/// How the shutdown phase ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// The sidecar is verified gone after a shutdown call.
    Gone,
    /// The sidecar, seen up before, no longer answers a shutdown call: it had already gone.
    AlreadyGone,
    /// It was not stopped; the reason is the text after `shutdown: `.
    Failed(String),
}

impl Shutdown<'_> {
    fn post(&self, forced: bool, timeout: Duration) -> Result<u16, HttpError> {
        let mut headers: Vec<(&str, &[u8])> = Vec::new();
        if let Some(t) = self.token {
            headers.push(("dapr-api-token", t));
        }
        if forced {
            headers.push(("Dapr-Force-Shutdown", b"true"));
        }
        http::request(self.port, "POST", SHUTDOWN, &headers, timeout)
    }

    /// Runs the phase: POST, verify that the sidecar goes away, POST again if it does not,
    /// retry what is worth retrying, all within the budget. Logs its outcome and returns it.
    pub fn run(&self, phase: &Phase) -> Stopped {
        let start = Instant::now();
        let outcome = self.attempt(phase);
        match &outcome {
            Stopped::Gone => say!("sidecar shut down ({}ms)", start.elapsed().as_millis()),
            Stopped::AlreadyGone => say!("sidecar shut down (already gone)"),
            Stopped::Failed(why) => say!("shutdown: {why}"),
        }
        outcome
    }

    fn attempt(&self, phase: &Phase) -> Stopped {
        let start = Instant::now();
        let deadline = start + self.budget;
        let force_at = start + self.budget * 2 / 3;
        // Seen up: "connection refused" now means gone, not "not started yet".
        let mut seen_up = self.seen_up;
        // Answered anything in this phase: the only case where forcing makes sense.
        let mut answered = false;
        let mut forced = !self.force;
        let mut backoff = POST_BACKOFF_START;
        // Some(t): a POST was accepted at t; verifying that the sidecar goes away.
        let mut accepted: Option<Instant> = None;
        let mut last = String::from("no attempt");
        loop {
            let now = Instant::now();
            let left = deadline.saturating_duration_since(now);
            if left.is_zero() {
                let secs = self.budget.as_secs();
                return Stopped::Failed(if answered {
                    format!("sidecar still running after {secs}s (last: {last})")
                } else {
                    format!("no answer from the sidecar within {secs}s (last: {last})")
                });
            }
            if !forced && answered && now >= force_at {
                forced = true;
                say!("sidecar still up; forcing the shutdown (Dapr-Force-Shutdown: true)");
                match self.post(true, left.min(POST_TIMEOUT)) {
                    Ok(c) => {
                        last = format!("forced POST answered {c}");
                        if (200..300).contains(&c) {
                            accepted = Some(Instant::now());
                        }
                    }
                    Err(e) if e.is_gone() => return Stopped::Gone,
                    Err(e) => last = format!("forced POST: {e}"),
                }
                continue;
            }
            match accepted {
                None => match self.post(false, left.min(POST_TIMEOUT)) {
                    Ok(c) if (200..300).contains(&c) => {
                        seen_up = true;
                        answered = true;
                        accepted = Some(Instant::now());
                        last = format!("POST answered {c}");
                    }
                    Ok(c @ (401 | 403)) => {
                        return Stopped::Failed(format!(
                            "HTTP {c}: the sidecar rejected the API token (set DAPR_API_TOKEN in the job container to the sidecar's token, see dapr.io/api-token-secret)"
                        ));
                    }
                    Ok(404) => {
                        return Stopped::Failed(
                            "HTTP 404: the shutdown API is not allowed (add `shutdown` to the Dapr Configuration's API allow-list)".into(),
                        );
                    }
                    // Seen up before, no answer now: it went away by itself or after an
                    // earlier POST.
                    Err(e) if e.is_gone() && seen_up => return Stopped::AlreadyGone,
                    other => {
                        last = match other {
                            Ok(c) => {
                                seen_up = true;
                                answered = true;
                                format!("POST answered {c}")
                            }
                            Err(e) => format!("POST: {e}"),
                        };
                        phase.sleep_through(backoff.min(left));
                        backoff = (backoff * 2).min(POST_BACKOFF_CAP);
                    }
                },
                Some(at) => {
                    match http::request(
                        self.port,
                        "GET",
                        HEALTHZ_OUTBOUND,
                        &[],
                        left.min(VERIFY_TIMEOUT),
                    ) {
                        Err(e) if e.is_gone() => return Stopped::Gone,
                        Ok(c) => last = format!("healthz answered {c} after the POST"),
                        Err(e) => last = format!("healthz after the POST: {e}"),
                    }
                    if at.elapsed() >= REPOST_AFTER {
                        // Dapr 1.12 to 1.17.6 may answer 204 and not shut down: ask again.
                        accepted = None;
                    } else {
                        let left = deadline.saturating_duration_since(Instant::now());
                        phase.sleep_through(VERIFY_INTERVAL.min(left));
                    }
                }
            }
        }
    }
}
