//! One test per row (or group of rows) of RFC 4861 Appendix C, then bounds and determinism.

use super::*;
use NeighbourState::*;

const IP: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 9);
const MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 9]);
const OTHER_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 10]);
const SOLICITED: AdvertFlags = AdvertFlags { router: false, solicited: true, override_: false };
const UNSOLICITED: AdvertFlags = AdvertFlags { router: false, solicited: false, override_: false };

fn cache() -> NeighbourCache<u32> {
    NeighbourCache::new(NdpConfig::default(), 7, Instant::ZERO)
}

fn at(secs: u64) -> Instant {
    Instant::from_secs(secs)
}

fn timer(at: Instant) -> Timer {
    Timer { at, key: NdpTimer::Neighbour(IP) }
}

fn ip(n: u16) -> Ipv6Addr {
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, n)
}

/// A cache with `IP` in the given state (at time 0 for all but DELAY and PROBE, which take a few seconds).
fn with(state: NeighbourState) -> (NeighbourCache<u32>, Instant) {
    let mut c = cache();
    match state {
        Incomplete => {
            c.enqueue(IP, 1, Instant::ZERO);
            return (c, Instant::ZERO);
        }
        Stale => {
            c.on_link_layer_address(IP, MAC, false, Instant::ZERO);
        }
        Reachable | Delay | Probe => {
            c.enqueue(IP, 1, Instant::ZERO);
            c.on_advertisement(IP, Some(MAC), SOLICITED, Instant::ZERO);
        }
    }
    let mut now = Instant::ZERO;
    if matches!(state, Delay | Probe) {
        now = at(100); // long past ReachableTime: stale
        assert!(matches!(c.lookup(IP, now), Lookup::Delay(..)));
    }
    if state == Probe {
        now = now + Duration::from_secs(5);
        assert_eq!(c.on_timer(IP, now), Timeout::SendUnicast(MAC, timer(now + Duration::from_secs(1))));
    }
    assert_eq!(c.state(IP, now).map(|s| s.0), Some(state));
    (c, now)
}

#[test]
fn packet_to_send_creates_incomplete_and_solicits() {
    let mut c = cache();
    assert_eq!(c.lookup(IP, Instant::ZERO), Lookup::Miss);
    assert_eq!(c.enqueue(IP, 1, Instant::ZERO), Enqueued::Solicit(timer(at(1))));
    assert_eq!(c.enqueue(IP, 2, Instant::ZERO), Enqueued::Waiting);
    assert_eq!(c.state(IP, Instant::ZERO), Some((Incomplete, None)));
    assert_eq!(c.lookup(IP, Instant::ZERO), Lookup::Miss);
    assert_eq!(c.pending_total(), 2);
    assert!(!c.is_probably_reachable(IP));
}

#[test]
fn incomplete_retransmits_then_gives_up_with_the_queue() {
    let (mut c, _) = with(Incomplete);
    c.enqueue(IP, 2, Instant::ZERO);
    assert_eq!(c.on_timer(IP, Instant::from_millis(999)), Timeout::Nothing, "not due yet");
    assert_eq!(c.on_timer(IP, at(1)), Timeout::SendMulticast(timer(at(2))));
    assert_eq!(c.on_timer(IP, at(2)), Timeout::SendMulticast(timer(at(3))));
    assert_eq!(c.on_timer(IP, at(3)), Timeout::GiveUp(VecDeque::from([1, 2])));
    assert_eq!(c.state(IP, at(3)), None);
    assert_eq!(c.pending_total(), 0);
    assert_eq!(c.on_timer(IP, at(4)), Timeout::Nothing);
}

#[test]
fn incomplete_with_solicited_na_becomes_reachable_and_flushes() {
    let (mut c, _) = with(Incomplete);
    c.enqueue(IP, 2, Instant::ZERO);
    let flags = AdvertFlags { router: true, ..SOLICITED };
    let learned = c.on_advertisement(IP, Some(MAC), flags, at(1));
    assert_eq!(learned, Learned { flush: VecDeque::from([1, 2]), stopped_routing: false });
    assert_eq!(c.state(IP, at(1)), Some((Reachable, Some(MAC))));
    assert!(c.is_router(IP));
    assert_eq!(c.pending_total(), 0);
    assert_eq!(c.lookup(IP, at(1)), Lookup::Hit(MAC));
    assert_eq!(c.on_timer(IP, at(1)), Timeout::Nothing, "the retransmission timer is stale now");
}

