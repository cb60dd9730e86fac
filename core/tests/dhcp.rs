//! The DHCP client against a scripted server: acquisition, renewal, rebinding, expiry, a server that never
//! answers, hostile answers and an address conflict, all through `Stack::handle` and `poll_timeout`.

use std::net::Ipv4Addr;
use std::time::Duration;
use synack::wire::dhcp::{DhcpMessageType as T, DhcpOp, DhcpRepr};
use synack::wire::ethernet::{self, EthernetRepr};
use synack::wire::{
    ArpOperation, ArpPacket, ArpRepr, EcnCodepoint, EtherType, EthernetAddress, EthernetFrame, IpProtocol, Ipv4Packet,
    Ipv4Repr, UdpPacket, UdpRepr,
};
use synack::{
    Command, Config, DhcpConfig, DhcpEvent, DropReason, Event, Input, Instant, Layer, LostReason, Output, Reply,
    SocketHandle, Stack,
};

const CLIENT_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x42]);
const SERVER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 9, 0, 1);
const OFFERED: Ipv4Addr = Ipv4Addr::new(10, 9, 0, 77);

fn stack(dhcp: DhcpConfig) -> Stack {
    Stack::new(Config { mac: CLIENT_MAC, seed: 3, dhcp: Some(dhcp), ..Config::default() }).unwrap()
}

fn no_probe() -> DhcpConfig {
    DhcpConfig { arp_probe_wait: Duration::ZERO, ..DhcpConfig::default() }
}

/// Runs the stack's timers up to `until`, returning everything it output.
fn run_until(stack: &mut Stack, until: Instant) -> Vec<Output> {
    let mut outs = Vec::new();
    while let Some(at) = stack.poll_timeout().filter(|t| *t <= until) {
        outs.extend(stack.handle(Input::Timer, at));
    }
    outs
}

/// The DHCP messages among `outs`, with the IPv4 destination and Ethernet destination of each.
fn dhcp_sent(outs: &[Output]) -> Vec<(DhcpRepr, Ipv4Addr, Ipv4Addr, EthernetAddress)> {
    let mut found = Vec::new();
    for o in outs {
        let Output::Transmit(f) = o else { continue };
        let eth = EthernetFrame::new_checked(&f[..]).unwrap();
        if eth.ethertype() != EtherType::Ipv4 {
            continue;
        }
        let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
        let udp = UdpPacket::new_checked(ip.payload()).unwrap();
        let repr = UdpRepr::parse(&udp, &ip.src_addr(), &ip.dst_addr()).unwrap();
        assert_eq!((repr.src_port, repr.dst_port), (68, 67));
        found.push((DhcpRepr::parse(repr.payload).unwrap(), ip.src_addr(), ip.dst_addr(), eth.dst_addr()));
    }
    found
}

fn events(outs: &[Output]) -> Vec<DhcpEvent> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Event(h, Event::Dhcp(e)) => {
                assert_eq!(*h, SocketHandle::STACK);
                Some((**e).clone())
            }
            _ => None,
        })
        .collect()
}

/// An Ethernet frame with a UDP datagram from the server's port 67 to `dst`:68.
fn udp_frame(dst: Ipv4Addr, dst_mac: EthernetAddress, src_port: u16, payload: &[u8]) -> Vec<u8> {
    let udp = UdpRepr { src_port, dst_port: 68, payload };
    let ip = Ipv4Repr {
        src_addr: SERVER,
        dst_addr: dst,
        protocol: IpProtocol::Udp,
        payload_len: udp.buffer_len(),
        ttl: 64,
        ident: 1,
        dont_frag: false,
        ecn: EcnCodepoint::NotEct,
    };
    let ip_len = 20 + udp.buffer_len();
    let mut buf = vec![0u8; ethernet::frame_len(ip_len)];
    let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
    EthernetRepr { src_addr: SERVER_MAC, dst_addr: dst_mac, ethertype: EtherType::Ipv4 }.emit(&mut frame);
    let mut packet = Ipv4Packet::new_unchecked(&mut frame.payload_mut()[..ip_len]);
    ip.emit(&mut packet);
    udp.emit(&mut UdpPacket::new_unchecked(packet.payload_mut()), &SERVER, &dst);
    buf
}

