//! Segment processing and timers where the RFCs and Linux agree and a conformance prober looks: data after
//! close, old ACKs and the send window, the MSS a peer without (or with a zero) MSS option gets, Karn's rule for
//! a SYN-ACK sent again, RFC 6298's 3 s after an unmeasured handshake, a window shrunk to zero on data in flight,
//! the order of SACK blocks.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use synack::tcp::TcpState;
use synack::wire::{EthernetFrame, Ipv4Packet, TcpFlags, TcpOptions, TcpPacket};
use synack::{Command, Event, Instant, Ipv6Config, SocketHandle};
use synack_tests::frames::{is_syn, is_tcp_data, tcp_fields};
use synack_tests::tcp::{accept, connect, inject, listen, segment_to, start_connect, IP_B};
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

fn no_timestamps() -> Pair {
    let (mut a, mut b) = configs(7);
    a.tcp.timestamps = false;
    b.tcp.timestamps = false;
    Pair::with_configs(a, b)
}

/// RFC 6298 §5.7: "If the timer expires awaiting the ACK of a SYN segment and the TCP implementation is using
/// an RTO less than 3 seconds, the RTO MUST be re-initialized to 3 seconds when data transmission begins."
/// Linux `tcp_init_metrics` (srtt_us == 0 after the handshake): icsk_rto = TCP_TIMEOUT_FALLBACK (3 s).
#[test]
fn rto_is_three_seconds_after_a_lost_syn_without_timestamps() {
    let mut p = no_timestamps();
    let l = listen(&mut p, Side::B, 80);
    p.drop_next_where(Side::A, 1, is_syn); // the first SYN is lost; the retransmission (1 s later) gets through
    let c = start_connect(&mut p, Side::A, std::net::SocketAddr::from((IP_B, 80)));
    p.run_until(p.now + ms(1500));
    assert!(p.events_of(Side::A).contains(&(c, Event::Connected)), "{:#?}", p.lines());
    let _s = accept(&mut p, l);
    let rto = p.a.tcp_info(c).unwrap().rto;
    // The first data segment is lost: when does it go again?
    p.drop_next_where(Side::A, 1, is_tcp_data);
    let sent_at = p.now;
    p.command(Side::A, Command::TcpSend { sock: c, data: vec![1u8; 100] }).unwrap();
    p.run_until(p.now + ms(10_000));
    let data: Vec<_> = p.log.iter().filter(|l| l.from == Side::A && is_tcp_data(&l.frame)).collect();
    assert!(data.len() >= 2, "{:#?}", p.lines());
    let waited = data[1].at - sent_at;
    assert!(
        waited >= ms(3000),
        "RTO after a retransmitted SYN must be at least 3 s (RFC 6298 §5.7); tcp_info.rto = {rto:?}, data resent after {waited:?}"
    );
}

