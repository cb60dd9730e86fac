//! RFC 7323 timestamps between two synack stacks: negotiation and Linux's option layout, the echo rules
//! (§4.3: delayed ACKs and out-of-order segments), PAWS (§5) against an old duplicate whose sequence number a
//! wrapped sequence space makes acceptable, and RTT measurement from the echo (§4.1) ending an RTO's backoff.

use std::time::Duration;
use synack::wire::{EthernetFrame, Ipv4Packet, TcpFlags, TcpOptions, TcpPacket, TcpRepr};
use synack::{Command, DropReason};
use synack_tests::tcp::{connect, inject, pattern, read_available};
use synack_tests::{configs, Pair, Side};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The TCP header options of a logged frame, raw.
fn raw_options(frame: &[u8]) -> Vec<u8> {
    let eth = EthernetFrame::new_checked(frame).unwrap();
    let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
    let tcp = TcpPacket::new_checked(ip.payload()).unwrap();
    tcp.options().to_vec()
}

fn tcp_options_of(frame: &[u8]) -> TcpOptions {
    TcpOptions::parse(&raw_options(frame)).unwrap()
}

/// Frames `from` sent carrying TCP, oldest first.
fn tcp_frames(p: &Pair, from: Side) -> Vec<Vec<u8>> {
    p.log.iter().filter(|l| l.from == from && synack_tests::frames::is_tcp(&l.frame)).map(|l| l.frame.clone()).collect()
}

#[test]
fn negotiated_by_default_with_linux_option_layout() {
    let mut p = Pair::new(81);
    let (c, _, s) = connect(&mut p, 80);
    assert!(p.a.tcp_info(c).unwrap().timestamps && p.b.tcp_info(s).unwrap().timestamps);
    // SYN: MSS, SACK-permitted, timestamp, NOP, window scale, as Linux lays them out.
    let syn = raw_options(&tcp_frames(&p, Side::A)[0]);
    assert_eq!(syn.len(), 20);
    assert_eq!((syn[0], syn[4], syn[6], syn[16], syn[17]), (2, 4, 8, 1, 3), "{syn:?}");
    // Data and ACKs: NOP, NOP, timestamp; the MSS leaves room for it.
    p.command(Side::A, Command::TcpSend { sock: c, data: pattern(5000, 1) }).unwrap();
    p.run_until(p.now + ms(10));
    let data = raw_options(tcp_frames(&p, Side::A).last().unwrap());
    assert_eq!(&data[..4], &[1, 1, 8, 10]);
    assert_eq!(p.a.tcp_info(c).unwrap().mss, 1448);
}

#[test]
fn not_used_when_either_side_turns_them_off() {
    let (a, mut b) = configs(82);
    b.tcp.timestamps = false;
    let mut p = Pair::with_configs(a, b);
    let (c, _, s) = connect(&mut p, 80);
    assert!(!p.a.tcp_info(c).unwrap().timestamps && !p.b.tcp_info(s).unwrap().timestamps);
    assert_eq!(p.a.tcp_info(c).unwrap().mss, 1460);
    assert!(tcp_frames(&p, Side::B).iter().all(|f| tcp_options_of(f).timestamp.is_none()));
    assert!(tcp_frames(&p, Side::A).iter().skip(1).all(|f| tcp_options_of(f).timestamp.is_none()));
}

#[test]
fn a_delayed_ack_echoes_the_earliest_unacknowledged_segment() {
    let mut p = Pair::new(83);
    let (c, _, _s) = connect(&mut p, 80);
    p.run_until_idle();
    // One small segment: B delays its ACK (40 ms). A second one 10 ms later completes the pair.
    p.command(Side::A, Command::TcpSetNoDelay { sock: c, nodelay: true }).unwrap();
    p.command(Side::A, Command::TcpSend { sock: c, data: vec![1; 100] }).unwrap();
    let first_tsval = tcp_options_of(tcp_frames(&p, Side::A).last().unwrap()).timestamp.unwrap().0;
    p.run_until(p.now + ms(10));
    p.command(Side::A, Command::TcpSend { sock: c, data: vec![2; 100] }).unwrap();
    let second_tsval = tcp_options_of(tcp_frames(&p, Side::A).last().unwrap()).timestamp.unwrap().0;
    assert!(second_tsval > first_tsval);
    p.run_until(p.now + ms(100));
    let acks: Vec<_> = tcp_frames(&p, Side::B).iter().map(|f| tcp_options_of(f).timestamp.unwrap().1).collect();
    // RFC 7323 §4.3: the ACK covering both echoes the first's TSval (the RTT then includes the delay).
    assert_eq!(*acks.last().unwrap(), first_tsval, "{acks:?}");
}

