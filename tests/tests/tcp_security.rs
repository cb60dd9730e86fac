//! RFC 5961 blind in-window attacks, from an off-path attacker who guesses sequence numbers.

use std::time::Duration;
use synack::tcp::{SeqNum, TcpState};
use synack::wire::TcpFlags;
use synack::DropReason;
use synack_tests::tcp::{connect, inject, pattern, segment_to, transfer};
use synack_tests::{Pair, Side};

fn established() -> (Pair, synack::SocketHandle, synack::SocketHandle) {
    let mut p = Pair::new(41);
    let (c, _, s) = connect(&mut p, 80);
    (p, c, s)
}

/// Moves `len` bytes from `tx` (on `from`) to `rx` and checks that all arrived intact, then end of stream.
fn assert_transfer(p: &mut Pair, from: Side, tx: synack::SocketHandle, rx: synack::SocketHandle, len: usize) {
    let data = pattern(len, len as u64);
    let t = transfer(p, from, tx, rx, &data, Duration::from_secs(10));
    assert!(t.eof && t.received == data, "{len} bytes {from:?} -> other side: {} arrived", t.received.len());
}

/// A segment to B's port 80 from A's address and `src_port`, for connections B does not know yet.
fn to_port_80(src_port: u16, seq: u32, ack: u32, flags: TcpFlags) -> synack::wire::TcpRepr<'static> {
    synack::wire::TcpRepr {
        src_port,
        dst_port: 80,
        seq_number: SeqNum(seq),
        ack_number: SeqNum(ack),
        flags,
        window_len: 1000,
        urgent_ptr: 0,
        options: synack::wire::TcpOptions::default(),
        payload: b"",
    }
}

#[test]
fn in_window_rst_with_wrong_sequence_gets_a_challenge_ack_and_is_ignored() {
    let (mut p, c, s) = established();
    let info = p.b.tcp_info(s).unwrap();
    let rst = segment_to(&p, Side::B, s, info.rcv_nxt + 100, SeqNum(0), TcpFlags::RST, b"");
    let out = inject(&mut p, Side::B, &rst);
    assert_eq!(out.len(), 1, "exactly one challenge ACK");
    assert_eq!(p.b.tcp_info(s).unwrap().state, TcpState::Established);
    assert_eq!(p.b.stats().drops(DropReason::TcpRstChallenged), 1);
    // The challenge ACK reaches the real peer, which answers with nothing harmful; data still flows.
    p.run_until(p.now + Duration::from_millis(10));
    let data = pattern(100_000, 1);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(10));
    assert!(t.eof && t.received == data);
}

#[test]
fn out_of_window_rst_is_silently_dropped() {
    let (mut p, _c, s) = established();
    let info = p.b.tcp_info(s).unwrap();
    let rst = segment_to(&p, Side::B, s, info.rcv_nxt + 10_000_000, SeqNum(0), TcpFlags::RST, b"");
    assert!(inject(&mut p, Side::B, &rst).is_empty());
    assert_eq!(p.b.tcp_info(s).unwrap().state, TcpState::Established);
    assert_eq!(p.b.stats().drops(DropReason::TcpOutOfWindow), 1);
}

#[test]
fn syn_on_an_established_connection_gets_a_challenge_ack() {
    let (mut p, _c, s) = established();
    let info = p.b.tcp_info(s).unwrap();
    for seq in [info.rcv_nxt, info.rcv_nxt + 5, SeqNum(12345)] {
        let syn = segment_to(&p, Side::B, s, seq, SeqNum(0), TcpFlags::SYN, b"");
        inject(&mut p, Side::B, &syn);
    }
    assert_eq!(p.b.tcp_info(s).unwrap().state, TcpState::Established);
    assert_eq!(p.b.stats().drops(DropReason::TcpSynChallenged), 2);
    assert_eq!(p.b.stats().drops(DropReason::TcpOutOfWindow), 1);
}

