//! Soft and hard errors (RFC 1122 §4.2.3.9): ICMP net/host unreachable, time exceeded and an unanswered ARP
//! request are soft for TCP (the connection keeps retransmitting and names the error only if it times out);
//! port and protocol unreachable are hard and abort a connection that is still opening. UDP hears every error
//! at once. And the handle lifecycle after a reset that ends a connection both sides had closed.

use std::net::SocketAddr;
use std::time::Duration;
use synack::tcp::TcpState;
use synack::wire::{DstUnreachable, Icmpv4Repr};
use synack::{Command, CommandError, DropReason, Event, Reply, SocketHandle, UnreachableReason};
use synack_tests::frames::{self, is_arp, is_tcp};
use synack_tests::tcp::{accept, connect, listen, read_available, start_connect, IP_A, IP_B};
use synack_tests::{configs, Pair, Side, MAC_A, MAC_B};

fn state(p: &Pair, side: Side, sock: SocketHandle) -> Option<TcpState> {
    let s = if side == Side::A { &p.a } else { &p.b };
    s.tcp_info(sock).map(|i| i.state)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Delivers to A an ICMP destination unreachable with `code` quoting the IP header and first 8 bytes of the
/// last frame A sent (as a router, or B, would).
fn icmp_unreachable_for_last_frame_of_a(p: &mut Pair, code: u8) {
    let sent = p.log.iter().rev().find(|l| l.from == Side::A).expect("A sent something").frame.clone();
    let quote = &sent[14..14 + 28];
    let msg = Icmpv4Repr::DstUnreachable { reason: DstUnreachable::from(code), next_hop_mtu: 0, original: quote };
    let frame = frames::icmp_frame(MAC_B, MAC_A, IP_B, IP_A, &msg);
    let out = p.a.handle(synack::Input::Frame(&frame), p.now);
    p.absorb_all(Side::A, out);
}

/// A's SYNs on the link (dropped or not).
fn syns_of_a(p: &Pair) -> usize {
    p.lines().iter().filter(|l| l.starts_with("A>B") && l.contains("TCP [S] ")).count()
}

fn a_events_of(p: &Pair, sock: SocketHandle) -> Vec<Event> {
    p.events_of(Side::A).into_iter().filter(|(s, _)| *s == sock).map(|(_, e)| e).collect()
}

#[test]
fn connect_across_lost_arp_exchanges_connects_once_the_path_heals() {
    let mut p = Pair::new(41);
    let l = listen(&mut p, Side::B, 80);
    // Six who-has requests in a row are lost: two whole resolutions (3 tries each) give up.
    p.drop_next_where(Side::A, 6, is_arp);
    let c = start_connect(&mut p, Side::A, SocketAddr::from((IP_B, 80)));
    p.run_until(p.now + secs(30));
    assert!(p.a.stats().drops(DropReason::ArpUnresolved) >= 2, "ARP gave up twice: {:#?}", p.lines());
    // Soft errors: no event, the SYN was retransmitted until ARP got through.
    assert_eq!(a_events_of(&p, c), [Event::Connected], "{:#?}", p.lines());
    assert_eq!(state(&p, Side::A, c), Some(TcpState::Established));
    let s = accept(&mut p, l);
    p.command(Side::A, Command::TcpSend { sock: c, data: b"through".to_vec() }).unwrap();
    p.run_until(p.now + secs(1));
    let mut got = Vec::new();
    read_available(&mut p, Side::B, s, &mut got);
    assert_eq!(got, b"through");
    let arp_dropped = p.log.iter().filter(|l| l.dropped && is_arp(&l.frame)).count();
    assert_eq!(arp_dropped, 6);
}

#[test]
fn icmp_host_unreachable_during_syn_sent_is_soft_and_the_connect_completes() {
    let mut p = Pair::new(42);
    listen(&mut p, Side::B, 80);
    p.drop_next_where(Side::A, 1, is_tcp); // the first SYN
    let c = start_connect(&mut p, Side::A, SocketAddr::from((IP_B, 80)));
    p.run_until(p.now + Duration::from_millis(10));
    assert_eq!(syns_of_a(&p), 1);
    icmp_unreachable_for_last_frame_of_a(&mut p, 1);
    assert_eq!(a_events_of(&p, c), [], "a soft error is no news yet");
    assert_eq!(state(&p, Side::A, c), Some(TcpState::SynSent));
    p.run_until(p.now + secs(2));
    assert_eq!(a_events_of(&p, c), [Event::Connected]);
    assert_eq!(state(&p, Side::A, c), Some(TcpState::Established));
}

#[test]
fn icmp_port_unreachable_during_syn_sent_fails_the_connect_at_once() {
    for code in [3, 2] {
        let mut p = Pair::new(43);
        p.drop_next_where(Side::A, 1, is_tcp);
        let c = start_connect(&mut p, Side::A, SocketAddr::from((IP_B, 80)));
        p.run_until(p.now + Duration::from_millis(10));
        icmp_unreachable_for_last_frame_of_a(&mut p, code);
        let reason = UnreachableReason::DstUnreachable { code, next_hop_mtu: 0 };
        assert_eq!(
            a_events_of(&p, c),
            [Event::Unreachable { dst: IP_B.into(), port: Some(80), reason, reporter: Some(IP_B.into()) }],
            "code {code}"
        );
        assert!(reason.is_hard_for_tcp());
        // The handle is released: the stack forgot the connection and sends nothing more for it.
        assert_eq!(state(&p, Side::A, c), None);
        assert_eq!(p.command(Side::A, Command::TcpClose { sock: c }), Err(CommandError::NoSuchSocket(c)));
        p.run_until(p.now + secs(10));
        assert_eq!(syns_of_a(&p), 1, "code {code}: no SYN retransmission after a hard error");
    }
}

#[test]
fn a_connect_that_never_gets_through_times_out_with_the_last_soft_error() {
    // Nobody answers ARP: every resolution gives up (soft), the SYN retries run out.
    let mut p = Pair::new(44);
    p.drop_next_where(Side::A, u64::MAX, is_arp);
    let c = start_connect(&mut p, Side::A, SocketAddr::from((IP_B, 80)));
    p.run_until(p.now + secs(200));
    assert_eq!(a_events_of(&p, c), [Event::TimedOut { soft_error: Some(UnreachableReason::NoNeighbour) }]);
    assert_eq!(state(&p, Side::A, c), None);

    // A router answers the first SYN with host unreachable, and the rest vanish.
    let mut p = Pair::new(45);
    p.drop_next_where(Side::A, u64::MAX, is_tcp);
    let c = start_connect(&mut p, Side::A, SocketAddr::from((IP_B, 80)));
    p.run_until(p.now + Duration::from_millis(10));
    icmp_unreachable_for_last_frame_of_a(&mut p, 1);
    p.run_until(p.now + secs(200));
    let reason = UnreachableReason::DstUnreachable { code: 1, next_hop_mtu: 0 };
    assert_eq!(a_events_of(&p, c), [Event::TimedOut { soft_error: Some(reason) }]);
    assert_eq!(syns_of_a(&p), 7, "the SYN and its 6 retransmissions");
}

#[test]
fn a_hard_error_while_established_does_not_abort() {
    let mut p = Pair::new(46);
    let (c, _, s) = connect(&mut p, 80);
    p.drop_next_where(Side::A, 1, is_tcp);
    p.command(Side::A, Command::TcpSend { sock: c, data: b"hello".to_vec() }).unwrap();
    icmp_unreachable_for_last_frame_of_a(&mut p, 3);
    // RFC 1122 §4.2.3.9: once established, even a hard error is only advice.
    assert_eq!(a_events_of(&p, c), [Event::Connected]);
    assert_eq!(state(&p, Side::A, c), Some(TcpState::Established));
    p.run_until(p.now + secs(2));
    let mut got = Vec::new();
    read_available(&mut p, Side::B, s, &mut got);
    assert_eq!(got, b"hello", "the retransmission got through");
    let evs = a_events_of(&p, c);
    assert!(evs.iter().all(|e| matches!(e, Event::Connected | Event::Writable)), "{evs:?}");
}

#[test]
fn udp_hears_even_a_soft_error_at_once() {
    let mut p = Pair::new(47);
    // B listens on 53, so the only error is the one a router sends.
    p.command(Side::B, Command::UdpBind { local: "0.0.0.0:53".parse().unwrap() }).unwrap();
    let sock = match p.command(Side::A, Command::UdpBind { local: "0.0.0.0:5000".parse().unwrap() }) {
        Ok(Reply::Bound { sock, .. }) => sock,
        other => panic!("{other:?}"),
    };
    p.command(Side::A, Command::UdpSendTo { sock, remote: SocketAddr::from((IP_B, 53)), data: b"q".to_vec() }).unwrap();
    p.run_until(p.now + Duration::from_millis(10));
    icmp_unreachable_for_last_frame_of_a(&mut p, 1);
    let reason = UnreachableReason::DstUnreachable { code: 1, next_hop_mtu: 0 };
    assert_eq!(
        p.events_of(Side::A),
        [(sock, Event::Unreachable { dst: IP_B.into(), port: Some(53), reason, reporter: Some(IP_B.into()) })]
    );
}

#[test]
fn rst_answering_a_fin_retransmission_in_last_ack_reports_closed_and_keeps_the_handle() {
    // A's TIME-WAIT is short, and its ACK of B's FIN is lost: B retransmits its FIN after A forgot the
    // connection, and A's answer is a reset, which finds B in LAST-ACK.
    let (mut a, b) = configs(48);
    a.tcp.time_wait = Duration::from_millis(100);
    let mut p = Pair::with_configs(a, b);
    let (c, _, s) = connect(&mut p, 80);
    p.command(Side::A, Command::TcpShutdown { sock: c }).unwrap();
    p.run_until(p.now + Duration::from_millis(10));
    assert_eq!(state(&p, Side::B, s), Some(TcpState::CloseWait));
    let mut got = Vec::new();
    assert_eq!(read_available(&mut p, Side::B, s, &mut got), None, "end of stream");
    p.drop_next_where(Side::A, 1, is_tcp); // A's ACK of B's FIN
    p.command(Side::B, Command::TcpShutdown { sock: s }).unwrap();
    p.run_until(p.now + Duration::from_millis(10));
    assert_eq!(state(&p, Side::A, c), Some(TcpState::TimeWait));
    assert_eq!(state(&p, Side::B, s), Some(TcpState::LastAck));
    let closed_before = p.events_of(Side::B).iter().filter(|e| *e == &(s, Event::Closed)).count();
    assert_eq!(closed_before, 0);
    p.run_until(p.now + secs(5));
    let lines = p.lines();
    let rst = lines.iter().position(|l| l.starts_with("A>B") && l.contains("TCP [R"));
    let fin_rtx = lines.iter().rposition(|l| l.starts_with("B>A") && l.contains("TCP [F."));
    assert!(rst.is_some() && fin_rtx.is_some_and(|f| f < rst.unwrap()), "{lines:#?}");
    let b_events: Vec<Event> = p.events_of(Side::B).into_iter().filter(|(h, _)| *h == s).map(|(_, e)| e).collect();
    assert_eq!(b_events.last(), Some(&Event::Closed), "{b_events:?}");
    assert!(!b_events.contains(&Event::Reset));
    assert_eq!(state(&p, Side::B, s), Some(TcpState::Closed), "the handle stays until TcpClose");
    assert_eq!(p.command(Side::B, Command::TcpClose { sock: s }), Ok(Reply::Done));
    assert_eq!(state(&p, Side::B, s), None);
}
