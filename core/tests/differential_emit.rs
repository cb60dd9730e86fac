//! Differential tests, first direction: we emit, etherparse parses. Every field etherparse decodes equals what
//! our `Repr` was asked to write, and every checksum etherparse computes over the bytes equals the one we wrote.
//! Plus fixed edge cases (byte-identical SYN and ARP, SACK truncation, 0xffff UDP checksum, ...).
//!
//! Values come from proptest (256 cases per property by default). Helpers live in `common/differential.rs`;
//! the other direction is in `differential_parse.rs`.

mod common;

use common::differential::*;
use etherparse as ep;
use proptest::prelude::*;
use synack::tcp::SeqNum;
use synack::wire::{
    ArpOperation, ArpPacket, ArpRepr, DstUnreachable, EtherType, EthernetAddress, Icmpv4Packet, Icmpv4Repr, IpProtocol,
    Ipv4Packet, TcpFlags, TcpOptions, TcpPacket, TcpRepr, UdpPacket, UdpRepr,
};

// ---- We emit, etherparse parses ----------------------------------------------------------------------------

proptest! {
    #[test]
    fn arp_we_emit_etherparse_parses(
        src in mac(),
        dst in mac(),
        operation in arp_operation(),
        sha in mac(),
        spa in ip(),
        tha in mac(),
        tpa in ip(),
    ) {
        let repr = ArpRepr {
            operation,
            source_hardware_addr: sha,
            source_protocol_addr: spa,
            target_hardware_addr: tha,
            target_protocol_addr: tpa,
        };
        let frame = our_frame(src, dst, EtherType::Arp, repr.buffer_len(), |b| {
            repr.emit(&mut ArpPacket::new_unchecked(b))
        });
        prop_assert_eq!(frame.len(), 60);
        let headers = check_ethernet(&frame, src, dst, ep::EtherType::ARP);
        let Some(ep::NetHeaders::Arp(arp)) = &headers.net else { panic!("no ARP: {headers:?}") };
        prop_assert_eq!(arp.hw_addr_type, ep::ArpHardwareId::ETHERNET);
        prop_assert_eq!(arp.proto_addr_type, ep::EtherType::IPV4);
        prop_assert_eq!(arp.hw_addr_size(), 6);
        prop_assert_eq!(arp.protocol_addr_size(), 4);
        prop_assert_eq!(arp.operation.0, u16::from(operation));
        prop_assert_eq!(arp.sender_hw_addr(), &sha.0[..]);
        prop_assert_eq!(arp.sender_protocol_addr(), &spa.octets()[..]);
        prop_assert_eq!(arp.target_hw_addr(), &tha.0[..]);
        prop_assert_eq!(arp.target_protocol_addr(), &tpa.octets()[..]);
        let eth_ipv4 = arp.try_eth_ipv4().expect("an Ethernet/IPv4 ARP packet");
        prop_assert_eq!(eth_ipv4.sender_ipv4_addr(), spa);
        prop_assert_eq!(eth_ipv4.target_ipv4_addr(), tpa);
    }

    #[test]
    fn udp_we_emit_etherparse_parses(
        src in mac(),
        dst in mac(),
        fields in ip_fields(),
        src_port in any::<u16>(),
        dst_port in any::<u16>(),
        payload in bytes(0..1473),
    ) {
        let udp = UdpRepr { src_port, dst_port, payload: &payload };
        let ip = fields.repr(IpProtocol::Udp, udp.buffer_len());
        let frame = our_ipv4_frame(src, dst, &ip, |b| {
            udp.emit(&mut UdpPacket::new_unchecked(b), &fields.src, &fields.dst)
        });
        let headers = check_ethernet(&frame, src, dst, ep::EtherType::IPV4);
        let ip_header = check_ipv4(&headers, &ip, ep::IpNumber::UDP);
        let Some(ep::TransportHeader::Udp(h)) = &headers.transport else { panic!("no UDP: {headers:?}") };
        prop_assert_eq!(h.source_port, src_port);
        prop_assert_eq!(h.destination_port, dst_port);
        prop_assert_eq!(usize::from(h.length), 8 + payload.len());
        prop_assert_eq!(headers.payload.slice(), &payload[..]);
        prop_assert_ne!(h.checksum, 0, "we always compute a checksum");
        prop_assert_eq!(h.checksum, h.calc_checksum_ipv4(&ip_header, &payload).unwrap(), "UDP checksum");
    }

    #[test]
    fn tcp_we_emit_etherparse_parses(
        src in mac(),
        dst in mac(),
        fields in ip_fields(),
        tcp in tcp_fields(),
    ) {
        let flags = TcpFlags::from_bits_truncate(tcp.flags);
        let repr = TcpRepr {
            src_port: tcp.src_port,
            dst_port: tcp.dst_port,
            seq_number: SeqNum(tcp.seq),
            ack_number: SeqNum(tcp.ack),
            flags,
            window_len: tcp.window,
            urgent_ptr: tcp.urgent,
            options: tcp.options,
            payload: &tcp.payload,
        };
        let ip = fields.repr(IpProtocol::Tcp, repr.buffer_len());
        let frame = our_ipv4_frame(src, dst, &ip, |b| {
            repr.emit(&mut TcpPacket::new_unchecked(b), &fields.src, &fields.dst)
        });
        let headers = check_ethernet(&frame, src, dst, ep::EtherType::IPV4);
        let ip_header = check_ipv4(&headers, &ip, ep::IpNumber::TCP);
        let Some(ep::TransportHeader::Tcp(h)) = &headers.transport else { panic!("no TCP: {headers:?}") };
        prop_assert_eq!(h.source_port, tcp.src_port);
        prop_assert_eq!(h.destination_port, tcp.dst_port);
        prop_assert_eq!(h.sequence_number, tcp.seq);
        prop_assert_eq!(h.acknowledgment_number, tcp.ack);
        prop_assert_eq!(h.fin, flags.contains(TcpFlags::FIN));
        prop_assert_eq!(h.syn, flags.contains(TcpFlags::SYN));
        prop_assert_eq!(h.rst, flags.contains(TcpFlags::RST));
        prop_assert_eq!(h.psh, flags.contains(TcpFlags::PSH));
        prop_assert_eq!(h.ack, flags.contains(TcpFlags::ACK));
        prop_assert_eq!(h.urg, flags.contains(TcpFlags::URG));
        prop_assert_eq!(h.ece, flags.contains(TcpFlags::ECE));
        prop_assert_eq!(h.cwr, flags.contains(TcpFlags::CWR));
        prop_assert_eq!(h.ns, flags.contains(TcpFlags::NS));
        prop_assert_eq!(h.window_size, tcp.window);
        prop_assert_eq!(h.urgent_pointer, tcp.urgent);
        prop_assert_eq!(h.header_len(), repr.header_len());
        prop_assert!(h.options.len() <= 40 && h.options.len() % 4 == 0);
        prop_assert_eq!(headers.payload.slice(), &tcp.payload[..]);
        prop_assert_eq!(h.checksum, h.calc_checksum_ipv4(&ip_header, &tcp.payload).unwrap(), "TCP checksum");

        let seen = etherparse_options(h);
        prop_assert_eq!(seen.mss, tcp.options.mss);
        prop_assert_eq!(seen.window_scale, tcp.options.window_scale);
        prop_assert_eq!(seen.sack_permitted, tcp.options.sack_permitted);
        prop_assert_eq!(seen.timestamp, tcp.options.timestamp);
        let present: Vec<(u32, u32)> = tcp.options.sack_blocks.iter().flatten().map(|(l, r)| (l.0, r.0)).collect();
        prop_assert_eq!(&seen.sack_blocks[..], &present[..seen.sack_blocks.len()]);
        check_sack_truncation(h.options.len(), present.len(), seen.sack_blocks.len());
    }

    #[test]
    fn icmp_we_emit_etherparse_parses(
        src in mac(),
        dst in mac(),
        fields in ip_fields(),
        case in icmp_case(),
    ) {
        let repr = case.repr();
        let ip = fields.repr(IpProtocol::Icmp, repr.buffer_len());
        let frame = our_ipv4_frame(src, dst, &ip, |b| repr.emit(&mut Icmpv4Packet::new_unchecked(b)));
        let headers = check_ethernet(&frame, src, dst, ep::EtherType::IPV4);
        check_ipv4(&headers, &ip, ep::IpNumber::ICMP);
        let Some(ep::TransportHeader::Icmpv4(h)) = &headers.transport else { panic!("no ICMP: {headers:?}") };
        prop_assert_eq!(&h.icmp_type, &case.etherparse_type());
        let ep::PayloadSlice::Icmpv4(payload) = headers.payload else { panic!("no ICMP payload: {headers:?}") };
        prop_assert_eq!(payload, case.data());
        prop_assert_eq!(h.checksum, h.icmp_type.calc_checksum(payload), "ICMP checksum");
    }
}

