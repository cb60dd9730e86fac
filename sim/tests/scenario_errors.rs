//! Bad scenarios get errors naming the file, the line and the field.

mod common;

use synack_sim::{build, BuildOptions, Scenario, ScenarioError, Source};

fn error(text: &str) -> ScenarioError {
    let file = "bad.toml";
    let src = Source { file: file.into(), text: text.into() };
    match Scenario::parse(file, text) {
        Err(e) => e,
        Ok(sc) => build(&sc, &src, &BuildOptions::default()).expect_err("the scenario should be rejected"),
    }
}

fn base(link: &str, rest: &str) -> String {
    format!(
        "name = \"x\"\n[[host]]\nname = \"a\"\nip = \"10.0.0.1/24\"\n[[host]]\nname = \"b\"\nip = \"10.0.0.2/24\"\n[[link]]\na = \"a\"\nb = \"b\"\n{link}\n{rest}"
    )
}

fn check(e: &ScenarioError, line: usize, field: &str, words: &str) {
    let shown = e.to_string();
    assert_eq!((e.file.as_str(), e.line, e.field.as_str()), ("bad.toml", line, field), "{shown}");
    assert!(shown.contains(words), "{shown:?} should mention {words:?}");
    assert!(shown.starts_with(&format!("bad.toml:{line}:")), "{shown}");
}

#[test]
fn wrong_type_names_line_and_field() {
    check(&error(&base("loss = \"lots\"", "")), 11, "link[0].loss", "invalid type");
}

#[test]
fn probability_out_of_range() {
    check(&error(&base("loss = 1.5", "")), 11, "link[0].loss", "outside 0..=1");
}

#[test]
fn unknown_field_is_rejected() {
    check(&error(&base("lose = 0.1", "")), 11, "link[0].lose", "unknown field `lose`");
}

#[test]
fn bad_duration_and_bad_address() {
    check(&error(&base("delay = \"5 parsecs\"", "")), 11, "link[0].delay", "invalid duration");
    let e = error("[[host]]\nname = \"a\"\nip = \"10.0.0.300/24\"\n");
    check(&e, 3, "host[0].ip", "bad address/prefix");
}

#[test]
fn unknown_host_in_a_link_points_at_the_name() {
    let text = base("", "").replace("b = \"b\"", "b = \"nobody\"");
    check(&error(&text), 10, "link[0].b", "no host named \"nobody\"");
}

#[test]
fn unknown_app_in_an_expectation_and_missing_dst() {
    let e = error(&base("", "[[app]]\nname = \"s\"\nhost = \"b\"\nkind = \"udp_sink\"\n[[expect]]\napp = \"ghost\"\n"));
    check(&e, 17, "expect[0].app", "no app named \"ghost\"");
    let e = error(&base("", "[[app]]\nhost = \"a\"\nkind = \"ping\"\ncount = 3\n"));
    check(&e, 12, "app[0].dst", "needs `dst`");
}

#[test]
fn bad_fault_direction() {
    let e = error(&base("", "[[fault]]\ndir = \"a->c\"\nframe = 3\naction = \"drop\"\n"));
    check(&e, 13, "fault[0].dir", "no link direction");
    let e = error(&base("", "[[fault]]\ndir = \"a->b\"\nframe = 3\naction = \"corrupt\"\n"));
    check(&e, 15, "fault[0].action", "needs `bit`");
}

#[test]
fn bad_ecn_setting_and_a_mark_with_a_bit() {
    let e = error("[[host]]\nname = \"a\"\nip = \"10.0.0.1/24\"\n[host.config]\ntcp_ecn = \"maybe\"\n");
    check(&e, 5, "host[0].config.tcp_ecn", "unknown variant `maybe`");
    let e = error(&base("", "[[fault]]\ndir = \"a->b\"\nframe = 3\naction = \"mark_ce\"\nbit = 7\n"));
    check(&e, 15, "fault[0].action", "only \"corrupt\" takes `bit`");
}

#[test]
fn bad_capture_settings() {
    let e = error(&base("", "[capture]\nsnaplen = 60\n"));
    check(&e, 13, "capture.snaplen", "outside 134..=65535");
    let e = error(&base("", "[capture]\nsnaplen = 70000\n"));
    check(&e, 13, "capture.snaplen", "outside 134..=65535");
    let e = error(&base("", "[capture]\nfrom = \"2s\"\nuntil = \"1s\"\n"));
    check(&e, 14, "capture.until", "later than `from`");
    let e = error(&base("", "[capture]\nuntill = \"1s\"\n"));
    check(&e, 13, "capture.untill", "unknown field `untill`");
    let e = error(&base("", "[capture]\nsnaplen = \"short\"\n"));
    check(&e, 13, "capture.snaplen", "invalid type");
    let ok = base("", "[capture]\nsnaplen = 134\nfrom = \"1s\"\nuntil = \"1.5s\"\n");
    let sc = Scenario::parse("ok.toml", &ok).unwrap();
    build(&sc, &Source { file: "ok.toml".into(), text: ok.clone() }, &BuildOptions::default()).unwrap();
    assert_eq!(Scenario::parse("again", &sc.to_toml()).unwrap(), sc, "round trip");
}

