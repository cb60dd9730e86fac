//! Finding a connection by its four-tuple.
//!
//! The table hashes with a secret key (peers choose the remote half of the key, so an unkeyed hash would let
//! them aim at one bucket). Frames arrive in runs for one connection (a bulk transfer is almost nothing
//! else), so the last tuple found is remembered and a frame of the same connection skips the keyed hash.

use super::SeededHasher;
use crate::api::SocketHandle;
use core::net::{Ipv4Addr, SocketAddrV4};
use std::collections::HashMap;

/// What tells a connection apart: its four-tuple, less our own address (a stack has exactly one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ConnectionKey {
    pub local_port: u16,
    pub remote_ip: Ipv4Addr,
    pub remote_port: u16,
}

impl ConnectionKey {
    pub(crate) fn new(local_port: u16, remote: SocketAddrV4) -> ConnectionKey {
        ConnectionKey { local_port, remote_ip: *remote.ip(), remote_port: remote.port() }
    }
}

/// Every linked connection by four-tuple, plus the last one looked up.
#[derive(Debug)]
pub(crate) struct Demux {
    map: HashMap<ConnectionKey, SocketHandle, SeededHasher>,
    /// The last successful lookup; always a current entry of `map` (cleared whenever an entry goes).
    last: Option<(ConnectionKey, SocketHandle)>,
}

impl Demux {
    pub(crate) fn new(hasher: SeededHasher) -> Demux {
        Demux { map: HashMap::with_hasher(hasher), last: None }
    }

    /// The connection using `key`, if any.
    pub(crate) fn find(&mut self, key: &ConnectionKey) -> Option<SocketHandle> {
        match self.last {
            Some((k, h)) if k == *key => Some(h),
            _ => {
                let h = *self.map.get(key)?;
                self.last = Some((*key, h));
                Some(h)
            }
        }
    }

    pub(crate) fn contains(&self, key: &ConnectionKey) -> bool {
        self.map.contains_key(key)
    }

    pub(crate) fn insert(&mut self, key: ConnectionKey, h: SocketHandle) {
        if self.last.is_some_and(|(k, _)| k == key) {
            self.last = None;
        }
        self.map.insert(key, h);
    }

    /// Removes `key` if it still belongs to `h` (a later connection may have taken the tuple over).
    pub(crate) fn remove_if(&mut self, key: &ConnectionKey, h: SocketHandle) {
        if self.map.get(key) == Some(&h) {
            self.map.remove(key);
            super::table::release_spare_capacity(&mut self.map);
            if self.last.is_some_and(|(k, _)| k == *key) {
                self.last = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demux() -> Demux {
        Demux::new(SeededHasher(1, 2))
    }

    const A: ConnectionKey =
        ConnectionKey { local_port: 80, remote_ip: Ipv4Addr::new(10, 0, 0, 2), remote_port: 40_000 };
    const B: ConnectionKey =
        ConnectionKey { local_port: 80, remote_ip: Ipv4Addr::new(10, 0, 0, 3), remote_port: 40_000 };

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
        assert_eq!(d.find(&ConnectionKey { local_port: 81, ..A }), None);
    }
}
