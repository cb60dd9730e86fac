//! The simulator as a network lab (issue 19): routers, switches, egress queues and their disciplines, seen
//! from the outside: what the captures show, what the summary counts, what bad scenarios are told.

mod common;

use common::{run_text, scenario};
use std::path::PathBuf;
use synack::wire::{ethernet, EtherType, EthernetFrame, Ipv4Packet};
use synack_sim::lab_summary::jain;
use synack_sim::{build, decode, BuildOptions, RunOutput, Scenario, ScenarioError, Source};

fn trace_text(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../traces").join(format!("{name}.toml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn capture<'a>(out: &'a RunOutput, name: &str) -> &'a [u8] {
    &out.captures.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no capture {name}")).1
}

/// The IPv4 datagrams of a capture, as (source, TTL, protocol, header checksum good).
fn datagrams(pcapng: &[u8]) -> Vec<(std::net::Ipv4Addr, u8, u8, bool, Vec<u8>)> {
    let file = decode::read(pcapng).expect("pcapng");
    file.frames
        .iter()
        .filter_map(|f| {
            let eth = EthernetFrame::new_checked(&f.data[..]).ok()?;
            (eth.ethertype() == EtherType::Ipv4).then_some(())?;
            let ip = Ipv4Packet::new_checked(&f.data[ethernet::HEADER_LEN..]).ok()?;
            let proto = u8::from(ip.protocol());
            Some((ip.src_addr(), ip.ttl(), proto, ip.verify_checksum(), ip.payload().to_vec()))
        })
        .collect()
}

#[test]
fn traceroute_hears_every_hop_in_order() {
    let out = run_text(&trace_text("traceroute"), None, true);
    assert!(out.result.passed(), "{}", out.result);
    // ICMP (1) answers the client received, in order: type 11 (time exceeded) from each router's interface
    // facing the client, then type 3 code 3 (port unreachable) from the server.
    let answers: Vec<(String, u8, u8)> = datagrams(capture(&out, "client"))
        .into_iter()
        .filter(|d| d.2 == 1)
        .map(|d| (d.0.to_string(), d.4[0], d.4[1]))
        .collect();
    let want = [("10.0.1.1", 11, 0), ("10.0.12.2", 11, 0), ("10.0.23.2", 11, 0), ("10.0.2.2", 3, 3)];
    let want: Vec<(String, u8, u8)> = want.iter().map(|&(a, t, c)| (a.to_string(), t, c)).collect();
    assert_eq!(answers, want);
    // r1 forwards probes 2..4 with their TTL one less and a header checksum that checks.
    let forwarded: Vec<(u8, bool)> = datagrams(capture(&out, "r1-wan"))
        .into_iter()
        .filter(|d| d.0.to_string() == "10.0.1.2")
        .map(|d| (d.1, d.3))
        .collect();
    assert_eq!(forwarded, [(1, true), (2, true), (3, true)]);
    // The app's summary names each hop as traceroute prints it.
    let lines = &out.result.apps[0].lines;
    let hops: Vec<&str> = lines.iter().map(|l| l.split(" after ").next().unwrap_or("")).collect();
    assert_eq!(
        hops,
        [
            "ttl 1: 10.0.1.1: ICMP TTL exceeded in transit",
            "ttl 2: 10.0.12.2: ICMP TTL exceeded in transit",
            "ttl 3: 10.0.23.2: ICMP TTL exceeded in transit",
            "ttl 4: 10.0.2.2: ICMP port unreachable",
        ]
    );
}

/// Probes too big for r1's next link and without DF are fragmented by r1 (every fragment's payload a
/// multiple of 8 bytes but the last); the router after it answers the first fragment only, and the server
/// reassembles the last probe and answers port unreachable.
#[test]
fn datagrams_without_df_are_fragmented_to_the_next_mtu() {
    let text = trace_text("path_mtu")
        .split("[[app]]")
        .next()
        .expect("head")
        .to_string()
        + "[[app]]\nname = \"trace\"\nhost = \"client\"\nkind = \"traceroute\"\ndst = \"server\"\ncount = 3\nsize = 1400\n\
           [[expect]]\napp = \"trace\"\nmin_count = 3\n";
    let out = run_text(&text, None, true);
    assert!(out.result.passed(), "{}", out.result);
    let r1 = &out.result.nodes[0];
    assert_eq!(r1.counters.get("fragmented"), Some(&2), "{:?}", r1.counters);
    let sizes: Vec<usize> =
        datagrams(capture(&out, "r1-wan")).iter().filter(|d| d.2 == 17).map(|d| d.4.len()).collect();
    // 1408 bytes of UDP in 976 + 432 (976 = the most that fits under 1000 - 20, a multiple of 8).
    assert_eq!(sizes, [976, 432, 976, 432]);
}

