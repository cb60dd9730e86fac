//! An off-path ("blind") attacker: it knows a victim connection's four-tuple but sees none of its traffic, and
//! injects spoofed RSTs, SYNs and data segments whose sequence (and acknowledgment) numbers it can only guess.
//! RFC 5961 is what makes such guesses harmless: a RST must hit RCV.NXT exactly (anything else in the window only
//! draws a challenge ACK), a SYN in a synchronized state never resets, and data must carry an acceptable ACK.

use super::{App, AppReport, Cx};
use crate::rng;
use rand_chacha::rand_core::RngCore;
use rand_chacha::ChaCha8Rng;
use std::net::SocketAddrV4;
use std::time::Duration;
use synack::tcp::SeqNum;
use synack::wire::ethernet::{self, EthernetRepr};
use synack::wire::{
    EtherType, EthernetAddress, EthernetFrame, IpProtocol, Ipv4Packet, Ipv4Repr, TcpFlags, TcpOptions, TcpPacket,
    TcpRepr,
};
use synack::{Event, SocketHandle};

/// One end of the victim connection, as the attacker knows it: its address and the MAC of its port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Victim {
    pub addr: SocketAddrV4,
    pub mac: EthernetAddress,
}

/// What to inject and how fast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttackPlan {
    /// Spoofed RSTs (half of them RST+ACK with a guessed ACK), SYNs, and data segments (ACK+PSH, guessed ACK).
    pub rsts: u64,
    pub syns: u64,
    pub data: u64,
    /// Payload bytes of each data segment.
    pub size: usize,
    /// Time between two injected segments (0: everything at the start).
    pub interval: Duration,
    /// Also attack the other direction: segments to `spoofed` claiming to come from `target`.
    pub both_ways: bool,
}

/// Injects `plan`'s segments toward `target`, claiming to come from `spoofed` (and the reverse with
/// `both_ways`), one every `interval`, kinds interleaved. Sequence and acknowledgment numbers are uniform over
/// the 32-bit space, from the app's own ChaCha8 stream (derived from the scenario seed). Frames carry the
/// attacker's own source MAC: only the IP source and the TCP port are forged. Counts injected segments.
#[derive(Debug)]
pub struct BlindAttacker {
    report: AppReport,
    target: Victim,
    spoofed: Victim,
    plan: AttackPlan,
    rng: ChaCha8Rng,
    /// Still to send: RSTs, SYNs, data.
    left: [u64; 3],
    next_kind: usize,
    sent: [u64; 3],
    ident: u16,
}

const KIND_NAMES: [&str; 3] = ["rst", "syn", "data"];

impl BlindAttacker {
    pub fn new(report: AppReport, target: Victim, spoofed: Victim, plan: AttackPlan, seed: u64) -> BlindAttacker {
        BlindAttacker {
            report,
            target,
            spoofed,
            plan,
            rng: rng::stream(seed, 0),
            left: [plan.rsts, plan.syns, plan.data],
            next_kind: 0,
            sent: [0; 3],
            ident: 0,
        }
    }

    fn remaining(&self) -> u64 {
        self.left.iter().sum()
    }

    /// The next kind with segments left, round robin.
    fn pick_kind(&mut self) -> Option<usize> {
        for _ in 0..3 {
            let k = self.next_kind;
            self.next_kind = (self.next_kind + 1) % 3;
            if self.left[k] > 0 {
                return Some(k);
            }
        }
        None
    }

    /// Builds one spoofed segment of `kind` (0 RST, 1 SYN, 2 data).
    fn forge(&mut self, kind: usize, my_mac: EthernetAddress) -> Vec<u8> {
        // With `both_ways`, every other segment goes the other way.
        let reverse = self.plan.both_ways && self.rng.next_u32() & 1 == 1;
        let (from, to) = if reverse { (self.target, self.spoofed) } else { (self.spoofed, self.target) };
        let seq = SeqNum(self.rng.next_u32());
        let ack = SeqNum(self.rng.next_u32());
        let mut payload = Vec::new();
        let (flags, ack_number) = match kind {
            0 if self.rng.next_u32() & 1 == 1 => (TcpFlags::RST | TcpFlags::ACK, ack),
            0 => (TcpFlags::RST, SeqNum(0)),
            1 => (TcpFlags::SYN, SeqNum(0)),
            _ => {
                payload = vec![0u8; self.plan.size];
                self.rng.fill_bytes(&mut payload);
                (TcpFlags::ACK | TcpFlags::PSH, ack)
            }
        };
        let options =
            if kind == 1 { TcpOptions { mss: Some(1460), ..TcpOptions::default() } } else { TcpOptions::default() };
        let seg = TcpRepr {
            src_port: from.addr.port(),
            dst_port: to.addr.port(),
            seq_number: seq,
            ack_number,
            flags,
            window_len: 65535,
            urgent_ptr: 0,
            options,
            payload: &payload,
        };
        self.ident = self.ident.wrapping_add(1);
        let (src, dst) = (*from.addr.ip(), *to.addr.ip());
        let ip = Ipv4Repr {
            src_addr: src,
            dst_addr: dst,
            protocol: IpProtocol::Tcp,
            payload_len: seg.buffer_len(),
            ttl: 64,
            ident: self.ident,
            dont_frag: true,
            ecn: Default::default(),
        };
        let ip_len = 20 + ip.payload_len;
        let mut buf = vec![0u8; ethernet::frame_len(ip_len)];
        let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
        EthernetRepr { src_addr: my_mac, dst_addr: to.mac, ethertype: EtherType::Ipv4 }.emit(&mut frame);
        let mut packet = Ipv4Packet::new_unchecked(&mut frame.payload_mut()[..ip_len]);
        ip.emit(&mut packet);
        seg.emit(&mut TcpPacket::new_unchecked(packet.payload_mut()), &src, &dst);
        buf
    }

