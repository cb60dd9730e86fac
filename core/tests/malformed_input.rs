//! Hostile input: the stack never panics, counts every frame it does not use under exactly one `DropReason`,
//! answers every command with exactly one reply, and every frame it emits is valid (checked with etherparse).

use core::net::{Ipv4Addr, SocketAddrV4};
use core::time::Duration;
use etherparse as ep;
use proptest::prelude::*;
use std::collections::{BTreeSet, VecDeque};
use synack::wire::{self, checksum, EthernetAddress};
use synack::{
    Command, CommandError, Config, DropReason, Input, Instant, Layer, Output, Reply, SocketHandle, Stack, Stats,
};

const STACK_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
const STACK_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const PEER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 1, 0, 1]);
/// The UDP port the harness binds before anything else.
const BOUND_PORT: u16 = 7;
const ETH_LEN: usize = 14;
/// The default IP MTU.
const MTU: usize = 1500;
const IP_LEN: usize = 20;

fn config(seed: u64) -> Config {
    Config { mac: STACK_MAC, ipv4: "10.0.0.2/24".parse().unwrap(), seed, ..Config::default() }
}

/// The MAC a neighbour on 10.0.0.0/24 answers ARP with.
fn mac_for(ip: Ipv4Addr) -> EthernetAddress {
    let o = ip.octets();
    EthernetAddress([0x02, 0, 0, 1, o[2], o[3]])
}

/// Neighbours that answer ARP: 10.0.0.1 to 10.0.0.127. The others stay silent, so ARP gives up on them.
fn answers_arp(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    [o[0], o[1], o[2]] == [10, 0, 0] && (1..128).contains(&o[3]) && ip != STACK_IP
}

// ---- Frame builders (etherparse writes the headers, so inputs do not depend on the code under test) ----------

