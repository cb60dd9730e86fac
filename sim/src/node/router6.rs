//! IPv6 for a [`Router`] (RFC 8200, RFC 4861 as a router, RFC 4443).
//!
//! Forwarding: by longest prefix match over the static IPv6 routes and the connected prefixes of the
//! interfaces that have one (the first written among equal lengths); a route's next hop is its `via` (on a
//! connected prefix, or link-local on a named interface) or the destination itself, resolved with neighbour
//! solicitations of the router's own (packets wait, at most [`MAX_PENDING`] per neighbour, and a solicitation
//! is repeated at most once a second). The hop limit is decremented (an IPv6 header has no checksum); a packet
//! that would leave with hop limit 0 is answered with ICMPv6 time exceeded, one with no route with destination
//! unreachable (no route), one larger than the egress MTU with Packet Too Big (routers never fragment IPv6).
//! Link-local packets (either address fe80::/10) are never forwarded (RFC 4291 §2.5.6).
//!
//! Neighbour discovery: every IPv6 interface also has the link-local address formed from its MAC (RFC 4862
//! §5.3); solicitations for either address are answered (the Router flag set), echo requests to any of the
//! router's addresses too.
//!
//! Router Advertisements (RFC 4861 §6.2) on interfaces with [`Advertise`]: from the link-local address to all
//! nodes, with hop limit 64, the router lifetime, the source link-layer address, the MTU when it is not 1500,
//! and the interface's prefix with the L and A flags (valid 30 days, preferred 7 days, RFC 4861's defaults).
//! RFC 4861 draws the interval between unsolicited ones at random and delays an answer to a solicitation by a
//! random 0 to 500 ms; here, deterministically, the first leaves when the run starts, the next ones every
//! [`Advertise::interval`], and a Router Solicitation is answered (to all nodes) at once, or as soon as
//! [`MIN_DELAY_BETWEEN_RAS`] has passed since the last advertisement on that interface (one answer serves
//! every solicitation that waits for it, and the periodic advertisement is reset to follow it).
//!
//! ICMPv6 errors share the IPv4 errors' rate limit, never answer an error or a multicast packet (but Packet
//! Too Big), and quote as much as fits in 1280 bytes.

use super::router::{Interface, Router, MAX_PENDING};
use std::net::Ipv6Addr;
use std::time::Duration;
use synack::wire::icmpv6::{Icmpv6DstUnreachable, Icmpv6Packet, Icmpv6Repr, Icmpv6TimeExceeded};
use synack::wire::ipv6::{self, Ipv6Packet, Ipv6Repr};
use synack::wire::ndp::{NdpRepr, PrefixInformation, Prefixes};
use synack::wire::{EcnCodepoint, EtherType, EthernetAddress, EthernetFrame, EthernetRepr, IpProtocol};
use synack::Instant;

const NS_RETRY: Duration = Duration::from_secs(1);
/// The least time between two advertisements to all nodes on one interface (RFC 4861 §10).
pub const MIN_DELAY_BETWEEN_RAS: Duration = Duration::from_secs(3);
/// Time between unsolicited advertisements unless set: RFC 4861's MaxRtrAdvInterval of 600 s scaled down to
/// the seconds a simulated run lasts.
pub const DEFAULT_RA_INTERVAL: Duration = Duration::from_secs(10);
/// The hop limit advertised for hosts' packets (AdvCurHopLimit).
const ADV_HOP_LIMIT: u8 = 64;
/// Prefix lifetimes advertised, in seconds (RFC 4861 §6.2.1 AdvValidLifetime, AdvPreferredLifetime).
const VALID_LIFETIME: u32 = 2_592_000;
const PREFERRED_LIFETIME: u32 = 604_800;
/// The MTU an advertisement leaves out (Ethernet's): hosts assume it.
const ETHERNET_MTU: usize = 1500;

/// How an interface advertises itself as a router.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Advertise {
    /// Time between unsolicited advertisements.
    pub interval: Duration,
    /// Router lifetime advertised (whole seconds; 0: not a default router).
    pub lifetime: Duration,
}

/// An IPv6 route: packets to `net/prefix` go out of `iface`, to `via` (or straight to their destination).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route6 {
    pub net: Ipv6Addr,
    pub prefix: u8,
    pub via: Option<Ipv6Addr>,
    pub iface: usize,
}

