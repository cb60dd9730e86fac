//! Congestion control from outside the crate: an application's own algorithm, installed for every connection
//! of a stack or switched to on one connection, drives the window the stack sends by.

use std::sync::Arc;
use std::time::Duration;
use synack::tcp::{CongestionAlgorithm, CongestionControl, CongestionFactory};
use synack::Command;
use synack_tests::tcp::{connect, pattern, transfer};
use synack_tests::{configs, Pair, Side};

/// A window of exactly `segments` segments, whatever happens (a stand-in for a user's algorithm).
#[derive(Debug)]
struct Fixed {
    cwnd: usize,
}

impl CongestionControl for Fixed {
    fn name(&self) -> &'static str {
        "fixed"
    }
    fn cwnd(&self) -> usize {
        self.cwnd
    }
    fn ssthresh(&self) -> usize {
        self.cwnd
    }
    fn on_ack(&mut self, _: &synack::tcp::AckSample) {}
    fn on_enter_recovery(&mut self, _: usize, _: usize) {}
    fn on_recovery_dup_ack(&mut self, _: usize) {}
    fn on_partial_ack(&mut self, _: usize, _: usize) {}
    fn on_exit_recovery(&mut self, _: usize, _: usize) {}
    fn on_timeout(&mut self, _: usize, _: usize) {}
}

#[derive(Debug)]
struct FixedWindow(usize);

impl CongestionFactory for FixedWindow {
    fn build(&self, mss: usize) -> Box<dyn CongestionControl> {
        Box::new(Fixed { cwnd: self.0 * mss })
    }
}

/// Most bytes A had sent and B had not acknowledged at any point (from the decoded frames).
fn most_in_flight(p: &Pair) -> u64 {
    let field = |line: &str, name: &str| -> Option<u64> {
        let rest = &line[line.find(&format!(" {name}="))? + name.len() + 2..];
        rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    };
    let (mut sent_end, mut acked, mut most) = (0u64, 0u64, 0u64);
    for l in &p.log {
        let line = l.line();
        if !line.contains(" TCP ") {
            continue;
        }
        if l.from == Side::A {
            if let (Some(seq), Some(len)) = (field(&line, "seq"), field(&line, "len")) {
                if len > 0 {
                    sent_end = sent_end.max(seq + len);
                    if sent_end == seq + len && acked == 0 {
                        acked = seq; // the first data segment: where B's acknowledgements of data begin
                    }
                }
            }
        } else if let Some(ack) = field(&line, "ack").filter(|_| sent_end > 0) {
            acked = acked.max(ack);
        }
        most = most.max(sent_end.saturating_sub(acked));
    }
    most
}

#[test]
fn a_stack_wide_custom_algorithm_sets_every_connections_window() {
    let (mut a, b) = configs(91);
    a.tcp.congestion = CongestionAlgorithm::Custom(Arc::new(FixedWindow(2)));
    let mut p = Pair::with_configs(a, b);
    let (c, _, s) = connect(&mut p, 80);
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!((info.congestion, info.cwnd), ("fixed", 2 * info.mss));
    let data = pattern(60_000, 1);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(10));
    assert!(t.eof && t.received == data);
    let most = most_in_flight(&p);
    assert!(most > info.mss as u64 && most <= 2 * info.mss as u64, "a two-segment window: {most} bytes");
    assert_eq!(p.b.tcp_info(s).map(|i| i.congestion).unwrap_or("cubic"), "cubic", "B keeps the default");
}

#[test]
fn one_connection_switches_algorithm_and_keeps_its_window() {
    let mut p = Pair::new(92);
    let (c, _, s) = connect(&mut p, 80);
    let data = pattern(200_000, 2);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(10));
    assert!(t.received == data);
    let before = p.a.tcp_info(c).unwrap();
    assert_eq!(before.congestion, "cubic", "Linux's default");
    // Switching to a built-in takes over the window reached (CongestionControl::resume).
    p.command(Side::A, Command::TcpSetCongestion { sock: c, algorithm: CongestionAlgorithm::NewReno }).unwrap();
    let after = p.a.tcp_info(c).unwrap();
    assert_eq!((after.congestion, after.cwnd, after.ssthresh), ("newreno", before.cwnd, before.ssthresh));
    // A custom algorithm without `resume` starts from its own window.
    let custom = CongestionAlgorithm::Custom(Arc::new(FixedWindow(3)));
    p.command(Side::A, Command::TcpSetCongestion { sock: c, algorithm: custom.clone() }).unwrap();
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!((info.congestion, info.cwnd), ("fixed", 3 * info.mss));
    assert_eq!(custom, custom.clone(), "the same installed factory");
    assert_ne!(custom, CongestionAlgorithm::Custom(Arc::new(FixedWindow(3))), "another one");
    let bad = Command::TcpSetCongestion { sock: synack::SocketHandle(999), algorithm: custom };
    assert!(p.command(Side::A, bad).is_err());
}
