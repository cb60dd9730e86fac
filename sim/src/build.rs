//! Turns a [`Scenario`] into a ready-to-run [`Sim`], checking every cross-reference on the way.

use crate::app::{self, App, AppReport, HashKind};
use crate::capture::{Capture, CaptureSettings};
use crate::engine::{Host, Sim};
use crate::impairment::{Bernoulli, Corrupt, Duplicate, GilbertElliott, Impairment, Jitter, Mtu, RateLimit, Reorder};
use crate::link::Direction;
use crate::link::{End, Link};
use crate::rng::{derive_seed, stream, APP_BASE, HOST_BASE, LINK_BASE};
use crate::scenario::{
    AppKind, AppSpec, CaptureSpec, HostConfigSpec, ImpairSpec, Scenario, ScenarioError, Source, MIN_SNAPLEN,
};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

mod nodes;
use std::time::Duration;
use synack::wire::EthernetAddress;
use synack::{Config, ConfigError, Instant, Stack};

/// How to build a run.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// Use this seed instead of the scenario's.
    pub seed: Option<u64>,
    /// Capture pcapng per host.
    pub capture: bool,
    /// Record every impairment decision (for shrinking).
    pub record: bool,
    /// Sample every TCP connection's congestion and RTT state ([`crate::series`]).
    pub series: bool,
    /// Which apps keep SHA-256 digests of their TCP streams.
    pub digests: Digests,
}

/// Which apps hash the bytes of their TCP connections, and how. SHA-256 of every byte costs more than
/// simulating the frames that carry them, and only the summary and `hash_equals` expectations read digests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Digests {
    /// SHA-256 in every `tcp_bulk` and `tcp_sink`: the summary shows each connection's digest.
    #[default]
    All,
    /// SHA-256 only in the apps a `hash_equals` expectation compares: the same verdicts and failure messages;
    /// the summary shows no digest for the other apps.
    Checked,
    /// An XXH3-128 fingerprint instead of SHA-256, only in the apps a `hash_equals` expectation compares: the
    /// same verdicts (two streams are equal or not whichever hash tells it) at a fraction of the cost, but the
    /// digests shown are not SHA-256. For runs whose verdict alone is read (`sweep` replays a failing seed
    /// with SHA-256 to report it).
    Fingerprints,
}

const DEFAULT_DELAY: Duration = Duration::from_millis(1);
const DEFAULT_MTU: usize = 1500;
/// The least link MTU accepted: every IPv4 module must forward a 68-byte datagram (RFC 791).
const MIN_LINK_MTU: usize = 68;
const MAX_LINK_MTU: usize = 65_535;
/// Copies of one app a scenario may ask for: each is a socket (and often a connection) in a host's stack.
const MAX_COPIES: u32 = 100_000;
const DEFAULT_QUEUE: usize = 64 * 1024;
const DEFAULT_REORDER_HOLD: Duration = Duration::from_millis(2);

