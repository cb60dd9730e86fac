//! An IPv4 router: interfaces with an address, a prefix and an MTU each, a static routing table (longest
//! prefix match, the connected subnets of the interfaces included), and what RFC 1812 asks of a router on the
//! way:
//! - the TTL is decremented and the header checksum refilled; a datagram whose TTL would reach 0 is answered
//!   with ICMP time exceeded (code 0);
//! - a datagram with no route is answered with ICMP destination unreachable, net unreachable (code 0);
//! - a datagram larger than the egress MTU is answered with ICMP fragmentation needed (code 4, with the
//!   next-hop MTU) when it has DF set, and fragmented otherwise (RFC 791: every fragment's payload but the
//!   last a multiple of 8 bytes; the options are copied into every fragment);
//! - ICMP errors are sent from the address of the interface the datagram came in on, never about an ICMP
//!   error, a non-first fragment or a broadcast, and at most [`ICMP_BURST`] at once, refilled at
//!   [`ICMP_PER_SECOND`] (a token bucket per router, RFC 1812 §4.3.2.8);
//! - ARP on every interface: it answers requests for its interface addresses, and resolves next hops itself
//!   (datagrams wait, at most [`MAX_PENDING`] per neighbour, while a request is out; a request is repeated
//!   at most once a second, by the next datagram for that neighbour);
//! - an echo request to one of its addresses is answered.
//!
//! IPv6 (static routes, neighbour discovery, Router Advertisements) is in `router6`. It is deterministic: no
//! randomness; the ICMP identifiers count up from 1; the only timers are IPv6 Router Advertisements.

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;
use std::time::Duration;
use synack::wire::{
    ethernet, ArpOperation, ArpPacket, ArpRepr, DstUnreachable, EcnCodepoint, EtherType, EthernetAddress,
    EthernetFrame, EthernetRepr, Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Packet, Ipv4Repr, TimeExceeded,
};
use synack::Instant;

/// ICMP errors a router sends at once before the rate limit holds it back.
pub const ICMP_BURST: u32 = 10;
/// ICMP errors per second a router sends in the long run.
pub const ICMP_PER_SECOND: u64 = 100;
/// Datagrams waiting for one neighbour's ARP reply; more are dropped.
pub const MAX_PENDING: usize = 16;
const ARP_RETRY: Duration = Duration::from_secs(1);
const ICMP_TTL: u8 = 64;

/// One interface: the router's port of the same index.
#[derive(Clone, Debug)]
pub struct Interface {
    pub name: String,
    pub addr: Ipv4Addr,
    pub prefix: u8,
    pub mtu: usize,
    pub mac: EthernetAddress,
    /// The interface's IPv6 address and prefix, if it forwards IPv6.
    pub ip6: Option<synack::Ipv6Cidr>,
    /// Router Advertisements of the `ip6` prefix on this interface, if it sends them.
    pub advertise: Option<super::router6::Advertise>,
}

impl Interface {
    fn mask(&self) -> u32 {
        mask(self.prefix)
    }
    fn contains(&self, a: Ipv4Addr) -> bool {
        u32::from(a) & self.mask() == u32::from(self.addr) & self.mask()
    }
    fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) | !self.mask())
    }
}

/// The netmask of a prefix length.
pub fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}

/// A route: datagrams to `net/prefix` go out of `iface`, to `via` (or straight to their destination).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub net: Ipv4Addr,
    pub prefix: u8,
    pub via: Option<Ipv4Addr>,
    pub iface: usize,
}

