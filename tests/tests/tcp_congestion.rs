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

/// A 20 Mbit/s path with a 40 ms RTT (a bandwidth-delay product of 100 kB) behind a 1.5 MB drop-tail queue
/// (600 ms of it: bufferbloat), and a 6 MB transfer over it with buffers that never limit the window.
fn deep_queue_scenario(congestion: &str, hystart: bool) -> (synack_sim::Scenario, synack_sim::Source) {
    let text = format!(
        r#"
name = "deep_queue"
duration = "60s"
[[host]]
name = "client"
ip = "10.0.0.1/24"
config = {{ tcp_send_buffer = 4000000, tcp_congestion = "{congestion}", tcp_hystart = {hystart} }}
[[host]]
name = "server"
ip = "10.0.0.2/24"
config = {{ tcp_recv_buffer = 4000000 }}
[[link]]
a = "client"
b = "server"
delay = "20ms"
rate = "20Mbit"
queue = 1500000
[[app]]
name = "sink"
host = "server"
kind = "tcp_sink"
[[app]]
name = "bulk"
host = "client"
kind = "tcp_bulk"
dst = "server"
bytes = 6000000
[[expect]]
app = "sink"
hash_equals = "bulk"
"#
    );
    let file = format!("<deep_queue {congestion} hystart={hystart}>");
    let scenario = synack_sim::Scenario::parse(&file, &text).unwrap_or_else(|e| panic!("{e}"));
    (scenario, synack_sim::Source { file, text })
}

/// Frames the queue dropped on the way to the server, and the client's retransmissions.
fn losses(out: &synack_sim::RunOutput) -> (u64, u64) {
    let drops = out.result.links.iter().find(|(l, _)| l == "client->server").map(|(_, s)| s.total_dropped());
    let bulk = out.result.apps.iter().find(|a| a.name == "bulk").expect("bulk app");
    (drops.unwrap_or(0), bulk.conns.iter().filter_map(|c| c.retransmits).sum())
}

#[test]
fn hystart_ends_slow_start_before_the_first_loss_where_a_queue_builds() {
    for cc in ["cubic", "newreno"] {
        // Standard slow start doubles the window until the queue overflows, and a queue this deep reports the
        // first loss only 600 ms later, a window of losses later still.
        let (sc, src) = deep_queue_scenario(cc, false);
        let out = synack_sim::run(&sc, &src, &synack_sim::BuildOptions::default()).unwrap();
        assert!(out.result.passed(), "{}", out.result);
        let (drops, rtx) = losses(&out);
        assert!(drops > 500 && rtx > 500, "{cc} without HyStart++: {drops} drops, {rtx} retransmissions");
        // HyStart++ sees the RTT rise as the queue builds, grows conservatively for five rounds, and hands over
        // to congestion avoidance (ssthresh = cwnd) while nothing has been lost yet.
        let (sc, src) = deep_queue_scenario(cc, true);
        let mut sim = synack_sim::build(&sc, &src, &synack_sim::BuildOptions::default()).unwrap();
        sim.end = synack::Instant::ZERO;
        let info = loop {
            // 20 ms at a time, until the client's ssthresh is set.
            assert!(sim.end < synack::Instant::from_secs(10), "{cc}: slow start never ended");
            sim.end = sim.end + std::time::Duration::from_millis(20);
            sim.run();
            let sock =
                sim.app_reports().iter().find(|a| a.name == "bulk").and_then(|a| a.conns.first()).map(|c| c.sock);
            let info = sock.and_then(|s| sim.hosts[0].stack.tcp_info(synack::SocketHandle(s)));
            match info {
                Some(info) if info.ssthresh < usize::MAX => break info,
                Some(_) => {}
                None if sock.is_none() => {}
                None => panic!("{cc}: the transfer ended in slow start"),
            }
        };
        let drops: u64 = sim.links[0].dirs.iter().map(|d| d.stats.total_dropped()).sum();
        assert_eq!((drops, info.counters.retransmitted_segments), (0, 0), "{cc}: slow start ended by a loss");
        // The window the queue let it reach, far above the path's 100 kB (congestion avoidance may have added a little since).
        assert!(info.ssthresh > 500_000 && info.ssthresh <= info.cwnd, "{cc}: {info:?}");
        assert!(info.counters.bytes_acked < 6_000_000, "{cc}: before the end of the transfer");
        let out = synack_sim::run(&sc, &src, &synack_sim::BuildOptions::default()).unwrap();
        assert!(out.result.passed(), "{}", out.result);
        assert_eq!(losses(&out), (0, 0), "{cc} with HyStart++:\n{}", out.result);
    }
}

#[test]
fn hystart_works_without_timestamps_from_rack_round_trips() {
    // Without timestamps an ACK's round trip comes from RACK's record of when the segment it acknowledges was
    // sent: HyStart++ still sees the queue build and ends slow start before the first loss.
    let (_, src) = deep_queue_scenario("cubic", true);
    let text = src.text.replace("tcp_hystart = true", "tcp_hystart = true, tcp_timestamps = false");
    assert_ne!(text, src.text);
    let file = "<deep_queue cubic hystart, no timestamps>".to_string();
    let sc = synack_sim::Scenario::parse(&file, &text).unwrap_or_else(|e| panic!("{e}"));
    let out = synack_sim::run(&sc, &synack_sim::Source { file, text }, &synack_sim::BuildOptions::default()).unwrap();
    assert!(out.result.passed(), "{}", out.result);
    assert_eq!(losses(&out), (0, 0), "HyStart++ without timestamps:\n{}", out.result);
    // And without HyStart++ the same path overflows its queue.
    let (_, src) = deep_queue_scenario("cubic", false);
    let text = src.text.replace("tcp_hystart = false", "tcp_hystart = false, tcp_timestamps = false");
    let file = "<deep_queue cubic, no timestamps>".to_string();
    let sc = synack_sim::Scenario::parse(&file, &text).unwrap_or_else(|e| panic!("{e}"));
    let out = synack_sim::run(&sc, &synack_sim::Source { file, text }, &synack_sim::BuildOptions::default()).unwrap();
    assert!(losses(&out).0 > 500, "{}", out.result);
}