#[test]
fn full_option_set_keeps_only_the_sack_blocks_that_fit() {
    let blocks = [(1, 2), (3, 4), (5, 6), (7, 8)].map(|(l, r)| Some((SeqNum(l), SeqNum(r))));
    let all = TcpOptions {
        mss: Some(1460),
        window_scale: Some(7),
        sack_permitted: true,
        sack_blocks: blocks,
        timestamp: Some((0xdead_beef, 0x0102_0304)),
    };
    let (seen, len) = our_tcp_through_etherparse(all, b"x");
    assert_eq!(len, 40);
    assert_eq!(seen.sack_blocks, vec![(1, 2), (3, 4)]);
    assert_eq!(seen.mss, Some(1460));
    assert_eq!(seen.window_scale, Some(7));
    assert!(seen.sack_permitted);
    assert_eq!(seen.timestamp, Some((0xdead_beef, 0x0102_0304)));

    // Four blocks alone fit exactly (4 + 32 = 36 bytes).
    let only_sack = TcpOptions { sack_blocks: blocks, ..TcpOptions::default() };
    let (seen, len) = our_tcp_through_etherparse(only_sack, b"");
    assert_eq!(len, 36);
    assert_eq!(seen.sack_blocks.len(), 4);
}

#[test]
fn udp_checksum_computing_to_zero_is_sent_as_ffff_like_etherparse() {
    // Find a two-byte payload that makes the checksum compute to zero: the checksum of the datagram with a
    // zero payload word, put into that word, cancels the whole sum.
    let emit = |payload: &[u8]| {
        let udp = UdpRepr { src_port: 1, dst_port: 2, payload };
        let mut buf = vec![0u8; udp.buffer_len()];
        udp.emit(&mut UdpPacket::new_unchecked(&mut buf[..]), &IP_A, &IP_B);
        buf
    };
    let first = emit(&[0, 0]);
    let word = [first[6], first[7]];
    let datagram = emit(&word);
    assert_eq!(&datagram[6..8], &[0xff, 0xff]);
    let (h, payload) = ep::UdpHeader::from_slice(&datagram).unwrap();
    assert_eq!(h.calc_checksum_ipv4_raw(IP_A.octets(), IP_B.octets(), payload).unwrap(), 0xffff);
    // And etherparse's own header for the same datagram is byte-identical to ours.
    let ip = ep::Ipv4Header::new(10, 64, ep::IpNumber::UDP, IP_A.octets(), IP_B.octets()).unwrap();
    let theirs = ep::UdpHeader::with_ipv4_checksum(1, 2, &ip, &word).unwrap();
    assert_eq!(&theirs.to_bytes()[..], &datagram[..8]);
}

