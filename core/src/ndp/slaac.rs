//! Our own IPv6 addresses (RFC 4862): the link-local address formed from the MAC (modified EUI-64, RFC 4291
//! Appendix A), configured addresses, addresses formed from advertised prefixes, duplicate address detection
//! (tentative → preferred, or duplicate), preferred and valid lifetimes (preferred → deprecated → gone), and
//! the choice of a source address for a destination (RFC 6724 §5, simplified).

use super::router::PrefixInfo;
use super::{lifetime_deadline, mask, Draws, NdpConfig, NdpTimer, Timer};
use crate::time::Instant;
use crate::wire::ipv6::is_link_local;
use crate::wire::EthernetAddress;
use core::cmp::Ordering;
use core::net::Ipv6Addr;
use core::time::Duration;
use std::collections::BTreeMap;

/// The purpose of the address list's draws under the NDP seed (the delay before a first DAD probe).
const DRAWS_PURPOSE: u64 = 3;

/// RFC 4862 §5.5.3 e): an advertisement cannot cut an address's remaining valid lifetime below two hours (so
/// a forged one cannot take addresses away quickly).
const TWO_HOURS: Duration = Duration::from_secs(2 * 3600);

/// The modified EUI-64 interface identifier of a MAC (RFC 4291 Appendix A): ff:fe in the middle, and the
/// universal/local bit inverted.
pub(crate) fn interface_id(mac: EthernetAddress) -> [u8; 8] {
    let m = mac.0;
    [m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]
}

/// The /64 `prefix` with the interface identifier `iid` as its low 64 bits.
pub(crate) fn with_interface_id(prefix: Ipv6Addr, iid: [u8; 8]) -> Ipv6Addr {
    let mut o = mask(prefix, 64).octets();
    o[8..].copy_from_slice(&iid);
    Ipv6Addr::from(o)
}

/// The link-local address of a MAC (RFC 4862 §5.3): fe80::/64 and the modified EUI-64.
pub(crate) fn link_local(mac: EthernetAddress) -> Ipv6Addr {
    with_interface_id(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), interface_id(mac))
}

/// An address's state (RFC 4862 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum AddressState {
    /// Duplicate address detection is running: not ours yet, used for nothing.
    Tentative,
    /// Ours, for any communication.
    Preferred,
    /// Ours, but its preferred lifetime ended: existing communication only, a source only when nothing else
    /// fits.
    Deprecated,
    /// Another node has it: never used.
    Duplicate,
}

/// Where an address came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Formed from our MAC.
    LinkLocal,
    /// From the configuration: lives forever.
    Configured,
    /// Formed from a prefix a router advertised (RFC 4862 §5.5.3).
    Autoconf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dad {
    /// `sent` probes so far; the next step is due at `next_at`.
    Tentative {
        sent: u32,
        next_at: Instant,
    },
    Done,
    Duplicate,
}

#[derive(Clone, Copy, Debug)]
struct Address {
    prefix_len: u8,
    origin: Origin,
    dad: Dad,
    preferred_until: Instant,
    valid_until: Instant,
    /// The end of its preferred lifetime has been reported (once per preferred lifetime).
    deprecation_told: bool,
}

/// One of our addresses as [`AddressList::addresses`] shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AddressInfo {
    pub addr: Ipv6Addr,
    pub prefix_len: u8,
    pub origin: Origin,
    pub state: AddressState,
    /// [`Instant::MAX`]: infinite.
    pub preferred_until: Instant,
    pub valid_until: Instant,
}

/// Why an address was not added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AddError {
    /// Multicast, unspecified or loopback: not an interface address.
    NotUnicast,
    AlreadyPresent,
    /// `max_addresses` reached.
    Full,
}

/// The next step of duplicate address detection ([`AddressList::on_dad_timer`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DadStep {
    /// Send a Neighbor Solicitation for `target` from the unspecified address to its solicited-node group
    /// ([`crate::wire::ipv6::solicited_node`]), without a source link-layer address option, and schedule the timer.
    SendProbe { target: Ipv6Addr, timer: Timer },
    /// No one objected: the address is ours now (the stack may announce it with an unsolicited NA).
    Assigned(Ipv6Addr),
    /// Not tentative any more, or not due (a stale timer).
    Nothing,
}

