//! TCP servers: a sink that reads every connection to end of stream and hashes it, and an echo server.

use super::{data_chunk, describe_tcp_failure, outcome_name, App, AppReport, ConnReport, Cx, HashKind, StreamDigest};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;
use synack::{Bytes, Command, Event, Instant, Reply, SocketHandle};

const BACKLOG: usize = 128;

fn listen(cx: &mut Cx<'_>, report: &mut AppReport, port: u16) -> Option<SocketHandle> {
    let local = cx.wildcard(port);
    match cx.command(Command::TcpListen { local, backlog: BACKLOG }) {
        Ok(Reply::Bound { sock, .. }) => {
            cx.take_both_families(sock);
            Some(sock)
        }
        other => {
            report.errors.push(format!("listen {local}: {other:?}"));
            None
        }
    }
}

/// Accepts every waiting connection, returning their handles.
fn accept_all(cx: &mut Cx<'_>, listener: SocketHandle) -> Vec<(SocketHandle, SocketAddr)> {
    let mut v = Vec::new();
    while let Ok(Reply::Accepted { sock, remote, .. }) = cx.command(Command::TcpAccept { listener }) {
        v.push((sock, remote));
    }
    v
}

/// How a [`TcpSink`] behaves beyond "read everything at once, then close".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkOptions {
    /// Read nothing before this long after accepting: the receive window fills and closes.
    pub read_delay: Duration,
    /// Read at most this many bytes per second (in `read_interval` ticks): a slow reader.
    pub read_rate: Option<u64>,
    /// Tick of a slow reader (default 100 ms).
    pub read_interval: Duration,
    /// After the peer's end of stream, send this many bytes back before closing (half-close exchange).
    pub reply_bytes: u64,
    /// Send FIN as soon as the connection is accepted (still reading to end of stream).
    pub shutdown_at_accept: bool,
}

impl SinkOptions {
    fn slow(&self) -> bool {
        !self.read_delay.is_zero() || self.read_rate.is_some()
    }
    /// Bytes a slow reader may read per tick.
    fn per_tick(&self) -> usize {
        let rate = self.read_rate.unwrap_or(u64::MAX / 2);
        let per = u128::from(rate) * self.read_interval.as_nanos() / 1_000_000_000;
        usize::try_from(per).unwrap_or(usize::MAX).max(1)
    }
}

#[derive(Debug)]
struct SinkConn {
    remote: SocketAddr,
    digest: StreamDigest,
    report: ConnReport,
    /// End of stream read (and the reply, if any, queued).
    done: bool,
    eof: bool,
    closed: bool,
    /// Reading starts at this time.
    read_from: Instant,
    /// Bytes this tick may still read (slow readers).
    budget: usize,
    /// When a slow reader's budget is refilled next.
    refill_at: Instant,
    timer_set: bool,
    reply_sent: u64,
}

/// Accepts connections on `port`, reads each to end of stream, hashes what it read (SHA-256) and closes.
/// Complete when `connections` connections reached end of stream. [`SinkOptions`] make it a slow reader, make
/// it answer after the peer's end of stream, or close first.
#[derive(Debug)]
pub struct TcpSink {
    report: AppReport,
    port: u16,
    connections: u32,
    opts: SinkOptions,
    hash: HashKind,
    listener: Option<SocketHandle>,
    conns: BTreeMap<SocketHandle, SinkConn>,
}

impl TcpSink {
    pub fn new(report: AppReport, port: u16, connections: u32) -> TcpSink {
        let opts = SinkOptions { read_interval: Duration::from_millis(100), ..SinkOptions::default() };
        TcpSink { report, port, connections, opts, hash: HashKind::Sha256, listener: None, conns: BTreeMap::new() }
    }
    pub fn with_options(mut self, opts: SinkOptions) -> TcpSink {
        self.opts = opts;
        self
    }
    /// How each connection hashes what it read (default: SHA-256).
    pub fn with_hash(mut self, hash: HashKind) -> TcpSink {
        self.hash = hash;
        self
    }
    fn finished_ok(&self) -> usize {
        self.conns.values().filter(|c| c.done && c.report.outcome == "ok").count()
    }

