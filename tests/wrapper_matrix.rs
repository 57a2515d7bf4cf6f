//! The behaviour matrix of the in-pod wrapper contract (`docs/wrapper-contract.md`).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::fake_daprd::{Behaviour, FakeDaprd};

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
