//! The ARP neighbour cache (RFC 826, RFC 1122 §2.3.2): resolved entries with expiry, and for unresolved
//! neighbours a bounded queue of frames waiting for the answer plus the retry count.

use crate::api::{Output, SocketHandle};
use crate::config::ArpConfig;
use crate::stack::Stack;
use crate::stats::{DropReason, Layer};
use crate::time::Instant;
use crate::wire::ethernet::{self, EthernetRepr};
use crate::wire::EthernetAddress;
use crate::wire::{ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame};
use core::net::Ipv4Addr;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A complete Ethernet frame whose destination MAC is filled in once the neighbour answers.
#[derive(Debug)]
pub(crate) struct QueuedFrame {
    pub frame: Vec<u8>,
    /// The socket that sent it, told `Unreachable` if resolution fails.
    pub owner: Option<SocketHandle>,
    /// Final IPv4 destination (not the next hop), for the `Unreachable` event.
    pub dst: Ipv4Addr,
    /// Destination port of the queued datagram, for the `Unreachable` event.
    pub port: Option<u16>,
    /// Why it is sent (with `Config::explain`), noted when it leaves.
    pub why: Option<crate::explain::Why>,
}

#[derive(Debug)]
enum Entry {
    /// `refreshing` counts requests sent since the entry went stale (it stays usable meanwhile, like Linux's
    /// STALE/PROBE states, so a busy flow never stalls for a re-resolution).
    Resolved {
        mac: EthernetAddress,
        expires: Instant,
        refreshing: Option<u32>,
    },
    Pending {
        queue: VecDeque<QueuedFrame>,
        requests_sent: u32,
    },
}

/// Result of [`ArpCache::lookup`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    Hit(EthernetAddress),
    /// Usable, but past its lifetime: the caller sends a request and schedules a retry to confirm it.
    Stale(EthernetAddress),
    Miss,
}

/// What the caller must do after [`ArpCache::enqueue`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Enqueued {
    /// A new resolution started: send a request now and schedule a retry.
    SendRequest,
    /// Queued behind a request already in flight.
    Waiting,
    /// Dropped: the neighbour's queue (or the cache) is full.
    Full,
}

/// What the caller must do when a neighbour's retry timer fires.
#[derive(Debug)]
pub(crate) enum Retry {
    /// Still unanswered: send another request and schedule the next retry.
    Resend,
    /// Out of requests: these frames are lost.
    GiveUp(VecDeque<QueuedFrame>),
    /// The entry was resolved or evicted meanwhile (a stale timer).
    Nothing,
}

#[derive(Debug)]
pub(crate) struct ArpCache {
    config: ArpConfig,
    entries: BTreeMap<Ipv4Addr, Entry>,
    /// Resolved entries by expiry, so the one to evict when full is found without a scan.
    by_expiry: BTreeSet<(Instant, Ipv4Addr)>,
    /// Frames queued across all pending entries.
    pending_total: usize,
}

impl ArpCache {
    pub(crate) fn new(config: ArpConfig) -> ArpCache {
        ArpCache { config, entries: BTreeMap::new(), by_expiry: BTreeSet::new(), pending_total: 0 }
    }

    pub(crate) fn retry_interval(&self) -> core::time::Duration {
        self.config.retry_interval
    }

    /// The neighbour's MAC, if known. A stale entry starts a refresh (once) and is used meanwhile.
    pub(crate) fn lookup(&mut self, ip: Ipv4Addr, now: Instant) -> Lookup {
        match self.entries.get_mut(&ip) {
            Some(Entry::Resolved { mac, expires, .. }) if *expires > now => Lookup::Hit(*mac),
            Some(Entry::Resolved { mac, refreshing: Some(_), .. }) => Lookup::Hit(*mac),
            Some(Entry::Resolved { mac, refreshing, .. }) => {
                *refreshing = Some(1);
                Lookup::Stale(*mac)
            }
            _ => Lookup::Miss,
        }
    }

    /// Is a resolved or pending entry present (expired or not)? RFC 826 merges into existing entries only.
    pub(crate) fn contains(&self, ip: Ipv4Addr) -> bool {
        self.entries.contains_key(&ip)
    }

    /// Queues `frame` until `ip` resolves.
    pub(crate) fn enqueue(&mut self, ip: Ipv4Addr, frame: QueuedFrame) -> Enqueued {
        let max_frames = self.config.max_pending_frames;
        if self.pending_total >= self.config.max_pending_total {
            return Enqueued::Full;
        }
        self.pending_total += 1;
        let result = self.enqueue_entry(ip, frame, max_frames);
        if result == Enqueued::Full {
            self.pending_total -= 1;
        }
        result
    }

