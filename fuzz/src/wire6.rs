//! IPv6 wire parsers: the IPv6 header and its extension header walk, ICMPv6, NDP, the packet an ICMPv6 error
//! quotes, TCP and UDP over IPv6, and the IPv6 lines of the pretty printer. The first input byte picks the
//! format (its high bit asks for a checksum fixed before parsing, so the parsers behind the checksum run);
//! formats that need addresses take 32 bytes of source and destination next. What parses must emit into
//! bytes that parse to the same `Repr`, and nothing may panic or read out of bounds.

use core::net::Ipv6Addr;
use synack::wire::ethernet::{self, EthernetRepr};
use synack::wire::icmpv6::{Icmpv6Packet, Icmpv6Repr, QuotedPacket};
use synack::wire::ipv6::{self, ExtHeaderWalk, Ipv6Packet, Ipv6Repr, WalkStart};
use synack::wire::ndp::NdpRepr;
use synack::wire::pretty::frame_summary;
use synack::wire::{EtherType, EthernetAddress, EthernetFrame, IpProtocol, TcpPacket, TcpRepr, UdpPacket, UdpRepr};

/// The formats, in the order of the selector byte's low bits (modulo their count).
pub const FORMATS: [&str; 7] = ["ipv6", "icmpv6", "ndp", "quote", "udp6", "tcp6", "walk_from"];

/// Selector bit: fill in the checksum (ICMPv6, UDP, TCP) before parsing.
pub const FIX_CHECKSUM: u8 = 0x80;

/// Runs one input; panics on any violation.
pub fn fuzz(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let fix = selector & FIX_CHECKSUM != 0;
    match usize::from(selector & !FIX_CHECKSUM) % FORMATS.len() {
        0 => ipv6_roundtrip(bytes),
        1 => with_addrs(bytes, |src, dst, b| icmpv6_roundtrip(src, dst, b, fix)),
        2 => ndp_roundtrip(bytes),
        3 => quote(bytes),
        4 => with_addrs(bytes, |src, dst, b| udp_roundtrip(src, dst, b, fix)),
        5 => with_addrs(bytes, |src, dst, b| tcp_roundtrip(src, dst, b, fix)),
        _ => walk_from(bytes),
    }
}

fn with_addrs(bytes: &[u8], run: impl FnOnce(Ipv6Addr, Ipv6Addr, &[u8])) {
    if bytes.len() < 32 {
        return;
    }
    let (addrs, rest) = bytes.split_at(32);
    let src: [u8; 16] = addrs[..16].try_into().unwrap();
    let dst: [u8; 16] = addrs[16..].try_into().unwrap();
    run(src.into(), dst.into(), rest);
}

/// The pretty printer on `packet` in an Ethernet frame.
fn pretty(packet: &[u8]) {
    let mut frame = vec![0u8; ethernet::HEADER_LEN + packet.len()];
    let mut view = EthernetFrame::new_unchecked(&mut frame[..]);
    EthernetRepr {
        src_addr: EthernetAddress([2, 0, 0, 0, 0, 1]),
        dst_addr: EthernetAddress([2, 0, 0, 0, 0, 2]),
        ethertype: EtherType::Ipv6,
    }
    .emit(&mut view);
    view.payload_mut().copy_from_slice(packet);
    let line = frame_summary(&frame);
    assert!(!line.is_empty());
}

fn ipv6_roundtrip(bytes: &[u8]) {
    pretty(bytes);
    let Ok(packet) = Ipv6Packet::new_checked(bytes) else { return };
    let end = ipv6::HEADER_LEN + usize::from(packet.payload_len());
    match ipv6::walk(&packet) {
        Ok(ExtHeaderWalk::Upper { offset, .. } | ExtHeaderWalk::Fragment { offset, .. }) => {
            assert!((ipv6::HEADER_LEN..=end).contains(&offset), "offset {offset} outside 40..={end}");
        }
        Ok(ExtHeaderWalk::ParameterProblem { pointer, .. } | ExtHeaderWalk::Discard { pointer }) => {
            assert!(pointer < end, "pointer {pointer} beyond the packet ({end})");
        }
        Ok(ExtHeaderWalk::NoNextHeader) | Err(_) => {}
    }
    let Ok(repr) = Ipv6Repr::parse(&packet) else { return };
    let mut buf = vec![0u8; repr.buffer_len() + repr.payload_len];
    let mut out = Ipv6Packet::new_unchecked(&mut buf[..]);
    repr.emit(&mut out);
    out.payload_mut().copy_from_slice(packet.payload());
    // Every field of the fixed header is in the Repr: the bytes come back unchanged (padding aside).
    assert_eq!(&buf[..], &bytes[..end], "IPv6 bytes differ after a round trip");
    let again = Ipv6Packet::new_checked(&buf[..]).expect("our own packet passes the length checks");
    assert_eq!(Ipv6Repr::parse(&again).expect("our own packet parses"), repr);
    assert_eq!(ipv6::walk(&again), ipv6::walk(&packet), "the walk depends on the payload and destination only");
}

