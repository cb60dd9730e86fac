//! Differential tests: our wire code against etherparse 0.21, in both directions.
//!
//! * We emit, etherparse parses: every field etherparse decodes equals what our `Repr` was asked to write, and
//!   every checksum etherparse computes over the bytes equals the one we wrote.
//! * etherparse emits, we parse: every field our views and `Repr`s decode equals what etherparse wrote, and our
//!   checksum verification accepts etherparse's checksums.
//!
//! Values come from proptest (256 cases per property by default), plus a few fixed edge cases.

use core::net::Ipv4Addr;
use etherparse as ep;
use proptest::prelude::*;
use synack::tcp::SeqNum;
use synack::wire::ethernet::{self, EthernetRepr};
use synack::wire::{
    ArpOperation, ArpPacket, ArpRepr, DstUnreachable, EtherType, EthernetAddress, EthernetFrame, Icmpv4Packet,
    Icmpv4Repr, IpProtocol, Ipv4Packet, Ipv4Repr, TcpFlags, TcpOptions, TcpPacket, TcpRepr, TimeExceeded, UdpPacket,
    UdpRepr,
};

// ---- Shared strategies -------------------------------------------------------------------------------------

fn mac() -> impl Strategy<Value = EthernetAddress> {
    any::<[u8; 6]>().prop_map(EthernetAddress)
}

fn ip() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

fn bytes(len: core::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), len)
}

/// The IPv4 header fields our `Ipv4Repr` can express (we never emit options or fragments).
#[derive(Clone, Copy, Debug)]
struct IpFields {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    ident: u16,
    dont_frag: bool,
}

fn ip_fields() -> impl Strategy<Value = IpFields> {
    (ip(), ip(), any::<u8>(), any::<u16>(), any::<bool>()).prop_map(|(src, dst, ttl, ident, dont_frag)| IpFields {
        src,
        dst,
        ttl,
        ident,
        dont_frag,
    })
}

impl IpFields {
    fn repr(&self, protocol: IpProtocol, payload_len: usize) -> Ipv4Repr {
        Ipv4Repr {
            src_addr: self.src,
            dst_addr: self.dst,
            protocol,
            payload_len,
            ttl: self.ttl,
            ident: self.ident,
            dont_frag: self.dont_frag,
        }
    }
}

// ---- We emit, etherparse parses ----------------------------------------------------------------------------

/// Builds a frame (padded to the Ethernet minimum) whose payload `fill` writes.
fn our_frame(
    src: EthernetAddress,
    dst: EthernetAddress,
    ethertype: EtherType,
    len: usize,
    fill: impl FnOnce(&mut [u8]),
) -> Vec<u8> {
    let mut buf = vec![0u8; ethernet::frame_len(len)];
    let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
    EthernetRepr { src_addr: src, dst_addr: dst, ethertype }.emit(&mut frame);
    fill(&mut frame.payload_mut()[..len]);
    buf
}

/// Builds Ethernet + IPv4 with our reprs; `fill` writes the IPv4 payload.
fn our_ipv4_frame(src: EthernetAddress, dst: EthernetAddress, ip: &Ipv4Repr, fill: impl FnOnce(&mut [u8])) -> Vec<u8> {
    our_frame(src, dst, EtherType::Ipv4, ip.buffer_len() + ip.payload_len, |b| {
        let mut packet = Ipv4Packet::new_unchecked(b);
        ip.emit(&mut packet);
        fill(packet.payload_mut());
    })
}

/// Checks etherparse's view of the Ethernet header and returns the rest of its decode.
fn check_ethernet<'a>(
    frame: &'a [u8],
    src: EthernetAddress,
    dst: EthernetAddress,
    ethertype: ep::EtherType,
) -> ep::PacketHeaders<'a> {
    assert!(frame.len() >= ethernet::MIN_FRAME_LEN, "frame of {} bytes", frame.len());
    let headers = ep::PacketHeaders::from_ethernet_slice(frame).expect("etherparse rejects our frame");
    let Some(ep::LinkHeader::Ethernet2(eth)) = &headers.link else { panic!("no Ethernet header: {headers:?}") };
    assert_eq!(eth.source, src.0);
    assert_eq!(eth.destination, dst.0);
    assert_eq!(eth.ether_type, ethertype);
    // The zero-copy slicer agrees too.
    let sliced = ep::SlicedPacket::from_ethernet(frame).expect("etherparse's slicer rejects our frame");
    assert!(sliced.link.is_some());
    headers
}

