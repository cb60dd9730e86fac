//! Every transition of the RFC 9293 state diagram, driven between two stacks, plus resets in each state.

use std::net::SocketAddr;
use std::time::Duration;
use synack::tcp::{SeqNum, TcpState};
use synack::wire::TcpFlags;
use synack::{Command, CommandError, DropReason, Event, Instant, Reply, SocketHandle};
use synack_tests::tcp::{accept, connect, inject, listen, read_available, segment_to, start_connect, IP_B};
use synack_tests::{Pair, Side};

fn state(p: &Pair, side: Side, sock: SocketHandle) -> Option<TcpState> {
    let s = if side == Side::A { &p.a } else { &p.b };
    s.tcp_info(sock).map(|i| i.state)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn three_way_handshake_reaches_established_on_both_sides() {
    let mut p = Pair::new(1);
    let l = listen(&mut p, Side::B, 80);
    let c = start_connect(&mut p, Side::A, SocketAddr::from((IP_B, 80)));
    assert_eq!(state(&p, Side::A, c), Some(TcpState::SynSent));
    p.run_until(p.now + ms(50));
    assert_eq!(state(&p, Side::A, c), Some(TcpState::Established));
    assert!(p.events_of(Side::B).contains(&(l, Event::Acceptable)));
    let s = accept(&mut p, l);
    assert_eq!(state(&p, Side::B, s), Some(TcpState::Established));
    let lines = p.lines();
    let tcp: Vec<&String> = lines.iter().filter(|l| l.contains(" TCP ")).collect();
    assert!(tcp[0].contains("TCP [S] ") && tcp[0].contains("mss=1460 ws=3"), "{tcp:?}");
    assert!(tcp[1].contains("TCP [S.] ") && tcp[1].contains("mss=1460 ws=3"), "{tcp:?}");
    assert!(tcp[2].contains("TCP [.] "), "{tcp:?}");
    assert_eq!(p.command(Side::B, Command::TcpAccept { listener: l }), Err(CommandError::WouldBlock));
}

#[test]
fn active_close_goes_through_fin_wait_and_time_wait() {
    let mut p = Pair::new(2);
    let (c, _, s) = connect(&mut p, 80);
    p.command(Side::A, Command::TcpShutdown { sock: c }).unwrap();
    assert_eq!(state(&p, Side::A, c), Some(TcpState::FinWait1));
    p.run_until(p.now + ms(5));
    assert_eq!(state(&p, Side::A, c), Some(TcpState::FinWait2));
    assert_eq!(state(&p, Side::B, s), Some(TcpState::CloseWait));
    assert!(p.events_of(Side::B).contains(&(s, Event::PeerClosed)));
    let mut buf = Vec::new();
    assert_eq!(read_available(&mut p, Side::B, s, &mut buf), None, "EOF after FIN");
    p.command(Side::B, Command::TcpClose { sock: s }).unwrap();
    let gone = Err(CommandError::NoSuchSocket(s));
    assert_eq!(p.command(Side::B, Command::TcpRecv { sock: s, max: 10 }), gone, "a closed handle is the stack's now");
    assert_eq!(state(&p, Side::B, s), Some(TcpState::LastAck));
    p.run_until(p.now + ms(5));
    assert_eq!(state(&p, Side::A, c), Some(TcpState::TimeWait));
    assert!(p.events_of(Side::B).contains(&(s, Event::Closed)), "LAST-ACK -> CLOSED");
    assert!(p.events_of(Side::A).contains(&(c, Event::Closed)));
    // TIME-WAIT lasts 2*MSL (60 s by default), then the connection is gone.
    p.run_until(p.now + Duration::from_secs(59));
    assert_eq!(state(&p, Side::A, c), Some(TcpState::TimeWait));
    p.run_until(p.now + Duration::from_secs(2));
    assert_eq!(state(&p, Side::A, c), Some(TcpState::Closed), "held until the app closes the handle");
    assert_eq!(state(&p, Side::B, s), None, "B's app closed: its connection is gone after LAST-ACK");
    p.command(Side::A, Command::TcpClose { sock: c }).unwrap();
    assert_eq!(state(&p, Side::A, c), None);
    assert!(p.a.tcp_connections().is_empty());
}

#[test]
fn time_wait_connection_closed_by_app_disappears_after_2msl() {
    let mut p = Pair::new(3);
    let (c, _, s) = connect(&mut p, 80);
    p.command(Side::A, Command::TcpClose { sock: c }).unwrap();
    p.run_until(p.now + ms(5));
    p.command(Side::B, Command::TcpClose { sock: s }).unwrap();
    p.run_until(p.now + ms(5));
    assert_eq!(p.a.tcp_connections().len(), 1, "A holds the TIME-WAIT connection");
    assert!(p.b.tcp_connections().is_empty());
    p.run_until(p.now + Duration::from_secs(61));
    assert!(p.a.tcp_connections().is_empty());
}

#[test]
fn simultaneous_close_goes_through_closing() {
    let mut p = Pair::new(4);
    let (c, _, s) = connect(&mut p, 80);
    p.command(Side::A, Command::TcpShutdown { sock: c }).unwrap();
    p.command(Side::B, Command::TcpShutdown { sock: s }).unwrap();
    assert_eq!(state(&p, Side::A, c), Some(TcpState::FinWait1));
    // The FINs cross: each side sees a FIN before the ACK of its own.
    p.run_until(p.now + ms(1));
    assert_eq!(state(&p, Side::A, c), Some(TcpState::Closing));
    assert_eq!(state(&p, Side::B, s), Some(TcpState::Closing));
    p.run_until(p.now + ms(2));
    assert_eq!(state(&p, Side::A, c), Some(TcpState::TimeWait));
    assert_eq!(state(&p, Side::B, s), Some(TcpState::TimeWait));
}

#[test]
fn simultaneous_open_goes_through_syn_received() {
    let mut p = Pair::new(5);
    let a_local = 4000;
    let b_local = 4001;
    let ra = Command::TcpConnect { remote: SocketAddr::from((IP_B, b_local)), local_port: Some(a_local) };
    let rb =
        Command::TcpConnect { remote: SocketAddr::from((synack_tests::tcp::IP_A, a_local)), local_port: Some(b_local) };
    // B must know A's MAC first so both SYNs cross on the wire.
    let Ok(Reply::Bound { sock: a, .. }) = p.command(Side::A, ra) else { panic!() };
    let Ok(Reply::Bound { sock: b, .. }) = p.command(Side::B, rb) else { panic!() };
    // Each side's SYN arrives while it is in SYN-SENT: both pass through SYN-RECEIVED.
    let mut seen = [false; 2];
    while state(&p, Side::A, a) != Some(TcpState::Established) || state(&p, Side::B, b) != Some(TcpState::Established) {
        seen[0] |= state(&p, Side::A, a) == Some(TcpState::SynReceived);
        seen[1] |= state(&p, Side::B, b) == Some(TcpState::SynReceived);
        assert!(p.step_once() && p.now < Instant::ZERO + ms(10), "not established: {:#?}", p.lines());
    }
    assert_eq!(seen, [true, true], "{:#?}", p.lines());
    // RFC 9293 figure 7: the crossing SYN-ACKs complete it; nothing else is exchanged (Linux since 6.11).
    let handshake: Vec<String> = p.lines().into_iter().filter(|l| l.contains("TCP")).collect();
    assert_eq!(handshake.len(), 4, "two SYNs and two SYN-ACKs: {handshake:#?}");
    assert!(p.events_of(Side::A).contains(&(a, Event::Connected)));
    assert!(p.events_of(Side::B).contains(&(b, Event::Connected)));
    let t = synack_tests::tcp::transfer(&mut p, Side::A, a, b, b"simultaneous", Duration::from_secs(5));
    assert_eq!(t.received, b"simultaneous");
}

#[test]
fn passive_close_goes_through_close_wait_and_last_ack() {
    let mut p = Pair::new(6);
    let (c, _, s) = connect(&mut p, 80);
    p.command(Side::A, Command::TcpShutdown { sock: c }).unwrap();
    p.run_until(p.now + ms(5));
    assert_eq!(state(&p, Side::B, s), Some(TcpState::CloseWait));
    // Half-closed: B can still send to A.
    p.command(Side::B, Command::TcpSend { sock: s, data: b"still talking".to_vec() }).unwrap();
    p.command(Side::B, Command::TcpShutdown { sock: s }).unwrap();
    assert_eq!(state(&p, Side::B, s), Some(TcpState::LastAck));
    p.run_until(p.now + ms(5));
    let mut got = Vec::new();
    assert_eq!(read_available(&mut p, Side::A, c, &mut got), None);
    assert_eq!(got, b"still talking");
    assert_eq!(state(&p, Side::B, s), Some(TcpState::Closed));
    assert_eq!(state(&p, Side::A, c), Some(TcpState::TimeWait));
}

#[test]
fn half_close_from_the_listener_side_keeps_receiving() {
    let mut p = Pair::new(7);
    let (c, _, s) = connect(&mut p, 80);
    p.command(Side::B, Command::TcpShutdown { sock: s }).unwrap();
    p.run_until(p.now + ms(5));
    assert_eq!(state(&p, Side::B, s), Some(TcpState::FinWait2));
    assert_eq!(state(&p, Side::A, c), Some(TcpState::CloseWait));
    let data = synack_tests::tcp::pattern(300_000, 1);
    let t = synack_tests::tcp::transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(30));
    assert!(t.eof && t.received == data);
    assert_eq!(
        p.command(Side::B, Command::TcpSend { sock: s, data: vec![1] }),
        Err(CommandError::InvalidState(TcpState::TimeWait))
    );
}

