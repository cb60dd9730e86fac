//! Traceroute: UDP probes with TTL (IPv6: hop limit) 1, 2, ..., each to its own destination port, so that the
//! ICMP or ICMPv6 time exceeded of each router on the way, and the port unreachable of the destination, tell
//! which probe they answer. The stack has no per-datagram TTL, so the app builds the probe frames itself and
//! puts them on the host's interface ([`Cx::transmit`]); it binds the probes' source port, so the stack hands
//! it the ICMP errors that quote them. An IPv6 probe's source is the host's first preferred global address
//! when it is sent, so one the host autoconfigured (SLAAC) serves as well as one configured by hand.

use super::{describe_reason, App, AppReport, Cx};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4};
use std::time::Duration;
use synack::wire::ipv6::{self, Ipv6Packet, Ipv6Repr};
use synack::wire::{
    ethernet, EcnCodepoint, EtherType, EthernetAddress, EthernetFrame, EthernetRepr, IpProtocol, Ipv4Packet, Ipv4Repr,
    UdpPacket, UdpRepr,
};
use synack::{Command, Event, Instant, Reply, SocketHandle, UnreachableReason};

/// How long the app waits for answers after its last probe.
const LINGER: Duration = Duration::from_secs(1);
const GIVE_UP: u64 = u64::MAX;

/// Where the probes come from and go: the host's own addresses and the MAC of the first hop.
#[derive(Clone, Copy, Debug)]
pub struct ProbePath {
    pub src: SocketAddrV4,
    pub src_mac: EthernetAddress,
    pub next_hop_mac: EthernetAddress,
    pub dst: Ipv4Addr,
    /// The destination port of the first probe; probe `n` goes to `first_port + n - 1`.
    pub first_port: u16,
}

/// Where IPv6 probes go: the MAC of the first hop (the router the host's link leads to, or the destination on
/// the same link); the source address is the host's when each probe leaves.
#[derive(Clone, Copy, Debug)]
pub struct ProbePath6 {
    pub src_port: u16,
    pub src_mac: EthernetAddress,
    pub next_hop_mac: EthernetAddress,
    pub dst: Ipv6Addr,
    /// The destination port of the first probe; probe `n` goes to `first_port + n - 1`.
    pub first_port: u16,
}

/// The probes' family and path.
#[derive(Clone, Copy, Debug)]
enum Path {
    V4(ProbePath),
    V6(ProbePath6),
}

#[derive(Debug)]
pub struct Traceroute {
    report: AppReport,
    path: Path,
    probes: u8,
    interval: Duration,
    size: usize,
    sock: Option<SocketHandle>,
    /// When probe n (index n-1) was sent, and whether it has been answered.
    sent: Vec<(Instant, bool)>,
    finished: bool,
}

impl Traceroute {
    pub fn new(report: AppReport, path: ProbePath, probes: u8, interval: Duration, size: usize) -> Traceroute {
        let sent = Vec::new();
        Traceroute { report, path: Path::V4(path), probes, interval, size, sock: None, sent, finished: false }
    }

    /// A traceroute over IPv6.
    pub fn new6(report: AppReport, path: ProbePath6, probes: u8, interval: Duration, size: usize) -> Traceroute {
        let sent = Vec::new();
        Traceroute { report, path: Path::V6(path), probes, interval, size, sock: None, sent, finished: false }
    }

    fn first_port(&self) -> u16 {
        match &self.path {
            Path::V4(p) => p.first_port,
            Path::V6(p) => p.first_port,
        }
    }

    /// The IPv6 probe with hop limit `hops` from `src`, as an Ethernet frame.
    fn probe6(&self, p: &ProbePath6, src: Ipv6Addr, hops: u8) -> Vec<u8> {
        let data = vec![0u8; self.size];
        let udp = UdpRepr { src_port: p.src_port, dst_port: p.first_port + u16::from(hops) - 1, payload: &data };
        let ip = Ipv6Repr {
            src_addr: src,
            dst_addr: p.dst,
            next_header: IpProtocol::Udp,
            payload_len: udp.buffer_len(),
            hop_limit: hops,
            dscp: 0,
            ecn: EcnCodepoint::NotEct,
            flow_label: 0,
        };
        let mut frame = vec![0u8; ethernet::frame_len(ipv6::HEADER_LEN + udp.buffer_len())];
        let mut eth = EthernetFrame::new_unchecked(&mut frame[..]);
        EthernetRepr { src_addr: p.src_mac, dst_addr: p.next_hop_mac, ethertype: EtherType::Ipv6 }.emit(&mut eth);
        let mut packet = Ipv6Packet::new_unchecked(&mut eth.payload_mut()[..ipv6::HEADER_LEN + udp.buffer_len()]);
        ip.emit(&mut packet);
        udp.emit(&mut UdpPacket::new_unchecked(packet.payload_mut()), &src, &p.dst);
        frame
    }

