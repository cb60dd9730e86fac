//! ICMP ping: `count` echo requests every `interval`; complete when every one got its reply.

use super::{App, AppReport, Cx};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;
use synack::{Command, Event, Reply, SocketHandle};

const SEND: u64 = 1;
const GIVE_UP: u64 = 2;

#[derive(Debug)]
pub struct Ping {
    report: AppReport,
    dst: IpAddr,
    count: u16,
    interval: Duration,
    size: usize,
    /// How long to wait for replies after the last request.
    timeout: Duration,
    sock: Option<SocketHandle>,
    sent: u16,
    replied: BTreeSet<u16>,
    gave_up: bool,
}

impl Ping {
    pub fn new(report: AppReport, dst: IpAddr, count: u16, interval: Duration, size: usize) -> Ping {
        let timeout = Duration::from_secs(1);
        let (sock, sent, replied, gave_up) = (None, 0, BTreeSet::new(), false);
        Ping { report, dst, count, interval, size, timeout, sock, sent, replied, gave_up }
    }

    fn send_next(&mut self, cx: &mut Cx<'_>) {
        let Some(sock) = self.sock else { return };
        let seq_no = self.sent;
        self.sent += 1;
        if let Err(e) = cx.command(Command::Ping { sock, dst: self.dst, seq_no, payload_len: self.size }) {
            self.report.errors.push(format!("ping #{seq_no}: {e}"));
        }
        if self.sent < self.count {
            cx.set_timer(cx.now() + self.interval, SEND);
        } else {
            cx.set_timer(cx.now() + self.timeout, GIVE_UP);
        }
    }

    fn done(&self) -> bool {
        self.replied.len() == usize::from(self.count)
    }
}

impl App for Ping {
    fn start(&mut self, cx: &mut Cx<'_>) {
        match cx.command(Command::PingOpen { ident: None }) {
            Ok(Reply::Bound { sock, .. }) => {
                self.sock = Some(sock);
                if self.count > 0 {
                    self.send_next(cx);
                }
            }
            other => self.report.errors.push(format!("ping open: {other:?}")),
        }
        if self.done() {
            self.report.done_at = Some(cx.now());
        }
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, _sock: SocketHandle, event: &Event) {
        match event {
            Event::EchoReply { seq_no, rtt, .. } if self.replied.insert(*seq_no) => {
                self.report.rtts.push(*rtt);
                if self.done() {
                    self.report.done_at = Some(cx.now());
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
        self.done() || self.gave_up || (self.sock.is_none() && !self.report.errors.is_empty())
    }

    fn report(&self) -> AppReport {
        let mut r = self.report.clone();
        r.complete = self.done();
        r.count = self.replied.len() as u64;
        r.bytes = r.count * self.size as u64;
        r
    }
}
