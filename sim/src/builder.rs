//! Building a network in Rust instead of TOML: hosts, routers, switches and links, plus apps of your own.
//!
//! A [`NetworkBuilder`] fills in a [`Scenario`] (the same value a TOML file parses into) and adds your
//! [`App`]s to the [`Sim`] it builds. [`NetworkBuilder::build`] writes the scenario as TOML and parses it back,
//! so every value goes through the same checks as a file's (a probability outside 0..=1, an unknown host, a
//! duplicate address): an error names the field (`link[0].loss`) and the line of [`NetworkBuilder::to_toml`].
//!
//! ```
//! use std::time::Duration;
//! use synack_sim::builder::NetworkBuilder;
//!
//! let mut net = NetworkBuilder::new("two_hosts");
//! net.seed(7).duration(Duration::from_secs(5));
//! net.host("a", "10.0.0.1/24");
//! net.host("b", "10.0.0.2/24");
//! net.link("a", "b").delay(Duration::from_millis(10)).loss(0.01);
//! let mut sim = net.build().unwrap();
//! sim.run();
//! ```

use crate::app::App;
use crate::build::{build, BuildOptions};
use crate::engine::Sim;
use crate::scenario::{Cidr, HostConfigSpec, HostSpec, LinkSpec, Prob, Scenario, ScenarioError, Source};
use crate::topology::{InterfaceSpec, QueueSpec, RoutePrefix, RouteSpec, RouterSpec, SwitchSpec};
use crate::units::{Dur, Rate};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use synack::{Instant, Ipv4Cidr};

/// Where an address that did not parse stands until [`NetworkBuilder::build`] reports it (TEST-NET-1).
const STAND_IN: Ipv4Cidr = match Ipv4Cidr::new(Ipv4Addr::new(192, 0, 2, 1), 24) {
    Some(c) => c,
    None => panic!("192.0.2.1/24 is a valid address"),
};

/// A scenario under construction, and the apps of your own to add to it. Methods that take addresses parse
/// them (`"10.0.1.2/24"`); the first that does not parse is reported by [`NetworkBuilder::build`].
#[derive(Debug)]
pub struct NetworkBuilder {
    scenario: Scenario,
    apps: Vec<UserApp>,
    options: BuildOptions,
    /// The first address that did not parse: (field path, message).
    error: Option<(String, String)>,
}

#[derive(Debug)]
struct UserApp {
    host: String,
    start: Duration,
    app: Box<dyn App>,
}

impl NetworkBuilder {
    /// An empty network named `name` (captures are named after it), with seed 1 and a 10 s time limit, that
    /// stops as soon as every app is finished.
    pub fn new(name: &str) -> NetworkBuilder {
        let scenario = Scenario {
            name: name.to_string(),
            seed: 1,
            duration: Dur(Duration::from_secs(10)),
            stop_when_done: true,
            hosts: Vec::new(),
            switches: Vec::new(),
            routers: Vec::new(),
            links: Vec::new(),
            apps: Vec::new(),
            events: Vec::new(),
            faults: Vec::new(),
            expects: Vec::new(),
            capture: Default::default(),
        };
        NetworkBuilder { scenario, apps: Vec::new(), options: BuildOptions::default(), error: None }
    }

    /// The run's seed: every stack's, link's and app's randomness derives from it.
    pub fn seed(&mut self, seed: u64) -> &mut NetworkBuilder {
        self.scenario.seed = seed;
        self
    }

    /// The virtual time limit of the run.
    pub fn duration(&mut self, limit: Duration) -> &mut NetworkBuilder {
        self.scenario.duration = Dur(limit);
        self
    }

    /// Whether the run ends as soon as every app is finished (default), or only at the time limit.
    pub fn stop_when_done(&mut self, stop: bool) -> &mut NetworkBuilder {
        self.scenario.stop_when_done = stop;
        self
    }

    /// Record a pcapng capture of every host and node port ([`Sim::take_captures`] hands them out).
    pub fn capture(&mut self, on: bool) -> &mut NetworkBuilder {
        self.options.capture = on;
        self
    }

