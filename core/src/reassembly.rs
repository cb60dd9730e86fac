//! IPv4 and IPv6 fragment reassembly (RFC 791 §3.2, RFC 8200 §4.5, RFC 815 hole tracking), bounded in time
//! and memory.
//!
//! A fragment that overlaps data already held drops the whole datagram, as Linux does since 2018
//! (`inet_frag_queue_insert`): overlaps are a classic evasion and resource attack, and no honest sender produces
//! them. Only a fragment lying wholly within a run of data already held is taken for a retransmission and
//! ignored (the data held stays); for IPv6 its bytes must also be the same (RFC 5722 and its errata 3089).

use crate::config::ReassemblyConfig;
use crate::stats::DropReason;
use crate::time::Instant;
use crate::wire::{EcnCodepoint, IpProtocol};
use core::net::IpAddr;
use std::collections::BTreeMap;

/// Largest IPv4 payload: 65,535 minus the minimum header.
const MAX_PAYLOAD: usize = 65_535 - 20;
/// Largest IPv6 fragmentable part: the payload length field's reach.
const MAX_PAYLOAD_V6: usize = 65_535;
/// An IPv6 fragment's header, which the reassembled packet no longer carries.
const FRAGMENT_HEADER_LEN: usize = 8;

/// Identifies the datagram a fragment belongs to (RFC 791: source, destination, protocol, identification;
/// RFC 8200 §4.5: source, destination, identification, with `protocol` the fragment header's type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct FragmentKey {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: IpProtocol,
    pub ident: u32,
}

/// One fragment as the IPv4 layer hands it over.
#[derive(Debug)]
pub(crate) struct Fragment<'a> {
    pub key: FragmentKey,
    /// Byte offset of `data` within the datagram's payload.
    pub offset: usize,
    pub more_frags: bool,
    /// The fragment's IP header (kept from the first fragment for ICMP errors; an IPv6 one through its
    /// fragment header).
    pub header: &'a [u8],
    pub data: &'a [u8],
    /// The fragment's ECN codepoint: the datagram's is decided from all of them (RFC 3168 §5.3).
    pub ecn: EcnCodepoint,
}

#[derive(Debug)]
struct Partial {
    data: Vec<u8>,
    /// Received byte ranges `[start, end)`, sorted and non-adjacent.
    ranges: Vec<(usize, usize)>,
    /// Known once the last fragment (MF clear) arrived.
    total_len: Option<usize>,
    /// IP header of the offset-0 fragment, if it arrived.
    first_header: Option<Vec<u8>>,
    /// Bytes of data the offset-0 fragment carried (what a time exceeded quotes after its header).
    first_len: usize,
    deadline: Instant,
    /// Insertion number: eviction order and timer identity.
    serial: u64,
    /// The ECN codepoints the fragments carried, one bit each (`1 << codepoint`).
    ecn_seen: u8,
    /// The offset-0 fragment's codepoint.
    first_ecn: EcnCodepoint,
}

impl Partial {
    fn is_complete(&self) -> bool {
        matches!((self.total_len, self.ranges.as_slice()), (Some(t), [(0, end)]) if *end == t)
    }
}

/// A reassembled datagram.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Datagram {
    pub header: Vec<u8>,
    pub payload: Vec<u8>,
    /// The datagram's ECN codepoint: CE if any fragment was marked (a mark must not be lost), else the first
    /// fragment's.
    pub ecn: EcnCodepoint,
}

/// RFC 3168 §5.3, as Linux's `ip_frag_ecn_table`: fragments that mix Not-ECT with ECN-capable codepoints cannot
/// be one ECN-capable datagram (a CE mark would be lost, or set on a datagram whose transport ignores it): the
/// datagram is dropped. Otherwise a CE on any fragment marks the whole datagram.
fn combined_ecn(seen: u8, first: EcnCodepoint) -> Option<EcnCodepoint> {
    let not_ect = 1 << EcnCodepoint::NotEct.bits();
    if seen & not_ect != 0 && seen != not_ect {
        return None;
    }
    Some(if seen & (1 << EcnCodepoint::Ce.bits()) != 0 { EcnCodepoint::Ce } else { first })
}

