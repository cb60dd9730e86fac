//! Applications: the built-in scripted kinds a scenario names, and the [`App`] trait your own implement.
//!
//! Each host runs a list of apps. An app drives its host's stack through a [`Cx`] ([`Cx::command`] takes any
//! [`synack::Command`]), and the simulator calls it back: [`App::start`] at its start time, [`App::on_event`]
//! with each event of a socket it opened, [`App::on_timer`] at timers it set. At the end, [`App::report`] says
//! what it achieved. See the crate documentation for a worked example and what determinism asks of an app.

mod attacker;
mod data;
mod dhcp_server;
mod digest;
mod ping;
mod router_advert;
mod tcp_client;
mod tcp_server;
mod traceroute;
mod udp;

pub use attacker::{AttackPlan, BlindAttacker, Victim};
pub use data::{data_chunk, fill_data};
pub use dhcp_server::DhcpServer;
pub use digest::{Digest, HashKind, StreamDigest};
pub use ping::Ping;
pub use router_advert::RouterAdvert;
pub use tcp_client::{TcpBulk, TcpRequestResponse};
pub use tcp_server::{SinkOptions, TcpEcho, TcpSink};
pub use traceroute::{ProbePath, ProbePath6, Traceroute};
pub use udp::{UdpBulk, UdpEcho, UdpPingPong, UdpSink};

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;
use synack::{Bytes, Command, CommandError, Event, Instant, Output, Reply, SocketHandle, Stack, UnreachableReason};

/// What an app may do while the simulator calls it: run commands on its host's stack, read the virtual clock,
/// set timers, draw on its own seed. A `Cx` lives for one call; keep nothing of it.
pub struct Cx<'a> {
    pub(crate) now: Instant,
    /// The run's seed and the app's place (host, index on the host), from which [`Cx::seed`] derives.
    pub(crate) run_seed: u64,
    pub(crate) host: usize,
    pub(crate) stack: &'a mut Stack,
    pub(crate) out: &'a mut Vec<Output>,
    pub(crate) owners: &'a mut BTreeMap<SocketHandle, usize>,
    pub(crate) app: usize,
    pub(crate) timers: &'a mut Vec<(Instant, usize, u64)>,
}

impl fmt::Debug for Cx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cx").field("now", &self.now).field("app", &self.app).finish()
    }
}

impl Cx<'_> {
    /// The virtual time now: the only clock an app may read.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// A seed of this app's own in this run, for any randomness it wants (seed a `ChaCha8Rng` with it, as
    /// [`crate::rng::stream`] does). It depends only on the run's seed and the app's host and position on the
    /// host, so it is the same on every call and in every rerun with the same seed, and differs between apps.
    pub fn seed(&self) -> u64 {
        crate::rng::derive_seed(self.run_seed, crate::rng::USER_APP_BASE + ((self.host as u64) << 16) + self.app as u64)
    }

    /// The wildcard address to bind `port` on: `[::]` on a host with IPv6 (see [`Cx::take_both_families`]),
    /// else `0.0.0.0`.
    pub fn wildcard(&self, port: u16) -> std::net::SocketAddr {
        if self.stack.config().ipv6.is_some() {
            std::net::SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, port))
        } else {
            std::net::SocketAddr::from(([0, 0, 0, 0], port))
        }
    }

    /// Lets a socket bound to [`Cx::wildcard`] on a host with IPv6 take IPv4 too (a dual-stack socket).
    pub fn take_both_families(&mut self, sock: SocketHandle) {
        if self.stack.config().ipv6.is_some() {
            let _ = self.command(Command::SetIpv6Only { sock, ipv6_only: false });
        }
    }

    /// Runs one command now. Sockets it creates belong to this app (their events come to it). Frames and
    /// events it causes are handled by the simulator after the app returns.
    pub fn command(&mut self, cmd: Command) -> Result<Reply, CommandError> {
        let reply = self.stack.command(cmd, self.now, self.out);
        if let Ok(Reply::Bound { sock, .. } | Reply::Accepted { sock, .. }) = &reply {
            self.owners.insert(*sock, self.app);
        }
        reply
    }

    /// Reads up to `max` received bytes of a TCP connection without copying them out: the stack lends them to
    /// `f` where they lie ([`Stack::tcp_read`]). `Ok(0)` at end of stream; otherwise as [`Command::TcpRecv`],
    /// which copies the same bytes into a new `Vec`.
    pub fn tcp_read(&mut self, sock: SocketHandle, max: usize, f: impl FnMut(&[u8])) -> Result<usize, CommandError> {
        self.stack.tcp_read(sock, max, self.now, self.out, f)
    }

    /// Sends without copying: the stack keeps `data` (a shared reference) until it is acknowledged
    /// ([`Stack::tcp_write`]). Returns how much it took; otherwise as [`Command::TcpSend`].
    pub fn tcp_write(&mut self, sock: SocketHandle, data: Bytes) -> Result<usize, CommandError> {
        self.stack.tcp_write(sock, data, self.now, self.out)
    }

    /// A snapshot of a TCP connection (retransmissions, RTT, cwnd), while the stack still knows it.
    pub fn tcp_info(&self, sock: SocketHandle) -> Option<synack::tcp::TcpInfo> {
        self.stack.tcp_info(sock)
    }

    /// Puts a raw Ethernet frame on the host's interface, as if the stack had sent it (an attacker forging
    /// segments). It goes down the links like any frame of the host.
    pub fn transmit(&mut self, frame: Vec<u8>) {
        self.out.push(Output::Transmit(frame));
    }

    /// Calls [`App::on_timer`] with `token` at `at`.
    pub fn set_timer(&mut self, at: Instant, token: u64) {
        self.timers.push((at, self.app, token));
    }
}

