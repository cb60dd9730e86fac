//! The connection table: every TCB by socket handle.
//!
//! Handling an input takes a connection out of the table (so the stack can be borrowed mutably while the
//! connection works) and puts it back afterwards. While the connection is out, a stand-in holds its slot, so
//! taking and putting back are one lookup and a swap, not a removal and a re-insertion. A slot is one pointer:
//! the handle it is found by is read from the TCB (or its stand-in) itself.

use super::tcb::Tcb;
use crate::api::SocketHandle;
use core::hash::{BuildHasher, Hash};
use hashbrown::HashTable;
use std::collections::HashMap;

/// Hashes socket handles (and our local ports). They are chosen by the stack, never by a peer, so a
/// multiplicative hash spreads them well and needs no key. Only used for lookups, never iterated for output.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct HandleHasher;

/// The hasher state of [`HandleHasher`].
#[derive(Debug, Default)]
pub(crate) struct HandleHash(u64);

impl BuildHasher for HandleHasher {
    type Hasher = HandleHash;
    fn build_hasher(&self) -> HandleHash {
        HandleHash(0)
    }
}

impl core::hash::Hasher for HandleHash {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Smallest capacity a table is shrunk back to.
const SHRINK_FLOOR: usize = 4096;

/// Gives back the memory of a hash table that emptied out: once it is below an eighth full, it is rebuilt at
/// twice its size. A spike of a million connections would otherwise keep its million-entry tables for as long
/// as the stack lives. The wide gap to the growth threshold (7/8 full) keeps it from shrinking and growing in
/// turn; rebuilding costs O(entries left), paid once per eightfold drop.
pub(crate) fn release_spare_capacity<K: Eq + Hash, V, S: BuildHasher>(map: &mut HashMap<K, V, S>) {
    if let Some(capacity) = shrunk_capacity(map.len(), map.capacity()) {
        map.shrink_to(capacity);
    }
}

/// The rule of [`release_spare_capacity`] for any table (and the timer heaps): the capacity to shrink to, if it
/// is time to.
pub(crate) fn shrunk_capacity(len: usize, capacity: usize) -> Option<usize> {
    (capacity > SHRINK_FLOOR && len < capacity / 8).then(|| (len * 2).max(SHRINK_FLOOR))
}

/// Connections by handle.
///
/// A connection taken out leaves a stand-in (a TCB that is never a connection, carrying only the handle) in its
/// slot, and the table remembers the slot's bucket (an index, stable until the table grows or shrinks: only a
/// hint, checked against the handle it must hold). Putting the connection back is then a swap, not a second
/// lookup. A stand-in is kept for the next take.
#[derive(Debug, Default)]
pub(crate) struct ConnTable {
    /// Boxed so that taking a connection out and putting it back moves a pointer, not the TCB; one word per
    /// slot (a million connections' table is then 19 MB, not 36).
    slots: HashTable<Box<Tcb>>,
    /// The connection taken out, and the bucket its stand-in holds.
    taken: Option<(SocketHandle, usize)>,
    /// Connections taken out while `taken` was out too (a take nested in another: rare), without a hint.
    taken_too: Vec<SocketHandle>,
    /// A stand-in not in use.
    stand_in: Option<Box<Tcb>>,
}

fn hash(h: &SocketHandle) -> u64 {
    HandleHasher.hash_one(h)
}

/// A stand-in for the first connection taken out (and for a nested take): made once, then kept.
#[cold]
fn new_stand_in() -> Box<Tcb> {
    Box::new(Tcb::stand_in())
}

impl ConnTable {
    fn is_taken(&self, h: &SocketHandle) -> bool {
        self.taken.is_some_and(|(k, _)| k == *h) || (!self.taken_too.is_empty() && self.taken_too.contains(h))
    }

    /// Forgets that `h` is out; returns the bucket its stand-in held then, if known.
    fn untake(&mut self, h: SocketHandle) -> Option<Option<usize>> {
        match self.taken {
            Some((k, at)) if k == h => {
                self.taken = None;
                Some(Some(at))
            }
            _ => {
                let i = self.taken_too.iter().position(|k| *k == h)?;
                self.taken_too.swap_remove(i);
                Some(None)
            }
        }
    }