/// What a received Neighbor Solicitation for one of our addresses means (RFC 4862 §5.4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SolicitationVerdict {
    /// The target is an address of ours: answer it (RFC 4861 §7.2.4).
    Answer,
    /// The target is tentative and the sender resolves it: silently discarded.
    Discard,
    /// Another node is checking the same tentative address: it is a duplicate now (see [`Duplicate`]).
    Duplicate(Duplicate),
    /// Not about our addresses: for the neighbour cache only.
    NotOurs,
}

/// A tentative address turned out to be someone else's (RFC 4862 §5.4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Duplicate {
    pub addr: Ipv6Addr,
    /// It was the link-local address formed from our MAC, so every address formed from the MAC would collide
    /// too: "IP operation on the interface SHOULD be disabled".
    pub from_mac: bool,
}

/// What a received Neighbor Advertisement for one of our addresses means (RFC 4862 §5.4.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AdvertVerdict {
    /// Someone answered for a tentative address: it is a duplicate.
    Duplicate(Duplicate),
    /// Someone claims an address that passed DAD and is ours: worth a log line, nothing more (§5.4.4).
    Conflict(Ipv6Addr),
    /// Not about our addresses: for the neighbour cache.
    NotOurs,
}

/// Why a prefix formed no address, or what it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PrefixOutcome {
    /// A new tentative address, with its timers to schedule.
    Formed(Ipv6Addr, Vec<Timer>),
    /// The lifetimes of the address formed from this prefix were updated; schedule the timer if one is given.
    Updated(Ipv6Addr, Option<Timer>),
    /// Nothing formed or changed, with the rule that says so.
    Ignored(&'static str),
}

/// What a lifetime timer did ([`AddressList::on_lifetime_timer`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LifetimeEvent {
    /// The preferred lifetime ended: no new communication should start from it. Schedule the timer (valid
    /// lifetime's end) if one is given.
    Deprecated(Ipv6Addr, Option<Timer>),
    /// The valid lifetime ended: the address is gone (connections using it can no longer work).
    Removed(Ipv6Addr),
    Nothing,
}

/// Our addresses on the interface.
#[derive(Debug)]
pub(crate) struct AddressList {
    dad_transmits: u32,
    retrans_timer: Duration,
    max_delay: Duration,
    max_addresses: usize,
    autoconf: bool,
    iid: [u8; 8],
    mac: EthernetAddress,
    entries: BTreeMap<Ipv6Addr, Address>,
    draws: Draws,
}

impl AddressList {
    pub(crate) fn new(config: &NdpConfig, mac: EthernetAddress, ndp_seed: u64) -> AddressList {
        AddressList {
            dad_transmits: config.dup_addr_detect_transmits,
            retrans_timer: config.retrans_timer,
            max_delay: config.max_rtr_solicitation_delay,
            max_addresses: config.max_addresses,
            autoconf: config.autoconf,
            iid: interface_id(mac),
            mac,
            entries: BTreeMap::new(),
            draws: Draws::new(ndp_seed, DRAWS_PURPOSE),
        }
    }

    /// A router advertised a RetransTimer: later DAD probes are spaced by it.
    pub(crate) fn set_retrans_timer(&mut self, retrans: Duration) {
        if !retrans.is_zero() {
            self.retrans_timer = retrans;
        }
    }

    /// Adds the link-local address formed from the MAC (RFC 4862 §5.3), tentative.
    pub(crate) fn add_link_local(&mut self, now: Instant) -> Result<Vec<Timer>, AddError> {
        self.add(link_local(self.mac), 64, Origin::LinkLocal, Instant::MAX, Instant::MAX, now)
    }

    /// Adds a configured address, tentative; it never expires.
    pub(crate) fn add_configured(
        &mut self,
        addr: Ipv6Addr,
        prefix_len: u8,
        now: Instant,
    ) -> Result<Vec<Timer>, AddError> {
        self.add(addr, prefix_len.min(128), Origin::Configured, Instant::MAX, Instant::MAX, now)
    }

