//! Stack configuration: addressing, limits and the seed that drives every "random" choice.

use crate::wire::EthernetAddress;
use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::str::FromStr;
use core::time::Duration;

/// An IPv4 address with its prefix length, e.g. `10.0.0.2/24`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4Cidr {
    addr: Ipv4Addr,
    prefix_len: u8,
}

impl Ipv4Cidr {
    /// The address of a stack waiting for a DHCP lease: 0.0.0.0/32, so that nothing is on-link and nothing but
    /// a broadcast can be sent.
    pub const UNCONFIGURED: Ipv4Cidr = Ipv4Cidr { addr: Ipv4Addr::UNSPECIFIED, prefix_len: 32 };

    /// `None` if `prefix_len > 32`.
    pub const fn new(addr: Ipv4Addr, prefix_len: u8) -> Option<Ipv4Cidr> {
        if prefix_len > 32 {
            None
        } else {
            Some(Ipv4Cidr { addr, prefix_len })
        }
    }
    pub const fn addr(&self) -> Ipv4Addr {
        self.addr
    }
    pub const fn prefix_len(&self) -> u8 {
        self.prefix_len
    }
    /// The network mask as a `u32` (e.g. `0xffffff00` for /24).
    pub fn mask(&self) -> u32 {
        match self.prefix_len {
            0 => 0,
            n => u32::MAX << (32 - u32::from(n)),
        }
    }
    /// True if `ip` lies in this network (so it is reached directly, not via the gateway).
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        (u32::from(ip) & self.mask()) == (u32::from(self.addr) & self.mask())
    }
    /// The network's own address, host bits all zero (none for /31 and /32, RFC 3021: both addresses are hosts).
    pub fn network(&self) -> Option<Ipv4Addr> {
        if self.prefix_len >= 31 {
            None
        } else {
            Some(Ipv4Addr::from(u32::from(self.addr) & self.mask()))
        }
    }
    /// The directed broadcast address of the network (none for /31 and /32, RFC 3021).
    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        if self.prefix_len >= 31 {
            None
        } else {
            Some(Ipv4Addr::from(u32::from(self.addr) | !self.mask()))
        }
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

/// Why a string is not an `a.b.c.d/len` (or, for IPv6, `addr/len`) CIDR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseCidrError {
    text: String,
    ipv6: bool,
}

impl fmt::Display for ParseCidrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ipv6 {
            write!(f, "invalid IPv6 CIDR {:?}: expected addr/len with len 0..=128", self.text)
        } else {
            write!(f, "invalid IPv4 CIDR {:?}: expected a.b.c.d/len with len 0..=32", self.text)
        }
    }
}

impl std::error::Error for ParseCidrError {}

impl FromStr for Ipv4Cidr {
    type Err = ParseCidrError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseCidrError { text: s.to_string(), ipv6: false };
        let (addr, len) = s.split_once('/').ok_or_else(err)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| err())?;
        let len: u8 = len.parse().map_err(|_| err())?;
        Ipv4Cidr::new(addr, len).ok_or_else(err)
    }
}

/// An IPv6 address with its on-link prefix length, e.g. `2001:db8::2/64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv6Cidr {
    addr: Ipv6Addr,
    prefix_len: u8,
}

impl Ipv6Cidr {
    /// `None` if `prefix_len > 128`.
    pub const fn new(addr: Ipv6Addr, prefix_len: u8) -> Option<Ipv6Cidr> {
        if prefix_len > 128 {
            None
        } else {
            Some(Ipv6Cidr { addr, prefix_len })
        }
    }
    pub const fn addr(&self) -> Ipv6Addr {
        self.addr
    }
    pub const fn prefix_len(&self) -> u8 {
        self.prefix_len
    }
    /// The network mask as a `u128`.
    pub fn mask(&self) -> u128 {
        match self.prefix_len {
            0 => 0,
            n => u128::MAX << (128 - u32::from(n)),
        }
    }
    /// True if `ip` lies in this prefix (so it is on-link).
    pub fn contains(&self, ip: Ipv6Addr) -> bool {
        (u128::from(ip) & self.mask()) == (u128::from(self.addr) & self.mask())
    }
}