#[test]
fn no_route_is_answered_net_unreachable() {
    let text = trace_text("traceroute").split("[[app]]").next().expect("head").to_string()
        + "[[app]]\nname = \"ping\"\nhost = \"server\"\nkind = \"ping\"\ndst = \"10.9.9.9\"\ncount = 2\n";
    // r3's default route leads to r2, which knows no 10.9.0.0.
    let out = run_text(&text, None, false);
    let ping = &out.result.apps[0];
    // r2 answers, from its interface towards the server.
    assert_eq!(ping.errors, ["unreachable 10.9.9.9: ICMP net unreachable from 10.0.23.1"; 2], "{}", out.result);
    assert_eq!(out.result.nodes[1].counters.get("dropped: no route"), Some(&2));
}

/// The dumbbell of traces/dumbbell_taildrop.toml, smaller, with another bottleneck discipline.
fn dumbbell(discipline: &str, ecn: bool) -> RunOutput {
    let mut text = trace_text("dumbbell_taildrop")
        .replace("discipline = \"tail_drop\"", &format!("discipline = \"{discipline}\""))
        .replace("bytes = 5000000", "bytes = 1500000")
        .replace("min_count = 20000000", "min_count = 6000000")
        .replace("[capture]", "[capture]\n");
    if ecn {
        text =
            text.replace("config = { gateway = \"10.0.1.1\",", "config = { gateway = \"10.0.1.1\", tcp_ecn = \"on\",");
    }
    run_text(&text, None, false)
}

fn bottleneck(out: &RunOutput) -> &synack_sim::aqm::QueueStats {
    &out.result.nodes[1].queues[0].stats
}

fn senders_fairness(out: &RunOutput) -> f64 {
    let rates: Vec<f64> = out
        .result
        .apps
        .iter()
        .filter(|a| a.group.as_deref() == Some("senders"))
        .map(|a| {
            let c = &a.conns[0];
            c.bytes_sent as f64 / (c.finished.expect("finished") - c.started).as_secs_f64()
        })
        .collect();
    assert_eq!(rates.len(), 4);
    jain(&rates).expect("rates")
}

#[test]
fn active_queue_management_keeps_the_bottleneck_queue_short() {
    let tail = dumbbell("tail_drop", false);
    assert!(tail.result.passed(), "{}", tail.result);
    let tail_p50 = bottleneck(&tail).sojourn_percentile(50).expect("sent");
    for disc in ["red", "codel", "fq_codel"] {
        let out = dumbbell(disc, false);
        assert!(out.result.passed(), "{disc}: {}", out.result);
        let q = bottleneck(&out);
        let p50 = q.sojourn_percentile(50).expect("sent");
        assert!(p50 * 3 < tail_p50, "{disc}: sojourn p50 {p50:?}, tail drop's {tail_p50:?}");
        let early = q.dropped.get("red").or(q.dropped.get("codel")).copied().unwrap_or(0);
        assert!(early > 0, "{disc}: {:?}", q.dropped);
        let fair = senders_fairness(&out);
        assert!(fair > 0.9, "{disc}: Jain's index {fair}");
    }
}

#[test]
fn ecn_capable_flows_are_marked_instead_of_dropped() {
    for disc in ["codel", "fq_codel", "red"] {
        let out = dumbbell(disc, true);
        assert!(out.result.passed(), "{disc}: {}", out.result);
        let q = bottleneck(&out);
        assert!(q.marked > 10, "{disc}: {q:?}");
        // Only what is not ECN-capable is dropped early: SYNs and retransmissions (RFC 3168 §6.1.5).
        let early = q.dropped.get("codel").or(q.dropped.get("red")).copied().unwrap_or(0);
        assert!(early * 5 <= q.marked, "{disc}: {early} early drops, {} marks", q.marked);
        let ce: u64 =
            out.result.apps.iter().flat_map(|a| &a.conns).filter_map(|c| c.counters).map(|n| n.ce_received).sum();
        assert!(ce > 0, "{disc}: the receiver saw the marks");
    }
}

