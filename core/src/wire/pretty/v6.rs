//! The IPv6 half of the one-line frame summaries: the IPv6 header and its extension headers, ICMPv6 (errors with
//! the packet they quote, echo, neighbour discovery). TCP and UDP inside IPv6 are summarised by the parent's
//! functions, which take the addresses of either family.

use super::{protocol_name, tcp_summary, udp_summary, Addrs, Checksums, BAD_CHECKSUM};
use crate::wire::icmpv6::{self, Icmpv6DstUnreachable, Icmpv6Packet, Icmpv6TimeExceeded};
use crate::wire::ipv4::{EcnCodepoint, IpProtocol};
use crate::wire::ipv6::{ExtHeaderWalk, Ipv6Packet, ParamProblem};
use crate::wire::ndp::NdpRepr;
use core::net::Ipv6Addr;

pub(super) fn ipv6_summary(bytes: &[u8], checksums: Checksums) -> String {
    let packet = match Ipv6Packet::new_checked(bytes) {
        Ok(packet) => packet,
        Err(e) => return format!("malformed IPv6: {e}"),
    };
    let (src, dst) = (packet.src_addr(), packet.dst_addr());
    // Walk offsets count from the IPv6 header; the payload starts after its 40 bytes.
    let upper = |offset: usize| offset.saturating_sub(crate::wire::ipv6::HEADER_LEN);
    let mut line = match crate::wire::ipv6::walk(&packet) {
        Ok(ExtHeaderWalk::Upper { protocol, offset, .. }) => {
            let payload = &packet.payload()[upper(offset)..];
            match protocol {
                IpProtocol::Tcp => tcp_summary(Addrs::V6(src, dst), payload, checksums),
                IpProtocol::Udp => udp_summary(Addrs::V6(src, dst), payload, checksums),
                _ => icmpv6_summary(src, dst, payload, checksums),
            }
        }
        Ok(ExtHeaderWalk::Fragment { fragment, offset }) => {
            let mf = if fragment.more_frags { " MF" } else { "" };
            format!(
                "{src} > {dst} IPv6 fragment id={} off={} len={}{mf} next={}",
                fragment.ident,
                fragment.frag_offset,
                packet.payload().len() - upper(offset),
                protocol_name(fragment.next_header),
            )
        }
        Ok(ExtHeaderWalk::NoNextHeader) => format!("{src} > {dst} IPv6 no-next-header len={}", packet.payload_len()),
        Ok(ExtHeaderWalk::Discard { pointer }) => {
            format!("{src} > {dst} IPv6 [unrecognized option at {pointer}: discard]")
        }
        Ok(ExtHeaderWalk::ParameterProblem { code, pointer }) => {
            let what = match code {
                ParamProblem::UnrecognizedNextHeader => {
                    format!("unrecognized next header {}", packet_byte(bytes, pointer))
                }
                ParamProblem::UnrecognizedOption => "unrecognized option".into(),
                _ => "erroneous header field".into(),
            };
            format!("{src} > {dst} IPv6 [{what} at {pointer}]")
        }
        Err(e) => format!("{src} > {dst} malformed IPv6 extension headers: {e}"),
    };
    let ecn = packet.ecn();
    if ecn != EcnCodepoint::NotEct {
        line += &format!(" {ecn}");
    }
    line
}

/// The byte at `at`, for naming a header value a walk stopped at (0 if out of range, which it is not).
fn packet_byte(bytes: &[u8], at: usize) -> u8 {
    bytes.get(at).copied().unwrap_or(0)
}