#[test]
fn syn_like_linux_is_byte_identical_to_etherparse() {
    use ep::TcpOptionElement::*;
    // Linux's SYN layout: MSS, SACK-permitted + timestamps, NOP + window scale.
    let ours = TcpRepr {
        src_port: 49152,
        dst_port: 80,
        seq_number: SeqNum(0x6b8b_4567),
        ack_number: SeqNum(0),
        flags: TcpFlags::SYN,
        window_len: 64240,
        urgent_ptr: 0,
        options: TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            sack_blocks: [None; 4],
            timestamp: Some((0x0a1b_2c3d, 0)),
        },
        payload: &[],
    };
    let mut bytes = vec![0u8; ours.buffer_len()];
    ours.emit(&mut TcpPacket::new_unchecked(&mut bytes[..]), &IP_A, &IP_B);

    let ip = ep::Ipv4Header::new(40, 64, ep::IpNumber::TCP, IP_A.octets(), IP_B.octets()).unwrap();
    let mut theirs = ep::TcpHeader::new(49152, 80, 0x6b8b_4567, 64240);
    theirs.syn = true;
    theirs
        .set_options(&[
            MaximumSegmentSize(1460),
            SelectiveAcknowledgementPermitted,
            Timestamp(0x0a1b_2c3d, 0),
            Noop,
            WindowScale(7),
        ])
        .unwrap();
    theirs.checksum = theirs.calc_checksum_ipv4(&ip, &[]).unwrap();
    assert_eq!(&theirs.to_bytes()[..], &bytes[..]);
}

