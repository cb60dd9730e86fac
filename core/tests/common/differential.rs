//! Shared strategies and helpers of the differential tests (our wire code against etherparse).

use core::net::Ipv4Addr;
use etherparse as ep;
use proptest::prelude::*;
use synack::tcp::SeqNum;
use synack::wire::ethernet::{self, EthernetRepr};
use synack::wire::{
    ArpOperation, DstUnreachable, EtherType, EthernetAddress, EthernetFrame, Icmpv4Repr, IpProtocol, Ipv4Packet,
    Ipv4Repr, TcpFlags, TcpOptions, TcpPacket, TcpRepr, TimeExceeded,
};

// ---- Shared strategies -------------------------------------------------------------------------------------

pub fn mac() -> impl Strategy<Value = EthernetAddress> {
    any::<[u8; 6]>().prop_map(EthernetAddress)
}

pub fn ip() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

pub fn bytes(len: core::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), len)
}

/// The IPv4 header fields our `Ipv4Repr` can express (we never emit options or fragments).
#[derive(Clone, Copy, Debug)]
pub struct IpFields {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub ident: u16,
    pub dont_frag: bool,
}

pub fn ip_fields() -> impl Strategy<Value = IpFields> {
    (ip(), ip(), any::<u8>(), any::<u16>(), any::<bool>()).prop_map(|(src, dst, ttl, ident, dont_frag)| IpFields {
        src,
        dst,
        ttl,
        ident,
        dont_frag,
    })
}

impl IpFields {
    pub fn repr(&self, protocol: IpProtocol, payload_len: usize) -> Ipv4Repr {
        Ipv4Repr {
            src_addr: self.src,
            dst_addr: self.dst,
            protocol,
            payload_len,
            ttl: self.ttl,
            ident: self.ident,
            dont_frag: self.dont_frag,
            ecn: Default::default(),
        }
    }
}

// ---- We emit, etherparse parses ----------------------------------------------------------------------------

