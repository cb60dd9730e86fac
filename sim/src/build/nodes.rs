//! Builds the `[[switch]]` and `[[router]]` tables into nodes, resolves link ends (`host` or `node:port`) and
//! checks everything that parses but makes no sense: unknown or reused ports, overlapping subnets, addresses
//! used twice, routes to nowhere, queue parameters out of range.

use crate::aqm::{CoDel, CoDelParams, Discipline, FqCoDel, Limit, Red, RedParams, TailDrop};
use crate::capture::{Capture, CaptureSettings};
use crate::link::End;
use crate::node::{
    mask, mask6, Advertise, Egress, Interface, Node, NodeKind, Port, Route, Route6, Router, Switch, DEFAULT_RA_INTERVAL,
};
use crate::rng::{derive_seed, stream};
use crate::scenario::{Scenario, ScenarioError, Source};
use crate::topology::{split_end, DisciplineKind, InterfaceSpec, QueueSpec, RoutePrefix, RouteSpec};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;
use synack::wire::EthernetAddress;

/// Random streams and seeds of node ports: `NODE_BASE + (node << 8) + port`.
const NODE_BASE: u64 = 0x4000_0000;
const DEFAULT_QUEUE_BYTES: usize = 64 * 1024;
const DEFAULT_QUEUE_PACKETS: usize = 1000;
const FQ_DEFAULT_PACKETS: usize = 10_240;
const MAX_MTU: usize = 65_535;
/// The range of an interval between unsolicited advertisements (RFC 4861 §6.2.1 MaxRtrAdvInterval).
const RA_INTERVAL_MIN: Duration = Duration::from_secs(4);
const RA_INTERVAL_MAX: Duration = Duration::from_secs(1800);
/// The longest router lifetime (RFC 4861 §6.2.1 AdvDefaultLifetime).
const ROUTER_LIFETIME_MAX: Duration = Duration::from_secs(9000);

