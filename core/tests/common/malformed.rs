//! The hostile-input harness: frame builders, output checks, and a driver that answers ARP.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::time::Duration;
use etherparse as ep;
use std::collections::{BTreeSet, VecDeque};
use synack::wire::{self, checksum, EthernetAddress};
use synack::{Command, CommandError, Config, DropReason, Input, Instant, Output, Reply, Stack, Stats};

pub const STACK_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
pub const STACK_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const PEER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const PEER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 1, 0, 1]);
/// The UDP port the harness binds before anything else.
pub const BOUND_PORT: u16 = 7;
pub const ETH_LEN: usize = 14;
/// The default IP MTU.
pub const MTU: usize = 1500;
pub const IP_LEN: usize = 20;

pub fn config(seed: u64) -> Config {
    Config { mac: STACK_MAC, ipv4: "10.0.0.2/24".parse().unwrap(), seed, ..Config::default() }
}

/// The MAC a neighbour on 10.0.0.0/24 answers ARP with.
pub fn mac_for(ip: Ipv4Addr) -> EthernetAddress {
    let o = ip.octets();
    EthernetAddress([0x02, 0, 0, 1, o[2], o[3]])
}

/// Neighbours that answer ARP: 10.0.0.1 to 10.0.0.127. The others stay silent, so ARP gives up on them.
pub fn answers_arp(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    [o[0], o[1], o[2]] == [10, 0, 0] && (1..128).contains(&o[3]) && ip != STACK_IP
}

// ---- Frame builders (etherparse writes the headers, so inputs do not depend on the code under test) ----------

pub fn ethernet(src: EthernetAddress, dst: EthernetAddress, ether_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    ep::Ethernet2Header { source: src.0, destination: dst.0, ether_type: ep::EtherType(ether_type) }
        .write(&mut out)
        .unwrap();
    out.extend_from_slice(payload);
    if out.len() < 60 {
        out.resize(60, 0);
    }
    out
}

pub fn arp(
    operation: ep::ArpOperation,
    eth_dst: EthernetAddress,
    sender: (EthernetAddress, Ipv4Addr),
    target: (EthernetAddress, Ipv4Addr),
) -> Vec<u8> {
    let packet = ep::ArpEthIpv4Packet {
        operation,
        sender_mac: sender.0 .0,
        sender_ipv4: sender.1.octets(),
        target_mac: target.0 .0,
        target_ipv4: target.1.octets(),
    };
    ethernet(sender.0, eth_dst, 0x0806, &packet.to_bytes())
}

/// "Who has `target`? Tell `sender`", broadcast by `sender`.
pub fn arp_request(sender: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let unknown = EthernetAddress([0; 6]);
    arp(ep::ArpOperation::REQUEST, EthernetAddress::BROADCAST, (mac_for(sender), sender), (unknown, target))
}

/// The IPv4 header fields the builders vary.
#[derive(Clone, Copy, Debug)]
pub struct Ip {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub ident: u16,
    pub more_frags: bool,
    /// In 8-byte units.
    pub frag_offset: u16,
}

impl Ip {
    pub fn new(src: Ipv4Addr, protocol: u8) -> Ip {
        Ip { src, dst: STACK_IP, protocol, ident: 0x4242, more_frags: false, frag_offset: 0 }
    }

    pub fn header(&self, payload_len: usize) -> ep::Ipv4Header {
        let mut h =
            ep::Ipv4Header::new(0, 64, ep::IpNumber(self.protocol), self.src.octets(), self.dst.octets()).unwrap();
        h.set_payload_len(payload_len).unwrap();
        h.identification = self.ident;
        h.dont_fragment = false;
        h.more_fragments = self.more_frags;
        h.fragment_offset = ep::IpFragOffset::try_new(self.frag_offset).unwrap();
        h
    }

    /// A whole frame from `src`'s MAC to the stack.
    pub fn frame(&self, payload: &[u8]) -> Vec<u8> {
        let mut packet = Vec::new();
        self.header(payload.len()).write(&mut packet).unwrap();
        packet.extend_from_slice(payload);
        ethernet(mac_for(self.src), STACK_MAC, 0x0800, &packet)
    }
}

