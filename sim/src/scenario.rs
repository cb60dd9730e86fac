//! Scenarios: TOML files describing hosts, links, apps, scheduled events, exact faults and expectations.
//!
//! Every error names the file, line, column and field (`scenarios/x.toml:12:8: link[0].loss: ...`): syntax and
//! type errors carry toml's span; errors found later (an unknown host name, a bad direction) are located by
//! walking the parsed document along the field's path.

use crate::impairment::fault::FaultSpec;
use crate::units::{Dur, Rate};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;
use synack::wire::EthernetAddress;
use synack::Ipv4Cidr;
use toml::de::{DeTable, DeValue};

/// The scenario `synack-sim run` uses when given no file.
pub const DEFAULT_SCENARIO: &str = include_str!("../scenarios/default.toml");

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default = "default_name")]
    pub name: String,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Virtual time limit of a run.
    #[serde(default = "default_duration")]
    pub duration: Dur,
    /// End the run as soon as every app has finished (servers count as finished).
    #[serde(default = "default_true")]
    pub stop_when_done: bool,
    #[serde(rename = "host")]
    pub hosts: Vec<HostSpec>,
    /// Learning Ethernet switches.
    #[serde(rename = "switch", default, skip_serializing_if = "Vec::is_empty")]
    pub switches: Vec<crate::topology::SwitchSpec>,
    /// IPv4 routers.
    #[serde(rename = "router", default, skip_serializing_if = "Vec::is_empty")]
    pub routers: Vec<crate::topology::RouterSpec>,
    #[serde(rename = "link", default)]
    pub links: Vec<LinkSpec>,
    #[serde(rename = "app", default)]
    pub apps: Vec<AppSpec>,
    #[serde(rename = "event", default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventSpec>,
    #[serde(rename = "fault", default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultSpec>,
    #[serde(rename = "expect", default, skip_serializing_if = "Vec::is_empty")]
    pub expects: Vec<ExpectSpec>,
    /// What the pcapng captures keep (everything by default).
    #[serde(default, skip_serializing_if = "CaptureSpec::is_empty")]
    pub capture: CaptureSpec,
}

/// `[capture]`: keep captures of long or fast runs small. Frames outside `[from, until)` of virtual time are
/// not written (they still happen); of each frame written, the first `snaplen` bytes are kept (pcapng's snap
/// length: the frame's real length stays in the file, and every header fits in the minimum, so decodes and
/// tshark still read addresses, ports, flags, sequence numbers and lengths).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureSpec {
    /// Bytes kept of each frame, at least [`MIN_SNAPLEN`] (default: all, up to 65535).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snaplen: Option<u32>,
    /// Write frames from this time on (default: from the start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Dur>,
    /// Write frames before this time only (default: to the end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Dur>,
}

/// The least `capture.snaplen`: an Ethernet header and the longest IPv4 and TCP headers (60 bytes each).
pub const MIN_SNAPLEN: u32 = 14 + 60 + 60;

impl CaptureSpec {
    fn is_empty(&self) -> bool {
        *self == CaptureSpec::default()
    }
}

fn default_name() -> String {
    "unnamed".into()
}
fn default_seed() -> u64 {
    1
}
fn default_duration() -> Dur {
    Dur(Duration::from_secs(10))
}
fn default_true() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    pub name: String,
    /// Address and prefix, `"10.0.0.1/24"`.
    pub ip: Cidr,
    /// Defaults to `02:00:00:00:00:NN` with NN the host's 1-based position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<Mac>,
    /// IPv6 besides IPv4 (dual stack): addresses with prefixes, `["2001:db8::1/64"]`. Present (even empty),
    /// the host also has its link-local address (fe80:: from its MAC) and solicits routers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip6: Option<Vec<Cidr6>>,
    #[serde(default, skip_serializing_if = "HostConfigSpec::is_empty")]
    pub config: HostConfigSpec,
}