impl fmt::Display for Ipv6Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl FromStr for Ipv6Cidr {
    type Err = ParseCidrError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseCidrError { text: s.to_string(), ipv6: true };
        let (addr, len) = s.split_once('/').ok_or_else(err)?;
        let addr: Ipv6Addr = addr.parse().map_err(|_| err())?;
        let len: u8 = len.parse().map_err(|_| err())?;
        Ipv6Cidr::new(addr, len).ok_or_else(err)
    }
}

/// IPv6 on the interface (RFC 8200, RFC 4861, RFC 4862). Off unless [`Config::ipv6`] holds one. The
/// link-local address (fe80::/64 with the modified EUI-64 of the MAC, RFC 4291 appendix A) is always formed:
/// RFC 4291 §2.1 requires one on every interface, and neighbour and router discovery speak from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv6Config {
    /// Addresses configured by hand (global or unique-local), each with its on-link prefix.
    pub addresses: Vec<Ipv6Cidr>,
    /// Default router for off-link destinations; routers that advertise themselves are used too.
    pub gateway: Option<Ipv6Addr>,
    /// Learn prefixes (SLAAC addresses), default routers, hop limit and MTU from Router Advertisements, and
    /// solicit them on start. On by default, as on a Linux host.
    pub accept_ra: bool,
    /// Hop limit of packets we originate (a Router Advertisement may change it).
    pub hop_limit: u8,
    /// Neighbour discovery and autoconfiguration timing and bounds (RFC 4861 §10, RFC 4862 §5.1).
    pub nd: crate::ndp::NdpConfig,
}

impl Ipv6Config {
    /// Checks the addresses, the gateway and the limits; `mtu` is the link's.
    pub fn validate(&self, mtu: usize) -> Result<(), ConfigError> {
        let bad = |why: String| Err(ConfigError::BadIpv6(why));
        if mtu < IPV6_MIN_MTU {
            return bad(format!("mtu {mtu} is below IPv6's minimum link MTU of {IPV6_MIN_MTU}"));
        }
        for (i, c) in self.addresses.iter().enumerate() {
            let a = c.addr();
            if a.is_unspecified() || a.is_multicast() || a.is_loopback() || a.to_ipv4_mapped().is_some() {
                return bad(format!("address {c} must be unicast: not unspecified, multicast, loopback or mapped"));
            }
            if c.prefix_len() == 0 {
                return bad(format!("address {c}: a /0 prefix would put every address on-link"));
            }
            if self.addresses[..i].iter().any(|o| o.addr() == a) {
                return bad(format!("address {a} is configured twice"));
            }
        }
        if let Some(g) = self.gateway {
            if g.is_unspecified() || g.is_multicast() || g.is_loopback() || self.addresses.iter().any(|c| c.addr() == g)
            {
                return bad(format!("gateway {g} must be a unicast neighbour, not ours"));
            }
        }
        if self.hop_limit == 0 {
            return bad("hop_limit must be at least 1".into());
        }
        self.nd.validate().map_err(|e| ConfigError::BadIpv6(e.to_string()))
    }
}

impl Default for Ipv6Config {
    fn default() -> Self {
        Ipv6Config {
            addresses: Vec::new(),
            gateway: None,
            accept_ra: true,
            hop_limit: 64,
            nd: crate::ndp::NdpConfig::default(),
        }
    }
}

/// The smallest link MTU IPv6 allows (RFC 8200 §5).
pub const IPV6_MIN_MTU: usize = 1280;

/// ARP neighbour cache behaviour (RFC 826, RFC 1122 §2.3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArpConfig {
    /// How long a resolved entry is trusted before it is resolved again.
    pub cache_ttl: Duration,
    /// Time between requests for a neighbour that has not answered (also the request rate limit).
    pub retry_interval: Duration,
    /// Requests sent before a neighbour is declared unreachable.
    pub max_requests: u32,
    /// Frames queued per unresolved neighbour; further frames are dropped and counted.
    pub max_pending_frames: usize,
    /// Frames queued for all unresolved neighbours together (bounds memory under spoofed-source floods).
    pub max_pending_total: usize,
    /// Entries in the cache (resolved and pending); the oldest resolved entry is evicted when full.
    pub max_entries: usize,
}

impl Default for ArpConfig {
    fn default() -> Self {
        ArpConfig {
            cache_ttl: Duration::from_secs(60),
            retry_interval: Duration::from_secs(1),
            max_requests: 3,
            max_pending_frames: 256,
            max_pending_total: 1024,
            max_entries: 1024,
        }
    }
}

