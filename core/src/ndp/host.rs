//! The three parts of neighbour discovery as one unit for the stack: every received ND message and every
//! NDP timer goes in, and what the stack must do comes out as [`NdAction`]s, in order. The stack's part is
//! only wire work: parse and validate messages (RFC 4861 §6.1.2, §7.1), build frames for the `Send*` actions,
//! schedule `TimerKey::Ndp` for [`NdAction::Schedule`], and turn address events into whatever it reports.
//!
//! The stack's side, in short:
//! - sending to `dst`: [`Ndp::next_hop`] (`None`: no route), [`Ndp::source_for`], then [`Ndp::lookup`] of the
//!   next hop; without an address build the frame anyway and [`Ndp::enqueue`] it, as with ARP;
//! - receiving: accept frames to our MAC, to all-nodes and to the groups [`Ndp::accepts_group`] names; packets
//!   only for addresses [`Ndp::is_ours`] (ND messages about a tentative address excepted); ND messages
//!   validated (hop limit 255, code 0, lengths, a solicitation from :: only to a solicited-node group and
//!   without a source link-layer option, an advertisement to a multicast group without the S flag) go to
//!   `on_solicitation`, `on_advertisement`, `on_router_advert`; Router Solicitations are dropped (we are a
//!   host, RFC 4861 §6.2.6);
//! - TCP progress (new data acknowledged) confirms the next hop of its peer: [`Ndp::confirm`].

use super::cache::{AdvertFlags, Enqueued, Learned, Lookup, NeighbourCache, NeighbourState, Timeout};
use super::router::{
    LinkParams, NextHop, PrefixInfo, RouterAdvert, RouterChange, RouterList, RouterSolicitor, SolicitStep,
};
use super::slaac::{
    AddError, AddressInfo, AddressList, AdvertVerdict, DadStep, Duplicate, LifetimeEvent, PrefixOutcome,
    SolicitationVerdict,
};
use super::{NdpConfig, NdpTimer, Timer, SEED_PURPOSE};
use crate::seed::derive_seed;
use crate::time::Instant;
use crate::wire::ipv6::multicast_mac;
use crate::wire::EthernetAddress;
use core::net::Ipv6Addr;
use std::collections::VecDeque;

/// ff02::1, all nodes on the link.
pub(crate) const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// ff02::2, all routers on the link.
pub(crate) const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

/// Something the stack must do, in the order given.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NdAction<F> {
    /// Schedule `TimerKey::Ndp(timer.key)` at `timer.at`, then hand it to [`Ndp::on_timer`].
    Schedule(Timer),
    /// Neighbor Solicitation for `target` (address resolution): to its solicited-node group
    /// ([`crate::wire::ipv6::solicited_node`], MAC by [`multicast_mac`]), from our source address for `target`,
    /// with our source link-layer address option.
    SendMulticastNs { target: Ipv6Addr },
    /// Neighbor Solicitation for `target` (reachability probe), unicast to `target` at `mac`, with our source
    /// link-layer address option.
    SendUnicastNs { target: Ipv6Addr, mac: EthernetAddress },
    /// Duplicate address detection probe: Neighbor Solicitation for `target` from :: to its solicited-node
    /// group, without a source link-layer address option (RFC 4862 §5.4.2).
    SendDadNs { target: Ipv6Addr },
    /// Neighbor Advertisement for our `target` to `dst` (a unicast address, resolved like any packet, or
    /// all-nodes), with the target link-layer address option, Override set, Router clear (RFC 4861 §7.2.4,
    /// §7.2.6).
    SendNa { dst: Ipv6Addr, target: Ipv6Addr, solicited: bool },
    /// Router Solicitation to all-routers (ff02::2) from `source`; with it, our source link-layer address
    /// option; from :: (`None`, no link-local address yet) without one (RFC 4861 §6.3.7).
    SendRs { source: Option<Ipv6Addr> },
    /// Frames that waited for `mac`: set their destination and transmit them, oldest first.
    Transmit { mac: EthernetAddress, frames: VecDeque<F> },
    /// Resolution of `target` failed: these frames are lost; tell their owners (as ARP's GiveUp).
    GiveUp { target: Ipv6Addr, frames: VecDeque<F> },
    /// A frame dropped by the queue bounds (counted by the stack).
    Dropped(F),
    /// An address passed DAD and is ours now.
    AddressAssigned(Ipv6Addr),
    /// A tentative address is someone else's (RFC 4862 §5.4.5); see [`Duplicate::from_mac`].
    AddressDuplicate(Duplicate),
    /// Someone else claims an address of ours that passed DAD (log-worthy only).
    AddressConflict(Ipv6Addr),
    /// A preferred lifetime ended.
    AddressDeprecated(Ipv6Addr),
    /// A valid lifetime ended: the address is gone.
    AddressRemoved(Ipv6Addr),
    /// A router advertised a new link MTU (within 1280 and the configured MTU).
    LinkMtu(usize),
    /// A router advertised a new hop limit for our packets.
    HopLimit(u8),
}