/// Overrides of the host's [`synack::Config`]; unset fields keep the stack's defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfigSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Ipv4Addr>,
    /// The IPv6 default router (a router interface's `ip6` address); needs the host's `ip6`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway6: Option<std::net::Ipv6Addr>,
    /// Get the address by DHCP (from a `dhcp_server` app on the link): the stack starts without one, and the
    /// host's `ip` only names the address other apps' `dst` means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhcp: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u8>,
    /// Stack seed; by default derived from the scenario seed and the host's position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udp_recv_queue: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arp_retry: Option<Dur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arp_max_requests: Option<u32>,
    /// TCP receive buffer per connection in bytes (the largest window it advertises).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_recv_buffer: Option<usize>,
    /// Receive-buffer autotuning: the most a receive buffer may grow to (0 or absent: fixed size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_recv_buffer_max: Option<usize>,
    /// TCP send buffer per connection in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_send_buffer: Option<usize>,
    /// Send-buffer autotuning: the most a send buffer may grow to (0 or absent: fixed size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_send_buffer_max: Option<usize>,
    /// Offer TCP window scaling (RFC 7323); on by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_window_scaling: Option<bool>,
    /// Offer and accept TCP timestamps (RFC 7323: RTT from every ACK, PAWS); on by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_timestamps: Option<bool>,
    /// Congestion control of the host's connections: `newreno` or `cubic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_congestion: Option<Congestion>,
    /// HyStart++ (RFC 9406) in the first slow start of `newreno` and `cubic`; on by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_hystart: Option<bool>,
    /// Proportional Rate Reduction in SACK recovery (`TcpConfig::prr`); off, the RFC 6675 pipe rule alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_prr: Option<bool>,
    /// Offer and use selective acknowledgements (RFC 2018); on by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_sack: Option<bool>,
    /// ECN (RFC 3168), as Linux's `tcp_ecn`: `off`, `passive` (the default: accept when asked) or `on` (also ask).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_ecn: Option<EcnSetting>,
    /// TCP TIME-WAIT duration (2*MSL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_time_wait: Option<Dur>,
    /// Most TCP connections in TIME-WAIT at once; more close at once (0: none waits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_max_time_wait: Option<usize>,
    /// Keep-alive probes on every TCP connection (RFC 1122 §4.2.3.6; off by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_keepalive: Option<bool>,
    /// Silence before the first keep-alive probe (default 2 h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_keepalive_idle: Option<Dur>,
    /// Between unanswered keep-alive probes (default 75 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_keepalive_interval: Option<Dur>,
    /// Unanswered keep-alive probes before the connection times out (default 9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_keepalive_probes: Option<u32>,
}

impl HostConfigSpec {
    fn is_empty(&self) -> bool {
        *self == HostConfigSpec::default()
    }
}

/// Impairments of one link direction. On a link, these fields apply to both directions; `a_to_b` / `b_to_a`
/// override them per direction.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpairSpec {
    /// One-way propagation delay (default 1ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Dur>,
    /// Extra delay drawn uniformly from [0, jitter].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<Dur>,
    /// Bernoulli loss probability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<Prob>,
    /// Gilbert-Elliott burst loss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<BurstSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<Prob>,
    /// Probability of holding a frame back by `reorder_hold` (default 2ms) so later ones overtake it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder: Option<Prob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_hold: Option<Dur>,
    /// Probability of flipping one checksum-protected bit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupt: Option<Prob>,
    /// Link rate (`"10Mbit"`); unlimited by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
    /// Bytes the rate-limited link may queue (default 64 KiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<usize>,
    /// IP MTU of the link (default 1500); larger frames are dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<usize>,
}

impl ImpairSpec {
    /// `self` with every unset field taken from `base`.
    pub fn or(&self, base: &ImpairSpec) -> ImpairSpec {
        ImpairSpec {
            delay: self.delay.or(base.delay),
            jitter: self.jitter.or(base.jitter),
            loss: self.loss.or(base.loss),
            burst: self.burst.or(base.burst),
            duplicate: self.duplicate.or(base.duplicate),
            reorder: self.reorder.or(base.reorder),
            reorder_hold: self.reorder_hold.or(base.reorder_hold),
            corrupt: self.corrupt.or(base.corrupt),
            rate: self.rate.or(base.rate),
            queue: self.queue.or(base.queue),
            mtu: self.mtu.or(base.mtu),
        }
    }
    /// Removes every random impairment (loss, burst, duplicate, reorder, corrupt, jitter).
    pub fn without_randomness(&self) -> ImpairSpec {
        ImpairSpec { delay: self.delay, rate: self.rate, queue: self.queue, mtu: self.mtu, ..ImpairSpec::default() }
    }
}

