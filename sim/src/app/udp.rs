//! UDP apps: echo server, ping-pong client, bulk sender and counting sink.

use super::{App, AppReport, Cx};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;
use synack::{Command, CommandError, Event, Reply, SocketHandle};

const SEND: u64 = 1;
const GIVE_UP: u64 = 2;
/// How long a client waits for stragglers after its last datagram.
const LINGER: Duration = Duration::from_secs(1);

/// Binds `port` of the host's wildcard address (both families on a host with IPv6).
fn bind(cx: &mut Cx<'_>, report: &mut AppReport, port: u16) -> Option<SocketHandle> {
    let local = cx.wildcard(port);
    match cx.command(Command::UdpBind { local }) {
        Ok(Reply::Bound { sock, .. }) => {
            cx.take_both_families(sock);
            Some(sock)
        }
        other => {
            report.errors.push(format!("bind {local}: {other:?}"));
            None
        }
    }
}

/// Drains a socket's queue, calling `f` with each datagram.
fn drain(cx: &mut Cx<'_>, sock: SocketHandle, mut f: impl FnMut(&mut Cx<'_>, SocketAddr, Vec<u8>)) {
    while let Ok(Reply::Datagram { from, data }) = cx.command(Command::UdpRecv { sock }) {
        f(cx, from, data);
    }
}

/// Echoes every datagram back to its sender. A server: always complete.
#[derive(Debug)]
pub struct UdpEcho {
    report: AppReport,
    port: u16,
    sock: Option<SocketHandle>,
}

impl UdpEcho {
    pub fn new(report: AppReport, port: u16) -> UdpEcho {
        UdpEcho { report, port, sock: None }
    }
}

impl App for UdpEcho {
    fn start(&mut self, cx: &mut Cx<'_>) {
        self.sock = bind(cx, &mut self.report, self.port);
    }
    fn on_event(&mut self, cx: &mut Cx<'_>, sock: SocketHandle, event: &Event) {
        if *event != Event::Readable {
            return;
        }
        let (mut n, mut bytes, mut errors) = (0, 0, Vec::new());
        drain(cx, sock, |cx, from, data| {
            n += 1;
            bytes += data.len() as u64;
            if let Err(e) = cx.command(Command::UdpSendTo { sock, remote: from, data }) {
                errors.push(format!("echo to {from}: {e}"));
            }
        });
        self.report.count += n;
        self.report.bytes += bytes;
        self.report.errors.extend(errors);
    }
    fn is_finished(&self) -> bool {
        true
    }
    fn report(&self) -> AppReport {
        AppReport { complete: self.sock.is_some(), ..self.report.clone() }
    }
}

/// Sends `count` numbered datagrams every `interval` and counts the distinct ones echoed back. No
/// retransmission: a lost datagram or reply leaves it incomplete.
#[derive(Debug)]
pub struct UdpPingPong {
    report: AppReport,
    dst: SocketAddr,
    count: u32,
    interval: Duration,
    size: usize,
    sock: Option<SocketHandle>,
    sent: u32,
    replied: BTreeSet<u32>,
    gave_up: bool,
}

impl UdpPingPong {
    pub fn new(report: AppReport, dst: SocketAddr, count: u32, interval: Duration, size: usize) -> UdpPingPong {
        let (sock, sent, replied, gave_up) = (None, 0, BTreeSet::new(), false);
        UdpPingPong { report, dst, count, interval, size: size.max(4), sock, sent, replied, gave_up }
    }
    fn done(&self) -> bool {
        self.replied.len() as u64 == u64::from(self.count)
    }
    fn send_next(&mut self, cx: &mut Cx<'_>) {
        let Some(sock) = self.sock else { return };
        let mut data = vec![0u8; self.size];
        data[..4].copy_from_slice(&self.sent.to_be_bytes());
        self.sent += 1;
        if let Err(e) = cx.command(Command::UdpSendTo { sock, remote: self.dst, data }) {
            self.report.errors.push(format!("send #{}: {e}", self.sent));
        }
        let (at, token) = if self.sent < self.count { (self.interval, SEND) } else { (LINGER, GIVE_UP) };
        cx.set_timer(cx.now() + at, token);
    }
}

