//! Segment arrival (RFC 9293 §3.10.7), with the RFC 5961 defences against blind injection.

use super::ack::AckDue;
use super::segment::{Outgoing, OutgoingKind};
use super::seq::SeqNum;
use super::tcb::{Effects, Tcb, DEFAULT_MSS};
use super::TcpState;
use crate::api::Event;
use crate::config::TcpConfig;
use crate::stats::DropReason;
use crate::time::Instant;
use crate::wire::{TcpFlags, TcpRepr};

/// Segments acknowledged at once after out-of-order data (Linux's quick-ACK count is of this order).
const QUICK_ACK_SEGMENTS: u32 = 16;

impl Tcb {
    /// A segment for this connection arrived.
    pub(crate) fn on_segment(&mut self, seg: &TcpRepr<'_>, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        self.counters.segments_received += 1;
        match self.state {
            TcpState::SynSent => self.on_segment_syn_sent(seg, now, cfg, fx),
            TcpState::Closed | TcpState::Listen => fx.drops.push(DropReason::TcpNoSocket),
            _ => self.on_segment_synchronized(seg, now, cfg, fx),
        }
        if !fx.release {
            self.poll_send(now, cfg, fx);
        }
    }

    /// Applies the peer's SYN options (RFC 6691 MSS, RFC 7323 window scale).
    pub(crate) fn take_syn_options(&mut self, seg: &TcpRepr<'_>, mtu_mss: usize, cfg: &TcpConfig) {
        self.opts.sack = cfg.sack && seg.options.sack_permitted;
        let peer_mss = seg.options.mss.map_or(DEFAULT_MSS, usize::from);
        self.opts.mss = peer_mss.min(mtu_mss).max(64);
        match seg.options.window_scale {
            Some(shift) if cfg.window_scaling => {
                self.opts.peer_wants_wscale = true;
                self.snd.wscale = shift.min(super::tcb::MAX_WINDOW_SHIFT);
            }
            _ => {
                self.opts.peer_wants_wscale = false;
                self.snd.wscale = 0;
                self.rcv.wscale = 0;
            }
        }
    }

    /// RFC 9293 §3.10.7.3: SYN-SENT.
    fn on_segment_syn_sent(&mut self, seg: &TcpRepr<'_>, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        let has_ack = seg.flags.contains(TcpFlags::ACK);
        // First: the ACK must acknowledge our SYN.
        if has_ack && !self.acknowledges_our_syn(seg.ack_number) {
            if !seg.flags.contains(TcpFlags::RST) {
                fx.transmit.push(Outgoing::control(seg.ack_number, TcpFlags::RST));
            }
            fx.drops.push(DropReason::TcpBadAck);
            return;
        }
        // Second: a reset with an acceptable ACK refuses the connection.
        if seg.flags.contains(TcpFlags::RST) {
            if has_ack {
                self.terminate(Some(Event::Reset), fx);
            } else {
                fx.drops.push(DropReason::TcpBadAck);
            }
            return;
        }
        if !seg.flags.contains(TcpFlags::SYN) {
            fx.drops.push(DropReason::TcpBadAck);
            return;
        }
        // Fourth: the SYN.
        self.rcv.irs = seg.seq_number;
        self.rcv.nxt = seg.seq_number + 1;
        self.rcv.adv_edge = self.rcv.nxt;
        self.take_syn_options(seg, self.opts.local_mss, cfg);
        if has_ack {
            self.snd.una = seg.ack_number;
            // The SYN-ACK's window is not scaled (RFC 7323 §2.2).
            self.snd.wnd = usize::from(seg.window_len);
            self.snd.max_wnd = self.snd.wnd;
            self.snd.wl1 = seg.seq_number;
            self.snd.wl2 = seg.ack_number;
            self.timers.rtx = None;
            self.timers.rtx_count = 0;
            if let Some((end, sent)) = self.timing.take() {
                if seg.ack_number >= end {
                    self.rtt.sample(now - sent);
                }
            }
            self.state = TcpState::Established;
            self.ack.due = AckDue::Now;
            fx.events.push(Event::Connected);
            // Data or FIN may ride on the SYN-ACK.
            self.accept_text_and_fin(seg, seg.seq_number + 1, seg.payload, now, cfg, fx);
        } else {
            // Simultaneous open: answer with SYN-ACK from the same ISS.
            self.state = TcpState::SynReceived;
            self.snd.wnd = usize::from(seg.window_len);
            self.snd.wl1 = seg.seq_number;
            self.snd.wl2 = self.snd.iss;
            self.snd.nxt = self.snd.iss;
            self.timing = None;
            self.send_syn(now, fx);
        }
    }