fn ethernet(src: EthernetAddress, dst: EthernetAddress, ether_type: u16, payload: &[u8]) -> Vec<u8> {
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

fn arp(
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
fn arp_request(sender: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let unknown = EthernetAddress([0; 6]);
    arp(ep::ArpOperation::REQUEST, EthernetAddress::BROADCAST, (mac_for(sender), sender), (unknown, target))
}

/// The IPv4 header fields the builders vary.
#[derive(Clone, Copy, Debug)]
struct Ip {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    ident: u16,
    more_frags: bool,
    /// In 8-byte units.
    frag_offset: u16,
}

impl Ip {
    fn new(src: Ipv4Addr, protocol: u8) -> Ip {
        Ip { src, dst: STACK_IP, protocol, ident: 0x4242, more_frags: false, frag_offset: 0 }
    }

    fn header(&self, payload_len: usize) -> ep::Ipv4Header {
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
    fn frame(&self, payload: &[u8]) -> Vec<u8> {
        let mut packet = Vec::new();
        self.header(payload.len()).write(&mut packet).unwrap();
        packet.extend_from_slice(payload);
        ethernet(mac_for(self.src), STACK_MAC, 0x0800, &packet)
    }
}

fn udp(src: Ipv4Addr, src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let h = ep::UdpHeader::without_ipv4_checksum(src_port, dst_port, payload.len()).unwrap();
    let h =
        ep::UdpHeader { checksum: h.calc_checksum_ipv4_raw(src.octets(), STACK_IP.octets(), payload).unwrap(), ..h };
    let mut out = h.to_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

fn tcp(src: Ipv4Addr, src_port: u16, dst_port: u16, seq: u32, raw_options: &[u8]) -> Vec<u8> {
    let mut h = ep::TcpHeader::new(src_port, dst_port, seq, 64240);
    h.syn = true;
    h.set_options_raw(raw_options).unwrap();
    h.checksum = h.calc_checksum_ipv4_raw(src.octets(), STACK_IP.octets(), &[]).unwrap();
    h.to_bytes().to_vec()
}

fn echo_request(ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let ty = ep::Icmpv4Type::EchoRequest(ep::IcmpEchoHeader { id: ident, seq });
    let mut out = ep::Icmpv4Header::with_checksum(ty, data).to_bytes().to_vec();
    out.extend_from_slice(data);
    out
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

/// Recomputes the IPv4 header checksum over the header length the frame claims (if it fits).
fn refresh_ipv4_checksum(frame: &mut [u8]) {
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
fn check_transmit(frame: &[u8]) {
    assert!(frame.len() >= 60, "runt frame of {} bytes: {frame:02x?}", frame.len());
    assert!(frame.len() <= ETH_LEN + 1500, "frame of {} bytes exceeds the MTU", frame.len());
    let headers = ep::PacketHeaders::from_ethernet_slice(frame)
        .unwrap_or_else(|e| panic!("etherparse rejects an emitted frame ({e:?}): {frame:02x?}"));
    let Some(ep::LinkHeader::Ethernet2(eth)) = &headers.link else { panic!("no Ethernet header: {frame:02x?}") };
    assert_eq!(eth.source, STACK_MAC.0, "Ethernet source is not the stack's MAC");
    let eth_dst = EthernetAddress(eth.destination);
    assert!(eth_dst != STACK_MAC, "frame sent to ourselves");
    assert!(
        eth_dst.is_broadcast() || (eth_dst.is_unicast() && eth_dst.0 != [0; 6]),
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
            assert!(!ip.is_fragmenting_payload(), "the stack never fragments");
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
        other => panic!("unexpected network layer {other:?} in an emitted frame"),
    }
}

/// Sum of every counter except `frames_in`/`bytes_in`: if it moves, the frame was used or counted.
fn activity(s: &Stats) -> u64 {
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
        + s.total_drops()
}

/// The well-formed Ethernet/IPv4 ARP packet in `frame`, if it is addressed to us (or broadcast).
fn wellformed_arp_for_us(frame: &[u8]) -> Option<wire::ArpRepr> {
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
struct Harness {
    stack: Stack,
    now: Instant,
    /// Every output of every call, in order (for determinism checks).
    log: Vec<Output>,
    /// Every address the stack may hold in its ARP cache: senders of ARP packets that targeted it, and targets
    /// of its own requests. An ARP packet from one of these may be used silently (it refreshes the entry).
    maybe_cached: BTreeSet<Ipv4Addr>,
}

impl Harness {
    fn new(seed: u64) -> Harness {
        Harness {
            stack: Stack::new(config(seed)).unwrap(),
            now: Instant::ZERO,
            log: Vec::new(),
            maybe_cached: BTreeSet::new(),
        }
    }

    /// A stack that knows the peer's MAC and has a UDP socket bound to [`BOUND_PORT`].
    fn primed(seed: u64) -> Harness {
        let mut h = Harness::new(seed);
        let out = h.frame(&arp_request(PEER_IP, STACK_IP));
        assert_eq!(transmits(&out).len(), 1, "no ARP reply: {out:?}");
        let out = h.command(Command::UdpBind { local: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, BOUND_PORT) });
        assert!(matches!(out[0], Output::Reply(Ok(Reply::Bound { .. }))), "{out:?}");
        h
    }

    fn handle(&mut self, input: Input<'_>) -> Vec<Output> {
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
    fn frame(&mut self, bytes: &[u8]) -> Vec<Output> {
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
    fn answer_arp(&mut self, out: &[Output]) {
        let mut pending: VecDeque<Vec<u8>> = transmits(out).into_iter().filter_map(arp_answer).collect();
        while let Some(reply) = pending.pop_front() {
            let out = self.handle(Input::Frame(&reply));
            pending.extend(transmits(&out).into_iter().filter_map(arp_answer));
        }
    }

    fn timer(&mut self, advance: Duration) -> Vec<Output> {
        self.now = self.now + advance;
        let out = self.handle(Input::Timer);
        self.answer_arp(&out);
        out
    }

    /// Runs a command and checks it yields exactly one reply, first.
    fn command(&mut self, cmd: Command) -> Vec<Output> {
        let shown = format!("{cmd:?}");
        let asked = match &cmd {
            Command::UdpSendTo { data, .. } => Some((data.len(), MTU - IP_LEN - 8)),
            Command::Ping { payload_len, .. } => Some((*payload_len, MTU - IP_LEN - 8)),
            _ => None,
        };
        let out = self.handle(Input::Command(cmd));
        assert!(matches!(out.first(), Some(Output::Reply(_))), "{shown}: first output is not the reply: {out:?}");
        let replies = out.iter().filter(|o| matches!(o, Output::Reply(_))).count();
        assert_eq!(replies, 1, "{shown}: {replies} replies: {out:?}");
        match (&out[0], asked) {
            (Output::Reply(Ok(Reply::Sent { len })), Some((asked, max))) => {
                assert_eq!(*len, asked, "{shown}");
                assert!(*len <= max, "{shown}: accepted more than fits the MTU");
            }
            (Output::Reply(Err(CommandError::MessageTooLong { max: m })), Some((asked, max))) => {
                assert_eq!(*m, max, "{shown}");
                assert!(asked > max, "{shown}: refused a message that fits");
            }
            (Output::Reply(Ok(Reply::Sent { .. })), None) => panic!("{shown}: Sent for a command that sends nothing"),
            _ => {}
        }
        self.answer_arp(&out);
        out
    }

    fn stats(&self) -> &Stats {
        self.stack.stats()
    }
}

fn transmits(out: &[Output]) -> Vec<&[u8]> {
    out.iter()
        .filter_map(|o| match o {
            Output::Transmit(f) => Some(&f[..]),
            _ => None,
        })
        .collect()
}

/// The address an emitted ARP request asks for.
fn arp_request_target(frame: &[u8]) -> Option<Ipv4Addr> {
    let headers = ep::PacketHeaders::from_ethernet_slice(frame).ok()?;
    let Some(ep::NetHeaders::Arp(arp)) = headers.net else { return None };
    let arp = arp.try_eth_ipv4().ok()?;
    (arp.operation == ep::ArpOperation::REQUEST).then(|| arp.target_ipv4_addr())
}

/// The reply a neighbour would send to one of the stack's ARP requests, if the neighbour exists.
fn arp_answer(frame: &[u8]) -> Option<Vec<u8>> {
    let target = arp_request_target(frame).filter(|t| answers_arp(*t))?;
    let ours = (STACK_MAC, STACK_IP);
    Some(arp(ep::ArpOperation::REPLY, STACK_MAC, (mac_for(target), target), ours))
}

// ---- Property: arbitrary bytes ----------------------------------------------------------------------------

/// Random frames, some shaped to get past the Ethernet and IPv4 checks so the deeper parsers see garbage too.
fn arbitrary_frame() -> impl Strategy<Value = Vec<u8>> {
    let dst =
        prop_oneof![Just(STACK_MAC), Just(EthernetAddress::BROADCAST), any::<[u8; 6]>().prop_map(EthernetAddress)];
    prop_oneof![
        // Pure noise, any length (mostly "not our MAC" or truncated).
        prop::collection::vec(any::<u8>(), 0..1600),
        // Aimed at us with a known EtherType, random body.
        (prop::collection::vec(any::<u8>(), 14..1600), dst.clone(), prop_oneof![Just(0x0800u16), Just(0x0806)])
            .prop_map(|(mut b, dst, et)| {
                b[..6].copy_from_slice(&dst.0);
                b[12..14].copy_from_slice(&et.to_be_bytes());
                b
            }),
        // A valid-looking IPv4 header to us (checksum right, lengths plausible), random transport.
        (
            prop::collection::vec(any::<u8>(), 34..1600),
            dst,
            prop_oneof![Just(1u8), Just(6), Just(17), any::<u8>()],
            1u8..=254,
            any::<bool>(),
            prop_oneof![
                6 => Just(STACK_IP),
                1 => Just(Ipv4Addr::new(10, 0, 0, 255)),
                1 => Just(Ipv4Addr::BROADCAST),
                1 => any::<[u8; 4]>().prop_map(Ipv4Addr::from),
            ],
        )
            .prop_map(|(mut b, dst, protocol, src_host, fix_len, dst_ip)| {
                b[..6].copy_from_slice(&dst.0);
                b[6..12].copy_from_slice(&mac_for(Ipv4Addr::new(10, 0, 0, src_host)).0);
                b[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
                b[14] = 0x45;
                if fix_len {
                    let total = (b.len() - ETH_LEN) as u16;
                    b[16..18].copy_from_slice(&total.to_be_bytes());
                    b[20..22].fill(0); // not a fragment
                }
                b[23] = protocol;
                b[26..30].copy_from_slice(&[10, 0, 0, src_host]);
                b[30..34].copy_from_slice(&dst_ip.octets());
                refresh_ipv4_checksum(&mut b);
                b
            }),
    ]
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_are_always_counted(
        frames in prop::collection::vec(arbitrary_frame(), 1..16),
        seed in any::<u64>(),
    ) {
        let mut h = Harness::primed(seed);
        for f in &frames {
            h.frame(f);
        }
    }
}

// ---- Property: mutated valid frames, timers and commands --------------------------------------------------

/// A valid frame aimed at the stack, before mutation.
#[derive(Clone, Debug)]
enum Kind {
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
enum Fragmented {
    UdpBound,
    UdpClosed,
    Echo,
}

#[derive(Clone, Debug)]
enum Mutation {
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
    fn apply(&self, frame: &mut Vec<u8>) {
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
    fn frames(&self, src: Ipv4Addr) -> Vec<Vec<u8>> {
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

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::ArpRequest),
        (0usize..1500).prop_map(|len| Kind::Echo { len }),
        (0usize..1500).prop_map(|len| Kind::UdpBound { len }),
        (0usize..1500).prop_map(|len| Kind::UdpClosed { len }),
        (any::<u32>(), prop_oneof![Just(80u16), 1u16..]).prop_map(|(seq, port)| Kind::TcpSyn { seq, port }),
        prop_oneof![Just(2u8), Just(47), Just(132), any::<u8>()]
            .prop_map(|protocol| Kind::UnknownProtocol { protocol }),
        (
            prop_oneof![Just(Fragmented::UdpBound), Just(Fragmented::UdpClosed), Just(Fragmented::Echo)],
            0usize..3000,
            1usize..100,
            any::<bool>(),
            any::<u16>()
        )
            .prop_map(|(what, len, units, reverse, ident)| Kind::Fragments {
                what,
                len,
                units,
                reverse,
                ident
            }),
        (prop_oneof![Just(0x77u16), any::<u16>()], 0u16..4, 0usize..100)
            .prop_map(|(ident, seq, len)| Kind::EchoReply { ident, seq, len }),
        (prop_oneof![Just(3u8), Just(11)], 0u8..16, port(), 0usize..60)
            .prop_map(|(ty, code, src_port, quote_len)| Kind::IcmpError { ty, code, src_port, quote_len }),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let positions = || prop::collection::vec((any::<usize>(), any::<u8>()), 1..8);
    prop_oneof![
        2 => Just(Mutation::None),
        2 => positions().prop_map(Mutation::FlipBits),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        2 => positions().prop_map(Mutation::Overwrite),
        1 => (0u8..16, any::<bool>()).prop_map(|(ihl, fix)| Mutation::SetIhl(ihl, fix)),
        1 => (prop_oneof![0u16..64, any::<u16>()], any::<bool>()).prop_map(|(len, fix)| Mutation::SetTotalLen(len, fix)),
        1 => (0u8..16).prop_map(Mutation::SetDataOffset),
        1 => prop_oneof![0u16..16, any::<u16>()].prop_map(Mutation::SetUdpLen),
    ]
}

fn socket() -> impl Strategy<Value = SocketHandle> {
    prop_oneof![3 => 1u32..4, 1 => 0u32..16].prop_map(SocketHandle)
}

fn port() -> impl Strategy<Value = u16> {
    prop_oneof![Just(0u16), Just(BOUND_PORT), Just(9), Just(53), any::<u16>()]
}

/// Destinations: answering and silent neighbours, broadcasts, ourselves, and addresses that are refused.
fn destination() -> impl Strategy<Value = Ipv4Addr> {
    prop_oneof![
        4 => Just(PEER_IP),
        2 => any::<u8>().prop_map(|h| Ipv4Addr::new(10, 0, 0, h)),
        1 => Just(Ipv4Addr::new(10, 0, 0, 255)),
        1 => Just(Ipv4Addr::BROADCAST),
        1 => Just(Ipv4Addr::UNSPECIFIED),
        1 => Just(Ipv4Addr::new(224, 0, 0, 1)),
        1 => Just(Ipv4Addr::new(127, 0, 0, 1)),
        1 => Just(STACK_IP),
        1 => Just(Ipv4Addr::new(192, 168, 1, 1)),
    ]
}

fn size() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 0usize..100, 2 => 1400usize..1600, 1 => Just(1472usize), 1 => Just(1473usize), 1 => Just(70_000usize)]
}

fn command() -> impl Strategy<Value = Command> {
    let bind_ip = prop_oneof![Just(Ipv4Addr::UNSPECIFIED), Just(STACK_IP), Just(PEER_IP)];
    prop_oneof![
        (bind_ip, port()).prop_map(|(ip, port)| Command::UdpBind { local: SocketAddrV4::new(ip, port) }),
        (socket(), destination(), port(), size()).prop_map(|(sock, ip, port, len)| Command::UdpSendTo {
            sock,
            remote: SocketAddrV4::new(ip, port),
            data: pattern(len),
        }),
        socket().prop_map(|sock| Command::UdpRecv { sock }),
        socket().prop_map(|sock| Command::UdpClose { sock }),
        prop::option::of(prop_oneof![Just(0x77u16), any::<u16>()]).prop_map(|ident| Command::PingOpen { ident }),
        (socket(), destination(), 0u16..4, prop_oneof![4 => size(), 1 => Just(usize::MAX)])
            .prop_map(|(sock, dst, seq_no, payload_len)| Command::Ping { sock, dst, seq_no, payload_len }),
        socket().prop_map(|sock| Command::PingClose { sock }),
    ]
}

#[derive(Clone, Debug)]
enum Action {
    Frame {
        kind: Kind,
        mutation: Mutation,
        victim: usize,
        src_host: u8,
    },
    Timer(Duration),
    /// Jump straight to the stack's next deadline and fire it.
    NextDeadline,
    Command(Command),
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (kind(), mutation(), any::<usize>(), prop_oneof![4 => Just(1u8), 1 => any::<u8>()])
            .prop_map(|(kind, mutation, victim, src_host)| Action::Frame { kind, mutation, victim, src_host }),
        1 => (0u64..40_000).prop_map(|ms| Action::Timer(Duration::from_millis(ms))),
        1 => Just(Action::NextDeadline),
        3 => command().prop_map(Action::Command),
    ]
}

fn run(h: &mut Harness, actions: &[Action]) {
    for action in actions {
        match action {
            Action::Frame { kind, mutation, victim, src_host } => {
                let mut frames = kind.frames(Ipv4Addr::new(10, 0, 0, *src_host));
                let n = frames.len();
                mutation.apply(&mut frames[victim % n]);
                for f in &frames {
                    h.frame(f);
                }
            }
            Action::Timer(advance) => {
                h.timer(*advance);
            }
            Action::NextDeadline => {
                let advance = h.stack.poll_timeout().map_or(Duration::ZERO, |at| at - h.now);
                h.timer(advance);
            }
            Action::Command(cmd) => {
                h.command(cmd.clone());
            }
        }
    }
    // Let every timer run out; nothing may be left behind that panics later.
    for _ in 0..64 {
        match h.stack.poll_timeout() {
            Some(at) => {
                let advance = at - h.now;
                h.timer(advance);
            }
            None => break,
        }
    }
}

proptest! {
    #[test]
    fn mutated_frames_timers_and_commands_never_panic(
        actions in prop::collection::vec(action(), 1..40),
        seed in any::<u64>(),
    ) {
        let mut h = Harness::primed(seed);
        run(&mut h, &actions);
    }

    #[test]
    fn same_seed_same_outputs(
        actions in prop::collection::vec(action(), 1..40),
        seed in any::<u64>(),
    ) {
        let mut a = Harness::primed(seed);
        let mut b = Harness::primed(seed);
        run(&mut a, &actions);
        run(&mut b, &actions);
        prop_assert_eq!(&a.log, &b.log);
        prop_assert_eq!(a.stats(), b.stats());
    }
}

// ---- Named malformed cases --------------------------------------------------------------------------------

/// Feeds `frame` and asserts it was dropped under `reason`, and under no other reason.
fn assert_dropped(h: &mut Harness, frame: &[u8], reason: DropReason) -> Vec<Output> {
    let before = h.stats().clone();
    let out = h.frame(frame);
    let after = h.stats();
    assert_eq!(after.drops(reason), before.drops(reason) + 1, "not counted as {reason:?}; stats:\n{after}");
    assert_eq!(after.total_drops(), before.total_drops() + 1, "counted more than once; stats:\n{after}");
    out
}

fn echo_frame() -> Vec<u8> {
    Ip::new(PEER_IP, 1).frame(&echo_request(1, 1, b"malformed"))
}

#[test]
fn valid_echo_request_is_answered() {
    let mut h = Harness::primed(1);
    let out = h.frame(&echo_frame());
    let frames = transmits(&out);
    assert_eq!(frames.len(), 1, "{out:?}");
    let headers = ep::PacketHeaders::from_ethernet_slice(frames[0]).unwrap();
    let Some(ep::TransportHeader::Icmpv4(icmp)) = headers.transport else { panic!() };
    assert_eq!(icmp.icmp_type, ep::Icmpv4Type::EchoReply(ep::IcmpEchoHeader { id: 1, seq: 1 }));
    assert_eq!(headers.payload.slice(), b"malformed");
    assert_eq!(h.stats().total_drops(), 0);
}

#[test]
fn truncated_ethernet() {
    let mut h = Harness::primed(1);
    let frame = echo_frame();
    for len in 0..ETH_LEN {
        assert_dropped(&mut h, &frame[..len], DropReason::Malformed(Layer::Ethernet, wire::Error::Truncated));
    }
}

#[test]
fn bad_ipv4_version() {
    let mut h = Harness::primed(1);
    let mut frame = echo_frame();
    frame[ETH_LEN] = 0x65;
    refresh_ipv4_checksum(&mut frame);
    assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ipv4, wire::Error::BadVersion));
}

#[test]
fn bad_ihl() {
    let mut h = Harness::primed(1);
    for ihl in 0..5 {
        let mut frame = echo_frame();
        frame[ETH_LEN] = 0x40 | ihl;
        assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ipv4, wire::Error::BadLength));
    }
}

#[test]
fn bad_ipv4_checksum() {
    let mut h = Harness::primed(1);
    let mut frame = echo_frame();
    frame[ETH_LEN + 11] ^= 0x01;
    assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ipv4, wire::Error::BadChecksum));
}

#[test]
fn total_length_beyond_frame() {
    let mut h = Harness::primed(1);
    let mut frame = echo_frame();
    let total = (frame.len() - ETH_LEN + 100) as u16;
    frame[ETH_LEN + 2..ETH_LEN + 4].copy_from_slice(&total.to_be_bytes());
    refresh_ipv4_checksum(&mut frame);
    assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ipv4, wire::Error::Truncated));
}

