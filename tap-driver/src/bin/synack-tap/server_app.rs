//! The server modes as one app inside the driver thread (`synack_tap::App`): every listener, UDP socket and
//! connection of every service is served there, event by event, with no thread per connection and no
//! hand-off between threads per call. The main thread installs the app and waits for its outcome.
//!
//! Output: one `ready:` line per service at start, one summary line per service at the end; a line per
//! connection only with `--verbose` (and always for `recv`, whose line is the transfer's report).

use crate::bulk::{hex, rate};
use crate::services::{self, Body, Service, Spec};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use synack::{Command, CommandError, Event, Reply, SocketHandle};
use synack_tap::{App, AppContext, Handle};

/// A connection that makes no progress this long is given up (reset).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How often idle connections are looked for.
const SWEEP: Duration = Duration::from_secs(1);
/// Most bytes read at once; the bulk sink reads everything waiting (its buffer grows to megabytes).
const READ_MAX: usize = 64 * 1024;
const SINK_READ_MAX: usize = 1 << 20;
/// Generated output (chargen, `/bytes/N`) is made in pieces of this size.
const WRITE_CHUNK: usize = 64 * 1024;
/// Longest HTTP request head taken.
const MAX_HEAD: usize = 16 * 1024;
/// Connections waiting in a listener's accept queue: Linux's `somaxconn` (4096). With 128, more handshakes
/// than that completing within one batch of frames (200 clients at once) overflowed it before the servers ran,
/// and those clients waited a second for their SYN to go again.
const BACKLOG: usize = 4096;

/// Prints a line on stdout at once (tests and scripts read it while we run).
pub fn say(line: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// How the servers run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Our address, for the `ready:` lines.
    pub ip: Ipv4Addr,
    /// Stop after this many TCP connections and UDP datagrams, all services together.
    pub limit: Option<u64>,
    /// A line per connection.
    pub verbose: bool,
    /// Bytes a chargen connection sends before it closes.
    pub chargen_bytes: u64,
    /// IPv6 is on: every service listens on [::], taking IPv4 too.
    pub dual_stack: bool,
}

/// Runs `specs` until stopped or until the limit is served; prints the summary.
pub fn serve(handle: &Handle, specs: Vec<Spec>, opts: Options) -> crate::ModeResult {
    let (tx, rx) = mpsc::channel();
    handle.install(Box::new(Servers::new(specs, opts, tx))).map_err(|e| e.to_string())?;
    // The app answers once the limit is served, or when the driver stops.
    let Ok(outcome) = rx.recv() else { return Ok(()) };
    for line in &outcome.lines {
        say(line);
    }
    match outcome.failed {
        0 => Ok(()),
        n => Err(format!("{n} of {} connections failed", outcome.connections)),
    }
}

/// What the servers did, sent to the main thread at the end.
#[derive(Debug)]
struct Outcome {
    lines: Vec<String>,
    connections: u64,
    failed: u64,
}

/// The bytes still to come out of a connection after its outbox.
#[derive(Debug)]
enum Source {
    Nothing,
    /// The `/bytes/N` pattern from byte `next` on, `left` more bytes.
    Pattern {
        next: u64,
        left: u64,
    },
    /// Chargen's stream from byte `next` on, `left` more bytes.
    Chargen {
        next: u64,
        left: u64,
    },
}

impl Source {
    fn is_empty(&self) -> bool {
        match self {
            Source::Nothing => true,
            Source::Pattern { left, .. } | Source::Chargen { left, .. } => *left == 0,
        }
    }

    /// Appends the next piece (at most `WRITE_CHUNK` bytes) to `out`; false when there is nothing more.
    fn fill(&mut self, out: &mut Vec<u8>) -> bool {
        match self {
            Source::Nothing => false,
            Source::Pattern { left: 0, .. } | Source::Chargen { left: 0, .. } => false,
            Source::Pattern { next, left } => {
                let n = (*left).min(WRITE_CHUNK as u64) as usize;
                services::http_pattern(*next, n, out);
                (*next, *left) = (*next + n as u64, *left - n as u64);
                true
            }
            Source::Chargen { next, left } => {
                let n = (*left).min(WRITE_CHUNK as u64) as usize;
                services::chargen(*next, n, out);
                (*next, *left) = (*next + n as u64, *left - n as u64);
                true
            }
        }
    }
}