/// Gilbert-Elliott parameters: `p` Good->Bad and `r` Bad->Good transition probabilities per frame, loss
/// probabilities in each state, and an optional bound on a burst's duration.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurstSpec {
    pub p: Prob,
    pub r: Prob,
    #[serde(default)]
    pub loss_good: Prob,
    #[serde(default = "Prob::one")]
    pub loss_bad: Prob,
    /// A burst ends at the latest this long after it began (the chain moves per frame, so without a bound a
    /// sparse sender can stay in a burst for minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<Dur>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Defaults to `"A-B"` with the end names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A host name, or `node:port` for a port of a switch or router.
    pub a: String,
    pub b: String,
    // The impairments of both directions (see [`ImpairSpec`] for their meaning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Dur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<Dur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<Prob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<BurstSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<Prob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder: Option<Prob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_hold: Option<Dur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupt: Option<Prob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a_to_b: Option<ImpairSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b_to_a: Option<ImpairSpec>,
}

impl LinkSpec {
    /// The impairments set for both directions.
    pub fn both(&self) -> ImpairSpec {
        ImpairSpec {
            delay: self.delay,
            jitter: self.jitter,
            loss: self.loss,
            burst: self.burst,
            duplicate: self.duplicate,
            reorder: self.reorder,
            reorder_hold: self.reorder_hold,
            corrupt: self.corrupt,
            rate: self.rate,
            queue: self.queue,
            mtu: self.mtu,
        }
    }
    /// Sets the impairments of both directions.
    pub fn set_both(&mut self, i: &ImpairSpec) {
        self.delay = i.delay;
        self.jitter = i.jitter;
        self.loss = i.loss;
        self.burst = i.burst;
        self.duplicate = i.duplicate;
        self.reorder = i.reorder;
        self.reorder_hold = i.reorder_hold;
        self.corrupt = i.corrupt;
        self.rate = i.rate;
        self.queue = i.queue;
        self.mtu = i.mtu;
    }
    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| format!("{}-{}", self.a, self.b))
    }
}

/// A built-in congestion control algorithm, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Congestion {
    Newreno,
    Cubic,
}

impl Congestion {
    pub fn algorithm(self) -> synack::tcp::CongestionAlgorithm {
        match self {
            Congestion::Newreno => synack::tcp::CongestionAlgorithm::NewReno,
            Congestion::Cubic => synack::tcp::CongestionAlgorithm::Cubic,
        }
    }
}

/// A host's ECN setting, by name (`tcp_ecn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EcnSetting {
    Off,
    Passive,
    On,
}

