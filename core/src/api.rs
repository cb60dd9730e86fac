//! What goes into a [`crate::Stack`] and what comes out: the whole sans-IO surface.

use core::fmt;
use core::net::{IpAddr, SocketAddr};
use core::time::Duration;

pub use crate::tcp::TcpState;

/// Names a socket inside one `Stack`. Allocated in increasing order, never reused, so runs are reproducible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SocketHandle(pub u32);

impl SocketHandle {
    /// Not a socket: the stack itself, for events about the whole host such as [`Event::Dhcp`]. Sockets are
    /// numbered from 1, so this handle never names one.
    pub const STACK: SocketHandle = SocketHandle(0);
}

impl fmt::Display for SocketHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One thing that happened to the stack.
#[derive(Debug)]
pub enum Input<'a> {
    /// An Ethernet II frame arrived (without FCS).
    Frame(&'a [u8]),
    /// Time passed; due timers fire.
    Timer,
    /// The application asks for something.
    Command(Command),
}

/// A request from the application. Each yields exactly one [`Output::Reply`], first in the output
/// ([`crate::Stack::command`] returns it instead).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Bind a UDP socket. Address `0.0.0.0` (`[::]`) accepts datagrams to any of our IPv4 (IPv6) addresses,
    /// see [`Command::SetIpv6Only`] for both; port 0 picks an
    /// ephemeral port. Replies [`Reply::Bound`].
    UdpBind { local: SocketAddr },
    /// Send one datagram. Replies [`Reply::Sent`]; the datagram may still wait for ARP resolution.
    UdpSendTo { sock: SocketHandle, remote: SocketAddr, data: Vec<u8> },
    /// Take the oldest queued datagram. Replies [`Reply::Datagram`], or `WouldBlock` when none is queued.
    UdpRecv { sock: SocketHandle },
    /// Close the socket, dropping queued datagrams. Replies [`Reply::Done`].
    UdpClose { sock: SocketHandle },
    /// Open a ping (ICMP echo) socket with the given identifier, or a fresh one. Replies [`Reply::Bound`] with
    /// the identifier as the port.
    PingOpen { ident: Option<u16> },
    /// Send one echo request of `payload_len` bytes. Replies [`Reply::Sent`]; each reply then comes as
    /// [`Event::EchoReply`] with its round-trip time.
    Ping { sock: SocketHandle, dst: IpAddr, seq_no: u16, payload_len: usize },
    /// Close a ping socket. Replies [`Reply::Done`].
    PingClose { sock: SocketHandle },
    /// Listen for TCP connections (passive open). Address `0.0.0.0`, `[::]` or one of ours; port 0 picks an
    /// ephemeral port. A listener takes one family; see [`Command::SetIpv6Only`] for both.
    /// At most `backlog` connections wait (handshaking or established) for [`Command::TcpAccept`]. Replies
    /// [`Reply::Bound`].
    TcpListen { local: SocketAddr, backlog: usize },
    /// Take one established connection from a listener. Replies [`Reply::Accepted`], or `WouldBlock` when none
    /// is ready (wait for [`Event::Acceptable`]).
    TcpAccept { listener: SocketHandle },
    /// Open a connection (active open). Replies [`Reply::Bound`] at once; [`Event::Connected`] follows, or
    /// [`Event::Reset`] / [`Event::TimedOut`] / [`Event::Unreachable`].
    TcpConnect { remote: SocketAddr, local_port: Option<u16> },
    /// Queue bytes for sending. Replies [`Reply::Sent`] with how many fit in the send buffer (possibly fewer than
    /// offered), or `WouldBlock` if none fit (wait for [`Event::Writable`]). Empty `data` asks whether there
    /// is room: `Sent { len: 0 }` if so, else `WouldBlock` and a `Writable` later, as for a refused write.
    TcpSend { sock: SocketHandle, data: Vec<u8> },
    /// [`Command::TcpSend`] without a copy and without giving the buffer away: the send queue keeps a reference
    /// to `data` (shared, reference-counted) until it is acknowledged. What did not fit can be offered again as
    /// `data.slice(len..)` at no cost. Replies as `TcpSend`. The same as [`crate::Stack::tcp_write`].
    TcpSendBytes { sock: SocketHandle, data: crate::Bytes },
    /// Read up to `max` received bytes. Replies [`Reply::Data`]; empty data means the peer closed its side and
    /// everything was read. `WouldBlock` when nothing is buffered yet (wait for [`Event::Readable`]).
    TcpRecv { sock: SocketHandle, max: usize },
    /// Half-close: send FIN after the queued data; receiving continues. Replies [`Reply::Done`].
    TcpShutdown { sock: SocketHandle },
    /// Close: shut down sending and release the handle once the connection is finished. Unread received data
    /// makes this an abort (RST), as on Linux. For a listener, stops listening and resets pending connections.
    /// Replies [`Reply::Done`]; [`Event::Closed`] follows when the connection is gone.
    TcpClose { sock: SocketHandle },
    /// Abort: send RST and forget the connection at once. Replies [`Reply::Done`].
    TcpAbort { sock: SocketHandle },
    /// Disable (true) or enable (false) Nagle's algorithm. Replies [`Reply::Done`].
    TcpSetNoDelay { sock: SocketHandle, nodelay: bool },
    /// Turn keep-alive probes on or off for one connection (`SO_KEEPALIVE`; the times are the stack's,
    /// `TcpConfig::keepalive_idle` and after). Replies [`Reply::Done`].
    TcpSetKeepAlive { sock: SocketHandle, keepalive: bool },
    /// Switch one connection's congestion control (as Linux's `TCP_CONGESTION` socket option); the new
    /// algorithm takes over the window reached so far (`CongestionControl::resume`). Replies [`Reply::Done`].
    TcpSetCongestion { sock: SocketHandle, algorithm: crate::tcp::CongestionAlgorithm },
    /// `IPV6_V6ONLY` for a TCP listener or UDP socket bound to `[::]`: with `false` it takes IPv4 traffic to its
    /// port as well (a dual-stack socket; accepted connections and received datagrams then name plain IPv4
    /// addresses, not IPv4-mapped IPv6 ones). Sockets on `[::]` start IPv6-only, as on the BSDs and Windows
    /// (Linux's default is the opposite, `net.ipv6.bindv6only = 0`): a program asks for IPv4 explicitly.
    /// `AddrInUse` if an IPv4 socket holds the port; `BadArgument` for a socket not bound to `[::]`. Replies
    /// [`Reply::Done`].
    SetIpv6Only { sock: SocketHandle, ipv6_only: bool },
}

