//! IPv6 neighbour discovery (RFC 4861) and stateless address autoconfiguration (RFC 4862) as pure state: the
//! IPv6 twin of `arp.rs`. Nothing here builds or parses a frame. Each part takes what the stack read from a
//! message and answers with what to send and which [`NdpTimer`] to schedule; the stack turns that into frames.
//!
//! - [`cache`]: the neighbour cache (INCOMPLETE, REACHABLE, STALE, DELAY, PROBE) with its queues of packets.
//! - [`router`]: the default router list, the prefix list, next-hop determination and router solicitation.
//! - [`slaac`]: our own addresses: link-local from the MAC, from RA prefixes, duplicate address detection,
//!   lifetimes and source address selection.
//! - [`config`]: [`NdpConfig`], the RFC constants as settings, with bounds.
//! - [`host`]: the three as one unit for the stack: messages and timers in, [`host::NdAction`]s out.

pub(crate) mod cache;
pub mod config;
pub(crate) mod host;
pub(crate) mod router;
pub(crate) mod slaac;

pub use config::{NdpConfig, NdpConfigError};

use crate::seed::derive_seed;
use crate::time::Instant;
use core::net::Ipv6Addr;
use core::time::Duration;

/// What an NDP timer is for. The stack schedules `TimerKey::Ndp(timer)` at [`Timer::at`] and hands it back
/// when it fires; as with ARP, the owner re-checks its own state, so a timer made stale by a later event is
/// harmless and nothing is ever cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum NdpTimer {
    /// A neighbour's retransmission or delay timer ([`cache::NeighbourCache::on_timer`]).
    Neighbour(Ipv6Addr),
    /// The next duplicate address detection step of a tentative address ([`slaac::AddressList::on_dad_timer`]).
    Dad(Ipv6Addr),
    /// An address's preferred or valid lifetime ends ([`slaac::AddressList::on_lifetime_timer`]).
    AddressLifetime(Ipv6Addr),
    /// The next router solicitation ([`router::RouterSolicitor::on_timer`]).
    RouterSolicit,
}

/// "Call me back at `at` with `key`."
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Timer {
    pub at: Instant,
    pub key: NdpTimer,
}

/// The purpose number under which the stack derives NDP's seed from `Config::seed` (see [`crate::seed`]):
/// `Ndp` parts get `derive_seed(config.seed, SEED_PURPOSE)` (purposes 1 to 6 are taken).
pub(crate) const SEED_PURPOSE: u64 = 7;

/// A deterministic stream of draws: the `n`th draw is `derive_seed(seed, n)`. Each part of NDP owns one, from
/// its own purpose, so a draw in one part never shifts the draws of another.
#[derive(Clone, Debug)]
pub(crate) struct Draws {
    seed: u64,
    count: u64,
}

impl Draws {
    /// The stream of `purpose` under the NDP seed.
    pub(crate) fn new(ndp_seed: u64, purpose: u64) -> Draws {
        Draws { seed: derive_seed(ndp_seed, purpose), count: 0 }
    }

    fn next_u64(&mut self) -> u64 {
        self.count += 1;
        derive_seed(self.seed, self.count)
    }

    /// Uniform in `[0, max)` (zero if `max` is zero), to the nanosecond.
    pub(crate) fn below(&mut self, max: Duration) -> Duration {
        let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
        let scaled = (u128::from(self.next_u64()) * u128::from(nanos)) >> 64;
        Duration::from_nanos(scaled as u64)
    }

    /// RFC 4861 §6.3.2 ReachableTime: uniform between MIN_RANDOM_FACTOR (0.5) and MAX_RANDOM_FACTOR (1.5)
    /// times `base`.
    pub(crate) fn reachable_time(&mut self, base: Duration) -> Duration {
        base / 2 + self.below(base)
    }
}

/// `addr` with every bit past the first `len` cleared (`len` above 128 keeps all).
pub(crate) fn mask(addr: Ipv6Addr, len: u8) -> Ipv6Addr {
    let bits = u128::from(addr);
    match len {
        0 => Ipv6Addr::UNSPECIFIED,
        1..=127 => Ipv6Addr::from(bits & (u128::MAX << (128 - u32::from(len)))),
        _ => addr,
    }
}

/// A lifetime in seconds as prefix options carry it, as a deadline: all-ones is infinity (RFC 4861 §4.6.2).
pub(crate) fn lifetime_deadline(now: Instant, secs: u32) -> Instant {
    if secs == u32::MAX {
        Instant::MAX
    } else {
        now + Duration::from_secs(u64::from(secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_the_prefix() {
        let ip: Ipv6Addr = "2001:db8:aaaa:bbbb:1:2:3:4".parse().unwrap();
        assert_eq!(mask(ip, 64), "2001:db8:aaaa:bbbb::".parse::<Ipv6Addr>().unwrap());
        assert_eq!(mask(ip, 0), Ipv6Addr::UNSPECIFIED);
        assert_eq!(mask(ip, 128), ip);
        assert_eq!(mask(ip, 200), ip);
        assert_eq!(mask(ip, 1), "::".parse::<Ipv6Addr>().unwrap());
    }

    #[test]
    fn lifetimes_of_all_ones_are_infinite() {
        assert_eq!(lifetime_deadline(Instant::from_secs(5), u32::MAX), Instant::MAX);
        assert_eq!(lifetime_deadline(Instant::from_secs(5), 0), Instant::from_secs(5));
        assert_eq!(
            lifetime_deadline(Instant::from_secs(5), u32::MAX - 1),
            Instant::from_secs(5 + u64::from(u32::MAX - 1))
        );
    }

    #[test]
    fn draws_are_reproducible_and_within_bounds() {
        let base = Duration::from_secs(30);
        let a: Vec<Duration> = {
            let mut d = Draws::new(7, 1);
            (0..100).map(|_| d.reachable_time(base)).collect()
        };
        let b: Vec<Duration> = {
            let mut d = Draws::new(7, 1);
            (0..100).map(|_| d.reachable_time(base)).collect()
        };
        assert_eq!(a, b, "same seed, same draws");
        assert!(a.iter().all(|t| (Duration::from_secs(15)..Duration::from_secs(45)).contains(t)), "{a:?}");
        let distinct: std::collections::BTreeSet<_> = a.iter().collect();
        assert!(distinct.len() > 90, "draws vary");
        let mut other = Draws::new(8, 1);
        assert_ne!(other.reachable_time(base), a[0], "another seed, another draw");
        let mut d = Draws::new(7, 1);
        assert_eq!(d.below(Duration::ZERO), Duration::ZERO);
        assert!(d.below(Duration::MAX) < Duration::MAX);
    }
}