/// Checks every IPv4 header field etherparse decodes against the repr we emitted, and the header checksum.
fn check_ipv4(headers: &ep::PacketHeaders<'_>, ip: &Ipv4Repr, protocol: ep::IpNumber) -> ep::Ipv4Header {
    let Some(ep::NetHeaders::Ipv4(h, exts)) = &headers.net else { panic!("no IPv4 header: {headers:?}") };
    assert!(exts.is_empty());
    assert_eq!(h.dscp.value(), 0);
    assert_eq!(h.ecn.value(), 0);
    assert_eq!(usize::from(h.total_len), 20 + ip.payload_len);
    assert_eq!(h.identification, ip.ident);
    assert_eq!(h.dont_fragment, ip.dont_frag);
    assert!(!h.more_fragments);
    assert_eq!(h.fragment_offset.value(), 0);
    assert_eq!(h.time_to_live, ip.ttl);
    assert_eq!(h.protocol, protocol);
    assert_eq!(h.source, ip.src_addr.octets());
    assert_eq!(h.destination, ip.dst_addr.octets());
    assert!(h.options.is_empty());
    assert_eq!(h.header_len(), 20);
    assert_eq!(h.header_checksum, h.calc_header_checksum(), "IPv4 header checksum");
    h.clone()
}

/// What etherparse decoded from a TCP option list, gathered by kind.
#[derive(Debug, Default, PartialEq, Eq)]
struct SeenOptions {
    mss: Option<u16>,
    window_scale: Option<u8>,
    sack_permitted: bool,
    sack_blocks: Vec<(u32, u32)>,
    timestamp: Option<(u32, u32)>,
}

fn etherparse_options(h: &ep::TcpHeader) -> SeenOptions {
    let mut seen = SeenOptions::default();
    for element in h.options_iterator() {
        use ep::TcpOptionElement::*;
        match element.expect("etherparse rejects one of our TCP options") {
            Noop => {}
            MaximumSegmentSize(m) => assert!(seen.mss.replace(m).is_none(), "MSS twice"),
            WindowScale(s) => assert!(seen.window_scale.replace(s).is_none(), "window scale twice"),
            SelectiveAcknowledgementPermitted => {
                assert!(!seen.sack_permitted, "SACK-permitted twice");
                seen.sack_permitted = true;
            }
            SelectiveAcknowledgement(first, rest) => {
                assert!(seen.sack_blocks.is_empty(), "SACK twice");
                seen.sack_blocks.push(first);
                seen.sack_blocks.extend(rest.iter().flatten());
            }
            Timestamp(a, b) => assert!(seen.timestamp.replace((a, b)).is_none(), "timestamps twice"),
        }
    }
    seen
}

fn tcp_options() -> impl Strategy<Value = TcpOptions> {
    (
        prop::option::of(any::<u16>()),
        prop::option::of(any::<u8>()),
        any::<bool>(),
        prop::collection::vec((any::<u32>(), any::<u32>()), 0..=4),
        prop::option::of((any::<u32>(), any::<u32>())),
    )
        .prop_map(|(mss, window_scale, sack_permitted, blocks, timestamp)| {
            let mut sack_blocks = [None; 4];
            for (slot, (l, r)) in sack_blocks.iter_mut().zip(blocks) {
                *slot = Some((SeqNum(l), SeqNum(r)));
            }
            TcpOptions { mss, window_scale, sack_permitted, sack_blocks, timestamp }
        })
}

#[derive(Clone, Debug)]
struct TcpFields {
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: u16,
    window: u16,
    urgent: u16,
    options: TcpOptions,
    payload: Vec<u8>,
}

