use super::*;

const MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);

fn ip(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn at(secs: u64) -> Instant {
    Instant::from_secs(secs)
}

/// DAD without the random initial delay, so times are round.
fn config() -> NdpConfig {
    NdpConfig { max_rtr_solicitation_delay: Duration::ZERO, ..NdpConfig::default() }
}

fn list() -> AddressList {
    AddressList::new(&config(), MAC, 7)
}

fn prefix(p: &str, valid: u32, preferred: u32) -> PrefixInfo {
    PrefixInfo {
        prefix: ip(p),
        prefix_len: 64,
        on_link: true,
        autonomous: true,
        valid_lifetime: valid,
        preferred_lifetime: preferred,
    }
}

fn dad_timer(addr: Ipv6Addr, at: Instant) -> Timer {
    Timer { at, key: NdpTimer::Dad(addr) }
}

fn life_timer(addr: Ipv6Addr, at: Instant) -> Timer {
    Timer { at, key: NdpTimer::AddressLifetime(addr) }
}

/// Runs DAD of `addr` (one probe) to the end, starting at `t`.
fn pass_dad(l: &mut AddressList, addr: Ipv6Addr, t: Instant) {
    assert!(matches!(l.on_dad_timer(addr, t), DadStep::SendProbe { .. }));
    assert_eq!(l.on_dad_timer(addr, t + Duration::from_secs(1)), DadStep::Assigned(addr));
}

#[test]
fn modified_eui64_link_local_of_a_known_mac() {
    assert_eq!(interface_id(MAC), [0x50, 0x54, 0x00, 0xff, 0xfe, 0x12, 0x34, 0x56]);
    assert_eq!(link_local(MAC), ip("fe80::5054:ff:fe12:3456"));
    // The universal/local bit is inverted both ways.
    assert_eq!(link_local(EthernetAddress([0x02, 0, 0, 0, 0, 1])), ip("fe80::ff:fe00:1"));
    assert_eq!(link_local(EthernetAddress([0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc])), ip("fe80::21b:21ff:feaa:bbcc"));
    assert_eq!(with_interface_id(ip("2001:db8:1:2:ffff::"), interface_id(MAC)), ip("2001:db8:1:2:5054:ff:fe12:3456"));
}

#[test]
fn link_local_is_tentative_then_preferred_after_one_probe() {
    let mut l = list();
    let ll = link_local(MAC);
    assert_eq!(l.add_link_local(at(0)), Ok(vec![dad_timer(ll, at(0))]));
    assert_eq!(l.state(ll, at(0)), Some(AddressState::Tentative));
    assert!(!l.is_assigned(ll, at(0)));
    assert_eq!(l.source_for(ip("fe80::1"), at(0)), None, "never a tentative source");
    assert_eq!(l.on_dad_timer(ll, at(0)), DadStep::SendProbe { target: ll, timer: dad_timer(ll, at(1)) });
    assert_eq!(l.on_dad_timer(ll, Instant::from_millis(999)), DadStep::Nothing);
    assert_eq!(l.on_dad_timer(ll, at(1)), DadStep::Assigned(ll));
    assert_eq!(l.state(ll, at(1)), Some(AddressState::Preferred));
    assert!(l.is_assigned(ll, at(1)));
    assert_eq!(l.on_dad_timer(ll, at(2)), DadStep::Nothing);
    assert_eq!(l.add_link_local(at(2)), Err(AddError::AlreadyPresent));
}

#[test]
fn more_probes_are_spaced_by_the_retransmission_timer() {
    let cfg = NdpConfig { dup_addr_detect_transmits: 3, ..config() };
    let mut l = AddressList::new(&cfg, MAC, 7);
    let a = ip("2001:db8::1");
    l.add_configured(a, 64, at(0)).unwrap();
    l.set_retrans_timer(Duration::from_millis(500));
    let mut t = at(0);
    for _ in 0..3 {
        match l.on_dad_timer(a, t) {
            DadStep::SendProbe { target, timer } => {
                assert_eq!(target, a);
                assert_eq!(timer.at, t + Duration::from_millis(500));
                t = timer.at;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(l.on_dad_timer(a, t), DadStep::Assigned(a));
}

#[test]
fn no_dad_means_preferred_at_once() {
    let cfg = NdpConfig { dup_addr_detect_transmits: 0, ..config() };
    let mut l = AddressList::new(&cfg, MAC, 7);
    assert_eq!(l.add_link_local(at(0)), Ok(vec![]));
    assert_eq!(l.state(link_local(MAC), at(0)), Some(AddressState::Preferred));
}

#[test]
fn the_first_probe_waits_a_seeded_random_delay() {
    let delay = |seed| {
        let mut l = AddressList::new(&NdpConfig::default(), MAC, seed);
        l.add_link_local(at(5)).unwrap()[0].at
    };
    assert_eq!(delay(1), delay(1));
    assert_ne!(delay(1), delay(2));
    assert!((at(5)..at(6)).contains(&delay(1)));
}

#[test]
fn a_dad_probe_from_another_node_makes_the_address_duplicate() {
    let mut l = list();
    let ll = link_local(MAC);
    l.add_link_local(at(0)).unwrap();
    l.on_dad_timer(ll, at(0));
    assert_eq!(l.on_solicitation(ll, false, at(0)), SolicitationVerdict::Discard, "resolution of a tentative one");
    assert_eq!(l.state(ll, at(0)), Some(AddressState::Tentative));
    let dup = Duplicate { addr: ll, from_mac: true };
    assert_eq!(l.on_solicitation(ll, true, at(0)), SolicitationVerdict::Duplicate(dup));
    assert_eq!(l.state(ll, at(0)), Some(AddressState::Duplicate));
    assert_eq!(l.on_dad_timer(ll, at(1)), DadStep::Nothing, "never assigned");
    assert!(!l.is_assigned(ll, at(1)));
    assert_eq!(l.on_solicitation(ll, true, at(1)), SolicitationVerdict::NotOurs);
}

#[test]
fn an_advertisement_for_a_tentative_address_makes_it_duplicate() {
    let mut l = list();
    let a = ip("2001:db8::1");
    l.add_configured(a, 64, at(0)).unwrap();
    assert_eq!(l.on_advertisement(a, at(0)), AdvertVerdict::Duplicate(Duplicate { addr: a, from_mac: false }));
    assert_eq!(l.source_for(ip("2001:db8::2"), at(5)), None);
    // After DAD, an advertisement for our address is a conflict only.
    let b = ip("2001:db8::2");
    l.add_configured(b, 64, at(0)).unwrap();
    pass_dad(&mut l, b, at(0));
    assert_eq!(l.on_advertisement(b, at(2)), AdvertVerdict::Conflict(b));
    assert_eq!(l.state(b, at(2)), Some(AddressState::Preferred));
    assert_eq!(l.on_solicitation(b, false, at(2)), SolicitationVerdict::Answer);
    assert_eq!(l.on_advertisement(ip("2001:db8::99"), at(2)), AdvertVerdict::NotOurs);
    assert_eq!(l.on_solicitation(ip("2001:db8::99"), true, at(2)), SolicitationVerdict::NotOurs);
}

#[test]
fn an_advertised_prefix_forms_an_address_with_lifetimes() {
    let mut l = list();
    let a = ip("2001:db8:1:2:5054:ff:fe12:3456");
    let outcome = l.on_prefix(&prefix("2001:db8:1:2::", 3600, 1800), at(0));
    assert_eq!(outcome, PrefixOutcome::Formed(a, vec![dad_timer(a, at(0)), life_timer(a, at(1800))]));
    pass_dad(&mut l, a, at(0));
    assert_eq!(l.state(a, at(1799)), Some(AddressState::Preferred));
    assert_eq!(l.on_lifetime_timer(a, at(1799)), LifetimeEvent::Nothing, "not due");
    assert_eq!(l.on_lifetime_timer(a, at(1800)), LifetimeEvent::Deprecated(a, Some(life_timer(a, at(3600)))));
    assert_eq!(l.on_lifetime_timer(a, at(1801)), LifetimeEvent::Nothing, "told once");
    assert_eq!(l.state(a, at(1800)), Some(AddressState::Deprecated));
    assert!(l.is_assigned(a, at(1800)), "deprecated still receives");
    assert_eq!(l.on_lifetime_timer(a, at(3600)), LifetimeEvent::Removed(a));
    assert_eq!(l.state(a, at(3600)), None);
    assert_eq!(l.on_lifetime_timer(a, at(3601)), LifetimeEvent::Nothing);
}

#[test]
fn prefixes_that_form_no_address() {
    let mut l = list();
    let cases = [
        (PrefixInfo { autonomous: false, ..prefix("2001:db8::", 100, 100) }, "a) autonomous flag clear"),
        (prefix("fe80::", 100, 100), "b) link-local prefix"),
        (prefix("2001:db8::", 100, 101), "c) preferred lifetime above valid lifetime"),
        (PrefixInfo { prefix_len: 48, ..prefix("2001:db8::", 100, 100) }, "d) prefix length is not 64"),
        (PrefixInfo { prefix_len: 128, ..prefix("2001:db8::", 100, 100) }, "d) prefix length is not 64"),
        (PrefixInfo { prefix_len: 255, ..prefix("2001:db8::", 100, 100) }, "d) prefix length is not 64"),
        (prefix("2001:db8::", 0, 0), "d) valid lifetime 0"),
        (prefix("ff02::", 100, 100), "not a unicast address"),
    ];
    for (info, why) in cases {
        assert_eq!(l.on_prefix(&info, at(0)), PrefixOutcome::Ignored(why), "{info:?}");
    }
    assert!(l.addresses(at(0)).is_empty());
    let mut off = AddressList::new(&NdpConfig { autoconf: false, ..config() }, MAC, 7);
    assert_eq!(
        off.on_prefix(&prefix("2001:db8::", 100, 100), at(0)),
        PrefixOutcome::Ignored("autoconfiguration is off")
    );
    // A configured address equal to the one the prefix would form stays configured.
    let formed = ip("2001:db8::5054:ff:fe12:3456");
    l.add_configured(formed, 64, at(0)).unwrap();
    assert_eq!(
        l.on_prefix(&prefix("2001:db8::", 100, 100), at(0)),
        PrefixOutcome::Ignored("d) the address is already configured otherwise")
    );
}

#[test]
fn the_address_list_is_bounded() {
    let mut l = AddressList::new(&NdpConfig { max_addresses: 2, ..config() }, MAC, 7);
    l.add_link_local(at(0)).unwrap();
    assert!(matches!(l.on_prefix(&prefix("2001:db8:1::", 100, 100), at(0)), PrefixOutcome::Formed(..)));
    assert_eq!(l.on_prefix(&prefix("2001:db8:2::", 100, 100), at(0)), PrefixOutcome::Ignored("address list full"));
    assert_eq!(l.add_configured(ip("2001:db8:3::1"), 64, at(0)), Err(AddError::Full));
    assert_eq!(l.add_configured(ip("ff02::1"), 64, at(0)), Err(AddError::NotUnicast));
    assert_eq!(l.add_configured(Ipv6Addr::UNSPECIFIED, 64, at(0)), Err(AddError::NotUnicast));
}

/// RFC 4862 §5.5.3 e), each of its three cases.
#[test]
fn the_two_hour_rule() {
    let p = "2001:db8::";
    let a = ip("2001:db8::5054:ff:fe12:3456");
    let valid_until = |l: &AddressList| l.addresses(at(0)).iter().find(|i| i.addr == a).unwrap().valid_until;
    // 1. More than two hours, or more than remains: taken as is (here: shortened from 10 h to 3 h).
    let mut l = list();
    l.on_prefix(&prefix(p, 36_000, 36_000), at(0));
    assert!(matches!(l.on_prefix(&prefix(p, 10_800, 10_800), at(0)), PrefixOutcome::Updated(..)));
    assert_eq!(valid_until(&l), at(10_800));
    l.on_prefix(&prefix(p, 60, 60), at(0));
    assert_eq!(valid_until(&l), at(7_200), "3. more than two hours left: cut to two hours, no less");
    // 2. Two hours or less left: a shorter lifetime is ignored, a longer one taken.
    l.on_prefix(&prefix(p, 60, 60), at(1_000));
    assert_eq!(valid_until(&l), at(7_200));
    l.on_prefix(&prefix(p, 0, 0), at(1_000));
    assert_eq!(valid_until(&l), at(7_200), "not even 0 removes it");
    l.on_prefix(&prefix(p, 7_000, 7_000), at(1_000));
    assert_eq!(valid_until(&l), at(8_000), "longer than what remains");
    // Infinity replaces anything; infinity cut by a short lifetime leaves two hours.
    l.on_prefix(&prefix(p, u32::MAX, u32::MAX), at(1_000));
    assert_eq!(valid_until(&l), Instant::MAX);
    l.on_prefix(&prefix(p, 60, 60), at(1_000));
    assert_eq!(valid_until(&l), at(8_200));
}

#[test]
fn preferred_lifetime_follows_every_advertisement() {
    let mut l = list();
    let a = ip("2001:db8::5054:ff:fe12:3456");
    l.on_prefix(&prefix("2001:db8::", 36_000, 100), at(0));
    pass_dad(&mut l, a, at(0));
    assert_eq!(l.on_lifetime_timer(a, at(100)), LifetimeEvent::Deprecated(a, Some(life_timer(a, at(36_000)))));
    // Preferred again: deprecation will be told again when it ends.
    assert_eq!(
        l.on_prefix(&prefix("2001:db8::", 36_000, 200), at(150)),
        PrefixOutcome::Updated(a, Some(life_timer(a, at(350))))
    );
    assert_eq!(l.state(a, at(150)), Some(AddressState::Preferred));
    assert!(matches!(l.on_lifetime_timer(a, at(350)), LifetimeEvent::Deprecated(..)));
    // Preferred lifetime 0: deprecated at once, told by a timer due now.
    l.on_prefix(&prefix("2001:db8::", 36_000, 300), at(400));
    assert_eq!(
        l.on_prefix(&prefix("2001:db8::", 36_000, 0), at(500)),
        PrefixOutcome::Updated(a, Some(life_timer(a, at(500))))
    );
    assert_eq!(l.state(a, at(500)), Some(AddressState::Deprecated));
    assert!(matches!(l.on_lifetime_timer(a, at(500)), LifetimeEvent::Deprecated(..)));
    // Infinite lifetimes need no timer.
    assert_eq!(l.on_prefix(&prefix("2001:db8::", u32::MAX, u32::MAX), at(600)), PrefixOutcome::Updated(a, None));
    assert_eq!(l.state(a, Instant::MAX - Duration::from_secs(1)), Some(AddressState::Preferred));
}

#[test]
fn a_new_address_with_preferred_lifetime_zero_starts_deprecated() {
    let mut l = list();
    let a = ip("2001:db8::5054:ff:fe12:3456");
    let PrefixOutcome::Formed(_, timers) = l.on_prefix(&prefix("2001:db8::", 100, 0), at(0)) else { panic!() };
    assert_eq!(timers, vec![dad_timer(a, at(0)), life_timer(a, at(0))]);
    pass_dad(&mut l, a, at(0));
    assert_eq!(l.state(a, at(1)), Some(AddressState::Deprecated));
    assert_eq!(l.on_lifetime_timer(a, at(1)), LifetimeEvent::Deprecated(a, Some(life_timer(a, at(100)))));
}

#[test]
fn source_selection_prefers_scope_then_preferred_then_longest_match() {
    let mut l = list();
    let ll = link_local(MAC);
    l.add_link_local(at(0)).unwrap();
    pass_dad(&mut l, ll, at(0));
    let g1 = ip("2001:db8:1::5054:ff:fe12:3456");
    let g2 = ip("2001:db8:2::5054:ff:fe12:3456");
    l.on_prefix(&prefix("2001:db8:1::", 36_000, 36_000), at(0));
    l.on_prefix(&prefix("2001:db8:2::", 36_000, 100), at(0));
    assert_eq!(l.source_for(ip("2001:db8:2::9"), at(0)), Some(ll), "globals still tentative: only ll");
    pass_dad(&mut l, g1, at(0));
    pass_dad(&mut l, g2, at(0));
    let now = at(2);
    assert_eq!(l.source_for(ip("fe80::1"), now), Some(ll), "rule 2: link-local destination");
    assert_eq!(l.source_for(ip("ff02::1"), now), Some(ll), "rule 2: link-local multicast");
    assert_eq!(l.source_for(ip("ff0e::1"), now), Some(g1), "rule 2: global multicast, then rule 8");
    assert_eq!(l.source_for(ip("2001:db8:2::9"), now), Some(g2), "rule 8: longest match");
    assert_eq!(l.source_for(ip("2001:db8:1::9"), now), Some(g1));
    assert_eq!(l.source_for(g2, now), Some(g2), "rule 1: the destination itself");
    assert_eq!(l.source_for(ip("2a00::1"), now), Some(g1), "tie: lowest address");
    // g2 deprecated: rule 3 beats rule 8.
    let later = at(200);
    assert_eq!(l.state(g2, later), Some(AddressState::Deprecated));
    assert_eq!(l.source_for(ip("2001:db8:2::9"), later), Some(g1));
    assert_eq!(l.source_for(g2, later), Some(g2), "rule 1 still first");
    // Only link-local left: it serves global destinations too (rule 2's "else the largest").
    let mut only_ll = list();
    only_ll.add_link_local(at(0)).unwrap();
    pass_dad(&mut only_ll, ll, at(0));
    assert_eq!(only_ll.source_for(ip("2001:db8::9"), at(2)), Some(ll));
    assert_eq!(list().source_for(ip("2001:db8::9"), at(2)), None);
}

#[test]
fn scopes() {
    assert_eq!(scope(ip("fe80::1")), 2);
    assert_eq!(scope(ip("::1")), 2);
    assert_eq!(scope(ip("ff02::1")), 2);
    assert_eq!(scope(ip("ff05::1")), 5);
    assert_eq!(scope(ip("ff0e::1")), 14);
    assert_eq!(scope(ip("2001:db8::1")), 14);
    assert_eq!(scope(ip("fd00::1")), 14, "unique local addresses are global scope (RFC 6724 §3.1)");
}

#[test]
fn the_list_shows_every_address_with_its_state() {
    let mut l = list();
    let ll = link_local(MAC);
    l.add_link_local(at(0)).unwrap();
    l.add_configured(ip("2001:db8::1"), 200, at(0)).unwrap();
    l.on_solicitation(ip("2001:db8::1"), true, at(0));
    let shown: Vec<(Ipv6Addr, u8, Origin, AddressState)> =
        l.addresses(at(0)).iter().map(|i| (i.addr, i.prefix_len, i.origin, i.state)).collect();
    assert_eq!(
        shown,
        vec![
            (ip("2001:db8::1"), 128, Origin::Configured, AddressState::Duplicate),
            (ll, 64, Origin::LinkLocal, AddressState::Tentative),
        ]
    );
}
