//! TCP clients: bulk sender (one or many parallel connections) and request/response.

use super::{data_chunk, describe_tcp_failure, outcome_name, App, AppReport, ConnReport, Cx, HashKind, StreamDigest};
use std::net::SocketAddr;

use synack::{Bytes, Command, CommandError, Event, Instant, Reply, SocketHandle};

/// Bytes offered to the stack per `TcpSend`.
const CHUNK: usize = 16 * 1024;

#[derive(Debug)]
struct Conn {
    sock: SocketHandle,
    seed: u64,
    sent: u64,
    digest: StreamDigest,
    shut: bool,
    done: bool,
    report: ConnReport,
}

fn connect(cx: &mut Cx<'_>, remote: SocketAddr, local_port: Option<u16>) -> Result<SocketHandle, String> {
    match cx.command(Command::TcpConnect { remote, local_port }) {
        Ok(Reply::Bound { sock, .. }) => Ok(sock),
        Ok(other) => Err(format!("connect {remote}: unexpected {other:?}")),
        Err(e) => Err(format!("connect {remote}: {e}")),
    }
}

/// Reads and discards whatever is buffered, counting it in `received`; true at end of stream.
fn discard_input(cx: &mut Cx<'_>, sock: SocketHandle, received: &mut u64) -> bool {
    loop {
        match cx.tcp_read(sock, 1 << 20, |_| {}) {
            Ok(0) => return true,
            Ok(n) => *received += n as u64,
            Err(_) => return false,
        }
    }
}

/// Opens `connections` connections to `dst` at once and sends `bytes` of deterministic data on each, then
/// shuts down its side; a connection is done when the peer closes in turn (after reading everything). Whatever
/// the peer sends is read, counted and discarded. With `local_port` (one connection), it connects from that
/// port: two of them aimed at each other's ports make a simultaneous open.
#[derive(Debug)]
pub struct TcpBulk {
    report: AppReport,
    dst: SocketAddr,
    bytes: u64,
    connections: u32,
    seed: u64,
    local_port: Option<u16>,
    hash: HashKind,
    conns: Vec<Conn>,
    failed_to_start: bool,
}

impl TcpBulk {
    pub fn new(report: AppReport, dst: SocketAddr, bytes: u64, connections: u32, seed: u64) -> TcpBulk {
        let (local_port, hash, conns, failed_to_start) = (None, HashKind::Sha256, Vec::new(), false);
        TcpBulk { report, dst, bytes, connections, seed, local_port, hash, conns, failed_to_start }
    }

    /// How each connection hashes what it sent (default: SHA-256).
    pub fn with_hash(mut self, hash: HashKind) -> TcpBulk {
        self.hash = hash;
        self
    }

    /// Connect from this local port instead of an ephemeral one.
    pub fn with_local_port(mut self, port: Option<u16>) -> TcpBulk {
        self.local_port = port;
        self
    }

    /// Offers the rest of the data until the stack takes no more; `room`: what the send buffer takes now.
    fn pump(cx: &mut Cx<'_>, c: &mut Conn, total: u64, mut room: usize) {
        while c.sent < total {
            // Offer at most one byte more than the send buffer takes: the stack accepts what it would have
            // taken from a whole chunk, the refused byte still asks for `Writable`, and no bytes are generated
            // only to be thrown away.
            let len = CHUNK.min((total - c.sent) as usize).min(room.saturating_add(1));
            let data = data_chunk(c.seed, c.sent, len);
            // Hashed before the stack takes the bytes (no copy kept); bytes it refuses are hashed only once.
            c.digest.update_from(c.sent, &data);
            match cx.command(Command::TcpSend { sock: c.sock, data }) {
                Ok(Reply::Sent { len: n }) => {
                    c.sent += n as u64;
                    c.report.bytes_sent = c.sent;
                    if n < len {
                        return; // wait for Writable
                    }
                    room = match room.checked_sub(n) {
                        Some(left) => left,
                        // The stack took more than it had room for, by our count: ask it.
                        None => cx.tcp_info(c.sock).map_or(CHUNK, |i| i.send_buffer.saturating_sub(i.send_queued)),
                    };
                }
                Err(CommandError::WouldBlock) => return,
                other => {
                    c.report.outcome = format!("send: {other:?}");
                    return;
                }
            }
        }
        if !c.shut {
            c.shut = true;
            c.report.digest = c.digest.finish();
            if let Err(e) = cx.command(Command::TcpShutdown { sock: c.sock }) {
                c.report.outcome = format!("shutdown: {e}");
            }
        }
    }
}