/// What a connection does with the bytes it reads.
#[derive(Debug)]
enum Input {
    /// Sends them back (reads only once the previous bytes are sent).
    Echo,
    Discard,
    /// Collects an HTTP request head until its blank line.
    HttpHead(Vec<u8>),
    /// Counts them (and hashes them).
    Sink {
        hash: Option<Box<Sha256>>,
        start: Instant,
    },
}

/// One TCP connection of a service.
#[derive(Debug)]
struct Conn {
    spec: usize,
    peer: SocketAddr,
    input: Input,
    /// Bytes to send; `sent` of them are in the stack's send buffer.
    outbox: Vec<u8>,
    sent: usize,
    source: Source,
    /// Send FIN once everything is out (daytime, chargen, HTTP after its answer: the server closes first).
    fin_when_sent: bool,
    fin_sent: bool,
    /// The peer closed its side and everything it sent was read.
    eof: bool,
    bytes_in: u64,
    bytes_out: u64,
    last_active: Instant,
    /// HTTP: `GET / -> 200 OK`, for the lines.
    request: Option<(String, &'static str)>,
}

impl Conn {
    fn output_done(&self) -> bool {
        self.sent == self.outbox.len() && self.source.is_empty()
    }

    /// Takes bytes read from the peer.
    /// Takes bytes the peer sent, as the stack lends them (an echo's outbox was emptied before the read).
    fn take(&mut self, data: &[u8]) -> Result<(), String> {
        match &mut self.input {
            Input::Echo => self.outbox.extend_from_slice(data),
            Input::Discard => {}
            Input::Sink { hash, .. } => {
                if let Some(h) = hash {
                    h.update(data);
                }
            }
            Input::HttpHead(head) => {
                // Search only what came since the last search (and the two bytes an end may have begun with).
                let mut from = head.len().saturating_sub(2);
                head.extend_from_slice(data);
                if from == 0 {
                    head.drain(..services::leading_empty_lines(head));
                }
                from = from.min(head.len());
                let answer = match services::head_end(head, from) {
                    Some(end) if end <= MAX_HEAD => services::http_answer(&head[..end], services::unix_now()),
                    None if head.len() <= MAX_HEAD => return Ok(()),
                    _ => services::http_too_large(head, MAX_HEAD, services::unix_now()),
                };
                self.outbox = answer.header.into_bytes();
                self.sent = 0;
                match answer.body {
                    Some(Body::Text(t)) => self.outbox.extend_from_slice(t.as_bytes()),
                    Some(Body::Pattern(n)) => self.source = Source::Pattern { next: 0, left: n },
                    None => {}
                }
                self.request = Some((format!("{} {}", answer.method, answer.path), answer.status));
                self.fin_when_sent = true;
                // Anything after the head (a body, a pipelined request) is read and dropped.
                self.input = Input::Discard;
            }
        }
        Ok(())
    }
}

/// One service's counts, for its summary line.
#[derive(Debug, Default)]
struct Tally {
    connections: u64,
    failed: u64,
    bytes_in: u64,
    bytes_out: u64,
    datagrams: u64,
    statuses: BTreeMap<&'static str, u64>,
}

/// What happened to a connection in one round of work.
enum Progress {
    Open,
    Closed,
}

/// The app: listeners and UDP sockets by service, and the open connections.
struct Servers {
    specs: Vec<Spec>,
    opts: Options,
    listeners: BTreeMap<SocketHandle, usize>,
    udp: BTreeMap<SocketHandle, usize>,
    conns: BTreeMap<SocketHandle, Conn>,
    tallies: Vec<Tally>,
    /// TCP connections accepted plus UDP datagrams answered, all services.
    served: u64,
    /// Where the next UDP chargen answer starts in chargen's stream (each starts a line further).
    udp_chargen_next: u64,
    next_sweep: Instant,
    done: Option<mpsc::Sender<Outcome>>,
}

impl Servers {
    fn new(specs: Vec<Spec>, opts: Options, done: mpsc::Sender<Outcome>) -> Servers {
        Servers {
            tallies: specs.iter().map(|_| Tally::default()).collect(),
            specs,
            opts,
            listeners: BTreeMap::new(),
            udp: BTreeMap::new(),
            conns: BTreeMap::new(),
            served: 0,
            udp_chargen_next: 0,
            next_sweep: Instant::now(),
            done: Some(done),
        }
    }

