//! The parts working together, as the stack will drive them: a small driver runs the scheduled timers in
//! order and keeps every action, so whole exchanges read as logs.

use super::*;
use core::time::Duration;

const MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
const ROUTER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);
const PEER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);

fn ip(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn at(secs: u64) -> Instant {
    Instant::from_secs(secs)
}

/// An `Ndp` plus the timers it asked for.
struct Driver {
    ndp: Ndp<u32>,
    timers: Vec<Timer>,
}

impl Driver {
    fn new(config: NdpConfig, seed: u64) -> Driver {
        Driver { ndp: Ndp::new(&config, MAC, 1500, 64, seed, Instant::ZERO), timers: Vec::new() }
    }

    /// Keeps `Schedule`s for later, returns the other actions.
    fn keep(&mut self, out: Vec<NdAction<u32>>) -> Vec<NdAction<u32>> {
        let mut rest = Vec::new();
        for a in out {
            match a {
                NdAction::Schedule(t) => self.timers.push(t),
                other => rest.push(other),
            }
        }
        rest
    }

    /// Fires every timer due by `until`, earliest first; returns the actions with their times.
    fn run_until(&mut self, until: Instant) -> Vec<(Instant, NdAction<u32>)> {
        let mut log = Vec::new();
        loop {
            self.timers.sort();
            match self.timers.first().copied() {
                Some(t) if t.at <= until => {
                    self.timers.remove(0);
                    let mut out = Vec::new();
                    self.ndp.on_timer(t.key, t.at, &mut out);
                    log.extend(self.keep(out).into_iter().map(|a| (t.at, a)));
                }
                _ => return log,
            }
        }
    }
}

fn no_delay() -> NdpConfig {
    NdpConfig { max_rtr_solicitation_delay: Duration::ZERO, ..NdpConfig::default() }
}

#[test]
fn start_runs_dad_then_solicits_routers_from_the_link_local_address() {
    let mut d = Driver::new(no_delay(), 1);
    let ll = ip("fe80::5054:ff:fe12:3456");
    let mut out = Vec::new();
    d.ndp.start(at(0), &mut out);
    assert!(d.keep(out).is_empty());
    let log = d.run_until(at(20));
    let expected = vec![
        (at(0), NdAction::SendDadNs { target: ll }),
        (at(0), NdAction::SendRs { source: None }),
        (at(1), NdAction::AddressAssigned(ll)),
        (at(1), NdAction::SendNa { dst: ALL_NODES, target: ll, solicited: false }),
        (at(4), NdAction::SendRs { source: Some(ll) }),
        (at(8), NdAction::SendRs { source: Some(ll) }),
    ];
    assert_eq!(log, expected);
    assert!(d.ndp.is_ours(ll, at(1)));
    assert!(d.ndp.accepts_group(ip("ff02::1:ff12:3456"), at(1)));
    assert!(d.ndp.accepts_group(ALL_NODES, at(1)));
    assert!(!d.ndp.accepts_group(ip("ff02::1:ff00:1"), at(1)));
}

#[test]
fn an_advertisement_gives_a_router_a_prefix_and_an_address() {
    let mut d = Driver::new(no_delay(), 1);
    let mut out = Vec::new();
    d.ndp.start(at(0), &mut out);
    d.keep(out);
    d.run_until(at(1));
    let router = ip("fe80::1");
    let ra =
        RouterAdvert { cur_hop_limit: 63, router_lifetime: 1800, reachable_time: 0, retrans_timer: 0, mtu: Some(1400) };
    let prefix = PrefixInfo {
        prefix: ip("2001:db8:1::"),
        prefix_len: 64,
        on_link: true,
        autonomous: true,
        valid_lifetime: 86_400,
        preferred_lifetime: 14_400,
    };
    let mut out = Vec::new();
    let received = d.ndp.on_router_advert(router, Some(ROUTER_MAC), &ra, &[prefix], at(2), &mut out);
    assert_eq!(received, Received::Used);
    assert_eq!(d.keep(out), vec![NdAction::LinkMtu(1400), NdAction::HopLimit(63)]);
    assert_eq!(d.ndp.link().mtu, 1400);
    let global = ip("2001:db8:1:0:5054:ff:fe12:3456");
    assert_eq!(d.ndp.source_for(ip("2001:db8:9::1"), at(2)), Some(ip("fe80::5054:ff:fe12:3456")), "tentative");
    let log = d.run_until(at(3));
    assert_eq!(
        log,
        vec![
            (at(2), NdAction::SendDadNs { target: global }),
            (at(3), NdAction::AddressAssigned(global)),
            (at(3), NdAction::SendNa { dst: ALL_NODES, target: global, solicited: false }),
        ]
    );
    assert_eq!(d.ndp.source_for(ip("2001:db8:9::1"), at(3)), Some(global));
    // Off-link via the router (its entry is STALE from the RA's option, so it is preferred); on-link direct.
    assert_eq!(d.ndp.next_hop(ip("2001:db8:9::1"), at(3)), Some(router));
    assert_eq!(d.ndp.next_hop(ip("2001:db8:1::77"), at(3)), Some(ip("2001:db8:1::77")));
    assert_eq!(d.ndp.neighbour(router, at(3)), Some((NeighbourState::Stale, Some(ROUTER_MAC))));
    // Solicitations stopped: no more RS after the advertisement.
    assert!(d.run_until(at(30)).iter().all(|(_, a)| !matches!(a, NdAction::SendRs { .. })));
    // Lifetimes: deprecated after 4 h, gone after a day.
    let log = d.run_until(at(100_000));
    assert_eq!(
        log,
        vec![(at(2 + 14_400), NdAction::AddressDeprecated(global)), (at(2 + 86_400), NdAction::AddressRemoved(global)),]
    );
    assert_eq!(d.ndp.source_for(ip("2001:db8:9::1"), at(100_000)), Some(ip("fe80::5054:ff:fe12:3456")));
    assert_eq!(d.ndp.next_hop(ip("2001:db8:9::1"), at(100_000)), None, "router lifetime over too");
}

#[test]
fn resolution_queues_then_flushes_on_the_answer() {
    let mut d = Driver::new(no_delay(), 1);
    let peer = ip("fe80::2");
    let mut out = Vec::new();
    assert_eq!(d.ndp.lookup(peer, at(0), &mut out), None);
    d.ndp.enqueue(peer, 1, at(0), &mut out);
    d.ndp.enqueue(peer, 2, at(0), &mut out);
    assert_eq!(d.keep(out), vec![NdAction::SendMulticastNs { target: peer }]);
    let log = d.run_until(at(1));
    assert_eq!(log, vec![(at(1), NdAction::SendMulticastNs { target: peer })]);
    let mut out = Vec::new();
    let flags = AdvertFlags { router: false, solicited: true, override_: true };
    assert_eq!(d.ndp.on_advertisement(peer, Some(PEER_MAC), flags, at(1), &mut out), Received::Used);
    assert_eq!(d.keep(out), vec![NdAction::Transmit { mac: PEER_MAC, frames: VecDeque::from([1, 2]) }]);
    assert!(d.run_until(at(10)).is_empty(), "retransmissions stopped");
    let mut out = Vec::new();
    assert_eq!(d.ndp.lookup(peer, at(10), &mut out), Some(PEER_MAC));
    assert_eq!(d.ndp.lookup(ip("ff02::1"), at(10), &mut out), Some(EthernetAddress([0x33, 0x33, 0, 0, 0, 1])));
    assert!(out.is_empty());
}

#[test]
fn unanswered_resolution_gives_up_and_moves_to_the_next_router() {
    let mut d = Driver::new(no_delay(), 1);
    let (r1, r2) = (ip("fe80::1"), ip("fe80::2"));
    let mut out = Vec::new();
    let ra = RouterAdvert { router_lifetime: 600, ..RouterAdvert::default() };
    d.ndp.on_router_advert(r1, None, &ra, &[], at(0), &mut out);
    d.ndp.on_router_advert(r2, None, &ra, &[], at(0), &mut out);
    let far = ip("2001:db8::1");
    assert_eq!(d.ndp.next_hop(far, at(0)), Some(r1));
    d.ndp.enqueue(r1, 7, at(0), &mut out);
    d.keep(out);
    let log = d.run_until(at(3));
    assert_eq!(log.last(), Some(&(at(3), NdAction::GiveUp { target: r1, frames: VecDeque::from([7]) })));
    assert_eq!(log.iter().filter(|(_, a)| matches!(a, NdAction::SendMulticastNs { .. })).count(), 2);
    assert_eq!(d.ndp.next_hop(far, at(3)), Some(r2), "round robin moved on");
}

#[test]
fn solicitations_are_answered_and_teach_the_sender() {
    let mut d = Driver::new(NdpConfig { dup_addr_detect_transmits: 0, ..no_delay() }, 1);
    let ll = ip("fe80::5054:ff:fe12:3456");
    let mut out = Vec::new();
    d.ndp.start(at(0), &mut out);
    d.keep(out);
    let peer = ip("fe80::2");
    let mut out = Vec::new();
    assert_eq!(d.ndp.on_solicitation(peer, ll, Some(PEER_MAC), at(1), &mut out), Received::Used);
    assert_eq!(d.keep(out), vec![NdAction::SendNa { dst: peer, target: ll, solicited: true }]);
    assert_eq!(d.ndp.neighbour(peer, at(1)), Some((NeighbourState::Stale, Some(PEER_MAC))));
    // Another node's DAD for our address: defended to all nodes.
    let mut out = Vec::new();
    d.ndp.on_solicitation(Ipv6Addr::UNSPECIFIED, ll, None, at(2), &mut out);
    assert_eq!(d.keep(out), vec![NdAction::SendNa { dst: ALL_NODES, target: ll, solicited: false }]);
    // Not ours: ignored, nothing learnt.
    let mut out = Vec::new();
    assert_eq!(
        d.ndp.on_solicitation(ip("fe80::3"), ip("fe80::99"), Some(PEER_MAC), at(2), &mut out),
        Received::Ignored
    );
    assert!(out.is_empty());
    assert_eq!(d.ndp.neighbour(ip("fe80::3"), at(2)), None);
}

#[test]
fn a_duplicate_link_local_address_is_reported() {
    let mut d = Driver::new(no_delay(), 1);
    let ll = ip("fe80::5054:ff:fe12:3456");
    let mut out = Vec::new();
    d.ndp.start(at(0), &mut out);
    d.keep(out);
    d.run_until(at(0));
    let mut out = Vec::new();
    let flags = AdvertFlags { router: false, solicited: false, override_: true };
    d.ndp.on_advertisement(ll, Some(PEER_MAC), flags, Instant::from_millis(500), &mut out);
    assert_eq!(d.keep(out), vec![NdAction::AddressDuplicate(Duplicate { addr: ll, from_mac: true })]);
    assert!(d.run_until(at(20)).iter().all(|(_, a)| !matches!(a, NdAction::AddressAssigned(_))));
    assert!(!d.ndp.is_ours(ll, at(20)));
}

#[test]
fn a_router_that_stops_routing_leaves_the_list() {
    let mut d = Driver::new(no_delay(), 1);
    let r = ip("fe80::1");
    let mut out = Vec::new();
    let ra = RouterAdvert { router_lifetime: 600, ..RouterAdvert::default() };
    d.ndp.on_router_advert(r, Some(ROUTER_MAC), &ra, &[], at(0), &mut out);
    assert_eq!(d.ndp.next_hop(ip("2001:db8::1"), at(0)), Some(r));
    let flags = AdvertFlags { router: false, solicited: false, override_: false };
    d.ndp.on_advertisement(r, None, flags, at(1), &mut out);
    assert_eq!(d.ndp.next_hop(ip("2001:db8::1"), at(1)), None);
}

#[test]
fn configured_addresses_and_routers() {
    let mut d = Driver::new(no_delay(), 1);
    let mut out = Vec::new();
    d.ndp.add_address(ip("2001:db8::5"), 64, at(0), &mut out).unwrap();
    assert!(d.ndp.add_router(ip("fe80::1")));
    d.keep(out);
    d.run_until(at(1));
    assert!(d.ndp.is_ours(ip("2001:db8::5"), at(1)));
    assert_eq!(d.ndp.next_hop(ip("2001:db8::77"), at(1)), Some(ip("2001:db8::77")));
    assert_eq!(d.ndp.next_hop(ip("2001:db9::77"), at(1)), Some(ip("fe80::1")));
    assert_eq!(d.ndp.add_address(ip("2001:db8::5"), 64, at(1), &mut Vec::new()), Err(AddError::AlreadyPresent));
}

#[test]
fn same_seed_same_actions() {
    let run = |seed| {
        let mut d = Driver::new(NdpConfig::default(), seed);
        let mut out = Vec::new();
        d.ndp.start(at(0), &mut out);
        d.ndp.enqueue(ip("fe80::9"), 1, at(0), &mut out);
        d.keep(out);
        format!("{:?}", d.run_until(at(60)))
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6), "the random delays differ");
}