/// Builds the nodes: switches first, then routers, in the order written.
pub(super) fn build_nodes(
    sc: &Scenario,
    source: &Source,
    seed: u64,
    capture: Option<CaptureSettings>,
) -> Result<Vec<Node>, ScenarioError> {
    let mut nodes = Vec::new();
    let taken = |name: &str| sc.hosts.iter().any(|h| h.name == name);
    for (i, s) in sc.switches.iter().enumerate() {
        let idx = i.to_string();
        let at = |f: &str, msg: String| source.error_at(&["switch", &idx, f], msg);
        check_name(&s.name, taken(&s.name) || nodes.iter().any(|n: &Node| n.name == s.name))
            .map_err(|m| at("name", m))?;
        if s.ports == 0 || s.ports > 255 {
            return Err(at("ports", format!("a switch has 1 to 255 ports, not {}", s.ports)));
        }
        let n = nodes.len();
        let ports = (0..s.ports)
            .map(|p| {
                let egress = egress(s.queue.as_ref(), seed, n, p)
                    .map_err(|(f, m)| source.error_at(&["switch", &idx, "queue", f], m))?;
                let (name, mac) = ((p + 1).to_string(), EthernetAddress([2, 0, 2, 0, (i + 1) as u8, (p + 1) as u8]));
                let capture = capture.map(|c| Capture::for_interface(&sc.name, seed, &s.name, &name, mac, c));
                Ok(Port { name, mac, link: None, egress, capture })
            })
            .collect::<Result<Vec<_>, ScenarioError>>()?;
        nodes.push(Node { name: s.name.clone(), ports, kind: NodeKind::Switch(Switch::default()), timer_at: None });
    }
    for (i, r) in sc.routers.iter().enumerate() {
        let idx = i.to_string();
        let at = |path: &[&str], msg: String| {
            let mut full = vec!["router", idx.as_str()];
            full.extend_from_slice(path);
            source.error_at(&full, msg)
        };
        check_name(&r.name, taken(&r.name) || nodes.iter().any(|n| n.name == r.name)).map_err(|m| at(&["name"], m))?;
        if r.interfaces.is_empty() {
            return Err(at(&["interface"], "a router needs at least one interface".into()));
        }
        let n = nodes.len();
        let mut ifaces: Vec<Interface> = Vec::new();
        let mut ports = Vec::new();
        for (k, f) in r.interfaces.iter().enumerate() {
            let kdx = k.to_string();
            let field = |name: &'static str| ["interface", kdx.as_str(), name];
            if f.name.is_empty() || f.name.contains(':') || ifaces.iter().any(|o| o.name == f.name) {
                let msg = format!("interface name {:?} is empty, has a ':' or is used twice on this router", f.name);
                return Err(at(&field("name"), msg));
            }
            let (addr, prefix) = (f.address.0.addr(), f.address.0.prefix_len());
            if prefix == 0 || prefix > 30 {
                let msg = format!("prefix /{prefix}: an interface subnet needs a prefix of /1 to /30");
                return Err(at(&field("address"), msg));
            }
            let net = u32::from(addr) & mask(prefix);
            if u32::from(addr) == net || u32::from(addr) == net | !mask(prefix) {
                let msg = format!("{addr} is the network or broadcast address of its subnet /{prefix}");
                return Err(at(&field("address"), msg));
            }
            if let Some(o) = ifaces.iter().find(|o| overlap(o.addr, o.prefix, addr, prefix)) {
                let msg = format!("{addr}/{prefix} overlaps interface {:?} ({}/{})", o.name, o.addr, o.prefix);
                return Err(at(&field("address"), msg));
            }
            if let Some(h) = sc.hosts.iter().find(|h| h.ip.0.addr() == addr) {
                return Err(at(&field("address"), format!("address {addr} is also host {:?}'s", h.name)));
            }
            if let Some(o) = nodes.iter().find_map(|n| match &n.kind {
                NodeKind::Router(o) => {
                    o.ifaces.iter().find(|x| x.addr == addr).map(|x| (n.name.clone(), x.name.clone()))
                }
                NodeKind::Switch(_) => None,
            }) {
                return Err(at(&field("address"), format!("address {addr} is also {}:{}'s", o.0, o.1)));
            }
            let mtu = f.mtu.unwrap_or(1500);
            if !(68..=MAX_MTU).contains(&mtu) {
                return Err(at(&field("mtu"), format!("mtu {mtu} is outside 68..=65535 (RFC 791)")));
            }
            let mac = f.mac.map_or(EthernetAddress([2, 0, 1, 0, (i + 1) as u8, (k + 1) as u8]), |m| m.0);
            let egress =
                egress(f.queue.as_ref(), seed, n, k).map_err(|(q, m)| at(&["interface", &kdx, "queue", q], m))?;
            let capture = capture.map(|c| Capture::for_interface(&sc.name, seed, &r.name, &f.name, mac, c));
            ports.push(Port { name: f.name.clone(), mac, link: None, egress, capture });
            let ip6 = f.ip6.map(|c| c.0);
            if let Some(c) = ip6 {
                if c.addr().is_multicast() || c.addr().is_unspecified() || c.prefix_len() == 0 {
                    return Err(at(&field("ip6"), format!("{c} must be a unicast address with a prefix")));
                }
                if mtu < 1280 {
                    return Err(at(&field("mtu"), format!("mtu {mtu} is below IPv6's 1280 (RFC 8200), with ip6")));
                }
                if let Some(o) =
                    ifaces.iter().find(|o| o.ip6.is_some_and(|p| p.contains(c.addr()) || c.contains(p.addr())))
                {
                    return Err(at(&field("ip6"), format!("{c} overlaps interface {:?}'s IPv6 prefix", o.name)));
                }
            }
            let advertise = advertise(f).map_err(|(name, m)| at(&field(name), m))?;
            ifaces.push(Interface { name: f.name.clone(), addr, prefix, mtu, mac, ip6, advertise });
        }
        let mut routes = Vec::new();
        let mut routes6 = Vec::new();
        for (k, rt) in r.routes.iter().enumerate() {
            let kdx = k.to_string();
            let field = |name: &'static str| ["route", kdx.as_str(), name];
            let cidr = match rt.prefix {
                RoutePrefix::V4(c) => c,
                RoutePrefix::V6(c) => {
                    routes6.push(route6(rt, c, &ifaces).map_err(|(name, m)| at(&field(name), m))?);
                    continue;
                }
            };
            let via = match rt.via {
                Some(IpAddr::V6(v)) => {
                    let msg = format!("next hop {v} is IPv6 but the prefix {cidr} is IPv4: write both of one family");
                    return Err(at(&field("via"), msg));
                }
                Some(IpAddr::V4(v)) => Some(v),
                None => None,
            };
            let (net, prefix) = (cidr.addr(), cidr.prefix_len());
            if u32::from(net) & !mask(prefix) != 0 {
                let msg = format!(
                    "{net}/{prefix} has host bits set: write the network, {}/{prefix}",
                    Ipv4Addr::from(u32::from(net) & mask(prefix))
                );
                return Err(at(&field("prefix"), msg));
            }
            let iface = match (&rt.interface, via) {
                (Some(name), via) => {
                    let i = ifaces.iter().position(|f| f.name == *name).ok_or_else(|| {
                        let known: Vec<&str> = ifaces.iter().map(|f| f.name.as_str()).collect();
                        at(&field("interface"), format!("no interface {name:?} (interfaces: {})", known.join(", ")))
                    })?;
                    if let Some(v) = via.filter(|v| !ifaces[i].contains_addr(*v)) {
                        let msg = format!("next hop {v} is not on interface {name:?}'s subnet");
                        return Err(at(&field("via"), msg));
                    }
                    i
                }
                (None, Some(v)) => ifaces
                    .iter()
                    .position(|f| f.contains_addr(v))
                    .ok_or_else(|| at(&field("via"), format!("next hop {v} is on none of the router's subnets")))?,
                (None, None) => return Err(at(&field("prefix"), "a route needs `via` or `interface`".into())),
            };
            if let Some(v) = via.filter(|v| ifaces.iter().any(|f| f.addr == *v)) {
                return Err(at(&field("via"), format!("next hop {v} is the router's own address")));
            }
            routes.push(Route { net, prefix, via, iface });
        }
        let kind = NodeKind::Router(Router::new(ifaces, routes, routes6));
        nodes.push(Node { name: r.name.clone(), ports, kind, timer_at: None });
    }
    Ok(nodes)
}