fn tcp_fields() -> impl Strategy<Value = TcpFields> {
    (
        (any::<u16>(), any::<u16>(), any::<u32>(), any::<u32>()),
        (0u16..0x200, any::<u16>(), any::<u16>()),
        tcp_options(),
        bytes(0..300),
    )
        .prop_map(|((src_port, dst_port, seq, ack), (flags, window, urgent), options, payload)| TcpFields {
            src_port,
            dst_port,
            seq,
            ack,
            flags,
            window,
            urgent,
            options,
            payload,
        })
}

/// An ICMP message as our repr can express it, owning its data.
#[derive(Clone, Debug)]
enum IcmpCase {
    Echo { request: bool, ident: u16, seq_no: u16, data: Vec<u8> },
    Unreachable { code: u8, next_hop_mtu: u16, original: Vec<u8> },
    TimeExceeded { code: u8, original: Vec<u8> },
}

impl IcmpCase {
    fn repr(&self) -> Icmpv4Repr<'_> {
        match self {
            IcmpCase::Echo { request: true, ident, seq_no, data } => {
                Icmpv4Repr::EchoRequest { ident: *ident, seq_no: *seq_no, data }
            }
            IcmpCase::Echo { request: false, ident, seq_no, data } => {
                Icmpv4Repr::EchoReply { ident: *ident, seq_no: *seq_no, data }
            }
            IcmpCase::Unreachable { code, next_hop_mtu, original } => Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::from(*code),
                next_hop_mtu: *next_hop_mtu,
                original,
            },
            IcmpCase::TimeExceeded { code, original } => {
                Icmpv4Repr::TimeExceeded { reason: TimeExceeded::from(*code), original }
            }
        }
    }

    /// How etherparse represents the header we emit.
    fn etherparse_type(&self) -> ep::Icmpv4Type {
        use ep::icmpv4::{DestUnreachableHeader, TimeExceededCode};
        match self {
            IcmpCase::Echo { request, ident, seq_no, .. } => {
                let echo = ep::IcmpEchoHeader { id: *ident, seq: *seq_no };
                if *request {
                    ep::Icmpv4Type::EchoRequest(echo)
                } else {
                    ep::Icmpv4Type::EchoReply(echo)
                }
            }
            IcmpCase::Unreachable { code, next_hop_mtu, .. } => {
                match DestUnreachableHeader::from_values(*code, *next_hop_mtu) {
                    Some(h) => ep::Icmpv4Type::DestinationUnreachable(h),
                    None => {
                        let [hi, lo] = next_hop_mtu.to_be_bytes();
                        ep::Icmpv4Type::Unknown { type_u8: 3, code_u8: *code, bytes5to8: [0, 0, hi, lo] }
                    }
                }
            }
            IcmpCase::TimeExceeded { code, .. } => match TimeExceededCode::from_u8(*code) {
                Some(c) => ep::Icmpv4Type::TimeExceeded(c),
                None => ep::Icmpv4Type::Unknown { type_u8: 11, code_u8: *code, bytes5to8: [0; 4] },
            },
        }
    }

    fn data(&self) -> &[u8] {
        match self {
            IcmpCase::Echo { data, .. } => data,
            IcmpCase::Unreachable { original, .. } | IcmpCase::TimeExceeded { original, .. } => original,
        }
    }
}

fn icmp_case() -> impl Strategy<Value = IcmpCase> {
    prop_oneof![
        (any::<bool>(), any::<u16>(), any::<u16>(), bytes(0..600))
            .prop_map(|(request, ident, seq_no, data)| IcmpCase::Echo { request, ident, seq_no, data }),
        // The next-hop MTU only exists in "fragmentation needed" (code 4); elsewhere the word is unused (zero).
        (prop_oneof![0u8..16, any::<u8>()], any::<u16>(), bytes(28..200)).prop_map(|(code, mtu, original)| {
            IcmpCase::Unreachable { code, next_hop_mtu: if code == 4 { mtu } else { 0 }, original }
        }),
        (prop_oneof![0u8..2, any::<u8>()], bytes(28..200))
            .prop_map(|(code, original)| IcmpCase::TimeExceeded { code, original }),
    ]
}