/// The server's answer of type `kind` to `request`.
fn answer(request: &DhcpRepr, kind: T, lease: u32) -> DhcpRepr {
    DhcpRepr {
        op: DhcpOp::Reply,
        yiaddr: if kind == T::Nak { Ipv4Addr::UNSPECIFIED } else { OFFERED },
        server_id: Some(SERVER),
        subnet_mask: Some(Ipv4Addr::new(255, 255, 255, 0)),
        router: Some(SERVER),
        dns_servers: vec![SERVER],
        lease_time: Some(lease),
        ..DhcpRepr::client(kind, request.xid, request.client_hw)
    }
}

/// If `outs` asks ARP for the server, answers it and returns what the stack then sends.
fn answer_arp(stack: &mut Stack, outs: &[Output], now: Instant) -> Vec<Output> {
    let asks = outs.iter().any(|o| {
        let Output::Transmit(f) = o else { return false };
        let eth = EthernetFrame::new_checked(&f[..]).unwrap();
        eth.ethertype() == EtherType::Arp
            && ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap()).unwrap().target_protocol_addr == SERVER
    });
    if !asks {
        return outs.to_vec();
    }
    let reply = ArpRepr {
        operation: ArpOperation::Reply,
        source_hardware_addr: SERVER_MAC,
        source_protocol_addr: SERVER,
        target_hardware_addr: CLIENT_MAC,
        target_protocol_addr: OFFERED,
    };
    let mut buf = vec![0u8; ethernet::frame_len(reply.buffer_len())];
    let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
    EthernetRepr { src_addr: SERVER_MAC, dst_addr: CLIENT_MAC, ethertype: EtherType::Arp }.emit(&mut frame);
    reply.emit(&mut ArpPacket::new_unchecked(&mut frame.payload_mut()[..reply.buffer_len()]));
    stack.handle(Input::Frame(&buf), now)
}

fn deliver(stack: &mut Stack, msg: &DhcpRepr, dst: Ipv4Addr, now: Instant) -> Vec<Output> {
    let mut payload = vec![0u8; msg.buffer_len()];
    msg.emit(&mut payload);
    stack.handle(Input::Frame(&udp_frame(dst, EthernetAddress::BROADCAST, 67, &payload)), now)
}

/// DISCOVER, OFFER, REQUEST, ACK: returns the stack, bound at `now`, and the ACK's time.
fn acquire(lease: u32) -> (Stack, Instant) {
    let mut s = stack(no_probe());
    assert_eq!(s.poll_timeout(), Some(Instant::ZERO), "the first DISCOVER is due at once");
    let outs = run_until(&mut s, Instant::ZERO);
    let sent = dhcp_sent(&outs);
    let [(discover, src, dst, mac)] = &sent[..] else { panic!("one DISCOVER: {sent:?}") };
    assert_eq!(discover.message_type, T::Discover);
    assert!(discover.broadcast, "asks for broadcast answers");
    assert_eq!((*src, *dst, *mac), (Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST, EthernetAddress::BROADCAST));
    let t = Instant::from_millis(10);
    // The OFFER comes unicast to the offered address (servers that ignore the broadcast flag do this).
    let offer = answer(discover, T::Offer, lease);
    let mut payload = vec![0u8; offer.buffer_len()];
    offer.emit(&mut payload);
    let outs = s.handle(Input::Frame(&udp_frame(OFFERED, CLIENT_MAC, 67, &payload)), t);
    let sent = dhcp_sent(&outs);
    let [(request, ..)] = &sent[..] else { panic!("one REQUEST: {sent:?}") };
    assert_eq!(request.message_type, T::Request);
    assert_eq!((request.requested_ip, request.server_id, request.xid), (Some(OFFERED), Some(SERVER), discover.xid));
    let t = Instant::from_millis(20);
    let outs = deliver(&mut s, &answer(request, T::Ack, lease), Ipv4Addr::BROADCAST, t);
    let ev = events(&outs);
    let [DhcpEvent::Bound(l)] = &ev[..] else { panic!("bound: {ev:?}") };
    assert_eq!(l.address.to_string(), "10.9.0.77/24");
    assert_eq!((l.gateway, l.dns_servers.clone(), l.server), (Some(SERVER), vec![SERVER], SERVER));
    assert_eq!(s.config().ipv4.to_string(), "10.9.0.77/24");
    assert_eq!(s.config().gateway, Some(SERVER));
    assert_eq!(s.stats().dhcp_messages_received, 2);
    (s, t)
}

