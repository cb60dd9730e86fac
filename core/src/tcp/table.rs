//! The connection table: every TCB by socket handle.
//!
//! Handling an input takes a connection out of the table (so the stack can be borrowed mutably while the
//! connection works) and puts it back afterwards. Handles are handed out in increasing order, so a plain
//! array indexed by the handle modulo its length finds almost every connection with one read.

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

/// Connections by handle, each in slot `handle mod capacity` of a plain array.
///
/// The stack hands out handles in increasing order, so the live ones lie in a window about as wide as there
/// are connections, and in a table at least that long they never share a slot: finding a connection is one
/// read of its slot, with no hash and no control bytes, and the next read is the TCB itself (a frame's lookup
/// misses the cache once before reaching the connection, not twice). A connection whose slot is held (its
/// handle lies a multiple of the capacity away from a live one's: a long-lived connection among many newer
/// ones) lives in a small hash table beside the array.
///
/// Handling an input takes a connection out of its slot (so the stack can be borrowed mutably while the
/// connection works) and puts it back afterwards: both are one read and one write of the slot.
#[derive(Debug, Default)]
pub(crate) struct ConnTable {
    /// A power of two long (or empty), never shorter than `len`: one pointer per slot (a million connections'
    /// array is 8 MiB).
    slots: Vec<Option<Box<Tcb>>>,
    /// Connections whose own slot was held by another when they went in.
    displaced: HashTable<Box<Tcb>>,
    /// Connections in the table (taken-out ones are not).
    len: usize,
}

/// Slots of a table's first array.
const FIRST_CAPACITY: usize = 16;

fn hash(h: &SocketHandle) -> u64 {
    HandleHasher.hash_one(h)
}

impl ConnTable {
    /// The slot `h` belongs in (`slots` is not empty).
    fn home(&self, h: SocketHandle) -> usize {
        h.0 as usize & (self.slots.len() - 1)
    }