#[test]
fn connect_to_closed_port_is_reset() {
    let mut p = Pair::new(8);
    let c = start_connect(&mut p, Side::A, SocketAddr::from((IP_B, 81)));
    p.run_until(p.now + ms(10));
    assert_eq!(p.events_of(Side::A), [(c, Event::Reset)]);
    assert_eq!(state(&p, Side::A, c), None);
    assert_eq!(p.b.stats().drops(DropReason::TcpNoSocket), 1);
    assert!(p.lines().iter().any(|l| l.contains("TCP [R.] seq=0")), "{:#?}", p.lines());
}

#[test]
fn syn_retransmits_with_backoff_then_times_out() {
    let mut p = Pair::new(9);
    for n in 2..=20 {
        p.drop_nth(Side::A, n); // every SYN (frame 1 is A's ARP request)
    }
    let c = start_connect(&mut p, Side::A, SocketAddr::from((IP_B, 80)));
    p.run_until_idle();
    let syns: Vec<_> = p.log.iter().filter(|l| l.line().contains("TCP [S]")).map(|l| l.at).collect();
    // 1 + 6 retries at 1, 2, 4, 8, 16, 32 s after the previous one.
    assert_eq!(syns.len(), 7, "{:#?}", p.log.iter().map(|l| format!("{} {}", l.at, l.line())).collect::<Vec<_>>());
    let gaps: Vec<u128> = syns.windows(2).map(|w| (w[1] - w[0]).as_millis()).collect();
    // The first SYN waited 2 ms for ARP; its timer started when it was handed to IP.
    assert_eq!(gaps, [998, 2000, 4000, 8000, 16000, 32000]);
    assert!(p.events_of(Side::A).contains(&(c, Event::TimedOut { soft_error: None })));
    assert_eq!(state(&p, Side::A, c), None);
}

