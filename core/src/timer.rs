//! A deadline queue. Owners schedule `(deadline, key)`; when a key fires the owner re-checks its own state,
//! so cancelling is free (stale entries are simply ignored). O(log n) per operation, never a scan.

use crate::api::SocketHandle;
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
    /// TCP connections' entries (nearly all of them), in a heap of their own: 24 bytes an entry where the
    /// general one takes 40 (its keys carry IPv6 addresses), so the heap moves and holds less per connection.
    /// The handle is widened to 64 bits: as a `u32` with 4 bytes of padding after it, sifting the new entry up
    /// read its last 8 bytes back just after writing 4 of them, which stalls the CPU (store forwarding fails).
    tcp: QuadHeap<(Instant, u64, u64)>,
    /// Insertion counter, shared by both heaps: ties on the deadline fire in insertion order.
    seq: u64,
}

impl TimerQueue {
    pub(crate) fn schedule(&mut self, at: Instant, key: TimerKey) {
        self.seq += 1;
        match key {
            TimerKey::Tcp(h) => self.tcp.push((at, self.seq, u64::from(h.0))),
            key => self.heap.push(Reverse((at, self.seq, key))),
        }
    }

    /// Makes room for a new TCP entry by dropping the stale ones, when the TCP heap is full (its next push
    /// would move it into twice the memory), long (`PURGE_FLOOR`), and `conns` connections, each with one
    /// entry it still waits for, leave at least half of it stale. Stale entries pile up wherever the clock
    /// moves slowly against the rate connections come and go (each handshake leaves about four); growing
    /// the heap for them costs memory, page faults and heap levels. `live` says whether an entry is one its
    /// connection still waits for. Dropping them changes no output: popped, a stale entry does nothing. It
    /// only stops the stack asking to be woken at their deadlines.
    pub(crate) fn make_room_for_tcp(&mut self, conns: usize, live: impl FnMut(SocketHandle, Instant) -> bool) {
        let heap = &self.tcp.items;
        if heap.len() == heap.capacity() && heap.len() >= PURGE_FLOOR && heap.len() >= 2 * conns {
            self.purge_tcp(live);
        }
    }

    /// Keeps the TCP entries `live` accepts. Out of line: the check above runs on every input that arms a timer,
    /// the purge seldom.
    #[cold]
    #[inline(never)]
    fn purge_tcp(&mut self, mut live: impl FnMut(SocketHandle, Instant) -> bool) {
        self.tcp.retain(|&(at, _, h)| live(SocketHandle(h as u32), at));
    }

    /// The earliest deadline (possibly of a stale entry: waking early is harmless).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.first().map(|(at, _, _)| at)
    }

    /// The earliest entry of the two heaps, `(deadline, insertion, from the TCP heap)`: the order is that of one
    /// heap holding both.
    fn first(&self) -> Option<(Instant, u64, bool)> {
        let general = self.heap.peek().map(|Reverse((at, seq, _))| (*at, *seq, false));
        let tcp = self.tcp.peek().map(|(at, seq, _)| (*at, *seq, true));
        match (general, tcp) {
            (Some(g), Some(t)) => Some(if (t.0, t.1) < (g.0, g.1) { t } else { g }),
            (g, t) => g.or(t),
        }
    }

    /// Removes and returns one entry due at `now` with its deadline, earliest first.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(Instant, TimerKey)> {
        match self.first() {
            Some((at, _, true)) if at <= now => {
                // Only `u32` handles go in, so the narrowing gives back the handle scheduled.
                let popped = self.tcp.pop().map(|(at, _, h)| (at, TimerKey::Tcp(SocketHandle(h as u32))));
                self.tcp.release_spare_capacity();
                popped
            }
            Some((at, _, false)) if at <= now => self.heap.pop().map(|Reverse((at, _, k))| (at, k)),
            _ => None,
        }
    }
}

/// The shortest TCP heap `TimerQueue::make_room_for_tcp` purges: a short one costs little, and the
/// deadlines a driver is given stay those of every entry (a handful of connections never see a purge).
const PURGE_FLOOR: usize = 1024;

