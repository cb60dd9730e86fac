//! The IPv6 side of the hostile-input harness: a dual-stack configuration, IPv6 frame builders (headers and
//! checksums written by etherparse or by hand, never by the code under test), the checks every emitted IPv6
//! frame must pass, and the neighbour that answers the stack's solicitations.

use super::malformed::*;
use core::net::Ipv6Addr;
use core::time::Duration;
use etherparse as ep;
use synack::wire::EthernetAddress;
use synack::{Config, Ipv6Config};

/// The stack's configured address, and the peers on its /64 (2001:db8::1 to ::7f answer neighbour discovery).
pub const STACK_IP6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
pub const PEER_IP6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
/// A link-local neighbour (routers speak from one).
pub const PEER_LL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
pub const IP6_LEN: usize = 40;
/// IPv6's minimum link MTU: no path MTU goes below it.
pub const MIN_MTU6: usize = 1280;

pub const HOP_BY_HOP: u8 = 0;
pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const ROUTING: u8 = 43;
pub const FRAGMENT: u8 = 44;
pub const ICMPV6: u8 = 58;
pub const NO_NEXT: u8 = 59;
pub const DST_OPTS: u8 = 60;

/// ICMPv6 and NDP message types.
pub const DST_UNREACHABLE: u8 = 1;
pub const PARAM_PROBLEM: u8 = 4;
pub const ECHO_REQUEST: u8 = 128;
pub const ECHO_REPLY: u8 = 129;
pub const ROUTER_ADVERT: u8 = 134;
pub const NEIGHBOR_SOLICIT: u8 = 135;
pub const NEIGHBOR_ADVERT: u8 = 136;

/// The IPv4 configuration of the harness plus IPv6 with [`STACK_IP6`]/64 (and the link-local address).
pub fn config6(seed: u64) -> Config {
    let ipv6 = Ipv6Config { addresses: vec!["2001:db8::2/64".parse().unwrap()], ..Ipv6Config::default() };
    Config { ipv6: Some(ipv6), ..config(seed) }
}

/// The stack's link-local address (fe80::/64 plus the modified EUI-64 of its MAC), computed here.
pub fn stack_ll() -> Ipv6Addr {
    let m = STACK_MAC.0;
    let o = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]];
    Ipv6Addr::from(o)
}

pub fn is_ours6(ip: Ipv6Addr) -> bool {
    ip == STACK_IP6 || ip == stack_ll()
}

/// The MAC of an IPv6 neighbour.
pub fn mac_for6(ip: Ipv6Addr) -> EthernetAddress {
    let o = ip.octets();
    EthernetAddress([0x02, 0, 0, 6, o[14], o[15]])
}

/// Neighbours that answer solicitations: 2001:db8::1-7f and fe80::1-7f, except the stack.
pub fn answers_nd(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let on_link = s[..7] == [0x2001, 0xdb8, 0, 0, 0, 0, 0] || s[..7] == [0xfe80, 0, 0, 0, 0, 0, 0];
    on_link && (1..128).contains(&s[7]) && !is_ours6(ip)
}

/// The Ethernet address an IPv6 multicast address maps to (RFC 2464 §7).
pub fn group_mac(ip: Ipv6Addr) -> EthernetAddress {
    let o = ip.octets();
    EthernetAddress([0x33, 0x33, o[12], o[13], o[14], o[15]])
}

/// The solicited-node group of `ip` (RFC 4291 §2.7.1).
pub fn solicited_node(ip: Ipv6Addr) -> Ipv6Addr {
    let o = ip.octets();
    Ipv6Addr::from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, o[13], o[14], o[15]])
}

// ---- Frame builders --------------------------------------------------------------------------------------

/// The IPv6 header fields the builders vary.
#[derive(Clone, Copy, Debug)]
pub struct Ip6 {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub next_header: u8,
    pub hop_limit: u8,
}

impl Ip6 {
    pub fn new(src: Ipv6Addr, next_header: u8) -> Ip6 {
        Ip6 { src, dst: STACK_IP6, next_header, hop_limit: 64 }
    }