/// Fragment reassembly bounds (RFC 791, RFC 815, RFC 8200 §4.5). Defaults follow Linux's `ipfrag_*` and
/// `ip6frag_*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// An IPv4 datagram not completed within this time is dropped (ICMP time exceeded is sent if we saw its
    /// head). 30 s, as Linux's `ipfrag_time`.
    pub timeout: Duration,
    /// The same for an IPv6 packet: 60 s (RFC 8200 §4.5, Linux's `ip6frag_time`).
    pub timeout_ipv6: Duration,
    /// Payload bytes held across all incomplete datagrams; the oldest are evicted beyond it.
    pub max_bytes: usize,
    /// Incomplete datagrams held at once; the oldest is evicted beyond it.
    pub max_datagrams: usize,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            timeout: Duration::from_secs(30),
            timeout_ipv6: Duration::from_secs(60),
            max_bytes: 4 << 20,
            max_datagrams: 256,
        }
    }
}

/// TCP behaviour (RFC 9293, 6298, 5681, 7323). Defaults follow Linux where the RFCs leave a choice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpConfig {
    /// Send buffer per connection: bytes the application may queue beyond what the peer acknowledged.
    pub send_buffer: usize,
    /// Send-buffer autotuning: the most a connection's send buffer may grow to (twice the congestion window)
    /// while the buffer, not the window, holds the application back (Linux grows up to `tcp_wmem`'s 4 MB).
    /// 0 (the default) keeps every buffer at `send_buffer`.
    pub send_buffer_max: usize,
    /// Receive buffer per connection; the advertised window is its free space.
    pub recv_buffer: usize,
    /// Receive-buffer autotuning: the most a connection's receive buffer may grow to while its application
    /// keeps up with a sender the window holds back (see `tcp::autotune`; Linux grows up to `tcp_rmem`'s
    /// 6 MB). 0 (the default) keeps every buffer at `recv_buffer`. The window scale offered in SYNs is sized
    /// for this maximum.
    pub recv_buffer_max: usize,
    /// Offer window scaling (RFC 7323 §2) so windows above 64 KiB work.
    pub window_scaling: bool,
    /// Offer selective acknowledgements (RFC 2018) and use them for loss recovery (RFC 6675).
    pub sack: bool,
    /// Offer and accept timestamps (RFC 7323: RTT measurement from every ACK, PAWS against old duplicates
    /// from a previous wrap of the sequence space); Linux's `tcp_timestamps` default, on.
    pub timestamps: bool,
    /// RTO before the first RTT sample (RFC 6298 §2.1: 1 s).
    pub rto_initial: Duration,
    /// Lower bound of the RTO's variance term: RTO = SRTT + max(4·RTTVAR, `rto_min`), so the RTO keeps this
    /// margin over SRTT on a steady path (Linux's `tcp_rto_min`, 200 ms; RFC 6298 suggests a 1 s floor under
    /// the whole RTO).
    pub rto_min: Duration,
    /// Upper bound of the RTO, backoff included.
    pub rto_max: Duration,
    /// Consecutive retransmission timeouts after which the connection gives up with `TimedOut` (also the zero
    /// window probes left unanswered). At most [`TcpConfig::MAX_RETRIES`].
    pub max_retransmissions: u32,
    /// SYN retransmissions before a connect attempt gives up (Linux `tcp_syn_retries`). At most
    /// [`TcpConfig::MAX_RETRIES`].
    pub syn_retries: u32,
    /// SYN-ACK retransmissions before a half-open passive connection is dropped (Linux `tcp_synack_retries`).
    /// At most [`TcpConfig::MAX_RETRIES`].
    pub synack_retries: u32,
    /// TIME-WAIT duration, 2*MSL (Linux: 60 s). Also bounds FIN-WAIT-2 of a closed socket.
    pub time_wait: Duration,
    /// Most connections in TIME-WAIT at once (Linux `tcp_max_tw_buckets`). A connection that would enter it
    /// while this many are there closes at once instead (counted in `Stats::tcp_time_wait_overflows`), so a
    /// host that closes connections quickly cannot pile up TIME-WAIT state without bound. 0: never wait.
    pub max_time_wait: usize,
    /// Longest an ACK is delayed (RFC 9293 §3.8.6.3 allows up to 500 ms; Linux uses 40 ms).
    pub delayed_ack: Duration,
    /// Least time between two ACKs one connection sends in answer to unacceptable segments that carry no data
    /// (stale pure ACKs, window probes): as Linux's `tcp_invalid_ratelimit` (500 ms), so two ends whose ACKs
    /// the other finds unacceptable cannot trade ACKs without end. Data segments are always answered.
    pub invalid_ack_interval: Duration,
    /// New connections start with Nagle's algorithm off.
    pub nodelay: bool,
    /// New connections send keep-alive probes (RFC 1122 §4.2.3.6: off unless asked for, as `SO_KEEPALIVE`;
    /// one connection turns them on or off with `Command::TcpSetKeepAlive`): after `keepalive_idle` without a
    /// segment from the peer, an empty segment one below SND.UNA that the peer must acknowledge, again every
    /// `keepalive_interval`; after `keepalive_probes` unanswered the connection is reset with `TimedOut`.
    pub keepalive: bool,
    /// Silence before the first probe (RFC 1122: no less than two hours by default; Linux's
    /// `tcp_keepalive_time`, 7200 s).
    pub keepalive_idle: Duration,
    /// Between unanswered probes (Linux's `tcp_keepalive_intvl`, 75 s).
    pub keepalive_interval: Duration,
    /// Unanswered probes before the connection gives up (Linux's `tcp_keepalive_probes`, 9; at most
    /// [`TcpConfig::MAX_RETRIES`]).
    pub keepalive_probes: u32,
    /// Largest backlog (accept queue) a listener may ask for.
    pub max_backlog: usize,
    /// Half-open (SYN-RECEIVED) connections per listener; beyond it SYN cookies answer, or SYNs are dropped.
    pub syn_queue: usize,
    /// Answer SYNs with SYN cookies (RFC 4987 §3.6) when the SYN queue is full, keeping no state.
    pub syn_cookies: bool,
    /// Out-of-order segments held per connection (each a separate run of bytes beyond a gap).
    pub max_out_of_order: usize,
    /// Rate limit for RFC 5961 challenge ACKs, shared by all connections (Linux: 1000/s).
    pub challenge_ack_rate: RateLimit,
    /// Congestion control for new connections.
    pub congestion: crate::tcp::CongestionAlgorithm,
    /// Proportional Rate Reduction (RFC 6937) paces what fast recovery sends with SACK, for every congestion
    /// control, as Linux does; off, recovery sends whatever RFC 6675's pipe leaves below ssthresh at once.
    pub prr: bool,
    /// Explicit Congestion Notification (RFC 3168), as Linux's `tcp_ecn`: `Passive` by default (accept it when
    /// the peer's SYN asks, never ask), `On` to ask when we open, `Off` never. See [`crate::tcp::Ecn`].
    pub ecn: crate::tcp::Ecn,
    /// HyStart++ (RFC 9406) in the first slow start of the built-in algorithms: slow start ends when the RTT
    /// rises (a queue builds) instead of at the first loss. On by default, as HyStart is in Linux's CUBIC.
    pub hystart: bool,
    /// Segmentation offload (TSO): the largest IP datagram one TCP data frame may fill when the driver's device
    /// cuts it into MSS-sized segments on the way out (a TAP device with a virtio-net header can). 0 = off:
    /// every frame fits the MTU. When on, a connection whose MSS is the one the MTU allows sends whole
    /// multiples of it in one frame; the wire still carries MTU-sized segments.
    pub segmentation_offload: usize,
}