/// Builds the simulation. `source` locates errors found after parsing.
pub fn build(sc: &Scenario, source: &Source, opts: &BuildOptions) -> Result<Sim, ScenarioError> {
    if sc.duration.0.is_zero() {
        return Err(source.error_at(&["duration"], "the run needs a duration longer than zero"));
    }
    let seed = opts.seed.unwrap_or(sc.seed);
    let mut sim = Sim::new(sc.name.clone(), seed, Instant::ZERO + sc.duration.0);
    sim.stop_when_done = sc.stop_when_done;
    sim.series = opts.series.then(crate::series::Series::new);
    sim.queue_series = opts.series.then(crate::series::queues::QueueSeries::new);
    let capture_settings = capture_settings(&sc.capture, source)?;

    for (i, h) in sc.hosts.iter().enumerate() {
        let idx = i.to_string();
        if sc.hosts[..i].iter().any(|o| o.name == h.name) {
            return Err(source.error_at(&["host", &idx, "name"], format!("host name {:?} is used twice", h.name)));
        }
        if h.name.is_empty() {
            return Err(source.error_at(&["host", &idx, "name"], "a host needs a name (it names its capture file)"));
        }
        let file_name = crate::run::safe_name(&h.name);
        if let Some(o) = sc.hosts[..i].iter().find(|o| crate::run::safe_name(&o.name) == file_name) {
            let msg = format!(
                "hosts {:?} and {:?} would share a capture file (names are cut to letters, digits, - and _): rename one",
                o.name, h.name
            );
            return Err(source.error_at(&["host", &idx, "name"], msg));
        }
        let ip = h.ip.0;
        if ip.prefix_len() < 31 {
            let network = Ipv4Addr::from(u32::from(ip.addr()) & ip.mask());
            let which = if ip.addr() == network {
                Some("network")
            } else if Some(ip.addr()) == ip.broadcast() {
                Some("broadcast")
            } else {
                None
            };
            if let Some(which) = which {
                let msg = format!(
                    "{} is the {which} address of its subnet {network}/{}: a host needs an address inside it",
                    ip.addr(),
                    ip.prefix_len()
                );
                return Err(source.error_at(&["host", &idx, "ip"], msg));
            }
        }
        if let Some(other) = sc.hosts[..i].iter().find(|o| o.ip.0.addr() == ip.addr()) {
            let msg = format!("address {} is also host {:?}'s", ip.addr(), other.name);
            return Err(source.error_at(&["host", &idx, "ip"], msg));
        }
        for (k, a) in h.ip6.iter().flatten().enumerate() {
            let taken = |o: &crate::scenario::HostSpec| o.ip6.iter().flatten().any(|b| b.0.addr() == a.0.addr());
            let earlier = h.ip6.iter().flatten().take(k).any(|b| b.0.addr() == a.0.addr());
            let other = sc.hosts[..i].iter().find(|o| taken(o)).map(|o| format!("also host {:?}'s", o.name));
            if let Some(whose) = other.or_else(|| earlier.then(|| "listed twice".to_string())) {
                let msg = format!("address {} is {whose}", a.0.addr());
                return Err(source.error_at(&["host", &idx, "ip6", &k.to_string()], msg));
            }
        }
        let mac = h.mac.map(|m| m.0).unwrap_or(default_mac(i));
        if let Some(j) =
            sc.hosts[..i].iter().enumerate().position(|(j, o)| o.mac.map(|m| m.0).unwrap_or(default_mac(j)) == mac)
        {
            // One of the two was written in the file (default addresses are distinct): point at it.
            let (at, other) = if h.mac.is_some() { (i, j) } else { (j, i) };
            let whose =
                if sc.hosts[other].mac.is_some() { "" } else { " (its default: 02:00:00:00:00:NN, N its position)" };
            let msg = format!("mac {mac} is also host {:?}'s{whose}", sc.hosts[other].name);
            return Err(source.error_at(&["host", &at.to_string(), "mac"], msg));
        }
        let mut config =
            Config { mac, ipv4: h.ip.0, seed: derive_seed(seed, HOST_BASE + i as u64), ..Config::default() };
        let c = &h.config;
        config.gateway = c.gateway;
        if c.dhcp == Some(true) {
            config.dhcp = Some(synack::DhcpConfig::default());
        }
        if let Some(addrs) = &h.ip6 {
            let addresses = addrs.iter().map(|c| c.0).collect();
            config.ipv6 = Some(synack::Ipv6Config { addresses, gateway: c.gateway6, ..synack::Ipv6Config::default() });
        } else if c.gateway6.is_some() {
            let msg = "an IPv6 gateway needs the host's `ip6` (an empty list for link-local only)";
            return Err(source.error_at(&["host", &idx, "config", "gateway6"], msg));
        }
        config.mtu = c.mtu.unwrap_or(config.mtu);
        config.ttl = c.ttl.unwrap_or(config.ttl);
        config.seed = c.seed.unwrap_or(config.seed);
        config.udp_recv_queue = c.udp_recv_queue.unwrap_or(config.udp_recv_queue);
        config.arp.retry_interval = c.arp_retry.map(|d| d.0).unwrap_or(config.arp.retry_interval);
        config.arp.max_requests = c.arp_max_requests.unwrap_or(config.arp.max_requests);
        config.tcp.recv_buffer = c.tcp_recv_buffer.unwrap_or(config.tcp.recv_buffer);
        config.tcp.recv_buffer_max = c.tcp_recv_buffer_max.unwrap_or(config.tcp.recv_buffer_max);
        config.tcp.send_buffer = c.tcp_send_buffer.unwrap_or(config.tcp.send_buffer);
        config.tcp.send_buffer_max = c.tcp_send_buffer_max.unwrap_or(config.tcp.send_buffer_max);
        config.tcp.window_scaling = c.tcp_window_scaling.unwrap_or(config.tcp.window_scaling);
        config.tcp.timestamps = c.tcp_timestamps.unwrap_or(config.tcp.timestamps);
        if let Some(cc) = c.tcp_congestion {
            config.tcp.congestion = cc.algorithm();
        }
        config.tcp.hystart = c.tcp_hystart.unwrap_or(config.tcp.hystart);
        config.tcp.prr = c.tcp_prr.unwrap_or(config.tcp.prr);
        config.tcp.sack = c.tcp_sack.unwrap_or(config.tcp.sack);
        config.tcp.ecn = c.tcp_ecn.map_or(config.tcp.ecn, |e| e.setting());
        config.tcp.time_wait = c.tcp_time_wait.map(|d| d.0).unwrap_or(config.tcp.time_wait);
        config.tcp.max_time_wait = c.tcp_max_time_wait.unwrap_or(config.tcp.max_time_wait);
        config.tcp.keepalive = c.tcp_keepalive.unwrap_or(config.tcp.keepalive);
        config.tcp.keepalive_idle = c.tcp_keepalive_idle.map_or(config.tcp.keepalive_idle, |d| d.0);
        config.tcp.keepalive_interval = c.tcp_keepalive_interval.map_or(config.tcp.keepalive_interval, |d| d.0);
        config.tcp.keepalive_probes = c.tcp_keepalive_probes.unwrap_or(config.tcp.keepalive_probes);
        // A capture carries the stack's reasons as packet comments, a `tracing` subscriber that listens to
        // `synack_sim::explain` gets them as events; without either nobody reads them.
        config.explain = opts.capture || tracing::enabled!(target: "synack_sim::explain", tracing::Level::DEBUG);
        let stack = Stack::new(config).map_err(|e| {
            let mut path = vec!["host", idx.as_str()];
            // An IPv6 address the stack refused: the `ip6` entry that names it.
            let entry = match &e {
                ConfigError::BadIpv6(why) => h.ip6.iter().flatten().position(|c| why.contains(&c.0.addr().to_string())),
                _ => None,
            };
            let entry = entry.map(|i| i.to_string());
            match (&e, &entry) {
                (_, Some(i)) => path.extend(["ip6", i.as_str()]),
                (ConfigError::BadIpv6(_), None) if h.ip6.is_some() => path.push("ip6"),
                _ => path.extend_from_slice(config_error_field(&e, c)),
            }
            source.error_at(&path, e.to_string())
        })?;
        let capture = opts.capture.then(|| Capture::new(&sc.name, seed, &h.name, mac, capture_settings));
        sim.hosts.push(Host::new(h.name.clone(), h.ip.0.addr(), stack, capture));
    }
    let host_index = |name: &str| sc.hosts.iter().position(|h| h.name == name);
    sim.nodes = nodes::build_nodes(sc, source, seed, opts.capture.then_some(capture_settings))?;

    let mut used: Vec<End> = Vec::new();
    let mut joined: Vec<(End, End)> = Vec::new();
    for (i, l) in sc.links.iter().enumerate() {
        let idx = i.to_string();
        let find = |field: &str, name: &str, used: &[End]| {
            nodes::resolve_end(name, sc, &sim.nodes, used).map_err(|m| source.error_at(&["link", &idx, field], m))
        };
        let a = find("a", &l.a, &used)?;
        used.push(a);
        let b = find("b", &l.b, &used)?;
        used.push(b);
        if a == b {
            return Err(source.error_at(&["link", &idx, "b"], "a link needs two different hosts"));
        }
        // Every frame would go down both: each host would hear the other twice.
        if let Some(j) = joined.iter().position(|&(x, y)| (x, y) == (a, b) || (x, y) == (b, a)) {
            let msg = format!("link[{j}] already joins {:?} and {:?}", l.a, l.b);
            return Err(source.error_at(&["link", &idx, "b"], msg));
        }
        joined.push((a, b));
        if sc.links[..i].iter().any(|o| o.name() == l.name()) {
            return Err(source.error_at(&["link", &idx], format!("link name {:?} is used twice", l.name())));
        }
        let both = l.both();
        let specs = [l.a_to_b.clone().unwrap_or_default().or(&both), l.b_to_a.clone().unwrap_or_default().or(&both)];
        for (d, (spec, own)) in specs.iter().zip([&l.a_to_b, &l.b_to_a]).enumerate() {
            if let Some(mtu) = spec.mtu.filter(|m| !(MIN_LINK_MTU..=MAX_LINK_MTU).contains(m)) {
                let mut path = vec!["link", idx.as_str()];
                if own.as_ref().is_some_and(|o| o.mtu.is_some()) {
                    path.push(["a_to_b", "b_to_a"][d]);
                }
                path.push("mtu");
                let msg = if mtu < MIN_LINK_MTU {
                    format!("mtu {mtu} is below {MIN_LINK_MTU}, the least every IPv4 link carries (RFC 791)")
                } else {
                    format!("mtu {mtu} is above {MAX_LINK_MTU}, the largest IPv4 datagram (RFC 791)")
                };
                return Err(source.error_at(&path, msg));
            }
        }
        let labels = [format!("{}->{}", l.a, l.b), format!("{}->{}", l.b, l.a)];
        let [ab, ba] = [0, 1].map(|d| {
            let mut dir = direction(labels[d].clone(), &specs[d], stream(seed, LINK_BASE + 2 * i as u64 + d as u64));
            dir.recording = opts.record;
            dir.notes = opts.capture; // only captures show them
            dir
        });
        sim.add_link(Link { name: l.name(), a, b, dirs: [ab, ba] });
    }

    for (i, f) in sc.faults.iter().enumerate() {
        let idx = i.to_string();
        let action = f.action().map_err(|e| source.error_at(&["fault", &idx, "action"], e))?;
        let found = sim.links.iter_mut().flat_map(|l| l.dirs.iter_mut()).find(|d| d.label == f.dir);
        let Some(dir) = found else {
            let msg = format!("no link direction {:?}; directions are written \"a->b\" with host names", f.dir);
            return Err(source.error_at(&["fault", &idx, "dir"], msg));
        };
        if f.frame == 0 {
            return Err(source.error_at(&["fault", &idx, "frame"], "frames are numbered from 1"));
        }
        dir.faults.push(f.frame, f.copy, action);
    }

    // In the file's order (for messages), and as a set (a scenario may run many copies).
    let mut names: Vec<String> = Vec::new();
    let mut named: BTreeSet<String> = BTreeSet::new();
    let mut kinds: BTreeMap<String, AppKind> = BTreeMap::new();
    // (host, TCP?, port) of every server so far: a second on the same port could never listen.
    let mut listening: BTreeMap<(usize, bool, u16), String> = BTreeMap::new();
    // The most an app can count (replies, responses), where its kind makes that known.
    let mut most: BTreeMap<String, u64> = BTreeMap::new();
    for (i, a) in sc.apps.iter().enumerate() {
        let idx = i.to_string();
        let copies = a.copies.unwrap_or(1);
        if !(1..=MAX_COPIES).contains(&copies) {
            let msg = format!("copies must be from 1 to {MAX_COPIES}");
            return Err(source.error_at(&["app", &idx, "copies"], msg));
        }
        for (field, port) in [("port", a.port), ("local_port", a.local_port), ("spoof_port", a.spoof_port)] {
            if port == Some(0) {
                let msg = "port 0 names no port (an app listens on, or sends to, 1 to 65535)";
                return Err(source.error_at(&["app", &idx, field], msg));
            }
        }
        if let Some(start) = a.start.filter(|s| s.0 >= sc.duration.0) {
            let msg = format!(
                "start {:?} is not within the run (duration {:?}): the app would never run",
                start.0, sc.duration.0
            );
            return Err(source.error_at(&["app", &idx, "start"], msg));
        }
        if a.start_spread.is_some() && copies == 1 {
            return Err(source.error_at(&["app", &idx, "start_spread"], "start_spread spreads copies: set copies > 1"));
        }
        let start = a.start.map(|d| d.0).unwrap_or_default();
        let last_start = start.saturating_add(a.start_spread.map(|d| d.0).unwrap_or_default() * (copies - 1));
        if last_start >= sc.duration.0 {
            let msg = format!(
                "the last copy would start at {last_start:?}, not within the run (duration {:?}): it would never run",
                sc.duration.0
            );
            return Err(source.error_at(&["app", &idx, "start_spread"], msg));
        }
        let group = a.name();
        for copy in 0..copies {
            let name = if copies == 1 { group.clone() } else { format!("{group}#{}", copy + 1) };
            if named.contains(&name) {
                return Err(source.error_at(&["app", &idx, "name"], format!("app name {name:?} is used twice")));
            }
            let host = host_index(&a.host)
                .ok_or_else(|| source.error_at(&["app", &idx, "host"], format!("no host named {:?}", a.host)))?;
            let wants_v6 = a.ipv6 == Some(true);
            let dst: Option<IpAddr> = match &a.dst {
                None => None,
                Some(d) => Some(match host_index(d) {
                    Some(h) if wants_v6 => IpAddr::V6(host_ipv6(&sc.hosts[h], sim.hosts[h].mac).ok_or_else(|| {
                        let msg = format!("host {d:?} has no IPv6: give it `ip6` (an empty list for link-local only)");
                        source.error_at(&["app", &idx, "ipv6"], msg)
                    })?),
                    Some(h) => IpAddr::V4(sim.hosts[h].ip),
                    None => d.parse::<IpAddr>().map_err(|_| {
                        source.error_at(
                            &["app", &idx, "dst"],
                            format!("{d:?} is neither a host name nor an IPv4 or IPv6 address"),
                        )
                    })?,
                }),
            };
            if let Some(why) = dst.and_then(|d| unsendable(d, &sim.hosts[host], &sc.hosts[host])) {
                let d = a.dst.as_deref().unwrap_or_default();
                return Err(source.error_at(&["app", &idx, "dst"], format!("{d:?} {why}: nothing can be sent there")));
            }
            if let Some((tcp, port)) = server_port(a) {
                if let Some(first) = listening.insert((host, tcp, port), name.clone()) {
                    let proto = if tcp { "TCP" } else { "UDP" };
                    let msg =
                        format!("{proto} port {port} of host {:?} is already {first:?}'s: one server per port", a.host);
                    let field = if first.starts_with(&format!("{group}#")) { "copies" } else { "port" };
                    return Err(source.error_at(&["app", &idx, field], msg));
                }
            }
            if let Some(pool) = a.pool.filter(|_| a.kind == AppKind::DhcpServer) {
                let cidr = sc.hosts[host].ip.0;
                let why = if !cidr.contains(pool) {
                    Some("outside")
                } else if Some(pool) == cidr.network() || Some(pool) == cidr.broadcast() || pool == cidr.addr() {
                    Some("not a free address in")
                } else {
                    None
                };
                if let Some(why) = why {
                    let msg = format!("pool {pool} is {why} host {:?}'s subnet {cidr}", a.host);
                    return Err(source.error_at(&["app", &idx, "pool"], msg));
                }
            }
            let mut report = AppReport::new(&name, kind_name(a.kind), unit_name(a.kind));
            report.group = a.group.clone().or_else(|| (copies > 1).then(|| group.clone()));
            // The first copy keeps the seed an app without copies has.
            let app_seed = derive_seed(seed, APP_BASE + i as u64 + (u64::from(copy) << 32));
            let compared = || {
                sc.expects.iter().any(|x| x.hash_equals.as_ref().is_some_and(|other| *other == name || x.app == name))
            };
            let hash = match opts.digests {
                Digests::All => HashKind::Sha256,
                Digests::Checked if compared() => HashKind::Sha256,
                Digests::Fingerprints if compared() => HashKind::Xxh3,
                Digests::Checked | Digests::Fingerprints => HashKind::Off,
            };
            let app = match a.kind {
                AppKind::BlindAttacker => attacker(a, &sim, report, app_seed),
                AppKind::Traceroute => traceroute(a, sc, &sim, host, report, dst),
                _ => make_app(a, report, dst, app_seed, hash),
            }
            .map_err(|(field, msg)| source.error_at(&["app", &idx, field], msg))?;
            let spread = a.start_spread.map(|d| d.0).unwrap_or_default() * copy;
            let start = Instant::ZERO + a.start.map(|d| d.0).unwrap_or_default() + spread;
            sim.add_app(host, app, start);
            let bound = match a.kind {
                AppKind::Ping | AppKind::UdpPingpong => Some(a.count.unwrap_or(10)),
                AppKind::TcpRr => Some(u64::from(a.requests.unwrap_or(10))),
                _ => None,
            };
            if let Some(bound) = bound {
                most.insert(name.clone(), bound);
            }
            named.insert(name.clone());
            kinds.insert(name.clone(), a.kind);
            names.push(name);
        }
    }

    for (i, e) in sc.events.iter().enumerate() {
        let idx = i.to_string();
        let Some(link) = sim.links.iter().position(|l| l.name == e.link) else {
            let known: Vec<&str> = sim.links.iter().map(|l| l.name.as_str()).collect();
            let msg = format!("no link named {:?} (links: {})", e.link, known.join(", "));
            return Err(source.error_at(&["event", &idx, "link"], msg));
        };
        if e.at.0 >= sc.duration.0 {
            let msg = format!(
                "at {:?} is not within the run (duration {:?}): the event would never happen",
                e.at.0, sc.duration.0
            );
            return Err(source.error_at(&["event", &idx, "at"], msg));
        }
        let down = e.action == crate::scenario::EventAction::Partition;
        sim.schedule_partition(link, Instant::ZERO + e.at.0, down);
    }

    for (i, x) in sc.expects.iter().enumerate() {
        let idx = i.to_string();
        if let Some(w) = x.within.filter(|w| w.0 > sc.duration.0) {
            let msg = format!(
                "within {:?} is past the end of the run (duration {:?}): lengthen `duration` or shorten `within`",
                w.0, sc.duration.0
            );
            return Err(source.error_at(&["expect", &idx, "within"], msg));
        }
        if x.within.is_some_and(|w| w.0.is_zero()) {
            return Err(source.error_at(&["expect", &idx, "within"], "within 0s: no app is done at the very start"));
        }
        if let (Some(n), Some(&bound)) = (x.min_count, most.get(&x.app)) {
            if n > bound {
                let msg = format!("{:?} counts at most {bound} (what it sends): at least {n} can never be met", x.app);
                return Err(source.error_at(&["expect", &idx, "min_count"], msg));
            }
        }
        if let Some(o) = x.outcome.as_deref().filter(|o| !OUTCOMES.contains(o)) {
            let msg = format!("unknown outcome {o:?}: expected one of {}", OUTCOMES.join(", "));
            return Err(source.error_at(&["expect", &idx, "outcome"], msg));
        }
        for (field, app) in [("app", Some(&x.app)), ("hash_equals", x.hash_equals.as_ref())] {
            if let Some(app) = app {
                if !named.contains(app) {
                    const SHOWN: usize = 20;
                    let more = names.len().saturating_sub(SHOWN);
                    let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
                    let msg = format!("no app named {app:?} (apps: {}{tail})", names[..names.len() - more].join(", "));
                    return Err(source.error_at(&["expect", &idx, field], msg));
                }
            }
        }
        // Expectations only a TCP app can meet: refused at load instead of failing every run.
        let tcp = |name: &str| kinds.get(name).is_some_and(|&k| is_tcp_kind(k));
        let kind_of = |name: &str| kinds.get(name).map_or("?", |&k| kind_name(k));
        if let Some(other) = &x.hash_equals {
            let why = if *other == x.app {
                Some("compares an app with itself".to_string())
            } else {
                [&x.app, other]
                    .into_iter()
                    .find(|n| !tcp(n))
                    .map(|n| format!("{n:?} is a {} app: only TCP apps hash the stream they carry", kind_of(n)))
            };
            if let Some(why) = why {
                return Err(source.error_at(&["expect", &idx, "hash_equals"], why));
            }
        }
        for (field, set) in [("outcome", x.outcome.is_some()), ("recoveries_undone", x.recoveries_undone.is_some())] {
            if set && !tcp(&x.app) {
                let msg = format!("{:?} is a {} app: `{field}` is about TCP connections", x.app, kind_of(&x.app));
                return Err(source.error_at(&["expect", &idx, field], msg));
            }
        }
    }
    Ok(sim)
}

