//! TCP keep-alive (RFC 1122 §4.2.3.6), as Linux's `SO_KEEPALIVE`: off unless asked for; after the idle time an
//! empty ACK one below SND.UNA that the peer must answer; answered probes keep the connection, unanswered ones
//! end it with `TimedOut` and a reset; only a connection the application holds is probed.

use std::time::Duration;
use synack::tcp::TcpState;
use synack::{Command, Event, Instant, SocketHandle};
use synack_tests::frames::{is_tcp, tcp_fields};
use synack_tests::tcp::connect;
use synack_tests::{configs, Pair, Side};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A pair whose A probes after 60 s of silence, every 10 s, giving up after 3.
fn probing_pair(seed: u64) -> Pair {
    let (mut a, b) = configs(seed);
    a.tcp.keepalive = true;
    a.tcp.keepalive_idle = secs(60);
    a.tcp.keepalive_interval = secs(10);
    a.tcp.keepalive_probes = 3;
    Pair::with_configs(a, b)
}

/// A's keep-alive probes sent after `since`: TCP segments without data one below what B acknowledged.
fn probes_after(p: &Pair, since: Instant) -> Vec<Instant> {
    let b_acked = p
        .log
        .iter()
        .filter(|l| l.from == Side::B)
        .filter_map(|l| tcp_fields(&l.frame))
        .map(|f| f.ack)
        .next_back()
        .expect("B acknowledged something");
    p.log
        .iter()
        .filter(|l| l.from == Side::A && l.at > since)
        .filter_map(|l| tcp_fields(&l.frame).map(|f| (l.at, f)))
        .filter(|(_, f)| f.len == 0 && f.seq == b_acked - 1)
        .map(|(at, _)| at)
        .collect()
}

fn timed_out(p: &Pair, c: SocketHandle) -> bool {
    p.events_of(Side::A).iter().any(|(s, e)| *s == c && matches!(e, Event::TimedOut { .. }))
}

#[test]
fn an_idle_connection_is_not_probed_unless_asked() {
    let mut p = Pair::new(7301);
    let (c, _, _) = connect(&mut p, 80);
    let t = p.now;
    p.run_until(t + secs(3 * 3600));
    let tcp_from_a = p.log.iter().filter(|l| l.from == Side::A && l.at > t && is_tcp(&l.frame)).count();
    assert_eq!(tcp_from_a, 0, "{:#?}", p.lines());
    assert_eq!(p.a.tcp_info(c).unwrap().state, TcpState::Established);
}

#[test]
fn answered_probes_keep_an_idle_connection() {
    let mut p = probing_pair(7302);
    let (c, _, _) = connect(&mut p, 80);
    let t = p.now;
    p.run_until(t + secs(200));
    let probes = probes_after(&p, t);
    // One per idle period: each is answered, so the next waits a whole idle time again.
    assert_eq!(probes.len(), 3, "{:#?}", p.lines());
    for (i, at) in probes.iter().enumerate() {
        let expected = t + secs(60 * (i as u64 + 1));
        assert!(at.saturating_duration_since(expected) < Duration::from_millis(100), "probe {i} at {at:?}");
    }
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!((info.state, info.counters.keepalive_probes), (TcpState::Established, 3));
    assert!(!timed_out(&p, c));
}

#[test]
fn unanswered_probes_end_the_connection_with_timed_out_and_a_reset() {
    let mut p = probing_pair(7303);
    let (c, _, s) = connect(&mut p, 80);
    let t = p.now;
    // B is gone: nothing it sends arrives any more.
    p.drop_next_where(Side::B, u64::MAX, is_tcp);
    p.run_until(t + secs(89));
    assert!(!timed_out(&p, c), "not before idle + 3 intervals");
    p.run_until(t + secs(91));
    assert!(timed_out(&p, c), "{:#?}", p.lines());
    assert_eq!(probes_after(&p, t).len(), 3);
    let reset = p.log.iter().rev().find(|l| l.from == Side::A).and_then(|l| tcp_fields(&l.frame)).unwrap();
    assert!(reset.flags.contains(synack::wire::TcpFlags::RST), "the last word is a reset");
    // B's end took the reset (its own answers were lost, not A's frames).
    assert!(p.events_of(Side::B).iter().any(|(h, e)| *h == s && *e == Event::Reset));
}

#[test]
fn data_in_flight_is_left_to_the_retransmission_timer() {
    let mut p = probing_pair(7304);
    let (c, _, _) = connect(&mut p, 80);
    p.drop_next_where(Side::B, u64::MAX, is_tcp);
    let t = p.now;
    p.command(Side::A, Command::TcpSend { sock: c, data: vec![1; 100] }).unwrap();
    p.run_until(t + secs(120));
    assert!(probes_after(&p, t).is_empty(), "no keep-alive probe while data waits for its ACK");
    assert!(p.a.tcp_info(c).unwrap().counters.timeouts > 0);
}

