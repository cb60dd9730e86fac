//! Hostile input over IPv6, named cases (the twins of `malformed_cases.rs`): each malformed or unwanted packet
//! to a dual-stack stack is dropped under exactly the expected `DropReason`, counted once, and the answers the
//! stack owes (ICMPv6 parameter problems) are exact. The harness lives in `common/malformed.rs` and
//! `common/malformed6.rs`.

mod common;

use common::malformed::*;
use common::malformed6::*;
use core::net::Ipv6Addr;
use core::time::Duration;
use etherparse as ep;
use synack::{wire, DropReason, Layer, Output};

fn echo_frame() -> Vec<u8> {
    Ip6::new(PEER_IP6, ICMPV6).frame(&echo6(PEER_IP6, STACK_IP6, 1, 1, b"malformed"))
}

/// The ICMPv6 messages in `out`, as (type, code, the four bytes after the checksum, body).
fn icmpv6_sent(out: &[Output]) -> Vec<(u8, u8, [u8; 4], Vec<u8>)> {
    transmits(out)
        .into_iter()
        .filter_map(|f| {
            let headers = ep::PacketHeaders::from_ethernet_slice(f).ok()?;
            let Some(ep::TransportHeader::Icmpv6(icmp)) = &headers.transport else { return None };
            let bytes = icmp.to_bytes();
            Some((bytes[0], bytes[1], [bytes[4], bytes[5], bytes[6], bytes[7]], headers.payload.slice().to_vec()))
        })
        .collect()
}

/// Checks that `out` is exactly one ICMPv6 parameter problem with `code` and `pointer`, quoting `frame`'s
/// packet from its IPv6 header on.
fn assert_param_problem(out: &[Output], frame: &[u8], code: u8, pointer: u32) {
    let sent = icmpv6_sent(out);
    assert_eq!(sent.len(), 1, "{out:?}");
    let (ty, c, rest, body) = &sent[0];
    assert_eq!((*ty, *c, u32::from_be_bytes(*rest)), (PARAM_PROBLEM, code, pointer));
    let packet = &frame[ETH_LEN..];
    let ip_len = IP6_LEN + usize::from(u16::from_be_bytes([packet[4], packet[5]]));
    assert_eq!(body[..], packet[..ip_len], "the quote is the whole offending packet");
}

#[test]
fn valid_echo_request_is_answered() {
    let mut h = Harness::dual(1);
    let out = h.frame(&echo_frame());
    let sent = icmpv6_sent(&out);
    assert_eq!(sent.len(), 1, "{out:?}");
    assert_eq!((sent[0].0, sent[0].1, sent[0].2), (ECHO_REPLY, 0, [0, 1, 0, 1]));
    assert_eq!(sent[0].3, b"malformed");
    assert_eq!(h.stats().total_drops(), 0);
}

/// An echo request of another code (nmap's IPv6 probes use 9) is answered with that code, as Linux's
/// `icmpv6_echo_reply` copies the request's header and changes only the type.
#[test]
fn echo_request_with_another_code_is_answered_with_that_code() {
    let mut h = Harness::dual(1);
    let request = icmpv6(PEER_IP6, STACK_IP6, ECHO_REQUEST, 9, [0, 1, 0, 2], b"probe");
    let out = h.frame(&Ip6::new(PEER_IP6, ICMPV6).frame(&request));
    let sent = icmpv6_sent(&out);
    assert_eq!(sent.len(), 1, "{out:?}");
    assert_eq!((sent[0].0, sent[0].1, sent[0].2), (ECHO_REPLY, 9, [0, 1, 0, 2]));
    assert_eq!(sent[0].3, b"probe");
    assert_eq!(h.stats().total_drops(), 0);
}

#[test]
fn truncated_ipv6_header() {
    let mut h = Harness::dual(1);
    let frame = echo_frame();
    for len in 0..IP6_LEN {
        let cut = &frame[..ETH_LEN + len];
        assert_dropped(&mut h, cut, DropReason::Malformed(Layer::Ipv6, wire::Error::Truncated));
    }
}

