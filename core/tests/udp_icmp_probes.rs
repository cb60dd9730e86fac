//! Black-box conformance probes of UDP and ICMP where a prober would see synack differ from the RFCs or Linux:
//! ICMP errors sent to a broadcast, unpredictable ephemeral ports, per-host ICMP error limits. (The DHCP ones,
//! DECLINE's secs and the renewal retransmission floor, are in `dhcp.rs`.)

mod common;

use common::malformed::*;
use core::net::{Ipv4Addr, SocketAddr};
use etherparse as ep;
use synack::wire::EthernetAddress;
use synack::{Command, Event, Output, Reply};

// ---- helpers ---------------------------------------------------------------------------------------------------

fn inet_checksum(data: &[u8]) -> u16 {
    let mut sum = 0u32;
    for c in data.chunks(2) {
        let w = u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]);
        sum += u32::from(w);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An ICMP message of `ty`/`code` with the 4-byte rest-of-header `rest` and `body`, checksum filled.
fn icmp(ty: u8, code: u8, rest: [u8; 4], body: &[u8]) -> Vec<u8> {
    let mut m = vec![ty, code, 0, 0];
    m.extend_from_slice(&rest);
    m.extend_from_slice(body);
    let c = inet_checksum(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// What an ICMP error about our UDP datagram STACK_IP:`sport` -> PEER_IP:`dport` quotes: its IP header + 8 bytes.
fn quoted_udp(sport: u16, dport: u16) -> Vec<u8> {
    let udp = ep::UdpHeader { source_port: sport, destination_port: dport, length: 12, checksum: 0 };
    let mut ip = ep::Ipv4Header::new(12, 64, ep::IpNumber::UDP, STACK_IP.octets(), PEER_IP.octets()).unwrap();
    ip.header_checksum = ip.calc_header_checksum();
    let mut out = ip.to_bytes().to_vec();
    out.extend_from_slice(&udp.to_bytes());
    out
}

fn icmp_frame(ip: Ip, eth_dst: EthernetAddress, payload: &[u8]) -> Vec<u8> {
    let mut packet = Vec::new();
    ip.header(payload.len()).write(&mut packet).unwrap();
    packet.extend_from_slice(payload);
    ethernet(mac_for(ip.src), eth_dst, 0x0800, &packet)
}

fn unreachable_events(out: &[Output]) -> usize {
    out.iter().filter(|o| matches!(o, Output::Event(_, Event::Unreachable { .. }))).count()
}

/// ICMP messages the stack transmitted: (type, code).
fn icmp_sent(out: &[Output]) -> Vec<(u8, u8)> {
    transmits(out)
        .into_iter()
        .filter_map(|f| {
            let h = ep::PacketHeaders::from_ethernet_slice(f).ok()?;
            match h.transport? {
                ep::TransportHeader::Icmpv4(i) => {
                    let b = i.to_bytes();
                    Some((b[0], b[1]))
                }
                _ => None,
            }
        })
        .collect()
}

// ---- 1. ICMP errors addressed to a broadcast address --------------------------------------------------------

/// Linux `icmp_rcv`: an ICMP message to a broadcast or multicast address is dropped unless it is an echo,
/// timestamp or address-mask message (RFC 1122 §3.2.2 forbids *sending* errors to broadcasts, so one that
/// arrives as a broadcast is bogus). synack handed a broadcast "port unreachable" to the UDP socket it quoted,
/// so one frame to 10.0.0.255 reached every synack host on the link.
#[test]
fn icmp_error_sent_to_a_broadcast_address_is_ignored() {
    let mut h = Harness::primed(1);
    let err = icmp(3, 3, [0; 4], &quoted_udp(BOUND_PORT, 9));
    // Sanity: unicast to us, the bound socket hears of it.
    let out = h.frame(&Ip::new(PEER_IP, 1).frame(&err));
    assert_eq!(unreachable_events(&out), 1, "unicast error not delivered: {out:?}");
    // The same error to the directed broadcast address (and limited broadcast): Linux drops it.
    for dst in [Ipv4Addr::new(10, 0, 0, 255), Ipv4Addr::BROADCAST] {
        let ip = Ip { dst, ..Ip::new(PEER_IP, 1) };
        let out = h.frame(&icmp_frame(ip, EthernetAddress::BROADCAST, &err));
        assert_eq!(unreachable_events(&out), 0, "error to {dst} delivered to the socket: {out:?}");
    }
}

// ---- 2. Ephemeral UDP ports --------------------------------------------------------------------------------

/// RFC 5452 §9.2 (a resolver MUST use an unpredictable source port) and RFC 6056 §3.1 (ephemeral ports
/// SHOULD be obfuscated); Linux `udp_lib_get_port` starts every port-0 bind at a random point of the range.
/// synack handed out p, p+1, p+2, ...: seeing one DNS query's port predicted the next lookup's.
#[test]
fn ephemeral_udp_ports_are_not_sequential() {
    let mut h = Harness::new(7);
    let mut ports = Vec::new();
    for _ in 0..4 {
        let out = h.command(Command::UdpBind { local: SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0) });
        let Output::Reply(Ok(Reply::Bound { local, .. })) = &out[0] else { panic!("{out:?}") };
        ports.push(local.port());
    }
    let sequential = ports.windows(2).all(|w| w[1] == w[0].wrapping_add(1));
    assert!(!sequential, "ephemeral UDP ports are consecutive: {ports:?}");
}

// ---- 4. ICMP error rate limit per destination -------------------------------------------------------------

/// Linux limits ICMP errors per destination too (`icmpv4_xrlim_allow` -> `inet_peer_xrlim_allow`, token bucket
/// of `icmp_ratelimit` = 1000 ms with a burst of XRLIM_BURST_FACTOR = 6), besides the global
/// `icmp_msgs_per_sec`. A burst of 20 datagrams to a closed port gets at most 6 port unreachables from Linux
/// (what an nmap UDP scan sees); synack answered all 20, and one host could spend the whole global budget.
#[test]
fn icmp_errors_are_rate_limited_per_destination() {
    let mut h = Harness::primed(2);
    let mut unreachables = 0;
    for i in 0..20u16 {
        let out = h.frame(&Ip::new(PEER_IP, 17).frame(&udp(PEER_IP, 40000 + i, 9, b"probe")));
        unreachables += icmp_sent(&out).iter().filter(|t| **t == (3, 3)).count();
    }
    assert!(unreachables <= 6, "{unreachables} port unreachables to one host in a burst (Linux: at most 6)");
    // Another host still gets its errors.
    let other = Ipv4Addr::new(10, 0, 0, 3);
    let logged = h.log.len();
    h.frame(&Ip::new(other, 17).frame(&udp(other, 40000, 9, b"probe")));
    // The error to a new neighbour waits for its ARP reply, which the harness gives.
    let sent: Vec<Output> = h.log[logged..].to_vec();
    assert_eq!(icmp_sent(&sent), vec![(3, 3)], "another host still gets its error: {sent:?}");
}