#[test]
fn fragmentation_needed_carries_the_mtu_both_ways() {
    let original: Vec<u8> = (0..28).collect();
    let ours =
        Icmpv4Repr::DstUnreachable { reason: DstUnreachable::FragRequired, next_hop_mtu: 1280, original: &original };
    let mut bytes = vec![0u8; ours.buffer_len()];
    ours.emit(&mut Icmpv4Packet::new_unchecked(&mut bytes[..]));
    let ty = ep::Icmpv4Type::DestinationUnreachable(ep::icmpv4::DestUnreachableHeader::FragmentationNeeded {
        next_hop_mtu: 1280,
    });
    let theirs = ep::Icmpv4Header::with_checksum(ty, &original);
    assert_eq!(&theirs.to_bytes()[..], &bytes[..8]);
    let parsed = Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&bytes[..]).unwrap()).unwrap();
    assert_eq!(parsed, ours);
}

#[test]
fn ipv4_with_maximum_options_and_padding_parses() {
    let fields = EpIpFields {
        dscp: 46,
        ecn: 1,
        ident: 7,
        dont_frag: false,
        more_frags: true,
        frag_offset: 185,
        ttl: 1,
        src: IP_A,
        dst: IP_B,
        options: vec![1; 40],
    };
    let payload = [0x55u8; 8];
    let (frame, h) = ep_ipv4_frame(A, B, &fields, 17, &payload, 6);
    assert_eq!(h.header_len(), 60);
    assert_eq!(our_ipv4(&frame, A, B, &h), &payload);
    let p = Ipv4Packet::new_checked(&frame[14..]).unwrap();
    assert_eq!(p.frag_offset(), 1480);
    assert_eq!(p.dscp_ecn(), 0xb9);
}

#[test]
fn arp_request_is_byte_identical_to_etherparse() {
    let ours = ArpRepr {
        operation: ArpOperation::Request,
        source_hardware_addr: A,
        source_protocol_addr: IP_A,
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: IP_B,
    };
    let frame = our_frame(A, EthernetAddress::BROADCAST, EtherType::Arp, ours.buffer_len(), |b| {
        ours.emit(&mut ArpPacket::new_unchecked(b))
    });
    let theirs = ep::ArpEthIpv4Packet {
        operation: ep::ArpOperation::REQUEST,
        sender_mac: A.0,
        sender_ipv4: IP_A.octets(),
        target_mac: [0; 6],
        target_ipv4: IP_B.octets(),
    };
    let mut expected = ep_ethernet(A, EthernetAddress::BROADCAST, 0x0806);
    expected.extend_from_slice(&theirs.to_bytes());
    expected.resize(60, 0);
    assert_eq!(frame, expected);
}
