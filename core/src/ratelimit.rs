//! A token bucket in integer arithmetic (no floats, so every run counts the same).

use crate::config::RateLimit;
use crate::time::Instant;
use core::net::IpAddr;
use core::time::Duration;
use std::collections::BTreeMap;

/// Units per token: one token is earned per `1e9 / per_second` nanoseconds.
const UNIT: u64 = 1_000_000_000;

#[derive(Debug)]
pub(crate) struct TokenBucket {
    limit: RateLimit,
    /// Tokens scaled by `UNIT`.
    credit: u64,
    last: Instant,
}

impl TokenBucket {
    /// Starts full.
    pub(crate) fn new(limit: RateLimit) -> TokenBucket {
        TokenBucket::new_at(limit, Instant::ZERO)
    }

    /// Starts full at `now`.
    fn new_at(limit: RateLimit, now: Instant) -> TokenBucket {
        TokenBucket { limit, credit: u64::from(limit.burst).saturating_mul(UNIT), last: now }
    }

    /// Takes one token if available.
    pub(crate) fn try_take(&mut self, now: Instant) -> bool {
        let cap = u64::from(self.limit.burst).saturating_mul(UNIT);
        let elapsed = now.as_nanos().saturating_sub(self.last.as_nanos());
        self.last = self.last.max(now);
        let earned = elapsed.saturating_mul(u64::from(self.limit.per_second));
        self.credit = self.credit.saturating_add(earned).min(cap);
        if self.credit >= UNIT {
            self.credit -= UNIT;
            true
        } else {
            false
        }
    }
}

/// A token bucket per peer (Linux's `inet_peer_xrlim_allow`), so one peer cannot spend a budget all share.
/// Bounded: past `MAX_PEERS` entries, those whose bucket has refilled (idle peers) are forgotten, then the
/// lowest addresses.
#[derive(Debug)]
pub(crate) struct PeerBuckets {
    limit: RateLimit,
    peers: BTreeMap<IpAddr, TokenBucket>,
}

/// Peers remembered at most.
const MAX_PEERS: usize = 1024;

impl PeerBuckets {
    pub(crate) fn new(limit: RateLimit) -> PeerBuckets {
        PeerBuckets { limit, peers: BTreeMap::new() }
    }

    /// Takes one of `peer`'s tokens if it has one (a peer not seen yet starts with a full bucket).
    pub(crate) fn try_take(&mut self, peer: IpAddr, now: Instant) -> bool {
        if !self.peers.contains_key(&peer) && self.peers.len() >= MAX_PEERS {
            let full_after =
                Duration::from_secs(u64::from(self.limit.burst) / u64::from(self.limit.per_second.max(1)) + 1);
            self.peers.retain(|_, b| now.saturating_duration_since(b.last) < full_after);
            while self.peers.len() >= MAX_PEERS {
                self.peers.pop_first();
            }
        }
        let limit = self.limit;
        self.peers.entry(peer).or_insert_with(|| TokenBucket::new_at(limit, now)).try_take(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_steady_rate() {
        let mut b = TokenBucket::new(RateLimit { per_second: 10, burst: 3 });
        let t0 = Instant::from_secs(1);
        assert!((0..3).all(|_| b.try_take(t0)));
        assert!(!b.try_take(t0));
        assert!(!b.try_take(Instant::from_millis(1099)));
        assert!(b.try_take(Instant::from_millis(1100)));
        assert!(!b.try_take(Instant::from_millis(1100)));
        // A long quiet period refills only up to the burst.
        let later = Instant::from_secs(100);
        assert_eq!((0..10).filter(|_| b.try_take(later)).count(), 3);
    }

    #[test]
    fn each_peer_has_its_own_bucket() {
        let mut p = PeerBuckets::new(RateLimit { per_second: 1, burst: 6 });
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let t0 = Instant::from_secs(5);
        assert_eq!((0..20).filter(|_| p.try_take(a, t0)).count(), 6, "a burst of 6, then nothing");
        assert!(p.try_take(b, t0), "another peer still has its own");
        assert!(!p.try_take(a, Instant::from_millis(5_999)));
        assert!(p.try_take(a, Instant::from_secs(6)), "one a second after");
        // Bounded: many peers evict the idle ones.
        for i in 0..3 * MAX_PEERS as u32 {
            p.try_take(IpAddr::from(i.to_be_bytes()), Instant::from_secs(100 + u64::from(i)));
        }
        assert!(p.peers.len() <= MAX_PEERS);
    }
}