/// What `outcome` in `[[expect]]` may name: how a TCP connection ended (`open`: it had not).
const OUTCOMES: [&str; 6] = ["ok", "closed", "reset", "timedout", "unreachable", "open"];

/// The default MAC of the host at `i`: `02:00:00:00:00:NN`, NN its 1-based position.
fn default_mac(i: usize) -> EthernetAddress {
    EthernetAddress([0x02, 0, 0, 0, (i >> 8) as u8, (i + 1) as u8])
}

/// Where in `[[host]]` the value the stack refused was written (`["config", "mtu"]`), so the error points at
/// that line, not at `[[host]]`.
fn config_error_field(e: &ConfigError, c: &HostConfigSpec) -> &'static [&'static str] {
    match e {
        ConfigError::BadMac(_) => &["mac"],
        ConfigError::BadAddress(_) => &["ip"],
        ConfigError::BadGateway(_) => &["config", "gateway"],
        ConfigError::BadMtu(_) => &["config", "mtu"],
        ConfigError::BadTtl => &["config", "ttl"],
        ConfigError::ZeroLimit("udp_recv_queue") => &["config", "udp_recv_queue"],
        ConfigError::ZeroLimit("arp.max_requests") => &["config", "arp_max_requests"],
        ConfigError::ZeroLimit("tcp.send_buffer") => &["config", "tcp_send_buffer"],
        ConfigError::ZeroLimit("tcp.recv_buffer") => &["config", "tcp_recv_buffer"],
        ConfigError::ZeroInterval("arp.retry_interval") => &["config", "arp_retry"],
        ConfigError::BadTcp(why) if why.starts_with("recv_buffer_max") => &["config", "tcp_recv_buffer_max"],
        ConfigError::BadTcp(why) if why.starts_with("send_buffer_max") => &["config", "tcp_send_buffer_max"],
        ConfigError::BadTcp(why) if why.starts_with("keepalive_probes") => &["config", "tcp_keepalive_probes"],
        ConfigError::BadTcp(why) if why.starts_with("keepalive_idle") => {
            if c.tcp_keepalive_idle.is_some_and(|d| d.0.is_zero()) {
                &["config", "tcp_keepalive_idle"]
            } else {
                &["config", "tcp_keepalive_interval"]
            }
        }
        ConfigError::BadTcp(why) if why.starts_with("buffers") => {
            const GIB: usize = 1 << 30;
            let too_big = |b: Option<usize>| b.is_some_and(|b| b > GIB);
            if too_big(c.tcp_recv_buffer) {
                &["config", "tcp_recv_buffer"]
            } else if too_big(c.tcp_recv_buffer_max) {
                &["config", "tcp_recv_buffer_max"]
            } else if too_big(c.tcp_send_buffer) {
                &["config", "tcp_send_buffer"]
            } else if too_big(c.tcp_send_buffer_max) {
                &["config", "tcp_send_buffer_max"]
            } else {
                &["config"]
            }
        }
        _ => &["config"],
    }
}