/// RFC 1122 §4.2.2.17 (RFC 9293 §3.8.6.1): a sender facing a zero window "MUST NOT close the connection as
/// long as the receiving TCP keeps sending acknowledgments in response to its probe segments". When the peer
/// shrinks its window to zero with data in flight, the retransmissions are the probes; Linux
/// `tcp_retransmit_timer` ("Receiver dastardly shrinks window. Our retransmits become zero probes, but we
/// should not timeout this connection") only gives up when the peer stops answering (`tcp_rtx_probe0_timed_out`).
#[test]
fn shrunk_zero_window_with_data_in_flight_does_not_time_out_while_peer_answers() {
    let mut p = no_timestamps();
    let l = listen(&mut p, Side::B, 80);
    let c = start_connect(&mut p, Side::A, std::net::SocketAddr::from((IP_B, 80)));
    p.run_until(p.now + ms(50));
    let _s = accept(&mut p, l);
    // Everything A sends with data from now on is "received" by our scripted peer, which answers with its
    // window shut (it shrank its window: the data did not fit).
    p.drop_next_where(Side::A, u64::MAX, is_tcp_data);
    p.command(Side::A, Command::TcpSend { sock: c, data: vec![1u8; 1000] }).unwrap();
    let una = p.a.tcp_info(c).unwrap().snd_una;
    let nxt = p.a.tcp_info(c).unwrap().rcv_nxt;
    let mut seen = 0;
    let deadline = p.now + Duration::from_secs(3600);
    let mut answered = 0;
    while p.now < deadline && state(&p, Side::A, c).is_some() && !timed_out(&p, c) {
        if !p.step_one() {
            break;
        }
        let fresh: Vec<_> = p.log[seen..]
            .iter()
            .filter(|l| l.from == Side::A)
            .filter_map(|l| tcp_fields(&l.frame))
            .filter(|t| !t.flags.contains(TcpFlags::RST))
            .filter(|t| t.len > 0 || t.seq < una)
            .collect();
        seen = p.log.len();
        for _ in fresh {
            let mut ack = segment_to(&p, Side::A, c, nxt, una, TcpFlags::ACK, b"");
            ack.window_len = 0;
            inject(&mut p, Side::A, &ack);
            assert_eq!(p.a.tcp_info(c).map(|i| i.snd_wnd), Some(0), "the peer's zero window was taken");
            answered += 1;
        }
    }
    assert!(
        !timed_out(&p, c),
        "A timed out at {:?} after {answered} answered retransmissions/probes though the peer answered every one: {:#?}",
        p.now,
        &p.lines()[p.lines().len().saturating_sub(12)..]
    );
    // Once the peer stops answering, the retransmissions are unanswered probes: A gives up.
    p.run_until(p.now + Duration::from_secs(3600));
    assert!(
        timed_out(&p, c),
        "A never gave up on a silent peer: {:#?}",
        &p.lines()[p.lines().len().saturating_sub(6)..]
    );
}

fn timed_out(p: &Pair, c: SocketHandle) -> bool {
    p.events_of(Side::A).iter().any(|(s, e)| *s == c && matches!(e, Event::TimedOut { .. }))
}

/// Karn's rule (RFC 6298 §3: "RTT samples MUST NOT be made using segments that were retransmitted"). The
/// first SYN-ACK is lost; the client's retransmitted SYN makes the server send the SYN-ACK again, and the ACK
/// of that second SYN-ACK must not be timed against the first one. Linux `tcp_synack_rtt_meas` only measures
/// when `req->num_retrans == 0` (a SYN-ACK resent for a retransmitted SYN counts, `inet_rtx_syn_ack`).
/// The link's RTT is 2 ms.
#[test]
fn server_takes_no_rtt_sample_from_a_retransmitted_syn_ack() {
    for timestamps in [true, false] {
        let (mut a, mut b) = configs(7);
        a.tcp.timestamps = timestamps;
        b.tcp.timestamps = timestamps;
        let mut p = Pair::with_configs(a, b);
        let l = listen(&mut p, Side::B, 80);
        p.drop_next_where(Side::B, 1, is_syn); // the first SYN-ACK is lost
        let c = start_connect(&mut p, Side::A, std::net::SocketAddr::from((IP_B, 80)));
        p.run_until(p.now + ms(1500));
        assert!(p.events_of(Side::A).contains(&(c, Event::Connected)), "{:#?}", p.lines());
        let s = accept(&mut p, l);
        let info = p.b.tcp_info(s).unwrap();
        assert!(
            info.srtt.is_none_or(|srtt| srtt < ms(100)),
            "timestamps={timestamps}: the server's SRTT is {:?} (RTO {:?}) on a 2 ms link: the retransmitted \
             SYN-ACK was timed from the first, lost one: {:#?}",
            info.srtt,
            info.rto,
            p.log.iter().map(|l| format!("{:?} {}", l.at, l.line())).collect::<Vec<_>>()
        );
        // Without a round trip measured, data starts with RFC 6298 §5.7's 3 s.
        assert!(info.srtt.is_some() || info.rto >= ms(3000), "timestamps={timestamps}: RTO {:?}", info.rto);
    }
}

