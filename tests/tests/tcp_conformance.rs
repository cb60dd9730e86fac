//! Segment processing where RFC 9293 and Linux agree and a conformance prober looks: data after close, old ACKs
//! and the send window, the MSS a peer without (or with a zero) MSS option gets.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use synack::tcp::TcpState;
use synack::wire::{TcpFlags, TcpPacket};
use synack::{Command, Event, Instant, Ipv6Config, SocketHandle};
use synack_tests::frames::tcp_fields;
use synack_tests::tcp::{accept, connect, inject, segment_to, start_connect};
use synack_tests::{configs, Pair, Side};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn state(p: &Pair, side: Side, sock: SocketHandle) -> Option<TcpState> {
    let s = if side == Side::A { &p.a } else { &p.b };
    s.tcp_info(sock).map(|i| i.state)
}

/// RFC 1122 §4.2.2.13 / RFC 9293 §3.6 (and Linux `tcp_rcv_state_process`, LINUX_MIB_TCPABORTONDATA): once the
/// application has closed the connection, new data from the peer cannot be delivered and must be answered with
/// a RST.
#[test]
fn data_arriving_after_close_in_fin_wait_2_is_answered_with_rst() {
    let mut p = Pair::new(101);
    let (c, _, s) = connect(&mut p, 80);
    p.command(Side::A, Command::TcpClose { sock: c }).unwrap();
    p.run_until(p.now + ms(5));
    assert_eq!(state(&p, Side::A, c), Some(TcpState::FinWait2), "{:#?}", p.lines());
    assert_eq!(state(&p, Side::B, s), Some(TcpState::CloseWait));
    let before = p.log.len();
    // B (half-closed by A) still sends: A's application is gone, nobody will ever read these bytes.
    p.command(Side::B, Command::TcpSend { sock: s, data: b"late data".to_vec() }).unwrap();
    p.run_until(p.now + ms(5));
    let from_b: Vec<_> =
        p.log[before..].iter().filter(|l| l.from == Side::B).filter_map(|l| tcp_fields(&l.frame)).collect();
    let data = from_b.iter().find(|t| t.len > 0).expect("B's data went out");
    let resets: Vec<_> = p.log[before..]
        .iter()
        .filter(|l| l.from == Side::A)
        .filter_map(|l| tcp_fields(&l.frame))
        .filter(|t| t.flags.contains(TcpFlags::RST))
        .collect();
    assert_eq!(resets.len(), 1, "A must reset data that arrives after close: {:#?}", &p.lines()[before..]);
    // <SEQ=SEG.ACK><CTL=RST>: exactly the sequence number B expects next, so B takes it at once (RFC 5961).
    assert_eq!(resets[0].seq, data.ack);
    assert!(!resets[0].flags.contains(TcpFlags::ACK));
    assert!(p.events_of(Side::B).contains(&(s, Event::Reset)), "{:#?}", p.lines());
    assert_eq!(state(&p, Side::A, c), None, "A's connection is gone");
    assert_eq!(p.a.stats().drops(synack::DropReason::TcpDataAfterClose), 1);
}

/// RFC 9293 §3.10.7.4 fifth step: "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated" and
/// "If the ACK is a duplicate (SEG.ACK < SND.UNA), it can be ignored" (Linux `tcp_ack`: `old_ack` never calls
/// `tcp_ack_update_window`). An old ACK must not change the send window, even with a newer sequence number.
#[test]
fn an_old_ack_does_not_update_the_send_window() {
    let mut p = Pair::new(102);
    let (c, _, _) = connect(&mut p, 80);
    // A sends 3000 bytes, B acknowledges them: SND.UNA moves 3000 past ISS + 1.
    p.command(Side::A, Command::TcpSend { sock: c, data: vec![7u8; 3000] }).unwrap();
    p.run_until(p.now + ms(300));
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!(info.snd_una, info.snd_nxt);
    let (nxt, una) = (info.rcv_nxt, info.snd_una);
    // Segment 1 from "B": 10 bytes at RCV.NXT, acknowledging SND.UNA, window 1000 (scaled): SND.WL1 = nxt.
    let seg1 = segment_to(&p, Side::A, c, nxt, una, TcpFlags::ACK, b"0123456789");
    inject(&mut p, Side::A, &seg1);
    let wnd_before = p.a.tcp_info(c).unwrap().snd_wnd;
    assert!(wnd_before > 0);
    // Segment 2: the next 10 bytes (SEG.SEQ > SND.WL1) but an old ACK (SEG.ACK < SND.UNA) and window 0.
    let mut seg2 = segment_to(&p, Side::A, c, nxt + 10, una - 1000, TcpFlags::ACK, b"abcdefghij");
    seg2.window_len = 0;
    inject(&mut p, Side::A, &seg2);
    let after = p.a.tcp_info(c).unwrap();
    assert_eq!(after.rcv_nxt, nxt + 20, "the data is still taken");
    assert_eq!(after.snd_wnd, wnd_before, "an old ACK (SEG.ACK < SND.UNA) must not update the send window");
}

fn is_syn_v6(frame: &[u8]) -> bool {
    frame.get(12..14) == Some(&[0x86, 0xdd][..]) && frame.get(20) == Some(&6) && frame[54 + 13] & 0x02 != 0
}

fn is_syn_v4(frame: &[u8]) -> bool {
    synack_tests::frames::is_syn(frame)
}

