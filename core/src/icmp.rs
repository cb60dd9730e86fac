//! ICMPv4 (RFC 792, RFC 1122 §3.2.2): echo replies, rate-limited error generation, errors matched back to the
//! sockets they concern, and ping sockets that measure round-trip times.

use crate::api::{CommandError, Event, Output, Reply, SocketHandle, UnreachableReason};
use crate::ipv4::Received;
use crate::ports::PortAllocator;
use crate::stack::Stack;
use crate::stats::{DropReason, Layer};
use crate::tcp::ErrorReport;
use crate::time::Instant;
use crate::wire::{DstUnreachable, Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Packet, QuotedDatagram, TimeExceeded};
use core::net::{IpAddr, SocketAddr};
use std::collections::{BTreeMap, VecDeque};

/// An ICMP error we may generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IcmpError {
    /// Destination unreachable with its code and (for "fragmentation needed") the next-hop MTU.
    DstUnreachable(DstUnreachable, u16),
    TimeExceeded(TimeExceeded),
    /// Parameter problem (IPv4 only): the offset of the octet at fault in the datagram's header.
    ParamProblem(u8),
}

/// RFC 1812 §4.3.2.3: an ICMP error carries as much of the original datagram as fits in 576 bytes.
const MAX_ERROR_DATAGRAM: usize = 576;

/// ICMP message types that are queries, not errors (errors are never answered with errors).
fn is_icmp_query(msg_type: u8) -> bool {
    matches!(msg_type, 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18)
}

#[derive(Debug)]
struct PingSocket {
    ident: u16,
    /// Requests awaiting a reply: (sequence number, destination, time sent), oldest first.
    outstanding: VecDeque<(u16, IpAddr, Instant)>,
}

/// Open ping sockets, by handle and by ICMP identifier.
#[derive(Debug)]
pub(crate) struct PingSockets {
    by_handle: BTreeMap<SocketHandle, PingSocket>,
    pub(crate) by_ident: BTreeMap<u16, SocketHandle>,
    idents: PortAllocator,
}

impl PingSockets {
    pub(crate) fn new(idents: PortAllocator) -> PingSockets {
        PingSockets { by_handle: BTreeMap::new(), by_ident: BTreeMap::new(), idents }
    }

    /// Remembers an echo request sent, forgetting the oldest beyond `limit`.
    pub(crate) fn remember(&mut self, sock: SocketHandle, seq_no: u16, dst: IpAddr, now: Instant, limit: usize) {
        if let Some(s) = self.by_handle.get_mut(&sock) {
            if s.outstanding.len() >= limit {
                s.outstanding.pop_front();
            }
            s.outstanding.push_back((seq_no, dst, now));
        }
    }

    pub(crate) fn close(&mut self, sock: SocketHandle) -> Result<Reply, CommandError> {
        let s = self.by_handle.remove(&sock).ok_or(CommandError::NoSuchSocket(sock))?;
        self.by_ident.remove(&s.ident);
        Ok(Reply::Done)
    }
}

