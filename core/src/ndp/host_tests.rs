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

mod random_exchanges {
    //! Random messages with odd values (zero and infinite lifetimes, any prefix length, unknown senders)
    //! against small bounds: nothing panics, every bound holds, and every queued frame leaves exactly once.

    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[derive(Clone, Debug)]
    enum Op {
        Advance(u64),
        Send { to: usize },
        Ns { src: Option<usize>, target: usize, sllao: Option<u8> },
        Na { target: usize, tlla: Option<u8>, flags: u8 },
        Ra { src: usize, sllao: Option<u8>, ra: RouterAdvert, prefixes: Vec<(usize, u8, u8, u32, u32)> },
        Confirm(usize),
    }

    /// Neighbours, our own addresses (link-local and the ones the prefixes form) and off-link destinations.
    fn pool() -> Vec<Ipv6Addr> {
        let mut v: Vec<Ipv6Addr> = (1..6).map(|n| Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, n)).collect();
        v.push(ip("fe80::5054:ff:fe12:3456"));
        v.push(ip("2001:db8:1:0:5054:ff:fe12:3456"));
        v.push(ip("2001:db8:1::9"));
        v.push(ip("2001:db8:7::9"));
        v.push(ip("ff02::1"));
        v
    }

    const PREFIXES: [&str; 5] = ["2001:db8:1::", "2001:db8:2::", "fe80::", "::", "ff02::"];

    fn lifetime() -> impl Strategy<Value = u32> {
        prop_oneof![Just(0u32), Just(u32::MAX), Just(7200), 0u32..20_000, any::<u32>()]
    }

    fn op() -> impl Strategy<Value = Op> {
        let n = pool().len();
        let ra = (
            any::<u8>(),
            prop_oneof![Just(0u16), any::<u16>()],
            any::<u32>(),
            any::<u32>(),
            proptest::option::of(any::<u32>()),
        )
            .prop_map(|(h, l, r, t, mtu)| RouterAdvert {
                cur_hop_limit: h,
                router_lifetime: l,
                reachable_time: r % 100_000,
                retrans_timer: t % 5_000,
                mtu,
            });
        let prefix = (0..PREFIXES.len(), prop_oneof![Just(64u8), any::<u8>()], any::<u8>(), lifetime(), lifetime());
        prop_oneof![
            (0u64..20_000).prop_map(Op::Advance),
            (0u64..200_000_000).prop_map(Op::Advance),
            (0..n).prop_map(|to| Op::Send { to }),
            (proptest::option::of(0..n), 0..n, proptest::option::of(0u8..4)).prop_map(|(src, target, sllao)| Op::Ns {
                src,
                target,
                sllao
            }),
            (0..n, proptest::option::of(0u8..4), any::<u8>()).prop_map(|(target, tlla, flags)| Op::Na {
                target,
                tlla,
                flags
            }),
            (0..n, proptest::option::of(0u8..4), ra, proptest::collection::vec(prefix, 0..3))
                .prop_map(|(src, sllao, ra, prefixes)| Op::Ra { src, sllao, ra, prefixes }),
            (0..n).prop_map(Op::Confirm),
        ]
    }

    fn mac(n: u8) -> EthernetAddress {
        // 3 is our own MAC, which must never be learnt.
        if n == 3 {
            MAC
        } else {
            EthernetAddress([2, 0, 0, 0, 1, n])
        }
    }

    proptest! {
        #[test]
        fn bounds_hold_and_frames_are_conserved(ops in proptest::collection::vec(op(), 1..120), seed in any::<u64>()) {
            let config = NdpConfig {
                max_entries: 4,
                max_pending_frames: 2,
                max_pending_total: 5,
                max_routers: 2,
                max_prefixes: 2,
                max_addresses: 3,
                ..NdpConfig::default()
            };
            let mut d = Driver::new(config, seed);
            let pool = pool();
            let mut now = Instant::ZERO;
            let mut queued: BTreeSet<u32> = BTreeSet::new();
            let mut next_frame = 0u32;
            let mut out = Vec::new();
            d.ndp.start(now, &mut out);
            let mut actions = d.keep(out);
            for op in ops {
                actions.extend(d.run_until(now).into_iter().map(|(_, a)| a));
                let mut out = Vec::new();
                match op {
                    Op::Advance(ms) => now = now + Duration::from_millis(ms),
                    Op::Send { to } => {
                        let dst = pool[to];
                        if let Some(hop) = d.ndp.next_hop(dst, now) {
                            prop_assert!(hop == dst || d.ndp.routers.default_routers(now).iter().any(|r| r.0 == hop));
                            if d.ndp.lookup(hop, now, &mut out).is_none() {
                                next_frame += 1;
                                queued.insert(next_frame);
                                d.ndp.enqueue(hop, next_frame, now, &mut out);
                            }
                        }
                    }
                    Op::Ns { src, target, sllao } => {
                        let src = src.map_or(Ipv6Addr::UNSPECIFIED, |i| pool[i]);
                        d.ndp.on_solicitation(src, pool[target], sllao.map(mac), now, &mut out);
                    }
                    Op::Na { target, tlla, flags } => {
                        let flags = AdvertFlags { router: flags & 1 != 0, solicited: flags & 2 != 0, override_: flags & 4 != 0 };
                        d.ndp.on_advertisement(pool[target], tlla.map(mac), flags, now, &mut out);
                    }
                    Op::Ra { src, sllao, ra, prefixes } => {
                        let prefixes: Vec<PrefixInfo> = prefixes
                            .into_iter()
                            .map(|(p, len, flags, valid, preferred)| PrefixInfo {
                                prefix: ip(PREFIXES[p]),
                                prefix_len: len,
                                on_link: flags & 1 != 0,
                                autonomous: flags & 2 != 0,
                                valid_lifetime: valid,
                                preferred_lifetime: preferred,
                            })
                            .collect();
                        d.ndp.on_router_advert(pool[src], sllao.map(mac), &ra, &prefixes, now, &mut out);
                    }
                    Op::Confirm(i) => d.ndp.confirm(pool[i], now),
                }
                actions.extend(d.keep(out));
                for a in actions.drain(..) {
                    match a {
                        NdAction::Transmit { mac: m, frames } => {
                            prop_assert!(m.is_unicast() && m != MAC, "frames sent to {}", m);
                            for f in frames {
                                prop_assert!(queued.remove(&f), "frame {} left twice", f);
                            }
                        }
                        NdAction::GiveUp { frames, .. } => {
                            for f in frames {
                                prop_assert!(queued.remove(&f), "frame {} left twice", f);
                            }
                        }
                        NdAction::Dropped(f) => prop_assert!(queued.remove(&f), "frame {} dropped twice", f),
                        NdAction::LinkMtu(m) => prop_assert!((1280..=1500).contains(&m)),
                        _ => {}
                    }
                }
                prop_assert!(d.ndp.cache.len() <= 4);
                prop_assert!(d.ndp.cache.pending_total() <= 5);
                prop_assert_eq!(d.ndp.cache.pending_total(), queued.len());
                prop_assert!(d.ndp.routers.default_routers(now).len() <= 2);
                prop_assert!(d.ndp.routers.prefixes(now).len() <= 2);
                prop_assert!(d.ndp.addresses(now).len() <= 3);
                for dst in &pool {
                    if let Some(src) = d.ndp.source_for(*dst, now) {
                        prop_assert!(d.ndp.is_ours(src, now), "{} is not assigned", src);
                    }
                }
            }
        }
    }
}
