//! Differential tests of the IPv6 wire layer against etherparse, both ways: what we emit (IPv6 header, TCP and
//! UDP over IPv6, fragment header, ICMPv6 echo and errors, NDP) etherparse decodes to the same fields with
//! valid checksums; what etherparse builds (including chains of extension headers) we parse to the same
//! fields, find the upper layer where etherparse does, and verify its checksums.
//!
//! Values come from proptest (256 cases per property by default).

use core::net::Ipv6Addr;
use etherparse as ep;
use proptest::prelude::*;
use synack::tcp::SeqNum;
use synack::wire::icmpv6::{self, Icmpv6Packet, Icmpv6Repr};
use synack::wire::ipv6::{self, ExtHeaderWalk, Ipv6FragmentHeader, Ipv6FragmentRepr, Ipv6Packet, Ipv6Repr};
use synack::wire::ndp::{NdpRepr, PrefixInformation, Prefixes};
use synack::wire::{
    EcnCodepoint, EthernetAddress, Icmpv6DstUnreachable, Icmpv6TimeExceeded, IpProtocol, ParamProblem, TcpFlags,
    TcpOptions, TcpPacket, TcpRepr, UdpPacket, UdpRepr,
};

fn addr() -> impl Strategy<Value = Ipv6Addr> {
    any::<[u8; 16]>().prop_map(Ipv6Addr::from)
}

/// A source address (never multicast: our parser refuses those).
fn src_addr() -> impl Strategy<Value = Ipv6Addr> {
    any::<[u8; 16]>().prop_map(|mut o| {
        if o[0] == 0xff {
            o[0] = 0xfe;
        }
        Ipv6Addr::from(o)
    })
}

fn bytes(len: core::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), len)
}

/// Our IPv6 header followed by `upper` (an upper-layer message written for these addresses).
fn ipv6_packet(ip: &Ipv6Repr, upper: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; ipv6::HEADER_LEN + upper.len()];
    let mut packet = Ipv6Packet::new_unchecked(&mut buf[..]);
    Ipv6Repr { payload_len: upper.len(), ..*ip }.emit(&mut packet);
    packet.payload_mut().copy_from_slice(upper);
    buf
}

fn ip_repr(src: Ipv6Addr, dst: Ipv6Addr, next_header: IpProtocol, fields: (u8, u8, u8, u32)) -> Ipv6Repr {
    let (hop_limit, dscp, ecn, flow_label) = fields;
    Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header,
        payload_len: 0,
        hop_limit,
        dscp: dscp & 0x3f,
        ecn: EcnCodepoint::from_bits(ecn),
        flow_label: flow_label & 0xfffff,
    }
}

fn ep_ipv6(bytes: &[u8]) -> (ep::Ipv6Header, ep::Ipv6Extensions, Option<ep::TransportHeader>, Vec<u8>) {
    let headers = ep::PacketHeaders::from_ip_slice(bytes).expect("etherparse parses it");
    let Some(ep::NetHeaders::Ipv6(header, exts)) = headers.net else { panic!("not IPv6: {:?}", headers.net) };
    (header, exts, headers.transport, headers.payload.slice().to_vec())
}

/// Parses an IPv6 packet as the stack would: header, walk, upper-layer bytes.
fn our_upper(bytes: &[u8]) -> (Ipv6Repr, IpProtocol, &[u8]) {
    let packet = Ipv6Packet::new_checked(bytes).expect("we parse it");
    let repr = Ipv6Repr::parse(&packet).unwrap();
    let ExtHeaderWalk::Upper { protocol, offset, .. } = ipv6::walk(&packet).unwrap() else { panic!("no upper layer") };
    (repr, protocol, &bytes[offset..ipv6::HEADER_LEN + repr.payload_len])
}

// ---- We emit, etherparse parses ----------------------------------------------------------------------------