fn tcp_of(frame: &[u8]) -> (u32, u32, usize, TcpFlags, TcpOptions) {
    let eth = EthernetFrame::new_checked(frame).unwrap();
    let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
    let tcp = TcpPacket::new_checked(ip.payload()).unwrap();
    let options = TcpOptions::parse(tcp.options()).unwrap();
    (tcp.seq_number().0, tcp.ack_number().0, tcp.payload().len(), tcp.flags(), options)
}

fn blocks(o: &TcpOptions) -> Vec<(u32, u32)> {
    o.sack_blocks.iter().flatten().map(|(a, b)| (a.0, b.0)).collect()
}

fn last_from(p: &Pair, side: Side) -> (u32, u32, usize, TcpFlags, TcpOptions) {
    tcp_of(&p.log.iter().rev().find(|l| l.from == side).unwrap().frame)
}

/// RFC 2018 §4: "The first SACK block ... MUST specify the contiguous block of data containing the segment which
/// triggered this ACK ... The SACK option SHOULD be filled out by repeating the most recently reported SACK
/// blocks (based on first SACK blocks in previous SACK options) that are not subsets of a SACK block already
/// included". Linux (`tcp_sack_new_ofo_skb`) keeps `selective_acks` in that recency order. Four out-of-order
/// runs arrive in ascending order; the ACK for the fourth (3 blocks fit next to the timestamp) must report the
/// fourth, then the third, then the second: the first is the oldest report, the one to leave out.
#[test]
fn sack_blocks_after_the_first_repeat_the_most_recently_reported() {
    let mut p = Pair::new(501);
    let (c, _, _) = connect(&mut p, 80);
    assert!(p.a.tcp_info(c).unwrap().timestamps);
    let nxt = p.a.tcp_info(c).unwrap().rcv_nxt;
    let una = p.a.tcp_info(c).unwrap().snd_una;
    const D: &[u8] = &[b'x'; 100];
    let mut reported = Vec::new();
    for k in [1usize, 3, 5, 7] {
        let seg = segment_to(&p, Side::A, c, nxt + k * 100, una, TcpFlags::ACK, D);
        inject(&mut p, Side::A, &seg);
        let (_, ack, len, _, o) = last_from(&p, Side::A);
        assert_eq!((ack, len), (nxt.0, 0), "an immediate pure ACK for out-of-order data");
        reported.push(blocks(&o));
    }
    let r = |k: u32| (nxt.0 + k * 100, nxt.0 + k * 100 + 100);
    assert_eq!(reported[3][0], r(7), "first block: the latest segment; all: {reported:?}");
    assert_eq!(reported[3], vec![r(7), r(5), r(3)], "then the most recently reported blocks; all: {reported:?}");
}

/// The frames `side` sent from log entry `from` on, decoded, with their IP total length.
fn sent_since(p: &Pair, side: Side, from: usize) -> Vec<(u32, u32, usize, TcpFlags, TcpOptions, usize)> {
    let mut sent = Vec::new();
    for l in p.log[from..].iter().filter(|l| l.from == side) {
        let (seq, ack, len, flags, o) = tcp_of(&l.frame);
        let ip_len = Ipv4Packet::new_checked(&l.frame[14..]).unwrap().total_len() as usize;
        sent.push((seq, ack, len, flags, o, ip_len));
    }
    sent
}