pub fn udp(src: Ipv4Addr, src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let h = ep::UdpHeader::without_ipv4_checksum(src_port, dst_port, payload.len()).unwrap();
    let h =
        ep::UdpHeader { checksum: h.calc_checksum_ipv4_raw(src.octets(), STACK_IP.octets(), payload).unwrap(), ..h };
    let mut out = h.to_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

pub fn tcp(src: Ipv4Addr, src_port: u16, dst_port: u16, seq: u32, raw_options: &[u8]) -> Vec<u8> {
    let mut h = ep::TcpHeader::new(src_port, dst_port, seq, 64240);
    h.syn = true;
    h.set_options_raw(raw_options).unwrap();
    h.checksum = h.calc_checksum_ipv4_raw(src.octets(), STACK_IP.octets(), &[]).unwrap();
    h.to_bytes().to_vec()
}

pub fn echo_request(ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let ty = ep::Icmpv4Type::EchoRequest(ep::IcmpEchoHeader { id: ident, seq });
    let mut out = ep::Icmpv4Header::with_checksum(ty, data).to_bytes().to_vec();
    out.extend_from_slice(data);
    out
}

pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

/// Recomputes the IPv4 header checksum over the header length the frame claims (if it fits).
pub fn refresh_ipv4_checksum(frame: &mut [u8]) {
    let Some(&ver_ihl) = frame.get(ETH_LEN) else { return };
    let header_len = usize::from(ver_ihl & 0x0f) * 4;
    if header_len < IP_LEN || frame.len() < ETH_LEN + header_len {
        return;
    }
    frame[ETH_LEN + 10..ETH_LEN + 12].fill(0);
    let sum = !checksum::data(&frame[ETH_LEN..ETH_LEN + header_len]);
    frame[ETH_LEN + 10..ETH_LEN + 12].copy_from_slice(&sum.to_be_bytes());
}

// ---- Checking what the stack emits ------------------------------------------------------------------------

/// Every frame the stack emits must be well formed: etherparse parses it, every checksum verifies, it has the
/// minimum Ethernet size and it comes from the stack's own MAC and IPv4 address.
pub fn check_transmit(frame: &[u8]) {
    assert!(frame.len() >= 60, "runt frame of {} bytes: {frame:02x?}", frame.len());
    assert!(frame.len() <= ETH_LEN + 1500, "frame of {} bytes exceeds the MTU", frame.len());
    let headers = ep::PacketHeaders::from_ethernet_slice(frame)
        .unwrap_or_else(|e| panic!("etherparse rejects an emitted frame ({e:?}): {frame:02x?}"));
    let Some(ep::LinkHeader::Ethernet2(eth)) = &headers.link else { panic!("no Ethernet header: {frame:02x?}") };
    assert_eq!(eth.source, STACK_MAC.0, "Ethernet source is not the stack's MAC");
    let eth_dst = EthernetAddress(eth.destination);
    assert!(eth_dst != STACK_MAC, "frame sent to ourselves");
    let ipv6_group = matches!(headers.net, Some(ep::NetHeaders::Ipv6(..))) && eth_dst.0[..2] == [0x33, 0x33];
    assert!(
        eth_dst.is_broadcast() || (eth_dst.is_unicast() && eth_dst.0 != [0; 6]) || ipv6_group,
        "frame sent to {eth_dst}: {frame:02x?}"
    );
    match &headers.net {
        Some(ep::NetHeaders::Arp(arp)) => {
            let arp = arp.try_eth_ipv4().expect("emitted ARP is not Ethernet/IPv4");
            assert_eq!(arp.sender_mac, STACK_MAC.0);
            assert_eq!(arp.sender_ipv4_addr(), STACK_IP);
            match arp.operation {
                ep::ArpOperation::REQUEST => assert_eq!(eth.destination, [0xff; 6]),
                ep::ArpOperation::REPLY => assert_eq!(eth.destination, arp.target_mac),
                other => panic!("emitted ARP operation {other:?}"),
            }
        }
        Some(ep::NetHeaders::Ipv4(ip, _)) => {
            assert_eq!(ip.source, STACK_IP.octets(), "IPv4 source is not the stack's address");
            let dst = Ipv4Addr::from(ip.destination);
            assert!(
                !(dst == STACK_IP || dst.is_unspecified() || dst.is_multicast() || dst.is_loopback()),
                "datagram sent to {dst}"
            );
            let broadcast = dst.is_broadcast() || dst == Ipv4Addr::new(10, 0, 0, 255);
            assert_eq!(eth_dst.is_broadcast(), broadcast, "link and IP broadcast disagree for {dst}");
            assert_eq!(ip.header_checksum, ip.calc_header_checksum(), "IPv4 header checksum: {frame:02x?}");
            if ip.is_fragmenting_payload() {
                // Datagrams larger than the link leave as fragments: never TCP, never with DF, whole 8-byte
                // units in every fragment but the last.
                assert_ne!(ip.protocol, ep::IpNumber::TCP, "TCP fragmented: {frame:02x?}");
                assert!(!ip.dont_fragment, "a fragment with DF set");
                let len = usize::from(ip.total_len) - ip.header_len();
                assert!(!ip.more_fragments || len % 8 == 0, "a fragment of {len} bytes before the last");
                return;
            }
            assert_eq!(ip.time_to_live, 64);
            let payload = headers.payload.slice();
            match &headers.transport {
                Some(ep::TransportHeader::Udp(udp)) => {
                    assert_eq!(usize::from(udp.length), 8 + payload.len());
                    assert_eq!(udp.checksum, udp.calc_checksum_ipv4(ip, payload).unwrap(), "UDP checksum");
                }
                Some(ep::TransportHeader::Tcp(tcp)) => {
                    assert_eq!(tcp.checksum, tcp.calc_checksum_ipv4(ip, payload).unwrap(), "TCP checksum");
                    for option in tcp.options_iterator() {
                        option.expect("emitted TCP option does not parse");
                    }
                }
                Some(ep::TransportHeader::Icmpv4(icmp)) => {
                    assert_eq!(icmp.checksum, icmp.icmp_type.calc_checksum(payload), "ICMP checksum");
                }
                other => panic!("unexpected transport {other:?} in an emitted frame: {frame:02x?}"),
            }
        }
        Some(ep::NetHeaders::Ipv6(..)) => crate::common::malformed6::check_transmit6(frame, &headers, eth_dst),
        other => panic!("unexpected network layer {other:?} in an emitted frame"),
    }
}

/// Sum of every counter except `frames_in`/`bytes_in`: if it moves, the frame was used or counted.
pub fn activity(s: &Stats) -> u64 {
    s.frames_out
        + s.arp_requests_sent
        + s.arp_replies_sent
        + s.ipv4_delivered
        + s.fragments_received
        + s.datagrams_reassembled
        + s.icmp_echo_replies_sent
        + s.icmp_errors_sent
        + s.icmp_errors_rate_limited
        + s.icmp_errors_received
        + s.udp_datagrams_received
        + s.udp_datagrams_sent
        + s.tcp_resets_sent
        + s.ipv6_delivered
        + s.ndp_messages_sent
        + s.ndp_messages_received
        + s.total_drops()
}

/// The well-formed Ethernet/IPv4 ARP packet in `frame`, if it is addressed to us (or broadcast).
pub fn wellformed_arp_for_us(frame: &[u8]) -> Option<wire::ArpRepr> {
    let eth = wire::EthernetFrame::new_checked(frame).ok()?;
    let for_us = eth.dst_addr() == STACK_MAC || eth.dst_addr().is_broadcast();
    if !for_us || eth.ethertype() != wire::EtherType::Arp {
        return None;
    }
    wire::ArpPacket::new_checked(eth.payload()).and_then(|p| wire::ArpRepr::parse(&p)).ok()
}

// ---- The harness ------------------------------------------------------------------------------------------

/// Drives one stack, checks every output, and answers the stack's ARP requests for 10.0.0.1-127.
#[derive(Debug)]
pub struct Harness {
    pub stack: Stack,
    pub now: Instant,
    /// Every output of every call, in order (for determinism checks).
    pub log: Vec<Output>,
    /// Every address the stack may hold in its ARP cache: senders of ARP packets that targeted it, and targets
    /// of its own requests. An ARP packet from one of these may be used silently (it refreshes the entry).
    pub maybe_cached: BTreeSet<Ipv4Addr>,
    /// Whether TCP data was fed that does not follow [`crate::common::tcp::byte_at`] (a mutated segment): then
    /// what the application reads is no longer checked byte for byte.
    pub tainted: bool,
}

impl Harness {
    pub fn new(seed: u64) -> Harness {
        Harness::with_config(config(seed))
    }

    pub fn with_config(config: Config) -> Harness {
        Harness {
            stack: Stack::new(config).unwrap(),
            now: Instant::ZERO,
            log: Vec::new(),
            maybe_cached: BTreeSet::new(),
            tainted: false,
        }
    }

    /// A stack that knows the peer's MAC and has a UDP socket bound to [`BOUND_PORT`].
    pub fn primed(seed: u64) -> Harness {
        let mut h = Harness::new(seed);
        h.prime_arp_and_bind();
        h
    }

    /// Teaches the stack the peer's MAC (an ARP request from it) and binds UDP [`BOUND_PORT`]: on `0.0.0.0`,
    /// or on a dual-stack `[::]` if the stack has IPv6.
    pub fn prime_arp_and_bind(&mut self) {
        let out = self.frame(&arp_request(PEER_IP, STACK_IP));
        assert_eq!(transmits(&out).len(), 1, "no ARP reply: {out:?}");
        let any: IpAddr = if self.stack.config().ipv6.is_some() {
            Ipv6Addr::UNSPECIFIED.into()
        } else {
            Ipv4Addr::UNSPECIFIED.into()
        };
        let out = self.command(Command::UdpBind { local: SocketAddr::new(any, BOUND_PORT) });
        assert!(matches!(out[0], Output::Reply(Ok(Reply::Bound { .. }))), "{out:?}");
    }

    pub fn handle(&mut self, input: Input<'_>) -> Vec<Output> {
        let out = self.stack.handle(input, self.now);
        for o in &out {
            if let Output::Transmit(frame) = o {
                check_transmit(frame);
                if let Some(target) = arp_request_target(frame) {
                    self.maybe_cached.insert(target);
                }
            }
        }
        self.log.extend(out.iter().cloned());
        out
    }

    /// Feeds one frame, checks it was accounted for, then answers any ARP requests the stack sent.
    pub fn frame(&mut self, bytes: &[u8]) -> Vec<Output> {
        let before = self.stack.stats().clone();
        let out = self.handle(Input::Frame(bytes));
        let after = self.stack.stats();
        assert_eq!(after.frames_in, before.frames_in + 1, "frames_in did not count the frame");
        assert_eq!(after.bytes_in, before.bytes_in + bytes.len() as u64);
        // A well-formed ARP packet that targets us, or comes from a neighbour we may know, can be used without
        // a trace: it only updates the cache.
        let silent_arp = wellformed_arp_for_us(bytes).is_some_and(|arp| {
            arp.target_protocol_addr == STACK_IP || self.maybe_cached.contains(&arp.source_protocol_addr)
        });
        let used = activity(after) != activity(&before) || !out.is_empty() || silent_arp;
        assert!(used, "frame neither used nor counted: {bytes:02x?}");
        if let Some(arp) = wellformed_arp_for_us(bytes).filter(|a| a.target_protocol_addr == STACK_IP) {
            self.maybe_cached.insert(arp.source_protocol_addr);
        }
        self.answer_arp(&out);
        out
    }

    /// Answers the stack's ARP requests for neighbours that exist, feeding the replies back (and answering any
    /// requests those provoke).
    pub fn answer_arp(&mut self, out: &[Output]) {
        let answer = |f: &[u8]| arp_answer(f).or_else(|| crate::common::malformed6::nd_answer(f));
        let mut pending: VecDeque<Vec<u8>> = transmits(out).into_iter().filter_map(answer).collect();
        while let Some(reply) = pending.pop_front() {
            let out = self.handle(Input::Frame(&reply));
            pending.extend(transmits(&out).into_iter().filter_map(answer));
        }
    }

    pub fn timer(&mut self, advance: Duration) -> Vec<Output> {
        self.now = self.now + advance;
        let out = self.handle(Input::Timer);
        self.answer_arp(&out);
        out
    }

    /// Runs a command and checks it yields exactly one reply, first.
    pub fn command(&mut self, cmd: Command) -> Vec<Output> {
        let shown = format!("{cmd:?}");
        // TCP: what a send may accept, and where the bytes a read returns start in the peer's sequence space.
        let tcp_send_len = match &cmd {
            Command::TcpSend { data, .. } => Some(data.len()),
            _ => None,
        };
        let tcp_read = match &cmd {
            Command::TcpRecv { sock, max } => Some((*max, crate::common::tcp::first_readable_seq(&self.stack, *sock))),
            _ => None,
        };
        // The largest UDP or ICMP payload: larger than the MTU leaves in fragments, so the limit is the largest
        // datagram of the family (as a range, for the match below).
        let room = |ip: IpAddr| {
            let m = largest_payload(ip) - 8;
            (m, m)
        };
        let asked = match &cmd {
            Command::UdpSendTo { data, remote, .. } => Some((data.len(), room(remote.ip()))),
            Command::Ping { payload_len, dst, .. } => Some((*payload_len, room(*dst))),
            _ => None,
        };
        let out = self.handle(Input::Command(cmd));
        assert!(matches!(out.first(), Some(Output::Reply(_))), "{shown}: first output is not the reply: {out:?}");
        let replies = out.iter().filter(|o| matches!(o, Output::Reply(_))).count();
        assert_eq!(replies, 1, "{shown}: {replies} replies: {out:?}");
        if let (Some(offered), Output::Reply(Ok(Reply::Sent { len }))) = (tcp_send_len, &out[0]) {
            assert!(*len <= offered, "{shown}: accepted {len} bytes");
            assert!(*len > 0 || offered == 0, "{shown}: Sent 0 instead of WouldBlock");
            self.answer_arp(&out);
            return out;
        }
        if let (Some((max, first)), Output::Reply(Ok(Reply::Data(d)))) = (tcp_read, &out[0]) {
            assert!(d.len() <= max, "{shown}: returned {} bytes", d.len());
            if let Some(seq) = first.filter(|_| !self.tainted) {
                assert_eq!(
                    d,
                    &crate::common::tcp::payload_at(seq, d.len()),
                    "{shown}: read bytes differ from the sent ones"
                );
            }
        }
        match (&out[0], asked) {
            (Output::Reply(Ok(Reply::Sent { len })), Some((asked, (_, max)))) => {
                assert_eq!(*len, asked, "{shown}");
                assert!(*len <= max, "{shown}: accepted more than fits the MTU");
            }
            (Output::Reply(Err(CommandError::MessageTooLong { max: m })), Some((asked, (low, high)))) => {
                assert!((low..=high).contains(m), "{shown}: a limit of {m}");
                assert!(asked > *m, "{shown}: refused a message that fits");
            }
            (Output::Reply(Ok(Reply::Sent { .. })), None) => panic!("{shown}: Sent for a command that sends nothing"),
            _ => {}
        }
        self.answer_arp(&out);
        out
    }

    pub fn stats(&self) -> &Stats {
        self.stack.stats()
    }
}

/// An IPv4 frame from `src` to the stack: raw `options` (a multiple of 4 bytes), DSCP/ECN byte `tos`, the
/// flags/offset word (`mf`, offset in bytes) and payload. Checksum filled in.
#[allow(clippy::too_many_arguments)]
pub fn raw_ipv4_from(
    src: Ipv4Addr,
    protocol: u8,
    ident: u16,
    tos: u8,
    options: &[u8],
    mf: bool,
    offset: usize,
    payload: &[u8],
) -> Vec<u8> {
    assert!(options.len() % 4 == 0 && offset % 8 == 0);
    let hlen = 20 + options.len();
    let total = hlen + payload.len();
    let mut ip = vec![0u8; hlen];
    ip[0] = 0x40 | (hlen / 4) as u8;
    ip[1] = tos;
    ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    ip[4..6].copy_from_slice(&ident.to_be_bytes());
    let word = ((offset / 8) as u16) | if mf { 0x2000 } else { 0 };
    ip[6..8].copy_from_slice(&word.to_be_bytes());
    ip[8] = 64;
    ip[9] = protocol;
    ip[12..16].copy_from_slice(&src.octets());
    ip[16..20].copy_from_slice(&STACK_IP.octets());
    ip[20..].copy_from_slice(options);
    let sum = !checksum::data(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    ip.extend_from_slice(payload);
    ethernet(mac_for(PEER_IP), STACK_MAC, 0x0800, &ip)
}

/// Whether the outputs tell a socket it has data to read.
pub fn readable(out: &[Output]) -> bool {
    out.iter().any(|o| matches!(o, Output::Event(_, synack::Event::Readable)))
}

pub fn transmits(out: &[Output]) -> Vec<&[u8]> {
    out.iter()
        .filter_map(|o| match o {
            Output::Transmit(f) => Some(&f[..]),
            _ => None,
        })
        .collect()
}

/// The address an emitted ARP request asks for.
pub fn arp_request_target(frame: &[u8]) -> Option<Ipv4Addr> {
    let headers = ep::PacketHeaders::from_ethernet_slice(frame).ok()?;
    let Some(ep::NetHeaders::Arp(arp)) = headers.net else { return None };
    let arp = arp.try_eth_ipv4().ok()?;
    (arp.operation == ep::ArpOperation::REQUEST).then(|| arp.target_ipv4_addr())
}

/// The reply a neighbour would send to one of the stack's ARP requests, if the neighbour exists.
pub fn arp_answer(frame: &[u8]) -> Option<Vec<u8>> {
    let target = arp_request_target(frame).filter(|t| answers_arp(*t))?;
    let ours = (STACK_MAC, STACK_IP);
    Some(arp(ep::ArpOperation::REPLY, STACK_MAC, (mac_for(target), target), ours))
}

// ---- Property: mutated valid frames, timers and commands --------------------------------------------------

/// A valid frame aimed at the stack, before mutation.
#[derive(Clone, Debug)]
pub enum Kind {
    ArpRequest,
    Echo {
        len: usize,
    },
    UdpBound {
        len: usize,
    },
    UdpClosed {
        len: usize,
    },
    TcpSyn {
        seq: u32,
        port: u16,
    },
    UnknownProtocol {
        protocol: u8,
    },
    /// A datagram cut into fragments of `units` × 8 bytes, maybe sent in reverse.
    Fragments {
        what: Fragmented,
        len: usize,
        units: usize,
        reverse: bool,
        ident: u16,
    },
    /// An echo reply, as if answering one of the stack's pings.
    EchoReply {
        ident: u16,
        seq: u16,
        len: usize,
    },
    /// An ICMP error (type 3 or 11) quoting `quote_len` bytes of a UDP datagram the stack sent from
    /// `src_port`.
    IcmpError {
        ty: u8,
        code: u8,
        src_port: u16,
        quote_len: usize,
    },
}

/// What a [`Kind::Fragments`] datagram carries.
#[derive(Clone, Copy, Debug)]
pub enum Fragmented {
    UdpBound,
    UdpClosed,
    Echo,
}

#[derive(Clone, Debug)]
pub enum Mutation {
    None,
    FlipBits(Vec<(usize, u8)>),
    Truncate(usize),
    Overwrite(Vec<(usize, u8)>),
    /// Sets the IPv4 IHL, then (if `fix`) recomputes the header checksum so later checks see it.
    SetIhl(u8, bool),
    SetTotalLen(u16, bool),
    /// Sets the TCP data offset (assumes a 20-byte IPv4 header).
    SetDataOffset(u8),
    /// Sets the UDP length field (assumes a 20-byte IPv4 header).
    SetUdpLen(u16),
}

impl Mutation {
    pub fn apply(&self, frame: &mut Vec<u8>) {
        match self {
            Mutation::None => {}
            Mutation::FlipBits(flips) => {
                for &(at, bit) in flips {
                    let i = at % frame.len();
                    frame[i] ^= 1 << (bit % 8);
                }
            }
            Mutation::Truncate(len) => frame.truncate(len % (frame.len() + 1)),
            Mutation::Overwrite(writes) => {
                for &(at, value) in writes {
                    let i = at % frame.len();
                    frame[i] = value;
                }
            }
            Mutation::SetIhl(ihl, fix) => {
                frame[ETH_LEN] = 0x40 | (ihl & 0x0f);
                if *fix {
                    refresh_ipv4_checksum(frame);
                }
            }
            Mutation::SetTotalLen(len, fix) => {
                frame[ETH_LEN + 2..ETH_LEN + 4].copy_from_slice(&len.to_be_bytes());
                if *fix {
                    refresh_ipv4_checksum(frame);
                }
            }
            Mutation::SetDataOffset(words) => {
                let at = ETH_LEN + IP_LEN + 12;
                if at < frame.len() {
                    frame[at] = (words << 4) | (frame[at] & 0x0f);
                }
            }
            Mutation::SetUdpLen(len) => {
                let at = ETH_LEN + IP_LEN + 4;
                if at + 2 <= frame.len() {
                    frame[at..at + 2].copy_from_slice(&len.to_be_bytes());
                }
            }
        }
    }
}

impl Kind {
    /// The frames this kind sends, from `src`.
    pub fn frames(&self, src: Ipv4Addr) -> Vec<Vec<u8>> {
        match *self {
            Kind::ArpRequest => vec![arp_request(src, STACK_IP)],
            Kind::Echo { len } => vec![Ip::new(src, 1).frame(&echo_request(0x77, len as u16, &pattern(len)))],
            Kind::UdpBound { len } => vec![Ip::new(src, 17).frame(&udp(src, 5000, BOUND_PORT, &pattern(len)))],
            Kind::UdpClosed { len } => vec![Ip::new(src, 17).frame(&udp(src, 5000, 9999, &pattern(len)))],
            Kind::TcpSyn { seq, port } => {
                vec![Ip::new(src, 6).frame(&tcp(src, 40000, port, seq, &[2, 4, 5, 0xb4, 1, 3, 3, 7]))]
            }
            Kind::UnknownProtocol { protocol } => vec![Ip::new(src, protocol).frame(&pattern(24))],
            Kind::EchoReply { ident, seq, len } => {
                let ty = ep::Icmpv4Type::EchoReply(ep::IcmpEchoHeader { id: ident, seq });
                let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let mut icmp = ep::Icmpv4Header::with_checksum(ty, &data).to_bytes().to_vec();
                icmp.extend_from_slice(&data);
                vec![Ip::new(src, 1).frame(&icmp)]
            }
            Kind::IcmpError { ty, code, src_port, quote_len } => {
                // What the stack would have sent: STACK_IP -> src, UDP from `src_port`.
                let sent = Ip { src: STACK_IP, dst: src, ..Ip::new(STACK_IP, 17) };
                let mut original = Vec::new();
                sent.header(8 + 32).write(&mut original).unwrap();
                original.extend_from_slice(&udp(STACK_IP, src_port, 53, &pattern(32)));
                original.truncate(quote_len);
                let icmp_type = ep::Icmpv4Type::Unknown { type_u8: ty, code_u8: code, bytes5to8: [0, 0, 5, 0xdc] };
                let mut icmp = ep::Icmpv4Header::with_checksum(icmp_type, &original).to_bytes().to_vec();
                icmp.extend_from_slice(&original);
                vec![Ip::new(src, 1).frame(&icmp)]
            }
            Kind::Fragments { what, len, units, reverse, ident } => {
                let (protocol, datagram) = match what {
                    Fragmented::UdpBound => (17, udp(src, 5001, BOUND_PORT, &pattern(len))),
                    Fragmented::UdpClosed => (17, udp(src, 5001, 9999, &pattern(len))),
                    Fragmented::Echo => (1, echo_request(0x99, 1, &pattern(len))),
                };
                let chunk = units * 8;
                let mut frames: Vec<Vec<u8>> = datagram
                    .chunks(chunk)
                    .enumerate()
                    .map(|(i, piece)| {
                        let offset = i * chunk;
                        let ip = Ip {
                            ident,
                            more_frags: offset + piece.len() < datagram.len(),
                            frag_offset: (offset / 8) as u16,
                            ..Ip::new(src, protocol)
                        };
                        ip.frame(piece)
                    })
                    .collect();
                if reverse {
                    frames.reverse();
                }
                frames
            }
        }
    }
}

/// The largest transport payload of one datagram, fragmented or not: 65,535 less the IPv4 header, or less
/// IPv6's Fragment header.
fn largest_payload(dst: std::net::IpAddr) -> usize {
    if dst.is_ipv4() {
        65_535 - IP_LEN
    } else {
        65_535 - 8
    }
}

/// Feeds `frame` and asserts it was dropped under `reason`, and under no other reason.
pub fn assert_dropped(h: &mut Harness, frame: &[u8], reason: DropReason) -> Vec<Output> {
    let before = h.stats().clone();
    let out = h.frame(frame);
    let after = h.stats();
    assert_eq!(after.drops(reason), before.drops(reason) + 1, "not counted as {reason:?}; stats:\n{after}");
    assert_eq!(after.total_drops(), before.total_drops() + 1, "counted more than once; stats:\n{after}");
    out
}
