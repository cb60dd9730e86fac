//! IPv4 as a host (RFC 791, RFC 1122 §3): validate and deliver what is ours, route what we send (on-link or
//! via the gateway), reassemble fragments, fragment datagrams larger than the link (never TCP). We never
//! forward.

use crate::api::{CommandError, Output, SocketHandle};
use crate::arp::{Enqueued, Lookup, QueuedFrame};
use crate::icmp::IcmpError;
use crate::reassembly::{Fragment, FragmentKey};
use crate::stack::Stack;
use crate::stats::{DropReason, Layer};
use crate::time::Instant;
use crate::timer::TimerKey;
use crate::wire::ethernet::{self, EthernetRepr};
use crate::wire::icmpv4::TimeExceeded;
use crate::wire::{
    EcnCodepoint, EtherType, EthernetAddress, EthernetFrame, IpProtocol, Ipv4Packet, Ipv4Repr, QuotedDatagram,
    TcpPacket, UdpPacket,
};
use core::net::{IpAddr, Ipv4Addr};

/// Minimum IPv4 header, the only size we emit.
pub(crate) const HEADER_LEN: usize = crate::wire::ipv4::HEADER_LEN;

/// The largest transport payload of one IPv4 datagram, fragmented or not: 65,535 less the header.
pub(crate) const MAX_DATAGRAM_PAYLOAD: usize = 65_535 - HEADER_LEN;

/// Where a datagram goes on the link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NextHop {
    /// Limited or directed broadcast: Ethernet broadcast, no ARP.
    Broadcast,
    /// A unicast neighbour (the destination itself when on-link, else the gateway).
    Neighbour(Ipv4Addr),
}

/// A datagram addressed to us, after validation (and reassembly, if it was fragmented).
#[derive(Debug)]
pub(crate) struct Received<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: IpProtocol,
    pub ttl: u8,
    /// The ECN codepoint it arrived with (RFC 3168 §5), for TCP's congestion feedback. A reassembled datagram
    /// has its first fragment's: RFC 3168 §5.3's merging of the fragments' marks is not done (synack's TCP
    /// never fragments, and drops nothing a fragment says).
    pub ecn: EcnCodepoint,
    /// Sent to a broadcast address (IP or link): never answered with an error or a reset.
    pub broadcast: bool,
    /// The IP header as received (of the first fragment if reassembled), quoted in ICMP errors.
    pub header: &'a [u8],
    pub payload: &'a [u8],
    /// The device vouched for the transport checksum ([`crate::RxFrame::checksum_offloaded`]); never set for a
    /// reassembled datagram.
    pub checksum_offloaded: bool,
}

impl Received<'_> {
    /// The IPv4 source of a datagram that came in over IPv4 (ICMPv4 answers it); unspecified for IPv6.
    pub(crate) fn src_v4(&self) -> Ipv4Addr {
        match self.src {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
        }
    }
}

impl Stack {
    /// Decides the next hop for `dst`, or why there is none.
    pub(crate) fn route(&self, dst: Ipv4Addr) -> Result<NextHop, CommandError> {
        let net = self.config.ipv4;
        if dst.is_broadcast() || Some(dst) == net.broadcast() {
            return Ok(NextHop::Broadcast);
        }
        if dst.is_unspecified() || dst.is_multicast() || dst.is_loopback() || dst == net.addr() {
            return Err(CommandError::BadDestination(core::net::SocketAddr::new(dst.into(), 0)));
        }
        if net.contains(dst) {
            return Ok(NextHop::Neighbour(dst));
        }
        self.config.gateway.map(NextHop::Neighbour).ok_or(CommandError::NoRoute(dst.into()))
    }