    /// Sends one segment (or all of them with a zero interval), then sets the next timer.
    fn tick(&mut self, cx: &mut Cx<'_>) {
        let my_mac = cx.stack.config().mac;
        while let Some(kind) = self.pick_kind() {
            let frame = self.forge(kind, my_mac);
            cx.transmit(frame);
            self.left[kind] -= 1;
            self.sent[kind] += 1;
            if !self.plan.interval.is_zero() {
                break;
            }
        }
        if self.remaining() > 0 {
            cx.set_timer(cx.now() + self.plan.interval, 0);
        } else if self.report.done_at.is_none() {
            self.report.done_at = Some(cx.now());
        }
    }
}

impl App for BlindAttacker {
    fn start(&mut self, cx: &mut Cx<'_>) {
        self.tick(cx);
    }

    fn on_event(&mut self, _cx: &mut Cx<'_>, _sock: SocketHandle, _event: &Event) {}

    fn on_timer(&mut self, cx: &mut Cx<'_>, _token: u64) {
        self.tick(cx);
    }

    fn is_finished(&self) -> bool {
        self.remaining() == 0
    }

    fn report(&self) -> AppReport {
        let mut r = self.report.clone();
        r.count = self.sent.iter().sum();
        r.complete = self.is_finished();
        r.bytes = self.sent[2] * self.plan.size as u64;
        if !r.complete {
            let detail: Vec<String> = KIND_NAMES.iter().zip(self.left).map(|(k, n)| format!("{n} {k}")).collect();
            r.errors.push(format!("attack not finished: {} left", detail.join(", ")));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use synack::wire::EthernetFrame;

    fn victim(last: u8, port: u16) -> Victim {
        Victim {
            addr: SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, last), port),
            mac: EthernetAddress([2, 0, 0, 0, 0, last]),
        }
    }

    #[test]
    fn forged_segments_are_well_formed_and_spoofed() {
        let (server, client) = (victim(2, 5001), victim(1, 40000));
        let plan = AttackPlan { rsts: 1, syns: 1, data: 1, size: 100, interval: Duration::ZERO, both_ways: false };
        let mut a = BlindAttacker::new(AppReport::new("a", "blind_attacker", "segments"), server, client, plan, 7);
        let me = EthernetAddress([2, 0, 0, 0, 0, 66]);
        let mut seqs = Vec::new();
        for kind in 0..3 {
            let bytes = a.forge(kind, me);
            let frame = EthernetFrame::new_checked(&bytes[..]).expect("frame");
            let eth = EthernetRepr::parse(&frame).expect("ethernet");
            assert_eq!((eth.src_addr, eth.dst_addr), (me, server.mac), "own MAC, addressed to the target");
            let ip = Ipv4Packet::new_checked(frame.payload()).expect("ipv4");
            let ip = Ipv4Repr::parse(&ip).expect("ipv4 repr");
            assert_eq!((ip.src_addr, ip.dst_addr), (*client.addr.ip(), *server.addr.ip()));
            let packet = Ipv4Packet::new_checked(frame.payload()).expect("ipv4");
            let tcp = TcpPacket::new_checked(packet.payload()).expect("tcp");
            let seg = TcpRepr::parse(&tcp, &ip.src_addr, &ip.dst_addr).expect("valid checksum");
            assert_eq!((seg.src_port, seg.dst_port), (40000, 5001));
            let want = [TcpFlags::RST, TcpFlags::SYN, TcpFlags::ACK][kind];
            assert!(seg.flags.contains(want), "{:?}", seg.flags);
            assert_eq!(seg.payload.len(), if kind == 2 { 100 } else { 0 });
            seqs.push(seg.seq_number);
        }
        seqs.dedup();
        assert_eq!(seqs.len(), 3, "sequence numbers are guessed afresh each time");
    }
}