/// The successful answer to a [`Command`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// A socket now exists with this handle and local address.
    Bound { sock: SocketHandle, local: SocketAddr },
    /// `len` payload bytes were accepted for transmission.
    Sent { len: usize },
    /// A received datagram.
    Datagram { from: SocketAddr, data: Vec<u8> },
    /// A connection taken from a listener's accept queue.
    Accepted { sock: SocketHandle, local: SocketAddr, remote: SocketAddr },
    /// Received TCP bytes; empty at end of stream.
    Data(Vec<u8>),
    /// The command completed.
    Done,
}

/// Why a [`Command`] failed. The stack's state is unchanged when a command fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CommandError {
    /// No open socket of the command's kind has this handle.
    NoSuchSocket(SocketHandle),
    /// The local port (or ping identifier) is taken.
    AddrInUse(u16),
    /// The local address is not one of ours.
    AddrNotAvailable(IpAddr),
    /// Every ephemeral port is taken.
    NoEphemeralPort,
    /// The destination is off-link and no gateway is configured.
    NoRoute(IpAddr),
    /// The destination cannot be used: unspecified, multicast, loopback, port 0, ...
    BadDestination(SocketAddr),
    /// Too long to send (`max` payload bytes fit): a TCP segment over the MTU (TCP never fragments), or a
    /// datagram over the largest one IP carries, fragmented or not.
    MessageTooLong { max: usize },
    /// Nothing to receive (or no room to send) yet; wait for [`Event::Readable`] / [`Event::Writable`].
    WouldBlock,
    /// The operation is not possible in the connection's current state (e.g. send after shutdown).
    InvalidState(TcpState),
    /// The connection was reset by the peer, timed out, or is otherwise gone.
    ConnectionAborted,
    /// An argument is out of range (named).
    BadArgument(&'static str),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::NoSuchSocket(h) => write!(f, "no such socket {h}"),
            CommandError::AddrInUse(p) => write!(f, "local port {p} is already in use"),
            CommandError::AddrNotAvailable(a) => write!(f, "address {a} is not ours"),
            CommandError::NoEphemeralPort => write!(f, "no ephemeral port is free"),
            CommandError::NoRoute(a) => write!(f, "no route to {a}: it is off-link and no gateway is set"),
            CommandError::BadDestination(a) => write!(f, "cannot send to {a}"),
            CommandError::MessageTooLong { max } => write!(f, "message too long: at most {max} bytes fit"),
            CommandError::WouldBlock => write!(f, "would block: nothing to receive or no room to send yet"),
            CommandError::InvalidState(st) => write!(f, "not possible in TCP state {st:?}"),
            CommandError::ConnectionAborted => write!(f, "the connection was reset or timed out"),
            CommandError::BadArgument(what) => write!(f, "bad argument: {what}"),
        }
    }
}

