//! The scenario tables of nodes besides hosts: `[[switch]]` and `[[router]]`, and the `[queue]` of a port.
//!
//! ```toml
//! [[switch]]
//! name = "sw"
//! ports = 3                        # named "1", "2", "3"; links name them "sw:1"
//!
//! [[router]]
//! name = "r1"
//! [[router.interface]]
//! name = "lan"
//! address = "10.0.1.1/24"
//! mtu = 1500                       # the default
//! [[router.interface]]
//! name = "wan"
//! address = "10.0.12.1/30"
//! queue = { rate = "20Mbit", limit_bytes = 100000, discipline = "codel" }
//! [[router.route]]
//! prefix = "10.0.2.0/24"
//! via = "10.0.12.2"                # the interface is the one whose subnet holds `via`
//! ```
//!
//! IPv6 on the same router: an interface with `ip6` forwards IPv6 too, `advertise = true` sends Router
//! Advertisements of its prefix on it (hosts autoconfigure an address and take the router as default router),
//! and a route's `prefix` and `via` may be IPv6 (both of one family):
//!
//! ```toml
//! [[router.interface]]
//! name = "lan"
//! address = "10.0.1.1/24"
//! ip6 = "2001:db8:1::1/64"
//! advertise = true                 # RAs every `ra_interval` (10s), router lifetime 3 intervals
//! [[router.route]]
//! prefix = "::/0"                  # the IPv6 default route
//! via = "2001:db8:12::2"           # on a connected IPv6 prefix; or a fe80:: address with `interface`
//! ```

use crate::scenario::{Cidr, Prob};
use crate::units::{Dur, Rate};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::net::IpAddr;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchSpec {
    pub name: String,
    /// Number of ports, named "1", "2", ...
    pub ports: usize,
    /// The egress queue of every port (default: none, send at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueSpec>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterSpec {
    pub name: String,
    #[serde(rename = "interface")]
    pub interfaces: Vec<InterfaceSpec>,
    #[serde(rename = "route", default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteSpec>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceSpec {
    pub name: String,
    /// The interface's address and the prefix of its subnet, `"10.0.1.1/24"`.
    pub address: Cidr,
    /// An IPv6 address and on-link prefix too, `"2001:db8:1::1/64"`: the router then forwards IPv6 between the
    /// interfaces that have one (connected prefixes), answers neighbour solicitations for it, and sends ICMPv6
    /// errors (time exceeded, no route, Packet Too Big) from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip6: Option<crate::scenario::Cidr6>,
    /// IP MTU (default 1500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<usize>,
    /// Default `02:00:01:00:RR:II` (RR the router's, II the interface's 1-based position).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<crate::scenario::Mac>,
    /// The egress queue (default: none, send at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueSpec>,
    /// Send Router Advertisements of the `ip6` prefix (a /64, flags L and A) on this interface, and answer
    /// Router Solicitations (RFC 4861 §6.2): hosts with `accept_ra` form an address in it and take the router
    /// as their default router.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advertise: Option<bool>,
    /// Time between unsolicited advertisements, 4s to 1800s (default 10s: RFC 4861's 600s scaled down to the
    /// seconds a simulated run lasts). The first one leaves when the run starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ra_interval: Option<Dur>,
    /// How long hosts may use the router as default router: 0 (not a default router) or `ra_interval` to
    /// 9000s (default three intervals, as RFC 4861's AdvDefaultLifetime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router_lifetime: Option<Dur>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// Destination network, `"10.0.2.0/24"` or `"2001:db8:2::/64"`; `"0.0.0.0/0"` and `"::/0"` are the
    /// default routes.
    pub prefix: RoutePrefix,
    /// Next-hop router, of the prefix's family, on a connected subnet (IPv6: on a connected prefix, or a
    /// link-local `fe80::` address with `interface`); absent: the destination is on the interface's link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<IpAddr>,
    /// Interface name; by default the one whose subnet holds `via`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
}

/// A route's destination network, IPv4 or IPv6, written `"10.0.2.0/24"` or `"2001:db8:2::/64"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoutePrefix {
    V4(synack::Ipv4Cidr),
    V6(synack::Ipv6Cidr),
}

impl From<Cidr> for RoutePrefix {
    fn from(c: Cidr) -> RoutePrefix {
        RoutePrefix::V4(c.0)
    }
}

impl std::str::FromStr for RoutePrefix {
    type Err = String;
    fn from_str(s: &str) -> Result<RoutePrefix, String> {
        if s.contains(':') {
            s.parse().map(RoutePrefix::V6).map_err(|e| format!("bad IPv6 address/prefix: {e}"))
        } else {
            s.parse().map(RoutePrefix::V4).map_err(|e| format!("bad address/prefix: {e}"))
        }
    }
}

impl fmt::Display for RoutePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoutePrefix::V4(c) => c.fmt(f),
            RoutePrefix::V6(c) => c.fmt(f),
        }
    }
}

impl<'de> Deserialize<'de> for RoutePrefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(de::Error::custom)
    }
}

impl Serialize for RoutePrefix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// A queue discipline, by name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisciplineKind {
    #[default]
    TailDrop,
    Red,
    Codel,
    FqCodel,
}

/// An egress queue: frames leave at `rate`; those that wait are held and shed by the discipline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    pub rate: Rate,
    /// Bytes the queue holds (default 64 KiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_bytes: Option<usize>,
    /// Frames the queue holds (default 1000; FQ-CoDel: 10240).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_packets: Option<usize>,
    #[serde(default)]
    pub discipline: DisciplineKind,
    /// Mark ECN-capable packets CE instead of dropping them (RFC 3168; default true for RED, CoDel and
    /// FQ-CoDel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecn: Option<bool>,
    /// RED: average queue bytes where early drops begin (default limit/6) and where every frame is dropped
    /// (default limit/2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_th: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_th: Option<usize>,
    /// RED: drop probability at `max_th` (default 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_p: Option<Prob>,
    /// RED: weight of a sample in the average (default 0.002).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<Prob>,
    /// CoDel, FQ-CoDel: acceptable standing sojourn time (default 5ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Dur>,
    /// CoDel, FQ-CoDel: the window over which sojourn must stay above target (default 100ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Dur>,
    /// FQ-CoDel: bytes per round of the deficit round robin (default 1514).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantum: Option<usize>,
    /// FQ-CoDel: number of flow queues (default 1024).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flows: Option<usize>,
}

/// A link end as written: `"host"` or `"node:port"`.
pub fn split_end(s: &str) -> (&str, Option<&str>) {
    match s.split_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (s, None),
    }
}
