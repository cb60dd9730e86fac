//! What each built-in service says: the classic small services (echo RFC 862, discard RFC 863, daytime RFC 867,
//! chargen RFC 864, over TCP and UDP), the tiny HTTP server and the bulk sink, as pure functions of what came in.
//! The server app (`server_app.rs`) moves the bytes.

use std::time::{SystemTime, UNIX_EPOCH};

/// Largest body `/bytes/N` serves.
pub const MAX_HTTP_BYTES: u64 = 1 << 30;
/// Chargen's line: 72 printable characters and CRLF (RFC 864).
const CHARGEN_LINE: u64 = 74;
/// The characters chargen rotates through: the 95 printable ASCII characters.
const PRINTABLE: u64 = 95;
/// Bytes in a UDP chargen answer: six whole lines (RFC 864 allows 0 to 512).
pub const UDP_CHARGEN_LEN: usize = 6 * CHARGEN_LINE as usize;

/// A service and the transport it runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Service {
    Echo,
    Discard,
    Daytime,
    Chargen,
    Http,
    /// Reads each connection to its end; `hash`: and prints the sha256 of what it read.
    Recv {
        hash: bool,
    },
    UdpEcho,
    UdpDiscard,
    UdpDaytime,
    UdpChargen,
}

impl Service {
    /// The name in messages, `--no-...` flags and stats lines.
    pub fn name(self) -> &'static str {
        match self {
            Service::Echo => "echo",
            Service::Discard => "discard",
            Service::Daytime => "daytime",
            Service::Chargen => "chargen",
            Service::Http => "http",
            Service::Recv { .. } => "recv",
            Service::UdpEcho => "udp-echo",
            Service::UdpDiscard => "udp-discard",
            Service::UdpDaytime => "udp-daytime",
            Service::UdpChargen => "udp-chargen",
        }
    }

    pub fn is_udp(self) -> bool {
        matches!(self, Service::UdpEcho | Service::UdpDiscard | Service::UdpDaytime | Service::UdpChargen)
    }

    /// The standard port (RFC 862/863/867/864, HTTP); the bulk sink's is synack-tap's own choice.
    pub fn standard_port(self) -> u16 {
        match self {
            Service::Echo | Service::UdpEcho => 7,
            Service::Discard | Service::UdpDiscard => 9,
            Service::Daytime | Service::UdpDaytime => 13,
            Service::Chargen | Service::UdpChargen => 19,
            Service::Http => 80,
            Service::Recv { .. } => 5001,
        }
    }
}

/// A service on a port.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub service: Service,
    pub port: u16,
}

/// The daytime answer (RFC 867 leaves the format open; this is its suggested one, in UTC):
/// `Sunday, December 6, 2026 22:14:03-UTC` and CRLF.
pub fn daytime_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    daytime_text(secs)
}

fn daytime_text(unix_secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thursday", "Friday", "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday"];
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let days = unix_secs / 86_400;
    let (year, month, day) = civil_from_days(days);
    let t = unix_secs % 86_400;
    format!(
        "{}, {} {day}, {year} {:02}:{:02}:{:02}-UTC\r\n",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

/// (year, month 1..=12, day 1..=31) of a day counted from 1970-01-01, in the proleptic Gregorian calendar:
/// days are counted in 400-year eras of 146 097 days whose years start in March, so the leap day ends a year.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Appends chargen's stream (RFC 864: lines of 72 characters, each starting one character further along the
/// 95 printable ones, CRLF-terminated) from byte `offset` on, `len` bytes.
pub fn chargen(offset: u64, len: usize, out: &mut Vec<u8>) {
    out.reserve(len);
    for k in offset..offset + len as u64 {
        let (line, col) = (k / CHARGEN_LINE, k % CHARGEN_LINE);
        out.push(match col {
            72 => b'\r',
            73 => b'\n',
            _ => ((line + col) % PRINTABLE + 32) as u8,
        });
    }
}

/// The body of an HTTP response.
pub enum Body {
    Text(String),
    /// `n` bytes of the repeating pattern `0..=250`.
    Pattern(u64),
}

impl Body {
    pub fn len(&self) -> u64 {
        match self {
            Body::Text(t) => t.len() as u64,
            Body::Pattern(n) => *n,
        }
    }
}

/// Appends `len` bytes of the `/bytes/N` pattern (byte i is i mod 251) from byte `offset` on.
pub fn http_pattern(offset: u64, len: usize, out: &mut Vec<u8>) {
    out.extend((offset..offset + len as u64).map(|i| (i % 251) as u8));
}

/// The status and body for a request line's method and path.
pub fn route(method: &str, path: &str) -> (&'static str, Body) {
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

/// An HTTP request head, answered: the method and path it named, the status, the header to send, and the body
/// (`None` for HEAD).
pub struct Answer {
    pub method: String,
    pub path: String,
    pub status: &'static str,
    pub header: String,
    pub body: Option<Body>,
}

/// Answers a complete request head (everything up to the blank line).
pub fn http_answer(head: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(head);
    let mut words = text.lines().next().unwrap_or_default().split_whitespace();
    let (method, path) = (words.next().unwrap_or_default().to_string(), words.next().unwrap_or_default().to_string());
    let (status, body) = route(&method, &path);
    let header = format!(
        "HTTP/1.1 {status}\r\nServer: synack\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let body = (method != "HEAD").then_some(body);
    Answer { method, path, status, header, body }
}

/// Where a request head ends (just past the blank line), if it is complete.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daytime_names_the_date_and_time_in_utc() {
        assert_eq!(daytime_text(0), "Thursday, January 1, 1970 00:00:00-UTC\r\n");
        // 2000-02-29 (a leap day of a century year) 12:34:56.
        assert_eq!(daytime_text(951_827_696), "Tuesday, February 29, 2000 12:34:56-UTC\r\n");
        assert_eq!(daytime_text(1_796_595_243), "Sunday, December 6, 2026 22:14:03-UTC\r\n");
    }

    #[test]
    fn chargen_lines_rotate_through_the_printable_characters() {
        let mut out = Vec::new();
        chargen(0, 2 * 74, &mut out);
        assert_eq!(&out[..4], b" !\"#");
        assert_eq!(&out[72..76], b"\r\n!\"");
        assert!(out[..72].iter().all(|b| (32..127).contains(b)));
        // Any offset continues the same stream.
        let mut tail = Vec::new();
        chargen(100, 48, &mut tail);
        assert_eq!(tail, out[100..]);
        // After 95 lines the rotation starts again.
        let mut later = Vec::new();
        chargen(95 * 74, 74, &mut later);
        assert_eq!(later, out[..74]);
    }

    #[test]
    fn http_routes_and_heads() {
        let a = http_answer(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!((a.status, a.body.as_ref().map(Body::len)), ("200 OK", Some(45)));
        assert!(a.header.contains("Content-Length: 45\r\n"));
        let a = http_answer(b"HEAD /bytes/10 HTTP/1.1\r\n\r\n");
        assert!(a.body.is_none() && a.header.contains("Content-Length: 10\r\n"));
        assert_eq!(http_answer(b"GET /bytes/x HTTP/1.1\r\n\r\n").status, "400 Bad Request");
        assert_eq!(http_answer(b"POST / HTTP/1.1\r\n\r\n").status, "405 Method Not Allowed");
        assert_eq!(http_answer(b"\r\n\r\n").status, "405 Method Not Allowed");
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nrest"), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n"), None);
        let mut p = Vec::new();
        http_pattern(250, 3, &mut p);
        assert_eq!(p, [250, 0, 1]);
    }
}
