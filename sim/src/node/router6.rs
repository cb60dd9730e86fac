//! IPv6 forwarding for a [`Router`] (RFC 8200, RFC 4861 as a router, RFC 4443): between the interfaces that
//! have an IPv6 prefix (connected routes only); the hop limit is decremented (an IPv6 header has no checksum);
//! a packet that would leave with hop limit 0 is answered with ICMPv6 time exceeded, one with no route with
//! destination unreachable (no route), one larger than the egress MTU with Packet Too Big (routers never
//! fragment IPv6); neighbour solicitations for the router's addresses are answered (the Router flag set), next
//! hops are resolved with solicitations of its own (packets wait, at most [`MAX_PENDING`] per neighbour).
//! ICMPv6 errors share the IPv4 errors' rate limit, never answer an error or a multicast packet (but Packet
//! Too Big), and quote as much as fits in 1280 bytes.

use super::router::{Router, MAX_PENDING};
use std::net::Ipv6Addr;
use std::time::Duration;
use synack::wire::icmpv6::{Icmpv6DstUnreachable, Icmpv6Packet, Icmpv6Repr, Icmpv6TimeExceeded};
use synack::wire::ipv6::{self, Ipv6Packet, Ipv6Repr};
use synack::wire::ndp::NdpRepr;
use synack::wire::{EcnCodepoint, EtherType, EthernetAddress, EthernetFrame, EthernetRepr, IpProtocol};
use synack::Instant;

const NS_RETRY: Duration = Duration::from_secs(1);

/// The error to answer a packet with.
enum Error6 {
    NoRoute,
    HopLimit,
    TooBig(u32),
}

impl Router {
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
        let Some(me) = self.ifaces[port].ip6 else { return };
        let packet_len = ipv6::HEADER_LEN + repr.payload_len;
        let bytes = &payload[..packet_len.min(payload.len())];
        // Neighbour discovery addressed to the router (or a group it listens to).
        if repr.next_header == IpProtocol::ICMPV6 && (repr.dst_addr.is_multicast() || repr.dst_addr == me.addr()) {
            let parsed = Icmpv6Packet::new_checked(packet.payload())
                .and_then(|p| Icmpv6Repr::parse(&p, &repr.src_addr, &repr.dst_addr));
            match parsed {
                Ok(Icmpv6Repr::Ndp(msg)) if msg.check_ip(&repr.src_addr, &repr.dst_addr, repr.hop_limit).is_ok() => {
                    return self.on_nd(port, from_mac, &repr, &msg, now, out);
                }
                Ok(Icmpv6Repr::EchoRequest { ident, seq_no, data }) if repr.dst_addr == me.addr() => {
                    let reply = Icmpv6Repr::EchoReply { ident, seq_no, data };
                    self.count("IPv6 echo requests answered");
                    return self.send6(port, from_mac, me.addr(), repr.src_addr, &reply, out);
                }
                _ => return self.count("ignored: IPv6 to the router"),
            }
        }
        if repr.dst_addr.is_multicast() {
            return self.count("ignored: IPv6 multicast");
        }
        let egress = self.ifaces.iter().position(|f| f.ip6.is_some_and(|c| c.contains(repr.dst_addr)));
        let Some(egress) = egress else {
            return self.error6(port, from_mac, &repr, bytes, Error6::NoRoute, now, out);
        };
        if repr.hop_limit <= 1 {
            return self.error6(port, from_mac, &repr, bytes, Error6::HopLimit, now, out);
        }
        let mtu = self.ifaces[egress].mtu;
        if packet_len > mtu {
            return self.error6(port, from_mac, &repr, bytes, Error6::TooBig(mtu as u32), now, out);
        }
        let mut frame = vec![0u8; (14 + packet_len).max(60)];
        frame[14..14 + packet_len].copy_from_slice(bytes);
        frame[14 + 7] = repr.hop_limit - 1;
        frame[12..14].copy_from_slice(&[0x86, 0xdd]);
        self.count("IPv6 forwarded");
        self.deliver6(egress, repr.dst_addr, frame, now, out);
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
        if p.frames.len() >= MAX_PENDING {
            return self.count("dropped: IPv6 neighbour queue full");
        }
        p.frames.push_back((port, frame));
        if p.asked.is_some_and(|t| now < t + NS_RETRY) {
            return;
        }
        p.asked = Some(now);
        let Some(me) = self.ifaces[port].ip6 else { return };
        let ns = Icmpv6Repr::Ndp(NdpRepr::NeighborSolicit { target: next_hop, source_lladdr: Some(mac) });
        let group = ipv6::solicited_node(&next_hop);
        self.count("neighbour solicitations sent");
        let frame = icmp6_frame(mac, ipv6::multicast_mac(&group), me.addr(), group, 255, &ns);
        out.push((port, frame));
    }

    fn on_nd(
        &mut self,
        port: usize,
        from_mac: EthernetAddress,
        repr: &Ipv6Repr,
        msg: &NdpRepr<'_>,
        _now: Instant,
        out: &mut Vec<(usize, Vec<u8>)>,
    ) {
        let Some(me) = self.ifaces[port].ip6 else { return };
        match *msg {
            NdpRepr::NeighborSolicit { target, source_lladdr } if target == me.addr() => {
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
                let frame = icmp6_frame(self.ifaces[port].mac, mac, me.addr(), repr.src_addr, 255, &na);
                out.push((port, frame));
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