fn arp_operation() -> impl Strategy<Value = ArpOperation> {
    prop_oneof![Just(ArpOperation::Request), Just(ArpOperation::Reply), any::<u16>().prop_map(ArpOperation::from)]
}

/// The SACK option we emit keeps only the blocks that fit in 40 option bytes. `emitted` blocks came out of
/// `present`; dropping one is only allowed when one more block would not have fitted.
fn check_sack_truncation(options_len: usize, present: usize, emitted: usize) {
    assert!(emitted <= present);
    if emitted < present {
        let one_more = if emitted == 0 { 4 + 8 } else { 8 };
        assert!(options_len + one_more > 40, "dropped a SACK block that fits: {options_len} + {one_more}");
    }
}

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

// ---- etherparse emits, we parse ----------------------------------------------------------------------------

/// Serializes an Ethernet II header.
fn ep_ethernet(src: EthernetAddress, dst: EthernetAddress, ether_type: u16) -> Vec<u8> {
    let mut out = Vec::new();
    ep::Ethernet2Header { source: src.0, destination: dst.0, ether_type: ep::EtherType(ether_type) }
        .write(&mut out)
        .unwrap();
    out
}

/// Every IPv4 header field etherparse can write, options and fragmentation included.
#[derive(Clone, Debug)]
struct EpIpFields {
    dscp: u8,
    ecn: u8,
    ident: u16,
    dont_frag: bool,
    more_frags: bool,
    frag_offset: u16,
    ttl: u8,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    options: Vec<u8>,
}

fn ep_ip_fields() -> impl Strategy<Value = EpIpFields> {
    (
        (0u8..64, 0u8..4, any::<u16>(), any::<bool>(), any::<bool>(), prop_oneof![Just(0u16), 0u16..0x2000]),
        (any::<u8>(), ip(), ip(), (0usize..=10).prop_flat_map(|words| bytes(words * 4..words * 4 + 1))),
    )
        .prop_map(|((dscp, ecn, ident, dont_frag, more_frags, frag_offset), (ttl, src, dst, options))| {
            EpIpFields { dscp, ecn, ident, dont_frag, more_frags, frag_offset, ttl, src, dst, options }
        })
}

impl EpIpFields {
    fn header(&self, protocol: u8, payload_len: usize) -> ep::Ipv4Header {
        let mut h = ep::Ipv4Header {
            dscp: ep::IpDscp::try_new(self.dscp).unwrap(),
            ecn: ep::IpEcn::try_new(self.ecn).unwrap(),
            total_len: 0,
            identification: self.ident,
            dont_fragment: self.dont_frag,
            more_fragments: self.more_frags,
            fragment_offset: ep::IpFragOffset::try_new(self.frag_offset).unwrap(),
            time_to_live: self.ttl,
            protocol: ep::IpNumber(protocol),
            header_checksum: 0,
            source: self.src.octets(),
            destination: self.dst.octets(),
            options: self.options[..].try_into().unwrap(),
        };
        h.set_payload_len(payload_len).unwrap();
        h.header_checksum = h.calc_header_checksum();
        h
    }
}

/// Builds Ethernet + IPv4 (+ `transport`) with etherparse and returns the frame and its IPv4 header.
fn ep_ipv4_frame(
    src: EthernetAddress,
    dst: EthernetAddress,
    fields: &EpIpFields,
    protocol: u8,
    transport: &[u8],
    padding: usize,
) -> (Vec<u8>, ep::Ipv4Header) {
    let header = fields.header(protocol, transport.len());
    let mut frame = ep_ethernet(src, dst, 0x0800);
    header.write(&mut frame).unwrap();
    frame.extend_from_slice(transport);
    frame.resize(frame.len() + padding, 0xee);
    (frame, header)
}

