//! Path MTU estimates per destination (RFC 1191 for IPv4, RFC 8201 for IPv6): lowered by "fragmentation needed"
//! or Packet Too Big, never raised by one (a forged message could otherwise make us send what the path drops),
//! and forgotten after 10 minutes as Linux's `ip_rt_mtu_expires`, so a path that grew is found again. Bounded:
//! beyond 256 destinations the oldest estimate goes first.

use crate::time::Instant;
use core::time::Duration;
use std::collections::BTreeMap;

/// How long an estimate stands (RFC 1191 §6.3 suggests 10 minutes; Linux's default).
const EXPIRY: Duration = Duration::from_secs(600);

/// Destinations whose path MTU is remembered.
const ENTRIES: usize = 256;

/// Smaller path MTUs learnt per destination address, with when each was learnt.
#[derive(Debug)]
pub(crate) struct PathMtus<A> {
    entries: BTreeMap<A, (usize, Instant)>,
}

impl<A: Ord + Copy> PathMtus<A> {
    pub(crate) fn new() -> PathMtus<A> {
        PathMtus { entries: BTreeMap::new() }
    }

    /// Nothing learnt: every path is the link's (the common case, checked before the clock is read).
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The path MTU toward `dst` at `now`: the estimate learnt, or the link's.
    pub(crate) fn get(&self, dst: A, now: Instant, link_mtu: usize) -> usize {
        match self.entries.get(&dst) {
            Some(&(mtu, at)) if now < at + EXPIRY => mtu.min(link_mtu),
            _ => link_mtu,
        }
    }

    /// A message from the path says `dst` takes at most `mtu` bytes (already checked to be usable): lowers the
    /// estimate, never raises it. Returns whether it changed.
    pub(crate) fn lower(&mut self, dst: A, mtu: usize, now: Instant, link_mtu: usize) -> bool {
        if mtu >= self.get(dst, now, link_mtu) {
            return false;
        }
        if self.entries.len() >= ENTRIES && !self.entries.contains_key(&dst) {
            let oldest = self.entries.iter().min_by_key(|(a, (_, at))| (*at, **a)).map(|(a, _)| *a);
            if let Some(a) = oldest {
                self.entries.remove(&a);
            }
        }
        self.entries.insert(dst, (mtu, now));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowered_never_raised_and_forgotten_after_ten_minutes() {
        let mut m = PathMtus::new();
        let t = Instant::ZERO;
        assert_eq!(m.get(1u32, t, 1500), 1500);
        assert!(m.lower(1, 1400, t, 1500));
        assert!(!m.lower(1, 1450, t, 1500), "never raised");
        assert!(m.lower(1, 1280, t, 1500));
        assert_eq!((m.get(1, t, 1500), m.get(2, t, 1500)), (1280, 1500));
        assert_eq!(m.get(1, t + EXPIRY, 1500), 1500);
    }

    #[test]
    fn bounded_the_oldest_going_first() {
        let mut m = PathMtus::new();
        for a in 0..ENTRIES as u32 + 1 {
            m.lower(a, 1000, Instant::from_millis(u64::from(a)), 1500);
        }
        assert_eq!(m.entries.len(), ENTRIES);
        assert_eq!(m.get(0, Instant::from_millis(999), 1500), 1500);
        assert_eq!(m.get(ENTRIES as u32, Instant::from_millis(999), 1500), 1000);
    }
}
