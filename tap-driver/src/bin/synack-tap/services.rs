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
    daytime_text(unix_now())
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
    let t = UtcTime::of(unix_secs);
    format!(
        "{}, {} {}, {} {:02}:{:02}:{:02}-UTC\r\n",
        DAYS[t.weekday],
        MONTHS[t.month - 1],
        t.day,
        t.year,
        t.hour,
        t.minute,
        t.second
    )
}

/// A moment in UTC, split for formatting.
struct UtcTime {
    /// 0 for Thursday (1970-01-01 was one), through 6.
    weekday: usize,
    year: u64,
    /// 1..=12.
    month: usize,
    day: u64,
    hour: u64,
    minute: u64,
    second: u64,
}

impl UtcTime {
    fn of(unix_secs: u64) -> UtcTime {
        let days = unix_secs / 86_400;
        let (year, month, day) = civil_from_days(days);
        let t = unix_secs % 86_400;
        UtcTime {
            weekday: (days % 7) as usize,
            year,
            month: month as usize,
            day,
            hour: t / 3600,
            minute: t / 60 % 60,
            second: t % 60,
        }
    }
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

/// Methods HTTP defines (RFC 9110 §9, PATCH RFC 5789): those but GET and HEAD are known and not allowed here
/// (405); any other is not implemented (501).
const KNOWN_METHODS: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];
/// What a 405 names in its `Allow` field (RFC 9110 §15.5.6).
const ALLOWED: &str = "GET, HEAD";
/// Longest request line read (nginx's default buffer is 8 KiB too): a longer target gets 414.
pub const MAX_REQUEST_LINE: usize = 8 * 1024;

/// The status and body for a method and a path (an origin-form target without its query).
pub fn route(method: &str, path: &str) -> (&'static str, Body) {
    if method != "GET" && method != "HEAD" {
        if KNOWN_METHODS.contains(&method) {
            return ("405 Method Not Allowed", Body::Text(format!("method {method} is not supported\n")));
        }
        return ("501 Not Implemented", Body::Text(format!("method {method} is not implemented\n")));
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

/// An HTTP request head, answered: the method and target it named, the status, the header to send, and the
/// body (`None` for HEAD).
pub struct Answer {
    pub method: String,
    pub path: String,
    pub status: &'static str,
    pub header: String,
    pub body: Option<Body>,
}

/// A request head that does not follow RFC 9112: 400, with why.
fn bad_request(why: &str) -> (&'static str, Body) {
    ("400 Bad Request", Body::Text(format!("{why}\n")))
}

/// The lines of a head: CRLF-terminated, or LF alone (RFC 9112 §2.2 lets a server accept it, and `nc` sends it).
fn head_lines(head: &str) -> impl Iterator<Item = &str> {
    head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l))
}

/// The path an origin-form or absolute-form target (RFC 9112 §3.2.1, §3.2.2: a server MUST accept both) names,
/// without its query.
fn target_path(target: &str) -> Option<&str> {
    let path = if target.starts_with('/') {
        target
    } else {
        let scheme_end = target.find("://")?;
        if !target[..scheme_end].eq_ignore_ascii_case("http") && !target[..scheme_end].eq_ignore_ascii_case("https") {
            return None;
        }
        let rest = &target[scheme_end + 3..];
        rest.find(['/', '?']).map_or("/", |i| if rest[i..].starts_with('/') { &rest[i..] } else { "/" })
    };
    Some(path.split('?').next().unwrap_or(path))
}