    /// RFC 9293 §3.10.7.4: every state from SYN-RECEIVED on.
    fn on_segment_synchronized(&mut self, seg: &TcpRepr<'_>, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        let flags = seg.flags;
        if self.is_superseding_syn_ack(seg) {
            // A bare SYN crossed our own (simultaneous open), but this SYN-ACK acknowledges our ISS, which only
            // a host that saw our SYN can know, and names another initial sequence number. The bare SYN proved
            // nothing (an off-path attacker can forge one with any sequence number); this one proves the peer
            // is real. Synchronise to it as SYN-SENT would have, instead of answering with the stale ACK that
            // makes the peer reset the connection.
            self.state = TcpState::SynSent;
            self.rcv.wscale = Tcb::offered_window_shift(cfg);
            self.counters.crossed_syns_superseded += 1;
            self.on_segment_syn_sent(seg, now, cfg, fx);
            return;
        }
        // A retransmitted SYN while our SYN-ACK is unacknowledged: the SYN-ACK was lost, send it again.
        if self.state == TcpState::SynReceived
            && flags.contains(TcpFlags::SYN)
            && !flags.contains(TcpFlags::ACK)
            && seg.seq_number == self.rcv.irs
        {
            self.snd.nxt = self.snd.iss;
            self.send_syn(now, fx);
            return;
        }

        // A handshake ACK that does not acknowledge our SYN is refused before anything else (as SYN-SENT does,
        // and Linux for half-open connections): <SEQ=SEG.ACK><CTL=RST>. Checking the sequence number first would
        // answer with an ACK instead, and two half-open ends that each took a forged SYN would trade ACKs
        // until both time out; the reset clears the forged one.
        if self.state == TcpState::SynReceived
            && flags.contains(TcpFlags::ACK)
            && !flags.contains(TcpFlags::RST)
            && !self.acknowledges_our_syn(seg.ack_number)
        {
            fx.transmit.push(Outgoing::control(seg.ack_number, TcpFlags::RST));
            fx.drops.push(DropReason::TcpBadAck);
            return;
        }

        // First: is the segment acceptable?
        let mut seq = seg.seq_number;
        let mut payload = seg.payload;
        let mut fin = flags.contains(TcpFlags::FIN);
        let seg_len = payload.len() + usize::from(flags.contains(TcpFlags::SYN)) + usize::from(fin);
        if !self.segment_acceptable(seq, seg_len) {
            let zero_window_at_edge = self.rcv.window() == 0 && seq == self.rcv.nxt;
            if !zero_window_at_edge {
                if flags.contains(TcpFlags::RST) {
                    // Never answered (RFC 9293).
                } else if self.is_plausible_duplicate(seq) {
                    // A retransmission of what we already have (our ACK was lost), a keep-alive, a repeated
                    // FIN: the peer needs our ACK now.
                    self.ack.due = AckDue::Now;
                } else {
                    // Nowhere a real peer would send: most likely forged with a guessed sequence number. Answer
                    // under the challenge-ACK rate limit, so a flood cannot turn us into an ACK cannon that
                    // fills the link our genuine traffic shares (Linux limits such ACKs for non-data segments).
                    self.challenge_ack(fx);
                }
                fx.drops.push(DropReason::TcpOutOfWindow);
                if self.state == TcpState::TimeWait && fin {
                    // A retransmitted FIN in TIME-WAIT: acknowledge it and restart 2 MSL.
                    self.timers.close = Some(now + cfg.time_wait);
                }
                return;
            }
            // Zero window: still process the ACK, drop the data.
            payload = &[];
            fin = false;
            self.ack.due = AckDue::Now;
        }
        // Trim what lies before RCV.NXT and beyond the window.
        if seq < self.rcv.nxt && !flags.contains(TcpFlags::SYN) {
            let skip = (self.rcv.nxt - seq).min(payload.len());
            payload = &payload[skip..];
            seq = seq + skip;
        }
        let room = (self.rcv.adv_edge - seq).min(payload.len());
        if room < payload.len() {
            payload = &payload[..room];
            fin = false;
        }

        // Second: RST (RFC 5961 §3.2: only an exact match resets; in-window gets a challenge ACK).
        if flags.contains(TcpFlags::RST) {
            if seg.seq_number != self.rcv.nxt {
                self.challenge_ack(fx);
                fx.drops.push(DropReason::TcpRstChallenged);
                return;
            }
            let event = match self.state {
                // An un-accepted passive connection just vanishes; the listener forgets it.
                TcpState::SynReceived if self.owner.passive => None,
                TcpState::SynReceived => {
                    self.return_to_syn_sent(now, cfg, fx);
                    return;
                }
                TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2 | TcpState::CloseWait => {
                    Some(Event::Reset)
                }
                // CLOSING, LAST-ACK, TIME-WAIT: both sides had closed, so this ends the connection as its last
                // ACK would have (the peer's TIME-WAIT may simply have ended first): `Closed`, and the handle
                // stays until `TcpClose`.
                _ => {
                    self.finish(fx);
                    return;
                }
            };
            self.terminate(event, fx);
            return;
        }

        // Fourth: SYN in a synchronized state (RFC 5961 §4): challenge ACK, never reset.
        if flags.contains(TcpFlags::SYN) {
            self.challenge_ack(fx);
            fx.drops.push(DropReason::TcpSynChallenged);
            return;
        }

        // Fifth: ACK.
        if !flags.contains(TcpFlags::ACK) {
            fx.drops.push(DropReason::TcpNoAck);
            return;
        }
        if self.state == TcpState::SynReceived {
            // The ACK acknowledges our SYN (checked above).
            self.state = TcpState::Established;
            self.snd.wnd = usize::from(seg.window_len) << self.snd.wscale;
            self.snd.max_wnd = self.snd.wnd;
            self.snd.wl1 = seg.seq_number;
            self.snd.wl2 = seg.ack_number;
            if self.owner.passive {
                fx.established = true;
            } else {
                fx.events.push(Event::Connected);
            }
        }
        if !self.process_ack(seg, now, cfg, fx) {
            return;
        }

        // Seventh and eighth: text and FIN.
        let mut trimmed_flags = flags;
        if !fin {
            trimmed_flags.remove(TcpFlags::FIN);
        }
        let trimmed = TcpRepr { seq_number: seq, payload, flags: trimmed_flags, ..*seg };
        self.accept_text_and_fin(&trimmed, seq, payload, now, cfg, fx);
    }