impl App for TcpBulk {
    fn start(&mut self, cx: &mut Cx<'_>) {
        for i in 0..self.connections {
            match connect(cx, self.dst, self.local_port) {
                Ok(sock) => {
                    let report = ConnReport { sock: sock.0, started: cx.now(), ..ConnReport::default() };
                    let seed = crate::rng::derive_seed(self.seed, u64::from(i));
                    let (sent, digest, shut, done) = (0, StreamDigest::new(self.hash), false, false);
                    self.conns.push(Conn { sock, seed, sent, digest, shut, done, report });
                }
                Err(e) => {
                    self.report.errors.push(e);
                    self.failed_to_start = true;
                }
            }
        }
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, sock: SocketHandle, event: &Event) {
        let total = self.bytes;
        let Some(c) = self.conns.iter_mut().find(|c| c.sock == sock && !c.done) else { return };
        let room = c.report.snapshot(cx, sock).unwrap_or(CHUNK);
        match event {
            Event::Connected | Event::Writable => Self::pump(cx, c, total, room),
            Event::Readable => {
                discard_input(cx, sock, &mut c.report.bytes_received);
            }
            Event::PeerClosed => {
                discard_input(cx, sock, &mut c.report.bytes_received);
                if c.shut {
                    c.done = true;
                    c.report.finished = Some(cx.now());
                    if c.report.outcome.is_empty() {
                        c.report.outcome = "ok".into();
                    }
                    let _ = cx.command(Command::TcpClose { sock });
                }
            }
            // A soft error (ICMP host unreachable, no ARP reply) is no event: the stack keeps retrying, and
            // says why only if it gives up (`TimedOut { soft_error }`). `Unreachable` is a hard error while
            // opening. Either way, as after `Reset`, the stack has released the handle.
            Event::Closed | Event::Reset | Event::TimedOut { .. } | Event::Unreachable { .. } => {
                c.done = true;
                c.report.finished = Some(cx.now());
                if c.report.outcome.is_empty() || *event != Event::Closed {
                    c.report.outcome = outcome_name(event);
                }
                if let Some(e) = describe_tcp_failure(event, self.dst) {
                    self.report.errors.push(e);
                }
                if *event == Event::Closed {
                    let _ = cx.command(Command::TcpClose { sock }); // `Closed` keeps the handle until then
                }
            }
            _ => {}
        }
        if self.is_finished() && self.report.done_at.is_none() {
            self.report.done_at = Some(cx.now());
        }
    }

    fn is_finished(&self) -> bool {
        self.failed_to_start || self.conns.iter().all(|c| c.done)
    }

    fn report(&self) -> AppReport {
        let mut r = self.report.clone();
        r.conns = self.conns.iter().map(|c| c.report.clone()).collect();
        r.bytes = self.conns.iter().map(|c| c.sent).sum();
        r.count = r.bytes;
        r.complete = !self.failed_to_start
            && self.conns.len() == self.connections as usize
            && self.conns.iter().all(|c| c.done && c.sent == self.bytes && c.report.outcome == "ok");
        r
    }
}

/// Sends `requests` requests of `size` bytes (or the given text) one after the other on one connection, each
/// time waiting for as many bytes of response (an echo server answers), then closes. Records each request's
/// latency.
#[derive(Debug)]
pub struct TcpRequestResponse {
    report: AppReport,
    dst: SocketAddr,
    requests: u32,
    size: usize,
    text: Option<Bytes>,
    local_port: Option<u16>,
    sock: Option<SocketHandle>,
    conn: ConnReport,
    /// Request bytes not yet accepted by the stack (offered again as a reference, never copied).
    pending: Bytes,
    received: u64,
    answered: u32,
    asked_at: Instant,
    done: bool,
}