#[test]
fn wrong_version() {
    let mut h = Harness::dual(1);
    for version in [0u8, 4, 5, 7, 15] {
        let mut frame = echo_frame();
        frame[ETH_LEN] = (version << 4) | (frame[ETH_LEN] & 0x0f);
        assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ipv6, wire::Error::BadVersion));
    }
}

#[test]
fn payload_length_beyond_frame() {
    let mut h = Harness::dual(1);
    let mut frame = echo_frame();
    let claimed = (frame.len() - ETH_LEN - IP6_LEN + 1) as u16;
    frame[ETH_LEN + 4..ETH_LEN + 6].copy_from_slice(&claimed.to_be_bytes());
    assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ipv6, wire::Error::Truncated));
}

#[test]
fn multicast_source() {
    let mut h = Harness::dual(1);
    for src in ["ff02::1", "ff05::2", "ff02::1:ff00:1"] {
        let src: Ipv6Addr = src.parse().unwrap();
        let mut frame = Ip6::new(src, ICMPV6).frame(&echo6(src, STACK_IP6, 1, 1, b"x"));
        frame[6..12].copy_from_slice(&mac_for6(PEER_IP6).0);
        let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ipv6, wire::Error::BadField));
        assert!(out.is_empty(), "{out:?}");
    }
}

#[test]
fn loopback_mapped_and_own_sources() {
    let mut h = Harness::dual(1);
    let mapped = PEER_IP.to_ipv6_mapped();
    for src in [Ipv6Addr::LOCALHOST, mapped, STACK_IP6, stack_ll()] {
        let mut frame = Ip6::new(src, ICMPV6).frame(&echo6(src, STACK_IP6, 1, 1, b"x"));
        frame[6..12].copy_from_slice(&mac_for6(PEER_IP6).0);
        let out = assert_dropped(&mut h, &frame, DropReason::BadSourceAddress);
        assert!(out.is_empty(), "{src}: {out:?}");
    }
}

#[test]
fn packets_to_another_address_or_group() {
    let mut h = Harness::dual(1);
    let others = ["2001:db8::3", "2001:db8:1::2", "fe80::2", "ff02::1:ff00:99", "ff05::1", "ff02::2"];
    for dst in others {
        let dst: Ipv6Addr = dst.parse().unwrap();
        let frame = Ip6 { dst, ..Ip6::new(PEER_IP6, ICMPV6) }.frame(&echo6(PEER_IP6, dst, 1, 1, b"x"));
        let out = assert_dropped(&mut h, &frame, DropReason::NotOurAddress);
        assert!(out.is_empty(), "{dst}: {out:?}");
    }
    // The groups it joined are ours: all-nodes and its solicited-node groups get answers.
    for dst in [Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1), solicited_node(STACK_IP6)] {
        let frame = Ip6 { dst, ..Ip6::new(PEER_IP6, ICMPV6) }.frame(&echo6(PEER_IP6, dst, 1, 1, b"x"));
        let out = h.frame(&frame);
        assert_eq!(icmpv6_sent(&out).len(), 1, "{dst}: {out:?}");
    }
}

#[test]
fn extension_header_running_past_the_packet() {
    let mut h = Harness::dual(1);
    let udp = udp6(PEER_IP6, STACK_IP6, 5000, BOUND_PORT, b"hello");
    let mut opts = options_header(UDP, &[]);
    opts[1] = 5; // claims 48 bytes, the packet holds 8 + 13
    opts.extend_from_slice(&udp);
    let frame = Ip6::new(PEER_IP6, DST_OPTS).frame(&opts);
    let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ipv6, wire::Error::Truncated));
    assert!(out.is_empty(), "{out:?}");
    // A fragment header cut short.
    let frame = Ip6::new(PEER_IP6, FRAGMENT).frame(&[UDP, 0, 0, 1]);
    assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ipv6, wire::Error::Truncated));
    // An option whose length runs past its header.
    let frame = Ip6::new(PEER_IP6, DST_OPTS).frame(&[UDP, 0, 0x1e, 9, 0, 0, 0, 0]);
    assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ipv6, wire::Error::BadOption));
}