/// The `[capture]` table, checked.
fn capture_settings(c: &CaptureSpec, source: &Source) -> Result<CaptureSettings, ScenarioError> {
    let mut settings = CaptureSettings::default();
    if let Some(snaplen) = c.snaplen {
        if !(MIN_SNAPLEN..=settings.snaplen).contains(&snaplen) {
            let msg = format!(
                "snaplen {snaplen} is outside {MIN_SNAPLEN}..={} (the least keeps every Ethernet, IPv4 and TCP header)",
                settings.snaplen
            );
            return Err(source.error_at(&["capture", "snaplen"], msg));
        }
        settings.snaplen = snaplen;
    }
    settings.from = Instant::ZERO + c.from.map(|d| d.0).unwrap_or_default();
    if let Some(until) = c.until {
        settings.until = Instant::ZERO + until.0;
        if settings.until <= settings.from {
            return Err(source.error_at(&["capture", "until"], "`until` must be later than `from`"));
        }
    }
    Ok(settings)
}

fn direction(label: String, s: &ImpairSpec, rng: rand_chacha::ChaCha8Rng) -> Direction {
    let mut d = Direction::new(label, s.delay.map(|d| d.0).unwrap_or(DEFAULT_DELAY), rng);
    d.mtu = Some(Mtu { mtu: s.mtu.unwrap_or(DEFAULT_MTU) });
    d.rate = s.rate.map(|r| RateLimit::new(r.0, s.queue.unwrap_or(DEFAULT_QUEUE)));
    let mut random: Vec<Box<dyn Impairment>> = Vec::new();
    if let Some(b) = s.burst {
        let ge = GilbertElliott::new(b.p.0, b.r.0, b.loss_good.0, b.loss_bad.0);
        random.push(Box::new(ge.with_max_duration(b.max_duration.map(|d| d.0))));
    }
    let probs = [s.loss, s.corrupt, s.duplicate, s.reorder];
    if let Some(p) = probs[0].filter(|p| p.0 > 0.0) {
        random.push(Box::new(Bernoulli { p: p.0 }));
    }
    if let Some(p) = probs[1].filter(|p| p.0 > 0.0) {
        random.push(Box::new(Corrupt { p: p.0 }));
    }
    if let Some(p) = probs[2].filter(|p| p.0 > 0.0) {
        random.push(Box::new(Duplicate { p: p.0 }));
    }
    if let Some(p) = probs[3].filter(|p| p.0 > 0.0) {
        let hold = s.reorder_hold.map(|d| d.0).unwrap_or(DEFAULT_REORDER_HOLD);
        random.push(Box::new(Reorder { p: p.0, hold }));
    }
    if let Some(j) = s.jitter.filter(|j| !j.0.is_zero()) {
        random.push(Box::new(Jitter { max: j.0 }));
    }
    d.random = random;
    d
}