    /// During the handshake (SYN-SENT, SYN-RECEIVED): does `ack` acknowledge our SYN (and nothing we never
    /// sent)? RFC 9293: SND.UNA (= ISS) < SEG.ACK <= SND.NXT.
    fn acknowledges_our_syn(&self, ack: SeqNum) -> bool {
        ack > self.snd.iss && ack <= self.snd.max
    }

    /// A reset ended the simultaneous open a crossed bare SYN started. Deliberately not "connection refused"
    /// (RFC 9293): the bare SYN proved nothing (an off-path attacker may have forged it, then the reset the
    /// real peer sends when our SYN-ACK names the forged sequence number). Forget it, go back to waiting for an
    /// answer to our own SYN, and send that SYN again; a peer that really refuses resets our SYN in SYN-SENT.
    fn return_to_syn_sent(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        self.state = TcpState::SynSent;
        self.rcv.irs = SeqNum(0);
        self.rcv.nxt = SeqNum(0);
        self.rcv.adv_edge = SeqNum(0);
        self.opts.mss = self.opts.local_mss;
        self.rcv.wscale = Tcb::offered_window_shift(cfg);
        self.snd.wscale = 0;
        self.opts.peer_wants_wscale = false;
        self.opts.sack = false;
        self.ack.due = AckDue::None;
        self.counters.crossed_syns_reset += 1;
        self.send_syn(now, fx);
    }