/// An interface's Router Advertisement settings, checked; errors name the field.
fn advertise(f: &InterfaceSpec) -> Result<Option<Advertise>, (&'static str, String)> {
    if f.advertise != Some(true) {
        for (name, set) in [("ra_interval", f.ra_interval.is_some()), ("router_lifetime", f.router_lifetime.is_some())]
        {
            if set {
                return Err((name, format!("`{name}` is a setting of advertising interfaces: add `advertise = true`")));
            }
        }
        return Ok(None);
    }
    let Some(c) = f.ip6 else {
        return Err(("advertise", "advertising needs the interface's `ip6` (the prefix to advertise)".into()));
    };
    if c.0.prefix_len() != 64 {
        let msg = format!("{} is a /{}: hosts form addresses (SLAAC) in /64 prefixes only", c.0, c.0.prefix_len());
        return Err(("advertise", msg));
    }
    let interval = f.ra_interval.map_or(DEFAULT_RA_INTERVAL, |d| d.0);
    if !(RA_INTERVAL_MIN..=RA_INTERVAL_MAX).contains(&interval) {
        let msg = format!("ra_interval {interval:?} is outside 4s..=1800s (RFC 4861 §6.2.1 MaxRtrAdvInterval)");
        return Err(("ra_interval", msg));
    }
    let lifetime = f.router_lifetime.map_or(interval * 3, |d| d.0);
    if lifetime.subsec_nanos() != 0 && f.router_lifetime.is_some() {
        return Err((
            "router_lifetime",
            format!("router_lifetime {lifetime:?} is not whole seconds (an advertisement carries seconds)"),
        ));
    }
    if !lifetime.is_zero() && !(interval..=ROUTER_LIFETIME_MAX).contains(&lifetime) {
        let msg = format!(
            "router_lifetime {lifetime:?} is neither 0 (not a default router) nor within ra_interval ({interval:?}) \
             to 9000s (RFC 4861 §6.2.1)"
        );
        return Err(("router_lifetime", msg));
    }
    Ok(Some(Advertise { interval, lifetime: Duration::from_secs(lifetime.as_secs()) }))
}

