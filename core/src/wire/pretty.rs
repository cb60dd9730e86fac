//! One-line, tcpdump-like summaries of Ethernet frames, for logs and snapshot tests.
//!
//! Lines are deterministic (no timestamps, no relative sequence numbers, no TTL except where it is the
//! point: the quoted datagram of a time exceeded) and never panic: anything that does not decode says so
//! (`malformed TCP: truncated`) rather than guessing. An IPv4 datagram's ECN codepoint ends the line when it is
//! not Not-ECT (`... len=1448 ECT(0)`, `... len=1448 CE`).

use super::arp::{ArpOperation, ArpPacket, ArpRepr};
use super::ethernet::{EtherType, EthernetFrame};
use super::icmpv4::{msg_type, DstUnreachable, Icmpv4Packet, TimeExceeded};
use super::ipv4::{EcnCodepoint, IpProtocol, Ipv4Packet};
use super::tcp::{TcpFlags, TcpOptions, TcpPacket};
use super::udp::UdpPacket;
use core::net::{Ipv4Addr, Ipv6Addr};
use v6::ipv6_summary;

mod v6;

/// Fixed IPv4 header length, the least a quoted datagram must hold to name its addresses.
const IPV4_MIN_HEADER: usize = 20;
/// Bytes of a TCP or UDP header that hold the two ports.
const PORTS_LEN: usize = 4;
const IPV4_VERSION: u8 = 4;

const BAD_CHECKSUM: &str = " [bad checksum]";

/// Summarises one Ethernet frame (without FCS) in one line.
pub fn frame_summary(frame: &[u8]) -> String {
    summary(frame, Checksums::All)
}

/// Summarises a frame of which a capture kept only the first `captured.len()` of its `original_len` bytes
/// (a pcap snap length): the headers are read as they were, lengths come from the IP header, and the line
/// ends in ` caplen=N`. The IPv4 header checksum is checked if the header was kept whole; the TCP, UDP and
/// ICMP checksums, which cover bytes that were not kept, are not.
pub fn truncated_frame_summary(captured: &[u8], original_len: usize) -> String {
    if captured.len() >= original_len {
        return frame_summary(captured);
    }
    // Zeros stand in for what was not kept, so the views' length checks see the frame's real size.
    let mut frame = captured.to_vec();
    frame.resize(original_len, 0);
    format!("{} caplen={}", summary(&frame, Checksums::HeaderOnly), captured.len())
}

/// Which checksums a summary verifies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Checksums {
    All,
    /// The IPv4 header's only: the rest of the frame was not captured.
    HeaderOnly,
}

fn summary(frame: &[u8], checksums: Checksums) -> String {
    let frame = match EthernetFrame::new_checked(frame) {
        Ok(frame) => frame,
        Err(e) => return format!("malformed Ethernet: {e}"),
    };
    let payload = frame.payload();
    match frame.ethertype() {
        EtherType::Ipv4 => ipv4_summary(payload, checksums),
        EtherType::Arp => arp_summary(payload),
        EtherType::Ipv6 => ipv6_summary(payload, checksums),
        EtherType::Unknown(ty) => format!("ethertype {ty:#06x} len={}", payload.len()),
    }
}

fn arp_summary(bytes: &[u8]) -> String {
    let repr = ArpPacket::new_checked(bytes).and_then(|packet| ArpRepr::parse(&packet));
    match repr {
        Ok(arp) => match arp.operation {
            ArpOperation::Request => {
                format!("ARP who-has {} tell {}", arp.target_protocol_addr, arp.source_protocol_addr)
            }
            ArpOperation::Reply => {
                format!("ARP {} is-at {}", arp.source_protocol_addr, arp.source_hardware_addr)
            }
            ArpOperation::Unknown(op) => format!("ARP op={op}"),
        },
        Err(e) => format!("malformed ARP: {e}"),
    }
}

fn protocol_name(protocol: IpProtocol) -> String {
    match protocol {
        IpProtocol::Icmp => "ICMP".into(),
        IpProtocol::Tcp => "TCP".into(),
        IpProtocol::Udp => "UDP".into(),
        IpProtocol::ICMPV6 => "ICMPv6".into(),
        IpProtocol::Unknown(n) => n.to_string(),
    }
}

