//! IPv4/ICMP conformance probes: where a black-box prober saw synack differ from the RFCs or Linux.

mod common;

use common::malformed::*;
use core::net::{Ipv4Addr, SocketAddr};
use synack::wire::checksum;
use synack::{Command, Config, Output, Reply};

/// The IPv4 packets (header and payload, no padding) the stack transmitted.
fn ipv4_sent(out: &[Output]) -> Vec<Vec<u8>> {
    transmits(out)
        .into_iter()
        .filter(|f| f[12..14] == [0x08, 0x00])
        .map(|f| {
            let total = usize::from(u16::from_be_bytes([f[ETH_LEN + 2], f[ETH_LEN + 3]]));
            f[ETH_LEN..ETH_LEN + total].to_vec()
        })
        .collect()
}

// ---- 1. Record route in an echo request -----------------------------------------------------------------

/// RFC 1122 §3.2.2.6: "If a Record Route and/or Time Stamp option is received in an ICMP Echo Request, this
/// option (these options) SHOULD be updated to include the current host and included in the IP header of the
/// Echo Reply". Linux does (`icmp_reply` -> `ip_options_echo`): `ping -R` shows the route. synack's reply had
/// no options at all.
#[test]
fn echo_reply_carries_the_record_route_option() {
    let mut h = Harness::primed(1);
    // NOP, then record route: length 7, pointer 4 (room for one address).
    let options = [1, 7, 7, 4, 0, 0, 0, 0];
    let out = h.frame(&raw_ipv4_from(PEER_IP, 1, 0x10, 0, &options, false, 0, &echo_request(0x4444, 1, b"ping -R")));
    let sent = ipv4_sent(&out);
    assert_eq!(sent.len(), 1, "one echo reply: {out:?}");
    let reply = &sent[0];
    let ihl = usize::from(reply[0] & 0x0f) * 4;
    assert_eq!(reply[ihl], 0, "an echo reply");
    let opts = &reply[20..ihl];
    let rr = opts.iter().position(|&b| b == 7);
    assert!(rr.is_some(), "echo reply without the record route option: header {:02x?}", &reply[..ihl]);
    let rr = rr.unwrap();
    assert_eq!(&opts[rr + 3..rr + 7], &STACK_IP.octets(), "our address recorded");
}

// ---- 2. ECN marks of fragments ----------------------------------------------------------------------------

/// RFC 3168 §5.3: "Reassembly of a fragmented packet MUST NOT lose indications of congestion": if a fragment
/// is CE, the reassembled packet is CE, "However, this MUST NOT occur if any of the other fragments
/// contributing to this reassembly carries the Not-ECT codepoint" -- then it is dropped. Linux
/// (`ip_frag_reasm`: `ip_frag_ecn_table[qp->ecn] == 0xff` -> `-EINVAL`) drops a datagram whose fragments
/// mix Not-ECT and CE. synack took the first fragment's codepoint and delivered it.
#[test]
fn fragments_mixing_not_ect_and_ce_are_dropped() {
    let mut h = Harness::primed(1);
    let dgram = udp(PEER_IP, 5001, BOUND_PORT, &pattern(24));
    let mut out = h.frame(&raw_ipv4_from(PEER_IP, 17, 0x5151, 0x00, &[], true, 0, &dgram[0..16]));
    out.extend(h.frame(&raw_ipv4_from(PEER_IP, 17, 0x5151, 0x03, &[], false, 16, &dgram[16..32])));
    assert!(
        !readable(&out),
        "a datagram reassembled from a Not-ECT and a CE fragment was delivered; stats:\n{}",
        h.stats()
    );
}

// ---- 3. Reassembled datagrams over 65,535 bytes -----------------------------------------------------------