impl EcnSetting {
    pub fn setting(self) -> synack::tcp::Ecn {
        match self {
            EcnSetting::Off => synack::tcp::Ecn::Off,
            EcnSetting::Passive => synack::tcp::Ecn::Passive,
            EcnSetting::On => synack::tcp::Ecn::On,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppKind {
    Ping,
    UdpEcho,
    UdpPingpong,
    UdpBulk,
    UdpSink,
    TcpSink,
    TcpEcho,
    TcpBulk,
    TcpRr,
    BlindAttacker,
    DhcpServer,
    Traceroute,
    RouterAdvert,
}

/// One app. Which fields matter depends on `kind`:
/// - `ping`: dst, count (10), interval (100ms), size (56)
/// - `udp_echo`, `udp_sink`: port (7 / 9)
/// - `udp_pingpong`: dst, port (7), count (10), interval (100ms), size (64)
/// - `udp_bulk`: dst, port (9), count (1000), interval (1ms; "0s" sends all at once), size (1000)
/// - `tcp_sink`: port (5001), connections (1) to wait for; a slow reader with `read_delay` (start reading this
///   late) and `read_rate` (bytes per second, read every `read_interval`, 100ms); `reply_bytes` (sent back after
///   end of stream, before closing: a half-close exchange); `shutdown_at_accept` (send FIN at once)
/// - `dhcp_server`: pool (the first address handed out, required), lease (60s); answers DISCOVER and REQUEST
///   on port 67 (a host with `config.dhcp = true` gets its address from it)
/// - `router_advert`: prefix (required, e.g. "2001:db8:1::/64"), count (3), interval (1s), lease (the router
///   lifetime, 1800s; 0s: not a default router): IPv6 Router Advertisements to all nodes with that prefix for
///   SLAAC and the host's MTU (the host needs `ip6`)
/// - `tcp_echo`: port (7)
/// - `traceroute`: dst (IPv4 or IPv6), port (33434, the first probe's destination port; probe n goes to
///   port + n - 1), count (4: probes with TTL or hop limit 1, 2, ..., count), interval (100ms), size (32 bytes
///   of UDP data), local_port (33433)
/// - `tcp_bulk`: dst, port (5001), bytes (1000000) per connection, connections (1), local_port (ephemeral)
/// - `tcp_rr`: dst, port (7), requests (10), size (100) or `text` (each request is this text), local_port
/// - `blind_attacker`: dst (the victim that receives the forged segments), port (its port, 5001), spoof (the
///   host whose address is forged), spoof_port, rsts / syns / data_segments (1000 each), size (100, data
///   payload), interval (100us between segments), both_ways (false: also forge the reverse direction)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    /// Defaults to `"<host>/<kind>"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub host: String,
    pub kind: AppKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Dur>,
    /// Run this many copies of the app (default 1), named `<name>#1`, `<name>#2`, ...; the summary adds up
    /// the group (`count` already means pings or datagrams, hence another word).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copies: Option<u32>,
    /// Counts the app in this group in the summary's `flows` section, with Jain's fairness index across the
    /// group's connections (copies form a group of their own name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Start the copies this far apart, the first at `start`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_spread: Option<Dur>,
    /// A host name, an IPv4 or an IPv6 address. A host name means its IPv4 address, or with `ipv6 = true`
    /// its first IPv6 address (its link-local one if it has no other).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst: Option<String>,
    /// `dst` names a host's IPv6 address rather than its IPv4 one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Dur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u32>,
    /// Local port of a TCP client (two clients connecting to each other's ports make a simultaneous open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_port: Option<u16>,
    /// `router_advert`: the on-link prefix advertised for address autoconfiguration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<Cidr6>,
    /// `dhcp_server`: the first address handed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<Ipv4Addr>,
    /// `dhcp_server`: the lease time granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Dur>,
    /// `tcp_rr`: the request text (instead of `size` bytes of test data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `tcp_sink`: do not read before this time after accepting (the receive window fills and closes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_delay: Option<Dur>,
    /// `tcp_sink`: read at most this many bytes per second (a slow reader).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_rate: Option<u64>,
    /// `tcp_sink`: how often a slow reader reads (default 100ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_interval: Option<Dur>,
    /// `tcp_sink`: bytes to send back after the peer's end of stream, before closing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_bytes: Option<u64>,
    /// `tcp_sink`: shut down the sending side (FIN) as soon as a connection is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown_at_accept: Option<bool>,
    /// `blind_attacker`: the host (name or IPv4 address) whose address the forged segments claim as source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spoof: Option<String>,
    /// `blind_attacker`: the forged source port (the victim client's `local_port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spoof_port: Option<u16>,
    /// `blind_attacker`: how many RSTs to forge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsts: Option<u64>,
    /// `blind_attacker`: how many SYNs to forge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syns: Option<u64>,
    /// `blind_attacker`: how many data segments (ACK+PSH, `size` bytes) to forge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_segments: Option<u64>,
    /// `blind_attacker`: forge segments in both directions (half of them to `spoof`, claiming to be `dst`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub both_ways: Option<bool>,
}

impl AppSpec {
    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            let kind = serde_kind_name(self.kind);
            format!("{}/{kind}", self.host)
        })
    }
}

fn serde_kind_name(kind: AppKind) -> String {
    toml::Value::try_from(kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventAction {
    /// The link loses every frame from now on.
    Partition,
    /// The link works again.
    Heal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    pub at: Dur,
    pub action: EventAction,
    /// The link's name (`"A-B"` by default).
    pub link: String,
}

/// What must hold at the end of a run, about one app.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    pub app: String,
    /// The app did everything it set out to do (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete: Option<bool>,
    /// ... and was done by this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<Dur>,
    /// Its connections' SHA-256 digests equal those of that app (a sink names its sender).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_equals: Option<String>,
    /// Its count (replies, datagrams, bytes) is at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_count: Option<u64>,
    /// Every one of its TCP connections ended this way: `ok`, `closed`, `reset`, `timedout`, `unreachable`, or
    /// `open` (had not ended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// One of its errors contains this text (e.g. `port unreachable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_contains: Option<String>,
    /// Every loss recovery (fast recovery or timeout) of its TCP connections was undone as spurious: on a
    /// path that reorders or delays but loses nothing, no window reduction is left standing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recoveries_undone: Option<bool>,
}

/// A probability in [0, 1].
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize)]
pub struct Prob(pub f64);