fn icmpv6_roundtrip(src: Ipv6Addr, dst: Ipv6Addr, bytes: &[u8], fix: bool) {
    let mut bytes = bytes.to_vec();
    if fix && bytes.len() >= 8 {
        Icmpv6Packet::new_unchecked(&mut bytes[..]).fill_checksum(&src, &dst);
    }
    let Ok(packet) = Icmpv6Packet::new_checked(&bytes[..]) else { return };
    let Ok(repr) = Icmpv6Repr::parse(&packet, &src, &dst) else { return };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv6Packet::new_unchecked(&mut buf[..]), &src, &dst);
    let again = Icmpv6Packet::new_checked(&buf[..]).expect("our own message is long enough");
    assert!(again.verify_checksum(&src, &dst), "our own checksum verifies");
    assert_eq!(Icmpv6Repr::parse(&again, &src, &dst).expect("our own message parses"), repr);
    // Echo and the four known errors keep every byte but those a receiver ignores and we write as zero: the
    // unused word of destination unreachable and time exceeded, the code of packet too big (RFC 4443 §3), and
    // an echo request's code.
    if matches!(bytes[0], 1..=4 | 128 | 129) {
        let mut expected = bytes.clone();
        if matches!(bytes[0], 1..=3) {
            expected[1..8].copy_from_slice(&buf[1..8]);
            let ignored = if bytes[0] == 2 { &buf[1..2] } else { &buf[4..8] };
            assert!(ignored.iter().all(|&b| b == 0), "ignored bytes written as zero");
            assert!(buf[1] == bytes[1] || bytes[0] == 2, "the code is kept");
        }
        if bytes[0] == 128 {
            // An echo request of any code parses; the code is the message's (the stack answers with it), not
            // the repr's, which writes 0 (and the checksum follows).
            expected[1] = 0;
            expected[2..4].copy_from_slice(&buf[2..4]);
        }
        assert_eq!(buf, expected, "ICMPv6 type {} bytes differ after a round trip", bytes[0]);
    }
    if let Icmpv6Repr::Ndp(ndp) = repr {
        let _ = ndp.check_ip(&src, &dst, 255);
    }
}

fn ndp_roundtrip(bytes: &[u8]) {
    let Some((&ty, rest)) = bytes.split_first() else { return };
    let mut message = vec![133 + ty % 5, 0, 0, 0];
    message.extend_from_slice(rest);
    let Ok(packet) = Icmpv6Packet::new_checked(&message[..]) else { return };
    let Ok(repr) = NdpRepr::parse(&packet) else { return };
    let (a, b) = (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1), ipv6::ALL_NODES);
    let _ = repr.check_ip(&a, &b, 255);
    let wrapped = Icmpv6Repr::Ndp(repr);
    let mut buf = vec![0u8; wrapped.buffer_len()];
    wrapped.emit(&mut Icmpv6Packet::new_unchecked(&mut buf[..]), &a, &b);
    let again = Icmpv6Packet::new_checked(&buf[..]).expect("our own NDP message is long enough");
    assert_eq!(Icmpv6Repr::parse(&again, &a, &b).expect("our own NDP message parses"), wrapped);
}

fn quote(bytes: &[u8]) {
    let Ok(q) = QuotedPacket::parse(bytes) else { return };
    let _ = (q.src_addr(), q.dst_addr(), q.header(), q.echo_request_ident(), q.tcp_seq_number());
    assert!(q.payload().len() <= bytes.len() - ipv6::HEADER_LEN);
    if q.src_port().is_some() {
        assert!(matches!(q.protocol(), Some(IpProtocol::Tcp | IpProtocol::Udp)));
    }
}