    fn limit_reached(&self) -> bool {
        self.opts.limit.is_some_and(|l| self.served >= l)
    }

    fn accept(&mut self, cx: &mut AppContext<'_>, listener: SocketHandle, spec: usize) {
        while !self.limit_reached() {
            let (sock, peer) = match cx.command(Command::TcpAccept { listener }) {
                Ok(Reply::Accepted { sock, remote, .. }) => (sock, remote),
                Err(CommandError::WouldBlock) => break,
                Ok(other) => {
                    eprintln!("synack-tap: unexpected answer to an accept: {other:?}");
                    break;
                }
                Err(e) => {
                    eprintln!("synack-tap: accept failed: {e}");
                    break;
                }
            };
            self.served += 1;
            self.tallies[spec].connections += 1;
            let mut conn = Conn {
                spec,
                peer,
                input: Input::Discard,
                outbox: Vec::new(),
                sent: 0,
                source: Source::Nothing,
                fin_when_sent: false,
                fin_sent: false,
                eof: false,
                bytes_in: 0,
                bytes_out: 0,
                last_active: cx.now(),
                request: None,
            };
            match self.specs[spec].service {
                Service::Echo => conn.input = Input::Echo,
                Service::Daytime => {
                    conn.outbox = services::daytime_now().into_bytes();
                    conn.fin_when_sent = true;
                }
                Service::Chargen => {
                    conn.source = Source::Chargen { next: 0, left: self.opts.chargen_bytes };
                    conn.fin_when_sent = true;
                }
                Service::Http => conn.input = Input::HttpHead(Vec::new()),
                Service::Recv { hash } => {
                    conn.input = Input::Sink { hash: hash.then(|| Box::new(Sha256::new())), start: cx.now() }
                }
                _ => {}
            }
            if self.conns.is_empty() {
                self.next_sweep = cx.now() + SWEEP;
            }
            self.conns.insert(sock, conn);
            self.pump(cx, sock);
        }
    }

    /// Stops taking connections and datagrams.
    fn stop_listening(&mut self, cx: &mut AppContext<'_>) {
        for (sock, _) in std::mem::take(&mut self.listeners) {
            let _ = cx.command(Command::TcpClose { sock });
        }
        for (sock, _) in std::mem::take(&mut self.udp) {
            let _ = cx.command(Command::UdpClose { sock });
        }
    }

    /// Does what a connection can do now: send, read, close.
    fn pump(&mut self, cx: &mut AppContext<'_>, sock: SocketHandle) {
        let Some(mut conn) = self.conns.remove(&sock) else { return };
        match drive(cx, sock, &mut conn) {
            Ok(Progress::Open) => {
                self.conns.insert(sock, conn);
            }
            Ok(Progress::Closed) => self.finish(conn, None),
            Err(e) => {
                let _ = cx.command(Command::TcpAbort { sock });
                self.finish(conn, Some(e));
            }
        }
    }