/// A UDP datagram to the bound port behind `count` destination options headers (the first one hop-by-hop).
fn behind_headers(count: usize) -> Vec<u8> {
    let mut payload = Vec::new();
    for i in 0..count {
        payload.extend(options_header(if i + 1 == count { UDP } else { DST_OPTS }, &[]));
    }
    payload.extend(udp6(PEER_IP6, STACK_IP6, 5000, BOUND_PORT, b"deep"));
    Ip6::new(PEER_IP6, HOP_BY_HOP).frame(&payload)
}

#[test]
fn more_than_eight_extension_headers() {
    let mut h = Harness::dual(1);
    let before = h.stats().udp_datagrams_received;
    h.frame(&behind_headers(8));
    assert_eq!(h.stats().udp_datagrams_received, before + 1, "eight headers are delivered");
    assert_eq!(h.stats().total_drops(), 0);
    let out = assert_dropped(&mut h, &behind_headers(9), DropReason::Malformed(Layer::Ipv6, wire::Error::Unsupported));
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn unknown_option_actions() {
    let mut h = Harness::dual(1);
    let udp = udp6(PEER_IP6, STACK_IP6, 5000, BOUND_PORT, b"opt");
    let with_option = |ty: u8, dst: Ipv6Addr| {
        let mut p = options_header(UDP, &[ty, 2, 0xaa, 0xbb]);
        p.extend_from_slice(&udp);
        Ip6 { dst, ..Ip6::new(PEER_IP6, DST_OPTS) }.frame(&p)
    };
    // 00: skipped, the datagram is delivered.
    let before = h.stats().udp_datagrams_received;
    h.frame(&with_option(0x1e, STACK_IP6));
    assert_eq!(h.stats().udp_datagrams_received, before + 1);
    // 01: discarded silently.
    let out = assert_dropped(&mut h, &with_option(0x5e, STACK_IP6), DropReason::Ipv6OptionDiscarded);
    assert!(out.is_empty(), "{out:?}");
    // 10: discarded with a parameter problem (code 2) pointing at the option type, even to a group.
    let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    for dst in [STACK_IP6, all_nodes] {
        let frame = with_option(0x9e, dst);
        let out = assert_dropped(&mut h, &frame, DropReason::Ipv6ParameterProblem);
        assert_param_problem(&out, &frame, 2, (IP6_LEN + 2) as u32);
    }
    // 11: the same, but silently to a group.
    let frame = with_option(0xde, STACK_IP6);
    let out = assert_dropped(&mut h, &frame, DropReason::Ipv6ParameterProblem);
    assert_param_problem(&out, &frame, 2, (IP6_LEN + 2) as u32);
    let out = assert_dropped(&mut h, &with_option(0xde, all_nodes), DropReason::Ipv6OptionDiscarded);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn hop_by_hop_not_first() {
    let mut h = Harness::dual(1);
    let mut payload = options_header(HOP_BY_HOP, &[]);
    payload.extend(options_header(UDP, &[]));
    payload.extend(udp6(PEER_IP6, STACK_IP6, 5000, BOUND_PORT, b"late"));
    let frame = Ip6::new(PEER_IP6, DST_OPTS).frame(&payload);
    let out = assert_dropped(&mut h, &frame, DropReason::Ipv6ParameterProblem);
    // Unrecognized next header, pointing at the destination options' Next Header field that names it.
    assert_param_problem(&out, &frame, 1, IP6_LEN as u32);
}

#[test]
fn unknown_next_header_and_routing_with_segments_left() {
    let mut h = Harness::dual(1);
    // An upper layer we do not speak is an unrecognized next header to the walk (RFC 8200 §4): code 1,
    // pointing at the fixed header's Next Header field.
    let frame = Ip6::new(PEER_IP6, 132).frame(&pattern(24));
    let out = assert_dropped(&mut h, &frame, DropReason::Ipv6ParameterProblem);
    assert_param_problem(&out, &frame, 1, 6);
    let mut routing = vec![UDP, 0, 0, 1, 0, 0, 0, 0];
    routing.extend(udp6(PEER_IP6, STACK_IP6, 5000, BOUND_PORT, b"route"));
    let frame = Ip6::new(PEER_IP6, ROUTING).frame(&routing);
    let out = assert_dropped(&mut h, &frame, DropReason::Ipv6ParameterProblem);
    assert_param_problem(&out, &frame, 0, (IP6_LEN + 2) as u32);
    // Next header 59: nothing after the headers.
    let frame = Ip6::new(PEER_IP6, NO_NEXT).frame(&[]);
    let out = assert_dropped(&mut h, &frame, DropReason::Ipv6NoNextHeader);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn non_final_fragment_not_a_multiple_of_eight() {
    let mut h = Harness::dual(1);
    let mut payload = fragment_header(UDP, 0, true, 0x1234);
    payload.extend(pattern(13));
    let frame = Ip6::new(PEER_IP6, FRAGMENT).frame(&payload);
    let out = assert_dropped(&mut h, &frame, DropReason::Ipv6ParameterProblem);
    // Erroneous header field, pointing at the payload length (RFC 8200 §4.5).
    assert_param_problem(&out, &frame, 0, 4);
    assert_eq!(h.stats().fragments_received, 0);
}

fn fragment(ident: u32, offset: usize, more: bool, data: &[u8]) -> Vec<u8> {
    let mut payload = fragment_header(UDP, offset, more, ident);
    payload.extend_from_slice(data);
    Ip6::new(PEER_IP6, FRAGMENT).frame(&payload)
}

#[test]
fn fragments_reassemble_into_a_datagram_for_the_bound_port() {
    let mut h = Harness::dual(1);
    let datagram = udp6(PEER_IP6, STACK_IP6, 5000, BOUND_PORT, &pattern(3000));
    for (i, piece) in datagram.chunks(1232).enumerate().rev() {
        let more = (i + 1) * 1232 < datagram.len();
        h.frame(&fragment(7, i * 1232, more, piece));
    }
    assert_eq!(h.stats().datagrams_reassembled, 1);
    assert_eq!(h.stats().udp_datagrams_received, 1);
    assert_eq!(h.stats().total_drops(), 0);
}

#[test]
fn overlapping_fragments_drop_the_datagram() {
    let mut h = Harness::dual(1);
    let datagram = udp6(PEER_IP6, STACK_IP6, 5000, BOUND_PORT, &pattern(100));
    h.frame(&fragment(9, 0, true, &datagram[..64]));
    assert_eq!(h.stats().fragments_received, 1);
    // Same bytes, but overlapping without being a duplicate: RFC 5722 drops the whole datagram.
    let out = assert_dropped(&mut h, &fragment(9, 56, false, &datagram[56..]), DropReason::FragmentOverlap);
    assert!(out.is_empty(), "{out:?}");
    // Nothing is left of it: the rest alone does not complete anything.
    h.frame(&fragment(9, 64, false, &datagram[64..]));
    assert_eq!(h.stats().datagrams_reassembled, 0);
    // An exact duplicate is ignored (RFC 5722 errata 3089), and the datagram still completes.
    h.frame(&fragment(10, 0, true, &datagram[..64]));
    h.frame(&fragment(10, 0, true, &datagram[..64]));
    h.frame(&fragment(10, 64, false, &datagram[64..]));
    assert_eq!(h.stats().datagrams_reassembled, 1);
    assert_eq!(h.stats().drops(DropReason::FragmentOverlap), 1);
}

#[test]
fn icmpv6_bad_checksum() {
    let mut h = Harness::dual(1);
    let mut frame = echo_frame();
    frame[ETH_LEN + IP6_LEN + 2] ^= 0x01;
    let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Icmpv6, wire::Error::BadChecksum));
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn icmpv6_unknown_informational_type() {
    let mut h = Harness::dual(1);
    for ty in [130u8, 200, 255] {
        let frame = Ip6::new(PEER_IP6, ICMPV6).frame(&icmpv6(PEER_IP6, STACK_IP6, ty, 0, [0; 4], b"info"));
        let out = assert_dropped(&mut h, &frame, DropReason::IcmpUnhandled);
        assert!(out.is_empty(), "{ty}: {out:?}");
    }
    // Nor an echo reply with a nonzero code (an echo request of any code is answered: see above).
    let frame = Ip6::new(PEER_IP6, ICMPV6).frame(&icmpv6(PEER_IP6, STACK_IP6, ECHO_REPLY, 1, [0; 4], b""));
    assert_dropped(&mut h, &frame, DropReason::IcmpUnhandled);
}

#[test]
fn ndp_with_hop_limit_below_255() {
    let mut h = Harness::dual(1);
    let group = solicited_node(STACK_IP6);
    for hop_limit in [0u8, 1, 64, 254] {
        let message = ns(PEER_IP6, group, STACK_IP6);
        let frame = Ip6 { dst: group, hop_limit, ..Ip6::new(PEER_IP6, ICMPV6) }.frame(&message);
        let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ndp, wire::Error::BadField));
        assert!(out.is_empty(), "{out:?}");
    }
}