impl Route {
    fn matches(&self, a: Ipv4Addr) -> bool {
        u32::from(a) & mask(self.prefix) == u32::from(self.net) & mask(self.prefix)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Pending {
    pub(crate) frames: VecDeque<(usize, Vec<u8>)>,
    pub(crate) asked: Option<Instant>,
}

#[derive(Debug)]
pub struct Router {
    pub ifaces: Vec<Interface>,
    /// Static routes then the connected ones; the longest prefix wins, the first written among equals.
    pub routes: Vec<Route>,
    /// The same for IPv6: static routes, then the interfaces' connected prefixes.
    pub routes6: Vec<super::router6::Route6>,
    /// Per interface: when its next Router Advertisement is due and when it sent the last one.
    pub(crate) ra: Vec<super::router6::RaSchedule>,
    arp: BTreeMap<Ipv4Addr, EthernetAddress>,
    pending: BTreeMap<Ipv4Addr, Pending>,
    icmp_tokens: u32,
    icmp_refilled: Instant,
    ident: u16,
    /// IPv6 neighbours (learnt from solicitations and advertisements) and packets waiting for one.
    pub(crate) ndp: BTreeMap<std::net::Ipv6Addr, EthernetAddress>,
    pub(crate) pending6: BTreeMap<std::net::Ipv6Addr, Pending>,
    /// What the router did, by what: "forwarded", "time exceeded sent", "dropped: no route", ...
    pub counters: BTreeMap<&'static str, u64>,
}

impl Router {
    /// A router with these interfaces and static routes of both families (connected routes are added after
    /// them).
    pub fn new(ifaces: Vec<Interface>, mut routes: Vec<Route>, mut routes6: Vec<super::router6::Route6>) -> Router {
        for (i, f) in ifaces.iter().enumerate() {
            let net = Ipv4Addr::from(u32::from(f.addr) & f.mask());
            routes.push(Route { net, prefix: f.prefix, via: None, iface: i });
        }
        routes6.extend(super::router6::connected(&ifaces));
        let ra = ifaces.iter().map(super::router6::RaSchedule::new).collect();
        Router {
            ifaces,
            routes,
            routes6,
            ra,
            arp: BTreeMap::new(),
            pending: BTreeMap::new(),
            icmp_tokens: ICMP_BURST,
            icmp_refilled: Instant::ZERO,
            ident: 0,
            ndp: BTreeMap::new(),
            pending6: BTreeMap::new(),
            counters: BTreeMap::new(),
        }
    }

    pub(crate) fn count(&mut self, what: &'static str) {
        *self.counters.entry(what).or_insert(0) += 1;
    }

    /// The route to `dst`: longest prefix, first written among equals.
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<Route> {
        let mut best: Option<Route> = None;
        for r in self.routes.iter().filter(|r| r.matches(dst)) {
            if best.is_none_or(|b| r.prefix > b.prefix) {
                best = Some(*r);
            }
        }
        best
    }

    /// Handles a frame that came in on interface `port` at `now`; frames to send go to `out` as
    /// (interface, frame).
    pub fn receive(&mut self, port: usize, frame: &[u8], now: Instant, out: &mut Vec<(usize, Vec<u8>)>) {
        let Some(me) = self.ifaces.get(port).cloned() else { return };
        let Ok(eth) = EthernetFrame::new_checked(frame) else {
            return self.count("dropped: malformed frame");
        };
        let ipv6_group = eth.dst_addr().0[..2] == [0x33, 0x33];
        if eth.dst_addr() != me.mac && !eth.dst_addr().is_broadcast() && !ipv6_group {
            return self.count("ignored: not for this router");
        }
        match eth.ethertype() {
            EtherType::Arp => self.on_arp(port, eth.payload(), now, out),
            EtherType::Ipv4 if !ipv6_group => self.on_ipv4(port, eth.payload(), now, out),
            EtherType::Ipv6 if me.ip6.is_some() => self.on_ipv6(port, eth.src_addr(), eth.payload(), now, out),
            _ => self.count("dropped: not IPv4 or ARP"),
        }
    }

    fn on_arp(&mut self, port: usize, payload: &[u8], now: Instant, out: &mut Vec<(usize, Vec<u8>)>) {
        let Ok(repr) = ArpPacket::new_checked(payload).and_then(|p| ArpRepr::parse(&p)) else {
            return self.count("dropped: malformed ARP");
        };
        let me = self.ifaces[port].clone();
        if !me.contains(repr.source_protocol_addr) {
            return self.count("ignored: ARP from another subnet");
        }
        self.arp.insert(repr.source_protocol_addr, repr.source_hardware_addr);
        if repr.operation == ArpOperation::Request && repr.target_protocol_addr == me.addr {
            self.count("ARP replies sent");
            let reply = ArpRepr {
                operation: ArpOperation::Reply,
                source_hardware_addr: me.mac,
                source_protocol_addr: me.addr,
                target_hardware_addr: repr.source_hardware_addr,
                target_protocol_addr: repr.source_protocol_addr,
            };
            out.push((port, arp_frame(&reply, repr.source_hardware_addr)));
        }
        if let Some(p) = self.pending.remove(&repr.source_protocol_addr) {
            for (iface, mut f) in p.frames {
                set_macs(&mut f, self.ifaces[iface].mac, repr.source_hardware_addr);
                out.push((iface, f));
            }
        }
        let _ = now;
    }

    fn on_ipv4(&mut self, port: usize, payload: &[u8], now: Instant, out: &mut Vec<(usize, Vec<u8>)>) {
        let Ok(ip) = Ipv4Packet::new_checked(payload) else {
            return self.count("dropped: malformed IPv4");
        };
        if ip.version() != 4 || !ip.verify_checksum() {
            return self.count("dropped: bad IPv4 header");
        }
        let total = usize::from(ip.total_len());
        let datagram = &payload[..total];
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        if self.ifaces.iter().any(|f| f.addr == dst) {
            return self.local(port, datagram, now, out);
        }
        if dst.is_broadcast() || dst.is_multicast() || self.ifaces.iter().any(|f| f.broadcast() == dst) {
            return self.count("ignored: broadcast");
        }
        if ip.ttl() <= 1 {
            self.count("dropped: TTL exceeded");
            let reason = TimeExceeded::TtlExpired;
            return self.icmp_error(port, datagram, |original| Icmpv4Repr::TimeExceeded { reason, original }, now, out);
        }
        let Some(route) = self.lookup(dst) else {
            self.count("dropped: no route");
            let reason = DstUnreachable::NetUnreachable;
            let err = |original| Icmpv4Repr::DstUnreachable { reason, next_hop_mtu: 0, original };
            return self.icmp_error(port, datagram, err, now, out);
        };
        let mut fwd = datagram.to_vec();
        let mut view = Ipv4Packet::new_unchecked(&mut fwd[..]);
        view.set_ttl(ip.ttl() - 1);
        view.fill_checksum();
        let mtu = self.ifaces[route.iface].mtu;
        if total > mtu {
            if ip.dont_frag() {
                self.count("dropped: fragmentation needed");
                let next_hop_mtu = u16::try_from(mtu).unwrap_or(u16::MAX);
                let reason = DstUnreachable::FragRequired;
                let err = |original| Icmpv4Repr::DstUnreachable { reason, next_hop_mtu, original };
                return self.icmp_error(port, datagram, err, now, out);
            }
            let Some(frags) = fragment(&fwd, mtu) else {
                return self.count("dropped: cannot fragment");
            };
            self.count("fragmented");
            for f in frags {
                self.send(route, dst, f, now, out);
            }
            return;
        }
        let _ = src;
        self.count("forwarded");
        self.send(route, dst, fwd, now, out);
    }

    /// A datagram to one of the router's own addresses: echo requests are answered, the rest dropped.
    fn local(&mut self, port: usize, datagram: &[u8], now: Instant, out: &mut Vec<(usize, Vec<u8>)>) {
        let ip = Ipv4Packet::new_unchecked(datagram);
        let echo = (ip.protocol() == IpProtocol::Icmp && !ip.is_fragment())
            .then(|| Icmpv4Packet::new_checked(ip.payload()).ok())
            .flatten()
            .and_then(|p| Icmpv4Repr::parse(&p).ok());
        let Some(Icmpv4Repr::EchoRequest { ident, seq_no, data }) = echo else {
            return self.count("dropped: to the router, not an echo request");
        };
        self.count("echo replies sent");
        let reply = Icmpv4Repr::EchoReply { ident, seq_no, data };
        let src = ip.dst_addr();
        let _ = port;
        self.originate(src, ip.src_addr(), &reply, now, out);
    }

    /// Takes one token of the ICMP error rate limit (shared by both families); false if none is left.
    pub(crate) fn icmp_token(&mut self, now: Instant) -> bool {
        let elapsed = now - self.icmp_refilled;
        let per_token = Duration::from_nanos(1_000_000_000 / ICMP_PER_SECOND);
        let new = (elapsed.as_nanos() / per_token.as_nanos()) as u64;
        if new > 0 {
            self.icmp_tokens = (u64::from(self.icmp_tokens) + new).min(u64::from(ICMP_BURST)) as u32;
            self.icmp_refilled = self.icmp_refilled + per_token * u32::try_from(new).unwrap_or(u32::MAX);
        }
        if self.icmp_tokens == 0 {
            self.count("ICMP errors rate-limited");
            return false;
        }
        self.icmp_tokens -= 1;
        true
    }

    /// Sends an ICMP error about `datagram` (which came in on `port`) back to its source, if allowed.
    fn icmp_error<'a>(
        &mut self,
        port: usize,
        datagram: &'a [u8],
        msg: impl FnOnce(&'a [u8]) -> Icmpv4Repr<'a>,
        now: Instant,
        out: &mut Vec<(usize, Vec<u8>)>,
    ) {
        let ip = Ipv4Packet::new_unchecked(datagram);
        let src = ip.src_addr();
        let about_error = ip.protocol() == IpProtocol::Icmp
            && ip.payload().first().is_some_and(|&t| !matches!(t, 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18));
        if about_error || ip.frag_offset() != 0 || src.is_broadcast() || src.is_multicast() || src.is_unspecified() {
            return self.count("ICMP errors not allowed (RFC 1812)");
        }
        if !self.icmp_token(now) {
            return;
        }
        // RFC 792: the header and the first 8 bytes of the datagram's data.
        let quoted = &datagram[..(ip.header_len() + 8).min(datagram.len())];
        let from = self.ifaces[port].addr;
        self.count("ICMP errors sent");
        self.originate(from, src, &msg(quoted), now, out);
    }

    /// Sends an ICMP message of the router's own, from `src` to `dst`, by the routing table.
    fn originate(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        msg: &Icmpv4Repr<'_>,
        now: Instant,
        out: &mut Vec<(usize, Vec<u8>)>,
    ) {
        let Some(route) = self.lookup(dst) else {
            return self.count("dropped: no route for own ICMP");
        };
        self.ident = self.ident.wrapping_add(1);
        let len = msg.buffer_len();
        let repr = Ipv4Repr {
            src_addr: src,
            dst_addr: dst,
            protocol: IpProtocol::Icmp,
            payload_len: len,
            ttl: ICMP_TTL,
            ident: self.ident,
            dont_frag: false,
            ecn: EcnCodepoint::NotEct,
        };
        let mut buf = vec![0u8; repr.buffer_len() + len];
        let mut ip = Ipv4Packet::new_unchecked(&mut buf[..]);
        repr.emit(&mut ip);
        msg.emit(&mut Icmpv4Packet::new_unchecked(ip.payload_mut()));
        self.send(route, dst, buf, now, out);
    }

    /// Sends an IPv4 datagram out of the route's interface: framed for the next hop if its MAC is known,
    /// otherwise kept while ARP asks for it.
    fn send(&mut self, route: Route, dst: Ipv4Addr, datagram: Vec<u8>, now: Instant, out: &mut Vec<(usize, Vec<u8>)>) {
        let iface = &self.ifaces[route.iface];
        let (mac, addr) = (iface.mac, iface.addr);
        let next_hop = route.via.unwrap_or(dst);
        let mut frame = vec![0u8; ethernet::frame_len(datagram.len())];
        let eth = EthernetRepr { src_addr: mac, dst_addr: EthernetAddress::BROADCAST, ethertype: EtherType::Ipv4 };
        eth.emit(&mut EthernetFrame::new_unchecked(&mut frame[..]));
        frame[ethernet::HEADER_LEN..ethernet::HEADER_LEN + datagram.len()].copy_from_slice(&datagram);
        if let Some(&peer) = self.arp.get(&next_hop) {
            set_macs(&mut frame, mac, peer);
            out.push((route.iface, frame));
            return;
        }
        let p = self.pending.entry(next_hop).or_default();
        // A full queue loses its oldest frame, as Linux's unresolved-neighbour queue, and a lost reply is still
        // asked for again: the frames keep coming, so the retry below must not depend on room for them.
        let full = p.frames.len() >= MAX_PENDING;
        if full {
            p.frames.pop_front();
        }
        p.frames.push_back((route.iface, frame));
        if full {
            self.count("dropped: ARP queue full");
        }
        let Some(p) = self.pending.get_mut(&next_hop) else { return };
        if p.asked.is_some_and(|t| now < t + ARP_RETRY) {
            return;
        }
        p.asked = Some(now);
        self.count("ARP requests sent");
        let req = ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: mac,
            source_protocol_addr: addr,
            target_hardware_addr: EthernetAddress([0; 6]),
            target_protocol_addr: next_hop,
        };
        out.push((route.iface, arp_frame(&req, EthernetAddress::BROADCAST)));
    }
}

fn set_macs(frame: &mut [u8], src: EthernetAddress, dst: EthernetAddress) {
    frame[..6].copy_from_slice(&dst.0);
    frame[6..12].copy_from_slice(&src.0);
}

fn arp_frame(repr: &ArpRepr, dst: EthernetAddress) -> Vec<u8> {
    let mut frame = vec![0u8; ethernet::frame_len(repr.buffer_len())];
    let mut eth = EthernetFrame::new_unchecked(&mut frame[..]);
    EthernetRepr { src_addr: repr.source_hardware_addr, dst_addr: dst, ethertype: EtherType::Arp }.emit(&mut eth);
    repr.emit(&mut ArpPacket::new_unchecked(eth.payload_mut()));
    frame
}

/// Splits an IPv4 datagram (header checked, TTL already set) into fragments of at most `mtu` bytes; `None`
/// when the MTU cannot carry its header and 8 bytes of data.
pub fn fragment(datagram: &[u8], mtu: usize) -> Option<Vec<Vec<u8>>> {
    let ip = Ipv4Packet::new_checked(datagram).ok()?;
    let hl = ip.header_len();
    let chunk = mtu.checked_sub(hl)? / 8 * 8;
    if chunk == 0 {
        return None;
    }
    let payload = ip.payload();
    let (base, more) = (usize::from(ip.frag_offset()), ip.more_frags());
    let mut frags = Vec::new();
    let mut at = 0;
    while at < payload.len() {
        let end = (at + chunk).min(payload.len());
        let mut f = Vec::with_capacity(hl + end - at);
        f.extend_from_slice(&datagram[..hl]);
        f.extend_from_slice(&payload[at..end]);
        let mut v = Ipv4Packet::new_unchecked(&mut f[..]);
        v.set_total_len(u16::try_from(hl + end - at).ok()?);
        let offset = u16::try_from(base + at).ok()?;
        v.set_flags_and_frag_offset(false, more || end < payload.len(), offset);
        v.fill_checksum();
        frags.push(f);
        at = end;
    }
    Some(frags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use synack::wire::{UdpPacket, UdpRepr};

    fn router() -> Router {
        let iface = |i: u8, addr: [u8; 4], prefix| Interface {
            name: format!("if{i}"),
            addr: addr.into(),
            prefix,
            mtu: 1500,
            mac: EthernetAddress([2, 0, 1, 0, 1, i]),
            ip6: None,
            advertise: None,
        };
        let routes = vec![
            Route { net: [0, 0, 0, 0].into(), prefix: 0, via: Some([10, 0, 1, 9].into()), iface: 1 },
            Route { net: [10, 9, 0, 0].into(), prefix: 16, via: Some([10, 0, 1, 8].into()), iface: 1 },
        ];
        Router::new(vec![iface(1, [10, 0, 0, 1], 24), iface(2, [10, 0, 1, 1], 24)], routes, Vec::new())
    }

    /// A UDP datagram from 10.0.0.2 to `dst` with `ttl`, framed to the router's first interface.
    fn datagram(dst: [u8; 4], ttl: u8) -> Vec<u8> {
        let (src, dst) = (Ipv4Addr::from([10, 0, 0, 2]), Ipv4Addr::from(dst));
        let udp = UdpRepr { src_port: 1000, dst_port: 2000, payload: b"probe" };
        let ip = Ipv4Repr {
            src_addr: src,
            dst_addr: dst,
            protocol: IpProtocol::Udp,
            payload_len: udp.buffer_len(),
            ttl,
            ident: 7,
            dont_frag: true,
            ecn: EcnCodepoint::NotEct,
        };
        let mut f = vec![0u8; ethernet::frame_len(20 + udp.buffer_len())];
        let mut eth = EthernetFrame::new_unchecked(&mut f[..]);
        let to = EthernetAddress([2, 0, 1, 0, 1, 1]);
        EthernetRepr { src_addr: EthernetAddress([2, 0, 0, 0, 0, 2]), dst_addr: to, ethertype: EtherType::Ipv4 }
            .emit(&mut eth);
        let mut v = Ipv4Packet::new_unchecked(eth.payload_mut());
        ip.emit(&mut v);
        udp.emit(&mut UdpPacket::new_unchecked(v.payload_mut()), &src, &dst);
        f
    }

    #[test]
    fn longest_prefix_wins() {
        let r = router();
        assert_eq!(r.lookup([10, 9, 3, 4].into()).and_then(|r| r.via), Some([10, 0, 1, 8].into()));
        assert_eq!(r.lookup([10, 0, 1, 77].into()).map(|r| (r.via, r.iface)), Some((None, 1)), "connected");
        assert_eq!(r.lookup([8, 8, 8, 8].into()).and_then(|r| r.via), Some([10, 0, 1, 9].into()), "default");
    }

    /// A burst of expiring datagrams gets ICMP_BURST answers at once, then one per 1/ICMP_PER_SECOND.
    #[test]
    fn icmp_errors_are_rate_limited() {
        let mut r = router();
        let mut out = Vec::new();
        // Learn the sender first, so answers leave at once instead of waiting for ARP.
        let arp = ArpRepr {
            operation: ArpOperation::Reply,
            source_hardware_addr: EthernetAddress([2, 0, 0, 0, 0, 2]),
            source_protocol_addr: [10, 0, 0, 2].into(),
            target_hardware_addr: EthernetAddress([2, 0, 1, 0, 1, 1]),
            target_protocol_addr: [10, 0, 0, 1].into(),
        };
        r.receive(0, &arp_frame(&arp, EthernetAddress([2, 0, 1, 0, 1, 1])), Instant::ZERO, &mut out);
        for _ in 0..50 {
            r.receive(0, &datagram([10, 9, 0, 5], 1), Instant::ZERO, &mut out);
        }
        assert_eq!(out.len(), ICMP_BURST as usize);
        assert_eq!(r.counters["ICMP errors rate-limited"], 50 - u64::from(ICMP_BURST));
        out.clear();
        let later = Instant::ZERO + Duration::from_millis(25);
        for _ in 0..5 {
            r.receive(0, &datagram([10, 9, 0, 5], 1), later, &mut out);
        }
        assert_eq!(out.len(), 2, "two tokens back after 25 ms at 100 per second");
    }

    #[test]
    fn forwarding_decrements_ttl_and_asks_arp_once() {
        let mut r = router();
        let mut out = Vec::new();
        for _ in 0..3 {
            r.receive(0, &datagram([10, 9, 0, 5], 9), Instant::ZERO, &mut out);
        }
        assert_eq!(out.len(), 1, "one ARP request; the datagrams wait");
        assert_eq!(EthernetFrame::new_checked(&out[0].1[..]).map(|e| e.ethertype()).ok(), Some(EtherType::Arp));
        let reply = ArpRepr {
            operation: ArpOperation::Reply,
            source_hardware_addr: EthernetAddress([2, 0, 0, 0, 0, 8]),
            source_protocol_addr: [10, 0, 1, 8].into(),
            target_hardware_addr: EthernetAddress([2, 0, 1, 0, 1, 2]),
            target_protocol_addr: [10, 0, 1, 1].into(),
        };
        out.clear();
        r.receive(1, &arp_frame(&reply, EthernetAddress([2, 0, 1, 0, 1, 2])), Instant::ZERO, &mut out);
        assert_eq!(out.len(), 3);
        for (iface, f) in &out {
            assert_eq!(*iface, 1);
            let ip = Ipv4Packet::new_checked(&f[ethernet::HEADER_LEN..]).expect("ipv4");
            assert_eq!((ip.ttl(), ip.verify_checksum()), (8, true));
            assert_eq!(&f[..6], &[2, 0, 0, 0, 0, 8]);
        }
    }

    /// Mangled frames (any byte of a valid datagram changed, cut short) are counted, never a panic.
    #[test]
    fn mangled_frames_never_panic() {
        let mut r = router();
        let mut rng = crate::rng::stream(5, 5);
        let mut out = Vec::new();
        let good = datagram([10, 9, 0, 5], 9);
        for i in 0..20_000u64 {
            let mut f = good.clone();
            let at = crate::rng::below(&mut rng, f.len() as u64) as usize;
            f[at] = crate::rng::below(&mut rng, 256) as u8;
            if i % 3 == 0 {
                f.truncate(crate::rng::below(&mut rng, f.len() as u64) as usize);
            }
            let now = Instant::ZERO + Duration::from_micros(i);
            r.receive((i % 2) as usize, &f, now, &mut out);
        }
        assert!(r.counters.len() > 3, "{:?}", r.counters);
    }
}