fn icmpv6_summary(src: Ipv6Addr, dst: Ipv6Addr, bytes: &[u8], checksums: Checksums) -> String {
    use icmpv6::msg_type as t;
    let packet = match Icmpv6Packet::new_checked(bytes) {
        Ok(packet) => packet,
        Err(e) => return format!("{src} > {dst} malformed ICMPv6: {e}"),
    };
    let (ty, code, data) = (packet.msg_type(), packet.msg_code(), packet.data());
    let body = match ty {
        t::ECHO_REQUEST | t::ECHO_REPLY => {
            let name = if ty == t::ECHO_REQUEST { "echo-request" } else { "echo-reply" };
            format!("{name} id={} seq={} len={}", packet.echo_ident(), packet.echo_seq_no(), data.len())
        }
        t::DST_UNREACHABLE => {
            let reason = match Icmpv6DstUnreachable::from(code) {
                Icmpv6DstUnreachable::NoRoute => "no-route".into(),
                Icmpv6DstUnreachable::AdminProhibited => "admin-prohibited".into(),
                Icmpv6DstUnreachable::BeyondScope => "beyond-scope".into(),
                Icmpv6DstUnreachable::AddrUnreachable => "addr-unreachable".into(),
                Icmpv6DstUnreachable::PortUnreachable => "port-unreachable".into(),
                Icmpv6DstUnreachable::FailedPolicy => "failed-policy".into(),
                Icmpv6DstUnreachable::RejectRoute => "reject-route".into(),
                Icmpv6DstUnreachable::Other(code) => format!("unreachable code={code}"),
            };
            format!("{reason} {}", quote_v6_summary(data, false))
        }
        t::PACKET_TOO_BIG => format!("packet-too-big mtu={} {}", packet.mtu(), quote_v6_summary(data, false)),
        t::TIME_EXCEEDED => {
            let reason = match Icmpv6TimeExceeded::from(code) {
                Icmpv6TimeExceeded::HopLimitExceeded => "time-exceeded".into(),
                Icmpv6TimeExceeded::FragReassembly => "reassembly-time-exceeded".into(),
                Icmpv6TimeExceeded::Other(code) => format!("time-exceeded code={code}"),
            };
            format!("{reason} {}", quote_v6_summary(data, true))
        }
        t::PARAM_PROBLEM => {
            let reason = match ParamProblem::from(code) {
                ParamProblem::ErroneousHeaderField => "erroneous-header-field".into(),
                ParamProblem::UnrecognizedNextHeader => "unrecognized-next-header".into(),
                ParamProblem::UnrecognizedOption => "unrecognized-option".into(),
                ParamProblem::IncompleteHeaderChain => "incomplete-header-chain".into(),
                ParamProblem::Other(code) => format!("code={code}"),
            };
            format!("param-problem {reason} pointer={} {}", packet.pointer(), quote_v6_summary(data, false))
        }
        t::ROUTER_SOLICIT..=t::REDIRECT => match NdpRepr::parse(&packet) {
            Ok(ndp) => ndp_summary(&ndp, src),
            Err(e) => format!("malformed NDP type={ty}: {e}"),
        },
        other => format!("type={other} code={code} len={}", data.len()),
    };
    let verified = checksums == Checksums::HeaderOnly || packet.verify_checksum(&src, &dst);
    let bad = if verified { "" } else { BAD_CHECKSUM };
    format!("{src} > {dst} ICMPv6 {body}{bad}")
}

