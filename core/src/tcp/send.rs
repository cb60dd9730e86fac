//! The send sequence space (RFC 9293 §3.3.1) and what an arriving acknowledgement does to it (§3.10.7.4, fifth
//! step): what we sent, what the peer acknowledged, the window it offers, and the bytes the application queued
//! behind them.

use super::buffer::SendBuffer;
use super::seq::SeqNum;
use super::tcb::{Effects, Tcb};
use super::TcpState;
use crate::api::Event;
use crate::config::TcpConfig;
use crate::stats::DropReason;
use crate::time::Instant;
use crate::wire::{TcpFlags, TcpRepr};
use core::time::Duration;

#[derive(Debug)]
pub(crate) struct SendSequence {
    /// Initial send sequence number.
    iss: SeqNum,
    una: SeqNum,
    nxt: SeqNum,
    /// Highest sequence number sent + 1 (SND.NXT may rewind on a timeout; this never does).
    max: SeqNum,
    /// The peer's window, scaled, in bytes (at most 65,535 << 14: 32 bits hold it).
    wnd: u32,
    /// The largest window the peer ever offered.
    max_wnd: u32,
    /// Sequence and acknowledgement numbers of the segment that last updated the window.
    wl1: SeqNum,
    wl2: SeqNum,
    /// The peer's window scale shift (applied to windows it advertises).
    wscale: u8,
    /// Bytes queued by the application and not yet acknowledged.
    buf: SendBuffer,
    /// Sequence number of `buf`'s first byte.
    buf_seq: SeqNum,
    /// The application shut down sending: a FIN follows the queued data.
    fin_queued: bool,
    /// When data (new or resent) last left, in whole milliseconds of the stack's clock, wrapping (for the restart
    /// after idle: a 32-bit count keeps the connection small, and only spans up to 49 days are compared).
    last_data_ms: u32,
    /// The send point last went back because the path MTU fell to this (0: a timeout sent it back), so that
    /// what goes again says why.
    rewound_mtu: u16,
}

impl SendSequence {
    /// Nothing sent yet; the first data byte will follow the SYN at `iss`.
    pub(crate) fn new(iss: SeqNum, buffer: usize) -> SendSequence {
        SendSequence {
            iss,
            una: iss,
            nxt: iss,
            max: iss,
            wnd: 0,
            max_wnd: 0,
            wl1: SeqNum(0),
            wl2: iss,
            wscale: 0,
            buf: SendBuffer::new(buffer),
            buf_seq: iss + 1,
            fin_queued: false,
            last_data_ms: 0,
            rewound_mtu: 0,
        }
    }

    pub(crate) fn iss(&self) -> SeqNum {
        self.iss
    }
    pub(crate) fn una(&self) -> SeqNum {
        self.una
    }
    pub(crate) fn nxt(&self) -> SeqNum {
        self.nxt
    }
    pub(crate) fn max(&self) -> SeqNum {
        self.max
    }
    pub(crate) fn wnd(&self) -> usize {
        self.wnd as usize
    }
    pub(crate) fn max_wnd(&self) -> usize {
        self.max_wnd as usize
    }
    pub(crate) fn wscale(&self) -> u8 {
        self.wscale
    }
    pub(crate) fn buf(&self) -> &SendBuffer {
        &self.buf
    }
    pub(crate) fn fin_queued(&self) -> bool {
        self.fin_queued
    }

    /// Sequence number just after the last queued byte (where the FIN goes).
    pub(crate) fn buf_end(&self) -> SeqNum {
        self.buf_seq + self.buf.len()
    }

    /// Where `seq` lies in the send buffer (bytes after its first).
    pub(crate) fn offset_of(&self, seq: SeqNum) -> usize {
        seq - self.buf_seq
    }

    /// Bytes (and SYN/FIN) sent from SND.NXT's point of view but not acknowledged.
    pub(crate) fn flight(&self) -> usize {
        self.nxt - self.una
    }

    /// Everything ever sent and not acknowledged (SND.MAX - SND.UNA).
    pub(crate) fn outstanding(&self) -> usize {
        self.max - self.una
    }

    /// Queued bytes from SND.NXT on (none once the FIN is out).
    pub(crate) fn unsent(&self) -> usize {
        if self.nxt <= self.buf_end() {
            self.buf_end() - self.nxt
        } else {
            0
        }
    }