    /// Adds an address, tentative unless DAD is off. The timers: the first DAD step (after a random delay
    /// below MAX_RTR_SOLICITATION_DELAY, RFC 4862 §5.4.2) and the end of a finite lifetime.
    fn add(
        &mut self,
        addr: Ipv6Addr,
        prefix_len: u8,
        origin: Origin,
        preferred_until: Instant,
        valid_until: Instant,
        now: Instant,
    ) -> Result<Vec<Timer>, AddError> {
        if addr.is_multicast() || addr.is_unspecified() || addr.is_loopback() {
            return Err(AddError::NotUnicast);
        }
        if self.entries.contains_key(&addr) {
            return Err(AddError::AlreadyPresent);
        }
        if self.entries.len() >= self.max_addresses {
            return Err(AddError::Full);
        }
        let mut timers = Vec::new();
        let dad = if self.dad_transmits == 0 {
            Dad::Done
        } else {
            let next_at = now + self.draws.below(self.max_delay);
            timers.push(Timer { at: next_at, key: NdpTimer::Dad(addr) });
            Dad::Tentative { sent: 0, next_at }
        };
        let entry = Address { prefix_len, origin, dad, preferred_until, valid_until, deprecation_told: false };
        self.entries.insert(addr, entry);
        timers.extend(self.lifetime_timer(addr, now));
        Ok(timers)
    }

    /// The timer for the next lifetime boundary of `addr`, if it is finite.
    fn lifetime_timer(&self, addr: Ipv6Addr, now: Instant) -> Option<Timer> {
        let a = self.entries.get(&addr)?;
        // The end of the preferred lifetime until it has been reported (even if already past: then at once).
        let next = if a.deprecation_told { a.valid_until } else { a.preferred_until.max(now) };
        (next != Instant::MAX).then_some(Timer { at: next, key: NdpTimer::AddressLifetime(addr) })
    }

    /// The DAD timer of `addr` fired (RFC 4862 §5.4.2): probe again or declare it ours.
    pub(crate) fn on_dad_timer(&mut self, addr: Ipv6Addr, now: Instant) -> DadStep {
        let (transmits, retrans) = (self.dad_transmits, self.retrans_timer);
        let Some(a) = self.entries.get_mut(&addr) else { return DadStep::Nothing };
        match &mut a.dad {
            Dad::Tentative { sent, next_at } if *next_at <= now => {
                if *sent < transmits {
                    *sent += 1;
                    *next_at = now + retrans;
                    return DadStep::SendProbe {
                        target: addr,
                        timer: Timer { at: *next_at, key: NdpTimer::Dad(addr) },
                    };
                }
                a.dad = Dad::Done;
                DadStep::Assigned(addr)
            }
            _ => DadStep::Nothing,
        }
    }

    fn mark_duplicate(&mut self, addr: Ipv6Addr) -> Option<Duplicate> {
        let a = self.entries.get_mut(&addr)?;
        a.dad = Dad::Duplicate;
        Some(Duplicate { addr, from_mac: a.origin == Origin::LinkLocal })
    }

    /// A valid Neighbor Solicitation for `target` arrived; `from_unspecified` if its source is :: (a DAD probe).
    pub(crate) fn on_solicitation(
        &mut self,
        target: Ipv6Addr,
        from_unspecified: bool,
        now: Instant,
    ) -> SolicitationVerdict {
        match self.state(target, now) {
            Some(AddressState::Tentative) if from_unspecified => {
                self.mark_duplicate(target).map_or(SolicitationVerdict::NotOurs, SolicitationVerdict::Duplicate)
            }
            Some(AddressState::Tentative) => SolicitationVerdict::Discard,
            Some(AddressState::Preferred | AddressState::Deprecated) => SolicitationVerdict::Answer,
            Some(AddressState::Duplicate) | None => SolicitationVerdict::NotOurs,
        }
    }