    /// Builds a datagram from us to `dst` whose payload `fill` writes, and sends it (after ARP if needed).
    /// `owner`/`port` name who to tell if the next hop never answers ARP.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_ipv4(
        &mut self,
        dst: Ipv4Addr,
        protocol: IpProtocol,
        payload_len: usize,
        owner: Option<SocketHandle>,
        port: Option<u16>,
        now: Instant,
        out: &mut Vec<Output>,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), CommandError> {
        let ecn = EcnCodepoint::NotEct;
        self.send_ipv4_marked(dst, protocol, ecn, payload_len, owner, port, now, out, fill)
    }

    /// [`Stack::send_ipv4`] with the ECN codepoint the transport chose for this datagram (RFC 3168 §5: only
    /// a transport that reacts to CE marks may send ECT).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_ipv4_marked(
        &mut self,
        dst: Ipv4Addr,
        protocol: IpProtocol,
        ecn: EcnCodepoint,
        payload_len: usize,
        owner: Option<SocketHandle>,
        port: Option<u16>,
        now: Instant,
        out: &mut Vec<Output>,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), CommandError> {
        let hop = self.route(dst)?;
        let max = self.max_payload_of(dst.into(), protocol);
        if payload_len > max {
            // Larger than the link: fragments without DF (RFC 791).
            let whole = crate::ip::whole_for_fragments(dst.into(), protocol, payload_len, max, fill)?;
            return self.send_ipv4_fragments(hop, dst, protocol, &whole, max, owner, port, now, out);
        }
        let src_addr = self.config.ipv4.addr();
        let ip = Ipv4Repr {
            src_addr,
            dst_addr: dst,
            protocol,
            payload_len,
            ttl: self.config.ttl,
            ident: self.ip_idents.next(src_addr, dst, protocol),
            // Path MTU discovery (RFC 1191), as Linux: whole datagrams go with DF set.
            dont_frag: true,
            ecn,
        };
        let partial = self.config.tx_checksum_offload;
        self.send_ipv4_frame(hop, &ip, &[], None, partial, owner, port, now, out, fill);
        Ok(())
    }

    /// [`Stack::send_ipv4`] for a datagram that carries IP `options` (whole words; an echo reply's, see
    /// [`crate::wire::ipv4_echo_options::echo_options`]). One that would not fit the path whole goes without them: splitting
    /// options among fragments is not worth it for what is a diagnostic.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_ipv4_with_options(
        &mut self,
        dst: Ipv4Addr,
        protocol: IpProtocol,
        options: &[u8],
        payload_len: usize,
        now: Instant,
        out: &mut Vec<Output>,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), CommandError> {
        if options.is_empty() || options.len() + payload_len > self.max_ip_payload(dst.into()) {
            return self.send_ipv4(dst, protocol, payload_len, None, None, now, out, fill);
        }
        let hop = self.route(dst)?;
        let src_addr = self.config.ipv4.addr();
        let ip = Ipv4Repr {
            src_addr,
            dst_addr: dst,
            protocol,
            payload_len: options.len() + payload_len,
            ttl: self.config.ttl,
            ident: self.ip_idents.next(src_addr, dst, protocol),
            dont_frag: true,
            ecn: EcnCodepoint::NotEct,
        };
        self.send_ipv4_frame(hop, &ip, options, None, false, None, None, now, out, fill);
        Ok(())
    }

    /// Sends `whole` (a transport payload too large for the path) as fragments of one datagram: each carries
    /// as many 8-byte units as fit `max` (the path's payload), DF clear, the last without More Fragments.
    #[allow(clippy::too_many_arguments)]
    fn send_ipv4_fragments(
        &mut self,
        hop: NextHop,
        dst: Ipv4Addr,
        protocol: IpProtocol,
        whole: &[u8],
        max: usize,
        owner: Option<SocketHandle>,
        port: Option<u16>,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<(), CommandError> {
        let piece = max & !7;
        let ident = self.ip_idents.next(self.config.ipv4.addr(), dst, protocol);
        let why = self.sending_because.take();
        for (i, chunk) in whole.chunks(piece).enumerate() {
            let offset = i * piece;
            let more = offset + chunk.len() < whole.len();
            let ip = Ipv4Repr {
                src_addr: self.config.ipv4.addr(),
                dst_addr: dst,
                protocol,
                payload_len: chunk.len(),
                ttl: self.config.ttl,
                ident,
                dont_frag: false,
                ecn: EcnCodepoint::NotEct,
            };
            self.sending_because = why;
            // Offsets stay below 65,535 (the payload is bounded by MAX_DATAGRAM_PAYLOAD).
            let frag = Some((more, offset as u16));
            self.send_ipv4_frame(hop, &ip, &[], frag, false, owner, port, now, out, |b| b.copy_from_slice(chunk));
        }
        self.stats.datagrams_fragmented += 1;
        Ok(())
    }

    /// Builds one frame for `ip` (a fragment if `frag` is `(more, offset)`) and transmits it, or queues it for
    /// ARP. `partial`: leave the TCP/UDP checksum for the device to finish.
    #[allow(clippy::too_many_arguments)]
    fn send_ipv4_frame(
        &mut self,
        hop: NextHop,
        ip: &Ipv4Repr,
        options: &[u8],
        frag: Option<(bool, u16)>,
        partial: bool,
        owner: Option<SocketHandle>,
        port: Option<u16>,
        now: Instant,
        out: &mut Vec<Output>,
        fill: impl FnOnce(&mut [u8]),
    ) {
        let (dst, protocol) = (ip.dst_addr, ip.protocol);
        let ip_len = HEADER_LEN + ip.payload_len;
        let mut buf = self.frame_buffer(ethernet::frame_len(ip_len));
        let dst_mac = match hop {
            NextHop::Broadcast => EthernetAddress::BROADCAST,
            NextHop::Neighbour(nh) => match self.arp.lookup(nh, now) {
                Lookup::Hit(mac) => mac,
                Lookup::Stale(mac) => {
                    self.send_arp_request(nh, out);
                    self.timers.schedule(now + self.arp.retry_interval(), TimerKey::ArpRetry(nh));
                    mac
                }
                Lookup::Miss => EthernetAddress::default(),
            },
        };
        // Ethernet padding of short frames (the buffer may be recycled, so not zero already). Most frames have
        // none, and filling an empty tail still cost a call into the C library's memset per frame.
        if let Some(pad) = buf.get_mut(ethernet::HEADER_LEN + ip_len..).filter(|p| !p.is_empty()) {
            pad.fill(0);
        }
        let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
        EthernetRepr { src_addr: self.config.mac, dst_addr: dst_mac, ethertype: EtherType::Ipv4 }.emit(&mut frame);
        let mut packet = Ipv4Packet::new_unchecked(&mut frame.payload_mut()[..ip_len]);
        ip.emit(&mut packet);
        if !options.is_empty() {
            // `ip.payload_len` counts the options (whole words): they follow the fixed header.
            packet.set_options(options);
            packet.fill_checksum();
        }
        if let Some((more, offset)) = frag {
            packet.set_flags_and_frag_offset(false, more, offset);
            packet.set_checksum(0);
            packet.fill_checksum();
        }
        fill(packet.payload_mut());
        if partial {
            leave_checksum_partial(protocol, &ip.src_addr, &dst, packet.payload_mut());
        }
        match hop {
            NextHop::Neighbour(nh) if dst_mac == EthernetAddress::default() => {
                let queued = QueuedFrame { frame: buf, owner, dst, port, why: self.sending_because.take() };
                match self.arp.enqueue(nh, queued) {
                    Enqueued::SendRequest => {
                        self.send_arp_request(nh, out);
                        self.timers.schedule(now + self.arp.retry_interval(), TimerKey::ArpRetry(nh));
                    }
                    Enqueued::Waiting => {}
                    Enqueued::Full => self.drop_frame(DropReason::ArpQueueFull),
                }
            }
            _ => {
                let why = self.sending_because.take();
                self.transmit_because(buf, why, out);
            }
        }
    }

    /// An IPv4 packet arrived in an Ethernet frame (`link_broadcast` if sent to ff:ff:ff:ff:ff:ff).
    /// `checksum_offloaded`: the device vouched for the TCP/UDP checksum of this (unfragmented) packet.
    pub(crate) fn on_ipv4(
        &mut self,
        bytes: &[u8],
        link_broadcast: bool,
        checksum_offloaded: bool,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        let packet = match Ipv4Packet::new_checked(bytes) {
            Ok(p) => p,
            Err(e) => return self.drop_frame(DropReason::Malformed(Layer::Ipv4, e)),
        };
        let repr = match Ipv4Repr::parse(&packet) {
            Ok(r) => r,
            Err(e) => return self.drop_frame(DropReason::Malformed(Layer::Ipv4, e)),
        };
        let net = self.config.ipv4;
        let src = repr.src_addr;
        // RFC 1122 §3.2.1.3: 0.0.0.0 is a source only while a host learns its address (a DHCP client's broadcast).
        let bootstrapping = src.is_unspecified() && repr.dst_addr.is_broadcast() && repr.protocol == IpProtocol::Udp;
        if (impossible_source(src, net) && !bootstrapping) || src == net.addr() {
            return self.drop_frame(DropReason::BadSourceAddress);
        }
        let dst = repr.dst_addr;
        let ip_broadcast = dst.is_broadcast() || Some(dst) == net.broadcast();
        if dst != net.addr()
            && !ip_broadcast
            && (link_broadcast || packet.is_fragment() || !self.dhcp_takes_unicast(repr.protocol, packet.payload()))
        {
            return self.drop_frame(DropReason::NotOurAddress);
        }
        let broadcast = ip_broadcast || link_broadcast;
        let rx = Received {
            src: src.into(),
            dst: dst.into(),
            protocol: repr.protocol,
            ttl: repr.ttl,
            ecn: repr.ecn,
            broadcast,
            header: packet.header(),
            payload: packet.payload(),
            checksum_offloaded,
        };
        // RFC 1122 §3.2.1.8: a host checks the options it receives. A malformed one drops the datagram and, as
        // Linux, earns a parameter problem pointing at it (none about a later fragment, RFC 1122 §3.2.2).
        if packet.header_len() > crate::wire::ipv4::HEADER_LEN {
            if let Some(at) = packet.option_problem() {
                if packet.frag_offset() == 0 {
                    self.send_icmp_error(&rx, IcmpError::ParamProblem(at as u8), now, out);
                }
                return self.drop_frame(DropReason::Malformed(Layer::Ipv4, crate::wire::Error::BadOption));
            }
            // A host forwards nothing, and answering along a route the sender chose invites spoofing (RFC 1122
            // §3.3.5 leaves it to the host): dropped silently, as Linux's `accept_source_route = 0`.
            if packet.has_source_route() {
                return self.drop_frame(DropReason::Ipv4SourceRoute);
            }
        }
        if !packet.is_fragment() {
            return self.deliver(&rx, now, out);
        }
        // RFC 791: every fragment but the last carries a multiple of 8 bytes.
        if packet.more_frags() && packet.payload().len() % 8 != 0 {
            return self.drop_frame(DropReason::Malformed(Layer::Ipv4, crate::wire::Error::BadLength));
        }
        let fragment = Fragment {
            key: FragmentKey {
                src: src.into(),
                dst: dst.into(),
                protocol: repr.protocol,
                ident: u32::from(repr.ident),
            },
            offset: usize::from(packet.frag_offset()),
            more_frags: packet.more_frags(),
            header: packet.header(),
            data: packet.payload(),
            ecn: repr.ecn,
        };
        if let Some(mut datagram) = self.add_fragment(fragment, now) {
            // The header of the datagram as reassembled, as Linux's `ip_frag_reasm` leaves it (whole length, no
            // fragment fields): an ICMP error about the datagram quotes it, not its first fragment.
            let total = datagram.header.len() + datagram.payload.len();
            let mut header = Ipv4Packet::new_unchecked(&mut datagram.header[..]);
            header.set_total_len(u16::try_from(total).unwrap_or(u16::MAX));
            header.set_flags_and_frag_offset(false, false, 0);
            header.set_ecn(datagram.ecn);
            header.fill_checksum();
            let rx = Received {
                src: src.into(),
                dst: dst.into(),
                protocol: repr.protocol,
                ttl: repr.ttl,
                ecn: datagram.ecn,
                broadcast,
                header: &datagram.header,
                payload: &datagram.payload,
                checksum_offloaded: false,
            };
            self.deliver(&rx, now, out);
        }
    }

    /// Hands a complete datagram to its protocol.
    fn deliver(&mut self, rx: &Received<'_>, now: Instant, out: &mut Vec<Output>) {
        self.stats.ipv4_delivered += 1;
        match rx.protocol {
            IpProtocol::Icmp => self.on_icmp(rx, now, out),
            IpProtocol::Udp => self.on_udp(rx, now, out),
            IpProtocol::Tcp => self.on_tcp(rx, now, out),
            IpProtocol::Unknown(_) => {
                self.drop_frame(DropReason::UnknownProtocol);
                let reason = crate::wire::DstUnreachable::ProtoUnreachable;
                self.send_icmp_error(rx, crate::icmp::IcmpError::DstUnreachable(reason, 0), now, out);
            }
        }
    }

    pub(crate) fn on_reassembly_timeout(&mut self, serial: u64, now: Instant, out: &mut Vec<Output>) {
        let Some(expired) = self.reassembly.expire(serial, now) else {
            return;
        };
        self.drop_frame(DropReason::ReassemblyTimeout);
        // RFC 792 / 1122 §3.3.2, RFC 8200 §4.5: time exceeded (code 1), only if we saw fragment zero and it was
        // unicast to us. `original` is the first fragment (its header validated): what the error quotes.
        let Some(original) = expired.original else { return };
        if let (IpAddr::V6(_), IpAddr::V6(dst)) = (expired.src, expired.dst) {
            if dst.is_multicast() {
                return;
            }
            let (header, payload) = original.split_at(expired.header_len.min(original.len()));
            let rx = Received {
                src: expired.src,
                dst: expired.dst,
                protocol: crate::wire::IpProtocol::IPV6_FRAG,
                ttl: 0,
                ecn: EcnCodepoint::NotEct,
                broadcast: false,
                header,
                payload,
                checksum_offloaded: false,
            };
            let error = crate::ipv6::Icmpv6Error::TimeExceeded(crate::wire::icmpv6::Icmpv6TimeExceeded::FragReassembly);
            return self.send_icmpv6_error(&rx, error, false, now, out);
        }
        let quoted = QuotedDatagram::parse(&original).ok();
        if let Some(q) = quoted.filter(|q| q.dst_addr() == self.config.ipv4.addr()) {
            let rx = Received {
                src: expired.src,
                dst: self.config.ipv4.addr().into(),
                protocol: q.protocol(),
                ttl: 0,
                ecn: EcnCodepoint::NotEct,
                broadcast: false,
                header: q.header(),
                payload: q.payload(),
                checksum_offloaded: false,
            };
            let kind = crate::icmp::IcmpError::TimeExceeded(TimeExceeded::FragReassembly);
            self.send_icmp_error(&rx, kind, now, out);
        }
    }
}