    /// What the peer's window still allows beyond SND.NXT.
    pub(crate) fn peer_room(&self) -> usize {
        (self.una + self.wnd()) - self.nxt
    }

    /// Has our FIN been sent (at least once)?
    pub(crate) fn fin_sent(&self) -> bool {
        self.fin_queued && self.max == self.buf_end() + 1
    }

    /// Has our FIN been acknowledged?
    pub(crate) fn fin_acked(&self) -> bool {
        self.fin_sent() && self.una == self.max
    }

    /// During the handshake: does `ack` acknowledge our SYN and nothing we never sent (ISS < SEG.ACK <= SND.MAX)?
    pub(crate) fn acknowledges_syn(&self, ack: SeqNum) -> bool {
        ack > self.iss && ack <= self.max
    }

    /// Our SYN (again): SND.NXT just past ISS.
    pub(crate) fn syn_sent(&mut self) {
        self.nxt = self.iss;
        self.sent(1);
    }

    /// `occupied` sequence numbers went out from SND.NXT.
    pub(crate) fn sent(&mut self, occupied: usize) {
        self.nxt = self.nxt + occupied;
        if self.max < self.nxt {
            self.max = self.nxt;
        }
    }

    /// Sending continues from `seq` (go back after a timeout or a smaller path MTU, or skip what the peer
    /// SACKed); SND.MAX keeps what was sent.
    pub(crate) fn resume_from(&mut self, seq: SeqNum) {
        self.nxt = seq;
    }

    /// The send point goes back to SND.UNA: a timeout (`None`) or a path MTU that fell to `mtu` sent it back.
    pub(crate) fn rewind(&mut self, path_mtu: Option<u16>) {
        self.nxt = self.una;
        self.rewound_mtu = path_mtu.unwrap_or(0);
    }

    /// The path MTU that last sent the send point back, if that (and not a timeout) did.
    pub(crate) fn rewound_for_mtu(&self) -> Option<u16> {
        (self.rewound_mtu != 0).then_some(self.rewound_mtu)
    }

    /// The peer's window scale shift from its SYN (0: none).
    pub(crate) fn set_peer_wscale(&mut self, shift: u8) {
        self.wscale = shift;
    }

    /// The window of the peer's SYN (never scaled, RFC 7323 §2.2), before it acknowledged anything of ours.
    pub(crate) fn take_syn_window(&mut self, seq: SeqNum, window: u16) {
        self.wnd = u32::from(window);
        self.wl1 = seq;
        self.wl2 = self.iss;
    }

    /// Data left at `now` (for [`SendSequence::idle_for`]).
    pub(crate) fn data_sent_at(&mut self, now: Instant) {
        self.last_data_ms = now_ms(now);
    }

    /// How long since data last left (`None` before any did).
    pub(crate) fn idle_for(&self, now: Instant) -> Option<Duration> {
        (self.max > self.iss + 1).then(|| Duration::from_millis(u64::from(now_ms(now).wrapping_sub(self.last_data_ms))))
    }

    /// Our SYN was acknowledged in SYN-SENT (RFC 9293 §3.10.7.3): SND.UNA moves past it.
    pub(crate) fn syn_acknowledged(&mut self, ack: SeqNum) {
        self.una = ack;
        self.nxt = self.nxt.max(ack);
    }

    /// The handshake completes: the segment that acknowledged our SYN sets the window (RFC 9293 §3.10.7.3,
    /// §3.10.7.4). `window` is already scaled as the segment requires.
    pub(crate) fn take_window(&mut self, seq: SeqNum, ack: SeqNum, window: usize) {
        self.wnd = window_bytes(window);
        self.max_wnd = self.wnd;
        self.wl1 = seq;
        self.wl2 = ack;
    }

    /// A SYN cookie's final ACK: nothing of ours is outstanding, and no window scaling (the cookie could not
    /// carry it).
    pub(crate) fn establish_from_cookie(&mut self, seq: SeqNum, ack: SeqNum, window: u16) {
        self.una = ack;
        self.nxt = ack;
        self.max = ack;
        self.wscale = 0;
        self.take_window(seq, ack, usize::from(window));
    }