#[test]
fn reruns_are_byte_identical() {
    let text = trace_text("dumbbell_codel").replace("discipline = \"codel\"", "discipline = \"fq_codel\"");
    let a = run_text(&text, Some(3), true);
    let b = run_text(&text, Some(3), true);
    assert_eq!(a.captures, b.captures);
    assert_eq!(a.result.to_string(), b.result.to_string());
    assert!(a.captures.len() == 14, "5 hosts, 5 switch ports, 4 router ports");
}

fn error(text: &str) -> ScenarioError {
    let file = "bad.toml";
    let src = Source { file: file.into(), text: text.into() };
    match Scenario::parse(file, text) {
        Err(e) => e,
        Ok(sc) => build(&sc, &src, &BuildOptions::default()).expect_err("the scenario should be rejected"),
    }
}

/// Replaces `from` with `to` in the traceroute scenario and checks the error points at the line of `to`.
fn bad(from: &str, to: &str, field: &str, words: &str) {
    let text = trace_text("traceroute");
    let at = text.find(from).unwrap_or_else(|| panic!("{from:?}"));
    let line = text[..at].matches('\n').count() + 1;
    let text = text.replacen(from, to, 1);
    let e = error(&text);
    let shown = e.to_string();
    assert_eq!((e.file.as_str(), e.line, e.field.as_str()), ("bad.toml", line, field), "{shown}");
    assert!(shown.contains(words), "{shown:?} should mention {words:?}");
}

#[test]
fn bad_topologies_are_located() {
    bad("b = \"r1:lan\"", "b = \"rx:lan\"", "link[0].b", "no switch or router named \"rx\"");
    bad("b = \"r1:lan\"", "b = \"r1:nope\"", "link[0].b", "has no port \"nope\" (ports: lan, wan)");
    bad("b = \"r1:lan\"", "b = \"r1\"", "link[0].b", "name one of its ports, r1:lan, r1:wan");
    bad("a = \"r1:wan\"", "a = \"r1:lan\"", "link[1].a", "on another link already");
    bad(
        "address = \"10.0.12.1/30\"",
        "address = \"10.0.1.200/25\"",
        "router[0].interface[1].address",
        "overlaps interface \"lan\"",
    );
    bad("address = \"10.0.12.1/30\"", "address = \"10.0.2.2/30\"", "router[0].interface[1].address", "host \"server\"");
    bad("via = \"10.0.12.2\"", "via = \"10.0.99.2\"", "router[0].route[0].via", "on none of the router's subnets");
    bad("prefix = \"0.0.0.0/0\"", "prefix = \"10.0.0.1/8\"", "router[0].route[0].prefix", "host bits set");
    bad("name = \"r2\"", "name = \"server\"", "router[1].name", "already a host's or node's");
}

/// Replaces `from` with `to` in the IPv6 traceroute scenario and checks the error names the file, the field and
/// the line where `at` is first written in the changed text.
fn bad6(from: &str, to: &str, at: &str, field: &str, words: &str) {
    let text = trace_text("traceroute6");
    assert!(text.contains(from), "{from:?}");
    let text = text.replacen(from, to, 1);
    let line = text[..text.find(at).unwrap_or_else(|| panic!("{at:?}"))].matches('\n').count() + 1;
    let e = error(&text);
    let shown = e.to_string();
    assert_eq!((e.file.as_str(), e.line, e.field.as_str()), ("bad.toml", line, field), "{shown}");
    assert!(shown.contains(words), "{shown:?} should mention {words:?}");
}