    /// Counts a connection that ended (with `error`, if it failed) and prints its line.
    fn finish(&mut self, conn: Conn, error: Option<String>) {
        let service = self.specs[conn.spec].service;
        let t = &mut self.tallies[conn.spec];
        t.bytes_in += conn.bytes_in;
        t.bytes_out += conn.bytes_out;
        if let Some(e) = error {
            t.failed += 1;
            eprintln!("synack-tap: {} connection from {}: {e}", service.name(), conn.peer);
            return;
        }
        if let Some((_, status)) = &conn.request {
            *t.statuses.entry(status).or_default() += 1;
        }
        let line = match (&conn.input, &conn.request) {
            (Input::Sink { hash, start }, _) => {
                let digest = hash.as_ref().map(|h| format!(" sha256 {}", hex(&(**h).clone().finalize())));
                let digest = digest.unwrap_or_default();
                Some(format!("received {} bytes{digest} in {}", conn.bytes_in, rate(conn.bytes_in, start.elapsed())))
            }
            _ if !self.opts.verbose => None,
            (_, Some((request, status))) => Some(format!("http: {request} -> {status}")),
            _ => Some(match service {
                Service::Echo => format!("echo: {} bytes echoed", conn.bytes_out),
                Service::Discard => format!("discard: {} bytes discarded", conn.bytes_in),
                Service::Http => "http: connection closed before a complete request".to_string(),
                s => format!("{}: {} bytes sent", s.name(), conn.bytes_out),
            }),
        };
        if let Some(line) = line {
            say(&format!("{line} (peer {})", conn.peer));
        }
    }

    fn on_datagrams(&mut self, cx: &mut AppContext<'_>, sock: SocketHandle, spec: usize) {
        while !self.limit_reached() {
            let (from, data) = match cx.command(Command::UdpRecv { sock }) {
                Ok(Reply::Datagram { from, data }) => (from, data),
                Err(CommandError::WouldBlock) => break,
                Ok(other) => {
                    eprintln!("synack-tap: unexpected answer to a UDP receive: {other:?}");
                    break;
                }
                Err(e) => {
                    eprintln!("synack-tap: UDP receive failed: {e}");
                    break;
                }
            };
            self.served += 1;
            let got = data.len();
            let t = &mut self.tallies[spec];
            t.datagrams += 1;
            t.bytes_in += got as u64;
            let answer = match self.specs[spec].service {
                Service::UdpEcho => Some(data),
                Service::UdpDaytime => Some(services::daytime_now().into_bytes()),
                Service::UdpChargen => {
                    let mut out = Vec::new();
                    services::chargen(self.udp_chargen_next, services::UDP_CHARGEN_LEN, &mut out);
                    self.udp_chargen_next += 74;
                    Some(out)
                }
                _ => None,
            };
            if let Some(answer) = answer {
                let n = answer.len();
                match cx.command(Command::UdpSendTo { sock, remote: from, data: answer }) {
                    Ok(_) => self.tallies[spec].bytes_out += n as u64,
                    Err(e) => eprintln!("synack-tap: cannot answer {from} with {n} bytes: {e}"),
                }
            }
            if self.opts.verbose {
                say(&format!("{}: {got} bytes from {from}", self.specs[spec].service.name()));
            }
        }
    }

    /// Once the limit is served and every connection ended: stop listening, and the outcome to the main thread.
    /// (Connections past the limit wait unaccepted until then, as in a listener's backlog.)
    fn check_done(&mut self, cx: &mut AppContext<'_>) {
        if self.limit_reached() && self.conns.is_empty() && self.done.is_some() {
            self.stop_listening(cx);
            self.report();
        }
    }

    fn report(&mut self) {
        let Some(done) = self.done.take() else { return };
        let lines = self.specs.iter().zip(&self.tallies).map(|(s, t)| summary(s.service, t)).collect();
        let connections = self.tallies.iter().map(|t| t.connections).sum();
        let failed = self.tallies.iter().map(|t| t.failed).sum();
        let _ = done.send(Outcome { lines, connections, failed });
    }
}

/// A service's summary line.
fn summary(service: Service, t: &Tally) -> String {
    let failed = if t.failed > 0 { format!(", {} failed", t.failed) } else { String::new() };
    let conns = format!("{} connection{}{failed}", t.connections, if t.connections == 1 { "" } else { "s" });
    match service {
        Service::Echo => format!("echo: {} bytes echoed ({conns})", t.bytes_out),
        Service::Discard => format!("discard: {} bytes discarded ({conns})", t.bytes_in),
        Service::Daytime => format!("daytime: {conns}"),
        Service::Chargen => format!("chargen: {} bytes sent ({conns})", t.bytes_out),
        Service::Http => {
            let answered: u64 = t.statuses.values().sum();
            let statuses: Vec<String> = t.statuses.iter().map(|(s, n)| format!("{n} × {s}")).collect();
            format!("http: {answered} requests answered ({conns}){}", prefixed(": ", &statuses.join(", ")))
        }
        Service::Recv { .. } => format!("recv: {} bytes received ({conns})", t.bytes_in),
        Service::UdpEcho => format!("udp-echo: {} datagrams echoed", t.datagrams),
        Service::UdpDiscard => format!("udp-discard: {} datagrams discarded", t.datagrams),
        Service::UdpDaytime | Service::UdpChargen => format!("{}: {} datagrams answered", service.name(), t.datagrams),
    }
}

fn prefixed(prefix: &str, s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("{prefix}{s}")
    }
}