#[test]
fn lost_syn_syn_ack_and_final_ack_are_recovered() {
    for (side, nth, what) in [(Side::A, 2, "SYN"), (Side::B, 2, "SYN-ACK"), (Side::A, 3, "final ACK")] {
        let mut p = Pair::new(10);
        p.drop_nth(side, nth); // frame 1 of each side is ARP
        let l = listen(&mut p, Side::B, 80);
        let c = start_connect(&mut p, Side::A, SocketAddr::from((IP_B, 80)));
        p.run_until(p.now + Duration::from_secs(3));
        assert_eq!(state(&p, Side::A, c), Some(TcpState::Established), "{what}: {:#?}", p.lines());
        if what == "final ACK" {
            // B is still in SYN-RECEIVED until data (or its SYN-ACK retransmission) brings the ACK.
            p.command(Side::A, Command::TcpSend { sock: c, data: b"x".to_vec() }).unwrap();
            p.run_until(p.now + ms(10));
        }
        let s = accept(&mut p, l);
        let t = synack_tests::tcp::transfer(&mut p, Side::A, c, s, b"after loss", Duration::from_secs(10));
        let expect: &[u8] = if what == "final ACK" { b"xafter loss" } else { b"after loss" };
        assert_eq!(t.received, expect, "{what}");
    }
}