    fn enqueue_entry(&mut self, ip: Ipv4Addr, frame: QueuedFrame, max_frames: usize) -> Enqueued {
        match self.entries.get_mut(&ip) {
            Some(Entry::Pending { queue, .. }) => {
                if queue.len() >= max_frames {
                    return Enqueued::Full;
                }
                queue.push_back(frame);
                Enqueued::Waiting
            }
            Some(Entry::Resolved { .. }) => {
                // Callers only queue after a miss; a resolved entry means the frame can go now. Keep it simple:
                // treat as a fresh resolution.
                if let Some(Entry::Resolved { expires, .. }) = self.entries.remove(&ip) {
                    self.by_expiry.remove(&(expires, ip));
                }
                self.entries.insert(ip, Entry::Pending { queue: VecDeque::from([frame]), requests_sent: 1 });
                Enqueued::SendRequest
            }
            None => {
                if !self.make_room() {
                    return Enqueued::Full;
                }
                self.entries.insert(ip, Entry::Pending { queue: VecDeque::from([frame]), requests_sent: 1 });
                Enqueued::SendRequest
            }
        }
    }

    /// Records `ip is-at mac`. Creates an entry only if `create` (RFC 826: when the ARP packet targets us);
    /// otherwise just refreshes an existing one. Returns frames that were waiting for this neighbour.
    pub(crate) fn learn(
        &mut self,
        ip: Ipv4Addr,
        mac: EthernetAddress,
        now: Instant,
        create: bool,
    ) -> VecDeque<QueuedFrame> {
        let expires = now + self.config.cache_ttl;
        let waiting = match self.entries.get_mut(&ip) {
            Some(Entry::Pending { queue, .. }) => {
                self.pending_total -= queue.len();
                core::mem::take(queue)
            }
            Some(Entry::Resolved { expires: old, .. }) => {
                self.by_expiry.remove(&(*old, ip));
                VecDeque::new()
            }
            None => {
                if !create || !self.make_room() {
                    return VecDeque::new();
                }
                VecDeque::new()
            }
        };
        self.entries.insert(ip, Entry::Resolved { mac, expires, refreshing: None });
        self.by_expiry.insert((expires, ip));
        waiting
    }

    /// The retry timer for `ip` fired.
    pub(crate) fn on_retry(&mut self, ip: Ipv4Addr) -> Retry {
        let max = self.config.max_requests;
        match self.entries.get_mut(&ip) {
            Some(Entry::Pending { requests_sent, .. }) if *requests_sent < max => {
                *requests_sent += 1;
                Retry::Resend
            }
            Some(Entry::Pending { .. }) => match self.entries.remove(&ip) {
                Some(Entry::Pending { queue, .. }) => {
                    self.pending_total -= queue.len();
                    Retry::GiveUp(queue)
                }
                _ => Retry::Nothing,
            },
            Some(Entry::Resolved { refreshing: Some(n), .. }) if *n < max => {
                *n += 1;
                Retry::Resend
            }
            Some(Entry::Resolved { refreshing: Some(_), expires, .. }) => {
                // The neighbour stopped answering: forget it; the next frame resolves afresh.
                let key = (*expires, ip);
                self.by_expiry.remove(&key);
                self.entries.remove(&ip);
                Retry::Nothing
            }
            _ => Retry::Nothing,
        }
    }

    /// Ensures one free slot, evicting the resolved entry closest to expiry. False if every entry is pending.
    fn make_room(&mut self) -> bool {
        if self.entries.len() < self.config.max_entries {
            return true;
        }
        match self.by_expiry.pop_first() {
            Some((_, victim)) => {
                self.entries.remove(&victim);
                true
            }
            None => false,
        }
    }
}

// ---- The ARP protocol itself: answering, learning, asking. -------------------------------------------------