#[test]
fn neighbor_solicitation_for_a_multicast_target() {
    let mut h = Harness::dual(1);
    let group = solicited_node(STACK_IP6);
    let frame = nd_frame(PEER_IP6, group, &ns(PEER_IP6, group, Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1)));
    // RFC 4861 §7.1.1, checked when the message is parsed: counted as neighbour discovery's.
    let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ndp, wire::Error::BadField));
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn router_advertisement_from_a_global_address() {
    let mut h = Harness::dual(1);
    let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    let frame = nd_frame(PEER_IP6, all_nodes, &ra(PEER_IP6, all_nodes));
    let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ndp, wire::Error::BadField));
    assert!(out.is_empty(), "{out:?}");
    // From a link-local address the same advertisement is taken.
    let before = h.stats().ndp_messages_received;
    h.frame(&nd_frame(PEER_LL, all_nodes, &ra(PEER_LL, all_nodes)));
    assert_eq!(h.stats().ndp_messages_received, before + 1);
    assert_eq!(h.stats().total_drops(), 1);
}

#[test]
fn solicited_advertisement_to_a_group() {
    let mut h = Harness::dual(1);
    let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    let peer = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 5);
    let frame = nd_frame(peer, all_nodes, &na(peer, all_nodes, peer, true));
    let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ndp, wire::Error::BadField));
    assert!(out.is_empty(), "{out:?}");
    // Unsolicited to the group is fine (and ignored: the stack does not track that neighbour).
    let frame = nd_frame(peer, all_nodes, &na(peer, all_nodes, peer, false));
    assert_dropped(&mut h, &frame, DropReason::NdpIgnored);
}

