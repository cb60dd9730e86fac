//! IPv6 as a host (RFC 8200, RFC 4861, RFC 4862, RFC 4443, RFC 8201): our addresses, source selection, path
//! MTU, sending through neighbour discovery, receiving with the extension-header walk, ICMPv6. Neighbour
//! discovery itself is pure state in `ndp/`; this module turns its actions into frames. We never forward.
//!
//! Until an interface has IPv6 configured ([`crate::Config::ipv6`]), IPv6 frames are dropped and every IPv6
//! destination is unroutable (as on a Linux host with IPv6 disabled: `ENETUNREACH`).

use crate::api::{AddressChange, CommandError, Event, Output, Reply, SocketHandle, UnreachableReason};
use crate::config::Ipv6Config;
use crate::explain::Why;
use crate::ipv4::Received;
use crate::ndp::cache::AdvertFlags;
use crate::ndp::host::{NdAction, Ndp, Received as NdReceived};
use crate::ndp::router::{PrefixInfo, RouterAdvert};
use crate::path_mtu::PathMtus;
use crate::reassembly::{Fragment, FragmentKey};
use crate::stack::Stack;
use crate::stats::{DropReason, Layer};
use crate::tcp::ErrorReport;
use crate::time::Instant;
use crate::timer::TimerKey;
use crate::wire::ethernet::{self, EthernetRepr};
use crate::wire::icmpv6::{Icmpv6DstUnreachable, Icmpv6Packet, Icmpv6Repr, QuotedPacket};
use crate::wire::ipv6::{self, ExtHeaderWalk, Ipv6Packet, Ipv6Repr, ParamProblem, WalkStart};
use crate::wire::ndp::NdpRepr;
use crate::wire::{EcnCodepoint, EtherType, EthernetAddress, EthernetFrame, IpProtocol};
use core::net::{IpAddr, Ipv6Addr, SocketAddr};
use core::time::Duration;
use std::collections::VecDeque;

/// A packet waiting for neighbour discovery to resolve its next hop.
#[derive(Debug)]
pub(crate) struct QueuedPacket {
    frame: Vec<u8>,
    owner: Option<SocketHandle>,
    dst: Ipv6Addr,
    port: Option<u16>,
    why: Option<Why>,
}

/// The largest upper-layer packet we send, fragmented or not (the payload length field's reach, less the
/// Fragment header; no jumbograms).
pub(crate) const MAX_PACKET_PAYLOAD: usize = 65_535 - ipv6::FRAGMENT_HEADER_LEN;

/// The longest the send fast path trusts one neighbour lookup.
const FAST_PATH_LIFETIME: Duration = Duration::from_secs(1);

/// The IPv6 side of an interface.
#[derive(Debug)]
pub(crate) struct Ipv6Host {
    config: Ipv6Config,
    ndp: Ndp<QueuedPacket>,
    /// The link MTU: the configured one, or less if a router advertised less.
    link_mtu: usize,
    hop_limit: u8,
    /// Smaller path MTUs learnt from Packet Too Big, with when they were learnt.
    path_mtu: PathMtus<Ipv6Addr>,
    /// Identification of the next packet we fragment.
    next_frag_ident: u32,
    /// The last on-link destination sent to, its neighbour's MAC, and until when that stands: while the
    /// neighbour is REACHABLE a lookup changes nothing, so a run of packets to one destination skips next-hop
    /// determination and the cache lookup. At most a second, and forgotten whenever neighbour discovery hears or
    /// times anything (an advertisement may move the neighbour, a router advertisement the prefixes).
    fast_path: Option<(Ipv6Addr, EthernetAddress, Instant)>,
    /// Our assigned addresses (preferred or deprecated) with the end of their valid lifetime: every received
    /// packet asks whether its destination (and source) is ours, and a short list answers faster than the
    /// address table. Refreshed whenever neighbour discovery changes an address or a router advertisement
    /// may have changed a lifetime.
    assigned: Vec<(Ipv6Addr, Instant)>,
}

impl Ipv6Host {
    fn refresh_assigned(&mut self, now: Instant) {
        use crate::ndp::slaac::AddressState;
        self.assigned = self
            .ndp
            .addresses(now)
            .into_iter()
            .filter(|a| matches!(a.state, AddressState::Preferred | AddressState::Deprecated))
            .map(|a| (a.addr, a.valid_until))
            .collect();
    }

    /// Is `ip` one of our assigned addresses at `now`?
    fn is_ours(&self, ip: Ipv6Addr, now: Instant) -> bool {
        self.assigned.iter().any(|(a, until)| *a == ip && now < *until)
    }
}

impl Ipv6Host {
    pub(crate) fn new(config: Ipv6Config, mac: EthernetAddress, mtu: usize, seed: u64) -> Ipv6Host {
        let mut nd = config.nd.clone();
        if !config.accept_ra {
            nd.max_rtr_solicitations = 0;
            nd.autoconf = false;
        }
        let ndp = Ndp::new(&nd, mac, mtu, config.hop_limit, seed, Instant::ZERO);
        let next_frag_ident = crate::seed::derive_seed(seed, 8) as u32;
        Ipv6Host {
            hop_limit: config.hop_limit,
            config,
            ndp,
            link_mtu: mtu,
            path_mtu: PathMtus::new(),
            next_frag_ident,
            fast_path: None,
            assigned: Vec::new(),
        }
    }

    /// Our addresses now, with their state and origin (for drivers and tests).
    pub(crate) fn addresses(&self, now: Instant) -> Vec<crate::ndp::slaac::AddressInfo> {
        self.ndp.addresses(now)
    }
}

/// The ICMPv6 error to answer a packet with.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Icmpv6Error {
    DstUnreachable(Icmpv6DstUnreachable),
    ParamProblem(ParamProblem, u32),
    TimeExceeded(crate::wire::icmpv6::Icmpv6TimeExceeded),
}