#[test]
fn incomplete_with_unsolicited_na_becomes_stale_and_flushes() {
    let (mut c, _) = with(Incomplete);
    let learned = c.on_advertisement(IP, Some(MAC), AdvertFlags { override_: true, ..UNSOLICITED }, at(1));
    assert_eq!(learned.flush, VecDeque::from([1]));
    assert_eq!(c.state(IP, at(1)), Some((Stale, Some(MAC))));
}

#[test]
fn incomplete_ignores_na_without_link_layer_address() {
    let (mut c, _) = with(Incomplete);
    assert_eq!(c.on_advertisement(IP, None, SOLICITED, at(1)), Learned::default());
    assert_eq!(c.state(IP, at(1)), Some((Incomplete, None)));
    assert_eq!(c.pending_total(), 1);
}

#[test]
fn na_without_entry_is_discarded() {
    let mut c = cache();
    c.on_advertisement(IP, Some(MAC), AdvertFlags { override_: true, ..SOLICITED }, at(1));
    assert_eq!(c.state(IP, at(1)), None);
}

#[test]
fn solicited_na_same_address_makes_any_resolved_state_reachable() {
    for state in [Reachable, Stale, Delay, Probe] {
        let (mut c, now) = with(state);
        c.on_advertisement(IP, Some(MAC), SOLICITED, now);
        assert_eq!(c.state(IP, now), Some((Reachable, Some(MAC))), "from {state:?}");
        // Without the option it confirms too.
        let (mut c, now) = with(state);
        c.on_advertisement(IP, None, SOLICITED, now);
        assert_eq!(c.state(IP, now), Some((Reachable, Some(MAC))), "from {state:?}, no option");
    }
}

#[test]
fn solicited_na_other_address_no_override_only_makes_reachable_stale() {
    let (mut c, now) = with(Reachable);
    c.on_advertisement(IP, Some(OTHER_MAC), SOLICITED, now);
    assert_eq!(c.state(IP, now), Some((Stale, Some(MAC))), "address kept");
    for state in [Stale, Delay, Probe] {
        let (mut c, now) = with(state);
        c.on_advertisement(IP, Some(OTHER_MAC), AdvertFlags { router: true, ..SOLICITED }, now);
        assert_eq!(c.state(IP, now), Some((state, Some(MAC))), "{state:?} unchanged");
        assert!(!c.is_router(IP), "ignored entirely, IsRouter included");
    }
}

#[test]
fn solicited_na_with_override_records_the_address_and_confirms() {
    for state in [Reachable, Stale, Delay, Probe] {
        let (mut c, now) = with(state);
        c.on_advertisement(IP, Some(OTHER_MAC), AdvertFlags { override_: true, ..SOLICITED }, now);
        assert_eq!(c.state(IP, now), Some((Reachable, Some(OTHER_MAC))), "from {state:?}");
    }
}

#[test]
fn unsolicited_na_without_override_changes_nothing() {
    for state in [Reachable, Stale, Delay, Probe] {
        for tlla in [Some(MAC), Some(OTHER_MAC), None] {
            let (mut c, now) = with(state);
            c.on_advertisement(IP, tlla, UNSOLICITED, now);
            let expected = if state == Reachable && tlla == Some(OTHER_MAC) { Stale } else { state };
            assert_eq!(c.state(IP, now), Some((expected, Some(MAC))), "{state:?} {tlla:?}");
        }
    }
}

#[test]
fn unsolicited_na_with_override_changes_only_a_different_address_to_stale() {
    let overriding = AdvertFlags { override_: true, ..UNSOLICITED };
    for state in [Reachable, Stale, Delay, Probe] {
        let (mut c, now) = with(state);
        c.on_advertisement(IP, Some(MAC), overriding, now);
        assert_eq!(c.state(IP, now), Some((state, Some(MAC))), "same address: {state:?} unchanged");
        c.on_advertisement(IP, Some(OTHER_MAC), overriding, now);
        assert_eq!(c.state(IP, now), Some((Stale, Some(OTHER_MAC))), "new address from {state:?}");
    }
}