#[test]
fn one_connection_turns_it_on_and_closing_ends_it() {
    let (mut a, b) = configs(7305);
    a.tcp.keepalive_idle = secs(60);
    a.tcp.keepalive_interval = secs(10);
    let mut p = Pair::with_configs(a, b);
    let (c, _, _) = connect(&mut p, 80);
    p.command(Side::A, Command::TcpSetKeepAlive { sock: c, keepalive: true }).unwrap();
    let t = p.now;
    p.run_until(t + secs(70));
    assert_eq!(probes_after(&p, t).len(), 1);
    // Closed by the application (B keeps its end open): FIN-WAIT-2 waits its own limit, with no probes.
    p.command(Side::A, Command::TcpClose { sock: c }).unwrap();
    let closed = p.now;
    p.run_until(closed + secs(59));
    assert_eq!(p.a.tcp_info(c).map(|i| i.state), Some(TcpState::FinWait2), "{:#?}", p.lines());
    p.run_until(closed + secs(200));
    assert!(probes_after(&p, closed).is_empty(), "{:#?}", p.lines());
    assert!(p.a.tcp_info(c).is_none(), "the orphaned FIN-WAIT-2 ended after its limit");
    // Turning it off again works on a connection the application holds.
    let (c2, _, _) = connect(&mut p, 81);
    p.command(Side::A, Command::TcpSetKeepAlive { sock: c2, keepalive: true }).unwrap();
    p.command(Side::A, Command::TcpSetKeepAlive { sock: c2, keepalive: false }).unwrap();
    let t = p.now;
    p.run_until(t + secs(300));
    assert!(p.log.iter().filter(|l| l.from == Side::A && l.at > t).all(|l| !is_tcp(&l.frame)));
}

/// CLOSE-WAIT, then the application shuts its side (it still holds the connection): LAST-ACK. The peer is alive
/// but its window is shut, so data and FIN wait behind zero-window probes the peer answers. The keep-alive
/// deadline left in the close timer ended the connection as if the FIN had been acknowledged.
#[test]
fn last_ack_after_shutdown_is_not_finished_by_a_stale_keepalive_deadline() {
    let (mut a, mut b) = configs(7391);
    a.tcp.keepalive = true;
    a.tcp.keepalive_idle = secs(60);
    a.tcp.keepalive_interval = secs(10);
    a.tcp.keepalive_probes = 3;
    b.tcp.recv_buffer = 8192;
    let mut p = Pair::with_configs(a, b);
    let (c, _, s) = connect(&mut p, 80);
    p.command(Side::B, Command::TcpShutdown { sock: s }).unwrap(); // B half-closes, never reads
    p.run_until(p.now + Duration::from_millis(50));
    assert_eq!(p.a.tcp_info(c).unwrap().state, TcpState::CloseWait);
    let _ = p.command(Side::A, Command::TcpSend { sock: c, data: vec![7; 64 * 1024] });
    p.run_until(p.now + secs(1));
    p.command(Side::A, Command::TcpShutdown { sock: c }).unwrap();
    let t = p.now;
    p.run_until(t + secs(200));
    let closed = p.events_of(Side::A).iter().any(|(h, e)| *h == c && *e == Event::Closed);
    let b_state = p.b.tcp_info(s).map(|i| i.state);
    assert!(
        !closed,
        "A reported a clean close of a connection whose data and FIN B never received (B: {b_state:?}, A: {:?})",
        p.a.tcp_info(c).map(|i| i.state)
    );
}

/// The same with nothing from B arriving any more: the FIN is retransmitted until the retransmission limit,
/// which ends with `TimedOut`; the stale keep-alive deadline ended it with `Closed` after keepalive_idle.
#[test]
fn last_ack_with_an_unanswered_fin_times_out_not_closes() {
    let (mut a, b) = configs(7392);
    a.tcp.keepalive = true;
    a.tcp.keepalive_idle = secs(20);
    a.tcp.keepalive_interval = secs(5);
    a.tcp.keepalive_probes = 3;
    let mut p = Pair::with_configs(a, b);
    let (c, _, s) = connect(&mut p, 80);
    p.command(Side::B, Command::TcpShutdown { sock: s }).unwrap();
    p.run_until(p.now + Duration::from_millis(50));
    p.drop_next_where(Side::B, u64::MAX, is_tcp);
    p.command(Side::A, Command::TcpShutdown { sock: c }).unwrap();
    let t = p.now;
    p.run_until(t + secs(30));
    let closed = p.events_of(Side::A).iter().any(|(h, e)| *h == c && *e == Event::Closed);
    assert!(!closed, "a FIN never acknowledged was reported as a clean close: {:#?}", p.lines());
}