#[test]
fn an_out_of_order_segment_does_not_advance_the_echo() {
    let mut p = Pair::new(84);
    let (c, _, _s) = connect(&mut p, 80);
    p.run_until_idle();
    let sent = tcp_frames(&p, Side::A).len() as u64 + 1; // + the ARP request
    p.drop_nth(Side::A, sent + 1); // the first of three segments
    p.command(Side::A, Command::TcpSend { sock: c, data: pattern(3 * 1448, 3) }).unwrap();
    let tsvals: Vec<u32> =
        tcp_frames(&p, Side::A).iter().rev().take(3).map(|f| tcp_options_of(f).timestamp.unwrap().0).collect();
    p.run_until(p.now + ms(5));
    // B's duplicate ACKs (with SACK) for the two segments beyond the gap echo the last in-order TSval (the
    // handshake's ACK), not theirs: out-of-order data says nothing about the round trip.
    let dup_acks: Vec<_> = tcp_frames(&p, Side::B)
        .iter()
        .map(|f| tcp_options_of(f))
        .filter(|o| o.sack_blocks[0].is_some())
        .map(|o| o.timestamp.unwrap().1)
        .collect();
    assert_eq!(dup_acks.len(), 2);
    assert!(dup_acks.iter().all(|ecr| *ecr < tsvals[2]), "{dup_acks:?} vs {tsvals:?}");
}

#[test]
fn paws_drops_an_old_duplicate_whose_sequence_number_looks_new() {
    let mut p = Pair::new(85);
    let (c, _, s) = connect(&mut p, 80);
    p.command(Side::A, Command::TcpSend { sock: c, data: pattern(2000, 5) }).unwrap();
    p.run_until(p.now + ms(50));
    let info = p.b.tcp_info(s).unwrap();
    let last = tcp_options_of(tcp_frames(&p, Side::A).last().unwrap()).timestamp.unwrap();
    // A segment from the previous wrap of the sequence space (2^32 bytes ago at this connection's speed): its
    // sequence number is exactly RCV.NXT, acceptable by sequence alone, but its timestamp is from then.
    let old = TcpRepr {
        src_port: info.remote.port(),
        dst_port: info.local.port(),
        seq_number: info.rcv_nxt,
        ack_number: info.snd_nxt,
        flags: TcpFlags::ACK | TcpFlags::PSH,
        window_len: 1000,
        urgent_ptr: 0,
        options: TcpOptions { timestamp: Some((last.0.wrapping_sub(40_000), last.1)), ..TcpOptions::default() },
        payload: b"stale bytes",
    };
    let out = inject(&mut p, Side::B, &old);
    assert_eq!(p.b.stats().drops(DropReason::TcpPaws), 1);
    assert_eq!(p.b.tcp_info(s).unwrap().rcv_nxt, info.rcv_nxt, "not accepted");
    assert_eq!(out.iter().filter(|o| matches!(o, synack::Output::Transmit(_))).count(), 1, "answered with an ACK");
    // The real next bytes, with a current timestamp, still arrive.
    p.command(Side::A, Command::TcpSend { sock: c, data: pattern(100, 6) }).unwrap();
    p.run_until(p.now + ms(50));
    let mut got = Vec::new();
    read_available(&mut p, Side::B, s, &mut got);
    assert_eq!(got.len(), 2100);
    assert_eq!(&got[2000..], &pattern(100, 6)[..]);
}

#[test]
fn the_echo_of_a_retransmission_ends_the_rto_backoff() {
    let mut p = Pair::new(86);
    let (c, _, _s) = connect(&mut p, 80);
    p.run_until_idle();
    let base_rto = p.a.tcp_info(c).unwrap().rto;
    // The lone segment, the tail loss probe that resends it at the RTO's time and the first retransmission
    // are lost: two timeouts, the RTO backs off twice.
    let sent = tcp_frames(&p, Side::A).len() as u64 + 1;
    for k in 1..=3 {
        p.drop_nth(Side::A, sent + k);
    }
    p.command(Side::A, Command::TcpSend { sock: c, data: vec![9; 500] }).unwrap();
    p.run_until(p.now + Duration::from_secs(3));
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!(info.counters.timeouts, 2);
    assert_eq!(info.snd_una, info.snd_nxt, "delivered by the second retransmission");
    // Karn forbids timing the retransmission by its send time, but the timestamp echo names it: the RTO is
    // back to its measured value at once instead of staying backed off until a never-retransmitted segment.
    // (Backed off twice it would be four times the base; a fresh sample leaves it within a few ms of it.)
    assert!(info.rto < base_rto + ms(20), "rto {:?} vs {:?} before", info.rto, base_rto);
}