fn udp_roundtrip(src: Ipv6Addr, dst: Ipv6Addr, bytes: &[u8], fix: bool) {
    let mut bytes = bytes.to_vec();
    if fix && bytes.len() >= 8 {
        if let Ok(mut packet) = UdpPacket::new_checked(&mut bytes[..]) {
            packet.fill_checksum(&src, &dst);
        }
    }
    let Ok(packet) = UdpPacket::new_checked(&bytes[..]) else { return };
    let Ok(repr) = UdpRepr::parse(&packet, &src, &dst) else { return };
    assert_ne!(packet.checksum(), 0, "a zero checksum parsed over IPv6");
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut UdpPacket::new_unchecked(&mut buf[..]), &src, &dst);
    let again = UdpPacket::new_checked(&buf[..]).expect("our own datagram is long enough");
    assert_eq!(UdpRepr::parse(&again, &src, &dst).expect("our own datagram parses"), repr);
    // All fields are in the Repr, and the checksum has one valid value over IPv6 (zero is refused, and the
    // pseudo-header's nonzero next header keeps the computed sum from being the other zero): same bytes.
    assert_eq!(&buf[..], &bytes[..usize::from(packet.len())], "UDP bytes differ after a round trip");
}

fn tcp_roundtrip(src: Ipv6Addr, dst: Ipv6Addr, bytes: &[u8], fix: bool) {
    let mut bytes = bytes.to_vec();
    if fix {
        if let Ok(mut packet) = TcpPacket::new_checked(&mut bytes[..]) {
            packet.fill_checksum(&src, &dst);
        }
    }
    let Ok(packet) = TcpPacket::new_checked(&bytes[..]) else { return };
    let Ok(repr) = TcpRepr::parse(&packet, &src, &dst) else { return };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut TcpPacket::new_unchecked(&mut buf[..]), &src, &dst);
    let again = TcpPacket::new_checked(&buf[..]).expect("our own segment is long enough");
    let reparsed = TcpRepr::parse(&again, &src, &dst).expect("our own segment parses");
    assert_eq!(
        (reparsed.src_port, reparsed.dst_port, reparsed.seq_number, reparsed.flags),
        (repr.src_port, repr.dst_port, repr.seq_number, repr.flags)
    );
    assert_eq!(reparsed.payload, repr.payload);
}

/// The walk from an arbitrary start: byte 0 the first header, byte 1 the base (40 + it), byte 2 multicast.
fn walk_from(bytes: &[u8]) {
    let [first, base, multicast, rest @ ..] = bytes else { return };
    let base = ipv6::HEADER_LEN + usize::from(*base);
    let start = WalkStart { first: IpProtocol::from(*first), named_at: ipv6::HEADER_LEN, base };
    let end = base + rest.len();
    match ipv6::walk_from(start, rest, multicast & 1 != 0) {
        Ok(ExtHeaderWalk::Upper { offset, .. } | ExtHeaderWalk::Fragment { offset, .. }) => {
            assert!((base..=end).contains(&offset), "offset {offset} outside {base}..={end}");
        }
        Ok(ExtHeaderWalk::ParameterProblem { pointer, .. } | ExtHeaderWalk::Discard { pointer }) => {
            assert!(pointer < end.max(base + 1), "pointer {pointer} beyond {end}");
        }
        Ok(ExtHeaderWalk::NoNextHeader) | Err(_) => {}
    }
}