#[test]
fn blind_data_injection_is_rejected_and_the_stream_stays_intact() {
    let (mut p, c, s) = established();
    let info = p.b.tcp_info(s).unwrap();
    // Out-of-window data, and in-window data whose ACK acknowledges data never sent.
    let far = segment_to(&p, Side::B, s, info.rcv_nxt + 5_000_000, info.snd_nxt, TcpFlags::ACK, b"EVIL");
    inject(&mut p, Side::B, &far);
    let bad_ack = segment_to(&p, Side::B, s, info.rcv_nxt, info.snd_nxt + 1_000_000, TcpFlags::ACK, b"EVIL");
    inject(&mut p, Side::B, &bad_ack);
    let old_ack = segment_to(&p, Side::B, s, info.rcv_nxt, info.snd_nxt - 2_000_000_000, TcpFlags::ACK, b"EVIL");
    inject(&mut p, Side::B, &old_ack);
    assert_eq!(p.b.tcp_info(s).unwrap().recv_queued, 0, "nothing injected reached the buffer");
    assert_eq!(p.b.stats().drops(DropReason::TcpBadAck), 2);
    let data = pattern(200_000, 2);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(10));
    assert!(t.eof && t.received == data);
}

#[test]
fn challenge_acks_are_rate_limited() {
    let (mut p, _c, s) = established();
    let info = p.b.tcp_info(s).unwrap();
    let mut sent = 0;
    for i in 0..3000u32 {
        let rst = segment_to(&p, Side::B, s, info.rcv_nxt + 1 + (i % 1000) as usize, SeqNum(0), TcpFlags::RST, b"");
        sent += inject(&mut p, Side::B, &rst).len();
    }
    assert_eq!(sent, 1000, "burst of the default 1000/s limit");
    assert_eq!(p.b.stats().tcp_challenge_acks_suppressed, 2000);
    assert_eq!(p.b.tcp_info(s).unwrap().state, TcpState::Established);
}

/// Runs the pair until B has answered A's SYN: A is still in SYN-SENT, B's SYN-ACK is on the wire.
fn until_syn_ack_in_flight(p: &mut Pair) {
    let b_syn_acks = |p: &Pair| p.log.iter().filter(|l| l.from == Side::B && l.line().contains("TCP [S.]")).count();
    while b_syn_acks(p) == 0 {
        assert!(p.step_once(), "B never answered the SYN: {:#?}", p.lines());
    }
}

/// An off-path attacker's bare SYN to A's connecting socket `c`, on its four-tuple: A takes it for a
/// simultaneous open (RFC 9293) and moves to SYN-RECEIVED.
fn forge_crossed_syn(p: &mut Pair, c: synack::SocketHandle) {
    let forged = segment_to(p, Side::A, c, SeqNum(0x1234_5678), SeqNum(0), TcpFlags::SYN, b"");
    inject(p, Side::A, &forged);
    assert_eq!(p.a.tcp_info(c).unwrap().state, TcpState::SynReceived);
}

#[test]
fn a_forged_bare_syn_during_the_handshake_does_not_break_the_connection() {
    // A blind attacker who knows the four-tuple forges a bare SYN while A waits for its SYN-ACK. A turns it into
    // a simultaneous open (RFC 9293) and answers with a SYN-ACK naming the forged ISN, which B would reset. The
    // real SYN-ACK acknowledges A's ISS, so A resynchronises to it instead.
    let mut p = Pair::new(43);
    let l = synack_tests::tcp::listen(&mut p, Side::B, 80);
    let c =
        synack_tests::tcp::start_connect(&mut p, Side::A, std::net::SocketAddr::from((synack_tests::tcp::IP_B, 80)));
    until_syn_ack_in_flight(&mut p);
    assert_eq!(p.a.tcp_info(c).unwrap().state, TcpState::SynSent);
    forge_crossed_syn(&mut p, c);
    p.run_until(p.now + Duration::from_millis(50));
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!(info.state, TcpState::Established, "{:#?}", p.lines());
    assert_eq!(info.counters.crossed_syns_superseded, 1);
    assert!(p.events_of(Side::A).contains(&(c, synack::Event::Connected)));
    assert!(!p.events_of(Side::A).iter().any(|(_, e)| *e == synack::Event::Reset), "{:#?}", p.lines());
    let s = synack_tests::tcp::accept(&mut p, l);
    // Options come from the real SYN-ACK (the forged SYN carried none): window scaling and SACK are on.
    assert!(info.mss > 1000 && p.a.tcp_info(c).unwrap().rcv_wnd > 65_535, "{info:#?}");
    assert_transfer(&mut p, Side::A, c, s, 300_000);
    assert_transfer(&mut p, Side::B, s, c, 300_000);
}