#[test]
fn full_accept_queue_holds_handshakes_and_drops_syns_until_accept_makes_room() {
    let mut p = Pair::new(11);
    let l = match p.command(Side::B, Command::TcpListen { local: "0.0.0.0:80".parse().unwrap(), backlog: 2 }) {
        Ok(Reply::Bound { sock, .. }) => sock,
        other => panic!("{other:?}"),
    };
    let cs: Vec<_> = (0..3).map(|_| start_connect(&mut p, Side::A, SocketAddr::from((IP_B, 80)))).collect();
    p.run_until(p.now + ms(100));
    // As on Linux: all three SYNs arrived while the queue was empty, so all three got a SYN-ACK and the clients
    // are established; the third handshake's final ACK was dropped because the accept queue was full.
    assert!(cs.iter().all(|c| state(&p, Side::A, *c) == Some(TcpState::Established)));
    assert_eq!(p.b.stats().drops(DropReason::TcpListenOverflow), 1);
    let states: Vec<_> = p.b.tcp_connections().iter().map(|h| state(&p, Side::B, *h).unwrap()).collect();
    assert_eq!(states, [TcpState::Established, TcpState::Established, TcpState::SynReceived]);
    // A fourth SYN now finds the accept queue full and is dropped; its retransmission comes 1 s later.
    let late = start_connect(&mut p, Side::A, SocketAddr::from((IP_B, 80)));
    p.run_until(p.now + ms(100));
    assert_eq!(state(&p, Side::A, late), Some(TcpState::SynSent));
    assert_eq!(p.b.stats().drops(DropReason::TcpListenOverflow), 2);
    // Accepting makes room: the held handshake completes on B's SYN-ACK retransmission, the late SYN on its own.
    accept(&mut p, l);
    accept(&mut p, l);
    p.run_until(p.now + Duration::from_secs(3));
    assert_eq!(state(&p, Side::A, late), Some(TcpState::Established));
    accept(&mut p, l);
    accept(&mut p, l);
    assert_eq!(p.command(Side::B, Command::TcpAccept { listener: l }), Err(CommandError::WouldBlock));
}

fn rst_in_state(setup: impl Fn(&mut Pair, SocketHandle, SocketHandle), victim: Side, expect_state: TcpState) {
    let mut p = Pair::new(12);
    let (c, _, s) = connect(&mut p, 80);
    setup(&mut p, c, s);
    let sock = if victim == Side::A { c } else { s };
    assert_eq!(state(&p, victim, sock), Some(expect_state), "{:#?}", p.lines());
    let info = if victim == Side::A { p.a.tcp_info(sock) } else { p.b.tcp_info(sock) }.unwrap();
    let rst = segment_to(&p, victim, sock, info.rcv_nxt, SeqNum(0), TcpFlags::RST, b"");
    inject(&mut p, victim, &rst);
    let evs = p.events_of(victim);
    let last = evs.iter().rev().find(|(h, _)| *h == sock).map(|(_, e)| e.clone());
    let reset =
        matches!(expect_state, TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2 | TcpState::CloseWait);
    if reset {
        // A reset releases the handle at once.
        assert_eq!(state(&p, victim, sock), None, "RST must end {expect_state:?}");
        assert_eq!(last, Some(Event::Reset), "{expect_state:?}");
    } else {
        // Both sides had closed: the reset ends the connection as its last ACK would have. `Closed`, and (as
        // for any `Closed`) the handle stays in CLOSED until the application's `TcpClose`.
        assert_eq!(state(&p, victim, sock), Some(TcpState::Closed), "RST must end {expect_state:?}");
        assert_eq!(last, Some(Event::Closed), "{expect_state:?}");
        assert_eq!(p.command(victim, Command::TcpClose { sock }), Ok(Reply::Done));
        assert_eq!(state(&p, victim, sock), None);
    }
}