/// The peer's window, in the units its segments carry, opened wide (or shut with 0).
fn with_window(mut seg: synack::wire::TcpRepr<'static>, window: u16) -> synack::wire::TcpRepr<'static> {
    seg.window_len = window;
    seg
}

/// RFC 2018 §4: while out-of-order data is held, every ACK carries SACK blocks, and an ACK riding on data is no
/// exception: Linux (`tcp_current_mss`) cuts its data segments short by the option's size. A two-way transfer's
/// ACKs nearly all ride on full-sized segments; left out there, the blocks never reached the peer, which then
/// recovered from its losses as if SACK were off.
#[test]
fn data_segments_make_room_for_sack_blocks_while_out_of_order_data_is_held() {
    let mut p = Pair::new(502);
    let (c, _, _) = connect(&mut p, 80);
    let info = p.a.tcp_info(c).unwrap();
    let (nxt, una, mss) = (info.rcv_nxt, info.snd_una, info.mss);
    const D: &[u8] = &[b'x'; 100];
    let gap = with_window(segment_to(&p, Side::A, c, nxt + 100, una, TcpFlags::ACK, D), u16::MAX);
    inject(&mut p, Side::A, &gap);
    let from = p.log.len();
    p.command(Side::A, Command::TcpSend { sock: c, data: vec![7; 20 * mss] }).unwrap();
    let sent = sent_since(&p, Side::A, from);
    let data: Vec<_> = sent.iter().filter(|s| s.2 > 0).collect();
    assert!(data.len() >= 4, "a burst of data segments: {sent:?}");
    let (one_block, mtu) = (12, 1500);
    for (seq, ack, len, _, o, ip_len) in &data {
        assert_eq!(*ack, nxt.0, "cumulative ACK unchanged");
        assert_eq!(blocks(o), vec![(nxt.0 + 100, nxt.0 + 200)], "segment at {seq}: the SACK block rides along");
        assert!(*len <= mss - one_block, "segment at {seq}: {len} bytes leave no room for the block (MSS {mss})");
        assert!(*ip_len <= mtu, "segment at {seq}: {ip_len} bytes");
    }
    assert_eq!(data[0].2, mss - one_block, "cut by exactly the option's size");
}

/// RFC 2883: a D-SACK is reported once, in the next ACK. When that ACK rides on a full-sized data segment (a
/// segment repeating part of what arrived also acknowledges data, and the opened window releases more), the
/// segment makes room for it; it was taken and then stripped for want of room, so the peer never learned of
/// the duplicate.
#[test]
fn a_dsack_owed_when_data_is_released_rides_on_the_first_data_segment() {
    let mut p = Pair::new(503);
    let (c, _, s) = connect(&mut p, 80);
    p.command(Side::B, Command::TcpSend { sock: s, data: vec![b'x'; 100] }).unwrap();
    p.run_until_idle();
    let (nxt, una, mss) = {
        let info = p.a.tcp_info(c).unwrap();
        (info.rcv_nxt, info.snd_una, info.mss)
    };
    // A fills its congestion window; then a segment arrives whose first 50 bytes repeat the last 50 that
    // arrived (a partial duplicate, RFC 2883 §4.1.1), with 50 new ones, acknowledging two of A's segments.
    p.command(Side::A, Command::TcpSend { sock: c, data: vec![7; 40 * mss] }).unwrap();
    let from = p.log.len();
    const D: &[u8] = &[b'x'; 100];
    let again = with_window(segment_to(&p, Side::A, c, nxt - 50, una + 2 * mss, TcpFlags::ACK, D), u16::MAX);
    inject(&mut p, Side::A, &again);
    let sent = sent_since(&p, Side::A, from);
    let dsack = (nxt.0 - 50, nxt.0);
    let carrying: Vec<_> = sent.iter().filter(|s| blocks(&s.4).first() == Some(&dsack)).collect();
    assert_eq!(carrying.len(), 1, "the D-SACK is reported once: {sent:?}");
    let (_, ack, len, ..) = carrying[0];
    assert_eq!(*ack, nxt.0 + 50, "the new 50 bytes acknowledged");
    assert!(*len > 0 && *len <= mss - 12, "on a data segment cut short for it: {len} bytes (MSS {mss})");
    assert!(sent.iter().all(|s| s.5 <= 1500), "no frame above the MTU: {sent:?}");
}
