//! IPv4 Identification values (RFC 791, RFC 6864) that tell a peer nothing about traffic to others. One global
//! counter let anyone who pings the host count every datagram it sent to everyone else in between (the "idle
//! scan" of RFC 6274 §3.5.2; RFC 7739 says the same of IPv6 fragment IDs). As Linux's `ip_idents_reserve`, each
//! datagram draws from one of 2,048 counters chosen by a keyed hash of its source, destination and protocol,
//! each counter starting at a seeded value: a peer sees its own datagrams counted, and nobody else's.

use crate::wire::IpProtocol;
use core::hash::Hasher;
use core::net::Ipv4Addr;

/// How many counters the flows share (Linux: at least 2,048).
const COUNTERS: usize = 2048;

#[derive(Debug)]
pub(crate) struct IpIdents {
    key: (u64, u64),
    counters: Box<[u16]>,
    /// The last flow drawn for (its addresses as one word, its protocol) and its counter: a run of datagrams
    /// to one destination hashes once. Protocol 255 (reserved) marks none yet.
    last: (u64, u8, u16),
}

impl IpIdents {
    /// Counters keyed and started from `seed` (a value the stack derives for this purpose).
    pub(crate) fn new(seed: u64) -> IpIdents {
        let key = (crate::seed::mix64(seed), crate::seed::mix64(seed ^ crate::seed::GOLDEN_GAMMA));
        let counters = (0..COUNTERS as u64).map(|i| crate::seed::mix64(key.1 ^ i) as u16).collect();
        IpIdents { key, counters, last: (0, 255, 0) }
    }

    /// The Identification of the next datagram from `src` to `dst` carrying `protocol`.
    pub(crate) fn next(&mut self, src: Ipv4Addr, dst: Ipv4Addr, protocol: IpProtocol) -> u16 {
        let (flow, protocol) = ((u64::from(src.to_bits()) << 32) | u64::from(dst.to_bits()), u8::from(protocol));
        let slot = match self.last {
            (f, p, slot) if (f, p) == (flow, protocol) => usize::from(slot),
            _ => {
                let mut h = siphasher::sip::SipHasher13::new_with_keys(self.key.0, self.key.1);
                h.write_u64(flow);
                h.write_u8(protocol);
                let slot = h.finish() as usize % COUNTERS;
                self.last = (flow, protocol, slot as u16);
                slot
            }
        };
        let Some(counter) = self.counters.get_mut(slot) else { return 0 };
        let id = *counter;
        *counter = id.wrapping_add(1);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_destination_counts_only_its_own_datagrams() {
        let mut ids = IpIdents::new(7);
        let (me, a, b) = (Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 3));
        let first = ids.next(me, a, IpProtocol::Icmp);
        for _ in 0..5 {
            ids.next(me, b, IpProtocol::Icmp);
        }
        let second = ids.next(me, a, IpProtocol::Icmp);
        // Unless the two flows share a counter (1 in 2,048; not for this seed), A sees consecutive IDs.
        assert_eq!(second, first.wrapping_add(1));
        assert_eq!(IpIdents::new(7).next(me, a, IpProtocol::Icmp), first, "deterministic from the seed");
        assert_ne!(IpIdents::new(8).next(me, a, IpProtocol::Icmp), first, "and different for another seed");
    }
}