#[test]
fn acquires_a_lease_and_uses_its_address() {
    let (mut s, t) = acquire(3600);
    // T1 is half the lease, counted from the REQUEST (sent at 10 ms).
    assert_eq!(s.dhcp_lease().unwrap().renew_at, Instant::from_millis(10) + Duration::from_secs(1800));
    // The address is ours now: a UDP socket bound to it works, ARP for it is answered.
    let reply = s.command(Command::UdpBind { local: "10.9.0.77:5000".parse().unwrap() }, t, &mut Vec::new());
    assert!(matches!(reply, Ok(Reply::Bound { .. })), "{reply:?}");
}

#[test]
fn renews_at_t1_unicast_and_rebinds_at_t2_then_expires() {
    let (mut s, _) = acquire(100);
    let obtained = Instant::from_millis(10);
    // Nothing before T1 = 50 s.
    assert!(dhcp_sent(&run_until(&mut s, obtained + Duration::from_millis(49_999))).is_empty());
    let outs = run_until(&mut s, obtained + Duration::from_secs(50));
    let outs = answer_arp(&mut s, &outs, obtained + Duration::from_secs(50));
    let sent = dhcp_sent(&outs);
    let [(renew, src, dst, _)] = &sent[..] else { panic!("one renewal: {sent:?}") };
    assert_eq!((renew.ciaddr, *src, *dst), (OFFERED, OFFERED, SERVER), "unicast to the server from our address");
    assert_eq!(renew.requested_ip, None, "RFC 2131 table 5: no requested address while renewing");
    // The server answers: renewed, same address, times moved.
    let at = obtained + Duration::from_secs(51);
    let outs = deliver(&mut s, &answer(renew, T::Ack, 100), OFFERED, at);
    let ev = events(&outs);
    assert!(
        matches!(&ev[..], [DhcpEvent::Renewed(l)] if l.expires_at == obtained + Duration::from_secs(150)),
        "{ev:?}"
    );
    // Next time nobody answers: retries until T2 = 87.5 s after the renewal's REQUEST, then broadcasts.
    let renewal_sent = obtained + Duration::from_secs(50);
    let outs = run_until(&mut s, renewal_sent + Duration::from_millis(87_499));
    assert!(dhcp_sent(&outs).iter().all(|(m, _, dst, _)| *dst == SERVER && m.ciaddr == OFFERED));
    // The unanswered renewals are told, as the unanswered DISCOVERs are.
    let retries = |outs: &[Output]| -> Vec<u32> {
        events(outs)
            .iter()
            .filter_map(|e| match e {
                DhcpEvent::Retrying { message: T::Request, attempt, .. } => Some(*attempt),
                _ => None,
            })
            .collect()
    };
    let renew_retries = retries(&outs);
    assert!(!renew_retries.is_empty() && renew_retries.iter().all(|&a| a >= 2), "{renew_retries:?}");
    let outs = run_until(&mut s, renewal_sent + Duration::from_millis(87_500));
    let sent = dhcp_sent(&outs);
    assert!(matches!(&sent[..], [(m, _, dst, _)] if *dst == Ipv4Addr::BROADCAST && m.ciaddr == OFFERED), "{sent:?}");
    assert_eq!(retries(&outs), [renew_retries.last().unwrap() + 1], "rebinding's broadcast is the next attempt");
    // Expiry: the address goes, a DISCOVER starts over.
    let outs = run_until(&mut s, renewal_sent + Duration::from_secs(100));
    let ev = events(&outs);
    assert!(ev.contains(&DhcpEvent::Lost { address: OFFERED, reason: LostReason::Expired }), "{ev:?}");
    assert_eq!(s.config().ipv4.addr(), Ipv4Addr::UNSPECIFIED);
    assert!(s.dhcp_lease().is_none());
    assert!(dhcp_sent(&outs).iter().any(|(m, src, ..)| m.message_type == T::Discover && src.is_unspecified()));
}