impl TcpRequestResponse {
    pub fn new(report: AppReport, dst: SocketAddr, requests: u32, size: usize) -> TcpRequestResponse {
        TcpRequestResponse {
            report,
            dst,
            requests,
            size: size.max(1),
            text: None,
            local_port: None,
            sock: None,
            conn: ConnReport::default(),
            pending: Bytes::new(),
            received: 0,
            answered: 0,
            asked_at: Instant::ZERO,
            done: false,
        }
    }

    /// Every request is `text` (whose length replaces `size`).
    pub fn with_text(mut self, text: Option<&str>) -> TcpRequestResponse {
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            self.size = t.len();
            self.text = Some(Bytes::copy_from_slice(t.as_bytes()));
        }
        self
    }

    /// Connect from this local port instead of an ephemeral one.
    pub fn with_local_port(mut self, port: Option<u16>) -> TcpRequestResponse {
        self.local_port = port;
        self
    }

    fn ask(&mut self, cx: &mut Cx<'_>) {
        self.asked_at = cx.now();
        self.pending = match &self.text {
            Some(t) => t.clone(),
            None => Bytes::from(data_chunk(u64::from(self.answered), 0, self.size)),
        };
        self.flush(cx);
    }

    fn flush(&mut self, cx: &mut Cx<'_>) {
        let Some(sock) = self.sock else { return };
        while !self.pending.is_empty() {
            match cx.tcp_write(sock, self.pending.clone()) {
                Ok(len) => {
                    self.conn.bytes_sent += len as u64;
                    let _ = self.pending.split_to(len);
                }
                _ => return,
            }
        }
    }

    fn finish(&mut self, cx: &mut Cx<'_>, outcome: &str) {
        self.done = true;
        self.conn.finished = Some(cx.now());
        self.conn.outcome = outcome.to_string();
        self.report.done_at = Some(cx.now());
    }
}

impl App for TcpRequestResponse {
    fn start(&mut self, cx: &mut Cx<'_>) {
        self.conn.started = cx.now();
        match connect(cx, self.dst, self.local_port) {
            Ok(sock) => {
                self.sock = Some(sock);
                self.conn.sock = sock.0;
            }
            Err(e) => {
                self.report.errors.push(e);
                self.done = true;
            }
        }
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, sock: SocketHandle, event: &Event) {
        if self.done {
            return;
        }
        self.conn.snapshot(cx, sock);
        match event {
            Event::Connected => {
                let _ = cx.command(Command::TcpSetNoDelay { sock, nodelay: true });
                if self.requests == 0 {
                    let _ = cx.command(Command::TcpClose { sock });
                    return self.finish(cx, "ok");
                }
                self.ask(cx);
            }
            Event::Writable => self.flush(cx),
            Event::Readable | Event::PeerClosed => {
                let mut eof = false;
                loop {
                    match cx.tcp_read(sock, 1 << 20, |_| {}) {
                        Ok(0) => {
                            eof = true;
                            break;
                        }
                        Ok(n) => self.received += n as u64,
                        Err(_) => break,
                    }
                }
                self.conn.bytes_received = self.received;
                while self.answered < self.requests
                    && self.received >= (u64::from(self.answered) + 1) * self.size as u64
                {
                    self.answered += 1;
                    self.report.rtts.push(cx.now() - self.asked_at);
                    if self.answered < self.requests {
                        self.ask(cx);
                    }
                }
                if self.answered == self.requests {
                    let _ = cx.command(Command::TcpClose { sock });
                    self.finish(cx, "ok");
                } else if eof {
                    self.finish(cx, "peer closed early");
                }
            }
            Event::Closed | Event::Reset | Event::TimedOut { .. } | Event::Unreachable { .. } => {
                if let Some(e) = describe_tcp_failure(event, self.dst) {
                    self.report.errors.push(e);
                }
                if *event == Event::Closed {
                    let _ = cx.command(Command::TcpClose { sock }); // `Closed` keeps the handle until then
                }
                self.finish(cx, &outcome_name(event));
            }
            _ => {}
        }
    }

    fn is_finished(&self) -> bool {
        self.done
    }

    fn report(&self) -> AppReport {
        let mut r = self.report.clone();
        r.conns = vec![self.conn.clone()];
        r.count = u64::from(self.answered);
        r.bytes = self.received;
        r.complete = self.answered == self.requests && self.conn.outcome == "ok";
        r
    }
}