    /// A whole frame from `src`'s MAC to the stack's (or to the group's MAC for a multicast destination).
    /// `payload` is everything after the fixed header (extension headers included).
    pub fn frame(&self, payload: &[u8]) -> Vec<u8> {
        let header = ep::Ipv6Header {
            traffic_class: 0,
            flow_label: ep::Ipv6FlowLabel::ZERO,
            payload_length: u16::try_from(payload.len()).unwrap(),
            next_header: ep::IpNumber(self.next_header),
            hop_limit: self.hop_limit,
            source: self.src.octets(),
            destination: self.dst.octets(),
        };
        let mut packet = Vec::new();
        header.write(&mut packet).unwrap();
        packet.extend_from_slice(payload);
        let dst_mac = if self.dst.is_multicast() { group_mac(self.dst) } else { STACK_MAC };
        ethernet(mac_for6(self.src), dst_mac, 0x86dd, &packet)
    }
}

/// A UDP datagram from `src` to `dst` with its IPv6 checksum.
pub fn udp6(src: Ipv6Addr, dst: Ipv6Addr, src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let h = ep::UdpHeader::without_ipv4_checksum(src_port, dst_port, payload.len()).unwrap();
    let h = ep::UdpHeader { checksum: h.calc_checksum_ipv6_raw(src.octets(), dst.octets(), payload).unwrap(), ..h };
    let mut out = h.to_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

/// A SYN from `src` to the stack, with its IPv6 checksum.
pub fn tcp6_syn(src: Ipv6Addr, src_port: u16, dst_port: u16, seq: u32) -> Vec<u8> {
    let mut h = ep::TcpHeader::new(src_port, dst_port, seq, 64240);
    h.syn = true;
    h.set_options_raw(&[2, 4, 5, 0xa0]).unwrap();
    h.checksum = h.calc_checksum_ipv6_raw(src.octets(), STACK_IP6.octets(), &[]).unwrap();
    h.to_bytes().to_vec()
}

/// An ICMPv6 message: type, code, the four bytes after the checksum, then `body`; checksummed for `src` to
/// `dst`.
pub fn icmpv6(src: Ipv6Addr, dst: Ipv6Addr, ty: u8, code: u8, rest: [u8; 4], body: &[u8]) -> Vec<u8> {
    let icmp_type = ep::Icmpv6Type::Unknown { type_u8: ty, code_u8: code, bytes5to8: rest };
    let sum = icmp_type.calc_checksum(src.octets(), dst.octets(), body).unwrap();
    let mut out = vec![ty, code];
    out.extend_from_slice(&sum.to_be_bytes());
    out.extend_from_slice(&rest);
    out.extend_from_slice(body);
    out
}

pub fn echo6(src: Ipv6Addr, dst: Ipv6Addr, ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let [i0, i1] = ident.to_be_bytes();
    let [s0, s1] = seq.to_be_bytes();
    icmpv6(src, dst, ECHO_REQUEST, 0, [i0, i1, s0, s1], data)
}

/// A link-layer address option (type 1 source, 2 target).
fn lladdr_option(ty: u8, mac: EthernetAddress) -> Vec<u8> {
    let mut o = vec![ty, 1];
    o.extend_from_slice(&mac.0);
    o
}

/// A neighbour solicitation for `target` with the sender's link-layer address, from `src` to `dst`.
pub fn ns(src: Ipv6Addr, dst: Ipv6Addr, target: Ipv6Addr) -> Vec<u8> {
    let mut body = target.octets().to_vec();
    body.extend(lladdr_option(1, mac_for6(src)));
    icmpv6(src, dst, NEIGHBOR_SOLICIT, 0, [0; 4], &body)
}

/// A neighbour advertisement for `target` (override set) with its link-layer address.
pub fn na(src: Ipv6Addr, dst: Ipv6Addr, target: Ipv6Addr, solicited: bool) -> Vec<u8> {
    let flags = if solicited { 0x60 } else { 0x20 };
    let mut body = target.octets().to_vec();
    body.extend(lladdr_option(2, mac_for6(target)));
    icmpv6(src, dst, NEIGHBOR_ADVERT, 0, [flags, 0, 0, 0], &body)
}

/// A router advertisement (hop limit 64, lifetime 1800 s) with the sender's link-layer address.
pub fn ra(src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    let mut body = vec![0u8; 8]; // reachable time, retrans timer: unspecified
    body.extend(lladdr_option(1, mac_for6(src)));
    icmpv6(src, dst, ROUTER_ADVERT, 0, [64, 0, 0x07, 0x08], &body)
}

/// A frame carrying a neighbour discovery message, with the hop limit RFC 4861 requires.
pub fn nd_frame(src: Ipv6Addr, dst: Ipv6Addr, message: &[u8]) -> Vec<u8> {
    Ip6 { dst, hop_limit: 255, ..Ip6::new(src, ICMPV6) }.frame(message)
}

/// A destination options (or hop-by-hop) header naming `next`, holding `options` padded with PadN to a
/// multiple of 8 bytes.
pub fn options_header(next: u8, options: &[u8]) -> Vec<u8> {
    let mut h = vec![next, 0];
    h.extend_from_slice(options);
    match (8 - h.len() % 8) % 8 {
        0 => {}
        1 => h.push(0),
        n => {
            h.extend([1, (n - 2) as u8]);
            h.resize(h.len() + n - 2, 0);
        }
    }
    h[1] = (h.len() / 8 - 1) as u8;
    h
}

/// A fragment header: `offset` in bytes (a multiple of 8).
pub fn fragment_header(next: u8, offset: usize, more: bool, ident: u32) -> Vec<u8> {
    let offset_m = (offset as u16) | u16::from(more);
    let mut h = vec![next, 0];
    h.extend_from_slice(&offset_m.to_be_bytes());
    h.extend_from_slice(&ident.to_be_bytes());
    h
}

// ---- Checking what the stack emits ------------------------------------------------------------------------

/// Checks an emitted IPv6 frame: from our MAC and one of our addresses (or :: for duplicate address
/// detection and early router solicitations), to the group MAC of a multicast destination, hop limit 255 for
/// neighbour discovery and 64 otherwise, and every checksum right.
pub fn check_transmit6(frame: &[u8], headers: &ep::PacketHeaders<'_>, eth_dst: EthernetAddress) {
    let Some(ep::NetHeaders::Ipv6(ip, ext)) = &headers.net else { panic!("not IPv6: {frame:02x?}") };
    let (src, dst) = (Ipv6Addr::from(ip.source), Ipv6Addr::from(ip.destination));
    if let Some(f) = &ext.fragment {
        // A packet larger than the path leaves in fragments from the source: never TCP, only a Fragment header,
        // whole 8-byte units in every fragment but the last.
        assert!(ext.hop_by_hop_options.is_none() && ext.destination_options.is_none() && ext.routing.is_none());
        assert_ne!(f.next_header, ep::IpNumber::TCP, "TCP fragmented: {frame:02x?}");
        assert!(is_ours6(src), "fragment from {src}");
        if dst.is_multicast() {
            assert_eq!(eth_dst, group_mac(dst), "multicast {dst} to the wrong MAC");
        }
        let len = usize::from(ip.payload_length) - 8;
        assert!(!f.more_fragments || len % 8 == 0, "a fragment of {len} bytes before the last");
        return;
    }
    assert!(ext.is_empty(), "extension headers in an emitted packet: {frame:02x?}");
    let payload = headers.payload.slice();
    let nd = matches!(
        &headers.transport,
        Some(ep::TransportHeader::Icmpv6(i)) if (133..=137).contains(&i.icmp_type.type_u8())
    );
    assert!(is_ours6(src) || (src.is_unspecified() && nd), "IPv6 source {src} is not ours: {frame:02x?}");
    assert!(!(dst.is_unspecified() || dst.is_loopback() || is_ours6(dst)), "packet sent to {dst}");
    if dst.is_multicast() {
        assert_eq!(eth_dst, group_mac(dst), "multicast {dst} to the wrong MAC");
    } else {
        assert!(eth_dst.is_unicast() && eth_dst.0 != [0; 6], "unicast {dst} to {eth_dst}");
    }
    assert_eq!(ip.hop_limit, if nd { 255 } else { 64 }, "hop limit: {frame:02x?}");
    match &headers.transport {
        Some(ep::TransportHeader::Icmpv6(icmp)) => {
            let sum = icmp.icmp_type.calc_checksum(ip.source, ip.destination, payload).unwrap();
            assert_eq!(icmp.checksum, sum, "ICMPv6 checksum: {frame:02x?}");
        }
        Some(ep::TransportHeader::Udp(udp)) => {
            assert_eq!(usize::from(udp.length), 8 + payload.len());
            assert_eq!(udp.checksum, udp.calc_checksum_ipv6(ip, payload).unwrap(), "UDP checksum");
        }
        Some(ep::TransportHeader::Tcp(tcp)) => {
            assert_eq!(tcp.checksum, tcp.calc_checksum_ipv6(ip, payload).unwrap(), "TCP checksum");
        }
        other => panic!("unexpected transport {other:?} in an emitted IPv6 frame: {frame:02x?}"),
    }
}

/// The target of an emitted neighbour solicitation.
pub fn ns_target(frame: &[u8]) -> Option<Ipv6Addr> {
    let headers = ep::PacketHeaders::from_ethernet_slice(frame).ok()?;
    let Some(ep::TransportHeader::Icmpv6(icmp)) = &headers.transport else { return None };
    if icmp.icmp_type.type_u8() != NEIGHBOR_SOLICIT {
        return None;
    }
    let target: [u8; 16] = headers.payload.slice().get(..16)?.try_into().ok()?;
    Some(Ipv6Addr::from(target))
}

/// The advertisement a neighbour sends back to one of the stack's solicitations (not to duplicate address
/// detection probes, which come from ::), if the neighbour exists.
pub fn nd_answer(frame: &[u8]) -> Option<Vec<u8>> {
    let target = ns_target(frame).filter(|t| answers_nd(*t))?;
    let headers = ep::PacketHeaders::from_ethernet_slice(frame).ok()?;
    let Some(ep::NetHeaders::Ipv6(ip, _)) = &headers.net else { return None };
    let asker = Ipv6Addr::from(ip.source);
    if asker.is_unspecified() {
        return None;
    }
    Some(nd_frame(target, asker, &na(target, asker, target, true)))
}

// ---- The dual-stack harness -------------------------------------------------------------------------------

impl Harness {
    /// A dual-stack stack whose addresses passed duplicate address detection, that knows the peers'
    /// link-layer addresses (from their solicitations), with a UDP socket bound to [`BOUND_PORT`] on both
    /// families.
    pub fn dual(seed: u64) -> Harness {
        let mut h = Harness::with_config(config6(seed));
        for _ in 0..16 {
            let ready = h.stack.ipv6_addresses().iter().filter(|a| a.state == "preferred").count() == 2;
            if ready {
                break;
            }
            let advance = h.stack.poll_timeout().map_or(Duration::from_millis(100), |at| at - h.now);
            h.timer(advance);
        }
        let states = h.stack.ipv6_addresses();
        assert!(states.len() == 2 && states.iter().all(|a| a.state == "preferred"), "{states:?}");
        for (peer, ours) in [(PEER_IP6, STACK_IP6), (PEER_LL, stack_ll())] {
            let out = h.frame(&nd_frame(peer, solicited_node(ours), &ns(peer, solicited_node(ours), ours)));
            assert_eq!(transmits(&out).len(), 1, "no advertisement: {out:?}");
        }
        h.prime_arp_and_bind();
        h
    }
}

// ---- Property: valid IPv6 frames before mutation ----------------------------------------------------------

/// A valid IPv6 frame (or train of fragments) aimed at the stack, before mutation.
#[derive(Clone, Debug)]
pub enum Kind6 {
    Echo {
        len: usize,
        to_group: bool,
    },
    UdpBound {
        len: usize,
    },
    UdpClosed {
        len: usize,
    },
    TcpSyn {
        seq: u32,
        port: u16,
    },
    UnknownNextHeader {
        next_header: u8,
    },
    /// A UDP datagram to the bound port behind destination options headers holding these option types (each
    /// with two bytes of data).
    Options {
        headers: Vec<Vec<u8>>,
    },
    /// A UDP datagram (or an echo request) cut into fragments of `units` × 8 bytes, maybe sent in reverse.
    Fragments {
        echo: bool,
        len: usize,
        units: usize,
        reverse: bool,
        ident: u32,
    },
    NeighborSolicit {
        target_ours: bool,
    },
    NeighborAdvert {
        solicited: bool,
        to_group: bool,
    },
    RouterAdvert {
        link_local: bool,
    },
    /// An ICMPv6 error (types 1 to 4) quoting `quote_len` bytes of a UDP datagram the stack sent from
    /// `src_port`.
    Error {
        ty: u8,
        code: u8,
        src_port: u16,
        quote_len: usize,
    },
}

impl Kind6 {
    /// The frames this kind sends, from `src` (a global or link-local neighbour).
    pub fn frames(&self, src: Ipv6Addr) -> Vec<Vec<u8>> {
        let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
        match self {
            Kind6::Echo { len, to_group } => {
                let dst = if *to_group { all_nodes } else { STACK_IP6 };
                vec![Ip6 { dst, ..Ip6::new(src, ICMPV6) }.frame(&echo6(src, dst, 0x66, *len as u16, &pattern(*len)))]
            }
            Kind6::UdpBound { len } => {
                vec![Ip6::new(src, UDP).frame(&udp6(src, STACK_IP6, 5000, BOUND_PORT, &pattern(*len)))]
            }
            Kind6::UdpClosed { len } => {
                vec![Ip6::new(src, UDP).frame(&udp6(src, STACK_IP6, 5000, 9999, &pattern(*len)))]
            }
            Kind6::TcpSyn { seq, port } => vec![Ip6::new(src, TCP).frame(&tcp6_syn(src, 40000, *port, *seq))],
            Kind6::UnknownNextHeader { next_header } => vec![Ip6::new(src, *next_header).frame(&pattern(24))],
            Kind6::Options { headers } => {
                let mut payload = Vec::new();
                for (i, options) in headers.iter().enumerate() {
                    let next = if i + 1 == headers.len() { UDP } else { DST_OPTS };
                    let body: Vec<u8> = options.iter().flat_map(|&ty| [ty, 2, 0xaa, 0xbb]).collect();
                    payload.extend(options_header(next, &body));
                }
                payload.extend(udp6(src, STACK_IP6, 5000, BOUND_PORT, b"options"));
                let first = if headers.is_empty() { UDP } else { DST_OPTS };
                vec![Ip6::new(src, first).frame(&payload)]
            }
            Kind6::Fragments { echo, len, units, reverse, ident } => {
                let (next, whole) = if *echo {
                    (ICMPV6, echo6(src, STACK_IP6, 0x67, 1, &pattern(*len)))
                } else {
                    (UDP, udp6(src, STACK_IP6, 5001, BOUND_PORT, &pattern(*len)))
                };
                let chunk = units * 8;
                let mut frames: Vec<Vec<u8>> = whole
                    .chunks(chunk)
                    .enumerate()
                    .map(|(i, piece)| {
                        let offset = i * chunk;
                        let mut payload = fragment_header(next, offset, offset + piece.len() < whole.len(), *ident);
                        payload.extend_from_slice(piece);
                        Ip6::new(src, FRAGMENT).frame(&payload)
                    })
                    .collect();
                if *reverse {
                    frames.reverse();
                }
                frames
            }
            Kind6::NeighborSolicit { target_ours } => {
                let target = if *target_ours { STACK_IP6 } else { Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x99) };
                let group = solicited_node(target);
                vec![nd_frame(src, group, &ns(src, group, target))]
            }
            Kind6::NeighborAdvert { solicited, to_group } => {
                let dst = if *to_group { all_nodes } else { STACK_IP6 };
                vec![nd_frame(src, dst, &na(src, dst, src, *solicited))]
            }
            Kind6::RouterAdvert { link_local } => {
                let from = if *link_local { PEER_LL } else { src };
                vec![nd_frame(from, all_nodes, &ra(from, all_nodes))]
            }
            Kind6::Error { ty, code, src_port, quote_len } => {
                let sent = Ip6 { dst: src, ..Ip6::new(STACK_IP6, UDP) }.frame(&udp6(
                    STACK_IP6,
                    src,
                    *src_port,
                    53,
                    &pattern(32),
                ));
                let mut quote = sent[ETH_LEN..ETH_LEN + IP6_LEN + 40].to_vec();
                quote.truncate(*quote_len);
                let rest = if *ty == 2 { 1280u32.to_be_bytes() } else { [0; 4] };
                vec![Ip6::new(src, ICMPV6).frame(&icmpv6(src, STACK_IP6, *ty, *code, rest, &quote))]
            }
        }
    }
}