    pub(crate) fn get(&self, h: &SocketHandle) -> Option<&Tcb> {
        if self.is_taken(h) {
            return None;
        }
        self.slots.find(hash(h), |t| t.handle == *h).map(|t| &**t)
    }

    pub(crate) fn get_mut(&mut self, h: &SocketHandle) -> Option<&mut Tcb> {
        if self.is_taken(h) {
            return None;
        }
        self.slots.find_mut(hash(h), |t| t.handle == *h).map(|t| &mut **t)
    }

    /// Takes a connection out to work on it; [`ConnTable::put`] or [`ConnTable::remove`] must follow.
    pub(crate) fn take(&mut self, h: &SocketHandle) -> Option<Box<Tcb>> {
        if self.is_taken(h) {
            return None;
        }
        let mut slot = self.slots.find_entry(hash(h), |t| t.handle == *h).ok()?;
        let at = slot.bucket_index();
        let mut stand_in = self.stand_in.take().unwrap_or_else(new_stand_in);
        stand_in.handle = *h;
        let tcb = core::mem::replace(slot.get_mut(), stand_in);
        match self.taken {
            None => self.taken = Some((*h, at)),
            Some(_) => self.taken_too(*h),
        }
        Some(tcb)
    }

    /// A take nested in another (rare): kept out of the common path.
    #[cold]
    fn taken_too(&mut self, h: SocketHandle) {
        self.taken_too.push(h);
    }

    /// Puts a connection (back, or for the first time) into its slot.
    pub(crate) fn put(&mut self, h: SocketHandle, tcb: Box<Tcb>) {
        let taken = self.untake(h);
        // The remembered bucket, if the table has not moved since; else the slot is found by its handle.
        let hinted = taken.flatten().and_then(|at| self.slots.get_bucket_mut(at)).filter(|slot| slot.handle == h);
        let slot = match hinted {
            Some(slot) => Some(slot),
            None => self.slots.find_mut(hash(&h), |t| t.handle == h),
        };
        match slot {
            Some(slot) => {
                let was = core::mem::replace(slot, tcb);
                if taken.is_some() {
                    self.stand_in = Some(was); // what stood in for it, kept for the next take
                }
            }
            None => {
                self.slots.insert_unique(hash(&h), tcb, |t| hash(&t.handle));
            }
        }
    }

    /// Forgets the slot of a connection that is gone.
    pub(crate) fn remove(&mut self, h: &SocketHandle) {
        if let Ok(slot) = self.slots.find_entry(hash(h), |t| t.handle == *h) {
            let (removed, _) = slot.remove();
            if self.untake(*h).is_some() {
                // The connection itself is out (its caller drops it): what was in the slot is its stand-in.
                self.stand_in = Some(removed);
            }
        }
        // A shrink moves every entry: the bucket remembered becomes a stale hint (checked when used).
        if let Some(capacity) = shrunk_capacity(self.slots.len(), self.slots.capacity()) {
            self.slots.shrink_to(capacity, |t| hash(&t.handle));
        }
    }

