//! The connection table: every TCB by socket handle.
//!
//! Handling an input takes a connection out of the table (so the stack can be borrowed mutably while the
//! connection works) and puts it back afterwards. The table keeps the slot while the connection is out, so
//! taking and putting back are two lookups, not a removal and a re-insertion.

use super::tcb::Tcb;
use crate::api::SocketHandle;
use core::hash::{BuildHasher, Hash};
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
    if map.capacity() > SHRINK_FLOOR && map.len() < map.capacity() / 8 {
        map.shrink_to((map.len() * 2).max(SHRINK_FLOOR));
    }
}

/// Connections by handle. A slot is `None` only while its connection is taken out.
#[derive(Debug, Default)]
pub(crate) struct ConnTable {
    /// Boxed so that taking a connection out and putting it back moves a pointer, not the TCB.
    slots: HashMap<SocketHandle, Option<Box<Tcb>>, HandleHasher>,
}

impl ConnTable {
    pub(crate) fn get(&self, h: &SocketHandle) -> Option<&Tcb> {
        self.slots.get(h)?.as_deref()
    }

    pub(crate) fn get_mut(&mut self, h: &SocketHandle) -> Option<&mut Tcb> {
        self.slots.get_mut(h)?.as_deref_mut()
    }

    /// Takes a connection out to work on it; [`ConnTable::put`] or [`ConnTable::remove`] must follow.
    pub(crate) fn take(&mut self, h: &SocketHandle) -> Option<Box<Tcb>> {
        self.slots.get_mut(h)?.take()
    }

    /// Puts a connection (back, or for the first time) into its slot.
    pub(crate) fn put(&mut self, h: SocketHandle, tcb: Box<Tcb>) {
        *self.slots.entry(h).or_default() = Some(tcb);
    }

    /// Forgets the slot of a connection that is gone.
    pub(crate) fn remove(&mut self, h: &SocketHandle) {
        self.slots.remove(h);
        release_spare_capacity(&mut self.slots);
    }

    /// Every handle, in handle order.
    pub(crate) fn handles(&self) -> Vec<SocketHandle> {
        let mut v: Vec<SocketHandle> = self.slots.keys().copied().collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
