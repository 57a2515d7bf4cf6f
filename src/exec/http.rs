//! A minimal HTTP/1.1 client for daprd's API on `127.0.0.1`: one request per connection, no
//! body, `Connection: close`, and only the status code read back. Every step (connect, write,
//! each read) is bounded by what is left of the request's own deadline, so a server that
//! accepts and then never answers costs at most `timeout`.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Why a request got no status code.
#[derive(Debug)]
pub enum HttpError {
    /// Nothing listens on the port: for daprd, not started yet or already gone.
    Refused,
    /// The deadline passed (connect, write or read).
    Timeout,
    /// The connection was reset, or closed before any byte of a response.
    Reset,
    /// The server closed the connection or sent something that is not an HTTP status line.
    Malformed,
    /// Any other socket error.
    Io(io::Error),
}

impl HttpError {
    /// No HTTP answer at all because nothing is there any more: refused or reset (a timeout
    /// does not count: something still holds the port).
    pub fn is_gone(&self) -> bool {
        matches!(self, HttpError::Refused | HttpError::Reset)
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Refused => f.write_str("connection refused"),
            HttpError::Timeout => f.write_str("timed out"),
            HttpError::Reset => f.write_str("connection reset"),
            HttpError::Malformed => f.write_str("no valid HTTP response"),
            HttpError::Io(e) => write!(f, "{e}"),
        }
    }
}

fn classify(e: io::Error) -> HttpError {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => HttpError::Refused,
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => HttpError::Timeout,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => HttpError::Reset,
        _ => HttpError::Io(e),
    }
}

/// Time left before `deadline`, or a timeout error when none is.
fn left(deadline: Instant) -> Result<Duration, HttpError> {
    let d = deadline.saturating_duration_since(Instant::now());
    // Socket timeouts of zero mean "forever" to std: never pass one.
    if d < Duration::from_millis(1) {
        Err(HttpError::Timeout)
    } else {
        Ok(d)
    }
}

/// Sends `METHOD path` to `127.0.0.1:port` with the extra `headers` and returns the status
/// code, all within `timeout`.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &[u8])],
    timeout: Duration,
) -> Result<u16, HttpError> {
    let deadline = Instant::now() + timeout;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, left(deadline)?).map_err(classify)?;
    let _ = stream.set_nodelay(true);

    let mut req = Vec::with_capacity(256);
    req.extend_from_slice(method.as_bytes());
    req.push(b' ');
    req.extend_from_slice(path.as_bytes());
    req.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1:");
    req.extend_from_slice(port.to_string().as_bytes());
    req.extend_from_slice(
        concat!("\r\nUser-Agent: daprjob/", env!("CARGO_PKG_VERSION")).as_bytes(),
    );
    req.extend_from_slice(b"\r\nAccept: */*\r\nConnection: close\r\n");
    if method == "POST" {
        req.extend_from_slice(b"Content-Length: 0\r\n");
    }
    for (name, value) in headers {
        req.extend_from_slice(name.as_bytes());
        req.extend_from_slice(b": ");
        req.extend_from_slice(value);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"\r\n");

    stream
        .set_write_timeout(Some(left(deadline)?))
        .map_err(classify)?;
    stream.write_all(&req).map_err(classify)?;

    // Read until the status line is complete: "HTTP/1.x NNN ...\r\n".
    let mut buf = [0u8; 512];
    let mut len = 0;
    loop {
        if let Some(code) = status_code(&buf[..len]) {
            return code;
        }
        if len == buf.len() {
            return Err(HttpError::Malformed);
        }
        stream
            .set_read_timeout(Some(left(deadline)?))
            .map_err(classify)?;
        match stream.read(&mut buf[len..]) {
            Ok(0) if len == 0 => return Err(HttpError::Reset),
            Ok(0) => return status_code(&buf[..len]).unwrap_or(Err(HttpError::Malformed)),
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(classify(e)),
        }
    }
}

/// Parses the status line once it is complete (`None`: need more bytes).
fn status_code(buf: &[u8]) -> Option<Result<u16, HttpError>> {
    let end = buf.iter().position(|&b| b == b'\n')?;
    let line = &buf[..end];
    let ok = line.len() >= 12
        && line.starts_with(b"HTTP/1.")
        && line[8] == b' '
        && line[9..12].iter().all(u8::is_ascii_digit)
        && line.get(12).is_none_or(|&b| b == b' ' || b == b'\r');
    if !ok {
        return Some(Err(HttpError::Malformed));
    }
    let code = line[9..12]
        .iter()
        .fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
    Some(Ok(code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    #[test]
    fn parses_status_lines() {
        assert!(status_code(b"HTTP/1.1 204").is_none());
        assert_eq!(
            status_code(b"HTTP/1.1 204 No Content\r\n")
                .unwrap()
                .unwrap(),
            204
        );
        assert_eq!(status_code(b"HTTP/1.0 500\r\n").unwrap().unwrap(), 500);
        assert!(status_code(b"SSH-2.0-x\r\n").unwrap().is_err());
        assert!(status_code(b"HTTP/1.1 2044\r\n").unwrap().is_err());
    }

    fn serve_once(reply: &'static [u8]) -> (u16, thread::JoinHandle<Vec<u8>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut req = Vec::new();
            let mut b = [0u8; 1024];
            while !req.ends_with(b"\r\n\r\n") {
                let n = s.read(&mut b).unwrap();
                if n == 0 {
                    break;
                }
                req.extend_from_slice(&b[..n]);
            }
            if !reply.is_empty() {
                s.write_all(reply).unwrap();
            } else {
                thread::sleep(Duration::from_millis(800));
            }
            req
        });
        (port, h)
    }

    #[test]
    fn sends_headers_and_reads_status() {
        let (port, h) = serve_once(b"HTTP/1.1 204 No Content\r\n\r\n");
        let code = request(
            port,
            "POST",
            "/v1.0/shutdown",
            &[("dapr-api-token", b"tok")],
            Duration::from_secs(2),
        )
        .unwrap();
        assert_eq!(code, 204);
        let req = String::from_utf8(h.join().unwrap()).unwrap();
        assert!(req.starts_with("POST /v1.0/shutdown HTTP/1.1\r\n"), "{req}");
        assert!(req.contains("\r\ndapr-api-token: tok\r\n"), "{req}");
        assert!(req.contains("\r\nContent-Length: 0\r\n"), "{req}");
    }

    #[test]
    fn silent_server_times_out() {
        let (port, h) = serve_once(b"");
        let t = Instant::now();
        let r = request(port, "GET", "/", &[], Duration::from_millis(300));
        assert!(matches!(r, Err(HttpError::Timeout)), "{r:?}");
        assert!(t.elapsed() < Duration::from_millis(700));
        h.join().unwrap();
    }

    #[test]
    fn closed_port_is_refused() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let r = request(port, "GET", "/", &[], Duration::from_secs(1));
        assert!(matches!(r, Err(HttpError::Refused)), "{r:?}");
    }
}
