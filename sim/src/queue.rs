//! The engine's event queue: events come out in (time, insertion sequence) order.
//!
//! Most events are frames crossing a link direction whose delay rarely changes, so they are scheduled in time
//! order: each such "lane" keeps them in a FIFO, and a small heap holds only the key of each busy lane's head.
//! Events that would break a lane's order (jitter, reordering) or belong to none (timers, app starts) go into a
//! heap of their own. Popping takes the earlier of the two heaps' tops (a k-way merge of the lanes): exactly the
//! order one heap of everything would give, for a push and pop that mostly move an event in and out of a
//! `VecDeque` and sift a 24-byte key through a heap of a few entries.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use synack::Instant;

/// One scheduled item.
#[derive(Debug)]
struct Entry<T> {
    at: Instant,
    seq: u64,
    item: T,
}

impl<T> Entry<T> {
    fn key(&self) -> (Instant, u64) {
        (self.at, self.seq)
    }
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    /// Reversed, so the max-heap pops the earliest (time, sequence) first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

/// Items in (time, insertion order) order; see the module documentation.
#[derive(Debug)]
pub struct EventQueue<T> {
    /// Items outside the lanes' order.
    heap: BinaryHeap<Entry<T>>,
    /// Each lane's items, in (time, sequence) order.
    lanes: Vec<VecDeque<Entry<T>>>,
    /// (time, sequence, lane) of the head of every non-empty lane.
    heads: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    seq: u64,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue { heap: BinaryHeap::new(), lanes: Vec::new(), heads: BinaryHeap::new(), seq: 0 }
    }
}

impl<T> EventQueue<T> {
    /// Schedules `item` at `at`, after everything already scheduled at `at`. Items pushed with the same `lane`
    /// are usually in time order (any order is correct; in order is fast).
    pub fn push(&mut self, at: Instant, lane: Option<usize>, item: T) {
        self.seq += 1;
        let entry = Entry { at, seq: self.seq, item };
        if let Some(i) = lane {
            if self.lanes.len() <= i {
                self.lanes.resize_with(i + 1, VecDeque::new);
            }
            let fifo = &mut self.lanes[i];
            match fifo.back() {
                None => self.heads.push(Reverse((at, entry.seq, i))),
                // The sequence only grows, so a time no earlier than the last keeps the lane sorted.
                Some(last) if last.at <= at => {}
                Some(_) => return self.heap.push(entry),
            }
            fifo.push_back(entry);
            return;
        }
        self.heap.push(entry);
    }

    /// Takes the earliest item if it is due no later than `limit`.
    pub fn pop_until(&mut self, limit: Instant) -> Option<(Instant, T)> {
        let lane_head = self.heads.peek().map(|&Reverse((at, seq, lane))| ((at, seq), lane));
        let from_lane = match (self.heap.peek(), lane_head) {
            (None, None) => return None,
            (Some(e), Some((key, _))) => key < e.key(),
            (None, Some(_)) => true,
            (Some(_), None) => false,
        };
        let entry = if from_lane {
            let ((at, _), lane) = lane_head?;
            if at > limit {
                return None;
            }
            self.heads.pop();
            let fifo = &mut self.lanes[lane];
            let entry = fifo.pop_front()?;
            if let Some(next) = fifo.front() {
                self.heads.push(Reverse((next.at, next.seq, lane)));
            }
            entry
        } else {
            if self.heap.peek()?.at > limit {
                return None;
            }
            self.heap.pop()?
        };
        Some((entry.at, entry.item))
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(VecDeque::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty() && self.heads.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn t(ns: u64) -> Instant {
        Instant::ZERO + Duration::from_nanos(ns)
    }

    /// Whatever mix of lanes and times, and pops between the pushes, items come out as one sorted list of
    /// (time, push order) would give.
    #[test]
    fn lanes_and_heap_pop_in_time_then_push_order() {
        for lanes in [1, 3, 40] {
            let mut q = EventQueue::default();
            let mut pending = std::collections::BTreeSet::new();
            let mut x: u64 = 12345;
            for n in 0..4000u64 {
                x = synack::seed::mix64(x);
                // Mostly increasing times per lane, some out of order, some in no lane.
                let at = t(n / 4 + x % 50);
                let lane = if x % 7 == 0 { None } else { Some(((x >> 8) % lanes) as usize) };
                q.push(at, lane, n);
                pending.insert((at, n));
                if x % 3 == 0 {
                    let limit = t(n / 4);
                    while let Some(got) = q.pop_until(limit) {
                        let want = pending.pop_first();
                        assert_eq!(Some(got), want, "{lanes} lanes");
                        assert!(got.0 <= limit);
                    }
                    assert!(pending.first().is_none_or(|&(at, _)| at > limit));
                }
            }
            assert_eq!(q.len(), pending.len());
            while let Some(got) = q.pop_until(Instant::MAX) {
                assert_eq!(Some(got), pending.pop_first());
            }
            assert!(q.is_empty() && pending.is_empty());
        }
    }

    #[test]
    fn nothing_is_popped_after_the_limit() {
        let mut q = EventQueue::default();
        q.push(t(10), Some(0), "a");
        q.push(t(5), None, "b");
        assert_eq!(q.pop_until(t(4)), None);
        assert_eq!(q.pop_until(t(7)), Some((t(5), "b")));
        assert_eq!(q.pop_until(t(9)), None);
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop_until(t(10)), Some((t(10), "a")));
    }
}