#[test]
fn a_server_that_never_answers_gets_backed_off_discovers_and_the_application_hears_of_it() {
    let mut s = stack(no_probe());
    let outs = run_until(&mut s, Instant::from_secs(400));
    let times: Vec<Instant> = {
        let mut s2 = stack(no_probe());
        let mut t = Vec::new();
        while let Some(at) = s2.poll_timeout().filter(|t| *t <= Instant::from_secs(400)) {
            if !dhcp_sent(&s2.handle(Input::Timer, at)).is_empty() {
                t.push(at);
            }
        }
        t
    };
    let gaps: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()).collect();
    for (gap, base) in gaps.iter().zip([4.0, 8.0, 16.0, 32.0, 64.0, 64.0, 64.0]) {
        assert!((gap - base).abs() <= 1.0, "gaps {gaps:?}");
    }
    let ev = events(&outs);
    assert!(ev.len() >= 6, "{ev:?}");
    let DhcpEvent::Retrying { message, attempt, next_in } = &ev[0] else { panic!("{ev:?}") };
    assert_eq!((*message, *attempt), (T::Discover, 2));
    assert!((next_in.as_secs_f64() - 8.0).abs() <= 1.0);
    assert!(ev[0].to_string().starts_with("no answer yet: DHCPDISCOVER sent again (attempt 2), next try in"));
    // The same seed gives the same schedule; the transaction id comes from the seed too.
    assert_eq!(dhcp_sent(&outs).len(), times.len());
}