    /// A host with one interface at `address` (`"10.0.1.2/24"`). Its stack's other settings keep their
    /// defaults unless set on the returned [`HostBuilder`].
    pub fn host(&mut self, name: &str, address: &str) -> HostBuilder<'_> {
        let index = self.scenario.hosts.len();
        let ip = self.cidr(address, format!("host[{index}].ip"));
        self.scenario.hosts.push(HostSpec {
            name: name.to_string(),
            ip,
            mac: None,
            ip6: None,
            config: HostConfigSpec::default(),
        });
        HostBuilder { spec: &mut self.scenario.hosts[index] }
    }

    /// A router; give it interfaces (IPv4, and IPv6 with [`RouterBuilder::ip6`]) and routes on the returned
    /// [`RouterBuilder`]. A link reaches its
    /// interface `lan` as `"name:lan"`.
    pub fn router(&mut self, name: &str) -> RouterBuilder<'_> {
        let index = self.scenario.routers.len();
        self.scenario.routers.push(RouterSpec { name: name.to_string(), interfaces: Vec::new(), routes: Vec::new() });
        RouterBuilder { index, builder: self }
    }

    /// A learning Ethernet switch with `ports` ports, named `"1"`, `"2"`, ...: a link reaches port 1 as
    /// `"name:1"`.
    pub fn switch(&mut self, name: &str, ports: usize) -> &mut NetworkBuilder {
        self.scenario.switches.push(SwitchSpec { name: name.to_string(), ports, queue: None });
        self
    }

    /// A link between two ends: host names, or `"node:port"` for a port of a router or switch. It has a 1 ms
    /// delay and nothing else unless set on the returned [`LinkBuilder`] (settings apply to both directions).
    pub fn link(&mut self, a: &str, b: &str) -> LinkBuilder<'_> {
        let index = self.scenario.links.len();
        self.scenario.links.push(LinkSpec {
            name: None,
            a: a.to_string(),
            b: b.to_string(),
            delay: None,
            jitter: None,
            loss: None,
            burst: None,
            duplicate: None,
            reorder: None,
            reorder_hold: None,
            corrupt: None,
            rate: None,
            queue: None,
            mtu: None,
            a_to_b: None,
            b_to_a: None,
        });
        LinkBuilder { spec: &mut self.scenario.links[index] }
    }

    /// Runs `app` on `host`, starting `start` after the beginning of the run. Apps of a host are called in
    /// the order added.
    pub fn app(&mut self, host: &str, start: Duration, app: Box<dyn App>) -> &mut NetworkBuilder {
        self.apps.push(UserApp { host: host.to_string(), start, app });
        self
    }

    /// The scenario so far, to set anything this builder has no method for (built-in apps, expectations,
    /// faults, events, per-direction impairments).
    pub fn scenario_mut(&mut self) -> &mut Scenario {
        &mut self.scenario
    }

    /// The scenario as a TOML file would say it (without your own apps, which TOML cannot name).
    pub fn to_toml(&self) -> String {
        self.scenario.to_toml()
    }

    /// Checks the network and builds the simulation, your apps added after the scenario's own.
    pub fn build(self) -> Result<Sim, ScenarioError> {
        let file = format!("<network {:?} built in Rust>", self.scenario.name);
        if let Some((field, message)) = self.error {
            return Err(ScenarioError { file, line: 0, column: 0, field, message });
        }
        let text = self.scenario.to_toml();
        let scenario = Scenario::parse(&file, &text)?;
        let source = Source { file, text };
        let mut sim = build(&scenario, &source, &self.options)?;
        // Reports and expectations tell apps apart by name: yours are held to what the scenario's are.
        let mut names: std::collections::BTreeSet<String> = scenario
            .apps
            .iter()
            .flat_map(|a| match a.copies.unwrap_or(1) {
                1 => vec![a.name()],
                n => (1..=n).map(|k| format!("{}#{k}", a.name())).collect(),
            })
            .collect();
        for UserApp { host, start, app } in self.apps {
            let error = |message: String| ScenarioError {
                file: source.file.clone(),
                line: 0,
                column: 0,
                field: "app".into(),
                message,
            };
            let Some(index) = sim.host_index(&host) else {
                let hosts: Vec<&str> = scenario.hosts.iter().map(|h| h.name.as_str()).collect();
                return Err(error(format!("no host named {host:?} for {app:?} (hosts: {})", hosts.join(", "))));
            };
            let name = app.report().name;
            if start >= scenario.duration.0 {
                let run = scenario.duration.0;
                return Err(error(format!(
                    "app {name:?} starts at {start:?}, not within the run ({run:?}): it would never run"
                )));
            }
            if !names.insert(name.clone()) {
                return Err(error(format!("app name {name:?} is used twice")));
            }
            sim.add_app(index, app, Instant::ZERO + start);
        }
        Ok(sim)
    }

    /// Remembers the first value that did not parse, for [`NetworkBuilder::build`].
    fn fail(&mut self, field: String, message: String) {
        if self.error.is_none() {
            self.error = Some((field, message));
        }
    }

    /// Parses an address with its prefix, remembering the first failure for [`NetworkBuilder::build`].
    fn cidr(&mut self, text: &str, field: String) -> Cidr {
        match text.parse::<Ipv4Cidr>() {
            Ok(c) => Cidr(c),
            Err(e) => {
                if self.error.is_none() {
                    self.error = Some((field, format!("bad address/prefix {text:?}: {e}")));
                }
                Cidr(STAND_IN)
            }
        }
    }
}