/// Rewrites the MSS option of a SYN whose TCP header starts at `tcp_at`: four NOPs for `None`, else the value
/// (the TCP checksum follows).
fn rewrite_mss(frame: &mut [u8], tcp_at: usize, value: Option<u16>) {
    let data_off = usize::from(frame[tcp_at + 12] >> 4) * 4;
    let mut i = tcp_at + 20;
    while i < tcp_at + data_off {
        match frame[i] {
            0 => break,
            1 => i += 1,
            2 => {
                match value {
                    None => frame[i..i + 4].copy_from_slice(&[1, 1, 1, 1]),
                    Some(v) => frame[i + 2..i + 4].copy_from_slice(&v.to_be_bytes()),
                }
                break;
            }
            _ => i += usize::from(frame[i + 1]),
        }
    }
    let addr = |at: usize, len: usize| -> IpAddr {
        let bytes = &frame[at..at + len];
        match <[u8; 4]>::try_from(bytes) {
            Ok(v4) => Ipv4Addr::from(v4).into(),
            Err(_) => Ipv6Addr::from(<[u8; 16]>::try_from(bytes).expect("16 bytes")).into(),
        }
    };
    let (src, dst) = if tcp_at == 14 + 40 { (addr(22, 16), addr(38, 16)) } else { (addr(26, 4), addr(30, 4)) };
    TcpPacket::new_unchecked(&mut frame[tcp_at..]).fill_checksum(&src, &dst);
}

/// B sends 20,000 bytes on `s`: the largest payload it put in one segment (whose TCP header starts at `tcp_at`
/// in the frame), and the bytes of options each of its segments carries.
fn largest_segment_of_b(p: &mut Pair, s: SocketHandle, tcp_at: usize) -> (usize, usize) {
    let options = if p.b.tcp_info(s).unwrap().timestamps { 12 } else { 0 };
    let from = p.log.len();
    p.command(Side::B, Command::TcpSend { sock: s, data: vec![1u8; 20_000] }).unwrap();
    p.run_until(p.now + ms(100));
    (largest_payload_from_b(p, from, tcp_at), options)
}

/// Largest TCP payload B sent in the frames logged from `from` on.
fn largest_payload_from_b(p: &Pair, from: usize, tcp_at: usize) -> usize {
    p.log[from..]
        .iter()
        .filter(|l| l.from == Side::B && l.frame.len() > tcp_at + 20)
        .map(|l| l.frame.len() - tcp_at - usize::from(l.frame[tcp_at + 12] >> 4) * 4)
        .max()
        .unwrap_or(0)
}

/// RFC 9293 §3.7.1 (MUST-15) and RFC 8200 §8.3: without an MSS option the send MSS is 536 for IPv4 and 1220
/// for IPv6 (Linux: `tcp_request_sock_ipv6_ops.mss_clamp = IPV6_MIN_MTU - 60`).
#[test]
fn ipv6_peer_without_mss_option_gets_the_ipv6_default_of_1220() {
    let (mut a, mut b) = configs(103);
    let v6 = |s: &str| Ipv6Config { addresses: vec![s.parse().unwrap()], ..Ipv6Config::default() };
    a.ipv6 = Some(v6("2001:db8::1/64"));
    b.ipv6 = Some(v6("2001:db8::2/64"));
    let mut p = Pair::with_configs(a, b);
    p.run_until(Instant::from_secs(3));
    let gb = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
    let l = match p.command(
        Side::B,
        Command::TcpListen { local: SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 80), backlog: 4 },
    ) {
        Ok(synack::Reply::Bound { sock, .. }) => sock,
        other => panic!("{other:?}"),
    };
    let strip_mss_v6: fn(&mut Vec<u8>) = |f| rewrite_mss(f, 14 + 40, None);
    p.rewrite_next_where(Side::A, 1, is_syn_v6, strip_mss_v6);
    let c = start_connect(&mut p, Side::A, SocketAddr::new(IpAddr::V6(gb), 80));
    p.run_until(p.now + ms(50));
    assert!(p.events_of(Side::A).contains(&(c, Event::Connected)), "{:#?}", p.lines());
    let s = accept(&mut p, l);
    let (largest, options) = largest_segment_of_b(&mut p, s, 14 + 40);
    assert_eq!(largest, 1220 - options, "{:#?}", p.lines());
}

/// Linux `tcp_parse_options`: an MSS option of 0 is ignored (`if (in_mss)`), so the default 536 applies; it does
/// not shrink segments to a few dozen bytes.
#[test]
fn mss_option_of_zero_is_ignored_like_linux() {
    let mut p = Pair::new(104);
    let zero_mss_v4: fn(&mut Vec<u8>) = |f| rewrite_mss(f, 14 + 20, Some(0));
    p.rewrite_next_where(Side::A, 1, is_syn_v4, zero_mss_v4);
    let (_, _, s) = connect(&mut p, 80);
    let (largest, options) = largest_segment_of_b(&mut p, s, 14 + 20);
    assert_eq!(largest, 536 - options, "{:#?}", p.lines());
}

/// Sanity check of the rewrite helper: without any MSS option, IPv4 gets 536.
#[test]
fn ipv4_peer_without_mss_option_gets_536() {
    let mut p = Pair::new(105);
    let strip_mss_v4: fn(&mut Vec<u8>) = |f| rewrite_mss(f, 14 + 20, None);
    p.rewrite_next_where(Side::A, 1, is_syn_v4, strip_mss_v4);
    let (_, _, s) = connect(&mut p, 80);
    let (largest, options) = largest_segment_of_b(&mut p, s, 14 + 20);
    assert_eq!(largest, 536 - options, "{:#?}", p.lines());
}