/// One case per message of the IPv6 route checks.
#[test]
fn bad_ipv6_routes_are_located() {
    let (default, via) = ("prefix = \"::/0\"", "via = \"2001:db8:12::2\"");
    let p = "router[0].route[0].prefix";
    let v = "router[0].route[0].via";
    bad6(
        default,
        "prefix = \"2001:db8::1/32\"",
        "2001:db8::1/32",
        p,
        "host bits set: write the network, 2001:db8::/32",
    );
    bad6(default, "prefix = \"::/129\"", "::/129", p, "bad IPv6 address/prefix");
    bad6(via, "via = \"10.0.12.2\"", "10.0.12.2\"\n", v, "next hop 10.0.12.2 is IPv4 but the prefix ::/0 is IPv6");
    bad6(default, "prefix = \"0.0.0.0/0\"", via, v, "next hop 2001:db8:12::2 is IPv6 but the prefix 0.0.0.0/0 is IPv4");
    bad6(via, "via = \"ff02::2\"", "ff02::2", v, "next hop ff02::2 is not a unicast address");
    bad6(via, "via = \"2001:db8:99::2\"", "2001:db8:99::2", v, "is on none of the router's IPv6 prefixes");
    bad6(
        via,
        "via = \"fe80::1ff:fe00:201\"",
        "fe80::1ff:fe00:201",
        v,
        "link-local next hop fe80::1ff:fe00:201 needs `interface`",
    );
    bad6(
        via,
        "via = \"2001:db8:12::1\"",
        "via = \"2001:db8:12::1\"",
        v,
        "next hop 2001:db8:12::1 is the router's own address",
    );
    bad6(
        via,
        "interface = \"wan\"\nvia = \"fe80::1ff:fe00:102\"",
        "fe80::1ff:fe00:102",
        v,
        "fe80::1ff:fe00:102 is the router's own",
    );
    bad6(
        via,
        "interface = \"wan\"\nvia = \"2001:db8:99::2\"",
        "2001:db8:99::2",
        v,
        "not on interface \"wan\"'s IPv6 prefix",
    );
    bad6(via, "", "prefix = \"::/0\"", p, "a route needs `via` or `interface`");
    let east = "interface = \"east\"";
    let i = "router[1].route[1].interface";
    bad6(east, "interface = \"north\"", "north", i, "no interface \"north\" (interfaces: west, east)");
    let wan = "ip6 = \"2001:db8:12::1/64\"\n[[router.route]]\nprefix = \"::/0\"\nvia = \"2001:db8:12::2\"";
    let to = "[[router.route]]\nprefix = \"::/0\"\ninterface = \"wan\"";
    bad6(wan, to, "interface = \"wan\"", "router[0].route[0].interface", "interface \"wan\" has no `ip6`");
}

/// One case per message of the Router Advertisement settings, and the traceroute that needs a first hop.
#[test]
fn bad_advertising_interfaces_are_located() {
    let (wan, adv) = ("ip6 = \"2001:db8:12::1/64\"", "advertise = true");
    let f = |i: usize, name: &str| format!("router[0].interface[{i}].{name}");
    let with = |extra: &str| format!("{adv}\n{extra}");
    bad6(wan, &format!("{wan}\nra_interval = \"5s\""), "ra_interval", &f(1, "ra_interval"), "add `advertise = true`");
    bad6(
        wan,
        &format!("{wan}\nrouter_lifetime = \"60s\""),
        "router_lifetime",
        &f(1, "router_lifetime"),
        "add `advertise",
    );
    bad6("ip6 = \"2001:db8:1::1/64\"\n", "", adv, &f(0, "advertise"), "advertising needs the interface's `ip6`");
    bad6("2001:db8:1::1/64", "2001:db8:1::1/80", adv, &f(0, "advertise"), "2001:db8:1::1/80 is a /80: hosts form");
    bad6(adv, &with("ra_interval = \"2s\""), "ra_interval", &f(0, "ra_interval"), "outside 4s..=1800s");
    bad6(adv, &with("router_lifetime = \"30500ms\""), "router_lifetime", &f(0, "router_lifetime"), "not whole seconds");
    bad6(adv, &with("router_lifetime = \"5s\""), "router_lifetime", &f(0, "router_lifetime"), "neither 0");
    bad6(adv, &with("router_lifetime = \"9001s\""), "router_lifetime", &f(0, "router_lifetime"), "to 9000s");
    bad6(
        adv,
        "advertise = false",
        "dst = \"2001:db8:2::ff:fe00:2\"",
        "app[0].dst",
        "neither `gateway6` nor a link to an advertising router",
    );
    let no_ipv6 = "is IPv6 but host \"client\" has none: give it `ip6`";
    bad6("ip6 = []\n", "", "dst = \"2001:db8:2::ff:fe00:2\"", "app[0].dst", no_ipv6);
}