/// The kinds that run TCP connections (and hash the streams they carry).
/// Why an app cannot send to `dst` from `host`, if it cannot: an address that names no other host.
fn unsendable(dst: IpAddr, host: &crate::engine::Host, spec: &crate::scenario::HostSpec) -> Option<&'static str> {
    let own_v6 = |d: &std::net::Ipv6Addr| spec.ip6.iter().flatten().any(|c| c.0.addr() == *d);
    match dst {
        d if d.is_unspecified() => Some("is the unspecified address"),
        d if d.is_loopback() => Some("is a loopback address"),
        d if d.is_multicast() => Some("is a multicast address"),
        IpAddr::V4(d) if d == host.ip => Some("is the app's own host"),
        IpAddr::V6(d) if own_v6(&d) => Some("is the app's own host"),
        _ => None,
    }
}

/// The port a server app listens on (TCP or not), with its default.
fn server_port(a: &crate::scenario::AppSpec) -> Option<(bool, u16)> {
    match a.kind {
        AppKind::UdpEcho => Some((false, a.port.unwrap_or(7))),
        AppKind::UdpSink => Some((false, a.port.unwrap_or(9))),
        AppKind::TcpSink => Some((true, a.port.unwrap_or(5001))),
        AppKind::TcpEcho => Some((true, a.port.unwrap_or(7))),
        AppKind::DhcpServer => Some((false, 67)),
        _ => None,
    }
}

