//! The server modes: an accept loop with a thread per connection, and the echo, discard, HTTP and UDP echo
//! services.

use crate::ModeResult;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddrV4};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use synack_tap::{Handle, TcpListener, TcpStream, UdpSocket};

/// A connection that stays silent this long is given up.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const BUF: usize = 64 * 1024;
/// Largest body `/bytes/N` serves.
const MAX_HTTP_BYTES: u64 = 1 << 30;

/// Serves one connection; returns a line to print.
pub type Service = fn(TcpStream) -> io::Result<String>;

/// Prints a line on stdout at once (tests read it while we run).
pub fn say(line: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Accepts connections on `port` until stopped or `limit` connections were accepted, serving each on a thread.
pub fn serve_tcp(handle: &Handle, ip: Ipv4Addr, port: u16, name: &str, limit: Option<u64>, f: Service) -> ModeResult {
    let listener = TcpListener::bind(handle, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port))
        .map_err(|e| format!("cannot listen on port {port}: {e}"))?;
    say(&format!("ready: {name} on {ip}:{port}"));
    let failures = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    let mut accepted = 0u64;
    while limit.is_none_or(|l| accepted < l) {
        let (stream, peer) = match listener.accept() {
            Ok(c) => c,
            Err(_) if handle.is_stopped() => break,
            Err(e) => return Err(format!("accept failed: {e}")),
        };
        accepted += 1;
        let (failures, handle) = (failures.clone(), handle.clone());
        workers.push(std::thread::spawn(move || {
            let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
            let _ = stream.set_write_timeout(Some(IDLE_TIMEOUT));
            match f(stream) {
                Ok(line) => say(&format!("{line} (peer {peer})")),
                Err(_) if handle.is_stopped() => {}
                Err(e) => {
                    eprintln!("synack-tap: connection from {peer}: {e}");
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
        workers.retain(|w| !w.is_finished());
    }
    for w in workers {
        let _ = w.join();
    }
    match failures.load(Ordering::Relaxed) {
        0 => Ok(()),
        n => Err(format!("{n} of {accepted} connections failed")),
    }
}

/// Reads until end of stream, so that closing never discards unread data (which would send a reset).
fn drain(mut s: &TcpStream) -> io::Result<u64> {
    let mut buf = vec![0u8; BUF];
    let mut total = 0;
    loop {
        match s.read(&mut buf)? {
            0 => return Ok(total),
            n => total += n as u64,
        }
    }
}

pub fn echo(mut s: TcpStream) -> io::Result<String> {
    let mut buf = vec![0u8; BUF];
    let mut total = 0u64;
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        s.write_all(&buf[..n])?;
        total += n as u64;
    }
    s.shutdown(Shutdown::Write)?;
    Ok(format!("echo: {total} bytes echoed"))
}

pub fn discard(s: TcpStream) -> io::Result<String> {
    let n = drain(&s)?;
    Ok(format!("discard: {n} bytes discarded"))
}

/// The body of an HTTP response.
enum Body {
    Text(String),
    /// `n` bytes of the repeating pattern `0..=250`.
    Pattern(u64),
}

impl Body {
    fn len(&self) -> u64 {
        match self {
            Body::Text(t) => t.len() as u64,
            Body::Pattern(n) => *n,
        }
    }
}

fn route(method: &str, path: &str) -> (&'static str, Body) {
    if method != "GET" && method != "HEAD" {
        return ("405 Method Not Allowed", Body::Text(format!("method {method} is not supported\n")));
    }
    if path == "/" {
        return ("200 OK", Body::Text("hello from synack, a user-space TCP/IP stack\n".into()));
    }
    match path.strip_prefix("/bytes/").map(str::parse::<u64>) {
        Some(Ok(n)) if n <= MAX_HTTP_BYTES => ("200 OK", Body::Pattern(n)),
        Some(_) => ("400 Bad Request", Body::Text(format!("/bytes/N takes N up to {MAX_HTTP_BYTES}\n"))),
        None => ("404 Not Found", Body::Text(format!("{path} not found; try / or /bytes/1000\n"))),
    }
}

/// One HTTP/1.1 request per connection: `GET /` or `GET /bytes/N` (HEAD too), answered with `Connection: close`.
pub fn http(mut s: TcpStream) -> io::Result<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf)?;
        if n == 0 || head.len() > 16 * 1024 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "incomplete or oversized HTTP request"));
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut words = text.lines().next().unwrap_or_default().split_whitespace();
    let (method, path) = (words.next().unwrap_or_default().to_string(), words.next().unwrap_or_default().to_string());
    let (status, body) = route(&method, &path);
    let header = format!(
        "HTTP/1.1 {status}\r\nServer: synack\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    s.write_all(header.as_bytes())?;
    if method != "HEAD" {
        match &body {
            Body::Text(t) => s.write_all(t.as_bytes())?,
            Body::Pattern(n) => {
                let chunk: Vec<u8> = (0..BUF).map(|i| (i % 251) as u8).collect();
                let mut left = *n;
                while left > 0 {
                    // 251 does not divide BUF: restart the pattern where the previous chunk left off.
                    let off = ((*n - left) % 251) as usize;
                    let take = left.min((BUF - 251) as u64) as usize;
                    s.write_all(&chunk[off..off + take])?;
                    left -= take as u64;
                }
            }
        }
    }
    s.shutdown(Shutdown::Write)?;
    drain(&s)?;
    Ok(format!("http: {method} {path} -> {status}"))
}

/// Echoes datagrams on `port` until stopped, or until `limit` datagrams were echoed.
pub fn udp_echo(handle: &Handle, ip: Ipv4Addr, port: u16, limit: Option<u64>) -> ModeResult {
    let sock = UdpSocket::bind(handle, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port))
        .map_err(|e| format!("cannot bind UDP port {port}: {e}"))?;
    say(&format!("ready: udp-echo on {ip}:{port}"));
    let mut buf = vec![0u8; BUF];
    let mut echoed = 0u64;
    while limit.is_none_or(|l| echoed < l) {
        let (n, from) = match sock.recv_from(&mut buf) {
            Ok(x) => x,
            Err(_) if handle.is_stopped() => break,
            Err(e) => return Err(format!("UDP receive failed: {e}")),
        };
        match sock.send_to(&buf[..n], from) {
            Ok(_) => echoed += 1,
            Err(_) if handle.is_stopped() => break,
            Err(e) => eprintln!("synack-tap: cannot echo {n} bytes to {from}: {e}"),
        }
    }
    say(&format!("udp-echo: {echoed} datagrams echoed"));
    Ok(())
}
