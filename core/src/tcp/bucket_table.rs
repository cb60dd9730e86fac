//! The IPv4 four-tuple table: 64-bit keys to socket handles, five to a cache line.
//!
//! A general hash table keeps its control bytes apart from its entries, so a lookup in a table too big for the
//! cache waits for memory twice. Here a bucket is one 64-byte line holding five keys, their handles and a count
//! of the entries that found it full and went on: a lookup reads one line (the next one too when its bucket
//! overflowed, which at the highest load about a fifth of buckets have). At that load a million entries take
//! 16 MiB, where `HashMap<u64, u32>` takes 26.

use super::SeededHasher;
use crate::api::SocketHandle;
use core::hash::BuildHasher;

/// Keys per bucket: five keys, their handles and the count of entries gone past fill 64 bytes.
const SLOTS: usize = 5;
/// Entries per bucket on average before the table doubles.
const MAX_LOAD: usize = 4;
/// Buckets of a table's first array.
const FIRST_BUCKETS: usize = 4;

/// One cache line of entries.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
struct Bucket {
    keys: [u64; SLOTS],
    /// 0 marks a free slot: no socket has handle 0 (it names the stack itself).
    handles: [u32; SLOTS],
    /// Entries that found this bucket full and lie further on (their own bucket is this one or one before it in
    /// the run): while there are any, a lookup that misses here goes on to the next bucket.
    passed: u32,
}

impl Bucket {
    fn find(&self, key: u64) -> Option<usize> {
        (0..SLOTS).find(|&i| self.keys[i] == key && self.handles[i] != 0)
    }

    fn free(&self) -> Option<usize> {
        self.handles.iter().position(|&h| h == 0)
    }
}

/// 64-bit keys (chosen partly by peers, so hashed with a secret key) to non-zero socket handles.
#[derive(Debug)]
pub(crate) struct BucketTable {
    hasher: SeededHasher,
    /// A power of two long (or empty).
    buckets: Vec<Bucket>,
    len: usize,
    /// How many buckets past its own the farthest entry lies (since the table was last rebuilt): a lookup looks
    /// no further. `passed` alone does not bound it: an entry that went on from a full bucket stays where it
    /// is when that bucket frees up, so under churn every bucket may come to have some.
    reach: usize,
}

impl BucketTable {
    pub(crate) fn new(hasher: SeededHasher) -> BucketTable {
        BucketTable { hasher, buckets: Vec::new(), len: 0, reach: 0 }
    }

    /// The bucket `key` belongs in (`buckets` is not empty).
    fn home(&self, key: u64) -> usize {
        self.hasher.hash_one(key) as usize & (self.buckets.len() - 1)
    }

    /// Bucket and slot of `key`, if present, looking from its bucket `home`.
    fn position(&self, key: u64, home: usize) -> Option<(usize, usize)> {
        let mask = self.buckets.len() - 1;
        let mut b = home;
        for _ in 0..=self.reach {
            let bucket = &self.buckets[b];
            if let Some(i) = bucket.find(key) {
                return Some((b, i));
            }
            if bucket.passed == 0 {
                return None;
            }
            b = (b + 1) & mask;
        }
        None
    }

    pub(crate) fn get(&self, key: u64) -> Option<SocketHandle> {
        if self.buckets.is_empty() {
            return None;
        }
        self.position(key, self.home(key)).map(|(b, i)| SocketHandle(self.buckets[b].handles[i]))
    }

    /// Makes `key` find `h` (replacing what it found).
    pub(crate) fn insert(&mut self, key: u64, h: SocketHandle) {
        debug_assert_ne!(h.0, 0, "handle 0 marks a free slot");
        if self.len >= self.buckets.len() * MAX_LOAD {
            self.rebuild((self.buckets.len() * 2).max(FIRST_BUCKETS));
        }
        let home = self.home(key);
        match self.position(key, home) {
            Some((b, i)) => self.buckets[b].handles[i] = h.0,
            None => {
                self.place(key, h.0, home);
                self.len += 1;
            }
        }
    }

    /// A new entry, in the first bucket from `home` with a free slot (there is one: the load is bounded).
    fn place(&mut self, key: u64, h: u32, home: usize) {
        let mask = self.buckets.len() - 1;
        let mut b = home;
        for distance in 0.. {
            let bucket = &mut self.buckets[b];
            if let Some(i) = bucket.free() {
                bucket.keys[i] = key;
                bucket.handles[i] = h;
                self.reach = self.reach.max(distance);
                return;
            }
            bucket.passed += 1;
            b = (b + 1) & mask;
        }
    }

    /// Removes `key` if `h` holds it; returns whether it did.
    pub(crate) fn remove_if(&mut self, key: u64, h: SocketHandle) -> bool {
        if self.buckets.is_empty() {
            return false;
        }
        let home = self.home(key);
        let Some((at, i)) = self.position(key, home).filter(|&(b, i)| self.buckets[b].handles[i] == h.0) else {
            return false;
        };
        self.buckets[at].handles[i] = 0;
        self.buckets[at].keys[i] = 0;
        let mask = self.buckets.len() - 1;
        let mut b = home;
        while b != at {
            self.buckets[b].passed -= 1;
            b = (b + 1) & mask;
        }
        self.len -= 1;
        // Shrunk by the rule every table follows, counted in entries at the highest load.
        if let Some(entries) = super::table::shrunk_capacity(self.len, self.buckets.len() * MAX_LOAD) {
            self.rebuild((entries / MAX_LOAD).next_power_of_two());
        }
        true
    }