#[test]
fn a_genuine_simultaneous_open_is_not_taken_for_a_forgery() {
    // The peer's SYN-ACK in a real simultaneous open repeats its SYN's sequence number: nothing is superseded.
    let mut p = Pair::new(44);
    let ra = synack::Command::TcpConnect {
        remote: std::net::SocketAddr::from((synack_tests::tcp::IP_B, 4001)),
        local_port: Some(4000),
    };
    let rb = synack::Command::TcpConnect {
        remote: std::net::SocketAddr::from((synack_tests::tcp::IP_A, 4000)),
        local_port: Some(4001),
    };
    let Ok(synack::Reply::Bound { sock: a, .. }) = p.command(Side::A, ra) else { panic!() };
    let Ok(synack::Reply::Bound { sock: b, .. }) = p.command(Side::B, rb) else { panic!() };
    p.run_until(p.now + Duration::from_millis(20));
    for (side, sock) in [(Side::A, a), (Side::B, b)] {
        let info = p.stack(side).tcp_info(sock).unwrap();
        assert_eq!(info.state, TcpState::Established);
        assert_eq!(info.counters.crossed_syns_superseded, 0);
    }
}

#[test]
fn forged_out_of_window_data_draws_only_rate_limited_acks_but_retransmissions_are_acked_at_once() {
    let (mut p, c, s) = established();
    let data = pattern(50_000, 5);
    let t = transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(10));
    assert_eq!(t.received, data);
    let info = p.b.tcp_info(s).unwrap();
    // 5,000 forged data segments far from the window: answered no faster than the challenge-ACK limit.
    let mut answers = 0;
    for i in 0..5000u32 {
        let seq = info.rcv_nxt + 10_000_000 + (i as usize) * 1000;
        let forged = segment_to(&p, Side::B, s, seq, info.snd_nxt, TcpFlags::ACK, b"EVIL");
        answers += inject(&mut p, Side::B, &forged).len();
    }
    assert_eq!(answers, 1000, "burst of the default 1000/s challenge-ACK limit");
    assert_eq!(p.b.stats().drops(DropReason::TcpOutOfWindow), 5000);
    // The limit is spent, yet a retransmission of data B already has (its ACK was lost), a keep-alive probe and
    // a repeated FIN are each acknowledged at once, with RCV.NXT.
    let old = [
        (info.rcv_nxt - 1000, TcpFlags::ACK, &b"old data"[..]),
        (info.rcv_nxt - 1, TcpFlags::ACK, &b""[..]),
        (info.rcv_nxt - 1, TcpFlags::ACK | TcpFlags::FIN, &b""[..]),
    ];
    for (seq, flags, payload) in old {
        let seg = segment_to(&p, Side::B, s, seq, info.snd_nxt, flags, payload);
        let out = inject(&mut p, Side::B, &seg);
        assert_eq!(out.len(), 1, "{flags:?} at {seq:?} must be acknowledged");
    }
    assert_eq!(p.b.tcp_info(s).unwrap().recv_queued, 0);
    assert_eq!(p.b.tcp_info(s).unwrap().state, TcpState::CloseWait);
}