#[test]
fn hostile_and_stray_answers_are_counted_and_change_nothing() {
    let mut s = stack(no_probe());
    let outs = run_until(&mut s, Instant::ZERO);
    let discover = dhcp_sent(&outs).remove(0).0;
    let t = Instant::from_millis(5);
    let good = answer(&discover, T::Offer, 60);
    let mut bytes = vec![0u8; good.buffer_len()];
    good.emit(&mut bytes);
    // Garbage, truncated, a wrong cookie, an option running off the end.
    let mut cases: Vec<Vec<u8>> = vec![vec![0xff; 40], bytes[..200].to_vec()];
    let mut c = bytes.clone();
    c[236] ^= 1;
    cases.push(c);
    let mut c = bytes[..240].to_vec();
    c.extend_from_slice(&[53, 1, 2, 6, 250, 1, 2]);
    cases.push(c);
    for payload in &cases {
        let out = s.handle(Input::Frame(&udp_frame(Ipv4Addr::BROADCAST, EthernetAddress::BROADCAST, 67, payload)), t);
        assert!(out.is_empty(), "{out:?}");
    }
    let malformed: u64 = s
        .stats()
        .drop_counts()
        .filter(|(r, _)| matches!(r, DropReason::Malformed(Layer::Dhcp, _)))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(malformed, 4);
    // Well-formed but not ours: another xid, another client, an ACK while selecting, from the wrong port,
    // an offer without a server id or of a broadcast address.
    let stray = [
        DhcpRepr { xid: discover.xid ^ 1, ..good.clone() },
        DhcpRepr { client_hw: EthernetAddress([2, 0, 0, 0, 0, 9]), ..good.clone() },
        answer(&discover, T::Ack, 60),
    ];
    for m in &stray {
        assert!(deliver(&mut s, m, Ipv4Addr::BROADCAST, t).is_empty());
    }
    let mut from_wrong_port = vec![0u8; good.buffer_len()];
    good.emit(&mut from_wrong_port);
    assert!(s
        .handle(Input::Frame(&udp_frame(Ipv4Addr::BROADCAST, EthernetAddress::BROADCAST, 6767, &from_wrong_port)), t)
        .is_empty());
    assert_eq!(s.stats().drops(DropReason::DhcpUnexpected), 4);
    for m in [DhcpRepr { server_id: None, ..good.clone() }, DhcpRepr { yiaddr: Ipv4Addr::BROADCAST, ..good.clone() }] {
        assert!(deliver(&mut s, &m, Ipv4Addr::BROADCAST, t).is_empty());
    }
    assert_eq!(s.stats().drops(DropReason::Malformed(Layer::Dhcp, synack::wire::Error::BadField)), 3);
    // Unicast not for port 68 while we have no address stays "not our address".
    assert_eq!(s.config().ipv4.addr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(s.stats().dhcp_messages_received, 0);
    // An ACK with a mask full of holes, or no lease time, is refused too.
    let outs = deliver(&mut s, &good, Ipv4Addr::BROADCAST, t);
    let request = dhcp_sent(&outs).remove(0).0;
    let holes = DhcpRepr { subnet_mask: Some(Ipv4Addr::new(255, 0, 255, 0)), ..answer(&request, T::Ack, 60) };
    let no_lease = DhcpRepr { lease_time: None, ..answer(&request, T::Ack, 60) };
    for m in [holes, no_lease] {
        assert!(deliver(&mut s, &m, Ipv4Addr::BROADCAST, t).is_empty());
    }
    assert!(s.dhcp_lease().is_none());
    // A NAK sends us back to DISCOVER after the first retransmission interval.
    let outs = deliver(&mut s, &answer(&request, T::Nak, 0), Ipv4Addr::BROADCAST, t);
    assert_eq!(events(&outs), [DhcpEvent::Refused { server: SERVER }]);
    let outs = run_until(&mut s, t + Duration::from_secs(4));
    assert!(dhcp_sent(&outs).iter().any(|(m, ..)| m.message_type == T::Discover && m.xid != discover.xid));
}

/// Also RFC 2131 §4.4.1 table 5: a DHCPDECLINE's 'secs' is 0 (only DISCOVER, REQUEST and INFORM count seconds);
/// the offer comes 3 s after the DISCOVER, and synack filled in those 3 s.
#[test]
fn an_address_someone_else_answers_arp_for_is_declined() {
    let mut s = stack(DhcpConfig::default());
    let discover = dhcp_sent(&run_until(&mut s, Instant::ZERO)).remove(0).0;
    let t = Instant::from_secs(3);
    let request = dhcp_sent(&deliver(&mut s, &answer(&discover, T::Offer, 600), Ipv4Addr::BROADCAST, t)).remove(0).0;
    let outs = deliver(&mut s, &answer(&request, T::Ack, 600), Ipv4Addr::BROADCAST, t);
    // An ARP probe for the address, from 0.0.0.0, and no event yet.
    let [Output::Transmit(probe)] = &outs[..] else { panic!("{outs:?}") };
    let eth = EthernetFrame::new_checked(&probe[..]).unwrap();
    let arp = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap()).unwrap();
    assert_eq!((arp.source_protocol_addr, arp.target_protocol_addr), (Ipv4Addr::UNSPECIFIED, OFFERED));
    assert_eq!(s.config().ipv4.addr(), Ipv4Addr::UNSPECIFIED, "not used before the probe's wait");
    // Someone answers.
    let other = EthernetAddress([2, 0, 0, 0, 0, 0x66]);
    let reply = ArpRepr {
        operation: ArpOperation::Reply,
        source_hardware_addr: other,
        source_protocol_addr: OFFERED,
        target_hardware_addr: CLIENT_MAC,
        target_protocol_addr: Ipv4Addr::UNSPECIFIED,
    };
    let mut buf = vec![0u8; ethernet::frame_len(reply.buffer_len())];
    let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
    EthernetRepr { src_addr: other, dst_addr: CLIENT_MAC, ethertype: EtherType::Arp }.emit(&mut frame);
    reply.emit(&mut ArpPacket::new_unchecked(&mut frame.payload_mut()[..reply.buffer_len()]));
    let outs = s.handle(Input::Frame(&buf), t + Duration::from_millis(100));
    assert_eq!(events(&outs), [DhcpEvent::Declined { address: OFFERED, by: other }]);
    let sent = dhcp_sent(&outs);
    assert!(matches!(&sent[..], [(m, ..)] if m.message_type == T::Decline && m.requested_ip == Some(OFFERED)));
    assert_eq!(sent[0].0.secs, 0, "3 s after the DISCOVER, a DECLINE still says 0");
    assert_eq!(s.config().ipv4.addr(), Ipv4Addr::UNSPECIFIED);
    // Ten seconds later, a fresh DISCOVER.
    assert!(dhcp_sent(&run_until(&mut s, t + Duration::from_millis(10_099))).is_empty());
    let sent = dhcp_sent(&run_until(&mut s, t + Duration::from_millis(10_100)));
    assert!(matches!(&sent[..], [(m, ..)] if m.message_type == T::Discover));
}