/// Parses the frame with our code and checks every IPv4 field against etherparse's header; returns the
/// IPv4 payload our view delimits.
fn our_ipv4<'a>(frame: &'a [u8], src: EthernetAddress, dst: EthernetAddress, h: &ep::Ipv4Header) -> &'a [u8] {
    let eth = EthernetFrame::new_checked(frame).expect("our Ethernet view rejects etherparse's frame");
    assert_eq!(eth.src_addr(), src);
    assert_eq!(eth.dst_addr(), dst);
    assert_eq!(eth.ethertype(), EtherType::Ipv4);
    let repr = EthernetRepr::parse(&eth).unwrap();
    assert_eq!(repr, EthernetRepr { src_addr: src, dst_addr: dst, ethertype: EtherType::Ipv4 });

    let bytes: &'a [u8] = &frame[ethernet::HEADER_LEN..];
    let p = Ipv4Packet::new_checked(bytes).expect("our IPv4 view rejects etherparse's packet");
    assert_eq!(p.version(), 4);
    assert_eq!(p.header_len(), h.header_len());
    assert_eq!(p.dscp_ecn(), (h.dscp.value() << 2) | h.ecn.value());
    assert_eq!(p.total_len(), h.total_len);
    assert_eq!(p.ident(), h.identification);
    assert_eq!(p.dont_frag(), h.dont_fragment);
    assert_eq!(p.more_frags(), h.more_fragments);
    assert!(!p.reserved_flag());
    assert_eq!(p.frag_offset(), h.fragment_offset.byte_offset());
    assert_eq!(p.is_fragment(), h.is_fragmenting_payload());
    assert_eq!(p.ttl(), h.time_to_live);
    assert_eq!(u8::from(p.protocol()), h.protocol.0);
    assert_eq!(p.checksum(), h.header_checksum);
    assert_eq!(p.src_addr().octets(), h.source);
    assert_eq!(p.dst_addr().octets(), h.destination);
    assert_eq!(p.options(), h.options.as_slice());
    assert!(p.verify_checksum(), "etherparse's IPv4 checksum does not verify for us");
    let total = usize::from(h.total_len);
    assert_eq!(p.payload(), &bytes[h.header_len()..total]);

    let r = Ipv4Repr::parse(&p).expect("our IPv4 repr rejects etherparse's packet");
    assert_eq!(r.src_addr.octets(), h.source);
    assert_eq!(r.dst_addr.octets(), h.destination);
    assert_eq!(u8::from(r.protocol), h.protocol.0);
    assert_eq!(r.payload_len, total - h.header_len());
    assert_eq!(r.ttl, h.time_to_live);
    assert_eq!(r.ident, h.identification);
    assert_eq!(r.dont_frag, h.dont_fragment);
    &bytes[h.header_len()..total]
}

/// A TCP option element in etherparse's representation.
fn ep_tcp_option() -> impl Strategy<Value = ep::TcpOptionElement> {
    use ep::TcpOptionElement::*;
    prop_oneof![
        Just(Noop),
        any::<u16>().prop_map(MaximumSegmentSize),
        any::<u8>().prop_map(WindowScale),
        Just(SelectiveAcknowledgementPermitted),
        (any::<(u32, u32)>(), prop::array::uniform3(prop::option::of(any::<(u32, u32)>())))
            .prop_map(|(first, rest)| SelectiveAcknowledgement(first, rest)),
        any::<(u32, u32)>().prop_map(|(a, b)| Timestamp(a, b)),
    ]
}

fn ep_option_len(e: &ep::TcpOptionElement) -> usize {
    use ep::TcpOptionElement::*;
    match e {
        Noop => 1,
        MaximumSegmentSize(_) => 4,
        WindowScale(_) => 3,
        SelectiveAcknowledgementPermitted => 2,
        SelectiveAcknowledgement(_, rest) => 10 + 8 * rest.iter().flatten().count(),
        Timestamp(..) => 10,
    }
}