/// One TCP connection as an app saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnReport {
    /// The connection's [`SocketHandle`] number on its host.
    pub sock: u32,
    /// Payload bytes the app handed to the stack, and read from it.
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// When the app opened or accepted it, and when it ended (closed, reset, timed out).
    pub started: Instant,
    pub finished: Option<Instant>,
    /// Digest of the bytes sent (clients) or received (sinks): SHA-256 unless built otherwise
    /// ([`crate::build::Digests`]).
    pub digest: Option<Digest>,
    /// Retransmitted segments and smoothed RTT, from the last [`synack::tcp::TcpInfo`] snapshot.
    pub retransmits: Option<u64>,
    pub srtt: Option<Duration>,
    /// All of the connection's counters at the last snapshot.
    pub counters: Option<synack::tcp::TcpCounters>,
    /// The smoothed RTT at every snapshot (each time the app heard from the connection), for percentiles.
    pub srtt_samples: Vec<Duration>,
    /// The connection agreed on ECN (RFC 3168).
    pub ecn: bool,
    /// "ok", or what went wrong ("reset", "timed out", "connect: ...").
    pub outcome: String,
}

impl ConnReport {
    /// Payload bytes that reached the other end: what the peer acknowledged of ours (bytes handed to the stack
    /// may still sit in its send buffer when the run ends), or what we received, whichever is more. Goodput
    /// counts these.
    pub fn delivered(&self) -> u64 {
        let acked = self.counters.as_ref().map_or(self.bytes_sent, |k| k.bytes_acked.min(self.bytes_sent));
        acked.max(self.bytes_received)
    }

    /// Copies the counters of interest from the stack's view of the connection, if it still has one; returns
    /// how many more bytes its send buffer takes, then.
    pub fn snapshot(&mut self, cx: &Cx<'_>, sock: SocketHandle) -> Option<usize> {
        let info = cx.tcp_info(sock)?;
        self.retransmits = Some(info.counters.retransmitted_segments);
        self.counters = Some(info.counters);
        self.ecn = info.ecn;
        if info.srtt.is_some() {
            self.srtt = info.srtt;
        }
        self.srtt_samples.extend(info.srtt);
        Some(info.send_buffer.saturating_sub(info.send_queued))
    }
}

/// What an app achieved, for the summary and the expectations. An app of your own fills in what applies
/// (start from [`AppReport::new`]); [`crate::Sim::app_reports`] sets `host`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AppReport {
    /// The app's name, unique in a run (expectations name apps by it).
    pub name: String,
    /// The kind of app, a word (`tcp_bulk`, or one of your own).
    pub kind: &'static str,
    /// The host the app runs on.
    pub host: String,
    /// The app did all it set out to do (servers: always).
    pub complete: bool,
    pub done_at: Option<Instant>,
    /// Replies, datagrams, responses or bytes, depending on the kind (see `count_unit`).
    pub count: u64,
    pub count_unit: &'static str,
    pub bytes: u64,
    /// One entry per TCP connection the app made or accepted.
    pub conns: Vec<ConnReport>,
    /// Round-trip times the app measured itself (ping replies, request/response times).
    pub rtts: Vec<Duration>,
    /// What went wrong, a sentence each; an app that failed says why here.
    pub errors: Vec<String>,
    /// What the app saw, a line each, for the summary (a traceroute's answers).
    pub lines: Vec<String>,
    /// The app group (`copies` in the scenario) this app belongs to, if any.
    pub group: Option<String>,
}

