//! Black-box conformance probes of the link and network layers (ARP, IPv4 host rules, IPv6, NDP), Linux as the
//! reference.

mod common;

use common::malformed::*;
use common::malformed6::*;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::time::Duration;
use etherparse as ep;
use synack::wire::{checksum, EthernetAddress};
use synack::{Config, Input, Instant, Output, Stack};

/// A stack driven by hand (no harness checks, no automatic ARP/ND answers).
struct Raw {
    stack: Stack,
    now: Instant,
}

impl Raw {
    fn new(config: Config) -> Raw {
        Raw { stack: Stack::new(config).unwrap(), now: Instant::ZERO }
    }
    fn frame(&mut self, f: &[u8]) -> Vec<Vec<u8>> {
        own(self.stack.handle(Input::Frame(f), self.now))
    }
    fn timer(&mut self, d: Duration) -> Vec<Vec<u8>> {
        self.now = self.now + d;
        own(self.stack.handle(Input::Timer, self.now))
    }
    /// Runs timers until both IPv6 addresses are preferred.
    fn settle6(&mut self) {
        for _ in 0..40 {
            if self.stack.ipv6_addresses().iter().filter(|a| a.state == "preferred").count() >= 2 {
                return;
            }
            let d = self.stack.poll_timeout().map_or(Duration::from_millis(100), |at| at - self.now);
            self.timer(d);
        }
        panic!("addresses never preferred: {:?}", self.stack.ipv6_addresses());
    }
}

fn own(out: Vec<Output>) -> Vec<Vec<u8>> {
    out.into_iter()
        .filter_map(|o| match o {
            Output::Transmit(f) => Some(f),
            _ => None,
        })
        .collect()
}

fn is_arp(f: &[u8]) -> bool {
    f[12..14] == [0x08, 0x06]
}

/// (eth dst, ipv6 src, ipv6 dst, hop limit, icmpv6 bytes) of an emitted ICMPv6 frame.
fn icmp6(f: &[u8]) -> Option<(EthernetAddress, Ipv6Addr, Ipv6Addr, u8, Vec<u8>)> {
    if f[12..14] != [0x86, 0xdd] || f[ETH_LEN + 6] != ICMPV6 {
        return None;
    }
    let ip = &f[ETH_LEN..];
    let len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
    let src: [u8; 16] = ip[8..24].try_into().unwrap();
    let dst: [u8; 16] = ip[24..40].try_into().unwrap();
    Some((
        EthernetAddress(f[0..6].try_into().unwrap()),
        Ipv6Addr::from(src),
        Ipv6Addr::from(dst),
        ip[7],
        ip[40..40 + len].to_vec(),
    ))
}

