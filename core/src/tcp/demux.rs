//! Finding a connection by its four-tuple.
//!
//! The tables hash with a secret key (peers choose the remote half of the key, so an unkeyed hash would let
//! them aim at one bucket). IPv4 tuples fit one 64-bit word and live in a table of cache-line buckets (a
//! lookup in a million connections waits for memory once, not twice); IPv6 ones in a general hash table.
//! Frames arrive in runs for one connection (a bulk transfer is almost nothing else), so the last tuple found
//! is remembered and a frame of the same connection skips the keyed hash.

use super::bucket_table::BucketTable;
use super::SeededHasher;
use crate::api::SocketHandle;
use core::hash::{Hash, Hasher};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// What tells an IPv4 connection apart: its four-tuple less our own address (a stack has exactly one IPv4
/// address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key4 {
    pub local_port: u16,
    pub remote_ip: Ipv4Addr,
    pub remote_port: u16,
}

impl Key4 {
    /// The key as one 64-bit word: what the table stores and hashes (one SipHash block).
    fn word(&self) -> u64 {
        let ports = u64::from(self.local_port) << 48 | u64::from(self.remote_port) << 32;
        ports | u64::from(self.remote_ip.to_bits())
    }
}

/// What tells an IPv6 connection apart: the whole four-tuple (a host has several IPv6 addresses: link-local,
/// global, temporary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key6 {
    pub local_ip: Ipv6Addr,
    pub local_port: u16,
    pub remote_ip: Ipv6Addr,
    pub remote_port: u16,
}

/// As [`Key4`]'s: whole words, no length prefixes.
impl Hash for Key6 {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u128(self.local_ip.to_bits());
        state.write_u128(self.remote_ip.to_bits());
        state.write_u32(u32::from(self.local_port) << 16 | u32::from(self.remote_port));
    }
}

/// A connection's four-tuple as the lookup table keys it, per address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConnectionKey {
    V4(Key4),
    V6(Key6),
}

impl ConnectionKey {
    /// The key of the connection between `local` and `remote` (an IPv4 `local` address is ignored: it is ours).
    /// Mixed families cannot form a connection; they key as IPv6 with the IPv4 address mapped, which matches
    /// nothing.
    #[inline]
    pub(crate) fn new(local: SocketAddr, remote: SocketAddr) -> ConnectionKey {
        ConnectionKey::of_segment(&local.ip(), local.port(), &remote.ip(), remote.port())
    }

    /// The key of a segment to `local_ip:local_port` from `remote_ip:remote_port`.
    ///
    /// The addresses are borrowed: the received datagram's were just written field by field, and copying a
    /// whole `IpAddr` out of it read them back in wider pieces than were written (the CPU stalls when store
    /// forwarding fails); an IPv4 segment reads only the family and the remote address.
    #[inline]
    pub(crate) fn of_segment(
        local_ip: &IpAddr,
        local_port: u16,
        remote_ip: &IpAddr,
        remote_port: u16,
    ) -> ConnectionKey {
        match (local_ip, remote_ip) {
            (IpAddr::V4(_), IpAddr::V4(remote_ip)) => {
                ConnectionKey::V4(Key4 { local_port, remote_ip: *remote_ip, remote_port })
            }
            (l, r) => ConnectionKey::V6(Key6 { local_ip: mapped(l), local_port, remote_ip: mapped(r), remote_port }),
        }
    }
}

fn mapped(ip: &IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => *v6,
    }
}

/// Every linked connection by four-tuple (one table per family, so the IPv4 key stays small), plus the last
/// one looked up.
#[derive(Debug)]
pub(crate) struct Demux {
    map4: BucketTable,
    map6: HashMap<Key6, SocketHandle, SeededHasher>,
    /// The last successful lookup; always a current entry of a map (cleared whenever an entry goes).
    last: Option<(ConnectionKey, SocketHandle)>,
}

impl Demux {
    pub(crate) fn new(hasher: SeededHasher) -> Demux {
        Demux { map4: BucketTable::new(hasher.clone()), map6: HashMap::with_hasher(hasher), last: None }
    }

    fn get(&self, key: &ConnectionKey) -> Option<SocketHandle> {
        match key {
            ConnectionKey::V4(k) => self.map4.get(k.word()),
            ConnectionKey::V6(k) => self.map6.get(k).copied(),
        }
    }