/// Up to 40 bytes of options, in random order and with repeats.
fn ep_tcp_options() -> impl Strategy<Value = Vec<ep::TcpOptionElement>> {
    prop::collection::vec(ep_tcp_option(), 0..8).prop_map(|all| {
        let mut used = 0;
        all.into_iter()
            .filter(|e| {
                let fits = used + ep_option_len(e) <= 40;
                if fits {
                    used += ep_option_len(e);
                }
                fits
            })
            .collect()
    })
}

/// What our parser must make of an option list: the last occurrence of each kind wins, window scale is
/// clamped to 14 (RFC 7323 §2.3).
fn expected_options(elements: &[ep::TcpOptionElement]) -> TcpOptions {
    use ep::TcpOptionElement::*;
    let mut o = TcpOptions::default();
    for e in elements {
        match e {
            Noop => {}
            MaximumSegmentSize(m) => o.mss = Some(*m),
            WindowScale(s) => o.window_scale = Some((*s).min(14)),
            SelectiveAcknowledgementPermitted => o.sack_permitted = true,
            SelectiveAcknowledgement(first, rest) => {
                o.sack_blocks = [None; 4];
                let all = core::iter::once(first).chain(rest.iter().flatten());
                for (slot, (l, r)) in o.sack_blocks.iter_mut().zip(all) {
                    *slot = Some((SeqNum(*l), SeqNum(*r)));
                }
            }
            Timestamp(a, b) => o.timestamp = Some((*a, *b)),
        }
    }
    o
}

#[derive(Clone, Debug)]
struct EpTcp {
    header: ep::TcpHeader,
    payload: Vec<u8>,
}

fn ep_tcp() -> impl Strategy<Value = EpTcp> {
    (
        (any::<u16>(), any::<u16>(), any::<u32>(), any::<u32>(), any::<u16>(), any::<u16>()),
        prop::array::uniform9(any::<bool>()),
        ep_tcp_options(),
        bytes(0..300),
    )
        .prop_map(|((sp, dp, seq, ack, window, urgent), f, options, payload)| {
            let mut header = ep::TcpHeader::new(sp, dp, seq, window);
            header.acknowledgment_number = ack;
            header.urgent_pointer = urgent;
            [
                header.ns, header.fin, header.syn, header.rst, header.psh, header.ack, header.urg, header.ece,
                header.cwr,
            ] = f;
            header.set_options(&options).unwrap();
            EpTcp { header, payload }
        })
}

fn ep_flags(h: &ep::TcpHeader) -> TcpFlags {
    let mut flags = TcpFlags::empty();
    for (set, flag) in [
        (h.fin, TcpFlags::FIN),
        (h.syn, TcpFlags::SYN),
        (h.rst, TcpFlags::RST),
        (h.psh, TcpFlags::PSH),
        (h.ack, TcpFlags::ACK),
        (h.urg, TcpFlags::URG),
        (h.ece, TcpFlags::ECE),
        (h.cwr, TcpFlags::CWR),
        (h.ns, TcpFlags::NS),
    ] {
        if set {
            flags |= flag;
        }
    }
    flags
}

/// What our ICMP parser must make of a message, decided from its raw type and code (RFC 792).
fn expected_icmp(bytes: &[u8]) -> Result<Icmpv4Repr<'_>, synack::wire::Error> {
    let (ty, code) = (bytes[0], bytes[1]);
    let word = |at: usize| u16::from_be_bytes([bytes[at], bytes[at + 1]]);
    let data = &bytes[8..];
    let original = || if data.len() < 28 { Err(synack::wire::Error::Truncated) } else { Ok(data) };
    match (ty, code) {
        (8, 0) => Ok(Icmpv4Repr::EchoRequest { ident: word(4), seq_no: word(6), data }),
        (0, 0) => Ok(Icmpv4Repr::EchoReply { ident: word(4), seq_no: word(6), data }),
        (3, _) => Ok(Icmpv4Repr::DstUnreachable {
            reason: DstUnreachable::from(code),
            next_hop_mtu: word(6),
            original: original()?,
        }),
        (11, _) => Ok(Icmpv4Repr::TimeExceeded { reason: TimeExceeded::from(code), original: original()? }),
        _ => Err(synack::wire::Error::Unsupported),
    }
}