/// One round of work on a connection: send what is waiting and what its source makes, read what came, and
/// close when both directions are done. Ends when nothing more can be done until the next event.
fn drive(cx: &mut AppContext<'_>, sock: SocketHandle, c: &mut Conn) -> Result<Progress, String> {
    loop {
        let mut progress = false;
        loop {
            if c.sent == c.outbox.len() {
                c.outbox.clear();
                c.sent = 0;
                if !c.source.fill(&mut c.outbox) {
                    break;
                }
            }
            match cx.tcp_send(sock, &c.outbox[c.sent..]) {
                Ok(0) | Err(CommandError::WouldBlock) => break,
                Ok(n) => {
                    c.sent += n;
                    c.bytes_out += n as u64;
                    progress = true;
                }
                Err(e) => return Err(format!("send failed: {e}")),
            }
        }
        // An echo reads on only once what it read before is sent (the peer's data waits in the stack).
        let may_read = !c.eof && (!matches!(c.input, Input::Echo) || c.output_done());
        if may_read {
            let max = if matches!(c.input, Input::Sink { .. }) { SINK_READ_MAX } else { READ_MAX };
            if matches!(c.input, Input::Echo) {
                c.outbox.clear();
                c.sent = 0;
            }
            let mut failed = None;
            let read = cx.tcp_read(sock, max, |bytes| {
                if failed.is_none() {
                    failed = c.take(bytes).err();
                }
            });
            match read {
                Ok(0) => {
                    c.eof = true;
                    progress = true;
                    // A client that connects and leaves without a byte (a browser's preconnect, a load
                    // tool's probe) is no failure; one that stops inside a request is.
                    if matches!(&c.input, Input::HttpHead(head) if !head.is_empty()) {
                        return Err("the peer closed before a complete HTTP request".into());
                    }
                }
                Ok(n) => {
                    c.bytes_in += n as u64;
                    progress = true;
                    if let Some(e) = failed {
                        return Err(e);
                    }
                }
                Err(CommandError::WouldBlock) => {}
                Err(e) => return Err(format!("receive failed: {e}")),
            }
        }
        if c.output_done() {
            if c.eof {
                // Everything read and sent: close (our FIN, if not sent yet) and let the stack finish.
                cx.command(Command::TcpClose { sock }).map_err(|e| format!("close failed: {e}"))?;
                return Ok(Progress::Closed);
            }
            if c.fin_when_sent && !c.fin_sent {
                cx.command(Command::TcpShutdown { sock }).map_err(|e| format!("shutdown failed: {e}"))?;
                c.fin_sent = true;
            }
        }
        if progress {
            c.last_active = cx.now();
        } else {
            return Ok(Progress::Open);
        }
    }
}

