//! TCP. For now every segment is answered as if no socket existed: the RFC 9293 §3.10.7.1 reset reply, so a
//! Linux peer sees "connection refused". The connection engine grows here.

pub mod seq;

pub use seq::SeqNum;

/// The connection states of RFC 9293 §3.3.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TcpState {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

use crate::api::Output;
use crate::ipv4::Received;
use crate::stack::Stack;
use crate::stats::{DropReason, Layer};
use crate::time::Instant;
use crate::wire::{IpProtocol, TcpFlags, TcpOptions, TcpPacket, TcpRepr};

impl Stack {
    /// A TCP segment arrived for us.
    pub(crate) fn on_tcp(&mut self, rx: &Received<'_>, now: Instant, out: &mut Vec<Output>) {
        let parsed = TcpPacket::new_checked(rx.payload).and_then(|p| TcpRepr::parse(&p, &rx.src, &rx.dst));
        let seg = match parsed {
            Ok(s) => s,
            Err(e) => return self.drop_frame(DropReason::Malformed(Layer::Tcp, e)),
        };
        self.drop_frame(DropReason::TcpNoSocket);
        if let Some(reset) = reset_reply(&seg) {
            if !rx.broadcast {
                self.send_tcp_reset(rx, &reset, now, out);
            }
        }
    }

    fn send_tcp_reset(&mut self, rx: &Received<'_>, reset: &TcpRepr<'_>, now: Instant, out: &mut Vec<Output>) {
        let (src, dst) = (rx.dst, rx.src);
        let sent = self.send_ipv4(dst, IpProtocol::Tcp, reset.buffer_len(), None, None, now, out, |b| {
            reset.emit(&mut TcpPacket::new_unchecked(b), &src, &dst)
        });
        if sent.is_ok() {
            self.stats.tcp_resets_sent += 1;
        }
    }
}

/// RFC 9293 §3.10.7.1 (CLOSED): the reset answering `seg`, or `None` if `seg` is itself a reset.
///
/// If the segment has ACK, the reset takes its sequence number from the ACK field; otherwise it has sequence
/// zero and acknowledges everything the segment occupied.
pub(crate) fn reset_reply(seg: &TcpRepr<'_>) -> Option<TcpRepr<'static>> {
    if seg.flags.contains(TcpFlags::RST) {
        return None;
    }
    let (seq_number, ack_number, flags) = if seg.flags.contains(TcpFlags::ACK) {
        (seg.ack_number, SeqNum(0), TcpFlags::RST)
    } else {
        (SeqNum(0), seg.seq_number + seg.segment_len(), TcpFlags::RST | TcpFlags::ACK)
    };
    Some(TcpRepr {
        src_port: seg.dst_port,
        dst_port: seg.src_port,
        seq_number,
        ack_number,
        flags,
        window_len: 0,
        urgent_ptr: 0,
        options: TcpOptions::default(),
        payload: &[],
    })
}