/// `NS who-has fe80::1 tell fe80::2 lladdr 02:00:00:00:00:02`, `NA fe80::1 is-at 02:00:00:00:00:01 [S O]`,
/// `RA hlim=64 lifetime=1800s ... prefix 2001:db8::/64 valid=2592000s preferred=604800s LA`, ...
fn ndp_summary(ndp: &NdpRepr<'_>, src: Ipv6Addr) -> String {
    let lladdr = |a: &Option<crate::wire::EthernetAddress>| a.map_or(String::new(), |a| format!(" lladdr {a}"));
    let flags = |named: &[(bool, &str)]| {
        let set: Vec<&str> = named.iter().filter(|(on, _)| *on).map(|(_, n)| *n).collect();
        if set.is_empty() {
            String::new()
        } else {
            format!(" [{}]", set.join(" "))
        }
    };
    match ndp {
        NdpRepr::RouterSolicit { source_lladdr } => format!("RS{}", lladdr(source_lladdr)),
        NdpRepr::RouterAdvert {
            hop_limit,
            managed,
            other,
            router_lifetime,
            reachable_time,
            retrans_time,
            source_lladdr,
            mtu,
            prefixes,
        } => {
            let mut line = format!(
                "RA hlim={hop_limit} lifetime={router_lifetime}s reachable={reachable_time}ms retrans={retrans_time}ms{}{}",
                flags(&[(*managed, "M"), (*other, "O")]),
                lladdr(source_lladdr)
            );
            if let Some(mtu) = mtu {
                line += &format!(" mtu={mtu}");
            }
            for p in prefixes.iter() {
                let la = match (p.on_link, p.autonomous) {
                    (true, true) => " LA",
                    (true, false) => " L",
                    (false, true) => " A",
                    (false, false) => "",
                };
                line += &format!(
                    " prefix {}/{} valid={}s preferred={}s{la}",
                    p.prefix, p.prefix_len, p.valid_lifetime, p.preferred_lifetime
                );
            }
            line
        }
        NdpRepr::NeighborSolicit { target, source_lladdr } => {
            format!("NS who-has {target} tell {src}{}", lladdr(source_lladdr))
        }
        NdpRepr::NeighborAdvert { router, solicited, override_, target, target_lladdr } => {
            let at = target_lladdr.map_or(String::new(), |a| format!(" is-at {a}"));
            format!("NA {target}{at}{}", flags(&[(*router, "R"), (*solicited, "S"), (*override_, "O")]))
        }
        NdpRepr::Redirect { target, destination, target_lladdr } => {
            format!("redirect {destination} to {target}{}", lladdr(target_lladdr))
        }
    }
}

/// `for [2001:db8::1]:40000 > [2001:db8::2]:9 UDP` from the packet an ICMPv6 error quotes; with `hlim`, the
/// quoted hop limit too.
fn quote_v6_summary(quote: &[u8], hlim: bool) -> String {
    let q = match icmpv6::QuotedPacket::parse(quote) {
        Ok(q) => q,
        Err(crate::wire::Error::Truncated) => return "for [truncated quote]".into(),
        Err(_) => return "for [malformed quote]".into(),
    };
    let (src, dst) = (q.src_addr(), q.dst_addr());
    let mut line = match (q.protocol(), q.src_port().zip(q.dst_port())) {
        (Some(p), Some((sp, dp))) => format!("for {} {}", Addrs::V6(src, dst).with_ports(sp, dp), protocol_name(p)),
        (Some(p), None) => format!("for {src} > {dst} {}", protocol_name(p)),
        (None, _) => format!("for {src} > {dst}"),
    };
    if hlim {
        line += &format!(" hlim={}", Ipv6Packet::new_unchecked(q.header()).hop_limit());
    }
    line
}

#[cfg(test)]
mod tests {
    use super::super::{frame_summary, truncated_frame_summary};
    use super::*;
    use crate::tcp::SeqNum;
    use crate::wire::ethernet::{frame_len, EthernetAddress, EthernetRepr};
    use crate::wire::ethernet::{EtherType, EthernetFrame};
    use crate::wire::icmpv6::{Icmpv6Repr, QuotedPacket};
    use crate::wire::ipv6::{self, Ipv6Repr};
    use crate::wire::ndp::{PrefixInformation, Prefixes};
    use crate::wire::tcp::TcpRepr;
    use crate::wire::tcp::{TcpFlags, TcpOptions, TcpPacket};
    use crate::wire::udp::UdpPacket;
    use crate::wire::udp::UdpRepr;