impl App for Servers {
    fn start(&mut self, cx: &mut AppContext<'_>) -> Result<(), String> {
        for (i, spec) in self.specs.iter().enumerate() {
            let (service, port) = (spec.service, spec.port);
            let local = if self.opts.dual_stack {
                SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, port))
            } else {
                SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))
            };
            let (cmd, proto) = if service.is_udp() {
                (Command::UdpBind { local }, "UDP")
            } else {
                (Command::TcpListen { local, backlog: BACKLOG }, "TCP")
            };
            match cx.command(cmd) {
                Ok(Reply::Bound { sock, .. }) => {
                    if self.opts.dual_stack {
                        cx.command(Command::SetIpv6Only { sock, ipv6_only: false })
                            .map_err(|e| format!("cannot take IPv4 too on {proto} port {port}: {e}"))?;
                    }
                    if service.is_udp() {
                        self.udp.insert(sock, i);
                    } else {
                        self.listeners.insert(sock, i);
                    }
                }
                Ok(other) => return Err(format!("unexpected answer to binding {proto} port {port}: {other:?}")),
                Err(e) => return Err(format!("cannot listen on {proto} port {port} ({}): {e}", service.name())),
            }
        }
        for spec in &self.specs {
            let what = match spec.service {
                Service::Chargen => format!(" ({} bytes per connection)", self.opts.chargen_bytes),
                _ => String::new(),
            };
            say(&format!("ready: {} on {}:{}{what}", spec.service.name(), self.opts.ip, spec.port));
        }
        Ok(())
    }

    fn on_event(&mut self, cx: &mut AppContext<'_>, sock: SocketHandle, event: &Event) {
        if let Some(&spec) = self.listeners.get(&sock) {
            if matches!(event, Event::Acceptable) {
                self.accept(cx, sock, spec);
            }
        } else if let Some(&spec) = self.udp.get(&sock) {
            if matches!(event, Event::Readable) {
                self.on_datagrams(cx, sock, spec);
            }
        } else if self.conns.contains_key(&sock) {
            match event {
                Event::Reset | Event::TimedOut { .. } => {
                    let why = if matches!(event, Event::Reset) { "reset by the peer" } else { "timed out" };
                    if let Some(conn) = self.conns.remove(&sock) {
                        self.finish(conn, Some(why.to_string()));
                    }
                }
                _ => self.pump(cx, sock),
            }
        }
        self.check_done(cx);
    }

    fn next_deadline(&self) -> Option<Instant> {
        (!self.conns.is_empty()).then_some(self.next_sweep)
    }

    /// Resets connections idle for `IDLE_TIMEOUT`.
    fn on_timer(&mut self, cx: &mut AppContext<'_>) {
        let now = cx.now();
        self.next_sweep = now + SWEEP;
        let idle: Vec<SocketHandle> = self
            .conns
            .iter()
            .filter(|(_, c)| now.duration_since(c.last_active) >= IDLE_TIMEOUT)
            .map(|(s, _)| *s)
            .collect();
        for sock in idle {
            if let Some(conn) = self.conns.remove(&sock) {
                let _ = cx.command(Command::TcpAbort { sock });
                self.finish(conn, Some(format!("idle for {IDLE_TIMEOUT:?}, reset")));
            }
        }
        self.check_done(cx);
    }

    fn on_stop(&mut self) {
        self.report();
    }
}

/// The built-in HTTP server (this app, as `synack-tap http` runs it) against HTTP/1.1 clients, over two
/// drivers joined by a socket pair (no root needed).
#[cfg(test)]
mod http_conformance {
    use super::*;
    use std::io::{Read, Write};
    use synack_tap::{Driver, PairLink, TcpStream};

    /// A client driver and a server driver running the HTTP service on port 80.
    fn http_server() -> (Driver, Driver, mpsc::Receiver<Outcome>) {
        let (a, b) = PairLink::pair().unwrap();
        let (client, server) =
            (Driver::start(a, PairLink::host_config(1)).unwrap(), Driver::start(b, PairLink::host_config(2)).unwrap());
        let opts = Options {
            ip: Ipv4Addr::new(10, 99, 0, 2),
            limit: None,
            verbose: false,
            chargen_bytes: 0,
            dual_stack: false,
        };
        let (tx, rx) = mpsc::channel();
        let specs = vec![Spec { service: Service::Http, port: 80 }];
        server.handle().install(Box::new(Servers::new(specs, opts, tx))).unwrap();
        (client, server, rx)
    }