    /// A SYN-ACK that answers our SYN after a crossed bare SYN put an active open into SYN-RECEIVED, and names
    /// an initial sequence number other than the bare SYN's. In a genuine simultaneous open the peer's SYN-ACK
    /// repeats the SYN's sequence number.
    fn is_superseding_syn_ack(&self, seg: &TcpRepr<'_>) -> bool {
        self.state == TcpState::SynReceived
            && !self.owner.passive
            && seg.flags.contains(TcpFlags::SYN | TcpFlags::ACK)
            && !seg.flags.contains(TcpFlags::RST)
            && seg.ack_number == self.snd.iss + 1
            && seg.seq_number != self.rcv.irs
    }

    /// An unacceptable segment that starts at most one receive buffer below RCV.NXT: data (or a FIN) the peer
    /// may still be retransmitting because our acknowledgement did not reach it. A real peer never has more
    /// than the window we advertised unacknowledged, and our windows never exceed the receive buffer.
    fn is_plausible_duplicate(&self, seq: SeqNum) -> bool {
        seq < self.rcv.nxt && self.rcv.nxt - seq <= self.rcv.buf.capacity()
    }

    /// RFC 9293 §3.10.7.4 acceptability test.
    pub(crate) fn segment_acceptable(&self, seq: SeqNum, seg_len: usize) -> bool {
        let wnd = self.rcv.window();
        let in_window = |s: SeqNum| s >= self.rcv.nxt && s < self.rcv.nxt + wnd;
        match (seg_len, wnd) {
            (0, 0) => seq == self.rcv.nxt,
            (0, _) => in_window(seq),
            (_, 0) => false,
            (len, _) => in_window(seq) || in_window(seq + (len - 1)),
        }
    }

    /// RFC 5961 challenge ACK: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, rate-limited by the stack.
    fn challenge_ack(&mut self, fx: &mut Effects) {
        let mut tx = Outgoing::control(self.snd.nxt, TcpFlags::ACK);
        tx.kind = OutgoingKind::ChallengeAck;
        fx.transmit.push(tx);
    }