#[test]
fn exact_rst_ends_the_connection_in_every_synchronized_state() {
    rst_in_state(|_, _, _| {}, Side::A, TcpState::Established);
    rst_in_state(|p, c, _| drop(p.command(Side::A, Command::TcpShutdown { sock: c })), Side::A, TcpState::FinWait1);
    rst_in_state(
        |p, c, _| {
            p.command(Side::A, Command::TcpShutdown { sock: c }).unwrap();
            p.run_until(p.now + ms(5));
        },
        Side::A,
        TcpState::FinWait2,
    );
    rst_in_state(
        |p, c, _| {
            p.command(Side::A, Command::TcpShutdown { sock: c }).unwrap();
            p.run_until(p.now + ms(5));
        },
        Side::B,
        TcpState::CloseWait,
    );
    rst_in_state(
        |p, c, s| {
            p.command(Side::A, Command::TcpShutdown { sock: c }).unwrap();
            p.run_until(p.now + ms(5));
            p.command(Side::B, Command::TcpShutdown { sock: s }).unwrap();
        },
        Side::B,
        TcpState::LastAck,
    );
    rst_in_state(
        |p, c, s| {
            p.command(Side::A, Command::TcpShutdown { sock: c }).unwrap();
            p.command(Side::B, Command::TcpShutdown { sock: s }).unwrap();
            p.run_until(p.now + ms(1));
        },
        Side::A,
        TcpState::Closing,
    );
    rst_in_state(
        |p, c, s| {
            p.command(Side::A, Command::TcpShutdown { sock: c }).unwrap();
            p.run_until(p.now + ms(5));
            p.command(Side::B, Command::TcpShutdown { sock: s }).unwrap();
            p.run_until(p.now + ms(5));
        },
        Side::A,
        TcpState::TimeWait,
    );
}

#[test]
fn rst_in_syn_sent_refuses_and_in_syn_received_forgets() {
    // SYN-SENT: a RST acknowledging our SYN refuses the connection.
    let mut p = Pair::new(13);
    let l = listen(&mut p, Side::B, 80);
    p.drop_nth(Side::B, 2); // B's SYN-ACK never arrives
    let c = start_connect(&mut p, Side::A, SocketAddr::from((IP_B, 80)));
    p.run_until(p.now + ms(5));
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!(info.state, TcpState::SynSent);
    let rst = segment_to(&p, Side::A, c, SeqNum(0), info.snd_nxt, TcpFlags::RST | TcpFlags::ACK, b"");
    inject(&mut p, Side::A, &rst);
    assert_eq!(p.events_of(Side::A), [(c, Event::Reset)]);
    // SYN-RECEIVED (passive): B's half-open connection simply disappears; the listener stays.
    let half_open = p.b.tcp_connections();
    assert_eq!(half_open.len(), 1);
    let h = half_open[0];
    let binfo = p.b.tcp_info(h).unwrap();
    assert_eq!(binfo.state, TcpState::SynReceived);
    let rst = segment_to(&p, Side::B, h, binfo.rcv_nxt, SeqNum(0), TcpFlags::RST, b"");
    inject(&mut p, Side::B, &rst);
    assert!(p.b.tcp_connections().is_empty());
    assert_eq!(p.command(Side::B, Command::TcpAccept { listener: l }), Err(CommandError::WouldBlock));
}

#[test]
fn abort_sends_rst_and_peer_sees_reset() {
    let mut p = Pair::new(14);
    let (c, _, s) = connect(&mut p, 80);
    p.command(Side::A, Command::TcpAbort { sock: c }).unwrap();
    assert_eq!(state(&p, Side::A, c), None);
    p.run_until(p.now + ms(5));
    assert!(p.lines().last().unwrap().contains("TCP [R.]"));
    assert!(p.events_of(Side::B).contains(&(s, Event::Reset)));
    assert_eq!(state(&p, Side::B, s), None);
}

#[test]
fn close_with_unread_data_resets_like_linux() {
    let mut p = Pair::new(15);
    let (c, _, s) = connect(&mut p, 80);
    p.command(Side::A, Command::TcpSend { sock: c, data: b"unread".to_vec() }).unwrap();
    p.run_until(p.now + ms(5));
    p.command(Side::B, Command::TcpClose { sock: s }).unwrap();
    p.run_until(p.now + ms(5));
    assert!(p.events_of(Side::A).contains(&(c, Event::Reset)));
}

