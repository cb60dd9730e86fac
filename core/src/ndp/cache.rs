//! The IPv6 neighbour cache (RFC 4861 §7.3): per neighbour, its link-layer address and reachability state,
//! the transitions of RFC 4861 Appendix C, and for unresolved neighbours a bounded queue of packets waiting for
//! the answer. Generic over the queued packet `F` so the stack chooses what it keeps (a frame, its owner).
//!
//! REACHABLE turns STALE lazily: nothing is sent at that moment, so no timer is needed; the entry is read as
//! STALE once its time has passed. Timers are needed for the three states that send something when they end:
//! INCOMPLETE (retransmit or give up), DELAY (first unicast probe) and PROBE (retransmit or forget).

use super::{Draws, NdpConfig, NdpTimer, Timer};
use crate::time::Instant;
use crate::wire::EthernetAddress;
use core::net::Ipv6Addr;
use core::time::Duration;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The purpose of the cache's draws under the NDP seed (ReachableTime randomisation).
const DRAWS_PURPOSE: u64 = 1;

/// RFC 4861 §6.3.4 asks to redraw ReachableTime "at least every few hours" even when the base stays.
const REDRAW_REACHABLE_TIME: Duration = Duration::from_secs(2 * 3600);

/// A neighbour's reachability state (RFC 4861 §7.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NeighbourState {
    Incomplete,
    Reachable,
    Stale,
    Delay,
    Probe,
}

#[derive(Debug)]
enum State<F> {
    /// Address resolution in progress: `sent` multicast solicitations so far, the next one due at `next_at`.
    Incomplete {
        queue: VecDeque<F>,
        sent: u32,
        next_at: Instant,
    },
    /// Confirmed reachable until `until` (then STALE, read lazily).
    Reachable {
        mac: EthernetAddress,
        until: Instant,
    },
    Stale {
        mac: EthernetAddress,
    },
    /// Used while stale: the first unicast probe goes out at `probe_at` unless something confirms it first.
    Delay {
        mac: EthernetAddress,
        probe_at: Instant,
    },
    /// `sent` unicast probes so far, the next one due at `next_at`.
    Probe {
        mac: EthernetAddress,
        sent: u32,
        next_at: Instant,
    },
}

impl<F> State<F> {
    fn mac(&self) -> Option<EthernetAddress> {
        match self {
            State::Incomplete { .. } => None,
            State::Reachable { mac, .. }
            | State::Stale { mac }
            | State::Delay { mac, .. }
            | State::Probe { mac, .. } => Some(*mac),
        }
    }
}

#[derive(Debug)]
struct Entry<F> {
    state: State<F>,
    /// RFC 4861 §7.3.1 IsRouter: when it turns false the router leaves the default router list.
    is_router: bool,
    /// When the entry last got a new state or confirmation: the eviction order of resolved entries.
    touched: Instant,
}

/// Result of [`NeighbourCache::lookup`], when a packet is about to be sent.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// Send to this address.
    Hit(EthernetAddress),
    /// Send to this address, and schedule the timer: the entry was STALE and is now in DELAY.
    Delay(EthernetAddress, Timer),
    /// No address yet: queue the packet with [`NeighbourCache::enqueue`].
    Miss,
}

/// What the caller must do after [`NeighbourCache::enqueue`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Enqueued<F> {
    /// A new INCOMPLETE entry: send a multicast solicitation for the target now and schedule the timer.
    Solicit(Timer),
    /// Queued behind a solicitation already in flight.
    Waiting,
    /// Queued, and the oldest packet waiting for this neighbour dropped to make room (RFC 4861 §7.2.2).
    Displaced(F),
    /// Not queued (every other entry is INCOMPLETE and the cache is full, or nothing waits for this neighbour
    /// and all queues together are full): the packet is handed back.
    Full(F),
    /// The neighbour has an address after all: send the packet to it (and schedule the timer if one is given:
    /// it was stale and is now in DELAY).
    Ready(F, EthernetAddress, Option<Timer>),
}