    /// The probe with TTL `ttl`, as an Ethernet frame.
    fn probe(&self, p: &ProbePath, ttl: u8) -> Vec<u8> {
        let data = vec![0u8; self.size];
        let udp = UdpRepr { src_port: p.src.port(), dst_port: p.first_port + u16::from(ttl) - 1, payload: &data };
        let ip = Ipv4Repr {
            src_addr: *p.src.ip(),
            dst_addr: p.dst,
            protocol: IpProtocol::Udp,
            payload_len: udp.buffer_len(),
            ttl,
            ident: u16::from(ttl),
            dont_frag: false,
            ecn: EcnCodepoint::NotEct,
        };
        let mut frame = vec![0u8; ethernet::frame_len(ip.buffer_len() + udp.buffer_len())];
        let mut eth = EthernetFrame::new_unchecked(&mut frame[..]);
        EthernetRepr { src_addr: p.src_mac, dst_addr: p.next_hop_mac, ethertype: EtherType::Ipv4 }.emit(&mut eth);
        let mut ipv = Ipv4Packet::new_unchecked(eth.payload_mut());
        ip.emit(&mut ipv);
        udp.emit(&mut UdpPacket::new_unchecked(ipv.payload_mut()), &ip.src_addr, &ip.dst_addr);
        frame
    }

    fn finish(&mut self, now: Instant) {
        if !self.finished {
            self.finished = true;
            self.report.complete = self.sent.len() == usize::from(self.probes) && self.sent.iter().all(|s| s.1);
            self.report.done_at = Some(now);
        }
    }
}

impl App for Traceroute {
    fn start(&mut self, cx: &mut Cx<'_>) {
        let local = match &self.path {
            Path::V4(p) => std::net::SocketAddr::from(([0, 0, 0, 0], p.src.port())),
            Path::V6(p) => std::net::SocketAddr::from((Ipv6Addr::UNSPECIFIED, p.src_port)),
        };
        match cx.command(Command::UdpBind { local }) {
            Ok(Reply::Bound { sock, .. }) => self.sock = Some(sock),
            other => {
                self.report.errors.push(format!("bind {local}: {other:?}"));
                return self.finish(cx.now());
            }
        }
        cx.set_timer(cx.now(), 1);
    }

    fn on_timer(&mut self, cx: &mut Cx<'_>, token: u64) {
        if token == GIVE_UP || self.finished {
            return self.finish(cx.now());
        }
        let Ok(ttl) = u8::try_from(token) else { return };
        match self.path {
            Path::V4(p) => cx.transmit(self.probe(&p, ttl)),
            Path::V6(p) => {
                let global = cx
                    .stack
                    .ipv6_addresses()
                    .into_iter()
                    .find(|a| a.state == "preferred" && !ipv6::is_link_local(&a.addr) && !a.addr.is_loopback());
                match global {
                    Some(a) => cx.transmit(self.probe6(&p, a.addr, ttl)),
                    None => {
                        self.report.errors.push(format!("probe {ttl}: the host has no preferred global IPv6 address"))
                    }
                }
            }
        }
        self.sent.push((cx.now(), false));
        if ttl < self.probes {
            cx.set_timer(cx.now() + self.interval, token + 1);
        } else {
            cx.set_timer(cx.now() + LINGER, GIVE_UP);
        }
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, _sock: SocketHandle, event: &Event) {
        let Event::Unreachable { port: Some(port), reason, reporter, .. } = event else { return };
        let Some(n) = port.checked_sub(self.first_port()).map(usize::from) else { return };
        let Some(probe) = self.sent.get_mut(n) else { return };
        if probe.1 {
            return;
        }
        probe.1 = true;
        let rtt = cx.now() - probe.0;
        self.report.count += 1;
        self.report.rtts.push(rtt);
        let (limit, what) = match (&self.path, *reason) {
            (Path::V6(_), UnreachableReason::TimeExceeded { code: 0 }) => {
                ("hop limit", "ICMPv6 hop limit exceeded in transit".to_string())
            }
            (Path::V6(_), r) => ("hop limit", describe_reason(r)),
            (Path::V4(_), r) => ("ttl", describe_reason(r)),
        };
        // What traceroute prints: each hop's address (the router that answered), then how and how fast.
        let hop = reporter.map_or_else(|| "*".to_string(), |r| r.to_string());
        self.report.lines.push(format!("{limit} {}: {hop}: {what} after {:.3}ms", n + 1, rtt.as_secs_f64() * 1e3));
        if self.sent.len() == usize::from(self.probes) && self.sent.iter().all(|s| s.1) {
            self.finish(cx.now());
        }
    }

    fn is_finished(&self) -> bool {
        self.finished
    }

    fn report(&self) -> AppReport {
        self.report.clone()
    }
}