fn ipv4_summary(bytes: &[u8], checksums: Checksums) -> String {
    let packet = match Ipv4Packet::new_checked(bytes) {
        Ok(packet) => packet,
        Err(e) => return format!("malformed IPv4: {e}"),
    };
    if !packet.verify_checksum() {
        return "malformed IPv4: bad checksum".into();
    }
    let (src, dst) = (packet.src_addr(), packet.dst_addr());
    let payload = packet.payload();
    let mut line = if packet.is_fragment() {
        // Only the reassembled datagram can be checked and decoded; say what the fragment is.
        let mf = if packet.more_frags() { " MF" } else { "" };
        format!(
            "{src} > {dst} IPv4 fragment id={} off={} len={}{mf} proto={}",
            packet.ident(),
            packet.frag_offset(),
            payload.len(),
            protocol_name(packet.protocol()),
        )
    } else {
        match packet.protocol() {
            IpProtocol::Icmp => icmp_summary(src, dst, payload, checksums),
            IpProtocol::Tcp => tcp_summary(Addrs::V4(src, dst), payload, checksums),
            IpProtocol::Udp => udp_summary(Addrs::V4(src, dst), payload, checksums),
            IpProtocol::Unknown(n) => format!("{src} > {dst} IPv4 proto={n} len={}", payload.len()),
        }
    };
    // The ECN codepoint only when it says something (ECT or CE), so Not-ECT traffic decodes as it always did.
    let ecn = packet.ecn();
    if ecn != EcnCodepoint::NotEct {
        line += &format!(" {ecn}");
    }
    line
}

/// The addresses of a TCP or UDP summary: IPv4 as `10.0.0.1:80`, IPv6 in brackets as `[2001:db8::1]:80`.
#[derive(Clone, Copy)]
enum Addrs {
    V4(Ipv4Addr, Ipv4Addr),
    V6(Ipv6Addr, Ipv6Addr),
}

impl Addrs {
    /// `src > dst`, without ports.
    fn hosts(&self) -> String {
        match self {
            Addrs::V4(src, dst) => format!("{src} > {dst}"),
            Addrs::V6(src, dst) => format!("{src} > {dst}"),
        }
    }

    /// `src:port > dst:port`.
    fn with_ports(&self, src_port: u16, dst_port: u16) -> String {
        match self {
            Addrs::V4(src, dst) => format!("{src}:{src_port} > {dst}:{dst_port}"),
            Addrs::V6(src, dst) => format!("[{src}]:{src_port} > [{dst}]:{dst_port}"),
        }
    }
}

fn udp_summary(addrs: Addrs, bytes: &[u8], checksums: Checksums) -> String {
    let packet = match UdpPacket::new_checked(bytes) {
        Ok(packet) => packet,
        Err(e) => return format!("{} malformed UDP: {e}", addrs.hosts()),
    };
    let verified = match addrs {
        Addrs::V4(src, dst) => packet.verify_checksum(&src, &dst),
        Addrs::V6(src, dst) => packet.verify_checksum(&src, &dst),
    };
    let bad = if checksums == Checksums::HeaderOnly || verified { "" } else { BAD_CHECKSUM };
    let ports = (packet.src_port(), packet.dst_port());
    let mut line = format!("{} UDP len={}{bad}", addrs.with_ports(ports.0, ports.1), packet.payload().len());
    if matches!(ports, (67 | 68, 67 | 68)) {
        line += &dhcp_summary(packet.payload());
    } else if ports.0 == super::dns::PORT || ports.1 == super::dns::PORT {
        line += &dns_summary(packet.payload());
    }
    line
}

/// ` DHCPOFFER xid=0x1234abcd yiaddr=10.0.0.5`: the message type and the addresses that matter to it.
fn dhcp_summary(payload: &[u8]) -> String {
    let m = match super::dhcp::DhcpRepr::parse(payload) {
        Ok(m) => m,
        Err(e) => return format!(" malformed DHCP: {e}"),
    };
    let mut line = format!(" {} xid={:#010x}", m.message_type.name(), m.xid);
    for (name, a) in [("ciaddr", Some(m.ciaddr)), ("yiaddr", Some(m.yiaddr)), ("requested", m.requested_ip)] {
        if let Some(a) = a.filter(|a| !a.is_unspecified()) {
            line += &format!(" {name}={a}");
        }
    }
    if let Some(t) = m.lease_time {
        line += &format!(" lease={t}s");
    }
    line
}

