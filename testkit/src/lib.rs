//! What synack's two-stack harnesses share: stack A at 10.0.0.1 and stack B at 10.0.0.2 on one Ethernet
//! segment ([`configs`]), the [`Side`] names, and a timed in-memory [`Link`] that delivers frames in (time,
//! sending order) with the stepping rule around it ([`next_event`], [`fire_due_timers`]).
//!
//! Users: the integration tests' `Pair` (`synack-tests`, a scripted, optionally lossy link with a delay), the
//! fuzz crate's `tcp_transfer` link (every frame's fate from the fuzz input) and the benchmarks' `Pair`
//! (`synack-bench`, which uses the addressing and sides only: its zero-delay link hands each side all its
//! frames as one batch, which a timed link cannot). The simulator (`synack-sim`) keeps its own engine: it runs
//! any number of hosts, links and apps on one event queue and its outputs are recorded in `traces/`.
//!
//! Depends on synack only; synack never depends on it.

use core::net::Ipv4Addr;
use std::collections::BTreeMap;
use synack::wire::EthernetAddress;
use synack::{Config, Input, Instant, Ipv4Cidr, Output, Stack};

/// MAC of stack A.
pub const MAC_A: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x0a]);
/// MAC of stack B.
pub const MAC_B: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x0b]);
/// Address of stack A (the client, in most harnesses).
pub const IP_A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// Address of stack B (the server, in most harnesses).
pub const IP_B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// Prefix length of the segment A and B share.
pub const PREFIX_LEN: u8 = 24;

/// One side of a pair of stacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    A,
    B,
}

impl Side {
    /// Both sides, A first: the order in which harnesses fire timers.
    pub const BOTH: [Side; 2] = [Side::A, Side::B];

    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }

    /// 0 for A, 1 for B: for per-side arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The default configuration of each side, A at [`IP_A`]/24 with [`MAC_A`] and B at [`IP_B`]/24 with
/// [`MAC_B`], each with its own seed; a harness changes further fields as it needs.
pub fn configs(seed_a: u64, seed_b: u64) -> (Config, Config) {
    let config = |mac, ip, seed| Config {
        mac,
        ipv4: Ipv4Cidr::new(ip, PREFIX_LEN).expect("a valid prefix"),
        seed,
        ..Config::default()
    };
    (config(MAC_A, IP_A, seed_a), config(MAC_B, IP_B, seed_b))
}

/// The stack of `side`.
pub fn stack<'s>(a: &'s mut Stack, b: &'s mut Stack, side: Side) -> &'s mut Stack {
    match side {
        Side::A => a,
        Side::B => b,
    }
}

/// Frames in flight between two stacks, each with the time it arrives. Frames arriving at the same time
/// arrive in the order they were sent.
#[derive(Debug, Default)]
pub struct Link {
    /// (arrival time, sending order) -> (receiver, frame).
    in_flight: BTreeMap<(Instant, u64), (Side, Vec<u8>)>,
    sent: u64,
}

impl Link {
    /// Puts a frame on the link, arriving at `to` at `at`.
    pub fn send(&mut self, at: Instant, to: Side, frame: Vec<u8>) {
        self.sent += 1;
        self.in_flight.insert((at, self.sent), (to, frame));
    }

    /// When the next frame arrives.
    pub fn next_arrival(&self) -> Option<Instant> {
        self.in_flight.keys().next().map(|(at, _)| *at)
    }

    /// The next frame that has arrived by `now`, with its receiver.
    pub fn pop_arrived(&mut self, now: Instant) -> Option<(Side, Vec<u8>)> {
        let entry = self.in_flight.first_entry().filter(|e| e.key().0 <= now)?;
        Some(entry.remove())
    }

    /// Frames in flight.
    pub fn len(&self) -> usize {
        self.in_flight.len()
    }

    pub fn is_empty(&self) -> bool {
        self.in_flight.is_empty()
    }
}

/// The next time anything happens: a frame arrives or a stack's timer is due.
pub fn next_event(link: &Link, a: &Stack, b: &Stack) -> Option<Instant> {
    [link.next_arrival(), a.poll_timeout(), b.poll_timeout()].into_iter().flatten().min()
}

/// Fires the timer of each side (A first) whose deadline is at or before `now`; returns the outputs of each
/// side that fired, in that order. (Neither side's outputs can change the other's timers, so a harness may
/// carry them out after both have fired.)
pub fn fire_due_timers(a: &mut Stack, b: &mut Stack, now: Instant) -> Vec<(Side, Vec<Output>)> {
    let mut fired = Vec::new();
    for side in Side::BOTH {
        let s = stack(a, b, side);
        if s.poll_timeout().is_some_and(|t| t <= now) {
            fired.push((side, s.handle(Input::Timer, now)));
        }
    }
    fired
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_arrive_by_time_then_sending_order() {
        let mut link = Link::default();
        let t = |ms| Instant::from_millis(ms);
        link.send(t(5), Side::B, vec![1]);
        link.send(t(3), Side::A, vec![2]);
        link.send(t(5), Side::A, vec![3]);
        assert_eq!((link.len(), link.next_arrival()), (3, Some(t(3))));
        assert_eq!(link.pop_arrived(t(2)), None);
        assert_eq!(link.pop_arrived(t(5)), Some((Side::A, vec![2])));
        assert_eq!(link.pop_arrived(t(5)), Some((Side::B, vec![1])));
        assert_eq!(link.pop_arrived(t(5)), Some((Side::A, vec![3])));
        assert!(link.is_empty());
    }

    #[test]
    fn configs_put_a_and_b_on_one_segment() {
        let (a, b) = configs(1, 2);
        assert_eq!((a.mac, a.ipv4.addr(), a.seed), (MAC_A, IP_A, 1));
        assert_eq!((b.mac, b.ipv4.addr(), b.seed), (MAC_B, IP_B, 2));
        assert!(a.ipv4.contains(IP_B) && b.ipv4.contains(IP_A));
        assert!(Stack::new(a).is_ok() && Stack::new(b).is_ok());
        assert_eq!((Side::A.other(), Side::B.index()), (Side::B, 1));
    }
}