    fn connect(client: &Driver) -> TcpStream {
        let s = TcpStream::connect_timeout(&client.handle(), "10.99.0.2:80".parse().unwrap(), Duration::from_secs(5))
            .unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }

    /// Sends `request` and reads until the server closes.
    fn exchange(client: &Driver, request: &[u8]) -> io::Result<String> {
        let mut s = connect(client);
        s.write_all(request)?;
        let mut got = Vec::new();
        s.read_to_end(&mut got)?;
        Ok(String::from_utf8_lossy(&got).into_owned())
    }

    fn status(response: &str) -> &str {
        response.lines().next().unwrap_or_default()
    }

    fn has_header(response: &str, name: &str) -> bool {
        let head = response.split("\r\n\r\n").next().unwrap_or_default();
        head.lines().skip(1).any(|l| l.to_ascii_lowercase().starts_with(&format!("{}:", name.to_ascii_lowercase())))
    }

    /// RFC 9110 §6.6.1: an origin server with a clock MUST send Date in every 2xx, 3xx and 4xx response.
    #[test]
    fn http_responses_carry_a_date() {
        let (c, _s, _rx) = http_server();
        let r = exchange(&c, b"GET / HTTP/1.1\r\nHost: 10.99.0.2\r\n\r\n").unwrap();
        assert_eq!(status(&r), "HTTP/1.1 200 OK");
        assert!(has_header(&r, "Server"), "{r}");
        assert!(has_header(&r, "Date"), "no Date header: {r}");
    }

    /// RFC 9110 §15.5.6: a 405 MUST carry Allow, listing the methods the resource supports.
    #[test]
    fn http_405_names_the_allowed_methods() {
        let (c, _s, _rx) = http_server();
        let r = exchange(&c, b"POST / HTTP/1.1\r\nHost: 10.99.0.2\r\nContent-Length: 5\r\n\r\nhello").unwrap();
        assert_eq!(status(&r), "HTTP/1.1 405 Method Not Allowed");
        assert!(has_header(&r, "Allow"), "405 without Allow: {r}");
    }

    /// RFC 9110 §9.1: an unrecognized method SHOULD get 501 (405 is for a known method the resource refuses).
    #[test]
    fn http_unknown_method_is_501() {
        let (c, _s, _rx) = http_server();
        let r = exchange(&c, b"BREW / HTTP/1.1\r\nHost: 10.99.0.2\r\n\r\n").unwrap();
        assert_eq!(status(&r), "HTTP/1.1 501 Not Implemented", "{r}");
    }

    /// RFC 9112 §2.2 and §3: a request line that does not match `method SP request-target SP HTTP-version`
    /// gets 400.
    #[test]
    fn http_malformed_request_line_is_400() {
        let (c, _s, _rx) = http_server();
        for bad in [&b"hello\r\n\r\n"[..], b"GET\r\nHost: x\r\n\r\n", b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n"] {
            let r = exchange(&c, bad).unwrap();
            assert_eq!(status(&r), "HTTP/1.1 400 Bad Request", "{:?} -> {r}", String::from_utf8_lossy(bad));
        }
    }

    /// RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF) before the request line (clients
    /// send one after a POST body).
    #[test]
    fn http_ignores_a_leading_empty_line() {
        let (c, _s, _rx) = http_server();
        let r = exchange(&c, b"\r\nGET / HTTP/1.1\r\nHost: 10.99.0.2\r\n\r\n").unwrap();
        assert_eq!(status(&r), "HTTP/1.1 200 OK", "{r}");
    }