    /// The slot holding `h`, if `h` is in its own slot.
    fn slot_of(&self, h: SocketHandle) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let i = self.home(h);
        self.slots[i].as_ref().is_some_and(|t| t.handle == h).then_some(i)
    }

    pub(crate) fn get(&self, h: &SocketHandle) -> Option<&Tcb> {
        match self.slot_of(*h) {
            Some(i) => self.slots[i].as_deref(),
            None if self.displaced.is_empty() => None,
            None => self.displaced.find(hash(h), |t| t.handle == *h).map(|t| &**t),
        }
    }

    pub(crate) fn get_mut(&mut self, h: &SocketHandle) -> Option<&mut Tcb> {
        match self.slot_of(*h) {
            Some(i) => self.slots[i].as_deref_mut(),
            None if self.displaced.is_empty() => None,
            None => self.displaced.find_mut(hash(h), |t| t.handle == *h).map(|t| &mut **t),
        }
    }

    /// Takes a connection out to work on it; [`ConnTable::put`] (or, for a connection that is gone, nothing)
    /// follows.
    pub(crate) fn take(&mut self, h: &SocketHandle) -> Option<Box<Tcb>> {
        let tcb = match self.slot_of(*h) {
            Some(i) => self.slots[i].take(),
            None if self.displaced.is_empty() => None,
            None => self.displaced.find_entry(hash(h), |t| t.handle == *h).ok().map(|e| e.remove().0),
        };
        self.len -= usize::from(tcb.is_some());
        tcb
    }

    /// Puts a connection (back, or for the first time) into the table, under its own handle.
    pub(crate) fn put(&mut self, tcb: Box<Tcb>) {
        if self.len >= self.slots.len() {
            self.resize((self.slots.len() * 2).max(FIRST_CAPACITY));
        }
        self.place(tcb);
        self.len += 1;
    }

    /// Into its own slot if free, else beside.
    fn place(&mut self, tcb: Box<Tcb>) {
        let i = self.home(tcb.handle);
        match &mut self.slots[i] {
            slot @ None => *slot = Some(tcb),
            Some(_) => {
                self.displaced.insert_unique(hash(&tcb.handle), tcb, |t| hash(&t.handle));
            }
        }
    }

    /// Forgets the slot of a connection that is gone (usually taken out already, so only the table's size is
    /// looked at).
    pub(crate) fn remove(&mut self, h: &SocketHandle) {
        drop(self.take(h));
        if let Some(capacity) = shrunk_capacity(self.len, self.slots.len()) {
            self.resize(capacity.next_power_of_two());
        }
    }

    /// Moves every connection into an array of `capacity` slots (a power of two, at least `len`); the
    /// displaced ones go home if they can.
    #[cold]
    fn resize(&mut self, capacity: usize) {
        let old = core::mem::take(&mut self.slots);
        self.slots.resize_with(capacity, || None);
        let displaced = core::mem::take(&mut self.displaced);
        for tcb in old.into_iter().flatten().chain(displaced) {
            self.place(tcb);
        }
    }

    /// Connections in the table (taken-out ones are not).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Every handle, in handle order.
    pub(crate) fn handles(&self) -> Vec<SocketHandle> {
        let mut v: Vec<SocketHandle> = self.slots.iter().flatten().chain(&self.displaced).map(|t| t.handle).collect();
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
        let cfg = crate::config::TcpConfig::default();
        Box::new(Tcb::new(SocketHandle(h), crate::tcp::TcpState::SynSent, ends, initial, &cfg))
    }

    fn found(t: &ConnTable, h: u32) -> bool {
        t.get(&SocketHandle(h)).is_some_and(|x| x.handle == SocketHandle(h))
    }

    #[test]
    fn a_connection_goes_back_where_it_was_taken_from_even_if_the_table_moved() {
        let mut t = ConnTable::default();
        for h in 1..5 {
            t.put(tcb(h));
        }
        let a = t.take(&SocketHandle(2)).unwrap();
        assert!(t.get(&SocketHandle(2)).is_none() && t.get_mut(&SocketHandle(2)).is_none(), "taken out");
        assert!(t.take(&SocketHandle(2)).is_none(), "already out");
        t.put(a);
        assert!(found(&t, 2));
        // The table grows (every entry moves) while one is out.
        let b = t.take(&SocketHandle(1)).unwrap();
        for h in 5..10_000 {
            t.put(tcb(h));
        }
        t.put(b);
        assert!((1..10_000).all(|h| found(&t, h)));
        assert!(t.displaced.is_empty(), "handles in a window narrower than the table never share a slot");
        assert_eq!(t.slots.len(), 16_384);
        // Two out at once (a take nested in another), put back in the other order.
        let c = t.take(&SocketHandle(3)).unwrap();
        let d = t.take(&SocketHandle(5)).unwrap();
        assert!(found(&t, 4) && !found(&t, 3) && !found(&t, 5));
        t.put(d);
        t.put(c);
        assert!((1..10_000).all(|h| found(&t, h)));
        // Emptied out: the table shrinks, and what is left is still found.
        let e = t.take(&SocketHandle(9_999)).unwrap();
        for h in 1..9_990 {
            t.remove(&SocketHandle(h));
        }
        t.put(e);
        assert!(t.slots.len() <= 2 * SHRINK_FLOOR, "{}", t.slots.len());
        assert_eq!(t.handles(), (9_990..10_000).map(SocketHandle).collect::<Vec<_>>());
    }

    #[test]
    fn handles_a_capacity_apart_share_a_slot_and_are_all_found() {
        let mut t = ConnTable::default();
        // 1, 17, 33, 49 and 65 all want slot 1 of the first 16; later ones go beside until the table grows.
        let hs: Vec<u32> = (0..5).map(|i| 1 + 16 * i).collect();
        for &h in &hs {
            t.put(tcb(h));
        }
        assert!(!t.displaced.is_empty());
        assert!(hs.iter().all(|&h| found(&t, h)));
        // One beside is taken out and put back; the one in the slot leaves, and the slot's next owner is the
        // connection put next (the displaced stay where they are until the table moves).
        let x = t.take(&SocketHandle(33)).unwrap();
        assert!(!found(&t, 33));
        t.put(x);
        t.remove(&SocketHandle(1));
        assert!(t.get(&SocketHandle(1)).is_none());
        t.put(tcb(81));
        assert!([17, 33, 49, 65, 81].iter().all(|&h| found(&t, h)));
        // Growing re-places every connection, the displaced ones at home where they can be.
        for h in 100..120 {
            t.put(tcb(h));
        }
        assert!([17, 33, 49, 65, 81].iter().all(|&h| found(&t, h)));
        assert!((100..120).all(|h| found(&t, h)));
        assert_eq!(t.handles().len(), 25);
        let mut all = vec![17, 33, 49, 65, 81];
        all.extend(100..120);
        assert_eq!(t.handles(), all.into_iter().map(SocketHandle).collect::<Vec<_>>());
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

    proptest::proptest! {
        /// Opening connections in handle order, closing any, and taking one or two out and putting them back in
        /// any order: every connection in the table is found under its handle and no other, none that is out
        /// is, and the handles listed are the model's.
        #[test]
        fn finds_what_a_model_holds(ops in proptest::collection::vec((0u8..4, 0usize..64), 0..1500)) {
            let mut t = ConnTable::default();
            let mut held = std::collections::BTreeSet::new();
            let mut out: Vec<Box<Tcb>> = Vec::new();
            let mut next = 1u32;
            for (op, pick) in ops {
                let nth = |set: &std::collections::BTreeSet<u32>| set.iter().nth(pick % set.len().max(1)).copied();
                match op {
                    0 => {
                        // Handles grow, sometimes by a stride that makes live ones share a slot.
                        next += if pick % 7 == 0 { 64 } else { 1 };
                        t.put(tcb(next));
                        held.insert(next);
                    }
                    1 => {
                        if let Some(h) = nth(&held) {
                            t.remove(&SocketHandle(h));
                            held.remove(&h);
                        }
                    }
                    2 if out.len() < 2 => {
                        if let Some(h) = nth(&held) {
                            let x = t.take(&SocketHandle(h));
                            proptest::prop_assert!(x.as_ref().is_some_and(|x| x.handle == SocketHandle(h)));
                            proptest::prop_assert!(t.take(&SocketHandle(h)).is_none(), "already out");
                            out.extend(x);
                            held.remove(&h);
                        }
                    }
                    _ => {
                        if !out.is_empty() {
                            let x = out.swap_remove(pick % out.len());
                            held.insert(x.handle.0);
                            t.put(x);
                        }
                    }
                }
                // Every connection held, every one out, and the newest handles (held or gone).
                let recent = next.saturating_sub(130)..=next;
                for h in held.iter().copied().chain(out.iter().map(|x| x.handle.0)).chain(recent) {
                    let want = held.contains(&h);
                    proptest::prop_assert_eq!(t.get(&SocketHandle(h)).map(|x| x.handle), want.then_some(SocketHandle(h)));
                }
                proptest::prop_assert_eq!(t.len, held.len());
            }
            let listed: Vec<u32> = t.handles().iter().map(|h| h.0).collect();
            proptest::prop_assert_eq!(listed, held.into_iter().collect::<Vec<_>>());
        }
    }
}
