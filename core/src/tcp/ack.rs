//! When we acknowledge (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2, RFC 5681 §4.2): every second full segment, at
//! once after out-of-order data (and for a while after, Linux's quick-ACK mode), or when the delayed-ACK timer
//! fires. Any segment we send carries the acknowledgement, so a pending one rides on it.

use super::segment::Outgoing;
use super::tcb::{Effects, Tcb};
use crate::config::TcpConfig;
use crate::explain::{AckWhy, Why};
use crate::time::Instant;
use crate::wire::TcpFlags;

/// Segments acknowledged at once after out-of-order data (Linux's quick-ACK count is of this order).
const QUICK_ACK_SEGMENTS: u8 = 16;

/// A pending acknowledgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum AckDue {
    None,
    Delayed,
    /// Now, or, while the driver hands over a batch of frames ([`crate::Stack::handle_frames_into`]), once at
    /// the end of the batch: one ACK then covers every segment of the batch (as Linux after GRO).
    EndOfBatch,
    Now,
}

#[derive(Debug)]
pub(crate) struct AckState {
    due: AckDue,
    /// Segments received since we last sent an ACK (ACK every second one; only "two or more" matters, so it
    /// saturates).
    unacked_segments: u16,
    /// In-order segments still to be acknowledged at once after recent out-of-order data or a CE mark.
    quick_acks: u8,
    /// What started the quick-ACK run, for the reason its ACKs give.
    quick_why: AckWhy,
    /// When we last answered an unacceptable segment without data (`TcpConfig::invalid_ack_interval`).
    last_invalid_ack: Option<Instant>,
    /// Why the pending acknowledgement is due ([`crate::Config::explain`]).
    why: AckWhy,
    /// The connection is on the stack's list of ACKs to send at the end of the batch: one entry per batch,
    /// however many of its segments the batch held.
    batch_listed: bool,
}

impl AckState {
    pub(crate) fn new() -> AckState {
        AckState {
            due: AckDue::None,
            unacked_segments: 0,
            quick_acks: 0,
            quick_why: AckWhy::Quick,
            last_invalid_ack: None,
            why: AckWhy::Handshake,
            batch_listed: false,
        }
    }

    /// The peer needs an acknowledgement now (a duplicate, a FIN, a window update, our handshake ACK).
    pub(crate) fn request_now(&mut self, why: AckWhy) {
        self.due = AckDue::Now;
        self.why = why;
    }

    /// An unacceptable segment without data arrived: may it be answered now (at most one such ACK per
    /// `interval`, as Linux's `tcp_oow_rate_limited`)?
    pub(crate) fn may_answer_invalid(&mut self, now: Instant, interval: core::time::Duration) -> bool {
        if self.last_invalid_ack.is_some_and(|last| now < last + interval) {
            return false;
        }
        self.last_invalid_ack = Some(now);
        true
    }

    pub(crate) fn set_due(&mut self, due: AckDue) {
        self.due = due;
    }

    /// The next `segments` in-order data segments are acknowledged at once (Linux's quick-ACK mode), `why`.
    pub(crate) fn quick_ack(&mut self, segments: u8, why: AckWhy) {
        if segments > self.quick_acks {
            self.quick_acks = segments;
            self.quick_why = why;
        }
    }

    /// The end of the batch came: the connection is off the stack's list.
    pub(crate) fn batch_ended(&mut self) {
        self.batch_listed = false;
    }

    /// The delayed-ACK timer fired: whatever waits goes now.
    fn delay_over(&mut self) {
        if self.due != AckDue::None {
            self.due = AckDue::Now;
            self.why = AckWhy::DelayedTimer;
        }
    }
}

impl Tcb {
    /// Queues a segment; one that carries an ACK takes any pending acknowledgement with it.
    pub(crate) fn push_with_ack(&mut self, tx: Outgoing, fx: &mut Effects) {
        if tx.flags.contains(TcpFlags::ACK) {
            self.ack.due = AckDue::None;
            self.ack.unacked_segments = 0;
            self.timers.stop_delack();
        }
        fx.transmit.push(tx);
    }

    /// Sends the acknowledgement that is due, if any (at the end of a batch of frames if it may wait for it).
    pub(crate) fn send_due_ack(&mut self, fx: &mut Effects) {
        match self.ack.due {
            AckDue::EndOfBatch if fx.in_batch => {
                fx.ack_at_batch_end = !self.ack.batch_listed;
                self.ack.batch_listed = true;
            }
            // At SND.MAX, not a SND.NXT rewound by a timeout: the peer may have everything up to SND.MAX, and an
            // ACK below its RCV.NXT is unacceptable to it, ACK field unread (BSD sends pure ACKs at SND.MAX;
            // Linux never rewinds SND.NXT). Two ends both rewound would otherwise never hear each other.
            AckDue::EndOfBatch | AckDue::Now => {
                self.push_with_ack(Outgoing::control(self.snd.max(), TcpFlags::ACK, Why::Ack(self.ack.why)), fx)
            }
            AckDue::None | AckDue::Delayed => {}
        }
    }

    /// A data segment of `len` bytes was taken in. `urgent`: it was out of order, filled a gap, or did not fit,
    /// so the sender needs to hear at once (RFC 5681 §4.2), and keeps hearing for every segment a while
    /// (Linux's quick-ACK mode): it is recovering with a small window, where a delayed ACK stalls it.
    pub(crate) fn schedule_ack_for_data(&mut self, len: usize, urgent: bool, now: Instant, cfg: &TcpConfig) {
        let a = &mut self.ack;
        if urgent {
            a.due = AckDue::Now;
            a.why = AckWhy::OutOfOrder;
            a.quick_acks = QUICK_ACK_SEGMENTS;
            a.quick_why = AckWhy::Quick;
        } else if a.quick_acks > 0 {
            a.quick_acks -= 1;
            a.due = AckDue::Now;
            a.why = a.quick_why;
        } else {
            // A segment larger than the MSS we announced was coalesced on the way (segmentation offload into a
            // TAP reader, like GRO): it stands for several, so it is acknowledged like two.
            a.unacked_segments = a.unacked_segments.saturating_add(if len > self.opts.local_mss() { 2 } else { 1 });
            if a.unacked_segments >= 2 {
                if a.due < AckDue::EndOfBatch {
                    a.why = AckWhy::SecondSegment;
                }
                a.due = a.due.max(AckDue::EndOfBatch);
            } else if a.due < AckDue::Delayed {
                a.due = AckDue::Delayed;
                self.timers.delay_ack(now + cfg.delayed_ack);
            }
        }
    }

    /// The delayed-ACK timer fired.
    pub(crate) fn on_delayed_ack_timeout(&mut self) {
        self.ack.delay_over();
    }
}
