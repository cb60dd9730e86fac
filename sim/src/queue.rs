//! The engine's event queue: events come out in (time, insertion sequence) order.
//!
//! Most events are frames crossing a link direction whose delay rarely changes, so they are scheduled in time
//! order: each such "lane" keeps them in a FIFO, and only events that would break a lane's order (jitter,
//! reordering, timers, app starts) go into a binary heap. Popping takes the earliest of the heap's top and the
//! lanes' fronts: exactly the order one heap of everything would give, for a push and pop that mostly move a
//! small entry in and out of a `VecDeque` instead of sifting it through a heap.

use std::cmp::Ordering;
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
    heap: BinaryHeap<Entry<T>>,
    /// Each lane's entries, in (time, sequence) order.
    lanes: Vec<VecDeque<Entry<T>>>,
    seq: u64,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue { heap: BinaryHeap::new(), lanes: Vec::new(), seq: 0 }
    }
}

/// Where the earliest item waits.
#[derive(Clone, Copy)]
enum Front {
    Heap,
    Lane(usize),
}

impl<T> EventQueue<T> {
    /// Schedules `item` at `at`, after everything already scheduled at `at`. Items pushed with the same `lane`
    /// are usually in time order (any order is correct; in order is fast).
    pub fn push(&mut self, at: Instant, lane: Option<usize>, item: T) {
        self.seq += 1;
        let entry = Entry { at, seq: self.seq, item };
        if let Some(lane) = lane {
            if self.lanes.len() <= lane {
                self.lanes.resize_with(lane + 1, VecDeque::new);
            }
            let fifo = &mut self.lanes[lane];
            // The sequence only grows, so a time no earlier than the last keeps the lane sorted.
            if fifo.back().is_none_or(|last| last.at <= at) {
                fifo.push_back(entry);
                return;
            }
        }
        self.heap.push(entry);
    }

    fn front(&self) -> Option<(Front, (Instant, u64))> {
        let mut best = self.heap.peek().map(|e| (Front::Heap, e.key()));
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some(e) = lane.front() {
                if best.is_none_or(|(_, key)| e.key() < key) {
                    best = Some((Front::Lane(i), e.key()));
                }
            }
        }
        best
    }

    /// Takes the earliest item if it is due no later than `limit`.
    pub fn pop_until(&mut self, limit: Instant) -> Option<(Instant, T)> {
        let (front, (at, _)) = self.front()?;
        if at > limit {
            return None;
        }
        let entry = match front {
            Front::Heap => self.heap.pop(),
            Front::Lane(i) => self.lanes[i].pop_front(),
        }?;
        Some((entry.at, entry.item))
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(VecDeque::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn t(ns: u64) -> Instant {
        Instant::ZERO + Duration::from_nanos(ns)
    }

    /// Whatever mix of lanes and times, items come out as one sorted list of (time, push order) would give.
    #[test]
    fn lanes_and_heap_pop_in_time_then_push_order() {
        let mut q = EventQueue::default();
        let mut reference = Vec::new();
        let mut x: u64 = 12345;
        for n in 0..2000u64 {
            x = synack::seed::mix64(x);
            let at = t(x % 50 + n / 4);
            let lane = match x % 5 {
                0 => None,
                l => Some((l % 3) as usize),
            };
            q.push(at, lane, n);
            reference.push((at, n));
        }
        reference.sort();
        let mut got = Vec::new();
        while let Some(e) = q.pop_until(Instant::MAX) {
            got.push(e);
        }
        assert_eq!(got, reference);
        assert!(q.is_empty());
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
