//! Router discovery on a host (RFC 4861 §6.3): the default router list and the prefix list learnt from Router
//! Advertisements (plus configured ones), the link parameters they carry, next-hop determination (§5.2) with
//! default router selection (§6.3.6), and the router solicitations sent on start (§6.3.7).
//!
//! Router and prefix lifetimes end lazily: nothing is sent when they do, so every query ignores what has
//! expired and no timer is needed. Only solicitations need one ([`NdpTimer::RouterSolicit`]).

use super::config::MAX_REACHABLE_TIME;
use super::{lifetime_deadline, mask, Draws, NdpConfig, NdpTimer, Timer};
use crate::time::Instant;
use crate::wire::ipv6::is_link_local;
use core::net::Ipv6Addr;
use core::time::Duration;
use std::collections::BTreeMap;

/// The purpose of the solicitor's draws under the NDP seed (its initial random delay).
const DRAWS_PURPOSE: u64 = 2;

/// The smallest link MTU of IPv6 (RFC 8200 §5).
pub(crate) const MIN_LINK_MTU: usize = 1280;

/// Linux's floor for an advertised RetransTimer (`HZ/100`), so a hostile or broken router cannot make us
/// solicit in a tight loop.
const MIN_RETRANS_TIMER: Duration = Duration::from_millis(10);

/// The fields of a valid Router Advertisement (RFC 4861 §4.2, validated per §6.1.2 by the caller) that this
/// module uses; the source link-layer address goes to the neighbour cache, prefixes to [`RouterList::on_prefix`]
/// and to address autoconfiguration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RouterAdvert {
    /// Hop limit for our packets; 0: unspecified.
    pub cur_hop_limit: u8,
    /// Seconds this router may be a default router; 0: it is not one (any more).
    pub router_lifetime: u16,
    /// BaseReachableTime in milliseconds; 0: unspecified.
    pub reachable_time: u32,
    /// RetransTimer in milliseconds; 0: unspecified.
    pub retrans_timer: u32,
    /// The MTU option's value, if present.
    pub mtu: Option<u32>,
}

/// A Prefix Information option (RFC 4861 §4.6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PrefixInfo {
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    /// L: the prefix is on-link.
    pub on_link: bool,
    /// A: addresses may be formed from it (RFC 4862).
    pub autonomous: bool,
    /// Seconds; all ones is infinity.
    pub valid_lifetime: u32,
    /// Seconds; all ones is infinity.
    pub preferred_lifetime: u32,
}

/// The per-link parameters hosts learn from advertisements (RFC 4861 §6.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LinkParams {
    pub hop_limit: u8,
    pub mtu: usize,
    pub base_reachable_time: Duration,
    pub retrans_timer: Duration,
}

/// What a Router Advertisement did to the default router list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum RouterChange {
    /// Not a default router, and not one before.
    #[default]
    None,
    Added,
    Refreshed,
    /// Lifetime 0 from a router in the list (RFC 4861 §6.3.4: timed out at once).
    Removed,
    /// A new router while the list is full: ignored.
    Full,
    /// The source is not link-local (§6.1.2): the whole advertisement was ignored.
    Invalid,
}

/// What a Router Advertisement changed. A parameter is `Some` only when its value changed, so the caller can
/// pass it on (the base reachable time and retransmission timer to the neighbour cache and to DAD).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RaApplied {
    pub router: RouterChange,
    pub hop_limit: Option<u8>,
    pub mtu: Option<usize>,
    pub base_reachable_time: Option<Duration>,
    pub retrans_timer: Option<Duration>,
}

/// What a Prefix Information option did to the prefix list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PrefixChange {
    /// Not for the prefix list: no L flag, the link-local prefix, a length above 128, or a valid lifetime of 0
    /// for a prefix not in the list.
    Ignored,
    Added,
    Refreshed,
    Removed,
    /// A new prefix while the list is full.
    Full,
}