/// What became of a fragment.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Stored; the datagram is still incomplete. Schedule a timer for `(deadline, serial)` if `new`.
    Stored { new: Option<(Instant, u64)> },
    /// The datagram is complete.
    Complete(Datagram),
    /// The fragment (and possibly its datagram) was dropped.
    Dropped(DropReason),
}

/// A datagram given up on, reported so the caller can count it and maybe send ICMP time exceeded.
#[derive(Debug)]
pub(crate) struct Expired {
    /// The first fragment (header and data) as it arrived, if it did.
    pub original: Option<Vec<u8>>,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The first fragment's header length (of `original`).
    pub header_len: usize,
}

#[derive(Debug)]
pub(crate) struct Reassembler {
    config: ReassemblyConfig,
    partials: BTreeMap<FragmentKey, Partial>,
    /// serial -> key, oldest first: eviction and timer lookup without scanning.
    by_serial: BTreeMap<u64, FragmentKey>,
    bytes_held: usize,
    next_serial: u64,
}

impl Reassembler {
    pub(crate) fn new(config: ReassemblyConfig) -> Reassembler {
        Reassembler { config, partials: BTreeMap::new(), by_serial: BTreeMap::new(), bytes_held: 0, next_serial: 0 }
    }

    /// Incomplete datagrams held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.partials.len()
    }

    #[cfg(test)]
    pub(crate) fn bytes_held(&self) -> usize {
        self.bytes_held
    }

    /// Adds one fragment. `evicted` receives the count of datagrams pushed out by the memory bound.
    pub(crate) fn add(&mut self, frag: Fragment<'_>, now: Instant, evicted: &mut u64) -> Outcome {
        let start = frag.offset;
        let end = start + frag.data.len();
        let ipv6 = frag.key.src.is_ipv6();
        if end > if ipv6 { MAX_PAYLOAD_V6 } else { MAX_PAYLOAD } {
            self.remove(&frag.key);
            return Outcome::Dropped(DropReason::FragmentTooLarge);
        }
        let mut new = None;
        if !self.partials.contains_key(&frag.key) {
            while self.partials.len() >= self.config.max_datagrams {
                if !self.evict_oldest() {
                    break;
                }
                *evicted += 1;
            }
            let serial = self.next_serial;
            self.next_serial += 1;
            // RFC 8200 §4.5: an IPv6 packet is given 60 s (Linux's `ip6frag_time`); IPv4 Linux's 30 s.
            let deadline = now + if ipv6 { self.config.timeout_ipv6 } else { self.config.timeout };
            self.partials.insert(
                frag.key,
                Partial {
                    data: Vec::new(),
                    ranges: Vec::new(),
                    total_len: None,
                    first_header: None,
                    first_len: 0,
                    deadline,
                    serial,
                    ecn_seen: 0,
                    first_ecn: EcnCodepoint::NotEct,
                },
            );
            self.by_serial.insert(serial, frag.key);
            new = Some((deadline, serial));
        }
        let Some(p) = self.partials.get_mut(&frag.key) else {
            return Outcome::Dropped(DropReason::ReassemblyEvicted);
        };
        // The last fragment fixes the length; a conflicting length or data past it is bogus.
        let bogus_len = match (frag.more_frags, p.total_len) {
            (false, Some(t)) => t != end,
            (false, None) => p.ranges.last().is_some_and(|r| r.1 > end),
            (true, Some(t)) => end > t,
            (true, None) => false,
        };
        if bogus_len {
            self.remove(&frag.key);
            return Outcome::Dropped(DropReason::FragmentOverlap);
        }
        if !frag.more_frags {
            p.total_len = Some(end);
        }
        // Overlap: a fragment wholly within a run already held is a duplicate (an IPv6 one only with the same
        // bytes) and is ignored; any other overlap drops everything.
        for &(s, e) in &p.ranges {
            let (os, oe) = (s.max(start), e.min(end));
            if os >= oe {
                continue;
            }
            let within = start >= s && end <= e;
            if !within || (ipv6 && p.data[os..oe] != frag.data[os - start..oe - start]) {
                self.remove(&frag.key);
                return Outcome::Dropped(DropReason::FragmentOverlap);
            }
            return Outcome::Stored { new };
        }
        let grow = end.saturating_sub(p.data.len());
        if grow > 0 {
            if self.bytes_held + grow > self.config.max_bytes {
                // Evict older datagrams to make room; if this one alone is too big, drop it.
                let serial = p.serial;
                while self.bytes_held + grow > self.config.max_bytes {
                    match self.by_serial.first_key_value() {
                        Some((&s, _)) if s != serial => {
                            self.evict_oldest();
                            *evicted += 1;
                        }
                        _ => {
                            self.remove(&frag.key);
                            return Outcome::Dropped(DropReason::ReassemblyEvicted);
                        }
                    }
                }
            }
            let Some(p) = self.partials.get_mut(&frag.key) else {
                return Outcome::Dropped(DropReason::ReassemblyEvicted);
            };
            p.data.resize(end, 0);
            self.bytes_held += grow;
        }
        let Some(p) = self.partials.get_mut(&frag.key) else {
            return Outcome::Dropped(DropReason::ReassemblyEvicted);
        };
        p.data[start..end].copy_from_slice(frag.data);
        if start == 0 {
            p.first_header = Some(frag.header.to_vec());
            p.first_len = frag.data.len();
            p.first_ecn = frag.ecn;
        }
        p.ecn_seen |= 1 << frag.ecn.bits();
        crate::ranges::insert(&mut p.ranges, start, end);
        if p.is_complete() {
            let Some(done) = self.remove(&frag.key) else {
                return Outcome::Dropped(DropReason::ReassemblyEvicted);
            };
            let Some(header) = done.first_header else {
                return Outcome::Dropped(DropReason::ReassemblyEvicted);
            };
            // The whole datagram must fit its length field (Linux's `ip_frag_reasm`, `ip6_frag_reasm`): the
            // IPv4 header with its options, or the IPv6 headers before the fragment header, count too.
            let length = if ipv6 {
                header.len().saturating_sub(crate::wire::ipv6::HEADER_LEN + FRAGMENT_HEADER_LEN)
            } else {
                header.len()
            } + done.data.len();
            if length > 65_535 {
                return Outcome::Dropped(DropReason::FragmentTooLarge);
            }
            let Some(ecn) = combined_ecn(done.ecn_seen, done.first_ecn) else {
                return Outcome::Dropped(DropReason::FragmentEcnMismatch);
            };
            return Outcome::Complete(Datagram { header, payload: done.data, ecn });
        }
        Outcome::Stored { new }
    }

    /// The timer for `serial` fired: drop that datagram if it is still incomplete and due.
    pub(crate) fn expire(&mut self, serial: u64, now: Instant) -> Option<Expired> {
        let key = *self.by_serial.get(&serial)?;
        if self.partials.get(&key)?.deadline > now {
            return None;
        }
        let p = self.remove(&key)?;
        let header_len = p.first_header.as_ref().map_or(0, Vec::len);
        // The whole first fragment, as Linux quotes it (`ip_expire`, `ip6frag_expire_frag_queue`); the error's
        // sender cuts it to what fits (576 bytes in all for IPv4, 1280 for IPv6).
        let original = p.first_header.map(|mut h| {
            h.extend_from_slice(&p.data[..p.first_len]);
            h
        });
        Some(Expired { original, src: key.src, dst: key.dst, header_len })
    }

    fn evict_oldest(&mut self) -> bool {
        match self.by_serial.first_key_value() {
            Some((_, &key)) => self.remove(&key).is_some(),
            None => false,
        }
    }

    fn remove(&mut self, key: &FragmentKey) -> Option<Partial> {
        let p = self.partials.remove(key)?;
        self.by_serial.remove(&p.serial);
        self.bytes_held -= p.data.len();
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    const KEY: FragmentKey = FragmentKey {
        src: IpAddr::V4(core::net::Ipv4Addr::new(10, 0, 0, 2)),
        dst: IpAddr::V4(core::net::Ipv4Addr::new(10, 0, 0, 1)),
        protocol: IpProtocol::Udp,
        ident: 7,
    };
    const HDR: [u8; 20] = [0x45; 20];

    fn frag(offset: usize, data: &[u8], more: bool) -> Fragment<'_> {
        Fragment { key: KEY, offset, more_frags: more, header: &HDR, data, ecn: EcnCodepoint::NotEct }
    }

    fn payload(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7) as u8).collect()
    }

    #[test]
    fn reassembles_in_any_order_with_duplicates() {
        let p = payload(40);
        let mut r = Reassembler::new(ReassemblyConfig::default());
        let mut ev = 0;
        assert!(matches!(r.add(frag(16, &p[16..32], true), Instant::ZERO, &mut ev), Outcome::Stored { new: Some(_) }));
        assert!(matches!(r.add(frag(32, &p[32..], false), Instant::ZERO, &mut ev), Outcome::Stored { new: None }));
        assert!(matches!(r.add(frag(16, &p[16..32], true), Instant::ZERO, &mut ev), Outcome::Stored { .. }));
        match r.add(frag(0, &p[..16], true), Instant::ZERO, &mut ev) {
            Outcome::Complete(d) => {
                assert_eq!(d.payload, p);
                assert_eq!(d.header, HDR);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!((r.len(), r.bytes_held()), (0, 0));
    }

    #[test]
    fn conflicting_overlap_drops_the_datagram() {
        let p = payload(32);
        let mut r = Reassembler::new(ReassemblyConfig::default());
        let mut ev = 0;
        r.add(frag(0, &p[..16], true), Instant::ZERO, &mut ev);
        let evil = vec![0xee; 16];
        assert_eq!(r.add(frag(8, &evil, true), Instant::ZERO, &mut ev), Outcome::Dropped(DropReason::FragmentOverlap));
        assert_eq!((r.len(), r.bytes_held()), (0, 0));
    }

    #[test]
    fn inconsistent_last_fragment_is_dropped() {
        let p = payload(48);
        let mut r = Reassembler::new(ReassemblyConfig::default());
        let mut ev = 0;
        r.add(frag(32, &p[32..], false), Instant::ZERO, &mut ev);
        assert_eq!(
            r.add(frag(16, &p[16..40], false), Instant::ZERO, &mut ev),
            Outcome::Dropped(DropReason::FragmentOverlap)
        );
    }

    #[test]
    fn oversize_datagram_is_rejected() {
        let mut r = Reassembler::new(ReassemblyConfig::default());
        let mut ev = 0;
        let d = [0u8; 16];
        assert_eq!(
            r.add(frag(65_528, &d, false), Instant::ZERO, &mut ev),
            Outcome::Dropped(DropReason::FragmentTooLarge)
        );
    }

    #[test]
    fn times_out_and_reports_the_first_fragment() {
        let p = payload(32);
        let mut r = Reassembler::new(ReassemblyConfig { timeout: Duration::from_secs(30), ..Default::default() });
        let mut ev = 0;
        let Outcome::Stored { new: Some((deadline, serial)) } = r.add(frag(0, &p[..16], true), Instant::ZERO, &mut ev)
        else {
            panic!()
        };
        assert_eq!(deadline, Instant::from_secs(30));
        assert!(r.expire(serial, Instant::from_secs(29)).is_none());
        let e = r.expire(serial, deadline).unwrap();
        // The whole first fragment: its 20-byte header and its 16 bytes of data.
        assert_eq!(e.original.unwrap().len(), 20 + 16);
        assert_eq!(r.len(), 0);
    }

    #[test]
    fn memory_bound_evicts_oldest() {
        let cfg = ReassemblyConfig { max_bytes: 100, max_datagrams: 10, ..Default::default() };
        let mut r = Reassembler::new(cfg);
        let mut ev = 0;
        let d = [1u8; 64];
        for ident in 0..3u32 {
            let f = Fragment { key: FragmentKey { ident, ..KEY }, ..frag(0, &d, true) };
            r.add(f, Instant::ZERO, &mut ev);
        }
        assert!(r.bytes_held() <= 100);
        assert_eq!(r.len(), 1);
        assert_eq!(ev, 2);
        // A single datagram bigger than the bound is refused.
        let big = [0u8; 101];
        let f = Fragment { key: FragmentKey { ident: 99, ..KEY }, ..frag(0, &big, true) };
        assert_eq!(r.add(f, Instant::ZERO, &mut ev), Outcome::Dropped(DropReason::ReassemblyEvicted));
        assert!(r.bytes_held() <= 100);
    }

    #[test]
    fn datagram_count_bound_evicts_oldest() {
        let cfg = ReassemblyConfig { max_datagrams: 2, ..Default::default() };
        let mut r = Reassembler::new(cfg);
        let mut ev = 0;
        let d = [1u8; 8];
        for ident in 0..5u16 {
            let f = Fragment { key: FragmentKey { ident: u32::from(ident), ..KEY }, ..frag(0, &d, true) };
            r.add(f, Instant::ZERO, &mut ev);
        }
        assert_eq!(r.len(), 2);
        assert_eq!(ev, 3);
    }

    /// RFC 3168 §5.3: a CE on any fragment marks the datagram; Not-ECT mixed with ECN-capable fragments drops it.
    #[test]
    fn the_datagrams_ecn_comes_from_all_its_fragments() {
        let p = payload(32);
        let run = |first: EcnCodepoint, second: EcnCodepoint| {
            let mut r = Reassembler::new(ReassemblyConfig::default());
            let mut ev = 0;
            r.add(Fragment { ecn: first, ..frag(0, &p[..16], true) }, Instant::ZERO, &mut ev);
            match r.add(Fragment { ecn: second, ..frag(16, &p[16..], false) }, Instant::ZERO, &mut ev) {
                Outcome::Complete(d) => Ok(d.ecn),
                Outcome::Dropped(reason) => Err(reason),
                other => panic!("{other:?}"),
            }
        };
        use EcnCodepoint::*;
        assert_eq!(run(Ect0, Ce), Ok(Ce));
        assert_eq!(run(Ce, Ect1), Ok(Ce));
        assert_eq!(run(Ect0, Ect0), Ok(Ect0));
        assert_eq!(run(NotEct, NotEct), Ok(NotEct));
        assert_eq!(run(NotEct, Ce), Err(DropReason::FragmentEcnMismatch));
        assert_eq!(run(Ect1, NotEct), Err(DropReason::FragmentEcnMismatch));
    }

    #[test]
    fn ranges_merge() {
        let mut v = Vec::new();
        crate::ranges::insert(&mut v, 10, 20);
        crate::ranges::insert(&mut v, 30, 40);
        crate::ranges::insert(&mut v, 0, 5);
        assert_eq!(v, vec![(0, 5), (10, 20), (30, 40)]);
        crate::ranges::insert(&mut v, 5, 10);
        assert_eq!(v, vec![(0, 20), (30, 40)]);
        crate::ranges::insert(&mut v, 15, 35);
        assert_eq!(v, vec![(0, 40)]);
    }
}