fn is_tcp_kind(kind: AppKind) -> bool {
    matches!(kind, AppKind::TcpSink | AppKind::TcpEcho | AppKind::TcpBulk | AppKind::TcpRr)
}

pub(crate) fn kind_name(kind: AppKind) -> &'static str {
    match kind {
        AppKind::Ping => "ping",
        AppKind::UdpEcho => "udp_echo",
        AppKind::UdpPingpong => "udp_pingpong",
        AppKind::UdpBulk => "udp_bulk",
        AppKind::UdpSink => "udp_sink",
        AppKind::TcpSink => "tcp_sink",
        AppKind::TcpEcho => "tcp_echo",
        AppKind::TcpBulk => "tcp_bulk",
        AppKind::TcpRr => "tcp_rr",
        AppKind::BlindAttacker => "blind_attacker",
        AppKind::DhcpServer => "dhcp_server",
        AppKind::Traceroute => "traceroute",
        AppKind::RouterAdvert => "router_advert",
    }
}

fn unit_name(kind: AppKind) -> &'static str {
    match kind {
        AppKind::Ping | AppKind::UdpPingpong => "replies",
        AppKind::UdpEcho | AppKind::UdpSink | AppKind::UdpBulk => "datagrams",
        AppKind::TcpEcho => "connections",
        AppKind::TcpRr => "responses",
        AppKind::TcpSink | AppKind::TcpBulk => "bytes",
        AppKind::BlindAttacker => "segments",
        AppKind::DhcpServer => "acks",
        AppKind::Traceroute => "answers",
        AppKind::RouterAdvert => "advertisements",
    }
}