#[test]
fn closing_a_listener_resets_unaccepted_connections() {
    let mut p = Pair::new(16);
    let l = listen(&mut p, Side::B, 80);
    let c = start_connect(&mut p, Side::A, SocketAddr::from((IP_B, 80)));
    p.run_until(p.now + ms(5));
    p.command(Side::B, Command::TcpClose { sock: l }).unwrap();
    p.run_until(p.now + ms(5));
    assert!(p.events_of(Side::A).contains(&(c, Event::Reset)));
    assert!(p.b.tcp_connections().is_empty());
    // The port is free again, and new SYNs are refused.
    let c2 = start_connect(&mut p, Side::A, SocketAddr::from((IP_B, 80)));
    p.run_until(p.now + ms(5));
    assert!(p.events_of(Side::A).contains(&(c2, Event::Reset)));
}

#[test]
fn fin_wait_1_goes_straight_to_time_wait_on_fin_ack() {
    let mut p = Pair::new(17);
    let (c, _, s) = connect(&mut p, 80);
    // B's pure ACK of A's FIN is lost; B then closes, so A gets one segment: FIN + ACK of A's FIN.
    let b_sent = p.log.iter().filter(|l| l.from == Side::B).count() as u64;
    p.drop_nth(Side::B, b_sent + 1);
    p.command(Side::A, Command::TcpShutdown { sock: c }).unwrap();
    p.run_until(p.now + ms(1));
    assert_eq!(state(&p, Side::B, s), Some(TcpState::CloseWait));
    assert_eq!(state(&p, Side::A, c), Some(TcpState::FinWait1));
    p.command(Side::B, Command::TcpShutdown { sock: s }).unwrap();
    p.run_until(p.now + ms(1));
    assert_eq!(state(&p, Side::A, c), Some(TcpState::TimeWait), "{:#?}", p.lines());
    p.run_until(p.now + ms(5));
    assert_eq!(state(&p, Side::B, s), Some(TcpState::Closed));
}

#[test]
fn time_wait_acknowledges_a_retransmitted_fin() {
    let mut p = Pair::new(18);
    let (c, _, s) = connect(&mut p, 80);
    p.command(Side::A, Command::TcpShutdown { sock: c }).unwrap();
    p.run_until(p.now + ms(5));
    // A's final ACK is lost: B retransmits its FIN after the RTO, A (in TIME-WAIT) acknowledges it again.
    let a_sent = p.log.iter().filter(|l| l.from == Side::A).count() as u64;
    p.drop_nth(Side::A, a_sent + 1);
    p.command(Side::B, Command::TcpShutdown { sock: s }).unwrap();
    p.run_until(p.now + Duration::from_secs(2));
    assert_eq!(state(&p, Side::A, c), Some(TcpState::TimeWait));
    assert_eq!(state(&p, Side::B, s), Some(TcpState::Closed), "{:#?}", p.lines());
    let fins = p.lines().iter().filter(|l| l.starts_with("B>A") && l.contains("[F.]")).count();
    assert_eq!(fins, 2);
}

/// Opens a connection A -> B on B's listener `l`, closes it A first, then B; returns A's socket.
fn open_and_close(p: &mut Pair, l: SocketHandle, port: u16) -> SocketHandle {
    let c = start_connect(p, Side::A, SocketAddr::from((IP_B, port)));
    p.run_until(p.now + ms(5));
    let s = accept(p, l);
    p.command(Side::A, Command::TcpClose { sock: c }).unwrap();
    p.run_until(p.now + ms(5));
    p.command(Side::B, Command::TcpClose { sock: s }).unwrap();
    p.run_until(p.now + ms(5));
    c
}

/// A pair whose A keeps at most `max` connections in TIME-WAIT, and B's listener on port 80.
fn time_wait_bounded_pair(seed: u64, max: usize) -> (Pair, SocketHandle) {
    let (mut a, b) = synack_tests::configs(seed);
    a.tcp.max_time_wait = max;
    let mut p = Pair::with_configs(a, b);
    let l = listen(&mut p, Side::B, 80);
    (p, l)
}