#[test]
fn tcp_and_udp_with_bad_checksums() {
    let mut h = Harness::dual(1);
    let mut frame = Ip6::new(PEER_IP6, UDP).frame(&udp6(PEER_IP6, STACK_IP6, 5000, BOUND_PORT, b"hello"));
    frame[ETH_LEN + IP6_LEN + 8] ^= 0x20;
    let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Udp, wire::Error::BadChecksum));
    assert!(out.is_empty(), "{out:?}");
    let mut frame = Ip6::new(PEER_IP6, TCP).frame(&tcp6_syn(PEER_IP6, 40000, 80, 1000));
    frame[ETH_LEN + IP6_LEN + 4] ^= 0x01;
    let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Tcp, wire::Error::BadChecksum));
    assert!(out.is_empty(), "{out:?}");
    // The IPv4 checksum of the same bytes is not accepted: the pseudo-header is IPv6's.
    let ip4 = udp(PEER_IP, 5000, BOUND_PORT, b"hello");
    let frame = Ip6::new(PEER_IP6, UDP).frame(&ip4);
    assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Udp, wire::Error::BadChecksum));
}

#[test]
fn udp_with_zero_checksum() {
    let mut h = Harness::dual(1);
    let mut frame = Ip6::new(PEER_IP6, UDP).frame(&udp6(PEER_IP6, STACK_IP6, 5000, BOUND_PORT, b"hello"));
    frame[ETH_LEN + IP6_LEN + 6..ETH_LEN + IP6_LEN + 8].fill(0);
    // RFC 8200 §8.1: a zero UDP checksum over IPv6 is discarded (it is "no checksum" only over IPv4).
    let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Udp, wire::Error::BadChecksum));
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn udp_and_tcp_to_closed_ports_are_answered() {
    let mut h = Harness::dual(1);
    let frame = Ip6::new(PEER_IP6, UDP).frame(&udp6(PEER_IP6, STACK_IP6, 5000, 9999, b"closed"));
    let out = assert_dropped(&mut h, &frame, DropReason::UdpNoSocket);
    let sent = icmpv6_sent(&out);
    assert_eq!(sent.len(), 1, "{out:?}");
    assert_eq!((sent[0].0, sent[0].1), (DST_UNREACHABLE, 4), "port unreachable");
    let frame = Ip6::new(PEER_IP6, TCP).frame(&tcp6_syn(PEER_IP6, 40000, 81, 1000));
    let out = assert_dropped(&mut h, &frame, DropReason::TcpNoSocket);
    let rst = transmits(&out);
    assert_eq!(rst.len(), 1, "{out:?}");
    let headers = ep::PacketHeaders::from_ethernet_slice(rst[0]).unwrap();
    let Some(ep::TransportHeader::Tcp(tcp)) = headers.transport else { panic!("{out:?}") };
    assert!(tcp.rst && tcp.ack && tcp.acknowledgment_number == 1001, "{tcp:?}");
}

