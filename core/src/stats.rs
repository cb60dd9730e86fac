//! Counters. Every frame that is not used is counted under exactly one [`DropReason`].

use crate::wire;
use std::collections::BTreeMap;
use std::fmt;

/// The protocol layer at which a malformed frame was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    Ethernet,
    Arp,
    Ipv4,
    Icmp,
    Udp,
    Tcp,
    /// A DHCP message (to UDP port 68, with the DHCP client on).
    Dhcp,
    Ipv6,
    Icmpv6,
    /// A neighbour discovery message (ICMPv6 types 133 to 137) that fails RFC 4861's checks.
    Ndp,
}

/// Why an incoming frame (or a frame waiting to go out) was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropReason {
    /// The bytes do not parse at this layer.
    Malformed(Layer, wire::Error),
    /// Ethernet destination is neither us nor broadcast.
    NotOurMac,
    /// EtherType we do not speak (IPv6, LLDP, ...).
    UnsupportedEtherType,
    /// ARP that neither targets us nor updates a known neighbour.
    ArpNotForUs,
    /// ARP claiming our own IPv4 address from another MAC (address conflict).
    ArpAddressConflict,
    /// IPv4 destination is not one of our addresses (we are a host, not a router).
    NotOurAddress,
    /// IPv4 source is broadcast, multicast, loopback, in 0.0.0.0/8 (0.0.0.0 only while a DHCP client has no
    /// address), or our own address (RFC 1122 §3.2.1.3; an ARP sender alike).
    BadSourceAddress,
    /// IPv4 protocol we do not implement (answered with ICMP protocol unreachable).
    UnknownProtocol,
    /// A fragment overlapping data already held (other than a duplicate wholly within it); the whole datagram
    /// is dropped.
    FragmentOverlap,
    /// A fragment that would make the datagram exceed 65,535 bytes (its header included).
    FragmentTooLarge,
    /// Fragments of one datagram that mix Not-ECT with ECN-capable codepoints (RFC 3168 §5.3): the datagram
    /// is dropped, as Linux does.
    FragmentEcnMismatch,
    /// An incomplete datagram evicted to respect the reassembly memory bound.
    ReassemblyEvicted,
    /// An incomplete datagram whose reassembly timed out.
    ReassemblyTimeout,
    /// Echo request to a broadcast address (ignored, as Linux does by default).
    IcmpBroadcastEcho,
    /// Echo request whose reply would not fit our MTU (e.g. a reassembled `ping -s 1473`): we never fragment,
    /// so it goes unanswered.
    IcmpEchoReplyTooBig,
    /// Echo reply for no open ping socket / outstanding request.
    IcmpUnmatched,
    /// An ICMP message type we do not act on.
    IcmpUnhandled,
    /// UDP datagram for a port with no socket (answered with ICMP port unreachable).
    UdpNoSocket,
    /// UDP datagram dropped because the socket's receive queue was full.
    UdpQueueFull,
    /// TCP segment for a port with no socket (answered with RST unless it was one).
    TcpNoSocket,
    /// TCP segment outside the receive window (answered with an ACK unless it was a reset).
    TcpOutOfWindow,
    /// RFC 7323 PAWS: the segment's timestamp is older than the last one accepted (an old duplicate).
    TcpPaws,
    /// TCP segment whose ACK field is unacceptable (RFC 5961 §5 range check, or a bad handshake ACK).
    TcpBadAck,
    /// In-window RST that did not match RCV.NXT exactly: answered with a challenge ACK (RFC 5961 §3).
    TcpRstChallenged,
    /// SYN on a synchronized connection: answered with a challenge ACK (RFC 5961 §4).
    TcpSynChallenged,
    /// Segment without ACK on a synchronized connection.
    TcpNoAck,
    /// Data for a connection the application had closed: nobody can read it, so the connection is reset
    /// (RFC 1122 §4.2.2.13; Linux's `TCPAbortOnData`).
    TcpDataAfterClose,
    /// SYN to a listener whose accept queue (backlog) is full.
    TcpListenOverflow,
    /// SYN to a listener whose SYN queue is full, with SYN cookies off.
    TcpSynQueueFull,
    /// Flag combination no handshake accepts (e.g. SYN+FIN to a listener).
    TcpBadFlags,
    /// Outgoing frame dropped: its next hop never answered ARP.
    ArpUnresolved,
    /// Outgoing frame dropped: too many frames were already waiting for the same neighbour.
    ArpQueueFull,
    /// A well-formed DHCP message that is not an answer to the client's current transaction (another
    /// transaction id or client, a type its state does not expect, not from port 67).
    DhcpUnexpected,
    /// An IPv6 frame arrived but IPv6 is not configured (`Config::ipv6` is `None`).
    Ipv6Disabled,
    /// Next header 59: an IPv6 packet with nothing after its headers (RFC 8200 §4.7).
    Ipv6NoNextHeader,
    /// An unrecognised IPv6 option whose type says to drop the packet silently (RFC 8200 §4.2).
    Ipv6OptionDiscarded,
    /// An IPv6 header chain we cannot accept (answered with an ICMPv6 parameter problem where allowed).
    Ipv6ParameterProblem,
    /// A valid neighbour discovery message with nothing for us (another node's target, an advertisement for
    /// a neighbour we do not track, a router solicitation, a redirect).
    NdpIgnored,
    /// Outgoing packet dropped: neighbour discovery never resolved its next hop.
    NdpUnresolved,
    /// Outgoing packet dropped: too many packets were waiting for unresolved neighbours.
    NdpQueueFull,
    /// A neighbour discovery message in a packet with a Fragment header (RFC 6980 §5: silently ignored).
    NdpFragmented,
    /// An IPv4 datagram with a source route option: a host forwards nothing, and Linux drops them
    /// (`accept_source_route` is off for hosts).
    Ipv4SourceRoute,
    /// A frame from our own MAC address: one of ours that the link reflected (a looped bridge, a switch
    /// flooding multicast back). Our own DAD probe must not make our address look taken (RFC 4862 §5.4.3).
    LoopedBack,
    /// An ICMP message other than an echo request addressed to a broadcast or multicast address: no host sends
    /// an error to one (RFC 1122 §3.2.2), and Linux's `icmp_rcv` drops them, so one frame cannot reach every
    /// host's sockets.
    IcmpToBroadcast,
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DropReason::Malformed(layer, err) => write!(f, "malformed {layer:?}: {err}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// Counters of a [`crate::Stack`]. Cheap to clone; read with [`crate::Stack::stats`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub frames_in: u64,
    pub frames_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub arp_requests_sent: u64,
    pub arp_replies_sent: u64,
    pub ipv4_delivered: u64,
    pub fragments_received: u64,
    /// Datagrams (UDP, ICMP echo replies) too large for the link, sent as fragments (both families).
    pub datagrams_fragmented: u64,
    pub datagrams_reassembled: u64,
    pub icmp_echo_replies_sent: u64,
    pub icmp_errors_sent: u64,
    /// ICMP errors we would have sent but the rate limit suppressed.
    pub icmp_errors_rate_limited: u64,
    pub icmp_errors_received: u64,
    pub udp_datagrams_received: u64,
    pub udp_datagrams_sent: u64,
    pub tcp_resets_sent: u64,
    /// RFC 5961 challenge ACKs the rate limit suppressed.
    pub tcp_challenge_acks_suppressed: u64,
    /// Connections closed at once instead of entering TIME-WAIT, because `TcpConfig::max_time_wait` were
    /// already in it (Linux's `TCPTimeWaitOverflow`).
    pub tcp_time_wait_overflows: u64,
    /// SYNs that ended a TIME-WAIT connection to open a new one on its four-tuple (RFC 6191).
    pub tcp_time_wait_reused: u64,
    /// SYN-ACKs answered statelessly with a SYN cookie, and cookies that came back valid.
    pub tcp_syn_cookies_sent: u64,
    pub tcp_syn_cookies_valid: u64,
    /// TCP segments and UDP datagrams whose checksum was not verified because the device vouched for it
    /// ([`crate::RxFrame`]).
    pub transport_checksums_offloaded: u64,
    /// DHCP messages the client sent, and answers it used.
    pub dhcp_messages_sent: u64,
    pub dhcp_messages_received: u64,
    pub ipv6_delivered: u64,
    /// Neighbour discovery messages sent, and received ones that passed RFC 4861's checks.
    pub ndp_messages_sent: u64,
    pub ndp_messages_received: u64,
    drops: BTreeMap<DropReason, u64>,
}