/// The flags of a received Neighbor Advertisement (RFC 4861 §4.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AdvertFlags {
    /// R: the sender is a router.
    pub router: bool,
    /// S: sent in answer to a solicitation (so it confirms reachability).
    pub solicited: bool,
    /// O: its link-layer address should replace a cached one.
    pub override_: bool,
}

/// The effect of a received message on the cache.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Learned<F> {
    /// Packets that were waiting for this neighbour, oldest first: give them the link-layer address that came
    /// with the message and transmit them.
    pub flush: VecDeque<F>,
    /// The neighbour's IsRouter flag went from true to false (RFC 4861 §7.2.5): remove it from the default
    /// router list.
    pub stopped_routing: bool,
}

impl<F> Default for Learned<F> {
    fn default() -> Self {
        Learned { flush: VecDeque::new(), stopped_routing: false }
    }
}

/// What the caller must do when a neighbour's timer fires ([`NeighbourCache::on_timer`]).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Timeout<F> {
    /// Still unresolved: send another multicast solicitation for the target and schedule the timer.
    SendMulticast(Timer),
    /// Probing: send a unicast solicitation to the target at this address and schedule the timer.
    SendUnicast(EthernetAddress, Timer),
    /// Resolution failed and the entry is gone: these packets are lost (tell their owners, as ARP's GiveUp).
    GiveUp(VecDeque<F>),
    /// Probes went unanswered and the entry is gone. `was_router`: the router is no longer probably reachable,
    /// so default router selection should move on ([`super::router::RouterList::on_neighbour_lost`]).
    Forgotten { was_router: bool },
    /// The state moved on meanwhile (a stale timer).
    Nothing,
}

#[derive(Debug)]
pub(crate) struct NeighbourCache<F> {
    config: NdpConfig,
    entries: BTreeMap<Ipv6Addr, Entry<F>>,
    /// Resolved entries by `touched`, so the one to evict when full is found without a scan.
    by_touch: BTreeSet<(Instant, Ipv6Addr)>,
    /// Packets queued across all INCOMPLETE entries.
    pending_total: usize,
    /// RFC 4861 §6.3.2 ReachableTime, drawn from the base at `drawn_at`.
    reachable_time: Duration,
    drawn_at: Instant,
    draws: Draws,
}

impl<F> NeighbourCache<F> {
    /// `ndp_seed` is the stack's NDP seed (see [`super::SEED_PURPOSE`]).
    pub(crate) fn new(config: NdpConfig, ndp_seed: u64, now: Instant) -> NeighbourCache<F> {
        let mut draws = Draws::new(ndp_seed, DRAWS_PURPOSE);
        let reachable_time = draws.reachable_time(config.base_reachable_time);
        NeighbourCache {
            config,
            entries: BTreeMap::new(),
            by_touch: BTreeSet::new(),
            pending_total: 0,
            reachable_time,
            drawn_at: now,
            draws,
        }
    }

    /// The current ReachableTime (random, around the base).
    pub(crate) fn reachable_time(&self) -> Duration {
        self.reachable_time
    }

    pub(crate) fn retrans_timer(&self) -> Duration {
        self.config.retrans_timer
    }

    /// A router advertised a BaseReachableTime (RFC 4861 §6.3.4): a new one is drawn when it differs.
    pub(crate) fn set_base_reachable_time(&mut self, base: Duration, now: Instant) {
        if base != self.config.base_reachable_time && !base.is_zero() {
            self.config.base_reachable_time = base;
            self.redraw(now);
        }
    }

    /// A router advertised a RetransTimer (RFC 4861 §6.3.4).
    pub(crate) fn set_retrans_timer(&mut self, retrans: Duration) {
        if !retrans.is_zero() {
            self.config.retrans_timer = retrans;
        }
    }

    fn redraw(&mut self, now: Instant) {
        self.reachable_time = self.draws.reachable_time(self.config.base_reachable_time);
        self.drawn_at = now;
    }