/// A min-heap whose nodes have four children: half the levels of a binary heap. A connection's new deadline is
/// often earlier than most queued ones (a retransmission timer armed while the handshakes before it wait out
/// longer ones, or TIME-WAIT), so a push climbs most of the way up, and each level is a likely cache miss in a
/// heap of many connections. Entries are unique (the insertion number is part of each), so any correct heap
/// gives them back in the same order: which heap it is changes no output.
#[derive(Debug)]
struct QuadHeap<T> {
    items: Vec<T>,
}

impl<T> Default for QuadHeap<T> {
    fn default() -> Self {
        QuadHeap { items: Vec::new() }
    }
}

impl<T: Ord + Copy> QuadHeap<T> {
    fn push(&mut self, item: T) {
        let mut at = self.items.len();
        self.items.push(item);
        while at > 0 {
            let parent = (at - 1) / 4;
            if self.items[parent] <= item {
                break;
            }
            self.items[at] = self.items[parent];
            at = parent;
        }
        self.items[at] = item;
    }

    fn peek(&self) -> Option<&T> {
        self.items.first()
    }

    /// Gives back the memory of a heap that emptied out, by the connection tables' rule: after a spike of a
    /// million connections, their timer entries would otherwise keep the heap at its peak for as long as the
    /// stack lives.
    fn release_spare_capacity(&mut self) {
        if let Some(capacity) = crate::tcp::table::shrunk_capacity(self.items.len(), self.items.capacity()) {
            self.items.shrink_to(capacity);
        }
    }