impl Stack {
    /// An ICMP message arrived.
    pub(crate) fn on_icmp(&mut self, rx: &Received<'_>, now: Instant, out: &mut Vec<Output>) {
        let parsed = Icmpv4Packet::new_checked(rx.payload).and_then(|p| Icmpv4Repr::parse(&p));
        let repr = match parsed {
            Ok(r) => r,
            Err(crate::wire::Error::Unsupported) => return self.drop_frame(DropReason::IcmpUnhandled),
            Err(e) => return self.drop_frame(DropReason::Malformed(Layer::Icmp, e)),
        };
        let group_dst = match rx.dst {
            IpAddr::V4(d) => d.is_broadcast() || d.is_multicast() || Some(d) == self.config.ipv4.broadcast(),
            IpAddr::V6(_) => false,
        };
        if group_dst && !matches!(repr, Icmpv4Repr::EchoRequest { .. }) {
            return self.drop_frame(DropReason::IcmpToBroadcast);
        }
        match repr {
            Icmpv4Repr::EchoRequest { ident, seq_no, data } => {
                // Linux ignores broadcast echo requests by default (icmp_echo_ignore_broadcasts = 1).
                if rx.broadcast {
                    return self.drop_frame(DropReason::IcmpBroadcastEcho);
                }
                let reply = Icmpv4Repr::EchoReply { ident, seq_no, data };
                // The reply carries the request's code, as Linux's (0 but for odd probes).
                let code = Icmpv4Packet::new_unchecked(rx.payload).msg_code();
                // Record Route and Timestamp come back updated (RFC 1122 §3.2.2.6, `ping -R`, `ping -T`); the
                // stamp is the stack's clock in ms with the high bit set (RFC 791: not time since midnight UT).
                let request = Ipv4Packet::new_unchecked(rx.header);
                let stamp = (now.as_nanos() / 1_000_000 % 86_400_000) as u32 | 0x8000_0000;
                let options =
                    crate::wire::ipv4_echo_options::echo_options(request.options(), self.config.ipv4.addr(), stamp);
                let (dst, len) = (rx.src_v4(), reply.buffer_len());
                let sent = self.send_ipv4_with_options(dst, IpProtocol::Icmp, &options, len, now, out, |b| {
                    let mut packet = Icmpv4Packet::new_unchecked(b);
                    reply.emit(&mut packet);
                    if code != 0 {
                        packet.set_msg_code(code);
                        packet.fill_checksum();
                    }
                });
                match sent {
                    Ok(()) => self.stats.icmp_echo_replies_sent += 1,
                    // A reassembled request larger than our MTU: we never fragment, so no reply can be sent.
                    Err(CommandError::MessageTooLong { .. }) => self.drop_frame(DropReason::IcmpEchoReplyTooBig),
                    Err(_) => self.drop_frame(DropReason::IcmpUnhandled),
                }
            }
            Icmpv4Repr::EchoReply { ident, seq_no, data } => {
                self.on_echo_reply(rx, ident, seq_no, data.len(), now, out)
            }
            Icmpv4Repr::DstUnreachable { reason, next_hop_mtu, original } => {
                let reason = UnreachableReason::DstUnreachable { code: reason.into(), next_hop_mtu };
                self.on_icmp_error(reason, rx.src, original, now, out)
            }
            Icmpv4Repr::TimeExceeded { reason, original } => {
                self.on_icmp_error(UnreachableReason::TimeExceeded { code: reason.into() }, rx.src, original, now, out)
            }
            // What a parameter problem about our own datagram could tell a socket, no socket can act on (we send
            // no IP options): counted as before this stack parsed them.
            Icmpv4Repr::ParamProblem { .. } => self.drop_frame(DropReason::IcmpUnhandled),
        }
    }

    /// A destination-unreachable or time-exceeded message from `reporter`: tell the socket whose datagram it
    /// quotes.
    fn on_icmp_error(
        &mut self,
        reason: UnreachableReason,
        reporter: IpAddr,
        original: &[u8],
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        self.stats.icmp_errors_received += 1;
        let quoted = QuotedDatagram::parse(original).ok();
        let Some(q) = quoted.filter(|q| q.src_addr() == self.config.ipv4.addr()) else {
            return self.drop_frame(DropReason::IcmpUnhandled);
        };
        // RFC 1191 §3: the host MUST lower its path MTU estimate, for every datagram to that destination (UDP
        // and ICMP datagrams larger than it are then fragmented, as Linux's `__ip_rt_update_pmtu` makes them),
        // once the TCP connection it quotes heard first (it resends what it sent too large; every other
        // connection to there then follows the estimate, `Stack::sync_mss_to_path`).
        let path_mtu = match reason {
            UnreachableReason::DstUnreachable { code: 4, next_hop_mtu }
                if crate::api::usable_path_mtu(next_hop_mtu) =>
            {
                Some(usize::from(next_hop_mtu))
            }
            _ => None,
        };
        let learn = |stack: &mut Stack| {
            if let Some(mtu) = path_mtu {
                stack.ipv4_path_mtu.lower(q.dst_addr(), mtu, now, stack.config.mtu);
            }
        };
        let target = match q.protocol() {
            IpProtocol::Udp => q.src_port().and_then(|src_port| {
                let sock = self.udp.by_port(q.src_addr().into(), src_port)?;
                Some((sock, q.dst_port()))
            }),
            IpProtocol::Tcp => {
                if self.on_tcp_icmp_error(&q, ErrorReport { reason, reporter }, now, out) {
                    return learn(self);
                }
                None
            }
            IpProtocol::Icmp => {
                q.echo_request_ident().and_then(|ident| self.ping.by_ident.get(&ident).map(|s| (*s, None)))
            }
            _ => None,
        };
        learn(self);
        match target {
            Some((sock, port)) => {
                let event = Event::Unreachable { dst: q.dst_addr().into(), port, reason, reporter: Some(reporter) };
                out.push(Output::Event(sock, event))
            }
            None => self.drop_frame(DropReason::IcmpUnhandled),
        }
    }

