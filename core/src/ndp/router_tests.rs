use super::*;

fn ip(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn at(secs: u64) -> Instant {
    Instant::from_secs(secs)
}

fn list() -> RouterList {
    RouterList::new(&NdpConfig::default(), 1500, 64)
}

fn ra(lifetime: u16) -> RouterAdvert {
    RouterAdvert { router_lifetime: lifetime, ..RouterAdvert::default() }
}

fn prefix(p: &str, len: u8, valid: u32) -> PrefixInfo {
    PrefixInfo {
        prefix: ip(p),
        prefix_len: len,
        on_link: true,
        autonomous: true,
        valid_lifetime: valid,
        preferred_lifetime: valid,
    }
}

const NONE_REACHABLE: fn(Ipv6Addr) -> bool = |_| false;

#[test]
fn router_lifetime_adds_refreshes_expires_and_zero_removes() {
    let mut l = list();
    let r = ip("fe80::1");
    assert_eq!(l.on_router_advert(r, &ra(0), at(0)).router, RouterChange::None);
    assert_eq!(l.on_router_advert(r, &ra(30), at(0)).router, RouterChange::Added);
    assert_eq!(l.default_routers(at(29)), vec![(r, at(30))]);
    assert_eq!(l.on_router_advert(r, &ra(30), at(20)).router, RouterChange::Refreshed);
    assert_eq!(l.default_routers(at(49)), vec![(r, at(50))]);
    assert_eq!(l.default_routers(at(50)), vec![], "expired lazily");
    assert_eq!(l.next_hop(ip("2001:db8::1"), at(50), NONE_REACHABLE), None);
    assert_eq!(l.on_router_advert(r, &ra(10), at(60)).router, RouterChange::Added, "heard again after expiry");
    assert_eq!(l.on_router_advert(r, &ra(0), at(61)).router, RouterChange::Removed);
    assert_eq!(l.default_routers(at(61)), vec![]);
    // The largest lifetime a u16 says is fine.
    assert_eq!(l.on_router_advert(r, &ra(u16::MAX), at(0)).router, RouterChange::Added);
    assert_eq!(l.default_routers(at(0)), vec![(r, at(65_535))]);
}

#[test]
fn advertisements_from_non_link_local_sources_are_ignored() {
    let mut l = list();
    let applied = l.on_router_advert(ip("2001:db8::1"), &RouterAdvert { cur_hop_limit: 9, ..ra(30) }, at(0));
    assert_eq!(applied, RaApplied { router: RouterChange::Invalid, ..RaApplied::default() });
    assert_eq!(l.link().hop_limit, 64);
    assert!(l.default_routers(at(0)).is_empty());
}

#[test]
fn the_router_list_is_bounded() {
    let mut l = RouterList::new(&NdpConfig { max_routers: 2, ..NdpConfig::default() }, 1500, 64);
    assert_eq!(l.on_router_advert(ip("fe80::1"), &ra(10), at(0)).router, RouterChange::Added);
    assert_eq!(l.on_router_advert(ip("fe80::2"), &ra(100), at(0)).router, RouterChange::Added);
    assert_eq!(l.on_router_advert(ip("fe80::3"), &ra(100), at(0)).router, RouterChange::Full);
    // Once one has expired, there is room.
    assert_eq!(l.on_router_advert(ip("fe80::3"), &ra(100), at(10)).router, RouterChange::Added);
    assert_eq!(l.default_routers(at(10)).len(), 2);
}

#[test]
fn link_parameters_follow_advertisements_within_bounds() {
    let mut l = list();
    let r = ip("fe80::1");
    let full = RouterAdvert {
        cur_hop_limit: 255,
        router_lifetime: 0,
        reachable_time: 10_000,
        retrans_timer: 2_000,
        mtu: Some(1400),
    };
    let applied = l.on_router_advert(r, &full, at(0));
    assert_eq!(applied.hop_limit, Some(255));
    assert_eq!(applied.mtu, Some(1400));
    assert_eq!(applied.base_reachable_time, Some(Duration::from_secs(10)));
    assert_eq!(applied.retrans_timer, Some(Duration::from_secs(2)));
    let p = l.link();
    assert_eq!((p.hop_limit, p.mtu), (255, 1400));
    // The same again changes nothing; zeros mean "unspecified".
    assert_eq!(l.on_router_advert(r, &full, at(1)), RaApplied::default());
    assert_eq!(
        l.on_router_advert(r, &RouterAdvert { mtu: None, ..RouterAdvert::default() }, at(1)),
        RaApplied::default()
    );
    assert_eq!(l.link(), p);
    // MTUs below 1280 or above the link's are ignored.
    for bad in [0, 1279, 1501, u32::MAX] {
        assert_eq!(l.on_router_advert(r, &RouterAdvert { mtu: Some(bad), ..ra(0) }, at(1)).mtu, None, "{bad}");
    }
    assert_eq!(l.on_router_advert(r, &RouterAdvert { mtu: Some(1280), ..ra(0) }, at(1)).mtu, Some(1280));
    assert_eq!(l.on_router_advert(r, &RouterAdvert { mtu: Some(1500), ..ra(0) }, at(1)).mtu, Some(1500));
    // Extreme timers are clamped: reachable time to an hour, retransmissions to at least 10 ms.
    let extreme = RouterAdvert { reachable_time: u32::MAX, retrans_timer: 1, ..ra(0) };
    let applied = l.on_router_advert(r, &extreme, at(1));
    assert_eq!(applied.base_reachable_time, Some(Duration::from_secs(3600)));
    assert_eq!(applied.retrans_timer, Some(Duration::from_millis(10)));
}

#[test]
fn on_link_prefixes_decide_next_hops() {
    let mut l = list();
    let r = ip("fe80::1");
    l.on_router_advert(r, &ra(1800), at(0));
    assert_eq!(l.on_prefix(&prefix("2001:db8:1::", 64, 100), at(0)), PrefixChange::Added);
    assert_eq!(l.next_hop(ip("2001:db8:1::77"), at(0), NONE_REACHABLE), Some(NextHop::OnLink));
    assert_eq!(l.next_hop(ip("2001:db8:2::77"), at(0), NONE_REACHABLE), Some(NextHop::Router(r)));
    assert_eq!(l.next_hop(ip("fe80::99"), at(0), NONE_REACHABLE), Some(NextHop::OnLink), "link-local");
    assert_eq!(l.next_hop(ip("ff02::1"), at(0), NONE_REACHABLE), Some(NextHop::OnLink), "multicast");
    assert_eq!(l.next_hop(ip("2001:db8:1::77"), at(100), NONE_REACHABLE), Some(NextHop::Router(r)), "expired");
    assert_eq!(l.on_prefix(&prefix("2001:db8:1::", 64, 100), at(50)), PrefixChange::Refreshed);
    assert_eq!(l.prefixes(at(50)), vec![(ip("2001:db8:1::"), 64, at(150))]);
    assert_eq!(l.on_prefix(&prefix("2001:db8:1::", 64, 0), at(60)), PrefixChange::Removed);
    assert!(!l.is_on_link(ip("2001:db8:1::77"), at(60)));
    // Other lengths are on-link prefixes too (only SLAAC needs /64), and host bits are masked.
    assert_eq!(l.on_prefix(&prefix("2001:db8:ff::1", 48, u32::MAX), at(0)), PrefixChange::Added);
    assert!(l.is_on_link(ip("2001:db8:ff:1234::5"), Instant::MAX - Duration::from_secs(1)), "infinite lifetime");
    assert_eq!(l.on_prefix(&prefix("::", 0, 10), at(0)), PrefixChange::Added);
    assert!(l.is_on_link(ip("2a00::1"), at(1)), "a default on-link prefix");
}

#[test]
fn prefixes_that_are_not_for_the_list_are_ignored() {
    let mut l = list();
    let cases = [
        PrefixInfo { on_link: false, ..prefix("2001:db8::", 64, 100) },
        prefix("fe80::", 64, 100),
        prefix("2001:db8::", 129, 100),
        prefix("2001:db8::", 255, 100),
        prefix("2001:db8::", 64, 0),
    ];
    for info in cases {
        assert_eq!(l.on_prefix(&info, at(0)), PrefixChange::Ignored, "{info:?}");
    }
    assert!(l.prefixes(at(0)).is_empty());
}

#[test]
fn the_prefix_list_is_bounded() {
    let mut l = RouterList::new(&NdpConfig { max_prefixes: 1, ..NdpConfig::default() }, 1500, 64);
    assert_eq!(l.on_prefix(&prefix("2001:db8:1::", 64, 10), at(0)), PrefixChange::Added);
    assert_eq!(l.on_prefix(&prefix("2001:db8:2::", 64, 10), at(0)), PrefixChange::Full);
    assert_eq!(l.on_prefix(&prefix("2001:db8:2::", 64, 10), at(10)), PrefixChange::Added, "after expiry");
    assert!(!l.add_configured_prefix(ip("2001:db8:3::"), 64));
}

#[test]
fn configured_routers_and_prefixes_outlive_advertisements() {
    let mut l = list();
    let gw = ip("fe80::1");
    assert!(l.add_configured_router(gw));
    assert!(l.add_configured_prefix(ip("2001:db8::5"), 64));
    assert_eq!(l.on_router_advert(gw, &ra(0), at(0)).router, RouterChange::Refreshed);
    assert_eq!(l.on_prefix(&prefix("2001:db8::", 64, 0), at(0)), PrefixChange::Refreshed);
    l.remove_router(gw);
    assert_eq!(l.default_routers(at(1_000_000)), vec![(gw, Instant::MAX)]);
    assert!(l.is_on_link(ip("2001:db8::77"), at(1_000_000)));
}

#[test]
fn reachable_routers_are_preferred_then_round_robin() {
    let mut l = list();
    let (a, b, c) = (ip("fe80::a"), ip("fe80::b"), ip("fe80::c"));
    for r in [a, b, c] {
        l.on_router_advert(r, &ra(1800), at(0));
    }
    let dst = ip("2001:db8::1");
    assert_eq!(l.next_hop(dst, at(1), |r| r == b || r == c), Some(NextHop::Router(b)), "first reachable");
    assert_eq!(l.next_hop(dst, at(1), NONE_REACHABLE), Some(NextHop::Router(a)), "none known: round robin");
    assert_eq!(l.next_hop(dst, at(1), NONE_REACHABLE), Some(NextHop::Router(a)), "stays until it fails");
    l.on_neighbour_lost(b);
    assert_eq!(l.next_hop(dst, at(1), NONE_REACHABLE), Some(NextHop::Router(a)), "b was not the one tried");
    l.on_neighbour_lost(a);
    assert_eq!(l.next_hop(dst, at(1), NONE_REACHABLE), Some(NextHop::Router(b)));
    l.on_neighbour_lost(b);
    l.on_neighbour_lost(c);
    assert_eq!(l.next_hop(dst, at(1), NONE_REACHABLE), Some(NextHop::Router(a)), "wrapped around");
    // IsRouter turned false: gone; the position stays valid.
    l.on_neighbour_lost(a);
    l.remove_router(c);
    l.remove_router(b);
    assert_eq!(l.next_hop(dst, at(1), NONE_REACHABLE), Some(NextHop::Router(a)));
    l.remove_router(a);
    assert_eq!(l.next_hop(dst, at(1), NONE_REACHABLE), None);
    l.on_neighbour_lost(a);
}

#[test]
fn round_robin_skips_expired_routers() {
    let mut l = list();
    let (a, b) = (ip("fe80::a"), ip("fe80::b"));
    l.on_router_advert(a, &ra(10), at(0));
    l.on_router_advert(b, &ra(100), at(0));
    assert_eq!(l.next_hop(ip("2001:db8::1"), at(10), NONE_REACHABLE), Some(NextHop::Router(b)));
    assert_eq!(l.next_hop(ip("2001:db8::1"), at(10), |r| r == a), Some(NextHop::Router(b)), "expired a");
}

#[test]
fn solicitations_start_after_a_seeded_delay_and_stop() {
    let config = NdpConfig::default();
    let mut s = RouterSolicitor::new(&config, 7);
    let first = s.start(at(10)).unwrap();
    assert_eq!(first.key, NdpTimer::RouterSolicit);
    assert!(first.at >= at(10) && first.at < at(11), "{first:?}");
    assert_eq!(s.on_timer(at(10) - Duration::from_nanos(1)), SolicitStep::Nothing);
    let t1 = first.at;
    let next = |t: Instant| Some(Timer { at: t + Duration::from_secs(4), key: NdpTimer::RouterSolicit });
    assert_eq!(s.on_timer(t1), SolicitStep::Send(next(t1)));
    let t2 = t1 + Duration::from_secs(4);
    assert_eq!(s.on_timer(t2), SolicitStep::Send(next(t2)));
    let t3 = t2 + Duration::from_secs(4);
    assert_eq!(s.on_timer(t3), SolicitStep::Send(None), "the third is the last");
    assert_eq!(s.on_timer(t3 + Duration::from_secs(4)), SolicitStep::Nothing);
    assert_eq!(s.sent(), 3);
    // Same seed, same delay; another seed, another.
    let delay = |seed| RouterSolicitor::new(&config, seed).start(at(0)).unwrap().at;
    assert_eq!(delay(7), first.at - Duration::from_secs(10));
    assert_ne!(delay(7), delay(8));
}

#[test]
fn an_advertisement_naming_a_router_ends_solicitations() {
    let mut s = RouterSolicitor::new(&NdpConfig::default(), 1);
    let t = s.start(at(0)).unwrap().at;
    assert!(matches!(s.on_timer(t), SolicitStep::Send(Some(_))));
    s.on_router_advert(0);
    assert!(matches!(s.on_timer(t + Duration::from_secs(4)), SolicitStep::Send(_)), "lifetime 0 does not count");
    s.on_router_advert(1800);
    assert_eq!(s.on_timer(t + Duration::from_secs(8)), SolicitStep::Nothing);
    assert_eq!(s.sent(), 2);
    // No solicitations configured, none sent.
    let mut s = RouterSolicitor::new(&NdpConfig { max_rtr_solicitations: 0, ..NdpConfig::default() }, 1);
    assert_eq!(s.start(at(0)), None);
    assert_eq!(s.on_timer(at(100)), SolicitStep::Nothing);
    // A zero maximum delay solicits at once.
    let cfg = NdpConfig { max_rtr_solicitation_delay: Duration::ZERO, ..NdpConfig::default() };
    assert_eq!(RouterSolicitor::new(&cfg, 1).start(at(3)).unwrap().at, at(3));
}