    /// Keeps the entries `keep` accepts and makes a heap of them again, bottom up (each parent sinks into its
    /// subtrees, the last parent first: linear time). Entries are unique, so they come out in the same order as
    /// from the heap they were in.
    fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.items.retain(|item| keep(item));
        for at in (0..self.items.len().div_ceil(4)).rev() {
            self.sink(at, self.items[at]);
        }
    }

    fn pop(&mut self) -> Option<T> {
        let last = self.items.pop()?;
        let Some(&top) = self.items.first() else {
            return Some(last);
        };
        self.sink(0, last);
        Some(top)
    }

    /// Puts `item` at `at` (whose subtrees are heaps) and lets it sink, each step to the smallest of up to four
    /// children, until the subtree at `at` is a heap.
    fn sink(&mut self, mut at: usize, item: T) {
        let len = self.items.len();
        loop {
            let first = 4 * at + 1;
            if first >= len {
                break;
            }
            let mut min = first;
            for child in first + 1..(first + 4).min(len) {
                if self.items[child] < self.items[min] {
                    min = child;
                }
            }
            if item <= self.items[min] {
                break;
            }
            self.items[at] = self.items[min];
            at = min;
        }
        self.items[at] = item;
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

    proptest::proptest! {
        /// The four-way heap gives entries back in the order a binary heap does, whatever the pushes, pops and purges.
        #[test]
        fn quad_heap_pops_in_the_binary_heaps_order(ops in proptest::collection::vec((0u8..4, 0u64..50), 0..400)) {
            let mut quad = QuadHeap::default();
            let mut reference = BinaryHeap::new();
            for (seq, (op, at)) in ops.into_iter().enumerate() {
                if op == 0 {
                    proptest::prop_assert_eq!(quad.pop(), reference.pop().map(|Reverse(e)| e));
                } else if op == 1 && at % 7 == 0 {
                    // Now and then, a purge keeps the entries of some deadlines.
                    let keep = |e: &(u64, u64)| e.0 % 3 != at % 3;
                    quad.retain(keep);
                    reference.retain(|Reverse(e)| keep(e));
                } else {
                    quad.push((at, seq as u64));
                    reference.push(Reverse((at, seq as u64)));
                }
                proptest::prop_assert_eq!(quad.peek(), reference.peek().map(|Reverse(e)| e));
            }
            while let Some(Reverse(e)) = reference.pop() {
                proptest::prop_assert_eq!(quad.pop(), Some(e));
            }
            proptest::prop_assert_eq!(quad.pop(), None);
        }
    }

    /// Fills the TCP heap to its capacity with entries of handles 0.., at scattered deadlines.
    fn full_tcp_heap(min_len: usize) -> TimerQueue {
        let mut q = TimerQueue::default();
        let mut h = 0u32;
        while q.tcp.items.len() < min_len || q.tcp.items.len() < q.tcp.items.capacity() {
            q.schedule(Instant::from_millis(u64::from(h * 7919 % 1000)), TimerKey::Tcp(SocketHandle(h)));
            h += 1;
        }
        q
    }

    fn drain(q: &mut TimerQueue) -> Vec<(Instant, TimerKey)> {
        core::iter::from_fn(|| q.pop_due(Instant::from_secs(10))).collect()
    }

    #[test]
    fn a_full_heap_of_mostly_stale_tcp_entries_keeps_the_live_ones_in_their_order() {
        let mut q = full_tcp_heap(PURGE_FLOOR);
        let live = |h: SocketHandle| h.0 % 3 == 0;
        let mut expected = drain(&mut full_tcp_heap(PURGE_FLOOR));
        expected.retain(|(_, k)| matches!(k, TimerKey::Tcp(h) if live(*h)));
        let len = q.tcp.items.len();
        // Fewer connections than half the entries: the stale ones go.
        q.make_room_for_tcp(len / 3 + 1, |h, _| live(h));
        assert_eq!(q.tcp.items.len(), expected.len());
        assert_eq!(drain(&mut q), expected);
    }

    #[test]
    fn a_heap_that_is_short_or_not_full_or_mostly_live_is_left_alone() {
        let stale = |_, _| false;
        let mut short = full_tcp_heap(0);
        let len = short.tcp.items.len();
        assert!(len < PURGE_FLOOR);
        short.make_room_for_tcp(0, stale);
        assert_eq!(short.tcp.items.len(), len);

        let mut live = full_tcp_heap(PURGE_FLOOR);
        let len = live.tcp.items.len();
        live.make_room_for_tcp(len / 2 + 1, stale);
        assert_eq!(live.tcp.items.len(), len, "enough connections to hold more than half the entries");

        let mut roomy = full_tcp_heap(PURGE_FLOOR);
        roomy.pop_due(Instant::from_secs(10));
        let len = roomy.tcp.items.len();
        roomy.make_room_for_tcp(0, stale);
        assert_eq!(roomy.tcp.items.len(), len, "a push still fits");
    }

    #[test]
    fn tcp_entries_interleave_with_the_rest_as_in_one_heap() {
        let mut q = TimerQueue::default();
        let tcp = |h| TimerKey::Tcp(SocketHandle(h));
        q.schedule(Instant::from_secs(2), tcp(1));
        q.schedule(Instant::from_secs(1), TimerKey::Reassembly(1));
        q.schedule(Instant::from_secs(1), tcp(2));
        q.schedule(Instant::from_secs(1), TimerKey::Reassembly(2));
        q.schedule(Instant::from_secs(3), TimerKey::Dhcp);
        q.schedule(Instant::from_secs(2), TimerKey::Reassembly(3));
        assert_eq!(q.next_deadline(), Some(Instant::from_secs(1)));
        let (one, two) = (Instant::from_secs(1), Instant::from_secs(2));
        assert_eq!(q.pop_due(Instant::from_millis(1_500)), Some((one, TimerKey::Reassembly(1))));
        assert_eq!(q.pop_due(Instant::from_millis(1_500)), Some((one, tcp(2))));
        assert_eq!(q.pop_due(Instant::from_millis(1_500)), Some((one, TimerKey::Reassembly(2))));
        assert_eq!(q.pop_due(Instant::from_millis(1_500)), None);
        assert_eq!(q.next_deadline(), Some(two));
        assert_eq!(q.pop_due(Instant::from_secs(5)), Some((two, tcp(1))));
        assert_eq!(q.pop_due(Instant::from_secs(5)), Some((two, TimerKey::Reassembly(3))));
        assert_eq!(q.pop_due(Instant::from_secs(5)), Some((Instant::from_secs(3), TimerKey::Dhcp)));
        assert_eq!(q.pop_due(Instant::from_secs(5)), None);
    }
}