/// Was a received ND message about us? (For the stack's drop counters.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Received {
    Used,
    /// Nothing in it concerned us (e.g. a solicitation for another node's address, an advertisement without
    /// a cache entry to update, a router advertisement from a non-link-local source).
    Ignored,
}

/// Neighbour discovery and address autoconfiguration of one interface.
#[derive(Debug)]
pub(crate) struct Ndp<F> {
    mac: EthernetAddress,
    cache: NeighbourCache<F>,
    routers: RouterList,
    solicitor: RouterSolicitor,
    addresses: AddressList,
}

impl<F> Ndp<F> {
    /// `seed` is `Config::seed` (NDP derives its own from it), `link_mtu` and `hop_limit` the configured ones.
    pub(crate) fn new(
        config: &NdpConfig,
        mac: EthernetAddress,
        link_mtu: usize,
        hop_limit: u8,
        seed: u64,
        now: Instant,
    ) -> Ndp<F> {
        let ndp_seed = derive_seed(seed, SEED_PURPOSE);
        Ndp {
            mac,
            cache: NeighbourCache::new(config.clone(), ndp_seed, now),
            routers: RouterList::new(config, link_mtu, hop_limit),
            solicitor: RouterSolicitor::new(config, ndp_seed),
            addresses: AddressList::new(config, mac, ndp_seed),
        }
    }

    /// The interface is up: the link-local address goes tentative and router solicitation begins.
    pub(crate) fn start(&mut self, now: Instant, out: &mut Vec<NdAction<F>>) {
        if let Ok(timers) = self.addresses.add_link_local(now) {
            out.extend(timers.into_iter().map(NdAction::Schedule));
        }
        out.extend(self.solicitor.start(now).map(NdAction::Schedule));
    }

    /// A configured address (tentative until DAD passes; its prefix is on-link).
    pub(crate) fn add_address(
        &mut self,
        addr: Ipv6Addr,
        prefix_len: u8,
        now: Instant,
        out: &mut Vec<NdAction<F>>,
    ) -> Result<(), AddError> {
        let timers = self.addresses.add_configured(addr, prefix_len, now)?;
        out.extend(timers.into_iter().map(NdAction::Schedule));
        self.routers.add_configured_prefix(addr, prefix_len);
        Ok(())
    }

    /// A configured default router. False if the router list is full.
    pub(crate) fn add_router(&mut self, addr: Ipv6Addr) -> bool {
        self.routers.add_configured_router(addr)
    }

    /// Next-hop determination: the neighbour to resolve for `dst` (itself if on-link); `None`: no route.
    pub(crate) fn next_hop(&self, dst: Ipv6Addr, now: Instant) -> Option<Ipv6Addr> {
        match self.routers.next_hop(dst, now, |r| self.cache.is_probably_reachable(r))? {
            NextHop::OnLink => Some(dst),
            NextHop::Router(r) => Some(r),
        }
    }

    /// Our source address for `dst`, never a tentative one.
    pub(crate) fn source_for(&self, dst: Ipv6Addr, now: Instant) -> Option<Ipv6Addr> {
        self.addresses.source_for(dst, now)
    }

    /// Packets to `addr` are ours (it is assigned: preferred or deprecated).
    pub(crate) fn is_ours(&self, addr: Ipv6Addr, now: Instant) -> bool {
        self.addresses.is_assigned(addr, now)
    }

    /// Frames to the IPv6 multicast `group` are for us: all-nodes, or the solicited-node group of any of our
    /// addresses (tentative ones included, or DAD would not hear other probes).
    pub(crate) fn accepts_group(&self, group: Ipv6Addr, now: Instant) -> bool {
        group == ALL_NODES || self.addresses.has_solicited_node(group, now)
    }

    pub(crate) fn addresses(&self, now: Instant) -> Vec<AddressInfo> {
        self.addresses.addresses(now)
    }

    pub(crate) fn link(&self) -> LinkParams {
        self.routers.link()
    }