#[test]
fn two_half_open_ends_that_each_took_a_forged_syn_recover() {
    // The attacker forges a SYN to B's listener on A's four-tuple before A's SYN arrives, and a bare SYN to A
    // while it waits in SYN-SENT. Both ends are half-open on forged sequence numbers; neither SYN-ACK
    // acknowledges the other's SYN. Each side resets what it cannot acknowledge; A goes back to SYN-SENT
    // (the crossed SYN proved nothing) and its SYN then opens the connection.
    let mut p = Pair::new(45);
    let l = synack_tests::tcp::listen(&mut p, Side::B, 80);
    let c =
        synack_tests::tcp::start_connect(&mut p, Side::A, std::net::SocketAddr::from((synack_tests::tcp::IP_B, 80)));
    let a_port = p.a.tcp_info(c).unwrap().local.port();
    let to_listener = to_port_80(a_port, 777, 0, TcpFlags::SYN);
    inject(&mut p, Side::B, &to_listener);
    forge_crossed_syn(&mut p, c);
    p.run_until(p.now + Duration::from_millis(100));
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!(info.state, TcpState::Established, "{:#?}", p.lines());
    assert_eq!(info.counters.crossed_syns_reset, 1, "{:#?}", p.lines());
    assert!(p.lines().len() < 30, "no ACK war: {:#?}", p.lines());
    let s = synack_tests::tcp::accept(&mut p, l);
    assert_transfer(&mut p, Side::A, c, s, 200_000);
}

#[test]
fn a_syn_ack_to_a_listener_is_reset() {
    // RFC 9293 §3.10.7.2: any ACK-bearing segment to LISTEN draws <SEQ=SEG.ACK><CTL=RST>; a SYN-ACK too.
    let mut p = Pair::new(46);
    // A connection on another port first, so both sides know each other's MAC.
    let _ = synack_tests::tcp::connect(&mut p, 81);
    let l = synack_tests::tcp::listen(&mut p, Side::B, 80);
    let syn_ack = to_port_80(40_000, 1000, 5555, TcpFlags::SYN | TcpFlags::ACK);
    let out = inject(&mut p, Side::B, &syn_ack);
    let frames: Vec<_> =
        out.iter().filter_map(|o| if let synack::Output::Transmit(f) = o { Some(f) } else { None }).collect();
    assert_eq!(frames.len(), 1, "{out:?}");
    let line = synack::wire::pretty::frame_summary(frames[0]);
    assert!(line.contains("[R] seq=5555"), "{line}");
    assert_eq!(p.b.stats().drops(DropReason::TcpNoSocket), 1);
    let _ = l;
}

/// A stale pure ACK (sequence number below RCV.NXT) is answered with an ACK, but at most once per
/// `TcpConfig::invalid_ack_interval` (500 ms, Linux's `tcp_invalid_ratelimit`): two ends that each find the
/// other's ACKs unacceptable cannot trade them without end. Stale data is always answered (it is the peer
/// retransmitting what we already have, and it needs our ACK).
#[test]
fn stale_pure_acks_are_answered_at_most_once_per_interval() {
    let (mut p, c, s) = established();
    assert_transfer(&mut p, Side::A, c, s, 3000);
    let info = p.b.tcp_info(s).unwrap();
    let stale = segment_to(&p, Side::B, s, info.rcv_nxt - 1000, info.snd_nxt, TcpFlags::ACK, b"");
    let acks_from_b = |out: &[synack::Output]| out.iter().filter(|o| matches!(o, synack::Output::Transmit(_))).count();
    let mut answered = 0;
    for _ in 0..10 {
        answered += acks_from_b(&inject(&mut p, Side::B, &stale));
        p.run_until(p.now + Duration::from_millis(20));
    }
    assert_eq!(answered, 1, "ten stale ACKs in 200 ms: one answer");
    assert_eq!(p.b.tcp_info(s).unwrap().counters.invalid_acks_suppressed, 9);
    p.run_until(p.now + Duration::from_millis(400));
    assert_eq!(acks_from_b(&inject(&mut p, Side::B, &stale)), 1, "answered again after 500 ms");
    let stale_data = segment_to(&p, Side::B, s, info.rcv_nxt - 100, info.snd_nxt, TcpFlags::ACK, &[7; 100]);
    for _ in 0..3 {
        assert_eq!(acks_from_b(&inject(&mut p, Side::B, &stale_data)), 1, "a duplicate with data is always answered");
    }
}