/// RFC 791: the total length is 16 bits, so no datagram exceeds 65,535 bytes; Linux's `ip_frag_reasm` checks
/// `ip_hdrlen(head) + qp->q.len > 65535` ("Oversized IP packet") and drops it. synack bounded the fragments'
/// data at 65,515 bytes (a 20-byte header), so a first fragment with 40 bytes of options reassembled into a
/// 65,575-byte datagram, delivered with its total length saturated at 65,535 (the "ping of death").
#[test]
fn a_reassembled_datagram_over_65535_bytes_is_dropped() {
    let mut h = Harness::primed(1);
    let data_len = 65_515 - 8; // the UDP payload: UDP header + data = 65,515 bytes of fragmentable data
    let dgram = udp(PEER_IP, 5001, BOUND_PORT, &pattern(data_len));
    assert_eq!(dgram.len(), 65_515);
    let nops = [1u8; 40];
    let mut out = Vec::new();
    let piece = 1472;
    let mut offset = 0;
    while offset < dgram.len() {
        let end = (offset + piece).min(dgram.len());
        let more = end < dgram.len();
        let options: &[u8] = if offset == 0 { &nops } else { &[] };
        out.extend(h.frame(&raw_ipv4_from(PEER_IP, 17, 0x6262, 0, options, more, offset, &dgram[offset..end])));
        offset = end;
    }
    assert!(
        !readable(&out),
        "a datagram of {} bytes (60-byte header) was reassembled and delivered; stats:\n{}",
        60 + dgram.len(),
        h.stats()
    );
}

// ---- 4. Path MTU for what we send with DF ---------------------------------------------------------------

/// A stack behind a gateway (10.0.0.1) talking to a remote host.
const REMOTE: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 7);

fn routed() -> Harness {
    let mut h = Harness::with_config(Config { gateway: Some(PEER_IP), ..config(4) });
    h.prime_arp_and_bind();
    h
}

/// An ICMP "fragmentation needed" (3/4, next-hop MTU `mtu`) from the gateway quoting `packet`.
fn frag_needed(mtu: u16, packet: &[u8]) -> Vec<u8> {
    let ihl = usize::from(packet[0] & 0x0f) * 4;
    let mut m = vec![3, 4, 0, 0, 0, 0];
    m.extend_from_slice(&mtu.to_be_bytes());
    m.extend_from_slice(&packet[..ihl + 8]);
    let sum = !checksum::data(&m);
    m[2..4].copy_from_slice(&sum.to_be_bytes());
    Ip::new(PEER_IP, 1).frame(&m)
}

/// RFC 1191 §3: "When a host receives a Datagram Too Big message, it MUST reduce its estimate of the PMTU for
/// the relevant path, based on the value of the Next-Hop MTU field". synack sets DF on every whole datagram
/// (UDP and ICMP included) but only TCP lowered its size: the next UDP datagram to the same destination left
/// again at 1,500 bytes with DF, to be dropped by the same router forever. Linux
/// (`__ip_rt_update_pmtu`) lowers the route's MTU, and the next datagram leaves in fragments that fit it.
#[test]
fn udp_datagrams_follow_a_lowered_path_mtu() {
    let mut h = routed();
    let out = h.command(Command::UdpBind { local: SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 4000) });
    let Output::Reply(Ok(Reply::Bound { sock, .. })) = out[0] else { panic!("{out:?}") };
    let send = |h: &mut Harness| {
        let out =
            h.command(Command::UdpSendTo { sock, remote: SocketAddr::new(REMOTE.into(), 9), data: vec![7; 1400] });
        ipv4_sent(&out)
    };
    let first = send(&mut h);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0][6] & 0x40, 0x40, "sent with DF");
    h.frame(&frag_needed(1000, &first[0]));
    let second = send(&mut h);
    assert!(
        second.iter().all(|p| p.len() <= 1000 || p[6] & 0x40 == 0),
        "after 'fragmentation needed, MTU 1000' the next datagram still leaves as {:?} bytes with DF",
        second.iter().map(Vec::len).collect::<Vec<_>>()
    );
}

