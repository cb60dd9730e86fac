//! Shared pieces of synack's fuzz targets: an independent (etherparse) check of every frame a stack emits,
//! raw frame builders that can express malformed headers, and the two scenarios the stateful targets run.
//!
//! The targets themselves (`fuzz_targets/*.rs`) are thin wrappers around [`wire`], [`handle`] and [`link`].

pub mod build;
pub mod dhcp_dns;
pub mod handle;
pub mod link;
pub mod seeds;
pub mod wire;
pub mod wire6;

use core::net::Ipv4Addr;
use etherparse as ep;
use synack::wire::EthernetAddress;
use synack::{Command, Output};

/// Checks one frame a stack emitted: etherparse parses it, every checksum verifies, it is at least 60 bytes
/// and at most the MTU, and it comes from the stack's own MAC (and IPv4 address). Panics otherwise.
pub fn check_transmit(frame: &[u8], mac: EthernetAddress, ip: Ipv4Addr, mtu: usize) {
    assert!(frame.len() >= 60, "runt frame of {} bytes: {frame:02x?}", frame.len());
    assert!(frame.len() <= 14 + mtu, "frame of {} bytes exceeds the MTU {mtu}", frame.len());
    let headers = ep::PacketHeaders::from_ethernet_slice(frame)
        .unwrap_or_else(|e| panic!("etherparse rejects an emitted frame ({e:?}): {frame:02x?}"));
    let Some(ep::LinkHeader::Ethernet2(eth)) = &headers.link else { panic!("no Ethernet header: {frame:02x?}") };
    assert_eq!(eth.source, mac.0, "Ethernet source is not the stack's MAC");
    let eth_dst = EthernetAddress(eth.destination);
    assert!(eth_dst != mac, "frame sent to ourselves");
    let ipv6_group = eth_dst.0[..2] == [0x33, 0x33];
    assert!(
        eth_dst.is_broadcast() || ipv6_group || (eth_dst.is_unicast() && eth_dst.0 != [0; 6]),
        "frame sent to {eth_dst}"
    );
    assert!(!ipv6_group || matches!(headers.net, Some(ep::NetHeaders::Ipv6(..))), "IPv6 group MAC for non-IPv6");
    match &headers.net {
        Some(ep::NetHeaders::Arp(arp)) => {
            let arp = arp.try_eth_ipv4().expect("emitted ARP is not Ethernet/IPv4");
            assert_eq!(arp.sender_mac, mac.0);
            assert_eq!(arp.sender_ipv4_addr(), ip);
            match arp.operation {
                ep::ArpOperation::REQUEST => assert_eq!(eth.destination, [0xff; 6]),
                ep::ArpOperation::REPLY => assert_eq!(eth.destination, arp.target_mac),
                other => panic!("emitted ARP operation {other:?}"),
            }
        }
        Some(ep::NetHeaders::Ipv4(h, _)) => {
            assert_eq!(h.source, ip.octets(), "IPv4 source is not the stack's address");
            let dst = Ipv4Addr::from(h.destination);
            assert!(
                !(dst == ip || dst.is_unspecified() || dst.is_multicast() || dst.is_loopback()),
                "datagram sent to {dst}"
            );
            assert_eq!(h.header_checksum, h.calc_header_checksum(), "IPv4 header checksum: {frame:02x?}");
            if h.is_fragmenting_payload() {
                // Datagrams larger than the link leave as fragments: never TCP, never with DF, whole 8-byte
                // units in every fragment but the last.
                assert_ne!(h.protocol, ep::IpNumber::TCP, "TCP fragmented: {frame:02x?}");
                assert!(!h.dont_fragment, "a fragment with DF set");
                let len = usize::from(h.total_len) - h.header_len();
                assert!(!h.more_fragments || len % 8 == 0, "a fragment of {len} bytes before the last");
                return;
            }
            let payload = headers.payload.slice();
            match &headers.transport {
                Some(ep::TransportHeader::Udp(udp)) => {
                    assert_eq!(usize::from(udp.length), 8 + payload.len());
                    assert_eq!(udp.checksum, udp.calc_checksum_ipv4(h, payload).unwrap(), "UDP checksum");
                }
                Some(ep::TransportHeader::Tcp(tcp)) => {
                    assert_eq!(tcp.checksum, tcp.calc_checksum_ipv4(h, payload).unwrap(), "TCP checksum");
                    for option in tcp.options_iterator() {
                        option.expect("emitted TCP option does not parse");
                    }
                    assert!(!(tcp.syn && tcp.fin), "SYN+FIN emitted: {frame:02x?}");
                    assert!(!(tcp.syn && tcp.rst), "SYN+RST emitted: {frame:02x?}");
                    assert!(tcp.source_port != 0 && tcp.destination_port != 0, "TCP port 0 emitted");
                }
                Some(ep::TransportHeader::Icmpv4(icmp)) => {
                    assert_eq!(icmp.checksum, icmp.icmp_type.calc_checksum(payload), "ICMP checksum");
                }
                other => panic!("unexpected transport {other:?} in an emitted frame: {frame:02x?}"),
            }
        }
        Some(ep::NetHeaders::Ipv6(h, exts)) => {
            if let Some(f) = exts.fragment.as_ref().filter(|f| f.is_fragmenting_payload()) {
                // A packet larger than the path, sent in fragments: never TCP.
                assert_ne!(f.next_header, ep::IpNumber::TCP, "TCP fragmented over IPv6: {frame:02x?}");
                return;
            }
            check_ipv6(frame, h, &headers, mac, ipv6_group)
        }
        other => panic!("unexpected network layer {other:?} in an emitted frame"),
    }
}

