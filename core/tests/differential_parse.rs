//! Differential tests, second direction: etherparse emits, we parse. Every field our views and `Repr`s decode
//! equals what etherparse wrote, and our checksum verification accepts etherparse's checksums.
//!
//! Values come from proptest (256 cases per property by default). Helpers live in `common/differential.rs`.

mod common;

use common::differential::*;
use etherparse as ep;
use proptest::prelude::*;
use synack::tcp::SeqNum;
use synack::wire::ethernet::EthernetRepr;
use synack::wire::{
    ArpPacket, ArpRepr, EtherType, EthernetFrame, Icmpv4Packet, Icmpv4Repr, TcpOptions, TcpPacket, TcpRepr, UdpPacket,
    UdpRepr,
};

// ---- etherparse emits, we parse ----------------------------------------------------------------------------

proptest! {
    #[test]
    fn ethernet_etherparse_emits_we_parse(
        src in mac(),
        dst in mac(),
        ether_type in prop_oneof![Just(0x0800u16), Just(0x0806), Just(0x86dd), any::<u16>()],
        payload in bytes(0..100),
    ) {
        let mut frame = ep_ethernet(src, dst, ether_type);
        frame.extend_from_slice(&payload);
        let eth = EthernetFrame::new_checked(&frame[..]).unwrap();
        prop_assert_eq!(eth.src_addr(), src);
        prop_assert_eq!(eth.dst_addr(), dst);
        prop_assert_eq!(u16::from(eth.ethertype()), ether_type);
        prop_assert_eq!(eth.payload(), &payload[..]);
        let repr = EthernetRepr::parse(&eth).unwrap();
        prop_assert_eq!(repr.ethertype, EtherType::from(ether_type));
    }

    #[test]
    fn arp_etherparse_emits_we_parse(
        src in mac(),
        dst in mac(),
        hw_type in prop_oneof![3 => Just(1u16), 1 => any::<u16>()],
        proto_type in prop_oneof![3 => Just(0x0800u16), 1 => any::<u16>()],
        hlen in prop_oneof![3 => Just(6usize), 1 => 0usize..=16],
        plen in prop_oneof![3 => Just(4usize), 1 => 0usize..=16],
        op in prop_oneof![Just(1u16), Just(2u16), any::<u16>()],
        addrs in prop::array::uniform4(bytes(16..17)),
        padding in 0usize..30,
    ) {
        let arp = ep::ArpPacket::new(
            ep::ArpHardwareId(hw_type),
            ep::EtherType(proto_type),
            ep::ArpOperation(op),
            &addrs[0][..hlen],
            &addrs[1][..plen],
            &addrs[2][..hlen],
            &addrs[3][..plen],
        )
        .unwrap();
        let mut frame = ep_ethernet(src, dst, 0x0806);
        arp.write(&mut frame).unwrap();
        frame.resize(frame.len() + padding, 0);

        let eth = EthernetFrame::new_checked(&frame[..]).unwrap();
        prop_assert_eq!(eth.ethertype(), EtherType::Arp);
        let p = ArpPacket::new_checked(eth.payload()).expect("our ARP view rejects etherparse's packet");
        prop_assert_eq!(p.hardware_type(), hw_type);
        prop_assert_eq!(p.protocol_type(), proto_type);
        prop_assert_eq!(usize::from(p.hardware_len()), hlen);
        prop_assert_eq!(usize::from(p.protocol_len()), plen);
        prop_assert_eq!(u16::from(p.operation()), op);
        prop_assert_eq!(p.source_hardware_addr(), arp.sender_hw_addr());
        prop_assert_eq!(p.source_protocol_addr(), arp.sender_protocol_addr());
        prop_assert_eq!(p.target_hardware_addr(), arp.target_hw_addr());
        prop_assert_eq!(p.target_protocol_addr(), arp.target_protocol_addr());

        let supported = hw_type == 1 && proto_type == 0x0800 && hlen == 6 && plen == 4 && (op == 1 || op == 2);
        match ArpRepr::parse(&p) {
            Ok(r) => {
                prop_assert!(supported);
                let eth_ipv4 = arp.try_eth_ipv4().unwrap();
                prop_assert_eq!(u16::from(r.operation), op);
                prop_assert_eq!(r.source_hardware_addr.0, eth_ipv4.sender_mac);
                prop_assert_eq!(r.source_protocol_addr.octets(), eth_ipv4.sender_ipv4);
                prop_assert_eq!(r.target_hardware_addr.0, eth_ipv4.target_mac);
                prop_assert_eq!(r.target_protocol_addr.octets(), eth_ipv4.target_ipv4);
            }
            Err(e) => {
                prop_assert!(!supported, "rejected a supported ARP packet: {e:?}");
                prop_assert_eq!(e, synack::wire::Error::Unsupported);
            }
        }
    }

    #[test]
    fn ipv4_etherparse_emits_we_parse(
        src in mac(),
        dst in mac(),
        fields in ep_ip_fields(),
        protocol in any::<u8>(),
        payload in bytes(0..200),
        padding in 0usize..40,
    ) {
        let (frame, h) = ep_ipv4_frame(src, dst, &fields, protocol, &payload, padding);
        prop_assert_eq!(our_ipv4(&frame, src, dst, &h), &payload[..]);
    }

    #[test]
    fn udp_etherparse_emits_we_parse(
        src in mac(),
        dst in mac(),
        fields in ep_ip_fields(),
        ports in (any::<u16>(), prop_oneof![9 => 1u16.., 1 => Just(0u16)]),
        with_checksum in prop_oneof![4 => Just(true), 1 => Just(false)],
        payload in bytes(0..1400),
        padding in 0usize..40,
    ) {
        let ip_header = fields.header(17, 8 + payload.len());
        let udp = if with_checksum {
            ep::UdpHeader::with_ipv4_checksum(ports.0, ports.1, &ip_header, &payload).unwrap()
        } else {
            ep::UdpHeader::without_ipv4_checksum(ports.0, ports.1, payload.len()).unwrap()
        };
        let mut transport = udp.to_bytes().to_vec();
        transport.extend_from_slice(&payload);
        let (frame, h) = ep_ipv4_frame(src, dst, &fields, 17, &transport, padding);
        let ip_payload = our_ipv4(&frame, src, dst, &h);

        let p = UdpPacket::new_checked(ip_payload).expect("our UDP view rejects etherparse's datagram");
        prop_assert_eq!(p.src_port(), udp.source_port);
        prop_assert_eq!(p.dst_port(), udp.destination_port);
        prop_assert_eq!(p.len(), udp.length);
        prop_assert_eq!(p.checksum(), udp.checksum);
        prop_assert_eq!(p.payload(), &payload[..]);
        prop_assert!(p.verify_checksum(&fields.src, &fields.dst), "etherparse's UDP checksum does not verify");
        // Port 0 too: nothing listens there, which the stack answers as for any closed port.
        let r = UdpRepr::parse(&p, &fields.src, &fields.dst);
        prop_assert_eq!(r, Ok(UdpRepr { src_port: ports.0, dst_port: ports.1, payload: &payload }));
    }

    #[test]
    fn tcp_etherparse_emits_we_parse(
        src in mac(),
        dst in mac(),
        fields in ep_ip_fields(),
        tcp in ep_tcp(),
        elements in ep_tcp_options(),
        padding in 0usize..40,
    ) {
        let mut header = tcp.header.clone();
        header.set_options(&elements).unwrap();
        let ip_header = fields.header(6, header.header_len() + tcp.payload.len());
        header.checksum = header.calc_checksum_ipv4(&ip_header, &tcp.payload).unwrap();
        let mut transport = header.to_bytes().to_vec();
        transport.extend_from_slice(&tcp.payload);
        let (frame, h) = ep_ipv4_frame(src, dst, &fields, 6, &transport, padding);
        let ip_payload = our_ipv4(&frame, src, dst, &h);

        let p = TcpPacket::new_checked(ip_payload).expect("our TCP view rejects etherparse's segment");
        prop_assert_eq!(p.src_port(), header.source_port);
        prop_assert_eq!(p.dst_port(), header.destination_port);
        prop_assert_eq!(p.seq_number(), SeqNum(header.sequence_number));
        prop_assert_eq!(p.ack_number(), SeqNum(header.acknowledgment_number));
        prop_assert_eq!(p.header_len(), header.header_len());
        prop_assert_eq!(p.flags(), ep_flags(&header));
        prop_assert_eq!(p.window_len(), header.window_size);
        prop_assert_eq!(p.checksum(), header.checksum);
        prop_assert_eq!(p.urgent_at(), header.urgent_pointer);
        prop_assert_eq!(p.options(), header.options.as_slice());
        prop_assert_eq!(p.payload(), &tcp.payload[..]);
        prop_assert!(p.verify_checksum(&fields.src, &fields.dst), "etherparse's TCP checksum does not verify");
        prop_assert_eq!(TcpOptions::parse(p.options()), Ok(expected_options(&elements)));

        match TcpRepr::parse(&p, &fields.src, &fields.dst) {
            Ok(r) => {
                prop_assert!(header.source_port != 0, "source port 0 is malformed");
                prop_assert_eq!(r.src_port, header.source_port);
                prop_assert_eq!(r.dst_port, header.destination_port);
                prop_assert_eq!(r.seq_number, SeqNum(header.sequence_number));
                prop_assert_eq!(r.ack_number, SeqNum(header.acknowledgment_number));
                prop_assert_eq!(r.flags, ep_flags(&header));
                prop_assert_eq!(r.window_len, header.window_size);
                prop_assert_eq!(r.urgent_ptr, header.urgent_pointer);
                prop_assert_eq!(r.options, expected_options(&elements));
                prop_assert_eq!(r.payload, &tcp.payload[..]);
            }
            Err(e) => {
                prop_assert!(header.source_port == 0, "rejected: {e:?}");
                prop_assert_eq!(e, synack::wire::Error::BadField);
            }
        }
    }

    #[test]
    fn icmp_etherparse_emits_we_parse(
        src in mac(),
        dst in mac(),
        fields in ep_ip_fields(),
        icmp_type in ep_icmp_type(),
        payload in prop_oneof![bytes(0..28), bytes(28..600)],
        padding in 0usize..40,
    ) {
        let header = ep::Icmpv4Header::with_checksum(icmp_type, &payload);
        let mut transport = header.to_bytes().to_vec();
        transport.extend_from_slice(&payload);
        let (frame, h) = ep_ipv4_frame(src, dst, &fields, 1, &transport, padding);
        let ip_payload = our_ipv4(&frame, src, dst, &h);

        let p = Icmpv4Packet::new_checked(ip_payload).expect("our ICMP view rejects etherparse's message");
        prop_assert_eq!(p.msg_type(), transport[0]);
        prop_assert_eq!(p.msg_code(), transport[1]);
        prop_assert_eq!(p.checksum(), header.checksum);
        prop_assert!(p.verify_checksum(), "etherparse's ICMP checksum does not verify");
        prop_assert_eq!(p.data(), &transport[8..]);
        prop_assert_eq!(Icmpv4Repr::parse(&p), expected_icmp(&transport));
    }
}