impl TcpConfig {
    /// The most retransmissions any of the limits allows: with the RTO capped at `rto_max`, 255 timeouts in a
    /// row already take hours (Linux caps `tcp_syn_retries` at 127); a connection keeps its counts in 16 bits.
    pub const MAX_RETRIES: u32 = 255;

    /// The largest receive buffer a connection may have: `recv_buffer`, or more with autotuning.
    pub fn recv_buffer_limit(&self) -> usize {
        self.recv_buffer.max(self.recv_buffer_max)
    }
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            send_buffer: 256 * 1024,
            send_buffer_max: 0,
            recv_buffer: 256 * 1024,
            recv_buffer_max: 0,
            window_scaling: true,
            sack: true,
            timestamps: true,
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_millis(200),
            rto_max: Duration::from_secs(60),
            max_retransmissions: 15,
            syn_retries: 6,
            synack_retries: 5,
            time_wait: Duration::from_secs(60),
            max_time_wait: 65_536,
            delayed_ack: Duration::from_millis(40),
            invalid_ack_interval: Duration::from_millis(500),
            nodelay: false,
            keepalive: false,
            keepalive_idle: Duration::from_secs(7200),
            keepalive_interval: Duration::from_secs(75),
            keepalive_probes: 9,
            max_backlog: 4096,
            syn_queue: 256,
            syn_cookies: true,
            max_out_of_order: 64,
            challenge_ack_rate: RateLimit { per_second: 1000, burst: 1000 },
            congestion: crate::tcp::CongestionAlgorithm::Cubic,
            prr: true,
            ecn: crate::tcp::Ecn::Passive,
            hystart: true,
            segmentation_offload: 0,
        }
    }
}