/// ` DNS query id=0x1234 A example.com` or ` DNS response id=0x1234 rcode=0 answers=2 TC`.
fn dns_summary(payload: &[u8]) -> String {
    let m = match super::dns::DnsMessage::parse(payload) {
        Ok(m) => m,
        Err(e) => return format!(" malformed DNS: {e}"),
    };
    let kind = if m.response { "response" } else { "query" };
    let mut line = format!(" DNS {kind} id={:#06x}", m.id);
    if let Some(q) = &m.question {
        line += &format!(" type={} {}", q.qtype, q.name);
    }
    if m.response {
        line += &format!(" rcode={} answers={}", m.rcode, m.answers.len());
    }
    if m.truncated {
        line += " TC";
    }
    line
}

fn tcp_summary(addrs: Addrs, bytes: &[u8], checksums: Checksums) -> String {
    let packet = match TcpPacket::new_checked(bytes) {
        Ok(packet) => packet,
        Err(e) => return format!("{} malformed TCP: {e}", addrs.hosts()),
    };
    let flags = packet.flags();
    let ports = addrs.with_ports(packet.src_port(), packet.dst_port());
    let mut line = format!("{ports} TCP [{flags}] seq={}", packet.seq_number());
    if flags.contains(TcpFlags::ACK) {
        line += &format!(" ack={}", packet.ack_number());
    }
    line += &format!(" win={}", packet.window_len());
    if flags.contains(TcpFlags::URG) {
        line += &format!(" urg={}", packet.urgent_at());
    }
    match TcpOptions::parse(packet.options()) {
        Ok(options) => line += &options_summary(&options),
        Err(e) => line += &format!(" [{e}]"),
    }
    line += &format!(" len={}", packet.payload().len());
    let verified = match addrs {
        Addrs::V4(src, dst) => packet.verify_checksum(&src, &dst),
        Addrs::V6(src, dst) => packet.verify_checksum(&src, &dst),
    };
    if checksums == Checksums::All && !verified {
        line += BAD_CHECKSUM;
    }
    line
}

/// ` mss=1460 ws=7 sackOK ts=1/0 sack=[a-b c-d]`, each part only when present.
fn options_summary(options: &TcpOptions) -> String {
    let mut out = String::new();
    if let Some(mss) = options.mss {
        out += &format!(" mss={mss}");
    }
    if let Some(shift) = options.window_scale {
        out += &format!(" ws={shift}");
    }
    if options.sack_permitted {
        out += " sackOK";
    }
    if let Some((tsval, tsecr)) = options.timestamp {
        out += &format!(" ts={tsval}/{tsecr}");
    }
    let blocks: Vec<String> =
        options.sack_blocks.iter().flatten().map(|(left, right)| format!("{left}-{right}")).collect();
    if !blocks.is_empty() {
        out += &format!(" sack=[{}]", blocks.join(" "));
    }
    out
}