#[test]
fn udp_bad_checksum() {
    let mut h = Harness::primed(1);
    let mut frame = Ip::new(PEER_IP, 17).frame(&udp(PEER_IP, 5000, BOUND_PORT, b"hello"));
    frame[ETH_LEN + IP_LEN + 8] ^= 0x20;
    let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Udp, wire::Error::BadChecksum));
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn udp_length_below_header() {
    let mut h = Harness::primed(1);
    for len in 0..8u16 {
        let mut frame = Ip::new(PEER_IP, 17).frame(&udp(PEER_IP, 5000, BOUND_PORT, b"hello"));
        frame[ETH_LEN + IP_LEN + 4..ETH_LEN + IP_LEN + 6].copy_from_slice(&len.to_be_bytes());
        assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Udp, wire::Error::BadLength));
    }
}

#[test]
fn tcp_data_offset_below_five() {
    let mut h = Harness::primed(1);
    for words in 0..5u8 {
        let mut frame = Ip::new(PEER_IP, 6).frame(&tcp(PEER_IP, 40000, 80, 1000, &[]));
        frame[ETH_LEN + IP_LEN + 12] = words << 4;
        assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Tcp, wire::Error::BadLength));
    }
}

#[test]
fn tcp_bad_option_length() {
    let mut h = Harness::primed(1);
    // MSS claiming 3 bytes, with a correct checksum so the options are what fails.
    let frame = Ip::new(PEER_IP, 6).frame(&tcp(PEER_IP, 40000, 80, 1000, &[2, 3, 5, 0xb4]));
    let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Tcp, wire::Error::BadOption));
    assert!(out.is_empty(), "{out:?}");
    // An unknown option whose length runs past the header.
    let frame = Ip::new(PEER_IP, 6).frame(&tcp(PEER_IP, 40000, 80, 1000, &[30, 9, 0, 0]));
    assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Tcp, wire::Error::BadOption));
}

