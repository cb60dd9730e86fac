//! Hostile input, named cases: each malformed frame is dropped under exactly the expected `DropReason`, and the
//! answers the stack owes (ICMP errors, resets) are exact. The harness lives in `common/malformed.rs`.

mod common;

use common::malformed::*;
use core::net::{Ipv4Addr, SocketAddr};
use etherparse as ep;
use synack::wire::{self, EthernetAddress};
use synack::{Command, DropReason, Layer, Output, Reply, SocketHandle};

// ---- Named malformed cases --------------------------------------------------------------------------------

fn echo_frame() -> Vec<u8> {
    Ip::new(PEER_IP, 1).frame(&echo_request(1, 1, b"malformed"))
}

#[test]
fn valid_echo_request_is_answered() {
    let mut h = Harness::primed(1);
    let out = h.frame(&echo_frame());
    let frames = transmits(&out);
    assert_eq!(frames.len(), 1, "{out:?}");
    let headers = ep::PacketHeaders::from_ethernet_slice(frames[0]).unwrap();
    let Some(ep::TransportHeader::Icmpv4(icmp)) = headers.transport else { panic!() };
    assert_eq!(icmp.icmp_type, ep::Icmpv4Type::EchoReply(ep::IcmpEchoHeader { id: 1, seq: 1 }));
    assert_eq!(headers.payload.slice(), b"malformed");
    assert_eq!(h.stats().total_drops(), 0);
}

#[test]
fn truncated_ethernet() {
    let mut h = Harness::primed(1);
    let frame = echo_frame();
    for len in 0..ETH_LEN {
        assert_dropped(&mut h, &frame[..len], DropReason::Malformed(Layer::Ethernet, wire::Error::Truncated));
    }
}

#[test]
fn bad_ipv4_version() {
    let mut h = Harness::primed(1);
    let mut frame = echo_frame();
    frame[ETH_LEN] = 0x65;
    refresh_ipv4_checksum(&mut frame);
    assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ipv4, wire::Error::BadVersion));
}

#[test]
fn bad_ihl() {
    let mut h = Harness::primed(1);
    for ihl in 0..5 {
        let mut frame = echo_frame();
        frame[ETH_LEN] = 0x40 | ihl;
        assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ipv4, wire::Error::BadLength));
    }
}

#[test]
fn bad_ipv4_checksum() {
    let mut h = Harness::primed(1);
    let mut frame = echo_frame();
    frame[ETH_LEN + 11] ^= 0x01;
    assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ipv4, wire::Error::BadChecksum));
}

#[test]
fn total_length_beyond_frame() {
    let mut h = Harness::primed(1);
    let mut frame = echo_frame();
    let total = (frame.len() - ETH_LEN + 100) as u16;
    frame[ETH_LEN + 2..ETH_LEN + 4].copy_from_slice(&total.to_be_bytes());
    refresh_ipv4_checksum(&mut frame);
    assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ipv4, wire::Error::Truncated));
}

#[test]
fn udp_bad_checksum() {
    let mut h = Harness::primed(1);
    let mut frame = Ip::new(PEER_IP, 17).frame(&udp(PEER_IP, 5000, BOUND_PORT, b"hello"));
    frame[ETH_LEN + IP_LEN + 8] ^= 0x20;
    let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Udp, wire::Error::BadChecksum));
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn udp_length_below_header() {
    let mut h = Harness::primed(1);
    for len in 0..8u16 {
        let mut frame = Ip::new(PEER_IP, 17).frame(&udp(PEER_IP, 5000, BOUND_PORT, b"hello"));
        frame[ETH_LEN + IP_LEN + 4..ETH_LEN + IP_LEN + 6].copy_from_slice(&len.to_be_bytes());
        assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Udp, wire::Error::BadLength));
    }
}

#[test]
fn tcp_data_offset_below_five() {
    let mut h = Harness::primed(1);
    for words in 0..5u8 {
        let mut frame = Ip::new(PEER_IP, 6).frame(&tcp(PEER_IP, 40000, 80, 1000, &[]));
        frame[ETH_LEN + IP_LEN + 12] = words << 4;
        assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Tcp, wire::Error::BadLength));
    }
}