#[test]
fn time_wait_is_bounded_and_the_rest_close_at_once() {
    let (mut p, l) = time_wait_bounded_pair(7, 2);
    let closed: Vec<SocketHandle> = (0..5).map(|_| open_and_close(&mut p, l, 80)).collect();
    // The first two wait; the other three sent their last ACK and were gone at once, as with Linux's
    // tcp_max_tw_buckets. B's side of every connection ended normally (its FIN was acknowledged).
    let waiting: Vec<SocketHandle> = closed.iter().copied().filter(|&c| state(&p, Side::A, c).is_some()).collect();
    assert_eq!(waiting, closed[..2]);
    assert!(waiting.iter().all(|&c| state(&p, Side::A, c) == Some(TcpState::TimeWait)));
    assert_eq!(p.a.stats().tcp_time_wait_overflows, 3);
    assert!(p.b.tcp_connections().is_empty(), "every LAST-ACK was answered");
    assert_eq!(p.b.stats().tcp_resets_sent + p.a.stats().tcp_resets_sent, 0);
    // When the two expire, their places are free again.
    p.run_until(p.now + Duration::from_secs(61));
    assert!(p.a.tcp_connections().is_empty());
    let later: Vec<SocketHandle> = (0..2).map(|_| open_and_close(&mut p, l, 80)).collect();
    assert!(later.iter().all(|&c| state(&p, Side::A, c) == Some(TcpState::TimeWait)));
    assert_eq!(p.a.stats().tcp_time_wait_overflows, 3);
}

#[test]
fn no_time_wait_at_all_with_a_zero_bound() {
    let (mut p, l) = time_wait_bounded_pair(8, 0);
    // Shut down rather than closed: the application still holds the handle, which ends in CLOSED, not TIME-WAIT.
    let (c, s) = {
        let c = start_connect(&mut p, Side::A, SocketAddr::from((IP_B, 80)));
        p.run_until(p.now + ms(5));
        (c, accept(&mut p, l))
    };
    p.command(Side::A, Command::TcpShutdown { sock: c }).unwrap();
    p.run_until(p.now + ms(5));
    p.command(Side::B, Command::TcpClose { sock: s }).unwrap();
    p.run_until(p.now + ms(5));
    assert_eq!(state(&p, Side::A, c), Some(TcpState::Closed));
    assert!(p.events_of(Side::A).contains(&(c, Event::Closed)));
    assert_eq!(p.a.stats().tcp_time_wait_overflows, 1);
    p.command(Side::A, Command::TcpClose { sock: c }).unwrap();
    assert!(p.a.tcp_connections().is_empty());
}

/// B closed first (as an HTTP server does) and holds the four-tuple in TIME-WAIT; the client reconnects from
/// the same port (as a load generator cycling through ports does). RFC 1122 §4.2.2.13 / RFC 6191, as Linux:
/// a SYN above the old RCV.NXT opens a new connection at once, with an ISS above anything the old one sent;
/// without it the SYN met a challenge ACK, the client reset and retried after its SYN timeout.
fn server_in_time_wait_with_client_port(port: u16) -> (Pair, SocketHandle, synack::tcp::TcpInfo) {
    let mut p = Pair::new(71);
    let l = listen(&mut p, Side::B, 80);
    let remote = SocketAddr::from((IP_B, 80));
    let c = match p.command(Side::A, Command::TcpConnect { remote, local_port: Some(port) }) {
        Ok(Reply::Bound { sock, .. }) => sock,
        other => panic!("{other:?}"),
    };
    p.run_until(p.now + ms(20));
    let s = accept(&mut p, l);
    p.command(Side::B, Command::TcpClose { sock: s }).unwrap();
    p.run_until(p.now + ms(20));
    p.command(Side::A, Command::TcpClose { sock: c }).unwrap();
    p.run_until(p.now + ms(20));
    let old = p.b.tcp_connections().into_iter().find_map(|h| p.b.tcp_info(h)).expect("B keeps TIME-WAIT");
    assert_eq!(old.state, TcpState::TimeWait);
    assert_eq!(state(&p, Side::A, c), None, "A closed");
    (p, l, old)
}