/// An ICMPv6 destination unreachable quoting an IPv6 packet from `src` to `dst` carrying UDP from `src_port`.
fn error_quoting(src: Ipv6Addr, dst: Ipv6Addr, src_port: u16) -> Vec<u8> {
    let udp = udp6(src, dst, src_port, 53, &pattern(16));
    let quoted = Ip6 { dst, ..Ip6::new(src, UDP) }.frame(&udp);
    let body = &quoted[ETH_LEN..ETH_LEN + IP6_LEN + udp.len()];
    let icmp = icmpv6(PEER_IP6, STACK_IP6, DST_UNREACHABLE, 4, [0; 4], body);
    Ip6::new(PEER_IP6, ICMPV6).frame(&icmp)
}

#[test]
fn icmpv6_error_quoting_a_packet_not_ours() {
    let mut h = Harness::dual(1);
    let other = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9);
    // Quoting a packet some other host sent, then one of ours from a port no socket holds.
    for frame in [error_quoting(other, PEER_IP6, BOUND_PORT), error_quoting(STACK_IP6, PEER_IP6, 4444)] {
        let before = h.stats().icmp_errors_received;
        let out = assert_dropped(&mut h, &frame, DropReason::IcmpUnhandled);
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(h.stats().icmp_errors_received, before + 1);
    }
    // Quoting less than an IPv6 header.
    let icmp = icmpv6(PEER_IP6, STACK_IP6, DST_UNREACHABLE, 4, [0; 4], &[0x60; 20]);
    let frame = Ip6::new(PEER_IP6, ICMPV6).frame(&icmp);
    assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Icmpv6, wire::Error::Truncated));
    // Quoting one of ours from the bound port: the socket hears of it, nothing is dropped.
    let before = h.stats().total_drops();
    let out = h.frame(&error_quoting(STACK_IP6, PEER_IP6, BOUND_PORT));
    assert!(out.iter().any(|o| matches!(o, Output::Event(..))), "{out:?}");
    assert_eq!(h.stats().total_drops(), before);
}

#[test]
fn no_error_answers_an_error() {
    // An ICMPv6 error behind an unknown option whose type asks for a parameter problem (action 10): dropped,
    // never answered (RFC 4443 §2.4 (e.1)).
    let mut h = Harness::dual(1);
    let icmp = icmpv6(PEER_IP6, STACK_IP6, DST_UNREACHABLE, 4, [0; 4], &[0x60; 48]);
    let mut payload = options_header(ICMPV6, &[0x9e, 2, 0, 0]);
    payload.extend(icmp);
    let frame = Ip6::new(PEER_IP6, DST_OPTS).frame(&payload);
    let out = assert_dropped(&mut h, &frame, DropReason::Ipv6ParameterProblem);
    assert!(out.is_empty(), "{out:?}");
}