/// An IPv6 static route, checked against the router's interfaces; errors name the route's field.
fn route6(rt: &RouteSpec, c: synack::Ipv6Cidr, ifaces: &[Interface]) -> Result<Route6, (&'static str, String)> {
    let (net, prefix) = (c.addr(), c.prefix_len());
    if u128::from(net) & !mask6(prefix) != 0 {
        let network = Ipv6Addr::from(u128::from(net) & mask6(prefix));
        return Err(("prefix", format!("{c} has host bits set: write the network, {network}/{prefix}")));
    }
    let via = match rt.via {
        Some(IpAddr::V4(v)) => {
            return Err(("via", format!("next hop {v} is IPv4 but the prefix {c} is IPv6: write both of one family")))
        }
        Some(IpAddr::V6(v)) => Some(v),
        None => None,
    };
    if let Some(v) = via.filter(|v| v.is_multicast() || v.is_unspecified()) {
        return Err(("via", format!("next hop {v} is not a unicast address")));
    }
    let on = |f: &Interface, v: Ipv6Addr| f.ip6.is_some_and(|p| p.contains(v));
    let link_local = |i: usize| ifaces[i].ip6.map(|_| synack::wire::ipv6::link_local_from_mac(ifaces[i].mac));
    let iface = match (&rt.interface, via) {
        (Some(name), via) => {
            let i = ifaces.iter().position(|f| f.name == *name).ok_or_else(|| {
                let known: Vec<&str> = ifaces.iter().map(|f| f.name.as_str()).collect();
                ("interface", format!("no interface {name:?} (interfaces: {})", known.join(", ")))
            })?;
            if ifaces[i].ip6.is_none() {
                let msg =
                    format!("interface {name:?} has no `ip6`: IPv6 routes leave by interfaces with an IPv6 prefix");
                return Err(("interface", msg));
            }
            if let Some(v) = via.filter(|v| !synack::wire::ipv6::is_link_local(v) && !on(&ifaces[i], *v)) {
                return Err(("via", format!("next hop {v} is not on interface {name:?}'s IPv6 prefix")));
            }
            i
        }
        (None, Some(v)) if synack::wire::ipv6::is_link_local(&v) => {
            let msg = format!("link-local next hop {v} needs `interface`: fe80::/10 is on every link");
            return Err(("via", msg));
        }
        (None, Some(v)) => ifaces
            .iter()
            .position(|f| on(f, v))
            .ok_or_else(|| ("via", format!("next hop {v} is on none of the router's IPv6 prefixes")))?,
        (None, None) => return Err(("prefix", "a route needs `via` or `interface`".into())),
    };
    let own = |v: &Ipv6Addr| {
        (0..ifaces.len()).any(|i| ifaces[i].ip6.is_some_and(|p| p.addr() == *v) || link_local(i) == Some(*v))
    };
    if let Some(v) = via.filter(own) {
        return Err(("via", format!("next hop {v} is the router's own address")));
    }
    Ok(Route6 { net, prefix, via, iface })
}

impl Interface {
    fn contains_addr(&self, a: Ipv4Addr) -> bool {
        u32::from(a) & mask(self.prefix) == u32::from(self.addr) & mask(self.prefix)
    }
}

fn overlap(a: Ipv4Addr, pa: u8, b: Ipv4Addr, pb: u8) -> bool {
    let m = mask(pa.min(pb));
    u32::from(a) & m == u32::from(b) & m
}

fn check_name(name: &str, taken: bool) -> Result<(), String> {
    if name.is_empty() || name.contains(':') {
        return Err(format!("node name {name:?} is empty or has a ':' (links write ports as node:port)"));
    }
    if taken {
        return Err(format!("name {name:?} is already a host's or node's"));
    }
    Ok(())
}