impl App for UdpPingPong {
    fn start(&mut self, cx: &mut Cx<'_>) {
        self.sock = bind(cx, &mut self.report, 0);
        if self.count > 0 {
            self.send_next(cx);
        }
    }
    fn on_event(&mut self, cx: &mut Cx<'_>, sock: SocketHandle, event: &Event) {
        match event {
            Event::Readable => {
                let mut got = Vec::new();
                drain(cx, sock, |_, _, data| {
                    if let Some(seq) = data.get(..4) {
                        got.push(u32::from_be_bytes([seq[0], seq[1], seq[2], seq[3]]));
                    }
                });
                for seq in got {
                    if seq < self.count && self.replied.insert(seq) && self.done() {
                        self.report.done_at = Some(cx.now());
                    }
                }
            }
            Event::Unreachable { .. } => self.report.errors.push(super::describe_unreachable(event)),
            _ => {}
        }
    }
    fn on_timer(&mut self, cx: &mut Cx<'_>, token: u64) {
        match token {
            SEND => self.send_next(cx),
            _ => self.gave_up = true,
        }
    }
    fn is_finished(&self) -> bool {
        self.done() || self.gave_up || self.sock.is_none()
    }
    fn report(&self) -> AppReport {
        let mut r = self.report.clone();
        r.complete = self.done();
        r.count = self.replied.len() as u64;
        r.bytes = r.count * self.size as u64;
        r
    }
}

/// Sends `count` datagrams of `size` bytes every `interval` (or as a burst when the interval is 0); complete
/// when all were handed to the stack.
#[derive(Debug)]
pub struct UdpBulk {
    report: AppReport,
    dst: SocketAddr,
    count: u64,
    interval: Duration,
    size: usize,
    sock: Option<SocketHandle>,
    sent: u64,
}

impl UdpBulk {
    pub fn new(report: AppReport, dst: SocketAddr, count: u64, interval: Duration, size: usize) -> UdpBulk {
        UdpBulk { report, dst, count, interval, size, sock: None, sent: 0 }
    }
    fn send_some(&mut self, cx: &mut Cx<'_>) {
        let Some(sock) = self.sock else { return };
        // With no interval, send everything now (the link's rate limit and queue do the pacing).
        let burst = if self.interval.is_zero() { self.count - self.sent } else { 1 };
        for _ in 0..burst {
            let data = vec![(self.sent & 0xff) as u8; self.size];
            match cx.command(Command::UdpSendTo { sock, remote: self.dst, data }) {
                Ok(_) => self.report.bytes += self.size as u64,
                Err(CommandError::WouldBlock) => {}
                Err(e) => self.report.errors.push(format!("send #{}: {e}", self.sent)),
            }
            self.sent += 1;
        }
        if self.sent < self.count {
            cx.set_timer(cx.now() + self.interval, SEND);
        } else {
            self.report.done_at = Some(cx.now());
        }
    }
}

impl App for UdpBulk {
    fn start(&mut self, cx: &mut Cx<'_>) {
        self.sock = bind(cx, &mut self.report, 0);
        self.send_some(cx);
    }
    fn on_event(&mut self, _cx: &mut Cx<'_>, _sock: SocketHandle, event: &Event) {
        if let Event::Unreachable { .. } = event {
            self.report.errors.push(super::describe_unreachable(event));
        }
    }
    fn on_timer(&mut self, cx: &mut Cx<'_>, _token: u64) {
        self.send_some(cx);
    }
    fn is_finished(&self) -> bool {
        self.sent >= self.count || self.sock.is_none()
    }
    fn report(&self) -> AppReport {
        AppReport { complete: self.sent >= self.count, count: self.sent, ..self.report.clone() }
    }
}

/// Counts datagrams and bytes received on a port. A server: complete once bound.
#[derive(Debug)]
pub struct UdpSink {
    report: AppReport,
    port: u16,
    sock: Option<SocketHandle>,
}

impl UdpSink {
    pub fn new(report: AppReport, port: u16) -> UdpSink {
        UdpSink { report, port, sock: None }
    }
}

impl App for UdpSink {
    fn start(&mut self, cx: &mut Cx<'_>) {
        self.sock = bind(cx, &mut self.report, self.port);
    }
    fn on_event(&mut self, cx: &mut Cx<'_>, sock: SocketHandle, event: &Event) {
        if *event == Event::Readable {
            let (mut n, mut bytes) = (0, 0);
            drain(cx, sock, |_, _, data| {
                n += 1;
                bytes += data.len() as u64;
            });
            self.report.count += n;
            self.report.bytes += bytes;
            self.report.done_at = Some(cx.now());
        }
    }
    fn is_finished(&self) -> bool {
        true
    }
    fn report(&self) -> AppReport {
        AppReport { complete: self.sock.is_some(), ..self.report.clone() }
    }
}