/// Builds a frame (padded to the Ethernet minimum) whose payload `fill` writes.
pub fn our_frame(
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
pub fn our_ipv4_frame(
    src: EthernetAddress,
    dst: EthernetAddress,
    ip: &Ipv4Repr,
    fill: impl FnOnce(&mut [u8]),
) -> Vec<u8> {
    our_frame(src, dst, EtherType::Ipv4, ip.buffer_len() + ip.payload_len, |b| {
        let mut packet = Ipv4Packet::new_unchecked(b);
        ip.emit(&mut packet);
        fill(packet.payload_mut());
    })
}

/// Checks etherparse's view of the Ethernet header and returns the rest of its decode.
pub fn check_ethernet<'a>(
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
pub fn check_ipv4(headers: &ep::PacketHeaders<'_>, ip: &Ipv4Repr, protocol: ep::IpNumber) -> ep::Ipv4Header {
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
pub struct SeenOptions {
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    pub sack_blocks: Vec<(u32, u32)>,
    pub timestamp: Option<(u32, u32)>,
}

pub fn etherparse_options(h: &ep::TcpHeader) -> SeenOptions {
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

pub fn tcp_options() -> impl Strategy<Value = TcpOptions> {
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
pub struct TcpFields {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u16,
    pub window: u16,
    pub urgent: u16,
    pub options: TcpOptions,
    pub payload: Vec<u8>,
}

pub fn tcp_fields() -> impl Strategy<Value = TcpFields> {
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
pub enum IcmpCase {
    Echo { request: bool, ident: u16, seq_no: u16, data: Vec<u8> },
    Unreachable { code: u8, next_hop_mtu: u16, original: Vec<u8> },
    TimeExceeded { code: u8, original: Vec<u8> },
}

impl IcmpCase {
    pub fn repr(&self) -> Icmpv4Repr<'_> {
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
    pub fn etherparse_type(&self) -> ep::Icmpv4Type {
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

    pub fn data(&self) -> &[u8] {
        match self {
            IcmpCase::Echo { data, .. } => data,
            IcmpCase::Unreachable { original, .. } | IcmpCase::TimeExceeded { original, .. } => original,
        }
    }
}

pub fn icmp_case() -> impl Strategy<Value = IcmpCase> {
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

pub fn arp_operation() -> impl Strategy<Value = ArpOperation> {
    prop_oneof![Just(ArpOperation::Request), Just(ArpOperation::Reply), any::<u16>().prop_map(ArpOperation::from)]
}

/// The SACK option we emit keeps only the blocks that fit in 40 option bytes. `emitted` blocks came out of
/// `present`; dropping one is only allowed when one more block would not have fitted.
pub fn check_sack_truncation(options_len: usize, present: usize, emitted: usize) {
    assert!(emitted <= present);
    if emitted < present {
        let one_more = if emitted == 0 { 4 + 8 } else { 8 };
        assert!(options_len + one_more > 40, "dropped a SACK block that fits: {options_len} + {one_more}");
    }
}

// ---- etherparse emits, we parse ----------------------------------------------------------------------------

/// Serializes an Ethernet II header.
pub fn ep_ethernet(src: EthernetAddress, dst: EthernetAddress, ether_type: u16) -> Vec<u8> {
    let mut out = Vec::new();
    ep::Ethernet2Header { source: src.0, destination: dst.0, ether_type: ep::EtherType(ether_type) }
        .write(&mut out)
        .unwrap();
    out
}

/// Every IPv4 header field etherparse can write, options and fragmentation included.
#[derive(Clone, Debug)]
pub struct EpIpFields {
    pub dscp: u8,
    pub ecn: u8,
    pub ident: u16,
    pub dont_frag: bool,
    pub more_frags: bool,
    pub frag_offset: u16,
    pub ttl: u8,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub options: Vec<u8>,
}

pub fn ep_ip_fields() -> impl Strategy<Value = EpIpFields> {
    (
        (0u8..64, 0u8..4, any::<u16>(), any::<bool>(), any::<bool>(), prop_oneof![Just(0u16), 0u16..0x2000]),
        (any::<u8>(), ip(), ip(), (0usize..=10).prop_flat_map(|words| bytes(words * 4..words * 4 + 1))),
    )
        .prop_map(|((dscp, ecn, ident, dont_frag, more_frags, frag_offset), (ttl, src, dst, options))| {
            EpIpFields { dscp, ecn, ident, dont_frag, more_frags, frag_offset, ttl, src, dst, options }
        })
}

impl EpIpFields {
    pub fn header(&self, protocol: u8, payload_len: usize) -> ep::Ipv4Header {
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
pub fn ep_ipv4_frame(
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
pub fn our_ipv4<'a>(frame: &'a [u8], src: EthernetAddress, dst: EthernetAddress, h: &ep::Ipv4Header) -> &'a [u8] {
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
pub fn ep_tcp_option() -> impl Strategy<Value = ep::TcpOptionElement> {
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

pub fn ep_option_len(e: &ep::TcpOptionElement) -> usize {
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
pub fn ep_tcp_options() -> impl Strategy<Value = Vec<ep::TcpOptionElement>> {
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
pub fn expected_options(elements: &[ep::TcpOptionElement]) -> TcpOptions {
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
pub struct EpTcp {
    pub header: ep::TcpHeader,
    pub payload: Vec<u8>,
}

pub fn ep_tcp() -> impl Strategy<Value = EpTcp> {
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

pub fn ep_flags(h: &ep::TcpHeader) -> TcpFlags {
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
pub fn expected_icmp(bytes: &[u8]) -> Result<Icmpv4Repr<'_>, synack::wire::Error> {
    let (ty, code) = (bytes[0], bytes[1]);
    let word = |at: usize| u16::from_be_bytes([bytes[at], bytes[at + 1]]);
    let data = &bytes[8..];
    let original = || if data.len() < 28 { Err(synack::wire::Error::Truncated) } else { Ok(data) };
    match (ty, code) {
        (8, _) => Ok(Icmpv4Repr::EchoRequest { ident: word(4), seq_no: word(6), data }),
        (0, 0) => Ok(Icmpv4Repr::EchoReply { ident: word(4), seq_no: word(6), data }),
        (3, _) => Ok(Icmpv4Repr::DstUnreachable {
            reason: DstUnreachable::from(code),
            next_hop_mtu: word(6),
            original: original()?,
        }),
        (11, _) => Ok(Icmpv4Repr::TimeExceeded { reason: TimeExceeded::from(code), original: original()? }),
        (12, 0) => Ok(Icmpv4Repr::ParamProblem { pointer: bytes[4], original: original()? }),
        _ => Err(synack::wire::Error::Unsupported),
    }
}

pub fn ep_icmp_type() -> impl Strategy<Value = ep::Icmpv4Type> {
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

// ---- Fixed cases -------------------------------------------------------------------------------------------

pub const A: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x0a]);
pub const B: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x0b]);
pub const IP_A: Ipv4Addr = Ipv4Addr::new(192, 168, 7, 1);
pub const IP_B: Ipv4Addr = Ipv4Addr::new(192, 168, 7, 2);

pub fn fixed_ip() -> IpFields {
    IpFields { src: IP_A, dst: IP_B, ttl: 64, ident: 0x1234, dont_frag: true }
}

/// Emits a TCP segment with our code and returns etherparse's decode of its options and header length.
pub fn our_tcp_through_etherparse(options: TcpOptions, payload: &[u8]) -> (SeenOptions, usize) {
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