/// The IPv6 trace's routers, seen from the outside: the advertised prefixes became the hosts' addresses, the
/// static routes carried the probes. With a router lifetime of 0 a router advertises without being a default
/// router: the hosts keep soliciting (answered 3 s after the advertisement at the start, MIN_DELAY_BETWEEN_RAS),
/// have no route off their link, and the transfer cannot start.
#[test]
fn routers_advertise_and_route_ipv6() {
    let out = run_text(&trace_text("traceroute6"), None, false);
    assert!(out.result.passed(), "{}", out.result);
    let lines = &out.result.apps[0].lines;
    assert!(lines[0].starts_with("hop limit 1: 2001:db8:1::1: ICMPv6 hop limit exceeded"), "{lines:?}");
    assert!(lines[1].starts_with("hop limit 2: 2001:db8:12::2: ICMPv6 hop limit exceeded"), "{lines:?}");
    assert!(lines[2].starts_with("hop limit 3: 2001:db8:23::2: ICMPv6 hop limit exceeded"), "{lines:?}");
    assert!(lines[3].starts_with("hop limit 4: 2001:db8:2::ff:fe00:2: ICMPv6 port unreachable"), "{lines:?}");
    let text = trace_text("traceroute6").replace("advertise = true", "advertise = true\nrouter_lifetime = \"0s\"");
    let out = run_text(&text, None, false);
    assert!(!out.result.passed(), "no default router: {}", out.result);
    let summary = out.result.to_string();
    assert!(summary.contains("router advertisements sent 2, router solicitations answered 2"), "{summary}");
    assert!(summary.contains("no route to 2001:db8:2::ff:fe00:2"), "{summary}");
}

#[test]
fn bad_queues_are_located() {
    let q = |queue: &str| format!("address = \"10.0.12.1/30\"\nqueue = {{ {queue} }}");
    let f = "router[0].interface[1].queue";
    let from = "address = \"10.0.12.1/30\"";
    let cases = [
        ("rate = \"0Mbit\"", "rate", "must be positive"),
        ("rate = \"1Mbit\", discipline = \"red\", min_th = 5000, max_th = 1000", "max_th", "must be below max_th"),
        ("rate = \"1Mbit\", discipline = \"codel\", min_th = 5000", "min_th", "parameter of red"),
        ("rate = \"1Mbit\", limit_bytes = 100", "limit_bytes", "one full-size frame"),
        ("rate = \"1Mbit\", discipline = \"codel\", target = \"0s\"", "target", "positive"),
        ("rate = \"1Mbit\", discipline = \"fq_codel\", quantum = 0", "quantum", "at least 1"),
        ("rate = \"1Mbit\", discipline = \"tail_drop\", ecn = true", "ecn", "needs red, codel or fq_codel"),
        ("rate = \"1Mbit\", discipline = \"pie\"", "discipline", "unknown variant"),
    ];
    for (queue, field, words) in cases {
        let text = trace_text("traceroute").replacen(from, &q(queue), 1);
        let line = text[..text.find("queue = {").expect("queue")].matches('\n').count() + 1;
        let e = error(&text);
        let shown = e.to_string();
        assert_eq!((e.line, e.field.as_str()), (line, format!("{f}.{field}").as_str()), "{queue}: {shown}");
        assert!(shown.contains(words), "{shown:?} should mention {words:?}");
    }
}

#[test]
fn copies_spread_and_group() {
    let text = trace_text("dumbbell_codel").split("[[app]]").next().expect("head").to_string()
        + "[[app]]\nname = \"sink\"\nhost = \"sink\"\nkind = \"tcp_sink\"\nconnections = 3\n\
           [[app]]\nname = \"bulk\"\nhost = \"cubic1\"\nkind = \"tcp_bulk\"\ndst = \"sink\"\nbytes = 300000\n\
           copies = 3\nstart_spread = \"50ms\"\n";
    let (sc, _) = scenario(&text);
    assert_eq!(sc.apps[1].copies, Some(3));
    let out = run_text(&text, None, false);
    let bulk: Vec<_> = out.result.apps.iter().filter(|a| a.group.as_deref() == Some("bulk")).collect();
    let names: Vec<&str> = bulk.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["bulk#1", "bulk#2", "bulk#3"]);
    let starts: Vec<u64> = bulk.iter().map(|a| a.conns[0].started.as_nanos()).collect();
    assert_eq!(starts, [0, 50_000_000, 100_000_000]);
    let summary = out.result.to_string();
    assert!(summary.contains("bulk: 3 flows, goodput total"), "{summary}");
    assert!(summary.contains("Jain's fairness"), "{summary}");
}