impl Stack {
    /// The interface comes up: the link-local address starts DAD, router solicitation begins, configured
    /// addresses and the gateway are added.
    pub(crate) fn ipv6_start(&mut self, now: Instant, out: &mut Vec<Output>) {
        let Some(host) = self.ip6.as_mut() else { return };
        let mut acts = Vec::new();
        host.ndp.start(now, &mut acts);
        for c in host.config.addresses.clone() {
            // Validated, so neither unicast-ness nor duplicates can fail; a full list drops the rest.
            let _ = host.ndp.add_address(c.addr(), c.prefix_len(), now, &mut acts);
        }
        if let Some(g) = host.config.gateway {
            host.ndp.add_router(g);
        }
        host.refresh_assigned(now);
        self.run_nd_actions(acts, now, out);
    }

    /// Is `ip` one of our IPv6 addresses (assigned: DAD passed)?
    pub(crate) fn ipv6_is_ours(&self, ip: Ipv6Addr) -> bool {
        let now = self.clock.now();
        self.ip6.as_ref().is_some_and(|h| h.is_ours(ip, now))
    }

    /// Our address toward `dst`, after checking `dst` can be sent to.
    pub(crate) fn ipv6_source_for(&self, dst: Ipv6Addr) -> Result<Ipv6Addr, CommandError> {
        let bad = || CommandError::BadDestination(SocketAddr::new(IpAddr::V6(dst), 0));
        if dst.is_unspecified() || dst.is_loopback() || dst.to_ipv4_mapped().is_some() {
            return Err(bad());
        }
        let no_route = CommandError::NoRoute(IpAddr::V6(dst));
        let Some(host) = self.ip6.as_ref() else { return Err(no_route) };
        let now = self.clock.now();
        if host.is_ours(dst, now) {
            return Err(bad());
        }
        if !dst.is_multicast() && host.ndp.next_hop(dst, now).is_none() {
            return Err(no_route);
        }
        host.ndp.source_for(dst, now).ok_or(CommandError::AddrNotAvailable(IpAddr::V6(Ipv6Addr::UNSPECIFIED)))
    }

    /// The largest IPv6 packet toward `dst`: the link MTU, or a smaller path MTU learnt recently.
    /// Whether any IPv6 path MTU was learnt (so a connection's MSS may need to follow one).
    pub(crate) fn ipv6_path_mtu_learnt(&self) -> bool {
        self.ip6.as_ref().is_some_and(|h| !h.path_mtu.is_empty())
    }

    pub(crate) fn ipv6_path_mtu(&self, dst: Ipv6Addr) -> usize {
        let Some(host) = self.ip6.as_ref() else { return self.config.mtu };
        host.path_mtu.get(dst, self.clock.now(), host.link_mtu)
    }