    /// Reads what the connection may read now; at end of stream, replies (if asked to) and closes.
    fn pump(opts: &SinkOptions, cx: &mut Cx<'_>, sock: SocketHandle, c: &mut SinkConn) {
        let slow = opts.slow();
        while !c.eof {
            if cx.now() < c.read_from || (slow && c.budget == 0) {
                if !c.timer_set {
                    c.timer_set = true;
                    cx.set_timer(c.read_from.max(c.refill_at), u64::from(sock.0));
                }
                return;
            }
            let max = if slow { c.budget } else { 1 << 20 };
            let digest = &mut c.digest;
            match cx.tcp_read(sock, max, |bytes| digest.update(bytes)) {
                Ok(0) => {
                    c.eof = true;
                    c.report.digest = c.digest.finish();
                }
                Ok(n) => {
                    c.report.bytes_received += n as u64;
                    if slow {
                        c.budget -= n.min(c.budget);
                    }
                }
                Err(_) => return,
            }
        }
        while c.reply_sent < opts.reply_bytes {
            let len = (opts.reply_bytes - c.reply_sent).min(16 * 1024) as usize;
            let data = data_chunk(u64::from(sock.0), c.reply_sent, len);
            match cx.command(Command::TcpSend { sock, data }) {
                Ok(Reply::Sent { len }) if len > 0 => {
                    c.reply_sent += len as u64;
                    c.report.bytes_sent = c.reply_sent;
                }
                _ => return, // wait for Writable
            }
        }
        if !c.closed {
            c.closed = true;
            c.done = true;
            c.report.finished = Some(cx.now());
            c.report.outcome = "ok".into();
            let _ = cx.command(Command::TcpClose { sock });
        }
    }
}

impl App for TcpSink {
    fn start(&mut self, cx: &mut Cx<'_>) {
        self.listener = listen(cx, &mut self.report, self.port);
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, sock: SocketHandle, event: &Event) {
        if Some(sock) == self.listener {
            if *event == Event::Acceptable {
                for (s, remote) in accept_all(cx, sock) {
                    let now = cx.now();
                    let report = ConnReport { sock: s.0, started: now, ..ConnReport::default() };
                    let read_from = now + self.opts.read_delay;
                    self.conns.insert(
                        s,
                        SinkConn {
                            remote,
                            digest: StreamDigest::new(self.hash),
                            report,
                            done: false,
                            eof: false,
                            closed: false,
                            read_from,
                            budget: 0,
                            refill_at: read_from,
                            timer_set: false,
                            reply_sent: 0,
                        },
                    );
                    if self.opts.shutdown_at_accept {
                        if let Err(e) = cx.command(Command::TcpShutdown { sock: s }) {
                            self.report.errors.push(format!("shutdown: {e}"));
                        }
                    }
                }
            }
            return;
        }
        let Some(c) = self.conns.get_mut(&sock) else { return };
        if c.closed && c.report.outcome != "ok" {
            return;
        }
        c.report.snapshot(cx, sock);
        match event {
            Event::Readable | Event::PeerClosed | Event::Writable if !c.closed => {
                Self::pump(&self.opts, cx, sock, c);
            }
            Event::Closed | Event::Reset | Event::TimedOut { .. } => {
                if !c.done {
                    c.done = true;
                    c.report.finished = Some(cx.now());
                    c.report.outcome = outcome_name(event);
                    if let Some(e) = describe_tcp_failure(event, c.remote) {
                        self.report.errors.push(e);
                    }
                }
                c.closed = true;
            }
            _ => {}
        }
        if self.finished_ok() >= self.connections as usize && self.report.done_at.is_none() {
            self.report.done_at = Some(cx.now());
        }
    }

