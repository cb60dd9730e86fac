//! The transmission control block: everything one connection remembers (RFC 9293 §3.3.1), plus what the
//! connection wants the stack to do after an input (`Effects`).

use super::autotune::RecvAutotune;
use super::buffer::{RecvBuffer, SendBuffer};
use super::byte_queue::BlockPool;
use super::congestion::CongestionControl;
use super::rtt::RttEstimator;
use super::sack::{RetransmitLog, Scoreboard};
use super::segment::Outgoing;
use super::seq::SeqNum;
use super::TcpState;
use crate::api::{Event, SocketHandle};
use crate::config::TcpConfig;
use crate::stats::DropReason;
use crate::time::Instant;
use core::net::SocketAddrV4;
use core::time::Duration;

/// Largest window scale shift (RFC 7323 §2.3).
pub(crate) const MAX_WINDOW_SHIFT: u8 = 14;
/// MSS assumed when the peer sends none (RFC 9293 §3.7.1).
pub(crate) const DEFAULT_MSS: usize = 536;

/// What a connection asks of the stack after handling an input.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    /// Segments to send, in order (the stack builds each from the connection's state: `build_segment`).
    pub transmit: Vec<Outgoing>,
    pub events: Vec<Event>,
    pub drops: Vec<DropReason>,
    /// Forget the connection (closed, reset, timed out).
    pub release: bool,
    /// The connection finished but the application still holds the handle: free the four-tuple, keep the TCB
    /// (in CLOSED) until `TcpClose`.
    pub unlink: bool,
    /// A passive connection just became established (the listener's accept queue grows).
    pub established: bool,
    /// Set by the stack: the input is part of a batch of frames, so an `AckDue::EndOfBatch` ACK may wait.
    pub in_batch: bool,
    /// The connection holds an ACK back until the end of the batch.
    pub ack_at_batch_end: bool,
    /// Set by the stack: its spare receive-buffer blocks, lent for the input (taken when data arrives, given
    /// back when the application reads); kept with the emptied `Effects` between inputs.
    pub blocks: BlockPool,
}

impl Effects {
    /// Empties the effects, keeping the vectors' memory for the next input.
    pub(crate) fn recycle(mut self) -> Effects {
        // Cleared in place (no temporary to drop); naming every field makes a new one a compile error here.
        let Effects { transmit, events, drops, release, unlink, established, in_batch, ack_at_batch_end, blocks: _ } =
            &mut self;
        transmit.clear();
        events.clear();
        drops.clear();
        (*release, *unlink, *established, *in_batch, *ack_at_batch_end) = (false, false, false, false, false);
        self
    }
}

/// A connection's place in the stack's count of TIME-WAIT connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeWaitSlot {
    /// Not in TIME-WAIT.
    None,
    /// In TIME-WAIT and counted.
    Counted,
    /// Reached TIME-WAIT with the bound full: closes at once, never counted.
    Cut,
}

/// Per-connection counters, exported through [`super::TcpInfo`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpCounters {
    pub segments_sent: u64,
    pub segments_received: u64,
    /// New payload bytes sent (first transmissions only).
    pub bytes_sent: u64,
    /// Payload bytes acknowledged by the peer.
    pub bytes_acked: u64,
    /// Payload bytes received in order.
    pub bytes_received: u64,
    pub retransmitted_segments: u64,
    pub retransmitted_bytes: u64,
    pub fast_retransmits: u64,
    pub timeouts: u64,
    pub dup_acks_received: u64,
    pub zero_window_probes: u64,
    pub tail_loss_probes: u64,
    pub challenge_acks: u64,
    /// A crossed bare SYN (simultaneous open) was set aside for a SYN-ACK that acknowledged our SYN.
    pub crossed_syns_superseded: u64,
    /// A simultaneous open that a crossed bare SYN started was reset; the connection went back to SYN-SENT.
    pub crossed_syns_reset: u64,
    /// Times receive autotuning grew the receive buffer (`TcpConfig::recv_buffer_max`).
    pub recv_buffer_growths: u64,
    /// Times send autotuning grew the send buffer (`TcpConfig::send_buffer_max`).
    pub send_buffer_growths: u64,
}

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
pub(crate) struct Tcb {
    pub state: TcpState,
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    pub handle: SocketHandle,
    /// Passive connections name their listener until accepted; events are withheld until then.
    pub listener: Option<SocketHandle>,
    pub passive: bool,