#[test]
fn is_router_follows_accepted_advertisements_and_reports_the_loss() {
    let (mut c, now) = with(Reachable);
    let router = AdvertFlags { router: true, ..UNSOLICITED };
    assert!(!c.on_advertisement(IP, None, router, now).stopped_routing);
    assert!(c.is_router(IP));
    assert_eq!(c.state(IP, now).map(|s| s.0), Some(Reachable), "no option: only IsRouter changes");
    let learned = c.on_advertisement(IP, None, UNSOLICITED, now);
    assert!(learned.stopped_routing, "router → host");
    assert!(!c.is_router(IP));
    assert!(!c.on_advertisement(IP, None, UNSOLICITED, now).stopped_routing, "reported once");
}

#[test]
fn a_router_being_resolved_can_stop_routing_too() {
    let (mut c, _) = with(Incomplete);
    c.mark_router(IP); // an advertisement without a link-layer option while we were resolving it
    let learned = c.on_advertisement(IP, Some(MAC), SOLICITED, at(1));
    assert!(learned.stopped_routing);
    assert_eq!(learned.flush, VecDeque::from([1]));
}

#[test]
fn upper_layer_confirmation_makes_resolved_entries_reachable() {
    for state in [Stale, Delay, Probe] {
        let (mut c, now) = with(state);
        c.confirm(IP, now);
        assert_eq!(c.state(IP, now), Some((Reachable, Some(MAC))), "from {state:?}");
        assert_eq!(c.on_timer(IP, now + Duration::from_secs(10)), Timeout::Nothing, "{state:?} timer stale");
    }
    let (mut c, now) = with(Incomplete);
    c.confirm(IP, now);
    assert_eq!(c.state(IP, now).map(|s| s.0), Some(Incomplete), "INCOMPLETE has nothing to confirm");
    let mut c = cache();
    c.confirm(IP, Instant::ZERO);
    assert_eq!(c.state(IP, Instant::ZERO), None, "no entry created");
}

#[test]
fn reachable_turns_stale_after_reachable_time() {
    let (c, _) = with(Reachable);
    let rt = c.reachable_time();
    assert!((Duration::from_secs(15)..Duration::from_secs(45)).contains(&rt), "{rt:?}");
    let end = Instant::ZERO + rt;
    assert_eq!(c.state(IP, end - Duration::from_nanos(1)).map(|s| s.0), Some(Reachable));
    assert_eq!(c.state(IP, end).map(|s| s.0), Some(Stale));
}

#[test]
fn stale_send_enters_delay_then_probes_then_forgets() {
    let (mut c, _) = with(Stale);
    let t0 = at(10);
    assert_eq!(c.lookup(IP, t0), Lookup::Delay(MAC, timer(at(15))));
    assert_eq!(c.lookup(IP, at(11)), Lookup::Hit(MAC), "DELAY: send, no new timer");
    assert_eq!(c.on_timer(IP, at(14)), Timeout::Nothing);
    assert_eq!(c.on_timer(IP, at(15)), Timeout::SendUnicast(MAC, timer(at(16))));
    assert_eq!(c.lookup(IP, at(15)), Lookup::Hit(MAC), "PROBE keeps using the address");
    assert_eq!(c.on_timer(IP, at(16)), Timeout::SendUnicast(MAC, timer(at(17))));
    assert_eq!(c.on_timer(IP, at(17)), Timeout::SendUnicast(MAC, timer(at(18))));
    assert_eq!(c.on_timer(IP, at(18)), Timeout::Forgotten { was_router: false });
    assert_eq!(c.state(IP, at(18)), None);
    assert_eq!(c.len(), 0);
}

#[test]
fn a_forgotten_router_says_so() {
    let (mut c, now) = with(Probe);
    c.mark_router(IP);
    let mut now = now;
    loop {
        now = now + Duration::from_secs(1);
        match c.on_timer(IP, now) {
            Timeout::SendUnicast(..) => continue,
            other => break assert_eq!(other, Timeout::Forgotten { was_router: true }),
        }
    }
}

#[test]
fn messages_with_link_layer_address_follow_the_ns_rows() {
    // No entry → STALE.
    let mut c = cache();
    assert_eq!(c.on_link_layer_address(IP, MAC, false, at(1)), Learned::default());
    assert_eq!(c.state(IP, at(1)), Some((Stale, Some(MAC))));
    // INCOMPLETE → STALE, queue flushed.
    let (mut c, _) = with(Incomplete);
    assert_eq!(c.on_link_layer_address(IP, MAC, false, at(1)).flush, VecDeque::from([1]));
    assert_eq!(c.state(IP, at(1)), Some((Stale, Some(MAC))));
    assert_eq!(c.pending_total(), 0);
    for state in [Reachable, Stale, Delay, Probe] {
        // Same address → unchanged; a different one → STALE with it.
        let (mut c, now) = with(state);
        c.on_link_layer_address(IP, MAC, false, now);
        assert_eq!(c.state(IP, now), Some((state, Some(MAC))), "{state:?}");
        c.on_link_layer_address(IP, OTHER_MAC, false, now);
        assert_eq!(c.state(IP, now), Some((Stale, Some(OTHER_MAC))), "{state:?}");
    }
}

