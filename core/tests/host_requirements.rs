//! What a host does with the odd datagrams a conformance prober sends, as RFC 1122 asks and Linux answers: echo
//! requests with another code, overlapping fragments, malformed IP options, UDP and TCP to port 0.

mod common;

use common::malformed::*;
use synack::wire;
use synack::wire::checksum;
use synack::{DropReason, Layer, Output};

/// An IPv4 frame from the peer to the stack with raw `options` (a multiple of 4 bytes), the given
/// flags/offset word (`mf`, offset in bytes) and payload. Checksum filled in.
fn raw_ipv4(protocol: u8, ident: u16, options: &[u8], mf: bool, offset: usize, payload: &[u8]) -> Vec<u8> {
    raw_ipv4_from(PEER_IP, protocol, ident, 0, options, mf, offset, payload)
}

/// An ICMP echo request with an arbitrary code.
fn echo_with_code(code: u8, ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let mut m = vec![8, code, 0, 0];
    m.extend_from_slice(&ident.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(data);
    let sum = !checksum::data(&m);
    m[2..4].copy_from_slice(&sum.to_be_bytes());
    m
}

/// The ICMP messages (whole ICMP bytes) the stack transmitted.
fn icmp_messages(out: &[Output]) -> Vec<Vec<u8>> {
    transmits(out)
        .into_iter()
        .filter(|f| f[12..14] == [0x08, 0x00] && f[ETH_LEN + 9] == 1)
        .map(|f| {
            let ihl = usize::from(f[ETH_LEN] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([f[ETH_LEN + 2], f[ETH_LEN + 3]]));
            f[ETH_LEN + ihl..ETH_LEN + total].to_vec()
        })
        .collect()
}

// ---- Echo requests ------------------------------------------------------------------------------------------

/// Linux `icmp_echo()` copies the request's ICMP header and only changes the type, so an echo request with code
/// 9 (nmap's OS-detection "IE" probe) is answered with an echo reply carrying code 9. RFC 1122 §3.2.2.6: every
/// host MUST answer echo requests; nothing says to discard one whose code is not 0.
#[test]
fn echo_request_with_another_code_is_answered_with_that_code() {
    let mut h = Harness::primed(1);
    let frame = Ip::new(PEER_IP, 1).frame(&echo_with_code(9, 0x1234, 0x0295, b"nmap-IE"));
    let out = h.frame(&frame);
    let msgs = icmp_messages(&out);
    assert_eq!(msgs.len(), 1, "no echo reply to an echo request with code 9: {out:?}; stats:\n{}", h.stats());
    let reply = &msgs[0];
    assert_eq!((reply[0], reply[1]), (0, 9), "an echo reply with the request's code");
    assert_eq!(checksum::data(reply), 0xffff, "the reply's checksum covers its code");
    assert_eq!(&reply[4..8], &[0x12, 0x34, 0x02, 0x95]);
    assert_eq!(&reply[8..], b"nmap-IE");
}

// ---- Overlapping fragments ----------------------------------------------------------------------------------

/// Linux (`inet_frag_queue_insert`, since the 2018 "FragmentSmack" fixes) discards the whole datagram on any
/// overlap that is not a duplicate wholly within data already held, whatever the bytes. Here the second
/// fragment [8, 24) partly overlaps the first [0, 16) with the same bytes: nothing is delivered.
#[test]
fn partly_overlapping_fragments_drop_the_datagram_even_with_the_same_bytes() {
    let mut h = Harness::primed(1);
    let dgram = udp(PEER_IP, 5001, BOUND_PORT, &pattern(24));
    assert_eq!(dgram.len(), 32);
    let mut out = h.frame(&raw_ipv4(17, 0x77, &[], true, 0, &dgram[0..16]));
    out.extend(h.frame(&raw_ipv4(17, 0x77, &[], true, 8, &dgram[8..24])));
    out.extend(h.frame(&raw_ipv4(17, 0x77, &[], false, 24, &dgram[24..32])));
    assert!(!readable(&out), "datagram reassembled from overlapping fragments; stats:\n{}", h.stats());
    assert_eq!(h.stats().datagrams_reassembled, 0);
    assert_eq!(h.stats().drops(DropReason::FragmentOverlap), 1);
}

/// A fragment wholly within data already held is a retransmission: ignored, even with other bytes (Linux's
/// `IPFRAG_DUP`), and the datagram completes with the bytes first received.
#[test]
fn a_fragment_within_data_held_is_ignored_as_a_duplicate() {
    let mut h = Harness::primed(1);
    let payload = pattern(24);
    let dgram = udp(PEER_IP, 5001, BOUND_PORT, &payload);
    let mut forged = dgram[8..16].to_vec();
    forged.iter_mut().for_each(|b| *b ^= 0xff);
    let mut out = h.frame(&raw_ipv4(17, 0x79, &[], true, 0, &dgram[0..16]));
    out.extend(h.frame(&raw_ipv4(17, 0x79, &[], true, 8, &forged)));
    out.extend(h.frame(&raw_ipv4(17, 0x79, &[], true, 0, &dgram[0..16])));
    out.extend(h.frame(&raw_ipv4(17, 0x79, &[], false, 16, &dgram[16..32])));
    assert!(readable(&out), "the datagram completes; stats:\n{}", h.stats());
    assert_eq!(h.stats().datagrams_reassembled, 1);
    assert_eq!(h.stats().drops(DropReason::FragmentOverlap), 0);
    let sock = out
        .iter()
        .find_map(|o| match o {
            Output::Event(sock, synack::Event::Readable) => Some(*sock),
            _ => None,
        })
        .expect("readable");
    let got = h.command(synack::Command::UdpRecv { sock });
    assert!(
        matches!(&got[0], Output::Reply(Ok(synack::Reply::Datagram { data, .. })) if *data == payload),
        "the bytes first received: {got:?}"
    );
}

/// An ICMP error about a reassembled datagram quotes the datagram as reassembled (Linux's `ip_frag_reasm`
/// rewrites the header): its whole length, no more-fragments flag, offset 0, a valid header checksum.
#[test]
fn an_error_about_a_reassembled_datagram_quotes_its_whole_header() {
    let mut h = Harness::primed(1);
    let dgram = udp(PEER_IP, 5001, 9999, &pattern(24));
    let mut out = h.frame(&raw_ipv4(17, 0x7b, &[], true, 0, &dgram[0..16]));
    out.extend(h.frame(&raw_ipv4(17, 0x7b, &[], false, 16, &dgram[16..32])));
    let msgs = icmp_messages(&out);
    assert_eq!(msgs.len(), 1, "one port unreachable: {out:?}");
    assert_eq!((msgs[0][0], msgs[0][1]), (3, 3));
    let quoted = &msgs[0][8..28];
    assert_eq!(u16::from_be_bytes([quoted[2], quoted[3]]), 20 + 32, "the datagram's whole length");
    assert_eq!(&quoted[6..8], &[0, 0], "no fragment flags or offset");
    assert_eq!(checksum::data(quoted), 0xffff, "a valid header checksum");
    assert_eq!(&msgs[0][28..36], &dgram[..8], "and the UDP header");
}

// ---- IPv4 options -------------------------------------------------------------------------------------------

/// The parameter problems (type 12) the stack sent, as (pointer, quoted datagram).
fn parameter_problems(out: &[Output]) -> Vec<(u8, Vec<u8>)> {
    icmp_messages(out).into_iter().filter(|m| m[0] == 12 && m[1] == 0).map(|m| (m[4], m[8..].to_vec())).collect()
}

/// RFC 1122 §3.2.1.8: a host checks the options it receives; Linux's `ip_options_compile()` rejects a malformed
/// one, drops the datagram and sends a parameter problem whose pointer names the octet at fault. Each case: the
/// options, and the offset in the header Linux points at.
#[test]
fn a_malformed_ip_option_drops_the_datagram_with_a_parameter_problem() {
    let cases: [(&[u8], u8); 8] = [
        (&[7, 255, 4, 0], 20),                             // record route longer than the options
        (&[0x44, 0, 5, 0], 20),                            // timestamp of length 0
        (&[1, 1, 1, 0x82], 23),                            // an option cut off before its length octet
        (&[7, 3, 3, 0], 22),                               // record route pointer below 4
        (&[7, 4, 4, 0], 22),                               // record route with room left but not for an address
        (&[0x44, 4, 4, 0], 22),                            // timestamp pointer below 5
        (&[0x83, 7, 4, 0, 0, 0, 0, 0x89, 3, 4, 0, 0], 27), // two source routes
        (&[0x94, 2, 1, 0], 21),                            // router alert shorter than 4
    ];
    for (i, (options, pointer)) in cases.into_iter().enumerate() {
        let mut h = Harness::primed(1);
        let icmp = echo_with_code(0, 7, i as u16, b"options");
        let frame = raw_ipv4(1, 0x99, &pad4(options), false, 0, &icmp);
        let out = h.frame(&frame);
        let replies: Vec<_> = icmp_messages(&out).into_iter().filter(|m| m[0] == 0).collect();
        assert!(replies.is_empty(), "case {i}: echo reply despite a malformed option; stats:\n{}", h.stats());
        assert_eq!(h.stats().ipv4_delivered, 0, "case {i}: delivered");
        assert_eq!(h.stats().drops(DropReason::Malformed(Layer::Ipv4, wire::Error::BadOption)), 1, "case {i}");
        let problems = parameter_problems(&out);
        assert_eq!(problems.len(), 1, "case {i}: one parameter problem: {out:?}");
        assert_eq!(problems[0].0, pointer, "case {i}: the pointer names the octet at fault");
        let datagram = &frame[ETH_LEN..ETH_LEN + 20 + pad4(options).len() + icmp.len()];
        assert_eq!(problems[0].1, datagram, "case {i}: the whole (short) datagram is quoted");
    }
}

/// Sound options pass: no-operations, a record route with room, a full one, a timestamp, a router alert, and
/// an option this stack does not know (a host ignores those).
#[test]
fn sound_ip_options_are_accepted() {
    let cases: [&[u8]; 6] = [
        &[1, 1, 1, 0],
        &[7, 7, 4, 0, 0, 0, 0],
        &[7, 7, 8, 10, 0, 0, 1],
        &[0x44, 8, 5, 0, 0, 0, 0, 0],
        &[0x94, 4, 0, 0],
        &[0x9e, 6, 1, 2, 3, 4],
    ];
    for (i, options) in cases.into_iter().enumerate() {
        let mut h = Harness::primed(1);
        let icmp = echo_with_code(0, 7, i as u16, b"options");
        let out = h.frame(&raw_ipv4(1, 0x9b, &pad4(options), false, 0, &icmp));
        let msgs = icmp_messages(&out);
        assert_eq!(msgs.len(), 1, "case {i}: the echo is answered: {out:?}; stats:\n{}", h.stats());
        assert_eq!(msgs[0][0], 0, "case {i}: an echo reply");
    }
}

/// No ICMP error about a fragment other than the first (RFC 1122 §3.2.2): a later fragment with a malformed
/// option is dropped without one.
#[test]
fn a_later_fragment_with_a_malformed_option_is_dropped_silently() {
    let mut h = Harness::primed(1);
    let dgram = udp(PEER_IP, 5001, BOUND_PORT, &pattern(24));
    let out = h.frame(&raw_ipv4(17, 0x7a, &[7, 255, 4, 0], false, 16, &dgram[16..32]));
    assert!(parameter_problems(&out).is_empty(), "{out:?}");
    assert_eq!(h.stats().drops(DropReason::Malformed(Layer::Ipv4, wire::Error::BadOption)), 1);
}

/// Options padded with end-of-list octets to a multiple of four bytes.
fn pad4(options: &[u8]) -> Vec<u8> {
    let mut v = options.to_vec();
    v.resize(options.len().div_ceil(4) * 4, 0);
    v
}

// ---- UDP to port 0 ------------------------------------------------------------------------------------------

/// Linux `__udp4_lib_rcv()` has no special case for destination port 0: no socket matches, so it sends a port
/// unreachable, as for any closed port (RFC 1122 §4.1.3.1).
#[test]
fn udp_to_port_zero_gets_port_unreachable() {
    let mut h = Harness::primed(1);
    let frame = Ip::new(PEER_IP, 17).frame(&udp(PEER_IP, 5000, 0, b"port zero"));
    let out = h.frame(&frame);
    let msgs = icmp_messages(&out);
    assert_eq!(msgs.len(), 1, "no ICMP error for UDP to port 0: {out:?}; stats:\n{}", h.stats());
    assert_eq!((msgs[0][0], msgs[0][1]), (3, 3), "port unreachable");
    assert_eq!(h.stats().drops(DropReason::UdpNoSocket), 1);
}

/// TCP to destination port 0 is a closed port like any other: Linux's `tcp_v4_rcv()` finds no socket and resets
/// (RFC 9293 §3.10.7.1). It was dropped as malformed, so a prober saw a filtered port. A segment from source port
/// 0 stays malformed: no reply could reach it.
#[test]
fn tcp_to_port_zero_is_reset_like_a_closed_port() {
    let mut h = Harness::primed(6);
    let out = h.frame(&Ip::new(PEER_IP, 6).frame(&tcp(PEER_IP, 5000, 0, 1000, &[])));
    let sent = transmits(&out);
    assert_eq!(sent.len(), 1, "no reset for TCP to port 0: {out:?}; stats:\n{}", h.stats());
    let ip = wire::Ipv4Packet::new_checked(&sent[0][ETH_LEN..]).unwrap();
    let rst = wire::TcpPacket::new_checked(ip.payload()).unwrap();
    assert_eq!((rst.src_port(), rst.dst_port()), (0, 5000));
    assert!(rst.flags().contains(wire::TcpFlags::RST | wire::TcpFlags::ACK), "{:?}", rst.flags());
    assert_eq!(rst.ack_number().0, 1001, "SYN acknowledged: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>");
    assert_eq!(h.stats().drops(DropReason::TcpNoSocket), 1);
    let out = h.frame(&Ip::new(PEER_IP, 6).frame(&tcp(PEER_IP, 0, BOUND_PORT, 1000, &[])));
    assert!(transmits(&out).is_empty(), "nothing answers source port 0: {out:?}");
}

/// A ping to the subnet broadcast is answered by every host that hears it (Linux answers when
/// icmp_echo_ignore_broadcasts = 0, as routers and many embedded hosts do). Linux's ICMP sockets hand every
/// matching reply to the socket (`ping -b` prints each one), and `Command::Ping` promises "each reply then
/// comes as Event::EchoReply"; `on_echo_reply` even matches a reply from any host against a broadcast
/// destination. But the outstanding entry is removed by the first reply, so the second host's reply is
/// dropped as `IcmpUnmatched`.
#[test]
fn every_reply_to_a_broadcast_ping_reaches_the_socket() {
    use synack::{Command, Event, Reply};
    let mut h = Harness::primed(5);
    let out = h.command(Command::PingOpen { ident: Some(0x5151) });
    let Output::Reply(Ok(Reply::Bound { sock, .. })) = out[0] else { panic!("{out:?}") };
    let broadcast = core::net::Ipv4Addr::new(10, 0, 0, 255);
    let out = h.command(Command::Ping { sock, dst: broadcast.into(), seq_no: 1, payload_len: 8 });
    assert!(matches!(out[0], Output::Reply(Ok(Reply::Sent { .. }))), "{out:?}");
    assert_eq!(transmits(&out).len(), 1, "the request leaves as one broadcast frame: {out:?}");
    let reply = |id: u16, seq: u16, data: &[u8]| {
        let ty = etherparse::Icmpv4Type::EchoReply(etherparse::IcmpEchoHeader { id, seq });
        let mut b = etherparse::Icmpv4Header::with_checksum(ty, data).to_bytes().to_vec();
        b.extend_from_slice(data);
        b
    };
    let data: Vec<u8> = (0..8u8).collect();
    let mut from = Vec::new();
    for host in [PEER_IP, core::net::Ipv4Addr::new(10, 0, 0, 3)] {
        let out = h.frame(&Ip::new(host, 1).frame(&reply(0x5151, 1, &data)));
        from.extend(out.iter().filter_map(|o| match o {
            Output::Event(s, Event::EchoReply { from, seq_no: 1, .. }) if *s == sock => Some(*from),
            _ => None,
        }));
    }
    assert_eq!(
        from.len(),
        2,
        "one EchoReply per answering host, got {from:?}; stats {:?}",
        h.stats().drops(synack::DropReason::IcmpUnmatched)
    );
}