/// Two senders behind a switch whose ports send at 10 Mbit/s: the port towards the receiver is the shared
/// bottleneck; the switch floods only until it has learnt where each host is.
#[test]
fn a_switch_port_queue_is_a_shared_bottleneck() {
    let host = |n: &str, i: u8| format!("[[host]]\nname = \"{n}\"\nip = \"10.0.0.{i}/24\"\n");
    let link = |n: &str, p: u8| format!("[[link]]\na = \"{n}\"\nb = \"sw:{p}\"\ndelay = \"2ms\"\n");
    let bulk = |n: &str| {
        format!("[[app]]\nname = \"{n}\"\nhost = \"{n}\"\nkind = \"tcp_bulk\"\ndst = \"c\"\nbytes = 500000\ngroup = \"senders\"\n")
    };
    let text = format!(
        "name = \"switched\"\nduration = \"20s\"\n{}{}{}[[switch]]\nname = \"sw\"\nports = 3\n\
         queue = {{ rate = \"10Mbit\", limit_bytes = 30000 }}\n{}{}{}\
         [[app]]\nname = \"sink\"\nhost = \"c\"\nkind = \"tcp_sink\"\nconnections = 2\n{}{}\
         [[expect]]\napp = \"sink\"\nmin_count = 1000000\n",
        host("a", 1),
        host("b", 2),
        host("c", 3),
        link("a", 1),
        link("b", 2),
        link("c", 3),
        bulk("a"),
        bulk("b")
    );
    let out = run_text(&text, None, true);
    assert!(out.result.passed(), "{}", out.result);
    let sw = &out.result.nodes[0];
    assert!(sw.counters["flooded"] <= 4, "ARP broadcasts and first frames only: {:?}", sw.counters);
    let to_c = sw.queues.iter().find(|q| q.port == "sw:3").expect("sw:3");
    assert!(to_c.stats.total_dropped() > 0 && to_c.stats.max_bytes > 20_000, "{:?}", to_c.stats);
    let p99 = to_c.stats.sojourn_percentile(99).expect("sent");
    assert!(p99 > std::time::Duration::from_millis(15), "a full 30 kB queue at 10 Mbit/s waits ~24 ms: {p99:?}");
    assert!(out.result.to_string().contains("senders: 2 flows"));
    assert_eq!(out.captures.len(), 6, "3 hosts, 3 switch ports");
}

/// `shrink` writes scenarios back as TOML: nodes and queues survive the round trip.
#[test]
fn nodes_and_queues_round_trip_through_toml() {
    for name in ["traceroute", "dumbbell_codel"] {
        let (sc, _) = scenario(&trace_text(name));
        let again = Scenario::parse("again.toml", &sc.to_toml()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(again, sc, "{name}");
    }
}

#[test]
fn the_queue_series_follows_every_change_of_the_bottleneck_queue() {
    let text = trace_text("dumbbell_codel")
        .replace("bytes = 5000000", "bytes = 1500000")
        .replace("min_count = 20000000", "min_count = 6000000");
    let (sc, src) = scenario(&text);
    let with = |series| {
        let opts = BuildOptions { series, capture: true, ..BuildOptions::default() };
        synack_sim::run(&sc, &src, &opts).unwrap_or_else(|e| panic!("{e}"))
    };
    let (plain, out) = (with(false), with(true));
    assert!(plain.queue_series.is_none());
    assert_eq!(plain.captures, out.captures, "sampling the queues changes nothing of the run");
    assert_eq!(plain.result.apps, out.result.apps);
    let csv = out.queue_series.as_deref().expect("a queue series");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(synack_sim::series::queues::HEADER));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // Only the bottleneck, r1's wan port, has a queue in the dumbbell.
    assert!(rows.iter().all(|r| r[1] == "r1" && r[2] == "wan"), "{:?}", rows.first());
    let queue = &out.result.nodes.iter().find(|n| n.name == "r1").expect("r1").queues[0];
    assert_eq!(queue.port, "r1:wan");
    let stats = &queue.stats;
    let num = |s: &str| s.parse::<u64>().unwrap_or_else(|e| panic!("{s:?}: {e}"));
    // A sojourn per frame sent, in sending order, as the summary's percentiles read them.
    let sojourns: Vec<u64> = rows.iter().filter(|r| !r[5].is_empty()).map(|r| num(r[5])).collect();
    assert_eq!(sojourns, stats.sojourn_ns);
    let last = rows.last().expect("rows");
    assert_eq!((num(last[6]), num(last[7]), num(last[8])), (stats.sent, stats.total_dropped(), stats.marked));
    let most = rows.iter().map(|r| num(r[3])).max().unwrap_or_default();
    assert_eq!(most, stats.max_bytes as u64, "the largest backlog of the series is the summary's");
    assert!(stats.total_dropped() + stats.marked > 0, "CoDel acted on this run");
    let times: Vec<u64> = rows.iter().map(|r| num(r[0])).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "rows in time order");
    assert!(rows.windows(2).all(|w| w[0][3..] != w[1][3..] || !w[1][5].is_empty()), "a row per change");
}