    /// RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host, or with two.
    #[test]
    fn http_1_1_without_host_is_400() {
        let (c, _s, _rx) = http_server();
        let r = exchange(&c, b"GET / HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(status(&r), "HTTP/1.1 400 Bad Request", "{r}");
        let r = exchange(&c, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").unwrap();
        assert_eq!(status(&r), "HTTP/1.1 400 Bad Request", "{r}");
    }

    /// RFC 9112 §3.2.2: a server MUST accept the absolute form of the request target.
    #[test]
    fn http_accepts_absolute_form() {
        let (c, _s, _rx) = http_server();
        let r = exchange(&c, b"GET http://10.99.0.2/bytes/3 HTTP/1.1\r\nHost: 10.99.0.2\r\n\r\n").unwrap();
        assert_eq!(status(&r), "HTTP/1.1 200 OK", "{r}");
    }

    /// RFC 9110 §5.4: fields larger than the server wishes to process MUST get a 4xx (431, RFC 6585 §5); RFC 9112
    /// §3: a request target too long MUST get 414. The server used to reset the connection instead: the client
    /// saw "connection reset by peer" and no answer.
    #[test]
    fn http_oversized_head_gets_a_4xx_not_a_reset() {
        let (c, _s, _rx) = http_server();
        let mut big = b"GET / HTTP/1.1\r\nHost: 10.99.0.2\r\nX-Big: ".to_vec();
        big.extend(std::iter::repeat_n(b'a', 20_000));
        big.extend_from_slice(b"\r\n\r\n");
        let r = exchange(&c, &big);
        let r = r.unwrap_or_else(|e| panic!("oversized header: {:?} {e}", e.kind()));
        assert!(r.starts_with("HTTP/1.1 431") || r.starts_with("HTTP/1.1 400"), "{r}");
        let mut long = b"GET /".to_vec();
        long.extend(std::iter::repeat_n(b'a', 20_000));
        long.extend_from_slice(b" HTTP/1.1\r\nHost: 10.99.0.2\r\n\r\n");
        let r = exchange(&c, &long).unwrap_or_else(|e| panic!("long target: {:?} {e}", e.kind()));
        assert!(r.starts_with("HTTP/1.1 414"), "{r}");
    }

    /// Things that work: HEAD, Content-Length, Connection: close, pipelined requests (the first answered, then a
    /// clean close, RFC 9112 §9.6), a POST body consumed, HTTP/1.0, a head in 1-byte segments.
    #[test]
    fn http_basics() {
        let (c, _s, _rx) = http_server();
        let r = exchange(&c, b"HEAD /bytes/10 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert!(r.ends_with("\r\n\r\n") && r.contains("Content-Length: 10\r\n"), "{r:?}");
        let mut s = connect(&c);
        s.write_all(b"GET /bytes/1000 HTTP/1.0\r\n\r\n").unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        let end = services::head_end(&got, 0).unwrap();
        let head = String::from_utf8_lossy(&got[..end]);
        assert!(head.contains("Content-Length: 1000") && head.contains("Connection: close"));
        assert_eq!(got.len() - end, 1000);
        let r = exchange(&c, b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/5 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(r.matches("HTTP/1.1 ").count(), 1, "{r}");
        let mut s = connect(&c);
        s.set_nodelay(true).unwrap();
        for b in b"GET /bytes/7 HTTP/1.1\r\nHost: x\r\n\r\n" {
            s.write_all(&[*b]).unwrap();
        }
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        assert!(got.starts_with(b"HTTP/1.1 200 OK") && got.ends_with(&[0, 1, 2, 3, 4, 5, 6]));
    }

    /// 50 concurrent clients are answered while one slow client holds a half-sent head.
    #[test]
    fn http_concurrent_clients_not_serialised() {
        let (c, _s, _rx) = http_server();
        let mut slow = connect(&c);
        slow.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
        let start = Instant::now();
        let handle = c.handle();
        let threads: Vec<_> = (0..50)
            .map(|_| {
                let h = handle.clone();
                std::thread::spawn(move || {
                    let mut s = TcpStream::connect_timeout(&h, "10.99.0.2:80".parse().unwrap(), Duration::from_secs(5))
                        .unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    s.write_all(b"GET /bytes/20000 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
                    let mut got = Vec::new();
                    s.read_to_end(&mut got).unwrap();
                    got.len()
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().unwrap() > 20_000);
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
        slow.write_all(b"st: x\r\n\r\n").unwrap();
        let mut got = Vec::new();
        slow.read_to_end(&mut got).unwrap();
        assert!(got.starts_with(b"HTTP/1.1 200 OK"));
    }
}