    const A: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    const B: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);
    const MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);

    fn frame(src: Ipv6Addr, dst: Ipv6Addr, next_header: IpProtocol, ecn: EcnCodepoint, payload: &[u8]) -> Vec<u8> {
        let ip = Ipv6Repr {
            src_addr: src,
            dst_addr: dst,
            next_header,
            payload_len: payload.len(),
            hop_limit: 64,
            dscp: 0,
            ecn,
            flow_label: 0,
        };
        let mut bytes = vec![0u8; frame_len(ipv6::HEADER_LEN + payload.len())];
        let mut eth = EthernetFrame::new_unchecked(&mut bytes[..]);
        EthernetRepr { src_addr: MAC, dst_addr: MAC, ethertype: EtherType::Ipv6 }.emit(&mut eth);
        let mut packet = Ipv6Packet::new_unchecked(eth.payload_mut());
        ip.emit(&mut packet);
        packet.payload_mut().copy_from_slice(payload);
        bytes
    }

    fn icmp(src: Ipv6Addr, dst: Ipv6Addr, repr: &Icmpv6Repr<'_>) -> Vec<u8> {
        let mut bytes = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv6Packet::new_unchecked(&mut bytes[..]), &src, &dst);
        frame(src, dst, IpProtocol::ICMPV6, EcnCodepoint::NotEct, &bytes)
    }

    fn udp_bytes(payload: &[u8]) -> Vec<u8> {
        let repr = UdpRepr { src_port: 40000, dst_port: 9, payload };
        let mut bytes = vec![0u8; repr.buffer_len()];
        repr.emit(&mut UdpPacket::new_unchecked(&mut bytes[..]), &A, &B);
        bytes
    }

    #[test]
    fn transport_over_ipv6() {
        let line = frame_summary(&frame(A, B, IpProtocol::Udp, EcnCodepoint::NotEct, &udp_bytes(b"hello")));
        assert_eq!(line, "[fe80::1]:40000 > [fe80::2]:9 UDP len=5");
        let seg = TcpRepr {
            src_port: 443,
            dst_port: 50000,
            seq_number: SeqNum(7),
            ack_number: SeqNum(9),
            flags: TcpFlags::ACK,
            window_len: 100,
            urgent_ptr: 0,
            options: TcpOptions::default(),
            payload: b"abc",
        };
        let mut bytes = vec![0u8; seg.buffer_len()];
        seg.emit(&mut TcpPacket::new_unchecked(&mut bytes[..]), &A, &B);
        let line = frame_summary(&frame(A, B, IpProtocol::Tcp, EcnCodepoint::Ect0, &bytes));
        assert_eq!(line, "[fe80::1]:443 > [fe80::2]:50000 TCP [.] seq=7 ack=9 win=100 len=3 ECT(0)");
        bytes[19] ^= 1;
        let line = frame_summary(&frame(A, B, IpProtocol::Tcp, EcnCodepoint::NotEct, &bytes));
        assert!(line.ends_with("len=3 [bad checksum]"), "{line}");
        // Behind extension headers: hop-by-hop with PadN.
        let mut with_hbh = vec![17, 0, 1, 4, 0, 0, 0, 0];
        with_hbh.extend(udp_bytes(b"x"));
        let line = frame_summary(&frame(A, B, IpProtocol::HOP_BY_HOP, EcnCodepoint::NotEct, &with_hbh));
        assert_eq!(line, "[fe80::1]:40000 > [fe80::2]:9 UDP len=1");
        let line = frame_summary(&frame(A, B, IpProtocol::Udp, EcnCodepoint::NotEct, &[0, 1, 0, 2, 0, 4, 0, 0]));
        assert_eq!(line, "fe80::1 > fe80::2 malformed UDP: bad length field");
    }

    #[test]
    fn extension_header_outcomes() {
        let fragment = [17u8, 0, 0x05, 0xa9, 0, 0, 0, 5, 1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(
            frame_summary(&frame(A, B, IpProtocol::IPV6_FRAG, EcnCodepoint::NotEct, &fragment)),
            "fe80::1 > fe80::2 IPv6 fragment id=5 off=1448 len=8 MF next=UDP"
        );
        assert_eq!(
            frame_summary(&frame(A, B, IpProtocol::IPV6_FRAG, EcnCodepoint::NotEct, &fragment[..12])),
            "fe80::1 > fe80::2 IPv6 [erroneous header field at 4]"
        );
        assert_eq!(
            frame_summary(&frame(A, B, IpProtocol::IPV6_NO_NXT, EcnCodepoint::NotEct, &[0; 4])),
            "fe80::1 > fe80::2 IPv6 no-next-header len=4"
        );
        assert_eq!(
            frame_summary(&frame(A, B, IpProtocol::Unknown(99), EcnCodepoint::NotEct, &[0; 4])),
            "fe80::1 > fe80::2 IPv6 [unrecognized next header 99 at 6]"
        );
        assert_eq!(
            frame_summary(&frame(A, B, IpProtocol::IPV6_OPTS, EcnCodepoint::NotEct, &[17, 0, 0x9e, 0, 0, 0, 0, 0])),
            "fe80::1 > fe80::2 IPv6 [unrecognized option at 42]"
        );
        assert_eq!(
            frame_summary(&frame(A, B, IpProtocol::IPV6_OPTS, EcnCodepoint::NotEct, &[17, 0, 0x5e, 0, 0, 0, 0, 0])),
            "fe80::1 > fe80::2 IPv6 [unrecognized option at 42: discard]"
        );
        assert_eq!(
            frame_summary(&frame(A, B, IpProtocol::IPV6_ROUTE, EcnCodepoint::NotEct, &[17, 0, 0, 1, 0, 0, 0, 0])),
            "fe80::1 > fe80::2 IPv6 [erroneous header field at 42]"
        );
        assert_eq!(
            frame_summary(&frame(A, B, IpProtocol::IPV6_OPTS, EcnCodepoint::NotEct, &[17, 4])),
            "fe80::1 > fe80::2 malformed IPv6 extension headers: truncated"
        );
        let mut short = frame(A, B, IpProtocol::Udp, EcnCodepoint::NotEct, &[0; 4]);
        short[ethernet_payload_len_at()] = 0x10;
        assert_eq!(frame_summary(&short), "malformed IPv6: truncated");
    }

    /// Where the IPv6 payload length's high byte sits in a frame.
    fn ethernet_payload_len_at() -> usize {
        crate::wire::ethernet::HEADER_LEN + 4
    }

    #[test]
    fn icmpv6_messages() {
        let echo = Icmpv6Repr::EchoRequest { ident: 1, seq_no: 2, data: b"abcd" };
        assert_eq!(frame_summary(&icmp(A, B, &echo)), "fe80::1 > fe80::2 ICMPv6 echo-request id=1 seq=2 len=4");
        let mut quoted = vec![0u8; 40];
        let original = Ipv6Repr {
            src_addr: B,
            dst_addr: A,
            next_header: IpProtocol::Udp,
            payload_len: 13,
            hop_limit: 1,
            dscp: 0,
            ecn: EcnCodepoint::NotEct,
            flow_label: 0,
        };
        original.emit(&mut Ipv6Packet::new_unchecked(&mut quoted[..]));
        quoted.extend([0x9c, 0x40, 0, 9, 0, 13, 0, 0]);
        assert!(QuotedPacket::parse(&quoted).is_ok());
        for (repr, expected) in [
            (
                Icmpv6Repr::DstUnreachable {
                    reason: crate::wire::Icmpv6DstUnreachable::PortUnreachable,
                    original: &quoted,
                },
                "port-unreachable for [fe80::2]:40000 > [fe80::1]:9 UDP",
            ),
            (
                Icmpv6Repr::PacketTooBig { mtu: 1280, original: &quoted },
                "packet-too-big mtu=1280 for [fe80::2]:40000 > [fe80::1]:9 UDP",
            ),
            (
                Icmpv6Repr::TimeExceeded {
                    reason: crate::wire::Icmpv6TimeExceeded::HopLimitExceeded,
                    original: &quoted,
                },
                "time-exceeded for [fe80::2]:40000 > [fe80::1]:9 UDP hlim=1",
            ),
            (
                Icmpv6Repr::ParamProblem {
                    reason: ParamProblem::UnrecognizedNextHeader,
                    pointer: 6,
                    original: &quoted,
                },
                "param-problem unrecognized-next-header pointer=6 for [fe80::2]:40000 > [fe80::1]:9 UDP",
            ),
            (
                Icmpv6Repr::DstUnreachable {
                    reason: crate::wire::Icmpv6DstUnreachable::NoRoute,
                    original: &quoted[..40],
                },
                "no-route for fe80::2 > fe80::1 UDP",
            ),
        ] {
            assert_eq!(frame_summary(&icmp(A, B, &repr)), format!("fe80::1 > fe80::2 ICMPv6 {expected}"));
        }
        let mut bad = icmp(A, B, &echo);
        let last = bad.len() - 1;
        bad[last - 1] ^= 1; // the echo data (a 66-byte frame: no Ethernet padding)
        assert!(frame_summary(&bad).ends_with(" [bad checksum]"), "{}", frame_summary(&bad));
    }

    #[test]
    fn neighbor_discovery() {
        let target: Ipv6Addr = "fe80::1".parse().unwrap();
        let ns = Icmpv6Repr::Ndp(NdpRepr::NeighborSolicit { target, source_lladdr: Some(MAC) });
        let group = ipv6::solicited_node(&target);
        assert_eq!(
            frame_summary(&icmp(B, group, &ns)),
            "fe80::2 > ff02::1:ff00:1 ICMPv6 NS who-has fe80::1 tell fe80::2 lladdr 02:00:00:00:00:01"
        );
        let na = Icmpv6Repr::Ndp(NdpRepr::NeighborAdvert {
            router: false,
            solicited: true,
            override_: true,
            target,
            target_lladdr: Some(MAC),
        });
        assert_eq!(
            frame_summary(&icmp(A, B, &na)),
            "fe80::1 > fe80::2 ICMPv6 NA fe80::1 is-at 02:00:00:00:00:01 [S O]"
        );
        let prefixes = [PrefixInformation {
            prefix_len: 64,
            on_link: true,
            autonomous: true,
            valid_lifetime: 86400,
            preferred_lifetime: 14400,
            prefix: "2001:db8::".parse().unwrap(),
        }];
        let ra = Icmpv6Repr::Ndp(NdpRepr::RouterAdvert {
            hop_limit: 64,
            managed: false,
            other: true,
            router_lifetime: 1800,
            reachable_time: 0,
            retrans_time: 0,
            source_lladdr: None,
            mtu: Some(1500),
            prefixes: Prefixes::from_slice(&prefixes),
        });
        assert_eq!(
            frame_summary(&icmp(A, ipv6::ALL_NODES, &ra)),
            "fe80::1 > ff02::1 ICMPv6 RA hlim=64 lifetime=1800s reachable=0ms retrans=0ms [O] mtu=1500 \
             prefix 2001:db8::/64 valid=86400s preferred=14400s LA"
        );
        let rs = Icmpv6Repr::Ndp(NdpRepr::RouterSolicit { source_lladdr: None });
        assert_eq!(frame_summary(&icmp(B, ipv6::ALL_ROUTERS, &rs)), "fe80::2 > ff02::2 ICMPv6 RS");
        let redirect = Icmpv6Repr::Ndp(NdpRepr::Redirect {
            target: A,
            destination: "2001:db8::7".parse().unwrap(),
            target_lladdr: None,
        });
        assert_eq!(frame_summary(&icmp(A, B, &redirect)), "fe80::1 > fe80::2 ICMPv6 redirect 2001:db8::7 to fe80::1");
        // A malformed one says why; an unknown informational type is shown by number.
        let mut bytes = vec![135u8, 0, 0, 0, 0, 0, 0, 0];
        Icmpv6Packet::new_unchecked(&mut bytes[..]).fill_checksum(&A, &B);
        let line = frame_summary(&frame(A, B, IpProtocol::ICMPV6, EcnCodepoint::NotEct, &bytes));
        assert_eq!(line, "fe80::1 > fe80::2 ICMPv6 malformed NDP type=135: truncated");
        let mut bytes = vec![200u8, 1, 0, 0, 0, 0, 0, 0];
        Icmpv6Packet::new_unchecked(&mut bytes[..]).fill_checksum(&A, &B);
        let line = frame_summary(&frame(A, B, IpProtocol::ICMPV6, EcnCodepoint::NotEct, &bytes));
        assert_eq!(line, "fe80::1 > fe80::2 ICMPv6 type=200 code=1 len=0");
    }

    #[test]
    fn a_cut_capture_skips_the_checksums() {
        let bytes = udp_bytes(&[7; 100]);
        let full = frame(A, B, IpProtocol::Udp, EcnCodepoint::NotEct, &bytes);
        let line = truncated_frame_summary(&full[..70], full.len());
        assert_eq!(line, "[fe80::1]:40000 > [fe80::2]:9 UDP len=100 caplen=70");
    }
}