/// The same for echo replies: synack answers with DF set (Linux's ICMP socket uses IP_PMTUDISC_DONT, so its
/// replies have DF clear and a router fragments them), and ignored the router's "fragmentation needed": a
/// 1,400-byte ping across a 1,000-byte link never got an answer. Now the reply follows the path MTU learnt.
#[test]
fn echo_replies_follow_a_lowered_path_mtu() {
    let mut h = routed();
    let ping = |h: &mut Harness, seq: u16| {
        let out = h.frame(&raw_ipv4_from(REMOTE, 1, seq, 0, &[], false, 0, &echo_request(0x77, seq, &pattern(1400))));
        ipv4_sent(&out)
    };
    let first = ping(&mut h, 1);
    assert_eq!(first.len(), 1);
    h.frame(&frag_needed(1000, &first[0]));
    let second = ping(&mut h, 2);
    assert!(
        second.iter().all(|p| p.len() <= 1000 || p[6] & 0x40 == 0),
        "after 'fragmentation needed, MTU 1000' the echo reply still leaves as {:?} bytes with DF",
        second.iter().map(Vec::len).collect::<Vec<_>>()
    );
}

// ---- 5. IP identification -------------------------------------------------------------------------------

/// synack numbered every IPv4 datagram it sent from one global counter (+1 each), whatever the
/// destination. Anyone who could ping the host learnt how many datagrams it sent to everyone else
/// in between (the "idle scan" zombie of nmap -sI, and traffic counting; RFC 6274 §3.5.2, RFC 7739 for IPv6).
/// Linux draws the ID per destination (`ip_select_ident` -> `ip_idents_reserve`, hashed on the addresses and
/// protocol with a secret), per connection, or 0 for DF datagrams without a socket: traffic to other hosts
/// does not show in the IDs one host sees.
#[test]
fn ip_ids_seen_by_one_host_do_not_count_traffic_to_others() {
    let mut h = Harness::primed(5);
    let ping_id = |h: &mut Harness, from: Ipv4Addr, seq: u16| {
        let start = h.log.len();
        h.frame(&raw_ipv4_from(from, 1, seq, 0, &[], false, 0, &echo_request(0x99, seq, b"id")));
        // The harness answers ARP, so a reply held for it is in the log, not in what `frame` returned.
        let reply = ipv4_sent(&h.log[start..]).into_iter().find(|p| p[9] == 1).expect("an echo reply");
        u16::from_be_bytes([reply[4], reply[5]])
    };
    let before = ping_id(&mut h, PEER_IP, 1);
    let others = 5u16;
    for i in 0..others {
        ping_id(&mut h, Ipv4Addr::new(10, 0, 0, 3), 10 + i);
    }
    let after = ping_id(&mut h, PEER_IP, 2);
    assert_ne!(
        after.wrapping_sub(before),
        others + 1,
        "IDs {before:#06x} then {after:#06x}: the host's IP ID counts the {others} datagrams it sent to 10.0.0.3"
    );
}

// ---- 6. Timestamp option overflow ---------------------------------------------------------------------

/// RFC 791 (Internet Timestamp): when the option is full the overflow count is incremented; "If the overflow
/// count itself overflows, the original datagram is considered to be in error and is discarded. In either
/// case an ICMP parameter problem message may be sent". Linux's `ip_options_compile` does exactly that
/// (overflow 15 on a full timestamp option -> parameter problem pointing at the flags/overflow octet).
/// synack accepted it.
#[test]
fn a_full_timestamp_option_whose_overflow_overflows_is_a_parameter_problem() {
    let mut h = Harness::primed(1);
    // Timestamp, length 8, pointer 9 (full), overflow 15 / flags 0 (timestamps only), one stamp.
    let options = [0x44, 8, 9, 0xf0, 0, 0, 0, 1];
    let out = h.frame(&raw_ipv4_from(PEER_IP, 1, 0x21, 0, &options, false, 0, &echo_request(7, 1, b"ts")));
    let sent = ipv4_sent(&out);
    assert!(
        sent.iter().all(|p| p[20] != 0),
        "echo answered although the timestamp overflow count overflowed: {sent:02x?}"
    );
    let problems: Vec<_> = sent.iter().filter(|p| p[20] == 12).map(|p| p[24]).collect();
    assert_eq!(problems, vec![23], "a parameter problem pointing at the overflow/flags octet");
}