impl Route6 {
    fn matches(&self, a: Ipv6Addr) -> bool {
        u128::from(a) & mask6(self.prefix) == u128::from(self.net) & mask6(self.prefix)
    }
}

/// The netmask of an IPv6 prefix length.
pub fn mask6(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix.min(128)))
    }
}

/// The connected routes of the interfaces that have an IPv6 prefix.
pub(crate) fn connected(ifaces: &[Interface]) -> Vec<Route6> {
    let on = |(i, f): (usize, &Interface)| {
        let c = f.ip6?;
        let net = Ipv6Addr::from(u128::from(c.addr()) & mask6(c.prefix_len()));
        Some(Route6 { net, prefix: c.prefix_len(), via: None, iface: i })
    };
    ifaces.iter().enumerate().filter_map(on).collect()
}

/// When an interface's next advertisement is due (`None`: it does not advertise) and when it sent the last.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RaSchedule {
    next: Option<Instant>,
    last: Option<Instant>,
}

impl RaSchedule {
    pub(crate) fn new(f: &Interface) -> RaSchedule {
        RaSchedule { next: f.advertise.and(f.ip6).map(|_| Instant::ZERO), last: None }
    }
}

/// The error to answer a packet with.
enum Error6 {
    NoRoute,
    HopLimit,
    TooBig(u32),
}

impl Router {
    /// The IPv6 route to `dst`: longest prefix, first written among equals.
    pub fn lookup6(&self, dst: Ipv6Addr) -> Option<Route6> {
        let mut best: Option<Route6> = None;
        for r in self.routes6.iter().filter(|r| r.matches(dst)) {
            if best.is_none_or(|b| r.prefix > b.prefix) {
                best = Some(*r);
            }
        }
        best
    }

    /// The link-local address of interface `port`, if it has IPv6.
    pub fn link_local(&self, port: usize) -> Option<Ipv6Addr> {
        let f = self.ifaces.get(port)?;
        f.ip6.map(|_| ipv6::link_local_from_mac(f.mac))
    }