type FieldError = (&'static str, String);

/// The IPv6 address an app's `dst` means for a host: its first configured one, else its link-local one;
/// `None` if the host has no IPv6.
fn host_ipv6(h: &crate::scenario::HostSpec, mac: EthernetAddress) -> Option<Ipv6Addr> {
    let addrs = h.ip6.as_ref()?;
    Some(addrs.first().map_or_else(|| synack::wire::ipv6::link_local_from_mac(mac), |c| c.0.addr()))
}

/// An app's `size` must fit what it sends: one datagram (its IP payload at most 65,535 bytes less the headers;
/// over IPv6 less the Fragment header too) for ping and UDP, a 1 GiB request for `tcp_rr`.
fn check_size(a: &AppSpec, dst: Option<IpAddr>) -> Result<(), FieldError> {
    let Some(size) = a.size else { return Ok(()) };
    let ip_payload = if dst.is_some_and(|d| d.is_ipv6()) { 65_535 - 8 } else { 65_535 - 20 };
    let (max, what) = match a.kind {
        AppKind::Ping => (ip_payload - 8, "an echo request's data"),
        AppKind::UdpPingpong | AppKind::UdpBulk | AppKind::Traceroute => (ip_payload - 8, "a UDP datagram's payload"),
        AppKind::TcpRr => (1 << 30, "a request (1 GiB)"),
        _ => return Ok(()),
    };
    if size > max {
        return Err(("size", format!("size {size} is larger than {what} can be: at most {max} bytes")));
    }
    Ok(())
}

fn interval_of(d: Option<crate::units::Dur>, default: Duration) -> Duration {
    d.map(|d| d.0).unwrap_or(default)
}

/// Builds an app of any kind but `blind_attacker`; `hash`: how its TCP connections hash their bytes.
fn make_app(
    a: &AppSpec,
    report: AppReport,
    dst: Option<IpAddr>,
    seed: u64,
    hash: HashKind,
) -> Result<Box<dyn App>, FieldError> {
    let need_dst = || dst.ok_or(("dst", format!("app kind {:?} needs `dst`", kind_name(a.kind))));
    let ms = |d: u64| Duration::from_millis(d);
    let interval = |default| a.interval.map(|d| d.0).unwrap_or(default);
    let count_u32 = |default: u32| -> Result<u32, FieldError> {
        a.count
            .map(u32::try_from)
            .transpose()
            .map_err(|_| ("count", "count is too large".into()))
            .map(|c| c.unwrap_or(default))
    };
    if a.connections == Some(0) && matches!(a.kind, AppKind::TcpSink | AppKind::TcpBulk) {
        return Err(("connections", "`connections` must be at least 1".into()));
    }
    check_size(a, dst)?;
    Ok(match a.kind {
        AppKind::Ping => {
            let count = count_u32(10)?;
            let count = u16::try_from(count).map_err(|_| ("count", "ping count must fit in 16 bits".to_string()))?;
            Box::new(app::Ping::new(report, need_dst()?, count, interval(ms(100)), a.size.unwrap_or(56)))
        }
        AppKind::UdpEcho => Box::new(app::UdpEcho::new(report, a.port.unwrap_or(7))),
        AppKind::UdpSink => Box::new(app::UdpSink::new(report, a.port.unwrap_or(9))),
        AppKind::UdpPingpong => {
            let dst = SocketAddr::from((need_dst()?, a.port.unwrap_or(7)));
            Box::new(app::UdpPingPong::new(report, dst, count_u32(10)?, interval(ms(100)), a.size.unwrap_or(64)))
        }
        AppKind::UdpBulk => {
            let dst = SocketAddr::from((need_dst()?, a.port.unwrap_or(9)));
            let count = a.count.unwrap_or(1000);
            Box::new(app::UdpBulk::new(report, dst, count, interval(ms(1)), a.size.unwrap_or(1000)))
        }
        AppKind::TcpSink => {
            let opts = app::SinkOptions {
                read_delay: a.read_delay.map(|d| d.0).unwrap_or_default(),
                read_rate: a.read_rate,
                read_interval: interval_of(a.read_interval, ms(100)),
                reply_bytes: a.reply_bytes.unwrap_or(0),
                shutdown_at_accept: a.shutdown_at_accept.unwrap_or(false),
            };
            if opts.read_rate == Some(0) {
                return Err(("read_rate", "a read rate of 0 bytes per second never reads".into()));
            }
            if opts.read_interval.is_zero() {
                return Err(("read_interval", "the read interval must be positive".into()));
            }
            let sink = app::TcpSink::new(report, a.port.unwrap_or(5001), a.connections.unwrap_or(1));
            Box::new(sink.with_options(opts).with_hash(hash))
        }
        AppKind::TcpEcho => Box::new(app::TcpEcho::new(report, a.port.unwrap_or(7))),
        AppKind::TcpBulk => {
            let dst = SocketAddr::from((need_dst()?, a.port.unwrap_or(5001)));
            let (bytes, conns) = (a.bytes.unwrap_or(1_000_000), a.connections.unwrap_or(1));
            if a.local_port.is_some() && conns != 1 {
                return Err(("local_port", "`local_port` needs `connections = 1`".into()));
            }
            let bulk = app::TcpBulk::new(report, dst, bytes, conns, seed).with_hash(hash);
            Box::new(bulk.with_local_port(a.local_port))
        }
        AppKind::BlindAttacker => return Err(("kind", "blind_attacker is built by `attacker`".into())),
        AppKind::Traceroute => return Err(("kind", "traceroute is built by `traceroute`".into())),
        AppKind::RouterAdvert => {
            let prefix =
                a.prefix.ok_or(("prefix", "`router_advert` needs `prefix`, e.g. \"2001:db8:1::/64\"".into()))?;
            if prefix.0.prefix_len() != 64 {
                return Err((
                    "prefix",
                    format!("{} is not a /64: SLAAC forms addresses in /64 prefixes only", prefix.0),
                ));
            }
            let lifetime = a.lease.map_or(Duration::from_secs(1800), |d| d.0);
            if lifetime > Duration::from_secs(9000) {
                return Err(("lease", "a router lifetime is at most 9000s (RFC 4861 §6.2.1)".into()));
            }
            let count = count_u32(3)?;
            Box::new(app::RouterAdvert::new(report, prefix.0, count, interval(Duration::from_secs(1)), lifetime))
        }
        AppKind::DhcpServer => {
            let pool =
                a.pool.ok_or(("pool", "`dhcp_server` needs `pool`, the first address to hand out".to_string()))?;
            let lease = a.lease.map_or(Duration::from_secs(60), |d| d.0);
            if lease < Duration::from_secs(10) {
                return Err(("lease", "a lease must last at least 10s (the client stretches shorter ones)".into()));
            }
            Box::new(app::DhcpServer::new(report, pool, lease))
        }
        AppKind::TcpRr => {
            let dst = SocketAddr::from((need_dst()?, a.port.unwrap_or(7)));
            let rr = app::TcpRequestResponse::new(report, dst, a.requests.unwrap_or(10), a.size.unwrap_or(100));
            Box::new(rr.with_text(a.text.as_deref()).with_local_port(a.local_port))
        }
    })
}

/// A `blind_attacker`: both victims must be hosts of the scenario (the attacker addresses frames to their MACs).
fn attacker(a: &AppSpec, sim: &Sim, report: AppReport, seed: u64) -> Result<Box<dyn App>, FieldError> {
    let victim = |field: &'static str, spec: Option<&String>, port: Option<u16>| -> Result<_, FieldError> {
        let Some(spec) = spec else { return Err((field, format!("`blind_attacker` needs `{field}`"))) };
        let host = sim.hosts.iter().find(|h| h.name == *spec || spec.parse::<Ipv4Addr>().ok() == Some(h.ip));
        let host = host.ok_or((field, format!("{spec:?} is not a host of the scenario")))?;
        let port_field = if field == "dst" { "port" } else { "spoof_port" };
        let port = port.ok_or((port_field, format!("`blind_attacker` needs `{port_field}`")))?;
        Ok(app::Victim { addr: std::net::SocketAddrV4::new(host.ip, port), mac: host.mac })
    };
    let target = victim("dst", a.dst.as_ref(), Some(a.port.unwrap_or(5001)))?;
    let spoofed = victim("spoof", a.spoof.as_ref(), a.spoof_port)?;
    if target.addr.ip() == spoofed.addr.ip() {
        return Err(("spoof", "the forged source must be another host than `dst`".into()));
    }
    let plan = app::AttackPlan {
        rsts: a.rsts.unwrap_or(1000),
        syns: a.syns.unwrap_or(1000),
        data: a.data_segments.unwrap_or(1000),
        size: a.size.unwrap_or(100),
        interval: interval_of(a.interval, Duration::from_micros(100)),
        both_ways: a.both_ways.unwrap_or(false),
    };
    if plan.size > 1400 {
        return Err(("size", "forged data segments carry at most 1400 bytes".into()));
    }
    Ok(Box::new(app::BlindAttacker::new(report, target, spoofed, plan, seed)))
}