    // Send sequence space.
    pub iss: SeqNum,
    pub snd_una: SeqNum,
    pub snd_nxt: SeqNum,
    /// Highest sequence number sent + 1 (SND.NXT may rewind on a timeout; this never does).
    pub snd_max: SeqNum,
    pub snd_wnd: usize,
    pub max_snd_wnd: usize,
    pub snd_wl1: SeqNum,
    pub snd_wl2: SeqNum,
    /// The peer's window scale shift (applied to windows it advertises).
    pub snd_shift: u8,
    pub send_buf: SendBuffer,
    /// Sequence number of `send_buf`'s first byte.
    pub buf_seq: SeqNum,
    /// The application shut down sending: a FIN follows the queued data.
    pub fin_queued: bool,

    // Receive sequence space.
    pub irs: SeqNum,
    pub rcv_nxt: SeqNum,
    /// Our window scale shift (applied to windows we advertise).
    pub rcv_shift: u8,
    /// Right edge of the window we last advertised; it never moves left.
    pub rcv_adv_edge: SeqNum,
    pub recv_buf: RecvBuffer,
    /// Receive-buffer autotuning state, when `TcpConfig::recv_buffer_max` allows growth.
    pub(crate) recv_tune: Option<Box<RecvAutotune>>,
    /// The peer's FIN has been received (in order).
    pub fin_received: bool,
    /// A FIN seen beyond a gap: its sequence number.
    pub pending_fin: Option<SeqNum>,

    /// Effective send MSS.
    pub mss: usize,
    /// The MSS our own interface allows (what we offered in our SYN), before the peer's option clamps `mss`.
    pub local_mss: usize,
    /// What our SYN offers (an active open; `TcpConfig::window_scaling`, `TcpConfig::sack`).
    pub offer_wscale: bool,
    pub offer_sack: bool,
    /// The peer offered window scaling in its SYN (passive side echoes it).
    pub peer_wants_wscale: bool,
    /// Both sides agreed on SACK (RFC 2018).
    pub sack_ok: bool,
    /// What the peer reported holding above SND.UNA.
    pub scoreboard: Scoreboard,
    /// SACK recovery: holes below this were already retransmitted in the current episode.
    pub rtx_next: SeqNum,
    /// Retransmissions of the current recovery, to notice when one of them is lost too.
    pub rtx_log: RetransmitLog,
    /// Receiver: the most recent out-of-order segment, reported first in our SACK blocks.
    pub last_out_of_order: Option<SeqNum>,

    // Timers (deadlines); the stack keeps one heap entry armed at `armed_at`.
    pub rtx_at: Option<Instant>,
    /// Tail loss probe (RFC 8985 §7): fires before the RTO when the last segments may have been lost.
    pub tlp_at: Option<Instant>,
    /// A probe went out and its outcome is not known yet (one probe per episode).
    pub tlp_in_flight: bool,
    pub persist_at: Option<Instant>,
    pub delack_at: Option<Instant>,
    pub close_at: Option<Instant>,
    pub armed_at: Option<Instant>,
    /// Consecutive retransmission timeouts (or SYN retransmissions).
    pub rtx_count: u32,
    pub persist_backoff: u32,
    pub probes_unanswered: u32,
    pub rtt: RttEstimator,
    /// The segment being timed for an RTT sample: (sequence number that acknowledges it, time sent).
    pub timing: Option<(SeqNum, Instant)>,

    pub cc: Box<dyn CongestionControl>,
    pub dup_acks: u32,
    pub in_recovery: bool,
    /// RFC 6582 "recover": highest sequence number sent when recovery (or a timeout) began.
    pub recover: SeqNum,

    pub nodelay: bool,
    pub ack_due: AckDue,
    /// Segments received since we last sent an ACK (ACK every second one).
    pub unacked_segments: u32,
    /// In-order segments still to be acknowledged at once after recent out-of-order data.
    pub quick_acks: u32,
    /// The application called `TcpClose`: the handle is gone once the connection finishes.
    pub app_closed: bool,
    /// A send was refused or cut short: tell the app when space frees up.
    pub want_writable: bool,
    pub closed_notified: bool,
    /// The last soft error (RFC 1122 §4.2.3.9) since the connection last made progress, for `TimedOut`.
    pub soft_error: Option<crate::api::UnreachableReason>,
    /// Where this connection stands against the stack's TIME-WAIT bound (`TcpConfig::max_time_wait`).
    pub time_wait_slot: TimeWaitSlot,
    /// The four-tuple is registered in the demultiplexing table.
    pub linked: bool,
    pub counters: TcpCounters,
}