/// An emitted IPv6 packet: never from a multicast address, never to ::, loopback or a mapped address; a group
/// MAC only for the matching multicast group (RFC 2464 §7); checksums right; NDP with hop limit 255.
fn check_ipv6(frame: &[u8], h: &ep::Ipv6Header, headers: &ep::PacketHeaders<'_>, mac: EthernetAddress, group: bool) {
    let (src, dst) = (std::net::Ipv6Addr::from(h.source), std::net::Ipv6Addr::from(h.destination));
    assert!(!src.is_multicast() && !src.is_loopback(), "IPv6 source {src}: {frame:02x?}");
    assert!(!dst.is_unspecified() && !dst.is_loopback() && dst.to_ipv4_mapped().is_none(), "IPv6 to {dst}");
    if group {
        assert!(dst.is_multicast(), "group MAC for unicast {dst}");
        assert_eq!(frame[2..6], dst.octets()[12..], "group MAC does not match {dst}");
    } else {
        assert!(!dst.is_multicast(), "multicast {dst} to a unicast MAC");
    }
    let _ = mac;
    let payload = headers.payload.slice();
    match &headers.transport {
        Some(ep::TransportHeader::Udp(udp)) => {
            assert_eq!(udp.checksum, udp.calc_checksum_ipv6(h, payload).unwrap(), "UDP checksum over IPv6");
            assert_ne!(udp.checksum, 0, "UDP over IPv6 without a checksum");
        }
        Some(ep::TransportHeader::Tcp(tcp)) => {
            assert_eq!(tcp.checksum, tcp.calc_checksum_ipv6(h, payload).unwrap(), "TCP checksum over IPv6");
            assert!(!(tcp.syn && tcp.fin) && !(tcp.syn && tcp.rst), "bad TCP flags: {frame:02x?}");
        }
        Some(ep::TransportHeader::Icmpv6(icmp)) => {
            let sum = icmp.icmp_type.calc_checksum(h.source, h.destination, payload).unwrap();
            assert_eq!(icmp.checksum, sum, "ICMPv6 checksum");
            if (133..=137).contains(&icmp.icmp_type.type_u8()) {
                assert_eq!(h.hop_limit, 255, "NDP with hop limit {}", h.hop_limit);
            }
        }
        other => panic!("unexpected transport {other:?} over IPv6: {frame:02x?}"),
    }
}

/// Checks the outputs of one command: exactly one `Reply`, first; and a reply consistent with the command.
pub fn check_command_outputs(cmd: &Command, out: &[Output]) {
    let Some(Output::Reply(reply)) = out.first() else { panic!("{cmd:?}: first output is not the reply: {out:?}") };
    let replies = out.iter().filter(|o| matches!(o, Output::Reply(_))).count();
    assert_eq!(replies, 1, "{cmd:?}: {replies} replies: {out:?}");
    check_reply(cmd, reply);
}

/// Checks that a command's reply is consistent with the command (a send accepts at most what it offered, a
/// read returns at most `max` bytes, only sending commands reply `Sent`).
pub fn check_reply(cmd: &Command, reply: &Result<synack::Reply, synack::CommandError>) {
    match (cmd, reply) {
        (Command::TcpSend { data, .. }, Ok(synack::Reply::Sent { len })) => {
            assert!(*len <= data.len(), "{cmd:?}: accepted {len} of {} bytes", data.len())
        }
        (Command::TcpRecv { max, .. }, Ok(synack::Reply::Data(d))) => {
            assert!(d.len() <= *max, "{cmd:?}: returned {} bytes", d.len())
        }
        (Command::TcpSend { .. } | Command::UdpSendTo { .. } | Command::Ping { .. }, _) => {}
        (_, Ok(synack::Reply::Sent { .. })) => panic!("{cmd:?}: Sent for a command that sends nothing"),
        _ => {}
    }
}