/// The egress queue of port `port` of node `node`; errors name the queue's field.
fn egress(q: Option<&QueueSpec>, seed: u64, node: usize, port: usize) -> Result<Egress, (&'static str, String)> {
    let purpose = NODE_BASE + ((node as u64) << 8) + port as u64;
    let rng = stream(seed, purpose);
    let Some(q) = q else { return Ok(Egress::new(None, None, false, rng)) };
    let kind = q.discipline;
    let fq = kind == DisciplineKind::FqCodel;
    let limit = Limit {
        bytes: q.limit_bytes.unwrap_or(if fq { usize::MAX } else { DEFAULT_QUEUE_BYTES }),
        packets: q.limit_packets.unwrap_or(if fq { FQ_DEFAULT_PACKETS } else { DEFAULT_QUEUE_PACKETS }),
    };
    if limit.bytes < 1514 {
        return Err(("limit_bytes", format!("limit_bytes {} cannot hold one full-size frame (1514)", limit.bytes)));
    }
    if limit.packets == 0 {
        return Err(("limit_packets", "limit_packets must be at least 1".into()));
    }
    let only = |field: &'static str, set: bool, for_what: &str| {
        if set {
            Err((field, format!("`{field}` is a parameter of {for_what}, not of this queue's discipline")))
        } else {
            Ok(())
        }
    };
    let red = kind == DisciplineKind::Red;
    let codel = matches!(kind, DisciplineKind::Codel | DisciplineKind::FqCodel);
    only("min_th", !red && q.min_th.is_some(), "red")?;
    only("max_th", !red && q.max_th.is_some(), "red")?;
    only("max_p", !red && q.max_p.is_some(), "red")?;
    only("weight", !red && q.weight.is_some(), "red")?;
    only("target", !codel && q.target.is_some(), "codel and fq_codel")?;
    only("interval", !codel && q.interval.is_some(), "codel and fq_codel")?;
    only("quantum", !fq && q.quantum.is_some(), "fq_codel")?;
    only("flows", !fq && q.flows.is_some(), "fq_codel")?;
    if kind == DisciplineKind::TailDrop && q.ecn == Some(true) {
        return Err((
            "ecn",
            "tail drop never signals congestion early: ECN marking needs red, codel or fq_codel".into(),
        ));
    }
    let codel_params = || -> Result<CoDelParams, (&'static str, String)> {
        let p = CoDelParams {
            target: q.target.map_or(Duration::from_millis(5), |d| d.0),
            interval: q.interval.map_or(Duration::from_millis(100), |d| d.0),
        };
        if p.target.is_zero() {
            return Err(("target", "target must be positive".into()));
        }
        if p.interval <= p.target {
            return Err(("interval", format!("interval must be longer than target ({:?})", p.target)));
        }
        Ok(p)
    };
    let disc: Box<dyn Discipline> = match kind {
        DisciplineKind::TailDrop => Box::new(TailDrop::new(limit)),
        DisciplineKind::Red => {
            let bytes = if limit.bytes == usize::MAX { DEFAULT_QUEUE_BYTES } else { limit.bytes };
            let p = RedParams {
                min_th: q.min_th.unwrap_or(bytes / 6),
                max_th: q.max_th.unwrap_or(bytes / 2),
                max_p: q.max_p.map_or(0.1, |p| p.0),
                weight: q.weight.map_or(0.002, |p| p.0),
            };
            if p.min_th >= p.max_th {
                let field = if q.max_th.is_some() { "max_th" } else { "min_th" };
                return Err((field, format!("min_th ({}) must be below max_th ({})", p.min_th, p.max_th)));
            }
            if p.max_th > limit.bytes {
                return Err(("max_th", format!("max_th ({}) is above limit_bytes ({})", p.max_th, limit.bytes)));
            }
            if p.max_p == 0.0 {
                return Err(("max_p", "max_p 0 never drops early: use tail_drop".into()));
            }
            if p.weight == 0.0 {
                return Err(("weight", "weight 0 never moves the average".into()));
            }
            Box::new(Red::new(limit, p, q.rate.0))
        }
        DisciplineKind::Codel => Box::new(CoDel::new(limit, codel_params()?)),
        DisciplineKind::FqCodel => {
            let quantum = q.quantum.unwrap_or(1514);
            if quantum == 0 {
                return Err(("quantum", "quantum must be at least 1 byte".into()));
            }
            let flows = q.flows.unwrap_or(1024);
            if flows == 0 || flows > 65_536 {
                return Err(("flows", format!("flows must be 1 to 65536, not {flows}")));
            }
            Box::new(FqCoDel::new(limit, codel_params()?, quantum, flows, derive_seed(seed, purpose)))
        }
    };
    let ecn = q.ecn.unwrap_or(kind != DisciplineKind::TailDrop);
    Ok(Egress::new(Some(q.rate.0), Some(disc), ecn, rng))
}

/// Resolves a link end as written (`host` or `node:port`) to an [`End`]; `used` are the ports linked so far.
pub(super) fn resolve_end(written: &str, sc: &Scenario, nodes: &[Node], used: &[End]) -> Result<End, String> {
    let (name, port) = split_end(written);
    let node = nodes.iter().position(|n| n.name == name);
    let end =
        match (port, node) {
            (None, None) => End::Host(sc.hosts.iter().position(|h| h.name == name).ok_or_else(|| {
                format!("no host named {name:?} (a port of a switch or router is written node:port)")
            })?),
            (None, Some(n)) => {
                let ports: Vec<&str> = nodes[n].ports.iter().map(|p| p.name.as_str()).collect();
                return Err(format!(
                    "{name:?} is a {}: name one of its ports, {}",
                    nodes[n].kind_name(),
                    ports.iter().map(|p| format!("{name}:{p}")).collect::<Vec<_>>().join(", ")
                ));
            }
            (Some(_), None) => return Err(format!("no switch or router named {name:?}")),
            (Some(p), Some(n)) => {
                let ports: Vec<&str> = nodes[n].ports.iter().map(|p| p.name.as_str()).collect();
                let port = ports.iter().position(|x| *x == p).ok_or_else(|| {
                    format!("{} {name:?} has no port {p:?} (ports: {})", nodes[n].kind_name(), ports.join(", "))
                })?;
                End::Port { node: n, port }
            }
        };
    if matches!(end, End::Port { .. }) && used.contains(&end) {
        return Err(format!("port {written:?} is on another link already: a port takes one link"));
    }
    Ok(end)
}