    /// SND.UNA advances to `ack`: returns how many bytes of the buffer that acknowledged (the SYN and FIN
    /// occupy sequence space but no buffer).
    fn acknowledge(&mut self, ack: SeqNum) -> usize {
        let data_end = ack.min(self.buf_end());
        let data_acked = if data_end > self.buf_seq { data_end - self.buf_seq } else { 0 };
        self.buf.ack(data_acked);
        self.buf_seq = self.buf_seq + data_acked;
        self.una = ack;
        if self.nxt < self.una {
            self.nxt = self.una;
        }
        data_acked
    }

    /// RFC 9293 §3.10.7.4 window update, with SND.WL1/SND.WL2 guarding against old segments. Returns whether a
    /// zero window opened.
    fn update_window(&mut self, seq: SeqNum, ack: SeqNum, window: usize) -> bool {
        if !(self.wl1 < seq || (self.wl1 == seq && self.wl2 <= ack)) {
            return false;
        }
        let opened = self.wnd == 0 && window > 0;
        self.wnd = window_bytes(window);
        self.max_wnd = self.max_wnd.max(self.wnd);
        self.wl1 = seq;
        self.wl2 = ack;
        opened
    }

    /// Queues the application's bytes; returns how many fit.
    pub(crate) fn queue(&mut self, data: super::buffer::Chunk) -> usize {
        self.buf.push_chunk(data)
    }

    /// The application shut down sending: the FIN follows the queued bytes.
    pub(crate) fn queue_fin(&mut self) {
        self.fin_queued = true;
    }

    /// Send-buffer autotuning: the buffer may hold `size` bytes.
    pub(crate) fn grow_buffer(&mut self, size: usize) {
        self.buf.grow_to(size);
    }

    /// Copies queued bytes from `offset` into `into`.
    #[inline]
    pub(crate) fn copy_out(&self, offset: usize, into: &mut [u8]) {
        self.buf.copy_out(offset, into);
    }

    /// Copies queued bytes from `offset` into `into` and returns their checksum (`None`: `into` is not all
    /// written).
    pub(crate) fn copy_out_summed(&self, offset: usize, into: &mut [u8]) -> Option<u16> {
        self.buf.copy_out_summed(offset, into)
    }
}

/// A scaled window as kept: at most 65,535 << 14 bytes (the shift is capped at 14), so 32 bits never cut it.
fn window_bytes(window: usize) -> u32 {
    u32::try_from(window).unwrap_or(u32::MAX)
}

impl Tcb {
    /// RFC 9293 §3.10.7.4 fifth step, for synchronized states. Returns false if the segment must be dropped.
    pub(crate) fn process_ack(&mut self, seg: &TcpRepr<'_>, now: Instant, cfg: &TcpConfig, fx: &mut Effects) -> bool {
        let ack = seg.ack_number;
        // RFC 5961 §5.2: acceptable range is [SND.UNA - MAX.SND.WND, SND.NXT].
        if ack > self.snd.max || ack < self.snd.una - self.snd.max_wnd().max(1) {
            self.challenge_ack(fx);
            fx.drops.push(DropReason::TcpBadAck);
            return false;
        }
        self.timers.peer_answered();
        self.restart_keepalive(now, cfg);
        if seg.flags.contains(TcpFlags::ECE) {
            // Before the ACK's own effects, so the echo is judged against the window before it and the ACK does
            // not grow the window it reports congestion for (RFC 3168 §6.1.2).
            self.on_ecn_echo(ack);
        }
        let window = usize::from(seg.window_len) << self.snd.wscale;
        let (una_before, sacked_before) = (self.snd.una, self.recovery.scoreboard().sacked_bytes());
        let new_sack =
            self.opts.sack() && self.recovery.sacked(&seg.options.sack_blocks, ack.max(self.snd.una), self.snd.max);
        if self.opts.sack() {
            self.on_dsack(seg);
        }
        let rack_learned = self.opts.sack() && self.rack_learn(seg, ack.max(self.snd.una), now);
        if ack > self.snd.una {
            self.on_new_ack(seg, now, cfg, fx);
        } else if ack == self.snd.una && self.snd.max > self.snd.una {
            // With SACK, only an ACK that SACKs something new counts (RFC 6675 §2 "DupAck"): link-duplicated
            // or window-update ACKs say nothing about loss. Without SACK, RFC 5681's definition.
            let duplicate = if self.opts.sack() {
                new_sack
            } else {
                seg.payload.is_empty()
                    && !seg.flags.intersects(TcpFlags::SYN | TcpFlags::FIN)
                    && window == self.snd.wnd()
            };
            if duplicate {
                self.on_duplicate_ack(now, fx);
            }
        }
        if self.opts.sack() {
            if rack_learned {
                self.rack_detect_loss(now, fx);
            }
            // RFC 6937 DeliveredData: newly acknowledged plus newly SACKed (SACKed bytes the ACK now covers
            // count once).
            let acked = self.snd.una.max(una_before) - una_before;
            let sacked_after = self.recovery.scoreboard().sacked_bytes();
            self.prr_on_ack((acked + sacked_after).saturating_sub(sacked_before));
        }
        // RFC 9293 §3.10.7.4: only an ACK in SND.UNA..=SND.NXT updates the window; an older one (acceptable to
        // RFC 5961, a duplicate) is ignored for it, as Linux's `tcp_ack` does, even with a newer sequence number.
        if ack >= una_before && self.snd.update_window(seg.seq_number, ack, window) {
            self.timers.stop_persist();
        }
        // State changes that hinge on our FIN being acknowledged.
        if self.snd.fin_acked() {
            match self.state {
                TcpState::FinWait1 => {
                    self.transition(TcpState::FinWait2);
                    self.timers.stop_rtx();
                    if self.owner.app_closed() {
                        // Linux's tcp_fin_timeout: an orphaned FIN-WAIT-2 does not wait forever.
                        self.timers.close_at(now + cfg.time_wait);
                    }
                }
                TcpState::Closing => self.enter_time_wait(now, cfg, fx),
                TcpState::LastAck => {
                    self.finish(fx);
                    return false;
                }
                _ => {}
            }
        }
        true
    }

