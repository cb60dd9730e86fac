//! The `dhcp_dns` target: the DHCP and DNS parsers, a DHCP client stack fed hostile servers, and a DNS lookup
//! fed hostile answers.
//!
//! Byte 0 picks the mode:
//! - 0: `DhcpRepr::parse` of the rest; what parses must re-emit into bytes that parse to the same message.
//! - 1: `DnsMessage::parse` of the rest; likewise.
//! - 2: a stack with the DHCP client on, driven by ops (time steps, answers built with the client's current
//!   transaction id from fuzzed fields, raw port-68 payloads, raw frames).
//! - 3: a DNS [`Lookup`] driven by ops (answers with the query's id and fuzzed records, raw datagrams, raw TCP
//!   bytes, timeouts).
//!
//! What must hold: no panic; a stack with a lease uses exactly the lease's address, one without uses 0.0.0.0;
//! the client always has a timer pending (unless the lease is infinite); a lookup ends at most once and within
//! its attempts.

use core::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use synack::resolver::{Lookup, ResolverConfig, Step, Transmit};
use synack::wire::dhcp::{DhcpMessageType, DhcpOp, DhcpRepr};
use synack::wire::dns::{DnsMessage, DnsName, DnsRecord, RecordData};
use synack::wire::ethernet::{self, EthernetRepr};
use synack::wire::{
    EcnCodepoint, EtherType, EthernetAddress, EthernetFrame, IpProtocol, Ipv4Packet, Ipv4Repr, UdpPacket, UdpRepr,
};
use synack::{Config, DhcpConfig, Event, Input, Instant, Output, Stack};

const MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 0x42]);
const SERVER_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);

pub fn fuzz(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 4 {
        0 => dhcp_roundtrip(rest),
        1 => dns_roundtrip(rest),
        2 => dhcp_client(rest),
        _ => dns_lookup(rest),
    }
}

fn dhcp_roundtrip(bytes: &[u8]) {
    let Ok(m) = DhcpRepr::parse(bytes) else { return };
    let mut buf = vec![0u8; m.buffer_len()];
    m.emit(&mut buf);
    assert_eq!(DhcpRepr::parse(&buf).as_ref(), Ok(&m), "DHCP parse -> emit -> parse changed the message");
}

fn dns_roundtrip(bytes: &[u8]) {
    let Ok(m) = DnsMessage::parse(bytes) else { return };
    let again = DnsMessage::parse(&m.to_bytes());
    assert_eq!(again.as_ref(), Ok(&m), "DNS parse -> emit -> parse changed the message");
}

/// Reads fuzz bytes, giving zeros once they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    fn addr(&mut self) -> Ipv4Addr {
        // Mostly inside 10.9.0.0/24, sometimes anything.
        if self.u8() % 4 == 0 {
            Ipv4Addr::from(self.u32())
        } else {
            Ipv4Addr::new(10, 9, 0, self.u8())
        }
    }
}