#[test]
fn tcp_bad_option_length_is_skipped_and_the_segment_processed() {
    // RFC 9293 MUST-6/7, as Linux: an MSS claiming 3 bytes is ignored, and this SYN to a closed port is reset.
    let mut h = Harness::primed(1);
    let frame = Ip::new(PEER_IP, 6).frame(&tcp(PEER_IP, 40000, 80, 1000, &[2, 3, 5, 0xb4]));
    let out = assert_dropped(&mut h, &frame, DropReason::TcpNoSocket);
    assert_eq!(transmits(&out).len(), 1, "a reset: {out:?}");
    // An unknown option whose length runs past the header ends the options; the SYN is still answered.
    let frame = Ip::new(PEER_IP, 6).frame(&tcp(PEER_IP, 40000, 80, 1000, &[30, 9, 0, 0]));
    let out = assert_dropped(&mut h, &frame, DropReason::TcpNoSocket);
    assert_eq!(transmits(&out).len(), 1, "a reset: {out:?}");
}

#[test]
fn icmp_bad_checksum() {
    let mut h = Harness::primed(1);
    let mut frame = echo_frame();
    frame[ETH_LEN + IP_LEN + 9] ^= 0x01;
    let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Icmp, wire::Error::BadChecksum));
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn arp_for_another_hardware_type() {
    let mut h = Harness::primed(1);
    let packet = ep::ArpPacket::new(
        ep::ArpHardwareId::IEEE802,
        ep::EtherType::IPV4,
        ep::ArpOperation::REQUEST,
        &mac_for(PEER_IP).0,
        &PEER_IP.octets(),
        &[0; 6],
        &STACK_IP.octets(),
    )
    .unwrap();
    let frame = ethernet(mac_for(PEER_IP), EthernetAddress::BROADCAST, 0x0806, &packet.to_bytes());
    let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Arp, wire::Error::Unsupported));
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn frame_for_another_mac() {
    let mut h = Harness::primed(1);
    let mut frame = echo_frame();
    frame[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x99]);
    assert_dropped(&mut h, &frame, DropReason::NotOurMac);
}

#[test]
fn ipv6_to_a_stack_without_ipv6() {
    let mut h = Harness::primed(1);
    let frame = ethernet(PEER_MAC, STACK_MAC, 0x86dd, &[0x60; 40]);
    assert_dropped(&mut h, &frame, DropReason::Ipv6Disabled);
}

#[test]
fn another_ethertype() {
    let mut h = Harness::primed(1);
    let frame = ethernet(PEER_MAC, STACK_MAC, 0x88cc, &[0; 46]);
    assert_dropped(&mut h, &frame, DropReason::UnsupportedEtherType);
}