/// Checks a head's request line and fields (RFC 9112 §3, §5) and routes it: the method, the target and the
/// status with its body. Empty lines before the request line are ignored (§2.2).
fn parse_and_route(head: &str) -> (String, String, &'static str, Body) {
    let mut lines = head_lines(head).skip_while(|l| l.is_empty());
    let line = lines.next().unwrap_or_default();
    let words: Vec<&str> = line.split(' ').collect();
    let (method, target) = (words.first().copied().unwrap_or_default(), words.get(1).copied().unwrap_or_default());
    let (method_s, target_s) = (method.to_string(), target.to_string());
    let reply = |(status, body): (&'static str, Body)| (method_s.clone(), target_s.clone(), status, body);
    if words.len() != 3 || words.iter().any(|w| w.is_empty()) {
        return reply(bad_request("a request line is: method SP request-target SP HTTP-version"));
    }
    let version = words[2];
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        let v = version.as_bytes();
        let http_like = v.len() == 8 && v.starts_with(b"HTTP/") && v[5].is_ascii_digit() && v[6] == b'.';
        if http_like && v[7].is_ascii_digit() {
            return reply(("505 HTTP Version Not Supported", Body::Text("HTTP/1.1 and HTTP/1.0 only\n".into())));
        }
        return reply(bad_request("no HTTP version"));
    }
    let mut hosts = 0;
    for field in lines.take_while(|l| !l.is_empty()) {
        // RFC 9112 §5.1: no whitespace before the colon; §5.2: no line folding.
        let Some((name, _)) = field.split_once(':') else { return reply(bad_request("a field line without a colon")) };
        if name.is_empty() || name.contains([' ', '\t']) || field.starts_with([' ', '\t']) {
            return reply(bad_request("a malformed field name"));
        }
        hosts += usize::from(name.eq_ignore_ascii_case("host"));
    }
    // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without exactly one Host field.
    if hosts > 1 || (hosts == 0 && version == "HTTP/1.1") {
        return reply(bad_request("an HTTP/1.1 request names its Host once"));
    }
    let Some(path) = target_path(target) else {
        return reply(bad_request("the target is a path (or an http:// URL)"));
    };
    let answer = route(method, path);
    reply(answer)
}

/// Answers a complete request head (everything up to the blank line); `unix_secs` is the time for `Date`.
pub fn http_answer(head: &[u8], unix_secs: u64) -> Answer {
    let text = String::from_utf8_lossy(head);
    let (method, path, status, body) = parse_and_route(&text);
    respond(method, path, status, body, unix_secs)
}

/// Answers a head that grew past what the server reads (`max`): 414 when its request line alone is longer than
/// [`MAX_REQUEST_LINE`] (RFC 9112 §3), else 431 (RFC 6585 §5). A server MUST answer with a 4xx (RFC 9110 §5.4).
pub fn http_too_large(head: &[u8], max: usize, unix_secs: u64) -> Answer {
    let line_len = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let (status, why) = if line_len > MAX_REQUEST_LINE {
        ("414 URI Too Long", format!("request lines are read up to {MAX_REQUEST_LINE} bytes\n"))
    } else {
        ("431 Request Header Fields Too Large", format!("request heads are read up to {max} bytes\n"))
    };
    let method = String::from_utf8_lossy(head.split(|&b| b == b' ').next().unwrap_or_default()).into_owned();
    respond(method, "(too long)".to_string(), status, Body::Text(why), unix_secs)
}

fn respond(method: String, path: String, status: &'static str, body: Body, unix_secs: u64) -> Answer {
    let allow = if status.starts_with("405") { format!("Allow: {ALLOWED}\r\n") } else { String::new() };
    let header = format!(
        "HTTP/1.1 {status}\r\nDate: {}\r\nServer: synack\r\n{allow}Content-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        http_date(unix_secs),
        body.len()
    );
    let body = (method != "HEAD").then_some(body);
    Answer { method, path, status, header, body }
}

/// Seconds since the Unix epoch now (0 if the clock is before it).
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// RFC 9110 §5.6.7 IMF-fixdate: `Sun, 06 Dec 2026 22:14:03 GMT`.
pub fn http_date(unix_secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let t = UtcTime::of(unix_secs);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[t.weekday],
        t.day,
        MONTHS[t.month - 1],
        t.year,
        t.hour,
        t.minute,
        t.second
    )
}

/// Where a request head ends (just past its empty line: CRLF CRLF, or LF alone for either), if it is complete.
/// The search starts at `from`: a caller collecting a head piece by piece passes where the previous search
/// stopped, less the two bytes an end split across pieces may have begun with.
pub fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = buf.get(at..)?.iter().position(|&b| b == b'\n') {
        let nl = at + i;
        match (buf.get(nl + 1), buf.get(nl + 2)) {
            (Some(b'\n'), _) => return Some(nl + 2),
            (Some(b'\r'), Some(b'\n')) => return Some(nl + 3),
            _ => at = nl + 1,
        }
    }
    None
}