/// Window scale shift needed to advertise `buffer` bytes (RFC 7323 §2.3).
pub(crate) fn window_shift_for(buffer: usize) -> u8 {
    let mut shift = 0;
    while shift < MAX_WINDOW_SHIFT && (buffer >> shift) > usize::from(u16::MAX) {
        shift += 1;
    }
    shift
}

impl Tcb {
    /// A fresh connection in `state` (SYN-SENT or SYN-RECEIVED); the caller fills the receive side for
    /// passive opens.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        handle: SocketHandle,
        state: TcpState,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        iss: SeqNum,
        mss: usize,
        cfg: &TcpConfig,
        cc: Box<dyn CongestionControl>,
    ) -> Tcb {
        Tcb {
            state,
            local,
            remote,
            handle,
            listener: None,
            passive: false,
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_wnd: 0,
            max_snd_wnd: 0,
            snd_wl1: SeqNum(0),
            snd_wl2: iss,
            snd_shift: 0,
            send_buf: SendBuffer::new(cfg.send_buffer),
            buf_seq: iss + 1,
            fin_queued: false,
            irs: SeqNum(0),
            rcv_nxt: SeqNum(0),
            rcv_shift: Tcb::offered_window_shift(cfg),
            rcv_adv_edge: SeqNum(0),
            recv_buf: RecvBuffer::new(cfg.recv_buffer, cfg.max_out_of_order),
            recv_tune: (cfg.recv_buffer_max > cfg.recv_buffer).then(|| Box::new(RecvAutotune::new(mss))),
            fin_received: false,
            pending_fin: None,
            mss,
            local_mss: mss,
            offer_wscale: cfg.window_scaling,
            offer_sack: cfg.sack,
            peer_wants_wscale: false,
            sack_ok: false,
            scoreboard: Scoreboard::default(),
            rtx_next: iss,
            rtx_log: RetransmitLog::default(),
            last_out_of_order: None,
            rtx_at: None,
            tlp_at: None,
            tlp_in_flight: false,
            persist_at: None,
            delack_at: None,
            close_at: None,
            armed_at: None,
            rtx_count: 0,
            persist_backoff: 0,
            probes_unanswered: 0,
            rtt: RttEstimator::new(cfg.rto_initial, cfg.rto_min, cfg.rto_max),
            timing: None,
            cc,
            dup_acks: 0,
            in_recovery: false,
            recover: iss,
            nodelay: cfg.nodelay,
            ack_due: AckDue::None,
            unacked_segments: 0,
            quick_acks: 0,
            app_closed: false,
            want_writable: false,
            closed_notified: false,
            soft_error: None,
            time_wait_slot: TimeWaitSlot::None,
            linked: true,
            counters: TcpCounters::default(),
        }
    }

    /// Sequence number just after the last queued byte (where the FIN goes).
    pub(crate) fn buf_end(&self) -> SeqNum {
        self.buf_seq + self.send_buf.len()
    }

    /// Bytes (and SYN/FIN) sent but not acknowledged.
    pub(crate) fn flight(&self) -> usize {
        self.snd_nxt - self.snd_una
    }

    /// Recovering with SACK information (RFC 6675) rather than NewReno.
    pub(crate) fn sack_recovery(&self) -> bool {
        self.in_recovery && self.sack_ok && !self.scoreboard.is_empty()
    }

    /// RFC 6675 "pipe": bytes presumed still in the network — outstanding, minus what the peer SACKed, minus
    /// holes presumed lost that were not retransmitted yet.
    pub(crate) fn pipe(&self) -> usize {
        let outstanding = self.snd_max - self.snd_una;
        let lost = self.scoreboard.hole_bytes_from(self.rtx_next.max(self.snd_una));
        outstanding.saturating_sub(self.scoreboard.sacked_bytes()).saturating_sub(lost)
    }

    /// Has our FIN been sent (at least once)?
    pub(crate) fn fin_sent(&self) -> bool {
        self.fin_queued && self.snd_max == self.buf_end() + 1
    }

    /// Has our FIN been acknowledged?
    pub(crate) fn fin_acked(&self) -> bool {
        self.fin_sent() && self.snd_una == self.snd_max
    }

    /// Is the connection synchronized (past the handshake)?
    pub(crate) fn synchronized(&self) -> bool {
        !matches!(self.state, TcpState::Closed | TcpState::Listen | TcpState::SynSent | TcpState::SynReceived)
    }

    /// The receive window we may accept data into: up to the edge we advertised.
    pub(crate) fn rcv_wnd(&self) -> usize {
        self.rcv_adv_edge - self.rcv_nxt
    }

    /// Moves the advertised right edge if the buffer allows, with receiver SWS avoidance (RFC 9293 §3.8.6.2.2):
    /// the edge only advances by at least min(buffer/2, MSS). Returns the window field to put on the wire.
    pub(crate) fn advertise_window(&mut self, in_syn: bool) -> u16 {
        let potential = self.rcv_nxt + self.recv_buf.free();
        let step = (self.recv_buf.capacity() / 2).min(self.mss).max(1);
        if potential - self.rcv_adv_edge >= step || self.rcv_adv_edge < self.rcv_nxt {
            self.rcv_adv_edge = potential;
        }
        let wnd = self.rcv_wnd();
        if in_syn {
            // RFC 7323 §2.2: the window in a SYN is never scaled.
            let w = wnd.min(usize::from(u16::MAX));
            self.rcv_adv_edge = self.rcv_nxt + w;
            return w as u16;
        }
        (wnd >> self.rcv_shift).min(usize::from(u16::MAX)) as u16
    }

    /// RFC 2018 §4: up to four out-of-order runs, the one holding the latest segment first.
    pub(crate) fn sack_blocks(&self) -> [Option<(SeqNum, SeqNum)>; 4] {
        let mut blocks = [None; 4];
        let latest = self.last_out_of_order;
        let first = self.recv_buf.out_of_order_ranges().find(|(s, e)| latest.is_some_and(|l| *s <= l && l < *e));
        let rest = self.recv_buf.out_of_order_ranges().filter(|r| Some(*r) != first);
        for (slot, block) in blocks.iter_mut().zip(first.into_iter().chain(rest)) {
            *slot = Some(block);
        }
        blocks
    }

    /// After the application read: is a window update worth a segment of its own? Like Linux, only when the
    /// window at least doubles (a reader keeping up sends none), or when it reopens from below one segment —
    /// and always subject to receiver SWS avoidance (the edge must move by min(buffer/2, MSS)).
    pub(crate) fn window_update_worthwhile(&self) -> bool {
        let free = self.recv_buf.free();
        let advertised = self.rcv_wnd();
        let edge_moves = (self.rcv_nxt + free) - self.rcv_adv_edge;
        let sws_step = (self.recv_buf.capacity() / 2).min(self.mss).max(1);
        edge_moves >= sws_step && (free >= 2 * advertised || advertised < self.mss)
    }

    /// The earliest of this connection's timers.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        // Called after every input: a plain loop (cheaper than `min` over the options).
        let mut next: Option<Instant> = None;
        for t in [self.rtx_at, self.tlp_at, self.persist_at, self.delack_at, self.close_at].into_iter().flatten() {
            if next.is_none_or(|n| t < n) {
                next = Some(t);
            }
        }
        next
    }

    /// Stops every timer except the close timer.
    pub(crate) fn stop_transfer_timers(&mut self) {
        self.rtx_at = None;
        self.tlp_at = None;
        self.persist_at = None;
        self.delack_at = None;
    }

    /// Arms the retransmission timer if it is not running.
    pub(crate) fn ensure_rtx_timer(&mut self, now: Instant) {
        if self.rtx_at.is_none() {
            self.rtx_at = Some(now + self.rtt.rto());
        }
    }

    pub(crate) fn restart_rtx_timer(&mut self, now: Instant) {
        self.rtx_at = Some(now + self.rtt.rto());
    }

    /// RFC 8985 §7.2: arms the tail loss probe (2 SRTT, or more when a lone segment may wait for a delayed
    /// ACK) if it would fire before the RTO, data is outstanding and no probe is out already.
    pub(crate) fn arm_tail_loss_probe(&mut self, now: Instant) {
        self.tlp_at = None;
        let Some(srtt) = self.rtt.srtt() else {
            return;
        };
        if self.in_recovery || self.tlp_in_flight || self.snd_max == self.snd_una || !self.synchronized() {
            return;
        }
        let mut pto = srtt * 2;
        if self.snd_max - self.snd_una <= self.mss {
            // The peer may hold a lone segment's ACK for its delayed-ACK time (RFC 8985 uses 200 ms).
            pto = pto.max(srtt + srtt / 2 + Duration::from_millis(200));
        }
        let at = now + pto.max(Duration::from_millis(10));
        if self.rtx_at.is_none_or(|rto| at < rto) {
            self.tlp_at = Some(at);
        }
    }

    /// Persist timer interval with its own exponential backoff, bounded like the RTO.
    pub(crate) fn persist_interval(&self, max: Duration) -> Duration {
        let factor = 1u32.checked_shl(self.persist_backoff.min(16)).unwrap_or(u32::MAX);
        self.rtt.rto().saturating_mul(factor).min(max)
    }

    /// Enters TIME-WAIT: only the close timer runs.
    pub(crate) fn enter_time_wait(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        self.state = TcpState::TimeWait;
        self.rtx_at = None;
        self.persist_at = None;
        self.close_at = Some(now + cfg.time_wait);
        self.notify_closed(fx);
    }

    /// Emits `Closed` once.
    pub(crate) fn notify_closed(&mut self, fx: &mut Effects) {
        if !self.closed_notified {
            self.closed_notified = true;
            fx.events.push(Event::Closed);
        }
    }

    /// The connection finished normally (LAST-ACK acknowledged, or TIME-WAIT over). The handle lives on in
    /// CLOSED until the application closes it, so buffered data can still be read.
    pub(crate) fn finish(&mut self, fx: &mut Effects) {
        self.notify_closed(fx);
        if self.app_closed {
            self.terminate(None, fx);
        } else {
            self.state = TcpState::Closed;
            self.stop_transfer_timers();
            self.close_at = None;
            fx.unlink = true;
        }
    }

    /// The window scale we offer in our SYN (RFC 7323): enough for the largest receive buffer, or none.
    pub(crate) fn offered_window_shift(cfg: &TcpConfig) -> u8 {
        if cfg.window_scaling {
            window_shift_for(cfg.recv_buffer_limit())
        } else {
            0
        }
    }

    /// In-order data arrived (RCV.NXT moved): receive autotuning times how long a whole buffer's worth takes
    /// to arrive (the window still open now may be nearly closed, which would time nothing).
    pub(crate) fn note_in_order_data(&mut self, now: Instant) {
        let (nxt, wnd) = (self.rcv_nxt, self.recv_buf.capacity());
        if let Some(t) = &mut self.recv_tune {
            t.on_data(nxt, wnd, now);
        }
    }

    /// Send-buffer autotuning (`TcpConfig::send_buffer_max`, as Linux's `tcp_sndbuf_expand`): while the
    /// application is held back by a full buffer and the congestion window has room the buffer cannot fill,
    /// the buffer grows to twice the congestion window, so the bytes in flight and the next window's worth
    /// both fit. Never shrinks, never past the maximum.
    pub(crate) fn expand_send_buffer(&mut self, cfg: &TcpConfig) {
        if cfg.send_buffer_max <= self.send_buf.capacity() || !self.want_writable {
            return;
        }
        let cwnd = self.cc.cwnd();
        if self.snd_max - self.snd_una >= cwnd {
            return; // the congestion window, not the buffer, is what limits
        }
        let target = cwnd.saturating_mul(2).min(cfg.send_buffer_max);
        if target > self.send_buf.capacity() {
            self.send_buf.grow_to(target);
            self.counters.send_buffer_growths += 1;
        }
    }

    /// The application read `n` bytes: with autotuning, the receive buffer grows if the window held the
    /// sender back (never past what the window scale can advertise).
    pub(crate) fn note_read(&mut self, n: usize, now: Instant, cfg: &TcpConfig) {
        let Some(t) = &mut self.recv_tune else { return };
        let limit = cfg.recv_buffer_limit().min(usize::from(u16::MAX) << self.rcv_shift);
        if let Some(size) = t.on_read(n, self.mss, self.recv_buf.capacity(), limit, now) {
            self.recv_buf.grow_to(size);
            self.counters.recv_buffer_growths += 1;
        }
    }

    /// Retransmissions (or probes) ran out: the connection is gone, with the last soft error as the likely why.
    pub(crate) fn time_out(&mut self, fx: &mut Effects) {
        let soft_error = self.soft_error;
        self.terminate(Some(Event::TimedOut { soft_error }), fx);
    }

    /// The connection is gone: `event` tells why (if anything), and the stack forgets it.
    pub(crate) fn terminate(&mut self, event: Option<Event>, fx: &mut Effects) {
        self.state = TcpState::Closed;
        self.stop_transfer_timers();
        self.close_at = None;
        if let Some(e) = event {
            fx.events.push(e);
        }
        fx.release = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_shift_covers_the_buffer() {
        assert_eq!(window_shift_for(65_535), 0);
        assert_eq!(window_shift_for(65_536), 1);
        assert_eq!(window_shift_for(256 * 1024), 3);
        assert_eq!(window_shift_for(1 << 30), 14);
    }
}