#[test]
fn packet_to_another_address() {
    let mut h = Harness::primed(1);
    let ip = Ip { dst: Ipv4Addr::new(10, 0, 0, 3), ..Ip::new(PEER_IP, 1) };
    let out = assert_dropped(&mut h, &ip.frame(&echo_request(1, 1, b"x")), DropReason::NotOurAddress);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn broadcast_source() {
    let mut h = Harness::primed(1);
    for src in [Ipv4Addr::BROADCAST, Ipv4Addr::new(10, 0, 0, 255), Ipv4Addr::UNSPECIFIED, STACK_IP] {
        let mut frame = Ip::new(src, 1).frame(&echo_request(1, 1, b"x"));
        frame[6..12].copy_from_slice(&PEER_MAC.0);
        let out = assert_dropped(&mut h, &frame, DropReason::BadSourceAddress);
        assert!(out.is_empty(), "{src}: {out:?}");
    }
}

/// Parses the single ICMP error the stack sent and returns (type, code, quoted original).
fn icmp_error(out: &[Output]) -> (u8, u8, Vec<u8>) {
    let frames = transmits(out);
    assert_eq!(frames.len(), 1, "{out:?}");
    let headers = ep::PacketHeaders::from_ethernet_slice(frames[0]).unwrap();
    let Some(ep::LinkHeader::Ethernet2(eth)) = &headers.link else { panic!() };
    assert_eq!(eth.destination, mac_for(PEER_IP).0);
    let Some(ep::NetHeaders::Ipv4(ip, _)) = &headers.net else { panic!() };
    assert_eq!(ip.destination, PEER_IP.octets());
    assert_eq!(ip.protocol, ep::IpNumber::ICMP);
    let icmp = &frames[0][ETH_LEN + IP_LEN..ETH_LEN + usize::from(ip.total_len)];
    (icmp[0], icmp[1], icmp[8..].to_vec())
}

#[test]
fn unknown_protocol_is_answered_with_protocol_unreachable() {
    let mut h = Harness::primed(1);
    let frame = Ip::new(PEER_IP, 253).frame(&pattern(16));
    let out = assert_dropped(&mut h, &frame, DropReason::UnknownProtocol);
    let (ty, code, original) = icmp_error(&out);
    assert_eq!((ty, code), (3, 2));
    assert_eq!(original, &frame[ETH_LEN..ETH_LEN + IP_LEN + 16], "quotes the whole small datagram");
    assert_eq!(h.stats().icmp_errors_sent, 1);
}

#[test]
fn udp_to_closed_port_is_answered_with_port_unreachable() {
    let mut h = Harness::primed(1);
    let frame = Ip::new(PEER_IP, 17).frame(&udp(PEER_IP, 5000, 9999, b"anyone there?"));
    let out = assert_dropped(&mut h, &frame, DropReason::UdpNoSocket);
    let (ty, code, original) = icmp_error(&out);
    assert_eq!((ty, code), (3, 3));
    // The original IPv4 header and (at least) the 8-byte UDP header, byte for byte.
    assert!(original.len() >= IP_LEN + 8);
    assert_eq!(&original[..IP_LEN + 8], &frame[ETH_LEN..ETH_LEN + IP_LEN + 8]);
    assert_eq!(original, &frame[ETH_LEN..ETH_LEN + IP_LEN + 8 + 13]);
}

#[test]
fn tcp_syn_to_closed_port_is_reset() {
    let mut h = Harness::primed(1);
    let seq = 0xffff_fff0;
    let frame = Ip::new(PEER_IP, 6).frame(&tcp(PEER_IP, 40000, 81, seq, &[2, 4, 5, 0xb4]));
    let out = assert_dropped(&mut h, &frame, DropReason::TcpNoSocket);
    let frames = transmits(&out);
    assert_eq!(frames.len(), 1, "{out:?}");
    let headers = ep::PacketHeaders::from_ethernet_slice(frames[0]).unwrap();
    let Some(ep::NetHeaders::Ipv4(ip, _)) = &headers.net else { panic!() };
    assert_eq!(ip.destination, PEER_IP.octets());
    let Some(ep::TransportHeader::Tcp(rst)) = &headers.transport else { panic!() };
    assert!(rst.rst && rst.ack && !rst.syn && !rst.fin, "{rst:?}");
    assert_eq!((rst.source_port, rst.destination_port), (81, 40000));
    assert_eq!(rst.sequence_number, 0);
    assert_eq!(rst.acknowledgment_number, seq.wrapping_add(1));
    assert_eq!(h.stats().tcp_resets_sent, 1);
}

#[test]
fn non_final_fragment_not_a_multiple_of_eight() {
    let mut h = Harness::primed(1);
    let ip = Ip { more_frags: true, ..Ip::new(PEER_IP, 17) };
    let frame = ip.frame(&pattern(13));
    assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ipv4, wire::Error::BadLength));
    assert_eq!(h.stats().fragments_received, 0);
}

#[test]
fn fragments_reassemble_into_a_datagram_for_the_bound_port() {
    let mut h = Harness::primed(1);
    let kind = Kind::Fragments { what: Fragmented::UdpBound, len: 100, units: 3, reverse: true, ident: 9 };
    let mut events = Vec::new();
    for f in kind.frames(PEER_IP) {
        events.extend(h.frame(&f));
    }
    assert!(matches!(events[..], [Output::Event(_, synack::Event::Readable)]), "{events:?}");
    assert_eq!(h.stats().datagrams_reassembled, 1);
    let out = h.command(Command::UdpRecv { sock: SocketHandle(1) });
    assert_eq!(
        out[0],
        Output::Reply(Ok(Reply::Datagram { from: SocketAddr::from((PEER_IP, 5001)), data: pattern(100) }))
    );
}