    /// Step five for established states. Returns false if the segment must be dropped.
    fn process_ack(&mut self, seg: &TcpRepr<'_>, now: Instant, cfg: &TcpConfig, fx: &mut Effects) -> bool {
        let ack = seg.ack_number;
        // RFC 5961 §5.2: acceptable range is [SND.UNA - MAX.SND.WND, SND.NXT].
        if ack > self.snd.max {
            self.challenge_ack(fx);
            fx.drops.push(DropReason::TcpBadAck);
            return false;
        }
        if ack < self.snd.una - self.snd.max_wnd.max(1) {
            self.challenge_ack(fx);
            fx.drops.push(DropReason::TcpBadAck);
            return false;
        }
        self.timers.probes_unanswered = 0;
        let window = usize::from(seg.window_len) << self.snd.wscale;
        let new_sack = self.opts.sack
            && self.recovery.scoreboard.update(&seg.options.sack_blocks, ack.max(self.snd.una), self.snd.max);
        if ack > self.snd.una {
            self.on_new_ack(ack, now, cfg, fx);
        } else if ack == self.snd.una && self.snd.max > self.snd.una {
            // With SACK, only an ACK that SACKs something new counts (RFC 6675 §2 "DupAck"): link-duplicated
            // or window-update ACKs say nothing about loss. Without SACK, RFC 5681's definition.
            let duplicate = if self.opts.sack {
                new_sack
            } else {
                seg.payload.is_empty() && !seg.flags.intersects(TcpFlags::SYN | TcpFlags::FIN) && window == self.snd.wnd
            };
            if duplicate {
                self.on_duplicate_ack(fx);
            }
        }
        if self.sack_recovery() {
            if let Some(lost) = self.recovery.rtx_log.take_lost(&self.recovery.scoreboard, self.snd.una) {
                // A retransmission was lost as well: make its hole eligible for resending again.
                self.recovery.rtx_next = self.recovery.rtx_next.min(lost);
            }
        }
        // Window update (RFC 9293 §3.10.7.4, SND.WL1/SND.WL2 guard against old segments).
        if self.snd.wl1 < seg.seq_number || (self.snd.wl1 == seg.seq_number && self.snd.wl2 <= ack) {
            let opened = self.snd.wnd == 0 && window > 0;
            self.snd.wnd = window;
            self.snd.max_wnd = self.snd.max_wnd.max(window);
            self.snd.wl1 = seg.seq_number;
            self.snd.wl2 = ack;
            if opened {
                self.timers.persist = None;
                self.timers.persist_backoff = 0;
            }
        }
        // State changes that hinge on our FIN being acknowledged.
        if self.snd.fin_acked() {
            match self.state {
                TcpState::FinWait1 => {
                    self.state = TcpState::FinWait2;
                    self.timers.rtx = None;
                    if self.owner.app_closed {
                        // Linux's tcp_fin_timeout: an orphaned FIN-WAIT-2 does not wait forever.
                        self.timers.close = Some(now + cfg.time_wait);
                    }
                }
                TcpState::Closing => {
                    self.enter_time_wait(now, cfg, fx);
                }
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
    fn on_new_ack(&mut self, ack: SeqNum, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        // Bytes of the buffer acknowledged (the SYN and FIN occupy sequence space but no buffer).
        let data_end = ack.min(self.snd.buf_end());
        let data_acked = if data_end > self.snd.buf_seq { data_end - self.snd.buf_seq } else { 0 };
        self.snd.buf.ack(data_acked);
        self.snd.buf_seq = self.snd.buf_seq + data_acked;
        self.counters.bytes_acked += data_acked as u64;
        self.snd.una = ack;
        // The path works: an earlier soft error no longer explains anything.
        self.soft_error = None;
        self.recovery.scoreboard.advance(ack);
        if self.snd.nxt < self.snd.una {
            self.snd.nxt = self.snd.una;
        }
        // Karn: only segments never retransmitted are timed.
        if let Some((end, sent)) = self.timing {
            if ack >= end {
                self.rtt.sample(now - sent);
                self.timing = None;
            }
        }
        self.timers.rtx_count = 0;
        let mss = self.opts.mss;
        if self.recovery.in_recovery {
            if ack >= self.recovery.recover {
                // Full acknowledgement: recovery is over (RFC 6582 §3.2 step 3).
                self.recovery.in_recovery = false;
                self.recovery.dup_acks = 0;
                let flight = self.snd.max - self.snd.una;
                self.cc.on_exit_recovery(flight, mss);
            } else if self.sack_recovery() {
                // Partial acknowledgement with SACK: the scoreboard drives what is resent (in poll_send).
                self.restart_rtx_timer(now);
            } else {
                // Partial acknowledgement: the next hole is lost too; retransmit it at once.
                self.cc.on_partial_ack(data_acked, mss);
                self.retransmit_first(fx);
                self.restart_rtx_timer(now);
            }
        } else {
            self.recovery.dup_acks = 0;
            self.cc.on_ack(data_acked, mss);
        }
        self.recovery.tlp_in_flight = false;
        if self.snd.una == self.snd.max {
            self.timers.rtx = None;
            self.timers.tlp = None;
        } else if !self.recovery.in_recovery || ack >= self.recovery.recover {
            self.restart_rtx_timer(now);
            self.arm_tail_loss_probe(now);
        }
        self.expand_send_buffer(cfg);
        // A refused writer is woken as soon as any space frees up. (Linux waits for a third of the buffer, but
        // its send buffers grow with the congestion window; with a fixed 256 KiB buffer, waiting lets the
        // buffer drain and costs a fast path up to a third of its throughput: measured on TAP with offloads.)
        if self.owner.want_writable && self.snd.buf.free() > 0 && !self.snd.fin_queued {
            self.owner.want_writable = false;
            fx.events.push(Event::Writable);
        }
    }

    /// SEG.ACK == SND.UNA with nothing else: RFC 5681 duplicate ACK.
    fn on_duplicate_ack(&mut self, fx: &mut Effects) {
        self.counters.dup_acks_received += 1;
        self.recovery.dup_acks += 1;
        let mss = self.opts.mss;
        // RFC 6675 §5: with SACK, three segments' worth of SACKed data above SND.UNA also means loss.
        // After a tail loss probe, SACK for the probe means what lies below it is lost (RFC 8985 §7.4's aim).
        let sack_says_lost = self.opts.sack
            && (self.recovery.scoreboard.sacked_bytes() >= 3 * mss
                || (self.recovery.tlp_in_flight && !self.recovery.scoreboard.is_empty()));
        if self.recovery.in_recovery {
            self.cc.on_recovery_dup_ack(mss);
        } else if (self.recovery.dup_acks >= self.dup_threshold() || sack_says_lost)
            && self.snd.una >= self.recovery.recover
        {
            // RFC 6582 §3.2 step 2 / RFC 6675 §5: fast retransmit, then fast recovery. The guard keeps duplicate
            // ACKs caused by go-back retransmissions after a timeout (SND.UNA still below "recover") from
            // triggering it; once everything sent before is acknowledged, losses after "recover" are genuine.
            self.recovery.in_recovery = true;
            self.timers.tlp = None;
            self.recovery.tlp_in_flight = false;
            self.recovery.recover = self.snd.max;
            self.recovery.rtx_next = self.snd.una;
            self.recovery.rtx_log.clear();
            let flight = self.snd.max - self.snd.una;
            self.cc.on_enter_recovery(flight, mss);
            self.counters.fast_retransmits += 1;
            if !self.sack_recovery() {
                self.retransmit_first(fx);
            }
        }
    }

    /// Duplicate ACKs that signal a loss: three (RFC 5681), or fewer when so little is outstanding and nothing
    /// new can be sent that three could never arrive (RFC 5827 early retransmit).
    fn dup_threshold(&self) -> u32 {
        let outstanding_segments = (self.snd.max - self.snd.una).div_ceil(self.opts.mss.max(1));
        let nothing_new = self.snd.buf_end() <= self.snd.max || self.snd.wnd <= self.snd.max - self.snd.una;
        if nothing_new && outstanding_segments < 4 {
            (outstanding_segments as u32).saturating_sub(1).max(1)
        } else {
            3
        }
    }

    /// Queues a retransmission of the first unacknowledged segment.
    /// Returns the sequence space it occupies (0 if nothing is outstanding).
    pub(crate) fn retransmit_first(&mut self, fx: &mut Effects) -> usize {
        let outstanding = self.snd.max - self.snd.una;
        if outstanding == 0 {
            return 0;
        }
        let offset = self.snd.una - self.snd.buf_seq;
        let sent_data = self.snd.max.min(self.snd.buf_end()) - self.snd.una;
        let len = sent_data.min(self.opts.mss);
        let mut flags = TcpFlags::ACK;
        let fin = self.snd.fin_sent() && self.snd.una + len == self.snd.buf_end();
        if fin {
            flags |= TcpFlags::FIN;
        }
        if len > 0 {
            flags |= TcpFlags::PSH;
        }
        let seg = Outgoing::data(self.snd.una, flags, offset, len);
        self.counters.retransmitted_segments += 1;
        self.counters.retransmitted_bytes += len as u64;
        self.timing = None;
        fx.transmit.push(seg);
        self.ack.due = AckDue::None;
        len + usize::from(fin)
    }

    /// Steps seven and eight: queue the text, process the FIN.
    fn accept_text_and_fin(
        &mut self,
        seg: &TcpRepr<'_>,
        seq: SeqNum,
        payload: &[u8],
        now: Instant,
        cfg: &TcpConfig,
        fx: &mut Effects,
    ) {
        let accepts_text = matches!(self.state, TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2);
        if accepts_text && !payload.is_empty() {
            let was_readable = self.rcv.buf.readable() > 0;
            let in_order = seq == self.rcv.nxt;
            if !in_order {
                self.rcv.last_out_of_order = Some(seq);
            }
            let had_gap = self.rcv.buf.has_out_of_order();
            let advanced = self.rcv.buf.insert(self.rcv.nxt, seq, payload, &mut fx.blocks);
            self.rcv.nxt = self.rcv.nxt + advanced;
            self.counters.bytes_received += advanced as u64;
            if advanced > 0 {
                self.note_in_order_data(now);
            }
            if advanced > 0 && !was_readable {
                fx.events.push(Event::Readable);
            }
            if !in_order || had_gap || advanced < payload.len() {
                // Out of order, filling a gap, or no room: acknowledge at once (RFC 5681 §4.2), and keep
                // acknowledging every segment for a while (Linux's quick-ACK mode): the sender is recovering
                // with a small window, where a delayed ACK would stall it for the whole delay.
                self.ack.due = AckDue::Now;
                self.ack.quick_acks = QUICK_ACK_SEGMENTS;
            } else if self.ack.quick_acks > 0 {
                self.ack.quick_acks -= 1;
                self.ack.due = AckDue::Now;
            } else {
                // A segment larger than the MSS we announced was coalesced on the way (segmentation offload
                // into a TAP reader, like GRO): it stands for several, so it is acknowledged like two.
                self.ack.unacked_segments += if payload.len() > self.opts.local_mss { 2 } else { 1 };
                if self.ack.unacked_segments >= 2 {
                    self.ack.due = self.ack.due.max(AckDue::EndOfBatch);
                } else if self.ack.due < AckDue::Delayed {
                    self.ack.due = AckDue::Delayed;
                    self.timers.delack = Some(now + cfg.delayed_ack);
                }
            }
        }
        if seg.flags.contains(TcpFlags::FIN) && accepts_text {
            self.rcv.pending_fin = Some(seq + payload.len());
        }
        if self.rcv.pending_fin == Some(self.rcv.nxt) && !self.rcv.fin_received {
            self.rcv.pending_fin = None;
            self.receive_fin(now, cfg, fx);
        } else if seg.flags.contains(TcpFlags::FIN) && self.state == TcpState::TimeWait {
            self.ack.due = AckDue::Now;
            self.timers.close = Some(now + cfg.time_wait);
        }
    }

    /// The peer's FIN, in order (RFC 9293 §3.10.7.4 eighth).
    fn receive_fin(&mut self, now: Instant, cfg: &TcpConfig, fx: &mut Effects) {
        self.rcv.nxt = self.rcv.nxt + 1;
        self.rcv.fin_received = true;
        self.ack.due = AckDue::Now;
        fx.events.push(Event::PeerClosed);
        match self.state {
            TcpState::SynReceived | TcpState::Established => self.state = TcpState::CloseWait,
            TcpState::FinWait1 => {
                if self.snd.fin_acked() {
                    self.enter_time_wait(now, cfg, fx);
                } else {
                    self.state = TcpState::Closing;
                }
            }
            TcpState::FinWait2 => self.enter_time_wait(now, cfg, fx),
            _ => {}
        }
    }
}