    /// SND.UNA < SEG.ACK <= SND.MAX: new data acknowledged.
    fn on_new_ack(&mut self, seg: &TcpRepr<'_>, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        let ack = seg.ack_number;
        let data_acked = self.snd.acknowledge(ack);
        self.counters.acked(data_acked);
        self.path_works();
        self.recovery.advance(ack);
        let rtt = self.sample_rtt(seg, now, cfg.rto_min);
        self.timers.reset_timeouts();
        self.undo_if_delayed(seg);
        self.on_ack_during_recovery((ack, data_acked, rtt), now, fx);
        if self.snd.una == self.snd.max {
            self.timers.stop_rtx();
            self.timers.stop_tlp();
        } else if !self.recovery.in_recovery() || ack >= self.recovery.recover() {
            self.restart_rtx_timer(now);
            self.arm_tail_loss_probe(now);
        }
        self.expand_send_buffer(cfg);
        // A refused writer is woken as soon as any space frees up. (Linux waits for a third of the buffer, but
        // its send buffers grow with the congestion window; with a fixed 256 KiB buffer, waiting lets the
        // buffer drain and costs a fast path up to a third of its throughput: measured on TAP with offloads.)
        if self.snd.buf.free() > 0 && !self.snd.fin_queued && self.owner.take_writable_wish() {
            fx.events.push(Event::Writable);
        }
    }

    /// Send-buffer autotuning (`TcpConfig::send_buffer_max`, as Linux's `tcp_sndbuf_expand`): while the
    /// application is held back by a full buffer and the congestion window has room the buffer cannot fill,
    /// the buffer grows to twice the congestion window, so the bytes in flight and the next window's worth
    /// both fit. Never shrinks, never past the maximum.
    fn expand_send_buffer(&mut self, cfg: &TcpConfig) {
        if cfg.send_buffer_max <= self.snd.buf.capacity() || !self.owner.wants_writable() {
            return;
        }
        let cwnd = self.cc.cwnd();
        if self.snd.outstanding() >= cwnd {
            return; // the congestion window, not the buffer, is what limits
        }
        let target = cwnd.saturating_mul(2).min(cfg.send_buffer_max);
        if target > self.snd.buf.capacity() {
            self.snd.grow_buffer(target);
            self.counters.rare().send_buffer_growths += 1;
        }
    }
}

/// `now` in whole milliseconds, wrapping at 32 bits.
fn now_ms(now: Instant) -> u32 {
    (now.as_nanos() / 1_000_000) as u32
}
