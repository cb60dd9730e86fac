//! Errors a connection learns of from below (RFC 1122 §4.2.3.9, RFC 5927): ICMP messages quoting one of our
//! segments, and ARP giving up on the next hop. Hard errors (`UnreachableReason::is_hard_for_tcp`) abort a
//! connection still opening; soft ones, and every error once established, are only remembered: the connection
//! keeps retransmitting, and reports the last one in `TimedOut` if it never gets through.

use super::demux::ConnectionKey;
use super::seq::SeqNum;
use super::tcb::{Effects, Tcb};
use super::{Stack, TcpState};
use crate::api::{Event, Output, SocketHandle, UnreachableReason};
use crate::config::TcpConfig;
use crate::time::Instant;
use crate::wire::icmpv4::QuotedDatagram;
use core::net::{IpAddr, SocketAddr};

/// An ICMP or ICMPv6 error as a connection hears it: why, and who said so.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ErrorReport {
    pub reason: UnreachableReason,
    /// The error's source address: a router on the path, or the destination itself.
    pub reporter: IpAddr,
}

impl Stack {
    /// An ICMP error quoting the start of one of our TCP segments (`quoted`). Returns whether it named a
    /// connection of ours.
    pub(crate) fn on_tcp_icmp_error(
        &mut self,
        quoted: &QuotedDatagram<'_>,
        report: ErrorReport,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> bool {
        let (Some(src_port), Some(dst_port), Some(seq)) =
            (quoted.src_port(), quoted.dst_port(), quoted.tcp_seq_number())
        else {
            return false;
        };
        let local = SocketAddr::new(quoted.src_addr().into(), src_port);
        let remote = SocketAddr::new(quoted.dst_addr().into(), dst_port);
        self.on_tcp_quoted_error(local, remote, seq, report, now, out)
    }

    /// An ICMP or ICMPv6 error quoting our segment from `local` to `remote` with sequence number `seq`.
    pub(crate) fn on_tcp_quoted_error(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
        seq: SeqNum,
        report: ErrorReport,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> bool {
        let (dst, dst_port) = (remote.ip(), remote.port());
        let Some(h) = self.tcp.demux.find(&ConnectionKey::new(local, remote)) else {
            return false;
        };
        // RFC 5927 §4.1: only a message quoting a sequence number we have in flight is believed.
        if !self.tcp.conns.get(&h).is_some_and(|tcb| tcb.has_in_flight(seq)) {
            return false;
        }
        self.with_tcb(h, now, out, |tcb, cfg, fx| tcb.on_icmp_error(dst, dst_port, report, now, cfg, fx));
        true
    }

    /// ARP gave up on the next hop of a connection's queued segments: a soft error (each retransmission asks
    /// ARP again). Returns false if `sock` is not a TCP connection.
    pub(crate) fn on_tcp_no_neighbour(&mut self, sock: SocketHandle) -> bool {
        match self.tcp.conns.get_mut(&sock) {
            Some(tcb) => {
                tcb.soft_error = Some(UnreachableReason::NoNeighbour);
                true
            }
            None => false,
        }
    }
}

impl Tcb {
    /// Could `seq` (from a quoted segment) be one we sent and still wait on? SND.UNA <= seq < SND.MAX, or
    /// SND.UNA itself when nothing is outstanding (a lone retransmitted SYN or probe).
    fn has_in_flight(&self, seq: SeqNum) -> bool {
        let (una, max) = (self.snd.una(), self.snd.max());
        seq >= una && (seq < max || (seq == max && max == una))
    }

    /// An ICMP error about the path to `dst` (`port`: the peer's).
    fn on_icmp_error(
        &mut self,
        dst: IpAddr,
        port: u16,
        ErrorReport { reason, reporter }: ErrorReport,
        now: Instant,
        cfg: &TcpConfig,
        fx: &mut Effects,
    ) {
        if let UnreachableReason::DstUnreachable { code: 4, next_hop_mtu } = reason {
            if dst.is_ipv4() && crate::api::usable_path_mtu(next_hop_mtu) {
                self.on_path_mtu(next_hop_mtu, now, cfg, fx);
                return;
            }
        }
        if let UnreachableReason::PacketTooBig { mtu } = reason {
            // RFC 8201 §4: never below IPv6's minimum link MTU.
            let mtu = mtu.clamp(crate::wire::ipv6::MIN_MTU as u32, u32::from(u16::MAX)) as u16;
            self.on_path_mtu(mtu, now, cfg, fx);
            return;
        }
        let opening = matches!(self.state, TcpState::SynSent | TcpState::SynReceived);
        if reason.is_hard_for_tcp() && opening {
            // A passive connection nobody accepted yet just vanishes (Linux drops the request).
            let event = (!self.owner.passive()).then_some(Event::Unreachable {
                dst,
                port: Some(port),
                reason,
                reporter: Some(reporter),
            });
            self.terminate(event, fx);
            return;
        }
        self.soft_error = Some(reason);
    }

    /// New data was acknowledged: the path works, and an earlier soft error no longer explains anything.
    pub(crate) fn path_works(&mut self) {
        self.soft_error = None;
    }

    /// Retransmissions (or probes) ran out: the connection is gone, with the last soft error as the likely why.
    pub(crate) fn time_out(&mut self, fx: &mut Effects) {
        let soft_error = self.soft_error;
        self.terminate(Some(Event::TimedOut { soft_error }), fx);
    }
}