fn udp_frame(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    dst_mac: EthernetAddress,
    src_port: u16,
    dst_port: u16,
    payload: &[u8],
) -> Vec<u8> {
    let udp = UdpRepr { src_port, dst_port, payload };
    let ip = Ipv4Repr {
        src_addr: src,
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
    udp.emit(&mut UdpPacket::new_unchecked(packet.payload_mut()), &src, &dst);
    buf
}

/// The transaction id of the latest DHCP message the stack sent.
fn last_xid(outs: &[Output], xid: &mut u32) {
    for o in outs {
        let Output::Transmit(f) = o else { continue };
        let Ok(eth) = EthernetFrame::new_checked(&f[..]) else { continue };
        let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else { continue };
        let Ok(udp) = UdpPacket::new_checked(ip.payload()) else { continue };
        if udp.dst_port() == 67 {
            if let Ok(m) = DhcpRepr::parse(udp.payload()) {
                assert_eq!(m.client_hw, MAC);
                *xid = m.xid;
            }
        }
    }
}

fn dhcp_client(data: &[u8]) {
    let mut b = Bytes(data);
    let flags = b.u8();
    let dhcp = DhcpConfig {
        arp_probe_wait: if flags & 1 == 0 { Duration::ZERO } else { Duration::from_millis(500) },
        retransmit_initial: Duration::from_secs(1 + u64::from(flags >> 6)),
        ..DhcpConfig::default()
    };
    let Ok(mut stack) = Stack::new(Config { mac: MAC, seed: u64::from(b.u8()), dhcp: Some(dhcp), ..Config::default() })
    else {
        panic!("a valid configuration was refused")
    };
    let mut now = Instant::ZERO;
    let mut xid = 0;
    let mut bound = false;
    for _ in 0..64 {
        if b.0.is_empty() {
            break;
        }
        let outs = match b.u8() % 5 {
            0 => {
                now = now + Duration::from_millis(u64::from(b.u32() % 200_000));
                let mut outs = Vec::new();
                while let Some(at) = stack.poll_timeout().filter(|t| *t <= now) {
                    outs.extend(stack.handle(Input::Timer, at));
                    if outs.len() > 10_000 {
                        panic!("timers never settle");
                    }
                }
                outs
            }
            1 | 2 => {
                let kind = match b.u8() % 4 {
                    0 => DhcpMessageType::Offer,
                    1 | 2 => DhcpMessageType::Ack,
                    _ => DhcpMessageType::Nak,
                };
                let server = b.addr();
                let m = DhcpRepr {
                    op: DhcpOp::Reply,
                    yiaddr: b.addr(),
                    server_id: (b.u8() % 8 != 0).then(|| server),
                    subnet_mask: (b.u8() % 8 != 0).then(|| Ipv4Addr::from(u32::MAX << (b.u8() % 33).min(31))),
                    router: (b.u8() % 2 == 0).then(|| b.addr()),
                    dns_servers: (0..b.u8() % 3).map(|_| b.addr()).collect(),
                    lease_time: (b.u8() % 8 != 0).then(|| b.u32() % 1000),
                    renewal_time: (b.u8() % 2 == 0).then(|| b.u32() % 1000),
                    rebinding_time: (b.u8() % 2 == 0).then(|| b.u32() % 1000),
                    ..DhcpRepr::client(kind, xid, MAC)
                };
                let mut payload = vec![0u8; m.buffer_len()];
                m.emit(&mut payload);
                let dst = if b.u8() % 2 == 0 { Ipv4Addr::BROADCAST } else { m.yiaddr };
                let mac = if dst.is_broadcast() { EthernetAddress::BROADCAST } else { MAC };
                let src =
                    if server.is_unspecified() || server.is_broadcast() { Ipv4Addr::new(10, 9, 0, 1) } else { server };
                stack.handle(Input::Frame(&udp_frame(src, dst, mac, 67, 68, &payload)), now)
            }
            3 => {
                let n = usize::from(b.u8()) * 2;
                let payload = b.take(n).to_vec();
                stack.handle(
                    Input::Frame(&udp_frame(
                        Ipv4Addr::new(10, 9, 0, 1),
                        Ipv4Addr::BROADCAST,
                        EthernetAddress::BROADCAST,
                        67,
                        68,
                        &payload,
                    )),
                    now,
                )
            }
            _ => {
                let n = usize::from(b.u8());
                let frame = b.take(n).to_vec();
                stack.handle(Input::Frame(&frame), now)
            }
        };
        last_xid(&outs, &mut xid);
        for o in &outs {
            if let Output::Event(_, Event::Dhcp(ev)) = o {
                match &**ev {
                    synack::DhcpEvent::Bound(_) => bound = true,
                    synack::DhcpEvent::Lost { .. } => bound = false,
                    _ => {}
                }
            }
        }
        match stack.dhcp_lease() {
            Some(l) => {
                assert!(bound, "a lease without a Bound event");
                assert_eq!(stack.config().ipv4, l.address);
                assert_eq!(stack.config().gateway, l.gateway);
                assert!(l.renew_at <= l.rebind_at && l.rebind_at <= l.expires_at, "{l:?}");
                assert!(l.infinite || stack.poll_timeout().is_some(), "a finite lease with no timer");
            }
            None => {
                assert_eq!(stack.config().ipv4.addr(), Ipv4Addr::UNSPECIFIED);
                assert!(stack.poll_timeout().is_some(), "no lease and nothing scheduled");
            }
        }
    }
}

fn dns_lookup(data: &[u8]) {
    let mut b = Bytes(data);
    let servers = vec![Ipv4Addr::new(10, 0, 0, 53), Ipv4Addr::new(10, 0, 0, 54)];
    let config =
        ResolverConfig { servers: servers.clone(), attempts: 1 + u32::from(b.u8() % 4), ..ResolverConfig::default() };
    let names = ["a.test", "b.test", "c.test", "www.a.test"];
    let Ok((mut lookup, first)) =
        Lookup::start(names[usize::from(b.u8()) % 4], config.clone(), u64::from(b.u8()), Instant::ZERO)
    else {
        panic!("a valid lookup was refused")
    };
    let mut sent = first;
    let mut now = Instant::ZERO;
    let mut queries = 1u32;
    for _ in 0..64 {
        if b.0.is_empty() {
            break;
        }
        let (server, query) = match &sent {
            Transmit::Udp { server, query } => (*server, query.clone()),
            Transmit::Tcp { server, query } => (*server, query[2..].to_vec()),
        };
        let Ok(q) = DnsMessage::parse(&query) else { panic!("the lookup sent a query that does not parse") };
        let step = match b.u8() % 5 {
            0 => {
                now = now + Duration::from_millis(u64::from(b.u8()) * 20);
                lookup.on_timeout(now)
            }
            1 | 2 => {
                let answers = (0..b.u8() % 5)
                    .map(|_| DnsRecord {
                        name: DnsName::parse(names[usize::from(b.u8()) % 4]).unwrap_or_else(|_| panic!()),
                        ttl: 60,
                        data: if b.u8() % 2 == 0 {
                            RecordData::A(Ipv4Addr::from(b.u32()))
                        } else {
                            RecordData::Cname(
                                DnsName::parse(names[usize::from(b.u8()) % 4]).unwrap_or_else(|_| panic!()),
                            )
                        },
                    })
                    .collect();
                let flags = b.u8();
                let m = DnsMessage { response: true, truncated: flags & 1 != 0, rcode: (flags >> 1) % 6, answers, ..q };
                let bytes = m.to_bytes();
                if matches!(sent, Transmit::Tcp { .. }) && flags & 0x80 == 0 {
                    let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
                    framed.extend_from_slice(&bytes);
                    lookup.on_tcp_data(&framed, now)
                } else {
                    lookup.on_udp(server, &bytes, now)
                }
            }
            3 => {
                let n = usize::from(b.u8());
                let raw = b.take(n).to_vec();
                lookup.on_udp(SocketAddr::from((servers[usize::from(b.u8() % 2)], 53)), &raw, now)
            }
            _ => {
                let n = usize::from(b.u8());
                let raw = b.take(n).to_vec();
                lookup.on_tcp_data(&raw, now)
            }
        };
        match step {
            Step::Wait => {}
            Step::Send(t) => {
                queries += 1;
                assert!(queries <= 64, "a lookup that never ends");
                sent = t;
            }
            Step::Done(_) => return,
        }
    }
}
