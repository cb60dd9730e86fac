//! TCP servers: a sink that reads every connection to end of stream and hashes it, and an echo server.

use super::{App, AppReport, ConnReport, Cx};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::net::SocketAddrV4;
use synack::{Command, Event, Reply, SocketHandle};

const BACKLOG: usize = 128;

fn listen(cx: &mut Cx<'_>, report: &mut AppReport, port: u16) -> Option<SocketHandle> {
    let local = SocketAddrV4::new([0, 0, 0, 0].into(), port);
    match cx.command(Command::TcpListen { local, backlog: BACKLOG }) {
        Ok(Reply::Bound { sock, .. }) => Some(sock),
        other => {
            report.errors.push(format!("listen {local}: {other:?}"));
            None
        }
    }
}

/// Accepts every waiting connection, returning their handles.
fn accept_all(cx: &mut Cx<'_>, listener: SocketHandle) -> Vec<SocketHandle> {
    let mut v = Vec::new();
    while let Ok(Reply::Accepted { sock, .. }) = cx.command(Command::TcpAccept { listener }) {
        v.push(sock);
    }
    v
}

#[derive(Debug)]
struct SinkConn {
    hasher: Sha256,
    report: ConnReport,
    done: bool,
}

/// Accepts connections on `port`, reads each to end of stream, hashes what it read (SHA-256) and closes.
/// Complete when `connections` connections reached end of stream.
#[derive(Debug)]
pub struct TcpSink {
    report: AppReport,
    port: u16,
    connections: u32,
    listener: Option<SocketHandle>,
    conns: BTreeMap<SocketHandle, SinkConn>,
}

impl TcpSink {
    pub fn new(report: AppReport, port: u16, connections: u32) -> TcpSink {
        TcpSink { report, port, connections, listener: None, conns: BTreeMap::new() }
    }
    fn finished_ok(&self) -> usize {
        self.conns.values().filter(|c| c.done && c.report.outcome == "ok").count()
    }
}

impl App for TcpSink {
    fn start(&mut self, cx: &mut Cx<'_>) {
        self.listener = listen(cx, &mut self.report, self.port);
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, sock: SocketHandle, event: &Event) {
        if Some(sock) == self.listener {
            if *event == Event::Acceptable {
                for s in accept_all(cx, sock) {
                    let report = ConnReport { sock: s.0, started: cx.now(), ..ConnReport::default() };
                    self.conns.insert(s, SinkConn { hasher: Sha256::new(), report, done: false });
                }
            }
            return;
        }
        let Some(c) = self.conns.get_mut(&sock) else { return };
        if c.done {
            return;
        }
        c.report.snapshot(cx, sock);
        match event {
            Event::Readable | Event::PeerClosed => loop {
                match cx.command(Command::TcpRecv { sock, max: 1 << 20 }) {
                    Ok(Reply::Data(d)) if d.is_empty() => {
                        c.done = true;
                        c.report.finished = Some(cx.now());
                        c.report.outcome = "ok".into();
                        c.report.sha256 = Some(c.hasher.clone().finalize().into());
                        let _ = cx.command(Command::TcpClose { sock });
                        break;
                    }
                    Ok(Reply::Data(d)) => {
                        c.hasher.update(&d);
                        c.report.bytes_received += d.len() as u64;
                    }
                    _ => break,
                }
            },
            Event::Closed | Event::Reset | Event::TimedOut => {
                c.done = true;
                c.report.finished = Some(cx.now());
                c.report.outcome = format!("{event:?}").to_lowercase();
            }
            _ => {}
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
        while !c.pending.is_empty() {
            match cx.command(Command::TcpSend { sock, data: c.pending.clone() }) {
                Ok(Reply::Sent { len }) => {
                    c.pending.drain(..len);
                }
                _ => break,
            }
        }
        if c.eof && c.pending.is_empty() && !c.closed {
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
                for s in accept_all(cx, sock) {
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
                    match cx.command(Command::TcpRecv { sock, max: 1 << 20 }) {
                        Ok(Reply::Data(d)) if d.is_empty() => c.eof = true,
                        Ok(Reply::Data(d)) => {
                            self.report.bytes += d.len() as u64;
                            c.pending.extend_from_slice(&d);
                        }
                        _ => break,
                    }
                }
                Self::flush(cx, sock, c);
            }
            Event::Writable => Self::flush(cx, sock, c),
            Event::Closed | Event::Reset | Event::TimedOut => {
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