impl AppReport {
    /// A report with nothing achieved yet; `count_unit` names what [`AppReport::count`] counts (`"responses"`).
    pub fn new(name: &str, kind: &'static str, count_unit: &'static str) -> AppReport {
        AppReport { name: name.to_string(), kind, count_unit, ..AppReport::default() }
    }
    /// Where the app stands at the end of a run, in the summary's words: `done at Ts` (did all it set out to
    /// do, by T), `running (server)` (a server, ready to serve: it has no end of its own), `incomplete` (did not
    /// do all of it), `incomplete, stopped at Ts` (gave up or ended at T without doing all of it).
    pub fn status(&self) -> String {
        match (self.complete, self.done_at) {
            (true, Some(t)) => format!("done at {t}s"),
            (true, None) => "running (server)".into(),
            (false, None) => "incomplete".into(),
            (false, Some(t)) => format!("incomplete, stopped at {t}s"),
        }
    }
    /// The digests of the app's connections, sorted (so parallel connections compare as a set).
    pub fn hashes(&self) -> Vec<Digest> {
        let mut h: Vec<Digest> = self.conns.iter().filter_map(|c| c.digest).collect();
        h.sort_unstable();
        h
    }
}

/// An application on a simulated host: the built-in kinds and your own.
///
/// The simulator owns the app and calls it, one call at a time, in virtual time: [`App::start`] once at its
/// start time, then [`App::on_event`] for each event of a socket the app created (through [`Cx::command`]:
/// `UdpBind`, `TcpListen`, `TcpConnect`, `PingOpen`, or a connection `TcpAccept` took), and [`App::on_timer`]
/// for each timer it set with [`Cx::set_timer`]. Commands run at once; the frames they cause leave after the
/// call returns. A call must return promptly (it is the whole host's turn) and never block.
///
/// Determinism: a run must be a function of its scenario and seed, so an app reads time only from
/// [`Cx::now`], draws randomness only from [`Cx::seed`] (or a seed given to it when built), starts no thread,
/// does no I/O that feeds back into its behaviour, and never lets the iteration order of a `HashMap` or
/// `HashSet` decide anything it does (use `BTreeMap`, `Vec`).
pub trait App: fmt::Debug {
    /// Called once, at the app's start time: open sockets, send the first bytes, set timers.
    fn start(&mut self, cx: &mut Cx<'_>);
    /// `event` happened to `sock`, one of the app's sockets: data to read (`Readable`), room to write
    /// (`Writable`), a connection established, accepted, closed, reset, timed out, a datagram, an echo reply.
    fn on_event(&mut self, cx: &mut Cx<'_>, sock: SocketHandle, event: &Event);
    /// The timer set with [`Cx::set_timer`] with this `token` is due.
    fn on_timer(&mut self, _cx: &mut Cx<'_>, _token: u64) {}
    /// Nothing more will happen: done, failed, or a server (which never finishes on its own). A run that stops
    /// when done ([`crate::Sim::stop_when_done`]) ends once every app of every host says so.
    fn is_finished(&self) -> bool;
    /// What the app achieved so far: read at the end of a run (summary, expectations, your assertions).
    fn report(&self) -> AppReport;
}

/// How a connection ended, for reports and `outcome` expectations: `closed`, `reset`, `timedout`,
/// `unreachable`, or the event's name for anything else.
pub fn outcome_name(event: &Event) -> String {
    match event {
        Event::Unreachable { .. } => "unreachable".into(),
        Event::TimedOut { .. } => "timedout".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// An [`Event::Unreachable`] in words: `unreachable 10.0.0.2:9: ICMP port unreachable`, with who said so when
/// that is not the destination itself (`... from 10.0.1.1`).
pub fn describe_unreachable(event: &Event) -> String {
    let Event::Unreachable { dst, port, reason, reporter } = event else { return format!("{event:?}") };
    let to = match port {
        Some(p) => format!("{dst}:{p}"),
        None => dst.to_string(),
    };
    match reporter {
        Some(from) if from != dst => format!("unreachable {to}: {} from {from}", describe_reason(*reason)),
        _ => format!("unreachable {to}: {}", describe_reason(*reason)),
    }
}

/// Why a destination could not be reached, in words: `ICMP host unreachable`, `no ARP reply`.
pub fn describe_reason(reason: UnreachableReason) -> String {
    match reason {
        UnreachableReason::NoNeighbour => "no ARP reply".to_string(),
        UnreachableReason::DstUnreachable { code, next_hop_mtu } => match code {
            0 => "ICMP net unreachable".into(),
            1 => "ICMP host unreachable".into(),
            2 => "ICMP protocol unreachable".into(),
            3 => "ICMP port unreachable".into(),
            4 => format!("ICMP fragmentation needed, next-hop MTU {next_hop_mtu}"),
            c => format!("ICMP destination unreachable code {c}"),
        },
        UnreachableReason::TimeExceeded { code: 0 } => "ICMP TTL exceeded in transit".into(),
        UnreachableReason::TimeExceeded { code } => format!("ICMP time exceeded code {code}"),
        UnreachableReason::Icmpv6DstUnreachable { code } => match code {
            0 => "ICMPv6 no route to destination".into(),
            1 => "ICMPv6 administratively prohibited".into(),
            3 => "ICMPv6 address unreachable".into(),
            4 => "ICMPv6 port unreachable".into(),
            c => format!("ICMPv6 destination unreachable code {c}"),
        },
        UnreachableReason::PacketTooBig { mtu } => format!("ICMPv6 packet too big, MTU {mtu}"),
        UnreachableReason::ParameterProblem { code, pointer } => {
            format!("ICMPv6 parameter problem code {code} at byte {pointer}")
        }
    }
}

/// What a TCP connection to `remote` that ended with `event` should report as its error, if anything: a hard
/// [`Event::Unreachable`] (`unreachable 10.0.0.2:9: ICMP port unreachable`), or [`Event::TimedOut`] with the
/// soft error that likely caused it (`10.0.0.2:9: timed out (last error: no ARP reply for 10.0.0.2)`).
pub fn describe_tcp_failure(event: &Event, remote: std::net::SocketAddr) -> Option<String> {
    match event {
        Event::Unreachable { .. } => Some(describe_unreachable(event)),
        Event::TimedOut { soft_error: None } => Some(format!("{remote}: timed out")),
        Event::TimedOut { soft_error: Some(UnreachableReason::NoNeighbour) } => {
            Some(format!("{remote}: timed out (last error: no ARP reply for {})", remote.ip()))
        }
        Event::TimedOut { soft_error: Some(reason) } => {
            Some(format!("{remote}: timed out (last error: {})", describe_reason(*reason)))
        }
        _ => None,
    }
}

/// Hex of a digest.
pub fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_failures_say_why() {
        let remote = "10.0.0.2:9".parse().unwrap();
        let timed_out = |soft_error| describe_tcp_failure(&Event::TimedOut { soft_error }, remote);
        assert_eq!(timed_out(None).as_deref(), Some("10.0.0.2:9: timed out"));
        assert_eq!(
            timed_out(Some(UnreachableReason::NoNeighbour)).as_deref(),
            Some("10.0.0.2:9: timed out (last error: no ARP reply for 10.0.0.2)")
        );
        assert_eq!(
            timed_out(Some(UnreachableReason::DstUnreachable { code: 1, next_hop_mtu: 0 })).as_deref(),
            Some("10.0.0.2:9: timed out (last error: ICMP host unreachable)")
        );
        let refused = Event::Unreachable {
            dst: remote.ip(),
            port: Some(9),
            reason: UnreachableReason::DstUnreachable { code: 3, next_hop_mtu: 0 },
            reporter: Some(remote.ip()),
        };
        assert_eq!(
            describe_tcp_failure(&refused, remote).as_deref(),
            Some("unreachable 10.0.0.2:9: ICMP port unreachable")
        );
        let filtered = Event::Unreachable {
            dst: remote.ip(),
            port: Some(9),
            reason: UnreachableReason::DstUnreachable { code: 13, next_hop_mtu: 0 },
            reporter: Some([10, 0, 1, 1].into()),
        };
        assert_eq!(
            describe_unreachable(&filtered),
            "unreachable 10.0.0.2:9: ICMP destination unreachable code 13 from 10.0.1.1"
        );
        assert_eq!(describe_tcp_failure(&Event::Reset, remote), None);
        assert_eq!(outcome_name(&Event::TimedOut { soft_error: None }), "timedout");
    }
}