/// Every emitted IPv6 frame's packet (from the IPv6 header on).
fn ipv6_packets(out: &[Output]) -> Vec<Vec<u8>> {
    transmits(out).into_iter().filter(|f| f[12..14] == [0x86, 0xdd]).map(|f| f[ETH_LEN..].to_vec()).collect()
}

/// RFC 4443 §2.4 (c): an ICMPv6 error quotes as much of the offending packet as fits in the minimum MTU:
/// the error packet never exceeds 1280 bytes (Linux `icmp6_send` cuts the quote to 1232 bytes).
#[test]
fn parameter_problem_about_a_large_packet_fits_in_1280() {
    let mut h = Harness::dual(1);
    // 1400 bytes of payload behind an unknown next header (253, reserved for experiments).
    let frame = Ip6::new(PEER_IP6, 253).frame(&pattern(1400));
    let out = h.frame(&frame);
    let packets = ipv6_packets(&out);
    assert_eq!(packets.len(), 1, "one unfragmented error expected, got {} packets: {out:?}", packets.len());
    let p = &packets[0];
    assert!(p.len() <= MIN_MTU6, "the ICMPv6 error is {} bytes, more than the minimum MTU {MIN_MTU6}", p.len());
    assert_eq!(p[6], ICMPV6, "next header");
    assert_eq!((p[40], p[41]), (4, 1), "parameter problem, unrecognized next header");
    assert_eq!(&p[48..], &frame[ETH_LEN..ETH_LEN + 1232], "the quote is the first 1232 bytes");
}

/// RFC 4443 §2.4 (c) for the reassembly time exceeded (RFC 8200 §4.5): the error quotes the first fragment,
/// as much of it as fits (Linux `ip6frag_expire_frag_queue` sends `icmpv6_send` on the whole first
/// fragment), not just 8 bytes past its headers.
#[test]
fn reassembly_time_exceeded_quotes_the_first_fragment() {
    let mut h = Harness::dual(1);
    let datagram = udp6(PEER_IP6, STACK_IP6, 5000, BOUND_PORT, &pattern(400));
    let mut payload = fragment_header(UDP, 0, true, 0x4242);
    payload.extend_from_slice(&datagram[..200]);
    let first = Ip6::new(PEER_IP6, FRAGMENT).frame(&payload);
    let out = h.frame(&first);
    assert!(out.is_empty(), "{out:?}");
    let out = h.timer(Duration::from_secs(61));
    // Neighbour discovery runs meanwhile: only the errors (types below 128) matter.
    let sent: Vec<_> = icmpv6_sent(&out).into_iter().filter(|m| m.0 < 128).collect();
    assert_eq!(sent.len(), 1, "{out:?}");
    let (ty, code, _, body) = &sent[0];
    assert_eq!((*ty, *code), (3, 1), "time exceeded, fragment reassembly");
    let whole_first = &first[ETH_LEN..ETH_LEN + IP6_LEN + payload.len()];
    assert_eq!(
        body.len(),
        whole_first.len(),
        "quoted {} bytes of a {}-byte first fragment",
        body.len(),
        whole_first.len()
    );
    assert_eq!(&body[..], whole_first);
}