    /// Whether an ICMP or ICMPv6 error to `to` may go now: within the stack's budget and `to`'s own (Linux's
    /// `icmp_global_allow` and `inet_peer_xrlim_allow`); `exempt` errors (fragmentation needed) only spend the
    /// first. Counts the ones held back.
    pub(crate) fn icmp_error_allowed(&mut self, to: IpAddr, exempt: bool, now: Instant) -> bool {
        let allowed = self.icmp_errors.try_take(now) && (exempt || self.icmp_errors_per_peer.try_take(to, now));
        if !allowed {
            self.stats.icmp_errors_rate_limited += 1;
        }
        allowed
    }

    /// Sends an ICMP error about `rx` unless RFC 1122 §3.2.2 forbids it or the rate limit says no.
    pub(crate) fn send_icmp_error(&mut self, rx: &Received<'_>, kind: IcmpError, now: Instant, out: &mut Vec<Output>) {
        if rx.src.is_ipv6() {
            use crate::wire::icmpv6::{Icmpv6DstUnreachable as V6, Icmpv6TimeExceeded};
            let error = match kind {
                IcmpError::DstUnreachable(DstUnreachable::PortUnreachable, _) => {
                    crate::ipv6::Icmpv6Error::DstUnreachable(V6::PortUnreachable)
                }
                IcmpError::DstUnreachable(..) => crate::ipv6::Icmpv6Error::DstUnreachable(V6::AddrUnreachable),
                IcmpError::TimeExceeded(_) => {
                    crate::ipv6::Icmpv6Error::TimeExceeded(Icmpv6TimeExceeded::FragReassembly)
                }
                // IPv6 reports its header problems itself, with the pointer RFC 4443 defines.
                IcmpError::ParamProblem(_) => return,
            };
            return self.send_icmpv6_error(rx, error, false, now, out);
        }
        if rx.broadcast {
            return;
        }
        if rx.protocol == IpProtocol::Icmp && !rx.payload.first().is_some_and(|t| is_icmp_query(*t)) {
            return;
        }
        let exempt = matches!(kind, IcmpError::DstUnreachable(DstUnreachable::FragRequired, _));
        if !self.icmp_error_allowed(rx.src, exempt, now) {
            return;
        }
        let room = MAX_ERROR_DATAGRAM - crate::wire::ipv4::HEADER_LEN - crate::wire::icmpv4::HEADER_LEN;
        let quote = rx.payload.len().min(room.saturating_sub(rx.header.len()));
        let mut original = Vec::with_capacity(rx.header.len() + quote);
        original.extend_from_slice(rx.header);
        original.extend_from_slice(&rx.payload[..quote]);
        let repr = match kind {
            IcmpError::DstUnreachable(reason, next_hop_mtu) => {
                Icmpv4Repr::DstUnreachable { reason, next_hop_mtu, original: &original }
            }
            IcmpError::TimeExceeded(reason) => Icmpv4Repr::TimeExceeded { reason, original: &original },
            IcmpError::ParamProblem(pointer) => Icmpv4Repr::ParamProblem { pointer, original: &original },
        };
        let sent = self.send_ipv4(rx.src_v4(), IpProtocol::Icmp, repr.buffer_len(), None, None, now, out, |b| {
            repr.emit(&mut Icmpv4Packet::new_unchecked(b))
        });
        if sent.is_ok() {
            self.stats.icmp_errors_sent += 1;
        }
    }

