//! Black-box conformance probes: segments crafted as a peer or prober would send them (malformed options,
//! forged timestamps, a simultaneous open, a path MTU learned while opening).

use std::net::IpAddr;
use std::time::Duration;
use synack::wire::{TcpFlags, TcpPacket};
use synack::{Command, Reply, SocketHandle};
use synack_tests::frames::{tcp_fields, tcp_frame};
use synack_tests::tcp::{connect, inject, segment_to, IP_A, IP_B};
use synack_tests::{Pair, Side, MAC_A, MAC_B};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Delivers `seg` to A (from B's address) with its 12 option bytes replaced by `raw` (checksum fixed up).
fn inject_with_raw_options(p: &mut Pair, seg: &synack::wire::TcpRepr<'_>, raw: [u8; 12]) {
    let mut seg = *seg;
    seg.options.timestamp = Some((1, 1)); // reserve 12 bytes of option space: NOP NOP TS
    let mut frame = tcp_frame(MAC_B, MAC_A, IP_B, IP_A, &seg);
    let tcp_at = 14 + 20;
    assert_eq!(usize::from(frame[tcp_at + 12] >> 4) * 4, 32, "12 bytes of options");
    frame[tcp_at + 20..tcp_at + 32].copy_from_slice(&raw);
    TcpPacket::new_unchecked(&mut frame[tcp_at..]).fill_checksum(&IpAddr::from(IP_B), &IpAddr::from(IP_A));
    let now = p.now;
    let out = p.stack(Side::A).handle(synack::Input::Frame(&frame), now);
    p.absorb_all(Side::A, out);
}

/// RFC 9293 §3.1 (MUST-6: ignore options not implemented; MUST-7: handle an illegal option length) and Linux's
/// `tcp_parse_options`: a malformed option is never a reason to throw away the segment. Linux skips a known
/// option whose length is wrong for its kind (SACK with no block, window scale of length 2) and stops parsing
/// at a "silly" length (< 2) or one that runs past the header, then processes the segment (its data, ACK,
/// FIN, RST) normally. synack's `TcpOptions::parse` returned `Err(BadOption)` and the whole segment was dropped
/// as malformed: its data was lost, and a peer (or middlebox) that kept putting the odd option on its
/// retransmissions stalled the connection.
#[test]
fn segment_with_a_malformed_option_is_still_processed() {
    let mut p = Pair::new(7001);
    let (c, _, _) = connect(&mut p, 80);
    // Control: twelve NOPs are taken (the frame surgery itself is sound).
    let info = p.a.tcp_info(c).unwrap();
    let seg = segment_to(&p, Side::A, c, info.rcv_nxt, info.snd_una, TcpFlags::ACK | TcpFlags::PSH, b"hello");
    inject_with_raw_options(&mut p, &seg, [1; 12]);
    assert_eq!(p.a.tcp_info(c).unwrap().rcv_nxt, info.rcv_nxt + 5, "control segment taken");
    let cases: [(&str, [u8; 12]); 4] = [
        ("SACK option with no block (len 2)", [1, 1, 5, 2, 1, 1, 1, 1, 1, 1, 1, 1]),
        ("window scale of length 2 on a non-SYN", [1, 1, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1]),
        ("unknown option with silly length 1", [1, 1, 254, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
        ("unknown option whose length runs past the header", [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 254, 40]),
    ];
    let mut failures = Vec::new();
    for (what, raw) in cases {
        let info = p.a.tcp_info(c).unwrap();
        let seg = segment_to(&p, Side::A, c, info.rcv_nxt, info.snd_una, TcpFlags::ACK | TcpFlags::PSH, b"hello");
        inject_with_raw_options(&mut p, &seg, raw);
        let after = p.a.tcp_info(c).unwrap().rcv_nxt;
        if after != info.rcv_nxt + 5 {
            failures.push(what);
        }
    }
    assert!(failures.is_empty(), "segments dropped for a malformed option (Linux takes their data): {failures:?}");
}

fn last_tsval(p: &Pair, from: Side) -> u32 {
    let frame = &p.log.iter().rev().find(|l| l.from == from && tcp_fields(&l.frame).is_some()).unwrap().frame;
    let tcp = TcpPacket::new_checked(&frame[34..]).unwrap();
    synack::wire::TcpOptions::parse(tcp.options()).unwrap().timestamp.expect("timestamps in use").0
}

fn read_all(p: &mut Pair, sock: SocketHandle) -> usize {
    let mut n = 0;
    while let Ok(Reply::Data(d)) = p.command(Side::A, Command::TcpRecv { sock, max: 1 << 20 }) {
        if d.is_empty() {
            break;
        }
        n += d.len();
    }
    n
}

/// RFC 7323 §4.3 / §5.3 R3 with RFC 5961: TS.Recent must only be taken from a segment that is accepted. Linux
/// updates it in `tcp_ack` ("ts_recent update must be made after we are sure that the packet is in window"),
/// i.e. after `tcp_validate_incoming` has challenged any SYN or non-exact RST and after the ACK was found
/// acceptable. synack called `update_recent` right after the sequence check, before the RST, SYN and ACK
/// steps: a SYN at RCV.NXT (answered by a challenge ACK and otherwise ignored) or a segment acknowledging
/// data never sent, carrying a TSval far in the future, became TS.Recent. Every genuine segment from the
/// peer then failed PAWS and the connection was dead, though the injected segment itself was rejected.
#[test]
fn a_challenged_syn_does_not_poison_ts_recent() {
    let mut failures = Vec::new();
    for variant in ["control: SYN with a current TSval", "SYN at RCV.NXT", "ACK of unsent data"] {
        let mut p = Pair::new(7002);
        let (c, _, s) = connect(&mut p, 80);
        assert!(p.a.tcp_info(c).unwrap().timestamps);
        let info = p.a.tcp_info(c).unwrap();
        let peer_tsval = last_tsval(&p, Side::B);
        let (flags, ack) = match variant {
            "SYN at RCV.NXT" | "control: SYN with a current TSval" => (TcpFlags::SYN, info.snd_una),
            _ => (TcpFlags::ACK, info.snd_nxt + 100_000),
        };
        let mut forged = segment_to(&p, Side::A, c, info.rcv_nxt, ack, flags, b"");
        let jump = if variant.starts_with("control") { 0 } else { 1 << 30 };
        forged.options.timestamp = Some((peer_tsval.wrapping_add(jump), 0));
        inject(&mut p, Side::A, &forged);
        p.run_until(p.now + ms(5));
        assert_eq!(p.a.tcp_info(c).unwrap().rcv_nxt, info.rcv_nxt, "{variant}: the forged segment is rejected");
        // The genuine peer now sends 10 kB: A must still take it.
        p.command(Side::B, Command::TcpSend { sock: s, data: vec![9u8; 10_000] }).unwrap();
        p.run_until(p.now + ms(2_000));
        let got = read_all(&mut p, c);
        if got != 10_000 {
            failures.push((variant, got));
        }
    }
    assert!(failures.is_empty(), "a rejected segment's TSval became TS.Recent; genuine data fails PAWS: {failures:?}");
}

/// RFC 9293 §3.5 figure 7 (simultaneous open): "6. ESTABLISHED <-- <SEQ=300><ACK=101><CTL=SYN,ACK>". Linux since
/// 6.11 (commit 23e89e8ee7be, "tcp: Don't drop SYN+ACK for simultaneous connect()", `tcp_validate_incoming`:
/// `sk_state == TCP_SYN_RECV && th->ack && seq + 1 == end_seq && seq + 1 == rcv_nxt && ack_seq == snd_nxt`
/// → `goto pass`) takes the peer's SYN-ACK in SYN-RECEIVED as completing the handshake. synack treated it as an
/// old duplicate (SEG.SEQ = RCV.NXT - 1 fails the acceptability test), answered with a bare ACK and stayed in
/// SYN-RECEIVED until the peer's next ACK: one extra round trip, and the connection was not usable in between.
#[test]
fn simultaneous_open_syn_ack_in_syn_received_establishes() {
    let mut p = Pair::new(7003);
    // A's SYN stays in the link queue (the pair is never run): B never sees it, the "peer" is hand-made.
    let c = synack_tests::tcp::start_connect(&mut p, Side::A, std::net::SocketAddr::from((IP_B, 4000)));
    let iss = p.a.tcp_info(c).unwrap().snd_una;
    let y = synack::tcp::SeqNum(0x1000_0000);
    let mut syn = segment_to(&p, Side::A, c, y, synack::tcp::SeqNum(0), TcpFlags::SYN, b"");
    syn.options.mss = Some(1460);
    inject(&mut p, Side::A, &syn);
    assert_eq!(p.a.tcp_info(c).unwrap().state, synack::tcp::TcpState::SynReceived);
    // The peer's SYN-ACK for our SYN: same ISN as its SYN, acknowledging ISS + 1.
    let mut syn_ack = segment_to(&p, Side::A, c, y, iss + 1, TcpFlags::SYN | TcpFlags::ACK, b"");
    syn_ack.options.mss = Some(1460);
    inject(&mut p, Side::A, &syn_ack);
    let info = p.a.tcp_info(c).unwrap();
    assert_eq!(info.rcv_nxt, y + 1);
    assert_eq!(
        info.state,
        synack::tcp::TcpState::Established,
        "the peer's SYN-ACK in SYN-RECEIVED completes a simultaneous open (RFC 9293 figure 7, Linux)"
    );
}

/// RFC 1191 / RFC 5927: an ICMP "fragmentation needed" quoting our SYN (SEG.SEQ = ISS is in SND.UNA..SND.NXT)
/// is believed. It must not corrupt the sequence state: after the handshake the first data byte is ISS + 1.
#[test]
fn frag_needed_for_the_syn_leaves_the_connection_intact() {
    use synack::wire::{DstUnreachable, Icmpv4Repr};
    let mut p = Pair::new(7004);
    let l = synack_tests::tcp::listen(&mut p, Side::B, 80);
    let c = synack_tests::tcp::start_connect(&mut p, Side::A, std::net::SocketAddr::from((IP_B, 80)));
    let iss = p.a.tcp_info(c).unwrap().snd_una;
    // Step until A's SYN is on the wire (after ARP).
    let syn = loop {
        if let Some(l) = p.log.iter().find(|l| l.from == Side::A && synack_tests::frames::is_syn(&l.frame)) {
            break l.frame.clone();
        }
        assert!(p.step_once(), "A never sent its SYN");
    };
    assert_eq!(tcp_fields(&syn).map(|t| t.seq), Some(iss));
    let quote = &syn[14..14 + 28];
    let msg = Icmpv4Repr::DstUnreachable { reason: DstUnreachable::from(4), next_hop_mtu: 1000, original: quote };
    let frame = synack_tests::frames::icmp_frame(MAC_B, MAC_A, IP_B, IP_A, &msg);
    let now = p.now;
    let out = p.a.handle(synack::Input::Frame(&frame), now);
    p.absorb_all(Side::A, out);
    p.run_until(p.now + ms(50));
    let info = p.a.tcp_info(c).expect("connection exists");
    assert_eq!(info.state, synack::tcp::TcpState::Established, "{:#?}", p.lines());
    // A's answer to the SYN-ACK completes the handshake: a pure ACK at ISS + 1.
    let after_syn_ack: Vec<_> = p
        .log
        .iter()
        .skip_while(|l| !(l.from == Side::B && tcp_fields(&l.frame).is_some_and(|t| t.flags.contains(TcpFlags::SYN))))
        .filter(|l| l.from == Side::A)
        .filter_map(|l| tcp_fields(&l.frame))
        .collect();
    let mut failures = Vec::new();
    let first = &after_syn_ack[0];
    if first.seq != iss + 1 || first.len != 0 {
        failures.push(format!("handshake ACK went out as seq={} len={} (ISS={})", first.seq.0, first.len, iss.0));
    }
    // Let any retransmission settle the handshake, then move 20 kB.
    p.run_until(p.now + Duration::from_secs(5));
    match p.command(Side::B, Command::TcpAccept { listener: l }) {
        Ok(Reply::Accepted { sock: s, .. }) => {
            let data = synack_tests::tcp::pattern(20_000, 1);
            let from = p.log.len();
            let t = synack_tests::tcp::transfer(&mut p, Side::A, c, s, &data, Duration::from_secs(30));
            if !(t.eof && t.received == data) {
                failures.push(format!("transfer not intact: {} bytes", t.received.len()));
            }
            // RFC 1191: the path MTU learned while opening still applies (Linux keeps it in the route).
            let biggest = p.log[from..].iter().filter(|l| l.from == Side::A).map(|l| l.frame.len() - 14).max().unwrap();
            if biggest > 1000 {
                failures.push(format!("{biggest}-byte datagrams exceed the 1000-byte path MTU learned for the SYN"));
            }
        }
        other => failures.push(format!("B never established: {other:?}")),
    }
    assert!(failures.is_empty(), "{failures:#?}\n{:#?}", &p.lines()[..12.min(p.lines().len())]);
}