    /// Every entry into `buckets` new buckets (a power of two, room for them all).
    #[cold]
    fn rebuild(&mut self, buckets: usize) {
        let old = core::mem::replace(&mut self.buckets, vec![Bucket::default(); buckets]);
        self.reach = 0;
        for bucket in &old {
            for i in 0..SLOTS {
                if bucket.handles[i] != 0 {
                    self.place(bucket.keys[i], bucket.handles[i], self.home(bucket.keys[i]));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_is_one_cache_line() {
        assert_eq!(core::mem::size_of::<Bucket>(), 64);
        assert_eq!(core::mem::align_of::<Bucket>(), 64);
    }

    #[test]
    fn entries_are_found_replaced_and_removed_through_growth_overflow_and_shrinking() {
        let mut t = BucketTable::new(SeededHasher(1, 2));
        let key = |i: u64| i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for i in 1..=100_000u64 {
            t.insert(key(i), SocketHandle(i as u32));
        }
        assert!(t.buckets.iter().any(|b| b.passed > 0), "at this load some buckets overflow");
        assert!((1..=100_000u64).all(|i| t.get(key(i)) == Some(SocketHandle(i as u32))));
        assert_eq!(t.get(key(100_001)), None);
        // Replacing keeps one entry per key.
        t.insert(key(7), SocketHandle(700_007));
        assert_eq!(t.get(key(7)), Some(SocketHandle(700_007)));
        assert_eq!(t.len, 100_000);
        // Removal only by the handle that holds the key.
        assert!(!t.remove_if(key(8), SocketHandle(9)));
        assert!(t.remove_if(key(8), SocketHandle(8)));
        assert_eq!(t.get(key(8)), None);
        // Emptied out: the table shrinks, and what is left is still found.
        let full = t.buckets.len();
        for i in 9..=99_990u64 {
            assert!(t.remove_if(key(i), SocketHandle(i as u32)));
        }
        assert!(t.buckets.len() < full / 8, "{} of {full}", t.buckets.len());
        assert!((99_991..=100_000u64).all(|i| t.get(key(i)) == Some(SocketHandle(i as u32))));
        assert_eq!(t.get(key(7)), Some(SocketHandle(700_007)));
        assert_eq!(t.len, 17);
        assert!((1..=6u64).all(|i| t.get(key(i)) == Some(SocketHandle(i as u32))));
    }

    /// What `passed` must be: per bucket, the entries lying further on whose own bucket is it or one before it.
    fn passed_counts(t: &BucketTable) -> Vec<u32> {
        let n = t.buckets.len();
        let mut want = vec![0; n];
        for (at, bucket) in t.buckets.iter().enumerate() {
            for i in (0..SLOTS).filter(|&i| bucket.handles[i] != 0) {
                let mut b = t.home(bucket.keys[i]);
                while b != at {
                    want[b] += 1;
                    b = (b + 1) % n;
                }
            }
        }
        want
    }

    #[test]
    fn churn_keeps_the_overflow_counts_exact() {
        // Insert and remove for a long time at the highest load of a small table: the counts that make misses
        // go on never go stale, and a miss ends within the reach even when every bucket has some.
        let mut t = BucketTable::new(SeededHasher(3, 4));
        let mut next = 1u64;
        let live = 16 * MAX_LOAD as u64 - 1;
        for _ in 0..live {
            t.insert(next, SocketHandle(next as u32));
            next += 1;
        }
        for _ in 0..50_000 {
            let gone = next - live;
            assert!(t.remove_if(gone, SocketHandle(gone as u32)));
            t.insert(next, SocketHandle(next as u32));
            next += 1;
            assert_eq!(t.get(u64::MAX), None);
            assert!(t.reach < t.buckets.len());
        }
        assert_eq!(t.buckets.iter().map(|b| b.passed).collect::<Vec<_>>(), passed_counts(&t));
        assert!(t.buckets.iter().any(|b| b.passed > 0));
        assert!((next - live..next).all(|k| t.get(k) == Some(SocketHandle(k as u32))));
    }

    proptest::proptest! {
        /// Whatever the inserts, replacements and removals, the table answers as a `HashMap` does, and its
        /// overflow counts stay exact. Keys from a small range collide in buckets; the tiny hasher keys make
        /// growth, overflow and shrinking all happen.
        #[test]
        fn answers_as_a_hash_map_does(ops in proptest::collection::vec((0u8..3, 1u64..300, 1u32..6), 0..3000)) {
            let mut t = BucketTable::new(SeededHasher(5, 6));
            let mut model = std::collections::HashMap::new();
            for (op, key, h) in ops {
                match op {
                    0 => {
                        t.insert(key, SocketHandle(h));
                        model.insert(key, h);
                    }
                    1 => {
                        let held = model.get(&key) == Some(&h);
                        proptest::prop_assert_eq!(t.remove_if(key, SocketHandle(h)), held);
                        if held {
                            model.remove(&key);
                        }
                    }
                    _ => {}
                }
                proptest::prop_assert_eq!(t.get(key), model.get(&key).map(|&h| SocketHandle(h)));
                proptest::prop_assert_eq!(t.len, model.len());
            }
            for key in 1..300 {
                proptest::prop_assert_eq!(t.get(key), model.get(&key).map(|&h| SocketHandle(h)));
            }
            proptest::prop_assert_eq!(t.buckets.iter().map(|b| b.passed).collect::<Vec<_>>(), passed_counts(&t));
        }
    }
}