/// Seed inputs (name, bytes): one or more well-formed messages per format, built by our emitters.
pub fn seeds() -> Vec<(String, Vec<u8>)> {
    use synack::tcp::SeqNum;
    use synack::wire::ndp::{PrefixInformation, Prefixes};
    use synack::wire::{EcnCodepoint, TcpFlags, TcpOptions};

    let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    let dst = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
    let addrs = [src.octets(), dst.octets()].concat();
    let udp = {
        let repr = UdpRepr { src_port: 40000, dst_port: 53, payload: b"query" };
        let mut b = vec![0u8; repr.buffer_len()];
        repr.emit(&mut UdpPacket::new_unchecked(&mut b[..]), &src, &dst);
        b
    };
    let tcp = {
        let repr = TcpRepr {
            src_port: 49152,
            dst_port: 80,
            seq_number: SeqNum(1),
            ack_number: SeqNum(0),
            flags: TcpFlags::SYN,
            window_len: 65535,
            urgent_ptr: 0,
            options: TcpOptions { mss: Some(1440), window_scale: Some(7), sack_permitted: true, ..Default::default() },
            payload: &[],
        };
        let mut b = vec![0u8; repr.buffer_len()];
        repr.emit(&mut TcpPacket::new_unchecked(&mut b[..]), &src, &dst);
        b
    };
    // Hop-by-hop (router alert), destination options (PadN), then UDP.
    let mut chain = vec![60, 0, 5, 2, 0, 0, 1, 0];
    chain.extend([17, 0, 1, 4, 0, 0, 0, 0]);
    chain.extend(&udp);
    let packet = |next: IpProtocol, payload: &[u8]| {
        let repr = Ipv6Repr {
            src_addr: src,
            dst_addr: dst,
            next_header: next,
            payload_len: payload.len(),
            hop_limit: 64,
            dscp: 0,
            ecn: EcnCodepoint::Ect0,
            flow_label: 0x12345,
        };
        let mut b = vec![0u8; ipv6::HEADER_LEN + payload.len()];
        let mut view = Ipv6Packet::new_unchecked(&mut b[..]);
        repr.emit(&mut view);
        view.payload_mut().copy_from_slice(payload);
        b
    };
    let icmp = |repr: Icmpv6Repr<'_>| {
        let mut b = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv6Packet::new_unchecked(&mut b[..]), &src, &dst);
        b
    };
    let with_hbh = packet(IpProtocol::HOP_BY_HOP, &chain);
    let fragment = packet(IpProtocol::IPV6_FRAG, &[17, 0, 0x05, 0xa9, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8]);
    let prefixes = [PrefixInformation {
        prefix_len: 64,
        on_link: true,
        autonomous: true,
        valid_lifetime: 86400,
        preferred_lifetime: 14400,
        prefix: "2001:db8::".parse().unwrap(),
    }];
    let mac = Some(EthernetAddress([2, 0, 0, 0, 0, 1]));
    let ra = icmp(Icmpv6Repr::Ndp(NdpRepr::RouterAdvert {
        hop_limit: 64,
        managed: false,
        other: true,
        router_lifetime: 1800,
        reachable_time: 0,
        retrans_time: 0,
        source_lladdr: mac,
        mtu: Some(1500),
        prefixes: Prefixes::from_slice(&prefixes),
    }));
    let ns = icmp(Icmpv6Repr::Ndp(NdpRepr::NeighborSolicit { target: dst, source_lladdr: mac }));
    let echo = icmp(Icmpv6Repr::EchoRequest { ident: 1, seq_no: 2, data: b"abcdefgh" });
    let too_big = icmp(Icmpv6Repr::PacketTooBig { mtu: 1280, original: &with_hbh });
    let mut seeds = vec![
        ("ipv6-udp", [&[0u8][..], &packet(IpProtocol::Udp, &udp)].concat()),
        ("ipv6-chain", [&[0u8][..], &with_hbh].concat()),
        ("ipv6-fragment", [&[0u8][..], &fragment].concat()),
        ("ipv6-ns", [&[0u8][..], &packet(IpProtocol::ICMPV6, &ns)].concat()),
        ("icmpv6-echo", [&[1u8][..], &addrs, &echo].concat()),
        ("icmpv6-too-big", [&[1u8][..], &addrs, &too_big].concat()),
        ("icmpv6-ra", [&[1u8][..], &addrs, &ra].concat()),
        ("icmpv6-ns", [&[1u8][..], &addrs, &ns].concat()),
        ("ndp-ra", [&[2u8, 1][..], &ra[4..]].concat()),
        ("quote-chain", [&[3u8][..], &packet(IpProtocol::HOP_BY_HOP, &chain)].concat()),
        ("udp6", [&[4u8][..], &addrs, &udp].concat()),
        ("tcp6", [&[5u8][..], &addrs, &tcp].concat()),
        ("walk-from", [&[6u8, 60, 8, 0][..], &chain].concat()),
    ];
    seeds.push(("ipv6-tcp", [&[0u8][..], &packet(IpProtocol::Tcp, &tcp)].concat()));
    seeds.into_iter().map(|(name, bytes)| (format!("seed-{name}"), bytes)).collect()
}