    /// The link-layer address of a REACHABLE neighbour and until when it stays so (see `NeighbourCache::reachable`).
    pub(crate) fn reachable(&self, ip: Ipv6Addr, now: Instant) -> Option<(EthernetAddress, Instant)> {
        self.cache.reachable(ip, now)
    }

    pub(crate) fn neighbour(&self, ip: Ipv6Addr, now: Instant) -> Option<(NeighbourState, Option<EthernetAddress>)> {
        self.cache.state(ip, now)
    }

    /// Upper-layer reachability confirmation (RFC 4861 §7.3.1), e.g. new data acknowledged on a TCP
    /// connection whose next hop is `neighbour`.
    pub(crate) fn confirm(&mut self, neighbour: Ipv6Addr, now: Instant) {
        self.cache.confirm(neighbour, now);
    }

    /// The link-layer address for a packet to the next hop `ip`, if known (multicast maps directly). `None`:
    /// build the frame anyway and hand it to [`Ndp::enqueue`].
    pub(crate) fn lookup(&mut self, ip: Ipv6Addr, now: Instant, out: &mut Vec<NdAction<F>>) -> Option<EthernetAddress> {
        if ip.is_multicast() {
            return Some(multicast_mac(&ip));
        }
        match self.cache.lookup(ip, now) {
            Lookup::Hit(mac) => Some(mac),
            Lookup::Delay(mac, timer) => {
                out.push(NdAction::Schedule(timer));
                Some(mac)
            }
            Lookup::Miss => None,
        }
    }

    /// Queues `frame` until the next hop `ip` resolves.
    pub(crate) fn enqueue(&mut self, ip: Ipv6Addr, frame: F, now: Instant, out: &mut Vec<NdAction<F>>) {
        match self.cache.enqueue(ip, frame, now) {
            Enqueued::Solicit(timer) => {
                out.push(NdAction::SendMulticastNs { target: ip });
                out.push(NdAction::Schedule(timer));
            }
            Enqueued::Waiting => {}
            Enqueued::Displaced(f) | Enqueued::Full(f) => out.push(NdAction::Dropped(f)),
            Enqueued::Ready(f, mac, timer) => {
                out.extend(timer.map(NdAction::Schedule));
                out.push(NdAction::Transmit { mac, frames: VecDeque::from([f]) });
            }
        }
    }

    fn flush(learned: Learned<F>, mac: EthernetAddress, out: &mut Vec<NdAction<F>>) {
        if !learned.flush.is_empty() {
            out.push(NdAction::Transmit { mac, frames: learned.flush });
        }
    }

    /// A valid Neighbor Solicitation (RFC 4861 §7.2.3; RFC 4862 §5.4.3 for our tentative addresses).
    pub(crate) fn on_solicitation(
        &mut self,
        src: Ipv6Addr,
        target: Ipv6Addr,
        source_lladdr: Option<EthernetAddress>,
        now: Instant,
        out: &mut Vec<NdAction<F>>,
    ) -> Received {
        match self.addresses.on_solicitation(target, src.is_unspecified(), now) {
            SolicitationVerdict::Answer => {}
            SolicitationVerdict::Duplicate(d) => {
                out.push(NdAction::AddressDuplicate(d));
                return Received::Used;
            }
            SolicitationVerdict::Discard => return Received::Used,
            SolicitationVerdict::NotOurs => return Received::Ignored,
        }
        if src.is_unspecified() {
            // Someone's DAD for an address we hold: defend it to all nodes, unsolicited (§7.2.4).
            out.push(NdAction::SendNa { dst: ALL_NODES, target, solicited: false });
            return Received::Used;
        }
        if let Some(mac) = source_lladdr.filter(|m| m.is_unicast() && *m != self.mac) {
            let learned = self.cache.on_link_layer_address(src, mac, false, now);
            Self::flush(learned, mac, out);
        }
        out.push(NdAction::SendNa { dst: src, target, solicited: true });
        Received::Used
    }

    /// A valid Neighbor Advertisement (RFC 4861 §7.2.5; RFC 4862 §5.4.4 for our own addresses).
    pub(crate) fn on_advertisement(
        &mut self,
        target: Ipv6Addr,
        target_lladdr: Option<EthernetAddress>,
        flags: AdvertFlags,
        now: Instant,
        out: &mut Vec<NdAction<F>>,
    ) -> Received {
        match self.addresses.on_advertisement(target, now) {
            AdvertVerdict::Duplicate(d) => {
                out.push(NdAction::AddressDuplicate(d));
                return Received::Used;
            }
            AdvertVerdict::Conflict(a) => {
                out.push(NdAction::AddressConflict(a));
                return Received::Used;
            }
            AdvertVerdict::NotOurs => {}
        }
        let tlla = target_lladdr.filter(|m| m.is_unicast() && *m != self.mac);
        if self.cache.state(target, now).is_none() {
            return Received::Ignored;
        }
        let learned = self.cache.on_advertisement(target, tlla, flags, now);
        if learned.stopped_routing {
            self.routers.remove_router(target);
        }
        if let Some(mac) = tlla {
            Self::flush(learned, mac, out);
        }
        Received::Used
    }

