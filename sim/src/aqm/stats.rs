//! What a queue did: frames taken, sent, dropped by cause, marked CE, how long they waited, how long it grew.

use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub enqueued: u64,
    pub sent: u64,
    pub bytes_sent: u64,
    /// ECN-capable frames marked CE instead of dropped.
    pub marked: u64,
    /// Drops by cause ("full", "red", "codel", ...).
    pub dropped: BTreeMap<&'static str, u64>,
    /// Sojourn time of every frame sent, in nanoseconds, in sending order.
    pub sojourn_ns: Vec<u64>,
    pub max_bytes: usize,
    pub max_packets: usize,
}

impl QueueStats {
    pub fn drop(&mut self, why: &'static str) {
        *self.dropped.entry(why).or_insert(0) += 1;
    }
    pub fn total_dropped(&self) -> u64 {
        self.dropped.values().sum()
    }
    /// The `p`-th percentile (0..=100) of sojourn times, nearest-rank; `None` before any frame was sent.
    pub fn sojourn_percentile(&self, p: u32) -> Option<Duration> {
        let mut v = self.sojourn_ns.clone();
        v.sort_unstable();
        percentile(&v, p).map(Duration::from_nanos)
    }
    /// Notes the backlog after an enqueue.
    pub fn saw_backlog(&mut self, bytes: usize, packets: usize) {
        self.max_bytes = self.max_bytes.max(bytes);
        self.max_packets = self.max_packets.max(packets);
    }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile<T: Copy>(sorted: &[T], p: u32) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (u64::from(p.min(100)) * sorted.len() as u64).div_ceil(100).max(1);
    sorted.get(rank as usize - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), Some(50));
        assert_eq!(percentile(&v, 99), Some(99));
        assert_eq!(percentile(&v, 100), Some(100));
        assert_eq!(percentile(&[7u32], 99), Some(7));
        assert_eq!(percentile::<u32>(&[], 50), None);
    }
}
