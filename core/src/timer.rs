//! A deadline queue. Owners schedule `(deadline, key)`; when a key fires the owner re-checks its own state,
//! so cancelling is free (stale entries are simply ignored). O(log n) per operation, never a scan.

use crate::time::Instant;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// What a timer is for. Ordered so that simultaneous deadlines fire in a fixed, reproducible order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TimerKey {
    /// Retry or give up an ARP resolution of this address.
    ArpRetry(core::net::Ipv4Addr),
    /// IPv6 comes up: link-local DAD and router solicitation start.
    Ipv6Start,
    /// A neighbour discovery timer (`ndp::NdpTimer`).
    Ndp(crate::ndp::NdpTimer),
    /// Expire an incomplete reassembly (the key's insertion number).
    Reassembly(u64),
    /// A TCP connection's earliest timer.
    Tcp(crate::api::SocketHandle),
    /// The DHCP client's retransmission or lease timer.
    Dhcp,
}

#[derive(Debug, Default)]
pub(crate) struct TimerQueue {
    heap: BinaryHeap<Reverse<(Instant, u64, TimerKey)>>,
    /// Insertion counter: ties on the deadline fire in insertion order.
    seq: u64,
}

impl TimerQueue {
    pub(crate) fn schedule(&mut self, at: Instant, key: TimerKey) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, key)));
    }

    /// The earliest deadline (possibly of a stale entry: waking early is harmless).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Removes and returns one entry due at `now` with its deadline, earliest first.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(Instant, TimerKey)> {
        match self.heap.peek() {
            Some(Reverse((at, _, _))) if *at <= now => self.heap.pop().map(|Reverse((at, _, k))| (at, k)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_in_deadline_then_insertion_order() {
        let mut q = TimerQueue::default();
        q.schedule(Instant::from_secs(2), TimerKey::Reassembly(1));
        q.schedule(Instant::from_secs(1), TimerKey::Reassembly(2));
        q.schedule(Instant::from_secs(1), TimerKey::Reassembly(3));
        assert_eq!(q.next_deadline(), Some(Instant::from_secs(1)));
        assert_eq!(q.pop_due(Instant::from_millis(999)), None);
        let one = Instant::from_secs(1);
        assert_eq!(q.pop_due(Instant::from_secs(5)), Some((one, TimerKey::Reassembly(2))));
        assert_eq!(q.pop_due(Instant::from_secs(5)), Some((one, TimerKey::Reassembly(3))));
        assert_eq!(q.pop_due(Instant::from_secs(5)), Some((Instant::from_secs(2), TimerKey::Reassembly(1))));
        assert_eq!(q.pop_due(Instant::from_secs(5)), None);
        assert_eq!(q.next_deadline(), None);
    }
}