#[test]
fn icmp_bad_checksum() {
    let mut h = Harness::primed(1);
    let mut frame = echo_frame();
    frame[ETH_LEN + IP_LEN + 9] ^= 0x01;
    let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Icmp, wire::Error::BadChecksum));
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn arp_for_another_hardware_type() {
    let mut h = Harness::primed(1);
    let packet = ep::ArpPacket::new(
        ep::ArpHardwareId::IEEE802,
        ep::EtherType::IPV4,
        ep::ArpOperation::REQUEST,
        &mac_for(PEER_IP).0,
        &PEER_IP.octets(),
        &[0; 6],
        &STACK_IP.octets(),
    )
    .unwrap();
    let frame = ethernet(mac_for(PEER_IP), EthernetAddress::BROADCAST, 0x0806, &packet.to_bytes());
    let out = assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Arp, wire::Error::Unsupported));
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn frame_for_another_mac() {
    let mut h = Harness::primed(1);
    let mut frame = echo_frame();
    frame[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x99]);
    assert_dropped(&mut h, &frame, DropReason::NotOurMac);
}

#[test]
fn ipv6_ethertype() {
    let mut h = Harness::primed(1);
    let frame = ethernet(PEER_MAC, STACK_MAC, 0x86dd, &[0x60; 40]);
    assert_dropped(&mut h, &frame, DropReason::UnsupportedEtherType);
}

