//! IPv6/ICMPv6 conformance probes: where a black-box prober saw synack differ from the RFCs or Linux.

mod common;

use common::malformed::*;
use common::malformed6::*;
use core::net::Ipv6Addr;

/// RFC 8200 §4.5: "The Next Header values in the Fragment headers of different fragments of the same original
/// packet may differ. Only the value from the Offset zero fragment packet is used for reassembly." (Linux's
/// `ip6_frag_reasm` takes the head's.) synack walked the reassembled packet from the Next Header of whichever
/// fragment completed it: a UDP datagram whose last fragment said 58 was parsed as ICMPv6 and lost.
#[test]
fn reassembly_uses_the_first_fragments_next_header() {
    let mut h = Harness::dual(41);
    let dgram = udp6(PEER_IP6, STACK_IP6, 5000, BOUND_PORT, &pattern(24));
    let mut first = fragment_header(UDP, 0, true, 0x0a0b);
    first.extend_from_slice(&dgram[..16]);
    let mut last = fragment_header(ICMPV6, 16, false, 0x0a0b);
    last.extend_from_slice(&dgram[16..]);
    let mut out = h.frame(&Ip6::new(PEER_IP6, FRAGMENT).frame(&first));
    out.extend(h.frame(&Ip6::new(PEER_IP6, FRAGMENT).frame(&last)));
    assert!(readable(&out), "UDP datagram not delivered; stats:\n{}", h.stats());
}

/// RFC 8201 §4: "A node MUST NOT increase its estimate of the Path MTU in response to the contents of a
/// Packet Too Big message." (Linux `__ip6_rt_update_pmtu`: `if (mtu >= dst_mtu(dst)) return`.) synack stored
/// whatever the latest PTB said: after 1280, a forged or stale PTB of 1400 raised the path MTU again.
#[test]
fn packet_too_big_never_raises_the_path_mtu() {
    let mut h = Harness::dual(43);
    let big = pattern(1400);
    let out = h.frame(&Ip6::new(PEER_IP6, ICMPV6).frame(&echo6(PEER_IP6, STACK_IP6, 1, 1, &big)));
    let reply = transmits(&out)[0][ETH_LEN..].to_vec();
    let router: Ipv6Addr = "2001:db8::7e".parse().unwrap();
    for mtu in [1280u32, 1400] {
        let ptb = icmpv6(router, STACK_IP6, 2, 0, mtu.to_be_bytes(), &reply[..1232]);
        h.frame(&Ip6::new(router, ICMPV6).frame(&ptb));
    }
    let out = h.frame(&Ip6::new(PEER_IP6, ICMPV6).frame(&echo6(PEER_IP6, STACK_IP6, 1, 2, &big)));
    let sizes: Vec<usize> = transmits(&out).iter().map(|f| f.len() - ETH_LEN).collect();
    assert!(sizes.iter().all(|&s| s <= 1280), "path MTU raised by a PTB of 1400: packets of {sizes:?} bytes");
}

/// RFC 8200 §4.5: "If insufficient fragments are received to complete reassembly of a packet within 60
/// seconds of the reception of the first-arriving fragment of that packet, reassembly of that packet must be
/// abandoned" -- 60 s, as Linux's `ip6frag_time` (IPV6_FRAG_TIMEOUT = 60 s). synack shared IPv4's 30 s
/// (`ReassemblyConfig::default`, Linux's `ipfrag_time`) with IPv6: a packet whose last fragment came 45 s
/// after the first was lost, and a time exceeded was sent at 30 s.
#[test]
fn ipv6_reassembly_waits_60_seconds() {
    let mut h = Harness::dual(44);
    let dgram = udp6(PEER_IP6, STACK_IP6, 5000, BOUND_PORT, &pattern(24));
    let mut first = fragment_header(UDP, 0, true, 0x0a0d);
    first.extend_from_slice(&dgram[..16]);
    let mut last = fragment_header(UDP, 16, false, 0x0a0d);
    last.extend_from_slice(&dgram[16..]);
    let mut out = h.frame(&Ip6::new(PEER_IP6, FRAGMENT).frame(&first));
    for _ in 0..45 {
        out.extend(h.timer(core::time::Duration::from_secs(1)));
    }
    let time_exceeded = transmits(&out).iter().any(|f| f[12..14] == [0x86, 0xdd] && f[ETH_LEN + 40] == 3);
    out.extend(h.frame(&Ip6::new(PEER_IP6, FRAGMENT).frame(&last)));
    assert!(
        readable(&out) && !time_exceeded,
        "reassembly abandoned before 60 s (time exceeded sent: {time_exceeded}); stats:\n{}",
        h.stats()
    );
}

/// RFC 8200 §4.5 (a reassembled payload length over 65,535 is an error; Linux's `ip6_frag_reasm`:
/// "payload_len > IPV6_MAXPLEN" -> out_oversize). synack bounded only the fragments' data (65,535 bytes), not the
/// unfragmentable headers before the Fragment header: with an 8-byte Destination Options header there, a
/// packet whose payload length would be 65,551 was reassembled and delivered.
#[test]
fn a_reassembled_ipv6_packet_over_65535_bytes_is_dropped() {
    let mut h = Harness::dual(45);
    let dgram = udp6(PEER_IP6, STACK_IP6, 5000, BOUND_PORT, &pattern(65_535 - 8));
    assert_eq!(dgram.len(), 65_535);
    let dest = options_header(FRAGMENT, &[]);
    let mut out = Vec::new();
    let piece = 1232;
    let mut offset = 0;
    while offset < dgram.len() {
        let end = (offset + piece).min(dgram.len());
        let mut p = dest.clone();
        p.extend(fragment_header(UDP, offset, end < dgram.len(), 0x0a0e));
        p.extend_from_slice(&dgram[offset..end]);
        out.extend(h.frame(&Ip6::new(PEER_IP6, DST_OPTS).frame(&p)));
        offset = end;
    }
    assert!(
        !readable(&out),
        "a packet of payload length {} was reassembled and delivered; stats:\n{}",
        dest.len() + 8 + dgram.len(),
        h.stats()
    );
}