    /// The connection using `key`, if any.
    pub(crate) fn find(&mut self, key: &ConnectionKey) -> Option<SocketHandle> {
        match self.last {
            Some((k, h)) if k == *key => Some(h),
            _ => {
                let h = self.get(key)?;
                self.last = Some((*key, h));
                Some(h)
            }
        }
    }

    pub(crate) fn contains(&self, key: &ConnectionKey) -> bool {
        self.get(key).is_some()
    }

    /// Makes `key` find `h` (replacing what it found). The new entry becomes the remembered lookup: the next
    /// segment is most often the new connection's own (the SYN-ACK to our SYN, the ACK to our SYN-ACK), which
    /// then skips the keyed hash and the probe.
    pub(crate) fn insert(&mut self, key: ConnectionKey, h: SocketHandle) {
        match key {
            ConnectionKey::V4(k) => self.map4.insert(k.word(), h),
            ConnectionKey::V6(k) => drop(self.map6.insert(k, h)),
        }
        self.last = Some((key, h));
    }

    /// Removes `key` if it still belongs to `h` (a later connection may have taken the tuple over).
    pub(crate) fn remove_if(&mut self, key: &ConnectionKey, h: SocketHandle) {
        let removed = match *key {
            ConnectionKey::V4(k) => self.map4.remove_if(k.word(), h),
            ConnectionKey::V6(k) => remove_if_held(&mut self.map6, k, h),
        };
        if removed && self.last.is_some_and(|(k, _)| k == *key) {
            self.last = None;
        }
    }
}

/// Removes `key` from `map` if `h` holds it (one hash and probe for the look and the removal); returns whether it
/// did.
fn remove_if_held(map: &mut HashMap<Key6, SocketHandle, SeededHasher>, key: Key6, h: SocketHandle) -> bool {
    match map.entry(key) {
        Entry::Occupied(e) if *e.get() == h => {
            e.remove();
            super::table::release_spare_capacity(map);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demux() -> Demux {
        Demux::new(SeededHasher(1, 2))
    }

    const A: ConnectionKey =
        ConnectionKey::V4(Key4 { local_port: 80, remote_ip: Ipv4Addr::new(10, 0, 0, 2), remote_port: 40_000 });
    const B: ConnectionKey =
        ConnectionKey::V4(Key4 { local_port: 80, remote_ip: Ipv4Addr::new(10, 0, 0, 3), remote_port: 40_000 });

    #[test]
    fn the_remembered_lookup_never_outlives_its_entry() {
        let mut d = demux();
        d.insert(A, SocketHandle(1));
        d.insert(B, SocketHandle(2));
        assert_eq!(d.find(&A), Some(SocketHandle(1)));
        assert_eq!(d.find(&A), Some(SocketHandle(1)));
        // Removal by another handle leaves the entry (and the remembered lookup) alone.
        d.remove_if(&A, SocketHandle(9));
        assert_eq!(d.find(&A), Some(SocketHandle(1)));
        d.remove_if(&A, SocketHandle(1));
        assert_eq!(d.find(&A), None);
        assert!(!d.contains(&A));
        // A new connection on the same tuple is found, not the old one.
        d.insert(A, SocketHandle(3));
        assert_eq!(d.find(&A), Some(SocketHandle(3)));
        d.insert(A, SocketHandle(4));
        assert_eq!(d.find(&A), Some(SocketHandle(4)));
        assert_eq!(d.find(&B), Some(SocketHandle(2)));
        let ConnectionKey::V4(a) = A else { unreachable!() };
        assert_eq!(d.find(&ConnectionKey::V4(Key4 { local_port: 81, ..a })), None);
    }

    #[test]
    fn a_new_entry_is_the_remembered_lookup_until_it_goes() {
        let mut d = demux();
        d.insert(A, SocketHandle(1));
        assert_eq!(d.last, Some((A, SocketHandle(1))));
        d.insert(B, SocketHandle(2));
        assert_eq!(d.last, Some((B, SocketHandle(2))));
        assert_eq!(d.find(&A), Some(SocketHandle(1)), "the earlier entry is still found");
        d.insert(B, SocketHandle(3));
        assert_eq!(d.find(&B), Some(SocketHandle(3)), "the replacement, not the remembered old one");
        d.remove_if(&B, SocketHandle(3));
        assert_eq!(d.last, None);
        assert_eq!(d.find(&B), None);
        assert_eq!(d.find(&A), Some(SocketHandle(1)));
    }
}