/// Settings of one host's stack.
#[derive(Debug)]
pub struct HostBuilder<'a> {
    spec: &'a mut HostSpec,
}

impl HostBuilder<'_> {
    /// The next hop for destinations off the host's subnet (a router interface's address).
    pub fn gateway(self, gateway: Ipv4Addr) -> Self {
        self.spec.config.gateway = Some(gateway);
        self
    }

    /// IPv6 besides IPv4, with no address written (`ip6 = []`): the host forms its link-local address, and
    /// takes global addresses (SLAAC) and its default router from the Router Advertisements it hears.
    pub fn ipv6(self) -> Self {
        self.spec.ip6.get_or_insert_with(Vec::new);
        self
    }

    /// Any other setting of the host's stack (MTU, buffers, congestion control, ...), as in `[host.config]`.
    pub fn config(self, f: impl FnOnce(&mut HostConfigSpec)) -> Self {
        f(&mut self.spec.config);
        self
    }
}

/// Interfaces and routes of one router.
#[derive(Debug)]
pub struct RouterBuilder<'a> {
    index: usize,
    builder: &'a mut NetworkBuilder,
}

impl RouterBuilder<'_> {
    fn spec(&mut self) -> &mut RouterSpec {
        &mut self.builder.scenario.routers[self.index]
    }

    /// An interface `name` with its address and the prefix of its subnet (`"10.0.1.1/24"`); MTU 1500.
    pub fn interface(mut self, name: &str, address: &str) -> Self {
        let (router, count) = (self.index, self.spec().interfaces.len());
        let field = format!("router[{router}].interface[{count}].address");
        let address = self.builder.cidr(address, field);
        let iface = InterfaceSpec {
            name: name.to_string(),
            address,
            ip6: None,
            mtu: None,
            mac: None,
            queue: None,
            advertise: None,
            ra_interval: None,
            router_lifetime: None,
        };
        self.spec().interfaces.push(iface);
        self
    }

    /// An IPv6 address and on-link prefix (`"2001:db8:1::1/64"`) for the interface added last: the router
    /// forwards IPv6 through it.
    pub fn ip6(mut self, address: &str) -> Self {
        let (router, count) = (self.index, self.spec().interfaces.len().saturating_sub(1));
        match address.parse::<synack::Ipv6Cidr>() {
            Ok(c) => {
                if let Some(i) = self.spec().interfaces.last_mut() {
                    i.ip6 = Some(crate::scenario::Cidr6(c));
                }
            }
            Err(e) => {
                let field = format!("router[{router}].interface[{count}].ip6");
                self.builder.fail(field, format!("bad IPv6 address/prefix {address:?}: {e}"));
            }
        }
        self
    }

    /// Router Advertisements of the IPv6 prefix of the interface added last, every `interval` (at least 4 s),
    /// with a router lifetime of three intervals: hosts on its link autoconfigure an address and take the
    /// router as their default router.
    pub fn advertise(mut self, interval: Duration) -> Self {
        if let Some(i) = self.spec().interfaces.last_mut() {
            i.advertise = Some(true);
            i.ra_interval = Some(Dur(interval));
        }
        self
    }

    /// The IP MTU of the interface added last (larger packets get ICMP fragmentation needed).
    pub fn mtu(mut self, mtu: usize) -> Self {
        if let Some(i) = self.spec().interfaces.last_mut() {
            i.mtu = Some(mtu);
        }
        self
    }

    /// An egress queue on the interface added last: frames leave at `rate` bits per second, at most
    /// `limit_bytes` wait (tail drop).
    pub fn queue(mut self, rate: u64, limit_bytes: usize) -> Self {
        if let Some(i) = self.spec().interfaces.last_mut() {
            i.queue = Some(QueueSpec {
                rate: Rate(rate),
                limit_bytes: Some(limit_bytes),
                limit_packets: None,
                discipline: Default::default(),
                ecn: None,
                min_th: None,
                max_th: None,
                max_p: None,
                weight: None,
                target: None,
                interval: None,
                quantum: None,
                flows: None,
            });
        }
        self
    }

    /// Packets to `prefix` (`"10.0.2.0/24"`, `"2001:db8:2::/64"`; `"0.0.0.0/0"` and `"::/0"` for the default
    /// routes) go to the router `via` (of the prefix's family), on the interface whose subnet holds it.
    pub fn route(self, prefix: &str, via: impl Into<IpAddr>) -> Self {
        self.push_route(prefix, via.into(), None)
    }

    /// Packets to `prefix` go to the router `via` on interface `interface`: for a link-local (`fe80::`) next
    /// hop, which is on every link.
    pub fn route_on(self, prefix: &str, via: impl Into<IpAddr>, interface: &str) -> Self {
        self.push_route(prefix, via.into(), Some(interface.to_string()))
    }

    fn push_route(mut self, prefix: &str, via: IpAddr, interface: Option<String>) -> Self {
        let (router, count) = (self.index, self.spec().routes.len());
        let prefix = prefix.parse::<RoutePrefix>().unwrap_or_else(|e| {
            self.builder.fail(format!("router[{router}].route[{count}].prefix"), e);
            RoutePrefix::V4(STAND_IN)
        });
        self.spec().routes.push(RouteSpec { prefix, via: Some(via), interface });
        self
    }
}