impl std::error::Error for CommandError {}

/// Why a destination could not be reached, as reported by [`Event::Unreachable`] (and, for TCP, by
/// [`Event::TimedOut`] when a soft error preceded the timeout).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UnreachableReason {
    /// ARP got no answer from the next hop.
    NoNeighbour,
    /// ICMP destination unreachable with this code (0 net, 1 host, 2 protocol, 3 port, 4 frag needed, ...).
    DstUnreachable { code: u8, next_hop_mtu: u16 },
    /// ICMP or ICMPv6 time exceeded with this code (0 TTL / hop limit expired in transit, 1 reassembly timed
    /// out).
    TimeExceeded { code: u8 },
    /// ICMPv6 destination unreachable with this code (RFC 4443 §3.1: 0 no route, 1 administratively
    /// prohibited, 2 beyond the source's scope, 3 address unreachable, 4 port unreachable, 5 source address
    /// failed policy, 6 reject route).
    Icmpv6DstUnreachable { code: u8 },
    /// ICMPv6 Packet Too Big: the path toward the destination carries at most `mtu` bytes (RFC 8201). TCP
    /// sends smaller segments; datagram sockets hear nothing (their next send is limited instead).
    PacketTooBig { mtu: u32 },
    /// ICMPv6 parameter problem (RFC 4443 §3.4): code 0 erroneous header field, 1 unrecognised next header,
    /// 2 unrecognised option; `pointer` is the offset of the byte at fault.
    ParameterProblem { code: u8, pointer: u32 },
}

impl UnreachableReason {
    /// RFC 1122 §4.2.3.9: is this error hard for TCP (it aborts a connection that is still opening)? Port and
    /// protocol unreachable are; so are "fragmentation needed" without a usable next-hop MTU and the codes Linux
    /// treats as fatal (unknown or isolated destinations, administratively prohibited). Net and host unreachable,
    /// source route failed, the type-of-service variants, time exceeded and a missing ARP answer are soft: the
    /// path may heal, so the connection keeps retransmitting and reports the error only if it times out.
    ///
    /// For ICMPv6 the split is Linux's (`icmpv6_err_convert`): administratively prohibited, port unreachable,
    /// failed policy, reject route and parameter problems are hard; no route, beyond scope and address
    /// unreachable are soft; Packet Too Big is not an error but path MTU news.
    pub fn is_hard_for_tcp(self) -> bool {
        match self {
            UnreachableReason::NoNeighbour
            | UnreachableReason::TimeExceeded { .. }
            | UnreachableReason::PacketTooBig { .. } => false,
            UnreachableReason::Icmpv6DstUnreachable { code } => matches!(code, 1 | 4..=6),
            UnreachableReason::ParameterProblem { .. } => true,
            UnreachableReason::DstUnreachable { code: 4, next_hop_mtu } => !usable_path_mtu(next_hop_mtu),
            UnreachableReason::DstUnreachable { code, .. } => matches!(code, 2 | 3 | 6..=10 | 13..=15),
        }
    }
}