    /// The end of a reachability confirmed at `now`.
    fn reachable_until(&mut self, now: Instant) -> Instant {
        if now.saturating_duration_since(self.drawn_at) >= REDRAW_REACHABLE_TIME {
            self.redraw(now);
        }
        now + self.reachable_time
    }

    /// The neighbour's state and link-layer address as of `now`, if it has an entry.
    pub(crate) fn state(&self, ip: Ipv6Addr, now: Instant) -> Option<(NeighbourState, Option<EthernetAddress>)> {
        let entry = self.entries.get(&ip)?;
        let state = match entry.state {
            State::Incomplete { .. } => NeighbourState::Incomplete,
            State::Reachable { until, .. } if until > now => NeighbourState::Reachable,
            State::Reachable { .. } | State::Stale { .. } => NeighbourState::Stale,
            State::Delay { .. } => NeighbourState::Delay,
            State::Probe { .. } => NeighbourState::Probe,
        };
        Some((state, entry.state.mac()))
    }

    /// The neighbour's link-layer address and the end of its reachability, if it is REACHABLE at `now` (a
    /// lookup then changes nothing until that time).
    pub(crate) fn reachable(&self, ip: Ipv6Addr, now: Instant) -> Option<(EthernetAddress, Instant)> {
        match self.entries.get(&ip)?.state {
            State::Reachable { mac, until } if until > now => Some((mac, until)),
            _ => None,
        }
    }

    /// RFC 4861 §6.3.6: a router is preferred when "reachable or probably reachable", any state but INCOMPLETE.
    pub(crate) fn is_probably_reachable(&self, ip: Ipv6Addr) -> bool {
        self.entries.get(&ip).is_some_and(|e| e.state.mac().is_some())
    }

    pub(crate) fn is_router(&self, ip: Ipv6Addr) -> bool {
        self.entries.get(&ip).is_some_and(|e| e.is_router)
    }