#[test]
fn syn_above_rcv_nxt_reuses_a_time_wait_four_tuple_at_once() {
    let (mut p, l, old) = server_in_time_wait_with_client_port(40_000);
    p.run_until(p.now + Duration::from_secs(1)); // A's clock-driven ISN moves well past the old RCV.NXT
    let remote = SocketAddr::from((IP_B, 80));
    let c = match p.command(Side::A, Command::TcpConnect { remote, local_port: Some(40_000) }) {
        Ok(Reply::Bound { sock, .. }) => sock,
        other => panic!("{other:?}"),
    };
    p.run_until(p.now + ms(20));
    assert_eq!(state(&p, Side::A, c), Some(TcpState::Established), "{:#?}", p.lines());
    assert_eq!(p.b.stats().tcp_time_wait_reused, 1);
    assert_eq!(p.a.stats().tcp_resets_sent, 0);
    let s = accept(&mut p, l);
    let new = p.b.tcp_info(s).unwrap();
    assert_eq!(new.state, TcpState::Established);
    // The new incarnation's sequence space starts beyond anything the old one sent.
    assert!(new.snd_una > old.snd_nxt + 65_535, "{new:?} vs {old:?}");
    assert!(p.events_of(Side::A).iter().all(|(h, e)| *h != c || *e == Event::Connected));
}

#[test]
fn syn_at_or_below_rcv_nxt_meets_a_challenge_ack_in_time_wait() {
    let (mut p, _, old) = server_in_time_wait_with_client_port(40_001);
    let h = p.b.tcp_connections()[0];
    let syn = segment_to(&p, Side::B, h, old.rcv_nxt - 1, SeqNum(0), TcpFlags::SYN, b"");
    let out = inject(&mut p, Side::B, &syn);
    assert_eq!(p.b.stats().tcp_time_wait_reused, 0);
    assert_eq!(state(&p, Side::B, h), Some(TcpState::TimeWait), "an old duplicate SYN leaves TIME-WAIT alone");
    assert_eq!(out.iter().filter(|o| matches!(o, synack::Output::Transmit(_))).count(), 1, "the challenge ACK");
}

/// The TSval of the last TCP segment A sent: what B holds as TS.Recent.
fn last_tsval_from_a(p: &Pair) -> u32 {
    use synack::wire::{EthernetFrame, Ipv4Packet, TcpPacket, TcpRepr};
    let tsval = |frame: &[u8]| {
        let eth = EthernetFrame::new_checked(frame).ok()?;
        let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
        let tcp = TcpPacket::new_checked(ip.payload()).ok()?;
        TcpRepr::parse(&tcp, &ip.src_addr(), &ip.dst_addr()).ok()?.options.timestamp.map(|(v, _)| v)
    };
    p.log.iter().rev().filter(|l| l.from == Side::A).find_map(|l| tsval(&l.frame)).expect("A sends timestamps")
}

/// A client that reuses its port within the clock tick of the old connection's last segment sends a SYN whose
/// TSval equals TS.Recent: then the sequence number decides, as in Linux's `tcp_timewait_state_process` (an
/// HTTP load through 300 ports met a challenge ACK, a reset and a SYN retransmission this way). An older TSval
/// fails PAWS whatever the sequence number.
#[test]
fn syn_in_the_same_timestamp_tick_reuses_time_wait_by_its_sequence_number() {
    let (mut p, _, old) = server_in_time_wait_with_client_port(40_002);
    let h = p.b.tcp_connections()[0];
    let recent = last_tsval_from_a(&p);
    let mut syn = segment_to(&p, Side::B, h, old.rcv_nxt + 1000, SeqNum(0), TcpFlags::SYN, b"");
    syn.options.timestamp = Some((recent.wrapping_sub(1), 0));
    inject(&mut p, Side::B, &syn);
    assert_eq!(p.b.stats().tcp_time_wait_reused, 0, "an older timestamp is an old duplicate");
    assert_eq!(state(&p, Side::B, h), Some(TcpState::TimeWait));
    syn.options.timestamp = Some((recent, 0));
    inject(&mut p, Side::B, &syn);
    assert_eq!(p.b.stats().tcp_time_wait_reused, 1, "the same tick, a sequence number above RCV.NXT: reused");
}
