//! Traceroute: UDP probes with TTL 1, 2, ..., each to its own destination port, so that the ICMP time
//! exceeded of each router on the way, and the port unreachable of the destination, tell which probe they
//! answer. The stack has no per-datagram TTL, so the app builds the probe frames itself and puts them on the
//! host's interface ([`Cx::transmit`]); it binds the probes' source port, so the stack hands it the ICMP
//! errors that quote them.

use super::{describe_reason, App, AppReport, Cx};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;
use synack::wire::{
    ethernet, EcnCodepoint, EtherType, EthernetAddress, EthernetFrame, EthernetRepr, IpProtocol, Ipv4Packet, Ipv4Repr,
    UdpPacket, UdpRepr,
};
use synack::{Command, Event, Instant, Reply, SocketHandle};

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

#[derive(Debug)]
pub struct Traceroute {
    report: AppReport,
    path: ProbePath,
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
        Traceroute { report, path, probes, interval, size, sock: None, sent, finished: false }
    }

    /// The probe with TTL `ttl`, as an Ethernet frame.
    fn probe(&self, ttl: u8) -> Vec<u8> {
        let p = &self.path;
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
        let local = std::net::SocketAddr::from(([0, 0, 0, 0], self.path.src.port()));
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
        cx.transmit(self.probe(ttl));
        self.sent.push((cx.now(), false));
        if ttl < self.probes {
            cx.set_timer(cx.now() + self.interval, token + 1);
        } else {
            cx.set_timer(cx.now() + LINGER, GIVE_UP);
        }
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, _sock: SocketHandle, event: &Event) {
        let Event::Unreachable { port: Some(port), reason, .. } = event else { return };
        let Some(n) = port.checked_sub(self.path.first_port).map(usize::from) else { return };
        let Some(probe) = self.sent.get_mut(n) else { return };
        if probe.1 {
            return;
        }
        probe.1 = true;
        let rtt = cx.now() - probe.0;
        self.report.count += 1;
        self.report.rtts.push(rtt);
        self.report.lines.push(format!(
            "ttl {}: {} after {:.3}ms",
            n + 1,
            describe_reason(*reason),
            rtt.as_secs_f64() * 1e3
        ));
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