    fn on_timer(&mut self, cx: &mut Cx<'_>, token: u64) {
        let sock = SocketHandle(token as u32);
        let Some(c) = self.conns.get_mut(&sock) else { return };
        c.timer_set = false;
        if cx.now() >= c.refill_at {
            c.budget = self.opts.per_tick();
            c.refill_at = cx.now() + self.opts.read_interval;
        }
        if !c.closed {
            Self::pump(&self.opts, cx, sock, c);
        }
        if self.finished_ok() >= self.connections as usize && self.report.done_at.is_none() {
            self.report.done_at = Some(cx.now());
        }
    }

    fn is_finished(&self) -> bool {
        true
    }

    fn report(&self) -> AppReport {
        let mut r = self.report.clone();
        r.conns = self.conns.values().map(|c| c.report.clone()).collect();
        r.bytes = r.conns.iter().map(|c| c.bytes_received).sum();
        r.count = r.bytes;
        r.complete = self.finished_ok() >= self.connections as usize;
        r
    }
}

#[derive(Debug, Default)]
struct EchoConn {
    /// Bytes handed to the stack in part: the rest is offered again as it is (a reference, not a copy).
    unsent: Bytes,
    /// Bytes read since the last offer.
    pending: Vec<u8>,
    eof: bool,
    closed: bool,
}

/// Echoes every connection's bytes back; closes after the peer's end of stream once everything is echoed.
/// A server: always complete.
#[derive(Debug)]
pub struct TcpEcho {
    report: AppReport,
    port: u16,
    listener: Option<SocketHandle>,
    conns: BTreeMap<SocketHandle, EchoConn>,
}

impl TcpEcho {
    pub fn new(report: AppReport, port: u16) -> TcpEcho {
        TcpEcho { report, port, listener: None, conns: BTreeMap::new() }
    }

    fn flush(cx: &mut Cx<'_>, sock: SocketHandle, c: &mut EchoConn) {
        loop {
            // Everything waiting goes out as one write, as it came in.
            if !c.pending.is_empty() {
                c.unsent = if c.unsent.is_empty() {
                    Bytes::from(core::mem::take(&mut c.pending))
                } else {
                    let mut both = Vec::with_capacity(c.unsent.len() + c.pending.len());
                    both.extend_from_slice(&c.unsent);
                    both.extend_from_slice(&c.pending);
                    c.pending.clear();
                    Bytes::from(both)
                };
            }
            if c.unsent.is_empty() {
                break;
            }
            match cx.tcp_write(sock, c.unsent.clone()) {
                Ok(len) => {
                    let _ = c.unsent.split_to(len);
                }
                _ => break,
            }
        }
        if c.eof && c.unsent.is_empty() && !c.closed {
            c.closed = true;
            let _ = cx.command(Command::TcpClose { sock });
        }
    }
}

impl App for TcpEcho {
    fn start(&mut self, cx: &mut Cx<'_>) {
        self.listener = listen(cx, &mut self.report, self.port);
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, sock: SocketHandle, event: &Event) {
        if Some(sock) == self.listener {
            if *event == Event::Acceptable {
                for (s, _) in accept_all(cx, sock) {
                    self.conns.insert(s, EchoConn::default());
                    self.report.count += 1;
                }
            }
            return;
        }
        let Some(c) = self.conns.get_mut(&sock) else { return };
        match event {
            Event::Readable | Event::PeerClosed => {
                while !c.eof {
                    let pending = &mut c.pending;
                    match cx.tcp_read(sock, 1 << 20, |bytes| pending.extend_from_slice(bytes)) {
                        Ok(0) => c.eof = true,
                        Ok(n) => self.report.bytes += n as u64,
                        Err(_) => break,
                    }
                }
                Self::flush(cx, sock, c);
            }
            Event::Writable => Self::flush(cx, sock, c),
            Event::Closed | Event::Reset | Event::TimedOut { .. } => {
                self.conns.remove(&sock);
            }
            _ => {}
        }
    }

    fn is_finished(&self) -> bool {
        true
    }

    fn report(&self) -> AppReport {
        AppReport { complete: self.listener.is_some(), ..self.report.clone() }
    }
}