#[test]
fn syntax_error_has_a_line() {
    let e = error("name = \"x\"\n[[host]\n");
    assert_eq!(e.line, 2, "{e}");
}

#[test]
fn shipped_scenarios_parse_and_build() {
    for name in ["default.toml", "tcp_bulk.toml", "lossy_mix.toml"] {
        let (sc, src) = common::shipped(name);
        build(&sc, &src, &BuildOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn scenarios_round_trip_through_toml() {
    let (sc, _) = common::shipped("lossy_mix.toml");
    let again = Scenario::parse("again", &sc.to_toml()).unwrap_or_else(|e| panic!("{e}\n{}", sc.to_toml()));
    assert_eq!(sc, again);
}

#[test]
fn the_same_ip_on_two_hosts() {
    let text = base("", "").replace("10.0.0.2/24", "10.0.0.1/24");
    check(&error(&text), 7, "host[1].ip", "address 10.0.0.1 is also host \"a\"'s");
}

#[test]
fn a_duplicate_mac() {
    let text = base("", "")
        .replace("ip = \"10.0.0.1/24\"", "ip = \"10.0.0.1/24\"\nmac = \"02:00:00:00:00:09\"")
        .replace("ip = \"10.0.0.2/24\"", "ip = \"10.0.0.2/24\"\nmac = \"02:00:00:00:00:09\"");
    check(&error(&text), 9, "host[1].mac", "mac 02:00:00:00:00:09 is also host \"a\"'s");
    // The second host's default MAC written on the first: the error points at the one written.
    let text = base("", "").replace("ip = \"10.0.0.1/24\"", "ip = \"10.0.0.1/24\"\nmac = \"02:00:00:00:00:02\"");
    check(&error(&text), 5, "host[0].mac", "is also host \"b\"'s");
}

#[test]
fn a_host_on_the_network_or_broadcast_address() {
    let text = base("", "").replace("10.0.0.2/24", "10.0.0.255/24");
    check(&error(&text), 7, "host[1].ip", "10.0.0.255 is the broadcast address of its subnet 10.0.0.0/24");
    let text = base("", "").replace("10.0.0.1/24", "10.0.0.0/24");
    check(&error(&text), 4, "host[0].ip", "10.0.0.0 is the network address of its subnet 10.0.0.0/24");
    // /31 has neither (RFC 3021).
    let text = base("", "").replace("10.0.0.1/24", "10.0.0.0/31").replace("10.0.0.2/24", "10.0.0.1/31");
    let sc = Scenario::parse("ok.toml", &text).unwrap();
    build(&sc, &Source { file: "ok.toml".into(), text }, &BuildOptions::default()).unwrap();
}

#[test]
fn a_link_mtu_of_zero() {
    check(&error(&base("mtu = 0", "")), 11, "link[0].mtu", "mtu 0 is below 68");
    let e = error(&base("[link.b_to_a]\nmtu = 0", ""));
    check(&e, 12, "link[0].b_to_a.mtu", "mtu 0 is below 68");
}

#[test]
fn an_unknown_outcome() {
    let e = error(&base(
        "",
        "[[app]]\nname = \"s\"\nhost = \"b\"\nkind = \"tcp_sink\"\n[[expect]]\napp = \"s\"\noutcome = \"fine\"\n",
    ));
    check(&e, 18, "expect[0].outcome", "unknown outcome \"fine\": expected one of ok, closed, reset");
}

#[test]
fn zero_connections() {
    let e = error(&base("", "[[app]]\nhost = \"b\"\nkind = \"tcp_sink\"\nconnections = 0\n"));
    check(&e, 15, "app[0].connections", "at least 1");
    let e = error(&base("", "[[app]]\nhost = \"a\"\nkind = \"tcp_bulk\"\ndst = \"b\"\nconnections = 0\n"));
    check(&e, 16, "app[0].connections", "at least 1");
}

#[test]
fn host_config_errors_point_at_their_own_line() {
    let e = error("[[host]]\nname = \"a\"\nip = \"10.0.0.1/24\"\n[host.config]\nttl = 9\nmtu = 20\n");
    check(&e, 6, "host[0].config.mtu", "mtu 20 must be within 576..=65535");
    let e = error("[[host]]\nname = \"a\"\nip = \"10.0.0.1/24\"\nmac = \"01:00:5e:00:00:01\"\n");
    check(&e, 4, "host[0].mac", "must be a non-zero unicast address");
    let e = error("[[host]]\nname = \"a\"\nip = \"10.0.0.1/24\"\nmac = \"01:00:5e\"\n");
    check(&e, 4, "host[0].mac", "bad MAC address");
    let e = error("[[host]]\nname = \"a\"\nip = \"10.0.0.1/24\"\n[host.config]\ngateway = \"10.0.1.1\"\n");
    check(&e, 5, "host[0].config.gateway", "must be on-link");
    let e = error("[[host]]\nname = \"a\"\nip = \"10.0.0.1/24\"\n[host.config]\ntcp_recv_buffer = 0\n");
    check(&e, 5, "host[0].config.tcp_recv_buffer", "at least 1");
}

#[test]
fn a_repeated_key_is_named() {
    let e = error("[[host]]\nname = \"a\"\nip = \"10.0.0.1/24\"\nname = \"b\"\n");
    assert_eq!(e.line, 4, "{e}");
    assert!(e.to_string().contains("duplicate key `name`"), "{e}");
}

#[test]
fn values_that_parse_but_make_no_sense() {
    // A run of no time.
    let e = error(&format!("duration = \"0s\"\n{}", base("", "")));
    check(&e, 1, "duration", "longer than zero");
    // A link MTU no IPv4 datagram could fill.
    check(&error(&base("mtu = 70000", "")), 11, "link[0].mtu", "above 65535");
    // Port 0, for a server and for a client's local port.
    let sink = "[[app]]\nname = \"s\"\nhost = \"b\"\nkind = \"tcp_sink\"\nport = 0\n";
    check(&error(&base("", sink)), 16, "app[0].port", "port 0 names no port");
    let bulk = "[[app]]\nname = \"c\"\nhost = \"a\"\nkind = \"tcp_bulk\"\ndst = \"b\"\nbytes = 10\nlocal_port = 0\n";
    check(&error(&base("", bulk)), 18, "app[0].local_port", "port 0 names no port");
    // ARP retries all at the same instant.
    let text = base("", "").replace("ip = \"10.0.0.1/24\"", "ip = \"10.0.0.1/24\"\nconfig = { arp_retry = \"0s\" }");
    check(&error(&text), 5, "host[0].config.arp_retry", "longer than zero");
    // Keep-alive settings that parse but cannot work.
    for (setting, field, words) in [
        ("tcp_keepalive_probes = 0", "tcp_keepalive_probes", "from 1 to 255"),
        ("tcp_keepalive_idle = \"0s\"", "tcp_keepalive_idle", "must be > 0"),
        ("tcp_keepalive_interval = \"0s\"", "tcp_keepalive_interval", "must be > 0"),
    ] {
        let text =
            base("", "").replace("ip = \"10.0.0.1/24\"", &format!("ip = \"10.0.0.1/24\"\nconfig = {{ {setting} }}"));
        check(&error(&text), 5, &format!("host[0].config.{field}"), words);
    }
    // Two hosts with one IPv6 address, and one host listing it twice.
    let text = base("", "")
        .replace("ip = \"10.0.0.1/24\"", "ip = \"10.0.0.1/24\"\nip6 = [\"2001:db8::1/64\"]")
        .replace("ip = \"10.0.0.2/24\"", "ip = \"10.0.0.2/24\"\nip6 = [\"2001:db8::2/64\", \"2001:db8::1/64\"]");
    check(&error(&text), 9, "host[1].ip6[1]", "also host \"a\"'s");
    let text = base("", "")
        .replace("ip = \"10.0.0.1/24\"", "ip = \"10.0.0.1/24\"\nip6 = [\"2001:db8::1/64\", \"2001:db8::1/64\"]");
    check(&error(&text), 5, "host[0].ip6[1]", "listed twice");
    // A DHCP pool outside the server's subnet, or on its broadcast address.
    for (pool, words) in [("192.168.5.10", "outside"), ("10.0.0.255", "not a free address")] {
        let dhcp = format!("[[app]]\nname = \"d\"\nhost = \"b\"\nkind = \"dhcp_server\"\npool = \"{pool}\"\n");
        check(&error(&base("", &dhcp)), 16, "app[0].pool", words);
    }
    // An event or an app start after the run has ended.
    let late = "[[event]]\nat = \"100s\"\naction = \"partition\"\nlink = \"a-b\"\n";
    check(&error(&format!("duration = \"5s\"\n{}", base("", late))), 14, "event[0].at", "never happen");
    let app = "[[app]]\nname = \"s\"\nhost = \"b\"\nkind = \"udp_sink\"\nstart = \"10s\"\n";
    check(&error(&format!("duration = \"5s\"\n{}", base("", app))), 17, "app[0].start", "never run");
    // More copies than any stack holds sockets for.
    let many = "[[app]]\nname = \"s\"\nhost = \"b\"\nkind = \"udp_sink\"\ncopies = 100000000\n";
    check(&error(&base("", many)), 16, "app[0].copies", "from 1 to 100000");
}