    /// When the router next has something to do of its own accord (an advertisement to send).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.ra.iter().filter_map(|r| r.next).min()
    }

    /// Time passed: sends the advertisements due at `now`.
    pub fn on_timer(&mut self, now: Instant, out: &mut Vec<(usize, Vec<u8>)>) {
        for port in 0..self.ra.len() {
            if self.ra[port].next.is_some_and(|t| t <= now) {
                self.advertise(port, now, out);
            }
        }
    }

    /// Sends a Router Advertisement to all nodes on `port` and schedules the next.
    fn advertise(&mut self, port: usize, now: Instant, out: &mut Vec<(usize, Vec<u8>)>) {
        let f = &self.ifaces[port];
        let (Some(adv), Some(c), Some(src)) = (f.advertise, f.ip6, self.link_local(port)) else { return };
        let prefix = PrefixInformation {
            prefix_len: c.prefix_len(),
            on_link: true,
            autonomous: true,
            valid_lifetime: VALID_LIFETIME,
            preferred_lifetime: PREFERRED_LIFETIME,
            prefix: Ipv6Addr::from(u128::from(c.addr()) & mask6(c.prefix_len())),
        };
        let list = [prefix];
        let ra = Icmpv6Repr::Ndp(NdpRepr::RouterAdvert {
            hop_limit: ADV_HOP_LIMIT,
            managed: false,
            other: false,
            router_lifetime: u16::try_from(adv.lifetime.as_secs()).unwrap_or(u16::MAX),
            reachable_time: 0,
            retrans_time: 0,
            source_lladdr: Some(f.mac),
            mtu: (f.mtu != ETHERNET_MTU).then_some(f.mtu as u32),
            prefixes: Prefixes::from_slice(&list),
        });
        let to = ipv6::multicast_mac(&ipv6::ALL_NODES);
        let frame = icmp6_frame(f.mac, to, src, ipv6::ALL_NODES, synack::wire::ndp::HOP_LIMIT, &ra);
        self.ra[port] = RaSchedule { next: Some(now + adv.interval), last: Some(now) };
        self.count("router advertisements sent");
        out.push((port, frame));
    }

    /// Whether `a` is one of the router's IPv6 addresses.
    fn is_mine6(&self, a: Ipv6Addr) -> bool {
        (0..self.ifaces.len())
            .any(|p| self.ifaces[p].ip6.is_some_and(|c| c.addr() == a) || self.link_local(p) == Some(a))
    }

    /// An IPv6 packet came in on `port` from `from_mac`.
    pub(crate) fn on_ipv6(
        &mut self,
        port: usize,
        from_mac: EthernetAddress,
        payload: &[u8],
        now: Instant,
        out: &mut Vec<(usize, Vec<u8>)>,
    ) {
        let Ok(packet) = Ipv6Packet::new_checked(payload) else { return self.count("dropped: malformed IPv6") };
        let Ok(repr) = Ipv6Repr::parse(&packet) else { return self.count("dropped: malformed IPv6") };
        let packet_len = ipv6::HEADER_LEN + repr.payload_len;
        let bytes = &payload[..packet_len.min(payload.len())];
        let mine = self.is_mine6(repr.dst_addr);
        // Neighbour discovery and echo requests addressed to the router (or a group it listens to).
        if repr.next_header == IpProtocol::ICMPV6 && (repr.dst_addr.is_multicast() || mine) {
            let parsed = Icmpv6Packet::new_checked(packet.payload())
                .and_then(|p| Icmpv6Repr::parse(&p, &repr.src_addr, &repr.dst_addr));
            match parsed {
                Ok(Icmpv6Repr::Ndp(msg)) if msg.check_ip(&repr.src_addr, &repr.dst_addr, repr.hop_limit).is_ok() => {
                    return self.on_nd(port, from_mac, &repr, &msg, now, out);
                }
                Ok(Icmpv6Repr::EchoRequest { ident, seq_no, data }) if mine => {
                    let reply = Icmpv6Repr::EchoReply { ident, seq_no, data };
                    self.count("IPv6 echo requests answered");
                    return self.send6(port, from_mac, repr.dst_addr, repr.src_addr, &reply, out);
                }
                _ => return self.count("ignored: IPv6 to the router"),
            }
        }
        if repr.dst_addr.is_multicast() {
            return self.count("ignored: IPv6 multicast");
        }
        if mine {
            return self.count("dropped: IPv6 to the router, not an echo request");
        }
        if ipv6::is_link_local(&repr.src_addr) || ipv6::is_link_local(&repr.dst_addr) {
            return self.count("dropped: link-local IPv6 is not forwarded");
        }
        let Some(route) = self.lookup6(repr.dst_addr) else {
            return self.error6(port, from_mac, &repr, bytes, Error6::NoRoute, now, out);
        };
        if repr.hop_limit <= 1 {
            return self.error6(port, from_mac, &repr, bytes, Error6::HopLimit, now, out);
        }
        let mtu = self.ifaces[route.iface].mtu;
        if packet_len > mtu {
            return self.error6(port, from_mac, &repr, bytes, Error6::TooBig(mtu as u32), now, out);
        }
        let mut frame = vec![0u8; (14 + packet_len).max(60)];
        frame[14..14 + packet_len].copy_from_slice(bytes);
        frame[14 + 7] = repr.hop_limit - 1;
        frame[12..14].copy_from_slice(&[0x86, 0xdd]);
        self.count("IPv6 forwarded");
        self.deliver6(route.iface, route.via.unwrap_or(repr.dst_addr), frame, now, out);
    }

    /// Sends `frame` (Ethernet addresses still to fill) out of `port` to the on-link `next_hop`, soliciting
    /// it first if its link-layer address is unknown.
    fn deliver6(
        &mut self,
        port: usize,
        next_hop: Ipv6Addr,
        mut frame: Vec<u8>,
        now: Instant,
        out: &mut Vec<(usize, Vec<u8>)>,
    ) {
        let mac = self.ifaces[port].mac;
        frame[6..12].copy_from_slice(&mac.0);
        if let Some(dst) = self.ndp.get(&next_hop) {
            frame[..6].copy_from_slice(&dst.0);
            return out.push((port, frame));
        }
        let p = self.pending6.entry(next_hop).or_default();
        // As the IPv4 side: the oldest frame goes, and a lost advertisement is still asked for again.
        let full = p.frames.len() >= MAX_PENDING;
        if full {
            p.frames.pop_front();
        }
        p.frames.push_back((port, frame));
        if full {
            self.count("dropped: IPv6 neighbour queue full");
        }
        let Some(p) = self.pending6.get_mut(&next_hop) else { return };
        if p.asked.is_some_and(|t| now < t + NS_RETRY) {
            return;
        }
        p.asked = Some(now);
        let Some(me) = self.ifaces[port].ip6 else { return };
        // From the address of the next hop's scope, so that its answer comes back on this link either way.
        let src = if ipv6::is_link_local(&next_hop) { self.link_local(port).unwrap_or(me.addr()) } else { me.addr() };
        let ns = Icmpv6Repr::Ndp(NdpRepr::NeighborSolicit { target: next_hop, source_lladdr: Some(mac) });
        let group = ipv6::solicited_node(&next_hop);
        self.count("neighbour solicitations sent");
        let frame = icmp6_frame(mac, ipv6::multicast_mac(&group), src, group, 255, &ns);
        out.push((port, frame));
    }

    fn on_nd(
        &mut self,
        port: usize,
        from_mac: EthernetAddress,
        repr: &Ipv6Repr,
        msg: &NdpRepr<'_>,
        now: Instant,
        out: &mut Vec<(usize, Vec<u8>)>,
    ) {
        let Some(me) = self.ifaces[port].ip6 else { return };
        let link_local = self.link_local(port);
        match *msg {
            NdpRepr::NeighborSolicit { target, source_lladdr } if target == me.addr() || Some(target) == link_local => {
                if repr.src_addr.is_unspecified() {
                    return self.count("ignored: duplicate address detection");
                }
                let mac = source_lladdr.unwrap_or(from_mac);
                self.learn6(repr.src_addr, mac, out);
                let na = Icmpv6Repr::Ndp(NdpRepr::NeighborAdvert {
                    router: true,
                    solicited: true,
                    override_: true,
                    target,
                    target_lladdr: Some(self.ifaces[port].mac),
                });
                self.count("neighbour advertisements sent");
                let frame = icmp6_frame(self.ifaces[port].mac, mac, target, repr.src_addr, 255, &na);
                out.push((port, frame));
            }
            NdpRepr::RouterSolicit { source_lladdr } if self.ra[port].next.is_some() => {
                if let Some(mac) = source_lladdr.filter(|_| !repr.src_addr.is_unspecified()) {
                    self.learn6(repr.src_addr, mac, out);
                }
                self.count("router solicitations answered");
                let earliest = self.ra[port].last.map_or(now, |t| (t + MIN_DELAY_BETWEEN_RAS).max(now));
                let next = self.ra[port].next.map_or(earliest, |t| t.min(earliest));
                self.ra[port].next = Some(next);
                if next <= now {
                    self.advertise(port, now, out);
                }
            }
            NdpRepr::NeighborAdvert { target, target_lladdr, .. } => {
                if let Some(mac) = target_lladdr.filter(|m| m.is_unicast()) {
                    self.learn6(target, mac, out);
                }
            }
            _ => self.count("ignored: other neighbour discovery"),
        }
    }

    /// `ip` is at `mac`: remember it and send what waited for it.
    fn learn6(&mut self, ip: Ipv6Addr, mac: EthernetAddress, out: &mut Vec<(usize, Vec<u8>)>) {
        self.ndp.insert(ip, mac);
        if let Some(p) = self.pending6.remove(&ip) {
            for (port, mut frame) in p.frames {
                frame[..6].copy_from_slice(&mac.0);
                out.push((port, frame));
            }
        }
    }

    /// Answers `packet` (which came in on `port` from `to_mac`) with an ICMPv6 error, if RFC 4443 §2.4 allows.
    #[allow(clippy::too_many_arguments)]
    fn error6(
        &mut self,
        port: usize,
        to_mac: EthernetAddress,
        repr: &Ipv6Repr,
        packet: &[u8],
        e: Error6,
        now: Instant,
        out: &mut Vec<(usize, Vec<u8>)>,
    ) {
        let src = repr.src_addr;
        let about_error =
            repr.next_header == IpProtocol::ICMPV6 && packet.get(ipv6::HEADER_LEN).is_some_and(|t| *t < 128);
        if about_error || src.is_unspecified() || src.is_multicast() {
            return self.count("ICMPv6 errors not allowed (RFC 4443)");
        }
        if !self.icmp_token(now) {
            return;
        }
        let Some(me) = self.ifaces[port].ip6 else { return };
        let quote = &packet[..packet.len().min(synack::wire::icmpv6::MAX_QUOTE_LEN)];
        let msg = match e {
            Error6::NoRoute => Icmpv6Repr::DstUnreachable { reason: Icmpv6DstUnreachable::NoRoute, original: quote },
            Error6::HopLimit => {
                Icmpv6Repr::TimeExceeded { reason: Icmpv6TimeExceeded::HopLimitExceeded, original: quote }
            }
            Error6::TooBig(mtu) => Icmpv6Repr::PacketTooBig { mtu, original: quote },
        };
        self.count(match e {
            Error6::NoRoute => "ICMPv6 no route sent",
            Error6::HopLimit => "ICMPv6 time exceeded sent",
            Error6::TooBig(_) => "ICMPv6 packet too big sent",
        });
        self.send6(port, to_mac, me.addr(), src, &msg, out);
    }

    /// Sends the router's own ICMPv6 message out of `port` to the neighbour at `to_mac`.
    fn send6(
        &mut self,
        port: usize,
        to_mac: EthernetAddress,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        msg: &Icmpv6Repr<'_>,
        out: &mut Vec<(usize, Vec<u8>)>,
    ) {
        let frame = icmp6_frame(self.ifaces[port].mac, to_mac, src, dst, 64, msg);
        out.push((port, frame));
    }
}