impl Stack {
    /// An ARP packet arrived (RFC 826 "Packet Reception").
    pub(crate) fn on_arp(&mut self, bytes: &[u8], now: Instant, out: &mut Vec<Output>) {
        let repr = match ArpPacket::new_checked(bytes).and_then(|p| ArpRepr::parse(&p)) {
            Ok(r) => r,
            Err(e) => return self.drop_frame(DropReason::Malformed(Layer::Arp, e)),
        };
        let sender_mac = repr.source_hardware_addr;
        // Our own MAC as the sender would make us send frames to ourselves (found by fuzzing: a corrupted ARP
        // reply); Linux ignores such packets too.
        if !sender_mac.is_unicast() || sender_mac == EthernetAddress([0; 6]) || sender_mac == self.config.mac {
            return self.drop_frame(DropReason::Malformed(Layer::Arp, crate::wire::Error::BadField));
        }
        if self.dhcp_check_arp(&repr, now, out) {
            return self.drop_frame(DropReason::ArpAddressConflict);
        }
        let ours = self.config.ipv4.addr();
        if ours.is_unspecified() {
            // No address yet (waiting for a DHCP lease): no ARP is for us.
            return self.drop_frame(DropReason::ArpNotForUs);
        }
        let sender_ip = repr.source_protocol_addr;
        if sender_ip == ours {
            return self.drop_frame(DropReason::ArpAddressConflict);
        }
        // Linux answers only senders that could be a source of traffic (`arp_process` routes the sender); a
        // probe's 0.0.0.0 is the one exception (RFC 5227).
        if !sender_ip.is_unspecified() && crate::ipv4::impossible_source(sender_ip, self.config.ipv4) {
            return self.drop_frame(DropReason::BadSourceAddress);
        }
        let targets_us = repr.target_protocol_addr == ours;
        // An ARP probe (RFC 5227) has sender 0.0.0.0: nothing to learn, but it may still be answered.
        let learnable = !sender_ip.is_unspecified() && self.config.ipv4.contains(sender_ip);
        let known = self.arp.contains(sender_ip);
        if learnable && (known || targets_us) {
            let waiting = self.arp.learn(sender_ip, sender_mac, now, targets_us);
            for mut queued in waiting {
                EthernetFrame::new_unchecked(&mut queued.frame[..]).set_dst_addr(sender_mac);
                self.transmit_because(queued.frame, queued.why, out);
            }
        }
        if !targets_us {
            if !known {
                self.drop_frame(DropReason::ArpNotForUs);
            }
            return;
        }
        if repr.operation == ArpOperation::Request {
            let reply = ArpRepr {
                operation: ArpOperation::Reply,
                source_hardware_addr: self.config.mac,
                source_protocol_addr: ours,
                target_hardware_addr: sender_mac,
                target_protocol_addr: sender_ip,
            };
            self.stats.arp_replies_sent += 1;
            self.send_arp(sender_mac, &reply, out);
        }
    }