/// RFC 8200 §4.5 / RFC 7112 §5: a first fragment that does not hold the whole header chain through the
/// upper-layer header is discarded with a parameter problem code 3, pointer 0 (Linux `ipv6_frag_rcv`,
/// `ipv6frag_thdr_truncated`).
#[test]
fn first_fragment_without_the_whole_header_chain() {
    let mut h = Harness::dual(1);
    // The fragmentable part: a 24-byte destination options header (one unknown option of type 0x1e, which
    // the receiver skips), then UDP.
    let mut whole = options_header(UDP, &[0x1e, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(whole.len(), 24);
    whole.extend(udp6(PEER_IP6, STACK_IP6, 5000, BOUND_PORT, b"split chain"));
    // The first fragment carries only 16 bytes: not even the whole options header.
    let mut payload = fragment_header(DST_OPTS, 0, true, 0x7112);
    payload.extend_from_slice(&whole[..16]);
    let first = Ip6::new(PEER_IP6, FRAGMENT).frame(&payload);
    let out = h.frame(&first);
    let sent = icmpv6_sent(&out);
    assert_eq!(sent.len(), 1, "no parameter problem for an incomplete header chain: {out:?}");
    let (ty, code, rest, _) = &sent[0];
    assert_eq!((*ty, *code, u32::from_be_bytes(*rest)), (4, 3, 0));
    // The rest completes nothing: the first fragment was discarded.
    let mut payload = fragment_header(DST_OPTS, 16, false, 0x7112);
    payload.extend_from_slice(&whole[16..]);
    h.frame(&Ip6::new(PEER_IP6, FRAGMENT).frame(&payload));
    assert_eq!(h.stats().udp_datagrams_received, 0, "a datagram whose first fragment was discarded was delivered");
}

/// After reassembly the packet is processed as any other (RFC 8200 §4.5): an unknown upper-layer protocol
/// is answered with a parameter problem code 1, as for an unfragmented packet (Linux
/// `ip6_protocol_deliver_rcu` after `ip6_frag_reasm`).
#[test]
fn reassembled_packet_with_unknown_next_header_is_answered() {
    let mut h = Harness::dual(1);
    let whole = pattern(64);
    for (offset, more) in [(0usize, true), (32, false)] {
        let mut payload = fragment_header(253, offset, more, 0x5353);
        payload.extend_from_slice(&whole[offset..offset + 32]);
        let out = h.frame(&Ip6::new(PEER_IP6, FRAGMENT).frame(&payload));
        if more {
            assert!(out.is_empty(), "{out:?}");
        } else {
            assert_eq!(h.stats().datagrams_reassembled, 1);
            let sent = icmpv6_sent(&out);
            assert_eq!(sent.len(), 1, "no parameter problem for a reassembled unknown protocol: {out:?}");
            assert_eq!((sent[0].0, sent[0].1), (4, 1));
            // The pointer names the fragment header's next header field, in the packet quoted as reassembled
            // (fixed header, fragment header, all 64 bytes of data).
            assert_eq!(u32::from_be_bytes(sent[0].2), 40);
            assert_eq!(sent[0].3.len(), IP6_LEN + 8 + 64);
            assert_eq!(&sent[0].3[IP6_LEN + 8..], &whole[..]);
        }
    }
}

/// Padding that is not padding: RFC 4942 §2.1.9.5 recommends a receiver check that PadN covers at most 7
/// bytes (its only purpose is 8-byte alignment) and carries only zeros; Linux `ip6_parse_tlv` drops the
/// packet otherwise (`padlen > 7` or a nonzero PadN byte: `goto bad`), so a covert channel in padding is
/// never delivered.
#[test]
fn oversized_or_nonzero_padding_drops_the_packet() {
    let mut h = Harness::dual(1);
    // 12 bytes of PadN data (14 bytes of padding in a row), all zero.
    let mut long_pad = options_header(UDP, &[1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(long_pad.len(), 16);
    // PadN of 4 bytes (aligning exactly) whose data is not zero.
    let mut dirty_pad = options_header(UDP, &[1, 4, 0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(dirty_pad.len(), 8);
    for (name, header) in [("nonzero PadN", &mut dirty_pad), ("14 bytes of padding", &mut long_pad)] {
        let before = h.stats().udp_datagrams_received;
        header.extend(udp6(PEER_IP6, STACK_IP6, 5000, BOUND_PORT, b"covert"));
        let out = h.frame(&Ip6::new(PEER_IP6, DST_OPTS).frame(header));
        assert!(out.iter().all(|o| !matches!(o, Output::Transmit(_))), "{name}: {out:?}");
        assert_eq!(h.stats().udp_datagrams_received, before, "{name}: the datagram was delivered");
    }
}