/// Builds a `traceroute` app: its probes leave the host for the MAC of the first hop, the host on the same
/// subnet or the router interface that is the host's gateway (IPv6: its `gateway6`, else the advertising
/// router its link leads to).
fn traceroute(
    a: &AppSpec,
    sc: &Scenario,
    sim: &Sim,
    host: usize,
    report: AppReport,
    dst: Option<IpAddr>,
) -> Result<Box<dyn App>, FieldError> {
    check_size(a, dst)?;
    let dst = match dst.ok_or(("dst", "app kind \"traceroute\" needs `dst`".to_string()))? {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(v6) => return traceroute6(a, sc, sim, host, report, v6),
    };
    let me = &sc.hosts[host];
    let hop = if me.ip.0.contains(dst) {
        dst
    } else {
        me.config.gateway.ok_or(("dst", format!("{dst} is off host {:?}'s subnet and it has no gateway", me.name)))?
    };
    let host_mac = sim.hosts.iter().find(|h| h.ip == hop).map(|h| h.mac);
    let router_mac = sim.nodes.iter().find_map(|n| match &n.kind {
        crate::node::NodeKind::Router(r) => r.ifaces.iter().find(|f| f.addr == hop).map(|f| f.mac),
        crate::node::NodeKind::Switch(_) => None,
    });
    let next_hop_mac =
        host_mac.or(router_mac).ok_or(("dst", format!("no host or router interface has {hop}, the first hop")))?;
    let (probes, first_port) = probe_range(a)?;
    let path = app::ProbePath {
        src: std::net::SocketAddrV4::new(me.ip.0.addr(), a.local_port.unwrap_or(33433)),
        src_mac: sim.hosts[host].mac,
        next_hop_mac,
        dst,
        first_port,
    };
    let interval = a.interval.map_or(Duration::from_millis(100), |d| d.0);
    Ok(Box::new(app::Traceroute::new(report, path, probes, interval, a.size.unwrap_or(32))))
}

/// The probe count and first destination port of a `traceroute`, checked.
fn probe_range(a: &AppSpec) -> Result<(u8, u16), FieldError> {
    let probes = u8::try_from(a.count.unwrap_or(4))
        .ok()
        .filter(|&c| c >= 1)
        .ok_or(("count", "a traceroute sends 1 to 255 probes".to_string()))?;
    let first_port = a.port.unwrap_or(33434);
    if first_port.checked_add(u16::from(probes) - 1).is_none() {
        return Err(("port", "the probes' ports (port + count - 1) pass 65535".into()));
    }
    Ok((probes, first_port))
}

/// A `traceroute` over IPv6: the first hop is a host on one of this host's prefixes, the router interface
/// that is its `gateway6`, or else the advertising router interface at the other end of one of its links.
fn traceroute6(
    a: &AppSpec,
    sc: &Scenario,
    sim: &Sim,
    host: usize,
    report: AppReport,
    dst: Ipv6Addr,
) -> Result<Box<dyn App>, FieldError> {
    let me = &sc.hosts[host];
    let Some(own) = me.ip6.as_ref() else {
        let msg =
            format!("{dst} is IPv6 but host {:?} has none: give it `ip6` (an empty list to autoconfigure)", me.name);
        return Err(("dst", msg));
    };
    let routers = || {
        sim.nodes.iter().enumerate().filter_map(|(n, node)| match &node.kind {
            crate::node::NodeKind::Router(r) => Some((n, r)),
            crate::node::NodeKind::Switch(_) => None,
        })
    };
    let neighbour = own.iter().any(|c| c.0.contains(dst)).then(|| {
        sc.hosts.iter().position(|h| h.ip6.iter().flatten().any(|c| c.0.addr() == dst)).map(|h| sim.hosts[h].mac)
    });
    let gateway = me.config.gateway6.map(|g| {
        let mac = routers().find_map(|(_, r)| {
            (0..r.ifaces.len())
                .find(|&p| r.ifaces[p].ip6.is_some_and(|c| c.addr() == g) || r.link_local(p) == Some(g))
                .map(|p| r.ifaces[p].mac)
        });
        (g, mac)
    });
    let advertising = || {
        sim.links.iter().find_map(|l| {
            let far = match (l.a, l.b) {
                (End::Host(h), End::Port { node, port }) | (End::Port { node, port }, End::Host(h)) if h == host => {
                    (node, port)
                }
                _ => return None,
            };
            routers()
                .find(|&(n, r)| n == far.0 && r.ifaces[far.1].advertise.is_some())
                .map(|(_, r)| r.ifaces[far.1].mac)
        })
    };
    let next_hop_mac = match (neighbour, gateway) {
        (Some(found), _) => found.ok_or(("dst", format!("no host has {dst}, on host {:?}'s link", me.name)))?,
        (None, Some((g, found))) => {
            found.ok_or(("dst", format!("no router interface has {g}, host {:?}'s gateway6", me.name)))?
        }
        (None, None) => advertising().ok_or((
            "dst",
            format!(
                "{dst} is off host {:?}'s prefixes and it has neither `gateway6` nor a link to an advertising router",
                me.name
            ),
        ))?,
    };
    let (probes, first_port) = probe_range(a)?;
    let path = app::ProbePath6 {
        src_port: a.local_port.unwrap_or(33433),
        src_mac: sim.hosts[host].mac,
        next_hop_mac,
        dst,
        first_port,
    };
    let interval = a.interval.map_or(Duration::from_millis(100), |d| d.0);
    Ok(Box::new(app::Traceroute::new6(report, path, probes, interval, a.size.unwrap_or(32))))
}