    /// A valid Neighbor Advertisement for `target` arrived.
    pub(crate) fn on_advertisement(&mut self, target: Ipv6Addr, now: Instant) -> AdvertVerdict {
        match self.state(target, now) {
            Some(AddressState::Tentative) => {
                self.mark_duplicate(target).map_or(AdvertVerdict::NotOurs, AdvertVerdict::Duplicate)
            }
            Some(AddressState::Preferred | AddressState::Deprecated) => AdvertVerdict::Conflict(target),
            Some(AddressState::Duplicate) | None => AdvertVerdict::NotOurs,
        }
    }

    /// A Prefix Information option of a valid Router Advertisement (RFC 4862 §5.5.3).
    pub(crate) fn on_prefix(&mut self, info: &PrefixInfo, now: Instant) -> PrefixOutcome {
        if !self.autoconf {
            return PrefixOutcome::Ignored("autoconfiguration is off");
        }
        if !info.autonomous {
            return PrefixOutcome::Ignored("a) autonomous flag clear");
        }
        if is_link_local(&info.prefix) {
            return PrefixOutcome::Ignored("b) link-local prefix");
        }
        if info.preferred_lifetime > info.valid_lifetime {
            return PrefixOutcome::Ignored("c) preferred lifetime above valid lifetime");
        }
        if info.prefix_len != 64 {
            // RFC 4862 §5.5.3 d): prefix length plus interface identifier length (64 on Ethernet) must be 128.
            return PrefixOutcome::Ignored("d) prefix length is not 64");
        }
        let addr = with_interface_id(info.prefix, self.iid);
        let preferred_until = lifetime_deadline(now, info.preferred_lifetime);
        let received_valid = lifetime_deadline(now, info.valid_lifetime);
        match self.entries.get_mut(&addr) {
            Some(a) if a.origin == Origin::Autoconf => {
                // e) the address exists: refresh its lifetimes.
                a.preferred_until = preferred_until;
                if preferred_until > now {
                    a.deprecation_told = false;
                }
                let remaining = a.valid_until.saturating_duration_since(now);
                let received = Duration::from_secs(u64::from(info.valid_lifetime));
                if info.valid_lifetime == u32::MAX || received > TWO_HOURS || received_valid > a.valid_until {
                    a.valid_until = received_valid;
                } else if a.valid_until != Instant::MAX && remaining <= TWO_HOURS {
                    // Left as it is: no unauthenticated advertisement shortens it further.
                } else {
                    a.valid_until = now + TWO_HOURS;
                }
                PrefixOutcome::Updated(addr, self.lifetime_timer(addr, now))
            }
            Some(_) => PrefixOutcome::Ignored("d) the address is already configured otherwise"),
            None if info.valid_lifetime == 0 => PrefixOutcome::Ignored("d) valid lifetime 0"),
            None => match self.add(addr, 64, Origin::Autoconf, preferred_until, received_valid, now) {
                Ok(timers) => PrefixOutcome::Formed(addr, timers),
                Err(AddError::Full) => PrefixOutcome::Ignored("address list full"),
                Err(_) => PrefixOutcome::Ignored("not a unicast address"),
            },
        }
    }

    /// The lifetime timer of `addr` fired (RFC 4862 §5.5.4).
    pub(crate) fn on_lifetime_timer(&mut self, addr: Ipv6Addr, now: Instant) -> LifetimeEvent {
        let Some(a) = self.entries.get_mut(&addr) else { return LifetimeEvent::Nothing };
        if a.valid_until <= now {
            self.entries.remove(&addr);
            return LifetimeEvent::Removed(addr);
        }
        if a.preferred_until <= now && !a.deprecation_told {
            a.deprecation_told = true;
            let timer = (a.valid_until != Instant::MAX)
                .then_some(Timer { at: a.valid_until, key: NdpTimer::AddressLifetime(addr) });
            return LifetimeEvent::Deprecated(addr, timer);
        }
        LifetimeEvent::Nothing
    }