fn raw_ipv4(src: Ipv4Addr, dst: Ipv4Addr, ttl: u8, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let mut ip = vec![0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    ip[4..6].copy_from_slice(&0x1111u16.to_be_bytes());
    ip[8] = ttl;
    ip[9] = protocol;
    ip[12..16].copy_from_slice(&src.octets());
    ip[16..20].copy_from_slice(&dst.octets());
    let sum = !checksum::data(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    ip.extend_from_slice(payload);
    ip
}

fn config6_gw(seed: u64) -> Config {
    Config { gateway: Some(Ipv4Addr::new(10, 0, 0, 1)), ..config6(seed) }
}

// ---- ARP ------------------------------------------------------------------------------------------------

/// RFC 5227 §2.1.1 / Linux `arp_process` (`sip == 0` branch): an ARP probe for our address is answered with a
/// reply unicast to the prober's MAC, and 0.0.0.0 is not cached.
#[test]
fn arp_probe_for_our_address_is_answered_unicast() {
    let mut s = Raw::new(config(1));
    let prober = EthernetAddress([2, 0, 0, 0, 0x99, 1]);
    let f = arp(
        ep::ArpOperation::REQUEST,
        EthernetAddress::BROADCAST,
        (prober, Ipv4Addr::UNSPECIFIED),
        (EthernetAddress([0; 6]), STACK_IP),
    );
    let out = s.frame(&f);
    assert_eq!(out.len(), 1, "{out:02x?}");
    let r = &out[0];
    assert_eq!(&r[0..6], &prober.0);
    assert_eq!(&r[ETH_LEN + 6..ETH_LEN + 8], &[0, 2]);
    assert_eq!(&r[ETH_LEN + 18..ETH_LEN + 24], &prober.0);
    assert_eq!(&r[ETH_LEN + 24..ETH_LEN + 28], &[0, 0, 0, 0]);
}

/// RFC 826: a request whose target is not us creates no entry (merge only). Later traffic to that sender must
/// start with an ARP request.
#[test]
fn arp_request_for_another_host_creates_no_entry() {
    let mut s = Raw::new(config(2));
    let other = Ipv4Addr::new(10, 0, 0, 5);
    let out = s.frame(&arp_request(other, Ipv4Addr::new(10, 0, 0, 9)));
    assert!(out.is_empty());
    // Send a UDP datagram to `other`.
    let mut out = Vec::new();
    let r = s.stack.command(synack::Command::UdpBind { local: "0.0.0.0:9".parse().unwrap() }, s.now, &mut out).unwrap();
    let synack::Reply::Bound { sock, .. } = r else { panic!() };
    let mut out = Vec::new();
    s.stack
        .command(
            synack::Command::UdpSendTo { sock, remote: "10.0.0.5:9".parse().unwrap(), data: b"hi".to_vec() },
            s.now,
            &mut out,
        )
        .unwrap();
    let out = own(out);
    assert!(out.iter().all(|f| is_arp(f)), "sent without resolving: {out:02x?}");
}

/// RFC 826 merge: a gratuitous ARP (request, sender = target) from a known neighbour updates its MAC.
#[test]
fn gratuitous_arp_updates_a_known_entry() {
    let mut s = Raw::new(config(3));
    s.frame(&arp_request(PEER_IP, STACK_IP));
    let new_mac = EthernetAddress([2, 0, 0, 0, 0x77, 7]);
    let g = arp(
        ep::ArpOperation::REQUEST,
        EthernetAddress::BROADCAST,
        (new_mac, PEER_IP),
        (EthernetAddress([0; 6]), PEER_IP),
    );
    assert!(s.frame(&g).is_empty());
    let out =
        s.frame(&ethernet(new_mac, STACK_MAC, 0x0800, &raw_ipv4(PEER_IP, STACK_IP, 64, 1, &echo_request(1, 1, b"x"))));
    assert_eq!(out.len(), 1, "{out:02x?}");
    assert_eq!(&out[0][0..6], &new_mac.0, "reply to the old MAC");
}

// ---- IPv4 --------------------------------------------------------------------------------------------------

/// RFC 1122 §3.2.1.3 (b): {0, <Host-number>} is only a source during initialization; a host MUST silently
/// discard a datagram with an invalid source. Linux (`ip_route_input_slow`: `ipv4_is_zeronet(saddr)`) drops
/// anything from 0.0.0.0/8 as a martian source.
#[test]
fn ipv4_source_in_this_network_zero_is_dropped() {
    let mut s = Raw::new(Config { gateway: Some(PEER_IP), ..config(4) });
    s.frame(&arp_request(PEER_IP, STACK_IP));
    let src = Ipv4Addr::new(0, 1, 2, 3);
    let out = s.frame(&ethernet(
        mac_for(PEER_IP),
        STACK_MAC,
        0x0800,
        &raw_ipv4(src, STACK_IP, 64, 1, &echo_request(1, 1, b"x")),
    ));
    assert!(out.is_empty(), "answered a datagram from {src}: {out:02x?}");
}

/// RFC 1122 §3.2.1.7: a host MUST NOT discard a datagram it receives with TTL 0 or 1.
#[test]
fn ipv4_ttl_zero_is_accepted() {
    let mut s = Raw::new(config(5));
    s.frame(&arp_request(PEER_IP, STACK_IP));
    let out = s.frame(&ethernet(
        mac_for(PEER_IP),
        STACK_MAC,
        0x0800,
        &raw_ipv4(PEER_IP, STACK_IP, 0, 1, &echo_request(1, 1, b"x")),
    ));
    assert_eq!(out.len(), 1);
}

// ---- IPv6 / NDP --------------------------------------------------------------------------------------------

/// RFC 4861 §7.2.3/§7.2.4: a valid NS (hop limit 255: the sender is on the link) from a unicast source with a
/// source link-layer option creates a STALE entry and is answered with a unicast NA to that source. The
/// source need not lie in one of our prefixes (Linux's `ndisc_recv_ns` answers via `ndisc_send_na`, whose
/// route `icmp6_dst_alloc` goes straight to the neighbour). Found: no answer (NoRoute), or via the router.
#[test]
fn ns_from_a_source_outside_our_prefixes_is_answered_directly() {
    let mut s = Raw::new(config6_gw(6));
    s.settle6();
    let src: Ipv6Addr = "2001:db8:77::42".parse().unwrap();
    let group = solicited_node(STACK_IP6);
    let out = s.frame(&nd_frame(src, group, &ns(src, group, STACK_IP6)));
    let na: Vec<_> = out.iter().filter_map(|f| icmp6(f)).filter(|m| m.4[0] == NEIGHBOR_ADVERT).collect();
    assert_eq!(na.len(), 1, "no NA to an on-link solicitor outside our prefixes: {out:02x?}");
    assert_eq!(na[0].0, mac_for6(src), "NA not sent to the solicitor's MAC");
    assert_eq!(na[0].2, src);
}

/// Same, when a default router is known: the NA must still go to the solicitor's own MAC (the NS came from
/// the link), not to the router.
#[test]
fn ns_from_a_source_outside_our_prefixes_is_not_answered_via_the_router() {
    let mut s = Raw::new(config6_gw(7));
    s.settle6();
    // A router advertisement (no prefixes) from fe80::1 makes it the default router.
    s.frame(&nd_frame(PEER_LL, ALL_NODES, &ra(PEER_LL, ALL_NODES)));
    let src: Ipv6Addr = "2001:db8:77::42".parse().unwrap();
    let group = solicited_node(STACK_IP6);
    let out = s.frame(&nd_frame(src, group, &ns(src, group, STACK_IP6)));
    let na: Vec<_> = out.iter().filter_map(|f| icmp6(f)).filter(|m| m.4[0] == NEIGHBOR_ADVERT).collect();
    assert_eq!(na.len(), 1, "no NA: {out:02x?}");
    assert_eq!(na[0].0, mac_for6(src), "NA sent to {} instead of the solicitor", na[0].0);
}

const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// RFC 4861 §7.2.4 / RFC 4862 §5.4.3: a DAD probe for our address is defended with an NA to all-nodes, S
/// clear, O set, with the target link-layer option.
#[test]
fn dad_probe_for_our_address_is_defended() {
    let mut s = Raw::new(config6(8));
    s.settle6();
    let group = solicited_node(STACK_IP6);
    let mut body = STACK_IP6.octets().to_vec();
    body.extend_from_slice(&[0; 0]);
    let msg = icmpv6(Ipv6Addr::UNSPECIFIED, group, NEIGHBOR_SOLICIT, 0, [0; 4], &body);
    let out = s.frame(&nd_frame(Ipv6Addr::UNSPECIFIED, group, &msg));
    let na: Vec<_> = out.iter().filter_map(|f| icmp6(f)).collect();
    assert_eq!(na.len(), 1, "{out:02x?}");
    let (mac, src, dst, hl, m) = &na[0];
    assert_eq!(*mac, group_mac(ALL_NODES));
    assert_eq!((*src, *dst, *hl), (STACK_IP6, ALL_NODES, 255));
    assert_eq!(m[0], NEIGHBOR_ADVERT);
    assert_eq!(m[4] & 0xe0, 0x20, "flags R/S/O");
    assert_eq!(&m[24..26], &[2, 1]);
    assert_eq!(&m[26..32], &STACK_MAC.0);
}

/// RFC 8200 §3: hop limit 0 on arrival is fine for a host (it only forbids forwarding).
#[test]
fn ipv6_hop_limit_zero_is_accepted() {
    let mut h = Harness::dual(9);
    let f = Ip6 { hop_limit: 0, ..Ip6::new(PEER_IP6, ICMPV6) }.frame(&echo6(PEER_IP6, STACK_IP6, 1, 1, b"hl0"));
    let out = h.frame(&f);
    assert_eq!(transmits(&out).len(), 1, "{out:?}");
}

/// RFC 6946 §4: an atomic fragment is processed in isolation (as an unfragmented packet).
#[test]
fn atomic_fragment_echo_is_answered() {
    let mut h = Harness::dual(10);
    let mut p = fragment_header(ICMPV6, 0, false, 0xabcd);
    p.extend(echo6(PEER_IP6, STACK_IP6, 1, 2, b"atomic"));
    let out = h.frame(&Ip6::new(PEER_IP6, FRAGMENT).frame(&p));
    assert_eq!(transmits(&out).len(), 1, "{out:?}");
}

/// RFC 8200 §4: unknown next header after a destination options header: parameter problem code 1 pointing
/// at the Next Header field that names it (offset 40).
#[test]
fn unknown_next_header_after_dest_opts_points_at_its_next_header_field() {
    let mut h = Harness::dual(11);
    let mut p = options_header(253, &[]);
    p.extend(pattern(16));
    let out = h.frame(&Ip6::new(PEER_IP6, DST_OPTS).frame(&p));
    let msgs: Vec<_> = transmits(&out).into_iter().filter_map(icmp6).collect();
    assert_eq!(msgs.len(), 1, "{out:?}");
    assert_eq!(&msgs[0].4[0..2], &[PARAM_PROBLEM, 1]);
    assert_eq!(&msgs[0].4[4..8], &40u32.to_be_bytes());
}

// ---- batch 2 -------------------------------------------------------------------------------------------------

/// RFC 1122 §3.2.2: no ICMP error about a datagram to an IP broadcast address.
#[test]
fn udp_to_closed_port_via_directed_broadcast_gets_no_error() {
    let mut s = Raw::new(config(20));
    s.frame(&arp_request(PEER_IP, STACK_IP));
    let bc = Ipv4Addr::new(10, 0, 0, 255);
    let mut u = udp(PEER_IP, 5000, 9999, b"bc");
    // fix the checksum for the broadcast destination: zero = none.
    u[6] = 0;
    u[7] = 0;
    let out =
        s.frame(&ethernet(mac_for(PEER_IP), EthernetAddress::BROADCAST, 0x0800, &raw_ipv4(PEER_IP, bc, 64, 17, &u)));
    assert!(out.is_empty(), "{out:02x?}");
}

/// RFC 4443 §2.4 (e.3): no port unreachable for a packet to a multicast address.
#[test]
fn udp6_to_closed_port_on_all_nodes_gets_no_error() {
    let mut h = Harness::dual(21);
    let f = Ip6 { dst: ALL_NODES, ..Ip6::new(PEER_IP6, UDP) }.frame(&udp6(PEER_IP6, ALL_NODES, 5000, 9999, b"m"));
    let out = h.frame(&f);
    assert!(transmits(&out).is_empty(), "{out:?}");
}

/// Linux answers an echo to ff02::1 (icmpv6_echo_ignore_multicast = 0), unicast, from a unicast address.
#[test]
fn echo6_to_all_nodes_is_answered_unicast() {
    let mut h = Harness::dual(22);
    let f = Ip6 { dst: ALL_NODES, ..Ip6::new(PEER_LL, ICMPV6) }.frame(&echo6(PEER_LL, ALL_NODES, 7, 7, b"mc"));
    let out = h.frame(&f);
    let msgs: Vec<_> = transmits(&out).into_iter().filter_map(icmp6).collect();
    assert_eq!(msgs.len(), 1, "{out:?}");
    assert_eq!((msgs[0].1, msgs[0].2, msgs[0].4[0]), (stack_ll(), PEER_LL, ECHO_REPLY));
}

/// RFC 4861 §7.1.1: an NS with hop limit other than 255 is silently discarded.
#[test]
fn ns_with_hop_limit_254_is_ignored() {
    let mut h = Harness::dual(23);
    let group = solicited_node(STACK_IP6);
    let f = Ip6 { dst: group, hop_limit: 254, ..Ip6::new(PEER_IP6, ICMPV6) }.frame(&ns(PEER_IP6, group, STACK_IP6));
    let out = h.frame(&f);
    assert!(transmits(&out).is_empty(), "{out:?}");
}

/// An RA (hop limit 255) carrying a Prefix Information option.
fn ra_with_prefix(prefix: Ipv6Addr, len: u8, flags: u8, valid: u32, preferred: u32) -> Vec<u8> {
    let mut body = vec![0u8; 8];
    let mut pio = vec![3, 4, len, flags];
    pio.extend_from_slice(&valid.to_be_bytes());
    pio.extend_from_slice(&preferred.to_be_bytes());
    pio.extend_from_slice(&[0; 4]);
    pio.extend_from_slice(&prefix.octets());
    body.extend(pio);
    let msg = icmpv6(PEER_LL, ALL_NODES, ROUTER_ADVERT, 0, [64, 0, 0x07, 0x08], &body);
    nd_frame(PEER_LL, ALL_NODES, &msg)
}

/// RFC 4862 §5.5.3 / §5.4.2: a /64 autonomous prefix forms an address that starts DAD: an NS from ::, to the
/// solicited-node group, hop limit 255, without a source link-layer option.
#[test]
fn slaac_address_starts_dad() {
    let mut s = Raw::new(config6(24));
    s.settle6();
    let prefix: Ipv6Addr = "2001:db8:5::".parse().unwrap();
    let mut out = s.frame(&ra_with_prefix(prefix, 64, 0xc0, 3600, 1800));
    for _ in 0..5 {
        out.extend(s.timer(Duration::from_millis(500)));
    }
    let addr = s.stack.ipv6_addresses().into_iter().find(|a| a.addr.segments()[2] == 5).expect("no SLAAC address");
    let dad: Vec<_> = out
        .iter()
        .filter_map(|f| icmp6(f))
        .filter(|m| m.4[0] == NEIGHBOR_SOLICIT && m.4[8..24] == addr.addr.octets())
        .collect();
    assert!(!dad.is_empty(), "no DAD probe for {}: {out:02x?}", addr.addr);
    let (mac, src, dst, hl, m) = &dad[0];
    assert_eq!((*src, *dst, *hl), (Ipv6Addr::UNSPECIFIED, solicited_node(addr.addr), 255));
    assert_eq!(*mac, group_mac(solicited_node(addr.addr)));
    assert_eq!(m.len(), 24, "options in a DAD probe");
}

/// RFC 4862 §5.5.3 d): a prefix whose length plus 64 is not 128 forms no address.
#[test]
fn slaac_ignores_a_48_prefix() {
    let mut s = Raw::new(config6(25));
    s.settle6();
    s.frame(&ra_with_prefix("2001:db8:6::".parse().unwrap(), 48, 0xc0, 3600, 1800));
    assert!(s.stack.ipv6_addresses().iter().all(|a| a.addr.segments()[2] != 6), "{:?}", s.stack.ipv6_addresses());
}

/// RFC 4862 §5.4.5: an NA for a tentative address means it is a duplicate; RFC 4862 §5.4: packets to a
/// tentative address are dropped.
#[test]
fn na_for_tentative_address_marks_it_duplicate() {
    let mut s = Raw::new(config6(26));
    // Let the first DAD probe go out.
    s.timer(Duration::from_millis(1100));
    let states = s.stack.ipv6_addresses();
    assert!(states.iter().any(|a| a.addr == STACK_IP6 && a.state == "tentative"), "{states:?}");
    let echo = Ip6::new(PEER_IP6, ICMPV6).frame(&echo6(PEER_IP6, STACK_IP6, 1, 1, b"t"));
    assert!(s.frame(&echo).is_empty(), "answered on a tentative address");
    let f = nd_frame(PEER_IP6, ALL_NODES, &na(PEER_IP6, ALL_NODES, STACK_IP6, false));
    s.frame(&f);
    let st = s.stack.ipv6_addresses();
    assert!(st.iter().any(|a| a.addr == STACK_IP6 && a.state == "duplicate"), "{st:?}");
}

/// RFC 8200 §4.5: a fragment (M set) whose length is not a multiple of 8 earns parameter problem code 0
/// pointing at the payload length.
#[test]
fn fragment_not_multiple_of_8_is_param_problem_4() {
    let mut h = Harness::dual(27);
    let mut p = fragment_header(UDP, 0, true, 0x77);
    p.extend(pattern(13));
    let out = h.frame(&Ip6::new(PEER_IP6, FRAGMENT).frame(&p));
    let msgs: Vec<_> = transmits(&out).into_iter().filter_map(icmp6).collect();
    assert_eq!(msgs.len(), 1, "{out:?}");
    assert_eq!(&msgs[0].4[0..8], &[PARAM_PROBLEM, 0, msgs[0].4[2], msgs[0].4[3], 0, 0, 0, 4]);
}

/// RFC 8200 §4.1: Hop-by-Hop anywhere but first: unrecognised next header (code 1) at the field naming it.
#[test]
fn hop_by_hop_after_dest_opts_is_param_problem_1() {
    let mut h = Harness::dual(28);
    let mut p = options_header(HOP_BY_HOP, &[]);
    p.extend(options_header(UDP, &[]));
    p.extend(udp6(PEER_IP6, STACK_IP6, 5000, BOUND_PORT, b"x"));
    let out = h.frame(&Ip6::new(PEER_IP6, DST_OPTS).frame(&p));
    let msgs: Vec<_> = transmits(&out).into_iter().filter_map(icmp6).collect();
    assert_eq!(msgs.len(), 1, "{out:?}");
    assert_eq!(&msgs[0].4[0..2], &[PARAM_PROBLEM, 1]);
    assert_eq!(&msgs[0].4[4..8], &40u32.to_be_bytes());
}

// ---- batch 3 -------------------------------------------------------------------------------------------------

/// RFC 8201 §4: after a Packet Too Big (MTU 1280) quoting our packet to the peer, our next larger packet to
/// it leaves in fragments of at most 1280 bytes.
#[test]
fn packet_too_big_lowers_the_path_mtu() {
    let mut h = Harness::dual(30);
    let big = pattern(1400);
    let out = h.frame(&Ip6::new(PEER_IP6, ICMPV6).frame(&echo6(PEER_IP6, STACK_IP6, 1, 1, &big)));
    let sent = transmits(&out);
    assert_eq!(sent.len(), 1);
    let reply = sent[0][ETH_LEN..].to_vec();
    // A router says 1280.
    let router: Ipv6Addr = "2001:db8::7e".parse().unwrap();
    let quote = &reply[..1232];
    let ptb = icmpv6(router, STACK_IP6, 2, 0, 1280u32.to_be_bytes(), quote);
    h.frame(&Ip6::new(router, ICMPV6).frame(&ptb));
    let out = h.frame(&Ip6::new(PEER_IP6, ICMPV6).frame(&echo6(PEER_IP6, STACK_IP6, 1, 2, &big)));
    let sent = transmits(&out);
    assert!(sent.len() >= 2, "not fragmented after PTB: {} frames", sent.len());
    assert!(sent.iter().all(|f| f.len() - ETH_LEN <= 1280), "{:?}", sent.iter().map(|f| f.len()).collect::<Vec<_>>());
}

/// An IPv4 echo request with the given options (a multiple of 4 bytes), checksummed.
fn echo_with_options(options: &[u8], data: &[u8]) -> Vec<u8> {
    let icmp = echo_request(0x4321, 1, data);
    let hlen = 20 + options.len();
    let mut ip = vec![0u8; hlen];
    ip[0] = 0x40 | (hlen / 4) as u8;
    ip[2..4].copy_from_slice(&((hlen + icmp.len()) as u16).to_be_bytes());
    ip[8] = 64;
    ip[9] = 1;
    ip[12..16].copy_from_slice(&PEER_IP.octets());
    ip[16..20].copy_from_slice(&STACK_IP.octets());
    ip[20..].copy_from_slice(options);
    let sum = !checksum::data(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    ip.extend_from_slice(&icmp);
    ethernet(mac_for(PEER_IP), STACK_MAC, 0x0800, &ip)
}

/// RFC 1122 §3.2.2.6: "If a Record Route and/or Time Stamp option is received in an ICMP Echo Request, this
/// option (these options) SHOULD be updated to include the current host and included in the IP header of the
/// Echo Reply". Linux does (`icmp_reply` → `ip_options_echo`), which is what `ping -R` shows.
#[test]
fn source_routed_echo_is_dropped_or_answered_with_the_reversed_route() {
    let mut s = Raw::new(config(32));
    s.frame(&arp_request(PEER_IP, STACK_IP));
    // LSRR, completed: one hop 10.0.0.1 recorded, pointer past the end.
    let lsrr = [131, 7, 8, 10, 0, 0, 1, 0];
    let out = s.frame(&echo_with_options(&lsrr, b"sr"));
    if let Some(reply) = out.first() {
        let ihl = usize::from(reply[ETH_LEN] & 0x0f) * 4;
        assert!(
            ihl > 20 && reply[ETH_LEN + 20..ETH_LEN + ihl].iter().any(|&b| b == 131 || b == 137),
            "echo reply to a source-routed request without the reversed route: {reply:02x?}"
        );
    }
}

// ---- batch 4 -------------------------------------------------------------------------------------------------

/// RFC 6946 §4: an atomic fragment is processed in isolation, even while fragments with the same
/// identification are being reassembled.
#[test]
fn atomic_fragment_does_not_disturb_reassembly_with_the_same_ident() {
    let mut h = Harness::dual(40);
    let whole = echo6(PEER_IP6, STACK_IP6, 9, 9, &pattern(40));
    let mut first = fragment_header(ICMPV6, 0, true, 0x5151);
    first.extend_from_slice(&whole[..24]);
    assert!(transmits(&h.frame(&Ip6::new(PEER_IP6, FRAGMENT).frame(&first))).is_empty());
    let mut atomic = fragment_header(ICMPV6, 0, false, 0x5151);
    atomic.extend(echo6(PEER_IP6, STACK_IP6, 9, 10, b"atomic"));
    assert_eq!(transmits(&h.frame(&Ip6::new(PEER_IP6, FRAGMENT).frame(&atomic))).len(), 1);
    let mut last = fragment_header(ICMPV6, 24, false, 0x5151);
    last.extend_from_slice(&whole[24..]);
    assert_eq!(transmits(&h.frame(&Ip6::new(PEER_IP6, FRAGMENT).frame(&last))).len(), 1, "reassembly disturbed");
}

/// RFC 8201 §4 and RFC 8021: a PTB below 1280 neither lowers the path MTU below 1280 nor makes us add
/// (atomic) fragment headers to packets of 1280 or less.
#[test]
fn packet_too_big_below_1280_adds_no_fragment_header() {
    let mut h = Harness::dual(41);
    let out = h.frame(&Ip6::new(PEER_IP6, ICMPV6).frame(&echo6(PEER_IP6, STACK_IP6, 1, 1, &pattern(1200))));
    let reply = transmits(&out)[0][ETH_LEN..].to_vec();
    let router: Ipv6Addr = "2001:db8::7e".parse().unwrap();
    let ptb = icmpv6(router, STACK_IP6, 2, 0, 1000u32.to_be_bytes(), &reply[..1232.min(reply.len())]);
    h.frame(&Ip6::new(router, ICMPV6).frame(&ptb));
    let out = h.frame(&Ip6::new(PEER_IP6, ICMPV6).frame(&echo6(PEER_IP6, STACK_IP6, 1, 2, &pattern(1200))));
    let sent = transmits(&out);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0][ETH_LEN + 6], ICMPV6, "a fragment header after a PTB below 1280");
}

/// RFC 6980 §5: "nodes MUST silently ignore NDP messages if the packets carrying them include a Fragment
/// header" (Linux `ndisc_rcv`: "drop fragmented ndisc packet", `IP6SKB_FRAGMENTED`). Here: an NS for our
/// address in an atomic fragment.
#[test]
fn ns_in_an_atomic_fragment_is_ignored() {
    let mut h = Harness::dual(42);
    let group = solicited_node(STACK_IP6);
    let src: Ipv6Addr = "2001:db8::55".parse().unwrap();
    let mut p = fragment_header(ICMPV6, 0, false, 0x6980);
    p.extend(ns(src, group, STACK_IP6));
    let f = Ip6 { dst: group, hop_limit: 255, ..Ip6::new(src, FRAGMENT) }.frame(&p);
    let out = h.frame(&f);
    assert!(transmits(&out).is_empty(), "answered a fragmented NS: {out:?}");
}

/// The same with an NS reassembled from two fragments.
#[test]
fn ns_in_two_fragments_is_ignored() {
    let mut h = Harness::dual(43);
    let group = solicited_node(STACK_IP6);
    let src: Ipv6Addr = "2001:db8::56".parse().unwrap();
    let msg = ns(src, group, STACK_IP6);
    let mut first = fragment_header(ICMPV6, 0, true, 0x6981);
    first.extend_from_slice(&msg[..16]);
    let mut last = fragment_header(ICMPV6, 16, false, 0x6981);
    last.extend_from_slice(&msg[16..]);
    let ip = Ip6 { dst: group, hop_limit: 255, ..Ip6::new(src, FRAGMENT) };
    let mut out = h.frame(&ip.frame(&first));
    out.extend(h.frame(&ip.frame(&last)));
    assert!(transmits(&out).is_empty(), "answered a fragmented NS: {out:?}");
}

/// RFC 6980 §5 for router advertisements: an RA in a fragment must not configure anything.
#[test]
fn ra_in_an_atomic_fragment_is_ignored() {
    let mut s = Raw::new(config6(44));
    s.settle6();
    let ra = ra_with_prefix("2001:db8:9::".parse().unwrap(), 64, 0xc0, 3600, 1800);
    // Re-wrap the RA's ICMPv6 message in an atomic fragment.
    let icmp = ra[ETH_LEN + 40..].to_vec();
    let len = usize::from(u16::from_be_bytes([ra[ETH_LEN + 4], ra[ETH_LEN + 5]]));
    let mut p = fragment_header(ICMPV6, 0, false, 0x6982);
    p.extend_from_slice(&icmp[..len]);
    s.frame(&Ip6 { dst: ALL_NODES, hop_limit: 255, ..Ip6::new(PEER_LL, FRAGMENT) }.frame(&p));
    assert!(
        s.stack.ipv6_addresses().iter().all(|a| a.addr.segments()[2] != 9),
        "a fragmented RA configured an address: {:?}",
        s.stack.ipv6_addresses()
    );
}

/// RFC 4862 §5.4.3: "If the solicitation is from the node itself (because the node loops back multicast
/// packets), the solicitation does not indicate the presence of a duplicate address." A link that reflects
/// multicast (some virtual switches, a looped bridge) hands our own DAD probe back; it carries our MAC as
/// its Ethernet source. Linux ignores it (`ndisc_recv_ns`: DAD loopback by nonce; `ndisc_recv_na`: "NA: someone
/// advertises our address ... from our own lladdr" ignored).
#[test]
fn our_own_dad_probe_looped_back_is_not_a_duplicate() {
    let mut s = Raw::new(config6(45));
    let mut probes = Vec::new();
    for _ in 0..10 {
        let d = s.stack.poll_timeout().map_or(Duration::from_millis(100), |at| at - s.now);
        let out = s.timer(d);
        let mine: Vec<_> = out
            .into_iter()
            .filter(|f| icmp6(f).is_some_and(|m| m.1.is_unspecified() && m.4[0] == NEIGHBOR_SOLICIT))
            .collect();
        for p in &mine {
            s.frame(p); // reflected by the link
        }
        probes.extend(mine);
        if !probes.is_empty() {
            break;
        }
    }
    assert!(!probes.is_empty());
    s.settle6();
}

/// Linux answers an ARP request only if a route from the sender to the target passes (`arp_process`:
/// `ip_route_input_noref(skb, tip, sip, ...)`), which rejects a martian sender: multicast, limited broadcast,
/// loopback or 0.x.x.x (other than the 0.0.0.0 of a probe). No answer, no cache entry.
#[test]
fn arp_request_from_a_martian_sender_is_not_answered() {
    for (i, sender) in
        [Ipv4Addr::new(224, 0, 0, 5), Ipv4Addr::BROADCAST, Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(0, 0, 0, 7)]
            .into_iter()
            .enumerate()
    {
        let mut s = Raw::new(config(50 + i as u64));
        let mac = EthernetAddress([2, 0, 0, 0, 0x55, i as u8]);
        let f = arp(
            ep::ArpOperation::REQUEST,
            EthernetAddress::BROADCAST,
            (mac, sender),
            (EthernetAddress([0; 6]), STACK_IP),
        );
        let out = s.frame(&f);
        assert!(out.is_empty(), "ARP reply to sender {sender}: {out:02x?}");
    }
}
