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