/// Transmit checksum offload: puts the pseudo-header sum where a TCP or UDP checksum goes, the partial
/// checksum a device finishes over the rest of the segment (anything else keeps its complete checksum).
pub(crate) fn leave_checksum_partial<A: crate::wire::checksum::PseudoHeader>(
    protocol: IpProtocol,
    src: &A,
    dst: &A,
    transport: &mut [u8],
) {
    let Ok(len) = u16::try_from(transport.len()) else { return };
    let pseudo = src.pseudo_sum(dst, protocol, u32::from(len));
    match protocol {
        IpProtocol::Tcp => {
            if let Ok(mut tcp) = TcpPacket::new_checked(transport) {
                tcp.set_checksum(pseudo);
            }
        }
        IpProtocol::Udp => {
            if let Ok(mut udp) = UdpPacket::new_checked(transport) {
                udp.set_checksum(pseudo);
            }
        }
        _ => {}
    }
}

/// A source no datagram or ARP sender can have (RFC 1122 §3.2.1.3; Linux's martian sources): limited or
/// subnet broadcast, multicast, loopback, or "this network" 0.0.0.0/8 (0.0.0.0 itself included: the caller
/// allows it where a host still learns its address).
pub(crate) fn impossible_source(src: Ipv4Addr, net: crate::Ipv4Cidr) -> bool {
    src.is_broadcast()
        || src.is_multicast()
        || src.is_loopback()
        || src.octets()[0] == 0
        || Some(src) == net.broadcast()
}