    /// Packets waiting across all neighbours.
    pub(crate) fn pending_total(&self) -> usize {
        self.pending_total
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The neighbour's address for a packet about to be sent (Appendix C: "STALE, sending packet → DELAY").
    pub(crate) fn lookup(&mut self, ip: Ipv6Addr, now: Instant) -> Lookup {
        let delay = self.config.delay_first_probe_time;
        let Some(entry) = self.entries.get_mut(&ip) else { return Lookup::Miss };
        match entry.state {
            State::Incomplete { .. } => Lookup::Miss,
            State::Reachable { mac, until } if until > now => Lookup::Hit(mac),
            State::Delay { mac, .. } | State::Probe { mac, .. } => Lookup::Hit(mac),
            State::Reachable { mac, .. } | State::Stale { mac } => {
                let probe_at = now + delay;
                entry.state = State::Delay { mac, probe_at };
                Lookup::Delay(mac, Timer { at: probe_at, key: NdpTimer::Neighbour(ip) })
            }
        }
    }

    /// Queues `packet` until `ip` resolves (Appendix C: "packet to send, no entry → INCOMPLETE").
    pub(crate) fn enqueue(&mut self, ip: Ipv6Addr, packet: F, now: Instant) -> Enqueued<F> {
        let max_frames = self.config.max_pending_frames;
        let total_full = self.pending_total >= self.config.max_pending_total;
        match self.entries.get_mut(&ip).map(|e| &mut e.state) {
            Some(State::Incomplete { queue, .. }) => {
                if queue.len() >= max_frames || total_full {
                    match queue.pop_front() {
                        Some(oldest) => {
                            queue.push_back(packet);
                            Enqueued::Displaced(oldest)
                        }
                        None => Enqueued::Full(packet),
                    }
                } else {
                    queue.push_back(packet);
                    self.pending_total += 1;
                    Enqueued::Waiting
                }
            }
            Some(_) => match self.lookup(ip, now) {
                Lookup::Hit(mac) => Enqueued::Ready(packet, mac, None),
                Lookup::Delay(mac, timer) => Enqueued::Ready(packet, mac, Some(timer)),
                Lookup::Miss => Enqueued::Full(packet), // not reached: the entry has an address
            },
            None => {
                if total_full || !self.make_room() {
                    return Enqueued::Full(packet);
                }
                let next_at = now + self.config.retrans_timer;
                let state = State::Incomplete { queue: VecDeque::from([packet]), sent: 1, next_at };
                self.entries.insert(ip, Entry { state, is_router: false, touched: now });
                self.pending_total += 1;
                Enqueued::Solicit(Timer { at: next_at, key: NdpTimer::Neighbour(ip) })
            }
        }
    }

    /// A Neighbor Advertisement for `target` arrived (RFC 4861 §7.2.5), with its target link-layer address
    /// option if it had one. The caller has validated it (§7.1.2) and checked that `target` is not one of our
    /// own addresses (that is duplicate address detection's business).
    pub(crate) fn on_advertisement(
        &mut self,
        target: Ipv6Addr,
        tlla: Option<EthernetAddress>,
        flags: AdvertFlags,
        now: Instant,
    ) -> Learned<F> {
        let reachable_until = self.reachable_until(now);
        let Some(entry) = self.entries.get_mut(&target) else {
            return Learned::default(); // no entry: silently discarded
        };
        let cached = match &mut entry.state {
            State::Incomplete { queue, .. } => {
                // Without the link-layer address there is nothing to resolve with: discarded.
                let Some(mac) = tlla else { return Learned::default() };
                let flush = core::mem::take(queue);
                self.pending_total -= flush.len();
                entry.state = if flags.solicited {
                    State::Reachable { mac, until: reachable_until }
                } else {
                    State::Stale { mac }
                };
                let stopped_routing = entry.is_router && !flags.router;
                entry.is_router = flags.router;
                self.retouch(target, now);
                return Learned { flush, stopped_routing };
            }
            state => state.mac().unwrap_or_default(),
        };
        let differs = tlla.is_some_and(|mac| mac != cached);
        if differs && !flags.override_ {
            // Appendix C: a solicited (or unsolicited) NA that does not override a different address only
            // makes a REACHABLE entry STALE; otherwise it is ignored and MUST NOT update the cache.
            if matches!(entry.state, State::Reachable { until, .. } if until > now) {
                entry.state = State::Stale { mac: cached };
                self.retouch(target, now);
            }
            return Learned::default();
        }
        let mac = if differs { tlla.unwrap_or(cached) } else { cached };
        if flags.solicited {
            entry.state = State::Reachable { mac, until: reachable_until };
        } else if differs {
            entry.state = State::Stale { mac };
        }
        let stopped_routing = entry.is_router && !flags.router;
        entry.is_router = flags.router;
        if flags.solicited || differs {
            self.retouch(target, now);
        }
        Learned { flush: VecDeque::new(), stopped_routing }
    }

    /// A message told us `ip`'s link-layer address without confirming reachability: a Neighbor Solicitation
    /// from a unicast source with a source link-layer address option (§7.2.3), a Router Advertisement with one
    /// (§6.3.4, `router` true), or a Redirect's target option (§8.3, `router` true when target ≠ destination).
    /// Appendix C: no entry → create STALE; INCOMPLETE → STALE and flush; a different address → STALE; the same
    /// → unchanged. `router` only ever sets IsRouter (these messages cannot say "not a router").
    pub(crate) fn on_link_layer_address(
        &mut self,
        ip: Ipv6Addr,
        mac: EthernetAddress,
        router: bool,
        now: Instant,
    ) -> Learned<F> {
        let Some(entry) = self.entries.get_mut(&ip) else {
            if self.make_room() {
                self.entries.insert(ip, Entry { state: State::Stale { mac }, is_router: router, touched: now });
                self.by_touch.insert((now, ip));
            }
            return Learned::default();
        };
        entry.is_router |= router;
        match &mut entry.state {
            State::Incomplete { queue, .. } => {
                let flush = core::mem::take(queue);
                self.pending_total -= flush.len();
                entry.state = State::Stale { mac };
                self.retouch(ip, now);
                Learned { flush, stopped_routing: false }
            }
            state if state.mac() != Some(mac) => {
                entry.state = State::Stale { mac };
                self.retouch(ip, now);
                Learned::default()
            }
            _ => Learned::default(),
        }
    }

    /// A Router Advertisement without a source link-layer address option came from `ip` (§6.3.4): an existing
    /// entry's IsRouter becomes true; no entry is created.
    pub(crate) fn mark_router(&mut self, ip: Ipv6Addr) {
        if let Some(entry) = self.entries.get_mut(&ip) {
            entry.is_router = true;
        }
    }

    /// Upper-layer reachability confirmation (§7.3.1), e.g. TCP saw new data acknowledged: any entry with an
    /// address becomes REACHABLE. Never creates an entry.
    pub(crate) fn confirm(&mut self, ip: Ipv6Addr, now: Instant) {
        let until = self.reachable_until(now);
        let Some(entry) = self.entries.get_mut(&ip) else { return };
        if let Some(mac) = entry.state.mac() {
            entry.state = State::Reachable { mac, until };
            self.retouch(ip, now);
        }
    }

    /// The neighbour's timer fired (Appendix C: retransmit timeouts of INCOMPLETE and PROBE, delay timeout).
    pub(crate) fn on_timer(&mut self, ip: Ipv6Addr, now: Instant) -> Timeout<F> {
        let retrans = self.config.retrans_timer;
        let (max_multicast, max_unicast) = (self.config.max_multicast_solicit, self.config.max_unicast_solicit);
        let Some(entry) = self.entries.get_mut(&ip) else { return Timeout::Nothing };
        let timer = Timer { at: now + retrans, key: NdpTimer::Neighbour(ip) };
        match &mut entry.state {
            State::Incomplete { sent, next_at, .. } if *next_at <= now => {
                if *sent < max_multicast {
                    *sent += 1;
                    *next_at = timer.at;
                    return Timeout::SendMulticast(timer);
                }
                match self.remove(ip) {
                    Some(Entry { state: State::Incomplete { queue, .. }, .. }) => Timeout::GiveUp(queue),
                    _ => Timeout::Nothing,
                }
            }
            State::Delay { mac, probe_at } if *probe_at <= now => {
                let mac = *mac;
                entry.state = State::Probe { mac, sent: 1, next_at: timer.at };
                Timeout::SendUnicast(mac, timer)
            }
            State::Probe { mac, sent, next_at } if *next_at <= now => {
                if *sent < max_unicast {
                    *sent += 1;
                    *next_at = timer.at;
                    return Timeout::SendUnicast(*mac, timer);
                }
                let was_router = entry.is_router;
                self.remove(ip);
                Timeout::Forgotten { was_router }
            }
            _ => Timeout::Nothing,
        }
    }

    fn remove(&mut self, ip: Ipv6Addr) -> Option<Entry<F>> {
        let entry = self.entries.remove(&ip)?;
        match &entry.state {
            State::Incomplete { queue, .. } => self.pending_total -= queue.len(),
            _ => {
                self.by_touch.remove(&(entry.touched, ip));
            }
        }
        Some(entry)
    }

    /// Moves a resolved entry to the young end of the eviction order.
    fn retouch(&mut self, ip: Ipv6Addr, now: Instant) {
        if let Some(entry) = self.entries.get_mut(&ip) {
            self.by_touch.remove(&(entry.touched, ip));
            entry.touched = now;
            self.by_touch.insert((now, ip));
        }
    }

    /// Ensures one free slot, evicting the resolved entry updated longest ago (ties: the lowest address).
    /// False if every entry is INCOMPLETE.
    fn make_room(&mut self) -> bool {
        if self.entries.len() < self.config.max_entries {
            return true;
        }
        match self.by_touch.pop_first() {
            Some((_, victim)) => {
                self.entries.remove(&victim);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