/// Where a packet for a destination goes first (RFC 4861 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NextHop {
    /// The destination is on-link (or multicast): resolve the destination itself.
    OnLink,
    /// Off-link: via this default router.
    Router(Ipv6Addr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DefaultRouter {
    addr: Ipv6Addr,
    expires: Instant,
    /// From the configuration: never expires, and an advertised lifetime of 0 does not remove it.
    configured: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct OnLinkPrefix {
    expires: Instant,
    configured: bool,
}

/// The default router list and the prefix list of one interface, with its link parameters.
#[derive(Debug)]
pub(crate) struct RouterList {
    max_routers: usize,
    max_prefixes: usize,
    /// In the order first heard, which is the order of preference among equally reachable routers.
    routers: Vec<DefaultRouter>,
    /// Round-robin position: the router tried first when none is known to be reachable (§6.3.6).
    current: usize,
    /// Keyed by (masked prefix, length).
    prefixes: BTreeMap<(Ipv6Addr, u8), OnLinkPrefix>,
    link: LinkParams,
    /// The link type's largest MTU (the configured one): advertised MTUs above it are ignored.
    max_mtu: usize,
}

impl RouterList {
    /// `link_mtu` is the configured IP MTU of the link, `hop_limit` the configured default.
    pub(crate) fn new(config: &NdpConfig, link_mtu: usize, hop_limit: u8) -> RouterList {
        RouterList {
            max_routers: config.max_routers,
            max_prefixes: config.max_prefixes,
            routers: Vec::new(),
            current: 0,
            prefixes: BTreeMap::new(),
            link: LinkParams {
                hop_limit,
                mtu: link_mtu,
                base_reachable_time: config.base_reachable_time,
                retrans_timer: config.retrans_timer,
            },
            max_mtu: link_mtu,
        }
    }

    pub(crate) fn link(&self) -> LinkParams {
        self.link
    }

    /// A configured default router (the configuration's IPv6 gateway). False if the list is full.
    pub(crate) fn add_configured_router(&mut self, addr: Ipv6Addr) -> bool {
        if let Some(r) = self.routers.iter_mut().find(|r| r.addr == addr) {
            r.configured = true;
            r.expires = Instant::MAX;
            return true;
        }
        if self.routers.len() >= self.max_routers {
            return false;
        }
        self.routers.push(DefaultRouter { addr, expires: Instant::MAX, configured: true });
        true
    }

    /// A configured on-link prefix (the prefix of a configured address). False if the list is full.
    pub(crate) fn add_configured_prefix(&mut self, prefix: Ipv6Addr, len: u8) -> bool {
        let key = (mask(prefix, len), len.min(128));
        if !self.prefixes.contains_key(&key) && self.prefixes.len() >= self.max_prefixes {
            return false;
        }
        self.prefixes.insert(key, OnLinkPrefix { expires: Instant::MAX, configured: true });
        true
    }

    /// A valid Router Advertisement from `src` (RFC 4861 §6.3.4), without its options other than MTU.
    pub(crate) fn on_router_advert(&mut self, src: Ipv6Addr, ra: &RouterAdvert, now: Instant) -> RaApplied {
        if !is_link_local(&src) {
            return RaApplied { router: RouterChange::Invalid, ..RaApplied::default() };
        }
        let mut applied =
            RaApplied { router: self.update_router(src, ra.router_lifetime, now), ..RaApplied::default() };
        if ra.cur_hop_limit != 0 && ra.cur_hop_limit != self.link.hop_limit {
            self.link.hop_limit = ra.cur_hop_limit;
            applied.hop_limit = Some(ra.cur_hop_limit);
        }
        if ra.reachable_time != 0 {
            let base = Duration::from_millis(u64::from(ra.reachable_time)).min(MAX_REACHABLE_TIME);
            if base != self.link.base_reachable_time {
                self.link.base_reachable_time = base;
                applied.base_reachable_time = Some(base);
            }
        }
        if ra.retrans_timer != 0 {
            let retrans = Duration::from_millis(u64::from(ra.retrans_timer)).max(MIN_RETRANS_TIMER);
            if retrans != self.link.retrans_timer {
                self.link.retrans_timer = retrans;
                applied.retrans_timer = Some(retrans);
            }
        }
        // "SHOULD copy the option's value into LinkMTU so long as the value is greater than or equal to the
        // minimum link MTU and does not exceed the maximum LinkMTU value" of the link type.
        if let Some(mtu) = ra.mtu.and_then(|m| usize::try_from(m).ok()) {
            if (MIN_LINK_MTU..=self.max_mtu).contains(&mtu) && mtu != self.link.mtu {
                self.link.mtu = mtu;
                applied.mtu = Some(mtu);
            }
        }
        applied
    }

    fn update_router(&mut self, src: Ipv6Addr, lifetime: u16, now: Instant) -> RouterChange {
        let expires = now + Duration::from_secs(u64::from(lifetime));
        match self.routers.iter().position(|r| r.addr == src) {
            Some(i) if self.routers[i].configured => RouterChange::Refreshed,
            Some(i) if lifetime == 0 || self.routers[i].expires <= now => {
                self.remove_at(i);
                if lifetime == 0 {
                    RouterChange::Removed
                } else {
                    // It had expired: heard again, it is new.
                    self.update_router(src, lifetime, now)
                }
            }
            Some(i) => {
                self.routers[i].expires = expires;
                RouterChange::Refreshed
            }
            None if lifetime == 0 => RouterChange::None,
            None => {
                self.prune_routers(now);
                if self.routers.len() >= self.max_routers {
                    return RouterChange::Full;
                }
                self.routers.push(DefaultRouter { addr: src, expires, configured: false });
                RouterChange::Added
            }
        }
    }

    fn prune_routers(&mut self, now: Instant) {
        while let Some(i) = self.routers.iter().position(|r| r.expires <= now) {
            self.remove_at(i);
        }
    }

    fn remove_at(&mut self, i: usize) {
        self.routers.remove(i);
        if self.current > i {
            self.current -= 1;
        }
        if self.current >= self.routers.len() {
            self.current = 0;
        }
    }

    /// The neighbour cache says `addr` is not a router any more (IsRouter true → false, RFC 4861 §7.2.5).
    pub(crate) fn remove_router(&mut self, addr: Ipv6Addr) {
        if let Some(i) = self.routers.iter().position(|r| r.addr == addr && !r.configured) {
            self.remove_at(i);
        }
    }

    /// Resolving or probing `addr` failed: if it was the router tried first, the next one is tried first
    /// from now on (the round robin of §6.3.6).
    pub(crate) fn on_neighbour_lost(&mut self, addr: Ipv6Addr) {
        if self.routers.get(self.current).is_some_and(|r| r.addr == addr) {
            self.current = (self.current + 1) % self.routers.len();
        }
    }

    /// A Prefix Information option of a valid advertisement (RFC 4861 §6.3.4), for the prefix list.
    pub(crate) fn on_prefix(&mut self, info: &PrefixInfo, now: Instant) -> PrefixChange {
        if !info.on_link || info.prefix_len > 128 || is_link_local(&info.prefix) {
            return PrefixChange::Ignored;
        }
        let key = (mask(info.prefix, info.prefix_len), info.prefix_len);
        let expires = lifetime_deadline(now, info.valid_lifetime);
        match self.prefixes.get_mut(&key) {
            Some(p) if p.configured => PrefixChange::Refreshed,
            Some(_) if info.valid_lifetime == 0 => {
                self.prefixes.remove(&key);
                PrefixChange::Removed
            }
            Some(p) => {
                p.expires = expires;
                PrefixChange::Refreshed
            }
            None if info.valid_lifetime == 0 => PrefixChange::Ignored,
            None => {
                if self.prefixes.len() >= self.max_prefixes {
                    self.prefixes.retain(|_, p| p.expires > now);
                    if self.prefixes.len() >= self.max_prefixes {
                        return PrefixChange::Full;
                    }
                }
                self.prefixes.insert(key, OnLinkPrefix { expires, configured: false });
                PrefixChange::Added
            }
        }
    }

    /// RFC 4861 §5.2: link-local and multicast destinations are on-link, and so is any destination inside a
    /// live on-link prefix. Nothing else: without a prefix or a router, a destination is unreachable (RFC 4943
    /// removed the old "assume on-link").
    pub(crate) fn is_on_link(&self, dst: Ipv6Addr, now: Instant) -> bool {
        is_link_local(&dst)
            || dst.is_multicast()
            || self.prefixes.iter().any(|((prefix, len), p)| p.expires > now && mask(dst, *len) == *prefix)
    }

    /// Next-hop determination (§5.2). Off-link, the default router (§6.3.6): the first in the list that is
    /// reachable or probably reachable (`probably_reachable`, from the neighbour cache); if none is, the one at
    /// the round-robin position. `None`: no route.
    pub(crate) fn next_hop(
        &self,
        dst: Ipv6Addr,
        now: Instant,
        probably_reachable: impl Fn(Ipv6Addr) -> bool,
    ) -> Option<NextHop> {
        if self.is_on_link(dst, now) {
            return Some(NextHop::OnLink);
        }
        let live = || self.routers.iter().filter(|r| r.expires > now);
        if let Some(r) = live().find(|r| probably_reachable(r.addr)) {
            return Some(NextHop::Router(r.addr));
        }
        let n = self.routers.len();
        (0..n).map(|k| self.routers[(self.current + k) % n]).find(|r| r.expires > now).map(|r| NextHop::Router(r.addr))
    }

    /// The live default routers with their expiry, in order of preference.
    pub(crate) fn default_routers(&self, now: Instant) -> Vec<(Ipv6Addr, Instant)> {
        self.routers.iter().filter(|r| r.expires > now).map(|r| (r.addr, r.expires)).collect()
    }

    /// The live on-link prefixes with their expiry, lowest first.
    pub(crate) fn prefixes(&self, now: Instant) -> Vec<(Ipv6Addr, u8, Instant)> {
        self.prefixes.iter().filter(|(_, p)| p.expires > now).map(|((a, l), p)| (*a, *l, p.expires)).collect()
    }
}

/// What to do when the solicitation timer fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SolicitStep {
    /// Send a Router Solicitation to all-routers (ff02::1:2); schedule the timer if one is given.
    Send(Option<Timer>),
    /// Done, or a stale timer.
    Nothing,
}

/// Router solicitations on start (RFC 4861 §6.3.7): after a random delay below MAX_RTR_SOLICITATION_DELAY,
/// up to MAX_RTR_SOLICITATIONS, RTR_SOLICITATION_INTERVAL apart, until an advertisement names a default router.
#[derive(Debug)]
pub(crate) struct RouterSolicitor {
    max: u32,
    interval: Duration,
    max_delay: Duration,
    sent: u32,
    next_at: Option<Instant>,
    draws: Draws,
}

impl RouterSolicitor {
    pub(crate) fn new(config: &NdpConfig, ndp_seed: u64) -> RouterSolicitor {
        RouterSolicitor {
            max: config.max_rtr_solicitations,
            interval: config.rtr_solicitation_interval,
            max_delay: config.max_rtr_solicitation_delay,
            sent: 0,
            next_at: None,
            draws: Draws::new(ndp_seed, DRAWS_PURPOSE),
        }
    }

    /// The interface came up: the timer for the first solicitation, if any are to be sent. Starting again
    /// (e.g. the link came back) begins a new round.
    pub(crate) fn start(&mut self, now: Instant) -> Option<Timer> {
        if self.max == 0 {
            return None;
        }
        self.sent = 0;
        let at = now + self.draws.below(self.max_delay);
        self.next_at = Some(at);
        Some(Timer { at, key: NdpTimer::RouterSolicit })
    }

    pub(crate) fn on_timer(&mut self, now: Instant) -> SolicitStep {
        match self.next_at {
            Some(at) if at <= now => {
                self.sent += 1;
                self.next_at = (self.sent < self.max).then(|| now + self.interval);
                SolicitStep::Send(self.next_at.map(|at| Timer { at, key: NdpTimer::RouterSolicit }))
            }
            _ => SolicitStep::Nothing,
        }
    }

    /// An advertisement arrived: one that names a default router (non-zero lifetime) ends the solicitations.
    pub(crate) fn on_router_advert(&mut self, router_lifetime: u16) {
        if router_lifetime != 0 {
            self.next_at = None;
        }
    }

    /// Solicitations sent in this round.
    pub(crate) fn sent(&self) -> u32 {
        self.sent
    }
}

#[cfg(test)]
#[path = "router_tests.rs"]
mod tests;