    /// The state of `addr` as of `now`; `None` if it is not one of ours (or its valid lifetime is over).
    pub(crate) fn state(&self, addr: Ipv6Addr, now: Instant) -> Option<AddressState> {
        let a = self.entries.get(&addr)?;
        Some(match a.dad {
            Dad::Duplicate => AddressState::Duplicate,
            _ if a.valid_until <= now => return None,
            Dad::Tentative { .. } => AddressState::Tentative,
            Dad::Done if a.preferred_until <= now => AddressState::Deprecated,
            Dad::Done => AddressState::Preferred,
        })
    }

    /// Packets to `addr` are for us: it is preferred or deprecated (RFC 4862 §5.4: a tentative address does
    /// not receive, except the ND messages of its own detection).
    pub(crate) fn is_assigned(&self, addr: Ipv6Addr, now: Instant) -> bool {
        matches!(self.state(addr, now), Some(AddressState::Preferred | AddressState::Deprecated))
    }

    /// Is `group` the solicited-node group of an address of ours (tentative ones included: DAD must hear the
    /// probes of others)?
    pub(crate) fn has_solicited_node(&self, group: Ipv6Addr, now: Instant) -> bool {
        self.entries
            .keys()
            .any(|addr| crate::wire::ipv6::solicited_node(addr) == group && self.state(*addr, now).is_some())
    }

    /// Every address (duplicates included, expired ones not), lowest first.
    pub(crate) fn addresses(&self, now: Instant) -> Vec<AddressInfo> {
        self.entries
            .iter()
            .filter_map(|(addr, a)| {
                let state = self.state(*addr, now)?;
                Some(AddressInfo {
                    addr: *addr,
                    prefix_len: a.prefix_len,
                    origin: a.origin,
                    state,
                    preferred_until: a.preferred_until,
                    valid_until: a.valid_until,
                })
            })
            .collect()
    }

    /// The source address for packets to `dst` (RFC 6724 §5 rules 1, 2, 3 and 8, then the lowest address):
    /// never a tentative or duplicate one. `None`: no address can be used.
    pub(crate) fn source_for(&self, dst: Ipv6Addr, now: Instant) -> Option<Ipv6Addr> {
        let candidates = self.entries.iter().filter_map(|(addr, a)| {
            let state = self.state(*addr, now)?;
            let usable = matches!(state, AddressState::Preferred | AddressState::Deprecated);
            usable.then_some((*addr, a.prefix_len, state == AddressState::Deprecated))
        });
        candidates.min_by(|a, b| compare_sources(*a, *b, dst)).map(|(addr, _, _)| addr)
    }
}

/// RFC 6724 §3.1 scope of an address: multicast scope from its header, link-local (and loopback) 2, global 14.
fn scope(addr: Ipv6Addr) -> u8 {
    if addr.is_multicast() {
        addr.octets()[1] & 0x0f
    } else if is_link_local(&addr) || addr.is_loopback() {
        2
    } else {
        14
    }
}

/// Orders candidate sources `(address, prefix length, deprecated)` for `dst`: `Less` prefers `a`.
fn compare_sources(a: (Ipv6Addr, u8, bool), b: (Ipv6Addr, u8, bool), dst: Ipv6Addr) -> Ordering {
    // Rule 1: prefer the destination itself.
    if a.0 == dst || b.0 == dst {
        return (b.0 == dst).cmp(&(a.0 == dst));
    }
    // Rule 2: prefer the appropriate scope: the smallest at least the destination's, else the largest.
    let (sa, sb, sd) = (scope(a.0), scope(b.0), scope(dst));
    if sa != sb {
        let a_better = if sa < sb { sa >= sd } else { sb < sd };
        return if a_better { Ordering::Less } else { Ordering::Greater };
    }
    // Rule 3: avoid deprecated addresses.
    if a.2 != b.2 {
        return a.2.cmp(&b.2);
    }
    // Rule 8: the longest matching prefix (within the source's prefix).
    let common = |s: (Ipv6Addr, u8, bool)| (u128::from(s.0) ^ u128::from(dst)).leading_zeros().min(u32::from(s.1));
    common(b).cmp(&common(a)).then(a.0.cmp(&b.0))
}

#[cfg(test)]
#[path = "slaac_tests.rs"]
mod tests;