/// A token bucket: `burst` tokens, refilled at `per_second`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

/// The largest IP MTU: an IPv4 datagram's total length is a 16-bit field.
const MAX_MTU: usize = 65_535;

/// Everything a [`crate::Stack`] needs to know about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Our Ethernet address (must be unicast).
    pub mac: EthernetAddress,
    /// Our IPv4 address and the on-link prefix.
    pub ipv4: Ipv4Cidr,
    /// Next hop for destinations outside `ipv4`'s prefix; without one they get `CommandError::NoRoute`.
    pub gateway: Option<Ipv4Addr>,
    /// IP MTU of the link in bytes: 576 up to 65,535, the largest IPv4 datagram (Ethernet's 1500, jumbo frames'
    /// 9000, or the 64 KiB of a virtual link such as Linux's loopback). We never send larger datagrams and never
    /// fragment TCP.
    pub mtu: usize,
    /// TTL of datagrams we originate.
    pub ttl: u8,
    /// Seeds every choice that would otherwise be random (ISN key, ...). Same seed, same frames.
    pub seed: u64,
    /// Local ports handed out when a socket binds port 0 (IANA dynamic range by default).
    pub ephemeral_ports: (u16, u16),
    pub arp: ArpConfig,
    pub reassembly: ReassemblyConfig,
    pub tcp: TcpConfig,
    /// Rate limit for ICMP errors we generate (Linux: 1000/s, burst 50).
    pub icmp_error_rate: RateLimit,
    /// Rate limit for ICMP errors to any one destination, within `icmp_error_rate` (Linux's `icmp_ratelimit`:
    /// one a second, in bursts of six), so one host cannot spend the budget all share, and a UDP port scan sees
    /// what it would from Linux. "Fragmentation needed" is exempt, as in Linux: path MTU discovery needs it.
    pub icmp_error_rate_per_peer: RateLimit,
    /// Datagrams held per UDP socket until the application reads them; more are dropped and counted.
    pub udp_recv_queue: usize,
    /// Echo requests per ping socket awaiting a reply; the oldest is forgotten beyond it.
    pub ping_outstanding: usize,
    /// Transmit checksum offload: the driver's device finishes TCP and UDP checksums (virtio-net's
    /// `NEEDS_CSUM`). Frames then leave with the pseudo-header sum in the checksum field, the partial checksum
    /// such a device expects (Linux's `CHECKSUM_PARTIAL`), and the driver must ask the device to finish every
    /// TCP and UDP frame (`synack-tap --offload` does). Off by default: every frame leaves complete.
    pub tx_checksum_offload: bool,
    /// Explain the run: every TCP segment sent is followed by an [`crate::Output::Note`] saying why, every
    /// connection state change and every dropped frame by one too ([`crate::explain`]). Off by default (then
    /// nothing is recorded); the simulator turns it on for its captures' packet comments.
    pub explain: bool,
    /// Obtain the address by DHCP (RFC 2131) instead: the stack starts without one (`ipv4` and `gateway` are
    /// not used; [`crate::Stack::config`] shows 0.0.0.0/32 until a lease is bound, then the lease's address and
    /// gateway). `None` by default.
    pub dhcp: Option<crate::dhcp::DhcpConfig>,
    /// IPv6 besides IPv4 (dual stack). `None` by default: IPv6 frames are dropped (counted) and IPv6
    /// destinations have no route.
    pub ipv6: Option<Ipv6Config>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mac: EthernetAddress([0x02, 0, 0, 0, 0, 0x01]),
            ipv4: Ipv4Cidr { addr: Ipv4Addr::new(10, 0, 0, 1), prefix_len: 24 },
            gateway: None,
            mtu: 1500,
            ttl: 64,
            seed: 0,
            ephemeral_ports: (49152, 65535),
            arp: ArpConfig::default(),
            reassembly: ReassemblyConfig::default(),
            tcp: TcpConfig::default(),
            icmp_error_rate: RateLimit { per_second: 1000, burst: 50 },
            icmp_error_rate_per_peer: RateLimit { per_second: 1, burst: 6 },
            udp_recv_queue: 256,
            ping_outstanding: 64,
            tx_checksum_offload: false,
            explain: false,
            dhcp: None,
            ipv6: None,
        }
    }
}