fn icmp_summary(src: Ipv4Addr, dst: Ipv4Addr, bytes: &[u8], checksums: Checksums) -> String {
    let packet = match Icmpv4Packet::new_checked(bytes) {
        Ok(packet) => packet,
        Err(e) => return format!("{src} > {dst} malformed ICMP: {e}"),
    };
    let code = packet.msg_code();
    let data = packet.data();
    let body = match packet.msg_type() {
        msg_type::ECHO_REQUEST | msg_type::ECHO_REPLY => {
            let name = if packet.msg_type() == msg_type::ECHO_REQUEST { "echo-request" } else { "echo-reply" };
            format!("{name} id={} seq={} len={}", packet.echo_ident(), packet.echo_seq_no(), data.len())
        }
        msg_type::DST_UNREACHABLE => {
            let reason = match DstUnreachable::from(code) {
                DstUnreachable::NetUnreachable => "net-unreachable".into(),
                DstUnreachable::HostUnreachable => "host-unreachable".into(),
                DstUnreachable::ProtoUnreachable => "proto-unreachable".into(),
                DstUnreachable::PortUnreachable => "port-unreachable".into(),
                DstUnreachable::FragRequired => format!("frag-needed mtu={}", packet.next_hop_mtu()),
                DstUnreachable::SrcRouteFailed => "src-route-failed".into(),
                DstUnreachable::Other(code) => format!("unreachable code={code}"),
            };
            format!("{reason} {}", quote_summary(data, false))
        }
        msg_type::TIME_EXCEEDED => {
            let reason = match TimeExceeded::from(code) {
                TimeExceeded::TtlExpired => "time-exceeded".into(),
                TimeExceeded::FragReassembly => "reassembly-time-exceeded".into(),
                TimeExceeded::Other(code) => format!("time-exceeded code={code}"),
            };
            format!("{reason} {}", quote_summary(data, true))
        }
        other => format!("type={other} code={code} len={}", data.len()),
    };
    let bad = if checksums == Checksums::HeaderOnly || packet.verify_checksum() { "" } else { BAD_CHECKSUM };
    format!("{src} > {dst} ICMP {body}{bad}")
}