    pub(crate) fn ping_open(&mut self, ident: Option<u16>) -> Result<Reply, CommandError> {
        let ident = match ident {
            Some(i) if self.ping.by_ident.contains_key(&i) => return Err(CommandError::AddrInUse(i)),
            Some(i) => i,
            None => {
                let taken = &self.ping.by_ident;
                self.ping.idents.allocate(|i| taken.contains_key(&i)).ok_or(CommandError::NoEphemeralPort)?
            }
        };
        let sock = self.alloc_handle();
        self.ping.by_handle.insert(sock, PingSocket { ident, outstanding: VecDeque::new() });
        self.ping.by_ident.insert(ident, sock);
        Ok(Reply::Bound { sock, local: SocketAddr::new(self.config.ipv4.addr().into(), ident) })
    }

    pub(crate) fn ping_send(
        &mut self,
        sock: SocketHandle,
        dst: IpAddr,
        seq_no: u16,
        payload_len: usize,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<Reply, CommandError> {
        let ident = self.ping.by_handle.get(&sock).ok_or(CommandError::NoSuchSocket(sock))?.ident;
        let dst = match dst {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(v6) => return self.ping6_send(sock, ident, v6, seq_no, payload_len, now, out),
        };
        let max = crate::ip::largest_payload(dst.into()) - crate::wire::icmpv4::HEADER_LEN;
        if payload_len > max {
            return Err(CommandError::MessageTooLong { max });
        }
        // A fixed pattern, so a reply's payload can be recognised in a trace.
        let data: Vec<u8> = (0..payload_len).map(|i| i as u8).collect();
        let request = Icmpv4Repr::EchoRequest { ident, seq_no, data: &data };
        self.send_ipv4(dst, IpProtocol::Icmp, request.buffer_len(), Some(sock), None, now, out, |b| {
            request.emit(&mut Icmpv4Packet::new_unchecked(b))
        })?;
        self.ping.remember(sock, seq_no, dst.into(), now, self.config.ping_outstanding);
        Ok(Reply::Sent { len: payload_len })
    }

    pub(crate) fn on_echo_reply(
        &mut self,
        rx: &Received<'_>,
        ident: u16,
        seq_no: u16,
        len: usize,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        let net = self.config.ipv4;
        let broadcast = |d: &IpAddr| match d {
            IpAddr::V4(v4) => v4.is_broadcast() || Some(*v4) == net.broadcast(),
            IpAddr::V6(v6) => v6.is_multicast(),
        };
        let matched = self.ping.by_ident.get(&ident).copied().and_then(|sock| {
            let s = self.ping.by_handle.get_mut(&sock)?;
            let pos =
                s.outstanding.iter().position(|(seq, dst, _)| *seq == seq_no && (*dst == rx.src || broadcast(dst)))?;
            let (_, dst, sent) = s.outstanding[pos];
            // A request to a broadcast or multicast address may have many answers, each reported (as Linux's
            // ping sockets and `ping -b`); it goes with the oldest once `ping_outstanding` are waiting.
            if !broadcast(&dst) {
                s.outstanding.remove(pos);
            }
            Some((sock, now - sent))
        });
        match matched {
            Some((sock, rtt)) => {
                let event = Event::EchoReply { from: rx.src, seq_no, rtt, ttl: rx.ttl, len };
                out.push(Output::Event(sock, event));
            }
            None => self.drop_frame(DropReason::IcmpUnmatched),
        }
    }
}