/// Impairments of one link, both directions.
#[derive(Debug)]
pub struct LinkBuilder<'a> {
    spec: &'a mut LinkSpec,
}

impl LinkBuilder<'_> {
    /// One-way propagation delay (default 1 ms).
    pub fn delay(self, delay: Duration) -> Self {
        self.spec.delay = Some(Dur(delay));
        self
    }
    /// Extra delay drawn uniformly from `[0, max]` per frame.
    pub fn jitter(self, max: Duration) -> Self {
        self.spec.jitter = Some(Dur(max));
        self
    }
    /// Each frame is lost with probability `p` (0..=1).
    pub fn loss(self, p: f64) -> Self {
        self.spec.loss = Some(Prob(p));
        self
    }
    /// Frames leave at most at `bits_per_second`; up to `queue_bytes` wait, more are dropped.
    pub fn rate(self, bits_per_second: u64, queue_bytes: usize) -> Self {
        self.spec.rate = Some(Rate(bits_per_second));
        self.spec.queue = Some(queue_bytes);
        self
    }
    /// The IP MTU of the link (default 1500): larger frames are dropped.
    pub fn mtu(self, mtu: usize) -> Self {
        self.spec.mtu = Some(mtu);
        self
    }
    /// The link's name in summaries and events (default `"a-b"`).
    pub fn name(self, name: &str) -> Self {
        self.spec.name = Some(name.to_string());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_are_named_by_field() {
        let mut net = NetworkBuilder::new("t");
        net.host("a", "10.0.0.1/24");
        net.host("b", "10.0.0.300/24");
        let e = net.build().unwrap_err();
        assert_eq!(e.field, "host[1].ip");
        assert!(e.message.contains("10.0.0.300/24"), "{e}");

        let mut net = NetworkBuilder::new("t");
        net.host("a", "10.0.0.1/24");
        net.host("b", "10.0.0.2/24");
        net.link("a", "b").loss(1.5);
        let e = net.build().unwrap_err();
        assert_eq!(e.field, "link[0].loss");
        assert!(e.message.contains("outside 0..=1"), "{e}");

        let mut net = NetworkBuilder::new("t");
        net.host("a", "10.0.0.1/24");
        net.link("a", "nowhere");
        let e = net.build().unwrap_err();
        assert_eq!(e.field, "link[0].b");
        assert!(e.line > 0, "points into the written TOML: {e}");
    }

    /// Two autoconfigured hosts on either side of two routers: each router advertises its LAN prefix, routes
    /// the other by `::/0` (one via a global next hop, one via a link-local one on a named interface), and
    /// pings cross between the autoconfigured addresses.
    #[test]
    fn routers_forward_ipv6_by_static_routes_and_advertise() {
        let mut net = NetworkBuilder::new("v6");
        net.host("a", "10.0.1.2/24").ipv6();
        net.host("b", "10.0.2.2/24").ipv6();
        net.router("r1")
            .interface("lan", "10.0.1.1/24")
            .ip6("2001:db8:1::1/64")
            .advertise(Duration::from_secs(5))
            .interface("wan", "10.0.12.1/30")
            .ip6("2001:db8:12::1/64")
            .route("::/0", "2001:db8:12::2".parse::<std::net::Ipv6Addr>().unwrap());
        net.router("r2")
            .interface("wan", "10.0.12.2/30")
            .ip6("2001:db8:12::2/64")
            .interface("lan", "10.0.2.1/24")
            .ip6("2001:db8:2::1/64")
            .advertise(Duration::from_secs(5))
            .route_on("::/0", "fe80::1ff:fe00:102".parse::<std::net::Ipv6Addr>().unwrap(), "wan");
        net.link("a", "r1:lan");
        net.link("r1:wan", "r2:wan");
        net.link("r2:lan", "b");
        let report = crate::app::AppReport::new("ping", "ping", "replies");
        let b = "2001:db8:2::ff:fe00:2".parse::<std::net::Ipv6Addr>().unwrap();
        let ping = crate::app::Ping::new(report, b.into(), 3, Duration::from_millis(100), 56);
        net.app("a", Duration::from_secs(3), Box::new(ping));
        let toml = net.to_toml();
        assert!(toml.contains("via = \"fe80::1ff:fe00:102\"") && toml.contains("advertise = true"), "{toml}");
        let mut sim = net.build().unwrap();
        sim.run();
        let reports = sim.app_reports();
        assert_eq!(reports[0].count, 3, "{reports:?}");

        let mut net = NetworkBuilder::new("t");
        net.router("r").interface("lan", "10.0.1.1/24").ip6("2001:db8:1::1/129");
        let e = net.build().unwrap_err();
        assert_eq!(e.field, "router[0].interface[0].ip6");
        let mut net = NetworkBuilder::new("t");
        net.router("r").interface("lan", "10.0.1.1/24").route("2001:db8::/64", std::net::Ipv4Addr::new(10, 0, 1, 9));
        let e = net.build().unwrap_err();
        assert!(e.field == "router[0].route[0].via" && e.message.contains("write both of one family"), "{e}");
    }

    #[test]
    fn apps_need_an_existing_host() {
        let mut net = NetworkBuilder::new("t");
        net.host("a", "10.0.0.1/24");
        let report = crate::app::AppReport::new("echo", "tcp_echo", "connections");
        net.app("b", Duration::ZERO, Box::new(crate::app::TcpEcho::new(report, 7)));
        let e = net.build().unwrap_err();
        assert!(e.message.contains("no host named \"b\""), "{e}");
    }
}