    /// Builds an IPv6 packet from `src` to `dst` whose payload `fill` writes and sends it (after neighbour
    /// discovery if needed). `owner`/`port` name who to tell if the next hop never answers.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_ipv6(
        &mut self,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        protocol: IpProtocol,
        ecn: EcnCodepoint,
        payload_len: usize,
        owner: Option<SocketHandle>,
        port: Option<u16>,
        now: Instant,
        out: &mut Vec<Output>,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), CommandError> {
        let max = self.max_payload_of(IpAddr::V6(dst), protocol);
        let hop_limit = self.ip6.as_ref().map_or(64, |h| h.hop_limit);
        if payload_len > max {
            // Larger than the path: fragments from the source (RFC 8200 §4.5).
            let whole = crate::ip::whole_for_fragments(IpAddr::V6(dst), protocol, payload_len, max, fill)?;
            return self.send_ipv6_fragments(
                Packet6 { src, dst, protocol, ecn, hop_limit, payload_len, on_link: false },
                &whole,
                owner,
                port,
                now,
                out,
            );
        }
        let packet = Packet6 { src, dst, protocol, ecn, hop_limit, payload_len, on_link: false };
        self.send_ipv6_packet(packet, None, owner, port, now, out, fill)
    }

    /// Sends `whole` (the fragmentable part: the upper-layer packet) in fragments that fit the path MTU, each
    /// with a Fragment header naming one identification (RFC 8200 §4.5; unpredictable, RFC 7739).
    #[allow(clippy::too_many_arguments)]
    fn send_ipv6_fragments(
        &mut self,
        p: Packet6,
        whole: &[u8],
        owner: Option<SocketHandle>,
        port: Option<u16>,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<(), CommandError> {
        let piece = (self.ipv6_path_mtu(p.dst) - ipv6::HEADER_LEN - ipv6::FRAGMENT_HEADER_LEN) & !7;
        let Some(host) = self.ip6.as_mut() else { return Err(CommandError::NoRoute(IpAddr::V6(p.dst))) };
        let ident = host.next_frag_ident;
        host.next_frag_ident = crate::seed::derive_seed(u64::from(ident), 0x6672_6167) as u32;
        let why = self.sending_because.take();
        for (i, chunk) in whole.chunks(piece).enumerate() {
            let offset = i * piece;
            let header = crate::wire::ipv6::Ipv6FragmentRepr {
                next_header: p.protocol,
                frag_offset: offset as u16,
                more_frags: offset + chunk.len() < whole.len(),
                ident,
            };
            let fragment = Packet6 {
                protocol: IpProtocol::IPV6_FRAG,
                ecn: EcnCodepoint::NotEct,
                payload_len: ipv6::FRAGMENT_HEADER_LEN + chunk.len(),
                ..p
            };
            self.sending_because = why;
            self.send_ipv6_packet(fragment, None, owner, port, now, out, |b| {
                let (head, body) = b.split_at_mut(ipv6::FRAGMENT_HEADER_LEN);
                header.emit(&mut crate::wire::ipv6::Ipv6FragmentHeader::new_unchecked(head));
                body.copy_from_slice(chunk);
            })?;
        }
        self.stats.datagrams_fragmented += 1;
        Ok(())
    }

    /// Sends one packet; `dst_mac` set for a neighbour solicitation unicast to a known link-layer address.
    #[allow(clippy::too_many_arguments)]
    fn send_ipv6_packet(
        &mut self,
        p: Packet6,
        dst_mac: Option<EthernetAddress>,
        owner: Option<SocketHandle>,
        port: Option<u16>,
        now: Instant,
        out: &mut Vec<Output>,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), CommandError> {
        let Some(host) = self.ip6.as_ref() else { return Err(CommandError::NoRoute(IpAddr::V6(p.dst))) };
        let fast = host.fast_path.filter(|&(d, _, until)| d == p.dst && now < until).map(|(_, mac, _)| mac);
        let dst_mac = dst_mac.or(fast);
        let next_hop = match (dst_mac, p.dst.is_multicast()) {
            (Some(_), _) | (None, true) => p.dst,
            (None, false) if p.on_link => p.dst,
            (None, false) => host.ndp.next_hop(p.dst, now).ok_or(CommandError::NoRoute(IpAddr::V6(p.dst)))?,
        };
        let ip_len = ipv6::HEADER_LEN + p.payload_len;
        let mut buf = self.frame_buffer(ethernet::frame_len(ip_len));
        if let Some(pad) = buf.get_mut(ethernet::HEADER_LEN + ip_len..).filter(|p| !p.is_empty()) {
            pad.fill(0);
        }
        let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
        let placeholder = dst_mac.unwrap_or_default();
        EthernetRepr { src_addr: self.config.mac, dst_addr: placeholder, ethertype: EtherType::Ipv6 }.emit(&mut frame);
        let repr = Ipv6Repr {
            src_addr: p.src,
            dst_addr: p.dst,
            next_header: p.protocol,
            payload_len: p.payload_len,
            hop_limit: p.hop_limit,
            dscp: 0,
            ecn: p.ecn,
            flow_label: 0,
        };
        let mut packet = Ipv6Packet::new_unchecked(&mut frame.payload_mut()[..ip_len]);
        repr.emit(&mut packet);
        fill(packet.payload_mut());
        if self.config.tx_checksum_offload {
            crate::ipv4::leave_checksum_partial(p.protocol, &p.src, &p.dst, packet.payload_mut());
        }
        let why = self.sending_because.take();
        if dst_mac.is_some() {
            self.transmit_because(buf, why, out);
            return Ok(());
        }
        let mut acts = Vec::new();
        let Some(host) = self.ip6.as_mut() else { return Ok(()) };
        match host.ndp.lookup(next_hop, now, &mut acts) {
            Some(mac) => {
                if next_hop == p.dst && !p.dst.is_multicast() {
                    host.fast_path = host
                        .ndp
                        .reachable(next_hop, now)
                        .map(|(m, until)| (p.dst, m, until.min(now + FAST_PATH_LIFETIME)));
                }
                buf[..6].copy_from_slice(&mac.0);
                self.transmit_because(buf, why, out);
            }
            None => {
                let queued = QueuedPacket { frame: buf, owner, dst: p.dst, port, why };
                host.ndp.enqueue(next_hop, queued, now, &mut acts);
            }
        }
        self.run_nd_actions(acts, now, out);
        Ok(())
    }

    /// Carries out what neighbour discovery asked for, in order.
    pub(crate) fn run_nd_actions(&mut self, acts: Vec<NdAction<QueuedPacket>>, now: Instant, out: &mut Vec<Output>) {
        if acts.is_empty() {
            return;
        }
        let changes_addresses = acts.iter().any(|a| {
            matches!(
                a,
                NdAction::AddressAssigned(_)
                    | NdAction::AddressDuplicate(_)
                    | NdAction::AddressDeprecated(_)
                    | NdAction::AddressRemoved(_)
            )
        });
        if changes_addresses {
            if let Some(h) = self.ip6.as_mut() {
                h.refresh_assigned(now);
            }
        }
        let mut told: Vec<(SocketHandle, Ipv6Addr, Option<u16>)> = Vec::new();
        for act in acts {
            match act {
                NdAction::Schedule(t) => self.timers.schedule(t.at, TimerKey::Ndp(t.key)),
                NdAction::SendMulticastNs { target } => {
                    let src = self.ip6.as_ref().and_then(|h| h.ndp.source_for(target, now));
                    if let Some(src) = src {
                        let ns = NdpRepr::NeighborSolicit { target, source_lladdr: Some(self.config.mac) };
                        self.send_nd(src, ipv6::solicited_node(&target), None, ns, now, out);
                    }
                }
                NdAction::SendUnicastNs { target, mac } => {
                    let src = self.ip6.as_ref().and_then(|h| h.ndp.source_for(target, now));
                    if let Some(src) = src {
                        let ns = NdpRepr::NeighborSolicit { target, source_lladdr: Some(self.config.mac) };
                        self.send_nd(src, target, Some(mac), ns, now, out);
                    }
                }
                NdAction::SendDadNs { target } => {
                    let ns = NdpRepr::NeighborSolicit { target, source_lladdr: None };
                    self.send_nd(Ipv6Addr::UNSPECIFIED, ipv6::solicited_node(&target), None, ns, now, out);
                }
                NdAction::SendNa { dst, target, solicited } => {
                    let target_lladdr = Some(self.config.mac);
                    let na =
                        NdpRepr::NeighborAdvert { router: false, solicited, override_: true, target, target_lladdr };
                    self.send_nd(target, dst, None, na, now, out);
                }
                NdAction::SendRs { source } => {
                    let rs = NdpRepr::RouterSolicit { source_lladdr: source.map(|_| self.config.mac) };
                    let src = source.unwrap_or(Ipv6Addr::UNSPECIFIED);
                    self.send_nd(src, ipv6::ALL_ROUTERS, None, rs, now, out);
                }
                NdAction::Transmit { mac, frames } => {
                    for mut q in frames {
                        q.frame[..6].copy_from_slice(&mac.0);
                        self.transmit_because(q.frame, q.why, out);
                    }
                }
                NdAction::GiveUp { target: _, frames } => self.nd_give_up(frames, &mut told, out),
                NdAction::Dropped(q) => {
                    self.drop_frame(DropReason::NdpQueueFull);
                    self.recycle_frame(q.frame);
                }
                NdAction::AddressAssigned(a) => self.address_event(a, AddressChange::Assigned, out),
                NdAction::AddressDuplicate(d) => self.address_event(d.addr, AddressChange::Duplicate, out),
                NdAction::AddressConflict(a) => self.address_event(a, AddressChange::Conflict, out),
                NdAction::AddressDeprecated(a) => self.address_event(a, AddressChange::Deprecated, out),
                NdAction::AddressRemoved(a) => self.address_event(a, AddressChange::Removed, out),
                NdAction::LinkMtu(mtu) => {
                    if let Some(h) = self.ip6.as_mut() {
                        h.link_mtu = mtu;
                    }
                }
                NdAction::HopLimit(hl) => {
                    if let Some(h) = self.ip6.as_mut() {
                        h.hop_limit = hl;
                    }
                }
            }
        }
    }

    fn address_event(&mut self, addr: Ipv6Addr, change: AddressChange, out: &mut Vec<Output>) {
        out.push(Output::Event(SocketHandle::STACK, Event::Address { addr: IpAddr::V6(addr), change }));
    }

    /// Neighbour discovery gave up on a next hop: its packets are lost. Tell each owner once per destination,
    /// except TCP, for which it is a soft error (as for ARP).
    fn nd_give_up(
        &mut self,
        frames: VecDeque<QueuedPacket>,
        told: &mut Vec<(SocketHandle, Ipv6Addr, Option<u16>)>,
        out: &mut Vec<Output>,
    ) {
        for q in frames {
            self.drop_frame(DropReason::NdpUnresolved);
            if let Some(owner) = q.owner {
                if !self.on_tcp_no_neighbour(owner) && !told.contains(&(owner, q.dst, q.port)) {
                    told.push((owner, q.dst, q.port));
                    let reason = UnreachableReason::NoNeighbour;
                    out.push(Output::Event(
                        owner,
                        Event::Unreachable { dst: IpAddr::V6(q.dst), port: q.port, reason, reporter: None },
                    ));
                }
            }
            self.recycle_frame(q.frame);
        }
    }

    /// Sends a neighbour discovery message (hop limit 255, RFC 4861 §6.1.2, §7.1.1).
    fn send_nd(
        &mut self,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        dst_mac: Option<EthernetAddress>,
        msg: NdpRepr<'_>,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        let repr = Icmpv6Repr::Ndp(msg);
        let packet = Packet6 {
            src,
            dst,
            protocol: IpProtocol::ICMPV6,
            ecn: EcnCodepoint::NotEct,
            hop_limit: crate::wire::ndp::HOP_LIMIT,
            payload_len: repr.buffer_len(),
            // RFC 4861 §7.2.4: an advertisement answers the solicitor itself, whatever its prefix (Linux's
            // `ndisc_send_skb` routes to the neighbour); no neighbour discovery message is for a router to relay.
            on_link: true,
        };
        let sent = self.send_ipv6_packet(packet, dst_mac, None, None, now, out, |b| {
            repr.emit(&mut Icmpv6Packet::new_unchecked(b), &src, &dst)
        });
        if sent.is_ok() {
            self.stats.ndp_messages_sent += 1;
        }
    }

    /// An NDP timer fired.
    pub(crate) fn on_ndp_timer(&mut self, timer: crate::ndp::NdpTimer, now: Instant, out: &mut Vec<Output>) {
        let Some(host) = self.ip6.as_mut() else { return };
        host.fast_path = None;
        let mut acts = Vec::new();
        host.ndp.on_timer(timer, now, &mut acts);
        self.run_nd_actions(acts, now, out);
    }

    /// Upper-layer reachability confirmation for the next hop toward `dst` (RFC 4861 §7.3.1).
    pub(crate) fn ipv6_confirm(&mut self, dst: Ipv6Addr, now: Instant) {
        if let Some(host) = self.ip6.as_mut() {
            if let Some(hop) = host.ndp.next_hop(dst, now) {
                host.ndp.confirm(hop, now);
            }
        }
    }

    /// An IPv6 packet arrived in an Ethernet frame (`link_group`: to a multicast or broadcast MAC).
    pub(crate) fn on_ipv6(
        &mut self,
        bytes: &[u8],
        link_group: bool,
        checksum_offloaded: bool,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        if self.ip6.is_none() {
            return self.drop_frame(DropReason::Ipv6Disabled);
        }
        let packet = match Ipv6Packet::new_checked(bytes) {
            Ok(p) => p,
            Err(e) => return self.drop_frame(DropReason::Malformed(Layer::Ipv6, e)),
        };
        let repr = match Ipv6Repr::parse(&packet) {
            Ok(r) => r,
            Err(e) => return self.drop_frame(DropReason::Malformed(Layer::Ipv6, e)),
        };
        let (src, dst) = (repr.src_addr, repr.dst_addr);
        if src.is_loopback() || src.to_ipv4_mapped().is_some() || (!src.is_unspecified() && self.ipv6_is_ours(src)) {
            return self.drop_frame(DropReason::BadSourceAddress);
        }
        let for_us = match self.ip6.as_ref() {
            Some(h) if dst.is_multicast() => h.ndp.accepts_group(dst, now),
            Some(h) => h.is_ours(dst, now),
            None => false,
        };
        if !for_us {
            return self.drop_frame(DropReason::NotOurAddress);
        }
        let walk = match ipv6::walk(&packet) {
            Ok(w) => w,
            Err(e) => return self.drop_frame(DropReason::Malformed(Layer::Ipv6, e)),
        };
        let ip_len = ipv6::HEADER_LEN + repr.payload_len;
        let rx = |offset: usize, protocol| Received {
            src: IpAddr::V6(src),
            dst: IpAddr::V6(dst),
            protocol,
            ttl: repr.hop_limit,
            ecn: repr.ecn,
            broadcast: dst.is_multicast() || link_group,
            header: &bytes[..offset],
            payload: &bytes[offset..ip_len],
            checksum_offloaded,
        };
        match walk {
            ExtHeaderWalk::Upper { protocol, offset, fragment: Some(_) } if is_nd(protocol, &bytes[offset..ip_len]) => {
                self.drop_frame(DropReason::NdpFragmented)
            }
            ExtHeaderWalk::Upper { protocol, offset, .. } => self.deliver6(&rx(offset, protocol), now, out),
            ExtHeaderWalk::Fragment { fragment, offset } => {
                self.on_ipv6_fragment(&rx(offset, fragment.next_header), fragment, now, out)
            }
            ExtHeaderWalk::NoNextHeader => self.drop_frame(DropReason::Ipv6NoNextHeader),
            ExtHeaderWalk::Discard { .. } => self.drop_frame(DropReason::Ipv6OptionDiscarded),
            ExtHeaderWalk::ParameterProblem { code, pointer } => {
                self.answer_parameter_problem(&rx(ip_len, IpProtocol::Unknown(0)), code, pointer, now, out)
            }
        }
    }

    /// A header chain that earns a parameter problem (`code`, at `pointer` in `rx.header`, which is the whole
    /// packet): dropped, and answered.
    fn answer_parameter_problem(
        &mut self,
        rx: &Received<'_>,
        code: ParamProblem,
        pointer: usize,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        self.drop_frame(DropReason::Ipv6ParameterProblem);
        // Never an error about an ICMPv6 error (RFC 4443 §2.4 (e.1)), even one behind the bad header.
        let quoted = crate::wire::icmpv6::QuotedPacket::parse(rx.header).ok();
        let upper = quoted.and_then(|q| q.protocol().map(|p| (p, q.payload().first().copied())));
        if matches!(upper, Some((IpProtocol::ICMPV6, Some(t))) if t < 128) {
            return;
        }
        // RFC 4443 §2.4 (e): to a multicast destination only an unrecognised option (code 2) is answered.
        let multicast_ok = code == ParamProblem::UnrecognizedOption;
        self.send_icmpv6_error(rx, Icmpv6Error::ParamProblem(code, pointer as u32), multicast_ok, now, out);
    }

    /// A fragment of a larger packet (RFC 8200 §4.5): `rx.header` is everything up to and including the
    /// fragment header, `rx.payload` the fragment's data. Reassembled, the fragmentable part is walked from
    /// the fragment header's next header on and delivered.
    fn on_ipv6_fragment(
        &mut self,
        rx: &Received<'_>,
        fragment: crate::wire::ipv6::Ipv6FragmentRepr,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        // Every fragment but the last carries a multiple of 8 bytes (RFC 8200 §4.5).
        if fragment.more_frags && rx.payload.len() % 8 != 0 {
            return self.drop_frame(DropReason::Malformed(Layer::Ipv6, crate::wire::Error::BadLength));
        }
        // RFC 8200 §4.5, RFC 7112: the first fragment holds the whole header chain, through the upper-layer
        // header; one that does not is dropped with a parameter problem (code 3, pointer 0), as Linux's
        // `ipv6_frag_rcv`, so a filter that reads the first fragment sees what the datagram is.
        if fragment.frag_offset == 0 && !holds_header_chain(rx, fragment.next_header) {
            self.drop_frame(DropReason::Ipv6ParameterProblem);
            let error = Icmpv6Error::ParamProblem(ParamProblem::IncompleteHeaderChain, 0);
            return self.send_icmpv6_error(rx, error, false, now, out);
        }
        let piece = Fragment {
            key: FragmentKey { src: rx.src, dst: rx.dst, protocol: IpProtocol::IPV6_FRAG, ident: fragment.ident },
            offset: usize::from(fragment.frag_offset),
            more_frags: fragment.more_frags,
            header: rx.header,
            data: rx.payload,
            ecn: rx.ecn,
        };
        let Some(datagram) = self.add_fragment(piece, now) else { return };
        let base = datagram.header.len();
        // Only the offset-zero fragment's next header counts (RFC 8200 §4.5): it is the first byte of its
        // fragment header, the last 8 bytes of the header kept.
        let named_at = base - ipv6::FRAGMENT_HEADER_LEN;
        let first = IpProtocol::from(datagram.header[named_at]);
        let start = WalkStart { first, named_at, base };
        // The reassembled packet's headers are processed as an unfragmented packet's (RFC 8200 §4.5).
        let (protocol, offset) = match ipv6::walk_from(start, &datagram.payload, rx.dst.is_multicast()) {
            Ok(ExtHeaderWalk::Upper { protocol, offset, .. }) => (protocol, offset - base),
            Ok(ExtHeaderWalk::NoNextHeader) => return self.drop_frame(DropReason::Ipv6NoNextHeader),
            Ok(ExtHeaderWalk::Discard { .. }) => return self.drop_frame(DropReason::Ipv6OptionDiscarded),
            Ok(ExtHeaderWalk::ParameterProblem { code, pointer }) => {
                // Quoted as reassembled, fragment header included: the pointer counts it.
                let packet = [&datagram.header[..], &datagram.payload[..]].concat();
                let whole = Received { protocol: IpProtocol::Unknown(0), header: &packet, payload: &[], ..*rx };
                return self.answer_parameter_problem(&whole, code, pointer, now, out);
            }
            // A fragment header inside a reassembled packet: nothing sends that.
            Ok(ExtHeaderWalk::Fragment { .. }) => return self.drop_frame(DropReason::Ipv6ParameterProblem),
            Err(e) => return self.drop_frame(DropReason::Malformed(Layer::Ipv6, e)),
        };
        if is_nd(protocol, &datagram.payload[offset..]) {
            // RFC 6980 §5: neighbour discovery never comes in fragments (it would let spoofed fragments in).
            return self.drop_frame(DropReason::NdpFragmented);
        }
        let whole = Received {
            protocol,
            header: &datagram.header,
            payload: &datagram.payload[offset..],
            checksum_offloaded: false,
            ecn: datagram.ecn,
            ..*rx
        };
        self.deliver6(&whole, now, out);
    }

    /// Hands a complete packet to its protocol.
    pub(crate) fn deliver6(&mut self, rx: &Received<'_>, now: Instant, out: &mut Vec<Output>) {
        self.stats.ipv6_delivered += 1;
        if rx.src.is_unspecified() && rx.protocol != IpProtocol::ICMPV6 {
            // Only duplicate address detection speaks from :: (RFC 4862 §5.4.2).
            return self.drop_frame(DropReason::BadSourceAddress);
        }
        match rx.protocol {
            IpProtocol::Udp => self.on_udp(rx, now, out),
            IpProtocol::Tcp => self.on_tcp(rx, now, out),
            IpProtocol::ICMPV6 => self.on_icmpv6(rx, now, out),
            _ => {
                self.drop_frame(DropReason::UnknownProtocol);
                let error = Icmpv6Error::ParamProblem(ParamProblem::UnrecognizedNextHeader, 6);
                self.send_icmpv6_error(rx, error, false, now, out);
            }
        }
    }

    /// An ICMPv6 message arrived.
    fn on_icmpv6(&mut self, rx: &Received<'_>, now: Instant, out: &mut Vec<Output>) {
        let (IpAddr::V6(src), IpAddr::V6(dst)) = (rx.src, rx.dst) else { return };
        let parsed = Icmpv6Packet::new_checked(rx.payload).and_then(|p| Icmpv6Repr::parse(&p, &src, &dst));
        let repr = match parsed {
            Ok(r) => r,
            Err(crate::wire::Error::Unsupported) => return self.drop_frame(DropReason::IcmpUnhandled),
            // Neighbour discovery messages (types 133 to 137) that fail RFC 4861's checks are NDP's to count.
            Err(e) if rx.payload.first().is_some_and(|t| (133..=137).contains(t)) => {
                return self.drop_frame(DropReason::Malformed(Layer::Ndp, e))
            }
            Err(e) => return self.drop_frame(DropReason::Malformed(Layer::Icmpv6, e)),
        };
        if src.is_unspecified() && !matches!(repr, Icmpv6Repr::Ndp(_)) {
            return self.drop_frame(DropReason::BadSourceAddress);
        }
        match repr {
            Icmpv6Repr::EchoRequest { ident, seq_no, data } => {
                // The reply carries the request's code, as Linux's `icmpv6_echo_reply` (0 but for odd probes).
                let code = Icmpv6Packet::new_unchecked(rx.payload).msg_code();
                self.answer_echo6(src, dst, (ident, seq_no, code), data, now, out)
            }
            Icmpv6Repr::EchoReply { ident, seq_no, data } => {
                self.on_echo_reply(rx, ident, seq_no, data.len(), now, out)
            }
            Icmpv6Repr::DstUnreachable { reason, original } => {
                let reason = UnreachableReason::Icmpv6DstUnreachable { code: reason.into() };
                self.on_icmpv6_error(reason, src, original, now, out)
            }
            Icmpv6Repr::PacketTooBig { mtu, original } => {
                // The connection it quotes hears first (it resends what it sent too large); then every connection to
                // that destination follows the lowered path MTU (`Stack::sync_mss_to_path`).
                self.on_icmpv6_error(UnreachableReason::PacketTooBig { mtu }, src, original, now, out);
                self.on_packet_too_big(mtu, original, now);
            }
            Icmpv6Repr::TimeExceeded { reason, original } => {
                self.on_icmpv6_error(UnreachableReason::TimeExceeded { code: reason.into() }, src, original, now, out)
            }
            Icmpv6Repr::ParamProblem { reason, pointer, original } => {
                let reason = UnreachableReason::ParameterProblem { code: reason.into(), pointer };
                self.on_icmpv6_error(reason, src, original, now, out)
            }
            Icmpv6Repr::UnknownError { .. } => {
                self.stats.icmp_errors_received += 1;
                self.drop_frame(DropReason::IcmpUnhandled)
            }
            Icmpv6Repr::Ndp(msg) => self.on_ndp(src, dst, rx.ttl, &msg, now, out),
        }
    }

    /// Answers an echo request (to a multicast group too, as Linux does by default), from the address it
    /// was sent to, or our best address toward the asker if it went to a group.
    #[allow(clippy::too_many_arguments)]
    fn answer_echo6(
        &mut self,
        asker: Ipv6Addr,
        to: Ipv6Addr,
        (ident, seq_no, code): (u16, u16, u8),
        data: &[u8],
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        let from =
            if to.is_multicast() { self.ip6.as_ref().and_then(|h| h.ndp.source_for(asker, now)) } else { Some(to) };
        let Some(from) = from else { return self.drop_frame(DropReason::IcmpUnhandled) };
        let reply = Icmpv6Repr::EchoReply { ident, seq_no, data };
        let ecn = EcnCodepoint::NotEct;
        let sent =
            self.send_ipv6(from, asker, IpProtocol::ICMPV6, ecn, reply.buffer_len(), None, None, now, out, |b| {
                let mut packet = Icmpv6Packet::new_unchecked(b);
                reply.emit(&mut packet, &from, &asker);
                if code != 0 {
                    packet.set_msg_code(code);
                    packet.fill_checksum(&from, &asker);
                }
            });
        match sent {
            Ok(()) => self.stats.icmp_echo_replies_sent += 1,
            Err(CommandError::MessageTooLong { .. }) => self.drop_frame(DropReason::IcmpEchoReplyTooBig),
            Err(_) => self.drop_frame(DropReason::IcmpUnhandled),
        }
    }

    /// A Packet Too Big for one of our packets: remember the smaller path MTU toward its destination (never
    /// below 1280, RFC 8201 §4).
    fn on_packet_too_big(&mut self, mtu: u32, original: &[u8], now: Instant) {
        let Ok(q) = QuotedPacket::parse(original) else { return };
        let Some(host) = self.ip6.as_mut() else { return };
        let mtu = usize::try_from(mtu).unwrap_or(usize::MAX).clamp(ipv6::MIN_MTU, host.link_mtu);
        // RFC 8201 §4: a Packet Too Big never raises the estimate (Linux's `__ip6_rt_update_pmtu`).
        host.path_mtu.lower(q.dst_addr(), mtu, now, host.link_mtu);
    }

    /// An ICMPv6 error about one of our packets: tell the socket whose packet it quotes.
    fn on_icmpv6_error(
        &mut self,
        reason: UnreachableReason,
        reporter: Ipv6Addr,
        original: &[u8],
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        self.stats.icmp_errors_received += 1;
        let quoted = QuotedPacket::parse(original).ok();
        let Some(q) = quoted.filter(|q| self.ipv6_is_ours(q.src_addr())) else {
            return self.drop_frame(DropReason::IcmpUnhandled);
        };
        let (local, remote) = (IpAddr::V6(q.src_addr()), IpAddr::V6(q.dst_addr()));
        let target = match q.protocol() {
            Some(IpProtocol::Udp) => q.src_port().and_then(|p| Some((self.udp.by_port(local, p)?, q.dst_port()))),
            Some(IpProtocol::Tcp) => {
                if let (Some(sp), Some(dp), Some(seq)) = (q.src_port(), q.dst_port(), q.tcp_seq_number()) {
                    let ends = (SocketAddr::new(local, sp), SocketAddr::new(remote, dp));
                    let report = ErrorReport { reason, reporter: reporter.into() };
                    if self.on_tcp_quoted_error(ends.0, ends.1, seq, report, now, out) {
                        return;
                    }
                }
                None
            }
            Some(IpProtocol::ICMPV6) => {
                q.echo_request_ident().and_then(|ident| self.ping.by_ident.get(&ident).map(|s| (*s, None)))
            }
            _ => None,
        };
        match target {
            // A smaller path MTU is news for TCP only; a datagram socket learns it at its next send.
            Some(_) if matches!(reason, UnreachableReason::PacketTooBig { .. }) => {}
            Some((sock, port)) => {
                let event = Event::Unreachable { dst: remote, port, reason, reporter: Some(reporter.into()) };
                out.push(Output::Event(sock, event))
            }
            None => self.drop_frame(DropReason::IcmpUnhandled),
        }
    }

    /// A neighbour discovery message, checked as RFC 4861 §6.1 and §7.1 ask.
    fn on_ndp(
        &mut self,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        hop_limit: u8,
        msg: &NdpRepr<'_>,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        if let Err(e) = msg.check_ip(&src, &dst, hop_limit) {
            return self.drop_frame(DropReason::Malformed(Layer::Ndp, e));
        }
        self.stats.ndp_messages_received += 1;
        let accept_ra = self.ip6.as_ref().is_some_and(|h| h.config.accept_ra);
        let Some(host) = self.ip6.as_mut() else { return };
        host.fast_path = None;
        let mut acts = Vec::new();
        let used = match *msg {
            NdpRepr::NeighborSolicit { target, source_lladdr } => {
                host.ndp.on_solicitation(src, target, source_lladdr, now, &mut acts)
            }
            NdpRepr::NeighborAdvert { router, solicited, override_, target, target_lladdr } => {
                let flags = AdvertFlags { router, solicited, override_ };
                host.ndp.on_advertisement(target, target_lladdr, flags, now, &mut acts)
            }
            NdpRepr::RouterAdvert {
                hop_limit,
                router_lifetime,
                reachable_time,
                retrans_time,
                source_lladdr,
                mtu,
                prefixes,
                ..
            } if accept_ra => {
                let ra = RouterAdvert {
                    cur_hop_limit: hop_limit,
                    router_lifetime,
                    reachable_time,
                    retrans_timer: retrans_time,
                    mtu,
                };
                let prefixes: Vec<PrefixInfo> = prefixes
                    .iter()
                    .map(|p| PrefixInfo {
                        prefix: p.prefix,
                        prefix_len: p.prefix_len,
                        on_link: p.on_link,
                        autonomous: p.autonomous,
                        valid_lifetime: p.valid_lifetime,
                        preferred_lifetime: p.preferred_lifetime,
                    })
                    .collect();
                host.ndp.on_router_advert(src, source_lladdr, &ra, &prefixes, now, &mut acts)
            }
            // Hosts discard router solicitations (RFC 4861 §6.2.6); redirects need a destination cache we
            // do not keep (a redirected host keeps using its router, which still forwards).
            NdpRepr::RouterAdvert { .. } | NdpRepr::RouterSolicit { .. } | NdpRepr::Redirect { .. } => {
                NdReceived::Ignored
            }
        };
        if used == NdReceived::Ignored {
            self.drop_frame(DropReason::NdpIgnored);
        }
        if matches!(msg, NdpRepr::RouterAdvert { .. }) {
            // A prefix's lifetimes may have moved, which no address event tells.
            if let Some(h) = self.ip6.as_mut() {
                h.refresh_assigned(now);
            }
        }
        self.run_nd_actions(acts, now, out);
    }

    /// Sends an ICMPv6 error about `rx` unless RFC 4443 §2.4 forbids it or the rate limit says no.
    /// `multicast_ok`: the error may answer a packet to a multicast address (Packet Too Big, or a parameter
    /// problem about an unrecognised option).
    pub(crate) fn send_icmpv6_error(
        &mut self,
        rx: &Received<'_>,
        error: Icmpv6Error,
        multicast_ok: bool,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        let (IpAddr::V6(asker), IpAddr::V6(to)) = (rx.src, rx.dst) else { return };
        if (rx.broadcast && !multicast_ok) || asker.is_unspecified() || asker.is_multicast() {
            return;
        }
        // Never an error about an error (RFC 4443 §2.4 (e.1)): look at the ICMPv6 type, if that is what it was.
        if rx.protocol == IpProtocol::ICMPV6 && rx.payload.first().is_some_and(|t| *t < 128) {
            return;
        }
        if !self.icmp_error_allowed(rx.src, false, now) {
            return;
        }
        let from =
            if to.is_multicast() { self.ip6.as_ref().and_then(|h| h.ndp.source_for(asker, now)) } else { Some(to) };
        let Some(from) = from else { return };
        // As much of the packet as fits in the minimum MTU (RFC 4443 §2.4 (c)), its headers included: a header
        // chain that is the whole packet (an unknown next header) is cut too.
        let room = ipv6::MIN_MTU - ipv6::HEADER_LEN - crate::wire::icmpv6::HEADER_LEN;
        let header = &rx.header[..rx.header.len().min(room)];
        let quote = rx.payload.len().min(room - header.len());
        let mut original = Vec::with_capacity(header.len() + quote);
        original.extend_from_slice(header);
        original.extend_from_slice(&rx.payload[..quote]);
        let repr = match error {
            Icmpv6Error::DstUnreachable(reason) => Icmpv6Repr::DstUnreachable { reason, original: &original },
            Icmpv6Error::ParamProblem(reason, pointer) => {
                Icmpv6Repr::ParamProblem { reason, pointer, original: &original }
            }
            Icmpv6Error::TimeExceeded(reason) => Icmpv6Repr::TimeExceeded { reason, original: &original },
        };
        let ecn = EcnCodepoint::NotEct;
        let sent = self.send_ipv6(from, asker, IpProtocol::ICMPV6, ecn, repr.buffer_len(), None, None, now, out, |b| {
            repr.emit(&mut Icmpv6Packet::new_unchecked(b), &from, &asker)
        });
        if sent.is_ok() {
            self.stats.icmp_errors_sent += 1;
        }
    }

    /// Sends an ICMPv6 echo request for a ping socket.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn ping6_send(
        &mut self,
        sock: SocketHandle,
        ident: u16,
        dst: Ipv6Addr,
        seq_no: u16,
        payload_len: usize,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<Reply, CommandError> {
        let src = self.ipv6_source_for(dst)?;
        let max = crate::ip::largest_payload(IpAddr::V6(dst)) - crate::wire::icmpv6::HEADER_LEN;
        if payload_len > max {
            return Err(CommandError::MessageTooLong { max });
        }
        let data: Vec<u8> = (0..payload_len).map(|i| i as u8).collect();
        let request = Icmpv6Repr::EchoRequest { ident, seq_no, data: &data };
        let ecn = EcnCodepoint::NotEct;
        self.send_ipv6(src, dst, IpProtocol::ICMPV6, ecn, request.buffer_len(), Some(sock), None, now, out, |b| {
            request.emit(&mut Icmpv6Packet::new_unchecked(b), &src, &dst)
        })?;
        self.ping.remember(sock, seq_no, IpAddr::V6(dst), now, self.config.ping_outstanding);
        Ok(Reply::Sent { len: payload_len })
    }

    /// Our IPv6 addresses with their state, for drivers and tests (empty without IPv6).
    pub fn ipv6_addresses(&self) -> Vec<Ipv6Address> {
        let now = self.clock.now();
        self.ip6.as_ref().map_or_else(Vec::new, |h| {
            h.addresses(now)
                .into_iter()
                .map(|a| Ipv6Address {
                    addr: a.addr,
                    prefix_len: a.prefix_len,
                    state: format!("{:?}", a.state).to_lowercase(),
                })
                .collect()
        })
    }
}