proptest! {
    #[test]
    fn udp_over_ipv6_we_emit_etherparse_parses(
        src in src_addr(), dst in addr(), fields in any::<(u8, u8, u8, u32)>(),
        ports in (1u16.., 1u16..), payload in bytes(0..300),
    ) {
        let udp = UdpRepr { src_port: ports.0, dst_port: ports.1, payload: &payload };
        let mut dgram = vec![0u8; udp.buffer_len()];
        udp.emit(&mut UdpPacket::new_unchecked(&mut dgram[..]), &src, &dst);
        let ip = ip_repr(src, dst, IpProtocol::Udp, fields);
        let bytes = ipv6_packet(&ip, &dgram);

        let (header, exts, transport, rest) = ep_ipv6(&bytes);
        prop_assert!(exts.is_empty());
        prop_assert_eq!(header.source, src.octets());
        prop_assert_eq!(header.destination, dst.octets());
        prop_assert_eq!(header.hop_limit, ip.hop_limit);
        prop_assert_eq!(header.traffic_class, (ip.dscp << 2) | ip.ecn.bits());
        prop_assert_eq!(u32::from(header.flow_label), ip.flow_label);
        prop_assert_eq!(usize::from(header.payload_length), dgram.len());
        prop_assert_eq!(header.next_header, ep::IpNumber::UDP);
        let Some(ep::TransportHeader::Udp(u)) = transport else { panic!("not UDP") };
        prop_assert_eq!((u.source_port, u.destination_port), ports);
        prop_assert_eq!(&rest[..], &payload[..]);
        prop_assert_eq!(u.calc_checksum_ipv6(&header, &payload).unwrap(), u.checksum);
    }

    #[test]
    fn tcp_over_ipv6_we_emit_etherparse_parses(
        src in src_addr(), dst in addr(), ports in (1u16.., 1u16..), seq in any::<u32>(), ack in any::<u32>(),
        window in any::<u16>(), mss in proptest::option::of(any::<u16>()), payload in bytes(0..300),
    ) {
        let seg = TcpRepr {
            src_port: ports.0,
            dst_port: ports.1,
            seq_number: SeqNum(seq),
            ack_number: SeqNum(ack),
            flags: TcpFlags::ACK | TcpFlags::PSH,
            window_len: window,
            urgent_ptr: 0,
            options: TcpOptions { mss, ..Default::default() },
            payload: &payload,
        };
        let mut bytes = vec![0u8; seg.buffer_len()];
        seg.emit(&mut TcpPacket::new_unchecked(&mut bytes[..]), &src, &dst);
        let packet = ipv6_packet(&ip_repr(src, dst, IpProtocol::Tcp, (64, 0, 0, 0)), &bytes);
        let (header, _, transport, rest) = ep_ipv6(&packet);
        let Some(ep::TransportHeader::Tcp(t)) = transport else { panic!("not TCP") };
        prop_assert_eq!((t.source_port, t.destination_port, t.sequence_number, t.acknowledgment_number), (ports.0, ports.1, seq, ack));
        prop_assert_eq!(&rest[..], &payload[..]);
        prop_assert_eq!(t.calc_checksum_ipv6(&header, &payload).unwrap(), t.checksum);
    }

    #[test]
    fn fragment_header_we_emit_etherparse_parses(next in any::<u8>(), units in 0u16..8192, more in any::<bool>(), ident in any::<u32>()) {
        let repr = Ipv6FragmentRepr { next_header: next.into(), frag_offset: units * 8, more_frags: more, ident };
        let mut buf = [0u8; 8];
        repr.emit(&mut Ipv6FragmentHeader::new_unchecked(&mut buf[..]));
        let (h, _) = ep::Ipv6FragmentHeader::from_slice(&buf).unwrap();
        prop_assert_eq!((h.next_header.0, h.fragment_offset.value(), h.more_fragments, h.identification), (next, units, more, ident));
    }

    #[test]
    fn icmpv6_we_emit_etherparse_parses(
        src in src_addr(), dst in addr(), kind in 0u8..6, code in any::<u8>(), word in any::<u32>(), data in bytes(40..200),
    ) {
        let repr = match kind {
            0 => Icmpv6Repr::EchoRequest { ident: word as u16, seq_no: (word >> 16) as u16, data: &data },
            1 => Icmpv6Repr::EchoReply { ident: word as u16, seq_no: (word >> 16) as u16, data: &data },
            2 => Icmpv6Repr::DstUnreachable { reason: Icmpv6DstUnreachable::from(code), original: &data },
            3 => Icmpv6Repr::PacketTooBig { mtu: word, original: &data },
            4 => Icmpv6Repr::TimeExceeded { reason: Icmpv6TimeExceeded::from(code), original: &data },
            _ => Icmpv6Repr::ParamProblem { reason: ParamProblem::from(code), pointer: word, original: &data },
        };
        let mut bytes = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv6Packet::new_unchecked(&mut bytes[..]), &src, &dst);
        let slice = ep::Icmpv6Slice::from_slice(&bytes).unwrap();
        prop_assert!(slice.is_checksum_valid(src.octets(), dst.octets()));
        prop_assert_eq!(slice.payload(), &data[..]);
        let expected_word = match repr {
            Icmpv6Repr::EchoRequest { .. } | Icmpv6Repr::EchoReply { .. } => {
                [(word >> 8) as u8, word as u8, (word >> 24) as u8, (word >> 16) as u8]
            }
            Icmpv6Repr::PacketTooBig { .. } | Icmpv6Repr::ParamProblem { .. } => word.to_be_bytes(),
            _ => [0; 4],
        };
        prop_assert_eq!(slice.bytes5to8(), expected_word);
        match slice.icmp_type() {
            ep::Icmpv6Type::EchoRequest(h) => prop_assert_eq!((kind, h.id, h.seq), (0, word as u16, (word >> 16) as u16)),
            ep::Icmpv6Type::EchoReply(h) => prop_assert_eq!((kind, h.id, h.seq), (1, word as u16, (word >> 16) as u16)),
            ep::Icmpv6Type::DestinationUnreachable(c) => prop_assert_eq!((kind, c.code_u8()), (2, code)),
            ep::Icmpv6Type::PacketTooBig { mtu } => prop_assert_eq!((kind, mtu), (3, word)),
            ep::Icmpv6Type::TimeExceeded(c) => prop_assert_eq!((kind, c.code_u8()), (4, code)),
            ep::Icmpv6Type::ParameterProblem(h) => {
                prop_assert_eq!((kind, h.code.code_u8(), h.pointer), (5, code, word))
            }
            // Codes etherparse has no name for come back as Unknown with our bytes.
            ep::Icmpv6Type::Unknown { type_u8, code_u8, .. } => {
                prop_assert_eq!((type_u8, code_u8), (bytes[0], code));
                prop_assert!(matches!(kind, 2 | 4 | 5));
            }
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    #[test]
    fn ndp_we_emit_etherparse_parses(
        target in src_addr(), mac in any::<[u8; 6]>(), flags in 0u8..8, lifetimes in any::<(u16, u32, u32)>(),
        mtu in proptest::option::of(any::<u32>()), prefix in (0u8..=128, any::<(u32, u32, [u8; 16])>()),
    ) {
        let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
        let dst = ipv6::ALL_NODES;
        let lladdr = Some(EthernetAddress(mac));
        let info = [PrefixInformation {
            prefix_len: prefix.0,
            on_link: flags & 1 != 0,
            autonomous: flags & 2 != 0,
            valid_lifetime: prefix.1 .0,
            preferred_lifetime: prefix.1 .1,
            prefix: prefix.1 .2.into(),
        }];
        let reprs = [
            NdpRepr::RouterSolicit { source_lladdr: lladdr },
            NdpRepr::RouterAdvert {
                hop_limit: 64,
                managed: flags & 1 != 0,
                other: flags & 4 != 0,
                router_lifetime: lifetimes.0,
                reachable_time: lifetimes.1,
                retrans_time: lifetimes.2,
                source_lladdr: lladdr,
                mtu,
                prefixes: Prefixes::from_slice(&info),
            },
            NdpRepr::NeighborSolicit { target, source_lladdr: lladdr },
            NdpRepr::NeighborAdvert { router: flags & 1 != 0, solicited: flags & 2 != 0, override_: flags & 4 != 0, target, target_lladdr: lladdr },
            NdpRepr::Redirect { target, destination: target, target_lladdr: lladdr },
        ];
        for ndp in reprs {
            let repr = Icmpv6Repr::Ndp(ndp);
            let mut bytes = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Icmpv6Packet::new_unchecked(&mut bytes[..]), &src, &dst);
            let slice = ep::Icmpv6Slice::from_slice(&bytes).unwrap();
            prop_assert!(slice.is_checksum_valid(src.octets(), dst.octets()));
            let payload = slice.payload_slice().unwrap();
            let options: Vec<_> = match (&ndp, slice.icmp_type(), payload) {
                (NdpRepr::RouterSolicit { .. }, ep::Icmpv6Type::RouterSolicitation, ep::icmpv6::Icmpv6PayloadSlice::RouterSolicitation(p)) => {
                    p.options_iterator().collect()
                }
                (NdpRepr::RouterAdvert { .. }, ep::Icmpv6Type::RouterAdvertisement(h), ep::icmpv6::Icmpv6PayloadSlice::RouterAdvertisement(p)) => {
                    prop_assert_eq!((h.cur_hop_limit, h.managed_address_config, h.other_config, h.router_lifetime), (64, flags & 1 != 0, flags & 4 != 0, lifetimes.0));
                    prop_assert_eq!((p.reachable_time(), p.retrans_timer()), (lifetimes.1, lifetimes.2));
                    p.options_iterator().collect()
                }
                (NdpRepr::NeighborSolicit { .. }, ep::Icmpv6Type::NeighborSolicitation, ep::icmpv6::Icmpv6PayloadSlice::NeighborSolicitation(p)) => {
                    prop_assert_eq!(p.target_address(), target);
                    p.options_iterator().collect()
                }
                (NdpRepr::NeighborAdvert { .. }, ep::Icmpv6Type::NeighborAdvertisement(h), ep::icmpv6::Icmpv6PayloadSlice::NeighborAdvertisement(p)) => {
                    prop_assert_eq!((h.router, h.solicited, h.r#override), (flags & 1 != 0, flags & 2 != 0, flags & 4 != 0));
                    prop_assert_eq!(p.target_address(), target);
                    p.options_iterator().collect()
                }
                (NdpRepr::Redirect { .. }, ep::Icmpv6Type::Redirect, ep::icmpv6::Icmpv6PayloadSlice::Redirect(p)) => {
                    prop_assert_eq!((p.target_address(), p.destination_address()), (target, target));
                    p.options_iterator().collect()
                }
                (ours, theirs, _) => panic!("{ours:?} read as {theirs:?}"),
            };
            let mut seen = 0;
            for option in options {
                match option.unwrap() {
                    ep::icmpv6::NdpOptionSlice::SourceLinkLayerAddress(o) => prop_assert_eq!(o.link_layer_address(), &mac[..]),
                    ep::icmpv6::NdpOptionSlice::TargetLinkLayerAddress(o) => prop_assert_eq!(o.link_layer_address(), &mac[..]),
                    ep::icmpv6::NdpOptionSlice::Mtu(o) => prop_assert_eq!(Some(o.mtu()), mtu),
                    ep::icmpv6::NdpOptionSlice::PrefixInformation(o) => {
                        let p = o.prefix_information();
                        prop_assert_eq!(
                            (p.prefix_length, p.on_link, p.autonomous_address_configuration, p.valid_lifetime, p.preferred_lifetime, p.prefix),
                            (info[0].prefix_len, info[0].on_link, info[0].autonomous, info[0].valid_lifetime, info[0].preferred_lifetime, info[0].prefix.octets())
                        );
                    }
                    other => prop_assert!(false, "unexpected option {:?}", other),
                }
                seen += 1;
            }
            let expected = 1 + usize::from(matches!(ndp, NdpRepr::RouterAdvert { .. })) * (1 + usize::from(mtu.is_some()));
            prop_assert_eq!(seen, expected);
        }
    }
}

// ---- Etherparse emits, we parse ----------------------------------------------------------------------------

/// An options header payload (after next header and length) of `len` bytes (at least 2): one PadN filling it
/// where padding can (at most 7 bytes of it: more is dropped, as Linux does), else an option a host skips
/// (type 0x1e, action 00) with that much data.
fn filler(len: usize) -> Vec<u8> {
    let mut p = vec![if len <= 7 { 1 } else { 0x1e }, (len - 2) as u8];
    p.resize(len, 0);
    p
}

proptest! {
    #[test]
    fn udp_over_ipv6_etherparse_emits_we_parse(
        src in src_addr(), dst in addr(), hop_limit in any::<u8>(), ports in (1u16.., 1u16..), payload in bytes(0..300),
        hbh in proptest::option::of(0usize..4), dest in proptest::option::of(0usize..4), routing in any::<bool>(),
        atomic in proptest::option::of(any::<u32>()),
    ) {
        let header = ep::Ipv6Header {
            source: src.octets(),
            destination: dst.octets(),
            hop_limit,
            traffic_class: 0x02, // ECT(0)
            ..Default::default()
        };
        let mut exts = ep::Ipv6Extensions::default();
        // Header payload lengths are 6 + 8k bytes; the next headers are filled in by the builder.
        let raw = |units: usize| ep::Ipv6RawExtHeader::new_raw(ep::IpNumber::UDP, &filler(6 + 8 * units)).unwrap();
        exts.hop_by_hop_options = hbh.map(raw);
        exts.destination_options = dest.map(raw);
        if routing {
            // Type 4 (segment routing) with no segments left: ignored by a host.
            exts.routing = Some(ep::Ipv6RoutingExtensions {
                routing: ep::Ipv6RawExtHeader::new_raw(ep::IpNumber::UDP, &[4, 0, 0, 0, 0, 0]).unwrap(),
                final_destination_options: None,
            });
        }
        exts.fragment = atomic.map(|ident| ep::Ipv6FragmentHeader::new(ep::IpNumber::UDP, ep::IpFragOffset::ZERO, false, ident));
        let ext_len = exts.header_len();
        let builder = ep::PacketBuilder::ip(ep::IpHeaders::Ipv6(header, exts)).udp(ports.0, ports.1);
        let mut bytes = Vec::new();
        builder.write(&mut bytes, &payload).unwrap();

        let packet = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        let ip = Ipv6Repr::parse(&packet).unwrap();
        prop_assert_eq!((ip.src_addr, ip.dst_addr, ip.hop_limit, ip.ecn), (src, dst, hop_limit, EcnCodepoint::Ect0));
        let walk = ipv6::walk(&packet).unwrap();
        let ExtHeaderWalk::Upper { protocol, offset, fragment } = walk else { panic!("{walk:?}") };
        prop_assert_eq!((protocol, offset), (IpProtocol::Udp, ipv6::HEADER_LEN + ext_len));
        prop_assert_eq!(fragment.map(|f| f.ident), atomic);
        let udp = UdpPacket::new_checked(&bytes[offset..]).unwrap();
        let repr = UdpRepr::parse(&udp, &src, &dst).unwrap();
        prop_assert_eq!((repr.src_port, repr.dst_port, repr.payload), (ports.0, ports.1, &payload[..]));
    }

    #[test]
    fn tcp_over_ipv6_etherparse_emits_we_parse(
        src in src_addr(), dst in addr(), ports in (1u16.., 1u16..), seq in any::<u32>(), window in any::<u16>(),
        payload in bytes(0..300),
    ) {
        let builder = ep::PacketBuilder::ipv6(src.octets(), dst.octets(), 64).tcp(ports.0, ports.1, seq, window).syn();
        let mut bytes = Vec::new();
        builder.write(&mut bytes, &payload).unwrap();
        let (ip, protocol, segment) = our_upper(&bytes);
        prop_assert_eq!(protocol, IpProtocol::Tcp);
        let repr = TcpRepr::parse(&TcpPacket::new_checked(segment).unwrap(), &ip.src_addr, &ip.dst_addr).unwrap();
        prop_assert_eq!((repr.src_port, repr.dst_port, repr.seq_number, repr.window_len), (ports.0, ports.1, SeqNum(seq), window));
        prop_assert_eq!(repr.flags, TcpFlags::SYN);
        prop_assert_eq!(repr.payload, &payload[..]);
    }

    #[test]
    fn fragments_etherparse_emits_we_find(src in src_addr(), dst in addr(), units in 1u16..8192, more in any::<bool>(), ident in any::<u32>(), payload in bytes(8..64)) {
        let header = ep::Ipv6Header { source: src.octets(), destination: dst.octets(), hop_limit: 64, ..Default::default() };
        let exts = ep::Ipv6Extensions {
            fragment: Some(ep::Ipv6FragmentHeader::new(ep::IpNumber::UDP, ep::IpFragOffset::try_new(units).unwrap(), more, ident)),
            ..Default::default()
        };
        let mut bytes = Vec::new();
        ep::PacketBuilder::ip(ep::IpHeaders::Ipv6(header, exts)).write(&mut bytes, ep::IpNumber::UDP, &payload).unwrap();
        let walk = ipv6::walk(&Ipv6Packet::new_checked(&bytes[..]).unwrap()).unwrap();
        let fragment = Ipv6FragmentRepr { next_header: IpProtocol::Udp, frag_offset: units * 8, more_frags: more, ident };
        let problem = |pointer| ExtHeaderWalk::ParameterProblem { code: ParamProblem::ErroneousHeaderField, pointer };
        // RFC 8200 §4.5's length rules, which etherparse does not apply.
        let expected = if more && payload.len() % 8 != 0 {
            problem(4)
        } else if usize::from(units) * 8 + payload.len() > 65535 {
            problem(42)
        } else {
            ExtHeaderWalk::Fragment { fragment, offset: 48 }
        };
        prop_assert_eq!(walk, expected);
    }

    #[test]
    fn icmpv6_etherparse_emits_we_parse(src in src_addr(), dst in addr(), kind in 0u8..6, word in any::<u32>(), code in 0u8..3, data in bytes(40..200)) {
        let ty = match kind {
            0 => ep::Icmpv6Type::EchoRequest(ep::IcmpEchoHeader { id: word as u16, seq: (word >> 16) as u16 }),
            1 => ep::Icmpv6Type::EchoReply(ep::IcmpEchoHeader { id: word as u16, seq: (word >> 16) as u16 }),
            2 => ep::Icmpv6Type::DestinationUnreachable(ep::icmpv6::DestUnreachableCode::from_u8(code).unwrap()),
            3 => ep::Icmpv6Type::PacketTooBig { mtu: word },
            4 => ep::Icmpv6Type::TimeExceeded(ep::icmpv6::TimeExceededCode::from_u8(code % 2).unwrap()),
            _ => ep::Icmpv6Type::ParameterProblem(ep::icmpv6::ParameterProblemHeader {
                code: ep::icmpv6::ParameterProblemCode::from_u8(code).unwrap(),
                pointer: word,
            }),
        };
        let mut bytes = Vec::new();
        ep::PacketBuilder::ipv6(src.octets(), dst.octets(), 64).icmpv6(ty).write(&mut bytes, &data).unwrap();
        let (ip, protocol, message) = our_upper(&bytes);
        prop_assert_eq!(protocol, IpProtocol::ICMPV6);
        let repr = Icmpv6Repr::parse(&Icmpv6Packet::new_checked(message).unwrap(), &ip.src_addr, &ip.dst_addr).unwrap();
        let expected = match kind {
            0 => Icmpv6Repr::EchoRequest { ident: word as u16, seq_no: (word >> 16) as u16, data: &data },
            1 => Icmpv6Repr::EchoReply { ident: word as u16, seq_no: (word >> 16) as u16, data: &data },
            2 => Icmpv6Repr::DstUnreachable { reason: code.into(), original: &data },
            3 => Icmpv6Repr::PacketTooBig { mtu: word, original: &data },
            4 => Icmpv6Repr::TimeExceeded { reason: (code % 2).into(), original: &data },
            _ => Icmpv6Repr::ParamProblem { reason: code.into(), pointer: word, original: &data },
        };
        prop_assert_eq!(repr, expected);
    }

    #[test]
    fn ndp_etherparse_emits_we_parse(target in src_addr(), mac in any::<[u8; 6]>(), flags in 0u8..8, lifetimes in any::<(u16, u32, u32)>(), mtu in any::<u32>()) {
        let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 9);
        let dst = ipv6::ALL_NODES;
        let lladdr = |ty: u8| [ty, 1, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]];
        let mut mtu_option = vec![5, 1, 0, 0];
        mtu_option.extend(mtu.to_be_bytes());
        let cases: [(ep::Icmpv6Type, Vec<u8>, NdpRepr<'_>); 4] = [
            (ep::Icmpv6Type::RouterSolicitation, [&[0u8; 4][..], &lladdr(1)].concat(), NdpRepr::RouterSolicit { source_lladdr: Some(EthernetAddress(mac)) }),
            (
                ep::Icmpv6Type::RouterAdvertisement(ep::icmpv6::RouterAdvertisementHeader {
                    cur_hop_limit: 64, managed_address_config: flags & 1 != 0, other_config: flags & 2 != 0, router_lifetime: lifetimes.0,
                }),
                [&lifetimes.1.to_be_bytes()[..], &lifetimes.2.to_be_bytes(), &mtu_option, &lladdr(1)].concat(),
                NdpRepr::RouterAdvert {
                    hop_limit: 64, managed: flags & 1 != 0, other: flags & 2 != 0, router_lifetime: lifetimes.0,
                    reachable_time: lifetimes.1, retrans_time: lifetimes.2, source_lladdr: Some(EthernetAddress(mac)),
                    mtu: Some(mtu), prefixes: Prefixes::none(),
                },
            ),
            (ep::Icmpv6Type::NeighborSolicitation, [&[0u8; 4][..], &target.octets(), &lladdr(1)].concat(), NdpRepr::NeighborSolicit { target, source_lladdr: Some(EthernetAddress(mac)) }),
            (
                ep::Icmpv6Type::NeighborAdvertisement(ep::icmpv6::NeighborAdvertisementHeader { router: flags & 1 != 0, solicited: flags & 2 != 0, r#override: flags & 4 != 0 }),
                [&target.octets()[..], &lladdr(2)].concat(),
                NdpRepr::NeighborAdvert { router: flags & 1 != 0, solicited: flags & 2 != 0, override_: flags & 4 != 0, target, target_lladdr: Some(EthernetAddress(mac)) },
            ),
        ];
        for (ty, body, expected) in cases {
            let mut bytes = Vec::new();
            // etherparse writes the type's first 4 bytes after the checksum itself only for the types it models
            // with fields there; for RS and NS those 4 bytes are reserved and come from `body`.
            let body = match ty {
                ep::Icmpv6Type::RouterSolicitation | ep::Icmpv6Type::NeighborSolicitation => body[4..].to_vec(),
                _ => body,
            };
            ep::PacketBuilder::ipv6(src.octets(), dst.octets(), 255).icmpv6(ty).write(&mut bytes, &body).unwrap();
            let (ip, protocol, message) = our_upper(&bytes);
            prop_assert_eq!((protocol, ip.hop_limit), (IpProtocol::ICMPV6, 255));
            let repr = Icmpv6Repr::parse(&Icmpv6Packet::new_checked(message).unwrap(), &ip.src_addr, &ip.dst_addr).unwrap();
            prop_assert_eq!(repr, Icmpv6Repr::Ndp(expected));
            let Icmpv6Repr::Ndp(ndp) = repr else { unreachable!() };
            if !target.is_multicast() || matches!(ndp, NdpRepr::RouterSolicit { .. } | NdpRepr::RouterAdvert { .. }) {
                prop_assert_eq!(ndp.check_ip(&ip.src_addr, &ip.dst_addr, ip.hop_limit).is_ok(), !matches!(ndp, NdpRepr::NeighborAdvert { solicited: true, .. }));
            }
        }
    }
}

/// The header chains etherparse refuses are refused by us too (or answered with a parameter problem).
#[test]
fn hop_by_hop_not_first_etherparse_and_we_both_refuse() {
    let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    let dst = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);
    let r = ip_repr(src, dst, IpProtocol::IPV6_OPTS, (64, 0, 0, 0));
    let bytes = ipv6_packet(&r, &[0, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0]);
    assert!(ep::PacketHeaders::from_ip_slice(&bytes).is_err());
    assert_eq!(
        ipv6::walk(&Ipv6Packet::new_checked(&bytes[..]).unwrap()).unwrap(),
        ExtHeaderWalk::ParameterProblem { code: ParamProblem::UnrecognizedNextHeader, pointer: 40 }
    );
    // A quote is read leniently (it describes a packet we sent, not one to judge): the transport is found.
    assert_eq!(icmpv6::QuotedPacket::parse(&bytes).unwrap().protocol(), Some(IpProtocol::Udp));
}