    /// A valid Router Advertisement (RFC 4861 §6.3.4) with its source link-layer address and prefix options.
    pub(crate) fn on_router_advert(
        &mut self,
        src: Ipv6Addr,
        source_lladdr: Option<EthernetAddress>,
        ra: &RouterAdvert,
        prefixes: &[PrefixInfo],
        now: Instant,
        out: &mut Vec<NdAction<F>>,
    ) -> Received {
        let applied = self.routers.on_router_advert(src, ra, now);
        if applied.router == RouterChange::Invalid {
            return Received::Ignored;
        }
        self.solicitor.on_router_advert(ra.router_lifetime);
        match source_lladdr.filter(|m| m.is_unicast() && *m != self.mac) {
            Some(mac) => {
                let learned = self.cache.on_link_layer_address(src, mac, true, now);
                Self::flush(learned, mac, out);
            }
            None => self.cache.mark_router(src),
        }
        if let Some(base) = applied.base_reachable_time {
            self.cache.set_base_reachable_time(base, now);
        }
        if let Some(retrans) = applied.retrans_timer {
            self.cache.set_retrans_timer(retrans);
            self.addresses.set_retrans_timer(retrans);
        }
        out.extend(applied.mtu.map(NdAction::LinkMtu));
        out.extend(applied.hop_limit.map(NdAction::HopLimit));
        for info in prefixes {
            self.routers.on_prefix(info, now);
            match self.addresses.on_prefix(info, now) {
                PrefixOutcome::Formed(_, timers) => out.extend(timers.into_iter().map(NdAction::Schedule)),
                PrefixOutcome::Updated(_, timer) => out.extend(timer.map(NdAction::Schedule)),
                PrefixOutcome::Ignored(_) => {}
            }
        }
        Received::Used
    }

    /// An NDP timer fired.
    pub(crate) fn on_timer(&mut self, timer: NdpTimer, now: Instant, out: &mut Vec<NdAction<F>>) {
        match timer {
            NdpTimer::Neighbour(ip) => match self.cache.on_timer(ip, now) {
                Timeout::SendMulticast(t) => {
                    out.push(NdAction::SendMulticastNs { target: ip });
                    out.push(NdAction::Schedule(t));
                }
                Timeout::SendUnicast(mac, t) => {
                    out.push(NdAction::SendUnicastNs { target: ip, mac });
                    out.push(NdAction::Schedule(t));
                }
                Timeout::GiveUp(frames) => {
                    self.routers.on_neighbour_lost(ip);
                    out.push(NdAction::GiveUp { target: ip, frames });
                }
                Timeout::Forgotten { .. } => self.routers.on_neighbour_lost(ip),
                Timeout::Nothing => {}
            },
            NdpTimer::Dad(addr) => match self.addresses.on_dad_timer(addr, now) {
                DadStep::SendProbe { target, timer } => {
                    out.push(NdAction::SendDadNs { target });
                    out.push(NdAction::Schedule(timer));
                }
                DadStep::Assigned(addr) => {
                    out.push(NdAction::AddressAssigned(addr));
                    // Announce it (RFC 4861 §7.2.6), so caches holding an old mapping update at once.
                    out.push(NdAction::SendNa { dst: ALL_NODES, target: addr, solicited: false });
                }
                DadStep::Nothing => {}
            },
            NdpTimer::AddressLifetime(addr) => match self.addresses.on_lifetime_timer(addr, now) {
                LifetimeEvent::Deprecated(addr, t) => {
                    out.push(NdAction::AddressDeprecated(addr));
                    out.extend(t.map(NdAction::Schedule));
                }
                LifetimeEvent::Removed(addr) => out.push(NdAction::AddressRemoved(addr)),
                LifetimeEvent::Nothing => {}
            },
            NdpTimer::RouterSolicit => {
                if let SolicitStep::Send(next) = self.solicitor.on_timer(now) {
                    let source = self.addresses.source_for(ALL_ROUTERS, now);
                    out.push(NdAction::SendRs { source });
                    out.extend(next.map(NdAction::Schedule));
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "host_tests.rs"]
mod tests;