/// Why a [`Config`] was refused by [`crate::Stack::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The MAC address is multicast or all zeros.
    BadMac(EthernetAddress),
    /// The address is unspecified, multicast, broadcast or loopback.
    BadAddress(Ipv4Addr),
    /// The address is its subnet's network address (host bits all zero) or directed broadcast (all one); the
    /// `&'static str` says which. RFC 1122 §3.2.1.3: neither may be a host's own address.
    NotAHostAddress(Ipv4Cidr, &'static str),
    /// The gateway is not inside our prefix, or equals our own address.
    BadGateway(Ipv4Addr),
    /// MTU outside 576..=65535.
    BadMtu(usize),
    /// TTL zero.
    BadTtl,
    /// Ephemeral port range empty or starting at 0.
    BadEphemeralPorts(u16, u16),
    /// A limit that must be at least 1 is 0 (named).
    ZeroLimit(&'static str),
    /// An interval that must be longer than zero is zero (named): a timer at once, again and again.
    ZeroInterval(&'static str),
    /// An inconsistent TCP setting (explained).
    BadTcp(&'static str),
    /// An inconsistent DHCP setting (explained).
    BadDhcp(&'static str),
    /// An IPv6 setting that cannot work (the address or value, and why).
    BadIpv6(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::BadMac(m) => write!(f, "mac {m} must be a non-zero unicast address"),
            ConfigError::BadAddress(a) => {
                write!(f, "address {a} must not be unspecified, multicast, broadcast or loopback")
            }
            ConfigError::NotAHostAddress(c, which) => write!(
                f,
                "address {} is the {which} address of subnet {}/{}, not a host address: choose an address with \
                 host bits neither all zero nor all one",
                c.addr(),
                c.network().unwrap_or(c.addr()),
                c.prefix_len()
            ),
            ConfigError::BadGateway(g) => write!(f, "gateway {g} must be on-link and not our own address"),
            ConfigError::BadMtu(m) => write!(f, "mtu {m} must be within 576..=65535"),
            ConfigError::BadTtl => write!(f, "ttl must be at least 1"),
            ConfigError::BadEphemeralPorts(a, b) => {
                write!(f, "ephemeral port range {a}..={b} must be non-empty and start above 0")
            }
            ConfigError::ZeroLimit(name) => write!(f, "{name} must be at least 1"),
            ConfigError::ZeroInterval(name) => write!(f, "{name} must be longer than zero"),
            ConfigError::BadTcp(why) => write!(f, "tcp: {why}"),
            ConfigError::BadDhcp(why) => write!(f, "dhcp: {why}"),
            ConfigError::BadIpv6(why) => write!(f, "ipv6: {why}"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Checks every field; [`crate::Stack::new`] calls this.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.mac.is_multicast() || self.mac.0 == [0; 6] {
            return Err(ConfigError::BadMac(self.mac));
        }
        let a = self.ipv4.addr();
        if a.is_unspecified() || a.is_multicast() || a.is_broadcast() || a.is_loopback() {
            return Err(ConfigError::BadAddress(a));
        }
        if Some(a) == self.ipv4.network() {
            return Err(ConfigError::NotAHostAddress(self.ipv4, "network"));
        }
        if Some(a) == self.ipv4.broadcast() {
            return Err(ConfigError::NotAHostAddress(self.ipv4, "broadcast"));
        }
        if let Some(g) = self.gateway {
            if !self.ipv4.contains(g) || g == a || Some(g) == self.ipv4.broadcast() {
                return Err(ConfigError::BadGateway(g));
            }
        }
        if !(576..=MAX_MTU).contains(&self.mtu) {
            return Err(ConfigError::BadMtu(self.mtu));
        }
        if self.ttl == 0 {
            return Err(ConfigError::BadTtl);
        }
        if let Some(v6) = &self.ipv6 {
            v6.validate(self.mtu)?;
        }
        let (lo, hi) = self.ephemeral_ports;
        if lo == 0 || lo > hi {
            return Err(ConfigError::BadEphemeralPorts(lo, hi));
        }
        let limits = [
            ("arp.max_requests", self.arp.max_requests as usize),
            ("arp.max_pending_frames", self.arp.max_pending_frames),
            ("arp.max_pending_total", self.arp.max_pending_total),
            ("arp.max_entries", self.arp.max_entries),
            ("reassembly.max_bytes", self.reassembly.max_bytes),
            ("reassembly.max_datagrams", self.reassembly.max_datagrams),
            ("udp_recv_queue", self.udp_recv_queue),
            ("ping_outstanding", self.ping_outstanding),
            ("tcp.send_buffer", self.tcp.send_buffer),
            ("tcp.recv_buffer", self.tcp.recv_buffer),
            ("tcp.max_backlog", self.tcp.max_backlog),
            ("tcp.syn_queue", self.tcp.syn_queue),
            ("tcp.max_out_of_order", self.tcp.max_out_of_order),
        ];
        for (name, v) in limits {
            if v == 0 {
                return Err(ConfigError::ZeroLimit(name));
            }
        }
        if self.arp.retry_interval.is_zero() {
            return Err(ConfigError::ZeroInterval("arp.retry_interval"));
        }
        let t = &self.tcp;
        if t.rto_min.is_zero() || t.rto_min > t.rto_max || t.rto_initial.is_zero() {
            return Err(ConfigError::BadTcp("rto_min must be > 0, <= rto_max, and rto_initial > 0"));
        }
        if [t.max_retransmissions, t.syn_retries, t.synack_retries].iter().any(|&n| n > TcpConfig::MAX_RETRIES) {
            return Err(ConfigError::BadTcp(
                "max_retransmissions, syn_retries and synack_retries must be at most 255 (TcpConfig::MAX_RETRIES)",
            ));
        }
        if t.keepalive_idle.is_zero() || t.keepalive_interval.is_zero() {
            return Err(ConfigError::BadTcp("keepalive_idle and keepalive_interval must be > 0"));
        }
        if t.keepalive_probes == 0 || t.keepalive_probes > TcpConfig::MAX_RETRIES {
            return Err(ConfigError::BadTcp("keepalive_probes must be from 1 to 255 (TcpConfig::MAX_RETRIES)"));
        }
        if [t.send_buffer, t.send_buffer_max, t.recv_buffer, t.recv_buffer_max].iter().any(|&b| b > 1 << 30) {
            return Err(ConfigError::BadTcp("buffers must be at most 1 GiB (RFC 7323 window limit)"));
        }
        if t.recv_buffer_max != 0 && t.recv_buffer_max < t.recv_buffer {
            return Err(ConfigError::BadTcp("recv_buffer_max must be 0 (no autotuning) or at least recv_buffer"));
        }
        if t.send_buffer_max != 0 && t.send_buffer_max < t.send_buffer {
            return Err(ConfigError::BadTcp("send_buffer_max must be 0 (no autotuning) or at least send_buffer"));
        }
        if t.segmentation_offload != 0 && !(self.mtu..=65_535).contains(&t.segmentation_offload) {
            return Err(ConfigError::BadTcp("segmentation_offload must be 0 (off) or from the MTU to 65535"));
        }
        if let Some(d) = &self.dhcp {
            if d.retransmit_initial.is_zero() || d.retransmit_max < d.retransmit_initial {
                return Err(ConfigError::BadDhcp("retransmit_initial must be > 0 and at most retransmit_max"));
            }
            if d.request_attempts == 0 {
                return Err(ConfigError::ZeroLimit("dhcp.request_attempts"));
            }
            if d.hostname.as_ref().is_some_and(|h| h.is_empty() || h.len() > 255) {
                return Err(ConfigError::BadDhcp("hostname must be 1 to 255 bytes"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parses_and_classifies() {
        let c: Ipv4Cidr = "10.0.0.2/24".parse().unwrap();
        assert_eq!(c.addr(), Ipv4Addr::new(10, 0, 0, 2));
        assert!(c.contains(Ipv4Addr::new(10, 0, 0, 200)));
        assert!(!c.contains(Ipv4Addr::new(10, 0, 1, 1)));
        assert_eq!(c.broadcast(), Some(Ipv4Addr::new(10, 0, 0, 255)));
        assert_eq!("10.0.0.2/32".parse::<Ipv4Cidr>().unwrap().broadcast(), None);
        assert!("0.0.0.0/0".parse::<Ipv4Cidr>().unwrap().contains(Ipv4Addr::new(1, 2, 3, 4)));
        for bad in ["10.0.0.2", "10.0.0.2/33", "10.0.0/24", "x/1", "10.0.0.2/-1", ""] {
            assert!(bad.parse::<Ipv4Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn default_config_is_valid_and_bad_fields_are_named() {
        assert_eq!(Config::default().validate(), Ok(()));
        let bad = Config { mtu: 100, ..Config::default() };
        assert_eq!(bad.validate(), Err(ConfigError::BadMtu(100)));
        assert_eq!(Config { mtu: 65_535, ..Config::default() }.validate(), Ok(()));
        assert_eq!(Config { mtu: 65_536, ..Config::default() }.validate(), Err(ConfigError::BadMtu(65_536)));
        let bad = Config { gateway: Some(Ipv4Addr::new(192, 168, 0, 1)), ..Config::default() };
        assert!(matches!(bad.validate(), Err(ConfigError::BadGateway(_))));
        let bad = Config { mac: EthernetAddress([0x01, 0, 0, 0, 0, 1]), ..Config::default() };
        assert!(matches!(bad.validate(), Err(ConfigError::BadMac(_))));
        let bad = Config { udp_recv_queue: 0, ..Config::default() };
        assert_eq!(bad.validate(), Err(ConfigError::ZeroLimit("udp_recv_queue")));
        assert!(bad.validate().unwrap_err().to_string().contains("udp_recv_queue"));
    }

    #[test]
    fn retransmission_limits_are_bounded() {
        let with = |f: fn(&mut TcpConfig)| {
            let mut c = Config::default();
            f(&mut c.tcp);
            c.validate()
        };
        assert_eq!(with(|t| t.max_retransmissions = TcpConfig::MAX_RETRIES), Ok(()));
        assert_eq!(with(|t| t.syn_retries = 0), Ok(()));
        for bad in [
            with(|t| t.max_retransmissions = 256),
            with(|t| t.syn_retries = u32::MAX),
            with(|t| t.synack_retries = 1_000),
        ] {
            let err = bad.unwrap_err();
            assert!(matches!(err, ConfigError::BadTcp(_)), "{err:?}");
            assert!(err.to_string().contains("at most 255"), "{err}");
        }
    }

    #[test]
    fn network_and_broadcast_addresses_are_not_host_addresses() {
        let with = |ip: &str| Config { ipv4: ip.parse().unwrap(), ..Config::default() }.validate();
        let err = with("10.77.0.255/24").unwrap_err();
        assert!(matches!(err, ConfigError::NotAHostAddress(_, "broadcast")), "{err:?}");
        assert_eq!(
            err.to_string(),
            "address 10.77.0.255 is the broadcast address of subnet 10.77.0.0/24, not a host address: choose an \
             address with host bits neither all zero nor all one"
        );
        let err = with("10.77.0.0/24").unwrap_err();
        assert!(matches!(err, ConfigError::NotAHostAddress(_, "network")), "{err:?}");
        assert!(err.to_string().contains("network address of subnet 10.77.0.0/24"), "{err}");
        assert!(matches!(with("10.77.1.255/23"), Err(ConfigError::NotAHostAddress(_, "broadcast"))));
        // RFC 3021: on /31 both addresses are hosts; /32 has a single host.
        for ok in ["10.77.0.255/16", "10.77.1.0/16", "10.77.0.0/31", "10.77.0.1/31", "10.77.0.0/32"] {
            assert_eq!(with(ok), Ok(()), "{ok}");
        }
    }
}