/// How many bytes of empty lines begin `buf` (RFC 9112 §2.2: a server ignores them before a request line).
pub fn leading_empty_lines(buf: &[u8]) -> usize {
    let mut at = 0;
    loop {
        match &buf[at..] {
            [b'\r', b'\n', ..] => at += 2,
            [b'\n', ..] => at += 1,
            _ => return at,
        }
    }
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
        let a = http_answer(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0);
        assert_eq!((a.status, a.body.as_ref().map(Body::len)), ("200 OK", Some(45)));
        assert!(a.header.contains("Content-Length: 45\r\n"));
        let a = http_answer(b"HEAD /bytes/10 HTTP/1.1\r\nHost: x\r\n\r\n", 0);
        assert!(a.body.is_none() && a.header.contains("Content-Length: 10\r\n"));
        let status = |head: &[u8]| http_answer(head, 0).status;
        assert_eq!(status(b"GET /bytes/x HTTP/1.1\r\nHost: x\r\n\r\n"), "400 Bad Request");
        assert_eq!(status(b"GET /bytes/7?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"), "200 OK");
        assert_eq!(status(b"POST / HTTP/1.1\r\nHost: x\r\n\r\n"), "405 Method Not Allowed");
        assert!(http_answer(b"POST / HTTP/1.1\r\nHost: x\r\n\r\n", 0).header.contains("\r\nAllow: GET, HEAD\r\n"));
        assert_eq!(status(b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n"), "501 Not Implemented");
        assert_eq!(status(b"get / HTTP/1.1\r\nHost: x\r\n\r\n"), "501 Not Implemented", "methods are case-sensitive");
        assert_eq!(status(b"\r\n\r\n"), "400 Bad Request");
        assert_eq!(status(b"hello\r\n\r\n"), "400 Bad Request");
        assert_eq!(status(b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n"), "400 Bad Request");
        assert_eq!(status(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n"), "505 HTTP Version Not Supported");
        assert_eq!(status(b"GET / HTTP/1.1\r\n\r\n"), "400 Bad Request", "no Host");
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), "400 Bad Request", "two");
        assert_eq!(status(b"GET / HTTP/1.0\r\n\r\n"), "200 OK", "HTTP/1.0 needs no Host");
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n"), "400 Bad Request", "space before colon");
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n"), "400 Bad Request");
        assert_eq!(status(b"GET http://x/bytes/3 HTTP/1.1\r\nHost: x\r\n\r\n"), "200 OK");
        assert_eq!(status(b"GET http://x HTTP/1.1\r\nHost: x\r\n\r\n"), "200 OK");
        assert_eq!(status(b"GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n"), "400 Bad Request");
        assert_eq!(status(b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), "200 OK", "a leading empty line");
        assert_eq!(status(b"GET / HTTP/1.1\nHost: x\n\n"), "200 OK", "bare LF");
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nrest", 0), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\nrest", 0), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: x\n\r\n", 20), Some(26));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n", 0), None);
        assert_eq!(leading_empty_lines(b"\r\n\nGET"), 3);
        assert_eq!(leading_empty_lines(b"\rGET"), 0);
        let mut p = Vec::new();
        http_pattern(250, 3, &mut p);
        assert_eq!(p, [250, 0, 1]);
    }

    #[test]
    fn http_dates_are_imf_fixdate() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_796_595_243), "Sun, 06 Dec 2026 22:14:03 GMT");
        assert!(http_answer(b"GET / HTTP/1.0\r\n\r\n", 0)
            .header
            .contains("\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n"));
    }

    #[test]
    fn heads_too_large_get_414_or_431() {
        let mut line = b"GET /".to_vec();
        line.extend(std::iter::repeat_n(b'a', MAX_REQUEST_LINE));
        assert_eq!(http_too_large(&line, 16384, 0).status, "414 URI Too Long");
        let mut fields = b"GET / HTTP/1.1\r\nX: ".to_vec();
        fields.extend(std::iter::repeat_n(b'a', 20_000));
        let a = http_too_large(&fields, 16384, 0);
        assert_eq!((a.status, a.method.as_str()), ("431 Request Header Fields Too Large", "GET"));
        assert!(a.header.contains("Connection: close\r\n"));
    }
}