/// One ICMPv6 message in an Ethernet frame.
fn icmp6_frame(
    src_mac: EthernetAddress,
    dst_mac: EthernetAddress,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    msg: &Icmpv6Repr<'_>,
) -> Vec<u8> {
    let len = msg.buffer_len();
    let mut frame = vec![0u8; (14 + ipv6::HEADER_LEN + len).max(60)];
    let mut eth = EthernetFrame::new_unchecked(&mut frame[..]);
    EthernetRepr { src_addr: src_mac, dst_addr: dst_mac, ethertype: EtherType::Ipv6 }.emit(&mut eth);
    let ip = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: IpProtocol::ICMPV6,
        payload_len: len,
        hop_limit,
        dscp: 0,
        ecn: EcnCodepoint::NotEct,
        flow_label: 0,
    };
    let mut packet = Ipv6Packet::new_unchecked(&mut eth.payload_mut()[..ipv6::HEADER_LEN + len]);
    ip.emit(&mut packet);
    msg.emit(&mut Icmpv6Packet::new_unchecked(packet.payload_mut()), &src, &dst);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;
    use synack::wire::{UdpPacket, UdpRepr};
    use synack::Ipv6Cidr;

    const HOST_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
    const NEXT_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 8]);

    fn a6(s: &str) -> Ipv6Addr {
        s.parse().expect("IPv6 address")
    }

    fn iface(i: u8, ip6: &str, mtu: usize, advertise: Option<Advertise>) -> Interface {
        Interface {
            name: format!("if{i}"),
            addr: [10, 0, i, 1].into(),
            prefix: 24,
            mtu,
            mac: EthernetAddress([2, 0, 1, 0, 1, i]),
            ip6: Some(ip6.parse::<Ipv6Cidr>().expect("cidr")),
            advertise,
        }
    }

    /// Interface 0 on 2001:db8:1::/64 (advertising, if asked), interface 1 on 2001:db8:12::/64, and static
    /// routes: the default by 2001:db8:12::9, 2001:db8:9::/48 by 2001:db8:12::8, 2001:db8:9:1::/64 by r1's
    /// link-local neighbour fe80::8 on interface 1.
    fn router(advertise: Option<Advertise>, mtu: usize) -> Router {
        let ifaces = vec![iface(1, "2001:db8:1::1/64", mtu, advertise), iface(2, "2001:db8:12::1/64", 1500, None)];
        let routes6 = vec![
            Route6 { net: Ipv6Addr::UNSPECIFIED, prefix: 0, via: Some(a6("2001:db8:12::9")), iface: 1 },
            Route6 { net: a6("2001:db8:9::"), prefix: 48, via: Some(a6("2001:db8:12::8")), iface: 1 },
            Route6 { net: a6("2001:db8:9:1::"), prefix: 64, via: Some(a6("fe80::8")), iface: 1 },
        ];
        Router::new(ifaces, Vec::new(), routes6)
    }

    /// An IPv6 packet of ICMPv6 `msg` from `src` (at `src_mac`) to `dst`, for the router's interface `port`.
    fn icmp_in(src: Ipv6Addr, dst: Ipv6Addr, to_mac: EthernetAddress, msg: &Icmpv6Repr<'_>) -> Vec<u8> {
        icmp6_frame(HOST_MAC, to_mac, src, dst, 255, msg)
    }

    /// A UDP probe from 2001:db8:1::2 to `dst` with hop limit `hops`, framed to interface 0.
    fn udp_in(dst: Ipv6Addr, hops: u8) -> Vec<u8> {
        let src = a6("2001:db8:1::2");
        let udp = UdpRepr { src_port: 1000, dst_port: 2000, payload: b"probe" };
        let mut f = vec![0u8; 14 + ipv6::HEADER_LEN + udp.buffer_len()];
        let mut eth = EthernetFrame::new_unchecked(&mut f[..]);
        let to = EthernetAddress([2, 0, 1, 0, 1, 1]);
        EthernetRepr { src_addr: HOST_MAC, dst_addr: to, ethertype: EtherType::Ipv6 }.emit(&mut eth);
        let ip = Ipv6Repr {
            src_addr: src,
            dst_addr: dst,
            next_header: IpProtocol::Udp,
            payload_len: udp.buffer_len(),
            hop_limit: hops,
            dscp: 0,
            ecn: EcnCodepoint::NotEct,
            flow_label: 0,
        };
        let mut p = Ipv6Packet::new_unchecked(eth.payload_mut());
        ip.emit(&mut p);
        udp.emit(&mut UdpPacket::new_unchecked(p.payload_mut()), &src, &dst);
        f
    }

    /// The IPv6 header and ICMPv6 message of a frame the router sent.
    fn parse_out(frame: &[u8]) -> (EthernetAddress, Ipv6Repr, Option<Icmpv6Repr<'_>>) {
        let eth = EthernetFrame::new_checked(frame).expect("ethernet");
        let ip = Ipv6Packet::new_checked(&frame[14..]).expect("ipv6");
        let repr = Ipv6Repr::parse(&ip).expect("ipv6 header");
        let body = &frame[14 + ipv6::HEADER_LEN..14 + ipv6::HEADER_LEN + repr.payload_len];
        let icmp = (repr.next_header == IpProtocol::ICMPV6)
            .then(|| {
                Icmpv6Repr::parse(&Icmpv6Packet::new_checked(body).expect("icmpv6"), &repr.src_addr, &repr.dst_addr)
            })
            .map(|r| r.expect("valid ICMPv6"));
        (eth.dst_addr(), repr, icmp)
    }

    #[test]
    fn longest_prefix_wins_over_static_and_connected_routes() {
        let r = router(None, 1500);
        let via = |dst: &str| r.lookup6(a6(dst)).map(|r| (r.via, r.iface));
        assert_eq!(via("2001:db8:9:1::5"), Some((Some(a6("fe80::8")), 1)), "/64 beats /48");
        assert_eq!(via("2001:db8:9:2::5"), Some((Some(a6("2001:db8:12::8")), 1)), "/48 beats the default");
        assert_eq!(via("2001:db8:1::77"), Some((None, 0)), "connected /64");
        assert_eq!(via("2001:db8:12::77"), Some((None, 1)), "connected /64 on the other side");
        assert_eq!(via("2001:4860::8888"), Some((Some(a6("2001:db8:12::9")), 1)), "default");
        let mut no_default = router(None, 1500);
        no_default.routes6.retain(|r| r.prefix != 0);
        assert_eq!(no_default.lookup6(a6("2001:4860::8888")), None);
    }

    /// A packet routed by `via` waits for a neighbour solicitation of the next hop (from the router's
    /// link-local address when the next hop is link-local), then leaves for its MAC with the hop limit one less.
    #[test]
    fn next_hops_are_resolved_by_neighbour_solicitation() {
        for (dst, via, ns_from) in [
            ("2001:db8:9:2::5", "2001:db8:12::8", "2001:db8:12::1"),
            ("2001:db8:9:1::5", "fe80::8", "fe80::1ff:fe00:102"),
        ] {
            let mut r = router(None, 1500);
            let mut out = Vec::new();
            for _ in 0..3 {
                r.receive(0, &udp_in(a6(dst), 9), Instant::ZERO, &mut out);
            }
            assert_eq!(out.len(), 1, "one solicitation; the packets wait");
            let (to, ip, icmp) = parse_out(&out[0].1);
            assert_eq!(out[0].0, 1);
            assert_eq!((ip.src_addr, ip.dst_addr, ip.hop_limit), (a6(ns_from), ipv6::solicited_node(&a6(via)), 255));
            assert_eq!(to, ipv6::multicast_mac(&ipv6::solicited_node(&a6(via))));
            let Some(Icmpv6Repr::Ndp(NdpRepr::NeighborSolicit { target, .. })) = icmp else { panic!("{icmp:?}") };
            assert_eq!(target, a6(via));
            out.clear();
            let na = Icmpv6Repr::Ndp(NdpRepr::NeighborAdvert {
                router: true,
                solicited: true,
                override_: true,
                target: a6(via),
                target_lladdr: Some(NEXT_MAC),
            });
            let mut frame = icmp_in(a6(via), a6(ns_from), EthernetAddress([2, 0, 1, 0, 1, 2]), &na);
            frame[6..12].copy_from_slice(&NEXT_MAC.0);
            r.receive(1, &frame, Instant::ZERO, &mut out);
            assert_eq!(out.len(), 3, "{:?}", r.counters);
            for (port, f) in &out {
                let (to, ip, _) = parse_out(f);
                assert_eq!((*port, to, ip.dst_addr, ip.hop_limit), (1, NEXT_MAC, a6(dst), 8));
            }
        }
    }

    #[test]
    fn expiring_and_unroutable_packets_are_answered_from_the_ingress_address() {
        let mut r = router(None, 1500);
        r.routes6.retain(|r| r.prefix != 0);
        let mut out = Vec::new();
        r.receive(0, &udp_in(a6("2001:db8:9:2::5"), 1), Instant::ZERO, &mut out);
        r.receive(0, &udp_in(a6("2001:4860::1"), 9), Instant::ZERO, &mut out);
        r.receive(0, &udp_in(a6("fe80::99"), 9), Instant::ZERO, &mut out);
        assert_eq!(out.len(), 2, "nothing for the link-local destination: {:?}", r.counters);
        let kinds: Vec<_> = out
            .iter()
            .map(|(p, f)| {
                let (to, ip, icmp) = parse_out(f);
                assert_eq!((*p, to, ip.src_addr), (0, HOST_MAC, a6("2001:db8:1::1")));
                match icmp {
                    Some(Icmpv6Repr::TimeExceeded { .. }) => "time exceeded",
                    Some(Icmpv6Repr::DstUnreachable { reason: Icmpv6DstUnreachable::NoRoute, .. }) => "no route",
                    other => panic!("{other:?}"),
                }
            })
            .collect();
        assert_eq!(kinds, ["time exceeded", "no route"]);
        assert_eq!(r.counters["dropped: link-local IPv6 is not forwarded"], 1);
    }

    #[test]
    fn solicitations_for_the_link_local_address_are_answered() {
        let mut r = router(None, 1500);
        let ll = r.link_local(0).expect("link-local");
        assert_eq!(ll, a6("fe80::1ff:fe00:101"));
        let ns = Icmpv6Repr::Ndp(NdpRepr::NeighborSolicit { target: ll, source_lladdr: Some(HOST_MAC) });
        let group = ipv6::solicited_node(&ll);
        let mut out = Vec::new();
        r.receive(0, &icmp_in(a6("fe80::2"), group, ipv6::multicast_mac(&group), &ns), Instant::ZERO, &mut out);
        assert_eq!(out.len(), 1);
        let (to, ip, icmp) = parse_out(&out[0].1);
        assert_eq!((to, ip.src_addr, ip.dst_addr), (HOST_MAC, ll, a6("fe80::2")));
        let Some(Icmpv6Repr::Ndp(NdpRepr::NeighborAdvert { router: true, target, target_lladdr, .. })) = icmp else {
            panic!("{icmp:?}")
        };
        assert_eq!((target, target_lladdr), (ll, Some(EthernetAddress([2, 0, 1, 0, 1, 1]))));
    }

    const ADV: Advertise = Advertise { interval: Duration::from_secs(10), lifetime: Duration::from_secs(30) };

    fn at(secs: u64) -> Instant {
        Instant::ZERO + Duration::from_secs(secs)
    }

    /// The advertisement a frame carries: (router lifetime, source link-layer address, MTU, prefixes).
    fn advert(frame: &[u8]) -> (u16, Option<EthernetAddress>, Option<u32>, Vec<PrefixInformation>) {
        let (to, ip, icmp) = parse_out(frame);
        assert_eq!(to, ipv6::multicast_mac(&ipv6::ALL_NODES));
        assert_eq!((ip.src_addr, ip.dst_addr, ip.hop_limit), (a6("fe80::1ff:fe00:101"), ipv6::ALL_NODES, 255));
        let Some(Icmpv6Repr::Ndp(NdpRepr::RouterAdvert {
            hop_limit,
            managed,
            other,
            router_lifetime,
            source_lladdr,
            mtu,
            prefixes,
            ..
        })) = icmp
        else {
            panic!("not an RA: {icmp:?}")
        };
        assert_eq!((hop_limit, managed, other), (64, false, false));
        (router_lifetime, source_lladdr, mtu, prefixes.iter().collect())
    }

    #[test]
    fn advertisements_carry_the_prefix_and_repeat_every_interval() {
        let mut r = router(Some(ADV), 1500);
        assert_eq!(r.poll_timeout(), Some(Instant::ZERO), "the first leaves when the run starts");
        let mut out = Vec::new();
        r.on_timer(Instant::ZERO, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, 0);
        let (lifetime, lladdr, mtu, prefixes) = advert(&out[0].1);
        assert_eq!((lifetime, lladdr, mtu), (30, Some(EthernetAddress([2, 0, 1, 0, 1, 1])), None));
        let expected = PrefixInformation {
            prefix_len: 64,
            on_link: true,
            autonomous: true,
            valid_lifetime: VALID_LIFETIME,
            preferred_lifetime: PREFERRED_LIFETIME,
            prefix: a6("2001:db8:1::"),
        };
        assert_eq!(prefixes, [expected]);
        assert_eq!(r.poll_timeout(), Some(at(10)));
        out.clear();
        r.on_timer(at(10) - Duration::from_nanos(1), &mut out);
        assert!(out.is_empty(), "not due yet");
        for n in 1..=3 {
            r.on_timer(at(10 * n), &mut out);
            assert_eq!(r.poll_timeout(), Some(at(10 * (n + 1))));
        }
        assert_eq!(out.len(), 3);
        assert_eq!(r.counters["router advertisements sent"], 4);

        let mut small = router(Some(ADV), 1400);
        out.clear();
        small.on_timer(Instant::ZERO, &mut out);
        assert_eq!(advert(&out[0].1).2, Some(1400), "an MTU other than 1500 is advertised");
        assert_eq!(router(None, 1500).poll_timeout(), None, "no advertising interface, no timer");
    }

    /// A solicitation is answered at once if the last advertisement is MIN_DELAY_BETWEEN_RAS old, otherwise as
    /// soon as it is; the periodic ones follow the answer.
    #[test]
    fn router_solicitations_are_answered_within_the_rate_limit() {
        let mut r = router(Some(ADV), 1500);
        let mut out = Vec::new();
        r.on_timer(Instant::ZERO, &mut out);
        out.clear();
        let rs = Icmpv6Repr::Ndp(NdpRepr::RouterSolicit { source_lladdr: Some(HOST_MAC) });
        let all_routers = ipv6::multicast_mac(&ipv6::ALL_ROUTERS);
        let solicit = icmp_in(a6("fe80::2"), ipv6::ALL_ROUTERS, all_routers, &rs);
        r.receive(0, &solicit, at(1), &mut out);
        assert!(out.is_empty(), "1 s after the last advertisement");
        assert_eq!(r.poll_timeout(), Some(at(3)), "answered 3 s after the last, before the periodic one at 10 s");
        r.receive(0, &solicit, at(2), &mut out);
        assert_eq!(r.poll_timeout(), Some(at(3)), "one answer serves both");
        r.on_timer(at(3), &mut out);
        assert_eq!(out.len(), 1);
        advert(&out[0].1);
        assert_eq!(r.poll_timeout(), Some(at(13)));
        out.clear();
        r.receive(0, &solicit, at(7), &mut out);
        assert_eq!(out.len(), 1, "4 s after the last: at once");
        advert(&out[0].1);
        assert_eq!(r.poll_timeout(), Some(at(17)));
        assert_eq!(r.counters["router solicitations answered"], 3);
        assert_eq!(r.ndp.get(&a6("fe80::2")), Some(&HOST_MAC), "the solicitor's address is learnt");
        // An interface that does not advertise ignores solicitations.
        let mut quiet = router(None, 1500);
        out.clear();
        quiet.receive(0, &solicit, at(7), &mut out);
        assert!(out.is_empty() && quiet.poll_timeout().is_none());
    }
}