#[test]
fn replies_to_a_silent_neighbour_wait_then_give_up() {
    let mut h = Harness::primed(1);
    let silent = Ipv4Addr::new(10, 0, 0, 200);
    let mut frame = Ip::new(silent, 1).frame(&echo_request(5, 6, b"hi"));
    frame[6..12].copy_from_slice(&mac_for(silent).0);
    let out = h.frame(&frame);
    // The reply waits for ARP: only the request goes out.
    let frames = transmits(&out);
    assert_eq!(frames.len(), 1);
    assert_eq!(&frames[0][12..14], &[0x08, 0x06]);
    while let Some(at) = h.stack.poll_timeout() {
        let advance = at - h.now;
        h.timer(advance);
    }
    assert_eq!(h.stats().drops(DropReason::ArpUnresolved), 1);
    assert_eq!(h.stats().arp_requests_sent, 3);
}

#[test]
fn icmp_error_about_a_large_reassembled_datagram_is_cut_to_576_bytes() {
    let mut h = Harness::primed(1);
    let kind = Kind::Fragments { what: Fragmented::UdpClosed, len: 2000, units: 100, reverse: false, ident: 3 };
    let frames = kind.frames(PEER_IP);
    let first_header = frames[0][ETH_LEN..ETH_LEN + IP_LEN].to_vec();
    let mut out = Vec::new();
    for f in &frames {
        out.extend(h.frame(f));
    }
    assert_eq!(h.stats().drops(DropReason::UdpNoSocket), 1);
    let (ty, code, original) = icmp_error(&out);
    assert_eq!((ty, code), (3, 3));
    assert_eq!(IP_LEN + 8 + original.len(), 576, "RFC 1812: the error datagram is at most 576 bytes");
    // The header of the datagram as reassembled (as Linux quotes it): the first fragment's, with the whole
    // length, no fragment fields and its checksum redone.
    let mut reassembled = first_header.clone();
    reassembled[2..4].copy_from_slice(&((IP_LEN + 8 + 2000) as u16).to_be_bytes());
    reassembled[6..8].fill(0);
    reassembled[10..12].fill(0);
    let sum = !synack::wire::checksum::data(&reassembled);
    reassembled[10..12].copy_from_slice(&sum.to_be_bytes());
    assert_eq!(&original[..IP_LEN], &reassembled[..]);
    assert_eq!(&original[IP_LEN..IP_LEN + 8], &frames[0][ETH_LEN + IP_LEN..ETH_LEN + IP_LEN + 8]);
}

#[test]
fn reassembly_timeout_sends_time_exceeded_quoting_the_first_fragment() {
    let mut h = Harness::primed(1);
    let kind = Kind::Fragments { what: Fragmented::UdpBound, len: 100, units: 4, reverse: false, ident: 5 };
    let frames = kind.frames(PEER_IP);
    assert!(h.frame(&frames[0]).is_empty());
    let at = h.stack.poll_timeout().expect("a reassembly timer");
    let out = h.timer(at - h.now);
    assert_eq!(h.stats().drops(DropReason::ReassemblyTimeout), 1);
    let (ty, code, original) = icmp_error(&out);
    assert_eq!((ty, code), (11, 1));
    assert_eq!(&original[..IP_LEN + 8], &frames[0][ETH_LEN..ETH_LEN + IP_LEN + 8]);
}

/// Found by the `tcp_transfer` fuzz target: a corrupted ARP reply whose sender MAC was the receiver's own made
/// the stack cache its peer at its own MAC and send every later frame to itself.
#[test]
fn arp_claiming_our_own_mac_is_dropped() {
    let mut h = Harness::new(1);
    for op in [ep::ArpOperation::REQUEST, ep::ArpOperation::REPLY] {
        let frame = arp(op, STACK_MAC, (STACK_MAC, PEER_IP), (STACK_MAC, STACK_IP));
        let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Arp, wire::Error::BadField));
        assert!(out.is_empty(), "{out:?}");
    }
    // The peer is not cached at our MAC: a datagram to it waits for ARP (a broadcast request goes out).
    let out = h.command(Command::UdpBind { local: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 5000)) });
    let Output::Reply(Ok(Reply::Bound { sock, .. })) = out[0] else { panic!("{out:?}") };
    let out = h.command(Command::UdpSendTo { sock, remote: SocketAddr::from((PEER_IP, 9)), data: b"x".to_vec() });
    let frames = transmits(&out);
    assert!(frames.iter().all(|f| f[..6] != STACK_MAC.0), "a frame to ourselves: {out:?}");
}