#[test]
fn router_advertisements_set_is_router_but_never_clear_it() {
    let mut c = cache();
    c.mark_router(IP);
    assert_eq!(c.state(IP, Instant::ZERO), None, "no option, no entry: nothing created");
    c.on_link_layer_address(IP, MAC, true, Instant::ZERO);
    assert!(c.is_router(IP));
    c.on_link_layer_address(IP, MAC, false, Instant::ZERO);
    assert!(c.is_router(IP), "an NS cannot say it stopped routing");
    let (mut c, _) = with(Stale);
    c.mark_router(IP);
    assert!(c.is_router(IP));
}

#[test]
fn per_neighbour_queue_keeps_the_newest() {
    let cfg = NdpConfig { max_pending_frames: 2, ..NdpConfig::default() };
    let mut c: NeighbourCache<u32> = NeighbourCache::new(cfg, 7, Instant::ZERO);
    assert!(matches!(c.enqueue(IP, 1, Instant::ZERO), Enqueued::Solicit(_)));
    assert_eq!(c.enqueue(IP, 2, Instant::ZERO), Enqueued::Waiting);
    assert_eq!(c.enqueue(IP, 3, Instant::ZERO), Enqueued::Displaced(1));
    assert_eq!(c.pending_total(), 2);
    assert_eq!(c.on_advertisement(IP, Some(MAC), SOLICITED, at(1)).flush, VecDeque::from([2, 3]));
}

#[test]
fn total_queue_bound_holds_across_neighbours() {
    let cfg = NdpConfig { max_pending_total: 3, max_pending_frames: 3, ..NdpConfig::default() };
    let mut c: NeighbourCache<u32> = NeighbourCache::new(cfg, 7, Instant::ZERO);
    assert!(matches!(c.enqueue(ip(1), 1, Instant::ZERO), Enqueued::Solicit(_)));
    assert!(matches!(c.enqueue(ip(2), 2, Instant::ZERO), Enqueued::Solicit(_)));
    assert_eq!(c.enqueue(ip(2), 3, Instant::ZERO), Enqueued::Waiting);
    assert_eq!(c.enqueue(ip(3), 4, Instant::ZERO), Enqueued::Full(4), "no queue of its own to displace from");
    assert_eq!(c.state(ip(3), Instant::ZERO), None, "and no entry made");
    assert_eq!(c.enqueue(ip(2), 5, Instant::ZERO), Enqueued::Displaced(2), "its own oldest gives way");
    assert_eq!(c.pending_total(), 3);
    assert_eq!(c.on_link_layer_address(ip(2), MAC, false, Instant::ZERO).flush, VecDeque::from([3, 5]));
    assert!(matches!(c.enqueue(ip(3), 4, Instant::ZERO), Enqueued::Solicit(_)));
}

#[test]
fn full_cache_evicts_the_least_recently_updated_resolved_entry() {
    let cfg = NdpConfig { max_entries: 2, ..NdpConfig::default() };
    let mut c: NeighbourCache<u32> = NeighbourCache::new(cfg, 7, Instant::ZERO);
    c.on_link_layer_address(ip(1), MAC, false, at(1));
    c.on_link_layer_address(ip(2), MAC, false, at(2));
    c.confirm(ip(1), at(3)); // ip(1) is now the younger
    c.on_link_layer_address(ip(3), MAC, false, at(4));
    assert_eq!(c.state(ip(2), at(4)), None, "evicted");
    assert!(c.state(ip(1), at(4)).is_some() && c.state(ip(3), at(4)).is_some());
    // Simultaneous updates: the lowest address goes first.
    let mut c: NeighbourCache<u32> =
        NeighbourCache::new(NdpConfig { max_entries: 2, ..NdpConfig::default() }, 7, at(0));
    c.on_link_layer_address(ip(2), MAC, false, at(1));
    c.on_link_layer_address(ip(1), MAC, false, at(1));
    c.on_link_layer_address(ip(3), MAC, false, at(1));
    assert_eq!(c.state(ip(1), at(1)), None);
    // With only INCOMPLETE entries nothing can be evicted; unsolicited news is not kept either.
    let mut c: NeighbourCache<u32> =
        NeighbourCache::new(NdpConfig { max_entries: 1, ..NdpConfig::default() }, 7, at(0));
    assert!(matches!(c.enqueue(ip(1), 1, at(0)), Enqueued::Solicit(_)));
    assert_eq!(c.enqueue(ip(2), 2, at(0)), Enqueued::Full(2));
    c.on_link_layer_address(ip(2), MAC, false, at(0));
    assert_eq!(c.state(ip(2), at(0)), None);
    assert_eq!(c.len(), 1);
}