#[test]
fn without_a_conflict_the_probed_address_is_used_after_the_wait() {
    let mut s = stack(DhcpConfig::default());
    let discover = dhcp_sent(&run_until(&mut s, Instant::ZERO)).remove(0).0;
    let t = Instant::from_millis(10);
    let request = dhcp_sent(&deliver(&mut s, &answer(&discover, T::Offer, 600), Ipv4Addr::BROADCAST, t)).remove(0).0;
    deliver(&mut s, &answer(&request, T::Ack, 600), Ipv4Addr::BROADCAST, t);
    let outs = run_until(&mut s, t + Duration::from_secs(1));
    assert!(matches!(&events(&outs)[..], [DhcpEvent::Bound(_)]));
    assert_eq!(s.config().ipv4.addr(), OFFERED);
}

/// RFC 2131 §4.4.1: "the DHCPREQUEST message MUST use the same value in the DHCP message header's 'secs' field
/// ... as the original DHCPDISCOVER message" (so relays forward it to the same servers). OpenBSD/ISC dhclient
/// copy the DISCOVER's secs into every REQUEST sent while REQUESTING.
#[test]
fn every_request_for_an_offer_carries_the_discovers_secs() {
    let mut s = stack(no_probe());
    let outs = run_until(&mut s, Instant::ZERO);
    let sent = dhcp_sent(&outs);
    let [(discover, ..)] = &sent[..] else { panic!("one DISCOVER: {sent:?}") };
    assert_eq!(discover.secs, 0);
    // The server offers 1.5 s later (ISC dhcpd's ping-check, dnsmasq's ping of the address, delay this much).
    let t = Instant::from_millis(1500);
    let outs = deliver(&mut s, &answer(discover, T::Offer, 3600), Ipv4Addr::BROADCAST, t);
    let mut secs = Vec::new();
    secs.extend(dhcp_sent(&outs).iter().map(|(m, ..)| (m.message_type, m.secs)));
    // No ACK: the REQUEST is sent again (about 4 s, then 8 s later).
    let outs = run_until(&mut s, t + Duration::from_secs(14));
    secs.extend(dhcp_sent(&outs).iter().map(|(m, ..)| (m.message_type, m.secs)));
    assert!(secs.len() >= 3, "{secs:?}");
    for (kind, value) in &secs {
        assert_eq!((*kind, *value), (T::Request, discover.secs), "every REQUEST carries the DISCOVER's secs: {secs:?}");
    }
}

/// RFC 2131 §4.4.5: "if the client receives no response to its DHCPREQUEST message, the client SHOULD wait
/// one-half of the remaining time until T2 (in RENEWING state) ... down to a minimum of 60 seconds, before
/// retransmitting". With a 600 s lease (T1 300 s, T2 525 s) that is REQUESTs at 300, 412.5 and 472.5 s: two
/// retransmissions before T2. synack's floor was `retransmit_initial` (4 s by default), so it sent REQUESTs
/// 28, 14, 7, 3.5 and 4 s apart as T2 approached.
#[test]
fn renewing_retransmissions_are_at_least_60_s_apart() {
    let (mut s, _) = acquire(600);
    let lease = s.dhcp_lease().expect("bound").clone();
    assert_eq!(lease.rebind_at, lease.obtained + Duration::from_millis(525_000));
    // The server never answers the renewal; count the retransmissions before T2.
    let outs = run_until(&mut s, lease.rebind_at - Duration::from_millis(1));
    let retries: Vec<Duration> = events(&outs)
        .iter()
        .filter_map(|e| match e {
            DhcpEvent::Retrying { message: T::Request, next_in, .. } => Some(*next_in),
            _ => None,
        })
        .collect();
    let n = retries.len();
    assert!(n <= 2, "{n} REQUEST retransmissions while RENEWING (RFC 2131: 2), next_in {retries:?}");
}
