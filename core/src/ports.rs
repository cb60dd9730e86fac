//! Local ports: deterministic ephemeral port (and ping identifier) allocation, and which socket holds each
//! bound port per address family.

use crate::api::{CommandError, SocketHandle};
use core::net::IpAddr;
use std::collections::BTreeMap;

/// Hands out numbers from `lo..=hi`, starting at a seed-derived point and moving forward, skipping used ones;
/// or, [`PortAllocator::randomized`], from a fresh seed-derived point each time.
#[derive(Debug)]
pub(crate) struct PortAllocator {
    lo: u16,
    hi: u16,
    cursor: u16,
    /// Where the next random starting point comes from (randomized allocators only).
    random: Option<u64>,
}

impl PortAllocator {
    pub(crate) fn new(lo: u16, hi: u16, seed: u64) -> PortAllocator {
        let span = u64::from(hi - lo) + 1;
        let cursor = lo + (seed % span) as u16;
        PortAllocator { lo, hi, cursor, random: None }
    }

    /// Each allocation starts at a point of its own (RFC 6056 §3.3.1, as Linux's `udp_lib_get_port`), so one port
    /// seen tells nothing of the next: a DNS query's source port must be unpredictable (RFC 5452 §9.2). Still a
    /// function of the seed, so runs replay.
    pub(crate) fn randomized(lo: u16, hi: u16, seed: u64) -> PortAllocator {
        PortAllocator { random: Some(seed), ..PortAllocator::new(lo, hi, seed) }
    }

    /// The next number for which `in_use` is false, or `None` if all are taken.
    pub(crate) fn allocate(&mut self, in_use: impl Fn(u16) -> bool) -> Option<u16> {
        let span = u32::from(self.hi - self.lo) + 1;
        if let Some(state) = &mut self.random {
            *state = crate::seed::mix64(state.wrapping_add(0x9e37_79b9_7f4a_7c15));
            self.cursor = self.lo + (*state % u64::from(span)) as u16;
        }
        for _ in 0..span {
            let candidate = self.cursor;
            self.cursor = if self.cursor >= self.hi { self.lo } else { self.cursor + 1 };
            if !in_use(candidate) {
                return Some(candidate);
            }
        }
        None
    }
}

/// Which socket holds each bound local port (a listener's, a UDP socket's), per address family.
///
/// A socket bound to an IPv4 address holds the port in the IPv4 table, one bound to an IPv6 address in the
/// IPv6 table; so `0.0.0.0:80` and `[::]:80` are two sockets. A socket on `[::]` takes IPv4 traffic too only
/// when its owner asks for it (`Command::SetIpv6Only` with `false`, the `IPV6_V6ONLY` option): it then holds
/// the port in both tables.
#[derive(Debug, Default)]
pub(crate) struct BoundPorts {
    v4: BTreeMap<u16, SocketHandle>,
    v6: BTreeMap<u16, SocketHandle>,
}

impl BoundPorts {
    fn table(&self, ip: IpAddr) -> &BTreeMap<u16, SocketHandle> {
        if ip.is_ipv4() {
            &self.v4
        } else {
            &self.v6
        }
    }

    fn table_mut(&mut self, ip: IpAddr) -> &mut BTreeMap<u16, SocketHandle> {
        if ip.is_ipv4() {
            &mut self.v4
        } else {
            &mut self.v6
        }
    }

    /// The socket that takes traffic to `port` arriving for address `dst` (of its family).
    pub(crate) fn get(&self, dst: IpAddr, port: u16) -> Option<SocketHandle> {
        self.table(dst).get(&port).copied()
    }

    /// Is `port` held in either family (ephemeral allocation avoids it)?
    pub(crate) fn is_taken(&self, port: u16) -> bool {
        self.v4.contains_key(&port) || self.v6.contains_key(&port)
    }

    /// Gives `port` of `local`'s family to `h`.
    pub(crate) fn bind(&mut self, local: IpAddr, port: u16, h: SocketHandle) -> Result<(), CommandError> {
        let table = self.table_mut(local);
        if table.contains_key(&port) {
            return Err(CommandError::AddrInUse(port));
        }
        table.insert(port, h);
        Ok(())
    }

    /// Lets `h`, bound to `port` of `[::]`, take IPv4 traffic to the port too (`dual`), or stop taking it.
    pub(crate) fn set_dual(&mut self, port: u16, h: SocketHandle, dual: bool) -> Result<(), CommandError> {
        match self.v4.get(&port) {
            Some(holder) if *holder != h && dual => return Err(CommandError::AddrInUse(port)),
            Some(holder) if *holder == h && !dual => {
                self.v4.remove(&port);
            }
            None if dual => {
                self.v4.insert(port, h);
            }
            _ => {}
        }
        Ok(())
    }

    /// Does `h` hold `port` in the IPv4 table too (a dual-stack socket)?
    pub(crate) fn is_dual(&self, port: u16, h: SocketHandle) -> bool {
        self.v6.get(&port) == Some(&h) && self.v4.get(&port) == Some(&h)
    }

    /// `h` gives up `port` in both families.
    pub(crate) fn release(&mut self, port: u16, h: SocketHandle) {
        for table in [&mut self.v4, &mut self.v6] {
            if table.get(&port) == Some(&h) {
                table.remove(&port);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_hold_ports_apart_unless_dual() {
        let (v4, v6): (IpAddr, IpAddr) = ("0.0.0.0".parse().unwrap(), "::".parse().unwrap());
        let mut b = BoundPorts::default();
        let (a, c) = (SocketHandle(1), SocketHandle(2));
        b.bind(v6, 80, a).unwrap();
        assert_eq!(b.get(v6, 80), Some(a));
        assert_eq!(b.get(v4, 80), None, "IPv6-only by default");
        assert!(b.is_taken(80));
        b.set_dual(80, a, true).unwrap();
        assert_eq!(b.get(v4, 80), Some(a));
        assert!(b.is_dual(80, a));
        assert_eq!(b.bind(v4, 80, c), Err(CommandError::AddrInUse(80)));
        b.set_dual(80, a, false).unwrap();
        b.bind(v4, 80, c).unwrap();
        assert_eq!(b.set_dual(80, a, true), Err(CommandError::AddrInUse(80)));
        b.release(80, a);
        assert_eq!(b.get(v6, 80), None);
        assert_eq!(b.get(v4, 80), Some(c));
        b.release(80, c);
        assert!(!b.is_taken(80));
    }

    #[test]
    fn skips_used_and_wraps() {
        let mut a = PortAllocator::new(10, 12, 1);
        assert_eq!(a.allocate(|_| false), Some(11));
        assert_eq!(a.allocate(|p| p == 12), Some(10));
        assert_eq!(a.allocate(|_| true), None);
        let mut full = PortAllocator::new(1, 65535, 0);
        assert_eq!(full.allocate(|p| p != 65535), Some(65535));
    }

    #[test]
    fn randomized_allocations_start_anywhere_and_replay() {
        let ports = |seed| {
            let mut a = PortAllocator::randomized(1024, 65535, seed);
            (0..8).map(|_| a.allocate(|_| false).unwrap()).collect::<Vec<_>>()
        };
        let p = ports(7);
        assert!(p.windows(2).all(|w| w[1].abs_diff(w[0]) != 1), "consecutive ports: {p:?}");
        assert_eq!(p, ports(7), "the same seed gives the same ports");
        assert_ne!(p, ports(8));
        let mut a = PortAllocator::randomized(10, 12, 3);
        assert_eq!(a.allocate(|p| p != 11), Some(11), "still finds the one free port");
        assert_eq!(a.allocate(|_| true), None);
    }
}