fn ep_icmp_type() -> impl Strategy<Value = ep::Icmpv4Type> {
    use ep::icmpv4::{DestUnreachableHeader, ParameterProblemHeader, RedirectCode, RedirectHeader, TimeExceededCode};
    use ep::Icmpv4Type as T;
    prop_oneof![
        (any::<u16>(), any::<u16>()).prop_map(|(id, seq)| T::EchoRequest(ep::IcmpEchoHeader { id, seq })),
        (any::<u16>(), any::<u16>()).prop_map(|(id, seq)| T::EchoReply(ep::IcmpEchoHeader { id, seq })),
        (0u8..16, any::<u16>())
            .prop_map(|(code, mtu)| T::DestinationUnreachable(DestUnreachableHeader::from_values(code, mtu).unwrap())),
        prop_oneof![
            Just(TimeExceededCode::TtlExceededInTransit),
            Just(TimeExceededCode::FragmentReassemblyTimeExceeded)
        ]
        .prop_map(T::TimeExceeded),
        ip().prop_map(|gw| T::Redirect(RedirectHeader {
            code: RedirectCode::RedirectForNetwork,
            gateway_internet_address: gw.octets()
        })),
        any::<u8>().prop_map(|p| T::ParameterProblem(ParameterProblemHeader::PointerIndicatesError(p))),
        (prop_oneof![Just(0u8), Just(3), Just(8), Just(11), any::<u8>()], any::<u8>(), any::<[u8; 4]>())
            .prop_map(|(type_u8, code_u8, bytes5to8)| T::Unknown { type_u8, code_u8, bytes5to8 }),
    ]
}

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
        match UdpRepr::parse(&p, &fields.src, &fields.dst) {
            Ok(r) => {
                prop_assert_ne!(ports.1, 0);
                prop_assert_eq!(r, UdpRepr { src_port: ports.0, dst_port: ports.1, payload: &payload });
            }
            Err(e) => {
                prop_assert_eq!(ports.1, 0);
                prop_assert_eq!(e, synack::wire::Error::BadField);
            }
        }
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
                prop_assert!(header.source_port != 0 && header.destination_port != 0);
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
                prop_assert!(header.source_port == 0 || header.destination_port == 0, "rejected: {e:?}");
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

// ---- Fixed cases -------------------------------------------------------------------------------------------

const A: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x0a]);
const B: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x0b]);
const IP_A: Ipv4Addr = Ipv4Addr::new(192, 168, 7, 1);
const IP_B: Ipv4Addr = Ipv4Addr::new(192, 168, 7, 2);

fn fixed_ip() -> IpFields {
    IpFields { src: IP_A, dst: IP_B, ttl: 64, ident: 0x1234, dont_frag: true }
}

/// Emits a TCP segment with our code and returns etherparse's decode of its options and header length.
fn our_tcp_through_etherparse(options: TcpOptions, payload: &[u8]) -> (SeenOptions, usize) {
    let repr = TcpRepr {
        src_port: 443,
        dst_port: 50000,
        seq_number: SeqNum(u32::MAX),
        ack_number: SeqNum(1),
        flags: TcpFlags::ACK,
        window_len: 1024,
        urgent_ptr: 0,
        options,
        payload,
    };
    let ip = fixed_ip().repr(IpProtocol::Tcp, repr.buffer_len());
    let frame = our_ipv4_frame(A, B, &ip, |b| repr.emit(&mut TcpPacket::new_unchecked(b), &IP_A, &IP_B));
    let headers = check_ethernet(&frame, A, B, ep::EtherType::IPV4);
    let ip_header = check_ipv4(&headers, &ip, ep::IpNumber::TCP);
    let Some(ep::TransportHeader::Tcp(h)) = &headers.transport else { panic!("no TCP") };
    assert_eq!(h.checksum, h.calc_checksum_ipv4(&ip_header, payload).unwrap());
    (etherparse_options(h), h.options.len())
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