/// One of our IPv6 addresses, as [`Stack::ipv6_addresses`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv6Address {
    pub addr: Ipv6Addr,
    pub prefix_len: u8,
    /// `tentative` (duplicate address detection running), `preferred`, `deprecated` or `duplicate`.
    pub state: String,
}

/// The fields of one IPv6 packet to build.
#[derive(Clone, Copy, Debug)]
struct Packet6 {
    src: Ipv6Addr,
    dst: Ipv6Addr,
    protocol: IpProtocol,
    ecn: EcnCodepoint,
    hop_limit: u8,
    payload_len: usize,
    /// Neighbour discovery: `dst` is a neighbour, resolved directly, never reached through a router.
    on_link: bool,
}

/// Does a first fragment (`rx.header` up to and including its fragment header, `rx.payload` its data) hold
/// the whole header chain, through the upper-layer header (RFC 7112; Linux's `ipv6frag_thdr_truncated`: 20
/// bytes of TCP, 8 of UDP or ICMPv6)?
fn holds_header_chain(rx: &Received<'_>, first: IpProtocol) -> bool {
    let base = rx.header.len();
    let start = WalkStart { first, named_at: base - ipv6::FRAGMENT_HEADER_LEN, base };
    match ipv6::walk_from(start, rx.payload, rx.dst.is_multicast()) {
        Err(crate::wire::Error::Truncated) => false,
        Ok(ExtHeaderWalk::Upper { protocol, offset, .. }) => {
            let upper = match protocol {
                IpProtocol::Tcp => crate::wire::tcp::HEADER_LEN,
                IpProtocol::Udp => crate::wire::udp::HEADER_LEN,
                _ => crate::wire::icmpv6::HEADER_LEN,
            };
            rx.payload.len() >= offset - base + upper
        }
        // Anything else is judged once the datagram is whole.
        _ => true,
    }
}

/// Is this upper-layer payload a neighbour discovery message (ICMPv6 types 133 to 137, RFC 4861 §4)?
fn is_nd(protocol: IpProtocol, payload: &[u8]) -> bool {
    protocol == IpProtocol::ICMPV6 && payload.first().is_some_and(|t| (133..=137).contains(t))
}