/// `for 10.0.0.1:40000 > 10.0.0.2:9 UDP` from the datagram an ICMP error quotes, as far as it goes; with
/// `ttl`, the quoted TTL too (what a time exceeded is about).
fn quote_summary(quote: &[u8], ttl: bool) -> String {
    // Accessors below read only the fixed 20-byte header, which this check makes sure is there.
    if quote.len() < IPV4_MIN_HEADER {
        return "for [truncated quote]".into();
    }
    let ip = Ipv4Packet::new_unchecked(quote);
    let header_len = ip.header_len();
    if ip.version() != IPV4_VERSION || header_len < IPV4_MIN_HEADER {
        return "for [malformed quote]".into();
    }
    let (src, dst, protocol) = (ip.src_addr(), ip.dst_addr(), ip.protocol());
    let ports =
        quote.get(header_len..header_len + PORTS_LEN).filter(|_| matches!(protocol, IpProtocol::Tcp | IpProtocol::Udp));
    let mut line = match ports {
        Some(p) => format!(
            "for {src}:{} > {dst}:{} {}",
            u16::from_be_bytes([p[0], p[1]]),
            u16::from_be_bytes([p[2], p[3]]),
            protocol_name(protocol)
        ),
        None => format!("for {src} > {dst} {}", protocol_name(protocol)),
    };
    if ttl {
        line += &format!(" ttl={}", ip.ttl());
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::SeqNum;
    use crate::wire::ethernet::{frame_len, EthernetAddress, EthernetRepr};
    use crate::wire::icmpv4::Icmpv4Repr;
    use crate::wire::ipv4::Ipv4Repr;
    use crate::wire::tcp::TcpRepr;
    use crate::wire::udp::UdpRepr;
    use crate::wire::{ethernet, ipv4};

    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
    const MAC_A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
    const MAC_B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);

    fn eth_frame(ethertype: EtherType, payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![0; frame_len(payload.len())];
        let mut view = EthernetFrame::new_unchecked(&mut frame[..]);
        EthernetRepr { src_addr: MAC_A, dst_addr: MAC_B, ethertype }.emit(&mut view);
        view.payload_mut()[..payload.len()].copy_from_slice(payload);
        frame
    }

    fn ipv4_datagram(src: Ipv4Addr, dst: Ipv4Addr, protocol: IpProtocol, ttl: u8, payload: &[u8]) -> Vec<u8> {
        let repr = Ipv4Repr {
            src_addr: src,
            dst_addr: dst,
            protocol,
            payload_len: payload.len(),
            ttl,
            ident: 5,
            dont_frag: true,
            ecn: Default::default(),
        };
        let mut bytes = vec![0; ipv4::HEADER_LEN + payload.len()];
        let mut packet = Ipv4Packet::new_unchecked(&mut bytes[..]);
        repr.emit(&mut packet);
        packet.payload_mut().copy_from_slice(payload);
        bytes
    }

    fn ipv4_frame(src: Ipv4Addr, dst: Ipv4Addr, protocol: IpProtocol, payload: &[u8]) -> Vec<u8> {
        eth_frame(EtherType::Ipv4, &ipv4_datagram(src, dst, protocol, 64, payload))
    }

    fn udp(src: Ipv4Addr, dst: Ipv4Addr, src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
        let repr = UdpRepr { src_port, dst_port, payload };
        let mut bytes = vec![0; repr.buffer_len()];
        repr.emit(&mut UdpPacket::new_unchecked(&mut bytes[..]), &src, &dst);
        bytes
    }

    fn tcp(src: Ipv4Addr, dst: Ipv4Addr, repr: &TcpRepr<'_>) -> Vec<u8> {
        let mut bytes = vec![0; repr.buffer_len()];
        repr.emit(&mut TcpPacket::new_unchecked(&mut bytes[..]), &src, &dst);
        bytes
    }

    fn icmp(repr: &Icmpv4Repr<'_>) -> Vec<u8> {
        let mut bytes = vec![0; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut bytes[..]));
        bytes
    }

    fn syn() -> TcpRepr<'static> {
        TcpRepr {
            src_port: 49152,
            dst_port: 5001,
            seq_number: SeqNum(0),
            ack_number: SeqNum(0),
            flags: TcpFlags::SYN,
            window_len: 65535,
            urgent_ptr: 0,
            options: TcpOptions {
                mss: Some(1460),
                window_scale: Some(7),
                sack_permitted: true,
                sack_blocks: [None; 4],
                timestamp: Some((1, 0)),
            },
            payload: &[],
        }
    }

    fn arp(operation: ArpOperation) -> Vec<u8> {
        let repr = match operation {
            ArpOperation::Request => ArpRepr {
                operation,
                source_hardware_addr: MAC_A,
                source_protocol_addr: A,
                target_hardware_addr: EthernetAddress([0; 6]),
                target_protocol_addr: B,
            },
            _ => ArpRepr {
                operation,
                source_hardware_addr: MAC_B,
                source_protocol_addr: B,
                target_hardware_addr: MAC_A,
                target_protocol_addr: A,
            },
        };
        let mut bytes = vec![0; repr.buffer_len()];
        repr.emit(&mut ArpPacket::new_unchecked(&mut bytes[..]));
        eth_frame(EtherType::Arp, &bytes)
    }

    /// A UDP datagram from A:40000 to B:9 as an ICMP error would quote it (IPv4 header + 8 bytes).
    fn quoted_udp(ttl: u8) -> Vec<u8> {
        let mut quote = ipv4_datagram(A, B, IpProtocol::Udp, ttl, &udp(A, B, 40000, 9, b"hello"));
        quote.truncate(ipv4::HEADER_LEN + 8);
        quote
    }

    #[test]
    fn a_frame_cut_short_by_a_snap_length_reads_from_its_headers() {
        let payload = vec![7u8; 3000];
        let seg = TcpRepr { flags: TcpFlags::ACK | TcpFlags::PSH, payload: &payload, ..syn() };
        let frame = ipv4_frame(A, B, IpProtocol::Tcp, &tcp(A, B, &seg));
        let whole = frame_summary(&frame);
        assert!(whole.ends_with(" len=3000"), "{whole}");
        assert_eq!(truncated_frame_summary(&frame, frame.len()), whole, "nothing cut");
        // The first 134 bytes: every header, 40 bytes of payload. The TCP checksum covers bytes that are gone.
        assert_eq!(truncated_frame_summary(&frame[..134], frame.len()), format!("{whole} caplen=134"));
        assert_eq!(frame_summary(&frame[..134]), "malformed IPv4: truncated", "what the plain summary makes of it");
        // A damaged IP header is still found out.
        let mut bad = frame.clone();
        bad[14 + 8] ^= 1;
        assert_eq!(truncated_frame_summary(&bad[..134], bad.len()), "malformed IPv4: bad checksum caplen=134");
        let datagram = ipv4_frame(A, B, IpProtocol::Udp, &udp(A, B, 40000, 9, &payload));
        assert_eq!(
            truncated_frame_summary(&datagram[..100], datagram.len()),
            "10.0.0.1:40000 > 10.0.0.2:9 UDP len=3000 caplen=100"
        );
    }

    #[test]
    fn arp_lines() {
        assert_eq!(frame_summary(&arp(ArpOperation::Request)), "ARP who-has 10.0.0.2 tell 10.0.0.1");
        assert_eq!(frame_summary(&arp(ArpOperation::Reply)), "ARP 10.0.0.2 is-at 02:00:00:00:00:02");
    }

    #[test]
    fn icmp_echo_lines() {
        let data = [0x5a; 56];
        let request = icmp(&Icmpv4Repr::EchoRequest { ident: 1, seq_no: 3, data: &data });
        assert_eq!(
            frame_summary(&ipv4_frame(A, B, IpProtocol::Icmp, &request)),
            "10.0.0.1 > 10.0.0.2 ICMP echo-request id=1 seq=3 len=56"
        );
        let reply = icmp(&Icmpv4Repr::EchoReply { ident: 1, seq_no: 3, data: &data });
        assert_eq!(
            frame_summary(&ipv4_frame(B, A, IpProtocol::Icmp, &reply)),
            "10.0.0.2 > 10.0.0.1 ICMP echo-reply id=1 seq=3 len=56"
        );
    }

    #[test]
    fn icmp_error_lines_decode_the_quote() {
        let quote = quoted_udp(64);
        let unreachable = icmp(&Icmpv4Repr::DstUnreachable {
            reason: DstUnreachable::PortUnreachable,
            next_hop_mtu: 0,
            original: &quote,
        });
        assert_eq!(
            frame_summary(&ipv4_frame(B, A, IpProtocol::Icmp, &unreachable)),
            "10.0.0.2 > 10.0.0.1 ICMP port-unreachable for 10.0.0.1:40000 > 10.0.0.2:9 UDP"
        );

        let tcp_quote = &ipv4_datagram(A, B, IpProtocol::Tcp, 64, &tcp(A, B, &syn()))[..28];
        let frag_needed = icmp(&Icmpv4Repr::DstUnreachable {
            reason: DstUnreachable::FragRequired,
            next_hop_mtu: 1400,
            original: tcp_quote,
        });
        assert_eq!(
            frame_summary(&ipv4_frame(B, A, IpProtocol::Icmp, &frag_needed)),
            "10.0.0.2 > 10.0.0.1 ICMP frag-needed mtu=1400 for 10.0.0.1:49152 > 10.0.0.2:5001 TCP"
        );

        let quote = quoted_udp(1);
        let expired = icmp(&Icmpv4Repr::TimeExceeded { reason: TimeExceeded::TtlExpired, original: &quote });
        assert_eq!(
            frame_summary(&ipv4_frame(B, A, IpProtocol::Icmp, &expired)),
            "10.0.0.2 > 10.0.0.1 ICMP time-exceeded for 10.0.0.1:40000 > 10.0.0.2:9 UDP ttl=1"
        );
    }

    #[test]
    fn icmp_odd_messages() {
        // A quote too short to hold an IPv4 header.
        let short = icmp(&Icmpv4Repr::DstUnreachable {
            reason: DstUnreachable::HostUnreachable,
            next_hop_mtu: 0,
            original: &[0x45; 12],
        });
        assert_eq!(
            frame_summary(&ipv4_frame(B, A, IpProtocol::Icmp, &short)),
            "10.0.0.2 > 10.0.0.1 ICMP host-unreachable for [truncated quote]"
        );
        // Timestamp request: a type we do not handle.
        let mut other = [13, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0];
        Icmpv4Packet::new_unchecked(&mut other[..]).fill_checksum();
        assert_eq!(
            frame_summary(&ipv4_frame(A, B, IpProtocol::Icmp, &other)),
            "10.0.0.1 > 10.0.0.2 ICMP type=13 code=0 len=4"
        );
        assert_eq!(
            frame_summary(&ipv4_frame(A, B, IpProtocol::Icmp, &[8, 0, 0])),
            "10.0.0.1 > 10.0.0.2 malformed ICMP: truncated"
        );
    }

    #[test]
    fn dhcp_and_dns_are_named_on_their_ports() {
        use crate::wire::dhcp::{DhcpMessageType, DhcpRepr};
        use crate::wire::dns::{DnsMessage, DnsName, TYPE_A};
        let discover =
            DhcpRepr::client(DhcpMessageType::Discover, 0xabcd, crate::wire::EthernetAddress([2, 0, 0, 0, 0, 1]));
        let mut bytes = vec![0u8; discover.buffer_len()];
        discover.emit(&mut bytes);
        let line = frame_summary(&ipv4_frame(A, B, IpProtocol::Udp, &udp(A, B, 68, 67, &bytes)));
        assert!(line.ends_with("UDP len=300 DHCPDISCOVER xid=0x0000abcd"), "{line}");
        let line = frame_summary(&ipv4_frame(A, B, IpProtocol::Udp, &udp(A, B, 68, 67, &bytes[..100])));
        assert!(line.ends_with(" malformed DHCP: truncated"), "{line}");
        let query = DnsMessage::query(0x1234, DnsName::parse("web.test").unwrap(), TYPE_A).to_bytes();
        let line = frame_summary(&ipv4_frame(A, B, IpProtocol::Udp, &udp(A, B, 40000, 53, &query)));
        assert!(line.ends_with(" DNS query id=0x1234 type=1 web.test"), "{line}");
    }

    #[test]
    fn udp_line() {
        let datagram = udp(A, B, 1000, 7, b"hello");
        assert_eq!(
            frame_summary(&ipv4_frame(A, B, IpProtocol::Udp, &datagram)),
            "10.0.0.1:1000 > 10.0.0.2:7 UDP len=5"
        );
    }

    #[test]
    fn tcp_lines() {
        let segment = tcp(A, B, &syn());
        assert_eq!(
            frame_summary(&ipv4_frame(A, B, IpProtocol::Tcp, &segment)),
            "10.0.0.1:49152 > 10.0.0.2:5001 TCP [S] seq=0 win=65535 mss=1460 ws=7 sackOK ts=1/0 len=0"
        );

        let mut options = TcpOptions { timestamp: Some((9, 1)), ..TcpOptions::default() };
        options.sack_blocks[0] = Some((SeqNum(100), SeqNum(200)));
        options.sack_blocks[1] = Some((SeqNum(300), SeqNum(400)));
        let data = TcpRepr {
            src_port: 5001,
            dst_port: 49152,
            seq_number: SeqNum(1),
            ack_number: SeqNum(1001),
            flags: TcpFlags::PSH | TcpFlags::ACK,
            window_len: 512,
            urgent_ptr: 0,
            options,
            payload: b"abc",
        };
        assert_eq!(
            frame_summary(&ipv4_frame(B, A, IpProtocol::Tcp, &tcp(B, A, &data))),
            "10.0.0.2:5001 > 10.0.0.1:49152 TCP [P.] seq=1 ack=1001 win=512 ts=9/1 sack=[100-200 300-400] len=3"
        );

        let rst = TcpRepr { flags: TcpFlags::RST, options: TcpOptions::default(), payload: &[], ..data };
        assert_eq!(
            frame_summary(&ipv4_frame(B, A, IpProtocol::Tcp, &tcp(B, A, &rst))),
            "10.0.0.2:5001 > 10.0.0.1:49152 TCP [R] seq=1 win=512 len=0"
        );
    }

    #[test]
    fn ecn_codepoint_ends_the_line_unless_not_ect() {
        let segment = tcp(A, B, &syn());
        let plain = frame_summary(&ipv4_frame(A, B, IpProtocol::Tcp, &segment));
        assert!(plain.ends_with("len=0"), "{plain}");
        for (ecn, name) in [(EcnCodepoint::Ect0, "ECT(0)"), (EcnCodepoint::Ect1, "ECT(1)"), (EcnCodepoint::Ce, "CE")] {
            let mut frame = ipv4_frame(A, B, IpProtocol::Tcp, &segment);
            let mut packet = Ipv4Packet::new_unchecked(&mut frame[ethernet::HEADER_LEN..]);
            packet.set_ecn(ecn);
            packet.fill_checksum();
            assert_eq!(frame_summary(&frame), format!("{plain} {name}"));
        }
    }

    #[test]
    fn fragment_line() {
        let mut datagram = ipv4_datagram(A, B, IpProtocol::Udp, 64, &[0; 520]);
        let mut packet = Ipv4Packet::new_unchecked(&mut datagram[..]);
        packet.set_flags_and_frag_offset(false, true, 1480);
        packet.fill_checksum();
        assert_eq!(
            frame_summary(&eth_frame(EtherType::Ipv4, &datagram)),
            "10.0.0.1 > 10.0.0.2 IPv4 fragment id=5 off=1480 len=520 MF proto=UDP"
        );
    }

    #[test]
    fn malformed_and_other_lines() {
        let mut frame = ipv4_frame(A, B, IpProtocol::Udp, &udp(A, B, 1, 2, b""));
        frame[ethernet::HEADER_LEN + 8] ^= 0x01; // TTL, covered by the header checksum
        assert_eq!(frame_summary(&frame), "malformed IPv4: bad checksum");

        let segment = tcp(A, B, &syn());
        assert_eq!(
            frame_summary(&ipv4_frame(A, B, IpProtocol::Tcp, &segment[..10])),
            "10.0.0.1 > 10.0.0.2 malformed TCP: truncated"
        );
        assert_eq!(
            frame_summary(&ipv4_frame(A, B, IpProtocol::Udp, &[0, 1, 0, 2, 0, 4, 0, 0])),
            "10.0.0.1 > 10.0.0.2 malformed UDP: bad length field"
        );
        assert_eq!(
            frame_summary(&ipv4_frame(A, B, IpProtocol::Unknown(47), &[0; 24])),
            "10.0.0.1 > 10.0.0.2 IPv4 proto=47 len=24"
        );
        assert_eq!(frame_summary(&eth_frame(EtherType::Ipv6, &[0; 80])), "malformed IPv6: bad version");
        assert_eq!(frame_summary(&eth_frame(EtherType::Unknown(0x88cc), &[0; 50])), "ethertype 0x88cc len=50");
        assert_eq!(frame_summary(&[0; 13]), "malformed Ethernet: truncated");
    }

    #[test]
    fn transport_checksum_failures_are_flagged_but_decoded() {
        let mut segment = tcp(A, B, &syn());
        segment[14] ^= 0xff; // window
        assert_eq!(
            frame_summary(&ipv4_frame(A, B, IpProtocol::Tcp, &segment)),
            "10.0.0.1:49152 > 10.0.0.2:5001 TCP [S] seq=0 win=255 mss=1460 ws=7 sackOK ts=1/0 len=0 [bad checksum]"
        );
        let mut datagram = udp(A, B, 1000, 7, b"hello");
        datagram[8] ^= 0x20;
        assert_eq!(
            frame_summary(&ipv4_frame(A, B, IpProtocol::Udp, &datagram)),
            "10.0.0.1:1000 > 10.0.0.2:7 UDP len=5 [bad checksum]"
        );
        let mut request = icmp(&Icmpv4Repr::EchoRequest { ident: 1, seq_no: 3, data: b"x" });
        request[8] ^= 0x01;
        assert_eq!(
            frame_summary(&ipv4_frame(A, B, IpProtocol::Icmp, &request)),
            "10.0.0.1 > 10.0.0.2 ICMP echo-request id=1 seq=3 len=1 [bad checksum]"
        );
    }

    #[test]
    fn never_panics_on_truncated_or_corrupted_frames() {
        let quote = quoted_udp(1);
        let frames = [
            arp(ArpOperation::Request),
            ipv4_frame(A, B, IpProtocol::Tcp, &tcp(A, B, &syn())),
            ipv4_frame(A, B, IpProtocol::Udp, &udp(A, B, 1000, 7, b"hello")),
            ipv4_frame(
                B,
                A,
                IpProtocol::Icmp,
                &icmp(&Icmpv4Repr::TimeExceeded { reason: TimeExceeded::TtlExpired, original: &quote }),
            ),
        ];
        for frame in &frames {
            for len in 0..=frame.len() {
                let _ = frame_summary(&frame[..len]);
            }
            for bit in 0..frame.len() * 8 {
                let mut corrupt = frame.clone();
                corrupt[bit / 8] ^= 1 << (bit % 8);
                let line = frame_summary(&corrupt);
                assert!(!line.is_empty() && !line.contains('\n'));
            }
        }
    }
}