#[test]
fn packet_to_another_address() {
    let mut h = Harness::primed(1);
    let ip = Ip { dst: Ipv4Addr::new(10, 0, 0, 3), ..Ip::new(PEER_IP, 1) };
    let out = assert_dropped(&mut h, &ip.frame(&echo_request(1, 1, b"x")), DropReason::NotOurAddress);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn broadcast_source() {
    let mut h = Harness::primed(1);
    for src in [Ipv4Addr::BROADCAST, Ipv4Addr::new(10, 0, 0, 255), Ipv4Addr::UNSPECIFIED, STACK_IP] {
        let mut frame = Ip::new(src, 1).frame(&echo_request(1, 1, b"x"));
        frame[6..12].copy_from_slice(&PEER_MAC.0);
        let out = assert_dropped(&mut h, &frame, DropReason::BadSourceAddress);
        assert!(out.is_empty(), "{src}: {out:?}");
    }
}

/// Parses the single ICMP error the stack sent and returns (type, code, quoted original).
fn icmp_error(out: &[Output]) -> (u8, u8, Vec<u8>) {
    let frames = transmits(out);
    assert_eq!(frames.len(), 1, "{out:?}");
    let headers = ep::PacketHeaders::from_ethernet_slice(frames[0]).unwrap();
    let Some(ep::LinkHeader::Ethernet2(eth)) = &headers.link else { panic!() };
    assert_eq!(eth.destination, mac_for(PEER_IP).0);
    let Some(ep::NetHeaders::Ipv4(ip, _)) = &headers.net else { panic!() };
    assert_eq!(ip.destination, PEER_IP.octets());
    assert_eq!(ip.protocol, ep::IpNumber::ICMP);
    let icmp = &frames[0][ETH_LEN + IP_LEN..ETH_LEN + usize::from(ip.total_len)];
    (icmp[0], icmp[1], icmp[8..].to_vec())
}

#[test]
fn unknown_protocol_is_answered_with_protocol_unreachable() {
    let mut h = Harness::primed(1);
    let frame = Ip::new(PEER_IP, 253).frame(&pattern(16));
    let out = assert_dropped(&mut h, &frame, DropReason::UnknownProtocol);
    let (ty, code, original) = icmp_error(&out);
    assert_eq!((ty, code), (3, 2));
    assert_eq!(original, &frame[ETH_LEN..ETH_LEN + IP_LEN + 16], "quotes the whole small datagram");
    assert_eq!(h.stats().icmp_errors_sent, 1);
}

#[test]
fn udp_to_closed_port_is_answered_with_port_unreachable() {
    let mut h = Harness::primed(1);
    let frame = Ip::new(PEER_IP, 17).frame(&udp(PEER_IP, 5000, 9999, b"anyone there?"));
    let out = assert_dropped(&mut h, &frame, DropReason::UdpNoSocket);
    let (ty, code, original) = icmp_error(&out);
    assert_eq!((ty, code), (3, 3));
    // The original IPv4 header and (at least) the 8-byte UDP header, byte for byte.
    assert!(original.len() >= IP_LEN + 8);
    assert_eq!(&original[..IP_LEN + 8], &frame[ETH_LEN..ETH_LEN + IP_LEN + 8]);
    assert_eq!(original, &frame[ETH_LEN..ETH_LEN + IP_LEN + 8 + 13]);
}

#[test]
fn tcp_syn_to_closed_port_is_reset() {
    let mut h = Harness::primed(1);
    let seq = 0xffff_fff0;
    let frame = Ip::new(PEER_IP, 6).frame(&tcp(PEER_IP, 40000, 81, seq, &[2, 4, 5, 0xb4]));
    let out = assert_dropped(&mut h, &frame, DropReason::TcpNoSocket);
    let frames = transmits(&out);
    assert_eq!(frames.len(), 1, "{out:?}");
    let headers = ep::PacketHeaders::from_ethernet_slice(frames[0]).unwrap();
    let Some(ep::NetHeaders::Ipv4(ip, _)) = &headers.net else { panic!() };
    assert_eq!(ip.destination, PEER_IP.octets());
    let Some(ep::TransportHeader::Tcp(rst)) = &headers.transport else { panic!() };
    assert!(rst.rst && rst.ack && !rst.syn && !rst.fin, "{rst:?}");
    assert_eq!((rst.source_port, rst.destination_port), (81, 40000));
    assert_eq!(rst.sequence_number, 0);
    assert_eq!(rst.acknowledgment_number, seq.wrapping_add(1));
    assert_eq!(h.stats().tcp_resets_sent, 1);
}

#[test]
fn non_final_fragment_not_a_multiple_of_eight() {
    let mut h = Harness::primed(1);
    let ip = Ip { more_frags: true, ..Ip::new(PEER_IP, 17) };
    let frame = ip.frame(&pattern(13));
    assert_dropped(&mut h, &frame, DropReason::Malformed(Layer::Ipv4, wire::Error::BadLength));
    assert_eq!(h.stats().fragments_received, 0);
}

#[test]
fn fragments_reassemble_into_a_datagram_for_the_bound_port() {
    let mut h = Harness::primed(1);
    let kind = Kind::Fragments { what: Fragmented::UdpBound, len: 100, units: 3, reverse: true, ident: 9 };
    let mut events = Vec::new();
    for f in kind.frames(PEER_IP) {
        events.extend(h.frame(&f));
    }
    assert!(matches!(events[..], [Output::Event(_, synack::Event::Readable)]), "{events:?}");
    assert_eq!(h.stats().datagrams_reassembled, 1);
    let out = h.command(Command::UdpRecv { sock: SocketHandle(1) });
    assert_eq!(
        out[0],
        Output::Reply(Ok(Reply::Datagram { from: SocketAddrV4::new(PEER_IP, 5001), data: pattern(100) }))
    );
}

#[test]
fn replies_to_a_silent_neighbour_wait_then_give_up() {
    let mut h = Harness::primed(1);
    let silent = Ipv4Addr::new(10, 0, 0, 200);
    let mut frame = Ip::new(silent, 1).frame(&echo_request(5, 6, b"hi"));
    frame[6..12].copy_from_slice(&mac_for(silent).0);
    let out = h.frame(&frame);
    // The reply waits for ARP: only the request goes out.
    let frames = transmits(&out);
    assert_eq!(frames.len(), 1);
    assert_eq!(&frames[0][12..14], &[0x08, 0x06]);
    while let Some(at) = h.stack.poll_timeout() {
        let advance = at - h.now;
        h.timer(advance);
    }
    assert_eq!(h.stats().drops(DropReason::ArpUnresolved), 1);
    assert_eq!(h.stats().arp_requests_sent, 3);
}

#[test]
fn icmp_error_about_a_large_reassembled_datagram_is_cut_to_576_bytes() {
    let mut h = Harness::primed(1);
    let kind = Kind::Fragments { what: Fragmented::UdpClosed, len: 2000, units: 100, reverse: false, ident: 3 };
    let frames = kind.frames(PEER_IP);
    let first_header = frames[0][ETH_LEN..ETH_LEN + IP_LEN].to_vec();
    let mut out = Vec::new();
    for f in &frames {
        out.extend(h.frame(f));
    }
    assert_eq!(h.stats().drops(DropReason::UdpNoSocket), 1);
    let (ty, code, original) = icmp_error(&out);
    assert_eq!((ty, code), (3, 3));
    assert_eq!(IP_LEN + 8 + original.len(), 576, "RFC 1812: the error datagram is at most 576 bytes");
    assert_eq!(&original[..IP_LEN], &first_header[..]);
    assert_eq!(&original[IP_LEN..IP_LEN + 8], &frames[0][ETH_LEN + IP_LEN..ETH_LEN + IP_LEN + 8]);
}

#[test]
fn reassembly_timeout_sends_time_exceeded_quoting_the_first_fragment() {
    let mut h = Harness::primed(1);
    let kind = Kind::Fragments { what: Fragmented::UdpBound, len: 100, units: 4, reverse: false, ident: 5 };
    let frames = kind.frames(PEER_IP);
    assert!(h.frame(&frames[0]).is_empty());
    let at = h.stack.poll_timeout().expect("a reassembly timer");
    let out = h.timer(at - h.now);
    assert_eq!(h.stats().drops(DropReason::ReassemblyTimeout), 1);
    let (ty, code, original) = icmp_error(&out);
    assert_eq!((ty, code), (11, 1));
    assert_eq!(&original[..IP_LEN + 8], &frames[0][ETH_LEN..ETH_LEN + IP_LEN + 8]);
}