    /// Every handle, in handle order.
    pub(crate) fn handles(&self) -> Vec<SocketHandle> {
        let mut v: Vec<SocketHandle> = self.slots.iter().map(|t| t.handle).collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::tcb::Initial;
    use crate::tcp::SeqNum;

    fn tcb(h: u32) -> Box<Tcb> {
        let ends = ("10.0.0.1:1000".parse().unwrap(), "10.0.0.2:80".parse().unwrap());
        let initial = Initial { iss: SeqNum(h), ts_offset: 0, local_mss: 1460 };
        Box::new(Tcb::active_open(SocketHandle(h), ends, initial, &crate::config::TcpConfig::default()))
    }

    #[test]
    fn a_connection_goes_back_where_it_was_taken_from_even_if_the_table_moved() {
        let mut t = ConnTable::default();
        for h in 0..4 {
            t.put(SocketHandle(h), tcb(h));
        }
        // Back in place: the remembered bucket.
        let a = t.take(&SocketHandle(2)).unwrap();
        assert!(t.get(&SocketHandle(2)).is_none(), "taken out");
        t.put(SocketHandle(2), a);
        assert_eq!(t.get(&SocketHandle(2)).unwrap().handle, SocketHandle(2));
        // The table grows (every entry moves) while one is out: the stale bucket is not trusted.
        let b = t.take(&SocketHandle(1)).unwrap();
        for h in 4..10_000 {
            t.put(SocketHandle(h), tcb(h));
        }
        t.put(SocketHandle(1), b);
        // Put back under another handle than the one taken: found by lookup, the hint ignored.
        let c = t.take(&SocketHandle(3)).unwrap();
        let d = t.take(&SocketHandle(5)).unwrap();
        t.put(SocketHandle(3), c);
        t.put(SocketHandle(5), d);
        assert!((0..10_000).all(|h| t.get(&SocketHandle(h)).is_some_and(|x| x.handle == SocketHandle(h))));
        // Emptied out: the table shrinks, and what is left is still found.
        let e = t.take(&SocketHandle(9_999)).unwrap();
        for h in 0..9_990 {
            t.remove(&SocketHandle(h));
        }
        t.put(SocketHandle(9_999), e);
        assert!(t.slots.capacity() <= 2 * SHRINK_FLOOR, "{}", t.slots.capacity());
        assert_eq!(t.handles(), (9_990..10_000).map(SocketHandle).collect::<Vec<_>>());
    }

    #[test]
    fn a_taken_connection_is_not_found_until_it_is_back_and_its_stand_in_is_reused() {
        let mut t = ConnTable::default();
        for h in 0..3 {
            t.put(SocketHandle(h), tcb(h));
        }
        // Two out at once (a take nested in another): neither is found, nor taken again; the rest are.
        let a = t.take(&SocketHandle(0)).unwrap();
        let b = t.take(&SocketHandle(1)).unwrap();
        assert!(t.get(&SocketHandle(0)).is_none() && t.get_mut(&SocketHandle(1)).is_none());
        assert!(t.take(&SocketHandle(0)).is_none(), "already out");
        assert_eq!(t.get(&SocketHandle(2)).unwrap().handle, SocketHandle(2));
        assert_eq!(t.handles(), vec![SocketHandle(0), SocketHandle(1), SocketHandle(2)], "the slots stay");
        // One goes back (in the other order), one is gone for good: its slot and stand-in go with it.
        t.put(SocketHandle(1), b);
        t.remove(&SocketHandle(0));
        drop(a);
        assert_eq!(t.handles(), vec![SocketHandle(1), SocketHandle(2)]);
        assert_eq!(t.get(&SocketHandle(1)).unwrap().handle, SocketHandle(1));
        assert!(t.taken.is_none() && t.taken_too.is_empty());
        assert!(t.stand_in.is_some(), "a stand-in kept for the next take");
        // The next take uses the kept stand-in: no new one is made.
        let c = t.take(&SocketHandle(2)).unwrap();
        assert!(t.stand_in.is_none());
        t.put(SocketHandle(2), c);
        assert!(t.stand_in.is_some());
        assert_eq!(t.get(&SocketHandle(2)).unwrap().handle, SocketHandle(2));
    }

    #[test]
    fn an_emptied_table_gives_its_memory_back_and_a_busy_one_keeps_it() {
        let mut m: HashMap<u32, u32, HandleHasher> = HashMap::with_hasher(HandleHasher);
        for i in 0..100_000 {
            m.insert(i, i);
        }
        let full = m.capacity();
        // Down to half: nothing is rebuilt.
        for i in 0..50_000 {
            m.remove(&i);
            release_spare_capacity(&mut m);
        }
        assert_eq!(m.capacity(), full);
        // Down to a few: the table shrinks, entries intact.
        for i in 50_000..99_990 {
            m.remove(&i);
            release_spare_capacity(&mut m);
        }
        assert!(m.capacity() <= 2 * SHRINK_FLOOR, "{}", m.capacity());
        assert!((99_990..100_000).all(|i| m.get(&i) == Some(&i)));
    }
}