impl Stats {
    /// How many frames were dropped for `reason`.
    pub fn drops(&self, reason: DropReason) -> u64 {
        self.drops.get(&reason).copied().unwrap_or(0)
    }
    /// All drops, in a fixed order.
    pub fn drop_counts(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        self.drops.iter().map(|(r, n)| (*r, *n))
    }
    /// Sum over every drop reason.
    pub fn total_drops(&self) -> u64 {
        self.drops.values().sum()
    }
    pub(crate) fn drop(&mut self, reason: DropReason) {
        *self.drops.entry(reason).or_insert(0) += 1;
    }
}

impl fmt::Display for Stats {
    /// A multi-line human summary, one counter per line; zero counters are omitted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counters = [
            ("frames in", self.frames_in),
            ("frames out", self.frames_out),
            ("bytes in", self.bytes_in),
            ("bytes out", self.bytes_out),
            ("ARP requests sent", self.arp_requests_sent),
            ("ARP replies sent", self.arp_replies_sent),
            ("IPv4 datagrams delivered", self.ipv4_delivered),
            ("fragments received", self.fragments_received),
            ("datagrams sent fragmented", self.datagrams_fragmented),
            ("datagrams reassembled", self.datagrams_reassembled),
            ("ICMP echo replies sent", self.icmp_echo_replies_sent),
            ("ICMP errors sent", self.icmp_errors_sent),
            ("ICMP errors rate-limited", self.icmp_errors_rate_limited),
            ("ICMP errors received", self.icmp_errors_received),
            ("UDP datagrams received", self.udp_datagrams_received),
            ("UDP datagrams sent", self.udp_datagrams_sent),
            ("TCP resets sent", self.tcp_resets_sent),
            ("TCP challenge ACKs suppressed", self.tcp_challenge_acks_suppressed),
            ("TCP TIME-WAIT overflows", self.tcp_time_wait_overflows),
            ("TCP TIME-WAIT reused by a new SYN", self.tcp_time_wait_reused),
            ("TCP SYN cookies sent", self.tcp_syn_cookies_sent),
            ("TCP SYN cookies valid", self.tcp_syn_cookies_valid),
            ("TCP/UDP checksums left to the device", self.transport_checksums_offloaded),
            ("DHCP messages sent", self.dhcp_messages_sent),
            ("DHCP messages received", self.dhcp_messages_received),
            ("IPv6 packets delivered", self.ipv6_delivered),
            ("NDP messages sent", self.ndp_messages_sent),
            ("NDP messages received", self.ndp_messages_received),
        ];
        for (name, n) in counters.iter().filter(|(_, n)| *n > 0) {
            writeln!(f, "{name}: {n}")?;
        }
        for (reason, n) in self.drop_counts() {
            writeln!(f, "dropped ({reason}): {n}")?;
        }
        Ok(())
    }
}