    /// Broadcasts "who has `ip`? tell us".
    pub(crate) fn send_arp_request(&mut self, ip: Ipv4Addr, out: &mut Vec<Output>) {
        let request = ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: self.config.mac,
            source_protocol_addr: self.config.ipv4.addr(),
            target_hardware_addr: EthernetAddress([0; 6]),
            target_protocol_addr: ip,
        };
        self.stats.arp_requests_sent += 1;
        self.send_arp(EthernetAddress::BROADCAST, &request, out);
    }

    /// RFC 2131 §4.4.1 / RFC 5227 probe: "who has `ip`?" from sender address 0.0.0.0.
    pub(crate) fn send_arp_probe(&mut self, ip: Ipv4Addr, out: &mut Vec<Output>) {
        let probe = crate::dhcp::probe_repr(self.config.mac, ip);
        self.stats.arp_requests_sent += 1;
        self.send_arp(EthernetAddress::BROADCAST, &probe, out);
    }

    fn send_arp(&mut self, dst: EthernetAddress, repr: &ArpRepr, out: &mut Vec<Output>) {
        let mut buf = vec![0u8; ethernet::frame_len(repr.buffer_len())];
        let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
        EthernetRepr { src_addr: self.config.mac, dst_addr: dst, ethertype: EtherType::Arp }.emit(&mut frame);
        repr.emit(&mut ArpPacket::new_unchecked(&mut frame.payload_mut()[..repr.buffer_len()]));
        self.transmit(buf, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    const IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 9);
    const MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 9]);

    fn frame(n: u8) -> QueuedFrame {
        QueuedFrame { frame: vec![n], owner: None, dst: IP, port: None, why: None }
    }

    #[test]
    fn expired_entries_stay_usable_while_refreshing_then_die() {
        let mut c = ArpCache::new(ArpConfig::default());
        c.learn(IP, MAC, Instant::ZERO, true);
        assert_eq!(c.lookup(IP, Instant::from_secs(59)), Lookup::Hit(MAC));
        assert_eq!(c.lookup(IP, Instant::from_secs(60)), Lookup::Stale(MAC));
        assert_eq!(c.lookup(IP, Instant::from_secs(60)), Lookup::Hit(MAC), "one refresh at a time");
        assert!(matches!(c.on_retry(IP), Retry::Resend));
        assert!(matches!(c.on_retry(IP), Retry::Resend));
        assert!(matches!(c.on_retry(IP), Retry::Nothing));
        assert_eq!(c.lookup(IP, Instant::from_secs(63)), Lookup::Miss);
        // An answer during the refresh renews the entry.
        c.learn(IP, MAC, Instant::from_secs(70), true);
        assert_eq!(c.lookup(IP, Instant::from_secs(131)), Lookup::Stale(MAC));
        c.learn(IP, MAC, Instant::from_secs(131), false);
        assert_eq!(c.lookup(IP, Instant::from_secs(132)), Lookup::Hit(MAC));
    }

    #[test]
    fn merge_only_updates_unless_targeted() {
        let mut c = ArpCache::new(ArpConfig::default());
        c.learn(IP, MAC, Instant::ZERO, false);
        assert!(!c.contains(IP));
        c.learn(IP, MAC, Instant::ZERO, true);
        let other = EthernetAddress([2, 0, 0, 0, 0, 10]);
        c.learn(IP, other, Instant::from_secs(1), false);
        assert_eq!(c.lookup(IP, Instant::from_secs(1)), Lookup::Hit(other));
    }

    #[test]
    fn pending_queue_is_bounded_and_flushed_on_answer() {
        let cfg = ArpConfig { max_pending_frames: 2, ..ArpConfig::default() };
        let mut c = ArpCache::new(cfg);
        assert_eq!(c.enqueue(IP, frame(1)), Enqueued::SendRequest);
        assert_eq!(c.enqueue(IP, frame(2)), Enqueued::Waiting);
        assert_eq!(c.enqueue(IP, frame(3)), Enqueued::Full);
        let flushed: Vec<u8> = c.learn(IP, MAC, Instant::ZERO, false).into_iter().map(|f| f.frame[0]).collect();
        assert_eq!(flushed, vec![1, 2]);
        assert_eq!(c.lookup(IP, Instant::ZERO), Lookup::Hit(MAC));
    }

    #[test]
    fn total_pending_frames_are_bounded_across_neighbours() {
        let cfg = ArpConfig { max_pending_total: 3, ..ArpConfig::default() };
        let mut c = ArpCache::new(cfg);
        let ips: Vec<Ipv4Addr> = (1..=4).map(|i| Ipv4Addr::new(10, 0, 0, i)).collect();
        assert_eq!(c.enqueue(ips[0], frame(1)), Enqueued::SendRequest);
        assert_eq!(c.enqueue(ips[1], frame(2)), Enqueued::SendRequest);
        assert_eq!(c.enqueue(ips[1], frame(3)), Enqueued::Waiting);
        assert_eq!(c.enqueue(ips[2], frame(4)), Enqueued::Full);
        assert_eq!(c.learn(ips[1], MAC, Instant::ZERO, false).len(), 2);
        assert_eq!(c.enqueue(ips[2], frame(4)), Enqueued::SendRequest);
        assert!(matches!(c.on_retry(ips[0]), Retry::Resend));
    }

    #[test]
    fn gives_up_after_max_requests() {
        let cfg = ArpConfig { max_requests: 3, retry_interval: Duration::from_secs(1), ..ArpConfig::default() };
        let mut c = ArpCache::new(cfg);
        c.enqueue(IP, frame(1));
        assert!(matches!(c.on_retry(IP), Retry::Resend));
        assert!(matches!(c.on_retry(IP), Retry::Resend));
        match c.on_retry(IP) {
            Retry::GiveUp(q) => assert_eq!(q.len(), 1),
            other => panic!("{other:?}"),
        }
        assert!(matches!(c.on_retry(IP), Retry::Nothing));
        assert!(!c.contains(IP));
    }

    #[test]
    fn full_cache_evicts_the_entry_closest_to_expiry() {
        let cfg = ArpConfig { max_entries: 2, ..ArpConfig::default() };
        let mut c = ArpCache::new(cfg);
        let a = Ipv4Addr::new(10, 0, 0, 1);
        let b = Ipv4Addr::new(10, 0, 0, 2);
        c.learn(a, MAC, Instant::from_secs(1), true);
        c.learn(b, MAC, Instant::from_secs(2), true);
        c.learn(IP, MAC, Instant::from_secs(3), true);
        assert!(!c.contains(a));
        assert!(c.contains(b) && c.contains(IP));
        // With only pending entries, nothing can be evicted.
        let mut c = ArpCache::new(ArpConfig { max_entries: 1, ..ArpConfig::default() });
        assert_eq!(c.enqueue(a, frame(1)), Enqueued::SendRequest);
        assert_eq!(c.enqueue(b, frame(2)), Enqueued::Full);
    }
}