#[test]
fn eviction_keeps_counts_consistent() {
    let cfg = NdpConfig { max_entries: 4, ..NdpConfig::default() };
    let mut c: NeighbourCache<u32> = NeighbourCache::new(cfg, 7, Instant::ZERO);
    for n in 0..100u16 {
        let now = Instant::from_millis(u64::from(n));
        if n % 3 == 0 {
            let _ = c.enqueue(ip(n), u32::from(n), now);
        } else {
            c.on_link_layer_address(ip(n), MAC, n % 2 == 0, now);
        }
        if n % 5 == 0 {
            let _ = c.on_timer(ip(n - n % 3), now + Duration::from_secs(10));
        }
        assert!(c.len() <= 4);
    }
    let queued: usize = c
        .entries
        .values()
        .map(|e| match &e.state {
            State::Incomplete { queue, .. } => queue.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(queued, c.pending_total());
    assert_eq!(c.by_touch.len(), c.entries.values().filter(|e| e.state.mac().is_some()).count());
}

#[test]
fn enqueue_on_a_resolved_entry_sends_at_once() {
    let (mut c, _) = with(Reachable);
    assert_eq!(c.enqueue(IP, 5, at(1)), Enqueued::Ready(5, MAC, None));
    let (mut c, _) = with(Stale);
    assert_eq!(c.enqueue(IP, 5, at(1)), Enqueued::Ready(5, MAC, Some(timer(at(6)))));
}

#[test]
fn same_seed_same_reachable_times_and_router_updates_redraw() {
    let draw = |seed| NeighbourCache::<u32>::new(NdpConfig::default(), seed, Instant::ZERO).reachable_time();
    assert_eq!(draw(1), draw(1));
    assert_ne!(draw(1), draw(2));
    let mut c = cache();
    let first = c.reachable_time();
    c.set_base_reachable_time(Duration::from_secs(30), at(1));
    assert_eq!(c.reachable_time(), first, "same base: kept");
    c.set_base_reachable_time(Duration::from_secs(10), at(1));
    assert!((Duration::from_secs(5)..Duration::from_secs(15)).contains(&c.reachable_time()));
    c.set_base_reachable_time(Duration::ZERO, at(1));
    assert!(!c.reachable_time().is_zero(), "zero means unspecified");
    // Redrawn every two hours even with the same base.
    let before = c.reachable_time();
    c.confirm(IP, at(3 * 3600));
    assert_ne!(c.reachable_time(), before);
    c.set_retrans_timer(Duration::from_millis(500));
    assert_eq!(c.retrans_timer(), Duration::from_millis(500));
    c.set_retrans_timer(Duration::ZERO);
    assert_eq!(c.retrans_timer(), Duration::from_millis(500));
}

#[test]
fn a_whole_schedule_is_reproducible() {
    let run = |seed: u64| {
        let mut c: NeighbourCache<u32> = NeighbourCache::new(NdpConfig::default(), seed, Instant::ZERO);
        let mut log = Vec::new();
        c.enqueue(IP, 1, Instant::ZERO);
        c.on_advertisement(IP, Some(MAC), SOLICITED, at(1));
        let mut now = at(1);
        for _ in 0..20 {
            now = now + Duration::from_secs(7);
            log.push(format!("{:?}", c.lookup(IP, now)));
            log.push(format!("{:?}", c.on_timer(IP, now)));
            if log.len() % 6 == 0 {
                c.on_advertisement(IP, None, SOLICITED, now);
            }
        }
        log
    };
    assert_eq!(run(3), run(3));
}