/// The smallest next-hop MTU a "fragmentation needed" message may name and be believed (RFC 1191 allows 68; like
/// Linux's `min_pmtu` we refuse to shrink below what every IPv4 host must accept, so a forged message cannot make
/// a connection crawl in tiny segments).
pub(crate) const MIN_PATH_MTU: u16 = 576;

/// Does a "fragmentation needed" message carry a next-hop MTU we can use?
pub(crate) fn usable_path_mtu(next_hop_mtu: u16) -> bool {
    next_hop_mtu >= MIN_PATH_MTU
}

/// Something a socket's owner should know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Data can be read (emitted when a socket's receive queue becomes non-empty).
    Readable,
    /// `dst` (`remote` for UDP) cannot be reached; sent datagrams were lost. UDP and ping sockets hear every
    /// error at once. A TCP connection hears only a hard error ([`UnreachableReason::is_hard_for_tcp`]) while it
    /// is still opening, which aborts it and releases the handle; soft errors are remembered and reported by
    /// [`Event::TimedOut`] if the connection times out. `reporter` is who said so: the source of the ICMP or
    /// ICMPv6 error (a router on the way, as a traceroute shows each hop, or `dst` itself), or `None` when this
    /// stack found no way there (no neighbour answered, no route).
    Unreachable { dst: IpAddr, port: Option<u16>, reason: UnreachableReason, reporter: Option<IpAddr> },
    /// An echo reply matched an outstanding request of this ping socket.
    EchoReply { from: IpAddr, seq_no: u16, rtt: Duration, ttl: u8, len: usize },
    /// A TCP connection we opened is established.
    Connected,
    /// A listener has a connection ready for [`Command::TcpAccept`].
    Acceptable,
    /// Send buffer space is available again after a send was refused or partial.
    Writable,
    /// The peer sent FIN: after the buffered data is read, reads return end of stream.
    PeerClosed,
    /// The connection is fully closed and its handle released.
    Closed,
    /// The peer reset the connection (or refused it). The handle is released.
    Reset,
    /// Retransmissions ran out (or the connect attempt timed out). The handle is released. `soft_error` is the
    /// last soft error (ICMP net/host unreachable, time exceeded, no ARP answer) seen since the connection last
    /// made progress: the likely reason, as Linux reports `EHOSTUNREACH` instead of `ETIMEDOUT`.
    TimedOut { soft_error: Option<UnreachableReason> },
    /// News from the DHCP client ([`crate::Config::dhcp`]), always on [`SocketHandle::STACK`]: a lease bound,
    /// renewed or lost, a retransmission for lack of an answer. Boxed: a lease is large and rare, and every
    /// [`Output`] is as large as the largest event.
    Dhcp(Box<crate::dhcp::DhcpEvent>),
    /// One of our addresses changed (IPv6 duplicate address detection and autoconfiguration), always on
    /// [`SocketHandle::STACK`].
    Address { addr: IpAddr, change: AddressChange },
}

/// What happened to one of our addresses ([`Event::Address`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AddressChange {
    /// Duplicate address detection passed (RFC 4862 §5.4): the address is ours and in use.
    Assigned,
    /// Another node on the link holds the tentative address (RFC 4862 §5.4.5): it is not used.
    Duplicate,
    /// Another node claims an address of ours that passed detection (logged; we keep it, as Linux does).
    Conflict,
    /// Its preferred lifetime ended: kept for existing connections, not chosen for new ones (RFC 4862 §5.5.4).
    Deprecated,
    /// Its valid lifetime ended: gone.
    Removed,
}

impl fmt::Display for AddressChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressChange::Assigned => "assigned",
            AddressChange::Duplicate => "duplicate (not used)",
            AddressChange::Conflict => "claimed by another node",
            AddressChange::Deprecated => "deprecated",
            AddressChange::Removed => "removed",
        })
    }
}

/// An effect for the driver to carry out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Put this Ethernet frame on the wire.
    Transmit(Vec<u8>),
    /// The answer to the command in the same `handle` call.
    Reply(Result<Reply, CommandError>),
    /// Tell the application about a socket.
    Event(SocketHandle, Event),
    /// Why the stack did what the outputs before this one show (only with [`crate::Config::explain`]).
    Note(crate::explain::Note),
}