impl Prob {
    fn one() -> Prob {
        Prob(1.0)
    }
}

impl<'de> Deserialize<'de> for Prob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if (0.0..=1.0).contains(&v) {
            Ok(Prob(v))
        } else {
            Err(de::Error::custom(format!("probability {v} is outside 0..=1")))
        }
    }
}

macro_rules! string_newtype {
    ($name:ident, $inner:ty, $what:literal) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name(pub $inner);
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse::<$inner>().map($name).map_err(|e| de::Error::custom(format!(concat!($what, ": {}"), e)))
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0.to_string())
            }
        }
    };
}

string_newtype!(Cidr, Ipv4Cidr, "bad address/prefix");
string_newtype!(Cidr6, synack::Ipv6Cidr, "bad IPv6 address/prefix");
string_newtype!(Mac, EthernetAddress, "bad MAC address");

/// A scenario error, located in its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    /// 1-based; 0 when unknown.
    pub line: usize,
    pub column: usize,
    /// Dotted path of the field, `link[0].loss`; empty for document-level errors.
    pub field: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.field.is_empty() {
            write!(f, ": field `{}`", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// A scenario with the text it came from, so later checks can point into it.
#[derive(Clone, Debug)]
pub struct Source {
    pub file: String,
    pub text: String,
}

impl Source {
    /// An error at the field `path` (e.g. `["link", "0", "a"]`), located by walking the document.
    pub fn error_at(&self, path: &[&str], message: impl Into<String>) -> ScenarioError {
        let span = locate(&self.text, path);
        let (line, column) = span.map(|s| line_col(&self.text, s)).unwrap_or((0, 0));
        ScenarioError { file: self.file.clone(), line, column, field: path_string(path), message: message.into() }
    }
}

fn path_string(path: &[&str]) -> String {
    let mut s = String::new();
    for seg in path {
        if seg.parse::<usize>().is_ok() {
            s.push_str(&format!("[{seg}]"));
        } else {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(seg);
        }
    }
    s
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, column)
}

/// Byte offset of the value at `path`, or of the deepest part of it that exists.
fn locate(text: &str, path: &[&str]) -> Option<usize> {
    let root = DeTable::parse(text).ok()?;
    let mut best = None;
    let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
    let mut value: Option<&DeValue<'_>> = None;
    for seg in path {
        let next = match (table, value, seg.parse::<usize>()) {
            (Some(t), _, _) => t.iter().find(|(k, _)| k.get_ref() == seg).map(|(_, v)| v),
            (None, Some(DeValue::Array(a)), Ok(i)) => a.get(i),
            _ => None,
        };
        let Some(next) = next else { break };
        best = Some(next.span().start);
        value = Some(next.get_ref());
        table = match next.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        };
    }
    best
}

impl Scenario {
    /// Parses TOML text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let err = |field: String, e: toml::de::Error| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
            ScenarioError { file: file.to_string(), line, column, field, message: e.message().trim().to_string() }
        };
        let de = toml::de::Deserializer::parse(text).map_err(|e| {
            let key = e.span().and_then(|s| text.get(s)).map(str::trim).filter(|k| !k.is_empty());
            match key {
                // toml says only "duplicate key": name it.
                Some(key) if e.message().trim() == "duplicate key" => {
                    let mut located = err(String::new(), e);
                    located.message = format!("duplicate key `{key}`: a key may appear once per table");
                    located
                }
                _ => err(String::new(), e),
            }
        })?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let field = if field == "." { String::new() } else { field };
            err(field, e.into_inner())
        })
    }

    /// Reads and parses a file.
    pub fn load(path: &std::path::Path) -> Result<(Scenario, Source), ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            file: file.clone(),
            line: 0,
            column: 0,
            field: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        let scenario = Scenario::parse(&file, &text)?;
        Ok((scenario, Source { file, text }))
    }

    /// The built-in default scenario.
    pub fn builtin() -> (Scenario, Source) {
        let file = "<built-in default scenario>".to_string();
        let scenario = Scenario::parse(&file, DEFAULT_SCENARIO).unwrap_or_else(|e| panic!("built-in scenario: {e}"));
        (scenario, Source { file, text: DEFAULT_SCENARIO.to_string() })
    }

    /// Writes the scenario back as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot serialise scenario: {e}\n"))
    }
}
